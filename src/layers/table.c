/* table.c — the op table: one row per layer kind, each defined in its own file. Adding a kind is
 * its file, its cases beside it (KIND.cases, run by tests/test_ops.c), its enum value and
 * constructor in fovea.h, and one line here. */
#include "core/core.h"

#include <string.h>

extern const fv_op fv_op_input, fv_op_conv1d, fv_op_conv2d, fv_op_conv3d, fv_op_dense, fv_op_maxpool2d,
    fv_op_avgpool2d, fv_op_sumpool2d, fv_op_maxpool3d, fv_op_avgpool3d, fv_op_global_avgpool, fv_op_flatten,
    fv_op_dropout, fv_op_batchnorm, fv_op_add, fv_op_concat, fv_op_activation, fv_op_reshape, fv_op_affine, fv_op_prelu,
    fv_op_binary, fv_op_unary, fv_op_reduce, fv_op_pad, fv_op_transpose, fv_op_slice, fv_op_tensor, fv_op_resize, fv_op_conv2d_transpose, fv_op_matmul;

static const fv_op *const rows[FV_LAYER_KIND_COUNT] = {
    [FV_LAYER_INPUT] = &fv_op_input,
    [FV_LAYER_CONV2D] = &fv_op_conv2d,
    [FV_LAYER_CONV1D] = &fv_op_conv1d,
    [FV_LAYER_DENSE] = &fv_op_dense,
    [FV_LAYER_MAXPOOL2D] = &fv_op_maxpool2d,
    [FV_LAYER_AVGPOOL2D] = &fv_op_avgpool2d,
    [FV_LAYER_SUMPOOL2D] = &fv_op_sumpool2d,
    [FV_LAYER_GLOBAL_AVGPOOL] = &fv_op_global_avgpool,
    [FV_LAYER_FLATTEN] = &fv_op_flatten,
    [FV_LAYER_DROPOUT] = &fv_op_dropout,
    [FV_LAYER_BATCHNORM] = &fv_op_batchnorm,
    [FV_LAYER_ADD] = &fv_op_add,
    [FV_LAYER_ACTIVATION] = &fv_op_activation,
    [FV_LAYER_CONV3D] = &fv_op_conv3d,
    [FV_LAYER_MAXPOOL3D] = &fv_op_maxpool3d,
    [FV_LAYER_AVGPOOL3D] = &fv_op_avgpool3d,
    [FV_LAYER_CONCAT] = &fv_op_concat,
    [FV_LAYER_RESHAPE] = &fv_op_reshape,
    [FV_LAYER_AFFINE] = &fv_op_affine,
    [FV_LAYER_PRELU] = &fv_op_prelu,
    [FV_LAYER_BINARY] = &fv_op_binary,
    [FV_LAYER_UNARY] = &fv_op_unary,
    [FV_LAYER_REDUCE] = &fv_op_reduce,
    [FV_LAYER_PAD] = &fv_op_pad,
    [FV_LAYER_TRANSPOSE] = &fv_op_transpose,
    [FV_LAYER_SLICE] = &fv_op_slice,
    [FV_LAYER_TENSOR] = &fv_op_tensor,
    [FV_LAYER_RESIZE] = &fv_op_resize,
    [FV_LAYER_CONV2D_TRANSPOSE] = &fv_op_conv2d_transpose,
    [FV_LAYER_MATMUL] = &fv_op_matmul,
};

const fv_op *fv_op_for(fv_layer_kind kind) { return (unsigned)kind < FV_LAYER_KIND_COUNT ? rows[kind] : NULL; }

const char *fv_layer_kind_name(fv_layer_kind kind) {
    const fv_op *op = fv_op_for(kind);
    return op ? op->word : "?";
}

/* A model-text word: a kind's own, or an alias (*alias set, else NULL). */
const fv_op *fv_op_for_word(const char *word, const fv_alias **alias) {
    *alias = NULL;
    for (int k = 0; k < FV_LAYER_KIND_COUNT; k++) {
        if (!strcmp(rows[k]->word, word)) return rows[k];
        for (int a = 0; a < rows[k]->n_aliases; a++)
            if (!strcmp(rows[k]->aliases[a].word, word)) return *alias = &rows[k]->aliases[a], rows[k];
    }
    return NULL;
}
