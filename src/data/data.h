/* data.h — what the dataset readers share; not part of the public API. */
#ifndef FOVEA_DATA_H
#define FOVEA_DATA_H

#include "core/core.h"

/* An empty dataset of `count` samples, classes named "0", "1", ... (pixels uninitialised). */
fv_dataset *fv_dataset_new(size_t count, fv_shape shape, int n_classes, fv_error *err);

/* Every value finite (float data from .npy or .h5 may hold NaN or infinity); source names it. */
fv_status fv_dataset_check(const fv_dataset *d, const char *source, fv_error *err);

/* A whole file in memory, gunzipped when it starts with the gzip magic. */
typedef struct fv_bytes {
    unsigned char *data;
    size_t size;
} fv_bytes;
/* 8-bit pixels (w x h x channels) resized to ow x oh as PIL's Image.resize(BILINEAR) (resample.c);
 * 0 when out of memory. */
int fv_resample_bilinear(const unsigned char *in, int w, int h, int channels, unsigned char *out, int ow, int oh);
fv_status fv_read_file(const char *path, fv_bytes *out, fv_error *err);

#endif
