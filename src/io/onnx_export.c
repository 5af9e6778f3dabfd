/* onnx_export.c — any fovea network as an ONNX model (opset 13), written with protobuf-c.
 *
 * Every fovea node's output becomes an ONNX tensor in ONNX's channels-first layout (onnx.h's rule
 * backwards): (S..., C) per sample is (N, C, S...). Weights are transposed to ONNX's order
 * (conv kernels (k..., Cin/g, M) -> (M, Cin/g, k...)), fused activations become nodes of their
 * own, a dense layer over the channels of a map is a 1 x 1 convolution, and a channels-last
 * flatten or a reshape goes through fovea's order with Transposes around it. */
#include "io/onnx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct exporter {
    FvOnnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    FvOnnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    void **allocs; /* everything allocated for the model, freed together */
    size_t n_allocs, cap_allocs;
    const fv_net *net;
    const char **value;  /* per fovea node: the name of its ONNX output */
    int failed;
    fv_error *err;
} exporter;

static void *ex_alloc(exporter *ex, size_t size) {
    if (ex->failed) return NULL;
    if (ex->n_allocs == ex->cap_allocs) {
        size_t cap = ex->cap_allocs ? 2 * ex->cap_allocs : 256;
        void **grown = realloc(ex->allocs, cap * sizeof *grown);
        if (!grown) return ex->failed = 1, fv_fail(ex->err, "out of memory exporting"), NULL;
        ex->allocs = grown, ex->cap_allocs = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (!p) return ex->failed = 1, fv_fail(ex->err, "out of memory exporting"), NULL;
    return ex->allocs[ex->n_allocs++] = p;
}

static char *ex_str(exporter *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ex_str(exporter *ex, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = ex_alloc(ex, strlen(buf) + 1);
    if (s) strcpy(s, buf);
    return s;
}

/* Appends p to a growing array of pointers. */
static void push(exporter *ex, void ***array, size_t *n, size_t *cap, void *p) {
    if (ex->failed || !p) return;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        void **grown = realloc(*array, c * sizeof *grown);
        if (!grown) {
            ex->failed = 1;
            fv_fail(ex->err, "out of memory exporting");
            return;
        }
        *array = grown, *cap = c;
    }
    (*array)[(*n)++] = p;
}

/* A node op(inputs) -> output; returns it for attributes (NULL after a failure). */
static FvOnnx__NodeProto *ex_node(exporter *ex, const char *op, const char *name, const char *const *inputs, int n_inputs,
                                  const char *output) {
    FvOnnx__NodeProto *n = ex_alloc(ex, sizeof *n);
    char **ins = ex_alloc(ex, (size_t)n_inputs * sizeof *ins), **outs = ex_alloc(ex, sizeof *outs);
    if (!n || !ins || !outs) return NULL;
    FvOnnx__NodeProto init = FV_ONNX__NODE_PROTO__INIT;
    *n = init;
    n->op_type = (char *)op;
    n->name = (char *)name;
    for (int i = 0; i < n_inputs; i++) ins[i] = (char *)inputs[i];
    n->n_input = (size_t)n_inputs, n->input = ins;
    outs[0] = (char *)output;
    n->n_output = 1, n->output = outs;
    push(ex, (void ***)&ex->nodes, &ex->n_nodes, &ex->cap_nodes, n);
    return n;
}

static FvOnnx__AttributeProto *ex_attr(exporter *ex, FvOnnx__NodeProto *n, const char *name, FvOnnx__AttributeProto__AttributeType type) {
    if (!n) return NULL;
    FvOnnx__AttributeProto *a = ex_alloc(ex, sizeof *a);
    FvOnnx__AttributeProto **list = ex_alloc(ex, (n->n_attribute + 1) * sizeof *list);
    if (!a || !list) return NULL;
    FvOnnx__AttributeProto init = FV_ONNX__ATTRIBUTE_PROTO__INIT;
    *a = init;
    a->name = (char *)name;
    a->has_type = 1, a->type = type;
    if (n->n_attribute) memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;
    return a;
}

static void attr_int(exporter *ex, FvOnnx__NodeProto *n, const char *name, int64_t v) {
    FvOnnx__AttributeProto *a = ex_attr(ex, n, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = 1, a->i = v;
}

static void attr_float(exporter *ex, FvOnnx__NodeProto *n, const char *name, float v) {
    FvOnnx__AttributeProto *a = ex_attr(ex, n, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) a->has_f = 1, a->f = v;
}

/* v must outlive the export (the words of fovea's tables do). */
static void attr_string(exporter *ex, FvOnnx__NodeProto *n, const char *name, const char *v) {
    FvOnnx__AttributeProto *a = ex_attr(ex, n, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    if (a) a->has_s = 1, a->s.data = (uint8_t *)(uintptr_t)v, a->s.len = strlen(v);
}

static void attr_ints(exporter *ex, FvOnnx__NodeProto *n, const char *name, const int64_t *v, int count) {
    FvOnnx__AttributeProto *a = ex_attr(ex, n, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = ex_alloc(ex, (size_t)count * sizeof *copy);
    if (!a || !copy) return;
    memcpy(copy, v, (size_t)count * sizeof *v);
    a->n_ints = (size_t)count, a->ints = copy;
}

/* An initializer: float32 (data) or int64 (ints), stored as raw little-endian bytes. */
static const char *ex_init(exporter *ex, const char *name, const int64_t *dims, int rank, const float *data, const int64_t *ints) {
    FvOnnx__TensorProto *t = ex_alloc(ex, sizeof *t);
    int64_t *d = ex_alloc(ex, (size_t)rank * sizeof *d);
    size_t count = 1;
    for (int i = 0; i < rank; i++) count *= (size_t)dims[i];
    size_t bytes = count * (data ? sizeof(float) : sizeof(int64_t));
    unsigned char *raw = ex_alloc(ex, bytes);
    if (!t || !d || !raw) return NULL;
    FvOnnx__TensorProto init = FV_ONNX__TENSOR_PROTO__INIT;
    *t = init;
    if (rank) memcpy(d, dims, (size_t)rank * sizeof *d);
    memcpy(raw, data ? (const void *)data : (const void *)ints, bytes);
    t->n_dims = (size_t)rank, t->dims = d;
    t->has_data_type = 1;
    t->data_type = data ? FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT : FV_ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->has_raw_data = 1, t->raw_data.len = bytes, t->raw_data.data = raw;
    t->name = (char *)name;
    push(ex, (void ***)&ex->inits, &ex->n_inits, &ex->cap_inits, t);
    return name;
}

static const char *scalar(exporter *ex, const char *name, float v) { return ex_init(ex, name, NULL, 0, &v, NULL); }

/* An int8 initializer (QDQ's quantised weights and zero points). */
static const char *ex_init_int8(exporter *ex, const char *name, const int64_t *dims, int rank, const int8_t *data) {
    FvOnnx__TensorProto *t = ex_alloc(ex, sizeof *t);
    int64_t *d = ex_alloc(ex, (size_t)(rank ? rank : 1) * sizeof *d);
    size_t count = 1;
    for (int i = 0; i < rank; i++) count *= (size_t)dims[i];
    unsigned char *raw = ex_alloc(ex, count);
    if (!t || !d || !raw) return NULL;
    FvOnnx__TensorProto init = FV_ONNX__TENSOR_PROTO__INIT;
    *t = init;
    if (rank) memcpy(d, dims, (size_t)rank * sizeof *d);
    memcpy(raw, data, count);
    t->n_dims = (size_t)rank, t->dims = d;
    t->has_data_type = 1, t->data_type = FV_ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    t->has_raw_data = 1, t->raw_data.len = count, t->raw_data.data = raw;
    t->name = (char *)name;
    push(ex, (void ***)&ex->inits, &ex->n_inits, &ex->cap_inits, t);
    return name;
}

/* int8 layers in QDQ form (what ONNX Runtime's quantisation tools write): the input through
 * QuantizeLinear and DequantizeLinear with the layer's scale (an add's output with its own), and
 * the weights as int8 with a scale per output channel (along `axis` of the ONNX weight),
 * dequantised: the same arithmetic as fovea's int8 (src/core/precision.c). */
static const char *qdq(exporter *ex, const char *base, const char *what, const char *in, float scale) {
    static const int8_t zero = 0;
    const char *s = scalar(ex, ex_str(ex, "%s.%s_scale", base, what), scale);
    const char *zp = ex_init_int8(ex, ex_str(ex, "%s.%s_zero_point", base, what), NULL, 0, &zero);
    const char *q = ex_str(ex, "%s/%s_quantized", base, what), *dq = ex_str(ex, "%s/%s_dequantized", base, what);
    const char *qi[3] = {in, s, zp}, *di[3] = {q, s, zp};
    ex_node(ex, "QuantizeLinear", ex_str(ex, "%s/quantize_%s", base, what), qi, 3, q);
    ex_node(ex, "DequantizeLinear", ex_str(ex, "%s/dequantize_%s", base, what), di, 3, dq);
    return dq;
}

static const char *qdq_input(exporter *ex, const char *base, const char *in, float scale) { return qdq(ex, base, "input", in, scale); }

/* w: the ONNX weight (dims, rank), output channels along `axis`; quantised as fv_quantize_weights
 * does (it wants the channels last: a (rows, channels) view is made for axis 0). */
static const char *qdq_weights(exporter *ex, const char *base, const float *w, const int64_t *dims, int rank, int axis) {
    size_t count = 1, channels = (size_t)dims[axis];
    for (int i = 0; i < rank; i++) count *= (size_t)dims[i];
    size_t per = count / channels;
    float *last = ex_alloc(ex, count * sizeof *last), *scale = ex_alloc(ex, channels * sizeof *scale);
    int8_t *q = ex_alloc(ex, count), *q_onnx = ex_alloc(ex, count), *zeros = ex_alloc(ex, channels);
    if (!last || !scale || !q || !q_onnx || !zeros) return NULL;
    for (size_t c = 0; c < channels; c++) /* axis 0: (channels, per) -> (per, channels); axis = rank - 1 is that already */
        for (size_t i = 0; i < per; i++) last[i * channels + c] = axis == 0 ? w[c * per + i] : w[i * channels + c];
    fv_quantize_weights(last, count, (int)channels, q, scale);
    for (size_t c = 0; c < channels; c++)
        for (size_t i = 0; i < per; i++) q_onnx[axis == 0 ? c * per + i : i * channels + c] = q[i * channels + c];
    memset(zeros, 0, channels);
    int64_t cd[1] = {(int64_t)channels};
    const char *ins[3] = {ex_init_int8(ex, ex_str(ex, "%s.weight_quantized", base), dims, rank, q_onnx),
                          ex_init(ex, ex_str(ex, "%s.weight_scale", base), cd, 1, scale, NULL),
                          ex_init_int8(ex, ex_str(ex, "%s.weight_zero_point", base), cd, 1, zeros)};
    const char *out = ex_str(ex, "%s/weight_dequantized", base);
    FvOnnx__NodeProto *n = ex_node(ex, "DequantizeLinear", ex_str(ex, "%s/dequantize_weight", base), ins, 3, out);
    attr_int(ex, n, "axis", axis);
    return out;
}

/* ---- Layout. A fovea shape (S..., C) is ONNX (N, C, S...). ---- */
static int onnx_rank(fv_shape s) { return s.rank + 1; }

/* The permutation taking channels-first to channels-last (to_last) or back, for an ONNX rank. */
static void perm(int rank, int to_last, int64_t *p) {
    p[0] = 0;
    for (int a = 1; a < rank; a++) p[a] = to_last ? (a < rank - 1 ? a + 1 : 1) : (a == 1 ? rank - 1 : a - 1);
}

static const char *transpose(exporter *ex, const char *base, const char *in, int rank, int to_last) {
    if (rank <= 2) return in;
    const char *out = ex_str(ex, "%s/%s", base, to_last ? "to_channels_last" : "to_channels_first");
    const char *ins[1] = {in};
    FvOnnx__NodeProto *n = ex_node(ex, "Transpose", out, ins, 1, out);
    int64_t p[FV_MAX_RANK + 1];
    perm(rank, to_last, p);
    attr_ints(ex, n, "perm", p, rank);
    return out;
}

/* ---- Activations after a layer. ---- */
/* node_name: the ONNX node's name (a standalone activation layer's own; NULL: named after its output). */
static const char *activation(exporter *ex, const char *base, const char *in, fv_activation act, float alpha, const char *node_name) {
    if (act == FV_ACT_LINEAR) return in;
    const char *out = ex_str(ex, "%s/%s", base, fv_activation_name(act)), *name = node_name ? node_name : out;
    const char *ins[3] = {in, NULL, NULL};
    FvOnnx__NodeProto *n = NULL;
    switch (act) {
    case FV_ACT_RELU: n = ex_node(ex, "Relu", name, ins, 1, out); break;
    case FV_ACT_LEAKY_RELU:
        n = ex_node(ex, "LeakyRelu", name, ins, 1, out);
        attr_float(ex, n, "alpha", alpha);
        break;
    case FV_ACT_SIGMOID: n = ex_node(ex, "Sigmoid", name, ins, 1, out); break;
    case FV_ACT_TANH: n = ex_node(ex, "Tanh", name, ins, 1, out); break;
    case FV_ACT_SOFTMAX: /* fovea's runs over the channels: ONNX axis 1 */
        n = ex_node(ex, "Softmax", name, ins, 1, out);
        attr_int(ex, n, "axis", 1);
        break;
    case FV_ACT_HARD_SIGMOID:
        n = ex_node(ex, "HardSigmoid", name, ins, 1, out);
        attr_float(ex, n, "alpha", alpha);
        attr_float(ex, n, "beta", 0.5f);
        break;
    case FV_ACT_LOG_SOFTMAX:
        n = ex_node(ex, "LogSoftmax", name, ins, 1, out);
        attr_int(ex, n, "axis", 1);
        break;
    case FV_ACT_RELU6:
        ins[1] = scalar(ex, ex_str(ex, "%s/min", base), 0.0f);
        ins[2] = scalar(ex, ex_str(ex, "%s/max", base), 6.0f);
        n = ex_node(ex, "Clip", name, ins, 3, out);
        break;
    default: break;
    }
    return n ? out : NULL;
}

static void onnx_dims(fv_shape s, int channels_last, int64_t *dims);

/* ---- One fovea node. ---- */
static const float *param(const fv_net *net, int node, const char *name, size_t *count) {
    fv_param_info p;
    fv_error e;
    int i = fv_net_find_param(net, node, name);
    if (i < 0 || fv_net_param_read(net, i, &p, &e) != FV_OK) return NULL;
    if (count) *count = p.count;
    return p.value;
}

/* The (before, after) padding a layer uses on each spatial axis, as its geometry computes it. */
static void pads_of(const fv_window_geometry *g, int spatial, int64_t *pads) {
    for (int a = 0; a < spatial; a++) {
        int t = 3 - spatial + a;
        pads[a] = g->pad_before[t], pads[spatial + a] = g->pad_after[t];
    }
}

/* What a writer is given: the fovea node, its inputs' ONNX values, the input's and its own shapes.
 * It writes the node's ONNX nodes and returns the value holding its output, or NULL with an error. */
typedef struct node_at {
    int i;
    const fv_layer *l;
    const char *name;
    const char *ins[FV_MAX_INPUTS];
    int n_in;
    fv_shape in_shape, out_shape;
} node_at;
typedef const char *(*onnx_writer)(exporter *ex, const node_at *at);

static const char *write_conv(exporter *ex, const node_at *at) {
    const char *in = at->ins[0];
    const fv_layer *l = fv_net_node_layer(ex->net, at->i);
    const fv_conv_settings *c = &l->conv;
    int src = 0;
    fv_net_node_inputs(ex->net, at->i, &src, 1);
    fv_shape in_shape = fv_net_node_shape(ex->net, src);
    int spatial = in_shape.rank - 1;
    fv_window_geometry g;
    if (fv_conv_geometry(c, spatial, in_shape, 1, &g, ex->err) != FV_OK) return NULL;
    size_t taps = 1, cg = (size_t)(g.c_in / c->groups), m = (size_t)c->filters, count;
    for (int a = 0; a < spatial; a++) taps *= (size_t)c->kernel[a];
    const float *k = param(ex->net, at->i, "kernel", &count);
    float *w = ex_alloc(ex, taps * cg * m * sizeof *w);
    if (!k || !w) return NULL;
    for (size_t o = 0; o < m; o++) /* (k..., C/g, M) -> (M, C/g, k...) */
        for (size_t ci = 0; ci < cg; ci++)
            for (size_t t = 0; t < taps; t++) w[(o * cg + ci) * taps + t] = k[(t * cg + ci) * m + o];
    int64_t wd[5] = {(int64_t)m, (int64_t)cg}, ks[3], st[3], dil[3], pads[6];
    for (int a = 0; a < spatial; a++) wd[2 + a] = ks[a] = c->kernel[a], st[a] = c->stride[a], dil[a] = c->dilation[a];
    pads_of(&g, spatial, pads);
    const char *ins[3] = {in, NULL, NULL};
    if (c->input_scale > 0.0f) ins[0] = qdq_input(ex, at->name, in, c->input_scale), ins[1] = qdq_weights(ex, at->name, w, wd, 2 + spatial, 0);
    else ins[1] = ex_init(ex, ex_str(ex, "%s.weight", at->name), wd, 2 + spatial, w, NULL);
    if (c->use_bias) {
        int64_t bd[1] = {(int64_t)m};
        ins[2] = ex_init(ex, ex_str(ex, "%s.bias", at->name), bd, 1, param(ex->net, at->i, "bias", NULL), NULL);
    }
    const char *out = ex_str(ex, "%s/conv", at->name);
    FvOnnx__NodeProto *n = ex_node(ex, "Conv", at->name, ins, c->use_bias ? 3 : 2, out);
    attr_ints(ex, n, "kernel_shape", ks, spatial);
    attr_ints(ex, n, "strides", st, spatial);
    attr_ints(ex, n, "dilations", dil, spatial);
    attr_ints(ex, n, "pads", pads, 2 * spatial);
    attr_int(ex, n, "group", c->groups);
    return activation(ex, at->name, out, c->activation, c->alpha, NULL);
}

/* kernel (KH, KW, filters/G, Cin) -> ONNX's (Cin, filters/G, KH, KW) */
static const char *write_conv_transpose(exporter *ex, const node_at *at) {
    const char *in = at->ins[0];
    const fv_conv_settings *c = &at->l->conv;
    size_t taps = (size_t)c->kernel[0] * (size_t)c->kernel[1], cg = (size_t)(c->filters / c->groups), cin = (size_t)at->in_shape.dim[2];
    const float *k = param(ex->net, at->i, "kernel", NULL);
    float *w = ex_alloc(ex, taps * cg * cin * sizeof *w);
    if (!k || !w) return NULL;
    for (size_t ci = 0; ci < cin; ci++)
        for (size_t j = 0; j < cg; j++)
            for (size_t t = 0; t < taps; t++) w[(ci * cg + j) * taps + t] = k[(t * cg + j) * cin + ci];
    int64_t wd[4] = {(int64_t)cin, (int64_t)cg, c->kernel[0], c->kernel[1]}, st[2], dil[2], op[2], pads[4] = {0};
    for (int a = 0; a < 2; a++) {
        st[a] = c->stride[a], dil[a] = c->dilation[a], op[a] = c->output_padding[a];
        if (c->padding == FV_PAD_EXPLICIT) pads[a] = c->pad[a][0], pads[2 + a] = c->pad[a][1];
    }
    const char *ins[3] = {in, ex_init(ex, ex_str(ex, "%s.weight", at->name), wd, 4, w, NULL), NULL};
    if (c->use_bias) {
        int64_t bd[1] = {c->filters};
        ins[2] = ex_init(ex, ex_str(ex, "%s.bias", at->name), bd, 1, param(ex->net, at->i, "bias", NULL), NULL);
    }
    const char *out = ex_str(ex, "%s/conv_transpose", at->name);
    FvOnnx__NodeProto *n = ex_node(ex, "ConvTranspose", at->name, ins, c->use_bias ? 3 : 2, out);
    attr_ints(ex, n, "kernel_shape", wd + 2, 2);
    attr_ints(ex, n, "strides", st, 2);
    attr_ints(ex, n, "dilations", dil, 2);
    attr_ints(ex, n, "pads", pads, 4);
    attr_ints(ex, n, "output_padding", op, 2);
    attr_int(ex, n, "group", c->groups);
    return activation(ex, at->name, out, c->activation, c->alpha, NULL);
}

static const char *write_dense(exporter *ex, const node_at *at) {
    const char *in = at->ins[0];
    const fv_dense_settings *d = &at->l->dense;
    int64_t k = at->in_shape.dim[at->in_shape.rank - 1], m = d->units;
    const float *kernel = param(ex->net, at->i, "kernel", NULL);
    const char *out = ex_str(ex, "%s/dense", at->name);
    const char *ins[3] = {d->input_scale > 0.0f ? qdq_input(ex, at->name, in, d->input_scale) : in, NULL, NULL};
    if (d->use_bias) {
        int64_t bd[1] = {m};
        ins[2] = ex_init(ex, ex_str(ex, "%s.bias", at->name), bd, 1, param(ex->net, at->i, "bias", NULL), NULL);
    }
    if (at->in_shape.rank == 1) { /* (N, K) x (K, M): Gemm */
        int64_t kd[2] = {k, m};
        ins[1] = d->input_scale > 0.0f ? qdq_weights(ex, at->name, kernel, kd, 2, 1) : ex_init(ex, ex_str(ex, "%s.weight", at->name), kd, 2, kernel, NULL);
        ex_node(ex, "Gemm", at->name, ins, d->use_bias ? 3 : 2, out);
    } else { /* over the channels of a map: a 1 x 1 convolution, weight (M, K, 1...) */
        int spatial = at->in_shape.rank - 1;
        float *w = ex_alloc(ex, (size_t)(k * m) * sizeof *w);
        if (!w) return NULL;
        for (int64_t a = 0; a < k; a++)
            for (int64_t b = 0; b < m; b++) w[b * k + a] = kernel[a * m + b];
        int64_t wd[5] = {m, k, 1, 1, 1}, ones[3] = {1, 1, 1};
        ins[1] = d->input_scale > 0.0f ? qdq_weights(ex, at->name, w, wd, 2 + spatial, 0)
                                       : ex_init(ex, ex_str(ex, "%s.weight", at->name), wd, 2 + spatial, w, NULL);
        FvOnnx__NodeProto *n = ex_node(ex, "Conv", at->name, ins, d->use_bias ? 3 : 2, out);
        attr_ints(ex, n, "kernel_shape", ones, spatial);
    }
    return activation(ex, at->name, out, d->activation, d->alpha, NULL);
}

static const char *write_pool(exporter *ex, const node_at *at) {
    const char *in = at->ins[0];
    const fv_layer *l = fv_net_node_layer(ex->net, at->i);
    int three = l->kind == FV_LAYER_MAXPOOL3D || l->kind == FV_LAYER_AVGPOOL3D;
    int max = l->kind == FV_LAYER_MAXPOOL2D || l->kind == FV_LAYER_MAXPOOL3D, sum = l->kind == FV_LAYER_SUMPOOL2D;
    fv_window_geometry g;
    if (fv_pool_geometry(&l->pool, three ? 3 : 2, at->in_shape, 1, &g, ex->err) != FV_OK) return NULL;
    int spatial = at->in_shape.rank - 1;
    int64_t ks[3], st[3], pads[6];
    for (int a = 0; a < spatial; a++) ks[a] = g.k[3 - spatial + a], st[a] = g.s[3 - spatial + a];
    pads_of(&g, spatial, pads);
    const char *out = ex_str(ex, "%s/%s", at->name, sum ? "average" : "pool");
    const char *ins[2] = {in, NULL};
    FvOnnx__NodeProto *n = ex_node(ex, max ? "MaxPool" : "AveragePool", at->name, ins, 1, out);
    attr_ints(ex, n, "kernel_shape", ks, spatial);
    attr_ints(ex, n, "strides", st, spatial);
    attr_ints(ex, n, "pads", pads, 2 * spatial);
    /* 'same' leaves the padding out of an average (Keras); explicit padding counts it (PyTorch) */
    if (!max) attr_int(ex, n, "count_include_pad", l->pool.padding == FV_PAD_SAME ? 0 : 1);
    if (sum) { /* a sum is the average (padding counted) times the window */
        float window = 1.0f;
        for (int a = 0; a < spatial; a++) window *= (float)ks[a];
        ins[0] = out;
        ins[1] = scalar(ex, ex_str(ex, "%s/window", at->name), window);
        out = ex_str(ex, "%s/sum", at->name);
        ex_node(ex, "Mul", out, ins, 2, out);
    }
    return out;
}

/* fovea's channels-last order as ONNX sees it: transpose to channels-last, reshape to (N, dims),
 * transpose back. */
static const char *reshape(exporter *ex, const char *name, const char *in, fv_shape from, fv_shape to) {
    const char *x = transpose(ex, name, in, onnx_rank(from), 1);
    int64_t dims[FV_MAX_RANK + 1] = {0}, rank = to.rank + 1; /* 0: keep the batch */
    for (int a = 0; a < to.rank; a++) dims[a + 1] = to.dim[a];
    const char *ins[2] = {x, ex_init(ex, ex_str(ex, "%s/shape", name), &rank, 1, NULL, dims)};
    const char *out = ex_str(ex, "%s/reshape", name);
    ex_node(ex, "Reshape", name, ins, 2, out);
    return transpose(ex, ex_str(ex, "%s/out", name), out, (int)rank, 0);
}

/* fovea's per-sample axis a of a rank-r shape (channels last) as ONNX's axis (batch 0, channels 1). */
static int64_t onnx_axis(int a, int r) { return a == r - 1 ? 1 : a + 2; }

/* The same shape with 1s in front up to `rank` axes: NumPy broadcasting of a lower-rank operand,
 * made explicit (ONNX right-aligns its own order, where the channels come first). */
static fv_shape ranked(fv_shape s, int rank) {
    fv_shape r = {rank, {0}};
    for (int a = 0; a < rank; a++) r.dim[a] = a < rank - s.rank ? 1 : s.dim[a - (rank - s.rank)];
    return r;
}

static const char *write_binary(exporter *ex, const node_at *at) {
    const fv_layer *l = fv_net_node_layer(ex->net, at->i);
    int inputs[2];
    fv_net_node_inputs(ex->net, at->i, inputs, 2);
    fv_shape out = fv_net_node_shape(ex->net, at->i);
    const char *two[2];
    for (int k = 0; k < 2; k++) {
        fv_shape s = fv_net_node_shape(ex->net, inputs[k]);
        two[k] = s.rank == out.rank ? at->ins[k] : reshape(ex, ex_str(ex, "%s/rank%d", at->name, k), at->ins[k], s, ranked(s, out.rank));
    }
    const char *op = fv_onnx_binary_ops[l->binary.op];
    const char *y = ex_str(ex, "%s/%s", at->name, op);
    ex_node(ex, op, at->name, two, 2, y);
    return y;
}

/* keepdims in ONNX, then fovea's output shape through reshape (which knows both layouts) */
static const char *write_reduce(exporter *ex, const node_at *at) {
    const char *in = at->ins[0];
    const fv_reduce_settings *r = &at->l->reduce;
    int64_t axes[FV_MAX_RANK];
    int n = 0;
    fv_shape kept = at->in_shape;
    for (int a = 0; a < at->in_shape.rank; a++)
        if (r->axes >> a & 1) axes[n++] = onnx_axis(a, at->in_shape.rank), kept.dim[a] = 1;
    const char *y = ex_str(ex, "%s/%s", at->name, fv_onnx_reduce_ops[r->op]);
    FvOnnx__NodeProto *node;
    if (r->op == FV_REDUCE_SUM) { /* opset 13 takes ReduceSum's axes as an input */
        int64_t count = n;
        const char *two[2] = {in, ex_init(ex, ex_str(ex, "%s/axes", at->name), &count, 1, NULL, axes)};
        node = ex_node(ex, fv_onnx_reduce_ops[r->op], at->name, two, 2, y);
    } else {
        node = ex_node(ex, fv_onnx_reduce_ops[r->op], at->name, &in, 1, y);
        attr_ints(ex, node, "axes", axes, n);
    }
    attr_int(ex, node, "keepdims", 1);
    fv_shape out = fv_net_node_shape(ex->net, at->i);
    return r->keepdims ? y : reshape(ex, ex_str(ex, "%s/squeeze", at->name), y, kept, out);
}

static const char *write_pad(exporter *ex, const node_at *at) {
    const char *in = at->ins[0];
    const fv_pad_settings *p = &at->l->pad;
    int rank = onnx_rank(at->in_shape);
    int64_t pads[2 * (FV_MAX_RANK + 1)] = {0}, count = 2 * rank;
    for (int a = 0; a < at->in_shape.rank; a++) {
        int64_t o = onnx_axis(a, at->in_shape.rank);
        pads[o] = p->pads[a][0], pads[rank + o] = p->pads[a][1];
    }
    const char *three[3] = {in, ex_init(ex, ex_str(ex, "%s/pads", at->name), &count, 1, NULL, pads), scalar(ex, ex_str(ex, "%s/value", at->name), p->value)};
    const char *y = ex_str(ex, "%s/pad", at->name);
    FvOnnx__NodeProto *node = ex_node(ex, "Pad", at->name, three, 3, y);
    attr_string(ex, node, "mode", fv_onnx_pad_modes[p->mode]);
    return y;
}

static const char *write_global_avgpool(exporter *ex, const node_at *at) {
    const char *out = NULL;
    FvOnnx__NodeProto *n;
    const char *pooled = ex_str(ex, "%s/pool", at->name);
    ex_node(ex, "GlobalAveragePool", at->name, at->ins, 1, pooled);
    out = ex_str(ex, "%s/flat", at->name);
    n = ex_node(ex, "Flatten", out, &pooled, 1, out);
    attr_int(ex, n, "axis", 1);
    return out;
}

static const char *write_flatten(exporter *ex, const node_at *at) {
    const char *out = NULL;
    FvOnnx__NodeProto *n;
    const char *x = at->l->flatten.channels_first ? at->ins[0] : transpose(ex, at->name, at->ins[0], onnx_rank(at->in_shape), 1);
    out = ex_str(ex, "%s/flat", at->name);
    n = ex_node(ex, "Flatten", at->name, &x, 1, out);
    attr_int(ex, n, "axis", 1);
    return out;
}

static const char *write_reshape(exporter *ex, const node_at *at) {
    return reshape(ex, at->name, at->ins[0], at->in_shape, at->out_shape);
}

static const char *write_dropout(exporter *ex, const node_at *at) {
    const char *out = NULL;
    const char *d[2] = {at->ins[0], scalar(ex, ex_str(ex, "%s/ratio", at->name), at->l->dropout.rate)};
    out = ex_str(ex, "%s/dropout", at->name);
    ex_node(ex, "Dropout", at->name, d, 2, out);
    return out;
}

static const char *write_batchnorm(exporter *ex, const node_at *at) {
    const char *out = NULL;
    FvOnnx__NodeProto *n;
    int64_t c = at->in_shape.dim[at->in_shape.rank - 1];
    static const char *const params[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    static const char *const onnx_names[4] = {"weight", "bias", "running_mean", "running_var"};
    const char *b[5] = {at->ins[0]};
    for (int p = 0; p < 4; p++) b[p + 1] = ex_init(ex, ex_str(ex, "%s.%s", at->name, onnx_names[p]), &c, 1, param(ex->net, at->i, params[p], NULL), NULL);
    out = ex_str(ex, "%s/bn", at->name);
    n = ex_node(ex, "BatchNormalization", at->name, b, 5, out);
    attr_float(ex, n, "epsilon", at->l->batchnorm.epsilon);
    attr_float(ex, n, "momentum", at->l->batchnorm.momentum);
    return out;
}

static const char *write_add(exporter *ex, const node_at *at) {
    const char *out = ex_str(ex, "%s/sum", at->name);
    ex_node(ex, at->n_in == 2 ? "Add" : "Sum", at->name, at->ins, at->n_in, out);
    out = activation(ex, at->name, out, at->l->add.activation, at->l->add.alpha, NULL);
    return at->l->add.output_scale > 0.0f ? qdq(ex, at->name, "output", out, at->l->add.output_scale) : out; /* what int8 reads */
}

static const char *write_concat(exporter *ex, const node_at *at) {
    const char *out = NULL;
    FvOnnx__NodeProto *n;
    int axis = at->l->concat.axis < 0 ? at->l->concat.axis + at->out_shape.rank : at->l->concat.axis;
    out = ex_str(ex, "%s/concat", at->name);
    n = ex_node(ex, "Concat", at->name, at->ins, at->n_in, out);
    attr_int(ex, n, "axis", onnx_axis(axis, at->out_shape.rank));
    return out;
}

/* sizes: the input's (N, C) from its Shape, then the spatial ones */
static const char *write_resize(exporter *ex, const node_at *at) {
    const char *out = NULL;
    FvOnnx__NodeProto *n;
    static const char *const modes[] = {"nearest", "linear"};
    const fv_resize_settings *r = &at->l->resize;
    int64_t two = 2, zero = 0, count = r->size.rank, spatial[FV_MAX_SPATIAL];
    for (int a = 0; a < r->size.rank; a++) spatial[a] = r->size.dim[a];
    const char *shape = ex_str(ex, "%s/shape", at->name), *nc = ex_str(ex, "%s/nc", at->name), *sizes = ex_str(ex, "%s/sizes", at->name);
    ex_node(ex, "Shape", shape, at->ins, 1, shape);
    int64_t one = 1;
    const char *slice[3] = {shape, ex_init(ex, ex_str(ex, "%s/zero", at->name), &one, 1, NULL, &zero), ex_init(ex, ex_str(ex, "%s/two", at->name), &one, 1, NULL, &two)};
    ex_node(ex, "Slice", nc, slice, 3, nc);
    const char *parts[2] = {nc, ex_init(ex, ex_str(ex, "%s/spatial", at->name), &count, 1, NULL, spatial)};
    n = ex_node(ex, "Concat", sizes, parts, 2, sizes);
    attr_int(ex, n, "axis", 0);
    const char *four[4] = {at->ins[0], "", "", sizes};
    int scaled = 0;
    for (int a = 0; a < r->size.rank; a++) scaled |= r->scale[a] > 0.0f;
    if (scaled) { /* the scales themselves: ONNX maps coordinates with them, and rounds the sizes down */
        float scales[FV_MAX_SPATIAL + 2] = {1.0f, 1.0f};
        int64_t count2 = r->size.rank + 2;
        for (int a = 0; a < r->size.rank; a++) scales[a + 2] = r->scale[a] > 0.0f ? r->scale[a] : (float)r->size.dim[a] / (float)at->in_shape.dim[a];
        four[2] = ex_init(ex, ex_str(ex, "%s/scales", at->name), &count2, 1, scales, NULL), four[3] = "";
    }
    out = ex_str(ex, "%s/resize", at->name);
    n = ex_node(ex, "Resize", at->name, four, 4, out);
    attr_string(ex, n, "mode", modes[r->mode]);
    attr_string(ex, n, "coordinate_transformation_mode", fv_onnx_resize_coordinates[r->coordinates]);
    attr_string(ex, n, "nearest_mode", fv_onnx_resize_nearest[r->nearest]);
    return out;
}

/* the value (1, C, S...) expanded to the input's batch: Shape -> Slice [0:1] -> Concat */
static const char *write_tensor(exporter *ex, const node_at *at) {
    const char *out = NULL;
    FvOnnx__NodeProto *n;
    size_t per = fv_shape_count(at->out_shape), c = (size_t)at->out_shape.dim[at->out_shape.rank - 1];
    int64_t dims[FV_MAX_RANK + 1], rank = onnx_rank(at->out_shape), one = 1, zero = 0;
    onnx_dims(at->out_shape, 0, dims);
    dims[0] = 1;
    float *v = ex_alloc(ex, per * sizeof *v);
    const float *src = param(ex->net, at->i, "value", NULL);
    if (!v || !src) return NULL;
    fv_channels_last(src, v, 1, c, per / c, 0);
    const char *shape = ex_str(ex, "%s/shape", at->name), *batch = ex_str(ex, "%s/batch", at->name), *target = ex_str(ex, "%s/target", at->name);
    ex_node(ex, "Shape", shape, at->ins, 1, shape);
    const char *slice[3] = {shape, ex_init(ex, ex_str(ex, "%s/zero", at->name), &one, 1, NULL, &zero), ex_init(ex, ex_str(ex, "%s/one", at->name), &one, 1, NULL, &one)};
    ex_node(ex, "Slice", batch, slice, 3, batch);
    int64_t rest[FV_MAX_RANK + 1], count = rank - 1;
    for (int a = 1; a < rank; a++) rest[a - 1] = dims[a];
    const char *parts[2] = {batch, ex_init(ex, ex_str(ex, "%s/dims", at->name), &count, 1, NULL, rest)};
    n = ex_node(ex, "Concat", target, parts, 2, target);
    attr_int(ex, n, "axis", 0);
    const char *expand[2] = {ex_init(ex, ex_str(ex, "%s.value", at->name), dims, (int)rank, v, NULL), target};
    out = ex_str(ex, "%s/expand", at->name);
    ex_node(ex, "Expand", at->name, expand, 2, out);
    return out;
}

static const char *write_activation(exporter *ex, const node_at *at) {
    const char *out = NULL;
    if (at->l->activation.function == FV_ACT_LINEAR) {
        out = ex_str(ex, "%s/identity", at->name);
        ex_node(ex, "Identity", at->name, at->ins, 1, out);
    } else {
        out = activation(ex, at->name, at->ins[0], at->l->activation.function, at->l->activation.alpha, at->name);
    }
    return out;
}

/* Mul by the scale, Add the shift: constants (1, C, S...) */
static const char *write_affine(exporter *ex, const node_at *at) {
    const char *out = NULL;
    size_t per = fv_shape_count(at->out_shape), c = (size_t)at->out_shape.dim[at->out_shape.rank - 1];
    int64_t dims[FV_MAX_RANK + 1];
    onnx_dims(at->out_shape, 0, dims);
    dims[0] = 1;
    const char *x = at->ins[0];
    static const char *const params[2] = {"scale", "shift"}, *const ops[2] = {"Mul", "Add"};
    for (int p = 0; p < 2; p++) {
        float *v = ex_alloc(ex, per * sizeof *v);
        const float *src = param(ex->net, at->i, params[p], NULL);
        if (!v || !src) return NULL;
        fv_channels_last(src, v, 1, c, per / c, 0);
        const char *two[2] = {x, ex_init(ex, ex_str(ex, "%s.%s", at->name, params[p]), dims, onnx_rank(at->out_shape), v, NULL)};
        out = ex_str(ex, "%s/%s", at->name, params[p]);
        ex_node(ex, ops[p], p ? at->name : ex_str(ex, "%s.mul", at->name), two, 2, out);
        x = out;
    }
    return out;
}

/* the slope as (C, 1, ...): one per channel under ONNX's broadcasting */
static const char *write_prelu(exporter *ex, const node_at *at) {
    const char *out = NULL;
    int64_t dims[FV_MAX_RANK + 1];
    int rank = onnx_rank(at->out_shape) - 1;
    dims[0] = at->out_shape.dim[at->out_shape.rank - 1];
    for (int a = 1; a < rank; a++) dims[a] = 1;
    const char *two[2] = {at->ins[0], ex_init(ex, ex_str(ex, "%s.alpha", at->name), dims, rank, param(ex->net, at->i, "alpha", NULL), NULL)};
    out = ex_str(ex, "%s/prelu", at->name);
    ex_node(ex, "PRelu", at->name, two, 2, out);
    return out;
}

/* The node's operator on fovea's memory order (channels last), its inputs moved there already:
 * the result moved back to ONNX's order (the value), the ONNX node in *node for its attributes.
 * what names the result before the move. */
static const char *in_memory_order(exporter *ex, const node_at *at, const char *op, const char *const *ins, int n, const char *what,
                                   FvOnnx__NodeProto **node) {
    const char *y = ex_str(ex, "%s/%s", at->name, what);
    FvOnnx__NodeProto *made = ex_node(ex, op, at->name, ins, n, y);
    if (node) *node = made;
    return transpose(ex, ex_str(ex, "%s/out", at->name), y, onnx_rank(at->out_shape), 0);
}

/* on fovea's memory order (channels last): the matrices are its last two axes */
static const char *write_matmul(exporter *ex, const node_at *at) {
    int inputs2[2];
    fv_net_node_inputs(ex->net, at->i, inputs2, 2);
    const char *two[2];
    for (int k = 0; k < 2; k++) { /* a lower rank gets its 1s after the batch, as fovea broadcasts */
        fv_shape sk = fv_net_node_shape(ex->net, inputs2[k]);
        const char *v = sk.rank == at->out_shape.rank ? at->ins[k] : reshape(ex, ex_str(ex, "%s/rank%d", at->name, k), at->ins[k], sk, ranked(sk, at->out_shape.rank));
        two[k] = transpose(ex, ex_str(ex, "%s/in%d", at->name, k), v, onnx_rank(at->out_shape), 1);
    }
    return in_memory_order(ex, at, "MatMul", two, 2, "matmul", NULL);
}

static const char *write_unary(exporter *ex, const node_at *at) {
    const char *out = NULL;
    const fv_unary_settings *u = &at->l->unary;
    if (u->op == FV_UNARY_HARD_SWISH) { /* HardSwish is opset 14: x * HardSigmoid(x) with 1/6 and 1/2 */
        const char *gate = ex_str(ex, "%s/gate", at->name), *both[2] = {at->ins[0], gate};
        FvOnnx__NodeProto *h = ex_node(ex, "HardSigmoid", ex_str(ex, "%s/hard_sigmoid", at->name), at->ins, 1, gate);
        if (h) attr_float(ex, h, "alpha", 1.0f / 6.0f), attr_float(ex, h, "beta", 0.5f);
        out = ex_str(ex, "%s/HardSwish", at->name);
        ex_node(ex, "Mul", at->name, both, 2, out);
        return out;
    }
    if (u->op == FV_UNARY_SILU) { /* x * Sigmoid(x) */
        const char *gate = ex_str(ex, "%s/sigmoid", at->name), *both[2] = {at->ins[0], gate};
        ex_node(ex, "Sigmoid", gate, at->ins, 1, gate);
        out = ex_str(ex, "%s/SiLU", at->name);
        ex_node(ex, "Mul", at->name, both, 2, out);
        return out;
    }
    if (u->op == FV_UNARY_GELU) { /* x * (1 + erf(x / sqrt 2)) * 0.5, as torch writes it (opset 20 has Gelu) */
        const char *d = ex_str(ex, "%s/div", at->name), *e = ex_str(ex, "%s/erf", at->name), *a = ex_str(ex, "%s/add", at->name), *m = ex_str(ex, "%s/mul", at->name);
        const char *div[2] = {at->ins[0], scalar(ex, ex_str(ex, "%s/sqrt2", at->name), 1.41421356f)}, *add[2] = {e, scalar(ex, ex_str(ex, "%s/one", at->name), 1.0f)};
        const char *mul[2] = {at->ins[0], a}, *half[2] = {m, scalar(ex, ex_str(ex, "%s/half", at->name), 0.5f)};
        ex_node(ex, "Div", d, div, 2, d);
        ex_node(ex, "Erf", e, &d, 1, e);
        ex_node(ex, "Add", a, add, 2, a);
        ex_node(ex, "Mul", m, mul, 2, m);
        out = ex_str(ex, "%s/GELU", at->name);
        ex_node(ex, "Mul", at->name, half, 2, out);
        return out;
    }
    if (u->op == FV_UNARY_CLIP) { /* the bounds are inputs since opset 11 */
        float lo = isnan(u->alpha) ? -INFINITY : u->alpha, hi = isnan(u->beta) ? INFINITY : u->beta;
        const char *three[3] = {at->ins[0], ex_init(ex, ex_str(ex, "%s/min", at->name), NULL, 0, &lo, NULL),
                                ex_init(ex, ex_str(ex, "%s/max", at->name), NULL, 0, &hi, NULL)};
        out = ex_str(ex, "%s/Clip", at->name);
        ex_node(ex, "Clip", at->name, three, 3, out);
        return out;
    }
    const char *op = fv_onnx_unary_ops[u->op];
    out = ex_str(ex, "%s/%s", at->name, op);
    FvOnnx__NodeProto *n = ex_node(ex, op, at->name, at->ins, 1, out);
    /* the constants, where set (NaN: ONNX's defaults, which are fovea's) */
    const char *a = u->op == FV_UNARY_ELU || u->op == FV_UNARY_CELU || u->op == FV_UNARY_THRESHOLDED_RELU || u->op == FV_UNARY_SELU ? "alpha"
                  : u->op == FV_UNARY_SHRINK ? "lambd" : NULL;
    const char *b = u->op == FV_UNARY_SELU ? "gamma" : u->op == FV_UNARY_SHRINK ? "bias" : NULL;
    if (n && a && !isnan(u->alpha)) attr_float(ex, n, a, u->alpha);
    if (n && b && !isnan(u->beta)) attr_float(ex, n, b, u->beta);
    return out;
}

/* on fovea's memory order (channels last), between the two usual transposes */
static const char *write_slice(exporter *ex, const node_at *at) {
    const fv_slice_settings *sl = &at->l->slice;
    int r = at->in_shape.rank;
    int64_t starts[FV_MAX_RANK], ends[FV_MAX_RANK], axes[FV_MAX_RANK], steps[FV_MAX_RANK], count = r;
    for (int a = 0; a < r; a++) {
        starts[a] = sl->begin.dim[a], steps[a] = sl->step.dim[a], axes[a] = a + 1;
        ends[a] = starts[a] + (int64_t)(sl->size.dim[a] - 1) * steps[a] + 1;
    }
    const char *five[5] = {transpose(ex, at->name, at->ins[0], onnx_rank(at->in_shape), 1), ex_init(ex, ex_str(ex, "%s/starts", at->name), &count, 1, NULL, starts),
                           ex_init(ex, ex_str(ex, "%s/ends", at->name), &count, 1, NULL, ends), ex_init(ex, ex_str(ex, "%s/axes", at->name), &count, 1, NULL, axes),
                           ex_init(ex, ex_str(ex, "%s/steps", at->name), &count, 1, NULL, steps)};
    return in_memory_order(ex, at, "Slice", five, 5, "slice", NULL);
}

/* on fovea's memory order (channels last), between the two usual transposes */
static const char *write_transpose(exporter *ex, const node_at *at) {
    FvOnnx__NodeProto *n = NULL;
    const fv_shape *p = &at->l->transpose.perm;
    int64_t perm[FV_MAX_RANK + 1] = {0};
    for (int a = 0; a < p->rank; a++) perm[a + 1] = p->dim[a] + 1;
    const char *x = transpose(ex, at->name, at->ins[0], onnx_rank(at->in_shape), 1);
    const char *out = in_memory_order(ex, at, "Transpose", &x, 1, "permute", &n);
    attr_ints(ex, n, "perm", perm, p->rank + 1);
    return out;
}

/* Each layer kind's ONNX writer (the importer's readers are onnx_ops.c's op_table). */
static const onnx_writer writers[FV_LAYER_KIND_COUNT] = {
    [FV_LAYER_CONV1D] = write_conv,
    [FV_LAYER_CONV2D] = write_conv,
    [FV_LAYER_CONV3D] = write_conv,
    [FV_LAYER_DENSE] = write_dense,
    [FV_LAYER_CONV2D_TRANSPOSE] = write_conv_transpose,
    [FV_LAYER_MAXPOOL2D] = write_pool,
    [FV_LAYER_AVGPOOL2D] = write_pool,
    [FV_LAYER_SUMPOOL2D] = write_pool,
    [FV_LAYER_MAXPOOL3D] = write_pool,
    [FV_LAYER_AVGPOOL3D] = write_pool,
    [FV_LAYER_GLOBAL_AVGPOOL] = write_global_avgpool,
    [FV_LAYER_FLATTEN] = write_flatten,
    [FV_LAYER_RESHAPE] = write_reshape,
    [FV_LAYER_DROPOUT] = write_dropout,
    [FV_LAYER_BATCHNORM] = write_batchnorm,
    [FV_LAYER_ADD] = write_add,
    [FV_LAYER_CONCAT] = write_concat,
    [FV_LAYER_RESIZE] = write_resize,
    [FV_LAYER_TENSOR] = write_tensor,
    [FV_LAYER_ACTIVATION] = write_activation,
    [FV_LAYER_AFFINE] = write_affine,
    [FV_LAYER_PRELU] = write_prelu,
    [FV_LAYER_BINARY] = write_binary,
    [FV_LAYER_MATMUL] = write_matmul,
    [FV_LAYER_UNARY] = write_unary,
    [FV_LAYER_REDUCE] = write_reduce,
    [FV_LAYER_PAD] = write_pad,
    [FV_LAYER_SLICE] = write_slice,
    [FV_LAYER_TRANSPOSE] = write_transpose,
};

/* One fovea node as ONNX nodes, by its kind's writer. */
static fv_status export_node(exporter *ex, int i) {
    const fv_layer *l = fv_net_node_layer(ex->net, i);
    node_at at = {.i = i, .l = l, .name = fv_net_node_name(ex->net, i)};
    int inputs[FV_MAX_INPUTS];
    at.n_in = fv_net_node_inputs(ex->net, i, inputs, FV_MAX_INPUTS);
    for (int k = 0; k < at.n_in; k++) at.ins[k] = ex->value[inputs[k]];
    at.in_shape = at.n_in ? fv_net_node_shape(ex->net, inputs[0]) : fv_net_node_shape(ex->net, i);
    at.out_shape = fv_net_node_shape(ex->net, i);
    onnx_writer write = (unsigned)l->kind < FV_LAYER_KIND_COUNT ? writers[l->kind] : NULL;
    if (!write) return fv_fail(ex->err, "layer '%s' (%s) has no ONNX form", at.name, fv_layer_kind_name(l->kind));
    const char *out = write(ex, &at);
    if (!out || ex->failed) {
        if (!ex->failed && !ex->err->message[0]) fv_fail(ex->err, "layer '%s' (%s): could not be written", at.name, fv_layer_kind_name(l->kind));
        return ex->failed = 1, FV_ERR;
    }
    ex->value[i] = out;
    return FV_OK;
}

/* A graph input or output: float tensor (batch, dims...), the batch named "batch". */
static FvOnnx__ValueInfoProto *value_info(exporter *ex, const char *name, const int64_t *dims, int rank) {
    FvOnnx__ValueInfoProto *v = ex_alloc(ex, sizeof *v);
    FvOnnx__TypeProto *type = ex_alloc(ex, sizeof *type);
    FvOnnx__TypeProto__Tensor *tensor = ex_alloc(ex, sizeof *tensor);
    FvOnnx__TensorShapeProto *shape = ex_alloc(ex, sizeof *shape);
    FvOnnx__TensorShapeProto__Dimension **d = ex_alloc(ex, (size_t)rank * sizeof *d);
    if (!v || !type || !tensor || !shape || !d) return NULL;
    FvOnnx__ValueInfoProto vi = FV_ONNX__VALUE_INFO_PROTO__INIT;
    FvOnnx__TypeProto ti = FV_ONNX__TYPE_PROTO__INIT;
    FvOnnx__TypeProto__Tensor tt = FV_ONNX__TYPE_PROTO__TENSOR__INIT;
    FvOnnx__TensorShapeProto si = FV_ONNX__TENSOR_SHAPE_PROTO__INIT;
    *v = vi, *type = ti, *tensor = tt, *shape = si;
    for (int a = 0; a < rank; a++) {
        FvOnnx__TensorShapeProto__Dimension di = FV_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        d[a] = ex_alloc(ex, sizeof *d[a]);
        if (!d[a]) return NULL;
        *d[a] = di;
        if (a == 0) d[a]->value_case = FV_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM, d[a]->dim_param = "batch";
        else d[a]->value_case = FV_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, d[a]->dim_value = dims[a];
    }
    shape->n_dim = (size_t)rank, shape->dim = d;
    tensor->has_elem_type = 1, tensor->elem_type = FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, tensor->shape = shape;
    type->value_case = FV_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, type->tensor_type = tensor;
    v->name = (char *)name, v->type = type;
    return v;
}

/* ONNX dims (N, C, S...) of a fovea shape, or (N, S..., C) when channels_last. */
static void onnx_dims(fv_shape s, int channels_last, int64_t *dims) {
    dims[0] = -1;
    if (channels_last) {
        for (int a = 0; a < s.rank; a++) dims[a + 1] = s.dim[a];
        return;
    }
    dims[1] = s.dim[s.rank - 1];
    for (int a = 0; a < s.rank - 1; a++) dims[a + 2] = s.dim[a];
}

fv_status fv_net_save_onnx(const fv_net *net, const char *path, int channels_last_input, fv_error *err) {
    exporter ex = {0};
    ex.net = net, ex.err = err;
    fv_param_info probe;
    if (fv_net_param_count(net) > 0 && (fv_net_param_read(net, 0, &probe, err) != FV_OK || !probe.value))
        return fv_fail(err, "'%s' has no weights yet (plan it or initialise its parameters first)", fv_net_name(net));
    int n_nodes = fv_net_node_count(net);
    ex.value = calloc((size_t)n_nodes, sizeof *ex.value);
    if (!ex.value) return fv_fail(err, "out of memory exporting");
    fv_status status = FV_OK;
    fv_shape in_shape = fv_net_node_shape(net, 0), out_shape = fv_net_node_shape(net, fv_net_output_node(net));
    /* the input: ONNX's channels-first, or as fovea holds it with a Transpose after it */
    ex.value[0] = channels_last_input ? transpose(&ex, "input", "input", onnx_rank(in_shape), 0) : "input";
    for (int i = 1; i < n_nodes && status == FV_OK; i++) status = export_node(&ex, i);
    const char *last = ex.value[n_nodes - 1];
    if (status == FV_OK) { /* the output under the name "output" */
        const char *ins[1] = {last};
        ex_node(&ex, "Identity", "output", ins, 1, "output");
    }
    int64_t in_dims[FV_MAX_RANK + 1], out_dims[FV_MAX_RANK + 1];
    onnx_dims(in_shape, channels_last_input, in_dims);
    onnx_dims(out_shape, 0, out_dims);
    FvOnnx__ValueInfoProto *gin = value_info(&ex, "input", in_dims, onnx_rank(in_shape));
    FvOnnx__ValueInfoProto *gout = value_info(&ex, "output", out_dims, onnx_rank(out_shape));
    FvOnnx__OperatorSetIdProto opset = FV_ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[1] = {&opset};
    opset.domain = "", opset.has_version = 1, opset.version = 13;
    FvOnnx__GraphProto graph = FV_ONNX__GRAPH_PROTO__INIT;
    FvOnnx__ModelProto model = FV_ONNX__MODEL_PROTO__INIT;
    unsigned char *buf = NULL;
    if (status == FV_OK && !ex.failed && gin && gout) {
        graph.name = (char *)fv_net_name(net);
        graph.n_node = ex.n_nodes, graph.node = ex.nodes;
        graph.n_initializer = ex.n_inits, graph.initializer = ex.inits;
        graph.n_input = 1, graph.input = &gin;
        graph.n_output = 1, graph.output = &gout;
        model.has_ir_version = 1, model.ir_version = 7;
        model.n_opset_import = 1, model.opset_import = opsets;
        model.producer_name = "fovea";
        model.producer_version = (char *)fv_version();
        model.graph = &graph;
        size_t size = fv_onnx__model_proto__get_packed_size(&model);
        buf = malloc(size ? size : 1);
        if (!buf) status = fv_fail(err, "out of memory packing %zu bytes", size);
        else if (fv_onnx__model_proto__pack(&model, buf) != size) status = fv_fail(err, "internal: protobuf packing disagrees");
        else status = fv_write_file(path, buf, size, err);
    } else if (status == FV_OK) {
        status = FV_ERR;
    }
    free(buf);
    for (size_t k = 0; k < ex.n_allocs; k++) free(ex.allocs[k]);
    free(ex.allocs), free(ex.nodes), free(ex.inits), free(ex.value);
    return status;
}
