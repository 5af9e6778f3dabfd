/* activation.c — a standalone activation layer: relu, leaky_relu, sigmoid, tanh, softmax and
 * log_softmax (over the last axis), relu6, hard_sigmoid or linear. The functions themselves live in common.c, shared with the fused
 * activations of conv and dense. */
#include "core/core.h"

#include <string.h>

static fv_status activation_infer(fv_node *node, fv_error *err) {
    if ((unsigned)node->layer.activation.function >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
    float alpha = node->layer.activation.alpha; /* the leaky ReLU's derivative is read from the output's sign */
    if (!(alpha >= 0.0f && alpha < 1e30f)) return fv_fail(err, "alpha must be a finite number >= 0");
    node->out_shape = node->in_shape[0];
    return FV_OK;
}

static size_t rows_of(const fv_node *node, int batch) {
    const fv_shape *s = &node->out_shape;
    return (size_t)batch * fv_shape_count(*s) / (size_t)s->dim[s->rank - 1];
}

static void activation_forward(const fv_node *node, const fv_step *s) {
    int channels = node->out_shape.dim[node->out_shape.rank - 1];
    size_t rows = rows_of(node, s->batch);
    memcpy(s->out, s->in[0], rows * (size_t)channels * sizeof(float));
    fv_step_activate(s, node->layer.activation.function, node->layer.activation.alpha, s->out, rows, channels);
}

static void activation_backward(const fv_node *node, const fv_step *s) {
    int channels = node->out_shape.dim[node->out_shape.rank - 1];
    size_t rows = rows_of(node, s->batch);
    if (s->d_out_is_pre_activation) memcpy(s->d_in[0], s->d_out, rows * (size_t)channels * sizeof(float));
    else fv_step_activation_backward(s, node->layer.activation.function, node->layer.activation.alpha, s->out, s->d_out, s->d_in[0], rows, channels);
}

static fv_activation activation_of(const fv_layer *l, float *alpha) {
    *alpha = l->activation.alpha;
    return l->activation.function;
}

/* Keras names ReLU and LeakyReLU layers by their own class. */
static const char *activation_label(const fv_layer *l) {
    return l->activation.function == FV_ACT_RELU ? "ReLU" : l->activation.function == FV_ACT_LEAKY_RELU ? "LeakyReLU" : "Activation";
}

#define ACT(field) offsetof(fv_layer, activation.field)
static const fv_setting activation_settings[] = {
    {"function", FV_SET_ACTIVATION, ACT(function), 0, NULL, NULL, "linear, relu, leaky_relu, sigmoid, tanh, softmax, relu6, hard_sigmoid or log_softmax", NULL},
    {"alpha", FV_SET_FLOAT, ACT(alpha), 0, "0.01", NULL, "leaky_relu slope for x < 0; hard_sigmoid slope", NULL},
};
static const fv_alias activation_aliases[] = {
    {"relu", "function=relu"}, {"leaky_relu", "function=leaky_relu"}, {"sigmoid", "function=sigmoid"},
    {"tanh", "function=tanh"}, {"softmax", "function=softmax"},      {"linear", "function=linear"},
    {"relu6", "function=relu6"},         {"hard_sigmoid", "function=hard_sigmoid alpha=0.2"},
    {"log_softmax", "function=log_softmax"},
};

const fv_op fv_op_activation = {
    .kind = FV_LAYER_ACTIVATION, .word = "activation", .type_name = "Activation", .help = "an activation on its own",
    .settings = activation_settings, .n_settings = FV_COUNT(activation_settings), .aliases = activation_aliases, .n_aliases = FV_COUNT(activation_aliases), .min_inputs = 1,
    .max_inputs = 1, .infer = activation_infer, .forward = activation_forward, .backward = activation_backward,
    .activation = activation_of, .label = activation_label
};

fv_layer fv_activation_layer(fv_activation act) {
    fv_layer l = fv_layer_defaults(FV_LAYER_ACTIVATION);
    l.activation.function = act;
    return l;
}
