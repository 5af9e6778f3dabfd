/* batchnorm.c — oneDNN batch normalisation over (rows, channels), viewed as NHWC with N = rows,
 * H = W = 1. The moving statistics are updated by the layer's own code, shared with the
 * reference (fv_batchnorm_update_moving). */
#include "backends/onednn/onednn.h"

#include <stdlib.h>
#include <string.h>

enum { GAMMA, BETA, MOVING_MEAN, MOVING_VAR };

typedef struct dnnl_bnorm {
    dnnl_ctx *ctx;
    prim train, infer, backward_train, backward_infer;
} dnnl_bnorm;

static dnnl_status_t bnorm_prim(prim *p, dnnl_ctx *ctx, dnnl_primitive_attr_t attr, int backward, int global_stats,
                                const dnnl_memory_desc_t *data, const dnnl_memory_desc_t *chan, float eps,
                                dnnl_primitive_desc_t hint, dnnl_primitive_desc_t *pd_out) {
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (global_stats ? dnnl_use_global_stats : 0);
    dnnl_batch_normalization_desc_t d;
    dnnl_status_t s = backward
        ? dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, data, data, eps, flags)
        : dnnl_batch_normalization_forward_desc_init(&d, global_stats ? dnnl_forward_inference : dnnl_forward_training,
                                                     data, eps, flags);
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&pd, &d, attr, ctx->engine, hint);
    if (s == dnnl_success) s = fv_onednn_make_prim(p, pd, ctx->engine);
    const int data_args[] = {DNNL_ARG_SRC, backward ? DNNL_ARG_DIFF_SRC : DNNL_ARG_DST, DNNL_ARG_DIFF_DST};
    const int chan_args[] = {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE,
                             DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT};
    for (int i = 0; i < (backward ? 3 : 2) && s == dnnl_success; i++) s = fv_onednn_add_arg(p, data_args[i], data, ctx->engine, NULL);
    for (int i = 0; i < (backward ? 6 : 4) && s == dnnl_success; i++) s = fv_onednn_add_arg(p, chan_args[i], chan, ctx->engine, NULL);
    if (pd_out && s == dnnl_success) *pd_out = pd;
    else if (pd) dnnl_primitive_desc_destroy(pd);
    return s;
}

static void bn_release(void *state) {
    dnnl_bnorm *b = state;
    if (!b) return;
    fv_onednn_free_prim(&b->train);
    fv_onednn_free_prim(&b->infer);
    fv_onednn_free_prim(&b->backward_train);
    fv_onednn_free_prim(&b->backward_infer);
    free(b);
}

static fv_status bn_plan(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err) {
    int batch = opt->batch;
    dnnl_ctx *ctx = engine;
    const fv_shape *shape = &node->out_shape;
    int channels = shape->dim[shape->rank - 1];
    int rows = (int)((size_t)batch * fv_shape_count(*shape) / (size_t)channels);
    float epsilon = node->layer.batchnorm.epsilon;
    dnnl_bnorm *b = calloc(1, sizeof *b);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t train_pd = NULL, infer_pd = NULL;
    if (!b) return fv_fail(err, "out of memory");
    b->ctx = ctx;
    int small = (double)rows * channels * 8.0 < ONE_THREAD_BELOW;
    int threads = fv_onednn_limit_threads(small);
    dnnl_memory_desc_t data, chan;
    dnnl_dims_t dd = {rows, channels, 1, 1}, cd = {channels};
    TRY(dnnl_memory_desc_init_by_tag(&data, 4, dd, dnnl_f32, dnnl_nhwc));
    TRY(dnnl_memory_desc_init_by_tag(&chan, 1, cd, dnnl_f32, dnnl_x));
    TRY(fv_onednn_user_scratchpad_attr(&attr));
    TRY(bnorm_prim(&b->train, ctx, attr, 0, 0, &data, &chan, epsilon, NULL, &train_pd));
    TRY(bnorm_prim(&b->infer, ctx, attr, 0, 1, &data, &chan, epsilon, NULL, &infer_pd));
    TRY(bnorm_prim(&b->backward_train, ctx, attr, 1, 0, &data, &chan, epsilon, train_pd, NULL));
    TRY(bnorm_prim(&b->backward_infer, ctx, attr, 1, 1, &data, &chan, epsilon, infer_pd, NULL));
    b->train.one_thread = b->infer.one_thread = b->backward_train.one_thread = b->backward_infer.one_thread = small;
    dnnl_primitive_desc_destroy(train_pd);
    dnnl_primitive_desc_destroy(infer_pd);
    dnnl_primitive_attr_destroy(attr);
    fv_onednn_restore_threads(threads);
    *state = b;
    return FV_OK;
fail:
    fv_onednn_restore_threads(threads);
    if (train_pd) dnnl_primitive_desc_destroy(train_pd);
    if (infer_pd) dnnl_primitive_desc_destroy(infer_pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    bn_release(b);
    return FV_ERR;
}

/* What both directions read: x, gamma, beta and the statistics in use. */
static void bind_common(prim *p, const fv_step *s, const float *mean, const float *variance) {
    fv_onednn_bind(p, DNNL_ARG_SRC, s->in[0]);
    fv_onednn_bind(p, DNNL_ARG_SCALE, s->param[GAMMA]);
    fv_onednn_bind(p, DNNL_ARG_SHIFT, s->param[BETA]);
    fv_onednn_bind(p, DNNL_ARG_MEAN, mean);
    fv_onednn_bind(p, DNNL_ARG_VARIANCE, variance);
}

/* x (N, ..., C) -> y; training: the batch statistics land in scratch (mean, variance) and are
 * folded into the moving ones; inference: the moving statistics are used. */
static fv_status bn_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    dnnl_bnorm *b = state;
    int c = node->out_shape.dim[node->out_shape.rank - 1];
    float *mean = s->scratch, *variance = mean + c;
    if (!s->training) {
        memcpy(mean, s->param[MOVING_MEAN], (size_t)c * sizeof *mean);
        memcpy(variance, s->param[MOVING_VAR], (size_t)c * sizeof *variance);
    }
    prim *p = s->training ? &b->train : &b->infer;
    bind_common(p, s, mean, variance);
    fv_onednn_bind(p, DNNL_ARG_DST, s->out);
    if (fv_onednn_run(p, b->ctx, err) != FV_OK) return FV_ERR;
    if (s->training) fv_batchnorm_update_moving(node, s);
    return FV_OK;
}

static fv_status bn_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    dnnl_bnorm *b = state;
    int c = node->out_shape.dim[node->out_shape.rank - 1];
    const float *mean = s->training ? s->scratch : s->param[MOVING_MEAN];
    const float *variance = s->training ? (const float *)s->scratch + c : s->param[MOVING_VAR];
    memset(s->d_param[MOVING_MEAN], 0, (size_t)c * sizeof(float));
    memset(s->d_param[MOVING_VAR], 0, (size_t)c * sizeof(float));
    prim *p = s->training ? &b->backward_train : &b->backward_infer;
    bind_common(p, s, mean, variance);
    fv_onednn_bind(p, DNNL_ARG_DIFF_DST, s->d_out);
    fv_onednn_bind(p, DNNL_ARG_DIFF_SRC, s->d_in[0]);
    fv_onednn_bind(p, DNNL_ARG_DIFF_SCALE, s->d_param[GAMMA]);
    fv_onednn_bind(p, DNNL_ARG_DIFF_SHIFT, s->d_param[BETA]);
    return fv_onednn_run(p, b->ctx, err);
}

/* A replica's training sums its batch statistics across ranks, which only the reference does. */
static int bn_supports(const fv_node *node, const fv_plan_options *opt) {
    (void)node;
    return opt->replicas < 2 || opt->mode != FV_PLAN_TRAINING;
}

const fv_kernel fv_onednn_batchnorm = {.kind = FV_LAYER_BATCHNORM, .name = "onednn", .supports = bn_supports, .plan = bn_plan, .forward = bn_forward, .backward = bn_backward, .release = bn_release};
