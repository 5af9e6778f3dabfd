/* onnx_import.c — an ONNX model (protobuf, read by protobuf-c) into a fovea network with its
 * weights, converted once to fovea's channels-last layout (onnx.h states the rule), so that the
 * network computes ONNX's numbers.
 *
 * Every ONNX value the graph names is tracked in a table: either a constant (an initializer, a
 * Constant node, a bound input, or what Shape -> Gather -> Unsqueeze -> Concat chains fold to) or
 * the output of a fovea node, with its ONNX dimensions. Nodes are translated in the file's order
 * (ONNX requires a topological order); a ReLU-like activation whose only reader is a Conv or Gemm
 * is fused into it. What fovea cannot compute exactly is a one-line error naming the node. */
#include "io/onnx.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MARK (-1073741824LL) /* Shape's value for the batch axis, whose size is not fixed (-2^30: exact as a float) */

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
    int consumers;                  /* nodes reading it */
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
    fv_net *net;
    value **values;                 /* each allocated on its own: pointers to them stay valid */
    int n_values, cap_values;
    pending_param *pending;
    int n_pending, cap_pending;
    unsigned char *skip;            /* per ONNX node: fused into the node before it */
    const FvOnnx__NodeProto *at;      /* the node being translated, for errors */
    fv_error *err;
} importer;

static fv_status fail(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static fv_status fail(importer *im, const char *fmt, ...) {
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
static size_t dims_count(const int64_t *dims, size_t rank) {
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
    size_t n = dims_count(t->dims, t->n_dims);
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
static value *find_value(importer *im, const char *name) {
    for (int i = im->n_values - 1; i >= 0; i--)
        if (!strcmp(im->values[i]->name, name)) return im->values[i];
    return NULL;
}

static value *new_value(importer *im, const char *name) {
    if (im->n_values == im->cap_values) {
        int cap = im->cap_values ? 2 * im->cap_values : 64;
        value **grown = realloc(im->values, (size_t)cap * sizeof *grown);
        if (!grown) return fail(im, "out of memory"), NULL;
        im->values = grown, im->cap_values = cap;
    }
    value *v = calloc(1, sizeof *v);
    if (!v) return fail(im, "out of memory"), NULL;
    im->values[im->n_values++] = v;
    v->name = name;
    v->node = -1;
    return v;
}

static value *add_constant(importer *im, const char *name, const FvOnnx__TensorProto *t) {
    size_t count;
    fv_error why;
    if (t->has_data_type && t->data_type == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && t->has_raw_data && t->n_dims <= FV_ONNX_MAX_RANK &&
        !(t->has_data_location && t->data_location == FV_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) &&
        (uintptr_t)t->raw_data.data % sizeof(float) == 0 && dims_count(t->dims, t->n_dims) != SIZE_MAX &&
        t->raw_data.len == dims_count(t->dims, t->n_dims) * sizeof(float) && t->raw_data.len > 0) {
        /* float32 bytes (little-endian, as this machine): read in place, not copied */
        value *v = new_value(im, name);
        if (!v) return NULL;
        v->f = (float *)(void *)t->raw_data.data, v->borrowed = 1;
        v->count = t->raw_data.len / sizeof(float), v->rank = (int)t->n_dims;
        for (size_t i = 0; i < t->n_dims; i++) v->dim[i] = t->dims[i];
        return v;
    }
    float *f = fv_onnx_tensor_floats(t, &count, &why);
    if (!f) return fail(im, "%s", why.message), NULL;
    value *v = new_value(im, name);
    if (!v) return free(f), NULL;
    v->f = f, v->count = count, v->rank = (int)t->n_dims;
    v->is_int = t->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    for (size_t i = 0; i < t->n_dims; i++) v->dim[i] = t->dims[i];
    if (v->is_int) /* Shape's batch mark and -1 survive a float; ints beyond 2^24 are not shapes */
        for (size_t i = 0; i < count; i++)
            if (fabsf(f[i]) > 16777216.0f && f[i] != (float)BATCH_MARK) return fail(im, "integer constant '%s' is out of range", name), NULL;
    return v;
}

/* A constant computed here (folding): rank 0 or 1. */
static value *fold_constant(importer *im, const char *name, const float *f, size_t count, int rank) {
    value *v = new_value(im, name);
    if (!v) return NULL;
    v->f = malloc((count ? count : 1) * sizeof *v->f);
    if (!v->f) return fail(im, "out of memory"), NULL;
    memcpy(v->f, f, count * sizeof *f);
    v->count = count, v->rank = rank, v->is_int = 1;
    v->dim[0] = (int64_t)count;
    return v;
}

/* An input of the current node: NULL (with an error) when it is missing or unknown. */
static value *input(importer *im, size_t i) {
    if (i >= im->at->n_input || !*im->at->input[i]) return fail(im, "input %zu is missing", i), NULL;
    value *v = find_value(im, im->at->input[i]);
    if (!v) fail(im, "input '%s' is not computed by an earlier node", im->at->input[i]);
    return v;
}

static int has_input(importer *im, size_t i) { return i < im->at->n_input && *im->at->input[i]; }

/* An activation input (the output of a layer), not a constant. */
static value *activation_input(importer *im, size_t i) {
    value *v = input(im, i);
    if (v && v->node < 0) return fail(im, "input '%s' is a constant (fovea computes this operator on the network's data only)", v->name), NULL;
    return v;
}

static value *constant_input(importer *im, size_t i, const char *what) {
    value *v = input(im, i);
    if (v && v->node >= 0) return fail(im, "%s '%s' must be a constant (an initializer), not computed from the input", what, v->name), NULL;
    return v;
}

/* ---- Attributes. ---- */
static const FvOnnx__AttributeProto *attribute(importer *im, const char *name) {
    for (size_t i = 0; i < im->at->n_attribute; i++)
        if (!strcmp(im->at->attribute[i]->name, name)) return im->at->attribute[i];
    return NULL;
}

static int64_t attr_int(importer *im, const char *name, int64_t fallback) {
    const FvOnnx__AttributeProto *a = attribute(im, name);
    return a && a->has_i ? a->i : fallback;
}

static float attr_float(importer *im, const char *name, float fallback) {
    const FvOnnx__AttributeProto *a = attribute(im, name);
    return a && a->has_f ? a->f : fallback;
}

/* Up to max ints; returns how many (0 when absent). */
static int attr_ints(importer *im, const char *name, int64_t *out, int max) {
    const FvOnnx__AttributeProto *a = attribute(im, name);
    if (!a) return 0;
    int n = (int)(a->n_ints < (size_t)max ? a->n_ints : (size_t)max);
    for (int i = 0; i < n; i++) out[i] = a->ints[i];
    return a->n_ints > (size_t)max ? -1 : n;
}

/* A string attribute (protobuf bytes, not NUL-terminated) into buf. */
static const char *attr_string(importer *im, const char *name, const char *fallback, char *buf, size_t size) {
    const FvOnnx__AttributeProto *a = attribute(im, name);
    if (!a || !a->has_s) return fallback;
    snprintf(buf, size, "%.*s", (int)(a->s.len < size ? a->s.len : size - 1), (const char *)a->s.data);
    return buf;
}

/* Attributes fovea does not read are an error unless listed as understood. */
static fv_status check_attributes(importer *im, const char *const *known) {
    for (size_t i = 0; i < im->at->n_attribute; i++) {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++) ok = !strcmp(*k, im->at->attribute[i]->name);
        if (!ok) return fail(im, "attribute '%s' is not supported", im->at->attribute[i]->name);
    }
    return FV_OK;
}

/* ---- Shapes and layout. ---- */
/* fovea's per-sample shape of an ONNX activation: (N, C, S...) -> (S..., C). */
static fv_status fovea_shape(importer *im, const value *v, fv_shape *s) {
    if (v->rank < 2 || v->rank > FV_MAX_RANK + 1)
        return fail(im, "'%s' has rank %d; fovea takes ranks 2 to %d (batch, channels, up to 3 spatial axes)", v->name, v->rank,
                    FV_MAX_RANK + 1);
    s->rank = v->rank - 1;
    for (int a = 2; a < v->rank; a++) s->dim[a - 2] = (int)v->dim[a];
    s->dim[s->rank - 1] = (int)v->dim[1];
    for (int a = 1; a < v->rank; a++)
        if (v->dim[a] <= 0 || v->dim[a] > (int64_t)FV_MAX_SAMPLE_VALUES) return fail(im, "'%s' has dimension %lld", v->name, (long long)v->dim[a]);
    return FV_OK;
}

/* The channels-last order equals ONNX's own when nothing lies on both sides of the channel axis. */
static int layout_trivial(const value *v) {
    if (v->rank <= 2 || v->dim[1] == 1) return 1;
    for (int a = 2; a < v->rank; a++)
        if (v->dim[a] != 1) return 0;
    return 1;
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
    snprintf(want, sizeof want, "%s%s", from, suffix);
    snprintf(out, FV_NAME_MAX, "%s", want);
    for (int k = 2; fv_net_find(im->net, out) >= 0 && k < 1000000; k++) snprintf(out, FV_NAME_MAX, "%s_%d", want, k);
}

/* Adds a fovea node reading the given values; returns its index or -1. */
static int add_node(importer *im, const fv_layer *layer, value *const *ins, int n_ins, const char *suffix) {
    int inputs[FV_MAX_INPUTS];
    for (int i = 0; i < n_ins; i++) inputs[i] = ins[i]->node;
    char name[FV_NAME_MAX];
    node_name(im, suffix, name);
    fv_error why;
    int node = fv_net_add_from(im->net, layer, name, inputs, n_ins, &why);
    if (node < 0) fail(im, "%s", why.message);
    return node;
}

/* The value's node with the fovea shape its ONNX dims call for (a reshape node in between when
 * an earlier aliasing changed the dims): the node to read it from, or -1. */
static int shaped_node(importer *im, value *v) {
    fv_shape want;
    if (v->plain) { /* the memory is dims[1..] as they stand */
        if (v->rank - 1 > FV_MAX_RANK) return fail(im, "'%s' has rank %d", v->name, v->rank), -1;
        want.rank = v->rank - 1;
        for (int a = 1; a < v->rank; a++) want.dim[a - 1] = (int)v->dim[a];
    } else if (fovea_shape(im, v, &want) != FV_OK) return -1;
    if (same_shape(fv_net_node_shape(im->net, v->node), want)) return v->node;
    fv_layer l = fv_reshape(want);
    value *in[1] = {v};
    int node = add_node(im, &l, in, 1, "_reshape");
    if (node >= 0) v->node = node;
    return node;
}

/* The output value of the current node, computed by fovea node `node`; dims from its shape unless
 * given. */
static value *set_output(importer *im, size_t i, int node, const value *like, const int64_t *dims, int rank) {
    if (i >= im->at->n_output) return fail(im, "output %zu is missing", i), NULL;
    value *v = new_value(im, im->at->output[i]);
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
static value *alias(importer *im, size_t i, const value *of) {
    if (i >= im->at->n_output) return fail(im, "output %zu is missing", i), NULL;
    value copy = *of;
    value *v = new_value(im, im->at->output[i]);
    if (!v) return NULL;
    if (copy.node < 0 && copy.f) { /* constants are owned once */
        float *f = malloc((copy.count ? copy.count : 1) * sizeof *f);
        if (!f) return fail(im, "out of memory"), NULL;
        memcpy(f, copy.f, copy.count * sizeof *f);
        copy.f = f;
    }
    copy.name = v->name;
    copy.consumers = 0;
    copy.borrowed = 0; /* the copy owns its values */
    *v = copy;
    return v;
}

static fv_status add_pending(importer *im, int node, const char *param, float *data, size_t count) {
    if (im->n_pending == im->cap_pending) {
        int cap = im->cap_pending ? 2 * im->cap_pending : 64;
        pending_param *grown = realloc(im->pending, (size_t)cap * sizeof *grown);
        if (!grown) return free(data), fail(im, "out of memory");
        im->pending = grown, im->cap_pending = cap;
    }
    pending_param p = {0};
    p.node = node, p.param = param, p.data = data, p.count = count, p.kind = PENDING_COPY;
    im->pending[im->n_pending++] = p;
    return FV_OK;
}

/* A layout change of a constant's values into a parameter, done at the end (see pending_param). */
static fv_status add_pending_transform(importer *im, int node, const char *param, pending_param p) {
    if (add_pending(im, node, param, NULL, p.count) != FV_OK) return FV_ERR;
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
static float *channel_vector(importer *im, const value *c, int n, float scale, const char *what) {
    if (c->count != 1 && c->count != (size_t)n) return fail(im, "%s '%s' has %zu values for %d channels", what, c->name, c->count, n), NULL;
    if (c->count == (size_t)n && n > 1 && c->rank >= 1 && c->dim[c->rank - 1] != n)
        return fail(im, "%s '%s' does not broadcast along the channels", what, c->name), NULL;
    float *out = malloc((size_t)n * sizeof *out);
    if (!out) return fail(im, "out of memory"), NULL;
    for (int i = 0; i < n; i++) out[i] = scale * c->f[c->count == 1 ? 0 : i];
    return out;
}

/* ---- Activations, fused or standalone. ---- */
/* The fovea activation of an ONNX activation node: 0 when it is one, 1 when it is no activation,
 * -1 (error set) when it is one fovea cannot do. */
static int activation_of(importer *im, const FvOnnx__NodeProto *n, fv_activation *act, float *alpha) {
    const FvOnnx__NodeProto *saved = im->at;
    im->at = n;
    int r = 0;
    *alpha = 0.0f;
    if (!strcmp(n->op_type, "Relu")) *act = FV_ACT_RELU;
    else if (!strcmp(n->op_type, "Sigmoid")) *act = FV_ACT_SIGMOID;
    else if (!strcmp(n->op_type, "Tanh")) *act = FV_ACT_TANH;
    else if (!strcmp(n->op_type, "HardSigmoid")) {
        *act = FV_ACT_HARD_SIGMOID, *alpha = attr_float(im, "alpha", 0.2f);
        float beta = attr_float(im, "beta", 0.5f);
        if (beta != 0.5f || !(*alpha >= 0.0f)) r = -1, fail(im, "alpha %g, beta %g (fovea's hard sigmoid has beta 0.5 and alpha >= 0)", (double)*alpha, (double)beta);
    }
    else if (!strcmp(n->op_type, "LeakyRelu")) {
        *act = FV_ACT_LEAKY_RELU, *alpha = attr_float(im, "alpha", 0.01f);
        if (!(*alpha >= 0.0f)) r = -1, fail(im, "alpha %g < 0 is not supported", (double)*alpha);
    } else if (!strcmp(n->op_type, "Clip")) {
        float lo = -INFINITY, hi = INFINITY;
        if (im->opset < 11) lo = attr_float(im, "min", -INFINITY), hi = attr_float(im, "max", INFINITY);
        for (size_t i = 1; i < 3 && im->opset >= 11; i++) {
            if (!has_input(im, i)) continue;
            value *b = constant_input(im, i, i == 1 ? "min" : "max");
            if (!b) { r = -1; break; }
            if (b->count != 1) { r = -1, fail(im, "a bound with %zu values", b->count); break; }
            *(i == 1 ? &lo : &hi) = b->f[0];
        }
        if (r == 0 && lo == 0.0f && hi == 6.0f) *act = FV_ACT_RELU6;
        else if (r == 0 && lo == 0.0f && hi == INFINITY) *act = FV_ACT_RELU;
        else if (r == 0) r = -1, fail(im, "Clip to [%g, %g] (fovea has ReLU6, [0, 6], and ReLU, [0, inf))", (double)lo, (double)hi);
    } else r = 1;
    im->at = saved;
    return r;
}

/* The ONNX node index reading `name` when it is the only reader, else -1. */
static int sole_reader(importer *im, const char *name) {
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
static fv_status fuse_activation(importer *im, size_t self, fv_activation *act, float *alpha, int *fused) {
    *act = FV_ACT_LINEAR, *alpha = 0.0f, *fused = -1;
    int reader = sole_reader(im, im->at->output[0]);
    if (reader < 0 || im->graph->node[reader]->n_input < 1 || strcmp(im->graph->node[reader]->input[0], im->at->output[0])) return FV_OK;
    (void)self;
    fv_activation a;
    float al;
    fv_error keep = *im->err;
    int r = activation_of(im, im->graph->node[reader], &a, &al);
    if (r != 0) { /* not fusable: the node reports its own error when it is reached */
        *im->err = keep;
        return FV_OK;
    }
    *act = a, *alpha = al, *fused = reader;
    return FV_OK;
}

static fv_status finish_fused(importer *im, int fused, value *out) {
    if (fused < 0) return FV_OK;
    const FvOnnx__NodeProto *saved = im->at;
    im->at = im->graph->node[fused];
    im->skip[fused] = 1;
    fv_status s = alias(im, 0, out) ? FV_OK : FV_ERR;
    im->at = saved;
    return s;
}

/* ---- The operators. ---- */
static fv_status op_conv(importer *im, size_t self) {
    static const char *const known[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", NULL};
    if (check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = activation_input(im, 0), *w = x ? constant_input(im, 1, "the weight") : NULL;
    if (!w) return FV_ERR;
    int spatial = x->rank - 2;
    if (spatial < 1 || spatial > 3) return fail(im, "input rank %d (fovea convolves 1-D, 2-D and 3-D data)", x->rank);
    if (w->rank != x->rank) return fail(im, "weight rank %d for input rank %d", w->rank, x->rank);
    int64_t groups = attr_int(im, "group", 1), cin = x->dim[1], cout = w->dim[0];
    if (groups < 1 || cin % groups || cout % groups || w->dim[1] != cin / groups)
        return fail(im, "weight (%lld, %lld, ...) does not fit %lld input channels in %lld groups", (long long)cout,
                    (long long)w->dim[1], (long long)cin, (long long)groups);
    int64_t k[3], st[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pads[6] = {0};
    for (int a = 0; a < spatial; a++) k[a] = w->dim[2 + a];
    int64_t ks[3];
    int nk = attr_ints(im, "kernel_shape", ks, 3);
    for (int a = 0; a < nk; a++)
        if (ks[a] != k[a]) return fail(im, "kernel_shape disagrees with the weight");
    if (attr_ints(im, "strides", st, 3) < 0 || attr_ints(im, "dilations", dil, 3) < 0 || attr_ints(im, "pads", pads, 6) < 0)
        return fail(im, "too many strides, dilations or pads");
    fv_layer l = fv_layer_defaults(spatial == 1 ? FV_LAYER_CONV1D : spatial == 2 ? FV_LAYER_CONV2D : FV_LAYER_CONV3D);
    l.conv.filters = (int)cout, l.conv.groups = (int)groups, l.conv.padding = FV_PAD_EXPLICIT;
    l.conv.use_bias = has_input(im, 2);
    char pad_buf[32];
    const char *auto_pad = attr_string(im, "auto_pad", "NOTSET", pad_buf, sizeof pad_buf);
    for (int a = 0; a < spatial; a++) {
        if (st[a] < 1 || dil[a] < 1 || k[a] < 1 || st[a] > 65536 || dil[a] > 65536 || k[a] > 65536) return fail(im, "a stride, dilation or kernel out of range");
        l.conv.kernel[a] = (int)k[a], l.conv.stride[a] = (int)st[a], l.conv.dilation[a] = (int)dil[a];
        int64_t before = pads[a], after = pads[spatial + a];
        if (!strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER")) {
            int64_t in = x->dim[2 + a], out = (in + st[a] - 1) / st[a], extent = dil[a] * (k[a] - 1) + 1;
            int64_t total = (out - 1) * st[a] + extent - in;
            total = total < 0 ? 0 : total;
            before = !strcmp(auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
            after = total - before;
        } else if (!strcmp(auto_pad, "VALID")) before = after = 0;
        else if (strcmp(auto_pad, "NOTSET")) return fail(im, "auto_pad '%s'", auto_pad);
        if (before < 0 || after < 0 || before > 65536 || after > 65536) return fail(im, "pads out of range");
        l.conv.pad[a][0] = (int)before, l.conv.pad[a][1] = (int)after;
    }
    int fused;
    if (fuse_activation(im, self, &l.conv.activation, &l.conv.alpha, &fused) != FV_OK) return FV_ERR;
    if (shaped_node(im, x) < 0) return FV_ERR;
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    /* (M, C/g, k...) -> (k..., C/g, M) */
    size_t taps = 1, cg = (size_t)w->dim[1], m = (size_t)cout;
    for (int a = 0; a < spatial; a++) taps *= (size_t)k[a];
    pending_param kp = {.kind = PENDING_CONV, .src = w->f, .m = m, .cg = cg, .taps = taps, .count = taps * cg * m};
    if (add_pending_transform(im, node, "kernel", kp) != FV_OK) return FV_ERR;
    if (l.conv.use_bias) {
        value *b = constant_input(im, 2, "the bias");
        float *bias = b ? channel_vector(im, b, (int)m, 1.0f, "bias") : NULL;
        if (!bias || add_pending(im, node, "bias", bias, m) != FV_OK) return FV_ERR;
    }
    value *out = set_output(im, 0, node, x, NULL, 0);
    return out ? finish_fused(im, fused, out) : FV_ERR;
}

/* Gemm (Y = alpha A B' + beta C) and MatMul with a constant B: a dense layer. */
static fv_status op_dense(importer *im, size_t self, int gemm) {
    static const char *const known_gemm[] = {"alpha", "beta", "transA", "transB", "broadcast", NULL};
    static const char *const none[] = {NULL};
    if (check_attributes(im, gemm ? known_gemm : none) != FV_OK) return FV_ERR;
    value *a = activation_input(im, 0), *b = a ? constant_input(im, 1, "B") : NULL;
    if (!b) return FV_ERR;
    if (a->rank != 2) return fail(im, "input rank %d (fovea multiplies (batch, features) matrices)", a->rank);
    if (b->rank != 2) return fail(im, "B has rank %d (fovea takes a matrix)", b->rank);
    if (gemm && attr_int(im, "transA", 0)) return fail(im, "transA=1 (it would mix the batch)");
    int trans_b = gemm ? (int)attr_int(im, "transB", 0) : 0;
    float alpha = gemm ? attr_float(im, "alpha", 1.0f) : 1.0f, beta = gemm ? attr_float(im, "beta", 1.0f) : 1.0f;
    int64_t k = trans_b ? b->dim[1] : b->dim[0], m = trans_b ? b->dim[0] : b->dim[1];
    if (k != a->dim[1]) return fail(im, "B has %lld rows for %lld features", (long long)k, (long long)a->dim[1]);
    fv_layer l = fv_dense((int)m);
    l.dense.use_bias = gemm && has_input(im, 2) && beta != 0.0f;
    int fused;
    if (fuse_activation(im, self, &l.dense.activation, &l.dense.alpha, &fused) != FV_OK) return FV_ERR;
    /* a softmax over the features fuses too */
    int reader = sole_reader(im, im->at->output[0]);
    if (fused < 0 && reader >= 0 && !strcmp(im->graph->node[reader]->op_type, "Softmax")) {
        const FvOnnx__NodeProto *saved = im->at;
        im->at = im->graph->node[reader];
        int64_t axis = attr_int(im, "axis", im->opset >= 13 ? -1 : 1);
        im->at = saved;
        if (axis == 1 || axis == -1) l.dense.activation = FV_ACT_SOFTMAX, fused = reader;
    }
    if (shaped_node(im, a) < 0) return FV_ERR;
    value *ins[1] = {a};
    int node = add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    pending_param kp = {.kind = PENDING_GEMM, .src = b->f, .m = (size_t)m, .cg = (size_t)k, .trans = trans_b, .alpha = alpha,
                        .count = (size_t)(k * m)};
    if (add_pending_transform(im, node, "kernel", kp) != FV_OK) return FV_ERR;
    if (l.dense.use_bias) {
        value *c = constant_input(im, 2, "C");
        if (c && c->rank == 2 && c->dim[0] != 1) return fail(im, "C of shape (%lld, %lld) (fovea adds a bias per output)", (long long)c->dim[0], (long long)c->dim[1]);
        float *bias = c ? channel_vector(im, c, (int)m, beta, "C") : NULL;
        if (!bias || add_pending(im, node, "bias", bias, (size_t)m) != FV_OK) return FV_ERR;
    }
    value *out = set_output(im, 0, node, a, NULL, 0);
    return out ? finish_fused(im, fused, out) : FV_ERR;
}

static fv_status op_activation(importer *im) {
    static const char *const known[] = {"alpha", "beta", "min", "max", NULL};
    if (check_attributes(im, known) != FV_OK) return FV_ERR;
    fv_activation act;
    float alpha;
    int r = activation_of(im, im->at, &act, &alpha);
    if (r < 0) return FV_ERR;
    value *x = activation_input(im, 0);
    if (!x || shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_activation_layer(act);
    l.activation.alpha = alpha;
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    return node >= 0 && set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

static fv_status op_softmax(importer *im) {
    static const char *const known[] = {"axis", NULL};
    if (check_attributes(im, known) != FV_OK) return FV_ERR;
    value *x = activation_input(im, 0);
    if (!x) return FV_ERR;
    int64_t axis = attr_int(im, "axis", im->opset >= 13 ? -1 : 1);
    if (axis < 0) axis += x->rank;
    /* fovea's softmax runs over the channels: ONNX axis 1; before opset 13 the axes from `axis` on
     * are flattened into one, which is the channels alone when the others have size 1 */
    int ok = axis == 1 || (x->rank == 2 && axis == 1);
    if (im->opset < 13 && axis == 1)
        for (int a = 2; a < x->rank; a++) ok &= x->dim[a] == 1;
    if (!ok) return fail(im, "%s over axis %lld of a rank-%d tensor (fovea's runs over the channels, axis 1)", im->at->op_type, (long long)axis, x->rank);
    if (shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_activation_layer(strcmp(im->at->op_type, "LogSoftmax") ? FV_ACT_SOFTMAX : FV_ACT_LOG_SOFTMAX);
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    return node >= 0 && set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

static fv_status op_pool(importer *im, int max) {
    static const char *const known[] = {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad", "dilations", "storage_order", NULL};
    if (check_attributes(im, known) != FV_OK) return FV_ERR;
    if (im->at->n_output > 1 && *im->at->output[1]) return fail(im, "the indices output is not supported");
    value *x = activation_input(im, 0);
    if (!x) return FV_ERR;
    int spatial = x->rank - 2;
    if (spatial < 1 || spatial > 3) return fail(im, "input rank %d (fovea pools 1-D, 2-D and 3-D data)", x->rank);
    int64_t k[3], st[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pads[6] = {0};
    if (attr_ints(im, "kernel_shape", k, 3) != spatial) return fail(im, "kernel_shape must give %d values", spatial);
    if (attr_ints(im, "strides", st, 3) < 0 || attr_ints(im, "pads", pads, 6) < 0 || attr_ints(im, "dilations", dil, 3) < 0)
        return fail(im, "too many strides, pads or dilations");
    for (int a = 0; a < spatial; a++)
        if (dil[a] != 1) return fail(im, "dilations other than 1");
    int include_pad = (int)attr_int(im, "count_include_pad", 0);
    char pad_buf[32];
    const char *auto_pad = attr_string(im, "auto_pad", "NOTSET", pad_buf, sizeof pad_buf);
    int ceil_mode = (int)attr_int(im, "ceil_mode", 0);
    fv_layer l = fv_layer_defaults(spatial == 3 ? (max ? FV_LAYER_MAXPOOL3D : FV_LAYER_AVGPOOL3D) : (max ? FV_LAYER_MAXPOOL2D : FV_LAYER_AVGPOOL2D));
    int slots = spatial == 3 ? 3 : 2, first = slots - spatial; /* a 1-D input uses the setting's last axis */
    for (int t = 0; t < slots; t++) l.pool.size[t] = l.pool.stride[t] = 1, l.pool.pad[t][0] = l.pool.pad[t][1] = 0;
    int any_pad = 0;
    l.pool.padding = FV_PAD_EXPLICIT;
    int same = !strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER");
    if (!strcmp(auto_pad, "SAME_UPPER") && !max && !include_pad) l.pool.padding = FV_PAD_SAME; /* Keras' 'same' */
    else if (same && !max) return fail(im, "auto_pad '%s' with count_include_pad=%d", auto_pad, include_pad);
    else if (!same && strcmp(auto_pad, "NOTSET") && strcmp(auto_pad, "VALID")) return fail(im, "auto_pad '%s'", auto_pad);
    for (int a = 0; a < spatial; a++) {
        if (k[a] < 1 || st[a] < 1 || k[a] > 65536 || st[a] > 65536) return fail(im, "a kernel or stride out of range");
        int t = first + a;
        l.pool.size[t] = (int)k[a], l.pool.stride[t] = (int)st[a];
        int64_t before = strcmp(auto_pad, "NOTSET") ? 0 : pads[a], after = strcmp(auto_pad, "NOTSET") ? 0 : pads[spatial + a];
        if (same && max) { /* max ignores padding: the SAME pads, explicitly (the extra one last or first) */
            int64_t in = x->dim[2 + a], total = ((in + st[a] - 1) / st[a] - 1) * st[a] + k[a] - in;
            total = total < 0 ? 0 : total;
            before = !strcmp(auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
            after = total - before;
        }
        if (before < 0 || after < 0 || before >= k[a] || after >= k[a]) return fail(im, "pads must be in [0, kernel)");
        int64_t in = x->dim[2 + a], span = in + before + after - k[a];
        if (ceil_mode && span >= 0 && span % st[a]) { /* ceil mode: one more window, if it starts inside */
            int64_t extra = st[a] - span % st[a];
            if ((span / st[a] + 1) * st[a] >= in + before) extra = 0;
            if (extra && !max) return fail(im, "ceil_mode=1 with average pooling");
            after += extra;
            if (after >= k[a]) return fail(im, "ceil_mode=1 needs padding as large as the kernel");
        }
        l.pool.pad[t][0] = (int)before, l.pool.pad[t][1] = (int)after;
        any_pad |= before || after;
    }
    if (!max && any_pad && !include_pad && l.pool.padding == FV_PAD_EXPLICIT)
        return fail(im, "count_include_pad=0 with explicit pads (fovea's explicit padding counts in the average)");
    if (shaped_node(im, x) < 0) return FV_ERR;
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    return node >= 0 && set_output(im, 0, node, x, NULL, 0) ? FV_OK : FV_ERR;
}

static fv_status op_global_avgpool(importer *im) {
    value *x = activation_input(im, 0);
    if (!x) return FV_ERR;
    if (x->rank < 3) return fail(im, "input rank %d (needs spatial axes)", x->rank);
    if (shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_global_avgpool();
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    int64_t dims[FV_ONNX_MAX_RANK];
    dims[0] = x->dim[0], dims[1] = x->dim[1];
    for (int a = 2; a < x->rank; a++) dims[a] = 1;
    return set_output(im, 0, node, NULL, dims, x->rank) ? FV_OK : FV_ERR;
}

static fv_status op_batchnorm(importer *im) {
    static const char *const known[] = {"epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs", NULL};
    if (check_attributes(im, known) != FV_OK) return FV_ERR;
    if (attr_int(im, "training_mode", 0)) return fail(im, "training_mode=1 (batch statistics in inference)");
    if (attr_int(im, "spatial", 1) != 1) return fail(im, "spatial=0");
    for (size_t o = 1; o < im->at->n_output; o++)
        if (*im->at->output[o]) return fail(im, "the running-statistics outputs are not supported");
    value *x = activation_input(im, 0);
    if (!x || shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_batchnorm();
    l.batchnorm.epsilon = attr_float(im, "epsilon", 1e-5f);
    l.batchnorm.momentum = attr_float(im, "momentum", 0.9f);
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    if (node < 0) return FV_ERR;
    static const char *const params[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    static const char *const what[4] = {"scale", "B", "mean", "var"};
    for (int p = 0; p < 4; p++) {
        value *c = constant_input(im, 1 + (size_t)p, what[p]);
        float *v = c ? channel_vector(im, c, (int)x->dim[1], 1.0f, what[p]) : NULL;
        if (!v || add_pending(im, node, params[p], v, (size_t)x->dim[1]) != FV_OK) return FV_ERR;
    }
    return set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

/* A constant broadcast (numpy's rules) to x's per-sample ONNX dims (C, S...), then into fovea's
 * channels-last order: per_sample floats, or NULL with an error. */
static float *broadcast_constant(importer *im, const value *c, const value *x, size_t *per_sample) {
    int r = x->rank;
    if (c->rank > r) return fail(im, "constant '%s' has more axes (%d) than the data (%d)", c->name, c->rank, r), NULL;
    int64_t cd[FV_ONNX_MAX_RANK] = {0}; /* c's dims right-aligned to x's */
    for (int a = 0; a < r; a++) cd[a] = a < r - c->rank ? 1 : c->dim[a - (r - c->rank)];
    if (cd[0] != 1) return fail(im, "constant '%s' varies along the batch axis", c->name), NULL;
    for (int a = 1; a < r; a++)
        if (cd[a] != 1 && cd[a] != x->dim[a]) return fail(im, "constant '%s' does not broadcast to the data's shape", c->name), NULL;
    size_t per = dims_count(x->dim + 1, (size_t)r - 1), positions = r > 2 ? per / (size_t)x->dim[1] : 1;
    float *onnx = malloc(per * sizeof *onnx), *out = malloc(per * sizeof *out);
    if (!onnx || !out) return free(onnx), free(out), fail(im, "out of memory"), NULL;
    for (size_t i = 0; i < per; i++) { /* i in (C, S...) row-major; its index into c */
        size_t rest = i, ci = 0, stride = 1;
        for (int a = r - 1; a >= 1; a--) {
            size_t coord = rest % (size_t)x->dim[a];
            rest /= (size_t)x->dim[a];
            if (cd[a] != 1) ci += coord * stride;
            stride *= (size_t)cd[a];
        }
        onnx[i] = c->f[ci];
    }
    fv_channels_last(onnx, out, 1, r > 1 ? (size_t)x->dim[1] : 1, positions, 1);
    free(onnx);
    *per_sample = per;
    return out;
}

/* Add, Sub, Mul, Div with one constant operand, and Neg: an affine layer y = x * scale + shift. */
static fv_status op_affine(importer *im, char op) {
    value *a = input(im, 0), *b = op == 'n' ? NULL : input(im, 1);
    if (!a || (op != 'n' && !b)) return FV_ERR;
    if (op != 'n' && a->node < 0 && b->node < 0) return fail(im, "arithmetic on two constants is not folded");
    if (op != 'n' && a->node >= 0 && b->node >= 0)
        return fail(im, "%s of two computed tensors is not supported (only Add)", im->at->op_type);
    int reversed = op != 'n' && a->node < 0; /* c - x, c / x */
    value *x = reversed ? b : a, *c = op == 'n' ? NULL : reversed ? a : b;
    if (x->node < 0) return fail(im, "input '%s' is a constant", x->name);
    if (op == '/' && reversed) return fail(im, "a constant divided by the data (fovea scales and shifts by constants only)");
    size_t per = dims_count(x->dim + 1, (size_t)x->rank - 1);
    float *k = c ? broadcast_constant(im, c, x, &per) : NULL;
    if (c && !k) return FV_ERR;
    float *scale = malloc(per * sizeof *scale), *shift = malloc(per * sizeof *shift);
    if (!scale || !shift) return free(k), free(scale), free(shift), fail(im, "out of memory");
    for (size_t i = 0; i < per; i++) {
        float v = k ? k[i] : 0.0f;
        scale[i] = op == '*' ? v : op == '/' ? 1.0f / v : (op == 'n' || (op == '-' && reversed)) ? -1.0f : 1.0f;
        shift[i] = op == '+' ? v : op == '-' ? (reversed ? v : -v) : 0.0f;
    }
    free(k);
    if (shaped_node(im, x) < 0) return free(scale), free(shift), FV_ERR;
    fv_layer l = fv_affine();
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    if (node < 0) return free(scale), free(shift), FV_ERR;
    if (add_pending(im, node, "scale", scale, per) != FV_OK) return free(shift), FV_ERR;
    if (add_pending(im, node, "shift", shift, per) != FV_OK) return FV_ERR;
    return set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

/* PRelu: a slope per channel (shape (C, 1, ...), (C) on a vector, or one value), learned when
 * fine-tuned. Before opset 7 a (C) slope meant the channels of any input. */
static fv_status op_prelu(importer *im) {
    value *x = activation_input(im, 0), *slope = x ? constant_input(im, 1, "the slope") : NULL;
    if (!slope) return FV_ERR;
    int c = x->rank >= 2 ? (int)x->dim[1] : 1;
    float *alpha = malloc((size_t)c * sizeof *alpha);
    if (!alpha) return fail(im, "out of memory");
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
                return fail(im, "the slope varies within a channel (fovea learns one per channel)");
            }
        free(full);
    }
    if (shaped_node(im, x) < 0) return free(alpha), FV_ERR;
    fv_layer l = fv_prelu();
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    if (node < 0) return free(alpha), FV_ERR;
    if (add_pending(im, node, "alpha", alpha, (size_t)c) != FV_OK) return FV_ERR;
    return set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

static fv_status op_add(importer *im) {
    value *ins[FV_MAX_INPUTS];
    int n = (int)im->at->n_input;
    if (n == 2 && !strcmp(im->at->op_type, "Add")) {
        value *a = input(im, 0), *b = input(im, 1);
        if (!a || !b) return FV_ERR;
        if (a->node < 0 || b->node < 0) return op_affine(im, '+');
    }
    if (n < 1 || n > FV_MAX_INPUTS) return fail(im, "%d inputs (at most %d)", n, FV_MAX_INPUTS);
    for (int i = 0; i < n; i++) {
        value *v = input(im, (size_t)i);
        if (!v) return FV_ERR;
        if (v->node < 0) return fail(im, "adding a constant ('%s') is not supported yet", v->name);
        if (i && v->rank != ins[0]->rank) return fail(im, "operands of ranks %d and %d (broadcasting is not supported)", ins[0]->rank, v->rank);
        for (int a = 1; i && a < v->rank; a++)
            if (v->dim[a] != ins[0]->dim[a]) return fail(im, "operands of different shapes (broadcasting is not supported)");
        if (shaped_node(im, v) < 0) return FV_ERR;
        ins[i] = v;
    }
    if (n == 1) return alias(im, 0, ins[0]) ? FV_OK : FV_ERR;
    fv_layer l = fv_add();
    int fused;
    if (fuse_activation(im, 0, &l.add.activation, &l.add.alpha, &fused) != FV_OK) return FV_ERR;
    int node = add_node(im, &l, ins, n, "");
    value *out = node >= 0 ? set_output(im, 0, node, NULL, ins[0]->dim, ins[0]->rank) : NULL;
    return out ? finish_fused(im, fused, out) : FV_ERR;
}

static fv_status op_concat(importer *im) {
    int n = (int)im->at->n_input;
    value *ins[FV_MAX_INPUTS];
    if (n < 1) return fail(im, "no inputs");
    int all_const = 1;
    for (int i = 0; i < n; i++) {
        value *v = input(im, (size_t)i);
        if (!v) return FV_ERR;
        all_const &= v->node < 0;
        if (i < FV_MAX_INPUTS) ins[i] = v;
    }
    if (all_const) { /* a shape being assembled: 1-D integer constants */
        float buf[FV_ONNX_MAX_RANK * 4];
        size_t count = 0;
        for (int i = 0; i < n; i++) {
            value *v = find_value(im, im->at->input[i]);
            if (v->rank > 1 || count + v->count > sizeof buf / sizeof *buf) return fail(im, "concatenating constants beyond a short vector");
            memcpy(buf + count, v->f, v->count * sizeof *buf);
            count += v->count;
        }
        return fold_constant(im, im->at->output[0], buf, count, 1) ? FV_OK : FV_ERR;
    }
    if (n > FV_MAX_INPUTS) return fail(im, "%d inputs (at most %d)", n, FV_MAX_INPUTS);
    int64_t axis = attr_int(im, "axis", 1);
    if (axis < 0) axis += ins[0]->rank;
    if (axis != 1) return fail(im, "concatenation along axis %lld (fovea concatenates channels, axis 1)", (long long)axis);
    int64_t dims[FV_ONNX_MAX_RANK];
    memcpy(dims, ins[0]->dim, sizeof dims);
    dims[1] = 0;
    for (int i = 0; i < n; i++) {
        if (ins[i]->node < 0) return fail(im, "concatenating a constant ('%s') with data is not supported", ins[i]->name);
        if (ins[i]->rank != ins[0]->rank) return fail(im, "inputs of different ranks");
        for (int a = 2; a < ins[0]->rank; a++)
            if (ins[i]->dim[a] != ins[0]->dim[a]) return fail(im, "inputs of different spatial sizes");
        dims[1] += ins[i]->dim[1];
        if (shaped_node(im, ins[i]) < 0) return FV_ERR;
    }
    fv_layer l = fv_concat();
    int node = add_node(im, &l, ins, n, "");
    return node >= 0 && set_output(im, 0, node, NULL, dims, ins[0]->rank) ? FV_OK : FV_ERR;
}

static fv_status op_dropout(importer *im) {
    value *x = input(im, 0);
    if (!x) return FV_ERR;
    float ratio = im->opset < 12 ? attr_float(im, "ratio", 0.5f) : 0.5f;
    if (im->opset >= 12 && has_input(im, 1)) {
        value *r = constant_input(im, 1, "ratio");
        if (!r || r->count != 1) return r ? fail(im, "ratio must be one value") : FV_ERR;
        ratio = r->f[0];
    }
    if (has_input(im, 2)) {
        value *t = constant_input(im, 2, "training_mode");
        if (!t || t->count != 1) return t ? fail(im, "training_mode must be one value") : FV_ERR;
        if (t->f[0] != 0.0f) return fail(im, "training_mode=true (a random mask at inference)");
    }
    for (size_t o = 1; o < im->at->n_output; o++)
        if (*im->at->output[o]) return fail(im, "the mask output is not supported");
    if (x->node < 0 || ratio == 0.0f) return alias(im, 0, x) ? FV_OK : FV_ERR;
    if (!(ratio > 0.0f && ratio < 1.0f)) return fail(im, "ratio %g", (double)ratio);
    if (shaped_node(im, x) < 0) return FV_ERR;
    fv_layer l = fv_dropout(ratio); /* identity at inference, as ONNX's; dropout when fine-tuned */
    value *ins[1] = {x};
    int node = add_node(im, &l, ins, 1, "");
    return node >= 0 && set_output(im, 0, node, NULL, x->dim, x->rank) ? FV_OK : FV_ERR;
}

/* ---- Shape arithmetic: Shape, Gather, Unsqueeze, Squeeze on constants, and Flatten, Reshape,
 * Squeeze, Unsqueeze on data, which keep the values and change the dims. ---- */
static fv_status op_shape(importer *im) {
    value *x = input(im, 0);
    if (!x) return FV_ERR;
    int64_t start = attr_int(im, "start", 0), end = attr_int(im, "end", x->rank);
    if (start < 0) start += x->rank;
    if (end < 0) end += x->rank;
    start = start < 0 ? 0 : start > x->rank ? x->rank : start;
    end = end < start ? start : end > x->rank ? x->rank : end;
    float dims[FV_ONNX_MAX_RANK];
    for (int64_t a = start; a < end; a++) dims[a - start] = x->dim[a] < 0 ? (float)BATCH_MARK : (float)x->dim[a];
    return fold_constant(im, im->at->output[0], dims, (size_t)(end - start), 1) ? FV_OK : FV_ERR;
}

static fv_status op_gather(importer *im) {
    value *data = constant_input(im, 0, "data"), *idx = data ? constant_input(im, 1, "indices") : NULL;
    if (!idx) return FV_ERR;
    if (data->rank != 1 || attr_int(im, "axis", 0) != 0 || idx->rank > 1)
        return fail(im, "gathering beyond a 1-D constant (fovea folds Gather on shapes only)");
    float out[FV_ONNX_MAX_RANK * 4];
    if (idx->count > sizeof out / sizeof *out) return fail(im, "too many indices");
    for (size_t i = 0; i < idx->count; i++) {
        long long j = (long long)idx->f[i];
        if (j < 0) j += (long long)data->count;
        if (j < 0 || j >= (long long)data->count) return fail(im, "index %lld out of range", (long long)idx->f[i]);
        out[i] = data->f[j];
    }
    value *v = fold_constant(im, im->at->output[0], out, idx->count, idx->rank);
    return v ? FV_OK : FV_ERR;
}

/* The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input after. */
static int read_axes(importer *im, int64_t *axes, int max) {
    if (im->opset < 13) return attr_ints(im, "axes", axes, max);
    if (!has_input(im, 1)) return 0;
    value *a = constant_input(im, 1, "axes");
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
    if (rank < 2) return fail(im, "a result of rank %d (fovea keeps the batch axis and one more)", rank);
    if (x->plain) { /* row-major memory reshapes as it stands */
        value *v = alias(im, 0, x);
        if (!v) return FV_ERR;
        v->rank = rank, v->plain = rank > 2;
        memcpy(v->dim, dims, (size_t)rank * sizeof *dims);
        v->dim[0] = x->dim[0];
        return FV_OK;
    }
    if (dims[0] != x->dim[0] && !(x->dim[0] < 0 && dims[0] == BATCH_MARK))
        return fail(im, "reshaping across the batch axis (%lld -> %lld)", (long long)x->dim[0], (long long)dims[0]);
    target.dim[0] = x->dim[0];
    if (layout_trivial(x) && layout_trivial(&target)) {
        value *v = alias(im, 0, x);
        if (!v) return FV_ERR;
        v->rank = rank;
        memcpy(v->dim, target.dim, (size_t)rank * sizeof *dims);
        return FV_OK;
    }
    if (rank == 2 && x->rank > 2 && (size_t)dims[1] == dims_count(x->dim + 1, (size_t)x->rank - 1)) {
        if (shaped_node(im, x) < 0) return FV_ERR;
        fv_layer l = fv_flatten();
        l.flatten.channels_first = 1;
        value *ins[1] = {x};
        int node = add_node(im, &l, ins, 1, "");
        return node >= 0 && set_output(im, 0, node, NULL, target.dim, 2) ? FV_OK : FV_ERR;
    }
    return fail(im, "a reshape that reorders fovea's channels-last data (only (N, C, ...) -> (N, C*...) and reshapes of vectors and 1 x 1 maps are supported)");
}

/* Transpose: only between fovea's channels-last order and ONNX's (what fovea's own exports put
 * around a channels-last flatten or reshape), or an identity. */
static fv_status op_transpose(importer *im) {
    value *x = activation_input(im, 0);
    if (!x) return FV_ERR;
    int64_t p[FV_ONNX_MAX_RANK], to_last[FV_ONNX_MAX_RANK], to_first[FV_ONNX_MAX_RANK];
    int n = attr_ints(im, "perm", p, FV_ONNX_MAX_RANK), r = x->rank;
    if (n == 0) for (int a = 0; a < r; a++) p[a] = r - 1 - a, n = r;
    if (n != r) return fail(im, "perm has %d values for rank %d", n, r);
    int identity = 1, is_last = r > 2, is_first = r > 2;
    for (int a = 0; a < r; a++) {
        to_last[a] = a == 0 ? 0 : a < r - 1 ? a + 1 : 1;
        to_first[a] = a == 0 ? 0 : a == 1 ? r - 1 : a - 1;
        identity &= p[a] == a, is_last &= p[a] == to_last[a], is_first &= p[a] == to_first[a];
    }
    if (identity) return alias(im, 0, x) ? FV_OK : FV_ERR;
    if (!(is_last && !x->plain) && !(is_first && x->plain))
        return fail(im, "perm moves axes fovea keeps in place (it converts only between channels-first and channels-last)");
    value *v = alias(im, 0, x);
    if (!v) return FV_ERR;
    for (int a = 0; a < r; a++) v->dim[a] = x->dim[p[a]];
    v->plain = !x->plain;
    return FV_OK;
}

static fv_status op_flatten(importer *im) {
    value *x = input(im, 0);
    if (!x) return FV_ERR;
    if (x->plain && x->node >= 0) { /* row-major memory: a plain flatten */
        int64_t axis = attr_int(im, "axis", 1);
        if (axis != 1 && axis != 1 - x->rank) return fail(im, "axis %lld (fovea flattens everything after the batch axis: axis 1)", (long long)axis);
        if (shaped_node(im, x) < 0) return FV_ERR;
        fv_layer l = fv_flatten();
        value *ins[1] = {x};
        int node = add_node(im, &l, ins, 1, "");
        int64_t dims[2] = {x->dim[0], (int64_t)dims_count(x->dim + 1, (size_t)x->rank - 1)};
        return node >= 0 && set_output(im, 0, node, NULL, dims, 2) ? FV_OK : FV_ERR;
    }
    int64_t axis = attr_int(im, "axis", 1);
    if (axis < 0) axis += x->rank;
    if (axis != 1) return fail(im, "axis %lld (fovea flattens everything after the batch axis: axis 1)", (long long)axis);
    int64_t dims[2] = {x->dim[0], (int64_t)dims_count(x->dim + 1, (size_t)x->rank - 1)};
    if (x->node < 0) return fail(im, "flattening a constant");
    return redim(im, x, dims, 2);
}

static fv_status op_reshape(importer *im) {
    value *x = input(im, 0), *shape = x ? constant_input(im, 1, "the shape") : NULL;
    if (!shape) return FV_ERR;
    if (attr_int(im, "allowzero", 0)) return fail(im, "allowzero=1");
    if (x->node < 0) return fail(im, "reshaping a constant");
    if (shape->count < 1 || shape->count > FV_ONNX_MAX_RANK) return fail(im, "a target shape of %zu values", shape->count);
    int64_t dims[FV_ONNX_MAX_RANK], known = 1;
    int infer = -1, rank = (int)shape->count;
    size_t total = dims_count(x->dim + 1, (size_t)x->rank - 1);
    for (int a = 0; a < rank; a++) {
        int64_t d = (int64_t)shape->f[a];
        if (d == 0) d = a < x->rank ? (a == 0 ? BATCH_MARK : x->dim[a]) : -2;
        if (a == 0 && (d == BATCH_MARK || d == x->dim[0])) { dims[0] = BATCH_MARK; continue; }
        if (a == 0) return fail(im, "reshaping across the batch axis (first dimension %lld)", (long long)d);
        if (d == -1) {
            if (infer >= 0) return fail(im, "two -1 dimensions");
            infer = a;
            continue;
        }
        if (d < 1) return fail(im, "dimension %lld", (long long)d);
        dims[a] = d, known *= d;
        if (known > (int64_t)FV_MAX_SAMPLE_VALUES) return fail(im, "a shape beyond fovea's limits");
    }
    if (infer >= 0) {
        if (total % (size_t)known) return fail(im, "%zu values do not divide into the shape", total);
        dims[infer] = (int64_t)(total / (size_t)known), known *= dims[infer];
    }
    if ((size_t)known != total) return fail(im, "the shape holds %lld values per sample, the input %zu", (long long)known, total);
    return redim(im, x, dims, rank);
}

static fv_status op_squeeze(importer *im, int unsqueeze) {
    value *x = input(im, 0);
    if (!x) return FV_ERR;
    int64_t axes[FV_ONNX_MAX_RANK];
    int n = read_axes(im, axes, FV_ONNX_MAX_RANK);
    if (n == -2) return FV_ERR;
    if (n < 0) return fail(im, "too many axes");
    int rank = unsqueeze ? x->rank + n : x->rank;
    int64_t dims[FV_ONNX_MAX_RANK];
    int mark[FV_ONNX_MAX_RANK * 2] = {0};
    if (rank > FV_ONNX_MAX_RANK) return fail(im, "a result of rank %d", rank);
    for (int i = 0; i < n; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (a < 0 || a >= rank) return fail(im, "axis %lld out of range", (long long)axes[i]);
        mark[a] = 1;
    }
    int out = 0;
    if (unsqueeze) {
        for (int a = 0, j = 0; a < rank; a++) dims[a] = mark[a] ? 1 : x->dim[j++];
        out = rank;
    } else {
        for (int a = 0; a < x->rank; a++) {
            int drop = n ? mark[a] : x->dim[a] == 1;
            if (drop && x->dim[a] != 1) return fail(im, "axis %d has size %lld, not 1", a, (long long)x->dim[a]);
            if (!drop) dims[out++] = x->dim[a];
        }
    }
    if (x->node < 0) { /* constants: the same values, new dims */
        value *v = alias(im, 0, x);
        if (!v) return FV_ERR;
        v->rank = out;
        memcpy(v->dim, dims, (size_t)out * sizeof *dims);
        return FV_OK;
    }
    if (mark[0] || (!unsqueeze && !n && x->dim[0] == 1)) return fail(im, "squeezing or unsqueezing the batch axis");
    return redim(im, x, dims, out);
}

static fv_status op_constant(importer *im) {
    const FvOnnx__AttributeProto *a = attribute(im, "value");
    if (a && a->t) return add_constant(im, im->at->output[0], a->t) ? FV_OK : FV_ERR;
    const FvOnnx__AttributeProto *f = attribute(im, "value_float"), *fs = attribute(im, "value_floats");
    const FvOnnx__AttributeProto *i = attribute(im, "value_int"), *is = attribute(im, "value_ints");
    float buf[64];
    size_t n = 0;
    if (f) buf[n++] = f->f;
    else if (i) buf[n++] = (float)i->i;
    else if (fs && fs->n_floats <= 64) for (; n < fs->n_floats; n++) buf[n] = fs->floats[n];
    else if (is && is->n_ints <= 64) for (; n < is->n_ints; n++) buf[n] = (float)is->ints[n];
    else return fail(im, "a constant of a kind fovea does not read");
    value *v = fold_constant(im, im->at->output[0], buf, n, f || i ? 0 : 1);
    if (v) v->is_int = !(f || fs);
    return v ? FV_OK : FV_ERR;
}

typedef struct op_row {
    const char *op;
    int kind; /* which handler */
} op_row;

enum { H_CONV, H_GEMM, H_MATMUL, H_ACT, H_SOFTMAX, H_MAXPOOL, H_AVGPOOL, H_GAP, H_BN, H_ADD, H_CONCAT, H_DROPOUT,
       H_IDENTITY, H_CONSTANT, H_SHAPE, H_GATHER, H_UNSQUEEZE, H_SQUEEZE, H_FLATTEN, H_RESHAPE, H_TRANSPOSE, H_SUB, H_MUL,
       H_DIV, H_NEG, H_PRELU };

/* The operators fovea imports (docs/ONNX.md lists them with what each supports). */
static const op_row op_table[] = {
    {"Conv", H_CONV},         {"Gemm", H_GEMM},           {"MatMul", H_MATMUL},       {"Relu", H_ACT},
    {"LeakyRelu", H_ACT},     {"Sigmoid", H_ACT},         {"Tanh", H_ACT},            {"Clip", H_ACT},
    {"Softmax", H_SOFTMAX},   {"MaxPool", H_MAXPOOL},     {"AveragePool", H_AVGPOOL}, {"GlobalAveragePool", H_GAP},
    {"BatchNormalization", H_BN}, {"Add", H_ADD},         {"Sum", H_ADD},             {"Concat", H_CONCAT},
    {"Dropout", H_DROPOUT},   {"Identity", H_IDENTITY},   {"Constant", H_CONSTANT},   {"Shape", H_SHAPE},
    {"Gather", H_GATHER},     {"Unsqueeze", H_UNSQUEEZE}, {"Squeeze", H_SQUEEZE},     {"Flatten", H_FLATTEN},
    {"Reshape", H_RESHAPE},   {"Transpose", H_TRANSPOSE}, {"Sub", H_SUB},             {"Mul", H_MUL},
    {"Div", H_DIV},           {"Neg", H_NEG},             {"HardSigmoid", H_ACT},     {"LogSoftmax", H_SOFTMAX},
    {"PRelu", H_PRELU},
};

int fv_onnx_supports(const char *op_type) {
    for (size_t i = 0; i < sizeof op_table / sizeof *op_table; i++)
        if (!strcmp(op_table[i].op, op_type)) return 1;
    return 0;
}

static fv_status translate(importer *im, size_t index) {
    const FvOnnx__NodeProto *n = im->at;
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx"))
        return fail(im, "operator domain '%s' is not supported", n->domain);
    int kind = -1;
    for (size_t i = 0; i < sizeof op_table / sizeof *op_table; i++)
        if (!strcmp(op_table[i].op, n->op_type)) kind = op_table[i].kind;
    if (kind < 0) return fail(im, "operator %s is not supported", n->op_type);
    if (n->n_output < 1) return fail(im, "no outputs");
    if (kind != H_TRANSPOSE && kind != H_FLATTEN && kind != H_RESHAPE && kind != H_IDENTITY)
        for (size_t i = 0; i < n->n_input; i++) {
            const value *v = *n->input[i] ? find_value(im, n->input[i]) : NULL;
            if (v && v->plain) return fail(im, "input '%s' is in a transposed layout fovea only flattens or reshapes", v->name);
        }
    switch (kind) {
    case H_CONV: return op_conv(im, index);
    case H_GEMM: return op_dense(im, index, 1);
    case H_MATMUL: return op_dense(im, index, 0);
    case H_ACT: return op_activation(im);
    case H_SOFTMAX: return op_softmax(im);
    case H_MAXPOOL: return op_pool(im, 1);
    case H_AVGPOOL: return op_pool(im, 0);
    case H_GAP: return op_global_avgpool(im);
    case H_BN: return op_batchnorm(im);
    case H_ADD: return op_add(im);
    case H_CONCAT: return op_concat(im);
    case H_DROPOUT: return op_dropout(im);
    case H_IDENTITY: {
        value *x = input(im, 0);
        return x && alias(im, 0, x) ? FV_OK : FV_ERR;
    }
    case H_CONSTANT: return op_constant(im);
    case H_SHAPE: return op_shape(im);
    case H_GATHER: return op_gather(im);
    case H_UNSQUEEZE: return op_squeeze(im, 1);
    case H_SQUEEZE: return op_squeeze(im, 0);
    case H_FLATTEN: return op_flatten(im);
    case H_RESHAPE: return op_reshape(im);
    case H_TRANSPOSE: return op_transpose(im);
    case H_SUB: return op_affine(im, '-');
    case H_MUL: return op_affine(im, '*');
    case H_DIV: return op_affine(im, '/');
    case H_NEG: return op_affine(im, 'n');
    case H_PRELU: return op_prelu(im);
    }
    return fail(im, "operator %s is not supported", n->op_type);
}

/* ---- The graph. ---- */
static int is_bound(const fv_onnx_binding *bound, int n_bound, const char *name, const FvOnnx__TensorProto **t) {
    for (int i = 0; i < n_bound; i++)
        if (!strcmp(bound[i].name, name)) return *t = bound[i].tensor, 1;
    return 0;
}

static fv_status graph_input(importer *im, const FvOnnx__ValueInfoProto *in, fv_onnx_info *info) {
    const FvOnnx__TypeProto *type = in->type;
    if (!type || type->value_case != FV_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !type->tensor_type)
        return fail(im, "input '%s' is not a tensor", in->name);
    const FvOnnx__TypeProto__Tensor *tt = type->tensor_type;
    if (tt->elem_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return fail(im, "input '%s' has data type %s (fovea computes in float32)", in->name, type_name(tt->elem_type));
    if (!tt->shape) return fail(im, "input '%s' has no shape", in->name);
    value *v = new_value(im, in->name);
    if (!v) return FV_ERR;
    v->rank = (int)tt->shape->n_dim;
    if (v->rank < 2 || v->rank > FV_MAX_RANK + 1)
        return fail(im, "input '%s' has rank %d; fovea takes ranks 2 to %d (batch, channels, up to 3 spatial axes)", in->name, v->rank, FV_MAX_RANK + 1);
    for (int a = 0; a < v->rank; a++) {
        const FvOnnx__TensorShapeProto__Dimension *d = tt->shape->dim[a];
        int known = d->value_case == FV_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (a > 0 && (!known || d->dim_value < 1 || d->dim_value > (int64_t)FV_MAX_SAMPLE_VALUES))
            return fail(im, "input '%s' has no fixed size on axis %d (fovea plans memory for fixed shapes)", in->name, a);
        v->dim[a] = known && d->dim_value > 0 ? d->dim_value : -1;
    }
    fv_shape s;
    if (fovea_shape(im, v, &s) != FV_OK) return FV_ERR;
    fv_layer l = fv_input_layer(s);
    fv_error why;
    v->node = fv_net_add(im->net, &l, "input", &why);
    if (v->node < 0) return fail(im, "input '%s': %s", in->name, why.message);
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

fv_net *fv_onnx_import_model(const FvOnnx__ModelProto *model, const char *source, const fv_onnx_binding *bound, int n_bound,
                             fv_onnx_info *info, fv_error *err) {
    importer im = {0};
    im.source = source, im.err = err;
    if (info) memset(info, 0, sizeof *info);
    if (!model->graph) return fv_fail(err, "%s: the model has no graph", source), NULL;
    im.graph = model->graph;
    for (size_t i = 0; i < model->n_opset_import; i++) {
        const FvOnnx__OperatorSetIdProto *o = model->opset_import[i];
        if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) im.opset = o->has_version ? (int)o->version : 1;
    }
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
        status = add_constant(&im, im.graph->initializer[i]->name, im.graph->initializer[i]) ? FV_OK : FV_ERR;
    if (status == FV_OK && im.graph->n_sparse_initializer) status = fail(&im, "sparse initializers are not supported");
    /* the one data input: a graph input that is neither an initializer nor bound */
    int n_data = 0;
    for (size_t i = 0; i < im.graph->n_input && status == FV_OK; i++) {
        const FvOnnx__ValueInfoProto *in = im.graph->input[i];
        const FvOnnx__TensorProto *t;
        if (find_value(&im, in->name)) continue;
        if (is_bound(bound, n_bound, in->name, &t)) status = add_constant(&im, in->name, t) ? FV_OK : FV_ERR;
        else if (n_data++) status = fail(&im, "a second data input '%s' (fovea networks take one input)", in->name);
        else status = graph_input(&im, in, info);
    }
    if (status == FV_OK && !n_data) status = fail(&im, "the graph has no data input");
    if (status == FV_OK && im.graph->n_output != 1)
        status = fail(&im, "the graph has %zu outputs (fovea networks have one)", im.graph->n_output);
    /* Constant nodes first: a fused Clip reads its bounds before its node is reached */
    for (size_t j = 0; j < im.graph->n_node && status == FV_OK; j++)
        if (!strcmp(im.graph->node[j]->op_type, "Constant") && im.graph->node[j]->n_output == 1) {
            im.at = im.graph->node[j];
            status = op_constant(&im);
            im.skip[j] = 1;
        }
    for (size_t j = 0; j < im.graph->n_node && status == FV_OK; j++) {
        if (im.skip[j]) continue;
        im.at = im.graph->node[j];
        status = translate(&im, j);
    }
    im.at = NULL;
    value *out = status == FV_OK ? find_value(&im, im.graph->output[0]->name) : NULL;
    if (status == FV_OK && !out) status = fail(&im, "output '%s' is not computed by any node", im.graph->output[0]->name);
    if (status == FV_OK && out->node < 0) status = fail(&im, "output '%s' is a constant", out->name);
    if (status == FV_OK && out->plain)
        status = fail(&im, "output '%s' is transposed to channels-last; fovea gives outputs in ONNX's layout only", out->name);
    if (status == FV_OK && shaped_node(&im, out) < 0) status = FV_ERR;
    if (status == FV_OK && out->node != fv_net_output_node(im.net)) { /* fovea's output is its last node */
        fv_layer copy = fv_activation_layer(FV_ACT_LINEAR);
        fv_error why;
        int node = fv_net_add_from(im.net, &copy, "output", &out->node, 1, &why);
        if (node < 0) status = fail(&im, "%s", why.message);
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

fv_net *fv_net_load_onnx(const char *path, fv_onnx_info *info, fv_error *err) {
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
    FvOnnx__ModelProto *model = fv_onnx__model_proto__unpack(NULL, size, buf);
    free(buf);
    if (!model) return fv_fail(err, "%s: not an ONNX model (the protobuf does not parse)", path), NULL;
    fv_net *net = fv_onnx_import_model(model, path, NULL, 0, info, err);
    fv_onnx__model_proto__free_unpacked(model, NULL);
    return net;
}
