/* add.c — residual add: y = f(x1 + x2 + ...), every input of the same shape, with an optional
 * fused activation f (ResNet's add + ReLU in one pass over the data). */
#include "core/core.h"

#include <string.h>

static fv_status add_infer(fv_node *node, fv_error *err) {
    for (int i = 1; i < node->n_inputs; i++) {
        const fv_shape *a = &node->in_shape[0], *b = &node->in_shape[i];
        int same = a->rank == b->rank;
        for (int k = 0; same && k < a->rank; k++) same = a->dim[k] == b->dim[k];
        if (!same) {
            char sa[64], sb[64];
            fv_shape_format(*a, sa, sizeof sa), fv_shape_format(*b, sb, sizeof sb);
            return fv_fail(err, "inputs must have the same shape, got %s and %s", sa, sb);
        }
    }
    const fv_add_settings *l = &node->layer.add;
    if ((unsigned)l->activation >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
    if (!(l->alpha >= 0.0f && l->alpha < 1e30f)) return fv_fail(err, "alpha must be a finite number >= 0");
    if (!(l->output_scale >= 0.0f && l->output_scale < 1e30f)) return fv_fail(err, "output_scale must be a finite number >= 0");
    node->out_shape = node->in_shape[0];
    return FV_OK;
}

static size_t rows_of(const fv_node *node, int batch, int *channels) {
    *channels = node->out_shape.dim[node->out_shape.rank - 1];
    return (size_t)batch * fv_shape_count(node->out_shape) / (size_t)*channels;
}

/* x1, x2, ... (N, ..., C) -> y (N, ..., C); elementwise on every core once large enough (each
 * element is independent: the result does not depend on the thread count). In int8 plans, with
 * an output scale, y is quantised with it (what its readers see). */
static void add_forward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    const float *a = s->in[0], *b = s->in[1];
    float *y = s->out;
    if (node->n_inputs == 2 && node->layer.add.activation == FV_ACT_RELU && !s->logits) {
#pragma omp parallel for simd if (n > 32768)
        for (size_t k = 0; k < n; k++) {
            float v = a[k] + b[k];
            y[k] = v < 0.0f ? 0.0f : v;
        }
        fv_step_quantize(s, node->layer.add.output_scale, y, n);
        return;
    }
#pragma omp parallel for simd if (n > 32768)
    for (size_t k = 0; k < n; k++) y[k] = a[k] + b[k];
    for (int i = 2; i < node->n_inputs; i++)
        for (size_t k = 0; k < n; k++) y[k] += s->in[i][k];
    int channels;
    size_t rows = rows_of(node, s->batch, &channels);
    fv_step_activate(s, node->layer.add.activation, node->layer.add.alpha, y, rows, channels);
    fv_step_quantize(s, node->layer.add.output_scale, y, n);
}

/* each input receives the whole gradient (of the pre-activation); the output's quantisation passes
 * it straight through, as quantisation-aware training's does */
static void add_backward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    int channels;
    size_t rows = rows_of(node, s->batch, &channels);
    const float *dy = fv_step_activation_grad(s, node->layer.add.activation, node->layer.add.alpha, rows, channels);
    for (int i = 0; i < node->n_inputs; i++) memcpy(s->d_in[i], dy, n * sizeof(float));
}

static fv_activation add_activation(const fv_layer *l, float *alpha) {
    *alpha = l->add.alpha;
    return l->add.activation;
}

#define ADD(field) offsetof(fv_layer, add.field)
static const fv_setting add_settings[] = {
    {"activation", FV_SET_ACTIVATION, ADD(activation), 0, "linear", NULL, "applied to the sum (relu: a ResNet block's end)", NULL},
    {"alpha", FV_SET_FLOAT, ADD(alpha), 0, "0.01", NULL, "leaky_relu slope for x < 0", NULL},
    {"output_scale", FV_SET_FLOAT, ADD(output_scale), 0, "0", NULL, "int8 plans: the sum's calibrated scale (`fovea quantize`); 0: stays fp32", NULL},
};

const fv_op fv_op_add = {
    .kind = FV_LAYER_ADD, .word = "add", .type_name = "Add",
    .help = "elementwise sum of inputs of one shape (residual)", .settings = add_settings, .n_settings = FV_COUNT(add_settings),
    .min_inputs = 2, .max_inputs = FV_MAX_INPUTS, .infer = add_infer, .forward = add_forward, .backward = add_backward,
    .activation = add_activation
};

fv_layer fv_add(void) { return fv_layer_defaults(FV_LAYER_ADD); }
