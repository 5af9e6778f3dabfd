/* activations.c — the activation functions (standalone layers and fused into conv/dense), the
 * step helpers that apply them, and the kernel initialisers. */
#include "core/graph.h"

#include <math.h>
#include <string.h>

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
    case FV_ACT_RELU6:
        FOR_EACH(i, n) y[i] = y[i] < 0.0f ? 0.0f : y[i] > 6.0f ? 6.0f : y[i];
        break;
    case FV_ACT_HARD_SIGMOID:
        FOR_EACH(i, n) {
            float v = alpha * y[i] + 0.5f;
            y[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        break;
    case FV_ACT_LOG_SOFTMAX: /* x - max - log(sum(exp(x - max))) */
        for (size_t r = 0; r < rows; r++) {
            float *row = y + r * (size_t)channels;
            float max = row[0], sum = 0.0f;
            for (int c = 1; c < channels; c++) max = row[c] > max ? row[c] : max;
            for (int c = 0; c < channels; c++) sum += expf(row[c] - max);
            float log_sum = logf(sum);
            for (int c = 0; c < channels; c++) row[c] = row[c] - max - log_sum;
        }
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
    case FV_ACT_RELU6: /* 0 at both corners, as PyTorch's hardtanh */
        FOR_EACH(i, n) d_x[i] = d_y[i] * (float)(y[i] > 0.0f) * (float)(y[i] < 6.0f);
        break;
    case FV_ACT_HARD_SIGMOID: /* alpha inside (0, 1), 0 at and beyond the corners, as PyTorch */
        FOR_EACH(i, n) d_x[i] = d_y[i] * alpha * (float)(y[i] > 0.0f) * (float)(y[i] < 1.0f);
        break;
    case FV_ACT_LOG_SOFTMAX: /* d_x = d_y - softmax * sum(d_y), softmax = exp(y) */
        for (size_t r = 0; r < rows; r++) {
            const float *yr = y + r * (size_t)channels, *dyr = d_y + r * (size_t)channels;
            float *dxr = d_x + r * (size_t)channels;
            float sum = 0.0f;
            for (int c = 0; c < channels; c++) sum += dyr[c];
            for (int c = 0; c < channels; c++) dxr[c] = dyr[c] - expf(yr[c]) * sum;
        }
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

void fv_step_activation_backward(const fv_step *s, fv_activation act, float alpha, const float *y, const float *d_y,
                                 float *d_x, size_t rows, int channels) {
    size_t n = rows * (size_t)channels;
    if (act == FV_ACT_RELU && s->guided) { /* guided backpropagation: only positive gradients, only where x > 0 */
        FOR_EACH(i, n) d_x[i] = d_y[i] * (float)(y[i] > 0.0f) * (float)(d_y[i] > 0.0f);
        return;
    }
    fv_activation_backward(act, alpha, y, d_y, d_x, rows, channels);
}

const float *fv_step_activation_grad(const fv_step *s, fv_activation act, float alpha, size_t rows, int channels) {
    if (act == FV_ACT_LINEAR || s->d_out_is_pre_activation) return s->d_out;
    float *d_pre = s->d_pre ? s->d_pre : s->d_out;
    fv_step_activation_backward(s, act, alpha, s->out, s->d_out, d_pre, rows, channels);
    return d_pre;
}

static const char *const activation_names[FV_ACT_COUNT] = {
    [FV_ACT_LINEAR] = "linear", [FV_ACT_RELU] = "relu",   [FV_ACT_LEAKY_RELU] = "leaky_relu",
    [FV_ACT_SIGMOID] = "sigmoid", [FV_ACT_TANH] = "tanh", [FV_ACT_SOFTMAX] = "softmax",
    [FV_ACT_RELU6] = "relu6", [FV_ACT_HARD_SIGMOID] = "hard_sigmoid", [FV_ACT_LOG_SOFTMAX] = "log_softmax",
};

const char *fv_activation_name(fv_activation act) {
    return (unsigned)act < FV_ACT_COUNT ? activation_names[act] : "?";
}

void fv_init_kernel(fv_init init, float *w, size_t count, int fan_in, int fan_out, fv_rng *rng) {
    float limit = sqrtf(6.0f / (float)(init == FV_INIT_HE_UNIFORM ? fan_in : fan_in + fan_out));
    for (size_t i = 0; i < count; i++) w[i] = (2.0f * fv_rng_uniform(rng) - 1.0f) * limit;
}

void fv_bias_gradient(const float *dy, size_t rows, int channels, float *db) {
    memset(db, 0, (size_t)channels * sizeof *db);
    for (size_t r = 0; r < rows; r++)
        for (int o = 0; o < channels; o++) db[o] += dy[r * (size_t)channels + o];
}
