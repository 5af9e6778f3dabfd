/* onnx_tensor_ops.c — the ONNX operators that compute on whole tensors rather than layers:
 * elementwise arithmetic of two computed tensors (broadcast), unary functions, reductions and
 * padding. They become fovea's binary, unary, reduce and pad layers; a zero Pad read by a Conv or
 * an AveragePool is folded into that layer's padding instead (nn.AvgPool2d exports as Pad +
 * AveragePool). An ONNX axis maps to fovea's per-sample axis as the layout rule says (onnx.h):
 * channels (axis 1) last, spatial axes k at k - 2; in a plain (ONNX-ordered) value, k at k - 1. */
#include "io/onnx_import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const fv_onnx_binary_ops[FV_BINARY_COUNT] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow"};
const char *const fv_onnx_unary_ops[FV_UNARY_COUNT] = {"Exp", "Log", "Sqrt", "Erf", "Abs", "Neg", "Reciprocal", "Elu", "Selu", "Celu",
                                                        "ThresholdedRelu", "Shrink", "Softplus", "Softsign", "HardSwish", "Sin", "Cos",
                                                        "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Floor",
                                                        "Ceil", "Round", "Sign", "Clip", "SiLU", "GELU"}; /* the last two: no ONNX operator of
                                                        opset 13 (patterns read and written) */
const char *const fv_onnx_reduce_ops[FV_REDUCE_COUNT] = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare",
                                                          "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"};
const char *const fv_onnx_pad_modes[FV_PAD_MODE_COUNT] = {"constant", "reflect", "edge"};
const char *const fv_onnx_resize_coordinates[FV_RESIZE_COORD_COUNT] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
const char *const fv_onnx_resize_nearest[FV_RESIZE_NEAREST_COUNT] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

int fv_onnx_word(const char *const *words, int n, const char *word) {
    for (int i = 0; i < n; i++)
        if (!strcmp(words[i], word)) return i;
    return -1;
}

/* fovea's per-sample axis of ONNX axis k (k >= 1) of value v. */
static int fovea_axis(const value *v, int k) {
    if (v->plain) { /* the batch first, then ONNX's order (see fv_onnx_memory_dims) */
        int64_t dims[FV_ONNX_MAX_RANK + 2];
        int memory_axis[FV_ONNX_MAX_RANK];
        fv_onnx_memory_dims(v, dims, memory_axis);
        return memory_axis[k] - 1;
    }
    return k == 1 ? v->rank - 2 : k - 2;
}

/* ---- Elementwise: Add, Sub, Mul, Div, Max, Min, Pow of two computed tensors. ---- */
fv_status fv_onnx_op_binary(importer *im, int op) {
    value *a = fv_onnx_input(im, 0), *b = a ? fv_onnx_input(im, 1) : NULL;
    if (!b) return FV_ERR;
    if (a->node < 0 && b->node < 0) return fv_onnx_fail(im, "both operands are constants");
    if (a->node < 0 || b->node < 0) { /* Max(x, c), Pow(x, c), ...: the constant as a tensor layer, broadcast by the binary one */
        value *x = a->node < 0 ? b : a, *c = a->node < 0 ? a : b, *t;
        if (c->rank > x->rank) return fv_onnx_fail(im, "constant '%s' has more axes than the data", c->name);
        value padded = *c; /* right-aligned to x's rank, as numpy broadcasts */
        padded.rank = x->rank;
        for (int k = 0; k < x->rank; k++) padded.dim[k] = k < x->rank - c->rank ? 1 : c->dim[k - (x->rank - c->rank)];
        if (x->batch_axis < 0) {
            if (fv_onnx_constant_as_data(im, &padded, 0, &t) != 1) return FV_ERR;
        } else {
            if (fv_onnx_batch_moved(x)) return fv_onnx_fail(im, "an operand is a constant and the other's batch is moved");
            if (padded.dim[0] != 1) return fv_onnx_fail(im, "constant '%s' varies along the batch axis", c->name);
            if (!fv_onnx_to_plain(im, x) || fv_onnx_constant_as_data(im, &padded, 1, &t) != 1) return FV_ERR;
            t->dim[0] = x->dim[0];
        }
        if (a->node < 0) a = t;
        else b = t;
    }
    if (a->plain != b->plain && !(fv_onnx_layout_trivial(a) && fv_onnx_layout_trivial(b)))
        return fv_onnx_fail(im, "operands in different layouts ('%s' was transposed)", a->plain ? a->name : b->name);
    if (a->rank != b->rank)
        return fv_onnx_fail(im, "operands of ranks %d and %d (fovea broadcasts operands of one rank)", a->rank, b->rank);
    int bt = a->batch_axis;
    if (bt != b->batch_axis || a->batch_outer != b->batch_outer || a->batch_inner != b->batch_inner)
        return fv_onnx_fail(im, "operands with the batch in different places ('%s' on axis %d, '%s' on axis %d)", a->name, bt, b->name, b->batch_axis);
    int64_t dims[FV_ONNX_MAX_RANK];
    if (bt >= 0) dims[bt] = a->dim[bt] >= 0 ? a->dim[bt] : b->dim[bt];
    for (int k = 0; k < a->rank; k++) {
        if (k == bt) continue;
        if (a->dim[k] != b->dim[k] && a->dim[k] != 1 && b->dim[k] != 1)
            return fv_onnx_fail(im, "operands of sizes %lld and %lld on axis %d do not broadcast", (long long)a->dim[k], (long long)b->dim[k], k);
        dims[k] = a->dim[k] > b->dim[k] ? a->dim[k] : b->dim[k];
    }
    if (a->plain != b->plain) a->plain = b->plain = 0; /* trivial layouts: both orders are one */
    if (fv_onnx_shaped_node(im, a) < 0 || fv_onnx_shaped_node(im, b) < 0) return FV_ERR;
    fv_layer l = fv_binary((fv_binary_op)op);
    value *ins[2] = {a, b};
    int node = fv_onnx_add_node(im, &l, ins, 2, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, a->rank) : NULL;
    if (out) out->plain = a->plain, fv_onnx_keep_batch(out, a);
    return out ? FV_OK : FV_ERR;
}

/* Both operands computed (not constants): a binary layer rather than an affine one. */
int fv_onnx_computed_pair(importer *im) {
    if (im->at->n_input != 2) return 0;
    const value *a = fv_onnx_find_value(im, im->at->input[0]), *b = fv_onnx_find_value(im, im->at->input[1]);
    return a && b && a->node >= 0 && b->node >= 0;
}

/* Pow: of two tensors a binary layer; x^2 (a layer norm's variance) x * x; x^0.5 a square root. */
fv_status fv_onnx_op_pow(importer *im) {
    if (fv_onnx_computed_pair(im)) return fv_onnx_op_binary(im, FV_BINARY_POW);
    value *x = fv_onnx_activation_input(im, 0), *e = x ? fv_onnx_constant_input(im, 1, "the exponent") : NULL;
    if (!e) return FV_ERR;
    if (e->count != 1 || (e->f[0] != 2.0f && e->f[0] != 0.5f && e->f[0] != 1.0f))
        return fv_onnx_op_binary(im, FV_BINARY_POW); /* the exponent a tensor layer */
    if (e->f[0] == 1.0f) return fv_onnx_alias(im, 0, x) ? FV_OK : FV_ERR;
    if (e->f[0] == 0.5f) return fv_onnx_op_unary(im, FV_UNARY_SQRT);
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_binary(FV_BINARY_MUL);
    value *ins[2] = {x, x};
    int node = fv_onnx_add_node(im, &l, ins, 2, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, x->dim, x->rank) : NULL;
    if (out) out->plain = x->plain, fv_onnx_keep_batch(out, x);
    return out ? FV_OK : FV_ERR;
}

/* MatMul of two computed tensors: a matmul layer on ONNX's order (the matrices are the last two
 * axes), operands of one rank (ONNX's broadcasting would align a shorter one's batch elsewhere). */
fv_status fv_onnx_op_matmul(importer *im) {
    value *a = fv_onnx_input(im, 0), *b = fv_onnx_input(im, 1);
    if (!a || !b) return FV_ERR;
    if (a->rank != b->rank || a->rank < 3) return fv_onnx_fail(im, "operands of ranks %d and %d (fovea multiplies matrices of one rank, batch first)", a->rank, b->rank);
    if (a->dim[a->rank - 1] != b->dim[b->rank - 2]) return fv_onnx_fail(im, "inner sizes %lld and %lld", (long long)a->dim[a->rank - 1], (long long)b->dim[b->rank - 2]);
    int bt = a->batch_axis; /* attention's (N * heads, L, d): the batch merged with the heads, in both */
    if (bt != b->batch_axis || a->batch_outer != b->batch_outer || a->batch_inner != b->batch_inner)
        return fv_onnx_fail(im, "operands with the batch in different places ('%s' on axis %d, '%s' on axis %d)", a->name, bt, b->name, b->batch_axis);
    if (bt >= a->rank - 2) return fv_onnx_fail(im, "the batch on an axis of the matrices");
    int64_t dims[FV_ONNX_MAX_RANK];
    if (bt >= 0) dims[bt] = a->dim[bt] >= 0 ? a->dim[bt] : b->dim[bt];
    for (int k = 0; k < a->rank - 2; k++) {
        if (k == bt) continue;
        if (a->dim[k] != b->dim[k] && a->dim[k] != 1 && b->dim[k] != 1) return fv_onnx_fail(im, "leading axes that do not broadcast");
        dims[k] = a->dim[k] > b->dim[k] ? a->dim[k] : b->dim[k];
    }
    dims[a->rank - 2] = a->dim[a->rank - 2], dims[a->rank - 1] = b->dim[b->rank - 1];
    if (!fv_onnx_to_plain(im, a) || !fv_onnx_to_plain(im, b) || fv_onnx_shaped_node(im, a) < 0 || fv_onnx_shaped_node(im, b) < 0) return FV_ERR;
    fv_layer l = fv_matmul();
    value *ins[2] = {a, b};
    int node = fv_onnx_add_node(im, &l, ins, 2, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, a->rank) : NULL;
    if (out) out->plain = 1, fv_onnx_keep_batch(out, a);
    return out ? FV_OK : FV_ERR;
}

/* ---- Unary functions: of a constant, folded; of data, a unary layer. ---- */
fv_status fv_onnx_op_unary(importer *im, int op) {
    /* the constants: Elu, Celu, ThresholdedRelu alpha; Selu alpha, gamma; Shrink lambd, bias */
    static const char *const alpha_only[] = {"alpha", NULL}, *const selu[] = {"alpha", "gamma", NULL}, *const shrink[] = {"lambd", "bias", NULL},
                             *const none[] = {NULL};
    const char *const *known = op == FV_UNARY_SELU ? selu : op == FV_UNARY_SHRINK ? shrink
                             : op == FV_UNARY_ELU || op == FV_UNARY_CELU || op == FV_UNARY_THRESHOLDED_RELU ? alpha_only : none;
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    fv_layer l = fv_unary((fv_unary_op)op);
    if (known[0]) l.unary.alpha = fv_onnx_attr_float(im, known[0], NAN);
    if (known[0] && known[1]) l.unary.beta = fv_onnx_attr_float(im, known[1], NAN);
    if (op == FV_UNARY_CELU && l.unary.alpha == 0.0f) return fv_onnx_fail(im, "alpha 0");
    value *x = fv_onnx_input(im, 0);
    if (!x) return FV_ERR;
    if (x->node < 0) {
        value *v = fv_onnx_alias(im, 0, x); /* a copy it owns */
        if (!v) return FV_ERR;
        for (size_t i = 0; i < v->count; i++) v->f[i] = fv_unary_apply(&l.unary, v->f[i]); /* the layer's own function */
        v->is_int = 0;
        return fv_onnx_settle_constant(im, v, 0) ? FV_OK : FV_ERR; /* log(-1) is NaN */
    }
    return fv_onnx_elementwise(im, x, &l) ? FV_OK : FV_ERR;
}

/* ---- ReduceMean, ReduceSum, ReduceMax over axes after the batch. ---- */
fv_status fv_onnx_op_reduce(importer *im, int op) {
    static const char *const known[] = {"axes", "keepdims", "noop_with_empty_axes", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    int64_t axes[FV_ONNX_MAX_RANK];
    int n;
    int axes_input = im->opset >= 18 || (op == FV_REDUCE_SUM && im->opset >= 13);
    if (axes_input && fv_onnx_has_input(im, 1)) {
        value *c = fv_onnx_constant_input(im, 1, "axes");
        if (!c) return FV_ERR;
        if (c->count > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "too many axes");
        n = (int)c->count;
        for (int i = 0; i < n; i++) axes[i] = fv_onnx_int(c->f[i]);
    } else {
        n = fv_onnx_attr_ints(im, "axes", axes, FV_ONNX_MAX_RANK);
        if (n < 0) return fv_onnx_fail(im, "too many axes");
    }
    if (n == 0 && fv_onnx_attr_int(im, "noop_with_empty_axes", 0)) return fv_onnx_alias(im, 0, x) ? FV_OK : FV_ERR;
    int b = x->batch_axis;
    if (n == 0 && b >= 0) return fv_onnx_fail(im, "reducing every axis, the batch's too (fovea keeps one result per sample)");
    if (n == 0) /* unbatched: every axis is the sample's */
        for (; n < x->rank; n++) axes[n] = n;
    int keepdims = (int)fv_onnx_attr_int(im, "keepdims", 1), mask = 0, reduced[FV_ONNX_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) {
        int64_t k = axes[i] < 0 ? axes[i] + x->rank : axes[i];
        if (k < 0 || k >= x->rank) return fv_onnx_fail(im, "axis %lld out of range", (long long)axes[i]);
        if (k == b) return fv_onnx_fail(im, "reducing along the batch axis");
        reduced[k] = 1, mask |= 1 << fovea_axis(x, (int)k);
    }
    int64_t dims[FV_ONNX_MAX_RANK];
    int rank = 0, spatial_left = 0, batch_axis = b;
    for (int k = 0; k < x->rank; k++) {
        if (!reduced[k] || keepdims) dims[rank++] = reduced[k] ? 1 : x->dim[k];
        spatial_left += k >= 2 && !reduced[k];
        batch_axis -= !keepdims && reduced[k] && k < b;
    }
    if (rank == 0) dims[rank++] = 1; /* an unbatched scalar: one value */
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_reduce((fv_reduce_op)op, mask, keepdims);
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, rank < 2 ? 2 : rank) : NULL;
    if (!out) return FV_ERR;
    if (fv_onnx_batch_moved(x)) {
        fv_onnx_keep_batch(out, x), out->batch_axis = batch_axis, out->plain = 1, out->rank = rank;
        return FV_OK;
    }
    if (rank < 2) out->dim[1] = 1; /* every axis after the batch reduced away: (N, 1) as fovea keeps it */
    /* dropping the channels leaves the spatial axes in their own order: ONNX's order (plain) */
    out->plain = x->plain || (!keepdims && reduced[1] && spatial_left > 1);
    return FV_OK;
}

/* ---- Pad: zero pads folded into the Conv or AveragePool that alone reads them; else a pad layer. */
static int folds_into(importer *im, int reader) {
    const FvOnnx__NodeProto *r = im->graph->node[reader], *saved = im->at;
    if (strcmp(r->op_type, "Conv") && strcmp(r->op_type, "AveragePool")) return 0;
    im->at = r;
    char buf[32];
    int64_t pads[6] = {0};
    int n = fv_onnx_attr_ints(im, "pads", pads, 6), own = 0;
    for (int i = 0; i < n; i++) own |= pads[i] != 0;
    int ok = !strcmp(fv_onnx_attr_string(im, "auto_pad", "NOTSET", buf, sizeof buf), "NOTSET") &&
             (!strcmp(r->op_type, "Conv") || !own || fv_onnx_attr_int(im, "count_include_pad", 0));
    im->at = saved;
    return ok;
}

void fv_onnx_unfold_pad(const value *x, value *base, int64_t *pads, int spatial) {
    *base = *x;
    if (!x->folded) return;
    base->folded = 0;
    for (int a = 0; a < spatial; a++) {
        base->dim[2 + a] -= x->folded_pad[a][0] + x->folded_pad[a][1];
        pads[a] += x->folded_pad[a][0], pads[spatial + a] += x->folded_pad[a][1];
    }
}

fv_status fv_onnx_op_pad(importer *im) {
    static const char *const known[] = {"mode", "pads", "value", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    int r = x->rank;
    int64_t pads[2 * FV_ONNX_MAX_RANK];
    float constant = fv_onnx_attr_float(im, "value", 0.0f);
    int n;
    if (im->opset >= 11) {
        value *p = fv_onnx_constant_input(im, 1, "pads");
        if (!p) return FV_ERR;
        if (p->count > 2 * FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "too many pads");
        n = (int)p->count;
        for (int i = 0; i < n; i++) pads[i] = fv_onnx_int(p->f[i]);
        if (fv_onnx_has_input(im, 2)) {
            value *c = fv_onnx_constant_input(im, 2, "constant_value");
            if (!c) return FV_ERR;
            if (c->count != 1) return fv_onnx_fail(im, "constant_value must be one value");
            constant = c->f[0];
        }
        if (fv_onnx_has_input(im, 3)) return fv_onnx_fail(im, "the axes input is not supported");
    } else {
        n = fv_onnx_attr_ints(im, "pads", pads, 2 * FV_ONNX_MAX_RANK);
    }
    if (n != 2 * r) return fv_onnx_fail(im, "%d pads for a rank-%d input (two per axis)", n, r);
    char buf[16];
    const char *mode = fv_onnx_attr_string(im, "mode", "constant", buf, sizeof buf);
    int m = fv_onnx_word(fv_onnx_pad_modes, FV_PAD_MODE_COUNT, mode);
    if (m < 0) return fv_onnx_fail(im, "mode '%s' (fovea pads with a constant, reflect or edge)", mode);
    int any = 0;
    for (int i = 0; i < n; i++) {
        if (pads[i] < 0) return fv_onnx_fail(im, "negative pads (cropping) are not supported");
        if (pads[i] > 65536) return fv_onnx_fail(im, "pads out of range");
        any |= pads[i] != 0;
    }
    if (pads[0] || pads[r]) return fv_onnx_fail(im, "padding the batch axis");
    if (!any) return fv_onnx_alias(im, 0, x) ? FV_OK : FV_ERR;
    int64_t dims[FV_ONNX_MAX_RANK];
    for (int k = 0; k < r; k++) dims[k] = k ? x->dim[k] + pads[k] + pads[r + k] : x->dim[0];
    int reader = fv_onnx_sole_reader(im, im->at->output[0]);
    if (m == FV_PAD_CONSTANT && constant == 0.0f && !x->plain && !x->folded && r >= 3 && r <= 5 && !pads[1] && !pads[r + 1] &&
        reader >= 0 && im->graph->node[reader]->n_input >= 1 && !strcmp(im->graph->node[reader]->input[0], im->at->output[0]) &&
        folds_into(im, reader)) {
        value *v = fv_onnx_alias(im, 0, x);
        if (!v) return FV_ERR;
        memcpy(v->dim, dims, sizeof dims);
        v->folded = 1;
        for (int a = 0; a < r - 2; a++) v->folded_pad[a][0] = pads[2 + a], v->folded_pad[a][1] = pads[r + 2 + a];
        return FV_OK;
    }
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_pad((fv_pad_mode)m, constant);
    for (int k = 1; k < r; k++) {
        int a = fovea_axis(x, k);
        if (a >= FV_MAX_RANK) return fv_onnx_fail(im, "rank %d", r);
        l.pad.pads[a][0] = (int)pads[k], l.pad.pads[a][1] = (int)pads[r + k];
    }
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, r) : NULL;
    if (out) out->plain = x->plain;
    return out ? FV_OK : FV_ERR;
}

/* ---- Slice of data: a slice layer (the batch axis whole, positive steps). ---- */
fv_status fv_onnx_op_slice(importer *im) {
    value *in[5] = {NULL};
    int n = (int)im->at->n_input;
    if (n > 5) return fv_onnx_fail(im, "%d inputs", n);
    for (int k = 0; k < n; k++)
        if (fv_onnx_has_input(im, (size_t)k) && !(in[k] = fv_onnx_input(im, (size_t)k))) return FV_ERR;
    value *x = in[0];
    if (!x) return fv_onnx_fail(im, "no data input");
    int64_t lo[FV_ONNX_MAX_RANK], step[FV_ONNX_MAX_RANK], out[FV_ONNX_MAX_RANK];
    if (fv_onnx_slice_box(im, in, n, x->dim, x->rank, lo, step, out) != FV_OK) return FV_ERR;
    int b = x->batch_axis;
    if (b >= 0 && (lo[b] != 0 || step[b] != 1 || (x->dim[b] >= 0 && out[b] != x->dim[b]))) return fv_onnx_fail(im, "slicing the batch axis");
    int whole = 1;
    for (int a = 0; a < x->rank; a++) {
        if (a == b) continue;
        if (step[a] < 1) return fv_onnx_fail(im, "a negative step (reversing an axis) is not supported");
        if (out[a] < 1) return fv_onnx_fail(im, "an empty slice");
        whole &= lo[a] == 0 && step[a] == 1 && out[a] == x->dim[a];
    }
    if (whole) return fv_onnx_alias(im, 0, x) ? FV_OK : FV_ERR;
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    fv_shape whole_shape = fv_net_node_shape(im->net, x->node);
    fv_layer l = fv_slice(whole_shape.rank);
    for (int a = 0; a < whole_shape.rank; a++) l.slice.size.dim[a] = whole_shape.dim[a]; /* the batch's merged factors, if any, whole */
    for (int k = 0; k < x->rank; k++) {
        if (k == b) continue;
        int a = fovea_axis(x, k);
        l.slice.begin.dim[a] = (int)lo[k], l.slice.size.dim[a] = (int)out[k], l.slice.step.dim[a] = (int)step[k];
    }
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (b >= 0) out[b] = x->dim[b];
    value *v = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, out, x->rank) : NULL;
    if (v) v->plain = x->plain, fv_onnx_keep_batch(v, x);
    return v ? FV_OK : FV_ERR;
}

/* ---- Expand of a constant over the batch (a ViT's class token): a tensor layer, learned when
 * fine-tuned, reading the network's input for the count of samples. ---- */
/* A tensor layer holding data (per sample, ONNX's order of dims[1..]; owned): the node, or -1. */
static int tensor_node(importer *im, float *data, const int64_t *dims, int r) {
    fv_shape s = {r - 1, {0}};
    for (int a = 1; a < r; a++) s.dim[a - 1] = (int)dims[a];
    fv_layer l = fv_tensor(s); /* kept in ONNX's order: the value is plain */
    int node = fv_onnx_add_node_after(im, &l, 0, ""); /* fovea's first node, the network's input: the count of samples */
    if (node < 0) return free(data), -1;
    if (fv_onnx_add_pending(im, node, "value", data, fv_shape_count(s)) != FV_OK) return -1;
    return node;
}

fv_status fv_onnx_op_expand(importer *im) {
    value *c = fv_onnx_input(im, 0), *shape = c ? fv_onnx_constant_input(im, 1, "the shape") : NULL;
    if (!shape) return FV_ERR;
    if (c->node >= 0) return fv_onnx_fail(im, "expanding computed data (fovea expands constants over the batch)");
    int r = (int)shape->count;
    if (r < 2 || r < c->rank || r - 1 > FV_MAX_RANK) return fv_onnx_fail(im, "a target of rank %d", r);
    int64_t dims[FV_ONNX_MAX_RANK];
    for (int a = 0; a < r; a++) {
        int k = a - (r - c->rank);
        int64_t have = k >= 0 ? c->dim[k] : 1, want = fv_onnx_int(shape->f[a]);
        if (a == 0) {
            if (have != 1 || want != BATCH_MARK) return fv_onnx_fail(im, "expanding along the batch axis only from size 1 to the batch");
            dims[0] = -1;
            continue;
        }
        if (want != 1 && have != 1 && want != have) return fv_onnx_fail(im, "shapes that do not broadcast");
        dims[a] = want > have ? want : have;
    }
    size_t per = fv_onnx_dims_count(dims + 1, (size_t)r - 1);
    float *data = malloc(per * sizeof *data);
    if (!data) return fv_onnx_fail(im, "out of memory");
    for (size_t i = 0; i < per; i++) { /* broadcast c (right-aligned) to dims[1..] */
        size_t rest = i, src = 0, stride = 1;
        for (int a = r - 1; a >= 1; a--) {
            size_t coord = rest % (size_t)dims[a];
            rest /= (size_t)dims[a];
            int k = a - (r - c->rank);
            int64_t have = k >= 0 ? c->dim[k] : 1;
            if (have != 1) src += coord * stride;
            stride *= (size_t)have;
        }
        data[i] = c->f[src];
    }
    int node = tensor_node(im, data, dims, r);
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, r) : NULL;
    if (out) out->plain = 1;
    return out ? FV_OK : FV_ERR;
}

/* A constant with the batch's fixed size on its first axis, every sample's part the same (a ViT's
 * class token expanded to a batch fixed in the file): *out, data from a tensor layer of one
 * sample's part, and 1; 0 when it is not that; -1 on an error. */
int fv_onnx_constant_as_data(importer *im, const value *c, int64_t batch, value **out) {
    int unbatched = batch == 0; /* the whole constant is the sample's, no axis the batch's */
    if (c->node >= 0 || c->rank < 2 - unbatched || c->rank - 1 + unbatched > FV_MAX_RANK || (!unbatched && c->dim[0] != batch)) return 0;
    size_t per = unbatched ? c->count : fv_onnx_dims_count(c->dim + 1, (size_t)c->rank - 1);
    for (size_t i = per; i < c->count; i++) /* every sample's part the same: the first is kept */
        if (c->f[i] != c->f[i % per]) return 0;
    float *data = malloc(per * sizeof *data);
    if (!data) return fv_onnx_fail(im, "out of memory"), -1;
    memcpy(data, c->f, per * sizeof *data);
    int64_t dims[FV_ONNX_MAX_RANK + 1] = {unbatched ? 1 : batch}; /* the batch, then the sample's axes */
    memcpy(dims + 1, c->dim + !unbatched, (size_t)(c->rank - !unbatched) * sizeof *dims);
    int node = tensor_node(im, data, dims, c->rank + unbatched);
    value *v = node >= 0 ? fv_onnx_new_value(im, "") : NULL; /* unnamed: read by the node being translated only */
    if (!v) return -1;
    v->node = node, v->rank = c->rank, v->plain = 1, v->batch_axis = unbatched ? -1 : 0;
    memcpy(v->dim, unbatched ? dims + 1 : dims, (size_t)c->rank * sizeof *v->dim);
    *out = v;
    return 1;
}

/* ---- Resize (and Upsample): nearest or linear to sizes or by scales, batch and channels kept. ---- */
fv_status fv_onnx_op_resize(importer *im) {
    static const char *const known[] = {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
                                        "extrapolation_value", "antialias", "keep_aspect_ratio_policy", "scales", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    int upsample = !strcmp(im->at->op_type, "Upsample"), old = upsample || im->opset < 11;
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    int r = x->rank, d = r - 2;
    if (d < 1 || d > FV_MAX_SPATIAL) return fv_onnx_fail(im, "input rank %d (fovea resizes 1 to 3 spatial axes)", r);
    char buf[40];
    const char *mode = fv_onnx_attr_string(im, "mode", "nearest", buf, sizeof buf);
    fv_layer l = fv_layer_defaults(FV_LAYER_RESIZE);
    if (!strcmp(mode, "nearest")) l.resize.mode = FV_RESIZE_NEAREST;
    else if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear")) l.resize.mode = FV_RESIZE_LINEAR;
    else return fv_onnx_fail(im, "mode '%s' (fovea resizes nearest or linear)", mode);
    const char *coords = fv_onnx_attr_string(im, "coordinate_transformation_mode", old ? "asymmetric" : "half_pixel", buf, sizeof buf);
    int c = fv_onnx_word(fv_onnx_resize_coordinates, FV_RESIZE_COORD_COUNT, coords);
    if (c < 0) return fv_onnx_fail(im, "coordinate_transformation_mode '%s'", coords);
    l.resize.coordinates = (fv_resize_coordinates)c;
    const char *nearest = fv_onnx_attr_string(im, "nearest_mode", old ? "floor" : "round_prefer_floor", buf, sizeof buf);
    int k = fv_onnx_word(fv_onnx_resize_nearest, FV_RESIZE_NEAREST_COUNT, nearest);
    if (k < 0) return fv_onnx_fail(im, "nearest_mode '%s'", nearest);
    l.resize.nearest = (fv_resize_nearest)k;
    if (fv_onnx_attr_int(im, "antialias", 0)) return fv_onnx_fail(im, "antialias=1");
    /* sizes (input 3) or scales (input 2; input 1 before opset 11; an attribute in Upsample-7) */
    int64_t size[FV_ONNX_MAX_RANK];
    size_t sizes_at = old ? 0 : 3, scales_at = old ? 1 : 2;
    if (sizes_at && fv_onnx_has_input(im, sizes_at)) {
        value *s = fv_onnx_constant_input(im, sizes_at, "sizes");
        if (!s) return FV_ERR;
        if (s->count != (size_t)r) return fv_onnx_fail(im, "%zu sizes for rank %d", s->count, r);
        for (int a = 0; a < r; a++) size[a] = fv_onnx_int(s->f[a]);
    } else {
        float scales[FV_ONNX_MAX_RANK];
        int n = 0;
        if (fv_onnx_has_input(im, scales_at)) {
            value *s = fv_onnx_constant_input(im, scales_at, "scales");
            if (!s) return FV_ERR;
            n = (int)(s->count < FV_ONNX_MAX_RANK ? s->count : FV_ONNX_MAX_RANK);
            for (int a = 0; a < n; a++) scales[a] = s->f[a];
        } else {
            const FvOnnx__AttributeProto *s = fv_onnx_typed_attribute(im, "scales", FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
            if (s) for (n = 0; n < (int)s->n_floats && n < FV_ONNX_MAX_RANK; n++) scales[n] = s->floats[n];
        }
        if (n != r) return fv_onnx_fail(im, "%d scales for rank %d", n, r);
        size[0] = x->dim[0];
        for (int a = 1; a < r; a++) {
            if (!(scales[a] > 0.0f && scales[a] < 1e6f)) return fv_onnx_fail(im, "scale %g", (double)scales[a]);
            size[a] = (int64_t)floorf((float)x->dim[a] * scales[a]);
            if (a >= 2) l.resize.scale[a - 2] = scales[a]; /* the coordinates use the scale, not the rounded size */
        }
    }
    if ((size[0] != x->dim[0] && size[0] != BATCH_MARK) || size[1] != x->dim[1]) return fv_onnx_fail(im, "resizing the batch or the channels");
    for (int a = 2; a < r; a++) {
        if (size[a] < 1 || size[a] > (int64_t)FV_MAX_SAMPLE_VALUES) return fv_onnx_fail(im, "size %lld", (long long)size[a]);
        l.resize.size.dim[a - 2] = (int)size[a];
    }
    l.resize.size.rank = d;
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    size[0] = x->dim[0];
    return node >= 0 && fv_onnx_set_output(im, 0, node, NULL, size, r) ? FV_OK : FV_ERR;
}

/* ---- ConvTranspose over 2 spatial axes: a conv2d_transpose layer (weights (Cin, Cout/G, KH, KW)). */
fv_status fv_onnx_op_conv_transpose(importer *im) {
    static const char *const known[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "output_padding", "output_shape", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = fv_onnx_activation_input(im, 0), *w = x ? fv_onnx_constant_input(im, 1, "the weight") : NULL;
    if (!w) return FV_ERR;
    if (x->rank != 4 || w->rank != 4) return fv_onnx_fail(im, "input rank %d (fovea's transposed convolution is 2-D)", x->rank);
    int64_t groups = fv_onnx_attr_int(im, "group", 1), cin = x->dim[1];
    if (groups < 1 || w->dim[0] != cin || cin % groups) return fv_onnx_fail(im, "a weight of %lld input channels for %lld", (long long)w->dim[0], (long long)cin);
    int64_t st[2] = {1, 1}, dil[2] = {1, 1}, pads[4] = {0}, op[2] = {0}, ks[2];
    if (fv_onnx_attr_ints(im, "strides", st, 2) < 0 || fv_onnx_attr_ints(im, "dilations", dil, 2) < 0 || fv_onnx_attr_ints(im, "pads", pads, 4) < 0 ||
        fv_onnx_attr_ints(im, "output_padding", op, 2) < 0 || fv_onnx_attr_ints(im, "kernel_shape", ks, 2) < 0)
        return fv_onnx_fail(im, "too many strides, dilations, pads or output paddings");
    if (fv_onnx_attribute(im, "output_shape")) return fv_onnx_fail(im, "output_shape (give pads and output_padding)");
    char buf[32];
    if (strcmp(fv_onnx_attr_string(im, "auto_pad", "NOTSET", buf, sizeof buf), "NOTSET")) return fv_onnx_fail(im, "auto_pad other than NOTSET");
    fv_layer l = fv_conv2d_transpose((int)(w->dim[1] * groups), (int)w->dim[2], (int)w->dim[3]);
    l.conv.groups = (int)groups, l.conv.padding = FV_PAD_EXPLICIT, l.conv.use_bias = fv_onnx_has_input(im, 2);
    int64_t dims[4] = {x->dim[0], w->dim[1] * groups, 0, 0};
    for (int a = 0; a < 2; a++) {
        if (st[a] < 1 || dil[a] < 1 || st[a] > 65536 || dil[a] > 65536 || pads[a] < 0 || pads[2 + a] < 0 || op[a] < 0 || pads[a] > 65536 ||
            pads[2 + a] > 65536 || op[a] > 65536)
            return fv_onnx_fail(im, "a stride, dilation, pad or output padding out of range");
        l.conv.stride[a] = (int)st[a], l.conv.dilation[a] = (int)dil[a], l.conv.output_padding[a] = (int)op[a];
        l.conv.pad[a][0] = (int)pads[a], l.conv.pad[a][1] = (int)pads[2 + a];
        dims[2 + a] = (x->dim[2 + a] - 1) * st[a] - pads[a] - pads[2 + a] + dil[a] * (w->dim[2 + a] - 1) + 1 + op[a];
    }
    int fused;
    if (fv_onnx_fuse_activation(im, &l.conv.activation, &l.conv.alpha, &fused) != FV_OK) return FV_ERR;
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    /* (Cin, Cout/G, taps) -> (taps, Cout/G, Cin): the layout change a convolution's weights take */
    size_t taps = (size_t)(w->dim[2] * w->dim[3]), cg = (size_t)w->dim[1], m = (size_t)cin;
    pending_param kp = {.kind = PENDING_CONV, .src = w->f, .m = m, .cg = cg, .taps = taps, .count = taps * cg * m};
    if (fv_onnx_add_pending_transform(im, node, "kernel", kp) != FV_OK) return FV_ERR;
    if (l.conv.use_bias) {
        value *b = fv_onnx_constant_input(im, 2, "the bias");
        float *bias = b ? fv_onnx_channel_vector(im, b, l.conv.filters, 1.0f, "bias") : NULL;
        if (!bias || fv_onnx_add_pending(im, node, "bias", bias, (size_t)l.conv.filters) != FV_OK) return FV_ERR;
    }
    value *out = fv_onnx_set_output(im, 0, node, x, dims, 4);
    return out ? fv_onnx_finish_fused(im, fused, out) : FV_ERR;
}

/* ---- Gather and Split of data: slices along one axis (not the batch's). ---- */
/* Output `out` of the current node: x's elements begin, begin + step, ... (count of them) along
 * ONNX axis k, that axis dropped when `drop` (a Gather by one index). */
static fv_status slice_along(importer *im, value *x, int k, int64_t begin, int64_t count, int64_t step, size_t out, int drop) {
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    fv_shape whole = fv_net_node_shape(im->net, x->node);
    fv_layer l = fv_slice(whole.rank);
    for (int j = 0; j < whole.rank; j++) l.slice.size.dim[j] = whole.dim[j];
    int a = fovea_axis(x, k);
    l.slice.begin.dim[a] = (int)begin, l.slice.size.dim[a] = (int)count, l.slice.step.dim[a] = (int)step;
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    int64_t dims[FV_ONNX_MAX_RANK];
    memcpy(dims, x->dim, sizeof dims);
    dims[k] = count;
    value *v = node >= 0 ? fv_onnx_set_output(im, out, node, NULL, dims, x->rank) : NULL;
    if (!v) return FV_ERR;
    v->plain = x->plain, fv_onnx_keep_batch(v, x);
    if (drop) { /* the same memory without the axis of size 1: ONNX's order first unless it already is */
        if (!fv_onnx_to_plain(im, v)) return FV_ERR;
        for (int j = k; j + 1 < v->rank; j++) v->dim[j] = v->dim[j + 1];
        v->rank--;
        if (k < v->batch_axis) v->batch_axis--;
        if (v->rank < (v->batch_axis < 0 ? 1 : 2)) return fv_onnx_fail(im, "a result without axes after the batch");
    }
    return FV_OK;
}

/* Gather of data with constant indices: one index (the axis dropped) or evenly spaced ones. */
fv_status fv_onnx_op_gather_data(importer *im) {
    value *x = fv_onnx_activation_input(im, 0), *idx = x ? fv_onnx_constant_input(im, 1, "indices") : NULL;
    if (!idx) return FV_ERR;
    int64_t k = fv_onnx_attr_int(im, "axis", 0);
    if (k < 0) k += x->rank;
    if (k < 0 || k >= x->rank || k == x->batch_axis) return fv_onnx_fail(im, "gathering along axis %lld (the batch axis stays whole)", (long long)k);
    if (idx->rank > 1 || idx->count < 1) return fv_onnx_fail(im, "indices of rank %d (fovea gathers by one index or a list)", idx->rank);
    int64_t first = fv_onnx_int(idx->f[0]), step = idx->count > 1 ? fv_onnx_int(idx->f[1]) - fv_onnx_int(idx->f[0]) : 1;
    for (size_t i = 0; i < idx->count; i++) {
        int64_t j = fv_onnx_int(idx->f[i]);
        if (j < 0) j += x->dim[k];
        if (j < 0 || j >= x->dim[k]) return fv_onnx_fail(im, "index %lld out of range", (long long)idx->f[i]);
        if (i == 0) first = j;
        else if (j - first != (int64_t)i * step || step < 1) return fv_onnx_fail(im, "indices not evenly spaced upward (fovea gathers slices)");
    }
    return slice_along(im, x, (int)k, first, (int64_t)idx->count, step, 0, idx->rank == 0);
}

/* Split into n outputs along an axis: sizes from the split input (opset 13), attribute (before),
 * or equal parts. */
fv_status fv_onnx_op_split(importer *im) {
    static const char *const known[] = {"axis", "split", "num_outputs", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    int64_t k = fv_onnx_attr_int(im, "axis", 0), sizes[FV_MAX_INPUTS];
    if (k < 0) k += x->rank;
    if (k < 0 || k >= x->rank || k == x->batch_axis) return fv_onnx_fail(im, "splitting along axis %lld (the batch axis stays whole)", (long long)k);
    size_t n = im->at->n_output;
    if (n < 1 || n > FV_MAX_INPUTS) return fv_onnx_fail(im, "%zu outputs", n);
    int given = 0;
    if (im->opset >= 13 && fv_onnx_has_input(im, 1)) {
        value *s = fv_onnx_constant_input(im, 1, "split");
        if (!s) return FV_ERR;
        if (s->count != n) return fv_onnx_fail(im, "%zu sizes for %zu outputs", s->count, n);
        for (size_t i = 0; i < n; i++) sizes[i] = fv_onnx_int(s->f[i]);
        given = 1;
    } else if (im->opset < 13) {
        int c = fv_onnx_attr_ints(im, "split", sizes, FV_MAX_INPUTS);
        if (c > 0 && (size_t)c != n) return fv_onnx_fail(im, "%d sizes for %zu outputs", c, n);
        given = c > 0;
    }
    if (!given) {
        if (x->dim[k] % (int64_t)n) return fv_onnx_fail(im, "%lld values do not split into %zu equal parts", (long long)x->dim[k], n);
        for (size_t i = 0; i < n; i++) sizes[i] = x->dim[k] / (int64_t)n;
    }
    int64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (sizes[i] < 1 || at + sizes[i] > x->dim[k]) return fv_onnx_fail(im, "sizes that do not fit %lld values", (long long)x->dim[k]);
        if (*im->at->output[i] && slice_along(im, x, (int)k, at, sizes[i], 1, i, 0) != FV_OK) return FV_ERR;
        at += sizes[i];
    }
    if (at != x->dim[k]) return fv_onnx_fail(im, "sizes add up to %lld, the axis has %lld", (long long)at, (long long)x->dim[k]);
    return FV_OK;
}
