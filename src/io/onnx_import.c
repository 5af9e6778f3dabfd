/* onnx_import.c — an ONNX model (protobuf, read by protobuf-c) into a fovea network with its
 * weights, converted once to fovea's channels-last layout (onnx.h states the rule), so that the
 * network computes ONNX's numbers.
 *
 * Every ONNX value the graph names is tracked in a table: either a constant (an initializer, a
 * Constant node, a bound input, or what Shape -> Gather -> Unsqueeze -> Concat chains fold to) or
 * the output of a fovea node, with its ONNX dimensions. Nodes are translated in the file's order
 * (ONNX requires a topological order); a ReLU-like activation whose only reader is a Conv or Gemm
 * is fused into it. What fovea cannot compute exactly is a one-line error naming the node.
 * This file holds the value table, the helpers and the graph; onnx_ops.c the operators. */
#include "io/onnx_import.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Errors. ---- */
fv_status fv_onnx_fail(importer *im, const char *fmt, ...) {
    char why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (im->at && im->at->name && *im->at->name)
        return fv_fail(im->err, "%s: node '%s' (%s): %s", im->source, im->at->name, im->at->op_type, why);
    if (im->at) /* an unnamed node: by what it computes */
        return fv_fail(im->err, "%s: the %s node computing '%s': %s", im->source, im->at->op_type,
                       im->at->n_output ? im->at->output[0] : "?", why);
    return fv_fail(im->err, "%s: %s", im->source, why);
}

/* ---- Tensors. ---- */
size_t fv_onnx_dims_count(const int64_t *dims, size_t rank) {
    size_t n = 1;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && n > (size_t)FV_MAX_PARAM_VALUES / (size_t)dims[i])) return SIZE_MAX;
        n *= (size_t)dims[i];
    }
    return n;
}

static const char *type_name(int32_t t) {
    static const char *const names[] = {"undefined", "float32", "uint8",  "int8",      "uint16",    "int16", "int32",
                                        "int64",     "string",  "bool",   "float16",   "double",    "uint32", "uint64",
                                        "complex64", "complex128", "bfloat16"};
    return t >= 0 && t < (int32_t)(sizeof names / sizeof *names) ? names[t] : "unknown";
}

float *fv_onnx_tensor_floats(const FvOnnx__TensorProto *t, size_t *count, fv_error *err) {
    const char *name = t->name && *t->name ? t->name : "(unnamed)";
    if (t->n_dims > FV_ONNX_MAX_RANK) return fv_fail(err, "tensor '%s' has rank %zu (at most %d)", name, t->n_dims, FV_ONNX_MAX_RANK), NULL;
    size_t n = fv_onnx_dims_count(t->dims, t->n_dims);
    if (n == SIZE_MAX) return fv_fail(err, "tensor '%s' has a negative or too large dimension", name), NULL;
    if (t->has_data_location && t->data_location == FV_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return fv_fail(err, "tensor '%s' keeps its data in an external file (not supported)", name), NULL;
    int32_t type = t->has_data_type ? t->data_type : 0;
    size_t width = type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ? 4
                   : type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__INT64                                             ? 8
                                                                                                               : 0;
    if (!width) return fv_fail(err, "tensor '%s' has data type %s (fovea reads float32, int32 and int64)", name, type_name(type)), NULL;
    size_t stored = t->has_raw_data ? t->raw_data.len / width
                    : type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? t->n_float_data
                    : type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ? t->n_int32_data
                                                                   : t->n_int64_data;
    if (stored != n || (t->has_raw_data && t->raw_data.len % width))
        return fv_fail(err, "tensor '%s' holds %zu values, its shape %zu", name, stored, n), NULL;
    float *out = malloc((n ? n : 1) * sizeof *out);
    if (!out) return fv_fail(err, "out of memory for tensor '%s' (%zu values)", name, n), NULL;
    for (size_t i = 0; i < n; i++) {
        if (t->has_raw_data) { /* little-endian, as ONNX stores it (and this machine is) */
            const unsigned char *p = t->raw_data.data + i * width;
            if (type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) memcpy(&out[i], p, 4);
            else if (type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__INT32) { int32_t v; memcpy(&v, p, 4); out[i] = (float)v; }
            else { int64_t v; memcpy(&v, p, 8); out[i] = (float)v; }
        } else {
            out[i] = type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? t->float_data[i]
                     : type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ? (float)t->int32_data[i]
                                                                    : (float)t->int64_data[i];
        }
    }
    *count = n;
    return out;
}

void fv_channels_last(const float *src, float *dst, size_t batch, size_t channels, size_t positions, int to_last) {
    for (size_t n = 0; n < batch; n++) {
        const float *x = src + n * channels * positions;
        float *y = dst + n * channels * positions;
        for (size_t c = 0; c < channels; c++)
            for (size_t p = 0; p < positions; p++) {
                if (to_last) y[p * channels + c] = x[c * positions + p];
                else y[c * positions + p] = x[p * channels + c];
            }
    }
}

/* ---- The value table. ---- */
value *fv_onnx_find_value(importer *im, const char *name) {
    for (int i = im->n_values - 1; i >= 0; i--)
        if (!strcmp(im->values[i]->name, name)) return im->values[i];
    return NULL;
}

value *fv_onnx_new_value(importer *im, const char *name) {
    if (im->n_values == im->cap_values) {
        int cap = im->cap_values ? 2 * im->cap_values : 64;
        value **grown = realloc(im->values, (size_t)cap * sizeof *grown);
        if (!grown) return fv_onnx_fail(im, "out of memory"), NULL;
        im->values = grown, im->cap_values = cap;
    }
    value *v = calloc(1, sizeof *v);
    if (!v) return fv_onnx_fail(im, "out of memory"), NULL;
    im->values[im->n_values++] = v;
    v->name = name;
    v->node = -1;
    v->batch_outer = v->batch_inner = 1;
    return v;
}

/* Every constant, read or folded, passes here before any operator reads it: a NaN is refused (no
 * operator means anything by one, and it has no integer value); an integer beyond 2^24 is no size
 * but "to the end" (Slice's INT64_MAX), kept as +-2^29, beyond any size fovea plans, unless it is a
 * multiple of the batch's mark; a tensor read from the file may hold an infinity only as a single
 * value, a bound (Clip's max) or a fill value, since infinite weights poison every output.
 * (Integers are never borrowed file bytes: those are float32 data.) */
value *fv_onnx_settle_constant(importer *im, value *v, int from_file) {
    for (size_t i = 0; v && i < v->count; i++) {
        float f = v->f[i];
        if (isnan(f) || (from_file && !v->is_int && isinf(f) && v->count > 1))
            return fv_onnx_fail(im, "tensor '%s' holds %s at index %zu (of %zu values)", v->name, isnan(f) ? "a NaN" : "an infinite value", i, v->count),
                   NULL;
        if (v->is_int && fabsf(f) > 16777216.0f && !fv_onnx_batch_multiple(f)) v->f[i] = f > 0 ? 536870912.0f : -536870912.0f;
    }
    return v;
}

/* A constant's value as an index, size or axis: saturated at +-2^29 (settled constants hold no NaN),
 * or exact for a multiple of the batch's mark. */
int64_t fv_onnx_int(float f) {
    if (fv_onnx_batch_multiple(f)) return (int64_t)f;
    if (!(fabsf(f) < 536870912.0f)) return f < 0 ? -536870912 : 536870912;
    return (int64_t)f;
}

value *fv_onnx_add_constant(importer *im, const char *name, const FvOnnx__TensorProto *t) {
    size_t count;
    fv_error why;
    if (t->has_data_type && t->data_type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && t->has_raw_data && t->n_dims <= FV_ONNX_MAX_RANK &&
        !(t->has_data_location && t->data_location == FV_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) &&
        (uintptr_t)t->raw_data.data % sizeof(float) == 0 && fv_onnx_dims_count(t->dims, t->n_dims) != SIZE_MAX &&
        t->raw_data.len == fv_onnx_dims_count(t->dims, t->n_dims) * sizeof(float) && t->raw_data.len > 0) {
        /* float32 bytes (little-endian, as this machine): read in place, not copied */
        value *v = fv_onnx_new_value(im, name);
        if (!v) return NULL;
        v->f = (float *)(void *)t->raw_data.data, v->borrowed = 1;
        v->count = t->raw_data.len / sizeof(float), v->rank = (int)t->n_dims;
        for (size_t i = 0; i < t->n_dims; i++) v->dim[i] = t->dims[i];
        return fv_onnx_settle_constant(im, v, 1);
    }
    float *f = fv_onnx_tensor_floats(t, &count, &why);
    if (!f) return fv_onnx_fail(im, "%s", why.message), NULL;
    value *v = fv_onnx_new_value(im, name);
    if (!v) return free(f), NULL;
    v->f = f, v->count = count, v->rank = (int)t->n_dims;
    v->is_int = t->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && t->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE &&
                t->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 && t->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
    for (size_t i = 0; i < t->n_dims; i++) v->dim[i] = t->dims[i];
    return fv_onnx_settle_constant(im, v, 1);
}

/* A constant computed here (folding): rank 0 or 1. */
value *fv_onnx_fold_constant(importer *im, const char *name, const float *f, size_t count, int rank) {
    value *v = fv_onnx_new_value(im, name);
    if (!v) return NULL;
    v->f = malloc((count ? count : 1) * sizeof *v->f);
    if (!v->f) return fv_onnx_fail(im, "out of memory"), NULL;
    memcpy(v->f, f, count * sizeof *f);
    v->count = count, v->rank = rank, v->is_int = 1;
    v->dim[0] = (int64_t)count;
    return fv_onnx_settle_constant(im, v, 0);
}

/* An input of the current node: NULL (with an error) when it is missing or unknown. */
value *fv_onnx_input(importer *im, size_t i) {
    if (i >= im->at->n_input || !*im->at->input[i]) return fv_onnx_fail(im, "input %zu is missing", i), NULL;
    value *v = fv_onnx_find_value(im, im->at->input[i]);
    if (!v) fv_onnx_fail(im, "input '%s' is not computed by an earlier node", im->at->input[i]);
    return v;
}

int fv_onnx_has_input(importer *im, size_t i) { return i < im->at->n_input && *im->at->input[i]; }

/* An activation input (the output of a layer), not a constant. */
value *fv_onnx_activation_input(importer *im, size_t i) {
    value *v = fv_onnx_input(im, i);
    if (v && v->node < 0) return fv_onnx_fail(im, "input '%s' is a constant (fovea computes this operator on the network's data only)", v->name), NULL;
    return v;
}

value *fv_onnx_constant_input(importer *im, size_t i, const char *what) {
    value *v = fv_onnx_input(im, i);
    if (v && v->node >= 0) return fv_onnx_fail(im, "%s '%s' must be a constant (an initializer), not computed from the input", what, v->name), NULL;
    return v;
}

/* ---- Attributes. ---- */
const FvOnnx__AttributeProto *fv_onnx_attribute(importer *im, const char *name) {
    for (size_t i = 0; i < im->at->n_attribute; i++)
        if (!strcmp(im->at->attribute[i]->name, name)) return im->at->attribute[i];
    return NULL;
}

static const char *attribute_type_name(int type) {
    static const char *const names[] = {"undefined", "float", "int", "string", "tensor", "graph", "floats", "ints", "strings",
                                        "tensors", "graphs", "sparse tensor", "sparse tensors", "type proto", "type protos"};
    return type >= 0 && type < (int)(sizeof names / sizeof *names) ? names[type] : "unknown";
}

const FvOnnx__AttributeProto *fv_onnx_typed_attribute(importer *im, const char *name, int type) {
    const FvOnnx__AttributeProto *a = fv_onnx_attribute(im, name);
    if (!a || !a->has_type || (int)a->type == type) return a; /* IR version 1 files may leave the type out */
    if (!im->bad_attribute) {
        fv_error keep = *im->err;
        fv_onnx_fail(im, "attribute '%s' is of type %s; the operator takes %s", name, attribute_type_name((int)a->type), attribute_type_name(type));
        im->attribute_error = *im->err, *im->err = keep;
        im->bad_attribute = 1;
    }
    return NULL;
}

int64_t fv_onnx_attr_int(importer *im, const char *name, int64_t fallback) {
    const FvOnnx__AttributeProto *a = fv_onnx_typed_attribute(im, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    return a && a->has_i ? a->i : fallback;
}

float fv_onnx_attr_float(importer *im, const char *name, float fallback) {
    const FvOnnx__AttributeProto *a = fv_onnx_typed_attribute(im, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    return a && a->has_f ? a->f : fallback;
}

/* Up to max ints; returns how many (0 when absent). */
int fv_onnx_attr_ints(importer *im, const char *name, int64_t *out, int max) {
    const FvOnnx__AttributeProto *a = fv_onnx_typed_attribute(im, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    if (!a) return 0;
    int n = (int)(a->n_ints < (size_t)max ? a->n_ints : (size_t)max);
    for (int i = 0; i < n; i++) out[i] = a->ints[i];
    return a->n_ints > (size_t)max ? -1 : n;
}

/* A string attribute (protobuf bytes, not NUL-terminated) into buf. */
const char *fv_onnx_attr_string(importer *im, const char *name, const char *fallback, char *buf, size_t size) {
    const FvOnnx__AttributeProto *a = fv_onnx_typed_attribute(im, name, FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    if (!a || !a->has_s) return fallback;
    snprintf(buf, size, "%.*s", (int)(a->s.len < size ? a->s.len : size - 1), (const char *)a->s.data);
    return buf;
}

/* Attributes fovea does not read are an error unless listed as understood. */
fv_status fv_onnx_check_attributes(importer *im, const char *const *known) {
    for (size_t i = 0; i < im->at->n_attribute; i++) {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++) ok = !strcmp(*k, im->at->attribute[i]->name);
        if (!ok) return fv_onnx_fail(im, "attribute '%s' is not supported", im->at->attribute[i]->name);
    }
    return FV_OK;
}

/* ---- Shapes and layout. ---- */
/* fovea's per-sample shape of an ONNX activation: (N, C, S...) -> (S..., C). */
fv_status fv_onnx_fovea_shape(importer *im, const value *v, fv_shape *s) {
    if (v->rank < 2 || v->rank > FV_MAX_RANK + 1)
        return fv_onnx_fail(im, "'%s' has rank %d; fovea takes ranks 2 to %d (batch, channels, up to 3 spatial axes)", v->name, v->rank,
                    FV_MAX_RANK + 1);
    s->rank = v->rank - 1;
    for (int a = 2; a < v->rank; a++) s->dim[a - 2] = (int)v->dim[a];
    s->dim[s->rank - 1] = (int)v->dim[1];
    for (int a = 1; a < v->rank; a++)
        if (v->dim[a] <= 0 || v->dim[a] > (int64_t)FV_MAX_SAMPLE_VALUES) return fv_onnx_fail(im, "'%s' has dimension %lld", v->name, (long long)v->dim[a]);
    return FV_OK;
}

/* The channels-last order equals ONNX's own when nothing lies on both sides of the channel axis. */
int fv_onnx_layout_trivial(const value *v) {
    if (v->rank <= 2 || v->dim[1] == 1) return 1;
    for (int a = 2; a < v->rank; a++)
        if (v->dim[a] != 1) return 0;
    return 1;
}

int fv_onnx_batch_moved(const value *v) { return v->node >= 0 && (v->batch_axis != 0 || v->batch_outer != 1 || v->batch_inner != 1); }

int fv_onnx_memory_dims(const value *v, int64_t *dims, int *memory_axis) {
    int b = v->batch_axis, m = 1;
    dims[0] = b >= 0 && v->dim[b] > 0 ? v->dim[b] / (v->batch_outer * v->batch_inner) : -1;
    for (int a = 0; a < v->rank; a++) {
        if (memory_axis) memory_axis[a] = a == b ? -1 : m;
        if (a != b) dims[m++] = v->dim[a];
        else {
            if (v->batch_outer > 1) dims[m++] = v->batch_outer;
            if (v->batch_inner > 1) dims[m++] = v->batch_inner;
        }
    }
    return m;
}

void fv_onnx_keep_batch(value *out, const value *x) {
    out->batch_axis = x->batch_axis, out->batch_outer = x->batch_outer, out->batch_inner = x->batch_inner;
}

static int same_shape(fv_shape a, fv_shape b) {
    if (a.rank != b.rank) return 0;
    for (int i = 0; i < a.rank; i++)
        if (a.dim[i] != b.dim[i]) return 0;
    return 1;
}

/* fovea names from the ONNX node's. torch names a node by its module path and op type,
 * "/layer2/layer2.0/downsample/downsample.0/Conv": a component that the next one extends
 * ("layer2" before "layer2.0") is dropped, and so is the op type where it follows a module, giving
 * "layer2.0.downsample.0"; a functional op keeps it in lower case ("/layer1/layer1.0/Add" ->
 * "layer1.0.add"). Other characters than letters, digits, '_', '-' and '.' become '.'. */
static void node_name(importer *im, const char *suffix, char *out) {
    static const char *const functional[] = {"Add", "Sum", "Concat", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze",
                                             "Softmax", "Clip", "Identity", "Dropout", NULL};
    const char *src = !im->at ? "output" : im->at->name && *im->at->name ? im->at->name : im->at->n_output ? im->at->output[0] : "node";
    char comp[16][64];
    int n = 0;
    for (const char *p = src; *p && n < 16;) { /* the '/'-separated components */
        if (*p == '/') { p++; continue; }
        size_t len = strcspn(p, "/");
        snprintf(comp[n++], sizeof comp[0], "%.*s", (int)(len < 63 ? len : 63), p);
        p += len;
    }
    char base[256] = "";
    int last = n - 1;
    if (im->at && n >= 1 && !strcmp(comp[last], im->at->op_type)) { /* torch's op type at the end */
        int func = n == 1; /* a top-level op: its type alone, "reshape" */
        for (const char *const *f = functional; *f && !func; f++) func = !strcmp(*f, comp[last]);
        if (func)
            for (char *c = comp[last]; *c; c++) *c = (char)tolower((unsigned char)*c);
        else last--;
    }
    for (int k = 0; k <= last; k++) {
        size_t len = strlen(comp[k]);
        if (k < last && !strncmp(comp[k + 1], comp[k], len) && comp[k + 1][len] == '.') continue;
        size_t at = strlen(base);
        snprintf(base + at, sizeof base - at, "%s%s", at ? "." : "", comp[k]);
    }
    for (char *c = base; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.') *c = '.';
    const char *from = *base ? base : "node";
    char want[FV_NAME_MAX - 8];
    int room = FV_NAME_MAX - 9 - (int)strlen(suffix);
    size_t len = strlen(from);
    if ((int)len > room) from += len - (size_t)room; /* the end of a long path says the most */
    snprintf(want, sizeof want, "%.*s%s", room > 0 ? room : 0, from, suffix); /* fits: room was measured */
    snprintf(out, FV_NAME_MAX, "%s", want);
    for (int k = 2; fv_net_find(im->net, out) >= 0 && k < 1000000; k++) snprintf(out, FV_NAME_MAX, "%s_%d", want, k);
}

/* Adds a fovea node reading the given values; returns its index or -1. */
int fv_onnx_add_node(importer *im, const fv_layer *layer, value *const *ins, int n_ins, const char *suffix) {
    int inputs[FV_MAX_INPUTS];
    for (int i = 0; i < n_ins; i++) inputs[i] = ins[i]->node;
    char name[FV_NAME_MAX];
    node_name(im, suffix, name);
    fv_error why;
    int node = fv_net_add_from(im->net, layer, name, inputs, n_ins, &why);
    if (node < 0) fv_onnx_fail(im, "%s", why.message);
    return node;
}

int fv_onnx_add_node_after(importer *im, const fv_layer *layer, int from, const char *suffix) {
    value v = {0};
    v.node = from;
    value *in[1] = {&v};
    return fv_onnx_add_node(im, layer, in, 1, suffix);
}

value *fv_onnx_elementwise(importer *im, value *x, const fv_layer *layer) {
    if (fv_onnx_shaped_node(im, x) < 0) return NULL;
    int node = fv_onnx_add_node_after(im, layer, x->node, "");
    value *out = node >= 0 ? fv_onnx_set_output(im, 0, node, NULL, x->dim, x->rank) : NULL;
    if (out) out->plain = x->plain, fv_onnx_keep_batch(out, x);
    return out;
}

/* The value's node with the fovea shape its ONNX dims call for (a reshape node in between when
 * an earlier aliasing changed the dims): the node to read it from, or -1. */
int fv_onnx_shaped_node(importer *im, value *v) {
    fv_shape want;
    if (v->plain) { /* the memory is ONNX's row-major order, the batch first */
        int64_t memory[FV_ONNX_MAX_RANK + 2];
        int r = fv_onnx_memory_dims(v, memory, NULL);
        if (r - 1 > FV_MAX_RANK || r < 2) return fv_onnx_fail(im, "'%s' has %d axes besides the batch (fovea takes 1 to %d)", v->name, r - 1, FV_MAX_RANK), -1;
        want.rank = r - 1;
        for (int a = 1; a < r; a++) {
            if (memory[a] <= 0 || memory[a] > (int64_t)FV_MAX_SAMPLE_VALUES) return fv_onnx_fail(im, "'%s' has dimension %lld", v->name, (long long)memory[a]), -1;
            want.dim[a - 1] = (int)memory[a];
        }
    } else if (fv_onnx_fovea_shape(im, v, &want) != FV_OK) return -1;
    if (same_shape(fv_net_node_shape(im->net, v->node), want)) return v->node;
    fv_layer l = fv_reshape(want);
    value *in[1] = {v};
    int node = fv_onnx_add_node(im, &l, in, 1, "_reshape");
    if (node >= 0) v->node = node;
    return node;
}

/* ---- Layout changes on demand: fovea keeps an image-like value channels last, and moves it to
 * ONNX's own order (plain) when an operator works on that order (a reshape that splits the
 * channels, a transpose, a layer norm over permuted maps), and back when a convolution or a pool
 * reads it. Each move is a transpose node; the value then names that node. ---- */
static int relayout(importer *im, value *v, int to_plain) {
    if (v->node < 0 || v->plain == to_plain) return 1;
    if (fv_onnx_batch_moved(v)) return fv_onnx_fail(im, "'%s' has the batch on axis %d, merged with other axes or behind them (fovea reads it here only with the batch first)", v->name, v->batch_axis), 0;
    if (fv_onnx_layout_trivial(v)) return v->plain = to_plain, 1; /* one order: nothing moves */
    if (fv_onnx_shaped_node(im, v) < 0) return 0;
    int r = v->rank - 1, perm[FV_MAX_RANK];
    for (int i = 0; i < r; i++) perm[i] = to_plain ? (i == 0 ? r - 1 : i - 1) : (i == r - 1 ? 0 : i + 1);
    fv_layer l = fv_transpose(perm, r);
    value *in[1] = {v};
    int node = fv_onnx_add_node(im, &l, in, 1, to_plain ? "_to_onnx_order" : "_to_channels_last");
    if (node < 0) return 0;
    v->node = node, v->plain = to_plain;
    return 1;
}

int fv_onnx_to_plain(importer *im, value *v) { return relayout(im, v, 1); }
int fv_onnx_to_channels_last(importer *im, value *v) { return relayout(im, v, 0); }

/* The output value of the current node, computed by fovea node `node`; dims from its shape unless
 * given. */
value *fv_onnx_set_output(importer *im, size_t i, int node, const value *like, const int64_t *dims, int rank) {
    if (i >= im->at->n_output) return fv_onnx_fail(im, "output %zu is missing", i), NULL;
    value *v = fv_onnx_new_value(im, im->at->output[i]);
    if (!v) return NULL;
    v->node = node;
    if (dims) {
        v->rank = rank;
        memcpy(v->dim, dims, (size_t)rank * sizeof *dims);
    } else {
        fv_shape s = fv_net_node_shape(im->net, node);
        v->rank = s.rank + 1;
        v->dim[0] = like ? like->dim[0] : -1;
        v->dim[1] = s.dim[s.rank - 1];
        for (int a = 0; a < s.rank - 1; a++) v->dim[2 + a] = s.dim[a];
    }
    return v;
}

/* The same data under another name (Identity, Dropout at inference, a fused activation). */
value *fv_onnx_alias(importer *im, size_t i, const value *of) {
    if (i >= im->at->n_output) return fv_onnx_fail(im, "output %zu is missing", i), NULL;
    value copy = *of;
    value *v = fv_onnx_new_value(im, im->at->output[i]);
    if (!v) return NULL;
    if (copy.node < 0 && copy.f) { /* constants are owned once */
        float *f = malloc((copy.count ? copy.count : 1) * sizeof *f);
        if (!f) return fv_onnx_fail(im, "out of memory"), NULL;
        memcpy(f, copy.f, copy.count * sizeof *f);
        copy.f = f;
    }
    copy.name = v->name;
    copy.consumers = 0;
    copy.borrowed = 0; /* the copy owns its values */
    *v = copy;
    return v;
}

fv_status fv_onnx_add_pending(importer *im, int node, const char *param, float *data, size_t count) {
    if (im->n_pending == im->cap_pending) {
        int cap = im->cap_pending ? 2 * im->cap_pending : 64;
        pending_param *grown = realloc(im->pending, (size_t)cap * sizeof *grown);
        if (!grown) return free(data), fv_onnx_fail(im, "out of memory");
        im->pending = grown, im->cap_pending = cap;
    }
    pending_param p = {0};
    p.node = node, p.param = param, p.data = data, p.count = count, p.kind = PENDING_COPY;
    im->pending[im->n_pending++] = p;
    return FV_OK;
}

/* A layout change of a constant's values into a parameter, done at the end (see pending_param). */
fv_status fv_onnx_add_pending_transform(importer *im, int node, const char *param, pending_param p) {
    if (fv_onnx_add_pending(im, node, param, NULL, p.count) != FV_OK) return FV_ERR;
    p.node = node, p.param = param;
    im->pending[im->n_pending - 1] = p;
    return FV_OK;
}

static void write_pending(const pending_param *p, float *dst) {
    if (p->kind == PENDING_COPY) {
        memcpy(dst, p->data, p->count * sizeof *dst);
    } else if (p->kind == PENDING_CONV) {
        for (size_t o = 0; o < p->m; o++)
            for (size_t c = 0; c < p->cg; c++)
                for (size_t t = 0; t < p->taps; t++) dst[(t * p->cg + c) * p->m + o] = p->src[(o * p->cg + c) * p->taps + t];
    } else { /* PENDING_GEMM: m outputs, cg = K inputs */
        for (size_t i = 0; i < p->cg; i++)
            for (size_t j = 0; j < p->m; j++)
                dst[i * p->m + j] = p->alpha * (p->trans ? p->src[j * p->cg + i] : p->src[i * p->m + j]);
    }
}

/* A constant as a per-channel vector of n values (shape (n), (1, n), or a scalar broadcast). */
float *fv_onnx_channel_vector(importer *im, const value *c, int n, float scale, const char *what) {
    if (c->count != 1 && c->count != (size_t)n) return fv_onnx_fail(im, "%s '%s' has %zu values for %d channels", what, c->name, c->count, n), NULL;
    if (c->count == (size_t)n && n > 1 && c->rank >= 1 && c->dim[c->rank - 1] != n)
        return fv_onnx_fail(im, "%s '%s' does not broadcast along the channels", what, c->name), NULL;
    float *out = malloc((size_t)n * sizeof *out);
    if (!out) return fv_onnx_fail(im, "out of memory"), NULL;
    for (int i = 0; i < n; i++) out[i] = scale * c->f[c->count == 1 ? 0 : i];
    return out;
}

/* ---- Activations, fused or standalone. ---- */
fv_status fv_onnx_clip_bounds(importer *im, const FvOnnx__NodeProto *n, float *lo, float *hi) {
    const FvOnnx__NodeProto *saved = im->at;
    im->at = n;
    fv_status st = FV_OK;
    *lo = -INFINITY, *hi = INFINITY;
    if (im->opset < 11) *lo = fv_onnx_attr_float(im, "min", -INFINITY), *hi = fv_onnx_attr_float(im, "max", INFINITY);
    for (size_t i = 1; i < 3 && im->opset >= 11 && st == FV_OK; i++) {
        if (!fv_onnx_has_input(im, i)) continue;
        value *b = fv_onnx_constant_input(im, i, i == 1 ? "min" : "max");
        if (!b) st = FV_ERR;
        else if (b->count != 1) st = fv_onnx_fail(im, "a bound with %zu values", b->count);
        else *(i == 1 ? lo : hi) = b->f[0];
    }
    im->at = saved;
    return st;
}

/* The fovea activation of an ONNX activation node: 0 when it is one, 1 when it is no activation,
 * -1 (error set) when it is one fovea cannot do. */
int fv_onnx_activation_of(importer *im, const FvOnnx__NodeProto *n, fv_activation *act, float *alpha) {
    const FvOnnx__NodeProto *saved = im->at;
    im->at = n;
    int r = 0;
    *alpha = 0.0f;
    if (!strcmp(n->op_type, "Relu")) *act = FV_ACT_RELU;
    else if (!strcmp(n->op_type, "Sigmoid")) *act = FV_ACT_SIGMOID;
    else if (!strcmp(n->op_type, "Tanh")) *act = FV_ACT_TANH;
    else if (!strcmp(n->op_type, "HardSigmoid")) {
        *act = FV_ACT_HARD_SIGMOID, *alpha = fv_onnx_attr_float(im, "alpha", 0.2f);
        float beta = fv_onnx_attr_float(im, "beta", 0.5f);
        if (beta != 0.5f || !(*alpha >= 0.0f)) r = -1, fv_onnx_fail(im, "alpha %g, beta %g (fovea's hard sigmoid has beta 0.5 and alpha >= 0)", (double)*alpha, (double)beta);
    }
    else if (!strcmp(n->op_type, "LeakyRelu")) {
        *act = FV_ACT_LEAKY_RELU, *alpha = fv_onnx_attr_float(im, "alpha", 0.01f);
        if (!(*alpha >= 0.0f)) r = -1, fv_onnx_fail(im, "alpha %g < 0 is not supported", (double)*alpha);
    } else if (!strcmp(n->op_type, "Clip")) {
        float lo, hi;
        if (fv_onnx_clip_bounds(im, n, &lo, &hi) != FV_OK) r = -1;
        if (r == 0 && lo == 0.0f && hi == 6.0f) *act = FV_ACT_RELU6;
        else if (r == 0 && lo == 0.0f && hi == INFINITY) *act = FV_ACT_RELU;
        else if (r == 0) r = -1, fv_onnx_fail(im, "Clip to [%g, %g] (fovea has ReLU6, [0, 6], and ReLU, [0, inf))", (double)lo, (double)hi);
    } else r = 1;
    im->at = saved;
    return r;
}

/* The ONNX node index reading `name` when it is the only reader, else -1. */
int fv_onnx_sole_reader(importer *im, const char *name) {
    int found = -1;
    for (size_t k = 0; k < im->graph->n_output; k++)
        if (!strcmp(im->graph->output[k]->name, name)) return -1;
    for (size_t j = 0; j < im->graph->n_node; j++)
        for (size_t i = 0; i < im->graph->node[j]->n_input; i++)
            if (!strcmp(im->graph->node[j]->input[i], name)) {
                if (found >= 0 && found != (int)j) return -1;
                found = (int)j;
            }
    return found;
}

/* For a Conv or Gemm: the activation to fuse (linear when none), marking its node as done. */
fv_status fv_onnx_fuse_activation(importer *im, fv_activation *act, float *alpha, int *fused) {
    *act = FV_ACT_LINEAR, *alpha = 0.0f, *fused = -1;
    int reader = fv_onnx_sole_reader(im, im->at->output[0]);
    if (reader < 0 || im->graph->node[reader]->n_input < 1 || strcmp(im->graph->node[reader]->input[0], im->at->output[0])) return FV_OK;
    fv_activation a;
    float al;
    fv_error keep = *im->err;
    int r = fv_onnx_activation_of(im, im->graph->node[reader], &a, &al);
    if (r != 0) { /* not fusable: the node reports its own error when it is reached */
        *im->err = keep;
        return FV_OK;
    }
    *act = a, *alpha = al, *fused = reader;
    return FV_OK;
}

fv_status fv_onnx_finish_fused(importer *im, int fused, value *out) {
    if (fused < 0) return FV_OK;
    const FvOnnx__NodeProto *saved = im->at;
    im->at = im->graph->node[fused];
    im->skip[fused] = 1;
    fv_status s = fv_onnx_alias(im, 0, out) ? FV_OK : FV_ERR;
    im->at = saved;
    return s;
}

/* ---- The graph. ---- */
static int is_bound(const fv_onnx_binding *bound, int n_bound, const char *name, const FvOnnx__TensorProto **t) {
    for (int i = 0; i < n_bound; i++)
        if (!strcmp(bound[i].name, name)) return *t = bound[i].tensor, 1;
    return 0;
}

static fv_status graph_input(importer *im, const FvOnnx__ValueInfoProto *in, const int64_t *given, int given_rank, fv_onnx_info *info) {
    const FvOnnx__TypeProto *type = in->type;
    if (!type || type->value_case != FV_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !type->tensor_type)
        return fv_onnx_fail(im, "input '%s' is not a tensor", in->name);
    const FvOnnx__TypeProto__Tensor *tt = type->tensor_type;
    if (tt->elem_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return fv_onnx_fail(im, "input '%s' has data type %s (fovea computes in float32)", in->name, type_name(tt->elem_type));
    if (!tt->shape) return fv_onnx_fail(im, "input '%s' has no shape", in->name);
    value *v = fv_onnx_new_value(im, in->name);
    if (!v) return FV_ERR;
    v->rank = (int)tt->shape->n_dim;
    if (im->unbatched) v->batch_axis = -1, v->plain = 1;
    if (im->unbatched ? v->rank < 1 || v->rank > FV_MAX_RANK : v->rank < 2 || v->rank > FV_MAX_RANK + 1)
        return fv_onnx_fail(im, "input '%s' has rank %d; fovea takes ranks 2 to %d (batch, channels, up to 3 spatial axes)", in->name, v->rank, FV_MAX_RANK + 1);
    if (given && given_rank != v->rank) return fv_onnx_fail(im, "input '%s' has rank %d, the shape given %d", in->name, v->rank, given_rank);
    for (int a = 0; a < v->rank; a++) {
        const FvOnnx__TensorShapeProto__Dimension *d = tt->shape->dim[a];
        int known = d->value_case == FV_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0;
        int64_t size = known ? d->dim_value : -1, want = (a > 0 || im->unbatched) && given ? given[a] : 0;
        if (known && want > 0 && want != size)
            return fv_onnx_fail(im, "input '%s' has size %lld on axis %d, not the %lld given", in->name, (long long)size, a, (long long)want);
        if (!known && want > 0) size = want;
        if ((a > 0 || im->unbatched) && size < 1) {
            const char *named = d->value_case == FV_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param ? d->dim_param : NULL;
            return fv_onnx_fail(im, "input '%s' has no fixed size on axis %d%s%s%s: give it (fovea's --input-shape H,W; fv_net_load_onnx_shaped)", in->name,
                                a, named ? " (named '" : "", named ? named : "", named ? "')" : "");
        }
        if (a > 0 && size > (int64_t)FV_MAX_SAMPLE_VALUES) return fv_onnx_fail(im, "input '%s' has size %lld on axis %d", in->name, (long long)size, a);
        v->dim[a] = size;
    }
    fv_shape s = {v->rank, {0}};
    for (int a = 0; a < v->rank && im->unbatched; a++) s.dim[a] = (int)v->dim[a];
    if (!im->unbatched && fv_onnx_fovea_shape(im, v, &s) != FV_OK) return FV_ERR;
    fv_layer l = fv_input_layer(s);
    fv_error why;
    v->node = fv_net_add(im->net, &l, "input", &why);
    if (v->node < 0) return fv_onnx_fail(im, "input '%s': %s", in->name, why.message);
    if (info) {
        info->input_rank = v->rank;
        memcpy(info->input_dims, v->dim, sizeof info->input_dims);
        snprintf(info->input_name, sizeof info->input_name, "%s", in->name);
    }
    return FV_OK;
}

static void importer_free(importer *im) {
    for (int i = 0; i < im->n_values; i++) {
        if (!im->values[i]->borrowed) free(im->values[i]->f);
        free(im->values[i]);
    }
    for (int i = 0; i < im->n_pending; i++) free(im->pending[i].data);
    free(im->values), free(im->pending), free(im->skip);
}

/* The version of the default operator set the model imports, or 0. */
static int default_opset(const FvOnnx__ModelProto *model) {
    int opset = 0;
    for (size_t i = 0; i < model->n_opset_import; i++) {
        const FvOnnx__OperatorSetIdProto *o = model->opset_import[i];
        if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) opset = o->has_version ? (int)o->version : 1;
    }
    return opset;
}

fv_net *fv_onnx_import_model(const FvOnnx__ModelProto *model, const char *source, const fv_onnx_binding *bound, int n_bound,
                             const int64_t *input_dims, int input_rank, int unbatched, fv_onnx_info *info, fv_error *err) {
    importer im = {0};
    im.source = source, im.err = err, im.unbatched = unbatched;
    if (info) memset(info, 0, sizeof *info);
    if (!model->graph) return fv_fail(err, "%s: the model has no graph", source), NULL;
    im.graph = model->graph;
    im.opset = default_opset(model);
    if (!im.opset) return fv_fail(err, "%s: the model imports no version of the default operator set", source), NULL;
    if (im.opset < 1 || im.opset > 18) return fv_fail(err, "%s: operator set version %d (fovea reads 1 to 18)", source, im.opset), NULL;
    if (info) info->opset = im.opset;
    /* protobuf leaves absent strings NULL: a model missing a name the graph needs is malformed */
    const FvOnnx__GraphProto *g = im.graph;
    for (size_t i = 0; i < g->n_node; i++) {
        if (!g->node[i]->op_type) return fv_fail(err, "%s: malformed: node %zu has no operator type", source, i), NULL;
        for (size_t a = 0; a < g->node[i]->n_attribute; a++)
            if (!g->node[i]->attribute[a]->name) return fv_fail(err, "%s: malformed: node %zu has an unnamed attribute", source, i), NULL;
    }
    for (size_t i = 0; i < g->n_initializer; i++)
        if (!g->initializer[i]->name) return fv_fail(err, "%s: malformed: initializer %zu has no name", source, i), NULL;
    for (size_t i = 0; i < g->n_input; i++)
        if (!g->input[i]->name) return fv_fail(err, "%s: malformed: graph input %zu has no name", source, i), NULL;
    for (size_t i = 0; i < g->n_output; i++)
        if (!g->output[i]->name) return fv_fail(err, "%s: malformed: graph output %zu has no name", source, i), NULL;
    im.skip = calloc(im.graph->n_node + 1, 1);
    im.net = fv_net_new(im.graph->name && *im.graph->name ? im.graph->name : "onnx", err);
    if (!im.skip || !im.net) {
        if (!im.skip) fv_fail(err, "out of memory");
        fv_net_free(im.net), free(im.skip);
        return NULL;
    }
    fv_status status = FV_OK;
    for (size_t i = 0; i < im.graph->n_initializer && status == FV_OK; i++)
        status = fv_onnx_add_constant(&im, im.graph->initializer[i]->name, im.graph->initializer[i]) ? FV_OK : FV_ERR;
    if (status == FV_OK && im.graph->n_sparse_initializer) status = fv_onnx_fail(&im, "sparse initializers are not supported");
    /* the one data input: a graph input that is neither an initializer nor bound */
    int n_data = 0;
    for (size_t i = 0; i < im.graph->n_input && status == FV_OK; i++) {
        const FvOnnx__ValueInfoProto *in = im.graph->input[i];
        const FvOnnx__TensorProto *t;
        if (fv_onnx_find_value(&im, in->name)) continue;
        if (is_bound(bound, n_bound, in->name, &t)) status = fv_onnx_add_constant(&im, in->name, t) ? FV_OK : FV_ERR;
        else if (n_data++) status = fv_onnx_fail(&im, "a second data input '%s' (fovea networks take one input)", in->name);
        else status = graph_input(&im, in, input_dims, input_rank, info);
    }
    if (status == FV_OK && !n_data) status = fv_onnx_fail(&im, "the graph has no data input");
    if (status == FV_OK && im.graph->n_output != 1)
        status = fv_onnx_fail(&im, "the graph has %zu outputs (fovea networks have one)", im.graph->n_output);
    for (size_t j = 0; j < im.graph->n_node && status == FV_OK; j++) {
        im.at = im.graph->node[j];
        status = fv_onnx_check_node(&im);
    }
    /* Constant nodes first: a fused Clip reads its bounds before its node is reached */
    for (size_t j = 0; j < im.graph->n_node && status == FV_OK; j++)
        if (!strcmp(im.graph->node[j]->op_type, "Constant") && im.graph->node[j]->n_output == 1) {
            im.at = im.graph->node[j];
            status = fv_onnx_op_constant(&im);
            im.skip[j] = 1;
        }
    for (size_t j = 0; j < im.graph->n_node && status == FV_OK && !im.bad_attribute; j++) {
        if (im.skip[j]) continue;
        im.at = im.graph->node[j];
        status = fv_onnx_translate(&im);
    }
    if (im.bad_attribute) status = FV_ERR, *err = im.attribute_error; /* the first wrongly typed attribute is the cause */
    im.at = NULL;
    value *out = status == FV_OK ? fv_onnx_find_value(&im, im.graph->output[0]->name) : NULL;
    if (status == FV_OK && !out) status = fv_onnx_fail(&im, "output '%s' is not computed by any node", im.graph->output[0]->name);
    if (status == FV_OK && out->node < 0) status = fv_onnx_fail(&im, "output '%s' is a constant", out->name);
    if (status == FV_OK && fv_onnx_batch_moved(out) && out->batch_axis >= 0)
        status = fv_onnx_fail(&im, "output '%s' has the batch on axis %d or merged with other axes (fovea's outputs have it first)", out->name, out->batch_axis);
    /* outputs are channels last, as every fovea tensor; an unbatched one is in ONNX's order */
    if (status == FV_OK && out->plain && out->batch_axis >= 0 && !fv_onnx_to_channels_last(&im, out)) status = FV_ERR;
    if (status == FV_OK && fv_onnx_shaped_node(&im, out) < 0) status = FV_ERR;
    if (status == FV_OK && out->node != fv_net_output_node(im.net)) { /* fovea's output is its last node */
        fv_layer copy = fv_activation_layer(FV_ACT_LINEAR);
        fv_error why;
        int node = fv_net_add_from(im.net, &copy, "output", &out->node, 1, &why);
        if (node < 0) status = fv_onnx_fail(&im, "%s", why.message);
        else out->node = node;
    }
    if (status == FV_OK && info) {
        info->output_rank = out->rank;
        memcpy(info->output_dims, out->dim, sizeof info->output_dims);
        snprintf(info->output_name, sizeof info->output_name, "%s", out->name);
    }
    if (status == FV_OK) status = fv_net_init_params(im.net, 1, err);
    for (int i = 0; i < im.n_pending && status == FV_OK; i++) {
        pending_param *p = &im.pending[i];
        int index = fv_net_find_param(im.net, p->node, p->param);
        fv_param_info pi;
        if (index < 0 || fv_net_param(im.net, index, &pi, err) != FV_OK || pi.count != p->count)
            status = fv_fail(err, "%s: internal: parameter %s of node %d does not match", source, p->param, p->node);
        else write_pending(p, pi.value);
    }
    importer_free(&im);
    if (status != FV_OK) {
        fv_net_free(im.net);
        return NULL;
    }
    return im.net;
}

/* protobuf-c unpacks nested messages by recursion, so a file nesting graphs in attributes a few
 * thousand deep (If -> then_branch -> If ...) overflows the stack inside the unpacker. This walks
 * the wire format first, following only fields the schema says are messages, and refuses nesting
 * deeper than protobuf's own default recursion limit; what does not parse is left to the unpacker. */
#define ONNX_MAX_NESTING 100
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}

static int nesting_depth(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end, int depth) {
    int deepest = depth;
    while (p < end) {
        uint64_t key, len;
        if (!read_varint(&p, end, &key)) return deepest;
        switch (key & 7) {
        case 0: if (!read_varint(&p, end, &len)) return deepest; break;
        case 1: if (end - p < 8) return deepest; p += 8; break;
        case 5: if (end - p < 4) return deepest; p += 4; break;
        case 2: {
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p)) return deepest;
            const ProtobufCFieldDescriptor *f = key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth + 1 > ONNX_MAX_NESTING) return depth + 1;
                int inner = nesting_depth(f->descriptor, p, p + len, depth + 1);
                if (inner > ONNX_MAX_NESTING) return inner;
                deepest = inner > deepest ? inner : deepest;
            }
            p += len;
            break;
        }
        default: return deepest; /* groups or garbage: the unpacker refuses them */
        }
    }
    return deepest;
}

fv_net *fv_net_load_onnx(const char *path, fv_onnx_info *info, fv_error *err) { return fv_net_load_onnx_shaped(path, NULL, 0, info, err); }

/* The file's model, unpacked (free with fv_onnx__model_proto__free_unpacked), or NULL with an error. */
static FvOnnx__ModelProto *read_model(const char *path, fv_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return fv_fail(err, "%s: cannot open: %s", path, strerror(errno)), NULL;
    /* the file's size first, so that the buffer is exactly that (VGG16 is 553 MB) */
    long end = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (end < 0 || fseek(f, 0, SEEK_SET) != 0) return fclose(f), fv_fail(err, "%s: cannot read it (not a regular file?)", path), NULL;
    if ((unsigned long)end > ((unsigned long)4 << 30)) return fclose(f), fv_fail(err, "%s: larger than 4 GB", path), NULL;
    size_t size = (size_t)end;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) return fclose(f), fv_fail(err, "%s: out of memory reading %zu bytes", path, size), NULL;
    size_t got = fread(buf, 1, size, f);
    int bad = ferror(f) || got != size;
    fclose(f);
    if (bad) return free(buf), fv_fail(err, "%s: read error", path), NULL;
    if (size == 0) return free(buf), fv_fail(err, "%s: empty file (not an ONNX model)", path), NULL;
    if (nesting_depth(&fv_onnx__model_proto__descriptor, buf, buf + size, 0) > ONNX_MAX_NESTING)
        return free(buf), fv_fail(err, "%s: messages nested more than %d deep (graphs inside attributes): refused before unpacking", path,
                                  ONNX_MAX_NESTING), NULL;
    FvOnnx__ModelProto *model = fv_onnx__model_proto__unpack(NULL, size, buf);
    free(buf);
    if (!model) return fv_fail(err, "%s: not an ONNX model (the protobuf does not parse)", path), NULL;
    return model;
}

fv_net *fv_net_load_onnx_shaped(const char *path, const int64_t *input_dims, int input_rank, fv_onnx_info *info, fv_error *err) {
    FvOnnx__ModelProto *model = read_model(path, err);
    if (!model) return NULL;
    fv_net *net = fv_onnx_import_model(model, path, NULL, 0, input_dims, input_rank, 0, info, err);
    fv_onnx__model_proto__free_unpacked(model, NULL);
    return net;
}

fv_status fv_onnx_read_input(const char *path, fv_onnx_info *info, fv_error *err) {
    memset(info, 0, sizeof *info);
    FvOnnx__ModelProto *model = read_model(path, err);
    if (!model) return FV_ERR;
    const FvOnnx__GraphProto *g = model->graph;
    int found = 0;
    for (size_t i = 0; g && i < g->n_input && !found; i++) {
        const FvOnnx__ValueInfoProto *in = g->input[i];
        int initializer = 0;
        for (size_t k = 0; in->name && k < g->n_initializer; k++) initializer |= g->initializer[k]->name && !strcmp(g->initializer[k]->name, in->name);
        const FvOnnx__TypeProto *t = in->type;
        if (initializer || !in->name || !t || t->value_case != FV_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type || !t->tensor_type->shape) continue;
        const FvOnnx__TensorShapeProto *shape = t->tensor_type->shape;
        if (shape->n_dim > sizeof info->input_dims / sizeof *info->input_dims) continue;
        info->input_rank = (int)shape->n_dim;
        for (size_t a = 0; a < shape->n_dim; a++) {
            const FvOnnx__TensorShapeProto__Dimension *d = shape->dim[a];
            info->input_dims[a] = d->value_case == FV_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0 ? d->dim_value : -1;
        }
        snprintf(info->input_name, sizeof info->input_name, "%s", in->name);
        found = 1;
    }
    info->opset = default_opset(model);
    fv_onnx__model_proto__free_unpacked(model, NULL);
    return found ? FV_OK : fv_fail(err, "%s: the graph has no data input", path);
}
