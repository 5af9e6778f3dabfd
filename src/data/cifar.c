/* load_cifar.c — CIFAR-10 binary batches: 10,000 records a file, each 1 label byte then 3,072
 * pixel bytes: the red, green and blue 32x32 planes, row-major. Stored here as 32x32x3 (HWC). */
#include "data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD (1 + 32 * 32 * 3)

static const char *const cifar_names[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                            "dog", "frog", "horse", "ship", "truck"};

fv_dataset *fv_load_cifar10(const char *const *paths, int n_paths, fv_error *err) {
    if (n_paths <= 0) return fv_fail(err, "CIFAR-10: no batch files given"), NULL;
    fv_bytes files[8];
    size_t total = 0;
    int loaded = 0;
    fv_dataset *d = NULL;
    if (n_paths > 8) return fv_fail(err, "CIFAR-10: at most 8 batch files"), NULL;
    for (; loaded < n_paths; loaded++) {
        if (fv_read_file(paths[loaded], &files[loaded], err) != FV_OK) goto done;
        if (files[loaded].size == 0 || files[loaded].size % RECORD) {
            fv_fail(err, "%s: %zu bytes is not a whole number of %d-byte CIFAR-10 records", paths[loaded],
                    files[loaded].size, RECORD);
            loaded++;
            goto done;
        }
        total += files[loaded].size / RECORD;
    }
    d = fv_dataset_new(total, (fv_shape){3, {32, 32, 3}}, 10, err);
    if (!d) goto done;
    for (int c = 0; c < 10; c++) snprintf(d->class_names[c], FV_CLASS_NAME_MAX, "%s", cifar_names[c]);
    size_t at = 0;
    for (int f = 0; f < n_paths; f++)
        for (size_t r = 0; r < files[f].size / RECORD; r++, at++) {
            const unsigned char *rec = files[f].data + r * RECORD;
            if (rec[0] > 9) {
                fv_fail(err, "%s: record %zu has label %d (CIFAR-10 labels are 0-9)", paths[f], r, rec[0]);
                fv_dataset_free(d), d = NULL;
                goto done;
            }
            d->labels[at] = rec[0];
            float *x = d->x + at * 32 * 32 * 3;
            for (int p = 0; p < 32 * 32; p++)
                for (int c = 0; c < 3; c++) x[p * 3 + c] = (float)rec[1 + c * 1024 + p] / 255.0f;
        }
done:
    for (int f = 0; f < loaded; f++) free(files[f].data);
    return d;
}
