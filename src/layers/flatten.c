/* flatten.c — (..., C) -> (count) to one axis. Channels-last order (H, W, C) by default, as Keras;
 * channels_first=true gives PyTorch's and ONNX's (C, H, W) order, which an imported network's
 * dense layer after a convolution was trained on. */
#include "core/core.h"

#include <string.h>

static fv_status flatten_infer(fv_node *node, fv_error *err) {
    size_t count = fv_shape_count(node->in_shape[0]); /* the input passed fv_net_add's limit, so it fits an int */
    if (count > FV_MAX_SAMPLE_VALUES) return fv_fail(err, "%zu values do not fit one axis", count);
    node->out_shape = (fv_shape){1, {(int)count, 0, 0}};
    return FV_OK;
}

/* One sample as (positions, C): the values before the channel axis are the positions. */
static void sample_dims(const fv_node *node, size_t *positions, int *channels) {
    fv_shape in = node->in_shape[0];
    *channels = in.dim[in.rank - 1];
    *positions = fv_shape_count(in) / (size_t)*channels;
}

/* x (N, P, C) -> y (N, P*C) keeping memory order, or y (N, C*P) with channels first. */
static void flatten_forward(const fv_node *node, const fv_step *s) {
    size_t positions, count = fv_shape_count(node->out_shape);
    int channels;
    sample_dims(node, &positions, &channels);
    if (!node->layer.flatten.channels_first || positions == 1 || channels == 1) {
        memcpy(s->out, s->in[0], (size_t)s->batch * count * sizeof(float));
        return;
    }
    for (int n = 0; n < s->batch; n++) {
        const float *x = s->in[0] + (size_t)n * count;
        float *y = s->out + (size_t)n * count;
        for (size_t p = 0; p < positions; p++)
            for (int c = 0; c < channels; c++) y[(size_t)c * positions + p] = x[p * (size_t)channels + c];
    }
}

/* dy (N, count) -> dx (N, P, C): the same permutation backwards. */
static void flatten_backward(const fv_node *node, const fv_step *s) {
    size_t positions, count = fv_shape_count(node->out_shape);
    int channels;
    sample_dims(node, &positions, &channels);
    if (!node->layer.flatten.channels_first || positions == 1 || channels == 1) {
        memcpy(s->d_in[0], s->d_out, (size_t)s->batch * count * sizeof(float));
        return;
    }
    for (int n = 0; n < s->batch; n++) {
        const float *dy = s->d_out + (size_t)n * count;
        float *dx = s->d_in[0] + (size_t)n * count;
        for (size_t p = 0; p < positions; p++)
            for (int c = 0; c < channels; c++) dx[p * (size_t)channels + c] = dy[(size_t)c * positions + p];
    }
}

static const fv_setting flatten_settings[] = {
    {"channels_first", FV_SET_BOOL, offsetof(fv_layer, flatten.channels_first), 0, "false", NULL,
     "true: (C, H, W) order, as PyTorch and ONNX (imported networks); false: (H, W, C), as Keras", NULL},
};

const fv_op fv_op_flatten = {
    .kind = FV_LAYER_FLATTEN, .word = "flatten", .type_name = "Flatten", .help = "to one axis",
    .settings = flatten_settings, .n_settings = FV_COUNT(flatten_settings), .min_inputs = 1, .max_inputs = 1, .infer = flatten_infer,
    .forward = flatten_forward, .backward = flatten_backward
};

fv_layer fv_flatten(void) { return fv_layer_defaults(FV_LAYER_FLATTEN); }
