/* dense.c — the dense layer on oneDNN: x (R, In) . w (In, Out) + b, with the bias gradient and
 * the activation code shared with the reference. fp32 plans call sgemm; bf16 plans run matmul
 * primitives on bf16 copies of x, w and d_out (in the step's cast room) that write f32; int8
 * inference plans, for a layer with an input scale, one s8 x s8 -> s32 matmul whose exact sums are
 * scaled per output unit (input scale x weight scale) and the bias added (fv_dequantize_rows; the
 * int8 convolution does both inside its primitive instead, conv.c). */
#include "backends/onednn/onednn.h"

#include <stdlib.h>
#include <string.h>

static void dims_of(const fv_node *node, int batch, int *rows, int *in, int *out) {
    const fv_shape *s = &node->in_shape[0];
    *in = s->dim[s->rank - 1], *out = node->layer.dense.units;
    *rows = (int)((size_t)batch * fv_shape_count(*s) / (size_t)*in);
}

typedef struct dense_state {
    dnnl_ctx *ctx;
    prim forward, backward_data, backward_weights;
    prim cast_x, cast_w, cast_dy; /* f32 -> bf16 into the step's cast room */
    char implementation[64];      /* the forward product's */
    /* int8: the weights quantised (In, Out) and the output scales */
    int8_t *q_weights;
    float *output_scales;
    void *w16;         /* bf16 inference plans: the weights in bf16, kept (forward_bf16) */
    weights_seen seen; /* the float weights last quantised (int8) or converted to w16 */
} dense_state;

static fv_status forward_int8(const fv_node *node, dense_state *d, const fv_step *s, int rows, int in, int out, fv_error *err) {
    const fv_dense_settings *l = &node->layer.dense;
    if (fv_onednn_weights_changed(&d->seen, s->param[0], s->weights_version)) {
        fv_quantize_weights(s->param[0], (size_t)in * out, out, d->q_weights, d->output_scales);
        const int step = fv_int8_weight_step(); /* 2: even weights, halved here (exactly) against saturation */
        for (size_t i = 0; step > 1 && i < (size_t)in * out; i++) d->q_weights[i] = (int8_t)(d->q_weights[i] / step);
        for (int k = 0; k < out; k++) d->output_scales[k] *= l->input_scale * (float)step;
        fv_onednn_weights_converted(&d->seen, s->param[0]);
    }
    if (fv_onednn_convert(&d->cast_x, s->in[0], s->cast[FV_CAST_IN], d->ctx, err) != FV_OK) return FV_ERR; /* quantised */
    fv_onednn_bind(&d->forward, DNNL_ARG_SRC, s->cast[FV_CAST_IN]);
    fv_onednn_bind(&d->forward, DNNL_ARG_DST, s->out);
    if (fv_onednn_run(&d->forward, d->ctx, err) != FV_OK) return FV_ERR;
    fv_dequantize_rows(s->out, (size_t)rows, out, d->output_scales, l->use_bias ? s->param[1] : NULL);
    return FV_OK;
}

/* Inference plans keep the bf16 weights (w16) and convert them again only when the network's
 * weights_version says they may have changed (no copy is compared: VGG16's 25088 x 4096 layer,
 * whose 400 MB took most of a batch-1 pass to convert each time, would need another 400). Training
 * converts them each step into the shared cast room (they change every step). */
static fv_status forward_bf16(const fv_node *node, dense_state *d, const fv_step *s, fv_error *err) {
    void *w16 = d->w16 ? d->w16 : s->cast[FV_CAST_OTHER];
    int fresh = !d->w16 || fv_onednn_weights_changed(&d->seen, s->param[0], s->weights_version);
    if (fv_onednn_convert(&d->cast_x, s->in[0], s->cast[FV_CAST_IN], d->ctx, err) != FV_OK ||
        (fresh && fv_onednn_convert(&d->cast_w, s->param[0], w16, d->ctx, err) != FV_OK))
        return FV_ERR;
    if (fresh && d->w16) fv_onednn_weights_converted(&d->seen, s->param[0]);
    fv_onednn_bind(&d->forward, DNNL_ARG_SRC, s->cast[FV_CAST_IN]);
    fv_onednn_bind(&d->forward, DNNL_ARG_WEIGHTS, w16);
    fv_onednn_bind(&d->forward, DNNL_ARG_BIAS, node->layer.dense.use_bias ? s->param[1] : NULL);
    fv_onednn_bind(&d->forward, DNNL_ARG_DST, s->out);
    return fv_onednn_run(&d->forward, d->ctx, err);
}

/* The bias gradient from the bf16 d_out, summed in the order of the reference's
 * fv_bias_gradient (which sums the rounded values): the same floats. */
static void bias_gradient_bf16(const uint16_t *dy, size_t rows, int channels, float *db) {
    memset(db, 0, (size_t)channels * sizeof *db);
    for (size_t r = 0; r < rows; r++)
        for (int o = 0; o < channels; o++) db[o] += fv_bf16_to_float(dy[r * (size_t)channels + o]);
}

static fv_status backward_bf16(const fv_node *node, dense_state *d, const float *dy, const fv_step *s, int rows, int out, fv_error *err) {
    if (fv_onednn_convert(&d->cast_dy, dy, s->cast[FV_CAST_D_OUT], d->ctx, err) != FV_OK) return FV_ERR;
    if (node->layer.dense.use_bias) bias_gradient_bf16(s->cast[FV_CAST_D_OUT], (size_t)rows, out, s->d_param[1]);
    if (s->d_in[0]) { /* dx = dy . w^T; the cast room is shared, so w is converted again */
        if (fv_onednn_convert(&d->cast_w, s->param[0], s->cast[FV_CAST_OTHER], d->ctx, err) != FV_OK) return FV_ERR;
        fv_onednn_bind(&d->backward_data, DNNL_ARG_SRC, s->cast[FV_CAST_D_OUT]);
        fv_onednn_bind(&d->backward_data, DNNL_ARG_WEIGHTS, s->cast[FV_CAST_OTHER]);
        fv_onednn_bind(&d->backward_data, DNNL_ARG_DST, s->d_in[0]);
        if (fv_onednn_run(&d->backward_data, d->ctx, err) != FV_OK) return FV_ERR;
    }
    if (fv_onednn_convert(&d->cast_x, s->in[0], s->cast[FV_CAST_IN], d->ctx, err) != FV_OK) return FV_ERR;
    fv_onednn_bind(&d->backward_weights, DNNL_ARG_SRC, s->cast[FV_CAST_IN]); /* dw = x^T . dy */
    fv_onednn_bind(&d->backward_weights, DNNL_ARG_WEIGHTS, s->cast[FV_CAST_D_OUT]);
    fv_onednn_bind(&d->backward_weights, DNNL_ARG_DST, s->d_param[0]);
    return fv_onednn_run(&d->backward_weights, d->ctx, err);
}

static fv_status dense_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    int rows, in, out;
    dims_of(node, s->batch, &rows, &in, &out);
    const fv_dense_settings *l = &node->layer.dense;
    const float *bias = l->use_bias ? s->param[1] : NULL;
    if (state && ((dense_state *)state)->q_weights) {
        if (forward_int8(node, state, s, rows, in, out, err) != FV_OK) return FV_ERR;
    } else if (state) {
        if (forward_bf16(node, state, s, err) != FV_OK) return FV_ERR;
    } else {
        for (int r = 0; bias && r < rows; r++) memcpy(s->out + (size_t)r * out, bias, (size_t)out * sizeof(float));
        if (fv_onednn_sgemm('N', 'N', rows, out, in, s->in[0], in, s->param[0], out, bias ? 1.0f : 0.0f, s->out, out, err) != FV_OK)
            return FV_ERR;
    }
    fv_step_activate(s, l->activation, l->alpha, s->out, (size_t)rows, out);
    return FV_OK;
}

static fv_status dense_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    int rows, in, out;
    dims_of(node, s->batch, &rows, &in, &out);
    const fv_dense_settings *l = &node->layer.dense;
    const float *dy = fv_step_activation_grad(s, l->activation, l->alpha, (size_t)rows, out);
    if (state) return backward_bf16(node, state, dy, s, rows, out, err);
    if (l->use_bias) fv_bias_gradient(dy, (size_t)rows, out, s->d_param[1]);
    if (s->d_in[0] && fv_onednn_sgemm('N', 'T', rows, in, out, dy, out, s->param[0], out, 0.0f, s->d_in[0], in, err) != FV_OK)
        return FV_ERR;
    return fv_onednn_sgemm('T', 'N', in, out, rows, s->in[0], in, dy, out, 0.0f, s->d_param[0], out, err);
}

static int dense_supports(const fv_node *node, const fv_plan_options *opt) {
    /* int8 layers: forward only, in inference plans; gradients through them run the reference's */
    return !(opt->precision == FV_PRECISION_INT8 && node->layer.dense.input_scale > 0.0f && opt->mode != FV_PLAN_INFERENCE);
}

static void dense_release(void *state) {
    dense_state *d = state;
    if (!d) return;
    prim *all[] = {&d->forward, &d->backward_data, &d->backward_weights, &d->cast_x, &d->cast_w, &d->cast_dy};
    for (int i = 0; i < FV_COUNT(all); i++) fv_onednn_free_prim(all[i]);
    free(d->q_weights), free(d->output_scales), free(d->seen.copy), free(d->w16);
    free(d);
}

/* A product of the matrices a (M, K) and b (K, N) into f32, each given by its memory descriptor. */
static dnnl_status_t make_matmul(prim *p, const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b, const dnnl_memory_desc_t *bias,
                                 const dnnl_memory_desc_t *y, dnnl_ctx *ctx, char implementation[64]) {
    dnnl_matmul_desc_t md;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_matmul_desc_init(&md, a, b, bias, y);
    if (s == dnnl_success) s = fv_onednn_user_scratchpad_attr(&attr);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&pd, &md, attr, ctx->engine, NULL);
    if (s == dnnl_success) s = fv_onednn_make_prim(p, pd, ctx->engine);
    if (s == dnnl_success && implementation) fv_onednn_implementation(pd, implementation, 64);
    if (s == dnnl_success) s = fv_onednn_add_arg(p, DNNL_ARG_SRC, a, ctx->engine, NULL);
    if (s == dnnl_success) s = fv_onednn_add_arg(p, DNNL_ARG_WEIGHTS, b, ctx->engine, NULL);
    if (s == dnnl_success && bias) s = fv_onednn_add_arg(p, DNNL_ARG_BIAS, bias, ctx->engine, NULL);
    if (s == dnnl_success) s = fv_onednn_add_arg(p, DNNL_ARG_DST, y, ctx->engine, NULL);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return s;
}

static dnnl_status_t matrix(dnnl_memory_desc_t *md, dnnl_dim_t rows, dnnl_dim_t cols, dnnl_data_type_t type, int transposed) {
    dnnl_dims_t dims = {rows, cols}, strides = {cols, 1};
    if (transposed) strides[0] = 1, strides[1] = rows; /* the (cols, rows) row-major matrix, read transposed */
    return dnnl_memory_desc_init_by_strides(md, 2, dims, type, strides);
}

/* fp32: no state (sgemm); bf16: the three products and the three conversions; int8 (an
 * inference plan, a layer with an input scale): the forward product. */
static fv_status dense_plan(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err) {
    *state = NULL;
    int int8 = opt->precision == FV_PRECISION_INT8 && node->layer.dense.input_scale > 0.0f;
    if (opt->precision == FV_PRECISION_FP32 || (opt->precision == FV_PRECISION_INT8 && !int8)) return FV_OK;
    int rows, in, out;
    dims_of(node, opt->batch, &rows, &in, &out);
    dense_state *d = calloc(1, sizeof *d);
    if (!d) return fv_fail(err, "out of memory");
    d->ctx = engine;
    int small = (double)rows * in * out < ONE_THREAD_BELOW, threads = fv_onednn_limit_threads(small);
    dnnl_memory_desc_t x, x16, xt16, w, w16, wt16, y, dy16, dx, bias, x8, w8, sums;
    d->seen.count = (size_t)in * out;
    if (int8) {
        d->q_weights = malloc((size_t)in * out), d->output_scales = malloc((size_t)out * sizeof(float));
        d->seen.copy = malloc((size_t)in * out * sizeof(float));
        if (!d->q_weights || !d->output_scales || !d->seen.copy) {
            fv_fail(err, "out of memory");
            goto fail;
        }
        TRY(matrix(&x8, rows, in, dnnl_s8, 0));
        TRY(matrix(&x, rows, in, dnnl_f32, 0));
        TRY(fv_onednn_make_quantizer(&d->cast_x, &x, &x8, node->layer.dense.input_scale, d->ctx->engine));
        TRY(matrix(&w8, in, out, dnnl_s8, 0));
        TRY(matrix(&sums, rows, out, dnnl_s32, 0));
        TRY(make_matmul(&d->forward, &x8, &w8, NULL, &sums, d->ctx, d->implementation));
        fv_onednn_bind(&d->forward, DNNL_ARG_WEIGHTS, d->q_weights);
        d->forward.one_thread = d->cast_x.one_thread = small;
        goto planned;
    }
    TRY(matrix(&x, rows, in, dnnl_f32, 0));
    TRY(matrix(&x16, rows, in, dnnl_bf16, 0));
    TRY(matrix(&xt16, in, rows, dnnl_bf16, 1));
    TRY(matrix(&w, in, out, dnnl_f32, 0));
    TRY(matrix(&w16, in, out, dnnl_bf16, 0));
    TRY(matrix(&wt16, out, in, dnnl_bf16, 1));
    TRY(matrix(&y, rows, out, dnnl_f32, 0));
    TRY(matrix(&dy16, rows, out, dnnl_bf16, 0));
    TRY(matrix(&dx, rows, in, dnnl_f32, 0));
    TRY(matrix(&bias, 1, out, dnnl_f32, 0));
    TRY(make_matmul(&d->forward, &x16, &w16, node->layer.dense.use_bias ? &bias : NULL, &y, d->ctx, d->implementation));
    TRY(make_matmul(&d->backward_data, &dy16, &wt16, NULL, &dx, d->ctx, NULL));
    TRY(make_matmul(&d->backward_weights, &xt16, &dy16, NULL, &w, d->ctx, NULL));
    TRY(fv_onednn_make_reorder(&d->cast_x, &x, NULL, &x16, NULL, d->ctx->engine));
    TRY(fv_onednn_make_reorder(&d->cast_w, &w, NULL, &w16, NULL, d->ctx->engine));
    TRY(fv_onednn_make_reorder(&d->cast_dy, &y, NULL, &dy16, NULL, d->ctx->engine));
    if (opt->mode == FV_PLAN_INFERENCE && !(d->w16 = aligned_alloc(64, ((size_t)in * out * 2 + 63) / 64 * 64))) {
        fv_fail(err, "out of memory");
        goto fail;
    }
    prim *all[] = {&d->forward, &d->backward_data, &d->backward_weights, &d->cast_x, &d->cast_w, &d->cast_dy};
    for (int i = 0; i < FV_COUNT(all); i++) all[i]->one_thread = small;
planned:
    fv_onednn_restore_threads(threads);
    *state = d;
    return FV_OK;
fail:
    fv_onednn_restore_threads(threads);
    dense_release(d);
    fv_onednn_precision_unavailable(opt, err);
    return FV_ERR;
}

static const char *dense_implementation(const void *state) { return state ? ((const dense_state *)state)->implementation : "sgemm"; }

const fv_kernel fv_onednn_dense = {.kind = FV_LAYER_DENSE, .name = "onednn", .supports = dense_supports, .plan = dense_plan,
                                   .forward = dense_forward, .backward = dense_backward, .release = dense_release,
                                   .implementation = dense_implementation};
