/* engine.c — the oneDNN backend's shared machinery: the engine and stream of a planned network,
 * primitives with their memory arguments and scratchpads, and the thread policy. */
#include "backends/onednn/onednn.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fv_status fv_onednn_ctx_open(void **engine, fv_error *err) {
    dnnl_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return fv_fail(err, "out of memory");
    TRY(dnnl_engine_create(&ctx->engine, dnnl_cpu, 0));
    TRY(dnnl_stream_create(&ctx->stream, ctx->engine, dnnl_stream_default_flags));
    *engine = ctx;
    return FV_OK;
fail:
    fv_onednn_ctx_close(ctx);
    return FV_ERR;
}

void fv_onednn_ctx_close(void *engine) {
    dnnl_ctx *ctx = engine;
    if (!ctx) return;
    if (ctx->stream) dnnl_stream_destroy(ctx->stream);
    if (ctx->engine) dnnl_engine_destroy(ctx->engine);
    free(ctx);
}

dnnl_status_t fv_onednn_add_arg(prim *p, int arg, const dnnl_memory_desc_t *md, dnnl_engine_t eng, void *data) {
    dnnl_memory_t m;
    dnnl_status_t s = dnnl_memory_create(&m, md, eng, data ? data : DNNL_MEMORY_NONE);
    if (s == dnnl_success) p->args[p->n_args++] = (dnnl_exec_arg_t){arg, m};
    return s;
}

dnnl_memory_t fv_onednn_arg_memory(prim *p, int arg) {
    for (int i = 0; i < p->n_args; i++)
        if (p->args[i].arg == arg) return p->args[i].memory;
    return NULL;
}

void fv_onednn_bind(prim *p, int arg, const void *data) {
    dnnl_memory_t m = fv_onednn_arg_memory(p, arg);
    if (m) dnnl_memory_set_data_handle(m, (void *)data);
}

/* Creates the primitive; its scratchpad is allocated here and bound for good. */
dnnl_status_t fv_onednn_make_prim(prim *p, dnnl_primitive_desc_t pd, dnnl_engine_t eng) {
    dnnl_status_t s = dnnl_primitive_create(&p->primitive, pd);
    if (s != dnnl_success) return s;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (bytes) {
        p->scratchpad = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!p->scratchpad) return dnnl_out_of_memory;
        return fv_onednn_add_arg(p, DNNL_ARG_SCRATCHPAD, smd, eng, p->scratchpad);
    }
    return dnnl_success;
}

static dnnl_status_t make_reorder(prim *p, const dnnl_memory_desc_t *from, void *from_data, const dnnl_memory_desc_t *to, void *to_data,
                                  const_dnnl_primitive_attr_t attr, dnnl_engine_t eng) {
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, attr);
    if (s == dnnl_success) s = fv_onednn_make_prim(p, pd, eng);
    if (s == dnnl_success) s = fv_onednn_add_arg(p, DNNL_ARG_FROM, from, eng, from_data);
    if (s == dnnl_success) s = fv_onednn_add_arg(p, DNNL_ARG_TO, to, eng, to_data);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return s;
}

dnnl_status_t fv_onednn_make_reorder(prim *p, const dnnl_memory_desc_t *from, void *from_data, const dnnl_memory_desc_t *to,
                                     void *to_data, dnnl_engine_t eng) {
    return make_reorder(p, from, from_data, to, to_data, NULL, eng);
}

fv_status fv_onednn_convert(prim *p, const void *from, void *to, dnnl_ctx *ctx, fv_error *err) {
    fv_onednn_bind(p, DNNL_ARG_FROM, from);
    fv_onednn_bind(p, DNNL_ARG_TO, to);
    return fv_onednn_run(p, ctx, err);
}

int fv_onednn_weights_changed(weights_seen *seen, const float *w, uint64_t version) {
    int same_version = seen->valid && version && version == seen->version;
    seen->version = version;
    return !same_version && !(seen->valid && seen->copy && memcmp(seen->copy, w, seen->count * sizeof *w) == 0);
}

void fv_onednn_weights_converted(weights_seen *seen, const float *w) {
    if (seen->copy) memcpy(seen->copy, w, seen->count * sizeof *w);
    seen->valid = 1;
}

void fv_onednn_implementation(const_dnnl_primitive_desc_t pd, char *buf, size_t size) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name) name = "unknown";
    snprintf(buf, size, "%s", name);
}

dnnl_status_t fv_onednn_make_quantizer(prim *p, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, float scale, dnnl_engine_t eng) {
    dnnl_primitive_attr_t attr = NULL;
    const float inverse = 1.0f / scale; /* the product the reference forms */
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &inverse);
    if (s == dnnl_success) s = make_reorder(p, from, NULL, to, NULL, attr, eng);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return s;
}

/* oneDNN 2.6 has bf16 primitives on AVX-512 CPUs (fast with AVX-512 BF16 or AMX, emulated
 * without); on others it has none, and says "unimplemented". */
fv_status fv_onednn_precision_unavailable(const fv_plan_options *opt, fv_error *err) {
    if (opt->precision == FV_PRECISION_FP32 || !strstr(err->message, "unimplemented")) return FV_ERR;
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", err->message);
    return fv_fail(err, "%s: oneDNN has no %s kernel for it on this CPU (it needs AVX-512); plan it in fp32, or on the reference "
                   "backend, which defines %s on any CPU", why, fv_precision_name(opt->precision), fv_precision_name(opt->precision));
}

/* An int8 plan on such a CPU keeps no bf16 values between layers either: oneDNN would compute
 * those with its plain reference kernels, or not at all (the add). */
int fv_onednn_narrow_types(int types) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? types : types & ~FV_NARROW_BF16;
}

/* oneDNN sizes a primitive's work split for the threads OpenMP offers when it is created, so a
 * small primitive is created, as well as run, on one thread. Returns the setting to restore. */
int fv_onednn_limit_threads(int one_thread) {
    int threads = omp_get_max_threads();
    if (one_thread && threads > 1) omp_set_num_threads(1);
    return threads;
}

void fv_onednn_restore_threads(int threads) {
    if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

fv_status fv_onednn_run(prim *p, dnnl_ctx *ctx, fv_error *err) {
    /* oneDNN runs on as many threads as OpenMP offers this thread: one, for small work, and the
     * previous setting back afterwards. */
    int threads = fv_onednn_limit_threads(p->one_thread);
    dnnl_status_t s = dnnl_primitive_execute(p->primitive, ctx->stream, p->n_args, p->args);
    if (s == dnnl_success) s = dnnl_stream_wait(ctx->stream);
    fv_onednn_restore_threads(threads);
    return s == dnnl_success ? FV_OK : fv_fail(err, "oneDNN: executing a primitive failed: %s", dnnl_status2str(s));
}

void fv_onednn_free_prim(prim *p) {
    for (int i = 0; i < p->n_args; i++) dnnl_memory_destroy(p->args[i].memory);
    if (p->primitive) dnnl_primitive_destroy(p->primitive);
    free(p->scratchpad);
    memset(p, 0, sizeof *p);
}

dnnl_status_t fv_onednn_make_pair(prim *forward, prim *backward, const_dnnl_op_desc_t fd, const_dnnl_op_desc_t bd, dnnl_engine_t eng,
                                  dnnl_primitive_desc_t *forward_pd) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_status_t s = fv_onednn_user_scratchpad_attr(&attr);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&fpd, fd, attr, eng, NULL);
    if (s == dnnl_success) s = fv_onednn_make_prim(forward, fpd, eng);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&bpd, bd, attr, eng, fpd);
    if (s == dnnl_success) s = fv_onednn_make_prim(backward, bpd, eng);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_success && forward_pd) *forward_pd = fpd;
    else if (fpd) dnnl_primitive_desc_destroy(fpd);
    return s;
}

dnnl_status_t fv_onednn_user_scratchpad_attr(dnnl_primitive_attr_t *attr) {
    dnnl_status_t s = dnnl_primitive_attr_create(attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    return s;
}

fv_status fv_onednn_sgemm(char trans_a, char trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc, fv_error *err) {
    int threads = fv_onednn_limit_threads((double)m * n * k < ONE_THREAD_BELOW);
    dnnl_status_t s = dnnl_sgemm(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
    fv_onednn_restore_threads(threads);
    return s == dnnl_success ? FV_OK : fv_fail(err, "oneDNN: sgemm failed: %s", dnnl_status2str(s));
}
