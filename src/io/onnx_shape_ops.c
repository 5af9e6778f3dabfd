/* onnx_shape_ops.c — the ONNX operators that change a value's shape rather than its numbers:
 * Shape and Gather folded on constants, and Flatten, Reshape, Squeeze, Unsqueeze, Transpose on
 * data, which become an alias (the same memory under new dims), a channels-first flatten, or a
 * move into ONNX's own order (a transpose layer) followed by an alias. */
#include "io/onnx_import.h"

#include <stdlib.h>
#include <string.h>

/* ---- Shape arithmetic: Shape, Gather, Unsqueeze, Squeeze on constants, and Flatten, Reshape,
 * Squeeze, Unsqueeze on data, which keep the values and change the dims. ---- */
fv_status fv_onnx_op_shape(importer *im) {
    value *x = fv_onnx_input(im, 0);
    if (!x) return FV_ERR;
    int64_t start = fv_onnx_attr_int(im, "start", 0), end = fv_onnx_attr_int(im, "end", x->rank);
    if (start < 0) start += x->rank;
    if (end < 0) end += x->rank;
    start = start < 0 ? 0 : start > x->rank ? x->rank : start;
    end = end < start ? start : end > x->rank ? x->rank : end;
    float dims[FV_ONNX_MAX_RANK];
    for (int64_t a = start; a < end; a++) dims[a - start] = x->dim[a] < 0 ? (float)BATCH_MARK : (float)x->dim[a];
    return fv_onnx_fold_constant(im, im->at->output[0], dims, (size_t)(end - start), 1) ? FV_OK : FV_ERR;
}

/* The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input after. */
static int read_axes(importer *im, int64_t *axes, int max) {
    if (im->opset < 13) return fv_onnx_attr_ints(im, "axes", axes, max);
    if (!fv_onnx_has_input(im, 1)) return 0;
    value *a = fv_onnx_constant_input(im, 1, "axes");
    if (!a) return -2;
    if (a->count > (size_t)max) return -1;
    for (size_t i = 0; i < a->count; i++) axes[i] = (int64_t)a->f[i];
    return (int)a->count;
}

/* Data under new dims: an alias when fovea's memory order is ONNX's for both, a channels-first
 * flatten for (N, C, S...) -> (N, C*S...), else an error. */
static fv_status redim(importer *im, value *x, const int64_t *dims, int rank) {
    value target = *x;
    target.rank = rank;
    memcpy(target.dim, dims, (size_t)rank * sizeof *dims);
    if (rank < 2) return fv_onnx_fail(im, "a result of rank %d (fovea keeps the batch axis and one more)", rank);
    if (x->plain) { /* row-major memory reshapes as it stands */
        value *v = fv_onnx_alias(im, 0, x);
        if (!v) return FV_ERR;
        v->rank = rank, v->plain = rank > 2;
        memcpy(v->dim, dims, (size_t)rank * sizeof *dims);
        v->dim[0] = x->dim[0];
        return FV_OK;
    }
    if (dims[0] != x->dim[0] && !(x->dim[0] < 0 && dims[0] == BATCH_MARK))
        return fv_onnx_fail(im, "reshaping across the batch axis (%lld -> %lld)", (long long)x->dim[0], (long long)dims[0]);
    target.dim[0] = x->dim[0];
    if (fv_onnx_layout_trivial(x) && fv_onnx_layout_trivial(&target)) {
        value *v = fv_onnx_alias(im, 0, x);
        if (!v) return FV_ERR;
        v->rank = rank;
        memcpy(v->dim, target.dim, (size_t)rank * sizeof *dims);
        return FV_OK;
    }
    if (rank == 2 && x->rank > 2 && (size_t)dims[1] == fv_onnx_dims_count(x->dim + 1, (size_t)x->rank - 1)) {
        if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
        fv_layer l = fv_flatten();
        l.flatten.channels_first = 1;
        value *ins[1] = {x};
        int node = fv_onnx_add_node(im, &l, ins, 1, "");
        return node >= 0 && fv_onnx_set_output(im, 0, node, NULL, target.dim, 2) ? FV_OK : FV_ERR;
    }
    /* any other reshape is of ONNX's row-major order: move the data there first */
    if (!fv_onnx_to_plain(im, x)) return FV_ERR;
    return redim(im, x, dims, rank);
}

/* Transpose: only between fovea's channels-last order and ONNX's (what fovea's own exports put
 * around a channels-last flatten or reshape), or an identity. */
/* Transpose of the axes after the batch: an alias when the result's memory is the input's (the
 * channels-last <-> channels-first pair around a layer that wants the other layout), else a
 * transpose layer from the input's memory order to the result's ONNX order. */
fv_status fv_onnx_op_transpose(importer *im) {
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    int64_t p[FV_ONNX_MAX_RANK];
    int n = fv_onnx_attr_ints(im, "perm", p, FV_ONNX_MAX_RANK), r = x->rank;
    if (n == 0) for (int a = 0; a < r; a++) p[a] = r - 1 - a, n = r;
    if (n != r) return fv_onnx_fail(im, "perm has %d values for rank %d", n, r);
    int seen = 0;
    for (int a = 0; a < r; a++) {
        if (p[a] < 0 || p[a] >= r || (seen >> p[a] & 1)) return fv_onnx_fail(im, "perm is not a permutation");
        seen |= 1 << p[a];
    }
    if (p[0] != 0) return fv_onnx_fail(im, "perm moves the batch axis (fovea keeps it first)");
    if (r - 1 > FV_MAX_RANK) return fv_onnx_fail(im, "rank %d", r);
    int64_t memory[FV_ONNX_MAX_RANK], as_last[FV_ONNX_MAX_RANK]; /* x's ONNX axes in memory order; y's channels-last order in x's axes */
    int trivial = x->plain || fv_onnx_layout_trivial(x);
    for (int i = 0; i < r - 1; i++) {
        memory[i] = trivial ? i + 1 : i == r - 2 ? 1 : i + 2;
        as_last[i] = i == r - 2 ? p[1] : p[i + 2];
    }
    int keep_last = r > 2, keep_plain = 1;
    for (int i = 0; i < r - 1; i++) keep_last &= as_last[i] == memory[i], keep_plain &= p[i + 1] == memory[i];
    if (keep_last || keep_plain) { /* the same memory under the new dims */
        value *v = fv_onnx_alias(im, 0, x);
        if (!v) return FV_ERR;
        for (int a = 0; a < r; a++) v->dim[a] = x->dim[p[a]];
        v->plain = !keep_last;
        return FV_OK;
    }
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    int perm[FV_MAX_RANK];
    for (int j = 0; j < r - 1; j++)
        for (int i = 0; i < r - 1; i++)
            if (memory[i] == p[j + 1]) perm[j] = i;
    fv_layer l = fv_transpose(perm, r - 1);
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    int64_t dims[FV_ONNX_MAX_RANK];
    for (int a = 0; a < r; a++) dims[a] = x->dim[p[a]];
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, r) : NULL;
    if (out) out->plain = 1;
    return out ? FV_OK : FV_ERR;
}

fv_status fv_onnx_op_flatten(importer *im) {
    value *x = fv_onnx_input(im, 0);
    if (!x) return FV_ERR;
    if (x->plain && x->node >= 0) { /* row-major memory: a plain flatten */
        int64_t axis = fv_onnx_attr_int(im, "axis", 1);
        if (axis != 1 && axis != 1 - x->rank) return fv_onnx_fail(im, "axis %lld (fovea flattens everything after the batch axis: axis 1)", (long long)axis);
        if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
        fv_layer l = fv_flatten();
        value *ins[1] = {x};
        int node = fv_onnx_add_node(im, &l, ins, 1, "");
        int64_t dims[2] = {x->dim[0], (int64_t)fv_onnx_dims_count(x->dim + 1, (size_t)x->rank - 1)};
        return node >= 0 && fv_onnx_set_output(im, 0, node, NULL, dims, 2) ? FV_OK : FV_ERR;
    }
    int64_t axis = fv_onnx_attr_int(im, "axis", 1);
    if (axis < 0) axis += x->rank;
    if (axis != 1) return fv_onnx_fail(im, "axis %lld (fovea flattens everything after the batch axis: axis 1)", (long long)axis);
    int64_t dims[2] = {x->dim[0], (int64_t)fv_onnx_dims_count(x->dim + 1, (size_t)x->rank - 1)};
    if (x->node < 0) return fv_onnx_fail(im, "flattening a constant");
    return redim(im, x, dims, 2);
}

fv_status fv_onnx_op_reshape(importer *im) {
    value *x = fv_onnx_input(im, 0), *shape = x ? fv_onnx_constant_input(im, 1, "the shape") : NULL;
    if (!shape) return FV_ERR;
    if (fv_onnx_attr_int(im, "allowzero", 0)) return fv_onnx_fail(im, "allowzero=1");
    if (x->node < 0) return fv_onnx_fail(im, "reshaping a constant");
    if (shape->count < 1 || shape->count > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "a target shape of %zu values", shape->count);
    int64_t dims[FV_ONNX_MAX_RANK], known = 1;
    int infer = -1, rank = (int)shape->count;
    size_t total = fv_onnx_dims_count(x->dim + 1, (size_t)x->rank - 1);
    for (int a = 0; a < rank; a++) {
        int64_t d = (int64_t)shape->f[a];
        if (d == 0) d = a < x->rank ? (a == 0 ? BATCH_MARK : x->dim[a]) : -2;
        /* the batch: its mark, or the fixed batch size the file was exported with (x.view(x.size(0), -1)) */
        if (a == 0 && (d == BATCH_MARK || d == x->dim[0])) { dims[0] = x->dim[0]; continue; }
        if (a == 0) return fv_onnx_fail(im, "reshaping across the batch axis (first dimension %lld)", (long long)d);
        if (d == -1) {
            if (infer >= 0) return fv_onnx_fail(im, "two -1 dimensions");
            infer = a;
            continue;
        }
        if (d < 1) return fv_onnx_fail(im, "dimension %lld", (long long)d);
        dims[a] = d, known *= d;
        if (known > (int64_t)FV_MAX_SAMPLE_VALUES) return fv_onnx_fail(im, "a shape beyond fovea's limits");
    }
    if (infer >= 0) {
        if (total % (size_t)known) return fv_onnx_fail(im, "%zu values do not divide into the shape", total);
        dims[infer] = (int64_t)(total / (size_t)known), known *= dims[infer];
    }
    if ((size_t)known != total) return fv_onnx_fail(im, "the shape holds %lld values per sample, the input %zu", (long long)known, total);
    return redim(im, x, dims, rank);
}

fv_status fv_onnx_op_squeeze(importer *im, int unsqueeze) {
    value *x = fv_onnx_input(im, 0);
    if (!x) return FV_ERR;
    int64_t axes[FV_ONNX_MAX_RANK];
    int n = read_axes(im, axes, FV_ONNX_MAX_RANK);
    if (n == -2) return FV_ERR;
    if (n < 0) return fv_onnx_fail(im, "too many axes");
    int rank = unsqueeze ? x->rank + n : x->rank;
    int64_t dims[FV_ONNX_MAX_RANK];
    int mark[FV_ONNX_MAX_RANK * 2] = {0};
    if (rank > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "a result of rank %d", rank);
    for (int i = 0; i < n; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (a < 0 || a >= rank) return fv_onnx_fail(im, "axis %lld out of range", (long long)axes[i]);
        mark[a] = 1;
    }
    int out = 0;
    if (unsqueeze) {
        for (int a = 0, j = 0; a < rank; a++) dims[a] = mark[a] ? 1 : x->dim[j++];
        out = rank;
    } else {
        for (int a = 0; a < x->rank; a++) {
            int drop = n ? mark[a] : x->dim[a] == 1;
            if (drop && x->dim[a] != 1) return fv_onnx_fail(im, "axis %d has size %lld, not 1", a, (long long)x->dim[a]);
            if (!drop) dims[out++] = x->dim[a];
        }
    }
    if (x->node < 0) { /* constants: the same values, new dims */
        value *v = fv_onnx_alias(im, 0, x);
        if (!v) return FV_ERR;
        v->rank = out;
        memcpy(v->dim, dims, (size_t)out * sizeof *dims);
        return FV_OK;
    }
    if (mark[0] || (!unsqueeze && !n && x->dim[0] == 1)) return fv_onnx_fail(im, "squeezing or unsqueezing the batch axis");
    return redim(im, x, dims, out);
}

