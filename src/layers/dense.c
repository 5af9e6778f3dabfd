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
    dense_dims d = {(size_t)batch, s->dim[s->rank - 1], node->layer.dense.units};
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
    const fv_dense_settings *l = &node->layer.dense;
    if (l->units <= 0) return fv_fail(err, "units must be positive, got %d", l->units);
    if ((unsigned)l->activation >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
    if (!(l->alpha >= 0.0f && l->alpha < 1e30f)) return fv_fail(err, "alpha must be a finite number >= 0");
    if (!(l->input_scale >= 0.0f && l->input_scale < 1e30f)) return fv_fail(err, "input_scale must be a finite number >= 0");
    node->out_shape = node->in_shape[0];
    node->out_shape.dim[node->out_shape.rank - 1] = l->units;
    dense_dims d = dims_of(node, 1);
    int kdim[2] = {d.in, d.out}, bdim[1] = {d.out};
    fv_node_declare_param(node, "kernel", 1, 2, kdim);
    if (l->use_bias) fv_node_declare_param(node, "bias", 1, 1, bdim);
    return FV_OK;
}

static void dense_init(const fv_node *node, float **param, fv_rng *rng) {
    dense_dims d = dims_of(node, 1);
    fv_init_kernel(node->layer.dense.init, param[0], node->params[0].count, d.in, d.out, rng);
}

/* x (N, ..., In) -> y (N, ..., Out) */
static void dense_forward(const fv_node *node, const fv_step *s) {
    dense_dims d = dims_of(node, s->batch);
    const fv_dense_settings *l = &node->layer.dense;
    const float *x = fv_step_input(s, l->input_scale, s->in[0], (size_t)s->batch * fv_shape_count(node->in_shape[0]));
    const float *w = fv_step_weights(s, l->input_scale, s->param[0], node->params[0].count, d.out);
    dense_forward_reference(d, x, w, l->use_bias ? s->param[1] : NULL, s->out);
    fv_step_activate(s, l->activation, l->alpha, s->out, d.rows, d.out);
}

static void dense_backward(const fv_node *node, const fv_step *s) {
    dense_dims d = dims_of(node, s->batch);
    const fv_dense_settings *l = &node->layer.dense;
    const float *dy = fv_step_activation_grad(s, l->activation, l->alpha, d.rows, d.out);
    dy = fv_step_operand(s, FV_CAST_D_OUT, dy, (size_t)s->batch * fv_shape_count(node->out_shape)); /* bf16: rounded, for the bias gradient too (as conv's) */
    if (l->use_bias) fv_bias_gradient(dy, d.rows, d.out, s->d_param[1]);
    const float *x = fv_step_input(s, l->input_scale, s->in[0], (size_t)s->batch * fv_shape_count(node->in_shape[0]));
    const float *w = fv_step_weights(s, l->input_scale, s->param[0], node->params[0].count, d.out);
    dense_backward_reference(d, x, w, dy, s->d_in[0], s->d_param[0]);
}

static fv_activation dense_activation(const fv_layer *l, float *alpha) {
    *alpha = l->dense.alpha;
    return l->dense.activation;
}

#define DENSE(field) offsetof(fv_layer, dense.field)
static const fv_setting dense_settings[] = {
    {"units", FV_SET_COUNT, DENSE(units), 0, NULL, NULL, "outputs", NULL},
    {"bias", FV_SET_BOOL, DENSE(use_bias), 0, "true", NULL, "add a learned bias per unit", NULL},
    {"activation", FV_SET_ACTIVATION, DENSE(activation), 0, "linear", NULL, "fused activation", NULL},
    {"alpha", FV_SET_FLOAT, DENSE(alpha), 0, "0.01", NULL, "leaky_relu slope for x < 0", NULL},
    {"init", FV_SET_INIT, DENSE(init), 0, "glorot", NULL, "kernel initialisation: `glorot` or `he` uniform", NULL},
    {"input_scale", FV_SET_FLOAT, DENSE(input_scale), 0, "0", NULL, "int8 plans: the input's calibrated scale (`fovea quantize`); 0: stays fp32", NULL},
};

const fv_op fv_op_dense = {
    .kind = FV_LAYER_DENSE, .word = "dense", .type_name = "Dense", .help = "fully connected over the last axis",
    .settings = dense_settings, .n_settings = FV_COUNT(dense_settings), .min_inputs = 1, .max_inputs = 1, .infer = dense_infer,
    .init = dense_init, .forward = dense_forward, .backward = dense_backward, .activation = dense_activation,
    .input_grad_optional = 1, .products = 1
};

fv_layer fv_dense(int units) {
    fv_layer l = fv_layer_defaults(FV_LAYER_DENSE);
    l.dense.units = units;
    return l;
}
