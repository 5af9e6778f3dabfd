/* add.c — residual add: y = x1 + x2 + ... ; every input must have the same shape. */
#include "core/core.h"

#include <string.h>

static fv_status add_infer(fv_node *node, fv_error *err) {
    for (int i = 1; i < node->n_inputs; i++) {
        const fv_shape *a = &node->in_shape[0], *b = &node->in_shape[i];
        int same = a->rank == b->rank;
        for (int k = 0; same && k < a->rank; k++) same = a->dim[k] == b->dim[k];
        if (!same) {
            char sa[64], sb[64];
            fv_shape_format(*a, sa, sizeof sa), fv_shape_format(*b, sb, sizeof sb);
            return fv_fail(err, "inputs must have the same shape, got %s and %s", sa, sb);
        }
    }
    node->out_shape = node->in_shape[0];
    return FV_OK;
}

static void add_forward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    memcpy(s->out, s->in[0], n * sizeof(float));
    for (int i = 1; i < node->n_inputs; i++)
        for (size_t k = 0; k < n; k++) s->out[k] += s->in[i][k];
}

/* each input receives the whole gradient */
static void add_backward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    for (int i = 0; i < node->n_inputs; i++) memcpy(s->d_in[i], s->d_out, n * sizeof(float));
}

const fv_op fv_op_add = {FV_LAYER_ADD, "add", "Add", "elementwise sum of inputs of one shape (residual)", 0, NULL, 0,
                         NULL, 0, 2, FV_MAX_INPUTS, add_infer, NULL, add_forward, add_backward, NULL, NULL, 0};

fv_layer fv_add(void) { return fv_layer_defaults(FV_LAYER_ADD); }
