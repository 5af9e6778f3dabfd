/* add.c — the residual add of a bf16 or int8 inference plan as oneDNN's binary primitive,
 * y = f(a + b) with a ReLU fused, each of a, b and y f32 or bf16 as the plan keeps them
 * (node->narrow_in/out, plan.c). It lets a residual network's values stay bf16 from convolution
 * to convolution: in ResNet50 the reference add between them had every block's output converted
 * to bf16 again before its next convolution. Elementwise: the batch is one axis and each
 * sample's values the other.
 * Mostly the convolution before it computes it (node->summed_by, plan.c's fuse_sums), and the
 * add's own step does nothing: in bf16 plans where its other input is bf16; in int8 plans where
 * it has an output scale (its sum quantised, fv_net_quantize_sums), writing the sum in int8. An
 * int8 sum no convolution computes runs as a loop (mixed_add).
 * Training, inspection and fp32 plans keep the reference add (supports() says so). */
#include "backends/onednn/onednn.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct dnnl_add {
    dnnl_ctx *ctx;
    prim forward; /* all three of one type; else (no primitive) mixed_add */
} dnnl_add;

/* A value read as a float, from floats, bf16s or int8s (times their scale). */
static inline float value_at(const void *v, int narrow, float scale, size_t k) {
    return narrow == FV_NARROW_BF16 ? fv_bf16_to_float(((const uint16_t *)v)[k])
           : narrow == FV_NARROW_INT8 ? scale * (float)((const int8_t *)v)[k] : ((const float *)v)[k];
}

/* The types mixed (a block's last add, read as floats by the reference's global pooling), or a
 * sum quantised that no convolution computes (plan.c's fuse_sums): oneDNN 2.6 has only its
 * reference binary for mixed types, 57 ms for ResNet50's 16 x 7 x 7 x 2048 against 0.2 in one
 * type; this loop is memory-bound like the primitive. The quantisation is the reference's
 * (fv_quantize_int8), written as int8 or as its value. */
static void mixed_add(const fv_node *node, const fv_step *s) {
    size_t n = (size_t)s->batch * fv_shape_count(node->out_shape);
    int relu = node->layer.add.activation == FV_ACT_RELU, na = node->narrow_in[0], nb = node->narrow_in[1], ny = node->narrow_out;
    float sa = node->narrow_in_scale[0], sb = node->narrow_in_scale[1], scale = node->layer.add.output_scale;
    float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    const void *a = s->in[0], *b = s->in[1];
    void *y = s->out;
#pragma omp parallel for if (n > 32768)
    for (size_t k = 0; k < n; k++) {
        float v = value_at(a, na, sa, k) + value_at(b, nb, sb, k);
        v = relu && v < 0.0f ? 0.0f : v;
        if (scale > 0.0f) {
            float q = fv_quantize_int8(v, inv);
            if (ny == FV_NARROW_INT8) {
                ((int8_t *)y)[k] = (int8_t)q;
                continue;
            }
            v = scale * q;
        }
        if (ny == FV_NARROW_BF16) ((uint16_t *)y)[k] = fv_float_to_bf16(v);
        else ((float *)y)[k] = v;
    }
}

static int add_supports(const fv_node *node, const fv_plan_options *opt) {
    fv_activation a = node->layer.add.activation;
    return opt->mode == FV_PLAN_INFERENCE && opt->precision != FV_PRECISION_FP32 && node->n_inputs == 2 &&
           (a == FV_ACT_LINEAR || a == FV_ACT_RELU);
}

static void add_release(void *state) {
    dnnl_add *d = state;
    if (!d) return;
    fv_onednn_free_prim(&d->forward);
    free(d);
}

static fv_status add_plan(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err) {
    dnnl_ctx *ctx = engine;
    dnnl_add *d = calloc(1, sizeof *d);
    if (!d) return fv_fail(err, "out of memory");
    d->ctx = ctx;
    if (node->summed_by || node->narrow_in[0] != node->narrow_out || node->narrow_in[1] != node->narrow_out ||
        node->layer.add.output_scale > 0.0f) /* (an int8 output has one) */
        return *state = d, FV_OK; /* summed by its convolution, or mixed_add */
    size_t per = fv_shape_count(node->out_shape);
    int small = (double)opt->batch * (double)per < ONE_THREAD_BELOW / 16; /* memory-bound, as pooling */
    int threads = fv_onednn_limit_threads(small);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t a, b, y;
    dnnl_dims_t dims = {opt->batch, (dnnl_dim_t)per};
    TRY(dnnl_memory_desc_init_by_tag(&a, 2, dims, node->narrow_in[0] ? dnnl_bf16 : dnnl_f32, dnnl_ab));
    TRY(dnnl_memory_desc_init_by_tag(&b, 2, dims, node->narrow_in[1] ? dnnl_bf16 : dnnl_f32, dnnl_ab));
    TRY(dnnl_memory_desc_init_by_tag(&y, 2, dims, node->narrow_out ? dnnl_bf16 : dnnl_f32, dnnl_ab));
    TRY(fv_onednn_user_scratchpad_attr(&attr));
    if (node->layer.add.activation == FV_ACT_RELU) {
        TRY(dnnl_post_ops_create(&post));
        TRY(dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
        TRY(dnnl_primitive_attr_set_post_ops(attr, post));
    }
    dnnl_binary_desc_t desc;
    TRY(dnnl_binary_desc_init(&desc, dnnl_binary_add, &a, &b, &y));
    TRY(dnnl_primitive_desc_create(&pd, &desc, attr, ctx->engine, NULL));
    TRY(fv_onednn_make_prim(&d->forward, pd, ctx->engine));
    TRY(fv_onednn_add_arg(&d->forward, DNNL_ARG_SRC_0, &a, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&d->forward, DNNL_ARG_SRC_1, &b, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&d->forward, DNNL_ARG_DST, &y, ctx->engine, NULL));
    d->forward.one_thread = small;
    dnnl_primitive_desc_destroy(pd);
    dnnl_post_ops_destroy(post);
    dnnl_primitive_attr_destroy(attr);
    fv_onednn_restore_threads(threads);
    *state = d;
    return FV_OK;
fail:
    fv_onednn_restore_threads(threads);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (post) dnnl_post_ops_destroy(post);
    if (attr) dnnl_primitive_attr_destroy(attr);
    add_release(d);
    return fv_onednn_precision_unavailable(opt, err);
}

/* a, b (N, S) -> y (N, S) */
static fv_status add_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    dnnl_add *d = state;
    if (node->summed_by) return FV_OK; /* its convolution wrote the sum */
    if (!d->forward.primitive) return mixed_add(node, s), FV_OK;
    fv_onednn_bind(&d->forward, DNNL_ARG_SRC_0, s->in[0]);
    fv_onednn_bind(&d->forward, DNNL_ARG_SRC_1, s->in[1]);
    fv_onednn_bind(&d->forward, DNNL_ARG_DST, s->out);
    return fv_onednn_run(&d->forward, d->ctx, err);
}

static fv_status add_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    (void)state, (void)s;
    return fv_fail(err, "layer '%s': the oneDNN add runs in inference plans only", node->name);
}

/* bf16 in and out; in int8 plans, int8 inputs (an add's quantised sum), and an int8 output when
 * the sum has an output scale. */
static int add_narrow(const fv_node *node, fv_precision precision, int slot) {
    if (precision != FV_PRECISION_INT8) return fv_onednn_narrow_types(FV_NARROW_BF16);
    return fv_onednn_narrow_types(slot >= 0 || node->layer.add.output_scale > 0.0f ? FV_NARROW_BF16 | FV_NARROW_INT8 : FV_NARROW_BF16);
}

const fv_kernel fv_onednn_add = {.kind = FV_LAYER_ADD, .name = "onednn", .supports = add_supports, .plan = add_plan,
                                 .forward = add_forward, .backward = add_backward, .release = add_release, .narrow = add_narrow,
                                 .summed = 1};
