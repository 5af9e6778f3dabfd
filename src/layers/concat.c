/* concat.c — joins its inputs along the channel axis (Keras Concatenate(axis=-1), torch.cat on
 * dim 1 in NCHW): every input has the same shape but for its channels. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static fv_status concat_infer(fv_node *node, fv_error *err) {
    const fv_shape *a = &node->in_shape[0];
    int channels = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        const fv_shape *b = &node->in_shape[i];
        int same = a->rank == b->rank;
        for (int k = 0; same && k < a->rank - 1; k++) same = a->dim[k] == b->dim[k];
        if (!same) {
            char sa[80], sb[80];
            fv_shape_format(*a, sa, sizeof sa), fv_shape_format(*b, sb, sizeof sb);
            return fv_fail(err, "inputs must have the same shape but for the channels, got %s and %s", sa, sb);
        }
        channels += b->dim[b->rank - 1];
    }
    node->out_shape = *a;
    node->out_shape.dim[a->rank - 1] = channels;
    return FV_OK;
}

/* Every position of every sample: the inputs' channel rows one after another.
 * x_i (N, ..., C_i) -> y (N, ..., sum C_i) */
static size_t positions_of(const fv_node *node, int batch) {
    const fv_shape *s = &node->out_shape;
    return (size_t)batch * fv_shape_count(*s) / (size_t)s->dim[s->rank - 1];
}

static void concat_forward(const fv_node *node, const fv_step *s) {
    size_t positions = positions_of(node, s->batch);
    int total = node->out_shape.dim[node->out_shape.rank - 1];
    for (int i = 0, at = 0; i < node->n_inputs; i++) {
        int c = node->in_shape[i].dim[node->in_shape[i].rank - 1];
        for (size_t p = 0; p < positions; p++) memcpy(s->out + p * total + at, s->in[i] + p * c, (size_t)c * sizeof(float));
        at += c;
    }
}

/* dy (N, ..., sum C_i) -> dx_i: each input takes back its own channels */
static void concat_backward(const fv_node *node, const fv_step *s) {
    size_t positions = positions_of(node, s->batch);
    int total = node->out_shape.dim[node->out_shape.rank - 1];
    for (int i = 0, at = 0; i < node->n_inputs; i++) {
        int c = node->in_shape[i].dim[node->in_shape[i].rank - 1];
        if (s->d_in[i])
            for (size_t p = 0; p < positions; p++) memcpy(s->d_in[i] + p * c, s->d_out + p * total + at, (size_t)c * sizeof(float));
        at += c;
    }
}

const fv_op fv_op_concat = {FV_LAYER_CONCAT, "concat", "Concatenate", "joins its inputs along the channels", 0, NULL, 0,
                            NULL, 0, 2, FV_MAX_INPUTS, concat_infer, NULL, concat_forward, concat_backward, NULL, NULL, 0};

fv_layer fv_concat(void) { return fv_layer_defaults(FV_LAYER_CONCAT); }
