/* onnx_fold.c — operators whose inputs are all constants are computed here, at import, into a
 * new constant: the shape arithmetic exporters write (x.size(1) // groups -> Shape, Gather, Div,
 * Unsqueeze, Concat -> Reshape), Cast, Slice, Range, Expand, ConstantOfShape, Where and friends on
 * constants. The batch size is not a constant (Shape's BATCH_MARK): multiplying it by a whole number
 * (and dividing that back) follows it, other arithmetic on it is an error,
 * moving it around (Gather, Concat, Slice, Unsqueeze, Cast) is not. */
#include "io/onnx_import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_MAX_VALUES (1 << 24) /* a folded constant is shape arithmetic or a small table */

/* A new constant owning f (count values of dims), or NULL with an error (f freed). */
static value *constant(importer *im, size_t out, float *f, const int64_t *dims, int rank, int is_int) {
    value *v = fv_onnx_new_value(im, im->at->output[out]);
    if (!v) return free(f), NULL;
    v->f = f, v->rank = rank, v->is_int = is_int, v->count = 1;
    for (int a = 0; a < rank; a++) v->dim[a] = dims[a], v->count *= (size_t)dims[a];
    return fv_onnx_settle_constant(im, v, 0);
}

static float *values(importer *im, size_t count) {
    if (count > FOLD_MAX_VALUES) return fv_onnx_fail(im, "folding a constant of %zu values", count), NULL;
    float *f = malloc((count ? count : 1) * sizeof *f);
    if (!f) fv_onnx_fail(im, "out of memory");
    return f;
}

/* Row-major strides of dims, with 0 along axes of size 1 when broadcasting to out_rank axes. */
static void strides(const value *v, int out_rank, int64_t *st) {
    int64_t s = 1;
    for (int a = out_rank - 1; a >= 0; a--) {
        int k = a - (out_rank - v->rank);
        int64_t d = k >= 0 ? v->dim[k] : 1;
        st[a] = d == 1 ? 0 : s;
        s *= d;
    }
}

/* Offsets into each input of output element i (dims out, rank r), inputs broadcast. */
static void offsets(size_t i, const int64_t *out, int r, int64_t (*st)[FV_ONNX_MAX_RANK], int n, size_t *at) {
    for (int k = 0; k < n; k++) at[k] = 0;
    for (int a = r - 1; a >= 0; a--) {
        size_t c = i % (size_t)out[a];
        i /= (size_t)out[a];
        for (int k = 0; k < n; k++) at[k] += c * (size_t)st[k][a];
    }
}

static int broadcast_dims(importer *im, value *const *in, int n, int64_t *out, int *rank) {
    *rank = 0;
    for (int k = 0; k < n; k++) *rank = in[k]->rank > *rank ? in[k]->rank : *rank;
    for (int a = 0; a < *rank; a++) {
        out[a] = 1;
        for (int k = 0; k < n; k++) {
            int j = a - (*rank - in[k]->rank);
            int64_t d = j >= 0 ? in[k]->dim[j] : 1;
            if (d != 1 && out[a] != 1 && d != out[a]) return fv_onnx_fail(im, "constants of shapes that do not broadcast"), 0;
            if (d != 1) out[a] = d;
        }
    }
    return 1;
}

int fv_onnx_batch_multiple(float f) { return f <= (float)BATCH_MARK && f >= -18014398509481984.0f && fmodf(f, 1073741824.0f) == 0.0f; }

static int batch_marked(const value *v) {
    for (size_t i = 0; i < v->count; i++)
        if (fv_onnx_batch_multiple(v->f[i])) return 1;
    return 0;
}

/* Arithmetic on a batch mark: multiplying it by a whole number, or dividing a multiple of it by a
 * whole number that divides it, is still a multiple of the batch; anything else is not a size
 * fovea can follow (0). */
static int batch_arithmetic(const char *op, float a, float b, float *out) {
    int ba = fv_onnx_batch_multiple(a), bb = fv_onnx_batch_multiple(b);
    if (!ba && !bb) return 0;
    if (!strcmp(op, "Mul") && ba != bb) {
        float k = ba ? b : a;
        if (!(k >= 1.0f && k == truncf(k) && k < 16777216.0f)) return 0;
        *out = a * b;
        return fv_onnx_batch_multiple(*out);
    }
    if (!strcmp(op, "Div") && ba && !bb && b >= 1.0f && b == truncf(b)) {
        float k = a / (float)BATCH_MARK;
        if (fmodf(k, b) != 0.0f) return 0;
        *out = (float)BATCH_MARK * (k / b);
        return 1;
    }
    return 0;
}

static float elementwise(const char *op, float a, float b, int ints) {
    if (!strcmp(op, "Add")) return a + b;
    if (!strcmp(op, "Sub")) return a - b;
    if (!strcmp(op, "Mul")) return a * b;
    if (!strcmp(op, "Div")) return ints ? truncf(a / b) : a / b;
    if (!strcmp(op, "Pow")) return powf(a, b);
    if (!strcmp(op, "Max")) return a > b ? a : b;
    if (!strcmp(op, "Min")) return a < b ? a : b;
    if (!strcmp(op, "Mod")) return ints ? a - b * floorf(a / b) : fmodf(a, b);
    if (!strcmp(op, "Equal")) return a == b;
    if (!strcmp(op, "Less")) return a < b;
    if (!strcmp(op, "Greater")) return a > b;
    if (!strcmp(op, "LessOrEqual")) return a <= b;
    if (!strcmp(op, "GreaterOrEqual")) return a >= b;
    if (!strcmp(op, "And")) return a != 0.0f && b != 0.0f;
    if (!strcmp(op, "Or")) return a != 0.0f || b != 0.0f;
    return NAN;
}

static int is_elementwise(const char *op) {
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Equal", "Less", "Greater",
                                      "LessOrEqual", "GreaterOrEqual", "And", "Or", "Where", NULL};
    for (const char *const *o = ops; *o; o++)
        if (!strcmp(*o, op)) return 1;
    return 0;
}

/* Elementwise operators (and Where) of broadcast constants. */
static fv_status fold_elementwise(importer *im, value *const *in, int n) {
    const char *op = im->at->op_type;
    int64_t out[FV_ONNX_MAX_RANK], st[3][FV_ONNX_MAX_RANK];
    int rank;
    if (!broadcast_dims(im, in, n, out, &rank)) return FV_ERR;
    int compare = strstr(op, "Equal") || strstr(op, "Less") || strstr(op, "Greater") || !strcmp(op, "And") || !strcmp(op, "Or");
    int where = !strcmp(op, "Where"), ints = in[n - 1]->is_int && in[where ? 1 : 0]->is_int;
    int batch = 0;
    for (int k = 0; k < n && !compare && !where; k++) batch |= batch_marked(in[k]); /* Where only moves values */
    size_t count = fv_onnx_dims_count(out, (size_t)rank);
    float *f = count == SIZE_MAX ? NULL : values(im, count);
    if (!f) return count == SIZE_MAX ? fv_onnx_fail(im, "a constant too large") : FV_ERR;
    for (int k = 0; k < n; k++) strides(in[k], rank, st[k]);
    for (size_t i = 0; i < count; i++) {
        size_t at[3];
        offsets(i, out, rank, st, n, at);
        f[i] = where ? (in[0]->f[at[0]] != 0.0f ? in[1]->f[at[1]] : in[2]->f[at[2]]) : elementwise(op, in[0]->f[at[0]], in[1]->f[at[1]], ints);
        if (batch && (fv_onnx_batch_multiple(in[0]->f[at[0]]) || fv_onnx_batch_multiple(in[1]->f[at[1]])) && !batch_arithmetic(op, in[0]->f[at[0]], in[1]->f[at[1]], &f[i]))
            return free(f), fv_onnx_fail(im, "arithmetic on the batch size other than multiplying it by a whole number (fovea's batch is not fixed)");
    }
    return constant(im, 0, f, out, rank, compare || ints) ? FV_OK : FV_ERR;
}

/* Cast: to an integer type, truncated toward zero; to a float type, as it is; to bool, != 0. */
static fv_status fold_cast(importer *im, const value *x) {
    int64_t to = fv_onnx_attr_int(im, "to", 1);
    int to_float = to == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || to == FV_ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
                   to == FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 || to == FV_ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
    float *f = values(im, x->count);
    if (!f) return FV_ERR;
    for (size_t i = 0; i < x->count; i++)
        f[i] = to == FV_ONNX__TENSOR_PROTO__DATA_TYPE__BOOL ? (float)(x->f[i] != 0.0f) : to_float ? x->f[i] : truncf(x->f[i]);
    return constant(im, 0, f, x->dim, x->rank, !to_float) ? FV_OK : FV_ERR;
}

/* Slice's box on an input of dims (rank r): per axis the first element lo, the step and the count
 * out, from starts, ends, axes, steps (inputs 1-4 from opset 10, attributes before), clamped as
 * ONNX clamps them. in[1..] must be constants. */
fv_status fv_onnx_slice_box(importer *im, value *const *in, int n, const int64_t *dims, int r, int64_t *lo, int64_t *step, int64_t *out) {
    int64_t starts[FV_ONNX_MAX_RANK], ends[FV_ONNX_MAX_RANK], axes[FV_ONNX_MAX_RANK], steps[FV_ONNX_MAX_RANK];
    int k;
    if (im->opset < 10) {
        k = fv_onnx_attr_ints(im, "starts", starts, FV_ONNX_MAX_RANK);
        if (k < 0 || fv_onnx_attr_ints(im, "ends", ends, FV_ONNX_MAX_RANK) != k) return fv_onnx_fail(im, "starts and ends differ in length");
        int na = fv_onnx_attr_ints(im, "axes", axes, FV_ONNX_MAX_RANK);
        for (int i = 0; i < k; i++) steps[i] = 1, axes[i] = na ? axes[i] : i;
    } else {
        for (int j = 1; j < n && j < 5; j++)
            if (in[j] && in[j]->node >= 0) return fv_onnx_fail(im, "starts, ends, axes and steps must be constants");
        if (n < 3 || !in[1] || !in[2]) return fv_onnx_fail(im, "starts and ends are missing");
        k = (int)in[1]->count;
        if (k > FV_ONNX_MAX_RANK || in[2]->count != (size_t)k || (n > 3 && in[3] && in[3]->count != (size_t)k) ||
            (n > 4 && in[4] && in[4]->count != (size_t)k))
            return fv_onnx_fail(im, "starts, ends, axes and steps differ in length");
        for (int i = 0; i < k; i++) {
            starts[i] = fv_onnx_int(in[1]->f[i]), ends[i] = fv_onnx_int(in[2]->f[i]);
            axes[i] = n > 3 && in[3] ? fv_onnx_int(in[3]->f[i]) : i;
            steps[i] = n > 4 && in[4] ? fv_onnx_int(in[4]->f[i]) : 1;
        }
    }
    for (int a = 0; a < r; a++) lo[a] = 0, step[a] = 1, out[a] = dims[a];
    for (int i = 0; i < k; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + r : axes[i], d;
        if (a < 0 || a >= r || steps[i] == 0) return fv_onnx_fail(im, "axis or step out of range");
        d = dims[a];
        int64_t s = starts[i] < 0 ? starts[i] + d : starts[i], e = ends[i] < 0 ? ends[i] + d : ends[i];
        if (steps[i] > 0) s = s < 0 ? 0 : s > d ? d : s, e = e < 0 ? 0 : e > d ? d : e;
        else s = s < 0 ? -1 : s > d - 1 ? d - 1 : s, e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
        lo[a] = s, step[a] = steps[i];
        out[a] = steps[i] > 0 ? (e > s ? (e - s + steps[i] - 1) / steps[i] : 0) : (s > e ? (s - e - steps[i] - 1) / -steps[i] : 0);
    }
    return FV_OK;
}

static fv_status fold_slice(importer *im, value *const *in, int n) {
    const value *x = in[0];
    int64_t lo[FV_ONNX_MAX_RANK], step[FV_ONNX_MAX_RANK], out[FV_ONNX_MAX_RANK];
    if (fv_onnx_slice_box(im, in, n, x->dim, x->rank, lo, step, out) != FV_OK) return FV_ERR;
    size_t count = fv_onnx_dims_count(out, (size_t)x->rank);
    float *f = values(im, count);
    if (!f) return FV_ERR;
    for (size_t i = 0; i < count; i++) {
        size_t rest = i, src = 0, stride = 1;
        for (int a = x->rank - 1; a >= 0; a--) {
            int64_t c = (int64_t)(rest % (size_t)out[a]);
            rest /= (size_t)out[a];
            src += (size_t)(lo[a] + c * step[a]) * stride;
            stride *= (size_t)x->dim[a];
        }
        f[i] = x->f[src];
    }
    return constant(im, 0, f, out, x->rank, x->is_int) ? FV_OK : FV_ERR;
}

/* Concat along any axis; Gather along any axis with indices of any rank. */
static fv_status fold_concat(importer *im, value *const *in, int n) {
    int64_t axis = fv_onnx_attr_int(im, "axis", 0), out[FV_ONNX_MAX_RANK];
    int r = in[0]->rank;
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return fv_onnx_fail(im, "axis out of range");
    memcpy(out, in[0]->dim, sizeof out);
    out[axis] = 0;
    for (int k = 0; k < n; k++) {
        if (in[k]->rank != r) return fv_onnx_fail(im, "constants of different ranks");
        for (int a = 0; a < r; a++)
            if (a != axis && in[k]->dim[a] != in[0]->dim[a]) return fv_onnx_fail(im, "constants of different shapes");
        out[axis] += in[k]->dim[axis];
    }
    size_t count = fv_onnx_dims_count(out, (size_t)r), outer = fv_onnx_dims_count(out, (size_t)axis), at = 0;
    float *f = values(im, count);
    if (!f) return FV_ERR;
    for (size_t o = 0; o < outer; o++)
        for (int k = 0; k < n; k++) {
            size_t block = in[k]->count / (outer ? outer : 1);
            memcpy(f + at, in[k]->f + o * block, block * sizeof *f);
            at += block;
        }
    int ints = 1;
    for (int k = 0; k < n; k++) ints &= in[k]->is_int;
    return constant(im, 0, f, out, r, ints) ? FV_OK : FV_ERR;
}

static fv_status fold_gather(importer *im, const value *x, const value *idx) {
    int64_t axis = fv_onnx_attr_int(im, "axis", 0), out[FV_ONNX_MAX_RANK];
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis >= x->rank || x->rank - 1 + idx->rank > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "axis out of range");
    int r = 0;
    for (int a = 0; a < axis; a++) out[r++] = x->dim[a];
    for (int a = 0; a < idx->rank; a++) out[r++] = idx->dim[a];
    for (int a = (int)axis + 1; a < x->rank; a++) out[r++] = x->dim[a];
    size_t outer = fv_onnx_dims_count(x->dim, (size_t)axis), inner = fv_onnx_dims_count(x->dim + axis + 1, (size_t)(x->rank - axis - 1));
    size_t count = outer * idx->count * inner;
    float *f = values(im, count);
    if (!f) return FV_ERR;
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < idx->count; j++) {
            int64_t k = fv_onnx_int(idx->f[j]);
            if (k < 0) k += x->dim[axis];
            if (k < 0 || k >= x->dim[axis]) return free(f), fv_onnx_fail(im, "index %lld out of range", (long long)idx->f[j]);
            memcpy(f + (o * idx->count + j) * inner, x->f + (o * (size_t)x->dim[axis] + (size_t)k) * inner, inner * sizeof *f);
        }
    return constant(im, 0, f, out, r, x->is_int) ? FV_OK : FV_ERR;
}

/* Reshape, Transpose, Expand, ConstantOfShape, Range of constants. */
static fv_status fold_reshape(importer *im, const value *x, const value *shape) {
    int64_t out[FV_ONNX_MAX_RANK], known = 1;
    int r = (int)shape->count, infer = -1;
    if (r > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "rank %d", r);
    for (int a = 0; a < r; a++) {
        int64_t d = fv_onnx_int(shape->f[a]);
        if (d == 0) d = a < x->rank ? x->dim[a] : 0;
        if (d == -1) infer = a, d = 1;
        if (d < 0) return fv_onnx_fail(im, "dimension %lld", (long long)d);
        out[a] = d, known *= d;
    }
    if (infer >= 0 && known) out[infer] = (int64_t)x->count / known, known *= out[infer];
    if ((size_t)known != x->count) return fv_onnx_fail(im, "reshaping %zu values into %lld", x->count, (long long)known);
    float *f = values(im, x->count);
    if (!f) return FV_ERR;
    memcpy(f, x->f, x->count * sizeof *f);
    return constant(im, 0, f, out, r, x->is_int) ? FV_OK : FV_ERR;
}

static fv_status fold_transpose(importer *im, const value *x) {
    int64_t p[FV_ONNX_MAX_RANK], out[FV_ONNX_MAX_RANK], st[FV_ONNX_MAX_RANK];
    int n = fv_onnx_attr_ints(im, "perm", p, FV_ONNX_MAX_RANK), r = x->rank;
    if (n == 0) for (int a = 0; a < r; a++) p[a] = r - 1 - a, n = r;
    if (n != r) return fv_onnx_fail(im, "perm has %d values for rank %d", n, r);
    int64_t s = 1;
    for (int a = r - 1; a >= 0; a--) st[a] = s, s *= x->dim[a];
    for (int a = 0; a < r; a++) {
        if (p[a] < 0 || p[a] >= r) return fv_onnx_fail(im, "perm out of range");
        out[a] = x->dim[p[a]];
    }
    float *f = values(im, x->count);
    if (!f) return FV_ERR;
    for (size_t i = 0; i < x->count; i++) {
        size_t rest = i, src = 0;
        for (int a = r - 1; a >= 0; a--) src += (rest % (size_t)out[a]) * (size_t)st[p[a]], rest /= (size_t)out[a];
        f[i] = x->f[src];
    }
    return constant(im, 0, f, out, r, x->is_int) ? FV_OK : FV_ERR;
}

static fv_status fold_expand(importer *im, const value *x, const value *shape) {
    value target = {0};
    target.rank = (int)shape->count;
    if (target.rank > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "rank %d", target.rank);
    for (int a = 0; a < target.rank; a++) target.dim[a] = fv_onnx_int(shape->f[a]);
    value *both[2] = {(value *)x, &target};
    int64_t out[FV_ONNX_MAX_RANK], st[1][FV_ONNX_MAX_RANK];
    int r;
    if (!broadcast_dims(im, both, 2, out, &r)) return FV_ERR;
    size_t count = fv_onnx_dims_count(out, (size_t)r);
    float *f = count == SIZE_MAX ? NULL : values(im, count);
    if (!f) return count == SIZE_MAX ? fv_onnx_fail(im, "a constant too large") : FV_ERR;
    strides(x, r, st[0]);
    for (size_t i = 0; i < count; i++) {
        size_t at;
        offsets(i, out, r, st, 1, &at);
        f[i] = x->f[at];
    }
    return constant(im, 0, f, out, r, x->is_int) ? FV_OK : FV_ERR;
}

static fv_status fold_constant_of_shape(importer *im, const value *shape) {
    int64_t out[FV_ONNX_MAX_RANK];
    if (shape->count > FV_ONNX_MAX_RANK) return fv_onnx_fail(im, "rank %zu", shape->count);
    for (size_t a = 0; a < shape->count; a++) {
        if (fv_onnx_batch_multiple(shape->f[a])) return fv_onnx_fail(im, "a constant the size of the batch");
        out[a] = fv_onnx_int(shape->f[a]);
    }
    float fill = 0.0f;
    int ints = 0;
    const FvOnnx__AttributeProto *a = fv_onnx_typed_attribute(im, "value", FV_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    if (a && a->t) {
        size_t n;
        fv_error why;
        float *v = fv_onnx_tensor_floats(a->t, &n, &why);
        if (!v) return fv_onnx_fail(im, "%s", why.message);
        fill = n ? v[0] : 0.0f;
        ints = a->t->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        free(v);
    }
    size_t count = fv_onnx_dims_count(out, shape->count);
    float *f = count == SIZE_MAX ? NULL : values(im, count);
    if (!f) return count == SIZE_MAX ? fv_onnx_fail(im, "a constant too large") : FV_ERR;
    for (size_t i = 0; i < count; i++) f[i] = fill;
    return constant(im, 0, f, out, (int)shape->count, ints) ? FV_OK : FV_ERR;
}

static fv_status fold_range(importer *im, value *const *in) {
    float start = in[0]->f[0], limit = in[1]->f[0], delta = in[2]->f[0];
    if (delta == 0.0f) return fv_onnx_fail(im, "delta 0");
    double n = ceil(((double)limit - start) / delta);
    int64_t count = n > 0 ? (int64_t)n : 0;
    float *f = values(im, (size_t)count);
    if (!f) return FV_ERR;
    for (int64_t i = 0; i < count; i++) f[i] = start + (float)i * delta;
    return constant(im, 0, f, &count, 1, in[0]->is_int) ? FV_OK : FV_ERR;
}

static fv_status fold_unary(importer *im, const value *x) {
    const char *op = im->at->op_type;
    if (strcmp(op, "Identity") && strcmp(op, "Not") && batch_marked(x)) return fv_onnx_fail(im, "arithmetic on the batch size");
    float *f = values(im, x->count);
    if (!f) return FV_ERR;
    for (size_t i = 0; i < x->count; i++) {
        float v = x->f[i];
        f[i] = !strcmp(op, "Neg") ? -v : !strcmp(op, "Sqrt") ? sqrtf(v) : !strcmp(op, "Floor") ? floorf(v) : !strcmp(op, "Ceil") ? ceilf(v)
             : !strcmp(op, "Abs") ? fabsf(v) : !strcmp(op, "Not") ? (float)(v == 0.0f) : !strcmp(op, "Reciprocal") ? 1.0f / v
             : !strcmp(op, "Exp") ? expf(v) : !strcmp(op, "Log") ? logf(v) : v;
    }
    int ints = x->is_int && strcmp(op, "Sqrt") && strcmp(op, "Reciprocal") && strcmp(op, "Exp") && strcmp(op, "Log");
    return constant(im, 0, f, x->dim, x->rank, ints) ? FV_OK : FV_ERR;
}

fv_status fv_onnx_fold(importer *im, int *folded) {
    static const char *const unary[] = {"Neg", "Sqrt", "Floor", "Ceil", "Abs", "Not", "Reciprocal", "Exp", "Log", "Identity", NULL};
    const FvOnnx__NodeProto *node = im->at;
    const char *op = node->op_type;
    *folded = 0;
    value *in[FV_MAX_INPUTS] = {NULL};
    int n = (int)node->n_input, any = 0;
    if (n < 1 || n > FV_MAX_INPUTS || node->n_output != 1 || !strcmp(op, "Constant") || !strcmp(op, "Shape")) return FV_OK;
    for (int k = 0; k < n; k++) {
        if (!*node->input[k]) continue; /* an optional input left out */
        if (!(in[k] = fv_onnx_find_value(im, node->input[k])) || in[k]->node >= 0) return FV_OK;
        any = 1;
    }
    if (!any || !in[0]) return FV_OK;
    int unary_op = 0;
    for (const char *const *u = unary; *u && !unary_op; u++) unary_op = !strcmp(*u, op);
    fv_status st;
    if (is_elementwise(op) && n == (strcmp(op, "Where") ? 2 : 3) && in[1] && (n < 3 || in[2])) st = fold_elementwise(im, in, n);
    else if (!strcmp(op, "Cast")) st = fold_cast(im, in[0]);
    else if (!strcmp(op, "Slice")) st = fold_slice(im, in, n);
    else if (!strcmp(op, "Concat")) {
        for (int k = 0; k < n; k++)
            if (!in[k]) return fv_onnx_fail(im, "an empty input name");
        st = fold_concat(im, in, n);
    } else if (!strcmp(op, "Gather") && n == 2 && in[1]) st = fold_gather(im, in[0], in[1]); /* an empty input name leaves in[k] NULL */
    else if (!strcmp(op, "Reshape") && n == 2 && in[1]) st = fold_reshape(im, in[0], in[1]);
    else if (!strcmp(op, "Transpose")) st = fold_transpose(im, in[0]);
    else if (!strcmp(op, "Expand") && n == 2 && in[1] && !batch_marked(in[1])) st = fold_expand(im, in[0], in[1]);
    else if (!strcmp(op, "ConstantOfShape")) st = fold_constant_of_shape(im, in[0]);
    else if (!strcmp(op, "Range") && n == 3 && in[1] && in[2]) st = fold_range(im, in);
    else if (unary_op && n == 1) st = fold_unary(im, in[0]);
    else return FV_OK; /* not foldable here: the operator's own import says what it does with constants */
    *folded = 1;
    return st;
}
