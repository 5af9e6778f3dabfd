/* input.c — the input placeholder: its output is the batch the caller passes to forward. */
#include "core/core.h"

static fv_status input_infer(fv_node *node, fv_error *err) {
    const fv_shape *s = &node->layer.input.shape;
    if (s->rank < 1 || s->rank > FV_MAX_RANK) return fv_fail(err, "input shape must have rank 1 to %d, got %d", FV_MAX_RANK, s->rank);
    for (int i = 0; i < s->rank; i++)
        if (s->dim[i] <= 0) return fv_fail(err, "input dimension %d must be positive, got %d", i, s->dim[i]);
    node->out_shape = *s;
    return FV_OK;
}

static void input_pass(const fv_node *node, const fv_step *step) { (void)node, (void)step; }

static const fv_setting input_settings[] = {
    {"shape", FV_SET_SHAPE, offsetof(fv_layer, input.shape), 0, NULL, NULL, "one sample: `C`, `L,C`, `H,W,C` or `D,H,W,C`", NULL},
};

const fv_op fv_op_input = {
    .kind = FV_LAYER_INPUT, .word = "input", .type_name = "InputLayer", .help = "the network's input (first line)",
    .settings = input_settings, .n_settings = FV_COUNT(input_settings), .infer = input_infer, .forward = input_pass, .backward = input_pass
};

fv_layer fv_input_layer(fv_shape shape) {
    fv_layer l = fv_layer_defaults(FV_LAYER_INPUT);
    l.input.shape = shape;
    return l;
}
