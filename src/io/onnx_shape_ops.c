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
    /* the batch's axis, not fixed: its mark times what is merged with it (exact in a float) */
    for (int64_t a = start; a < end; a++)
        dims[a - start] = x->dim[a] >= 0 ? (float)x->dim[a] : (float)BATCH_MARK * (float)(a == x->batch_axis ? x->batch_outer * x->batch_inner : 1);
    return fv_onnx_fold_constant(im, im->at->output[0], dims, (size_t)(end - start), 1) ? FV_OK : FV_ERR;
}

/* The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input after. */
static int read_axes(importer *im, int64_t *axes, int max) {
    if (im->opset < 13) return fv_onnx_attr_ints(im, "axes", axes, max);
    if (!fv_onnx_has_input(im, 1)) return 0;
    value *a = fv_onnx_constant_input(im, 1, "axes");
    if (!a) return -2;
    if (a->count > (size_t)max) return -1;
    for (size_t i = 0; i < a->count; i++) axes[i] = fv_onnx_int(a->f[i]);
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

/* The same data under new dims in ONNX's order, the batch on `axis` with outer and inner merged
 * into it (see value.batch_axis): an alias of x moved to ONNX's order. */
static fv_status plain_alias(importer *im, value *x, const int64_t *dims, int rank, int axis, int64_t outer, int64_t inner) {
    if (!fv_onnx_to_plain(im, x)) return FV_ERR;
    value *v = fv_onnx_alias(im, 0, x);
    if (!v) return FV_ERR;
    v->rank = rank, v->plain = 1;
    memcpy(v->dim, dims, (size_t)rank * sizeof *dims);
    v->batch_axis = axis, v->batch_outer = outer, v->batch_inner = inner;
    return FV_OK;
}

/* x's memory reshaped to dims (a reshape node unless it has them): the node, or -1. */
static int node_as(importer *im, value *x, const int64_t *dims, int rank) {
    if (fv_onnx_shaped_node(im, x) < 0) return -1;
    fv_shape s = fv_net_node_shape(im->net, x->node), want = {.rank = rank};
    int same = s.rank == rank;
    for (int a = 0; a < rank; a++) want.dim[a] = (int)dims[a], same &= s.dim[a] == want.dim[a];
    if (same) return x->node;
    fv_layer l = fv_reshape(want);
    value *in[1] = {x};
    return fv_onnx_add_node(im, &l, in, 1, "_factors");
}

/* A Transpose that moves the batch axis (attention's (N, L, E) -> (L, N, E)), or of a value whose
 * batch was moved or merged: the memory keeps the batch first, so the other factors move (a
 * transpose layer over them, none when their order stays) and the result records where the
 * batch went. */
static fv_status transpose_batch(importer *im, value *x, const int64_t *p) {
    if (!fv_onnx_to_plain(im, x)) return FV_ERR;
    int r = x->rank, b = x->batch_axis, first[FV_ONNX_MAX_RANK], count[FV_ONNX_MAX_RANK], n = 0;
    int64_t factor[FV_ONNX_MAX_RANK + 2];
    for (int a = 0; a < r; a++) { /* x's memory after the batch, as factors (size 1 left out) */
        first[a] = n;
        if (a == b) {
            if (x->batch_outer > 1) factor[n++] = x->batch_outer;
            if (x->batch_inner > 1) factor[n++] = x->batch_inner;
        } else if (x->dim[a] != 1) factor[n++] = x->dim[a];
        count[a] = n - first[a];
    }
    if (n > FV_MAX_RANK) return fv_onnx_fail(im, "%d axes besides the batch to transpose (fovea takes up to %d)", n, FV_MAX_RANK);
    int perm[FV_MAX_RANK], m = 0, identity = 1;
    for (int j = 0; j < r; j++)
        for (int t = 0; t < count[p[j]]; t++) identity &= (perm[m] = first[p[j]] + t) == m, m++;
    int64_t dims[FV_ONNX_MAX_RANK];
    int batch_axis = b < 0 ? -1 : 0; /* unbatched: none */
    for (int j = 0; j < r; j++) dims[j] = x->dim[p[j]], batch_axis = p[j] == b ? j : batch_axis;
    if (identity) return plain_alias(im, x, dims, r, batch_axis, x->batch_outer, x->batch_inner); /* the same memory under the new dims */
    int from = n > 0 ? node_as(im, x, factor, n) : -1;
    fv_layer l = fv_transpose(perm, n);
    int node = from >= 0 ? fv_onnx_add_node_after(im, &l, from, "") : -1;
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, r) : NULL;
    if (!out) return FV_ERR;
    fv_onnx_keep_batch(out, x);
    out->plain = 1, out->batch_axis = batch_axis;
    return FV_OK;
}

/* Transpose of the axes after the batch: an alias when the result's memory is the input's (the
 * channels-last <-> channels-first pair around a layer that wants the other layout), else a
 * transpose layer from the input's memory order to the result's ONNX order; one that moves the
 * batch, or of a value whose batch moved, is transpose_batch's. */
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
    if (p[0] != 0 || fv_onnx_batch_moved(x)) return transpose_batch(im, x, p);
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
    if (x->batch_axis < 0 && x->node >= 0) { /* unbatched: (d0 ... d(axis-1), d(axis) ...) as a matrix */
        int64_t axis = fv_onnx_attr_int(im, "axis", 1);
        if (axis < 0) axis += x->rank;
        if (axis < 0 || axis > x->rank) return fv_onnx_fail(im, "axis %lld out of range", (long long)axis);
        value *v = fv_onnx_alias(im, 0, x);
        if (!v) return FV_ERR;
        v->dim[0] = (int64_t)fv_onnx_dims_count(x->dim, (size_t)axis), v->dim[1] = (int64_t)fv_onnx_dims_count(x->dim + axis, (size_t)(x->rank - axis));
        v->rank = 2;
        return FV_OK;
    }
    if (fv_onnx_batch_moved(x)) return fv_onnx_fail(im, "flattening data whose batch is on axis %d", x->batch_axis);
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

/* Where the batch lands in a reshape's result. ONNX reshapes in row-major order, so the batch
 * keeps its stride: the count of values after it (within one sample) in x, `stride`. In the target
 * it lies in the axis whose later axes hold at most that many values; inner = stride / (values
 * after that axis), outer = the rest of that axis's size. The axis is the target's batch mark
 * (a multiple of BATCH_MARK) when the batch is not fixed, else it is found from the sizes. */
static fv_status place_batch(importer *im, const value *x, int64_t *dims, int rank, int batch_entry, int64_t k, int *axis, int64_t *outer,
                             int64_t *inner) {
    int b = x->batch_axis;
    int64_t stride = x->batch_inner, fixed = x->dim[b] > 0 ? x->dim[b] / (x->batch_outer * x->batch_inner) : 0;
    for (int a = b + 1; a < x->rank; a++) stride *= x->dim[a];
    int64_t after[FV_ONNX_MAX_RANK + 1];
    after[rank - 1] = 1;
    for (int j = rank - 1; j > 0; j--) after[j - 1] = after[j] * (j == batch_entry ? k : dims[j]);
    for (int j = 0; j < rank; j++) { /* the first that fits: with a fixed batch of 1, axes of size 1 fit too */
        int64_t size = j == batch_entry ? k : dims[j];
        if (batch_entry >= 0 ? j != batch_entry : !(after[j] <= stride && stride * fixed <= after[j] * size)) continue;
        if (batch_entry < 0) {
            if (size % fixed) break;
            size /= fixed;
        }
        if (stride % after[j] || size % (stride / after[j])) break;
        *axis = j, *inner = stride / after[j], *outer = size / *inner;
        return FV_OK;
    }
    return fv_onnx_fail(im, "the reshape mixes the batch with other axes (fovea keeps each sample's values together)");
}

/* A reshape of a value that is one whole sample (an unbatched import): any, as ONNX's. */
static fv_status reshape_unbatched(importer *im, value *x, const value *shape) {
    int64_t dims[FV_ONNX_MAX_RANK], known = 1;
    int infer = -1, rank = (int)shape->count;
    size_t total = fv_onnx_dims_count(x->dim, (size_t)x->rank);
    for (int a = 0; a < rank; a++) {
        int64_t d = fv_onnx_int(shape->f[a]);
        if (d == 0) d = a < x->rank ? x->dim[a] : -2;
        if (d == -1 && infer < 0) {
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
    if ((size_t)known != total) return fv_onnx_fail(im, "the shape holds %lld values, the input %zu", (long long)known, total);
    return plain_alias(im, x, dims, rank, -1, 1, 1);
}

fv_status fv_onnx_op_reshape(importer *im) {
    value *x = fv_onnx_input(im, 0), *shape = x ? fv_onnx_constant_input(im, 1, "the shape") : NULL;
    if (!shape) return FV_ERR;
    if (fv_onnx_attr_int(im, "allowzero", 0)) return fv_onnx_fail(im, "allowzero=1");
    if (x->node < 0) return fv_onnx_fail(im, "reshaping a constant");
    if (shape->count < 1 || shape->count > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "a target shape of %zu values", shape->count);
    if (x->batch_axis < 0) return reshape_unbatched(im, x, shape);
    /* per sample: every axis, the batch's without the batch */
    int b = x->batch_axis;
    int64_t fixed = x->dim[b] > 0 ? x->dim[b] / (x->batch_outer * x->batch_inner) : 0, dims[FV_ONNX_MAX_RANK], known = 1, k = 1;
    size_t total = (size_t)(x->batch_outer * x->batch_inner);
    for (int a = 0; a < x->rank; a++)
        if (a != b) total *= (size_t)x->dim[a];
    int infer = -1, rank = (int)shape->count, batch_entry = -1;
    for (int a = 0; a < rank; a++) {
        float f = shape->f[a];
        int64_t d = (int64_t)f;
        if (d == 0 && a < x->rank && a == b && !fixed) f = (float)BATCH_MARK * (float)(x->batch_outer * x->batch_inner); /* copies the batch's axis */
        else if (d == 0) d = a < x->rank ? x->dim[a] : -2;
        if (fv_onnx_batch_multiple(f)) { /* the batch (Shape's mark), times what it is merged with */
            if (batch_entry >= 0) return fv_onnx_fail(im, "two dimensions hold the batch");
            batch_entry = a, k = (int64_t)(f / (float)BATCH_MARK), dims[a] = -1, known *= k;
            continue;
        }
        if (d == -1) {
            if (infer >= 0) return fv_onnx_fail(im, "two -1 dimensions");
            infer = a;
            continue;
        }
        if (d < 1) return fv_onnx_fail(im, "dimension %lld", (long long)d);
        dims[a] = d, known *= d;
        if (known > (int64_t)FV_MAX_SAMPLE_VALUES * (fixed ? fixed : 1)) return fv_onnx_fail(im, "a shape beyond fovea's limits");
    }
    size_t all = total * (size_t)(fixed ? fixed : 1); /* a fixed batch is in the target's sizes; a mark is not */
    if (infer >= 0 && batch_entry < 0 && !fixed) { /* x.view(-1, E): the -1 holds the batch */
        if (total % (size_t)known) return fv_onnx_fail(im, "%zu values do not divide into the shape", total);
        batch_entry = infer, k = (int64_t)(total / (size_t)known), dims[infer] = -1, known *= k, infer = -1;
    }
    if (batch_entry < 0 && !fixed) return fv_onnx_fail(im, "reshaping across the batch axis (no dimension of the target holds the batch)");
    if (infer >= 0) {
        if (all % (size_t)known) return fv_onnx_fail(im, "%zu values do not divide into the shape", total);
        dims[infer] = (int64_t)(all / (size_t)known), known *= dims[infer];
    }
    if ((size_t)known != (batch_entry >= 0 ? total : all))
        return fv_onnx_fail(im, "the shape holds %lld values per sample, the input %zu", (long long)(known / (fixed && batch_entry < 0 ? fixed : 1)), total);
    int axis = 0;
    int64_t outer = 1, inner = 1;
    if (place_batch(im, x, dims, rank, batch_entry, k, &axis, &outer, &inner) != FV_OK) return FV_ERR;
    if (batch_entry >= 0) dims[axis] = fixed ? fixed * k : -1;
    if (!fv_onnx_batch_moved(x) && axis == 0 && outer == 1 && inner == 1) return redim(im, x, dims, rank);
    return plain_alias(im, x, dims, rank, axis, outer, inner); /* the batch elsewhere: the memory as it stands under new dims */
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
    int out = 0, batch_axis = x->batch_axis;
    if (unsqueeze) {
        for (int a = 0, j = 0; a < rank; a++) {
            if (!mark[a] && j == x->batch_axis) batch_axis = a;
            dims[a] = mark[a] ? 1 : x->dim[j++];
        }
        out = rank;
    } else {
        for (int a = 0; a < x->rank; a++) {
            int drop = n ? mark[a] : x->dim[a] == 1 && (x->node < 0 || a != x->batch_axis);
            if (x->node >= 0 && drop && a == x->batch_axis) return fv_onnx_fail(im, "squeezing the batch axis");
            if (drop && a < x->batch_axis) batch_axis--;
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
    if (batch_axis == 0 && !fv_onnx_batch_moved(x)) return redim(im, x, dims, out);
    /* the batch on another axis than the first (an axis put before it, or one before it removed) */
    return plain_alias(im, x, dims, out, batch_axis, x->batch_outer, x->batch_inner);
}

