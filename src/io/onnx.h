/* onnx.h — what the ONNX importer and exporter share with the conformance runner: reading a
 * TensorProto, and the layout rule between ONNX tensors and fovea's.
 *
 * The layout rule: an ONNX tensor (N, C, S1, ..., Sk) lives in fovea as (N, S1, ..., Sk, C) —
 * the channel axis moved last; ranks 1 and 2 are the same in both. */
#ifndef FOVEA_ONNX_H
#define FOVEA_ONNX_H

#include "core/core.h"
#include "fv_onnx.pb-c.h"

#define FV_ONNX_MAX_RANK 8

/* A tensor's values as floats (float32, or integer types converted), count = product of dims.
 * NULL with err filled for other types, external data or a size that disagrees; free() it. */
float *fv_onnx_tensor_floats(const FvOnnx__TensorProto *t, size_t *count, fv_error *err);

/* A graph input bound to values before import (the conformance tests pass weights as inputs). */
typedef struct fv_onnx_binding {
    const char *name;
    const FvOnnx__TensorProto *tensor;
} fv_onnx_binding;

/* Whether the importer knows an operator type ("Conv"): it may still refuse some of its
 * attributes. */
int fv_onnx_supports(const char *op_type);

/* ONNX's words for fovea's enums, one table each, read by the importer and the exporter
 * (onnx_tensor_ops.c); fv_onnx_word gives a word's index in a table of n, or -1. */
extern const char *const fv_onnx_binary_ops[FV_BINARY_COUNT];       /* "Add", ... */
extern const char *const fv_onnx_unary_ops[FV_UNARY_COUNT];         /* "Exp", ... */
extern const char *const fv_onnx_reduce_ops[FV_REDUCE_COUNT];       /* "ReduceMean", ... */
extern const char *const fv_onnx_pad_modes[FV_PAD_MODE_COUNT];      /* Pad's mode */
extern const char *const fv_onnx_resize_coordinates[FV_RESIZE_COORD_COUNT]; /* coordinate_transformation_mode */
extern const char *const fv_onnx_resize_nearest[FV_RESIZE_NEAREST_COUNT];   /* nearest_mode */
int fv_onnx_word(const char *const *words, int n, const char *word);

/* The importer on a parsed model; source names it in errors; input_dims (ONNX order, input_rank
 * of them; NULL: none) give the input's sizes the file leaves open (see fv_net_load_onnx_shaped).
 * unbatched: the input has no batch axis, the whole tensor (rank 1 to FV_MAX_RANK) is one sample
 * and so is the output, in ONNX's own order (fovea's batch counts such tensors): how ONNX's
 * conformance tests, whose tensors mix the first axis with the others, are read when the batch
 * reading is refused. */
fv_net *fv_onnx_import_model(const FvOnnx__ModelProto *model, const char *source, const fv_onnx_binding *bound,
                             int n_bound, const int64_t *input_dims, int input_rank, int unbatched, fv_onnx_info *info, fv_error *err);

#endif
