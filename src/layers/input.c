/* input.c — the input placeholder: its output is the batch the caller passes to forward. */
#include "core/core.h"

static fv_status input_infer(fv_node *node, fv_error *err) {
    const fv_shape *s = &node->layer.input_shape;
    if (s->rank < 1 || s->rank > FV_MAX_RANK) return fv_fail(err, "input shape must have rank 1 to 3, got %d", s->rank);
    for (int i = 0; i < s->rank; i++)
        if (s->dim[i] <= 0) return fv_fail(err, "input dimension %d must be positive, got %d", i, s->dim[i]);
    node->out_shape = *s;
    return FV_OK;
}

static void input_pass(const fv_node *node, const fv_step *step) { (void)node, (void)step; }

const fv_op fv_op_input = {"InputLayer", 0, 0, input_infer, NULL, NULL, NULL, input_pass, input_pass};
