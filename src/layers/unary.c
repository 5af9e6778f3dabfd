/* unary.c — y = f(x) elementwise for the functions networks write out as graphs: exp, log, sqrt,
 * erf (GELU is x * (1 + erf(x / sqrt 2)) / 2), abs, neg, reciprocal. The activations a layer
 * fuses (relu, sigmoid, ...) are activations.c's; these are the rest of ONNX's unary operators. */
#include "core/core.h"

#include <math.h>

static fv_status unary_infer(fv_node *node, fv_error *err) {
    if ((unsigned)node->layer.unary.op >= FV_UNARY_COUNT) return fv_fail(err, "unknown function");
    node->out_shape = node->in_shape[0];
    return FV_OK;
}

float fv_unary_apply(fv_unary_op op, float x) {
    switch (op) {
    case FV_UNARY_EXP: return expf(x);
    case FV_UNARY_LOG: return logf(x);
    case FV_UNARY_SQRT: return sqrtf(x);
    case FV_UNARY_ERF: return erff(x);
    case FV_UNARY_ABS: return fabsf(x);
    case FV_UNARY_NEG: return -x;
    case FV_UNARY_RECIPROCAL: return 1.0f / x;
    case FV_UNARY_COUNT: break;
    }
    return 0.0f;
}

/* f'(x); abs' is taken as 0 at 0, as PyTorch's sign(0) */
static float derivative(fv_unary_op op, float x) {
    switch (op) {
    case FV_UNARY_EXP: return expf(x);
    case FV_UNARY_LOG: return 1.0f / x;
    case FV_UNARY_SQRT: return 0.5f / sqrtf(x);
    case FV_UNARY_ERF: return 1.1283791670955126f * expf(-x * x); /* 2 / sqrt(pi) */
    case FV_UNARY_ABS: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
    case FV_UNARY_NEG: return -1.0f;
    case FV_UNARY_RECIPROCAL: return -1.0f / (x * x);
    case FV_UNARY_COUNT: break;
    }
    return 0.0f;
}

/* x (N, S) -> y (N, S) */
static void unary_forward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    fv_unary_op op = node->layer.unary.op;
#pragma omp parallel for simd if (n > 32768)
    for (size_t k = 0; k < n; k++) s->out[k] = fv_unary_apply(op, s->in[0][k]);
}

/* dx = dy * f'(x), from the input */
static void unary_backward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    fv_unary_op op = node->layer.unary.op;
#pragma omp parallel for simd if (n > 32768)
    for (size_t k = 0; k < n; k++) s->d_in[0][k] = s->d_out[k] * derivative(op, s->in[0][k]);
}

static const char *const unary_ops[] = {"exp", "log", "sqrt", "erf", "abs", "neg", "reciprocal", NULL};
static const fv_setting unary_settings[] = {
    {"op", FV_SET_CHOICE, offsetof(fv_layer, unary.op), 0, NULL, NULL, "exp, log, sqrt, erf, abs, neg or reciprocal", unary_ops},
};
static const fv_alias unary_aliases[] = {{"exp", "op=exp"}, {"log", "op=log"}, {"sqrt", "op=sqrt"}, {"erf", "op=erf"},
                                         {"abs", "op=abs"}, {"neg", "op=neg"}, {"reciprocal", "op=reciprocal"}};

static const char *unary_label(const fv_layer *l) {
    static const char *const names[] = {"Exp", "Log", "Sqrt", "Erf", "Abs", "Neg", "Reciprocal"};
    return (unsigned)l->unary.op < FV_UNARY_COUNT ? names[l->unary.op] : "Unary";
}

const fv_op fv_op_unary = {FV_LAYER_UNARY, "unary", "Unary", "f(x) elementwise: exp, log, sqrt, erf, abs, neg, reciprocal", 0,
                           unary_settings, 1, unary_aliases, 7, 1, 1, unary_infer, NULL, unary_forward, unary_backward, NULL,
                           unary_label, 0};

fv_layer fv_unary(fv_unary_op op) {
    fv_layer l = fv_layer_defaults(FV_LAYER_UNARY);
    l.unary.op = op;
    return l;
}
