/* binary.c — y = a op b elementwise for two computed tensors (add, sub, mul, div, max, min, pow),
 * with NumPy broadcasting over the axes after the batch: shapes are right-aligned and an axis of
 * size 1 stretches. What an imported network's Mul of two tensors becomes: SiLU (x * sigmoid(x)),
 * hard-swish, squeeze-and-excitation's per-channel gate (1, 1, C) * (H, W, C). Both inputs carry
 * the batch. */
#include "core/core.h"

#include <math.h>
#include <string.h>

/* One input's place in the output: per-sample sizes and strides on 4 right-aligned axes, the
 * stride 0 where the input has size 1 (broadcast). */
typedef struct broadcast {
    int out[FV_MAX_RANK];
    size_t stride[2][FV_MAX_RANK];
    size_t per[2], per_out;
} broadcast;

int fv_broadcast_dims(const fv_shape *a, int na, const fv_shape *b, int nb, fv_shape *out) {
    out->rank = na > nb ? na : nb;
    for (int k = 1; k <= out->rank; k++) {
        int da = k <= na ? a->dim[na - k] : 1, db = k <= nb ? b->dim[nb - k] : 1;
        if (da != db && da != 1 && db != 1) return k;
        out->dim[out->rank - k] = da > db ? da : db;
    }
    return 0;
}

void fv_broadcast_strides(const fv_shape *s, int axes, int slots, size_t unit, size_t *stride) {
    for (int a = slots - 1; a >= 0; a--) {
        int k = a - (slots - axes), size = k >= 0 ? s->dim[k] : 1;
        stride[a] = size == 1 ? 0 : unit;
        unit *= (size_t)size;
    }
}

static void broadcast_of(const fv_node *node, broadcast *b) {
    memset(b, 0, sizeof *b);
    for (int a = 0; a < FV_MAX_RANK; a++) b->out[a] = 1;
    int r = node->out_shape.rank, first = FV_MAX_RANK - r;
    for (int a = 0; a < r; a++) b->out[first + a] = node->out_shape.dim[a];
    for (int i = 0; i < 2; i++) {
        fv_broadcast_strides(&node->in_shape[i], node->in_shape[i].rank, FV_MAX_RANK, 1, b->stride[i]);
        b->per[i] = fv_shape_count(node->in_shape[i]);
    }
    b->per_out = fv_shape_count(node->out_shape);
}

static fv_status binary_infer(fv_node *node, fv_error *err) {
    if ((unsigned)node->layer.binary.op >= FV_BINARY_COUNT) return fv_fail(err, "unknown operation");
    const fv_shape *a = &node->in_shape[0], *b = &node->in_shape[1];
    fv_shape out = {0, {0}};
    if (fv_broadcast_dims(a, a->rank, b, b->rank, &out)) {
        char sa[64], sb[64];
        fv_shape_format(*a, sa, sizeof sa), fv_shape_format(*b, sb, sizeof sb);
        return fv_fail(err, "inputs %s and %s do not broadcast (sizes must be equal or 1)", sa, sb);
    }
    node->out_shape = out;
    return FV_OK;
}

static float apply(fv_binary_op op, float a, float b) {
    switch (op) {
    case FV_BINARY_ADD: return a + b;
    case FV_BINARY_SUB: return a - b;
    case FV_BINARY_MUL: return a * b;
    case FV_BINARY_DIV: return a / b;
    case FV_BINARY_MAX: return a > b ? a : b;
    case FV_BINARY_MIN: return a < b ? a : b;
    case FV_BINARY_POW: return powf(a, b);
    case FV_BINARY_COUNT: break;
    }
    return 0.0f;
}

/* dy/da and dy/db at (a, b); max and min send the gradient to the larger (smaller) input, to a
 * on a tie, as PyTorch's maximum/minimum of unequal values do */
static void partials(fv_binary_op op, float a, float b, float *da, float *db) {
    switch (op) {
    case FV_BINARY_ADD: *da = 1.0f, *db = 1.0f; return;
    case FV_BINARY_SUB: *da = 1.0f, *db = -1.0f; return;
    case FV_BINARY_MUL: *da = b, *db = a; return;
    case FV_BINARY_DIV: *da = 1.0f / b, *db = -a / (b * b); return;
    case FV_BINARY_MAX: *da = a >= b ? 1.0f : 0.0f, *db = a >= b ? 0.0f : 1.0f; return;
    case FV_BINARY_MIN: *da = a <= b ? 1.0f : 0.0f, *db = a <= b ? 0.0f : 1.0f; return;
    case FV_BINARY_POW: *da = b * powf(a, b - 1.0f), *db = a > 0.0f ? powf(a, b) * logf(a) : 0.0f; return;
    case FV_BINARY_COUNT: break;
    }
    *da = *db = 0.0f;
}

/* a (N, Sa), b (N, Sb) -> y (N, S), S the broadcast of Sa and Sb */
static void binary_forward(const fv_node *node, const fv_step *s) {
    fv_binary_op op = node->layer.binary.op;
    broadcast g;
    broadcast_of(node, &g);
    if (g.per[0] == g.per_out && g.per[1] == g.per_out) { /* the same shapes: one flat pass */
        size_t n = (size_t)s->batch * g.per_out;
        for (size_t k = 0; k < n; k++) s->out[k] = apply(op, s->in[0][k], s->in[1][k]);
        return;
    }
    const size_t *sa = g.stride[0], *sb = g.stride[1];
    for (int n = 0; n < s->batch; n++) {
        const float *a = s->in[0] + (size_t)n * g.per[0], *b = s->in[1] + (size_t)n * g.per[1];
        float *y = s->out + (size_t)n * g.per_out;
        for (int i0 = 0; i0 < g.out[0]; i0++)
            for (int i1 = 0; i1 < g.out[1]; i1++)
                for (int i2 = 0; i2 < g.out[2]; i2++) {
                    const float *ar = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2], *br = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                    for (int i3 = 0; i3 < g.out[3]; i3++) *y++ = apply(op, ar[i3 * sa[3]], br[i3 * sb[3]]);
                }
    }
}

/* da (N, Sa) = dy * dy/da summed over the axes a was broadcast along; db likewise */
static void binary_backward(const fv_node *node, const fv_step *s) {
    fv_binary_op op = node->layer.binary.op;
    broadcast g;
    broadcast_of(node, &g);
    for (int i = 0; i < 2; i++)
        if (s->d_in[i]) memset(s->d_in[i], 0, (size_t)s->batch * g.per[i] * sizeof(float));
    const size_t *sa = g.stride[0], *sb = g.stride[1];
    for (int n = 0; n < s->batch; n++) {
        const float *a = s->in[0] + (size_t)n * g.per[0], *b = s->in[1] + (size_t)n * g.per[1];
        const float *dy = s->d_out + (size_t)n * g.per_out;
        float *da = s->d_in[0] ? s->d_in[0] + (size_t)n * g.per[0] : NULL, *db = s->d_in[1] ? s->d_in[1] + (size_t)n * g.per[1] : NULL;
        for (int i0 = 0; i0 < g.out[0]; i0++)
            for (int i1 = 0; i1 < g.out[1]; i1++)
                for (int i2 = 0; i2 < g.out[2]; i2++) {
                    size_t oa = i0 * sa[0] + i1 * sa[1] + i2 * sa[2], ob = i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                    for (int i3 = 0; i3 < g.out[3]; i3++, dy++) {
                        size_t ia = oa + i3 * sa[3], ib = ob + i3 * sb[3];
                        float pa, pb;
                        partials(op, a[ia], b[ib], &pa, &pb);
                        if (da) da[ia] += *dy * pa;
                        if (db) db[ib] += *dy * pb;
                    }
                }
    }
}

static const char *const binary_ops[] = {"add", "sub", "mul", "div", "max", "min", "pow", NULL};
static const fv_setting binary_settings[] = {
    {"op", FV_SET_CHOICE, offsetof(fv_layer, binary.op), 0, NULL, NULL, "add, sub, mul, div, max, min or pow (a op b)", binary_ops},
};
static const fv_alias binary_aliases[] = {{"multiply", "op=mul"}, {"subtract", "op=sub"}, {"divide", "op=div"},
                                          {"maximum", "op=max"},  {"minimum", "op=min"},  {"power", "op=pow"}};

static const char *binary_label(const fv_layer *l) {
    static const char *const names[] = {"AddBroadcast", "Subtract", "Multiply", "Divide", "Maximum", "Minimum", "Power"};
    return (unsigned)l->binary.op < FV_BINARY_COUNT ? names[l->binary.op] : "Binary";
}

const fv_op fv_op_binary = {
    .kind = FV_LAYER_BINARY, .word = "binary", .type_name = "Binary",
    .help = "a op b elementwise, two inputs broadcast over the axes after the batch", .settings = binary_settings,
    .n_settings = FV_COUNT(binary_settings), .aliases = binary_aliases, .n_aliases = FV_COUNT(binary_aliases), .min_inputs = 2, .max_inputs = 2,
    .infer = binary_infer, .forward = binary_forward, .backward = binary_backward, .label = binary_label,
    .input_grad_optional = 1
};

fv_layer fv_binary(fv_binary_op op) {
    fv_layer l = fv_layer_defaults(FV_LAYER_BINARY);
    l.binary.op = op;
    return l;
}
