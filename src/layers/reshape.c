/* reshape.c — the same values under another per-sample shape (the memory order is unchanged):
 * what an imported network's Reshape, Squeeze and Unsqueeze become where fovea's channels-last
 * order and ONNX's order agree (a vector, or maps of 1 x 1). */
#include "core/core.h"

#include <string.h>

static fv_status reshape_infer(fv_node *node, fv_error *err) {
    const fv_shape *s = &node->layer.reshape.shape;
    if (s->rank < 1 || s->rank > FV_MAX_RANK) return fv_fail(err, "shape must have rank 1 to %d, got %d", FV_MAX_RANK, s->rank);
    for (int i = 0; i < s->rank; i++)
        if (s->dim[i] <= 0) return fv_fail(err, "dimension %d must be positive, got %d", i, s->dim[i]);
    if (fv_shape_count(*s) != fv_shape_count(node->in_shape[0]))
        return fv_fail(err, "shape holds %zu values per sample, its input %zu", fv_shape_count(*s), fv_shape_count(node->in_shape[0]));
    node->out_shape = *s;
    return FV_OK;
}

/* x (N, any) -> y (N, shape): a copy. */
static void reshape_forward(const fv_node *node, const fv_step *s) {
    memcpy(s->out, s->in[0], (size_t)s->batch * fv_shape_count(node->out_shape) * sizeof(float));
}

static void reshape_backward(const fv_node *node, const fv_step *s) {
    memcpy(s->d_in[0], s->d_out, (size_t)s->batch * fv_shape_count(node->out_shape) * sizeof(float));
}

static const fv_setting reshape_settings[] = {
    {"shape", FV_SET_SHAPE, offsetof(fv_layer, reshape.shape), 0, NULL, NULL, "one sample's new shape, as many values as the input", NULL},
};

const fv_op fv_op_reshape = {
    .kind = FV_LAYER_RESHAPE, .word = "reshape", .type_name = "Reshape",
    .help = "the same values in another shape (memory order kept)", .settings = reshape_settings, .n_settings = FV_COUNT(reshape_settings),
    .min_inputs = 1, .max_inputs = 1, .infer = reshape_infer, .forward = reshape_forward, .backward = reshape_backward
};

fv_layer fv_reshape(fv_shape shape) {
    fv_layer l = fv_layer_defaults(FV_LAYER_RESHAPE);
    l.reshape.shape = shape;
    return l;
}
