/* activation.c — a standalone activation layer: relu, leaky_relu, sigmoid, tanh, softmax (over
 * the last axis) or linear. The functions themselves live in common.c, shared with the fused
 * activations of conv and dense. */
#include "core/core.h"

#include <string.h>

static fv_status activation_infer(fv_node *node, fv_error *err) {
    if ((unsigned)node->layer.activation >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
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
    fv_step_activate(s, node->layer.activation, node->layer.alpha, s->out, rows, channels);
}

static void activation_backward(const fv_node *node, const fv_step *s) {
    int channels = node->out_shape.dim[node->out_shape.rank - 1];
    size_t rows = rows_of(node, s->batch);
    if (s->d_out_is_pre_activation) memcpy(s->d_in[0], s->d_out, rows * (size_t)channels * sizeof(float));
    else fv_activation_backward(node->layer.activation, node->layer.alpha, s->out, s->d_out, s->d_in[0], rows, channels);
}

const fv_op fv_op_activation = {"Activation", 1, 1, activation_infer, NULL, NULL, NULL, activation_forward, activation_backward};
