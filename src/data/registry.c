/* registry.c — loading a dataset by name: a table of formats, each a probe (does this spec look
 * like mine?) and a loader, tried in order. Nothing here reads pixels; the readers do. */
#include "data/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int has_file(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return exists(path);
}

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/* Class names from DIR/classes.txt (one a line), when the folder has one and it names every class. */
static void read_class_names(const char *dir, fv_dataset *d) {
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/classes.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char names[256][FV_CLASS_NAME_MAX];
    int n = 0;
    while (n < 256 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (*line) snprintf(names[n++], FV_CLASS_NAME_MAX, "%.*s", FV_CLASS_NAME_MAX - 1, line);
    }
    fclose(f);
    if (n == d->n_classes) memcpy(d->class_names, names, (size_t)n * sizeof names[0]);
}

/* An IDX directory: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. */
static fv_dataset *load_idx_dir(const char *dir, int train, fv_error *err) {
    const char *prefix = train ? "train" : "t10k";
    char images[1024], labels[1024];
    for (int gz = 1; gz >= 0; gz--) {
        snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
        snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
        if (exists(images)) break;
    }
    fv_dataset *d = fv_load_idx(images, labels, err);
    if (d) read_class_names(dir, d);
    return d;
}

static int probe_fashion(const char *spec) { return !strcmp(spec, "fashion-mnist"); }
static fv_dataset *load_fashion(const char *spec, int train, fv_error *err) {
    (void)spec;
    if (!is_dir(FASHION_MNIST_DIR))
        return fv_fail(err, "%s: not found (install Debian's dataset-fashion-mnist)", FASHION_MNIST_DIR), NULL;
    fv_dataset *d = load_idx_dir(FASHION_MNIST_DIR, train, err);
    for (int c = 0; d && d->n_classes == 10 && c < 10; c++) snprintf(d->class_names[c], FV_CLASS_NAME_MAX, "%s", fashion_names[c]);
    return d;
}

static int probe_hdf5(const char *spec) { return fv_has_suffix(spec, ".h5") || fv_has_suffix(spec, ".hdf5"); }
static fv_dataset *load_hdf5(const char *spec, int train, fv_error *err) {
    return fv_load_hdf5(spec, train ? "train_set" : "test_set", err);
}

static int probe_idx(const char *spec) {
    return has_file(spec, "train-images-idx3-ubyte.gz") || has_file(spec, "train-images-idx3-ubyte");
}
static fv_dataset *load_idx(const char *spec, int train, fv_error *err) { return load_idx_dir(spec, train, err); }

static int probe_cifar(const char *spec) { return has_file(spec, "data_batch_1.bin"); }
static fv_dataset *load_cifar(const char *spec, int train, fv_error *err) {
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

/* An image folder, or one with train/ and test/ folders of class folders. */
static int probe_images(const char *spec) { return is_dir(spec); }
static fv_dataset *load_images(const char *spec, int train, fv_error *err) {
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", spec, train ? "train" : "test");
    return fv_load_image_folder(is_dir(sub) ? sub : spec, 0, 0, 3, err);
}

/* A NumPy pair "IMAGES.npy,LABELS.npy": one set of samples, whatever the split. */
static int probe_npy(const char *spec) {
    const char *comma = strchr(spec, ',');
    return comma && fv_has_suffix(spec, ".npy") && comma - spec > 4 && !strncmp(comma - 4, ".npy", 4);
}
static fv_dataset *load_npy(const char *spec, int train, fv_error *err) {
    (void)train;
    char images[1024];
    const char *comma = strchr(spec, ',');
    snprintf(images, sizeof images, "%.*s", (int)(comma - spec), spec);
    return fv_load_npy(images, comma + 1, err);
}

typedef struct data_format {
    const char *name;
    int (*probe)(const char *spec);
    fv_dataset *(*load)(const char *spec, int train, fv_error *err);
} data_format;

/* Tried in order; the image folder, which takes any directory, comes last. */
static const data_format formats[] = {
    {"fashion-mnist", probe_fashion, load_fashion},
    {"hdf5", probe_hdf5, load_hdf5},
    {"npy", probe_npy, load_npy},
    {"idx", probe_idx, load_idx},
    {"cifar-10", probe_cifar, load_cifar},
    {"image folder", probe_images, load_images},
};

fv_dataset *fv_load_dataset(const char *spec, const char *split, fv_error *err) {
    int train;
    if (!strcmp(split, "train")) train = 1;
    else if (!strcmp(split, "test")) train = 0;
    else return fv_fail(err, "split must be 'train' or 'test', got '%s'", split), NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].probe(spec)) return formats[i].load(spec, train, err);
    return fv_fail(err, "%s: %s", spec, exists(spec) ? "not a dataset (expected a directory, a .h5 file or IMAGES.npy,LABELS.npy)" : strerror(ENOENT)), NULL;
}
