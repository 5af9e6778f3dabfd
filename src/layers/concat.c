/* concat.c — joins its inputs along one axis after the batch, the channels by default (Keras
 * Concatenate(axis=-1), torch.cat on dim 1 in NCHW; a ViT's class token joined to its patches
 * along the tokens): every input has the same shape but along that axis. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static int axis_of(const fv_node *node) {
    int a = node->layer.concat.axis, r = node->in_shape[0].rank;
    return a < 0 ? a + r : a;
}

static fv_status concat_infer(fv_node *node, fv_error *err) {
    const fv_shape *a = &node->in_shape[0];
    int axis = axis_of(node), total = 0;
    if (axis < 0 || axis >= a->rank) return fv_fail(err, "axis %d of a rank-%d input", node->layer.concat.axis, a->rank);
    for (int i = 0; i < node->n_inputs; i++) {
        const fv_shape *b = &node->in_shape[i];
        int same = a->rank == b->rank;
        for (int k = 0; same && k < a->rank; k++) same = k == axis || a->dim[k] == b->dim[k];
        if (!same) {
            char sa[80], sb[80];
            fv_shape_format(*a, sa, sizeof sa), fv_shape_format(*b, sb, sizeof sb);
            return fv_fail(err, "inputs must have the same shape but along axis %d, got %s and %s", axis, sa, sb);
        }
        total += b->dim[axis];
    }
    node->out_shape = *a;
    node->out_shape.dim[axis] = total;
    return FV_OK;
}

/* The samples' rows before the axis (outer), and the values of one step along it (inner). */
static void blocks(const fv_node *node, int batch, size_t *outer, size_t *inner) {
    const fv_shape *s = &node->out_shape;
    int axis = axis_of(node);
    *outer = (size_t)batch, *inner = 1;
    for (int k = 0; k < axis; k++) *outer *= (size_t)s->dim[k];
    for (int k = axis + 1; k < s->rank; k++) *inner *= (size_t)s->dim[k];
}

/* x_i (N, ..., A_i, ...) -> y (N, ..., sum A_i, ...): for every outer row, the inputs' blocks in turn */
static void concat_forward(const fv_node *node, const fv_step *s) {
    size_t outer, inner;
    blocks(node, s->batch, &outer, &inner);
    size_t total = (size_t)node->out_shape.dim[axis_of(node)] * inner;
    for (int i = 0, at = 0; i < node->n_inputs; i++) {
        size_t block = (size_t)node->in_shape[i].dim[axis_of(node)] * inner;
        for (size_t p = 0; p < outer; p++) memcpy(s->out + p * total + at, s->in[i] + p * block, block * sizeof(float));
        at += (int)block;
    }
}

/* dy -> dx_i: each input takes back its own blocks */
static void concat_backward(const fv_node *node, const fv_step *s) {
    size_t outer, inner;
    blocks(node, s->batch, &outer, &inner);
    size_t total = (size_t)node->out_shape.dim[axis_of(node)] * inner;
    for (int i = 0, at = 0; i < node->n_inputs; i++) {
        size_t block = (size_t)node->in_shape[i].dim[axis_of(node)] * inner;
        if (s->d_in[i])
            for (size_t p = 0; p < outer; p++) memcpy(s->d_in[i] + p * block, s->d_out + p * total + at, block * sizeof(float));
        at += (int)block;
    }
}

static const fv_setting concat_settings[] = {
    {"axis", FV_SET_INT, offsetof(fv_layer, concat.axis), 0, "-1", NULL, "the axis joined along, 0 the first after the batch; -1 the last (channels)", NULL},
};

const fv_op fv_op_concat = {
    .kind = FV_LAYER_CONCAT, .word = "concat", .type_name = "Concatenate",
    .help = "joins its inputs along an axis, the channels by default", .settings = concat_settings, .n_settings = FV_COUNT(concat_settings),
    .min_inputs = 2, .max_inputs = FV_MAX_INPUTS, .infer = concat_infer, .forward = concat_forward,
    .backward = concat_backward
};

fv_layer fv_concat(void) { return fv_layer_defaults(FV_LAYER_CONCAT); }
