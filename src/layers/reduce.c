/* reduce.c — mean, sum, max, min, product, sum of squares, L1 and L2 norms, log of the sum and
 * log-sum-exp over some of the axes after the batch, keeping them as size 1 or dropping them:
 * ONNX's Reduce* operators (mnasnet's spatial mean, a layer norm written out as ReduceMean over
 * the channels). */
#include "core/core.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The input's per-sample dims on FV_MAX_RANK axes (trailing axes of size 1), and the output
 * offset each input axis steps by: 0 along a reduced axis. */
static void layout_of(const fv_node *node, int *dim, size_t *out_stride) {
    const fv_shape *in = &node->in_shape[0];
    size_t stride = 1;
    for (int a = FV_MAX_RANK - 1; a >= 0; a--) {
        dim[a] = a < in->rank ? in->dim[a] : 1;
        int reduced = a < in->rank && (node->layer.reduce.axes >> a & 1);
        out_stride[a] = reduced ? 0 : stride;
        stride *= reduced ? 1 : (size_t)dim[a];
    }
}

static fv_status reduce_infer(fv_node *node, fv_error *err) {
    const fv_reduce_settings *l = &node->layer.reduce;
    const fv_shape *in = &node->in_shape[0];
    if ((unsigned)l->op >= FV_REDUCE_COUNT) return fv_fail(err, "unknown reduction");
    if (l->axes <= 0 || l->axes >> in->rank) return fv_fail(err, "axes must name axes 0 to %d of the input (after the batch)", in->rank - 1);
    fv_shape out = {0, {0}};
    for (int a = 0; a < in->rank; a++) {
        int r = l->axes >> a & 1;
        if (!r || l->keepdims) out.dim[out.rank++] = r ? 1 : in->dim[a];
    }
    if (out.rank == 0) out.rank = 1, out.dim[0] = 1; /* everything reduced: one value a sample */
    node->out_shape = out;
    /* max, min: the index chosen; product: the product of the non-zero values and the count of zeros */
    if (l->op == FV_REDUCE_MAX || l->op == FV_REDUCE_MIN) node->scratch_per_sample = fv_shape_count(out) * sizeof(int32_t);
    if (l->op == FV_REDUCE_PROD) node->scratch_per_sample = fv_shape_count(out) * 2 * sizeof(float);
    if (l->op == FV_REDUCE_LOG_SUM_EXP) node->scratch_per_sample = fv_shape_count(out) * sizeof(float); /* the largest value */
    return FV_OK;
}

/* Visits a sample's input elements in order: i the input offset, o the output one. */
#define FOR_INPUT(dim, os, i, o)                                                                  \
    for (size_t c0 = 0, i = 0; c0 < (size_t)dim[0]; c0++)                                         \
        for (size_t c1 = 0; c1 < (size_t)dim[1]; c1++)                                            \
            for (size_t c2 = 0; c2 < (size_t)dim[2]; c2++)                                        \
                for (size_t c3 = 0, o = c0 * os[0] + c1 * os[1] + c2 * os[2]; c3 < (size_t)dim[3]; \
                     c3++, i++, o += os[3])

/* x (N, S) -> y (N, S reduced) */
static void reduce_forward(const fv_node *node, const fv_step *s) {
    int dim[FV_MAX_RANK];
    size_t os[FV_MAX_RANK];
    layout_of(node, dim, os);
    size_t per_in = fv_shape_count(node->in_shape[0]), per_out = fv_shape_count(node->out_shape), count = per_in / per_out;
    fv_reduce_op op = node->layer.reduce.op;
    for (int n = 0; n < s->batch; n++) {
        const float *x = s->in[0] + (size_t)n * per_in;
        float *y = s->out + (size_t)n * per_out;
        int32_t *arg = op == FV_REDUCE_MAX || op == FV_REDUCE_MIN ? (int32_t *)s->scratch + (size_t)n * per_out : NULL;
        float *prod = op == FV_REDUCE_PROD ? (float *)s->scratch + (size_t)n * per_out * 2 : NULL, *zeros = prod ? prod + per_out : NULL;
        for (size_t o = 0; o < per_out; o++) y[o] = 0.0f;
        for (size_t o = 0; arg && o < per_out; o++) arg[o] = -1;
        for (size_t o = 0; prod && o < per_out; o++) prod[o] = 1.0f, zeros[o] = 0.0f;
        switch (op) {
        case FV_REDUCE_MEAN:
        case FV_REDUCE_SUM:
        case FV_REDUCE_LOG_SUM: FOR_INPUT(dim, os, i, o) y[o] += x[i]; break;
        case FV_REDUCE_MAX: FOR_INPUT(dim, os, i, o) if (arg[o] < 0 || x[i] > y[o]) y[o] = x[i], arg[o] = (int32_t)i; break;
        case FV_REDUCE_MIN: FOR_INPUT(dim, os, i, o) if (arg[o] < 0 || x[i] < y[o]) y[o] = x[i], arg[o] = (int32_t)i; break;
        case FV_REDUCE_PROD: FOR_INPUT(dim, os, i, o) if (x[i] != 0.0f) prod[o] *= x[i]; else zeros[o] += 1.0f; break;
        case FV_REDUCE_SUM_SQUARE:
        case FV_REDUCE_L2: FOR_INPUT(dim, os, i, o) y[o] += x[i] * x[i]; break;
        case FV_REDUCE_L1: FOR_INPUT(dim, os, i, o) y[o] += fabsf(x[i]); break;
        case FV_REDUCE_LOG_SUM_EXP: { /* the largest first, so that exp does not overflow */
            float *top = (float *)s->scratch + (size_t)n * per_out;
            for (size_t o = 0; o < per_out; o++) top[o] = -INFINITY;
            FOR_INPUT(dim, os, i, o) if (x[i] > top[o]) top[o] = x[i];
            FOR_INPUT(dim, os, i, o) y[o] += expf(x[i] - top[o]);
            for (size_t o = 0; o < per_out; o++) y[o] = top[o] + logf(y[o]);
            break;
        }
        case FV_REDUCE_COUNT: break;
        }
        if (op == FV_REDUCE_MEAN)
            for (size_t o = 0; o < per_out; o++) y[o] /= (float)count;
        if (op == FV_REDUCE_L2)
            for (size_t o = 0; o < per_out; o++) y[o] = sqrtf(y[o]);
        if (op == FV_REDUCE_LOG_SUM)
            for (size_t o = 0; o < per_out; o++) y[o] = logf(y[o]);
        for (size_t o = 0; prod && o < per_out; o++) y[o] = zeros[o] > 0.0f ? 0.0f : prod[o];
    }
}
/* mean: dx = dy / count; sum: dx = dy; max, min: dy to the first one chosen, 0 elsewhere;
 * product: dy times the product of the others; sum of squares: 2 x dy; L1: sign(x) dy;
 * L2: x / y dy; log of the sum: dy / sum; log-sum-exp: exp(x - y) dy */
static void reduce_backward(const fv_node *node, const fv_step *s) {
    int dim[FV_MAX_RANK];
    size_t os[FV_MAX_RANK];
    layout_of(node, dim, os);
    size_t per_in = fv_shape_count(node->in_shape[0]), per_out = fv_shape_count(node->out_shape), count = per_in / per_out;
    fv_reduce_op op = node->layer.reduce.op;
    float scale = op == FV_REDUCE_MEAN ? 1.0f / (float)count : 1.0f;
    for (int n = 0; n < s->batch; n++) {
        const float *dy = s->d_out + (size_t)n * per_out, *x = s->in[0] + (size_t)n * per_in, *y = s->out + (size_t)n * per_out;
        float *dx = s->d_in[0] + (size_t)n * per_in;
        switch (op) {
        case FV_REDUCE_MAX:
        case FV_REDUCE_MIN: {
            const int32_t *arg = (const int32_t *)s->scratch + (size_t)n * per_out;
            memset(dx, 0, per_in * sizeof *dx);
            for (size_t o = 0; o < per_out; o++) dx[arg[o]] += dy[o];
            break;
        }
        case FV_REDUCE_PROD: { /* with one zero, only it has a gradient: the product of the others */
            const float *prod = (const float *)s->scratch + (size_t)n * per_out * 2, *zeros = prod + per_out;
            FOR_INPUT(dim, os, i, o) dx[i] = zeros[o] == 0.0f ? dy[o] * prod[o] / x[i] : zeros[o] == 1.0f && x[i] == 0.0f ? dy[o] * prod[o] : 0.0f;
            break;
        }
        case FV_REDUCE_SUM_SQUARE: FOR_INPUT(dim, os, i, o) dx[i] = 2.0f * x[i] * dy[o]; break;
        case FV_REDUCE_L1: FOR_INPUT(dim, os, i, o) dx[i] = x[i] > 0.0f ? dy[o] : x[i] < 0.0f ? -dy[o] : 0.0f; break;
        case FV_REDUCE_L2: FOR_INPUT(dim, os, i, o) dx[i] = y[o] > 0.0f ? x[i] / y[o] * dy[o] : 0.0f; break;
        case FV_REDUCE_LOG_SUM: FOR_INPUT(dim, os, i, o) dx[i] = dy[o] / expf(y[o]); break;
        case FV_REDUCE_LOG_SUM_EXP: FOR_INPUT(dim, os, i, o) dx[i] = dy[o] * expf(x[i] - y[o]); break;
        default: FOR_INPUT(dim, os, i, o) dx[i] = dy[o] * scale; break;
        }
    }
}

static const char *const reduce_ops[] = {"mean", "sum", "max", "min", "prod", "sum_square", "l1", "l2", "log_sum", "log_sum_exp", NULL};
#define REDUCE(field) offsetof(fv_layer, reduce.field)
static const fv_setting reduce_settings[] = {
    {"op", FV_SET_CHOICE, REDUCE(op), 0, "mean", NULL, "mean, sum, max, min, prod, sum_square, l1, l2, log_sum or log_sum_exp", reduce_ops},
    {"axes", FV_SET_AXES, REDUCE(axes), 0, NULL, NULL, "the axes reduced, 0 the first after the batch: `0,1` is H and W of (H, W, C)", NULL},
    {"keepdims", FV_SET_BOOL, REDUCE(keepdims), 0, "true", NULL, "keep the reduced axes with size 1", NULL},
};

const fv_op fv_op_reduce = {
    .kind = FV_LAYER_REDUCE, .word = "reduce", .type_name = "Reduce",
    .help = "mean, sum, max, min, product, norms, log-sum-exp over some axes after the batch",
    .settings = reduce_settings, .n_settings = FV_COUNT(reduce_settings), .min_inputs = 1, .max_inputs = 1, .infer = reduce_infer,
    .forward = reduce_forward, .backward = reduce_backward
};

fv_layer fv_reduce(fv_reduce_op op, int axes, int keepdims) {
    fv_layer l = fv_layer_defaults(FV_LAYER_REDUCE);
    l.reduce.op = op, l.reduce.axes = axes, l.reduce.keepdims = keepdims;
    return l;
}
