/* pool.c — max, average and sum pooling over windows of the spatial axes, per channel: 2-D
 * (maxpool2d, avgpool2d, sumpool2d; an (L, C) input is pooled along L) and 3-D (maxpool3d,
 * avgpool3d). Any window and stride, overlapping windows included.
 * Padding: 'same' pads as Keras and leaves the padding out of averages; explicit padding
 * counts it in averages (PyTorch's count_include_pad default); max ignores padding. */
#include "core/core.h"

#include <float.h>
#include <string.h>

typedef enum { POOL_MAX, POOL_AVG, POOL_SUM } pool_kind;

static pool_kind kind_of(const fv_node *node) {
    fv_layer_kind k = node->layer.kind;
    return k == FV_LAYER_MAXPOOL2D || k == FV_LAYER_MAXPOOL3D ? POOL_MAX : k == FV_LAYER_SUMPOOL2D ? POOL_SUM : POOL_AVG;
}

static int spatial_of(fv_layer_kind kind) { return kind == FV_LAYER_MAXPOOL3D || kind == FV_LAYER_AVGPOOL3D ? 3 : 2; }

static void geometry_of(const fv_node *node, int batch, fv_window_geometry *g) {
    fv_pool_geometry(&node->layer.pool, spatial_of(node->layer.kind), node->in_shape[0], batch, g, NULL);
}

/* One window clipped to the input, per axis [lo, hi); returns the divisor an average uses. */
static int window_bounds(const fv_window_geometry *g, const int o[3], int include_pad, int lo[3], int hi[3]) {
    int count = 1, padded = 1;
    for (int t = 0; t < 3; t++) {
        int start = o[t] * g->s[t] - g->pad_before[t];
        lo[t] = start < 0 ? 0 : start;
        hi[t] = start + g->k[t] > g->in[t] ? g->in[t] : start + g->k[t];
        count *= hi[t] - lo[t];
        /* PyTorch counts padded positions, but not the part of a window beyond the padding */
        int end = start + g->k[t] > g->in[t] + g->pad_after[t] ? g->in[t] + g->pad_after[t] : start + g->k[t];
        padded *= end - start;
    }
    return include_pad ? padded : count;
}

/* Runs the body for every output position of every sample, with n (the sample), lo and hi (its
 * window clipped to the input, per axis), count (an average's divisor) and at_out (the index of
 * the output position's first channel). Forward and backward share this walk. */
#define FOR_EACH_WINDOW(g, include_pad, ...)                                                                      \
    for (int n = 0; n < (g)->n; n++)                                                                               \
        for (int o0 = 0; o0 < (g)->out[0]; o0++)                                                                   \
            for (int o1 = 0; o1 < (g)->out[1]; o1++)                                                               \
                for (int o2 = 0; o2 < (g)->out[2]; o2++) {                                                         \
                    int o[3] = {o0, o1, o2}, lo[3], hi[3];                                                         \
                    int count = window_bounds(g, o, include_pad, lo, hi);                                          \
                    size_t at_out = ((((size_t)n * (g)->out[0] + o0) * (g)->out[1] + o1) * (g)->out[2] + o2) * (g)->c_in; \
                    __VA_ARGS__                                                                                    \
                }

/* ---- Reference kernels. x (N, D, H, W, C) -> y (N, OD, OH, OW, C); argmax (N, OD, OH, OW, C)
 * holds the index ((iz*H + iy)*W + ix)*C + c of each maximum within its sample (the first one on
 * ties). ---- */
static void pool_forward_reference(const fv_window_geometry *g, pool_kind kind, int include_pad, const float *x,
                                   float *y, int32_t *argmax) {
    size_t in_sample = (size_t)g->in[0] * g->in[1] * g->in[2] * g->c_in;
    FOR_EACH_WINDOW(g, include_pad, {
        const float *xs = x + (size_t)n * in_sample;
        for (int c = 0; c < g->c_in; c++) {
            float acc = kind == POOL_MAX ? -FLT_MAX : 0.0f;
            int32_t best = 0;
            for (int iz = lo[0]; iz < hi[0]; iz++)
                for (int iy = lo[1]; iy < hi[1]; iy++)
                    for (int ix = lo[2]; ix < hi[2]; ix++) {
                        int32_t at = ((iz * g->in[1] + iy) * g->in[2] + ix) * g->c_in + c;
                        if (kind != POOL_MAX) acc += xs[at];
                        else if (xs[at] > acc) acc = xs[at], best = at;
                    }
            y[at_out + c] = kind == POOL_AVG ? acc / (float)count : acc;
            if (kind == POOL_MAX) argmax[at_out + c] = best;
        }
    })
}

/* dy (N, OD, OH, OW, C) -> dx (N, D, H, W, C): max routes to the argmax; avg/sum spread evenly. */
static void pool_backward_reference(const fv_window_geometry *g, pool_kind kind, int include_pad, const float *dy,
                                    const int32_t *argmax, float *dx) {
    size_t in_sample = (size_t)g->in[0] * g->in[1] * g->in[2] * g->c_in;
    memset(dx, 0, (size_t)g->n * in_sample * sizeof *dx);
    FOR_EACH_WINDOW(g, include_pad, {
        float *dxs = dx + (size_t)n * in_sample;
        for (int c = 0; c < g->c_in; c++) {
            if (kind == POOL_MAX) {
                dxs[argmax[at_out + c]] += dy[at_out + c];
                continue;
            }
            float share = kind == POOL_AVG ? dy[at_out + c] / (float)count : dy[at_out + c];
            for (int iz = lo[0]; iz < hi[0]; iz++)
                for (int iy = lo[1]; iy < hi[1]; iy++)
                    for (int ix = lo[2]; ix < hi[2]; ix++) dxs[((iz * g->in[1] + iy) * g->in[2] + ix) * g->c_in + c] += share;
        }
    })
}

static fv_status pool_infer(fv_node *node, fv_error *err) {
    fv_window_geometry g;
    if (fv_pool_geometry(&node->layer.pool, spatial_of(node->layer.kind), node->in_shape[0], 1, &g, err) != FV_OK)
        return FV_ERR;
    node->out_shape = fv_window_out_shape(&g, node->in_shape[0].rank);
    if (kind_of(node) == POOL_MAX) node->scratch_per_sample = fv_shape_count(node->out_shape) * sizeof(int32_t);
    return FV_OK;
}

static int include_pad_of(const fv_node *node) { return node->layer.pool.padding == FV_PAD_EXPLICIT; }

static void pool_forward(const fv_node *node, const fv_step *s) {
    fv_window_geometry g;
    geometry_of(node, s->batch, &g);
    pool_forward_reference(&g, kind_of(node), include_pad_of(node), s->in[0], s->out, s->scratch);
}

static void pool_backward(const fv_node *node, const fv_step *s) {
    fv_window_geometry g;
    geometry_of(node, s->batch, &g);
    pool_backward_reference(&g, kind_of(node), include_pad_of(node), s->d_out, s->scratch, s->d_in[0]);
}

#define POOL(field) offsetof(fv_layer, pool.field)
static const fv_setting pool_settings[] = {
    {"size", FV_SET_SPATIAL, POOL(size), 0, "2", NULL, "window per spatial axis", NULL},
    {"stride", FV_SET_SPATIAL, POOL(stride), 0, NULL, "size", "step per spatial axis", NULL},
    {"padding", FV_SET_PADDING, POOL(padding), POOL(pad), "valid", NULL,
     "`valid`, `same` (Keras), or explicit as for convolutions (counted in averages)", NULL},
};
static const fv_alias maxpool_alias[] = {{"maxpool", ""}}, avgpool_alias[] = {{"avgpool", ""}}, sumpool_alias[] = {{"sumpool", ""}};
#define POOL_ROW(kind_, word_, type_, help_, spatial_, ...)                                                            \
    {.kind = kind_, .word = word_, .type_name = type_, .help = help_, .spatial = spatial_, .settings = pool_settings,       \
     .n_settings = FV_COUNT(pool_settings), .min_inputs = 1, .max_inputs = 1, .infer = pool_infer, .forward = pool_forward, \
     .backward = pool_backward, __VA_ARGS__}

const fv_op fv_op_maxpool2d = POOL_ROW(FV_LAYER_MAXPOOL2D, "maxpool2d", "MaxPooling2D", "2-D max pooling", 2,
                                       .aliases = maxpool_alias, .n_aliases = FV_COUNT(maxpool_alias));
const fv_op fv_op_avgpool2d = POOL_ROW(FV_LAYER_AVGPOOL2D, "avgpool2d", "AveragePooling2D", "2-D average pooling", 2,
                                       .aliases = avgpool_alias, .n_aliases = FV_COUNT(avgpool_alias));
const fv_op fv_op_sumpool2d = POOL_ROW(FV_LAYER_SUMPOOL2D, "sumpool2d", "SumPooling2D", "2-D sum pooling", 2,
                                       .aliases = sumpool_alias, .n_aliases = FV_COUNT(sumpool_alias));
const fv_op fv_op_maxpool3d = POOL_ROW(FV_LAYER_MAXPOOL3D, "maxpool3d", "MaxPooling3D", "3-D max pooling", 3);
const fv_op fv_op_avgpool3d = POOL_ROW(FV_LAYER_AVGPOOL3D, "avgpool3d", "AveragePooling3D", "3-D average pooling", 3);

static fv_layer pool_layer(fv_layer_kind kind, int d, int h, int w) {
    fv_layer l = fv_layer_defaults(kind);
    int size[3] = {d, h, w}, first = spatial_of(kind) == 3 ? 0 : 1;
    for (int a = first; a < 3; a++) l.pool.size[a - first] = l.pool.stride[a - first] = size[a];
    return l;
}
fv_layer fv_maxpool2d(int pool_h, int pool_w) { return pool_layer(FV_LAYER_MAXPOOL2D, 1, pool_h, pool_w); }
fv_layer fv_avgpool2d(int pool_h, int pool_w) { return pool_layer(FV_LAYER_AVGPOOL2D, 1, pool_h, pool_w); }
fv_layer fv_sumpool2d(int pool_h, int pool_w) { return pool_layer(FV_LAYER_SUMPOOL2D, 1, pool_h, pool_w); }
fv_layer fv_maxpool3d(int pool_d, int pool_h, int pool_w) { return pool_layer(FV_LAYER_MAXPOOL3D, pool_d, pool_h, pool_w); }
fv_layer fv_avgpool3d(int pool_d, int pool_h, int pool_w) { return pool_layer(FV_LAYER_AVGPOOL3D, pool_d, pool_h, pool_w); }
