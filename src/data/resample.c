/* resample.c — 8-bit images resized as PIL's Image.resize(BILINEAR) does, which torchvision's Resize
 * calls: a triangle filter widened by the shrink factor (antialiased), separable, horizontal pass
 * first, fixed-point coefficients of 22 bits, each pass rounded to 8 bits (PIL's Resample.c).
 * stb_image_resize has the filter (STBIR_FILTER_TRIANGLE) but fails an assertion on some sizes
 * (17 x 6 to 12 x 16), and its default Mitchell filter takes 7.5 ms for a 768 x 576 photo to 341 x
 * 256 against about 2 here; the result is PIL's to the level. */
#include "data/data.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define PRECISION_BITS 22 /* PIL's: 32 - 8 - 2 */

/* For each of `out` pixels along an axis of `in`: the first source pixel, how many, and their
 * fixed-point weights (at most `taps` each). */
typedef struct axis_plan {
    int *first, *count, taps;
    int32_t *weight; /* out x taps */
} axis_plan;

static void axis_free(axis_plan *a) { free(a->first), free(a->count), free(a->weight); }

static int axis_make(axis_plan *a, int in, int out) {
    double scale = (double)in / out, filterscale = scale > 1.0 ? scale : 1.0, support = filterscale; /* bilinear: support 1 */
    a->taps = (int)ceil(support) * 2 + 1;
    a->first = malloc((size_t)out * sizeof *a->first), a->count = malloc((size_t)out * sizeof *a->count);
    a->weight = malloc((size_t)out * (size_t)a->taps * sizeof *a->weight);
    double *k = malloc((size_t)a->taps * sizeof *k);
    if (!a->first || !a->count || !a->weight || !k) return free(k), axis_free(a), 0;
    for (int x = 0; x < out; x++) {
        double center = (x + 0.5) * scale, ss = 1.0 / filterscale, sum = 0.0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        lo = lo < 0 ? 0 : lo, hi = hi > in ? in : hi;
        int n = hi - lo < a->taps ? hi - lo : a->taps;
        for (int i = 0; i < n; i++) {
            double t = fabs((i + lo - center + 0.5) * ss);
            k[i] = t < 1.0 ? 1.0 - t : 0.0;
            sum += k[i];
        }
        for (int i = 0; i < n; i++) { /* normalised, then to fixed point rounding half away from zero */
            double v = sum != 0.0 ? k[i] / sum : k[i];
            a->weight[(size_t)x * a->taps + i] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
        }
        a->first[x] = lo, a->count[x] = n;
    }
    free(k);
    return 1;
}

static unsigned char clip8(int64_t v) {
    v >>= PRECISION_BITS;
    return v < 0 ? 0 : v > 255 ? 255 : (unsigned char)v;
}

int fv_resample_bilinear(const unsigned char *in, int w, int h, int channels, unsigned char *out, int ow, int oh) {
    axis_plan ax = {0}, ay = {0};
    unsigned char *mid = malloc((size_t)ow * h * channels); /* after the horizontal pass */
    if (!mid || !axis_make(&ax, w, ow)) return free(mid), 0;
    if (!axis_make(&ay, h, oh)) return free(mid), axis_free(&ax), 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < ow; x++)
            for (int c = 0; c < channels; c++) {
                int64_t acc = 1 << (PRECISION_BITS - 1);
                const int32_t *k = ax.weight + (size_t)x * ax.taps;
                for (int i = 0; i < ax.count[x]; i++) acc += (int64_t)in[((size_t)y * w + ax.first[x] + i) * channels + c] * k[i];
                mid[((size_t)y * ow + x) * channels + c] = clip8(acc);
            }
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow * channels; x++) {
            int64_t acc = 1 << (PRECISION_BITS - 1);
            const int32_t *k = ay.weight + (size_t)y * ay.taps;
            for (int i = 0; i < ay.count[y]; i++) acc += (int64_t)mid[(size_t)(ay.first[y] + i) * ow * channels + x] * k[i];
            out[(size_t)y * ow * channels + x] = clip8(acc);
        }
    free(mid), axis_free(&ax), axis_free(&ay);
    return 1;
}
