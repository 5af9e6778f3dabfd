/* onnx_ops.c — each ONNX operator fovea imports, as fovea nodes or folded constants: one
 * function per operator family, and the table translate() dispatches on (docs/ONNX.md lists what
 * each supports). The helpers they share are in onnx_import.c. */
#include "io/onnx_import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fv_status op_conv(importer *im) {
    static const char *const known[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = fv_onnx_activation_input(im, 0), *w = x ? fv_onnx_constant_input(im, 1, "the weight") : NULL;
    if (!w) return FV_ERR;
    int spatial = x->rank - 2;
    if (spatial < 1 || spatial > 3) return fv_onnx_fail(im, "input rank %d (fovea convolves 1-D, 2-D and 3-D data)", x->rank);
    if (w->rank != x->rank) return fv_onnx_fail(im, "weight rank %d for input rank %d", w->rank, x->rank);
    int64_t groups = fv_onnx_attr_int(im, "group", 1), cin = x->dim[1], cout = w->dim[0];
    if (groups < 1 || cin % groups || cout % groups || w->dim[1] != cin / groups)
        return fv_onnx_fail(im, "weight (%lld, %lld, ...) does not fit %lld input channels in %lld groups", (long long)cout,
                    (long long)w->dim[1], (long long)cin, (long long)groups);
    int64_t k[3], st[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pads[6] = {0};
    for (int a = 0; a < spatial; a++) k[a] = w->dim[2 + a];
    int64_t ks[3];
    int nk = fv_onnx_attr_ints(im, "kernel_shape", ks, 3);
    for (int a = 0; a < nk; a++)
        if (ks[a] != k[a]) return fv_onnx_fail(im, "kernel_shape disagrees with the weight");
    if (fv_onnx_attr_ints(im, "strides", st, 3) < 0 || fv_onnx_attr_ints(im, "dilations", dil, 3) < 0 || fv_onnx_attr_ints(im, "pads", pads, 6) < 0)
        return fv_onnx_fail(im, "too many strides, dilations or pads");
    value base; /* a zero Pad before it, folded into its pads */
    fv_onnx_unfold_pad(x, &base, pads, spatial);
    x = &base;
    fv_layer l = fv_layer_defaults(spatial == 1 ? FV_LAYER_CONV1D : spatial == 2 ? FV_LAYER_CONV2D : FV_LAYER_CONV3D);
    l.conv.filters = (int)cout, l.conv.groups = (int)groups, l.conv.padding = FV_PAD_EXPLICIT;
    l.conv.use_bias = fv_onnx_has_input(im, 2);
    char pad_buf[32];
    const char *auto_pad = fv_onnx_attr_string(im, "auto_pad", "NOTSET", pad_buf, sizeof pad_buf);
    for (int a = 0; a < spatial; a++) {
        if (st[a] < 1 || dil[a] < 1 || k[a] < 1 || st[a] > 65536 || dil[a] > 65536 || k[a] > 65536) return fv_onnx_fail(im, "a stride, dilation or kernel out of range");
        l.conv.kernel[a] = (int)k[a], l.conv.stride[a] = (int)st[a], l.conv.dilation[a] = (int)dil[a];
        int64_t before = pads[a], after = pads[spatial + a];
        if (!strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER")) {
            int64_t in = x->dim[2 + a], out = (in + st[a] - 1) / st[a], extent = dil[a] * (k[a] - 1) + 1;
            int64_t total = (out - 1) * st[a] + extent - in;
            total = total < 0 ? 0 : total;
            before = !strcmp(auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
            after = total - before;
        } else if (!strcmp(auto_pad, "VALID")) before = after = 0;
        else if (strcmp(auto_pad, "NOTSET")) return fv_onnx_fail(im, "auto_pad '%s'", auto_pad);
        if (before < 0 || after < 0 || before > 65536 || after > 65536) return fv_onnx_fail(im, "pads out of range");
        l.conv.pad[a][0] = (int)before, l.conv.pad[a][1] = (int)after;
    }
    int fused;
    if (fv_onnx_fuse_activation(im, &l.conv.activation, &l.conv.alpha, &fused) != FV_OK) return FV_ERR;
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    /* (M, C/g, k...) -> (k..., C/g, M) */
    size_t taps = 1, cg = (size_t)w->dim[1], m = (size_t)cout;
    for (int a = 0; a < spatial; a++) taps *= (size_t)k[a];
    pending_param kp = {.kind = PENDING_CONV, .src = w->f, .m = m, .cg = cg, .taps = taps, .count = taps * cg * m};
    if (fv_onnx_add_pending_transform(im, node, "kernel", kp) != FV_OK) return FV_ERR;
    if (l.conv.use_bias) {
        value *b = fv_onnx_constant_input(im, 2, "the bias");
        float *bias = b ? fv_onnx_channel_vector(im, b, (int)m, 1.0f, "bias") : NULL;
        if (!bias || fv_onnx_add_pending(im, node, "bias", bias, m) != FV_OK) return FV_ERR;
    }
    value *out = fv_onnx_set_output(im, 0, node, x, NULL, 0);
    return out ? fv_onnx_finish_fused(im, fused, out) : FV_ERR;
}

/* Gemm (Y = alpha A B' + beta C) and MatMul with a constant B: a dense layer. */
static fv_status op_dense(importer *im, int gemm) {
    static const char *const known_gemm[] = {"alpha", "beta", "transA", "transB", "broadcast", NULL};
    static const char *const none[] = {NULL};
    if (fv_onnx_check_attributes(im, gemm ? known_gemm : none) != FV_OK) return FV_ERR;
    if (!gemm && fv_onnx_computed_pair(im)) return fv_onnx_op_matmul(im); /* attention's q k^T: two computed tensors */
    value *a = fv_onnx_activation_input(im, 0), *b = a ? fv_onnx_constant_input(im, 1, "B") : NULL;
    if (!b) return FV_ERR;
    int moved = fv_onnx_batch_moved(a); /* a ViT's out-projection of (L * N, E) */
    if (moved && a->batch_axis == a->rank - 1) return fv_onnx_fail(im, "the batch on the features axis");
    if (!moved && a->rank != 2 && (gemm || a->rank - 1 > FV_MAX_RANK)) return fv_onnx_fail(im, "input rank %d (Gemm multiplies (batch, features) matrices)", a->rank);
    if (b->rank != 2) return fv_onnx_fail(im, "B has rank %d (fovea takes a matrix)", b->rank);
    /* MatMul of (N, ..., K) by a constant (K, M): a dense layer over the last axis, of ONNX's order */
    if (a->rank > 2 && !fv_onnx_to_plain(im, a)) return FV_ERR;
    if (gemm && fv_onnx_attr_int(im, "transA", 0)) return fv_onnx_fail(im, "transA=1 (it would mix the batch)");
    int trans_b = gemm ? (int)fv_onnx_attr_int(im, "transB", 0) : 0;
    float alpha = gemm ? fv_onnx_attr_float(im, "alpha", 1.0f) : 1.0f, beta = gemm ? fv_onnx_attr_float(im, "beta", 1.0f) : 1.0f;
    if (!isfinite(alpha) || !isfinite(beta)) return fv_onnx_fail(im, "alpha %g, beta %g: not finite", (double)alpha, (double)beta);
    int64_t k = trans_b ? b->dim[1] : b->dim[0], m = trans_b ? b->dim[0] : b->dim[1];
    if (k != a->dim[a->rank - 1]) return fv_onnx_fail(im, "B has %lld rows for %lld features", (long long)k, (long long)a->dim[a->rank - 1]);
    fv_layer l = fv_dense((int)m);
    l.dense.use_bias = gemm && fv_onnx_has_input(im, 2) && beta != 0.0f;
    int fused;
    if (fv_onnx_fuse_activation(im, &l.dense.activation, &l.dense.alpha, &fused) != FV_OK) return FV_ERR;
    /* a softmax over the features fuses too */
    int reader = fv_onnx_sole_reader(im, im->at->output[0]);
    if (fused < 0 && a->rank == 2 && !moved && reader >= 0 && !strcmp(im->graph->node[reader]->op_type, "Softmax")) {
        const FvOnnx__NodeProto *saved = im->at;
        im->at = im->graph->node[reader];
        int64_t axis = fv_onnx_attr_int(im, "axis", im->opset >= 13 ? -1 : 1);
        im->at = saved;
        if (axis == 1 || axis == -1) l.dense.activation = FV_ACT_SOFTMAX, fused = reader;
    }
    if (fv_onnx_shaped_node(im, a) < 0) return FV_ERR;
    value *ins[1] = {a};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    pending_param kp = {.kind = PENDING_GEMM, .src = b->f, .m = (size_t)m, .cg = (size_t)k, .trans = trans_b, .alpha = alpha,
                        .count = (size_t)(k * m)};
    if (fv_onnx_add_pending_transform(im, node, "kernel", kp) != FV_OK) return FV_ERR;
    if (l.dense.use_bias) {
        value *c = fv_onnx_constant_input(im, 2, "C");
        if (c && c->rank == 2 && c->dim[0] != 1) return fv_onnx_fail(im, "C of shape (%lld, %lld) (fovea adds a bias per output)", (long long)c->dim[0], (long long)c->dim[1]);
        float *bias = c ? fv_onnx_channel_vector(im, c, (int)m, beta, "C") : NULL;
        if (!bias || fv_onnx_add_pending(im, node, "bias", bias, (size_t)m) != FV_OK) return FV_ERR;
    }
    int64_t dims[FV_ONNX_MAX_RANK];
    memcpy(dims, a->dim, sizeof dims);
    dims[a->rank - 1] = m;
    value *out = fv_onnx_set_output(im, 0, node, a, dims, a->rank);
    if (out) out->plain = a->rank > 2 || moved, fv_onnx_keep_batch(out, a);
    return out ? fv_onnx_finish_fused(im, fused, out) : FV_ERR;
}

/* The node reading `name` alone when it is of op_type, else -1. */
static int sole_reader_of_type(importer *im, const char *name, const char *op_type) {
    int r = fv_onnx_sole_reader(im, name);
    const FvOnnx__NodeProto *n = r >= 0 ? im->graph->node[r] : NULL;
    return n && !strcmp(n->op_type, op_type) && n->n_output == 1 ? r : -1;
}

/* A two-input node's input other than `name` (NULL when it has not two inputs, one of them name). */
static const char *other_input(const FvOnnx__NodeProto *n, const char *name) {
    if (n->n_input != 2) return NULL;
    return !strcmp(n->input[0], name) ? n->input[1] : !strcmp(n->input[1], name) ? n->input[0] : NULL;
}

/* A one-value constant near `want` (relative 1e-6). */
static int constant_near(importer *im, const char *name, float want) {
    const value *c = name ? fv_onnx_find_value(im, name) : NULL;
    return c && c->node < 0 && c->count == 1 && fabsf(c->f[0] - want) <= 1e-6f * fabsf(want);
}

/* GELU as torch writes it, x * (1 + erf(x / sqrt 2)) * 0.5: from this Div, Erf -> Add 1 -> Mul
 * by x -> Mul by 0.5, each the only reader of the one before. *last receives the final Mul, the
 * chain's other nodes are marked read. */
static int gelu_chain(importer *im, int *last) {
    const FvOnnx__NodeProto *d = im->at;
    if (d->n_input != 2 || !constant_near(im, d->input[1], 1.41421356f)) return 0;
    int erf = sole_reader_of_type(im, d->output[0], "Erf");
    int add = erf >= 0 ? sole_reader_of_type(im, im->graph->node[erf]->output[0], "Add") : -1;
    if (add < 0 || !constant_near(im, other_input(im->graph->node[add], im->graph->node[erf]->output[0]), 1.0f)) return 0;
    int mul = sole_reader_of_type(im, im->graph->node[add]->output[0], "Mul");
    const char *x = mul >= 0 ? other_input(im->graph->node[mul], im->graph->node[add]->output[0]) : NULL;
    if (!x || strcmp(x, d->input[0])) return 0;
    int half = sole_reader_of_type(im, im->graph->node[mul]->output[0], "Mul");
    if (half < 0 || !constant_near(im, other_input(im->graph->node[half], im->graph->node[mul]->output[0]), 0.5f)) return 0;
    im->skip[erf] = im->skip[add] = im->skip[mul] = 1;
    *last = half;
    return 1;
}

static fv_status op_activation(importer *im) {
    static const char *const known[] = {"alpha", "beta", "min", "max", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    fv_activation act;
    float alpha;
    fv_error keep = *im->err;
    int r = fv_onnx_activation_of(im, im->at, &act, &alpha);
    float lo, hi;
    if (r < 0 && !strcmp(im->at->op_type, "Clip") && fv_onnx_clip_bounds(im, im->at, &lo, &hi) == FV_OK) {
        *im->err = keep; /* any other bounds: a clip layer */
        value *x = fv_onnx_activation_input(im, 0);
        fv_layer l = fv_unary(FV_UNARY_CLIP);
        l.unary.alpha = lo, l.unary.beta = hi;
        return x && fv_onnx_elementwise(im, x, &l) ? FV_OK : FV_ERR;
    }
    if (r < 0) return FV_ERR;
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    fv_layer l = fv_activation_layer(act);
    l.activation.alpha = alpha;
    /* x * Sigmoid(x) (SiLU, swish) and x * HardSigmoid(x) with 1/6 (hard-swish as opset 13 writes
     * it): one unary layer */
    int gated = act == FV_ACT_SIGMOID || (act == FV_ACT_HARD_SIGMOID && fabsf(alpha - 1.0f / 6.0f) < 1e-6f);
    int reader = gated ? sole_reader_of_type(im, im->at->output[0], "Mul") : -1;
    if (reader >= 0 && other_input(im->graph->node[reader], im->at->output[0]) && !strcmp(other_input(im->graph->node[reader], im->at->output[0]), im->at->input[0])) {
        fv_layer f = fv_unary(act == FV_ACT_SIGMOID ? FV_UNARY_SILU : FV_UNARY_HARD_SWISH);
        value *out = fv_onnx_elementwise(im, x, &f);
        return out ? fv_onnx_finish_fused(im, reader, out) : FV_ERR;
    }
    return fv_onnx_elementwise(im, x, &l) ? FV_OK : FV_ERR; /* either layout */
}

/* Softmax over an axis that is not last in ONNX's order: the axis moved last (a transpose),
 * softmax, and back; before opset 13, over the axes from `axis` on flattened into one (a reshape
 * of ONNX's row-major order). */
static fv_status softmax_inside(importer *im, value *x, int64_t axis, const fv_layer *act) {
    if (axis < 0 || axis >= x->rank || axis == x->batch_axis || (im->opset < 13 && x->batch_axis > axis))
        return fv_onnx_fail(im, "%s over axis %lld, which holds the batch", im->at->op_type, (long long)axis);
    if (!fv_onnx_to_plain(im, x) || fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    int64_t md[FV_ONNX_MAX_RANK + 2];
    int ma[FV_ONNX_MAX_RANK], r = fv_onnx_memory_dims(x, md, ma) - 1, t = ma[axis] - 1, node;
    if (im->opset < 13) { /* (..., A * B * ...): one axis from `axis` on */
        fv_shape flat = {t + 1, {0}};
        for (int a = 0; a < t; a++) flat.dim[a] = (int)md[a + 1];
        flat.dim[t] = 1;
        for (int a = t; a < r; a++) flat.dim[t] *= (int)md[a + 1];
        fv_layer reshape = fv_reshape(flat);
        node = fv_onnx_add_node_after(im, &reshape, x->node, "_flat");
        node = node >= 0 ? fv_onnx_add_node_after(im, act, node, "") : -1;
    } else { /* the axis last, softmax, the axis back */
        int to_last[FV_MAX_RANK], back[FV_MAX_RANK];
        for (int a = 0, k = 0; a < r; a++)
            if (a != t) to_last[k++] = a;
        to_last[r - 1] = t;
        for (int a = 0; a < r; a++) back[to_last[a]] = a;
        fv_layer there = fv_transpose(to_last, r), home = fv_transpose(back, r);
        node = fv_onnx_add_node_after(im, &there, x->node, "_axis_last");
        node = node >= 0 ? fv_onnx_add_node_after(im, act, node, "") : -1;
        node = node >= 0 ? fv_onnx_add_node_after(im, &home, node, "_axis_back") : -1;
    }
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, x->dim, x->rank) : NULL;
    if (out) out->plain = 1, fv_onnx_keep_batch(out, x);
    return out ? FV_OK : FV_ERR;
}

static fv_status op_softmax(importer *im) {
    static const char *const known[] = {"axis", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    int64_t axis = fv_onnx_attr_int(im, "axis", im->opset >= 13 ? -1 : 1);
    if (axis < 0) axis += x->rank;
    /* fovea's softmax runs over the last axis of its memory: the channels (ONNX axis 1) of
     * channels-last data, or ONNX's last axis of data in ONNX's order (attention's rows). Before
     * opset 13 the axes from `axis` on are flattened into one: the channels alone when the others
     * have size 1, and the last axis alone when it is the last. */
    int moved = fv_onnx_batch_moved(x), channels = axis == 1 && !moved, last = axis == x->rank - 1 && x->batch_axis != axis;
    if (im->opset < 13 && axis == 1)
        for (int a = 2; a < x->rank; a++) channels &= x->dim[a] == 1;
    fv_layer l = fv_activation_layer(strcmp(im->at->op_type, "LogSoftmax") ? FV_ACT_SOFTMAX : FV_ACT_LOG_SOFTMAX);
    if (!channels && !last) return softmax_inside(im, x, axis, &l);
    if (!(channels ? fv_onnx_to_channels_last(im, x) : fv_onnx_to_plain(im, x))) return FV_ERR;
    return fv_onnx_elementwise(im, x, &l) ? FV_OK : FV_ERR;
}

static fv_status op_pool(importer *im, int max) {
    static const char *const known[] = {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad", "dilations", "storage_order", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    if (im->at->n_output > 1 && *im->at->output[1]) return fv_onnx_fail(im, "the indices output is not supported");
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    int spatial = x->rank - 2;
    if (spatial < 1 || spatial > 3) return fv_onnx_fail(im, "input rank %d (fovea pools 1-D, 2-D and 3-D data)", x->rank);
    int64_t k[3], st[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pads[6] = {0};
    if (fv_onnx_attr_ints(im, "kernel_shape", k, 3) != spatial) return fv_onnx_fail(im, "kernel_shape must give %d values", spatial);
    if (fv_onnx_attr_ints(im, "strides", st, 3) < 0 || fv_onnx_attr_ints(im, "pads", pads, 6) < 0 || fv_onnx_attr_ints(im, "dilations", dil, 3) < 0)
        return fv_onnx_fail(im, "too many strides, pads or dilations");
    value base; /* a zero Pad before it (nn.AvgPool2d's), folded into its pads: counted in the average, as its zeros are */
    int folded = x->folded;
    fv_onnx_unfold_pad(x, &base, pads, spatial);
    x = &base;
    for (int a = 0; a < spatial; a++)
        if (dil[a] != 1) return fv_onnx_fail(im, "dilations other than 1");
    int include_pad = folded || (int)fv_onnx_attr_int(im, "count_include_pad", 0);
    char pad_buf[32];
    const char *auto_pad = fv_onnx_attr_string(im, "auto_pad", "NOTSET", pad_buf, sizeof pad_buf);
    int ceil_mode = (int)fv_onnx_attr_int(im, "ceil_mode", 0);
    fv_layer l = fv_layer_defaults(spatial == 3 ? (max ? FV_LAYER_MAXPOOL3D : FV_LAYER_AVGPOOL3D) : (max ? FV_LAYER_MAXPOOL2D : FV_LAYER_AVGPOOL2D));
    int slots = spatial == 3 ? 3 : 2, first = slots - spatial; /* a 1-D input uses the setting's last axis */
    for (int t = 0; t < slots; t++) l.pool.size[t] = l.pool.stride[t] = 1, l.pool.pad[t][0] = l.pool.pad[t][1] = 0;
    int any_pad = 0;
    l.pool.padding = FV_PAD_EXPLICIT;
    int same = !strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER");
    if (!strcmp(auto_pad, "SAME_UPPER") && !max && !include_pad) l.pool.padding = FV_PAD_SAME; /* Keras' 'same' */
    else if (same && !max) return fv_onnx_fail(im, "auto_pad '%s' with count_include_pad=%d", auto_pad, include_pad);
    else if (!same && strcmp(auto_pad, "NOTSET") && strcmp(auto_pad, "VALID")) return fv_onnx_fail(im, "auto_pad '%s'", auto_pad);
    for (int a = 0; a < spatial; a++) {
        if (k[a] < 1 || st[a] < 1 || k[a] > 65536 || st[a] > 65536) return fv_onnx_fail(im, "a kernel or stride out of range");
        int t = first + a;
        l.pool.size[t] = (int)k[a], l.pool.stride[t] = (int)st[a];
        int64_t before = strcmp(auto_pad, "NOTSET") ? 0 : pads[a], after = strcmp(auto_pad, "NOTSET") ? 0 : pads[spatial + a];
        if (same && max) { /* max ignores padding: the SAME pads, explicitly (the extra one last or first) */
            int64_t in = x->dim[2 + a], total = ((in + st[a] - 1) / st[a] - 1) * st[a] + k[a] - in;
            total = total < 0 ? 0 : total;
            before = !strcmp(auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
            after = total - before;
        }
        if (before < 0 || after < 0 || before >= k[a] || after >= k[a]) return fv_onnx_fail(im, "pads must be in [0, kernel)");
        int64_t in = x->dim[2 + a], span = in + before + after - k[a];
        if (ceil_mode && span >= 0 && span % st[a]) { /* ceil mode: one more window, if it starts inside */
            int64_t extra = st[a] - span % st[a];
            if ((span / st[a] + 1) * st[a] >= in + before) extra = 0;
            if (extra && !max) return fv_onnx_fail(im, "ceil_mode=1 with average pooling");
            after += extra;
            if (after >= k[a]) return fv_onnx_fail(im, "ceil_mode=1 needs padding as large as the kernel");
        }
        l.pool.pad[t][0] = (int)before, l.pool.pad[t][1] = (int)after;
        any_pad |= before || after;
    }
    if (!max && any_pad && !include_pad && l.pool.padding == FV_PAD_EXPLICIT)
        return fv_onnx_fail(im, "count_include_pad=0 with explicit pads (fovea's explicit padding counts in the average)");
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    return node >= 0 && fv_onnx_set_output(im, 0, node, x, NULL, 0) ? FV_OK : FV_ERR;
}

static fv_status op_global_avgpool(importer *im) {
    value *x = fv_onnx_activation_input(im, 0);
    if (!x) return FV_ERR;
    if (x->rank < 3) return fv_onnx_fail(im, "input rank %d (needs spatial axes)", x->rank);
    if (fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_global_avgpool();
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    int64_t dims[FV_ONNX_MAX_RANK];
    dims[0] = x->dim[0], dims[1] = x->dim[1];
    for (int a = 2; a < x->rank; a++) dims[a] = 1;
    return fv_onnx_set_output(im, 0, node, NULL, dims, x->rank) ? FV_OK : FV_ERR;
}

static fv_status op_batchnorm(importer *im) {
    static const char *const known[] = {"epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs", NULL};
    if (fv_onnx_check_attributes(im, known) != FV_OK) return FV_ERR;
    if (fv_onnx_attr_int(im, "training_mode", 0)) return fv_onnx_fail(im, "training_mode=1 (batch statistics in inference)");
    if (fv_onnx_attr_int(im, "spatial", 1) != 1) return fv_onnx_fail(im, "spatial=0");
    for (size_t o = 1; o < im->at->n_output; o++)
        if (*im->at->output[o]) return fv_onnx_fail(im, "the running-statistics outputs are not supported");
    value *x = fv_onnx_activation_input(im, 0);
    if (!x || fv_onnx_shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_batchnorm();
    l.batchnorm.epsilon = fv_onnx_attr_float(im, "epsilon", 1e-5f);
    l.batchnorm.momentum = fv_onnx_attr_float(im, "momentum", 0.9f);
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    static const char *const params[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    static const char *const what[4] = {"scale", "B", "mean", "var"};
    for (int p = 0; p < 4; p++) {
        value *c = fv_onnx_constant_input(im, 1 + (size_t)p, what[p]);
        float *v = c ? fv_onnx_channel_vector(im, c, (int)x->dim[1], 1.0f, what[p]) : NULL;
        if (!v || fv_onnx_add_pending(im, node, params[p], v, (size_t)x->dim[1]) != FV_OK) return FV_ERR;
    }
    return fv_onnx_set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

/* A constant broadcast (numpy's rules) to x's per-sample values, in the order of x's memory:
 * ONNX's order without the batch (plain data, the batch wherever it is), or fovea's channels-last
 * order: per_sample floats, or NULL with an error. */
static float *broadcast_constant(importer *im, const value *c, const value *x, size_t *per_sample) {
    int r = x->rank, bt = x->batch_axis;
    if (c->rank > r) return fv_onnx_fail(im, "constant '%s' has more axes (%d) than the data (%d)", c->name, c->rank, r), NULL;
    int64_t cd[FV_ONNX_MAX_RANK] = {0}; /* c's dims right-aligned to x's */
    for (int a = 0; a < r; a++) cd[a] = a < r - c->rank ? 1 : c->dim[a - (r - c->rank)];
    if (bt >= 0 && cd[bt] != 1) return fv_onnx_fail(im, "constant '%s' varies along the batch axis", c->name), NULL;
    for (int a = 0; a < r; a++)
        if (a != bt && cd[a] != 1 && cd[a] != x->dim[a]) return fv_onnx_fail(im, "constant '%s' does not broadcast to the data's shape", c->name), NULL;
    size_t cstride[FV_ONNX_MAX_RANK] = {0}, stride = 1;
    for (int a = r - 1; a >= 0; a--) cstride[a] = cd[a] != 1 ? stride : 0, stride *= (size_t)cd[a];
    /* the memory's axes after the batch and, for each, the constant's stride along it */
    int64_t md[FV_ONNX_MAX_RANK + 2];
    size_t mstride[FV_ONNX_MAX_RANK + 2] = {0};
    int mr;
    if (x->plain) {
        int memory_axis[FV_ONNX_MAX_RANK];
        mr = fv_onnx_memory_dims(x, md, memory_axis);
        for (int a = 0; a < r; a++)
            if (memory_axis[a] > 0) mstride[memory_axis[a]] = cstride[a]; /* the batch's merged factors: 0 (cd is 1 there) */
    } else { /* (S..., C) */
        mr = r;
        for (int a = 2; a < r; a++) md[a - 1] = x->dim[a], mstride[a - 1] = cstride[a];
        md[r - 1] = x->dim[1], mstride[r - 1] = cstride[1];
    }
    size_t per = 1;
    for (int m = 1; m < mr; m++) per *= (size_t)md[m];
    float *out = malloc(per * sizeof *out);
    if (!out) return fv_onnx_fail(im, "out of memory"), NULL;
    for (size_t i = 0; i < per; i++) {
        size_t rest = i, ci = 0;
        for (int m = mr - 1; m >= 1; m--) ci += rest % (size_t)md[m] * mstride[m], rest /= (size_t)md[m];
        out[i] = c->f[ci];
    }
    *per_sample = per;
    return out;
}

/* Add, Sub, Mul, Div with one constant operand, and Neg: an affine layer y = x * scale + shift. */
static fv_status op_affine(importer *im, char op) {
    value *a = fv_onnx_input(im, 0), *b = op == 'n' ? NULL : fv_onnx_input(im, 1);
    if (!a || (op != 'n' && !b)) return FV_ERR;
    if (op != 'n' && a->node < 0 && b->node < 0) return fv_onnx_fail(im, "arithmetic on two constants is not folded");
    int reversed = op != 'n' && a->node < 0; /* c - x, c / x */
    value *x = reversed ? b : a, *c = op == 'n' ? NULL : reversed ? a : b;
    if (x->node < 0) return fv_onnx_fail(im, "input '%s' is a constant", x->name);
    if (op == '/' && reversed) return fv_onnx_fail(im, "a constant divided by the data (fovea scales and shifts by constants only)");
    int64_t memory[FV_ONNX_MAX_RANK + 2]; /* values per sample, in either layout: the memory's after the batch */
    size_t per = 1;
    for (int m = 1, mr = fv_onnx_memory_dims(x, memory, NULL); m < mr; m++) per *= (size_t)memory[m];
    float *k = c ? broadcast_constant(im, c, x, &per) : NULL;
    if (c && !k) return FV_ERR;
    float *scale = malloc(per * sizeof *scale), *shift = malloc(per * sizeof *shift);
    if (!scale || !shift) return free(k), free(scale), free(shift), fv_onnx_fail(im, "out of memory");
    for (size_t i = 0; i < per; i++) {
        float v = k ? k[i] : 0.0f;
        scale[i] = op == '*' ? v : op == '/' ? 1.0f / v : (op == 'n' || (op == '-' && reversed)) ? -1.0f : 1.0f;
        shift[i] = op == '+' ? v : op == '-' ? (reversed ? v : -v) : 0.0f;
    }
    free(k);
    if (fv_onnx_shaped_node(im, x) < 0) return free(scale), free(shift), FV_ERR;
    fv_layer l = fv_affine();
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (node < 0) return free(scale), free(shift), FV_ERR;
    if (fv_onnx_add_pending(im, node, "scale", scale, per) != FV_OK) return free(shift), FV_ERR;
    if (fv_onnx_add_pending(im, node, "shift", shift, per) != FV_OK) return FV_ERR;
    value *out = fv_onnx_set_output(im, 0, node, NULL, x->dim, x->rank);
    if (out) out->plain = x->plain, fv_onnx_keep_batch(out, x);
    return out ? FV_OK : FV_ERR;
}

/* PRelu: a slope per channel (shape (C, 1, ...), (C) on a vector, or one value), learned when
 * fine-tuned. Before opset 7 a (C) slope meant the channels of any input. */
static fv_status op_prelu(importer *im) {
    value *x = fv_onnx_activation_input(im, 0), *slope = x ? fv_onnx_constant_input(im, 1, "the slope") : NULL;
    if (!slope) return FV_ERR;
    int c = x->rank >= 2 ? (int)x->dim[1] : 1;
    float *alpha = malloc((size_t)c * sizeof *alpha);
    if (!alpha) return fv_onnx_fail(im, "out of memory");
    if (im->opset < 7 && slope->count == (size_t)c) {
        memcpy(alpha, slope->f, (size_t)c * sizeof *alpha);
    } else {
        size_t per;
        float *full = broadcast_constant(im, slope, x, &per); /* channels last: per / c positions */
        if (!full) return free(alpha), FV_ERR;
        for (int k = 0; k < c; k++) alpha[k] = full[k];
        for (size_t i = 0; i < per; i++)
            if (full[i] != alpha[i % (size_t)c]) {
                free(full), free(alpha);
                return fv_onnx_fail(im, "the slope varies within a channel (fovea learns one per channel)");
            }
        free(full);
    }
    if (fv_onnx_shaped_node(im, x) < 0) return free(alpha), FV_ERR;
    fv_layer l = fv_prelu();
    value *ins[1] = {x};
    int node = fv_onnx_add_node(im, &l, ins, 1, "");
    if (node < 0) return free(alpha), FV_ERR;
    if (fv_onnx_add_pending(im, node, "alpha", alpha, (size_t)c) != FV_OK) return FV_ERR;
    return fv_onnx_set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

static fv_status op_add(importer *im) {
    value *ins[FV_MAX_INPUTS];
    int n = (int)im->at->n_input;
    if (n == 2 && !strcmp(im->at->op_type, "Add")) {
        value *a = fv_onnx_input(im, 0), *b = fv_onnx_input(im, 1);
        if (!a || !b) return FV_ERR;
        if (a->node < 0 || b->node < 0) return op_affine(im, '+');
        if (a->plain != b->plain && !(fv_onnx_to_channels_last(im, a) && fv_onnx_to_channels_last(im, b))) return FV_ERR;
        int same = a->rank == b->rank && a->plain == b->plain && a->batch_axis == b->batch_axis && a->batch_outer == b->batch_outer &&
                   a->batch_inner == b->batch_inner;
        for (int k = 0; same && k < a->rank; k++) same = k == a->batch_axis || a->dim[k] == b->dim[k];
        if (!same) return fv_onnx_op_binary(im, FV_BINARY_ADD); /* broadcast */
    }
    if (n < 1 || n > FV_MAX_INPUTS) return fv_onnx_fail(im, "%d inputs (at most %d)", n, FV_MAX_INPUTS);
    for (int i = 0; i < n; i++) {
        value *v = fv_onnx_input(im, (size_t)i);
        if (!v) return FV_ERR;
        if (v->node < 0) return fv_onnx_fail(im, "adding a constant ('%s') is not supported yet", v->name);
        if (i && v->plain != ins[0]->plain && !(fv_onnx_to_channels_last(im, v) && fv_onnx_to_channels_last(im, ins[0]))) return FV_ERR;
        if (i && v->rank != ins[0]->rank) return fv_onnx_fail(im, "operands of ranks %d and %d (broadcasting is not supported)", ins[0]->rank, v->rank);
        if (i && (v->batch_axis != ins[0]->batch_axis || v->batch_outer != ins[0]->batch_outer || v->batch_inner != ins[0]->batch_inner))
            return fv_onnx_fail(im, "operands with the batch in different places");
        for (int a = 0; i && a < v->rank; a++)
            if (a != v->batch_axis && v->dim[a] != ins[0]->dim[a]) return fv_onnx_fail(im, "operands of different shapes (broadcasting is not supported)");
        if (fv_onnx_shaped_node(im, v) < 0) return FV_ERR;
        ins[i] = v;
    }
    if (n == 1) return fv_onnx_alias(im, 0, ins[0]) ? FV_OK : FV_ERR;
    fv_layer l = fv_add();
    int fused;
    if (fv_onnx_fuse_activation(im, &l.add.activation, &l.add.alpha, &fused) != FV_OK) return FV_ERR;
    int node = fv_onnx_add_node(im, &l, ins, n, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, ins[0]->dim, ins[0]->rank) : NULL;
    if (out) out->plain = ins[0]->plain, fv_onnx_keep_batch(out, ins[0]);
    return out ? fv_onnx_finish_fused(im, fused, out) : FV_ERR;
}

/* Concat of values whose batch is elsewhere than alone on axis 0 (in one place in all of them):
 * along any other axis, in ONNX's order. */
static fv_status concat_moved(importer *im, value **ins, int n, int64_t axis) {
    const value *first = ins[0];
    if (axis < 0 || axis >= first->rank || axis == first->batch_axis)
        return fv_onnx_fail(im, "concatenation along axis %lld (fovea keeps the batch axis whole)", (long long)axis);
    int64_t dims[FV_ONNX_MAX_RANK];
    memcpy(dims, first->dim, sizeof dims);
    dims[axis] = 0;
    for (int i = 0; i < n; i++) {
        value *v = ins[i];
        if (v->node < 0) return fv_onnx_fail(im, "concatenating a constant ('%s') with data is not supported", v->name);
        if (v->rank != first->rank || v->batch_axis != first->batch_axis || v->batch_outer != first->batch_outer || v->batch_inner != first->batch_inner)
            return fv_onnx_fail(im, "inputs of different ranks or with the batch in different places");
        for (int a = 0; a < first->rank; a++)
            if (a != axis && a != first->batch_axis && v->dim[a] != first->dim[a]) return fv_onnx_fail(im, "inputs of different sizes on axis %d", a);
        dims[axis] += v->dim[axis];
        if (!fv_onnx_to_plain(im, v) || fv_onnx_shaped_node(im, v) < 0) return FV_ERR;
    }
    int64_t memory[FV_ONNX_MAX_RANK + 2];
    int memory_axis[FV_ONNX_MAX_RANK];
    fv_onnx_memory_dims(first, memory, memory_axis);
    fv_layer l = fv_concat();
    l.concat.axis = memory_axis[axis] - 1;
    int node = fv_onnx_add_node(im, &l, ins, n, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, first->rank) : NULL;
    if (out) out->plain = 1, fv_onnx_keep_batch(out, first);
    return out ? FV_OK : FV_ERR;
}

static fv_status op_concat(importer *im) {
    int n = (int)im->at->n_input;
    value *ins[FV_MAX_INPUTS];
    if (n < 1) return fv_onnx_fail(im, "no inputs");
    if (n > FV_MAX_INPUTS) return fv_onnx_fail(im, "%d inputs (at most %d)", n, FV_MAX_INPUTS);
    int64_t batch = 0; /* a batch fixed in the file */
    int moved = 0;
    for (int i = 0; i < n; i++) { /* all constants (a shape being assembled) were folded before */
        if (!(ins[i] = fv_onnx_input(im, (size_t)i))) return FV_ERR;
        if (ins[i]->node >= 0 && !fv_onnx_batch_moved(ins[i]) && ins[i]->dim[0] > 0) batch = ins[i]->dim[0];
        moved |= fv_onnx_batch_moved(ins[i]);
    }
    for (int i = 0; i < n && (batch || im->unbatched); i++) /* unbatched: a constant is one sample's too */
        if (ins[i]->node < 0 && fv_onnx_constant_as_data(im, ins[i], im->unbatched ? 0 : batch, &ins[i]) < 0) return FV_ERR;
    if (n == 1) return fv_onnx_alias(im, 0, ins[0]) ? FV_OK : FV_ERR; /* densenet's first dense layer */
    int64_t axis = fv_onnx_attr_int(im, "axis", 1);
    if (axis < 0) axis += ins[0]->rank;
    if (moved) return concat_moved(im, ins, n, axis);
    if (axis < 1 || axis >= ins[0]->rank) return fv_onnx_fail(im, "concatenation along axis %lld (fovea keeps the batch axis whole)", (long long)axis);
    /* along the channels: channels last; along another axis: in ONNX's order when any input is
     * there already (a ViT's tokens), else channels last */
    int plain = 0;
    for (int i = 0; i < n && axis != 1; i++) plain |= ins[i]->plain && !fv_onnx_layout_trivial(ins[i]);
    int64_t dims[FV_ONNX_MAX_RANK];
    memcpy(dims, ins[0]->dim, sizeof dims);
    dims[axis] = 0;
    for (int i = 0; i < n; i++) {
        if (ins[i]->node < 0) return fv_onnx_fail(im, "concatenating a constant ('%s') with data is not supported", ins[i]->name);
        if (ins[i]->rank != ins[0]->rank) return fv_onnx_fail(im, "inputs of different ranks");
        for (int a = 1; a < ins[0]->rank; a++)
            if (a != axis && ins[i]->dim[a] != ins[0]->dim[a]) return fv_onnx_fail(im, "inputs of different sizes on axis %d", a);
        dims[axis] += ins[i]->dim[axis];
        if (!(plain ? fv_onnx_to_plain(im, ins[i]) : fv_onnx_to_channels_last(im, ins[i]))) return FV_ERR;
        if (fv_onnx_shaped_node(im, ins[i]) < 0) return FV_ERR;
    }
    fv_layer l = fv_concat();
    l.concat.axis = plain ? (int)axis - 1 : axis == 1 ? -1 : (int)axis - 2;
    int node = fv_onnx_add_node(im, &l, ins, n, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, dims, ins[0]->rank) : NULL;
    if (out) out->plain = plain;
    return out ? FV_OK : FV_ERR;
}

static fv_status op_dropout(importer *im) {
    value *x = fv_onnx_input(im, 0);
    if (!x) return FV_ERR;
    float ratio = im->opset < 12 ? fv_onnx_attr_float(im, "ratio", 0.5f) : 0.5f;
    if (im->opset >= 12 && fv_onnx_has_input(im, 1)) {
        value *r = fv_onnx_constant_input(im, 1, "ratio");
        if (!r || r->count != 1) return r ? fv_onnx_fail(im, "ratio must be one value") : FV_ERR;
        ratio = r->f[0];
    }
    if (fv_onnx_has_input(im, 2)) {
        value *t = fv_onnx_constant_input(im, 2, "training_mode");
        if (!t || t->count != 1) return t ? fv_onnx_fail(im, "training_mode must be one value") : FV_ERR;
        if (t->f[0] != 0.0f) return fv_onnx_fail(im, "training_mode=true (a random mask at inference)");
    }
    for (size_t o = 1; o < im->at->n_output; o++)
        if (*im->at->output[o]) return fv_onnx_fail(im, "the mask output is not supported");
    if (x->node < 0 || ratio == 0.0f) return fv_onnx_alias(im, 0, x) ? FV_OK : FV_ERR;
    if (!(ratio > 0.0f && ratio < 1.0f)) return fv_onnx_fail(im, "ratio %g", (double)ratio);
    fv_layer l = fv_dropout(ratio); /* identity at inference, as ONNX's; dropout when fine-tuned */
    return fv_onnx_elementwise(im, x, &l) ? FV_OK : FV_ERR;
}

fv_status fv_onnx_op_constant(importer *im) {
    const FvOnnx__AttributeProto *a = fv_onnx_typed_attribute(im, "value", FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    if (a && a->t) return fv_onnx_add_constant(im, im->at->output[0], a->t) ? FV_OK : FV_ERR;
    const FvOnnx__AttributeProto *f = fv_onnx_typed_attribute(im, "value_float", FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    const FvOnnx__AttributeProto *fs = fv_onnx_typed_attribute(im, "value_floats", FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    const FvOnnx__AttributeProto *i = fv_onnx_typed_attribute(im, "value_int", FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    const FvOnnx__AttributeProto *is = fv_onnx_typed_attribute(im, "value_ints", FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    if (im->bad_attribute) return FV_ERR;
    float buf[64];
    size_t n = 0;
    if (f) buf[n++] = f->f;
    else if (i) buf[n++] = (float)i->i;
    else if (fs && fs->n_floats <= 64) for (; n < fs->n_floats; n++) buf[n] = fs->floats[n];
    else if (is && is->n_ints <= 64) for (; n < is->n_ints; n++) buf[n] = (float)is->ints[n];
    else return fv_onnx_fail(im, "a constant of a kind fovea does not read");
    for (size_t k = 0; k < n; k++)
        if (isnan(buf[k])) return fv_onnx_fail(im, "the constant holds a NaN");
    value *v = fv_onnx_fold_constant(im, im->at->output[0], buf, n, f || i ? 0 : 1);
    if (v) v->is_int = !(f || fs);
    return v ? FV_OK : FV_ERR;
}

/* Readers the table needs with an operator's own argument. */
static fv_status read_gemm(importer *im) { return op_dense(im, 1); }
static fv_status read_matmul(importer *im) { return op_dense(im, 0); }
static fv_status read_maxpool(importer *im) { return op_pool(im, 1); }
static fv_status read_avgpool(importer *im) { return op_pool(im, 0); }
static fv_status read_squeeze(importer *im) { return fv_onnx_op_squeeze(im, 0); }
static fv_status read_unsqueeze(importer *im) { return fv_onnx_op_squeeze(im, 1); }
static fv_status read_neg(importer *im) { return op_affine(im, 'n'); }
static fv_status read_identity(importer *im) {
    value *x = fv_onnx_input(im, 0);
    return x && fv_onnx_alias(im, 0, x) ? FV_OK : FV_ERR;
}
/* Sub, Mul, Div: of two computed tensors a binary layer, with a constant an affine one */
static fv_status read_sub(importer *im) { return fv_onnx_computed_pair(im) ? fv_onnx_op_binary(im, FV_BINARY_SUB) : op_affine(im, '-'); }
static fv_status read_mul(importer *im) { return fv_onnx_computed_pair(im) ? fv_onnx_op_binary(im, FV_BINARY_MUL) : op_affine(im, '*'); }
static fv_status read_div(importer *im) {
    if (fv_onnx_computed_pair(im)) return fv_onnx_op_binary(im, FV_BINARY_DIV);
    int last;
    value *x = fv_onnx_input(im, 0);
    if (x && x->node >= 0 && gelu_chain(im, &last)) { /* one gelu layer */
        fv_layer l = fv_unary(FV_UNARY_GELU);
        value *out = fv_onnx_elementwise(im, x, &l);
        return out ? fv_onnx_finish_fused(im, last, out) : FV_ERR;
    }
    return op_affine(im, '/');
}
static fv_status read_binary(importer *im) { return fv_onnx_op_binary(im, fv_onnx_word(fv_onnx_binary_ops, FV_BINARY_COUNT, im->at->op_type)); }
static fv_status read_unary(importer *im) { return fv_onnx_op_unary(im, fv_onnx_word(fv_onnx_unary_ops, FV_UNARY_COUNT, im->at->op_type)); }
static fv_status read_reduce(importer *im) { return fv_onnx_op_reduce(im, fv_onnx_word(fv_onnx_reduce_ops, FV_REDUCE_COUNT, im->at->op_type)); }

/* One row per ONNX operator fovea imports (docs/ONNX.md lists what each supports): its reader,
 * how many inputs ONNX gives it at most (more is an error, not ignored), whether it reads values
 * in either layout as they are (else they are moved to channels last first), and whether it reads
 * values whose batch is moved or merged (else such an input is refused, naming the node). */
typedef struct op_row {
    const char *op;
    fv_status (*read)(importer *im);
    int max_inputs;
    unsigned any_layout : 1;
    unsigned batch_anywhere : 1;
} op_row;

#define FV_ONNX_VARIADIC 1000000
static const op_row op_table[] = {
    {.op = "Conv", .read = op_conv, .max_inputs = 3},
    {.op = "Gemm", .read = read_gemm, .max_inputs = 3, .batch_anywhere = 1},
    {.op = "MatMul", .read = read_matmul, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Relu", .read = op_activation, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "LeakyRelu", .read = op_activation, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Sigmoid", .read = op_activation, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Tanh", .read = op_activation, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Clip", .read = op_activation, .max_inputs = 3, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Softmax", .read = op_softmax, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "MaxPool", .read = read_maxpool, .max_inputs = 1},
    {.op = "AveragePool", .read = read_avgpool, .max_inputs = 1},
    {.op = "GlobalAveragePool", .read = op_global_avgpool, .max_inputs = 1},
    {.op = "BatchNormalization", .read = op_batchnorm, .max_inputs = 5},
    {.op = "Add", .read = op_add, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Sum", .read = op_add, .max_inputs = FV_ONNX_VARIADIC, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Concat", .read = op_concat, .max_inputs = FV_ONNX_VARIADIC, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Dropout", .read = op_dropout, .max_inputs = 3, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Identity", .read = read_identity, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Constant", .read = fv_onnx_op_constant, .max_inputs = 0},
    {.op = "Shape", .read = fv_onnx_op_shape, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Gather", .read = fv_onnx_op_gather_data, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Unsqueeze", .read = read_unsqueeze, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Squeeze", .read = read_squeeze, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Flatten", .read = fv_onnx_op_flatten, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Reshape", .read = fv_onnx_op_reshape, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Transpose", .read = fv_onnx_op_transpose, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Sub", .read = read_sub, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Mul", .read = read_mul, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Div", .read = read_div, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Neg", .read = read_neg, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "HardSigmoid", .read = op_activation, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "LogSoftmax", .read = op_softmax, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "PRelu", .read = op_prelu, .max_inputs = 2},
    {.op = "Max", .read = read_binary, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Min", .read = read_binary, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Pow", .read = fv_onnx_op_pow, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Exp", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Log", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Sqrt", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Erf", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Abs", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Reciprocal", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Elu", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Selu", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Celu", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ThresholdedRelu", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Shrink", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Softplus", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Softsign", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "HardSwish", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Sin", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Cos", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Tan", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Asin", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Acos", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Atan", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Sinh", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Cosh", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Asinh", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Acosh", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Atanh", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Floor", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Ceil", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Round", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Sign", .read = read_unary, .max_inputs = 1, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceMean", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceSum", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceMax", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceMin", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceProd", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceSumSquare", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceL1", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceL2", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceLogSum", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "ReduceLogSumExp", .read = read_reduce, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Pad", .read = fv_onnx_op_pad, .max_inputs = 4, .any_layout = 1},
    {.op = "Slice", .read = fv_onnx_op_slice, .max_inputs = 5, .any_layout = 1, .batch_anywhere = 1},
    {.op = "Expand", .read = fv_onnx_op_expand, .max_inputs = 2, .any_layout = 1},
    {.op = "Resize", .read = fv_onnx_op_resize, .max_inputs = 4},
    {.op = "Upsample", .read = fv_onnx_op_resize, .max_inputs = 2},
    {.op = "ConvTranspose", .read = fv_onnx_op_conv_transpose, .max_inputs = 3},
    {.op = "Split", .read = fv_onnx_op_split, .max_inputs = 2, .any_layout = 1, .batch_anywhere = 1},
};

static const op_row *find_op(const char *op_type) {
    for (size_t i = 0; i < sizeof op_table / sizeof *op_table; i++)
        if (!strcmp(op_table[i].op, op_type)) return &op_table[i];
    return NULL;
}

fv_status fv_onnx_check_node(importer *im) {
    const FvOnnx__NodeProto *n = im->at;
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx"))
        return fv_onnx_fail(im, "operator domain '%s' is not supported (only the standard ONNX operators)", n->domain);
    for (size_t i = 0; i < n->n_attribute; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(n->attribute[i]->name, n->attribute[j]->name))
                return fv_onnx_fail(im, "attribute '%s' is given twice", n->attribute[i]->name);
    const op_row *row = find_op(n->op_type);
    if (row && n->n_input > (size_t)row->max_inputs)
        return fv_onnx_fail(im, "%zu inputs; %s takes at most %d", n->n_input, n->op_type, row->max_inputs);
    return FV_OK;
}

int fv_onnx_supports(const char *op_type) { return find_op(op_type) != NULL; }

fv_status fv_onnx_translate(importer *im) {
    const FvOnnx__NodeProto *n = im->at;
    int folded;
    if (fv_onnx_fold(im, &folded) != FV_OK) return FV_ERR;
    if (folded) return FV_OK; /* every input a constant: computed now */
    const op_row *row = find_op(n->op_type);
    if (!row) return fv_onnx_fail(im, "operator %s is not supported", n->op_type);
    if (n->n_output < 1) return fv_onnx_fail(im, "no outputs");
    for (size_t i = 0; i < n->n_input && !row->batch_anywhere; i++) {
        value *v = *n->input[i] ? fv_onnx_find_value(im, n->input[i]) : NULL;
        if (v && fv_onnx_batch_moved(v))
            return fv_onnx_fail(im, "input '%s' has the batch on axis %d, merged with other axes or behind them (a transposed attention); %s reads it only with the batch first",
                                v->name, v->batch_axis, n->op_type);
    }
    for (size_t i = 0; i < n->n_input && !row->any_layout; i++) { /* channels last for the rest */
        value *v = *n->input[i] ? fv_onnx_find_value(im, n->input[i]) : NULL;
        if (v && v->plain && !fv_onnx_batch_moved(v) && !fv_onnx_to_channels_last(im, v)) return FV_ERR; /* moved: Gemm reads it as it is */
    }
    return row->read(im);
}

