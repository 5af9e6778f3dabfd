/* load_hdf5.c — HDF5 files in the Happy House schema (the seeds' smile data): PREFIX_x
 * (N, H, W, C) uint8 or float, PREFIX_y (N) or (1, N) integers, and optionally list_classes
 * (strings). Read with the HDF5 C library. */
#include "data/data.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the class names if the file has them; a missing or odd list keeps "class N". */
static void read_class_names(hid_t file, fv_dataset *d) {
    if (H5Lexists(file, "list_classes", H5P_DEFAULT) <= 0) return;
    hid_t set = H5Dopen2(file, "list_classes", H5P_DEFAULT), type = set >= 0 ? H5Dget_type(set) : -1;
    hid_t space = set >= 0 ? H5Dget_space(set) : -1;
    if (set >= 0 && type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING) {
        hssize_t n = H5Sget_simple_extent_npoints(space);
        if (n > 0 && n <= d->n_classes) {
            if (H5Tis_variable_str(type) > 0) {
                char **names = calloc((size_t)n, sizeof *names);
                hid_t mem = H5Tcopy(H5T_C_S1);
                H5Tset_size(mem, H5T_VARIABLE);
                if (names && H5Dread(set, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0) {
                    for (hssize_t i = 0; i < n; i++)
                        if (names[i]) snprintf(d->class_names[i], FV_CLASS_NAME_MAX, "%s", names[i]);
                    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, names);
                }
                H5Tclose(mem);
                free(names);
            } else {
                size_t len = H5Tget_size(type);
                char *buf = calloc((size_t)n, len + 1);
                hid_t mem = H5Tcopy(H5T_C_S1);
                H5Tset_size(mem, len + 1);
                if (buf && H5Dread(set, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
                    for (hssize_t i = 0; i < n; i++) snprintf(d->class_names[i], FV_CLASS_NAME_MAX, "%s", buf + (size_t)i * (len + 1));
                H5Tclose(mem);
                free(buf);
            }
        }
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (set >= 0) H5Dclose(set);
}

fv_dataset *fv_load_hdf5(const char *path, const char *prefix, fv_error *err) {
    H5E_auto2_t old_report;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_report, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors come back as messages, not stderr dumps */
    fv_dataset *d = NULL;
    hid_t file = -1, xs = -1, ys = -1, xspace = -1, yspace = -1, xtype = -1;
    int32_t *labels = NULL;
    char xname[128], yname[128];
    snprintf(xname, sizeof xname, "%s_x", prefix);
    snprintf(yname, sizeof yname, "%s_y", prefix);
    if (H5Fis_hdf5(path) <= 0 || (file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        FILE *f = fopen(path, "rb");
        fv_fail(err, "%s: %s", path, f ? "not an HDF5 file" : "cannot open");
        if (f) fclose(f);
        goto done;
    }
    if (H5Lexists(file, xname, H5P_DEFAULT) <= 0 || H5Lexists(file, yname, H5P_DEFAULT) <= 0) {
        fv_fail(err, "%s: has no datasets '%s' and '%s'", path, xname, yname);
        goto done;
    }
    if ((xs = H5Dopen2(file, xname, H5P_DEFAULT)) < 0 || (ys = H5Dopen2(file, yname, H5P_DEFAULT)) < 0 ||
        (xspace = H5Dget_space(xs)) < 0 || (yspace = H5Dget_space(ys)) < 0 || (xtype = H5Dget_type(xs)) < 0) {
        fv_fail(err, "%s: cannot open '%s' / '%s'", path, xname, yname);
        goto done;
    }
    hsize_t dims[8];
    int rank = H5Sget_simple_extent_ndims(xspace);
    if (rank < 3 || rank > 4 || H5Sget_simple_extent_dims(xspace, dims, NULL) < 0) {
        fv_fail(err, "%s: '%s' must be (N, H, W, C) or (N, H, W), got rank %d", path, xname, rank);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(xtype);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        fv_fail(err, "%s: '%s' must hold integers or floats", path, xname);
        goto done;
    }
    hssize_t n_labels = H5Sget_simple_extent_npoints(yspace);
    if (n_labels != (hssize_t)dims[0]) {
        fv_fail(err, "%s: '%s' has %lld labels for %llu images", path, yname, (long long)n_labels, (unsigned long long)dims[0]);
        goto done;
    }
    labels = malloc((size_t)(n_labels ? n_labels : 1) * sizeof *labels);
    if (!labels || H5Dread(ys, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels) < 0) {
        fv_fail(err, "%s: cannot read '%s' as integers", path, yname);
        goto done;
    }
    int classes = 0;
    for (hssize_t i = 0; i < n_labels; i++) {
        if (labels[i] < 0) {
            fv_fail(err, "%s: label %lld is negative", path, (long long)i);
            goto done;
        }
        classes = labels[i] + 1 > classes ? labels[i] + 1 : classes;
    }
    fv_shape shape = {3, {(int)dims[1], (int)dims[2], rank == 4 ? (int)dims[3] : 1}};
    if (!(d = fv_dataset_new((size_t)dims[0], shape, classes < 2 ? 2 : classes, err))) goto done;
    size_t count = d->count * fv_shape_count(shape);
    int bytes = cls == H5T_INTEGER && H5Tget_size(xtype) == 1;
    if (bytes) { /* uint8 pixels: read as bytes, scale to [0, 1] */
        unsigned char *raw = malloc(count ? count : 1);
        herr_t st = raw ? H5Dread(xs, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) : -1;
        for (size_t i = 0; st >= 0 && i < count; i++) d->x[i] = (float)raw[i] / 255.0f;
        free(raw);
        if (st < 0) {
            fv_fail(err, "%s: cannot read '%s'", path, xname);
            fv_dataset_free(d), d = NULL;
            goto done;
        }
    } else if (H5Dread(xs, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->x) < 0) {
        fv_fail(err, "%s: cannot read '%s'", path, xname);
        fv_dataset_free(d), d = NULL;
        goto done;
    }
    memcpy(d->labels, labels, d->count * sizeof *labels);
    read_class_names(file, d);
done:
    free(labels);
    if (xtype >= 0) H5Tclose(xtype);
    if (xspace >= 0) H5Sclose(xspace);
    if (yspace >= 0) H5Sclose(yspace);
    if (xs >= 0) H5Dclose(xs);
    if (ys >= 0) H5Dclose(ys);
    if (file >= 0) H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_report, old_data);
    return d;
}
