/* onednn.h — what the oneDNN backend's files share (oneDNN 2.x C API). Every primitive is
 * created once when a network is planned, with its scratchpad and workspace allocated then
 * ("user" scratchpad mode); a step only rebinds data pointers and executes. */
#ifndef FOVEA_ONEDNN_H
#define FOVEA_ONEDNN_H

#include "core/core.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

typedef struct dnnl_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
} dnnl_ctx;

fv_status fv_onednn_ctx_open(void **engine, fv_error *err);
void fv_onednn_ctx_close(void *engine);

/* In a function with an `fv_error *err` and a `fail:` label. */
#define TRY(call)                                                                                       \
    do {                                                                                                \
        dnnl_status_t status_ = (call);                                                                 \
        if (status_ != dnnl_success) {                                                                  \
            fv_fail(err, "oneDNN: %s failed: %s", #call, dnnl_status2str(status_));                    \
            goto fail;                                                                                  \
        }                                                                                               \
    } while (0)

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

dnnl_status_t fv_onednn_add_arg(prim *p, int arg, const dnnl_memory_desc_t *md, dnnl_engine_t eng, void *data);
dnnl_memory_t fv_onednn_arg_memory(prim *p, int arg);
void fv_onednn_bind(prim *p, int arg, const void *data);
dnnl_status_t fv_onednn_make_prim(prim *p, dnnl_primitive_desc_t pd, dnnl_engine_t eng);
/* A reorder (a layout or a data type change) from `from` to `to`, its FROM and TO bound to
 * from_data and to_data (NULL: bound at each step). */
dnnl_status_t fv_onednn_make_reorder(prim *p, const dnnl_memory_desc_t *from, void *from_data, const dnnl_memory_desc_t *to,
                                     void *to_data, dnnl_engine_t eng);
/* Runs a reorder planned with its FROM and TO unbound, from `from` into `to`. */
fv_status fv_onednn_convert(prim *p, const void *from, void *to, dnnl_ctx *ctx, fv_error *err);

/* The float weights a kernel last converted into a form of its own (a blocked layout, bf16,
 * int8), so that it converts them again only when they may have changed. In an inference plan
 * the network's weights_version says whether they can have changed at all (comparing ResNet50's
 * 100 MB of weights took 8 of its 52 ms at batch 1); without one (training: 0) the values are
 * compared (a few microseconds; converting mnist-cnn's second kernel, ~60, half its batch-1
 * latency). copy NULL: the version alone decides. */
typedef struct weights_seen {
    float *copy;
    size_t count;
    uint64_t version;
    int valid;
} weights_seen;
/* 1 when w (seen->count values) may differ from what was seen last; records the version. */
int fv_onednn_weights_changed(weights_seen *seen, const float *w, uint64_t version);
/* After converting w: what the next call compares against. */
void fv_onednn_weights_converted(weights_seen *seen, const float *w);
/* x (f32) quantised to s8 as the reference does (fv_step_input: x / scale rounded to nearest even,
 * saturated), as a reorder: JIT-compiled for the CPU, where the plain C loop is SSE2. */
dnnl_status_t fv_onednn_make_quantizer(prim *p, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, float scale, dnnl_engine_t eng);
/* The implementation a primitive descriptor chose ("brgconv:avx512_core_amx_bf16"), into buf. */
void fv_onednn_implementation(const_dnnl_primitive_desc_t pd, char *buf, size_t size);
/* The message of a primitive a reduced precision could not create: what to do instead. */
fv_status fv_onednn_precision_unavailable(const fv_plan_options *opt, fv_error *err);
/* `types` (fv_narrow bits) less bf16 where oneDNN has no bf16 kernels (below AVX-512). */
int fv_onednn_narrow_types(int types);
int fv_onednn_limit_threads(int one_thread);
void fv_onednn_restore_threads(int threads);
fv_status fv_onednn_run(prim *p, dnnl_ctx *ctx, fv_error *err);
void fv_onednn_free_prim(prim *p);
dnnl_status_t fv_onednn_user_scratchpad_attr(dnnl_primitive_attr_t *attr);
/* A forward primitive and the backward one it hints, from their operation descriptors, both with
 * user scratchpads; forward_pd (when not NULL) receives the forward primitive descriptor for
 * queries (the caller destroys it). */
dnnl_status_t fv_onednn_make_pair(prim *forward, prim *backward, const_dnnl_op_desc_t fd, const_dnnl_op_desc_t bd, dnnl_engine_t eng,
                                  dnnl_primitive_desc_t *forward_pd);
/* C[MxN] = A[MxK] (or its transpose) * B, row-major; beta 0 overwrites, 1 accumulates. */
fv_status fv_onednn_sgemm(char trans_a, char trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc, fv_error *err);

/* The kernels, one file each. */
extern const fv_kernel fv_onednn_conv1d, fv_onednn_conv2d, fv_onednn_conv3d, fv_onednn_maxpool2d, fv_onednn_avgpool2d,
    fv_onednn_maxpool3d, fv_onednn_avgpool3d, fv_onednn_batchnorm, fv_onednn_dense, fv_onednn_unary, fv_onednn_matmul,
    fv_onednn_add;

#endif
