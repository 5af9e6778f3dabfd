/* graph.h — the network's nodes and the two tables that give them behaviour:
 *   the op table (src/layers/table.c): per layer kind, its settings, shape inference,
 *     initialisation and reference forward/backward — the oracle;
 *   the backend tables (src/backends/registry.c): per backend, fast kernels for the ops it
 *     supports, chosen per node when the network is planned.
 * The core (graph building, planning, execution) reaches layers and backends only through these. */
#ifndef FOVEA_GRAPH_H
#define FOVEA_GRAPH_H

#include "core/util.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FV_MAX_INPUTS 64 /* densenet's concatenations take up to 49 */
#define FV_MAX_PARAMS 4
#define FV_NAME_MAX 64

/* ---- A layer kind's settings, declared once next to its op row: the model-text parser, the
 * definition writer, the defaults of the C constructors and the settings table of the docs are
 * all driven by these declarations. ---- */
typedef enum {
    FV_SET_COUNT,      /* a positive integer */
    FV_SET_SPATIAL,    /* positive integers, one per spatial axis ("3" means 3 on every axis) */
    FV_SET_PADDING,    /* valid | same | one value, one per axis, or (before, after) per axis;
                          offset: the fv_padding, offset2: the int[3][2] pads */
    FV_SET_BOOL,       /* true/false */
    FV_SET_FLOAT,
    FV_SET_ACTIVATION, /* an fv_activation by name */
    FV_SET_INIT,       /* glorot | he */
    FV_SET_SHAPE,      /* an fv_shape: 1 to FV_MAX_RANK positive integers */
    FV_SET_CHOICE,     /* an int: the index of one of the words in `choices` */
    FV_SET_AXES,       /* an int bit mask of per-sample axes: "0,2" (axis 0 is the first after the batch) */
    FV_SET_PADS,       /* int[FV_MAX_RANK][2]: (before, after) per per-sample axis, "1,1,2,2,0,0" */
    FV_SET_PERM,       /* an fv_shape holding a permutation of 0 .. rank-1: "2,0,1" */
    FV_SET_INTS,       /* an fv_shape holding 1 to 4 integers >= 0: "0,2,1" */
    FV_SET_INT,        /* an int, any sign */
    FV_SET_FLOATS      /* float[FV_MAX_SPATIAL], one per spatial axis ("0.5,0.5") */
} fv_setting_type;

#define FV_MAX_SETTINGS 32 /* per kind */
#define FV_COUNT(array) ((int)(sizeof(array) / sizeof *(array))) /* entries of a table: no count kept by hand */

typedef struct fv_setting {
    const char *key;
    fv_setting_type type;
    size_t offset, offset2;  /* into fv_layer */
    const char *fallback;    /* the default, as model text; NULL: the setting is required */
    const char *same_as;     /* no fallback: the default is this other setting's value */
    const char *help;        /* one line for the docs */
    const char *const *choices; /* FV_SET_CHOICE: the words, NULL-terminated */
} fv_setting;

/* A model-text word for a kind with some settings preset: "relu" is "activation function=relu". */
typedef struct fv_alias {
    const char *word;
    const char *preset;
} fv_alias;

/* ---- A parameter tensor declared by a layer while its shape is inferred. ---- */
typedef struct fv_param_decl {
    const char *name;
    int trainable;
    int rank;
    int dim[5];
    size_t count;
    size_t offset; /* into the network's parameter block */
} fv_param_decl;

struct fv_kernel;

/* What a plan is made for; every kernel's supports and plan are told. */
typedef struct fv_plan_options {
    int batch;
    fv_plan_mode mode;
    fv_precision precision;
    int replicas;          /* ranks sharing each batch (fv_net_set_comm); above 1, batch statistics are
                              summed across them, which only the reference batch norm does */
} fv_plan_options;

/* The operands of a node's products (an op with `products`) in a bf16 plan, each with room for
 * its values in a narrower type. */
enum { FV_CAST_IN, FV_CAST_OTHER, FV_CAST_D_OUT, FV_CASTS };

/* The type a value passes between layers in, when not float32 (fv_node's narrow_out), and as a
 * kernel's narrow says which it can read or write: bits. */
typedef enum { FV_NARROW_NONE = 0, FV_NARROW_BF16 = 1, FV_NARROW_INT8 = 2 } fv_narrow;

/* ---- One node of the graph. ---- */
typedef struct fv_node {
    fv_layer layer;            /* the user's settings, never rewritten */
    char name[FV_NAME_MAX];
    int inputs[FV_MAX_INPUTS];
    int n_inputs;
    fv_shape in_shape[FV_MAX_INPUTS];
    fv_shape out_shape;
    fv_param_decl params[FV_MAX_PARAMS];
    int n_params;
    int first_param;           /* index into the network's flat parameter list */
    size_t scratch_per_sample; /* bytes of per-sample scratch (argmax, dropout mask, ...) */
    size_t scratch_fixed;      /* bytes of scratch independent of the batch size */
    /* set by planning */
    float *out;                /* batch x out_shape */
    float *grad;               /* batch x out_shape; NULL in an inference plan */
    float *pre_grad;           /* inspection plans, a fused non-linear activation: d(pre-activation)
                                  lands here, so grad keeps d(output) (Grad-CAM reads it) */
    void *scratch;
    const struct fv_kernel *kernel; /* the backend kernel it runs, or NULL: the reference */
    void *kernel_state;        /* that kernel's primitives and buffers */
    float *logits;             /* output node with a softmax/sigmoid: its pre-activation */
    void *cast[FV_CASTS];      /* see fv_step's */
    /* bf16 and int8 inference plans (plan.c's narrow_edges): out holds bf16 values, or int8 ones
       (out / narrow_scale, quantised as the readers' inputs are), not floats, when every reader's
       kernel reads them so (fewer bytes, and no conversion before each convolution): an
       fv_narrow; narrow_in[j]: the type input j arrives in */
    unsigned char narrow_out;
    unsigned char narrow_in[FV_MAX_INPUTS];
    float narrow_scale;        /* FV_NARROW_INT8: the scale of its int8 values (the input scale every
                                  reader shares, or the node's own output scale: an add's) */
    float narrow_in_scale[FV_MAX_INPUTS]; /* FV_NARROW_INT8: input j's */
    /* bf16 and int8 inference plans (plan.c's fuse_sums): a convolution whose only reader is an
       add (in int8, one with an output scale) computes the add too, writing the add's output
       (add: its node; other: the add's other input, of type other_type and, int8, other_scale;
       activation: the add's), and that add's summed_by names it: its own step does nothing.
       0: none. */
    struct {
        int add, other;
        unsigned char other_type;
        float other_scale;
        fv_activation activation;
    } sum;
    int summed_by;
} fv_node;

/* What a layer's forward/backward sees for one step: pointers and sizes, nothing to own. */
typedef struct fv_step {
    int batch;
    int training;
    const float *in[FV_MAX_INPUTS]; /* batch x node->in_shape[i] */
    float *out;                     /* batch x node->out_shape */
    float *d_out;                   /* backward only; the node's own gradient, which its backward
                                       may overwrite (a fused activation's derivative, in place) */
    float *d_in[FV_MAX_INPUTS];     /* backward only; overwritten. NULL when that input's
                                       gradient is not wanted (the network input in training) */
    float *param[FV_MAX_PARAMS];    /* this node's parameters, in declaration order */
    float *d_param[FV_MAX_PARAMS];  /* overwritten */
    void *scratch;
    uint64_t noise_seed;            /* dropout: this node's seed; sample i's mask derives from it and
                                       first_sample + i, so it does not depend on how a batch is split */
    uint64_t first_sample;
    fv_comm *comm;                  /* training a replica: batch statistics are summed across ranks
                                       (fv_step_sum); NULL alone */
    double share;                   /* this rank's part of the whole batch: its gradients are scaled by
                                       it before they are summed (1 alone) */
    float *logits;                  /* output node only: keep the pre-activation here */
    int d_out_is_pre_activation;    /* output node only: a fused loss gave d(pre-activation) */
    float *d_pre;                   /* backward, inspection plans: where a fused activation's
                                       d(pre-activation) goes instead of over d_out (NULL: in place) */
    int guided;                     /* backward: guided backpropagation, ReLUs pass only positive
                                       gradients (saliency's "guided" method) */
    fv_precision precision;         /* the plan's: bf16 rounds the operands of the products */
    void *cast[FV_CASTS];           /* bf16 plans, an op with products: planned room (as many bytes
                                       as in fp32) for [FV_CAST_IN] in[0], [FV_CAST_OTHER] in[1] or
                                       the weights, [FV_CAST_D_OUT] d_out, in a narrower type; one
                                       block every node shares (only the running node's are live) */
    uint64_t weights_version;       /* inference plans: changes whenever the weights may have
                                       changed (a kernel keeping them in its own layout reorders
                                       them again); 0: unknown, compare them (training) */
} fv_step;

/* ---- The op table: each layer kind is one row. ---- */
typedef struct fv_op {
    fv_layer_kind kind;
    const char *word;        /* the model-text type: "conv2d" */
    const char *type_name;   /* Keras class name for the summary: "Conv2D" */
    const char *help;        /* one line for the docs */
    int spatial;             /* spatial axes of its FV_SET_SPATIAL/PADDING settings (0: none) */
    const fv_setting *settings;
    int n_settings;
    const fv_alias *aliases;
    int n_aliases;
    int min_inputs, max_inputs;
    /* Checks settings against the input shapes; sets out_shape, params, scratch sizes. */
    fv_status (*infer)(fv_node *node, fv_error *err);
    /* Seeded initial values of this node's parameters (NULL: all zero). */
    void (*init)(const fv_node *node, float **param, fv_rng *rng);
    /* The reference kernels. */
    void (*forward)(const fv_node *node, const fv_step *step);
    void (*backward)(const fv_node *node, const fv_step *step);
    /* The activation it applies to its output (fused or its own), or NULL for none. */
    fv_activation (*activation)(const fv_layer *layer, float *alpha);
    /* The summary's type name when it depends on the settings (NULL: type_name). */
    const char *(*label)(const fv_layer *layer);
    /* Its kernels accept d_in[0] = NULL and then skip that gradient (training, for the network
     * input). */
    int input_grad_optional;
    /* Its convolutions or matrix products follow the plan's precision: in bf16, their operands
     * (in[0], the weights or in[1], and d_out) rounded to bf16 with fv_step_operand. */
    int products;
} fv_op;

const fv_op *fv_op_for(fv_layer_kind kind);    /* src/layers/table.c */
const fv_op *fv_op_for_word(const char *word, const fv_alias **alias);
/* Settings (src/core/settings.c): parses one value into the layer; NULL on success, else why. */
const char *fv_setting_parse(const fv_setting *s, int spatial, const char *value, fv_layer *layer);
void fv_setting_format(const fv_setting *s, int spatial, const fv_layer *layer, fv_text *out);
const fv_setting *fv_setting_find(const fv_op *op, const char *key);
/* A same_as setting takes the value of the setting it follows (pooling's stride, its size). */
void fv_setting_follow(const fv_op *op, const fv_setting *s, fv_layer *layer);

/* ---- Backend tables. A kernel replaces an op's reference forward/backward for the nodes its
 * supports() accepts; plan creates its state once per batch size. ---- */
typedef struct fv_kernel {
    fv_layer_kind kind;
    const char *name;                                  /* "onednn" */
    int (*supports)(const fv_node *node, const fv_plan_options *opt);
    fv_status (*plan)(const fv_node *node, void *engine, const fv_plan_options *opt, void **state, fv_error *err);
    fv_status (*forward)(const fv_node *node, void *state, const fv_step *step, fv_error *err);
    fv_status (*backward)(const fv_node *node, void *state, const fv_step *step, fv_error *err);
    void (*release)(void *state);
    /* What the backend chose to run it with ("brgconv:avx512_core_amx_bf16"), or NULL (optional). */
    const char *(*implementation)(const void *state);
    /* bf16 and int8 inference plans: the types (fv_narrow bits) in which it can read input `slot`
       (>= 0), or write its output (-1), in a plan of that precision (int8 values quantised with
       the readers' input scale); node's narrow_in, narrow_out tell plan which it got; NULL:
       none. narrow_same: its output is narrow, in the same type, exactly when its input is
       (oneDNN's pooling keeps the type). */
    int (*narrow)(const fv_node *node, fv_precision precision, int slot);
    int narrow_same;
    /* bf16 and int8 inference plans: whether it can compute, after the node, an add with an
       activation (linear or ReLU) and a narrow output (node->sum), or NULL: never. An add kernel
       with `summed` leaves its node to the kernel that sums it. */
    int (*sums)(const fv_node *node, fv_precision precision, fv_activation activation);
    int summed;
} fv_kernel;

typedef struct fv_backend_ops {
    fv_backend id;
    const char *name;
    fv_status (*open)(void **engine, fv_error *err);   /* per planned network */
    void (*close)(void *engine);
    const fv_kernel *const *kernels;
    int n_kernels;
} fv_backend_ops;

/* NULL for the reference backend, and for one not compiled in (src/backends/registry.c). */
const fv_backend_ops *fv_backend_ops_for(fv_backend backend);

/* ---- What layers and the losses share. ---- */
void fv_node_declare_param(fv_node *node, const char *name, int trainable, int rank, const int *dim);
/* The activation a node applies to its output; linear when none. */
fv_activation fv_node_activation(const fv_node *node, float *alpha);

/* bfloat16 is float32's upper half: the sign, the 8 exponent bits and 7 mantissa bits. A float
 * rounded to it (the lower 16 bits to nearest, ties to even, as oneDNN and PyTorch convert), kept
 * as a float; NaN stays NaN, a value past the largest bf16 becomes infinity. */
static inline float fv_bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return x;
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&x, &u, sizeof x);
    return x;
}
/* A bf16 as stored (the upper half of a float's bits) and back: exact one way, rounded as
 * fv_bf16_round the other. */
static inline float fv_bf16_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
static inline uint16_t fv_float_to_bf16(float x) {
    uint32_t u;
    x = fv_bf16_round(x);
    memcpy(&u, &x, sizeof u);
    return (uint16_t)(u >> 16);
}
/* ONNX QuantizeLinear to int8 with zero point 0: saturate to [-128, 127], round half to even.
 * Clamping first changes nothing (every value beyond the range rounds to its end) and leaves
 * |v| small enough for the rounding of adding and taking away 1.5 x 2^23, which is the float
 * unit's own round-to-nearest-even: vectorised, where nearbyintf is a call into libm on plain
 * x86-64 (a third of ResNet50's int8 time went there). The int8 value, as a float. */
static inline float fv_quantize_int8(float x, float inv_scale) {
    const float magic = 12582912.0f;
    float v = x * inv_scale;
    v = v > -128.0f ? v : -128.0f; /* NaN too: never a float-to-int conversion out of range */
    v = v < 127.0f ? v : 127.0f;
    return (v + magic) - magic;
}

/* The operand src (n values) of a node's products as the step's precision has it: src itself in
 * fp32; in bf16, its values rounded, in the step's cast slot (FV_CAST_IN, ...). */
const float *fv_step_operand(const fv_step *s, int slot, const float *src, size_t n);

/* The input and the weights of a convolution or dense layer as the step's precision has them:
 * fv_step_operand's in fp32 and bf16; in int8, when the layer has an input scale, the values
 * quantised (x with that scale, the weights per output channel, the last of their axes, with
 * fv_weight_scale) and dequantised, in the step's cast slots (FV_CAST_IN, FV_CAST_OTHER). */
const float *fv_step_input(const fv_step *s, float input_scale, const float *x, size_t n);
const float *fv_step_weights(const fv_step *s, float input_scale, const float *w, size_t n, int channels);
/* int8 quantisation (ONNX QuantizeLinear, zero point 0: x / scale rounded half to even,
 * saturated to [-128, 127]) of weights per output channel (the last axis, of size `channels`)
 * with the symmetric scale max|w| / 127 of each (1 for an all-zero channel). The reference's
 * inputs are quantised the same way (fv_step_input); oneDNN's with a reorder. On x86 CPUs
 * without VNNI (fv_int8_weight_step 2) the weights are even, max|w| / 126 their scale. */
float fv_weight_scale(const float *w, size_t n, int channels, int c);
int fv_int8_weight_step(void);
/* The kinds int8 quantises (convolutions 1-D to 3-D, dense), and a layer's input scale (0: none). */
int fv_kind_quantisable(fv_layer_kind kind);
float fv_layer_input_scale(const fv_layer *layer);
/* A layer's output scale (an add's: its readers see the sum quantised with it; 0: none), and
 * the step's quantisation of y (n values) with it: in int8 plans y becomes scale x its int8 value
 * (QuantizeLinear then DequantizeLinear); otherwise nothing. */
float fv_layer_output_scale(const fv_layer *layer);
void fv_step_quantize(const fv_step *s, float output_scale, float *y, size_t n);
/* Sets every add's output scale from the input scales of the layers reading it (precision.c). */
void fv_net_quantize_sums(fv_net *net);
void fv_quantize_weights(const float *w, size_t n, int channels, int8_t *q, float *scale);
/* y (rows x channels) holds int32 sums (a backend's int8 products): each becomes
 * sum * scale[channel] + bias[channel] (bias may be NULL), in place. */
void fv_dequantize_rows(float *y, size_t rows, int channels, const float *scale, const float *bias);

/* Elementwise activation on rows of `channels` values (softmax needs the rows). */
void fv_activation_forward(fv_activation act, float alpha, float *y, size_t rows, int channels);
/* d_x = d_y * f'(x), computed from the output y (every supported f allows that). */
void fv_activation_backward(fv_activation act, float alpha, const float *y, const float *d_y,
                            float *d_x, size_t rows, int channels);
/* The same for a step: guided ReLUs when the step asks for them. */
void fv_step_activation_backward(const fv_step *s, fv_activation act, float alpha, const float *y, const float *d_y,
                                 float *d_x, size_t rows, int channels);
/* A layer's own activation on its output y (rows x channels): saves the logits first when the
 * step asks; on the way back turns d_out into d(pre-activation) (in place, or into d_pre when the
 * step has one), unless the activation is linear or a fused loss already gave it. */
void fv_step_activate(const fv_step *s, fv_activation act, float alpha, float *y, size_t rows, int channels);
const float *fv_step_activation_grad(const fv_step *s, fv_activation act, float alpha, size_t rows, int channels);
/* NumPy broadcasting over the axes after the batch (src/layers/binary.c), for binary and matmul:
 * the first na axes of a and nb of b, right-aligned, into out; 0, or the position from the right
 * (1, 2, ...) of the first pair of sizes that are neither equal nor 1. */
int fv_broadcast_dims(const fv_shape *a, int na, const fv_shape *b, int nb, fv_shape *out);
/* The strides of s's first `axes` axes right-aligned onto `slots` slots, in steps of `unit`
 * values, 0 along a slot of size 1 (broadcast). */
void fv_broadcast_strides(const fv_shape *s, int axes, int slots, size_t unit, size_t *stride);
/* A matmul node's products (src/layers/matmul.c): the leading (broadcast) axes of the output on
 * FV_MAX_RANK - 2 right-aligned slots, each input's matrix stride per slot (0 where it has size
 * 1), and the matrices' sizes, a (M, K) times b (K, P). The oneDNN backend loops over the same. */
typedef struct fv_matmul_plan {
    int lead[FV_MAX_RANK - 2];
    size_t step[2][FV_MAX_RANK - 2];
    int m, k, p;
} fv_matmul_plan;
void fv_matmul_plan_of(const fv_node *node, fv_matmul_plan *g);
/* The function a unary layer computes (src/layers/unary.c); the ONNX importer folds constants with it. */
float fv_unary_apply(const fv_unary_settings *u, float x);
/* Batch norm's moving statistics after a training forward (src/layers/batchnorm.c). */
void fv_batchnorm_update_moving(const fv_node *node, const fv_step *s);
/* Sums n doubles across the ranks sharing the step's batch (step->comm; nothing alone). After a
 * failure the values are zeros: the communicator fails every later call, and fit reports it. */
void fv_step_sum(const fv_step *s, double *values, size_t n);
/* db (C) = column sums of dy (rows x C): the bias gradient of dense and of every backend's dense. */
void fv_bias_gradient(const float *dy, size_t rows, int channels, float *db);
/* A kernel's seeded initial values (Glorot or He uniform, see fv_init). */
void fv_init_kernel(fv_init init, float *w, size_t count, int fan_in, int fan_out, fv_rng *rng);

/* The graph's hooks for the losses (src/train/loss.c). */
fv_node *fv_net_output(fv_net *net);
/* Backward from the gradient already in the output node's grad buffer; pre_activation says it is
 * d(pre-activation) of the output node's softmax/sigmoid (a fused loss). */
fv_status fv_net_backward_from_output_grad(fv_net *net, int pre_activation, fv_error *err);
/* Copies every parameter (trainable or not) into buf (to_net 0) or back (to_net 1). */
void fv_net_copy_weights(fv_net *net, float *buf, int to_net);

#endif
