/* image.c — float images and the pictures made of them: PNG output (stb_image_write), bilinear
 * resampling, rescaling values for viewing, colormaps, heat maps and overlays. */
#include "core/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_write.h>

/* Defined and exported by Debian's libstb, but declared only in stb_image_write.h's implementation
 * part; its result is malloc'd (libstb keeps stb's default allocator). */
unsigned char *stbi_write_png_to_mem(const unsigned char *pixels, int stride_bytes, int x, int y, int n, int *out_len);

fv_image *fv_image_new(int height, int width, int channels, fv_error *err) {
    if (height <= 0 || width <= 0 || (channels != 1 && channels != 3))
        return fv_fail(err, "an image is height x width x 1 or 3 channels, not %d x %d x %d", height, width, channels), NULL;
    if ((size_t)height * (size_t)width > ((size_t)1 << 31) / (size_t)channels)
        return fv_fail(err, "an image of %d x %d is too large", height, width), NULL;
    fv_image *im = calloc(1, sizeof *im);
    float *pixels = calloc((size_t)height * width * channels, sizeof *pixels);
    if (!im || !pixels) return free(im), free(pixels), fv_fail(err, "out of memory for a %d x %d image", height, width), NULL;
    *im = (fv_image){height, width, channels, pixels};
    return im;
}

void fv_image_free(fv_image *image) {
    if (image) free(image->pixels), free(image);
}

typedef struct png_sink {
    FILE *f;
    int failed;
} png_sink;

static void write_to_sink(void *context, void *data, int size) {
    png_sink *s = context;
    if (size > 0 && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->failed = 1;
}

/* 8-bit pixels: values clamped to [0, 1] (NaN to 0), rounded. */
static unsigned char *to_bytes(const fv_image *image) {
    size_t n = (size_t)image->height * image->width * image->channels;
    unsigned char *bytes = malloc(n);
    for (size_t i = 0; bytes && i < n; i++) {
        float v = image->pixels[i];
        bytes[i] = (unsigned char)(v >= 1.0f ? 255 : v > 0.0f ? lrintf(v * 255.0f) : 0);
    }
    return bytes;
}

unsigned char *fv_image_encode_png(const fv_image *image, size_t *size, fv_error *err) {
    unsigned char *bytes = to_bytes(image);
    int len = 0;
    unsigned char *png = bytes ? stbi_write_png_to_mem(bytes, image->width * image->channels, image->width, image->height,
                                                       image->channels, &len) : NULL;
    free(bytes);
    if (!png) return fv_fail(err, "out of memory encoding a PNG"), NULL;
    *size = (size_t)len;
    return png;
}

fv_status fv_image_save_png(const fv_image *image, const char *path, fv_error *err) {
    unsigned char *bytes = to_bytes(image);
    if (!bytes) return fv_fail(err, "%s: out of memory", path);
    fv_output o;
    if (fv_output_open(&o, path, err) != FV_OK) return free(bytes), FV_ERR;
    png_sink sink = {o.f, 0};
    int ok = stbi_write_png_to_func(write_to_sink, &sink, image->width, image->height, image->channels, bytes,
                                    image->width * image->channels);
    free(bytes);
    return fv_output_close(&o, ok && !sink.failed, err);
}

fv_image *fv_image_enlarge(const fv_image *image, int factor, fv_error *err) {
    if (factor < 1 || factor > 64) return fv_fail(err, "an enlargement of %d (1 to 64)", factor), NULL;
    fv_image *big = fv_image_new(image->height * factor, image->width * factor, image->channels, err);
    for (int y = 0; big && y < big->height; y++)
        for (int x = 0; x < big->width; x++)
            memcpy(big->pixels + ((size_t)y * big->width + x) * image->channels,
                   image->pixels + ((size_t)(y / factor) * image->width + x / factor) * image->channels, (size_t)image->channels * sizeof(float));
    return big;
}

/* PyTorch's source coordinate for align_corners=False: (d + 0.5) * scale - 0.5, clamped at 0. */
static void source_index(int d, int src_n, int dst_n, int *i0, int *i1, float *frac) {
    float x = ((float)d + 0.5f) * (float)src_n / (float)dst_n - 0.5f;
    if (x < 0.0f) x = 0.0f;
    *i0 = (int)x;
    if (*i0 > src_n - 1) *i0 = src_n - 1;
    *i1 = *i0 + 1 < src_n ? *i0 + 1 : src_n - 1;
    *frac = x - (float)*i0;
}

void fv_resize_bilinear(const float *src, int src_h, int src_w, int channels, float *dst, int dst_h, int dst_w) {
    for (int y = 0; y < dst_h; y++) {
        int y0, y1;
        float fy;
        source_index(y, src_h, dst_h, &y0, &y1, &fy);
        for (int x = 0; x < dst_w; x++) {
            int x0, x1;
            float fx;
            source_index(x, src_w, dst_w, &x0, &x1, &fx);
            for (int c = 0; c < channels; c++) {
                float a = src[((size_t)y0 * src_w + x0) * channels + c], b = src[((size_t)y0 * src_w + x1) * channels + c];
                float d = src[((size_t)y1 * src_w + x0) * channels + c], e = src[((size_t)y1 * src_w + x1) * channels + c];
                float top = a + (b - a) * fx, bottom = d + (e - d) * fx;
                dst[((size_t)y * dst_w + x) * channels + c] = top + (bottom - top) * fy;
            }
        }
    }
}

fv_image *fv_image_from_values(const float *values, int height, int width, int channels, fv_scale scale, fv_error *err) {
    fv_image *im = fv_image_new(height, width, channels, err);
    if (!im) return NULL;
    size_t n = (size_t)height * width * channels;
    float lo = INFINITY, hi = -INFINITY, big = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(values[i])) continue;
        lo = fminf(lo, values[i]), hi = fmaxf(hi, values[i]), big = fmaxf(big, fabsf(values[i]));
    }
    for (size_t i = 0; i < n; i++) {
        float v = isfinite(values[i]) ? values[i] : 0.0f;
        im->pixels[i] = scale == FV_SCALE_SIGNED ? (big > 0.0f ? 0.5f + 0.5f * v / big : 0.5f)
                                                 : (hi > lo ? (v - lo) / (hi - lo) : 0.0f);
    }
    return im;
}

/* viridis and inferno: Matt Zucker's degree-6 polynomial fits of matplotlib's tables (error
 * below 1/255 in each channel); jet: MATLAB's piecewise-linear one. */
static const float poly[2][7][3] = {
    {{0.2777273272f, 0.0054073445f, 0.3340998053f}, {0.1050930431f, 1.4046135299f, 1.3845901626f},
     {-0.3308618287f, 0.2148475595f, 0.0950951630f}, {-4.6342304990f, -5.7991009734f, -19.3324409563f},
     {6.2282699363f, 14.1799333668f, 56.6905526007f}, {4.7763849977f, -13.7451453777f, -65.3530326334f},
     {-5.4354558559f, 4.6458526122f, 26.3124352496f}},
    {{0.0002189404f, 0.0016510046f, -0.0194808984f}, {0.1065134195f, 0.5639564368f, 3.9327123889f},
     {11.6024930825f, -3.9728539657f, -15.9423941063f}, {-41.7039961314f, 17.4363988821f, 44.3541451987f},
     {77.1629356994f, -33.4023589421f, -81.8073092574f}, {-71.3194282450f, 32.6260642640f, 73.2095198580f},
     {25.1311262248f, -12.2426689524f, -23.0703250029f}},
};

static float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

void fv_colormap_rgb(fv_colormap map, float t, float rgb[3]) {
    t = isfinite(t) ? clamp01(t) : 0.0f;
    for (int c = 0; c < 3; c++) {
        if (map == FV_COLORMAP_VIRIDIS || map == FV_COLORMAP_INFERNO) {
            const float(*p)[3] = poly[map == FV_COLORMAP_INFERNO];
            float v = p[6][c];
            for (int k = 5; k >= 0; k--) v = v * t + p[k][c];
            rgb[c] = clamp01(v);
        } else if (map == FV_COLORMAP_JET) {
            rgb[c] = clamp01(1.5f - fabsf(4.0f * t - (float)(3 - c)));
        } else {
            rgb[c] = t;
        }
    }
}

const char *fv_colormap_name(fv_colormap map) {
    static const char *const names[FV_COLORMAP_COUNT] = {"viridis", "inferno", "jet", "gray"};
    return (unsigned)map < FV_COLORMAP_COUNT ? names[map] : "?";
}

fv_image *fv_image_heatmap(const float *map, int height, int width, fv_colormap colormap, fv_error *err) {
    fv_image *scaled = fv_image_from_values(map, height, width, 1, FV_SCALE_MINMAX, err);
    fv_image *im = scaled ? fv_image_new(height, width, 3, err) : NULL;
    for (size_t i = 0; im && i < (size_t)height * width; i++) fv_colormap_rgb(colormap, scaled->pixels[i], im->pixels + 3 * i);
    fv_image_free(scaled);
    return im;
}

fv_image *fv_image_overlay(const fv_image *image, const float *map, fv_colormap colormap, float alpha, fv_error *err) {
    fv_image *heat = fv_image_heatmap(map, image->height, image->width, colormap, err);
    if (!heat) return NULL;
    for (size_t i = 0; i < (size_t)image->height * image->width; i++)
        for (int c = 0; c < 3; c++) {
            float under = image->pixels[i * image->channels + (image->channels == 3 ? c : 0)];
            heat->pixels[3 * i + c] = alpha * heat->pixels[3 * i + c] + (1.0f - alpha) * clamp01(under);
        }
    return heat;
}
