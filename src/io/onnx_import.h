/* onnx_import.h — what the ONNX importer's two files share: the value table, the weights written
 * at the end, the importer's state, and its helpers (onnx_import.c); the operators themselves are
 * in onnx_ops.c. Internal: not part of the public API. */
#ifndef FOVEA_ONNX_IMPORT_H
#define FOVEA_ONNX_IMPORT_H

#include "io/onnx.h"

#define BATCH_MARK (-1073741824LL) /* Shape's value for the batch axis, whose size is not fixed (-2^30: exact as a float) */
/* Shape's mark for the batch size (not fixed), or the mark times what a reshape merges with the
 * batch (a ViT's N * heads): BATCH_MARK * k, exact in a float for any k below 2^24 (onnx_fold.c). */
int fv_onnx_batch_multiple(float f);

typedef struct value {
    const char *name;
    int node;                       /* the fovea node computing it, or -1: a constant */
    int rank;
    int64_t dim[FV_ONNX_MAX_RANK];  /* ONNX order; dim[0] of an activation is the batch (-1: any) */
    float *f;                       /* a constant's values (floats; integer constants too) */
    int borrowed;                   /* f points into the model's own float32 bytes (not freed) */
    size_t count;
    int is_int;                     /* an integer constant (shapes, axes, indices) */
    int plain;                      /* the node's memory holds ONNX's own row-major order of dim
                                       (after a Transpose to channels-last), not the usual
                                       channels-last permutation of it */
    /* Where the batch is (attention moves it): ONNX axis batch_axis is (batch_outer, batch, batch_inner)
     * merged row-major, 0 and (1, 1) but after a Transpose that moves the batch axis (a ViT's
     * (tokens, N, E)) or a Reshape that merges it (its (N * heads, tokens, E / heads)); -1 when no
     * axis holds it (an unbatched import). fovea's memory holds the batch first, then every other
     * factor in ONNX's row-major order (such a value is plain); dim[batch_axis] is -1 or, with a
     * batch fixed in the file, the whole size. */
    int batch_axis;
    int64_t batch_outer, batch_inner;
    int consumers;                  /* nodes reading it */
    int folded;                     /* a zero Pad left to the Conv or AveragePool reading it: */
    int64_t folded_pad[3][2];       /* (before, after) per spatial axis, already in dim */
} value;

/* Weights written once the network is complete (its parameter block exists only then): a copy
 * of data (owned), or a layout change read straight from the constant's values, so that a large
 * model's weights are not held twice more while it is imported (VGG16: 553 MB each). */
typedef enum { PENDING_COPY, PENDING_CONV, PENDING_GEMM } pending_kind;
typedef struct pending_param {
    int node;
    const char *param;
    float *data;        /* PENDING_COPY: owned */
    size_t count;
    pending_kind kind;
    const float *src;   /* PENDING_CONV: (M, C/g, taps) -> (taps, C/g, M); PENDING_GEMM: B (K, M) or, */
    size_t m, cg, taps; /* transposed, (M, K) -> (K, M), times alpha */
    int trans;
    float alpha;
} pending_param;

typedef struct importer {
    const char *source;
    const FvOnnx__GraphProto *graph;
    int opset;
    int unbatched;                  /* the input is one sample, no axis the batch (see fv_onnx_import_model) */
    fv_net *net;
    value **values;                 /* each allocated on its own: pointers to them stay valid */
    int n_values, cap_values;
    pending_param *pending;
    int n_pending, cap_pending;
    unsigned char *skip;            /* per ONNX node: fused into the node before it */
    const FvOnnx__NodeProto *at;      /* the node being translated, for errors */
    fv_error *err;
    /* An attribute of the wrong type, found by an accessor (which returns the default): it fails
     * the node once translated, whatever else the node then reports. */
    int bad_attribute;
    fv_error attribute_error;
} importer;

/* ---- Helpers (onnx_import.c). ---- */
/* "SOURCE: node 'NAME' (OP): why", the node being translated named. */
fv_status fv_onnx_fail(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t fv_onnx_dims_count(const int64_t *dims, size_t rank);
value *fv_onnx_find_value(importer *im, const char *name);
value *fv_onnx_new_value(importer *im, const char *name);
value *fv_onnx_add_constant(importer *im, const char *name, const FvOnnx__TensorProto *t);
value *fv_onnx_fold_constant(importer *im, const char *name, const float *f, size_t count, int rank);
value *fv_onnx_settle_constant(importer *im, value *v, int from_file);
int64_t fv_onnx_int(float f);
value *fv_onnx_input(importer *im, size_t i);
int fv_onnx_has_input(importer *im, size_t i);
value *fv_onnx_activation_input(importer *im, size_t i);
value *fv_onnx_constant_input(importer *im, size_t i, const char *what);
const FvOnnx__AttributeProto *fv_onnx_attribute(importer *im, const char *name);
/* The attribute when present with this type (FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__*); present
 * with another type, it is recorded as the node's error (bad_attribute) and NULL returned. */
const FvOnnx__AttributeProto *fv_onnx_typed_attribute(importer *im, const char *name, int type);
int64_t fv_onnx_attr_int(importer *im, const char *name, int64_t fallback);
float fv_onnx_attr_float(importer *im, const char *name, float fallback);
int fv_onnx_attr_ints(importer *im, const char *name, int64_t *out, int max);
const char *fv_onnx_attr_string(importer *im, const char *name, const char *fallback, char *buf, size_t size);
fv_status fv_onnx_check_attributes(importer *im, const char *const *known);
fv_status fv_onnx_fovea_shape(importer *im, const value *v, fv_shape *s);
int fv_onnx_layout_trivial(const value *v);
/* The batch somewhere else than alone on axis 0 (see value.batch_axis). */
int fv_onnx_batch_moved(const value *v);
/* A plain value's memory as dims, the batch first (its size, or -1), then the other factors in
 * ONNX's order (the batch's axis as outer, inner where those are above 1): the rank. memory_axis[a]
 * (when not NULL) is where ONNX axis a is, -1 for the batch's own axis. */
int fv_onnx_memory_dims(const value *v, int64_t *dims, int *memory_axis);
/* out takes x's place of the batch (an operator that keeps every axis). */
void fv_onnx_keep_batch(value *out, const value *x);
int fv_onnx_add_node(importer *im, const fv_layer *layer, value *const *ins, int n_ins, const char *suffix);
/* The same for one input given by its fovea node index (a node just added, the network's input). */
int fv_onnx_add_node_after(importer *im, const fv_layer *layer, int from, const char *suffix);
/* An elementwise layer on x (an activation, a unary function, softmax, dropout): the current
 * node's output, with x's dims, layout and place of the batch, or NULL with an error. */
value *fv_onnx_elementwise(importer *im, value *x, const fv_layer *layer);
int fv_onnx_shaped_node(importer *im, value *v);
/* v moved (a transpose node) into ONNX's own order, or into fovea's channels-last order, unless it
 * is there already: 1, or 0 with an error. */
int fv_onnx_to_plain(importer *im, value *v);
int fv_onnx_to_channels_last(importer *im, value *v);
value *fv_onnx_set_output(importer *im, size_t i, int node, const value *like, const int64_t *dims, int rank);
value *fv_onnx_alias(importer *im, size_t i, const value *of);
fv_status fv_onnx_add_pending(importer *im, int node, const char *param, float *data, size_t count);
fv_status fv_onnx_add_pending_transform(importer *im, int node, const char *param, pending_param p);
float *fv_onnx_channel_vector(importer *im, const value *c, int n, float scale, const char *what);
int fv_onnx_activation_of(importer *im, const FvOnnx__NodeProto *n, fv_activation *act, float *alpha);
/* Clip's bounds (attributes before opset 11, constant inputs after; absent: -inf, inf). */
fv_status fv_onnx_clip_bounds(importer *im, const FvOnnx__NodeProto *n, float *lo, float *hi);
int fv_onnx_sole_reader(importer *im, const char *name);
fv_status fv_onnx_fuse_activation(importer *im, fv_activation *act, float *alpha, int *fused);
fv_status fv_onnx_finish_fused(importer *im, int fused, value *out);

/* ---- The operators (onnx_ops.c). ---- */
/* The current node (im->at) into fovea nodes or constants. */
fv_status fv_onnx_translate(importer *im);
/* Shape changes (onnx_shape_ops.c). */
fv_status fv_onnx_op_shape(importer *im);
fv_status fv_onnx_op_transpose(importer *im);
fv_status fv_onnx_op_flatten(importer *im);
fv_status fv_onnx_op_reshape(importer *im);
fv_status fv_onnx_op_squeeze(importer *im, int unsqueeze);
/* Elementwise operators of computed tensors, reductions, padding, slices, resizing, matrix and
 * transposed-convolution products (onnx_tensor_ops.c). op: the fv_binary_op / fv_unary_op /
 * fv_reduce_op. */
fv_status fv_onnx_op_binary(importer *im, int op);
/* Both inputs of the current node computed (not constants). */
int fv_onnx_computed_pair(importer *im);
fv_status fv_onnx_op_pow(importer *im);
fv_status fv_onnx_op_matmul(importer *im);
fv_status fv_onnx_op_unary(importer *im, int op);
fv_status fv_onnx_op_reduce(importer *im, int op);
fv_status fv_onnx_op_pad(importer *im);
/* A zero Pad folded into the layer reading x (see value.folded): x without it, its pads added to
 * pads (ONNX order: spatial befores, then afters). */
void fv_onnx_unfold_pad(const value *x, value *base, int64_t *pads, int spatial);
/* The current node computed at import when every input is a constant (onnx_fold.c): *folded
 * says whether it was; an error when folding was tried and failed. */
fv_status fv_onnx_fold(importer *im, int *folded);
/* Slice's box (see onnx_fold.c): lo, step and count per axis of dims. */
fv_status fv_onnx_slice_box(importer *im, value *const *in, int n, const int64_t *dims, int r, int64_t *lo, int64_t *step, int64_t *out);
fv_status fv_onnx_op_slice(importer *im);
fv_status fv_onnx_op_gather_data(importer *im);
fv_status fv_onnx_op_split(importer *im);
fv_status fv_onnx_op_expand(importer *im);
/* A constant with a fixed batch's size on its first axis and the same part for every sample (a
 * class token expanded to the batch the file was exported with): *out, data from a tensor layer,
 * and 1; 0 when it is not that; -1 on an error. batch 0 (an unbatched import, or a binary
 * operator's constant operand): the whole constant is one sample's data. */
int fv_onnx_constant_as_data(importer *im, const value *c, int64_t batch, value **out);
fv_status fv_onnx_op_resize(importer *im);
fv_status fv_onnx_op_conv_transpose(importer *im);
/* Checks every node before any is translated (fused nodes are never translated on their own):
 * the standard operator domain, no attribute given twice, no more inputs than the operator has. */
fv_status fv_onnx_check_node(importer *im);
/* A Constant node (run first: a fused Clip reads its bounds before its own node is reached). */
fv_status fv_onnx_op_constant(importer *im);

#endif
