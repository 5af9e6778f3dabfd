/* core.h — what the layer files and the graph share; not part of the public API. */
#ifndef FOVEA_CORE_H
#define FOVEA_CORE_H

#include "fovea.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FV_MAX_INPUTS 8
#define FV_MAX_PARAMS 4
#define FV_NAME_MAX 64

#define FV_PI 3.14159265358979323846

fv_status fv_fail(fv_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Random numbers: a per-network generator (no global state). splitmix64 seeds
 * xoshiro128+-style streams; only reproducibility matters here, not crypto quality. ---- */
typedef struct fv_rng {
    uint64_t state;
} fv_rng;
void fv_rng_seed(fv_rng *rng, uint64_t seed);
uint64_t fv_rng_next(fv_rng *rng);
float fv_rng_uniform(fv_rng *rng); /* [0, 1) */

/* ---- A parameter tensor declared by a layer while its shape is inferred. ---- */
typedef struct fv_param_decl {
    const char *name;
    int trainable;
    int rank;
    int dim[4];
    size_t count;
    size_t offset; /* into the network's parameter block */
} fv_param_decl;

/* ---- One node of the graph. ---- */
typedef struct fv_node {
    fv_layer layer;
    char name[FV_NAME_MAX];
    int inputs[FV_MAX_INPUTS];
    int n_inputs;
    fv_shape in_shape[FV_MAX_INPUTS];
    fv_shape out_shape;
    fv_param_decl params[FV_MAX_PARAMS];
    int n_params;
    int first_param;       /* index into the network's flat parameter list */
    size_t scratch_per_sample; /* bytes of per-sample scratch (argmax, dropout mask, ...) */
    size_t scratch_fixed;      /* bytes of scratch independent of the batch size */
    /* set by planning */
    float *out;            /* batch x out_shape */
    float *grad;           /* batch x out_shape */
    void *scratch;
    void *backend;         /* fast-kernel state (oneDNN primitives), owned by the layer */
    float *logits;         /* output node with a softmax/sigmoid: its pre-activation */
} fv_node;

/* What a layer's forward/backward sees for one step: pointers and sizes, nothing to own. */
typedef struct fv_step {
    int batch;
    int training;
    fv_backend backend;
    const float *in[FV_MAX_INPUTS]; /* batch x node->in_shape[i] */
    float *out;                     /* batch x node->out_shape */
    float *d_out;                   /* backward only; the node's own gradient, which its backward
                                       may overwrite (a fused activation's derivative, in place) */
    float *d_in[FV_MAX_INPUTS];     /* backward only; overwritten. NULL for conv/dense reading the
                                       network input when its gradient is not wanted */
    float *param[FV_MAX_PARAMS];    /* this node's parameters, in declaration order */
    float *d_param[FV_MAX_PARAMS];  /* overwritten */
    void *scratch;
    fv_rng *rng;
    float *logits;                  /* output node only: keep the pre-activation here */
    int d_out_is_pre_activation;    /* output node only: a fused loss gave d(pre-activation) */
} fv_step;

/* ---- The op table: each layer kind is one row. ---- */
typedef struct fv_op {
    const char *type_name;  /* Keras class name for the summary: "Conv2D" */
    int min_inputs, max_inputs;
    /* Checks settings against the input shapes; sets out_shape, params, scratch sizes. */
    fv_status (*infer)(fv_node *node, fv_error *err);
    /* Seeded initial values of this node's parameters (NULL: all zero). */
    void (*init)(const fv_node *node, float **param, fv_rng *rng);
    /* Fast-kernel setup for a batch size (NULL: reference only). */
    fv_status (*plan)(fv_node *node, int batch, fv_backend backend, void *engine, fv_error *err);
    void (*release)(fv_node *node);
    void (*forward)(const fv_node *node, const fv_step *step);
    void (*backward)(const fv_node *node, const fv_step *step);
} fv_op;

const fv_op *fv_op_for(fv_layer_kind kind);
extern const fv_op fv_op_input, fv_op_conv2d, fv_op_conv1d, fv_op_dense, fv_op_maxpool2d,
    fv_op_avgpool2d, fv_op_sumpool2d, fv_op_global_avgpool, fv_op_flatten, fv_op_dropout,
    fv_op_batchnorm, fv_op_add, fv_op_activation;

/* The graph's hooks for the losses (loss.c). */
fv_node *fv_net_output(fv_net *net);
fv_activation fv_node_activation(const fv_node *node); /* fused or standalone; linear otherwise */
/* Backward from the gradient already in the output node's grad buffer; pre_activation says it is
 * d(pre-activation) of the output node's softmax/sigmoid (a fused loss). */
void fv_net_backward_from_output_grad(fv_net *net, int pre_activation);

/* The mean loss over the first `samples` samples of the batch (0: all); backward needs all. */
fv_status fv_loss_compute(fv_net *net, fv_loss loss, const float *targets, int samples, double *value, int backward,
                          fv_error *err);

/* Copies every parameter (trainable or not) into buf (to_net 0) or back (to_net 1). */
void fv_net_copy_weights(fv_net *net, float *buf, int to_net);

/* Declares a parameter tensor on a node during infer(). */
void fv_node_declare_param(fv_node *node, const char *name, int trainable, int rank, const int *dim);

/* ---- Text into a caller's buffer, snprintf-style: len counts what would have been written. ---- */
typedef struct fv_text {
    char *buf;
    size_t size, len;
} fv_text;
void fv_text_put(fv_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Shared helpers for layers. ---- */
/* Elementwise activation on n values along rows of `channels` (softmax needs the rows). */
void fv_activation_forward(fv_activation act, float alpha, float *y, size_t rows, int channels);
/* d_x = d_y * f'(x), computed from the output y (every supported f allows that). */
void fv_activation_backward(fv_activation act, float alpha, const float *y, const float *d_y,
                            float *d_x, size_t rows, int channels);
/* A layer's own activation on its output y (rows x channels): saves the logits first when the
 * step asks; on the way back turns d_out into d(pre-activation) in place, unless the activation
 * is linear or a fused loss already gave it. */
void fv_step_activate(const fv_step *s, fv_activation act, float alpha, float *y, size_t rows, int channels);
const float *fv_step_activation_grad(const fv_step *s, fv_activation act, float alpha, size_t rows, int channels);
/* A kernel's seeded initial values (Glorot or He uniform, see fv_init). */
void fv_init_kernel(fv_init init, float *w, size_t count, int fan_in, int fan_out, fv_rng *rng);

/* Output length of a strided window over `in` with the given padding mode; fills pads. */
int fv_window_output(int in, int window, int stride, fv_padding padding, int explicit_before,
                     int explicit_after, int *pad_before, int *pad_after);

/* 2-D convolution geometry shared by conv2d and conv1d (and their fast kernels). */
typedef struct fv_conv_geometry {
    int n, h, w, c_in;      /* input, NHWC */
    int oh, ow, c_out;      /* output */
    int kh, kw, sh, sw;
    int pad_top, pad_left, pad_bottom, pad_right;
} fv_conv_geometry;

fv_status fv_conv_infer_geometry(fv_node *node, int h, int w, int c, fv_conv_geometry *g, fv_error *err);
void fv_conv_forward_reference(const fv_conv_geometry *g, const float *x, const float *w,
                               const float *b, float *y);
void fv_conv_backward_data_reference(const fv_conv_geometry *g, const float *dy, const float *w, float *dx);
void fv_conv_backward_weights_reference(const fv_conv_geometry *g, const float *x, const float *dy,
                                        float *dw, float *db);
/* The op-table entries conv2d and conv1d share (conv2d.c). */
void fv_conv_init(const fv_node *node, float **param, fv_rng *rng);
fv_status fv_conv_plan(fv_node *node, int batch, fv_backend backend, void *engine, fv_error *err);
void fv_conv_release(fv_node *node);
void fv_conv_forward(const fv_node *node, const fv_step *step);
void fv_conv_backward(const fv_node *node, const fv_step *step);

/* oneDNN fast kernels (dnnl_backend.c); present only when built with oneDNN. */
#ifdef FOVEA_HAVE_DNNL
typedef struct fv_dnnl_conv fv_dnnl_conv;
/* relu_slope >= 0 fuses a (leaky) ReLU into the forward convolution; < 0 fuses nothing. */
fv_status fv_dnnl_conv_create(void *engine, const fv_conv_geometry *g, int use_bias, float relu_slope,
                              fv_dnnl_conv **out, fv_error *err);
void fv_dnnl_conv_forward(fv_dnnl_conv *c, const float *x, const float *w, const float *b, float *y);
void fv_dnnl_conv_backward(fv_dnnl_conv *c, const float *x, const float *w, const float *dy,
                           float *dx, float *dw, float *db);
void fv_dnnl_conv_free(fv_dnnl_conv *c);

/* kind: 1 max, 0 average excluding padding, 2 average including padding */
typedef struct fv_dnnl_pool fv_dnnl_pool;
fv_status fv_dnnl_pool_create(void *engine, int kind, int n, int h, int w, int c, int oh, int ow,
                              const int pool[2], const int stride[2], const int pad[4],
                              fv_dnnl_pool **out, fv_error *err);
void fv_dnnl_pool_forward(fv_dnnl_pool *p, const float *x, float *y, int training);
void fv_dnnl_pool_backward(fv_dnnl_pool *p, const float *dy, float *dx);
void fv_dnnl_pool_free(fv_dnnl_pool *p);

typedef struct fv_dnnl_bnorm fv_dnnl_bnorm;
fv_status fv_dnnl_bnorm_create(void *engine, int rows, int channels, float epsilon,
                               fv_dnnl_bnorm **out, fv_error *err);
/* training: writes mean and (biased) variance; inference: reads them. */
void fv_dnnl_bnorm_forward(fv_dnnl_bnorm *b, int training, const float *x, const float *gamma,
                           const float *beta, float *mean, float *variance, float *y);
void fv_dnnl_bnorm_backward(fv_dnnl_bnorm *b, int training, const float *x, const float *dy,
                            const float *gamma, const float *beta, const float *mean,
                            const float *variance, float *dx, float *dgamma, float *dbeta);
void fv_dnnl_bnorm_free(fv_dnnl_bnorm *b);

/* C[MxN] = A[MxK] (or its transpose) * B, row-major; beta 0 overwrites, 1 accumulates. */
void fv_dnnl_sgemm(char trans_a, char trans_b, int m, int n, int k, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);

void *fv_dnnl_engine_new(fv_error *err);
void fv_dnnl_engine_free(void *engine);
#endif

#endif
