/* global_avgpool.c — (H, W, C) or (L, C) -> (C): the mean of each channel over all positions. */
#include "core/core.h"

static fv_status gap_infer(fv_node *node, fv_error *err) {
    const fv_shape *in = &node->in_shape[0];
    if (in->rank < 2) return fv_fail(err, "expects an (H, W, C) or (L, C) input, got rank %d", in->rank);
    node->out_shape = (fv_shape){1, {in->dim[in->rank - 1], 0, 0}};
    return FV_OK;
}

/* x (N, P, C) with P positions -> y (N, C) */
static void gap_forward(const fv_node *node, const fv_step *s) {
    int c = node->out_shape.dim[0];
    size_t positions = fv_shape_count(node->in_shape[0]) / (size_t)c;
    for (int n = 0; n < s->batch; n++) {
        const float *x = s->in[0] + (size_t)n * positions * c;
        float *y = s->out + (size_t)n * c;
        for (int k = 0; k < c; k++) y[k] = 0.0f;
        for (size_t p = 0; p < positions; p++)
            for (int k = 0; k < c; k++) y[k] += x[p * c + k];
        for (int k = 0; k < c; k++) y[k] /= (float)positions;
    }
}

/* dy (N, C) -> dx (N, P, C) = dy / P everywhere */
static void gap_backward(const fv_node *node, const fv_step *s) {
    int c = node->out_shape.dim[0];
    size_t positions = fv_shape_count(node->in_shape[0]) / (size_t)c;
    for (int n = 0; n < s->batch; n++) {
        const float *dy = s->d_out + (size_t)n * c;
        float *dx = s->d_in[0] + (size_t)n * positions * c;
        for (size_t p = 0; p < positions; p++)
            for (int k = 0; k < c; k++) dx[p * c + k] = dy[k] / (float)positions;
    }
}

const fv_op fv_op_global_avgpool = {
    .kind = FV_LAYER_GLOBAL_AVGPOOL, .word = "global_avgpool", .type_name = "GlobalAveragePooling2D",
    .help = "mean of each channel over all positions", .min_inputs = 1, .max_inputs = 1, .infer = gap_infer,
    .forward = gap_forward, .backward = gap_backward
};

fv_layer fv_global_avgpool(void) { return fv_layer_defaults(FV_LAYER_GLOBAL_AVGPOOL); }
