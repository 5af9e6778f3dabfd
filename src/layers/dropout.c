/* dropout.c — inverted dropout: in training each value is kept with probability 1 - rate and
 * scaled by 1 / (1 - rate); in inference it passes unchanged. Each sample's mask comes from a
 * generator seeded by the node's seed and the sample's number, so a run is reproducible and a
 * batch split across ranks is masked as one process would mask it. */
#include "core/core.h"

#include <string.h>

static fv_status dropout_infer(fv_node *node, fv_error *err) {
    float rate = node->layer.dropout.rate;
    if (!(rate >= 0.0f && rate < 1.0f)) return fv_fail(err, "rate must be in [0, 1), got %g", (double)rate);
    node->out_shape = node->in_shape[0];
    node->scratch_per_sample = fv_shape_count(node->out_shape) * sizeof(float); /* mask x scale */
    return FV_OK;
}

static void dropout_forward(const fv_node *node, const fv_step *s) {
    size_t per = fv_shape_count(node->out_shape), n = (size_t)s->batch * per;
    float *scale = s->scratch, keep = 1.0f - node->layer.dropout.rate;
    for (int b = 0; b < s->batch; b++) {
        fv_rng rng;
        fv_rng_seed(&rng, fv_mix64(s->noise_seed ^ (s->first_sample + (uint64_t)b)));
        for (size_t i = 0; i < per; i++)
            scale[b * per + i] = !s->training ? 1.0f : fv_rng_uniform(&rng) < keep ? 1.0f / keep : 0.0f;
    }
    for (size_t i = 0; i < n; i++) s->out[i] = s->in[0][i] * scale[i];
}

static void dropout_backward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    const float *scale = s->scratch;
    for (size_t i = 0; i < n; i++) s->d_in[0][i] = s->d_out[i] * scale[i];
}

static const fv_setting dropout_settings[] = {
    {"rate", FV_SET_FLOAT, offsetof(fv_layer, dropout.rate), 0, NULL, NULL, "fraction of units dropped in training, in [0, 1)", NULL},
};

const fv_op fv_op_dropout = {
    .kind = FV_LAYER_DROPOUT, .word = "dropout", .type_name = "Dropout", .help = "inverted dropout (training only)",
    .settings = dropout_settings, .n_settings = FV_COUNT(dropout_settings), .min_inputs = 1, .max_inputs = 1, .infer = dropout_infer,
    .forward = dropout_forward, .backward = dropout_backward
};

fv_layer fv_dropout(float rate) {
    fv_layer l = fv_layer_defaults(FV_LAYER_DROPOUT);
    l.dropout.rate = rate;
    return l;
}
