/* prior.c — a Gaussian model of a dataset's images (their mean and top principal components),
 * the prior activation maximisation climbs in: an image that is the mean plus a few of the
 * data's own directions of variation looks like data, so the picture of "trouser" is two legs and
 * not the stripes a network also scores as trouser (the role a generator network plays for
 * Nguyen et al., 2016, with a model that is fitted in a second).
 *
 * The covariance is summed here (blocks of its rows against every sample: a vectorised axpy, no
 * reordered float sums); its top eigenvectors are LAPACK's (ssyevr, the eigenvalues asked for by
 * index). */
#include "inspect/inspect.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The covariance matrix is size x size floats and its eigenvectors take O(size^3): 3072 values
 * (32 x 32 x 3, CIFAR-10) is 36 MB and seconds; a 224 x 224 photo is beyond it. */
#define PRIOR_MAX_SIZE 4096

void fv_image_prior_free(fv_image_prior *prior) {
    if (!prior) return;
    free(prior->mean), free(prior->basis), free(prior->spread);
    free(prior);
}

/* cov (size x size, the upper triangle: row i from column i) = sum over samples of x x^T, x each
 * centred sample (n x size, row-major). Rows of cov in blocks that stay in cache while every
 * sample passes. */
static void sum_outer_products(const float *x, size_t n, int size, float *cov) {
    enum { ROWS = 32 };
    for (int i0 = 0; i0 < size; i0 += ROWS) {
        int i1 = i0 + ROWS < size ? i0 + ROWS : size;
        for (size_t s = 0; s < n; s++) {
            const float *xs = x + s * (size_t)size;
            for (int i = i0; i < i1; i++) {
                float xi = xs[i];
                float *row = cov + (size_t)i * size;
                for (int j = i; j < size; j++) row[j] += xi * xs[j];
            }
        }
    }
}

fv_image_prior *fv_image_prior_fit(const fv_dataset *data, size_t max_samples, int components, fv_error *err) {
    size_t size_z = fv_shape_count(data->shape);
    if (data->count < 2) return fv_fail(err, "a prior needs at least 2 images (the data has %zu)", data->count), NULL;
    if (size_z > PRIOR_MAX_SIZE)
        return fv_fail(err, "a prior models images of at most %d values (these have %zu): its covariance would be %zu x %zu", PRIOR_MAX_SIZE,
                       size_z, size_z, size_z),
               NULL;
    int size = (int)size_z;
    if (components < 1 || components > size)
        return fv_fail(err, "a prior of images of %d values has 1 to %d components (asked for %d)", size, size, components), NULL;
    size_t n = max_samples && max_samples < data->count ? max_samples : data->count;
    fv_image_prior *p = calloc(1, sizeof *p);
    float *x = malloc(n * size_z * sizeof *x), *cov = calloc(size_z * size_z, sizeof *cov);
    float *values = malloc(size_z * sizeof *values), *vectors = malloc(size_z * (size_t)components * sizeof *vectors);
    lapack_int *support = malloc(2 * (size_t)components * sizeof *support);
    double *mean = calloc(size_z, sizeof *mean);
    if (p) p->mean = malloc(size_z * sizeof *p->mean), p->basis = malloc(size_z * (size_t)components * sizeof *p->basis),
           p->spread = malloc((size_t)components * sizeof *p->spread);
    fv_image_prior *result = NULL;
    if (!p || !x || !cov || !values || !vectors || !support || !mean || !p->mean || !p->basis || !p->spread) {
        fv_fail(err, "out of memory for a prior of %zu images of %d values", n, size);
        goto done;
    }
    for (size_t s = 0; s < n; s++)
        for (int i = 0; i < size; i++) mean[i] += data->x[s * size_z + (size_t)i];
    for (int i = 0; i < size; i++) p->mean[i] = (float)(mean[i] / (double)n);
    for (size_t s = 0; s < n; s++)
        for (int i = 0; i < size; i++) x[s * size_z + (size_t)i] = data->x[s * size_z + (size_t)i] - p->mean[i];
    sum_outer_products(x, n, size, cov);
    double total = 0.0; /* the trace: all the variance */
    for (int i = 0; i < size; i++) total += cov[(size_t)i * size + (size_t)i];
    for (size_t k = 0; k < size_z * size_z; k++) cov[k] /= (float)(n - 1);
    lapack_int found = 0; /* the largest `components` eigenvalues, ascending, and their vectors as columns */
    lapack_int info = LAPACKE_ssyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', size, cov, size, 0.0f, 0.0f, size - components + 1, size, 0.0f,
                                     &found, values, vectors, components, support);
    if (info != 0 || found != components) {
        fv_fail(err, "the data's principal components did not converge (LAPACK ssyevr: %d, %d of %d found)", (int)info, (int)found, components);
        goto done;
    }
    double held = 0.0;
    for (int k = 0; k < components; k++) { /* largest first */
        int from = components - 1 - k;
        float variance = values[from] > 0.0f ? values[from] : 0.0f; /* rounding can leave a null direction a hair below 0 */
        p->spread[k] = sqrtf(variance);
        held += variance;
        for (int i = 0; i < size; i++) p->basis[(size_t)k * size_z + (size_t)i] = vectors[(size_t)i * components + (size_t)from];
    }
    p->size = size, p->components = components, p->samples = n;
    p->variance_held = total > 0.0 ? held * (double)(n - 1) / total : 1.0;
    result = p, p = NULL;
done:
    fv_image_prior_free(p);
    free(x), free(cov), free(values), free(vectors), free(support), free(mean);
    return result;
}

void fv_image_prior_info(const fv_image_prior *prior, int *components, size_t *samples, double *variance_held) {
    if (components) *components = prior->components;
    if (samples) *samples = prior->samples;
    if (variance_held) *variance_held = prior->variance_held;
}

void fv_image_prior_image(const fv_image_prior *prior, const float *coefficients, float *image) {
    memcpy(image, prior->mean, (size_t)prior->size * sizeof *image);
    for (int k = 0; k < prior->components; k++) {
        float a = coefficients[k] * prior->spread[k];
        const float *v = prior->basis + (size_t)k * prior->size;
        for (int i = 0; i < prior->size; i++) image[i] += a * v[i];
    }
}
