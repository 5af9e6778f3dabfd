/* hdf5.c — HDF5 files in the Happy House schema (the seeds' smile data): PREFIX_x
 * (N, H, W, C) uint8 or float, PREFIX_y (N) or (1, N) integers, and optionally list_classes
 * (strings). Read with the HDF5 C library.
 *
 * libhdf5 (1.10) crashes on some malformed files (fuzzing found a NULL read inside its symbol-table
 * lookup; its CVE list has many more), and fovea cannot fix it. So the file is read in a child
 * process that sends the dataset back through a pipe: a crash in the library becomes an error
 * naming the file, and the caller's process is untouched. */
#include "data/data.h"

#include <errno.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

static fv_dataset *load_in_process(const char *path, const char *prefix, fv_error *err) {
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
    /* sizes from the file are checked before anything is allocated for them: a sample of at most
     * 2^31 values, and no more values than the file could hold at a 1000:1 compression ratio */
    struct stat st;
    double file_bytes = stat(path, &st) == 0 ? (double)st.st_size : 0.0, values = (double)dims[0];
    int sane = dims[0] <= (1u << 28);
    for (int k = 1; k < rank; k++) sane &= dims[k] >= 1 && dims[k] <= 65536, values *= (double)dims[k];
    if (!sane || values / (double)(dims[0] ? dims[0] : 1) > (double)FV_MAX_SAMPLE_VALUES || values > 1000.0 * file_bytes) {
        fv_fail(err, "%s: '%s' has impossible dimensions for a %.0f-byte file", path, xname, file_bytes);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(xtype);
    hid_t ytype = H5Dget_type(ys);
    H5T_class_t ycls = ytype >= 0 ? H5Tget_class(ytype) : H5T_NO_CLASS;
    size_t ysize = ytype >= 0 ? H5Tget_size(ytype) : 0;
    if (ytype >= 0) H5Tclose(ytype);
    /* element sizes too: libhdf5 sizes its conversion buffers by them */
    if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || H5Tget_size(xtype) > 8) {
        fv_fail(err, "%s: '%s' must hold integers or floats", path, xname);
        goto done;
    }
    if ((ycls != H5T_INTEGER && ycls != H5T_FLOAT) || ysize > 8) {
        fv_fail(err, "%s: '%s' must hold integer labels", path, yname);
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
        if (labels[i] < 0 || labels[i] >= FV_MAX_CLASSES) {
            fv_fail(err, "%s: label %lld is %d, not a class index (0 to %d)", path, (long long)i, labels[i], FV_MAX_CLASSES - 1);
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
    if (fv_dataset_check(d, path, err) != FV_OK) fv_dataset_free(d), d = NULL;
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

/* ---- The child's answer, on the pipe: u8 ok; then the error text (ok 0) or the dataset: u64
 * count, i32 rank, i32 dims[4], i32 classes, class names, floats, labels. ---- */
static int write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w, n -= (size_t)w;
    }
    return 1;
}

static int read_all(int fd, void *data, size_t n) {
    char *p = data;
    while (n > 0) {
        ssize_t r = read(fd, p, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        p += r, n -= (size_t)r;
    }
    return 1;
}

static void child(int fd, const char *path, const char *prefix) {
    /* a crash in libhdf5 ends this process plainly: no handler of the parent's (a sanitizer's, a
     * fuzzer's) reports it as the parent's own */
    const int deadly[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof deadly / sizeof deadly[0]; i++) signal(deadly[i], SIG_DFL);
    fv_error err;
    fv_dataset *d = load_in_process(path, prefix, &err);
    unsigned char ok = d != NULL;
    int sent = write_all(fd, &ok, 1);
    if (!d) {
        sent = sent && write_all(fd, err.message, sizeof err.message);
    } else {
        uint64_t count = d->count;
        int32_t head[6] = {d->shape.rank, d->shape.dim[0], d->shape.dim[1], d->shape.dim[2], d->shape.dim[3], d->n_classes};
        sent = sent && write_all(fd, &count, sizeof count) && write_all(fd, head, sizeof head) &&
               write_all(fd, d->class_names, (size_t)d->n_classes * sizeof *d->class_names) &&
               write_all(fd, d->x, d->count * fv_shape_count(d->shape) * sizeof *d->x) &&
               write_all(fd, d->labels, d->count * sizeof *d->labels);
    }
    fv_dataset_free(d);
    close(fd);
    _exit(sent ? 0 : 1); /* the child ends here; the caller's process goes on */
}

fv_dataset *fv_load_hdf5(const char *path, const char *prefix, fv_error *err) {
    int fds[2];
    if (pipe(fds) != 0) return fv_fail(err, "%s: cannot read it: pipe: %s", path, strerror(errno)), NULL;
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return fv_fail(err, "%s: cannot read it: fork: %s", path, strerror(errno)), NULL;
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], path, prefix);
    }
    close(fds[1]);
    fv_dataset *d = NULL;
    unsigned char ok = 0;
    uint64_t count = 0;
    int32_t head[6];
    int got = read_all(fds[0], &ok, 1);
    if (got && !ok) {
        fv_error why;
        if (read_all(fds[0], why.message, sizeof why.message)) why.message[sizeof why.message - 1] = '\0', fv_fail(err, "%s", why.message);
        else got = 0;
    } else if (got && read_all(fds[0], &count, sizeof count) && read_all(fds[0], head, sizeof head)) {
        fv_shape shape = {head[0], {head[1], head[2], head[3], head[4]}};
        if (shape.rank == 3 && head[5] > 0 && head[5] <= FV_MAX_CLASSES && count <= ((uint64_t)1 << 28) &&
            (d = fv_dataset_new((size_t)count, shape, head[5], err)) != NULL &&
            !(read_all(fds[0], d->class_names, (size_t)head[5] * sizeof *d->class_names) &&
              read_all(fds[0], d->x, (size_t)count * fv_shape_count(shape) * sizeof *d->x) &&
              read_all(fds[0], d->labels, (size_t)count * sizeof *d->labels)))
            fv_dataset_free(d), d = NULL, got = 0;
        for (int c = 0; d && c < d->n_classes; c++) d->class_names[c][FV_CLASS_NAME_MAX - 1] = '\0';
    } else {
        got = 0;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!got) {
        fv_dataset_free(d), d = NULL;
        if (WIFSIGNALED(status))
            fv_fail(err, "%s: malformed HDF5: libhdf5 crashed reading it (signal %d)", path, WTERMSIG(status));
        else
            fv_fail(err, "%s: malformed HDF5: reading it failed (exit %d)", path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return d;
}
