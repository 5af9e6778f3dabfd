/* conv2d.c — 2-D convolution (cross-correlation, as every framework computes it), with optional
 * bias and a fused activation. The reference kernels here are the oracle; conv1d reuses them. */
#include "core/core.h"

#include <string.h>

/* ---- Reference kernels. Shapes:
 *   x  (N, H, W, Cin)      w  (KH, KW, Cin, Cout)     b (Cout) or NULL
 *   y  (N, OH, OW, Cout)   iy = oy*SH - pad_top + ky,  ix = ox*SW - pad_left + kx ---- */
void fv_conv_forward_reference(const fv_conv_geometry *g, const float *x, const float *w,
                               const float *b, float *y) {
    for (int n = 0; n < g->n; n++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                float *yrow = y + (((size_t)n * g->oh + oy) * g->ow + ox) * g->c_out;
                for (int co = 0; co < g->c_out; co++) yrow[co] = b ? b[co] : 0.0f;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        const float *xp = x + (((size_t)n * g->h + iy) * g->w + ix) * g->c_in;
                        const float *wp = w + ((size_t)ky * g->kw + kx) * g->c_in * g->c_out;
                        for (int ci = 0; ci < g->c_in; ci++) {
                            const float xv = xp[ci], *wrow = wp + (size_t)ci * g->c_out;
                            for (int co = 0; co < g->c_out; co++) yrow[co] += xv * wrow[co];
                        }
                    }
                }
            }
}

/* dx (N, H, W, Cin) = sum over windows of dy (N, OH, OW, Cout) . w^T */
void fv_conv_backward_data_reference(const fv_conv_geometry *g, const float *dy, const float *w, float *dx) {
    memset(dx, 0, (size_t)g->n * g->h * g->w * g->c_in * sizeof *dx);
    for (int n = 0; n < g->n; n++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                const float *dyrow = dy + (((size_t)n * g->oh + oy) * g->ow + ox) * g->c_out;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        float *dxp = dx + (((size_t)n * g->h + iy) * g->w + ix) * g->c_in;
                        const float *wp = w + ((size_t)ky * g->kw + kx) * g->c_in * g->c_out;
                        for (int ci = 0; ci < g->c_in; ci++) {
                            const float *wrow = wp + (size_t)ci * g->c_out;
                            float sum = 0.0f;
                            for (int co = 0; co < g->c_out; co++) sum += dyrow[co] * wrow[co];
                            dxp[ci] += sum;
                        }
                    }
                }
            }
}

/* dw (KH, KW, Cin, Cout) = sum over windows of x^T . dy;  db (Cout) = sum of dy (db may be NULL) */
void fv_conv_backward_weights_reference(const fv_conv_geometry *g, const float *x, const float *dy,
                                        float *dw, float *db) {
    memset(dw, 0, (size_t)g->kh * g->kw * g->c_in * g->c_out * sizeof *dw);
    if (db) memset(db, 0, (size_t)g->c_out * sizeof *db);
    for (int n = 0; n < g->n; n++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                const float *dyrow = dy + (((size_t)n * g->oh + oy) * g->ow + ox) * g->c_out;
                if (db)
                    for (int co = 0; co < g->c_out; co++) db[co] += dyrow[co];
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->sh - g->pad_top + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->sw - g->pad_left + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        const float *xp = x + (((size_t)n * g->h + iy) * g->w + ix) * g->c_in;
                        float *wp = dw + ((size_t)ky * g->kw + kx) * g->c_in * g->c_out;
                        for (int ci = 0; ci < g->c_in; ci++) {
                            const float xv = xp[ci];
                            float *wrow = wp + (size_t)ci * g->c_out;
                            for (int co = 0; co < g->c_out; co++) wrow[co] += xv * dyrow[co];
                        }
                    }
                }
            }
}

/* ---- Shared by conv2d and conv1d (conv1d.c): geometry, settings check, init, forward, backward. ---- */
fv_status fv_conv_infer_geometry(fv_node *node, int h, int w, int c, fv_conv_geometry *g, fv_error *err) {
    const fv_layer *l = &node->layer;
    if (l->filters <= 0) return fv_fail(err, "filters must be positive, got %d", l->filters);
    if (l->kernel[0] <= 0 || l->kernel[1] <= 0) return fv_fail(err, "kernel must be positive");
    if (l->stride[0] <= 0 || l->stride[1] <= 0) return fv_fail(err, "stride must be positive");
    if ((unsigned)l->activation >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
    for (int i = 0; i < 4; i++)
        if (l->padding == FV_PAD_EXPLICIT && l->pad[i] < 0) return fv_fail(err, "padding must not be negative");
    memset(g, 0, sizeof *g);
    g->h = h, g->w = w, g->c_in = c, g->c_out = l->filters;
    g->kh = l->kernel[0], g->kw = l->kernel[1], g->sh = l->stride[0], g->sw = l->stride[1];
    g->oh = fv_window_output(h, g->kh, g->sh, l->padding, l->pad[0], l->pad[1], &g->pad_top, &g->pad_bottom);
    g->ow = fv_window_output(w, g->kw, g->sw, l->padding, l->pad[2], l->pad[3], &g->pad_left, &g->pad_right);
    if (g->oh <= 0 || g->ow <= 0)
        return fv_fail(err, "input %dx%d is smaller than the %dx%d kernel", h, w, g->kh, g->kw);
    return FV_OK;
}

/* conv2d reads (H, W, C); conv1d reads (L, C) as (1, L, C). */
static void geometry_of(const fv_node *node, int batch, fv_conv_geometry *g) {
    const fv_shape *in = &node->in_shape[0];
    const fv_layer *l = &node->layer;
    int h = in->rank == 3 ? in->dim[0] : 1, w = in->dim[in->rank - 2], c = in->dim[in->rank - 1];
    memset(g, 0, sizeof *g);
    g->n = batch, g->h = h, g->w = w, g->c_in = c, g->c_out = l->filters;
    g->kh = l->kernel[0], g->kw = l->kernel[1], g->sh = l->stride[0], g->sw = l->stride[1];
    g->oh = fv_window_output(h, g->kh, g->sh, l->padding, l->pad[0], l->pad[1], &g->pad_top, &g->pad_bottom);
    g->ow = fv_window_output(w, g->kw, g->sw, l->padding, l->pad[2], l->pad[3], &g->pad_left, &g->pad_right);
}

static fv_status conv2d_infer(fv_node *node, fv_error *err) {
    const fv_shape *in = &node->in_shape[0];
    if (in->rank != 3) return fv_fail(err, "expects an (H, W, C) input, got rank %d (use conv1d for (L, C))", in->rank);
    fv_conv_geometry g;
    if (fv_conv_infer_geometry(node, in->dim[0], in->dim[1], in->dim[2], &g, err) != FV_OK) return FV_ERR;
    node->out_shape = (fv_shape){3, {g.oh, g.ow, g.c_out}};
    int kdim[4] = {g.kh, g.kw, g.c_in, g.c_out}, bdim[1] = {g.c_out};
    fv_node_declare_param(node, "kernel", 1, 4, kdim);
    if (node->layer.use_bias) fv_node_declare_param(node, "bias", 1, 1, bdim);
    return FV_OK;
}

/* Glorot (Keras' default) or He uniform over the receptive field; bias zero. */
void fv_conv_init(const fv_node *node, float **param, fv_rng *rng) {
    fv_conv_geometry g;
    geometry_of(node, 1, &g);
    int field = g.kh * g.kw;
    fv_init_kernel(node->layer.init, param[0], node->params[0].count, field * g.c_in, field * g.c_out, rng);
}

fv_status fv_conv_plan(fv_node *node, int batch, fv_backend backend, void *engine, fv_error *err) {
    (void)node, (void)batch, (void)engine, (void)err;
    if (backend != FV_BACKEND_ONEDNN) return FV_OK;
#ifdef FOVEA_HAVE_DNNL
    fv_conv_geometry g;
    geometry_of(node, batch, &g);
    float slope = node->layer.activation == FV_ACT_RELU ? 0.0f : node->layer.activation == FV_ACT_LEAKY_RELU ? node->layer.alpha : -1.0f;
    return fv_dnnl_conv_create(engine, &g, node->layer.use_bias, slope, (fv_dnnl_conv **)&node->backend, err);
#else
    return fv_fail(err, "built without oneDNN");
#endif
}

void fv_conv_release(fv_node *node) {
#ifdef FOVEA_HAVE_DNNL
    if (node->backend) fv_dnnl_conv_free(node->backend);
#endif
    node->backend = NULL;
}

/* x (N, H, W, Cin) -> y (N, OH, OW, Cout) = act(conv(x, kernel) + bias) */
void fv_conv_forward(const fv_node *node, const fv_step *s) {
    fv_conv_geometry g;
    geometry_of(node, s->batch, &g);
    const float *bias = node->layer.use_bias ? s->param[1] : NULL;
    fv_activation act = node->layer.activation;
#ifdef FOVEA_HAVE_DNNL
    if (node->backend) {
        fv_dnnl_conv_forward(node->backend, s->in[0], s->param[0], bias, s->out);
        if (act == FV_ACT_RELU || act == FV_ACT_LEAKY_RELU) return; /* fused into the convolution */
    } else
#endif
        fv_conv_forward_reference(&g, s->in[0], s->param[0], bias, s->out);
    fv_step_activate(s, act, node->layer.alpha, s->out, (size_t)g.n * g.oh * g.ow, g.c_out);
}

/* d_out (N, OH, OW, Cout) -> d_in (N, H, W, Cin; skipped when NULL), d_kernel, d_bias */
void fv_conv_backward(const fv_node *node, const fv_step *s) {
    fv_conv_geometry g;
    geometry_of(node, s->batch, &g);
    const float *dy = fv_step_activation_grad(s, node->layer.activation, node->layer.alpha, (size_t)g.n * g.oh * g.ow, g.c_out);
    float *d_bias = node->layer.use_bias ? s->d_param[1] : NULL;
#ifdef FOVEA_HAVE_DNNL
    if (node->backend) {
        fv_dnnl_conv_backward(node->backend, s->in[0], s->param[0], dy, s->d_in[0], s->d_param[0], d_bias);
        return;
    }
#endif
    if (s->d_in[0]) fv_conv_backward_data_reference(&g, dy, s->param[0], s->d_in[0]);
    fv_conv_backward_weights_reference(&g, s->in[0], dy, s->d_param[0], d_bias);
}

const fv_op fv_op_conv2d = {"Conv2D", 1, 1, conv2d_infer, fv_conv_init, fv_conv_plan, fv_conv_release,
                            fv_conv_forward, fv_conv_backward};

