/* dataset.c — the dataset container, splitting, normalisation, and loading by name. The
 * format readers live in load_*.c. */
#include "dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

fv_dataset *fv_dataset_new(size_t count, fv_shape shape, int n_classes, fv_error *err) {
    fv_dataset *d = calloc(1, sizeof *d);
    size_t pixels = count * fv_shape_count(shape);
    if (d) {
        d->count = count, d->shape = shape, d->n_classes = n_classes;
        d->x = malloc((pixels ? pixels : 1) * sizeof *d->x);
        d->labels = calloc(count ? count : 1, sizeof *d->labels);
        d->class_names = calloc(n_classes > 0 ? (size_t)n_classes : 1, sizeof *d->class_names);
    }
    if (!d || !d->x || !d->labels || !d->class_names) {
        fv_dataset_free(d);
        return fv_fail(err, "out of memory for %zu samples of %zu values", count, fv_shape_count(shape)), NULL;
    }
    for (int c = 0; c < n_classes; c++) snprintf(d->class_names[c], FV_CLASS_NAME_MAX, "%d", c);
    return d;
}

void fv_dataset_free(fv_dataset *d) {
    if (!d) return;
    free(d->x);
    free(d->labels);
    free(d->class_names);
    free(d);
}

fv_status fv_dataset_check_labels(const fv_dataset *d, const char *path, fv_error *err) {
    for (size_t i = 0; i < d->count; i++)
        if (d->labels[i] < 0 || d->labels[i] >= d->n_classes)
            return fv_fail(err, "%s: label %d of sample %zu is outside [0, %d)", path, (int)d->labels[i], i, d->n_classes);
    return FV_OK;
}

fv_dataset *fv_dataset_split(fv_dataset *d, double fraction, fv_error *err) {
    if (!(fraction > 0.0 && fraction < 1.0)) return fv_fail(err, "validation split must be in (0, 1), got %g", fraction), NULL;
    size_t take = (size_t)((double)d->count * fraction);
    if (take == 0 || take == d->count) return fv_fail(err, "validation split %g of %zu samples leaves a set empty", fraction, d->count), NULL;
    fv_dataset *v = fv_dataset_new(take, d->shape, d->n_classes, err);
    if (!v) return NULL;
    size_t keep = d->count - take, per = fv_shape_count(d->shape);
    memcpy(v->x, d->x + keep * per, take * per * sizeof *v->x);
    memcpy(v->labels, d->labels + keep, take * sizeof *v->labels);
    memcpy(v->class_names, d->class_names, (size_t)d->n_classes * sizeof *v->class_names);
    d->count = keep; /* the first part stays where it is */
    return v;
}

void fv_dataset_normalize(fv_dataset *d, const float *mean, const float *std) {
    int c = d->shape.dim[d->shape.rank - 1];
    size_t n = d->count * fv_shape_count(d->shape);
    for (size_t i = 0; i < n; i++) d->x[i] = (d->x[i] - mean[i % (size_t)c]) / std[i % (size_t)c];
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/* An IDX directory: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. */
static fv_dataset *load_idx_dir(const char *dir, int train, int fashion, fv_error *err) {
    const char *prefix = train ? "train" : "t10k";
    char images[1024], labels[1024];
    for (int gz = 1; gz >= 0; gz--) {
        snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
        snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
        if (exists(images)) break;
    }
    fv_dataset *d = fv_load_idx(images, labels, err);
    if (d && fashion && d->n_classes == 10)
        for (int c = 0; c < 10; c++) snprintf(d->class_names[c], FV_CLASS_NAME_MAX, "%s", fashion_names[c]);
    return d;
}

fv_dataset *fv_load_dataset(const char *spec, const char *split, fv_error *err) {
    int train;
    if (!strcmp(split, "train")) train = 1;
    else if (!strcmp(split, "test")) train = 0;
    else return fv_fail(err, "split must be 'train' or 'test', got '%s'", split), NULL;
    if (!strcmp(spec, "fashion-mnist")) {
        const char *dir = "/usr/share/datasets/fashion-mnist";
        if (!is_dir(dir)) return fv_fail(err, "%s: not found (install Debian's dataset-fashion-mnist)", dir), NULL;
        return load_idx_dir(dir, train, 1, err);
    }
    if (ends_with(spec, ".h5") || ends_with(spec, ".hdf5")) return fv_load_hdf5(spec, train ? "train_set" : "test_set", err);
    if (!is_dir(spec)) return fv_fail(err, "%s: %s", spec, exists(spec) ? "not a dataset (expected a directory or .h5 file)" : strerror(ENOENT)), NULL;
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", spec);
    int idx = exists(probe);
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte", spec);
    idx |= exists(probe);
    if (idx) return load_idx_dir(spec, train, strstr(spec, "fashion") != NULL, err);
    snprintf(probe, sizeof probe, "%s/data_batch_1.bin", spec);
    if (exists(probe)) {
        char paths[5][1024];
        const char *list[5];
        int n = 0;
        if (train)
            for (int b = 1; b <= 5; b++) {
                snprintf(paths[n], sizeof paths[n], "%s/data_batch_%d.bin", spec, b);
                if (exists(paths[n])) list[n] = paths[n], n++;
            }
        else
            snprintf(paths[0], sizeof paths[0], "%s/test_batch.bin", spec), list[0] = paths[0], n = 1;
        return fv_load_cifar10(list, n, err);
    }
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", spec, split);
    return fv_load_image_folder(is_dir(sub) ? sub : spec, 0, 0, 3, err);
}
