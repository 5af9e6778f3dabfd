/* resize.c — resampling the spatial axes (all but the channels, the last) to a given size:
 * nearest or (bi/tri)linear, with ONNX's coordinate modes (which source position an output
 * position maps to). What segmentation heads (F.interpolate, nn.Upsample) and PaddleOCR's
 * detector become. Every output value is a weighted sum of at most 2^d inputs (d spatial axes),
 * which backward scatters with the same weights. */
#include "core/core.h"

#include <math.h>
#include <string.h>

static fv_status resize_infer(fv_node *node, fv_error *err) {
    const fv_resize_settings *l = &node->layer.resize;
    const fv_shape *in = &node->in_shape[0];
    int d = in->rank - 1;
    if (d < 1 || d > FV_MAX_SPATIAL) return fv_fail(err, "input rank %d: resize needs 1 to 3 spatial axes before the channels", in->rank);
    if (l->size.rank != d) return fv_fail(err, "size needs %d values (one per spatial axis)", d);
    if ((unsigned)l->mode >= FV_RESIZE_MODE_COUNT || (unsigned)l->coordinates >= FV_RESIZE_COORD_COUNT ||
        (unsigned)l->nearest >= FV_RESIZE_NEAREST_COUNT)
        return fv_fail(err, "unknown mode");
    fv_shape out = *in;
    for (int a = 0; a < d; a++) {
        if (l->size.dim[a] < 1 || (size_t)l->size.dim[a] > FV_MAX_SAMPLE_VALUES) return fv_fail(err, "size %d", l->size.dim[a]);
        out.dim[a] = l->size.dim[a];
        if (!(l->scale[a] >= 0.0f && l->scale[a] < 1e6f)) return fv_fail(err, "scale %g", (double)l->scale[a]);
    }
    node->out_shape = out;
    return FV_OK;
}

/* The source coordinate of output position x along an axis resized from n to m with this scale
 * (ONNX's coordinate_transformation_mode; align_corners uses the unrounded output length n * scale
 * as ONNX does). */
static float source_of(fv_resize_coordinates mode, int x, int n, int m, float scale) {
    switch (mode) {
    case FV_RESIZE_HALF_PIXEL: return ((float)x + 0.5f) / scale - 0.5f;
    case FV_RESIZE_PYTORCH_HALF_PIXEL: return m > 1 ? ((float)x + 0.5f) / scale - 0.5f : 0.0f;
    case FV_RESIZE_ALIGN_CORNERS: return (float)n * scale > 1.0f ? (float)x * (float)(n - 1) / ((float)n * scale - 1.0f) : 0.0f;
    case FV_RESIZE_ASYMMETRIC: return (float)x / scale;
    case FV_RESIZE_COORD_COUNT: break;
    }
    return 0.0f;
}

/* Along one axis: the (at most two) inputs an output position reads and their weights. */
static int taps(const fv_resize_settings *l, int axis, int x, int n, int m, int *at, float *w) {
    float scale = axis >= 0 && l->scale[axis] > 0.0f ? l->scale[axis] : (float)m / (float)n;
    float s = source_of(l->coordinates, x, n, m, scale);
    if (l->mode == FV_RESIZE_NEAREST) {
        float r = l->nearest == FV_RESIZE_FLOOR ? floorf(s) : l->nearest == FV_RESIZE_CEIL ? ceilf(s)
                  : l->nearest == FV_RESIZE_ROUND_PREFER_CEIL ? floorf(s + 0.5f)
                                                               : ceilf(s - 0.5f); /* round_prefer_floor */
        int i = (int)r;
        at[0] = i < 0 ? 0 : i >= n ? n - 1 : i, w[0] = 1.0f;
        return 1;
    }
    if (s < 0.0f) s = 0.0f; /* linear: positions beyond the edge read the edge */
    if (s > (float)(n - 1)) s = (float)(n - 1);
    int i0 = (int)floorf(s), i1 = i0 + 1 < n ? i0 + 1 : i0;
    float f = s - (float)i0;
    at[0] = i0, w[0] = 1.0f - f, at[1] = i1, w[1] = f;
    return 2;
}

/* Both directions over every output position: forward y = sum w x; backward dx += w dy. */
static void walk(const fv_node *node, int batch, const float *x, float *y, const float *dy, float *dx) {
    const fv_resize_settings *l = &node->layer.resize;
    const fv_shape *in = &node->in_shape[0], *out = &node->out_shape;
    int d = in->rank - 1, c = in->dim[d];
    int n[3] = {1, 1, 1}, m[3] = {1, 1, 1}, axis[3] = {-1, -1, -1};
    for (int a = 0; a < d; a++) n[3 - d + a] = in->dim[a], m[3 - d + a] = out->dim[a], axis[3 - d + a] = a; /* right-aligned on 3 axes */
    size_t per_in = fv_shape_count(*in), per_out = fv_shape_count(*out);
    for (int b = 0; b < batch; b++) {
        size_t o = (size_t)b * per_out;
        for (int p0 = 0; p0 < m[0]; p0++) {
            int at0[2];
            float w0[2];
            int k0 = taps(l, axis[0], p0, n[0], m[0], at0, w0);
            for (int p1 = 0; p1 < m[1]; p1++) {
                int at1[2];
                float w1[2];
                int k1 = taps(l, axis[1], p1, n[1], m[1], at1, w1);
                for (int p2 = 0; p2 < m[2]; p2++, o += (size_t)c) {
                    int at2[2];
                    float w2[2];
                    int k2 = taps(l, axis[2], p2, n[2], m[2], at2, w2);
                    if (y) for (int k = 0; k < c; k++) y[o + (size_t)k] = 0.0f;
                    for (int i0 = 0; i0 < k0; i0++)
                        for (int i1 = 0; i1 < k1; i1++)
                            for (int i2 = 0; i2 < k2; i2++) {
                                float w = w0[i0] * w1[i1] * w2[i2];
                                size_t src = (size_t)b * per_in + (((size_t)at0[i0] * (size_t)n[1] + (size_t)at1[i1]) * (size_t)n[2] + (size_t)at2[i2]) * (size_t)c;
                                if (w == 0.0f) continue;
                                if (y) for (int k = 0; k < c; k++) y[o + (size_t)k] += w * x[src + (size_t)k];
                                else for (int k = 0; k < c; k++) dx[src + (size_t)k] += w * dy[o + (size_t)k];
                            }
                }
            }
        }
    }
}

/* x (N, S..., C) -> y (N, size..., C) */
static void resize_forward(const fv_node *node, const fv_step *s) { walk(node, s->batch, s->in[0], s->out, NULL, NULL); }

static void resize_backward(const fv_node *node, const fv_step *s) {
    memset(s->d_in[0], 0, (size_t)s->batch * fv_shape_count(node->in_shape[0]) * sizeof(float));
    walk(node, s->batch, NULL, NULL, s->d_out, s->d_in[0]);
}

static const char *const resize_modes[] = {"nearest", "linear", NULL};
static const char *const resize_coordinates[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", NULL};
static const char *const resize_nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL};
#define RESIZE(field) offsetof(fv_layer, resize.field)
static const fv_setting resize_settings[] = {
    {"size", FV_SET_INTS, RESIZE(size), 0, NULL, NULL, "the output's size per spatial axis", NULL},
    {"mode", FV_SET_CHOICE, RESIZE(mode), 0, "linear", NULL, "nearest or linear (bilinear on maps)", resize_modes},
    {"coordinates", FV_SET_CHOICE, RESIZE(coordinates), 0, "half_pixel", NULL,
     "half_pixel (F.interpolate's align_corners=False), pytorch_half_pixel, align_corners or asymmetric (ONNX's modes)", resize_coordinates},
    {"nearest", FV_SET_CHOICE, RESIZE(nearest), 0, "round_prefer_floor", NULL, "nearest's rounding: round_prefer_floor, round_prefer_ceil, floor or ceil",
     resize_nearest},
    {"scale", FV_SET_FLOATS, RESIZE(scale), 0, "0", NULL, "output / input per spatial axis in the coordinate mapping (0: size / input; ONNX's scales)", NULL},
};

const fv_op fv_op_resize = {
    .kind = FV_LAYER_RESIZE, .word = "resize", .type_name = "Resizing",
    .help = "resamples the spatial axes to a size: nearest or linear", .settings = resize_settings, .n_settings = FV_COUNT(resize_settings),
    .min_inputs = 1, .max_inputs = 1, .infer = resize_infer, .forward = resize_forward, .backward = resize_backward
};

fv_layer fv_resize(const int *size, int spatial, fv_resize_mode mode) {
    fv_layer l = fv_layer_defaults(FV_LAYER_RESIZE);
    l.resize.size.rank = spatial;
    for (int a = 0; a < spatial; a++) l.resize.size.dim[a] = size[a];
    l.resize.mode = mode;
    return l;
}
