/* convolve.c — classic convolution with NumPy's and SciPy's semantics, and the named kernels of
 * image processing (Sobel, box, Gaussian, Laplacian, sharpen).
 *
 * Both are computed as a window of the full convolution, full[p] = sum_j x[p - j] k[j]
 * (correlation uses the flipped kernel); the modes differ only in the window's length and where it
 * starts. The starts below are NumPy's and SciPy's own, read off their results (tested against
 * them in tests/inspect_reference.py):
 *   np.convolve    same: (S - 1) / 2, where S = min(n, m)       valid: S - 1
 *   np.correlate   same: (S - 1) / 2 when n >= m, else S / 2    valid: S - 1
 *   convolve2d     same: (k - 1) / 2 per axis (output: x's size) valid: min(n, k) - 1
 *   correlate2d    same: k / 2 per axis                          valid: min(n, k) - 1 */
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int fv_convolve1d_length(int n, int m, fv_convolve_mode mode) {
    int big = n > m ? n : m, small = n < m ? n : m;
    return mode == FV_CONVOLVE_FULL ? n + m - 1 : mode == FV_CONVOLVE_SAME ? big : big - small + 1;
}

/* One output value: the full convolution (or correlation) at position p. */
static float full_at(const float *x, int n, const float *k, int m, int p, int correlate) {
    double sum = 0.0; /* double: the result is the float32 rounding of the exact sum (SciPy computes in float64) */
    int lo = p - (n - 1) > 0 ? p - (n - 1) : 0, hi = p < m - 1 ? p : m - 1;
    for (int j = lo; j <= hi; j++) sum += (double)x[p - j] * (double)k[correlate ? m - 1 - j : j];
    return (float)sum;
}

/* x: n, k: m -> out: fv_convolve1d_length(n, m, mode) */
void fv_convolve1d(const float *x, int n, const float *k, int m, fv_convolve_mode mode, int correlate, float *out) {
    int small = n < m ? n : m, len = fv_convolve1d_length(n, m, mode), start = 0;
    if (mode == FV_CONVOLVE_VALID) start = small - 1;
    if (mode == FV_CONVOLVE_SAME) start = correlate && n < m ? small / 2 : (small - 1) / 2;
    for (int i = 0; i < len; i++) out[i] = full_at(x, n, k, m, start + i, correlate);
}

fv_status fv_convolve2d_shape(int height, int width, int kh, int kw, fv_convolve_mode mode, int *out_h, int *out_w,
                              fv_error *err) {
    if (height <= 0 || width <= 0 || kh <= 0 || kw <= 0)
        return fv_fail(err, "convolve2d needs a non-empty input and kernel, not %d x %d and %d x %d", height, width, kh, kw);
    if (mode == FV_CONVOLVE_VALID && !((height >= kh && width >= kw) || (height <= kh && width <= kw)))
        return fv_fail(err, "valid mode needs the input (%d x %d) or the kernel (%d x %d) at least as large as the other on both axes",
                       height, width, kh, kw);
    *out_h = mode == FV_CONVOLVE_FULL ? height + kh - 1 : mode == FV_CONVOLVE_SAME ? height : abs(height - kh) + 1;
    *out_w = mode == FV_CONVOLVE_FULL ? width + kw - 1 : mode == FV_CONVOLVE_SAME ? width : abs(width - kw) + 1;
    return FV_OK;
}

static int start_of(int n, int k, fv_convolve_mode mode, int correlate) {
    if (mode == FV_CONVOLVE_FULL) return 0;
    if (mode == FV_CONVOLVE_VALID) return (n < k ? n : k) - 1;
    return correlate ? k / 2 : (k - 1) / 2;
}

/* x: height x width x channels, k: kh x kw -> out: out_h x out_w x channels (each channel alone) */
fv_status fv_convolve2d(const float *x, int height, int width, int channels, const float *k, int kh, int kw,
                        fv_convolve_mode mode, int correlate, float *out, fv_error *err) {
    int out_h, out_w;
    if (fv_convolve2d_shape(height, width, kh, kw, mode, &out_h, &out_w, err) != FV_OK) return FV_ERR;
    int top = start_of(height, kh, mode, correlate), left = start_of(width, kw, mode, correlate);
#pragma omp parallel for if ((size_t)out_h * out_w * kh * kw > 100000)
    for (int oy = 0; oy < out_h; oy++)
        for (int ox = 0; ox < out_w; ox++)
            for (int c = 0; c < channels; c++) {
                int py = top + oy, px = left + ox; /* position in the full result */
                double sum = 0.0;
                for (int i = 0; i < kh; i++) {
                    int y = py - i;
                    if (y < 0 || y >= height) continue;
                    for (int j = 0; j < kw; j++) {
                        int xx = px - j;
                        if (xx < 0 || xx >= width) continue;
                        float w = correlate ? k[(kh - 1 - i) * kw + (kw - 1 - j)] : k[i * kw + j];
                        sum += (double)x[((size_t)y * width + xx) * channels + c] * (double)w;
                    }
                }
                out[((size_t)oy * out_w + ox) * channels + c] = (float)sum;
            }
    return FV_OK;
}

/* Sobel's kernels as convolution kernels: convolving with sobel-x gives d/dx (positive where the
 * image gets brighter to the right), with sobel-y d/dy (brighter downwards). */
static const float sobel_x[9] = {1, 0, -1, 2, 0, -2, 1, 0, -1};
static const float sobel_y[9] = {1, 2, 1, 0, 0, 0, -1, -2, -1};
static const float laplacian[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
static const float sharpen[9] = {0, -1, 0, -1, 5, -1, 0, -1, 0};

fv_status fv_filter_kernel(const char *name, int size, float sigma, float *k, int max, int *kh, int *kw, fv_error *err) {
    const float *fixed = !strcmp(name, "sobel-x") ? sobel_x : !strcmp(name, "sobel-y") ? sobel_y
                       : !strcmp(name, "laplacian") ? laplacian : !strcmp(name, "sharpen") ? sharpen : NULL;
    if (fixed) {
        if (max < 9) return fv_fail(err, "kernel '%s' needs 9 values", name);
        memcpy(k, fixed, sizeof sobel_x);
        *kh = *kw = 3;
        return FV_OK;
    }
    int gaussian = !strcmp(name, "gaussian");
    if (!gaussian && strcmp(name, "average"))
        return fv_fail(err, "unknown kernel '%s' (sobel-x, sobel-y, sobel, average, gaussian, laplacian, sharpen or a file)", name);
    if (gaussian && !(sigma > 0.0f && sigma < 1000.0f)) return fv_fail(err, "gaussian needs a sigma in (0, 1000), not %g", (double)sigma);
    if (size == 0) size = gaussian ? 2 * (int)ceilf(3.0f * sigma) + 1 : 3;
    if (size < 1 || size > 1001 || size * size > max) return fv_fail(err, "kernel size %d is out of range (1 to 1001)", size);
    double sum = 0.0;
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++) {
            double dy = i - (size - 1) / 2.0, dx = j - (size - 1) / 2.0;
            k[i * size + j] = gaussian ? (float)exp(-(dx * dx + dy * dy) / (2.0 * sigma * sigma)) : 1.0f;
            sum += k[i * size + j];
        }
    for (int i = 0; i < size * size; i++) k[i] = (float)(k[i] / sum);
    *kh = *kw = size;
    return FV_OK;
}
