/* eltwise.c — the unary layer's functions that oneDNN has as eltwise primitives (vectorised,
 * threaded): SiLU (swish), GELU (erf form), hard-swish, clip, ELU, exp, log, sqrt, abs, softplus.
 * The others stay on the reference loops (supports() says which). The batch is one axis and each
 * sample's values the other: elementwise, the layout does not matter. */
#include "backends/onednn/onednn.h"

#include <math.h>
#include <stdlib.h>

typedef struct fv_eltwise {
    dnnl_ctx *ctx;
    prim forward, backward;
} fv_eltwise;

/* oneDNN's algorithm for a unary function, with its alpha and beta; 0 when it has none. */
static int algorithm(const fv_unary_settings *u, dnnl_alg_kind_t *alg, float *alpha, float *beta) {
    *alpha = *beta = 0.0f;
    switch (u->op) {
    case FV_UNARY_SILU: *alg = dnnl_eltwise_swish, *alpha = 1.0f; return 1;
    case FV_UNARY_GELU: *alg = dnnl_eltwise_gelu_erf; return 1;
    case FV_UNARY_HARD_SWISH: *alg = dnnl_eltwise_hardswish; return 1;
    case FV_UNARY_CLIP: /* oneDNN clips to [alpha, beta]; NaN settings are no bound */
        *alg = dnnl_eltwise_clip_v2, *alpha = isnan(u->alpha) ? -INFINITY : u->alpha, *beta = isnan(u->beta) ? INFINITY : u->beta;
        return 1;
    case FV_UNARY_ELU: *alg = dnnl_eltwise_elu, *alpha = isnan(u->alpha) ? 1.0f : u->alpha; return 1;
    case FV_UNARY_EXP: *alg = dnnl_eltwise_exp; return 1;
    case FV_UNARY_LOG: *alg = dnnl_eltwise_log; return 1;
    case FV_UNARY_SQRT: *alg = dnnl_eltwise_sqrt; return 1;
    case FV_UNARY_ABS: *alg = dnnl_eltwise_abs; return 1;
    case FV_UNARY_SOFTPLUS: *alg = dnnl_eltwise_soft_relu; return 1;
    default: return 0;
    }
}

static int eltwise_supports(const fv_node *node, const fv_plan_options *opt) {
    (void)opt;
    dnnl_alg_kind_t alg;
    float a, b;
    return algorithm(&node->layer.unary, &alg, &a, &b);
}

static void eltwise_release(void *state) {
    fv_eltwise *e = state;
    if (!e) return;
    fv_onednn_free_prim(&e->forward);
    fv_onednn_free_prim(&e->backward);
    free(e);
}

static fv_status eltwise_plan(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err) {
    int batch = opt->batch;
    dnnl_ctx *ctx = engine;
    dnnl_alg_kind_t alg = dnnl_eltwise_linear;
    float alpha, beta;
    if (!algorithm(&node->layer.unary, &alg, &alpha, &beta)) return fv_fail(err, "oneDNN has no eltwise primitive for this function");
    fv_eltwise *e = calloc(1, sizeof *e);
    if (!e) return fv_fail(err, "out of memory");
    e->ctx = ctx;
    size_t per = fv_shape_count(node->out_shape);
    int small = (double)batch * (double)per < ONE_THREAD_BELOW / 16; /* memory-bound, as pooling */
    int threads = fv_onednn_limit_threads(small);
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {batch, (dnnl_dim_t)per};
    TRY(dnnl_memory_desc_init_by_tag(&md, 2, dims, dnnl_f32, dnnl_ab));
    dnnl_eltwise_desc_t fd, bd;
    TRY(dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, alg, &md, alpha, beta));
    TRY(dnnl_eltwise_backward_desc_init(&bd, alg, &md, &md, alpha, beta));
    TRY(fv_onednn_make_pair(&e->forward, &e->backward, &fd, &bd, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&e->forward, DNNL_ARG_SRC, &md, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&e->forward, DNNL_ARG_DST, &md, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&e->backward, DNNL_ARG_SRC, &md, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&e->backward, DNNL_ARG_DIFF_DST, &md, ctx->engine, NULL));
    TRY(fv_onednn_add_arg(&e->backward, DNNL_ARG_DIFF_SRC, &md, ctx->engine, NULL));
    e->forward.one_thread = e->backward.one_thread = small;
    fv_onednn_restore_threads(threads);
    *state = e;
    return FV_OK;
fail:
    fv_onednn_restore_threads(threads);
    eltwise_release(e);
    return FV_ERR;
}

/* x (N, S) -> y (N, S) */
static fv_status eltwise_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    fv_eltwise *e = state;
    (void)node;
    fv_onednn_bind(&e->forward, DNNL_ARG_SRC, s->in[0]);
    fv_onednn_bind(&e->forward, DNNL_ARG_DST, s->out);
    return fv_onednn_run(&e->forward, e->ctx, err);
}

/* dx = dy * f'(x), from the input */
static fv_status eltwise_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    fv_eltwise *e = state;
    (void)node;
    if (!s->d_in[0]) return FV_OK;
    fv_onednn_bind(&e->backward, DNNL_ARG_SRC, s->in[0]);
    fv_onednn_bind(&e->backward, DNNL_ARG_DIFF_DST, s->d_out);
    fv_onednn_bind(&e->backward, DNNL_ARG_DIFF_SRC, s->d_in[0]);
    return fv_onednn_run(&e->backward, e->ctx, err);
}

const fv_kernel fv_onednn_unary = {.kind = FV_LAYER_UNARY, .name = "onednn", .supports = eltwise_supports, .plan = eltwise_plan, .forward = eltwise_forward, .backward = eltwise_backward, .release = eltwise_release};
