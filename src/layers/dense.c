/* dense.c — fully connected layer over the last axis (as Keras Dense and torch Linear): the
 * leading axes are treated as more rows. y = act(x . kernel + bias). */
#include "core/core.h"

#include <string.h>

typedef struct dense_dims {
    size_t rows; /* batch x every axis but the last */
    int in, out;
} dense_dims;

static dense_dims dims_of(const fv_node *node, int batch) {
    const fv_shape *s = &node->in_shape[0];
    dense_dims d = {(size_t)batch, s->dim[s->rank - 1], node->layer.filters};
    for (int i = 0; i < s->rank - 1; i++) d.rows *= (size_t)s->dim[i];
    return d;
}

/* ---- Reference kernels. x (R, In), w (In, Out), b (Out) or NULL, y (R, Out). ---- */
static void dense_forward_reference(dense_dims d, const float *x, const float *w, const float *b, float *y) {
    for (size_t r = 0; r < d.rows; r++) {
        float *yr = y + r * d.out;
        const float *xr = x + r * d.in;
        for (int o = 0; o < d.out; o++) yr[o] = b ? b[o] : 0.0f;
        for (int i = 0; i < d.in; i++) {
            const float xv = xr[i], *wr = w + (size_t)i * d.out;
            for (int o = 0; o < d.out; o++) yr[o] += xv * wr[o];
        }
    }
}

/* db (Out) = column sums of dy (R, Out); both backends use it */
static void bias_gradient(dense_dims d, const float *dy, float *db) {
    memset(db, 0, (size_t)d.out * sizeof *db);
    for (size_t r = 0; r < d.rows; r++)
        for (int o = 0; o < d.out; o++) db[o] += dy[r * d.out + o];
}

/* dx (R, In) = dy . w^T (skipped when NULL);  dw (In, Out) = x^T . dy */
static void dense_backward_reference(dense_dims d, const float *x, const float *w, const float *dy,
                                     float *dx, float *dw) {
    memset(dw, 0, (size_t)d.in * d.out * sizeof *dw);
    for (size_t r = 0; r < d.rows; r++) {
        const float *xr = x + r * d.in, *dyr = dy + r * d.out;
        float *dxr = dx ? dx + r * d.in : NULL;
        for (int i = 0; i < d.in; i++) {
            const float *wr = w + (size_t)i * d.out;
            float *dwr = dw + (size_t)i * d.out;
            float sum = 0.0f;
            for (int o = 0; o < d.out; o++) {
                sum += dyr[o] * wr[o];
                dwr[o] += xr[i] * dyr[o];
            }
            if (dxr) dxr[i] = sum;
        }
    }
}

static fv_status dense_infer(fv_node *node, fv_error *err) {
    const fv_layer *l = &node->layer;
    if (l->filters <= 0) return fv_fail(err, "units must be positive, got %d", l->filters);
    if ((unsigned)l->activation >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
    node->out_shape = node->in_shape[0];
    node->out_shape.dim[node->out_shape.rank - 1] = l->filters;
    dense_dims d = dims_of(node, 1);
    int kdim[2] = {d.in, d.out}, bdim[1] = {d.out};
    fv_node_declare_param(node, "kernel", 1, 2, kdim);
    if (l->use_bias) fv_node_declare_param(node, "bias", 1, 1, bdim);
    return FV_OK;
}

static void dense_init(const fv_node *node, float **param, fv_rng *rng) {
    dense_dims d = dims_of(node, 1);
    fv_init_kernel(node->layer.init, param[0], node->params[0].count, d.in, d.out, rng);
}

/* x (N, ..., In) -> y (N, ..., Out) */
static void dense_forward(const fv_node *node, const fv_step *s) {
    dense_dims d = dims_of(node, s->batch);
    const float *bias = node->layer.use_bias ? s->param[1] : NULL;
#ifdef FOVEA_HAVE_DNNL
    if (s->backend == FV_BACKEND_ONEDNN) {
        for (size_t r = 0; bias && r < d.rows; r++) memcpy(s->out + r * d.out, bias, (size_t)d.out * sizeof(float));
        fv_dnnl_sgemm('N', 'N', (int)d.rows, d.out, d.in, s->in[0], d.in, s->param[0], d.out,
                      bias ? 1.0f : 0.0f, s->out, d.out);
    } else
#endif
        dense_forward_reference(d, s->in[0], s->param[0], bias, s->out);
    fv_step_activate(s, node->layer.activation, node->layer.alpha, s->out, d.rows, d.out);
}

static void dense_backward(const fv_node *node, const fv_step *s) {
    dense_dims d = dims_of(node, s->batch);
    const float *dy = fv_step_activation_grad(s, node->layer.activation, node->layer.alpha, d.rows, d.out);
    if (node->layer.use_bias) bias_gradient(d, dy, s->d_param[1]);
#ifdef FOVEA_HAVE_DNNL
    if (s->backend == FV_BACKEND_ONEDNN) {
        if (s->d_in[0]) fv_dnnl_sgemm('N', 'T', (int)d.rows, d.in, d.out, dy, d.out, s->param[0], d.out, 0.0f, s->d_in[0], d.in);
        fv_dnnl_sgemm('T', 'N', d.in, d.out, (int)d.rows, s->in[0], d.in, dy, d.out, 0.0f, s->d_param[0], d.out);
        return;
    }
#endif
    dense_backward_reference(d, s->in[0], s->param[0], dy, s->d_in[0], s->d_param[0]);
}

const fv_op fv_op_dense = {"Dense", 1, 1, dense_infer, dense_init, NULL, NULL, dense_forward, dense_backward};
