/* pool2d.c — max, average and sum pooling over windows of (H, W) per channel; any window and
 * stride, overlapping windows included. An (L, C) input is pooled as (1, L, C).
 * Padding: 'same' pads as Keras and leaves the padding out of averages; explicit padding
 * counts it in averages (PyTorch's count_include_pad default); max ignores padding. */
#include "core/core.h"

#include <float.h>
#include <string.h>

typedef enum { POOL_MAX, POOL_AVG, POOL_SUM } pool_kind;

typedef struct pool_geometry {
    int n, h, w, c, oh, ow, ph, pw, sh, sw;
    int pad[4]; /* top, bottom, left, right */
} pool_geometry;

static pool_kind kind_of(const fv_node *node) {
    return node->layer.kind == FV_LAYER_MAXPOOL2D ? POOL_MAX : node->layer.kind == FV_LAYER_AVGPOOL2D ? POOL_AVG : POOL_SUM;
}

static void geometry_of(const fv_node *node, int batch, pool_geometry *g) {
    const fv_shape *in = &node->in_shape[0];
    const fv_layer *l = &node->layer;
    memset(g, 0, sizeof *g);
    g->n = batch;
    g->h = in->rank == 3 ? in->dim[0] : 1;
    g->w = in->dim[in->rank - 2];
    g->c = in->dim[in->rank - 1];
    g->ph = l->pool[0], g->pw = l->pool[1], g->sh = l->stride[0], g->sw = l->stride[1];
    g->oh = fv_window_output(g->h, g->ph, g->sh, l->padding, l->pad[0], l->pad[1], &g->pad[0], &g->pad[1]);
    g->ow = fv_window_output(g->w, g->pw, g->sw, l->padding, l->pad[2], l->pad[3], &g->pad[2], &g->pad[3]);
}

/* Clips one window to the input; returns the divisor an average uses for it. */
static int window_bounds(const pool_geometry *g, int oy, int ox, int include_pad, int *y0, int *y1, int *x0, int *x1) {
    int ys = oy * g->sh - g->pad[0], xs = ox * g->sw - g->pad[2];
    *y0 = ys < 0 ? 0 : ys, *y1 = ys + g->ph > g->h ? g->h : ys + g->ph;
    *x0 = xs < 0 ? 0 : xs, *x1 = xs + g->pw > g->w ? g->w : xs + g->pw;
    if (!include_pad) return (*y1 - *y0) * (*x1 - *x0);
    /* PyTorch counts padded positions, but not the part of a window beyond the padding */
    int ye = ys + g->ph > g->h + g->pad[1] ? g->h + g->pad[1] : ys + g->ph;
    int xe = xs + g->pw > g->w + g->pad[3] ? g->w + g->pad[3] : xs + g->pw;
    return (ye - ys) * (xe - xs);
}

/* ---- Reference kernels. x (N, H, W, C) -> y (N, OH, OW, C); argmax (N, OH, OW, C) holds the
 * index (iy*W + ix)*C + c of each maximum within its sample (the first one on ties). ---- */
static void pool_forward_reference(const pool_geometry *g, pool_kind kind, int include_pad,
                                   const float *x, float *y, int32_t *argmax) {
    for (int n = 0; n < g->n; n++) {
        const float *xs = x + (size_t)n * g->h * g->w * g->c;
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                int y0, y1, x0, x1, count = window_bounds(g, oy, ox, include_pad, &y0, &y1, &x0, &x1);
                size_t o = (((size_t)n * g->oh + oy) * g->ow + ox) * g->c;
                for (int c = 0; c < g->c; c++) {
                    float acc = kind == POOL_MAX ? -FLT_MAX : 0.0f;
                    int32_t best = 0;
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++) {
                            int32_t at = (iy * g->w + ix) * g->c + c;
                            if (kind != POOL_MAX) acc += xs[at];
                            else if (xs[at] > acc) acc = xs[at], best = at;
                        }
                    y[o + c] = kind == POOL_AVG ? acc / (float)count : acc;
                    if (kind == POOL_MAX) argmax[o + c] = best;
                }
            }
    }
}

/* dy (N, OH, OW, C) -> dx (N, H, W, C): max routes to the argmax; avg/sum spread evenly. */
static void pool_backward_reference(const pool_geometry *g, pool_kind kind, int include_pad,
                                    const float *dy, const int32_t *argmax, float *dx) {
    memset(dx, 0, (size_t)g->n * g->h * g->w * g->c * sizeof *dx);
    for (int n = 0; n < g->n; n++) {
        float *dxs = dx + (size_t)n * g->h * g->w * g->c;
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                int y0, y1, x0, x1, count = window_bounds(g, oy, ox, include_pad, &y0, &y1, &x0, &x1);
                size_t o = (((size_t)n * g->oh + oy) * g->ow + ox) * g->c;
                for (int c = 0; c < g->c; c++) {
                    if (kind == POOL_MAX) {
                        dxs[argmax[o + c]] += dy[o + c];
                        continue;
                    }
                    float share = kind == POOL_AVG ? dy[o + c] / (float)count : dy[o + c];
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++) dxs[(iy * g->w + ix) * g->c + c] += share;
                }
            }
    }
}

static fv_status pool_infer(fv_node *node, fv_error *err) {
    const fv_shape *in = &node->in_shape[0];
    fv_layer *l = &node->layer;
    if (in->rank != 3 && in->rank != 2) return fv_fail(err, "expects an (H, W, C) or (L, C) input, got rank %d", in->rank);
    if (in->rank == 2) l->pool[0] = 1, l->stride[0] = 1, l->pad[0] = l->pad[1] = 0;
    if (l->pool[0] <= 0 || l->pool[1] <= 0) return fv_fail(err, "pool size must be positive");
    if (l->stride[0] <= 0 || l->stride[1] <= 0) return fv_fail(err, "stride must be positive");
    if (l->padding == FV_PAD_EXPLICIT)
        for (int i = 0; i < 4; i++)
            if (l->pad[i] < 0 || l->pad[i] >= l->pool[i / 2])
                return fv_fail(err, "explicit padding must be in [0, pool size)");
    pool_geometry g;
    geometry_of(node, 1, &g);
    if (g.oh <= 0 || g.ow <= 0) return fv_fail(err, "input %dx%d is smaller than the %dx%d window", g.h, g.w, g.ph, g.pw);
    node->out_shape = in->rank == 3 ? (fv_shape){3, {g.oh, g.ow, g.c}} : (fv_shape){2, {g.ow, g.c, 0}};
    if (kind_of(node) == POOL_MAX) node->scratch_per_sample = fv_shape_count(node->out_shape) * sizeof(int32_t);
    return FV_OK;
}

static int include_pad_of(const fv_node *node) { return node->layer.padding == FV_PAD_EXPLICIT; }

static fv_status pool_plan(fv_node *node, int batch, fv_backend backend, void *engine, fv_error *err) {
    (void)batch, (void)engine, (void)err;
    if (backend != FV_BACKEND_ONEDNN || kind_of(node) == POOL_SUM) return FV_OK; /* sum: reference */
#ifdef FOVEA_HAVE_DNNL
    pool_geometry g;
    geometry_of(node, batch, &g);
    int kind = kind_of(node) == POOL_MAX ? 1 : include_pad_of(node) ? 2 : 0;
    int pool[2] = {g.ph, g.pw}, stride[2] = {g.sh, g.sw};
    return fv_dnnl_pool_create(engine, kind, g.n, g.h, g.w, g.c, g.oh, g.ow, pool, stride, g.pad,
                               (fv_dnnl_pool **)&node->backend, err);
#else
    return fv_fail(err, "built without oneDNN");
#endif
}

static void pool_release(fv_node *node) {
#ifdef FOVEA_HAVE_DNNL
    if (node->backend) fv_dnnl_pool_free(node->backend);
#endif
    node->backend = NULL;
}

static void pool_forward(const fv_node *node, const fv_step *s) {
#ifdef FOVEA_HAVE_DNNL
    if (node->backend) {
        fv_dnnl_pool_forward(node->backend, s->in[0], s->out, s->training);
        return;
    }
#endif
    pool_geometry g;
    geometry_of(node, s->batch, &g);
    pool_forward_reference(&g, kind_of(node), include_pad_of(node), s->in[0], s->out, s->scratch);
}

static void pool_backward(const fv_node *node, const fv_step *s) {
#ifdef FOVEA_HAVE_DNNL
    if (node->backend) {
        fv_dnnl_pool_backward(node->backend, s->d_out, s->d_in[0]);
        return;
    }
#endif
    pool_geometry g;
    geometry_of(node, s->batch, &g);
    pool_backward_reference(&g, kind_of(node), include_pad_of(node), s->d_out, s->scratch, s->d_in[0]);
}

const fv_op fv_op_maxpool2d = {"MaxPooling2D", 1, 1, pool_infer, NULL, pool_plan, pool_release, pool_forward, pool_backward};
const fv_op fv_op_avgpool2d = {"AveragePooling2D", 1, 1, pool_infer, NULL, pool_plan, pool_release, pool_forward, pool_backward};
const fv_op fv_op_sumpool2d = {"SumPooling2D", 1, 1, pool_infer, NULL, pool_plan, pool_release, pool_forward, pool_backward};
