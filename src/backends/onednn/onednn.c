/* dnnl_backend.c — the fast kernels on oneDNN 2.6 (C API): convolution, pooling, batch
 * normalisation and sgemm. Every primitive is created once when a network is planned, with its
 * scratchpad and workspace allocated then ("user" scratchpad mode); a step only rebinds data
 * pointers and executes. Layouts: activations NHWC (fovea's own); convolution weights in the
 * layout oneDNN prefers, reordered from and to fovea's HWIO. The reference kernels in the layer files are the oracle these are tested against. */
#include "core/core.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct dnnl_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
} dnnl_ctx;

#define TRY(call)                                                                                       \
    do {                                                                                                \
        dnnl_status_t status_ = (call);                                                                 \
        if (status_ != dnnl_success) {                                                                  \
            fv_fail(err, "oneDNN: %s failed: %s", #call, dnnl_status2str(status_));                    \
            goto fail;                                                                                  \
        }                                                                                               \
    } while (0)

void *fv_dnnl_engine_new(fv_error *err) {
    dnnl_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return fv_fail(err, "out of memory"), NULL;
    TRY(dnnl_engine_create(&ctx->engine, dnnl_cpu, 0));
    TRY(dnnl_stream_create(&ctx->stream, ctx->engine, dnnl_stream_default_flags));
    return ctx;
fail:
    fv_dnnl_engine_free(ctx);
    return NULL;
}

void fv_dnnl_engine_free(void *engine) {
    dnnl_ctx *ctx = engine;
    if (!ctx) return;
    if (ctx->stream) dnnl_stream_destroy(ctx->stream);
    if (ctx->engine) dnnl_engine_destroy(ctx->engine);
    free(ctx);
}

/* A primitive with its memory objects (bound to data pointers at each step) and its scratchpad. */
#define MAX_ARGS 12
typedef struct prim {
    dnnl_primitive_t primitive;
    dnnl_exec_arg_t args[MAX_ARGS];
    int n_args;
    void *scratchpad;
    int one_thread; /* too little work to pay for waking a second thread */
} prim;

/* Below about a million multiply-adds (a batch-1 layer of a small network) waking the other
 * threads costs more than it saves: lenet5 at batch 1 takes 26 us on one thread, 57 on two. */
#define ONE_THREAD_BELOW 1000000.0

static dnnl_status_t add_arg(prim *p, int arg, const dnnl_memory_desc_t *md, dnnl_engine_t eng, void *data) {
    dnnl_memory_t m;
    dnnl_status_t s = dnnl_memory_create(&m, md, eng, data ? data : DNNL_MEMORY_NONE);
    if (s == dnnl_success) p->args[p->n_args++] = (dnnl_exec_arg_t){arg, m};
    return s;
}

static dnnl_memory_t arg_memory(prim *p, int arg) {
    for (int i = 0; i < p->n_args; i++)
        if (p->args[i].arg == arg) return p->args[i].memory;
    return NULL;
}

static void bind(prim *p, int arg, const void *data) {
    dnnl_memory_t m = arg_memory(p, arg);
    if (m) dnnl_memory_set_data_handle(m, (void *)data);
}

/* Creates the primitive; its scratchpad is allocated here and bound for good. */
static dnnl_status_t make_prim(prim *p, dnnl_primitive_desc_t pd, dnnl_engine_t eng) {
    dnnl_status_t s = dnnl_primitive_create(&p->primitive, pd);
    if (s != dnnl_success) return s;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (bytes) {
        p->scratchpad = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!p->scratchpad) return dnnl_out_of_memory;
        return add_arg(p, DNNL_ARG_SCRATCHPAD, smd, eng, p->scratchpad);
    }
    return dnnl_success;
}

/* oneDNN sizes a primitive's work split for the threads OpenMP offers when it is created, so a
 * small primitive is created, as well as run, on one thread. Returns the setting to restore. */
static int limit_threads(int one_thread) {
    int threads = omp_get_max_threads();
    if (one_thread && threads > 1) omp_set_num_threads(1);
    return threads;
}

static void restore_threads(int threads) {
    if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

static void run(prim *p, dnnl_ctx *ctx) {
    /* oneDNN runs on as many threads as OpenMP offers this thread: one, for small work, and the
     * previous setting back afterwards. */
    int threads = limit_threads(p->one_thread);
    /* Arguments were validated when the primitive was created, so a failure here is a bug. */
    if (dnnl_primitive_execute(p->primitive, ctx->stream, p->n_args, p->args) != dnnl_success ||
        dnnl_stream_wait(ctx->stream) != dnnl_success)
        abort();
    restore_threads(threads);
}

static void free_prim(prim *p) {
    for (int i = 0; i < p->n_args; i++) dnnl_memory_destroy(p->args[i].memory);
    if (p->primitive) dnnl_primitive_destroy(p->primitive);
    free(p->scratchpad);
    memset(p, 0, sizeof *p);
}

static dnnl_status_t user_scratchpad_attr(dnnl_primitive_attr_t *attr) {
    dnnl_status_t s = dnnl_primitive_attr_create(attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    return s;
}

/* ---- Convolution: x NHWC, y NHWC; fovea keeps the weights HWIO, oneDNN picks its own (blocked)
 * layout for them ("any"), which is what unlocks its fastest kernels. The weights are reordered
 * into that layout at each forward (they change every step; a reorder is cheap next to the
 * convolution), and the weight gradient is reordered back to HWIO. ---- */
typedef struct weights_copy {
    prim reorder;        /* empty when the layout is HWIO already */
    void *buffer;        /* the weights in oneDNN's layout */
    void *seen;          /* user->internal: the HWIO values last reordered, so that inference,
                            where the weights do not change, skips the reorder */
    size_t seen_bytes;
    int seen_valid;
} weights_copy;

struct fv_dnnl_conv {
    dnnl_ctx *ctx;
    prim forward, backward_data, backward_weights;
    weights_copy fwd_w, bwd_data_w, bwd_dw; /* user->internal, user->internal, internal->user */
};

/* Plans a reorder between fovea's HWIO weights and the layout `internal` a primitive chose;
 * to_user flips the direction (for the weight gradient). */
static dnnl_status_t plan_weights_copy(weights_copy *w, dnnl_ctx *ctx, const dnnl_memory_desc_t *user,
                                       const dnnl_memory_desc_t *internal, int to_user) {
    if (dnnl_memory_desc_equal(user, internal)) return dnnl_success;
    size_t bytes = dnnl_memory_desc_get_size(internal);
    if (!(w->buffer = aligned_alloc(64, (bytes + 63) / 64 * 64))) return dnnl_out_of_memory;
    dnnl_primitive_desc_t pd = NULL;
    const dnnl_memory_desc_t *from = to_user ? internal : user, *to = to_user ? user : internal;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, ctx->engine, to, ctx->engine, NULL);
    if (s == dnnl_success) s = make_prim(&w->reorder, pd, ctx->engine);
    if (s == dnnl_success) s = add_arg(&w->reorder, DNNL_ARG_FROM, from, ctx->engine, to_user ? w->buffer : NULL);
    if (s == dnnl_success) s = add_arg(&w->reorder, DNNL_ARG_TO, to, ctx->engine, to_user ? NULL : w->buffer);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (s == dnnl_success && !to_user) {
        w->seen_bytes = dnnl_memory_desc_get_size(user);
        if (!(w->seen = malloc(w->seen_bytes))) s = dnnl_out_of_memory;
    }
    return s;
}

static void free_weights_copy(weights_copy *w) {
    free_prim(&w->reorder);
    free(w->buffer);
    free(w->seen);
    memset(w, 0, sizeof *w);
}

fv_status fv_dnnl_conv_create(void *engine, const fv_conv_geometry *g, int use_bias, float relu_slope,
                              fv_dnnl_conv **out, fv_error *err) {
    dnnl_ctx *ctx = engine;
    fv_dnnl_conv *c = calloc(1, sizeof *c);
    dnnl_primitive_attr_t attr = NULL, fused = NULL;
    dnnl_post_ops_t post = NULL;
    dnnl_primitive_desc_t fwd_pd = NULL, bd_pd = NULL, bw_pd = NULL;
    if (!c) return fv_fail(err, "out of memory");
    c->ctx = ctx;
    int small = (double)g->n * g->oh * g->ow * g->c_out * g->kh * g->kw * g->c_in < ONE_THREAD_BELOW;
    int threads = limit_threads(small);
    dnnl_memory_desc_t src, wts, any, bias, dst;
    dnnl_dims_t sd = {g->n, g->c_in, g->h, g->w}, wd = {g->c_out, g->c_in, g->kh, g->kw}, bd = {g->c_out};
    dnnl_dims_t dd = {g->n, g->c_out, g->oh, g->ow};
    dnnl_dims_t strides = {g->sh, g->sw}, pad_l = {g->pad_top, g->pad_left}, pad_r = {g->pad_bottom, g->pad_right};
    TRY(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc));
    TRY(dnnl_memory_desc_init_by_tag(&wts, 4, wd, dnnl_f32, dnnl_hwio));
    TRY(dnnl_memory_desc_init_by_tag(&any, 4, wd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&bias, 1, bd, dnnl_f32, dnnl_x));
    TRY(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
    TRY(user_scratchpad_attr(&attr));

    dnnl_convolution_desc_t fd, bdd, bwd;
    TRY(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &src, &any,
                                           use_bias ? &bias : NULL, &dst, strides, pad_l, pad_r));
    if (relu_slope >= 0.0f) { /* the (leaky) ReLU runs inside the convolution: no pass of its own */
        TRY(dnnl_primitive_attr_create(&fused));
        TRY(dnnl_primitive_attr_set_scratchpad_mode(fused, dnnl_scratchpad_mode_user));
        TRY(dnnl_post_ops_create(&post));
        TRY(dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, relu_slope, 0.0f));
        TRY(dnnl_primitive_attr_set_post_ops(fused, post));
    }
    TRY(dnnl_primitive_desc_create(&fwd_pd, &fd, fused ? fused : attr, ctx->engine, NULL));
    const dnnl_memory_desc_t *fwd_w = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0);
    TRY(plan_weights_copy(&c->fwd_w, ctx, &wts, fwd_w, 0));
    TRY(make_prim(&c->forward, fwd_pd, ctx->engine));
    TRY(add_arg(&c->forward, DNNL_ARG_SRC, &src, ctx->engine, NULL));
    TRY(add_arg(&c->forward, DNNL_ARG_WEIGHTS, fwd_w, ctx->engine, c->fwd_w.buffer));
    if (use_bias) TRY(add_arg(&c->forward, DNNL_ARG_BIAS, &bias, ctx->engine, NULL));
    TRY(add_arg(&c->forward, DNNL_ARG_DST, &dst, ctx->engine, NULL));

    TRY(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &src, &any, &dst, strides, pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&bd_pd, &bdd, attr, ctx->engine, fwd_pd));
    const dnnl_memory_desc_t *bd_w = dnnl_primitive_desc_query_md(bd_pd, dnnl_query_weights_md, 0);
    if (!dnnl_memory_desc_equal(bd_w, fwd_w)) TRY(plan_weights_copy(&c->bwd_data_w, ctx, &wts, bd_w, 0));
    TRY(make_prim(&c->backward_data, bd_pd, ctx->engine));
    TRY(add_arg(&c->backward_data, DNNL_ARG_DIFF_DST, &dst, ctx->engine, NULL));
    TRY(add_arg(&c->backward_data, DNNL_ARG_WEIGHTS, bd_w, ctx->engine,
                c->bwd_data_w.buffer ? c->bwd_data_w.buffer : c->fwd_w.buffer));
    TRY(add_arg(&c->backward_data, DNNL_ARG_DIFF_SRC, &src, ctx->engine, NULL));

    TRY(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &src, &any,
                                                    use_bias ? &bias : NULL, &dst, strides, pad_l, pad_r));
    TRY(dnnl_primitive_desc_create(&bw_pd, &bwd, attr, ctx->engine, fwd_pd));
    const dnnl_memory_desc_t *bw_dw = dnnl_primitive_desc_query_md(bw_pd, dnnl_query_diff_weights_md, 0);
    TRY(plan_weights_copy(&c->bwd_dw, ctx, &wts, bw_dw, 1));
    TRY(make_prim(&c->backward_weights, bw_pd, ctx->engine));
    TRY(add_arg(&c->backward_weights, DNNL_ARG_SRC, &src, ctx->engine, NULL));
    TRY(add_arg(&c->backward_weights, DNNL_ARG_DIFF_DST, &dst, ctx->engine, NULL));
    TRY(add_arg(&c->backward_weights, DNNL_ARG_DIFF_WEIGHTS, bw_dw, ctx->engine, c->bwd_dw.buffer));
    if (use_bias) TRY(add_arg(&c->backward_weights, DNNL_ARG_DIFF_BIAS, &bias, ctx->engine, NULL));

    c->forward.one_thread = c->backward_data.one_thread = c->backward_weights.one_thread = small;
    c->fwd_w.reorder.one_thread = c->bwd_data_w.reorder.one_thread = c->bwd_dw.reorder.one_thread = small;
    dnnl_primitive_desc_destroy(fwd_pd);
    dnnl_primitive_desc_destroy(bd_pd);
    dnnl_primitive_desc_destroy(bw_pd);
    dnnl_primitive_attr_destroy(attr);
    if (fused) dnnl_primitive_attr_destroy(fused);
    if (post) dnnl_post_ops_destroy(post);
    restore_threads(threads);
    *out = c;
    return FV_OK;
fail:
    restore_threads(threads);
    if (fused) dnnl_primitive_attr_destroy(fused);
    if (post) dnnl_post_ops_destroy(post);
    if (fwd_pd) dnnl_primitive_desc_destroy(fwd_pd);
    if (bd_pd) dnnl_primitive_desc_destroy(bd_pd);
    if (bw_pd) dnnl_primitive_desc_destroy(bw_pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    fv_dnnl_conv_free(c);
    return FV_ERR;
}

/* Binds w (HWIO) to where `arg` reads weights: directly, or through the planned reorder, which
 * is skipped when the values are the ones reordered last time (comparing costs a few
 * microseconds; the reorder of mnist-cnn's second kernel, ~60, half its batch-1 latency). */
static void bind_weights(prim *p, int arg, weights_copy *copy, const float *w, dnnl_ctx *ctx) {
    if (copy->reorder.primitive) {
        if (copy->seen_valid && memcmp(copy->seen, w, copy->seen_bytes) == 0) return;
        bind(&copy->reorder, DNNL_ARG_FROM, w);
        run(&copy->reorder, ctx);
        memcpy(copy->seen, w, copy->seen_bytes);
        copy->seen_valid = 1;
    } else if (!copy->buffer) {
        bind(p, arg, w);
    }
}

void fv_dnnl_conv_forward(fv_dnnl_conv *c, const float *x, const float *w, const float *b, float *y) {
    bind_weights(&c->forward, DNNL_ARG_WEIGHTS, &c->fwd_w, w, c->ctx);
    bind(&c->forward, DNNL_ARG_SRC, x);
    bind(&c->forward, DNNL_ARG_BIAS, b);
    bind(&c->forward, DNNL_ARG_DST, y);
    run(&c->forward, c->ctx);
}

void fv_dnnl_conv_backward(fv_dnnl_conv *c, const float *x, const float *w, const float *dy, float *dx,
                           float *dw, float *db) {
    if (dx) {
        /* the forward pass already put these weights in the forward layout */
        if (c->bwd_data_w.reorder.primitive) bind_weights(&c->backward_data, DNNL_ARG_WEIGHTS, &c->bwd_data_w, w, c->ctx);
        else if (!c->fwd_w.buffer) bind(&c->backward_data, DNNL_ARG_WEIGHTS, w);
        bind(&c->backward_data, DNNL_ARG_DIFF_DST, dy);
        bind(&c->backward_data, DNNL_ARG_DIFF_SRC, dx);
        run(&c->backward_data, c->ctx);
    }
    bind(&c->backward_weights, DNNL_ARG_SRC, x);
    bind(&c->backward_weights, DNNL_ARG_DIFF_DST, dy);
    bind(&c->backward_weights, DNNL_ARG_DIFF_BIAS, db);
    if (c->bwd_dw.reorder.primitive) {
        run(&c->backward_weights, c->ctx);
        bind(&c->bwd_dw.reorder, DNNL_ARG_TO, dw);
        run(&c->bwd_dw.reorder, c->ctx);
    } else {
        bind(&c->backward_weights, DNNL_ARG_DIFF_WEIGHTS, dw);
        run(&c->backward_weights, c->ctx);
    }
}

void fv_dnnl_conv_free(fv_dnnl_conv *c) {
    if (!c) return;
    free_prim(&c->forward);
    free_prim(&c->backward_data);
    free_prim(&c->backward_weights);
    free_weights_copy(&c->fwd_w);
    free_weights_copy(&c->bwd_data_w);
    free_weights_copy(&c->bwd_dw);
    free(c);
}

/* ---- Pooling: kind 1 max (workspace kept for backward), 0 avg excluding padding, 2 avg
 * including padding. ---- */
struct fv_dnnl_pool {
    dnnl_ctx *ctx;
    prim forward, backward;
    void *workspace;
};

fv_status fv_dnnl_pool_create(void *engine, int kind, int n, int h, int w, int c, int oh, int ow,
                              const int pool[2], const int stride[2], const int pad[4], fv_dnnl_pool **out,
                              fv_error *err) {
    dnnl_ctx *ctx = engine;
    fv_dnnl_pool *p = calloc(1, sizeof *p);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    if (!p) return fv_fail(err, "out of memory");
    p->ctx = ctx;
    int small = (double)n * oh * ow * c * pool[0] * pool[1] < ONE_THREAD_BELOW / 16; /* memory-bound: threads pay off sooner */
    int threads = limit_threads(small);
    dnnl_alg_kind_t alg = kind == 1 ? dnnl_pooling_max : kind == 2 ? dnnl_pooling_avg_include_padding
                                                                     : dnnl_pooling_avg_exclude_padding;
    dnnl_memory_desc_t src, dst;
    dnnl_dims_t sd = {n, c, h, w}, dd = {n, c, oh, ow};
    dnnl_dims_t strides = {stride[0], stride[1]}, kernel = {pool[0], pool[1]}, dil = {0, 0};
    dnnl_dims_t pl = {pad[0], pad[2]}, pr = {pad[1], pad[3]};
    TRY(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc));
    TRY(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
    TRY(user_scratchpad_attr(&attr));
    dnnl_pooling_v2_desc_t fd, bd;
    TRY(dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, alg, &src, &dst, strides, kernel, dil, pl, pr));
    TRY(dnnl_primitive_desc_create(&fpd, &fd, attr, ctx->engine, NULL));
    TRY(make_prim(&p->forward, fpd, ctx->engine));
    TRY(add_arg(&p->forward, DNNL_ARG_SRC, &src, ctx->engine, NULL));
    TRY(add_arg(&p->forward, DNNL_ARG_DST, &dst, ctx->engine, NULL));
    TRY(dnnl_pooling_v2_backward_desc_init(&bd, alg, &src, &dst, strides, kernel, dil, pl, pr));
    TRY(dnnl_primitive_desc_create(&bpd, &bd, attr, ctx->engine, fpd));
    TRY(make_prim(&p->backward, bpd, ctx->engine));
    TRY(add_arg(&p->backward, DNNL_ARG_DIFF_DST, &dst, ctx->engine, NULL));
    TRY(add_arg(&p->backward, DNNL_ARG_DIFF_SRC, &src, ctx->engine, NULL));
    const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0);
    size_t ws_bytes = ws ? dnnl_memory_desc_get_size(ws) : 0;
    if (ws_bytes) {
        if (!(p->workspace = aligned_alloc(64, (ws_bytes + 63) / 64 * 64))) TRY(dnnl_out_of_memory);
        TRY(add_arg(&p->forward, DNNL_ARG_WORKSPACE, ws, ctx->engine, p->workspace));
        TRY(add_arg(&p->backward, DNNL_ARG_WORKSPACE, ws, ctx->engine, p->workspace));
    }
    p->forward.one_thread = p->backward.one_thread = small;
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);
    dnnl_primitive_attr_destroy(attr);
    restore_threads(threads);
    *out = p;
    return FV_OK;
fail:
    restore_threads(threads);
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    fv_dnnl_pool_free(p);
    return FV_ERR;
}

/* Always the training primitive: the workspace must be there for a backward pass after an
 * inference forward (saliency maps). */
void fv_dnnl_pool_forward(fv_dnnl_pool *p, const float *x, float *y, int training) {
    (void)training;
    bind(&p->forward, DNNL_ARG_SRC, x);
    bind(&p->forward, DNNL_ARG_DST, y);
    run(&p->forward, p->ctx);
}

void fv_dnnl_pool_backward(fv_dnnl_pool *p, const float *dy, float *dx) {
    bind(&p->backward, DNNL_ARG_DIFF_DST, dy);
    bind(&p->backward, DNNL_ARG_DIFF_SRC, dx);
    run(&p->backward, p->ctx);
}

void fv_dnnl_pool_free(fv_dnnl_pool *p) {
    if (!p) return;
    free_prim(&p->forward);
    free_prim(&p->backward);
    free(p->workspace);
    free(p);
}

/* ---- Batch normalisation over (rows, channels), viewed as NHWC with N = rows, H = W = 1. ---- */
struct fv_dnnl_bnorm {
    dnnl_ctx *ctx;
    prim train, infer, backward_train, backward_infer;
};

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
    if (s == dnnl_success) s = make_prim(p, pd, ctx->engine);
    const int data_args[] = {DNNL_ARG_SRC, backward ? DNNL_ARG_DIFF_SRC : DNNL_ARG_DST, DNNL_ARG_DIFF_DST};
    const int chan_args[] = {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE,
                             DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT};
    for (int i = 0; i < (backward ? 3 : 2) && s == dnnl_success; i++) s = add_arg(p, data_args[i], data, ctx->engine, NULL);
    for (int i = 0; i < (backward ? 6 : 4) && s == dnnl_success; i++) s = add_arg(p, chan_args[i], chan, ctx->engine, NULL);
    if (pd_out && s == dnnl_success) *pd_out = pd;
    else if (pd) dnnl_primitive_desc_destroy(pd);
    return s;
}

fv_status fv_dnnl_bnorm_create(void *engine, int rows, int channels, float epsilon, fv_dnnl_bnorm **out, fv_error *err) {
    dnnl_ctx *ctx = engine;
    fv_dnnl_bnorm *b = calloc(1, sizeof *b);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t train_pd = NULL, infer_pd = NULL;
    if (!b) return fv_fail(err, "out of memory");
    b->ctx = ctx;
    int small = (double)rows * channels * 8.0 < ONE_THREAD_BELOW;
    int threads = limit_threads(small);
    dnnl_memory_desc_t data, chan;
    dnnl_dims_t dd = {rows, channels, 1, 1}, cd = {channels};
    TRY(dnnl_memory_desc_init_by_tag(&data, 4, dd, dnnl_f32, dnnl_nhwc));
    TRY(dnnl_memory_desc_init_by_tag(&chan, 1, cd, dnnl_f32, dnnl_x));
    TRY(user_scratchpad_attr(&attr));
    TRY(bnorm_prim(&b->train, ctx, attr, 0, 0, &data, &chan, epsilon, NULL, &train_pd));
    TRY(bnorm_prim(&b->infer, ctx, attr, 0, 1, &data, &chan, epsilon, NULL, &infer_pd));
    TRY(bnorm_prim(&b->backward_train, ctx, attr, 1, 0, &data, &chan, epsilon, train_pd, NULL));
    TRY(bnorm_prim(&b->backward_infer, ctx, attr, 1, 1, &data, &chan, epsilon, infer_pd, NULL));
    b->train.one_thread = b->infer.one_thread = b->backward_train.one_thread = b->backward_infer.one_thread = small;
    dnnl_primitive_desc_destroy(train_pd);
    dnnl_primitive_desc_destroy(infer_pd);
    dnnl_primitive_attr_destroy(attr);
    restore_threads(threads);
    *out = b;
    return FV_OK;
fail:
    restore_threads(threads);
    if (train_pd) dnnl_primitive_desc_destroy(train_pd);
    if (infer_pd) dnnl_primitive_desc_destroy(infer_pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    fv_dnnl_bnorm_free(b);
    return FV_ERR;
}

void fv_dnnl_bnorm_forward(fv_dnnl_bnorm *b, int training, const float *x, const float *gamma, const float *beta,
                           float *mean, float *variance, float *y) {
    prim *p = training ? &b->train : &b->infer;
    bind(p, DNNL_ARG_SRC, x);
    bind(p, DNNL_ARG_DST, y);
    bind(p, DNNL_ARG_SCALE, gamma);
    bind(p, DNNL_ARG_SHIFT, beta);
    bind(p, DNNL_ARG_MEAN, mean);
    bind(p, DNNL_ARG_VARIANCE, variance);
    run(p, b->ctx);
}

void fv_dnnl_bnorm_backward(fv_dnnl_bnorm *b, int training, const float *x, const float *dy, const float *gamma,
                            const float *beta, const float *mean, const float *variance, float *dx, float *dgamma,
                            float *dbeta) {
    prim *p = training ? &b->backward_train : &b->backward_infer;
    bind(p, DNNL_ARG_SRC, x);
    bind(p, DNNL_ARG_DIFF_DST, dy);
    bind(p, DNNL_ARG_SCALE, gamma);
    bind(p, DNNL_ARG_SHIFT, beta);
    bind(p, DNNL_ARG_MEAN, mean);
    bind(p, DNNL_ARG_VARIANCE, variance);
    bind(p, DNNL_ARG_DIFF_SRC, dx);
    bind(p, DNNL_ARG_DIFF_SCALE, dgamma);
    bind(p, DNNL_ARG_DIFF_SHIFT, dbeta);
    run(p, b->ctx);
}

void fv_dnnl_bnorm_free(fv_dnnl_bnorm *b) {
    if (!b) return;
    free_prim(&b->train);
    free_prim(&b->infer);
    free_prim(&b->backward_train);
    free_prim(&b->backward_infer);
    free(b);
}

void fv_dnnl_sgemm(char trans_a, char trans_b, int m, int n, int k, const float *a, int lda, const float *b,
                   int ldb, float beta, float *c, int ldc) {
    int threads = limit_threads((double)m * n * k < ONE_THREAD_BELOW);
    if (dnnl_sgemm(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc) != dnnl_success) abort();
    restore_threads(threads);
}
