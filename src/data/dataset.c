/* dataset.c — the dataset container: creating, freeing, splitting, normalising. The format
 * readers (one file each) fill it; registry.c picks the reader for a name. */
#include "data/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

fv_status fv_dataset_set_classes(fv_dataset *d, int n_classes, fv_error *err) {
    for (size_t i = 0; i < d->count; i++)
        if (d->labels[i] < 0 || d->labels[i] >= n_classes)
            return fv_fail(err, "sample %zu has label %d, but there are %d classes: a label is out of range", i, d->labels[i], n_classes);
    if (n_classes <= d->n_classes) return d->n_classes = n_classes, FV_OK; /* no label uses the classes dropped */
    char (*names)[FV_CLASS_NAME_MAX] = realloc(d->class_names, (size_t)n_classes * sizeof *names);
    if (!names) return fv_fail(err, "out of memory");
    for (int c = d->n_classes; c < n_classes; c++) snprintf(names[c], FV_CLASS_NAME_MAX, "%d", c);
    d->class_names = names, d->n_classes = n_classes;
    return FV_OK;
}

void fv_dataset_normalize(fv_dataset *d, const float *mean, const float *std) {
    int c = d->shape.dim[d->shape.rank - 1];
    size_t n = d->count * fv_shape_count(d->shape);
    for (size_t i = 0; i < n; i++) d->x[i] = (d->x[i] - mean[i % (size_t)c]) / std[i % (size_t)c];
}

fv_status fv_dataset_check(const fv_dataset *d, const char *source, fv_error *err) {
    size_t per = fv_shape_count(d->shape);
    for (size_t i = 0; i < d->count * per; i++)
        if (!isfinite(d->x[i])) return fv_fail(err, "%s: sample %zu holds a NaN or infinite value", source, i / per);
    return FV_OK;
}
