/* common.c — errors, shapes, random numbers, windows, activations and initialisers shared by
 * every layer. */
#include "core/core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

fv_status fv_fail(fv_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return FV_ERR;
}

void fv_text_put(fv_text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->len < t->size ? t->buf + t->len : NULL, t->len < t->size ? t->size - t->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

double fv_time_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

size_t fv_shape_count(fv_shape s) {
    size_t n = 1;
    for (int i = 0; i < s.rank; i++) n *= (size_t)s.dim[i];
    return n;
}

int fv_shape_format(fv_shape s, char *buf, size_t size) {
    char tmp[64]; /* rank <= 3: "(None" + 3 * ", -2147483648" + ")" fits */
    int len = snprintf(tmp, sizeof tmp, "(None");
    for (int i = 0; i < s.rank; i++) len += snprintf(tmp + len, sizeof tmp - (size_t)len, ", %d", s.dim[i]);
    snprintf(tmp + len, sizeof tmp - (size_t)len, ")");
    return snprintf(buf, size, "%s", tmp);
}

/* ---- Random numbers: splitmix64, enough for seeded initialisation and dropout masks. ---- */
void fv_rng_seed(fv_rng *rng, uint64_t seed) { rng->state = seed ^ 0x9E3779B97F4A7C15ull; }

uint64_t fv_rng_next(fv_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float fv_rng_uniform(fv_rng *rng) { return (float)(fv_rng_next(rng) >> 40) * (1.0f / 16777216.0f); }

void fv_random_uniform(float *x, size_t n, uint64_t seed) {
    fv_rng rng;
    fv_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) x[i] = fv_rng_uniform(&rng);
}

void fv_init_kernel(fv_init init, float *w, size_t count, int fan_in, int fan_out, fv_rng *rng) {
    float limit = sqrtf(6.0f / (float)(init == FV_INIT_HE_UNIFORM ? fan_in : fan_in + fan_out));
    for (size_t i = 0; i < count; i++) w[i] = (2.0f * fv_rng_uniform(rng) - 1.0f) * limit;
}

/* ---- Windows (convolution and pooling). ---- */
int fv_window_output(int in, int window, int stride, fv_padding padding, int explicit_before,
                     int explicit_after, int *pad_before, int *pad_after) {
    int before = 0, after = 0, out;
    if (padding == FV_PAD_SAME) {
        out = (in + stride - 1) / stride;
        int total = (out - 1) * stride + window - in;
        if (total < 0) total = 0;
        before = total / 2; /* TF/Keras: the odd pixel goes after */
        after = total - before;
    } else {
        if (padding == FV_PAD_EXPLICIT) {
            before = explicit_before;
            after = explicit_after;
        }
        int span = in + before + after - window;
        out = span < 0 ? 0 : span / stride + 1;
    }
    *pad_before = before;
    *pad_after = after;
    return out;
}

/* ---- Activations. Derivatives are taken from the output y, so only y is kept. ---- */
/* The elementwise loops run on every core (OpenMP) once they are large enough to pay for it;
 * each element is independent, so the result does not depend on the thread count. */
#define PARALLEL_ABOVE 32768
#define FOR_EACH(i, n) _Pragma("omp parallel for simd if (n > PARALLEL_ABOVE)") for (size_t i = 0; i < n; i++)

void fv_activation_forward(fv_activation act, float alpha, float *y, size_t rows, int channels) {
    size_t n = rows * (size_t)channels;
    switch (act) {
    case FV_ACT_LINEAR: break;
    case FV_ACT_RELU:
        FOR_EACH(i, n) y[i] = y[i] < 0.0f ? 0.0f : y[i]; /* NaN passes through, as in PyTorch */
        break;
    case FV_ACT_LEAKY_RELU:
        FOR_EACH(i, n) y[i] = y[i] > 0.0f ? y[i] : alpha * y[i];
        break;
    case FV_ACT_SIGMOID:
        FOR_EACH(i, n) y[i] = 1.0f / (1.0f + expf(-y[i]));
        break;
    case FV_ACT_TANH:
        FOR_EACH(i, n) y[i] = tanhf(y[i]);
        break;
    case FV_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            float *row = y + r * (size_t)channels;
            float max = row[0], sum = 0.0f;
            for (int c = 1; c < channels; c++) max = row[c] > max ? row[c] : max;
            for (int c = 0; c < channels; c++) sum += (row[c] = expf(row[c] - max));
            for (int c = 0; c < channels; c++) row[c] /= sum;
        }
        break;
    case FV_ACT_COUNT: break;
    }
}

void fv_activation_backward(fv_activation act, float alpha, const float *y, const float *d_y,
                            float *d_x, size_t rows, int channels) {
    size_t n = rows * (size_t)channels;
    switch (act) {
    case FV_ACT_LINEAR:
        if (d_x != d_y) memcpy(d_x, d_y, n * sizeof *d_x);
        break;
    case FV_ACT_RELU: /* f'(0) = 0, as PyTorch; arithmetic on the comparison, which vectorises (a branch would not) */
        FOR_EACH(i, n) d_x[i] = d_y[i] * (float)(y[i] > 0.0f);
        break;
    case FV_ACT_LEAKY_RELU: /* alpha > 0 keeps the sign, so y > 0 iff x > 0 */
        FOR_EACH(i, n) d_x[i] = d_y[i] * (alpha + (1.0f - alpha) * (float)(y[i] > 0.0f));
        break;
    case FV_ACT_SIGMOID:
        FOR_EACH(i, n) d_x[i] = d_y[i] * y[i] * (1.0f - y[i]);
        break;
    case FV_ACT_TANH:
        FOR_EACH(i, n) d_x[i] = d_y[i] * (1.0f - y[i] * y[i]);
        break;
    case FV_ACT_SOFTMAX: /* d_x = y * (d_y - sum(d_y * y)) along each row */
        for (size_t r = 0; r < rows; r++) {
            const float *yr = y + r * (size_t)channels, *dyr = d_y + r * (size_t)channels;
            float *dxr = d_x + r * (size_t)channels;
            float dot = 0.0f;
            for (int c = 0; c < channels; c++) dot += dyr[c] * yr[c];
            for (int c = 0; c < channels; c++) dxr[c] = yr[c] * (dyr[c] - dot);
        }
        break;
    case FV_ACT_COUNT: break;
    }
}

void fv_step_activate(const fv_step *s, fv_activation act, float alpha, float *y, size_t rows, int channels) {
    if (s->logits) memcpy(s->logits, y, rows * (size_t)channels * sizeof *y);
    fv_activation_forward(act, alpha, y, rows, channels);
}

const float *fv_step_activation_grad(const fv_step *s, fv_activation act, float alpha, size_t rows, int channels) {
    if (act != FV_ACT_LINEAR && !s->d_out_is_pre_activation)
        fv_activation_backward(act, alpha, s->out, s->d_out, s->d_out, rows, channels);
    return s->d_out;
}

static const char *const activation_names[FV_ACT_COUNT] = {
    [FV_ACT_LINEAR] = "linear", [FV_ACT_RELU] = "relu",   [FV_ACT_LEAKY_RELU] = "leaky_relu",
    [FV_ACT_SIGMOID] = "sigmoid", [FV_ACT_TANH] = "tanh", [FV_ACT_SOFTMAX] = "softmax",
};

const char *fv_activation_name(fv_activation act) {
    return (unsigned)act < FV_ACT_COUNT ? activation_names[act] : "?";
}

/* ---- Layer constructors with Keras-like defaults. ---- */
static fv_layer layer_base(fv_layer_kind kind) {
    fv_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    l.stride[0] = l.stride[1] = 1;
    l.kernel[0] = l.kernel[1] = 1;
    l.padding = FV_PAD_VALID;
    l.use_bias = 1;
    l.activation = FV_ACT_LINEAR;
    l.alpha = 0.01f;
    l.momentum = 0.99f;
    l.epsilon = 1e-3f;
    return l;
}

fv_layer fv_input_layer(fv_shape shape) {
    fv_layer l = layer_base(FV_LAYER_INPUT);
    l.input_shape = shape;
    return l;
}

fv_layer fv_conv2d(int filters, int kernel_h, int kernel_w) {
    fv_layer l = layer_base(FV_LAYER_CONV2D);
    l.filters = filters;
    l.kernel[0] = kernel_h;
    l.kernel[1] = kernel_w;
    return l;
}

fv_layer fv_conv1d(int filters, int kernel) {
    fv_layer l = layer_base(FV_LAYER_CONV1D);
    l.filters = filters;
    l.kernel[1] = kernel;
    return l;
}

fv_layer fv_dense(int units) {
    fv_layer l = layer_base(FV_LAYER_DENSE);
    l.filters = units;
    return l;
}

static fv_layer pool_layer(fv_layer_kind kind, int pool_h, int pool_w) {
    fv_layer l = layer_base(kind);
    l.pool[0] = l.stride[0] = pool_h;
    l.pool[1] = l.stride[1] = pool_w;
    return l;
}
fv_layer fv_maxpool2d(int pool_h, int pool_w) { return pool_layer(FV_LAYER_MAXPOOL2D, pool_h, pool_w); }
fv_layer fv_avgpool2d(int pool_h, int pool_w) { return pool_layer(FV_LAYER_AVGPOOL2D, pool_h, pool_w); }
fv_layer fv_sumpool2d(int pool_h, int pool_w) { return pool_layer(FV_LAYER_SUMPOOL2D, pool_h, pool_w); }
fv_layer fv_global_avgpool(void) { return layer_base(FV_LAYER_GLOBAL_AVGPOOL); }
fv_layer fv_flatten(void) { return layer_base(FV_LAYER_FLATTEN); }
fv_layer fv_batchnorm(void) { return layer_base(FV_LAYER_BATCHNORM); }
fv_layer fv_add(void) { return layer_base(FV_LAYER_ADD); }

fv_layer fv_dropout(float rate) {
    fv_layer l = layer_base(FV_LAYER_DROPOUT);
    l.rate = rate;
    return l;
}

fv_layer fv_activation_layer(fv_activation act) {
    fv_layer l = layer_base(FV_LAYER_ACTIVATION);
    l.activation = act;
    return l;
}
