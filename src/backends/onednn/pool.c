/* pool.c — oneDNN max and average pooling, 2-D (an (L, C) input as H = 1) and 3-D, channels-last.
 * Max keeps oneDNN's workspace for backward; sum pooling has no oneDNN kernel (reference). In a
 * bf16 or int8 inference plan the input and output may both be bf16 (narrow, plan.c); in an int8
 * one, max pooling's may both be int8 (the maximum of quantised values is the quantised maximum:
 * exact), forward only. */
#include "backends/onednn/onednn.h"

#include <stdlib.h>
#include <string.h>

typedef struct dnnl_pool {
    dnnl_ctx *ctx;
    prim forward, backward;
    void *workspace;
} dnnl_pool;

static int is_max(const fv_node *node) {
    return node->layer.kind == FV_LAYER_MAXPOOL2D || node->layer.kind == FV_LAYER_MAXPOOL3D;
}

static void pool_release(void *state) {
    dnnl_pool *p = state;
    if (!p) return;
    fv_onednn_free_prim(&p->forward);
    fv_onednn_free_prim(&p->backward);
    free(p->workspace);
    free(p);
}

static fv_status pool_plan(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err) {
    int batch = opt->batch;
    dnnl_ctx *ctx = engine;
    int spatial = node->layer.kind == FV_LAYER_MAXPOOL3D || node->layer.kind == FV_LAYER_AVGPOOL3D ? 3 : 2;
    fv_window_geometry g;
    if (fv_pool_geometry(&node->layer.pool, spatial, node->in_shape[0], batch, &g, err) != FV_OK) return FV_ERR;
    dnnl_pool *p = calloc(1, sizeof *p);
    dnnl_primitive_desc_t fpd = NULL;
    if (!p) return fv_fail(err, "out of memory");
    p->ctx = ctx;
    /* memory-bound: threads pay off sooner than for convolutions */
    int small = (double)g.n * g.out[0] * g.out[1] * g.out[2] * g.c_in * g.k[0] * g.k[1] * g.k[2] < ONE_THREAD_BELOW / 16;
    int threads = fv_onednn_limit_threads(small);
    dnnl_alg_kind_t alg = is_max(node) ? dnnl_pooling_max
                          : node->layer.pool.padding == FV_PAD_EXPLICIT ? dnnl_pooling_avg_include_padding
                                                                        : dnnl_pooling_avg_exclude_padding;
    int axes = spatial, nd = axes + 2;
    dnnl_memory_desc_t src, dst;
    dnnl_dims_t sd = {g.n, g.c_in}, dd = {g.n, g.c_in}, strides, kernel, dil, pl, pr;
    for (int t = 3 - axes, a = 0; t < 3; t++, a++) {
        sd[2 + a] = g.in[t], dd[2 + a] = g.out[t];
        strides[a] = g.s[t], kernel[a] = g.k[t], dil[a] = 0, pl[a] = g.pad_before[t], pr[a] = g.pad_after[t];
    }
    dnnl_format_tag_t tag = axes == 3 ? dnnl_ndhwc : dnnl_nhwc;
    /* inference plans: a narrow input and output (plan.c; both or neither: narrow_same) */
    int int8 = node->narrow_out == FV_NARROW_INT8;
    dnnl_data_type_t type = int8 ? dnnl_s8 : node->narrow_out == FV_NARROW_BF16 ? dnnl_bf16 : dnnl_f32;
    TRY(dnnl_memory_desc_init_by_tag(&src, nd, sd, type, tag));
    TRY(dnnl_memory_desc_init_by_tag(&dst, nd, dd, type, tag));
    dnnl_pooling_v2_desc_t fd, bd;
    if (int8) { /* no backward in s8: forward only, no workspace */
        dnnl_primitive_attr_t attr = NULL;
        TRY(dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_inference, alg, &src, &dst, strides, kernel, dil, pl, pr));
        TRY(fv_onednn_user_scratchpad_attr(&attr));
        dnnl_status_t made = dnnl_primitive_desc_create(&fpd, &fd, attr, ctx->engine, NULL);
        dnnl_primitive_attr_destroy(attr);
        TRY(made);
        TRY(fv_onednn_make_prim(&p->forward, fpd, ctx->engine));
        TRY(fv_onednn_add_arg(&p->forward, DNNL_ARG_SRC, &src, ctx->engine, NULL));
        TRY(fv_onednn_add_arg(&p->forward, DNNL_ARG_DST, &dst, ctx->engine, NULL));
        p->forward.one_thread = small;
        goto done;
    }
    TRY(dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, alg, &src, &dst, strides, kernel, dil, pl, pr));
    TRY(dnnl_pooling_v2_backward_desc_init(&bd, alg, &src, &dst, strides, kernel, dil, pl, pr));
    TRY(fv_onednn_make_pair(&p->forward, &p->backward, &fd, &bd, ctx->engine, &fpd));
    TRY(fv_onednn_add_arg(&p->forward, DNNL_ARG_SRC, &src, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&p->forward, DNNL_ARG_DST, &dst, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&p->backward, DNNL_ARG_DIFF_DST, &dst, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&p->backward, DNNL_ARG_DIFF_SRC, &src, ctx->engine, NULL));
    const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0);
    size_t ws_bytes = ws ? dnnl_memory_desc_get_size(ws) : 0;
    if (ws_bytes) {
        if (!(p->workspace = aligned_alloc(64, (ws_bytes + 63) / 64 * 64))) TRY(dnnl_out_of_memory);
        TRY(fv_onednn_add_arg(&p->forward, DNNL_ARG_WORKSPACE, ws, ctx->engine, p->workspace));
        TRY(fv_onednn_add_arg(&p->backward, DNNL_ARG_WORKSPACE, ws, ctx->engine, p->workspace));
    }
    p->forward.one_thread = p->backward.one_thread = small;
done:
    dnnl_primitive_desc_destroy(fpd);
    fv_onednn_restore_threads(threads);
    *state = p;
    return FV_OK;
fail:
    fv_onednn_restore_threads(threads);
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    pool_release(p);
    return fv_onednn_precision_unavailable(opt, err);
}

/* Always the training primitive: the workspace must be there for a backward pass after an
 * inference forward (saliency maps). */
static fv_status pool_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    dnnl_pool *p = state;
    (void)node;
    fv_onednn_bind(&p->forward, DNNL_ARG_SRC, s->in[0]);
    fv_onednn_bind(&p->forward, DNNL_ARG_DST, s->out);
    return fv_onednn_run(&p->forward, p->ctx, err);
}

static fv_status pool_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    dnnl_pool *p = state;
    (void)node;
    fv_onednn_bind(&p->backward, DNNL_ARG_DIFF_DST, s->d_out);
    fv_onednn_bind(&p->backward, DNNL_ARG_DIFF_SRC, s->d_in[0]);
    return fv_onednn_run(&p->backward, p->ctx, err);
}

static int pool_supports(const fv_node *node, const fv_plan_options *opt) {
    (void)opt;
    (void)node;
    return 1;
}

static int pool_narrow(const fv_node *node, fv_precision precision, int slot) {
    (void)slot;
    return fv_onednn_narrow_types(precision == FV_PRECISION_INT8 && is_max(node) ? FV_NARROW_INT8 | FV_NARROW_BF16 : FV_NARROW_BF16);
}

#define POOL_KERNEL(k)                                                                                                                  \
    {.kind = k, .name = "onednn", .supports = pool_supports, .plan = pool_plan, .forward = pool_forward, .backward = pool_backward, \
     .release = pool_release, .narrow = pool_narrow, .narrow_same = 1}
const fv_kernel fv_onednn_maxpool2d = POOL_KERNEL(FV_LAYER_MAXPOOL2D);
const fv_kernel fv_onednn_avgpool2d = POOL_KERNEL(FV_LAYER_AVGPOOL2D);
const fv_kernel fv_onednn_maxpool3d = POOL_KERNEL(FV_LAYER_MAXPOOL3D);
const fv_kernel fv_onednn_avgpool3d = POOL_KERNEL(FV_LAYER_AVGPOOL3D);
