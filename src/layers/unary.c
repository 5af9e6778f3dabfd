/* unary.c — y = f(x) elementwise for the functions networks write out as graphs: exp, log, sqrt,
 * erf (GELU is x * (1 + erf(x / sqrt 2)) / 2), abs, neg, reciprocal; the ELU family, softplus,
 * softsign, hard-swish; trigonometric and hyperbolic functions; floor, ceil, round, sign. The
 * activations a layer fuses (relu, sigmoid, ...) are activations.c's; these are the rest of ONNX's
 * unary operators. */
#include "core/core.h"

#include <math.h>

static fv_status unary_infer(fv_node *node, fv_error *err) {
    if ((unsigned)node->layer.unary.op >= FV_UNARY_COUNT) return fv_fail(err, "unknown function");
    node->out_shape = node->in_shape[0];
    return FV_OK;
}

/* The constants a function takes, its own defaults when the settings leave them NaN: ONNX's
 * (Selu's alpha and gamma are PyTorch's too). */
static float constant_a(const fv_unary_settings *u) {
    if (!isnan(u->alpha)) return u->alpha;
    if (u->op == FV_UNARY_CLIP) return -INFINITY;
    return u->op == FV_UNARY_SELU ? 1.67326319217681884765625f : u->op == FV_UNARY_SHRINK ? 0.5f : 1.0f;
}

static float constant_b(const fv_unary_settings *u) {
    if (!isnan(u->beta)) return u->beta;
    if (u->op == FV_UNARY_CLIP) return INFINITY;
    return u->op == FV_UNARY_SELU ? 1.05070102214813232421875f : 0.0f;
}

/* The functions networks run on whole maps, and their slopes: one formula each, for the loops
 * below and for fv_unary_apply. */
static inline float hard_swish(float x) {
    float g = x * (1.0f / 6.0f) + 0.5f;
    return x * (g < 0.0f ? 0.0f : g > 1.0f ? 1.0f : g);
}
static inline float hard_swish_slope(float x) { return x < -3.0f ? 0.0f : x > 3.0f ? 1.0f : x * (1.0f / 3.0f) + 0.5f; }
static inline float silu(float x) { return x / (1.0f + expf(-x)); }
static inline float silu_slope(float x) {
    float s = 1.0f / (1.0f + expf(-x));
    return s * (1.0f + x * (1.0f - s));
}
static inline float gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
static inline float clip(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }

float fv_unary_apply(const fv_unary_settings *u, float x) {
    float a = constant_a(u), b = constant_b(u);
    switch (u->op) {
    case FV_UNARY_EXP: return expf(x);
    case FV_UNARY_LOG: return logf(x);
    case FV_UNARY_SQRT: return sqrtf(x);
    case FV_UNARY_ERF: return erff(x);
    case FV_UNARY_ABS: return fabsf(x);
    case FV_UNARY_NEG: return -x;
    case FV_UNARY_RECIPROCAL: return 1.0f / x;
    case FV_UNARY_ELU: return x > 0.0f ? x : a * expm1f(x);
    case FV_UNARY_SELU: return b * (x > 0.0f ? x : a * expm1f(x));
    case FV_UNARY_CELU: return x > 0.0f ? x : a * expm1f(x / a); /* max(0, x) + min(0, a (exp(x / a) - 1)) */
    case FV_UNARY_THRESHOLDED_RELU: return x > a ? x : 0.0f;
    case FV_UNARY_SHRINK: return x < -a ? x + b : x > a ? x - b : 0.0f;
    case FV_UNARY_SOFTPLUS: return x > 20.0f ? x : log1pf(expf(x));
    case FV_UNARY_SOFTSIGN: return x / (1.0f + fabsf(x));
    case FV_UNARY_HARD_SWISH: return hard_swish(x);
    case FV_UNARY_SIN: return sinf(x);
    case FV_UNARY_COS: return cosf(x);
    case FV_UNARY_TAN: return tanf(x);
    case FV_UNARY_ASIN: return asinf(x);
    case FV_UNARY_ACOS: return acosf(x);
    case FV_UNARY_ATAN: return atanf(x);
    case FV_UNARY_SINH: return sinhf(x);
    case FV_UNARY_COSH: return coshf(x);
    case FV_UNARY_ASINH: return asinhf(x);
    case FV_UNARY_ACOSH: return acoshf(x);
    case FV_UNARY_ATANH: return atanhf(x);
    case FV_UNARY_FLOOR: return floorf(x);
    case FV_UNARY_CEIL: return ceilf(x);
    case FV_UNARY_ROUND: return nearbyintf(x); /* halves to even, as ONNX's Round and numpy's */
    case FV_UNARY_SIGN: return (float)((x > 0.0f) - (x < 0.0f));
    case FV_UNARY_CLIP: return clip(x, a, b);
    case FV_UNARY_SILU: return silu(x);
    case FV_UNARY_GELU: return gelu(x);
    case FV_UNARY_COUNT: break;
    }
    return 0.0f;
}

/* f'(x); abs' is taken as 0 at 0, as PyTorch's sign(0); floor, ceil, round and sign are flat */
static float derivative(const fv_unary_settings *u, float x) {
    float a = constant_a(u), b = constant_b(u);
    switch (u->op) {
    case FV_UNARY_EXP: return expf(x);
    case FV_UNARY_LOG: return 1.0f / x;
    case FV_UNARY_SQRT: return 0.5f / sqrtf(x);
    case FV_UNARY_ERF: return 1.1283791670955126f * expf(-x * x); /* 2 / sqrt(pi) */
    case FV_UNARY_ABS: return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
    case FV_UNARY_NEG: return -1.0f;
    case FV_UNARY_RECIPROCAL: return -1.0f / (x * x);
    case FV_UNARY_ELU: return x > 0.0f ? 1.0f : a * expf(x);
    case FV_UNARY_SELU: return b * (x > 0.0f ? 1.0f : a * expf(x));
    case FV_UNARY_CELU: return x > 0.0f ? 1.0f : expf(x / a);
    case FV_UNARY_THRESHOLDED_RELU: return x > a ? 1.0f : 0.0f;
    case FV_UNARY_SHRINK: return x < -a || x > a ? 1.0f : 0.0f;
    case FV_UNARY_SOFTPLUS: return 1.0f / (1.0f + expf(-x));
    case FV_UNARY_SOFTSIGN: return 1.0f / ((1.0f + fabsf(x)) * (1.0f + fabsf(x)));
    case FV_UNARY_HARD_SWISH: return hard_swish_slope(x);
    case FV_UNARY_SIN: return cosf(x);
    case FV_UNARY_COS: return -sinf(x);
    case FV_UNARY_TAN: return 1.0f / (cosf(x) * cosf(x));
    case FV_UNARY_ASIN: return 1.0f / sqrtf(1.0f - x * x);
    case FV_UNARY_ACOS: return -1.0f / sqrtf(1.0f - x * x);
    case FV_UNARY_ATAN: return 1.0f / (1.0f + x * x);
    case FV_UNARY_SINH: return coshf(x);
    case FV_UNARY_COSH: return sinhf(x);
    case FV_UNARY_ASINH: return 1.0f / sqrtf(x * x + 1.0f);
    case FV_UNARY_ACOSH: return 1.0f / sqrtf(x * x - 1.0f);
    case FV_UNARY_ATANH: return 1.0f / (1.0f - x * x);
    case FV_UNARY_FLOOR:
    case FV_UNARY_CEIL:
    case FV_UNARY_ROUND:
    case FV_UNARY_SIGN:
    case FV_UNARY_COUNT: break;
    case FV_UNARY_CLIP: return x > a && x < b ? 1.0f : 0.0f;
    case FV_UNARY_SILU: return silu_slope(x);
    case FV_UNARY_GELU: return 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.39894228040143268f * expf(-0.5f * x * x);
    }
    return 0.0f;
}

/* body for each k of the function's n values, in parallel when there are many (the pragma reads
 * the variable n itself: a macro argument does not reach inside _Pragma). */
#define EACH(body)                                       \
    do {                                                 \
        _Pragma("omp parallel for simd if (n > 32768)")  \
        for (size_t k = 0; k < n; k++) body;             \
    } while (0)

/* x (N, S) -> y (N, S). The functions networks run on whole maps (hard-swish, SiLU, GELU, clip)
 * have their own loops, which the compiler vectorises; the rest go through fv_unary_apply. */
static void unary_forward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    const fv_unary_settings *u = &node->layer.unary;
    const float *x = s->in[0];
    float *y = s->out, lo = constant_a(u), hi = constant_b(u);
    switch (u->op) {
    case FV_UNARY_HARD_SWISH: EACH(y[k] = hard_swish(x[k])); break;
    case FV_UNARY_SILU: EACH(y[k] = silu(x[k])); break;
    case FV_UNARY_GELU: EACH(y[k] = gelu(x[k])); break;
    case FV_UNARY_CLIP: EACH(y[k] = clip(x[k], lo, hi)); break;
    default: EACH(y[k] = fv_unary_apply(u, x[k])); break;
    }
}

/* dx = dy * f'(x), from the input */
static void unary_backward(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    const fv_unary_settings *u = &node->layer.unary;
    const float *x = s->in[0], *dy = s->d_out;
    float *dx = s->d_in[0];
    switch (u->op) {
    case FV_UNARY_HARD_SWISH: EACH(dx[k] = dy[k] * hard_swish_slope(x[k])); break;
    case FV_UNARY_SILU: EACH(dx[k] = dy[k] * silu_slope(x[k])); break;
    default: EACH(dx[k] = dy[k] * derivative(u, x[k])); break;
    }
}

static const char *const unary_ops[] = {"exp", "log", "sqrt", "erf", "abs", "neg", "reciprocal", "elu", "selu", "celu", "thresholded_relu",
                                        "shrink", "softplus", "softsign", "hard_swish", "sin", "cos", "tan", "asin", "acos", "atan",
                                        "sinh", "cosh", "asinh", "acosh", "atanh", "floor", "ceil", "round", "sign", "clip", "silu", "gelu", NULL};
static const fv_setting unary_settings[] = {
    {"op", FV_SET_CHOICE, offsetof(fv_layer, unary.op), 0, NULL, NULL, "the function: exp, log, sqrt, erf, abs, neg, reciprocal, elu, selu, celu, thresholded_relu, shrink, softplus, softsign, hard_swish, sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, floor, ceil, round, sign, clip, silu (x sigmoid(x)) or gelu (exact, with erf)", unary_ops},
    {"alpha", FV_SET_FLOAT, offsetof(fv_layer, unary.alpha), 0, "nan", NULL, "elu, celu: alpha (1); selu: alpha (1.6733); thresholded_relu: the threshold (1); shrink: lambda (0.5); clip: the lower bound (-inf); nan: the default", NULL},
    {"beta", FV_SET_FLOAT, offsetof(fv_layer, unary.beta), 0, "nan", NULL, "selu: the scale (1.0507); shrink: the bias (0); clip: the upper bound (inf); nan: the default", NULL},
};
#define UNARY_ALIAS(word) {word, "op=" word}
static const fv_alias unary_aliases[] = {UNARY_ALIAS("exp"), UNARY_ALIAS("log"), UNARY_ALIAS("sqrt"), UNARY_ALIAS("erf"), UNARY_ALIAS("abs"),
                                         UNARY_ALIAS("neg"), UNARY_ALIAS("reciprocal"), UNARY_ALIAS("elu"), UNARY_ALIAS("selu"),
                                         UNARY_ALIAS("celu"), UNARY_ALIAS("thresholded_relu"), UNARY_ALIAS("shrink"), UNARY_ALIAS("softplus"),
                                         UNARY_ALIAS("softsign"), UNARY_ALIAS("hard_swish"), UNARY_ALIAS("sin"), UNARY_ALIAS("cos"),
                                         UNARY_ALIAS("tan"), UNARY_ALIAS("asin"), UNARY_ALIAS("acos"), UNARY_ALIAS("atan"), UNARY_ALIAS("sinh"),
                                         UNARY_ALIAS("cosh"), UNARY_ALIAS("asinh"), UNARY_ALIAS("acosh"), UNARY_ALIAS("atanh"),
                                         UNARY_ALIAS("floor"), UNARY_ALIAS("ceil"), UNARY_ALIAS("round"), UNARY_ALIAS("sign"), UNARY_ALIAS("clip"),
                                         UNARY_ALIAS("silu"), UNARY_ALIAS("gelu")};

static const char *unary_label(const fv_layer *l) {
    static const char *const names[] = {"Exp", "Log", "Sqrt", "Erf", "Abs", "Neg", "Reciprocal", "ELU", "SELU", "CELU", "ThresholdedReLU",
                                        "Shrink", "Softplus", "Softsign", "HardSwish", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
                                        "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Floor", "Ceil", "Round", "Sign", "Clip", "SiLU", "GELU"};
    return (unsigned)l->unary.op < FV_UNARY_COUNT ? names[l->unary.op] : "Unary";
}

const fv_op fv_op_unary = {
    .kind = FV_LAYER_UNARY, .word = "unary", .type_name = "Unary",
    .help = "f(x) elementwise: exp, log, sqrt, erf, SiLU, GELU, the ELU family, softplus, hard-swish, trigonometric and rounding functions",
    .settings = unary_settings, .n_settings = FV_COUNT(unary_settings), .aliases = unary_aliases,
    .n_aliases = FV_COUNT(unary_aliases), .min_inputs = 1, .max_inputs = 1, .infer = unary_infer,
    .forward = unary_forward, .backward = unary_backward, .label = unary_label
};

fv_layer fv_unary(fv_unary_op op) {
    fv_layer l = fv_layer_defaults(FV_LAYER_UNARY);
    l.unary.op = op;
    return l;
}
