/* flatten.c — (H, W, C) -> (H*W*C) in channels-last order (as Keras; PyTorch flattens C, H, W). */
#include "core/core.h"

#include <string.h>

static fv_status flatten_infer(fv_node *node, fv_error *err) {
    size_t count = fv_shape_count(node->in_shape[0]); /* the input passed fv_net_add's limit, so it fits an int */
    if (count > FV_MAX_SAMPLE_VALUES) return fv_fail(err, "%zu values do not fit one axis", count);
    node->out_shape = (fv_shape){1, {(int)count, 0, 0}};
    return FV_OK;
}

/* The memory order does not change: flatten is a copy. */
static void flatten_forward(const fv_node *node, const fv_step *s) {
    memcpy(s->out, s->in[0], (size_t)s->batch * fv_shape_count(node->out_shape) * sizeof(float));
}

static void flatten_backward(const fv_node *node, const fv_step *s) {
    memcpy(s->d_in[0], s->d_out, (size_t)s->batch * fv_shape_count(node->out_shape) * sizeof(float));
}

const fv_op fv_op_flatten = {FV_LAYER_FLATTEN, "flatten", "Flatten", "to one axis, channels-last order", 0, NULL, 0, NULL,
                             0, 1, 1, flatten_infer, NULL, flatten_forward, flatten_backward, NULL, NULL, 0};

fv_layer fv_flatten(void) { return fv_layer_defaults(FV_LAYER_FLATTEN); }
