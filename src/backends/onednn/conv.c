/* conv.c — oneDNN convolutions (1-D as 2-D with H = 1, 2-D, 3-D; grouped, dilated): x and y
 * channels-last; fovea keeps the weights HWIO, oneDNN picks its own (blocked)
 * layout for them ("any"), which is what unlocks its fastest kernels. The weights are reordered
 * into that layout at each forward (they change every step; a reorder is cheap next to the
 * convolution), and the weight gradient is reordered back to HWIO.
 *
 * In a bf16 plan the operands are bf16 (x and d_out converted by a reorder into the step's cast
 * room, the weights by their layout reorder) and everything the convolution writes is f32 (y, the
 * input and weight gradients, accumulated in f32): the reference's bf16 definition. In a bf16
 * inference plan x may already be bf16 and y may be written as bf16 (node->narrow_in/out: the
 * value passes to the next layer in bf16, plan.c). A convolution whose only reader is a residual
 * add with a bf16 other input computes that add too (node->sum, plan.c's fuse_sums): a sum
 * post-op adds what the output holds (that input's own buffer, or a copy of it), then the add's
 * ReLU.
 *
 * In an int8 inference plan a layer with an input scale runs one s8 x s8 primitive: x quantised
 * into the step's cast room from f32 or bf16 (or already s8: node->narrow_in), the weights
 * quantised per output channel and reordered, the sums scaled per channel (input scale x weight
 * scale), the bias and a ReLU fused, and y written as f32, or narrow (node->narrow_out): s8 for
 * the next convolutions, divided by their input scale, or bf16 (toward an add). oneDNN 2.6 takes
 * no run-time scales for these kernels, so the primitive is created at the first forward, and
 * again when the weights change (an inference plan's weights_version says when); planning
 * creates its descriptor once to learn the weights' layout. A convolution whose only reader is a
 * residual add with a quantised sum computes that add too (node->sum, plan.c's fuse_sums): the
 * add's other input is added by a post-op (when it is int8 a sum into the output, which is that
 * input's own buffer where planning could share it, else holds a copy of it; otherwise a binary
 * add), then the add's ReLU, and the sum is written in int8.
 * Gradients through int8 layers (inspection plans) run the reference's definition. */
#include "backends/onednn/onednn.h"

#include <stdlib.h>
#include <string.h>

typedef struct weights_copy {
    prim reorder;      /* empty when the layout is HWIO already */
    void *buffer;      /* the weights in oneDNN's layout */
    weights_seen seen; /* user->internal: the HWIO values last reordered */
} weights_copy;

typedef struct dnnl_conv {
    dnnl_ctx *ctx;
    prim forward, backward_data, backward_weights;
    prim cast_x, cast_dy; /* bf16 plans: x and d_out f32 -> bf16, into the step's cast room */
    weights_copy fwd_w, bwd_data_w, bwd_dw; /* user->internal, user->internal, internal->user */
    int bwd_data_reads_fwd_w;               /* the backward data pass takes the forward's layout */
    char implementation[64];                /* the forward primitive's */
    /* int8 plans: the weights quantised (HWIO, s8); per output channel the scale of the int32
       sums (input scale x weight scale) and the bias in their units; what the primitive is made
       of, to make it again with the scales of new weights */
    int8_t *q_weights;
    float *sum_scales, *bias_sums;
    dnnl_convolution_desc_t int8_desc;
    dnnl_memory_desc_t int8_src, int8_weights, int8_bias, int8_dst;
} dnnl_conv;

/* Plans a reorder between fovea's HWIO weights (`count` floats) and the layout `internal` a
 * primitive chose; to_user flips the direction (for the weight gradient). user may describe
 * other values than the floats (int8: the quantised weights); what is compared is the floats. */
static dnnl_status_t plan_weights_copy(weights_copy *w, dnnl_ctx *ctx, const dnnl_memory_desc_t *user,
                                       const dnnl_memory_desc_t *internal, int to_user, size_t count) {
    if (dnnl_memory_desc_equal(user, internal)) return dnnl_success;
    size_t bytes = dnnl_memory_desc_get_size(internal);
    if (!(w->buffer = aligned_alloc(64, (bytes + 63) / 64 * 64))) return dnnl_out_of_memory;
    dnnl_status_t s = to_user ? fv_onednn_make_reorder(&w->reorder, internal, w->buffer, user, NULL, ctx->engine)
                              : fv_onednn_make_reorder(&w->reorder, user, NULL, internal, w->buffer, ctx->engine);
    if (s == dnnl_success && !to_user && !(w->seen.copy = malloc((w->seen.count = count) * sizeof(float)))) s = dnnl_out_of_memory;
    return s;
}

static void free_weights_copy(weights_copy *w) {
    fv_onednn_free_prim(&w->reorder);
    free(w->buffer);
    free(w->seen.copy);
    memset(w, 0, sizeof *w);
}

/* Binds w (HWIO) to where `arg` reads weights: directly, or through the planned reorder, which
 * is skipped when they cannot have changed since the last one (fv_onednn_weights_changed). */
static fv_status bind_weights(prim *p, int arg, weights_copy *copy, const float *w, uint64_t version, dnnl_ctx *ctx,
                              fv_error *err) {
    if (copy->reorder.primitive) {
        if (!fv_onednn_weights_changed(&copy->seen, w, version)) return FV_OK;
        fv_onednn_bind(&copy->reorder, DNNL_ARG_FROM, w);
        if (fv_onednn_run(&copy->reorder, ctx, err) != FV_OK) return FV_ERR;
        fv_onednn_weights_converted(&copy->seen, w);
    } else if (!copy->buffer) {
        fv_onednn_bind(p, arg, w);
    }
    return FV_OK;
}

/* bf16 and int8 plans: v (f32) converted into the step's cast room; else v itself. */
static const void *operand(prim *cast, const float *v, void *room, dnnl_ctx *ctx, fv_error *err) {
    if (!cast->primitive) return v;
    return fv_onednn_convert(cast, v, room, ctx, err) == FV_OK ? room : NULL;
}

/* Whether the activation runs inside the convolution (a post-op) rather than after it. */
static int fuses_activation(fv_activation a) { return a == FV_ACT_RELU || a == FV_ACT_LEAKY_RELU || a == FV_ACT_RELU6; }

/* The (leaky) ReLU or ReLU6 as a post-op, in the units of what the convolution writes (`unit`
 * per float: ReLU6's ceiling scales with it). */
static dnnl_status_t append_activation(dnnl_post_ops_t post, const fv_conv_settings *l, float unit) {
    if (l->activation == FV_ACT_RELU6) return dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_clip, 0.0f, 6.0f * unit);
    return dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, l->activation == FV_ACT_LEAKY_RELU ? l->alpha : 0.0f, 0.0f);
}

/* The post-op index of a summing convolution's other input (after its fused activation). */
static int sum_post_op(const fv_node *node) { return fuses_activation(node->layer.conv.activation) ? 1 : 0; }

/* The int8 primitive's attributes: the scales of its int32 sums per output channel (sum_scales,
 * divided by narrow_scale for an s8 output; NULL: provisional, enough to learn the weights'
 * layout), and the fused activation in the units of what it writes (ReLU6's ceiling too).
 * Summing (node->sum: the add after it, plan.c's fuse_sums): an int8 other input is in the
 * output already, and a sum post-op adds it times its scale over the output's; another is added
 * by a binary post-op as it is (like `dst`, but of its own type), so the sums are scaled into
 * floats and a linear post-op after the add's ReLU scales into the output's units. */
static dnnl_status_t int8_attr(dnnl_primitive_attr_t *attr, const fv_node *node, const float *sum_scales, const dnnl_memory_desc_t *dst) {
    const fv_conv_settings *l = &node->layer.conv;
    int summing = node->sum.add > 0, binary = summing && node->sum.other_type != FV_NARROW_INT8;
    float unit = binary ? 1.0f : node->narrow_out == FV_NARROW_INT8 ? 1.0f / node->narrow_scale : 1.0f;
    float *scales = malloc((size_t)l->filters * sizeof *scales);
    dnnl_post_ops_t post = NULL;
    dnnl_status_t s = scales ? fv_onednn_user_scratchpad_attr(attr) : dnnl_out_of_memory;
    for (int k = 0; scales && k < l->filters; k++) scales[k] = (sum_scales ? sum_scales[k] : 1.0f) * unit;
    if (s == dnnl_success) s = dnnl_primitive_attr_set_output_scales(*attr, l->filters, 1 << 1, scales);
    if (s == dnnl_success && (fuses_activation(l->activation) || summing)) s = dnnl_post_ops_create(&post);
    if (s == dnnl_success && fuses_activation(l->activation)) s = append_activation(post, l, unit);
    if (s == dnnl_success && summing && !binary) {
        s = dnnl_post_ops_append_sum(post, node->sum.other_scale / node->narrow_scale);
        if (s == dnnl_success && node->sum.activation == FV_ACT_RELU) s = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    } else if (s == dnnl_success && binary) {
        dnnl_memory_desc_t md = *dst;
        md.data_type = node->sum.other_type == FV_NARROW_INT8 ? dnnl_s8 : node->sum.other_type == FV_NARROW_BF16 ? dnnl_bf16 : dnnl_f32;
        s = dnnl_post_ops_append_binary(post, dnnl_binary_add, &md);
        if (s == dnnl_success && node->sum.activation == FV_ACT_RELU) s = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (s == dnnl_success) s = dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_linear, 1.0f / node->narrow_scale, 0.0f);
    }
    if (s == dnnl_success && post) s = dnnl_primitive_attr_set_post_ops(*attr, post);
    if (post) dnnl_post_ops_destroy(post);
    free(scales);
    return s;
}

/* int8: the primitive made again with the scales of the weights just quantised. */
static fv_status remake_int8(const fv_node *node, dnnl_conv *c, fv_error *err) {
    const fv_conv_settings *l = &node->layer.conv;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_engine_t eng = c->ctx->engine;
    int threads = fv_onednn_limit_threads(c->forward.one_thread), one_thread = c->forward.one_thread;
    fv_onednn_free_prim(&c->forward);
    c->forward.one_thread = one_thread;
    TRY(int8_attr(&attr, node, c->sum_scales, &c->int8_dst));
    TRY(dnnl_primitive_desc_create(&pd, &c->int8_desc, attr, eng, NULL));
    if (!dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &c->int8_weights)) {
        fv_fail(err, "oneDNN chose another weights layout for the int8 convolution than when it was planned");
        goto fail;
    }
    TRY(fv_onednn_make_prim(&c->forward, pd, eng));
    TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_SRC, &c->int8_src, eng, NULL));
    TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_WEIGHTS, &c->int8_weights, eng, c->fwd_w.buffer ? c->fwd_w.buffer : (void *)c->q_weights));
    if (l->use_bias) TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_BIAS, &c->int8_bias, eng, c->bias_sums));
    TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_DST, &c->int8_dst, eng, NULL));
    if (node->sum.add && node->sum.other_type != FV_NARROW_INT8) { /* the binary post-op's operand */
        int arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(sum_post_op(node)) | DNNL_ARG_SRC_1;
        TRY(fv_onednn_add_arg(&c->forward, arg, dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg), eng, NULL));
    }
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    fv_onednn_restore_threads(threads);
    return FV_OK;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    fv_onednn_restore_threads(threads);
    fv_onednn_free_prim(&c->forward);
    c->fwd_w.seen.valid = 0; /* made again at the next forward */
    return FV_ERR;
}

/* int8: when the weights may have changed (as bind_weights decides), they are quantised and
 * reordered again and the primitive made with their scales; x quantised into the step's cast
 * room unless it arrives s8; the bias in the units of the int32 sums (oneDNN 2.x adds it before
 * scaling them). */
static fv_status conv_forward_int8(const fv_node *node, dnnl_conv *c, const fv_step *s, fv_error *err) {
    const fv_conv_settings *l = &node->layer.conv;
    weights_copy *w = &c->fwd_w;
    if (fv_onednn_weights_changed(&w->seen, s->param[0], s->weights_version) || !c->forward.primitive) {
        fv_quantize_weights(s->param[0], node->params[0].count, l->filters, c->q_weights, c->sum_scales);
        for (int k = 0; k < l->filters; k++) c->sum_scales[k] *= l->input_scale;
        if (w->reorder.primitive && fv_onednn_run(&w->reorder, c->ctx, err) != FV_OK) return FV_ERR;
        if (remake_int8(node, c, err) != FV_OK) return FV_ERR;
        fv_onednn_weights_converted(&w->seen, s->param[0]);
    }
    for (int k = 0; l->use_bias && k < l->filters; k++) c->bias_sums[k] = s->param[1][k] / c->sum_scales[k];
    const void *x = node->narrow_in[0] == FV_NARROW_INT8 ? s->in[0] : operand(&c->cast_x, s->in[0], s->cast[FV_CAST_IN], c->ctx, err);
    if (!x) return FV_ERR;
    fv_onednn_bind(&c->forward, DNNL_ARG_SRC, x);
    fv_onednn_bind(&c->forward, DNNL_ARG_DST, s->out); /* summing: the add's output */
    if (node->sum.add && node->sum.other_type == FV_NARROW_INT8 && s->out != s->in[1])
        memcpy(s->out, s->in[1], (size_t)s->batch * fv_shape_count(node->out_shape));
    if (node->sum.add && node->sum.other_type != FV_NARROW_INT8)
        fv_onednn_bind(&c->forward, DNNL_ARG_ATTR_MULTIPLE_POST_OP(sum_post_op(node)) | DNNL_ARG_SRC_1, s->in[1]);
    if (fv_onednn_run(&c->forward, c->ctx, err) != FV_OK) return FV_ERR;
    if (!fuses_activation(l->activation))
        fv_step_activate(s, l->activation, l->alpha, s->out, (size_t)s->batch * fv_shape_count(node->out_shape) / (size_t)l->filters,
                         l->filters);
    return FV_OK;
}

/* x (N, [D, H,] W, Cin) -> y: the convolution, with a (leaky) ReLU or ReLU6 fused in; other activations
 * run after it, as in the reference. */
static fv_status conv_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    dnnl_conv *c = state;
    const fv_conv_settings *l = &node->layer.conv;
    if (c->q_weights) return conv_forward_int8(node, c, s, err);
    if (bind_weights(&c->forward, DNNL_ARG_WEIGHTS, &c->fwd_w, s->param[0], s->weights_version, c->ctx, err) != FV_OK) return FV_ERR;
    const void *x = node->narrow_in[0] ? s->in[0] : operand(&c->cast_x, s->in[0], s->cast[FV_CAST_IN], c->ctx, err);
    if (!x) return FV_ERR;
    fv_onednn_bind(&c->forward, DNNL_ARG_SRC, x);
    fv_onednn_bind(&c->forward, DNNL_ARG_BIAS, l->use_bias ? s->param[1] : NULL);
    if (node->sum.add && s->out != s->in[1]) /* summing into the output: it starts as the other input */
        memcpy(s->out, s->in[1], (size_t)s->batch * fv_shape_count(node->out_shape) * sizeof(uint16_t));
    fv_onednn_bind(&c->forward, DNNL_ARG_DST, s->out);
    if (fv_onednn_run(&c->forward, c->ctx, err) != FV_OK) return FV_ERR;
    if (!fuses_activation(l->activation)) {
        int channels = l->filters;
        fv_step_activate(s, l->activation, l->alpha, s->out, (size_t)s->batch * fv_shape_count(node->out_shape) / (size_t)channels, channels);
    }
    return FV_OK;
}

static fv_status conv_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    dnnl_conv *c = state;
    const fv_conv_settings *l = &node->layer.conv;
    int channels = l->filters;
    const void *dy = fv_step_activation_grad(s, l->activation, l->alpha, (size_t)s->batch * fv_shape_count(node->out_shape) / (size_t)channels, channels);
    if (!(dy = operand(&c->cast_dy, dy, s->cast[FV_CAST_D_OUT], c->ctx, err))) return FV_ERR;
    if (s->d_in[0]) {
        if (c->bwd_data_w.reorder.primitive) {
            if (bind_weights(&c->backward_data, DNNL_ARG_WEIGHTS, &c->bwd_data_w, s->param[0], 0, c->ctx, err) != FV_OK) return FV_ERR;
        } else if (!c->bwd_data_reads_fwd_w || !c->fwd_w.buffer) { /* HWIO itself */
            fv_onednn_bind(&c->backward_data, DNNL_ARG_WEIGHTS, s->param[0]);
        } /* else the forward pass already put these weights in its layout, which this one reads */
        fv_onednn_bind(&c->backward_data, DNNL_ARG_DIFF_DST, dy);
        fv_onednn_bind(&c->backward_data, DNNL_ARG_DIFF_SRC, s->d_in[0]);
        if (fv_onednn_run(&c->backward_data, c->ctx, err) != FV_OK) return FV_ERR;
    }
    const void *x = operand(&c->cast_x, s->in[0], s->cast[FV_CAST_IN], c->ctx, err); /* the room is shared: again */
    if (!x) return FV_ERR;
    fv_onednn_bind(&c->backward_weights, DNNL_ARG_SRC, x);
    fv_onednn_bind(&c->backward_weights, DNNL_ARG_DIFF_DST, dy);
    fv_onednn_bind(&c->backward_weights, DNNL_ARG_DIFF_BIAS, l->use_bias ? s->d_param[1] : NULL);
    if (!c->bwd_dw.reorder.primitive) {
        fv_onednn_bind(&c->backward_weights, DNNL_ARG_DIFF_WEIGHTS, s->d_param[0]);
        return fv_onednn_run(&c->backward_weights, c->ctx, err);
    }
    if (fv_onednn_run(&c->backward_weights, c->ctx, err) != FV_OK) return FV_ERR;
    fv_onednn_bind(&c->bwd_dw.reorder, DNNL_ARG_TO, s->d_param[0]);
    return fv_onednn_run(&c->bwd_dw.reorder, c->ctx, err);
}

static void conv_release(void *state) {
    dnnl_conv *c = state;
    if (!c) return;
    fv_onednn_free_prim(&c->forward);
    fv_onednn_free_prim(&c->backward_data);
    fv_onednn_free_prim(&c->backward_weights);
    fv_onednn_free_prim(&c->cast_x);
    fv_onednn_free_prim(&c->cast_dy);
    free_weights_copy(&c->fwd_w);
    free_weights_copy(&c->bwd_data_w);
    free_weights_copy(&c->bwd_dw);
    free(c->q_weights);
    free(c->sum_scales);
    free(c->bias_sums);
    free(c);
}


/* fovea's weights (KD, KH, KW, Cin/G, Cout) as oneDNN's logical (G, Cout/G, Cin/G, KD, KH, KW)
 * (no G when ungrouped; no KD/KH for fewer axes), by strides: output channel g*Cout/G + o. */
static dnnl_status_t user_weights(dnnl_memory_desc_t *md, const fv_window_geometry *g, int axes, dnnl_data_type_t type) {
    dnnl_dims_t dims, strides;
    int r = 0, cig = g->c_in / g->groups, cog = g->c_out / g->groups;
    dnnl_dim_t tap = (dnnl_dim_t)cig * g->c_out; /* one kernel tap's (Cin/G, Cout) matrix */
    if (g->groups > 1) dims[r] = g->groups, strides[r++] = cog;
    dims[r] = cog, strides[r++] = 1;
    dims[r] = cig, strides[r++] = g->c_out;
    dnnl_dim_t stride = tap;
    for (int t = 2; t >= 3 - axes; t--) strides[r + t - (3 - axes)] = stride, stride *= g->k[t];
    for (int t = 3 - axes; t < 3; t++) dims[r++] = g->k[t];
    return dnnl_memory_desc_init_by_strides(md, r, dims, type, strides);
}

/* The int8 forward (see the top of this file): its descriptor and memory descriptors, the
 * weights' layout learnt from a primitive descriptor with provisional scales, the quantiser of x
 * (none when x arrives s8) and the weights' reorder; the primitive itself waits for the weights. */
static dnnl_status_t plan_int8(dnnl_conv *c, const fv_node *node, const fv_window_geometry *g, int axes, int nd, const dnnl_dims_t sd,
                               const dnnl_dims_t dd, dnnl_format_tag_t tag, const dnnl_dims_t strides, const dnnl_dims_t dil,
                               const dnnl_dims_t pad_l, const dnnl_dims_t pad_r) {
    const fv_conv_settings *l = &node->layer.conv;
    dnnl_engine_t eng = c->ctx->engine;
    size_t n = node->params[0].count;
    dnnl_dims_t bd = {g->c_out};
    dnnl_memory_desc_t src, w8, w8any;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t s = user_weights(&w8, g, axes, dnnl_s8);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&c->int8_src, nd, sd, dnnl_s8, tag);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&src, nd, sd, node->narrow_in[0] == FV_NARROW_BF16 ? dnnl_bf16 : dnnl_f32, tag);
    if (s == dnnl_success && node->narrow_in[0] != FV_NARROW_INT8)
        s = fv_onednn_make_quantizer(&c->cast_x, &src, &c->int8_src, l->input_scale, eng);
    dnnl_data_type_t y = node->narrow_out == FV_NARROW_INT8 ? dnnl_s8 : node->narrow_out == FV_NARROW_BF16 ? dnnl_bf16 : dnnl_f32;
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&c->int8_dst, nd, dd, y, tag);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&c->int8_bias, 1, bd, dnnl_f32, dnnl_x);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&w8any, w8.ndims, w8.dims, dnnl_s8, dnnl_format_tag_any);
    if (s == dnnl_success)
        s = dnnl_dilated_convolution_forward_desc_init(&c->int8_desc, dnnl_forward_inference, dnnl_convolution_direct, &c->int8_src, &w8any,
                                                       l->use_bias ? &c->int8_bias : NULL, &c->int8_dst, strides, dil, pad_l, pad_r);
    if (s == dnnl_success) s = int8_attr(&attr, node, NULL, &c->int8_dst);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&pd, &c->int8_desc, attr, eng, NULL);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return s;
    fv_onednn_implementation(pd, c->implementation, sizeof c->implementation);
    c->int8_weights = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_desc_destroy(pd);
    c->q_weights = malloc(n);
    c->sum_scales = malloc((size_t)l->filters * sizeof(float)), c->bias_sums = malloc((size_t)l->filters * sizeof(float));
    s = c->q_weights && c->sum_scales && c->bias_sums ? plan_weights_copy(&c->fwd_w, c->ctx, &w8, &c->int8_weights, 0, n) : dnnl_out_of_memory;
    /* the cache compares the float weights, also when no reorder is needed */
    if (s == dnnl_success && !c->fwd_w.seen.copy && !(c->fwd_w.seen.copy = malloc((c->fwd_w.seen.count = n) * sizeof(float))))
        s = dnnl_out_of_memory;
    if (s == dnnl_success && c->fwd_w.reorder.primitive) fv_onednn_bind(&c->fwd_w.reorder, DNNL_ARG_FROM, c->q_weights);
    return s;
}

/* A 2-D (1-D convolutions too, as H = 1) or 3-D convolution in oneDNN's terms. */
static fv_status conv_plan(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err) {
    int batch = opt->batch;
    dnnl_ctx *ctx = engine;
    const fv_conv_settings *l = &node->layer.conv;
    fv_window_geometry geo;
    int spatial = node->layer.kind == FV_LAYER_CONV3D ? 3 : node->layer.kind == FV_LAYER_CONV1D ? 1 : 2;
    if (fv_conv_geometry(l, spatial, node->in_shape[0], batch, &geo, err) != FV_OK) return FV_ERR;
    const fv_window_geometry *g = &geo;
    int axes = spatial == 3 ? 3 : 2, nd = axes + 2; /* a 1-D convolution runs as 2-D with H = 1 */
    dnnl_conv *c = calloc(1, sizeof *c);
    dnnl_primitive_attr_t attr = NULL, fused = NULL;
    dnnl_post_ops_t post = NULL;
    dnnl_primitive_desc_t fwd_pd = NULL, bd_pd = NULL, bw_pd = NULL;
    if (!c) return fv_fail(err, "out of memory");
    c->ctx = ctx;
    double macs = (double)g->n * g->out[0] * g->out[1] * g->out[2] * g->c_out * g->k[0] * g->k[1] * g->k[2] * (g->c_in / g->groups);
    int small = macs < ONE_THREAD_BELOW;
    int threads = fv_onednn_limit_threads(small);
    /* bf16 plans: the operands (x, weights, d_out) bf16, what is written (y, dx, dw) f32 */
    dnnl_data_type_t op_type = opt->precision == FV_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t src, wts, any, bias, dst, src_op, dst_op, dw_any;
    dnnl_dims_t sd = {g->n, g->c_in}, dd = {g->n, g->c_out}, wd, bd = {g->c_out}, strides, dil, pad_l, pad_r;
    for (int t = 3 - axes, a = 0; t < 3; t++, a++) {
        sd[2 + a] = g->in[t], dd[2 + a] = g->out[t];
        strides[a] = g->s[t], dil[a] = g->d[t] - 1, pad_l[a] = g->pad_before[t], pad_r[a] = g->pad_after[t];
    }
    dnnl_format_tag_t act_tag = axes == 3 ? dnnl_ndhwc : dnnl_nhwc;
    TRY(dnnl_memory_desc_init_by_tag(&src, nd, sd, dnnl_f32, act_tag));
    TRY(user_weights(&wts, g, axes, dnnl_f32));
    memcpy(wd, wts.dims, sizeof wd);
    TRY(dnnl_memory_desc_init_by_tag(&any, wts.ndims, wd, op_type, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&dw_any, wts.ndims, wd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&bias, 1, bd, dnnl_f32, dnnl_x));
    TRY(dnnl_memory_desc_init_by_tag(&dst, nd, dd, dnnl_f32, act_tag));
    TRY(dnnl_memory_desc_init_by_tag(&src_op, nd, sd, op_type, act_tag));
    TRY(dnnl_memory_desc_init_by_tag(&dst_op, nd, dd, op_type, act_tag));
    if (op_type != dnnl_f32) {
        TRY(fv_onednn_make_reorder(&c->cast_x, &src, NULL, &src_op, NULL, ctx->engine));
        TRY(fv_onednn_make_reorder(&c->cast_dy, &dst, NULL, &dst_op, NULL, ctx->engine));
    }
    TRY(fv_onednn_user_scratchpad_attr(&attr));

    dnnl_convolution_desc_t fd, bdd, bwd;
    /* a narrow output (bf16 inference plans, plan.c) is written as bf16 for the next layer */
    const dnnl_memory_desc_t *fwd_dst = node->narrow_out ? &dst_op : &dst;
    TRY(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src_op, &any,
                                                   l->use_bias ? &bias : NULL, fwd_dst, strides, dil, pad_l, pad_r));
    if (fuses_activation(l->activation) || node->sum.add) { /* the (leaky) ReLU or ReLU6, and the add after it, inside the convolution */
        TRY(dnnl_primitive_attr_create(&fused));
        TRY(dnnl_primitive_attr_set_scratchpad_mode(fused, dnnl_scratchpad_mode_user));
        TRY(dnnl_post_ops_create(&post));
        if (fuses_activation(l->activation)) TRY(append_activation(post, l, 1.0f));
        if (node->sum.add && opt->precision == FV_PRECISION_BF16) { /* bf16 inference: the add's other input is in the output */
            TRY(dnnl_post_ops_append_sum(post, 1.0f));
            if (node->sum.activation == FV_ACT_RELU) TRY(dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
        }
        TRY(dnnl_primitive_attr_set_post_ops(fused, post));
    }
    if (opt->precision == FV_PRECISION_INT8 && l->input_scale > 0.0f) { /* inference only (conv_supports) */
        TRY(plan_int8(c, node, g, axes, nd, sd, dd, act_tag, strides, dil, pad_l, pad_r));
        c->forward.one_thread = c->fwd_w.reorder.one_thread = c->cast_x.one_thread = small;
        goto done;
    }
    TRY(dnnl_primitive_desc_create(&fwd_pd, &fd, fused ? fused : attr, ctx->engine, NULL));
    fv_onednn_implementation(fwd_pd, c->implementation, sizeof c->implementation);
    const dnnl_memory_desc_t *fwd_w = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0);
    TRY(plan_weights_copy(&c->fwd_w, ctx, &wts, fwd_w, 0, node->params[0].count));
    TRY(fv_onednn_make_prim(&c->forward, fwd_pd, ctx->engine));
    TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_SRC, &src_op, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_WEIGHTS, fwd_w, ctx->engine, c->fwd_w.buffer));
    if (l->use_bias) TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_BIAS, &bias, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&c->forward, DNNL_ARG_DST, fwd_dst, ctx->engine, NULL));
    c->forward.one_thread = c->fwd_w.reorder.one_thread = c->cast_x.one_thread = c->cast_dy.one_thread = small;
    if (opt->mode == FV_PLAN_INFERENCE) goto done; /* no gradients: no backward primitives */

    TRY(dnnl_dilated_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &src, &any, &dst_op, strides, dil,
                                                         pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&bd_pd, &bdd, attr, ctx->engine, fwd_pd));
    const dnnl_memory_desc_t *bd_w = dnnl_primitive_desc_query_md(bd_pd, dnnl_query_weights_md, 0);
    /* Its own copy, the forward's, or HWIO itself: a backward layout that is HWIO while the
       forward's is not (AVX2 picks gemm for a strided backward, jit for its forward) reads the
       user's weights, not the forward's copy */
    c->bwd_data_reads_fwd_w = dnnl_memory_desc_equal(bd_w, fwd_w);
    if (!c->bwd_data_reads_fwd_w) TRY(plan_weights_copy(&c->bwd_data_w, ctx, &wts, bd_w, 0, node->params[0].count));
    TRY(fv_onednn_make_prim(&c->backward_data, bd_pd, ctx->engine));
    TRY(fv_onednn_add_arg(&c->backward_data, DNNL_ARG_DIFF_DST, &dst_op, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&c->backward_data, DNNL_ARG_WEIGHTS, bd_w, ctx->engine,
                c->bwd_data_w.buffer ? c->bwd_data_w.buffer : c->bwd_data_reads_fwd_w ? c->fwd_w.buffer : NULL));
    TRY(fv_onednn_add_arg(&c->backward_data, DNNL_ARG_DIFF_SRC, &src, ctx->engine, NULL));

    TRY(dnnl_dilated_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &src_op, &dw_any,
                                                            l->use_bias ? &bias : NULL, &dst_op, strides, dil, pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&bw_pd, &bwd, attr, ctx->engine, fwd_pd));
    const dnnl_memory_desc_t *bw_dw = dnnl_primitive_desc_query_md(bw_pd, dnnl_query_diff_weights_md, 0);
    TRY(plan_weights_copy(&c->bwd_dw, ctx, &wts, bw_dw, 1, node->params[0].count));
    TRY(fv_onednn_make_prim(&c->backward_weights, bw_pd, ctx->engine));
    TRY(fv_onednn_add_arg(&c->backward_weights, DNNL_ARG_SRC, &src_op, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&c->backward_weights, DNNL_ARG_DIFF_DST, &dst_op, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&c->backward_weights, DNNL_ARG_DIFF_WEIGHTS, bw_dw, ctx->engine, c->bwd_dw.buffer));
    if (l->use_bias) TRY(fv_onednn_add_arg(&c->backward_weights, DNNL_ARG_DIFF_BIAS, &bias, ctx->engine, NULL));

    c->backward_data.one_thread = c->backward_weights.one_thread = small;
    c->bwd_data_w.reorder.one_thread = c->bwd_dw.reorder.one_thread = small;
done:
    if (fwd_pd) dnnl_primitive_desc_destroy(fwd_pd);
    if (bd_pd) dnnl_primitive_desc_destroy(bd_pd);
    if (bw_pd) dnnl_primitive_desc_destroy(bw_pd);
    dnnl_primitive_attr_destroy(attr);
    if (fused) dnnl_primitive_attr_destroy(fused);
    if (post) dnnl_post_ops_destroy(post);
    fv_onednn_restore_threads(threads);
    *state = c;
    return FV_OK;
fail:
    fv_onednn_restore_threads(threads);
    if (fused) dnnl_primitive_attr_destroy(fused);
    if (post) dnnl_post_ops_destroy(post);
    if (fwd_pd) dnnl_primitive_desc_destroy(fwd_pd);
    if (bd_pd) dnnl_primitive_desc_destroy(bd_pd);
    if (bw_pd) dnnl_primitive_desc_destroy(bw_pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    conv_release(c);
    fv_onednn_precision_unavailable(opt, err);
    return FV_ERR;
}

/* Dilated and strided at once, oneDNN 2.7's backward-data result here disagrees with PyTorch and
 * with the reference (relative error ~1 in tests/test_ops.c, every such case tried): those
 * layers run the reference kernel instead. */
static int conv_supports(const fv_node *node, const fv_plan_options *opt) {
    const fv_conv_settings *c = &node->layer.conv;
    /* int8 layers: forward only, in inference plans; gradients through them run the reference's */
    if (opt->precision == FV_PRECISION_INT8 && c->input_scale > 0.0f && opt->mode != FV_PLAN_INFERENCE) return 0;
    for (int a = 0; a < FV_MAX_SPATIAL; a++)
        for (int b = 0; b < FV_MAX_SPATIAL; b++)
            if (c->dilation[a] > 1 && c->stride[b] > 1) return 0;
    return 1;
}

static const char *conv_implementation(const void *state) { return ((const dnnl_conv *)state)->implementation; }

/* An add after it (fuse_sums), when its own activation, if any, is fused; in int8 plans when it
 * is quantised. */
static int conv_sums(const fv_node *node, fv_precision precision, fv_activation activation) {
    fv_activation a = node->layer.conv.activation;
    return (precision == FV_PRECISION_BF16 || node->layer.conv.input_scale > 0.0f) && (a == FV_ACT_LINEAR || fuses_activation(a)) &&
           (activation == FV_ACT_LINEAR || activation == FV_ACT_RELU);
}

/* Inference plans: x may arrive narrow (bf16: it is converted to that anyway; in int8 plans also
 * int8, quantised with this layer's input scale); y may leave narrow when nothing runs after the
 * convolution (no activation, or one fused into it). In int8 plans only a quantised layer reads
 * or writes narrow values: int8 or bf16. */
static int conv_narrow(const fv_node *node, fv_precision precision, int slot) {
    fv_activation a = node->layer.conv.activation;
    int types = precision == FV_PRECISION_BF16 ? FV_NARROW_BF16 : node->layer.conv.input_scale > 0.0f ? FV_NARROW_INT8 | FV_NARROW_BF16 : 0;
    return fv_onednn_narrow_types(slot == 0 || a == FV_ACT_LINEAR || fuses_activation(a) ? types : 0);
}

#define CONV_KERNEL(k)                                                                                                 \
    {.kind = k, .name = "onednn", .supports = conv_supports, .plan = conv_plan, .forward = conv_forward, .backward = conv_backward, \
     .release = conv_release, .implementation = conv_implementation, .narrow = conv_narrow, .sums = conv_sums}
const fv_kernel fv_onednn_conv1d = CONV_KERNEL(FV_LAYER_CONV1D);
const fv_kernel fv_onednn_conv2d = CONV_KERNEL(FV_LAYER_CONV2D);
const fv_kernel fv_onednn_conv3d = CONV_KERNEL(FV_LAYER_CONV3D);
