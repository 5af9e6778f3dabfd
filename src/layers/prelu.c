/* prelu.c — parametric ReLU with one learned slope per channel: y = x for x > 0, alpha_c x
 * otherwise (PyTorch's PReLU(num_parameters=C); Keras' PReLU shared over the spatial axes).
 * What an imported network's PRelu becomes. */
#include "core/core.h"

#include <string.h>

static fv_status prelu_infer(fv_node *node, fv_error *err) {
    (void)err;
    node->out_shape = node->in_shape[0];
    int c = node->out_shape.dim[node->out_shape.rank - 1];
    fv_node_declare_param(node, "alpha", 1, 1, &c);
    return FV_OK;
}

static void prelu_init(const fv_node *node, float **param, fv_rng *rng) { /* 0.25, PyTorch's */
    (void)rng;
    for (size_t i = 0; i < node->params[0].count; i++) param[0][i] = 0.25f;
}

static size_t rows_of(const fv_node *node, int batch, int *channels) {
    *channels = node->out_shape.dim[node->out_shape.rank - 1];
    return (size_t)batch * fv_shape_count(node->out_shape) / (size_t)*channels;
}

/* x (R, C) -> y (R, C) with alpha (C) */
static void prelu_forward(const fv_node *node, const fv_step *s) {
    int c;
    size_t rows = rows_of(node, s->batch, &c);
    const float *x = s->in[0], *a = s->param[0];
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < c; k++) {
            float v = x[r * c + k];
            s->out[r * c + k] = v > 0.0f ? v : a[k] * v;
        }
}

/* dx = dy (x > 0) or alpha dy; d alpha_c = sum of dy x over x <= 0 */
static void prelu_backward(const fv_node *node, const fv_step *s) {
    int c;
    size_t rows = rows_of(node, s->batch, &c);
    const float *x = s->in[0], *a = s->param[0], *dy = s->d_out;
    if (s->d_param[0]) memset(s->d_param[0], 0, (size_t)c * sizeof(float));
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < c; k++) {
            float v = x[r * c + k], g = dy[r * c + k];
            if (s->d_in[0]) s->d_in[0][r * c + k] = v > 0.0f ? g : a[k] * g;
            if (s->d_param[0] && !(v > 0.0f)) s->d_param[0][k] += g * v;
        }
}

const fv_op fv_op_prelu = {
    .kind = FV_LAYER_PRELU, .word = "prelu", .type_name = "PReLU",
    .help = "ReLU with a learned slope per channel for x <= 0", .min_inputs = 1, .max_inputs = 1, .infer = prelu_infer,
    .init = prelu_init, .forward = prelu_forward, .backward = prelu_backward, .input_grad_optional = 1
};

fv_layer fv_prelu(void) { return fv_layer_defaults(FV_LAYER_PRELU); }
