/* precision.c — what each precision means, in plain C: the definition the reference backend
 * runs and every backend's reduced-precision kernels are checked against. */
#include "core/net.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {[FV_PRECISION_FP32] = "fp32", [FV_PRECISION_BF16] = "bf16", [FV_PRECISION_INT8] = "int8"};

const char *fv_precision_name(fv_precision precision) {
    return (unsigned)precision < (unsigned)FV_COUNT(names) ? names[precision] : "unknown";
}

fv_status fv_precision_parse(const char *word, fv_precision *out, fv_error *err) {
    for (int p = 0; p < FV_COUNT(names); p++)
        if (!strcmp(word, names[p])) return *out = (fv_precision)p, FV_OK;
    return fv_fail(err, "unknown precision '%s' (fp32, bf16 or int8)", word);
}

/* x86 CPUs without VNNI multiply int8 in pairs summed into 16 bits (vpmaddubsw), which saturate
 * unless the weights keep to 7 bits; oneDNN halves the weights of its int8 convolutions there (a
 * scale adjustment of 0.5, rounding them) and leaves its int8 matrix products to saturate. On
 * those CPUs fovea's int8 weights are even integers in [-126, 126]: oneDNN halves them exactly,
 * a dense layer halves them itself, and the reference rounds the same way, so it stays the
 * oracle on every CPU (ONNX Runtime's reduce_range, OpenVINO's 7-bit weights, for the same
 * reason). */
int fv_int8_weight_step(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") ? 1 : 2;
#else
    return 1;
#endif
}

float fv_weight_scale(const float *w, size_t n, int channels, int c) {
    float most = 0.0f;
    for (size_t i = (size_t)c; i < n; i += (size_t)channels) most = fabsf(w[i]) > most ? fabsf(w[i]) : most;
    return most > 0.0f ? most / (fv_int8_weight_step() == 1 ? 127.0f : 126.0f) : 1.0f;
}

/* Weights quantised per output channel (the last axis): into q and scale (a backend's int8), or
 * dequantised into dequantized (the reference's). */
static void quantize_channels(const float *w, size_t n, int channels, int8_t *q, float *scale, float *dequantized) {
    const float step = (float)fv_int8_weight_step();
    for (int c = 0; c < channels; c++) {
        float s = fv_weight_scale(w, n, channels, c), inv = 1.0f / (s * step);
        if (scale) scale[c] = s;
        for (size_t i = (size_t)c; i < n; i += (size_t)channels) {
            float v = step * fv_quantize_int8(w[i], inv);
            if (q) q[i] = (int8_t)v;
            if (dequantized) dequantized[i] = s * v;
        }
    }
}

void fv_quantize_weights(const float *w, size_t n, int channels, int8_t *q, float *scale) { quantize_channels(w, n, channels, q, scale, NULL); }

void fv_dequantize_rows(float *y, size_t rows, int channels, const float *scale, const float *bias) {
#pragma omp parallel for if (rows * (size_t)channels > 32768)
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++) {
            int32_t sum;
            memcpy(&sum, y + r * (size_t)channels + c, sizeof sum); /* the int32 read through its own type */
            y[r * (size_t)channels + c] = (float)sum * scale[c] + (bias ? bias[c] : 0.0f);
        }
}

/* The reference's int8: the dequantised values (s * q) of the same quantisation, as floats. */
static const float *dequantized_input(const fv_step *s, const float *x, size_t n, float scale) {
    float *dst = s->cast[FV_CAST_IN];
    const float inv = 1.0f / scale;
#pragma omp parallel for simd if (n > 32768)
    for (size_t i = 0; i < n; i++) dst[i] = scale * fv_quantize_int8(x[i], inv);
    return dst;
}

static const float *dequantized_weights(const fv_step *s, const float *w, size_t n, int channels) {
    quantize_channels(w, n, channels, NULL, NULL, s->cast[FV_CAST_OTHER]);
    return s->cast[FV_CAST_OTHER];
}

const float *fv_step_input(const fv_step *s, float input_scale, const float *x, size_t n) {
    if (s->precision == FV_PRECISION_INT8) return input_scale > 0.0f ? dequantized_input(s, x, n, input_scale) : x;
    return fv_step_operand(s, FV_CAST_IN, x, n);
}

const float *fv_step_weights(const fv_step *s, float input_scale, const float *w, size_t n, int channels) {
    if (s->precision == FV_PRECISION_INT8) return input_scale > 0.0f ? dequantized_weights(s, w, n, channels) : w;
    return fv_step_operand(s, FV_CAST_OTHER, w, n);
}

const float *fv_step_operand(const fv_step *s, int slot, const float *src, size_t n) {
    if (s->precision != FV_PRECISION_BF16) return src;
    float *dst = s->cast[slot];
#pragma omp parallel for simd if (n > 32768)
    for (size_t i = 0; i < n; i++) dst[i] = fv_bf16_round(src[i]);
    return dst;
}

int fv_kind_quantisable(fv_layer_kind kind) {
    return kind == FV_LAYER_CONV1D || kind == FV_LAYER_CONV2D || kind == FV_LAYER_CONV3D || kind == FV_LAYER_DENSE;
}

float fv_layer_input_scale(const fv_layer *l) {
    return !fv_kind_quantisable(l->kind) ? 0.0f : l->kind == FV_LAYER_DENSE ? l->dense.input_scale : l->conv.input_scale;
}

float fv_layer_output_scale(const fv_layer *l) { return l->kind == FV_LAYER_ADD ? l->add.output_scale : 0.0f; }

void fv_step_quantize(const fv_step *s, float output_scale, float *y, size_t n) {
    if (s->precision != FV_PRECISION_INT8 || output_scale <= 0.0f) return;
    const float inv = 1.0f / output_scale;
#pragma omp parallel for simd if (n > 32768)
    for (size_t i = 0; i < n; i++) y[i] = output_scale * fv_quantize_int8(y[i], inv);
}

/* fv_quantize's rule for the adds: one whose quantised readers (convolutions, dense layers) share
 * one input scale has its sum quantised with that scale. Its other readers (the next residual
 * add) see the same int8 values, so a oneDNN plan keeps the sum int8 for all of them, and the
 * convolution before the add can compute it (plan.c): no float sum, no quantising of it for
 * each reader. This is what ONNX Runtime's and PyTorch's int8 ResNets do (QLinearAdd). */
void fv_net_quantize_sums(fv_net *net) {
    for (int i = 0; i < net->n_nodes; i++) {
        fv_layer *l = &net->nodes[i].layer;
        if (l->kind != FV_LAYER_ADD) continue;
        float shared = 0.0f;
        for (int c = i + 1; c < net->n_nodes && shared >= 0.0f; c++)
            for (int j = 0; j < net->nodes[c].n_inputs; j++) {
                float s = net->nodes[c].inputs[j] == i ? fv_layer_input_scale(&net->nodes[c].layer) : 0.0f;
                if (s > 0.0f) shared = shared == 0.0f || shared == s ? s : -1.0f;
            }
        l->add.output_scale = shared > 0.0f ? shared : 0.0f;
    }
}

void fv_net_set_precision(fv_net *net, fv_precision precision) { net->precision = precision; }
fv_precision fv_net_precision(const fv_net *net) { return net->precision; }
