/* test_data.c — every loader on files written here in the exact format (IDX plain and gzip,
 * CIFAR-10 binary, .npy, Happy-House-shaped HDF5, a folder of PNGs), and on truncated or
 * malformed files, whose errors must name the file and what is wrong. */
#include "check.h"
#include "fovea.h"

#include <hdf5.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <stb/stb_image_write.h>

static char dir[256];

static void path_of(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", dir, name); }

static void write_bytes(const char *name, const void *data, size_t n) {
    char path[512];
    path_of(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) abort();
    fclose(f);
}

static void be32(unsigned char *p, uint32_t v) { p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v; }

/* 5 images of 3x4 with pixel (i*12 + k) * 3 and labels i % 3 */
static void write_idx(const char *images, const char *labels, int gzip, size_t cut) {
    unsigned char img[16 + 60], lab[8 + 5];
    be32(img, 0x803), be32(img + 4, 5), be32(img + 8, 3), be32(img + 12, 4);
    for (int i = 0; i < 60; i++) img[16 + i] = (unsigned char)(i * 3);
    be32(lab, 0x801), be32(lab + 4, 5);
    for (int i = 0; i < 5; i++) lab[8 + i] = (unsigned char)(i % 3);
    if (!gzip) {
        write_bytes(images, img, sizeof img - cut);
        write_bytes(labels, lab, sizeof lab);
        return;
    }
    char path[512];
    path_of(path, sizeof path, images);
    gzFile g = gzopen(path, "wb");
    gzwrite(g, img, (unsigned)(sizeof img - cut));
    gzclose(g);
    path_of(path, sizeof path, labels);
    g = gzopen(path, "wb");
    gzwrite(g, lab, sizeof lab);
    gzclose(g);
}

static void expect_error(test_counts *t, fv_dataset *d, const fv_error *err, const char *file, const char *what) {
    CHECK(t, d == NULL, "%s: malformed file accepted", file);
    fv_dataset_free(d);
    CHECK(t, d == NULL && strstr(err->message, file) && strstr(err->message, what), "%s: message '%s' lacks '%s'", file,
          err->message, what);
}

static void test_idx(test_counts *t) {
    char a[512], b[512];
    for (int gz = 0; gz < 2; gz++) {
        write_idx(gz ? "i.gz" : "i.idx", gz ? "l.gz" : "l.idx", gz, 0);
        path_of(a, sizeof a, gz ? "i.gz" : "i.idx"), path_of(b, sizeof b, gz ? "l.gz" : "l.idx");
        fv_error err;
        fv_dataset *d = fv_load_idx(a, b, &err);
        CHECK(t, d != NULL, "idx: %s", d ? "" : err.message);
        if (!d) continue;
        CHECK(t, d->count == 5 && d->shape.rank == 3 && d->shape.dim[0] == 3 && d->shape.dim[1] == 4 && d->shape.dim[2] == 1, "idx shape");
        CHECK(t, fabsf(d->x[7] - 21.0f / 255.0f) < 1e-7f && d->labels[4] == 1 && d->n_classes == 3, "idx values");
        fv_dataset_free(d);
    }
    fv_error err;
    write_idx("short.idx", "l2.idx", 0, 7);
    path_of(a, sizeof a, "short.idx"), path_of(b, sizeof b, "l2.idx");
    expect_error(t, fv_load_idx(a, b, &err), &err, "short.idx", "truncated");
    write_bytes("bad.idx", "\0\0\x08\x02\0\0\0\1\0\0\0\1\0\0\0\1x", 17);
    path_of(a, sizeof a, "bad.idx");
    expect_error(t, fv_load_idx(a, b, &err), &err, "bad.idx", "not an IDX image file");
    path_of(a, sizeof a, "i.idx"), path_of(b, sizeof b, "missing.idx");
    expect_error(t, fv_load_idx(a, b, &err), &err, "missing.idx", "cannot open");
}

/* Loading by name: an IDX folder takes its class names from classes.txt; fashion-mnist (Debian's
 * dataset-fashion-mnist, which set-up installs) comes with its own. */
static void test_registry(test_counts *t) {
    char sub[512], names[600];
    path_of(sub, sizeof sub, "idxset");
    mkdir(sub, 0755);
    write_idx("idxset/train-images-idx3-ubyte", "idxset/train-labels-idx1-ubyte", 0, 0);
    write_idx("idxset/t10k-images-idx3-ubyte", "idxset/t10k-labels-idx1-ubyte", 0, 0);
    write_bytes("idxset/classes.txt", "circle\nsquare\ntriangle\n", 23);
    fv_error err;
    fv_dataset *d = fv_load_dataset(sub, "test", &err);
    CHECK(t, d && d->n_classes == 3 && !strcmp(d->class_names[0], "circle") && !strcmp(d->class_names[2], "triangle"),
          "idx folder class names: %s", d ? d->class_names[0] : err.message);
    fv_dataset_free(d);
    snprintf(names, sizeof names, "%s/classes.txt", sub);
    remove(names);
    d = fv_load_dataset(sub, "train", &err);
    CHECK(t, d && !strcmp(d->class_names[1], "1"), "idx folder without classes.txt: %s", d ? d->class_names[1] : err.message);
    fv_dataset_free(d);
    d = fv_load_dataset("fashion-mnist", "test", &err);
    CHECK(t, d && d->count == 10000 && !strcmp(d->class_names[0], "T-shirt/top") && !strcmp(d->class_names[9], "Ankle boot"),
          "fashion-mnist: %s", d ? d->class_names[0] : err.message);
    fv_dataset_free(d);
    expect_error(t, fv_load_dataset("/nonexistent/data", "train", &err), &err, "/nonexistent/data", "No such file");
}

static void test_cifar(test_counts *t) {
    unsigned char rec[2 * 3073];
    for (int r = 0; r < 2; r++) {
        rec[r * 3073] = (unsigned char)(7 + r);
        for (int k = 0; k < 3072; k++) rec[r * 3073 + 1 + k] = (unsigned char)((k / 1024) * 100 + r); /* plane c holds c*100+r */
    }
    write_bytes("data_batch_1.bin", rec, sizeof rec);
    char a[512];
    path_of(a, sizeof a, "data_batch_1.bin");
    const char *list[1] = {a};
    fv_error err;
    fv_dataset *d = fv_load_cifar10(list, 1, &err);
    CHECK(t, d != NULL, "cifar: %s", d ? "" : err.message);
    if (d) {
        CHECK(t, d->count == 2 && d->labels[0] == 7 && d->labels[1] == 8 && !strcmp(d->class_names[7], "horse"), "cifar labels");
        /* sample 1, pixel 5, channel 2 (blue) = 201 / 255 */
        CHECK(t, fabsf(d->x[32 * 32 * 3 + 5 * 3 + 2] - 201.0f / 255.0f) < 1e-7f, "cifar CHW -> HWC");
        fv_dataset_free(d);
    }
    d = fv_load_dataset(dir, "train", &err); /* the directory is recognised by data_batch_1.bin */
    CHECK(t, d && d->count == 2, "cifar by directory: %s", d ? "" : err.message);
    fv_dataset_free(d);
    write_bytes("short.bin", rec, 3073 + 100);
    path_of(a, sizeof a, "short.bin");
    expect_error(t, fv_load_cifar10(list, 1, &err), &err, "short.bin", "whole number");
    rec[0] = 12;
    write_bytes("label.bin", rec, 3073);
    path_of(a, sizeof a, "label.bin");
    expect_error(t, fv_load_cifar10(list, 1, &err), &err, "label.bin", "label 12");
}

static size_t npy_header(unsigned char *out, const char *descr, const char *shape, const char *fortran) {
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fortran, shape);
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)((n + 1 + pad) & 0xff), out[9] = (unsigned char)((n + 1 + pad) >> 8);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', (size_t)pad);
    out[10 + n + pad] = '\n';
    return (size_t)(10 + n + pad + 1);
}

static void test_npy(test_counts *t) {
    unsigned char buf[512];
    size_t h = npy_header(buf, "|u1", "(3, 2, 2)", "False");
    for (int i = 0; i < 12; i++) buf[h + i] = (unsigned char)(i * 20);
    write_bytes("x.npy", buf, h + 12);
    h = npy_header(buf, "<i8", "(3,)", "False");
    int64_t labels[3] = {2, 0, 1};
    memcpy(buf + h, labels, sizeof labels);
    write_bytes("y.npy", buf, h + sizeof labels);
    h = npy_header(buf, "<f4", "(3, 4)", "False");
    float f[12];
    for (int i = 0; i < 12; i++) f[i] = 0.5f * (float)i;
    memcpy(buf + h, f, sizeof f);
    write_bytes("xf.npy", buf, h + sizeof f);
    char a[512], b[512];
    fv_error err;
    path_of(a, sizeof a, "x.npy"), path_of(b, sizeof b, "y.npy");
    fv_dataset *d = fv_load_npy(a, b, &err);
    CHECK(t, d != NULL, "npy: %s", d ? "" : err.message);
    if (d) {
        CHECK(t, d->count == 3 && d->shape.rank == 3 && d->shape.dim[2] == 1 && fabsf(d->x[5] - 100.0f / 255.0f) < 1e-7f, "npy uint8");
        CHECK(t, d->labels[0] == 2 && d->n_classes == 3, "npy int64 labels");
        fv_dataset_free(d);
    }
    path_of(a, sizeof a, "xf.npy");
    d = fv_load_npy(a, b, &err);
    CHECK(t, d && d->shape.rank == 1 && d->shape.dim[0] == 4 && d->x[11] == 5.5f, "npy float32: %s", d ? "" : err.message);
    fv_dataset_free(d);
    h = npy_header(buf, "<f4", "(3, 4)", "True");
    write_bytes("fortran.npy", buf, h + sizeof f);
    path_of(a, sizeof a, "fortran.npy");
    expect_error(t, fv_load_npy(a, b, &err), &err, "fortran.npy", "Fortran");
    h = npy_header(buf, "<f4", "(3, 4)", "False");
    write_bytes("cut.npy", buf, h + 20);
    path_of(a, sizeof a, "cut.npy");
    expect_error(t, fv_load_npy(a, b, &err), &err, "cut.npy", "truncated");
    write_bytes("text.npy", "hello, world", 12);
    path_of(a, sizeof a, "text.npy");
    expect_error(t, fv_load_npy(a, b, &err), &err, "text.npy", "not a .npy file");
    h = npy_header(buf, "<c8", "(3, 4)", "False");
    write_bytes("complex.npy", buf, h + 96);
    path_of(a, sizeof a, "complex.npy");
    expect_error(t, fv_load_npy(a, b, &err), &err, "complex.npy", "unsupported dtype");
}

/* Happy House: train_set_x (N, 64, 64, 3) uint8, train_set_y (N,) int64, list_classes. */
static void write_happy_house(const char *path, int n, int size) {
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t xdims[4] = {(hsize_t)n, (hsize_t)size, (hsize_t)size, 3}, ydims[1] = {(hsize_t)n}, cdims[1] = {2};
    unsigned char *x = malloc((size_t)n * size * size * 3);
    int64_t *y = malloc((size_t)n * sizeof *y);
    if (!x || !y) abort();
    for (int i = 0; i < n; i++) {
        y[i] = i % 2;
        for (int k = 0; k < size * size * 3; k++) /* class 1: a bright lower half ("a smile") */
            x[(size_t)i * size * size * 3 + k] = (unsigned char)((k * 7 + i * 13) % 97 + (y[i] && k > size * size * 3 / 2 ? 150 : 0));
    }
    hid_t space = H5Screate_simple(4, xdims, NULL), set = H5Dcreate2(file, "train_set_x", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(set), H5Sclose(space);
    space = H5Screate_simple(1, ydims, NULL), set = H5Dcreate2(file, "train_set_y", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y);
    H5Dclose(set), H5Sclose(space);
    hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 7);
    space = H5Screate_simple(1, cdims, NULL), set = H5Dcreate2(file, "list_classes", str, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, "unhappyhappy\0\0");
    H5Dclose(set), H5Sclose(space), H5Tclose(str);
    H5Fclose(file);
    free(x), free(y);
}

static void test_hdf5(test_counts *t) {
    char a[512];
    path_of(a, sizeof a, "happy.h5");
    write_happy_house(a, 6, 64);
    fv_error err;
    fv_dataset *d = fv_load_dataset(a, "train", &err);
    CHECK(t, d != NULL, "h5: %s", d ? "" : err.message);
    if (d) {
        CHECK(t, d->count == 6 && d->shape.dim[0] == 64 && d->shape.dim[2] == 3 && d->labels[3] == 1, "h5 shape and labels");
        CHECK(t, fabsf(d->x[10] - (float)((10 * 7) % 97) / 255.0f) < 1e-7f, "h5 pixels");
        CHECK(t, !strcmp(d->class_names[0], "unhappy") && !strcmp(d->class_names[1], "happy"), "h5 class names '%s' '%s'",
              d->class_names[0], d->class_names[1]);
        fv_dataset_free(d);
    }
    expect_error(t, fv_load_hdf5(a, "test_set", &err), &err, "happy.h5", "has no datasets 'test_set_x'");
    write_bytes("fake.h5", "not really hdf5", 15);
    path_of(a, sizeof a, "fake.h5");
    expect_error(t, fv_load_hdf5(a, "train_set", &err), &err, "fake.h5", "not an HDF5 file");
}

static void test_image_folder(test_counts *t) {
    char a[512];
    path_of(a, sizeof a, "images");
    mkdir(a, 0755);
    const char *classes[2] = {"cat", "dog"};
    unsigned char px[6 * 5 * 3];
    for (int c = 0; c < 2; c++) {
        char sub[600], file[700];
        snprintf(sub, sizeof sub, "%s/%s", a, classes[c]);
        mkdir(sub, 0755);
        for (int i = 0; i < 2; i++) {
            for (int k = 0; k < 90; k++) px[k] = (unsigned char)(c * 100 + i * 10 + k);
            snprintf(file, sizeof file, "%s/%d.png", sub, i);
            stbi_write_png(file, 5, 6, 3, px, 5 * 3);
        }
    }
    fv_error err;
    fv_dataset *d = fv_load_image_folder(a, 0, 0, 3, &err);
    CHECK(t, d != NULL, "images: %s", d ? "" : err.message);
    if (d) {
        CHECK(t, d->count == 4 && d->shape.dim[0] == 6 && d->shape.dim[1] == 5 && d->n_classes == 2, "image folder shape");
        CHECK(t, d->labels[2] == 1 && !strcmp(d->class_names[1], "dog"), "image folder labels");
        CHECK(t, fabsf(d->x[2 * 90 + 7] - 107.0f / 255.0f) < 1e-7f, "image folder pixels (PNG is lossless)");
        fv_dataset_free(d);
    }
    d = fv_load_image_folder(a, 3, 4, 1, &err);
    CHECK(t, d && d->shape.dim[0] == 3 && d->shape.dim[1] == 4 && d->shape.dim[2] == 1, "resized gray: %s", d ? "" : err.message);
    fv_dataset_free(d);
    char bad[700];
    snprintf(bad, sizeof bad, "%s/dog/broken.png", a);
    FILE *f = fopen(bad, "wb");
    fputs("\x89PNG but not really", f);
    fclose(f);
    expect_error(t, fv_load_image_folder(a, 0, 0, 3, &err), &err, "broken.png", "cannot decode");
    path_of(a, sizeof a, "empty");
    mkdir(a, 0755);
    expect_error(t, fv_load_image_folder(a, 0, 0, 3, &err), &err, "empty", "no class subfolders");
}

static void test_split(test_counts *t) {
    char a[512], b[512];
    path_of(a, sizeof a, "i.idx"), path_of(b, sizeof b, "l.idx");
    fv_error err;
    fv_dataset *d = fv_load_idx(a, b, &err);
    CHECK(t, d != NULL, "%s", d ? "" : err.message);
    if (!d) return;
    fv_dataset *v = fv_dataset_split(d, 0.4, &err);
    CHECK(t, v && d->count == 3 && v->count == 2 && v->labels[1] == 1 && fabsf(v->x[0] - (36.0f * 3) / 255.0f) < 1e-6f,
          "split takes the last 40%%");
    fv_dataset_free(v);
    CHECK(t, fv_dataset_split(d, 1.5, &err) == NULL && strstr(err.message, "validation split"), "bad split");
    fv_dataset_free(d);
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    snprintf(dir, sizeof dir, "/tmp/fovea-test-data-%ld", (long)getpid());
    mkdir(dir, 0755);
    test_idx(&t);
    test_registry(&t);
    test_cifar(&t);
    test_npy(&t);
    test_hdf5(&t);
    test_image_folder(&t);
    test_split(&t);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return report(&t);
}
