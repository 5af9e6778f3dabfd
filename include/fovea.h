/* fovea.h — the one public header of fovea, a convolutional-network library in C.
 *
 * Read top to bottom: errors, shapes, layer settings, building a network (in C or from a
 * model-definition text), planning memory for a batch size, forward, backward, parameters,
 * summary.
 *
 * Data layout: every activation is float32, N x H x W x C (channels last, as in Keras).
 * Per-sample shapes have rank 1 (C), 2 (L, C), 3 (H, W, C) or 4 (D, H, W, C: video, volumes);
 * the batch dimension N is given when the network is planned. Convolution kernels are stored
 * [KD x] KH x KW x Cin/groups x Cout (Keras order), dense kernels Cin x Cout.
 *
 * Who owns what — one rule for every call:
 *   - A call that returns a pointer to a new object (fv_net_from_text, fv_net_load*, fv_model_load,
 *     fv_optimizer_new, fv_load_dataset, fv_image_load, fv_show_*, fv_deep_dream ...) gives it to
 *     the caller, who frees it with the matching fv_*_free (fv_net_free, fv_image_free ...);
 *     fv_*_free(NULL) does nothing.
 *   - A call that takes `float *out` (or a named output array) fills the caller's buffer; its
 *     comment gives the size in floats, or a *_size call returns it (fv_gradcam_size).
 *   - Pointers a network hands out (fv_net_node_output, fv_net_node_grad, fv_param_info's value
 *     and grad, fv_net_node_layer, names) are borrowed: valid until the network is planned again
 *     or freed. Only the planning calls plan it again: fv_net_plan*, and fv_fit, which plans for
 *     training when the network is not planned so (its comment says so). The attribution and
 *     dreaming calls never change a plan the caller made: on a network planned otherwise they run
 *     on an inspection twin the network keeps (its weights copied at each call).
 *   - const is honest: a call that takes `const fv_net *` changes nothing the caller can see
 *     (fv_net_param_read), and one that hands out writable weights takes `fv_net *` (fv_net_param).
 *   - Structs that grow (fv_fit_config, fv_optimizer_config, fv_saliency_config,
 *     fv_dream_config, fv_layer) are made by an init function (fv_fit_defaults, fv_sgd/fv_adam,
 *     fv_saliency_defaults, fv_dream_defaults, fv_layer_defaults and the layer constructors): a
 *     caller that starts from one gets a new field's default when it is added and rebuilds. The
 *     layout of the structs a binding mirrors is exported (fv_abi_layout) for it to check.
 */
#ifndef FOVEA_H
#define FOVEA_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors are values: every fallible call returns fv_status and fills fv_error. ---- */
typedef enum { FV_OK = 0, FV_ERR = -1 } fv_status;

typedef struct fv_error {
    char message[512]; /* "file:line: what is wrong", or "layer 'conv2d_1': ..." */
} fv_error;

/* "0.1.0": the library's version (the project's, in CMakeLists.txt). */
const char *fv_version(void);

/* A monotonic clock in seconds, for timing (fit's progress, the tool, the benchmark). */
double fv_time_seconds(void);

/* n values uniform in [0, 1) from the library's seeded generator (test inputs, noise). */
void fv_random_uniform(float *x, size_t n, uint64_t seed);

/* ---- Shapes: one sample's shape; the batch dimension is separate. ---- */
#define FV_MAX_RANK 4
typedef struct fv_shape {
    int rank;             /* 1: (C)   2: (L, C)   3: (H, W, C)   4: (D, H, W, C) */
    int dim[FV_MAX_RANK]; /* channels are always dim[rank-1] */
} fv_shape;

size_t fv_shape_count(fv_shape s);                           /* elements per sample */
int fv_shape_format(fv_shape s, char *buf, size_t size);    /* "(None, 26, 26, 32)" */

/* ---- Layer settings. A layer takes only its own settings; input shapes are inferred. ---- */
typedef enum {
    FV_LAYER_INPUT,
    FV_LAYER_CONV2D,
    FV_LAYER_CONV1D,
    FV_LAYER_DENSE,
    FV_LAYER_MAXPOOL2D,
    FV_LAYER_AVGPOOL2D,
    FV_LAYER_SUMPOOL2D,
    FV_LAYER_GLOBAL_AVGPOOL,
    FV_LAYER_FLATTEN,
    FV_LAYER_DROPOUT,
    FV_LAYER_BATCHNORM,
    FV_LAYER_ADD,
    FV_LAYER_ACTIVATION,
    FV_LAYER_CONV3D,
    FV_LAYER_MAXPOOL3D,
    FV_LAYER_AVGPOOL3D,
    FV_LAYER_CONCAT,
    FV_LAYER_RESHAPE,
    FV_LAYER_AFFINE,
    FV_LAYER_PRELU,
    FV_LAYER_BINARY,
    FV_LAYER_UNARY,
    FV_LAYER_REDUCE,
    FV_LAYER_PAD,
    FV_LAYER_TRANSPOSE,
    FV_LAYER_SLICE,
    FV_LAYER_TENSOR,
    FV_LAYER_RESIZE,
    FV_LAYER_CONV2D_TRANSPOSE,
    FV_LAYER_MATMUL,
    FV_LAYER_KIND_COUNT
} fv_layer_kind;

typedef enum {
    FV_ACT_LINEAR,
    FV_ACT_RELU,
    FV_ACT_LEAKY_RELU,
    FV_ACT_SIGMOID,
    FV_ACT_TANH,
    FV_ACT_SOFTMAX, /* over the last axis (channels) */
    FV_ACT_RELU6,   /* min(max(x, 0), 6): MobileNet's (ONNX Clip 0..6) */
    FV_ACT_HARD_SIGMOID, /* max(0, min(1, alpha x + 0.5)): PyTorch's with alpha 1/6, ONNX's default 0.2 */
    FV_ACT_LOG_SOFTMAX,  /* log(softmax(x)) over the last axis */
    FV_ACT_COUNT
} fv_activation;

typedef enum {
    FV_PAD_VALID,    /* no padding */
    FV_PAD_SAME,     /* output = ceil(input / stride); extra padding goes bottom/right (TF/Keras) */
    FV_PAD_EXPLICIT  /* pad_top, pad_bottom, pad_left, pad_right as given */
} fv_padding;

typedef enum {
    FV_INIT_GLOROT_UNIFORM, /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)): Keras' default */
    FV_INIT_HE_UNIFORM      /* U(-l, l), l = sqrt(6 / fan_in): for ReLU networks */
} fv_init;

/* Each kind has its own settings; fv_layer holds the kind and the settings of that kind alone.
 * Spatial settings list one value per spatial axis, in the input's order: conv1d (L), conv2d
 * (H, W), conv3d (D, H, W). models/README.md lists every setting with its default and meaning
 * (that table is generated from the layers' declarations: `fovea layers`). */
#define FV_MAX_SPATIAL 3

typedef struct fv_input_settings {
    fv_shape shape;            /* one sample */
} fv_input_settings;

typedef struct fv_conv_settings { /* conv1d, conv2d, conv3d, conv2d_transpose */
    int filters;               /* output channels */
    int kernel[FV_MAX_SPATIAL];
    int stride[FV_MAX_SPATIAL];
    int dilation[FV_MAX_SPATIAL]; /* kernel taps this far apart (1: dense kernel) */
    fv_padding padding;
    int pad[FV_MAX_SPATIAL][2];   /* FV_PAD_EXPLICIT: (before, after) per spatial axis */
    int groups;                /* channels split into groups (depthwise: groups = input channels) */
    int use_bias;
    fv_activation activation;  /* fused after the convolution */
    float alpha;               /* leaky ReLU slope for x < 0 */
    fv_init init;              /* the kernel's initialisation (the bias starts at 0) */
    int output_padding[FV_MAX_SPATIAL]; /* conv2d_transpose: extra output rows/columns at the end */
    float input_scale;         /* conv1d/2d/3d, int8 plans: the input's quantisation scale (fv_quantize); 0: fp32 */
} fv_conv_settings;

typedef struct fv_dense_settings {
    int units;
    int use_bias;
    fv_activation activation;
    float alpha;
    fv_init init;
    float input_scale; /* int8 plans: the input's quantisation scale (fv_quantize); 0: fp32 */
} fv_dense_settings;

typedef struct fv_pool_settings { /* max/avg/sum pooling, 2-D and 3-D */
    int size[FV_MAX_SPATIAL];  /* the window */
    int stride[FV_MAX_SPATIAL];
    fv_padding padding;
    int pad[FV_MAX_SPATIAL][2];
} fv_pool_settings;

typedef struct fv_dropout_settings {
    float rate;                /* fraction of units dropped in training */
} fv_dropout_settings;

typedef struct fv_batchnorm_settings { /* Keras conventions: moving = momentum*moving + (1-momentum)*batch */
    float momentum;
    float epsilon;
} fv_batchnorm_settings;

typedef struct fv_add_settings {
    fv_activation activation;  /* applied to the sum (linear: none) */
    float alpha;               /* leaky ReLU slope */
    float output_scale;        /* int8 plans: the sum's quantisation scale (fv_quantize): every reader
                                  sees it quantised, as a QuantizeLinear/DequantizeLinear pair after
                                  it says in ONNX; 0: float */
} fv_add_settings;

typedef struct fv_flatten_settings {
    int channels_first;        /* flatten in (C, H, W) order, as PyTorch and ONNX do (imported
                                  networks); else channels-last (H, W, C), as Keras */
} fv_flatten_settings;

typedef struct fv_reshape_settings {
    fv_shape shape;            /* one sample, the input's count of values */
} fv_reshape_settings;

typedef struct fv_activation_settings {
    fv_activation function;
    float alpha;               /* leaky ReLU slope */
} fv_activation_settings;

/* Elementwise operations of two computed tensors, NumPy broadcasting over the axes after the
 * batch: a per-channel gate (1, 1, C) times maps (H, W, C) is the common case. */
typedef enum { FV_BINARY_ADD, FV_BINARY_SUB, FV_BINARY_MUL, FV_BINARY_DIV, FV_BINARY_MAX, FV_BINARY_MIN, FV_BINARY_POW,
               FV_BINARY_COUNT } fv_binary_op;
typedef struct fv_binary_settings {
    fv_binary_op op;
} fv_binary_settings;

typedef enum { FV_UNARY_EXP, FV_UNARY_LOG, FV_UNARY_SQRT, FV_UNARY_ERF, FV_UNARY_ABS, FV_UNARY_NEG, FV_UNARY_RECIPROCAL,
               FV_UNARY_ELU, FV_UNARY_SELU, FV_UNARY_CELU, FV_UNARY_THRESHOLDED_RELU, FV_UNARY_SHRINK, FV_UNARY_SOFTPLUS,
               FV_UNARY_SOFTSIGN, FV_UNARY_HARD_SWISH, FV_UNARY_SIN, FV_UNARY_COS, FV_UNARY_TAN, FV_UNARY_ASIN, FV_UNARY_ACOS,
               FV_UNARY_ATAN, FV_UNARY_SINH, FV_UNARY_COSH, FV_UNARY_ASINH, FV_UNARY_ACOSH, FV_UNARY_ATANH, FV_UNARY_FLOOR,
               FV_UNARY_CEIL, FV_UNARY_ROUND, FV_UNARY_SIGN, FV_UNARY_CLIP, FV_UNARY_SILU, FV_UNARY_GELU, FV_UNARY_COUNT } fv_unary_op;
typedef struct fv_unary_settings {
    fv_unary_op op;
    float alpha, beta; /* the function's constants (NaN: its own defaults, see unary.c): elu and celu's alpha, selu's
                          alpha and scale, thresholded_relu's threshold, shrink's lambda and bias, clip's bounds */
} fv_unary_settings;

typedef enum { FV_REDUCE_MEAN, FV_REDUCE_SUM, FV_REDUCE_MAX, FV_REDUCE_MIN, FV_REDUCE_PROD, FV_REDUCE_SUM_SQUARE, FV_REDUCE_L1,
               FV_REDUCE_L2, FV_REDUCE_LOG_SUM, FV_REDUCE_LOG_SUM_EXP, FV_REDUCE_COUNT } fv_reduce_op;
typedef struct fv_reduce_settings {
    fv_reduce_op op;
    int axes;                  /* bit a: reduce per-sample axis a (0 is the first after the batch) */
    int keepdims;              /* keep reduced axes as size 1 */
} fv_reduce_settings;

typedef enum { FV_PAD_CONSTANT, FV_PAD_REFLECT, FV_PAD_EDGE, FV_PAD_MODE_COUNT } fv_pad_mode;
typedef struct fv_pad_settings {
    int pads[FV_MAX_RANK][2];  /* (before, after) per per-sample axis */
    fv_pad_mode mode;          /* constant (value), reflect (no edge repeated), edge (repeated) */
    float value;
} fv_pad_settings;

typedef struct fv_transpose_settings {
    fv_shape perm;             /* output axis i is input axis perm.dim[i] (axes after the batch) */
} fv_transpose_settings;

typedef struct fv_slice_settings { /* per axis after the batch: elements begin, begin + step, ... (size of them) */
    fv_shape begin, size, step;
} fv_slice_settings;

typedef struct fv_concat_settings {
    int axis;                  /* the axis after the batch joined along; -1: the last (channels) */
} fv_concat_settings;

typedef struct fv_tensor_settings {
    fv_shape shape;            /* the learned tensor's shape: one sample's */
} fv_tensor_settings;

typedef enum { FV_RESIZE_NEAREST, FV_RESIZE_LINEAR, FV_RESIZE_MODE_COUNT } fv_resize_mode;
typedef enum { FV_RESIZE_HALF_PIXEL, FV_RESIZE_PYTORCH_HALF_PIXEL, FV_RESIZE_ALIGN_CORNERS, FV_RESIZE_ASYMMETRIC,
               FV_RESIZE_COORD_COUNT } fv_resize_coordinates;
typedef enum { FV_RESIZE_ROUND_PREFER_FLOOR, FV_RESIZE_ROUND_PREFER_CEIL, FV_RESIZE_FLOOR, FV_RESIZE_CEIL,
               FV_RESIZE_NEAREST_COUNT } fv_resize_nearest;
typedef struct fv_resize_settings {
    fv_shape size;             /* the output's spatial size */
    fv_resize_mode mode;
    fv_resize_coordinates coordinates; /* which source position an output position reads (ONNX's modes) */
    fv_resize_nearest nearest;  /* nearest's rounding */
    float scale[FV_MAX_SPATIAL]; /* output / input per spatial axis in the coordinate mapping; 0: size / input
                                    (ONNX's scales may differ from the sizes they round to) */
} fv_resize_settings;

typedef struct fv_layer {
    fv_layer_kind kind;
    union { /* the member named after the kind; global_avgpool, affine, prelu, matmul have none */
        fv_input_settings input;
        fv_conv_settings conv;
        fv_dense_settings dense;
        fv_pool_settings pool;
        fv_dropout_settings dropout;
        fv_batchnorm_settings batchnorm;
        fv_add_settings add;
        fv_flatten_settings flatten;
        fv_reshape_settings reshape;
        fv_binary_settings binary;
        fv_unary_settings unary;
        fv_reduce_settings reduce;
        fv_pad_settings pad;
        fv_transpose_settings transpose;
        fv_slice_settings slice;
        fv_concat_settings concat;
        fv_tensor_settings tensor;
        fv_resize_settings resize;
        fv_activation_settings activation;
    };
} fv_layer;

/* Constructors with Keras-like defaults (those of models/README.md); change settings afterwards. */
fv_layer fv_layer_defaults(fv_layer_kind kind);
fv_layer fv_input_layer(fv_shape shape);
fv_layer fv_conv2d(int filters, int kernel_h, int kernel_w);   /* stride 1, valid, bias, linear */
fv_layer fv_conv1d(int filters, int kernel);
fv_layer fv_conv3d(int filters, int kernel_d, int kernel_h, int kernel_w);
fv_layer fv_dense(int units);                                   /* bias, linear */
fv_layer fv_maxpool2d(int pool_h, int pool_w);                  /* stride = pool, valid */
fv_layer fv_avgpool2d(int pool_h, int pool_w);
fv_layer fv_sumpool2d(int pool_h, int pool_w);
fv_layer fv_maxpool3d(int pool_d, int pool_h, int pool_w);
fv_layer fv_avgpool3d(int pool_d, int pool_h, int pool_w);
fv_layer fv_global_avgpool(void);
fv_layer fv_flatten(void);
fv_layer fv_dropout(float rate);
fv_layer fv_batchnorm(void);                                    /* momentum 0.99, epsilon 1e-3 */
fv_layer fv_add(void);
fv_layer fv_concat(void);                                       /* along channels (settings.concat.axis: another) */
fv_layer fv_activation_layer(fv_activation act);               /* leaky ReLU alpha 0.01 */
fv_layer fv_reshape(fv_shape shape);                            /* memory order kept */
fv_layer fv_prelu(void);       /* a learned slope per channel, 0.25 at first */
fv_layer fv_affine(void);      /* x * scale + shift, constants of the sample's shape (1 and 0 at first) */
fv_layer fv_binary(fv_binary_op op);          /* two inputs, broadcast */
fv_layer fv_unary(fv_unary_op op);
fv_layer fv_reduce(fv_reduce_op op, int axes, int keepdims);
fv_layer fv_pad(fv_pad_mode mode, float value); /* set pads[axis][0/1] afterwards */
fv_layer fv_transpose(const int *perm, int rank);  /* axes after the batch */
fv_layer fv_slice(int rank);                       /* whole axes, step 1: set begin/size/step.dim[a] */
fv_layer fv_tensor(fv_shape shape);                /* a learned tensor given to every sample (zeros at first) */
fv_layer fv_resize(const int *size, int spatial, fv_resize_mode mode); /* half-pixel coordinates */
fv_layer fv_conv2d_transpose(int filters, int kernel_h, int kernel_w); /* stride 1, no padding, bias */
fv_layer fv_matmul(void);  /* two inputs (.., M, K) x (.., K, P), the leading axes broadcast */

const char *fv_layer_kind_name(fv_layer_kind kind);   /* "conv2d" */
const char *fv_activation_name(fv_activation act);     /* "relu" */
/* The settings table of every layer kind in Markdown (key, default, meaning), as models/README.md
 * shows it; like snprintf. */
int fv_layer_settings_markdown(char *buf, size_t size);

/* ---- Building a network. ---- */
typedef struct fv_net fv_net;

typedef enum {
    FV_BACKEND_REFERENCE, /* plain C kernels: readable, the oracle */
    FV_BACKEND_ONEDNN     /* oneDNN primitives and sgemm for the hot ops */
} fv_backend;

int fv_backend_available(fv_backend backend);  /* 1 if compiled in */
fv_backend fv_backend_default(void);           /* oneDNN when compiled in, else reference */
const char *fv_backend_name(fv_backend backend);

/* The precision of a network's products (convolutions, dense, matmul), as a Keras dtype policy:
 *   fp32  everything in float32;
 *   bf16  mixed precision, the recipe of torch.autocast("cpu", dtype=torch.bfloat16): the
 *         operands of every product (inputs, weights, and on the way back the output gradient)
 *         rounded to bfloat16 (round to nearest even), the products summed in float32, everything
 *         else (activations between layers, batch norm, losses, the weights and the optimizer's
 *         state) float32. The reference backend defines it in plain C on any CPU; oneDNN runs
 *         its bf16 primitives (AMX or AVX-512 BF16 where the CPU has them).
 *   int8  post-training quantisation, for inference and the look-inside commands (not training):
 *         every convolution and dense layer with an input scale (fv_quantize sets them) runs on
 *         int8 operands, ONNX QuantizeLinear's arithmetic: its input x as round(x / s) saturated
 *         to [-128, 127] with its calibrated scale s, its weights per output channel the same way
 *         with the scale max|w| / 127 of that channel; the products summed exactly (int32) and
 *         scaled back to float32. Layers without a scale, and everything else, stay float32.
 *         Gradients (saliency, Grad-CAM) pass straight through the rounding.
 * Set before planning; every later plan (and fit's) uses it. */
typedef enum { FV_PRECISION_FP32, FV_PRECISION_BF16, FV_PRECISION_INT8 } fv_precision;
const char *fv_precision_name(fv_precision precision);                  /* "bf16" */
fv_status fv_precision_parse(const char *word, fv_precision *out, fv_error *err);

fv_net *fv_net_new(const char *name, fv_error *err);
void fv_net_free(fv_net *net);

/* Adds a layer reading the output of the previously added layer (a sequential model).
 * Returns the new node's index (>= 0), or -1 with err filled (e.g. a shape mismatch, naming
 * the layer). name may be NULL for an automatic Keras-like name ("conv2d_1"). */
int fv_net_add(fv_net *net, const fv_layer *layer, const char *name, fv_error *err);

/* Adds a layer reading the outputs of any earlier nodes (a DAG: residual networks). */
int fv_net_add_from(fv_net *net, const fv_layer *layer, const char *name, const int *inputs,
                    int n_inputs, fv_error *err);

/* Parses a model definition (see models/README.md). source names the text in errors. */
fv_net *fv_net_from_text(const char *text, const char *source, fv_error *err);
fv_net *fv_net_load_definition(const char *path, fv_error *err);
/* Writes the network back as a model definition (every setting explicit); like snprintf. */
int fv_net_to_text(const fv_net *net, char *buf, size_t size);
const char *fv_net_name(const fv_net *net);

/* ---- Planning: parameters are created (seeded initialisation) on the first plan; all
 * activation, gradient and scratch memory for this batch size is allocated here, once.
 * Forward and backward never allocate. A plan has a purpose:
 *   training    every activation and every gradient has its own buffer (what fit needs);
 *   inspection  the same, with the gradient down to the input always computed: feature maps,
 *               saliency and Grad-CAM read any node's output and gradient (no optimizer);
 *   inference   no gradient buffers at all; a node's output buffer is reused once its last
 *               reader has run, so only the network's output stays readable after
 *               forward; backward and optimizers are refused. ---- */
typedef enum { FV_PLAN_TRAINING, FV_PLAN_INSPECTION, FV_PLAN_INFERENCE } fv_plan_mode;
const char *fv_plan_mode_name(fv_plan_mode mode);   /* "training" */

/* A training plan (the input gradient on; fit turns it off while it runs). */
fv_status fv_net_plan(fv_net *net, int batch, fv_backend backend, uint64_t seed, fv_error *err);
fv_status fv_net_plan_mode(fv_net *net, int batch, fv_backend backend, fv_plan_mode mode, uint64_t seed,
                           fv_error *err);
fv_plan_mode fv_net_mode(const fv_net *net);

/* The bytes a plan would allocate, computed without allocating. */
typedef struct fv_plan_memory {
    size_t parameters, parameter_grads; /* parameter_grads: 0 for inference */
    size_t activations;                 /* node outputs (and the output's logits) */
    size_t activation_grads;            /* 0 for inference */
    size_t scratch;                     /* per-layer work space (max-pool argmax, dropout masks) */
    size_t largest_activation;          /* the largest single node output */
} fv_plan_memory;
fv_status fv_net_plan_memory(const fv_net *net, int batch, fv_plan_mode mode, fv_plan_memory *out, fv_error *err);
/* Which kernel a node runs in the current plan: "reference" or the backend's kernel name
 * ("onednn"); NULL before planning. */
const char *fv_net_node_kernel(const fv_net *net, int node);
/* What a backend kernel chose for it, as the backend names it (oneDNN: its implementation and
 * instruction set, "brgconv:avx512_core_amx_bf16"); NULL when it does not say, or before planning. */
const char *fv_net_node_implementation(const fv_net *net, int node);
/* The bits of the type a bf16 or int8 inference plan keeps the node's output in for the layers
 * that read it (the writer and every reader run on that type: no conversion between them): 16
 * (bf16), 8 (int8, quantised with its readers' input scale), or 0: floats. Narrow values are not
 * floats (fv_net_node_output): look inside with an inspection plan. */
int fv_net_node_narrow(const fv_net *net, int node);
/* The node whose kernel computes this node's output in the current plan, or -1: its own. In int8
 * plans on oneDNN a convolution computes the residual add after it (an add with an output scale,
 * read by nothing else), writing the add's output in int8. */
int fv_net_node_computed_by(const fv_net *net, int node);
/* Sets the int8 input scale of a convolution (1-D to 3-D) or dense node (its input_scale
 * setting; 0: it stays fp32 in int8 plans), as post-training quantisation does (fv_quantize).
 * The network's plan is released: plan it again before running it. */
fv_status fv_net_set_input_scale(fv_net *net, int node, float scale, fv_error *err);
/* The precision of the current plan (fp32 before planning). */
fv_precision fv_net_planned_precision(const fv_net *net);
/* Creates the parameters (seeded) without planning; nothing happens if they exist already. */
fv_status fv_net_init_params(fv_net *net, uint64_t seed, fv_error *err);
int fv_net_batch(const fv_net *net);
fv_backend fv_net_backend(const fv_net *net);
/* The precision of the next plans (fp32 by default); the current plan keeps its own until the
 * network is planned again. */
void fv_net_set_precision(fv_net *net, fv_precision precision);
fv_precision fv_net_precision(const fv_net *net);

/* Whether backward computes the gradient w.r.t. the network input (on by default: saliency maps
 * need it; fit turns it off, since training does not). */
int fv_net_want_input_grad(fv_net *net, int on); /* returns the previous setting */

/* Restarts the random stream that dropout draws from (planning also seeds it). Each sample's
 * mask derives from this seed, the layer and the sample's place in the run (fv_fit numbers the
 * samples of an epoch 0, 1, ...), so a batch split across ranks drops what one process would. */
void fv_net_reseed(fv_net *net, uint64_t seed);
void fv_net_set_first_sample(fv_net *net, uint64_t first); /* the next batch's first sample number (0 after reseed) */

/* The parameter gradients as one flat block of *count floats: every fv_param_info.grad points
 * into it, in fv_net_param order with padding between (zero). NULL before a training or
 * inspection plan. What a data-parallel step sums across ranks. */
float *fv_net_gradient_block(fv_net *net, size_t *count);

/* input: batch x input shape, copied in. training selects dropout and batch statistics. */
fv_status fv_net_forward(fv_net *net, const float *input, int training, fv_error *err);

/* d_output: gradient of the loss w.r.t. the last node's output (batch x its shape).
 * Fills every node's gradient and every parameter's gradient (overwritten, not summed). */
fv_status fv_net_backward(fv_net *net, const float *d_output, fv_error *err);

/* ---- Nodes: any layer's output (feature maps) and gradient can be read after a step. ---- */
int fv_net_node_count(const fv_net *net);
int fv_net_find(const fv_net *net, const char *name);       /* node index or -1 */
const char *fv_net_node_name(const fv_net *net, int node);
const fv_layer *fv_net_node_layer(const fv_net *net, int node);
/* The activation a node applies to its output, fused or its own (its op row's; linear when none,
 * and for a node that does not exist); *alpha gets its parameter when alpha is not NULL. */
fv_activation fv_net_node_activation(const fv_net *net, int node, float *alpha);
fv_shape fv_net_node_shape(const fv_net *net, int node);   /* output shape, one sample */
/* batch x shape, after forward. In an inference plan buffers are shared: only the output node's
 * is meant to be read (plan for inspection to read every layer's). */
float *fv_net_node_output(fv_net *net, int node);
/* d loss / d output after backward. In a training plan a conv/dense layer with a fused activation
 * holds d loss / d(pre-activation) here (its derivative is applied in place, saving memory); an
 * inspection plan keeps d loss / d output for every node. NULL in an inference plan. */
float *fv_net_node_grad(fv_net *net, int node);
int fv_net_output_node(const fv_net *net);                 /* the last node added */
/* The nodes a node reads; returns how many (at most max are written). */
int fv_net_node_inputs(const fv_net *net, int node, int *inputs, int max);

/* ---- Parameters: all live in one block, their gradients in another. ---- */
typedef struct fv_param_info {
    const char *name;  /* "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "scale", "shift", "alpha" */
    int node;
    int trainable;
    int rank;
    int dim[5];        /* conv3d kernels have rank 5 */
    size_t count;
    float *value;      /* NULL before the first plan */
    float *grad;       /* NULL in an inference plan */
} fv_param_info;

int fv_net_param_count(const fv_net *net);                       /* parameter tensors */
/* A parameter tensor, to write: value (and grad) may be written. An inference plan keeps some
 * weights converted to its kernels' layouts and converts them again at the next forward after a
 * call to this function: write through a pointer this call returned after the last forward (or
 * call it again before the next one). */
fv_status fv_net_param(fv_net *net, int index, fv_param_info *out, fv_error *err);
/* The same, to read only: nothing may be written through value or grad. */
fv_status fv_net_param_read(const fv_net *net, int index, fv_param_info *out, fv_error *err);
int fv_net_find_param(const fv_net *net, int node, const char *name); /* index or -1 */
size_t fv_net_weight_count(const fv_net *net, int trainable_only);   /* scalars */

/* ---- Losses. Targets have the output's shape: one-hot (or soft) rows for class losses. ---- */
typedef enum {
    FV_LOSS_SOFTMAX_CROSS_ENTROPY, /* on logits: the output layer's softmax is fused in (or linear output) */
    FV_LOSS_BINARY_CROSS_ENTROPY,  /* on logits: the output layer's sigmoid is fused in (or linear output) */
    FV_LOSS_MSE,                   /* mean over every output value */
    FV_LOSS_HINGE,                 /* multi-class margin loss, as torch.nn.MultiMarginLoss */
    FV_LOSS_COUNT
} fv_loss_kind;

typedef struct fv_loss {
    fv_loss_kind kind;
    float label_smoothing; /* cross-entropies: targets become t(1-e) + e/classes */
} fv_loss;

const char *fv_loss_name(fv_loss_kind kind);
/* Mean loss of the last forward pass; a non-finite loss is an error ("training diverged"). */
fv_status fv_net_loss(fv_net *net, fv_loss loss, const float *targets, double *value, fv_error *err);
/* The same, then backward from it: fills every gradient. */
fv_status fv_net_loss_backward(fv_net *net, fv_loss loss, const float *targets, double *value, fv_error *err);

/* ---- Optimizers (as PyTorch defines them) and learning-rate schedules. ---- */
typedef enum { FV_OPT_SGD, FV_OPT_ADAM } fv_optimizer_kind;
typedef enum { FV_SCHEDULE_CONSTANT, FV_SCHEDULE_STEP, FV_SCHEDULE_COSINE } fv_schedule_kind;

typedef struct fv_optimizer_config {
    fv_optimizer_kind kind;
    float learning_rate;
    float momentum;          /* SGD */
    int nesterov;            /* SGD */
    float weight_decay;      /* L2: weight_decay * w is added to the gradient */
    float beta1, beta2, epsilon; /* Adam */
    fv_schedule_kind schedule;
    int step_epochs;         /* step: multiply by gamma every step_epochs epochs */
    float gamma;
    int cosine_epochs;       /* cosine: from learning_rate down to min_learning_rate over this many */
    float min_learning_rate;
} fv_optimizer_config;

fv_optimizer_config fv_sgd(float learning_rate, float momentum);
fv_optimizer_config fv_adam(float learning_rate); /* betas 0.9, 0.999, epsilon 1e-8 */
const char *fv_optimizer_name(fv_optimizer_kind kind);

typedef struct fv_optimizer fv_optimizer;
/* Allocates the state for every trainable parameter of a planned network. */
fv_optimizer *fv_optimizer_new(fv_net *net, const fv_optimizer_config *config, fv_error *err);
void fv_optimizer_free(fv_optimizer *opt);
float fv_optimizer_learning_rate(const fv_optimizer *opt, int epoch); /* epoch counts from 0 */
/* One update of every trainable parameter from its gradient; the network must have a training plan. */
fv_status fv_optimizer_step(fv_optimizer *opt, float learning_rate, fv_error *err);
/* The state, for saving and resuming: `steps` taken and `count` floats of moments. */
const fv_optimizer_config *fv_optimizer_get_config(const fv_optimizer *opt);
float *fv_optimizer_state(fv_optimizer *opt, size_t *count, uint64_t **steps);

/* ---- Datasets: images as float pixels in [0, 1], N x H x W x C, with integer class labels. ---- */
#define FV_CLASS_NAME_MAX 64
typedef struct fv_dataset {
    size_t count;
    fv_shape shape;           /* one sample */
    float *x;                 /* count x shape */
    int32_t *labels;          /* count class indices in [0, n_classes) */
    int n_classes;
    char (*class_names)[FV_CLASS_NAME_MAX]; /* n_classes names (the label, "3", when unknown) */
} fv_dataset;

/* MNIST / Fashion-MNIST IDX files, plain or gzip-compressed (detected from the bytes). */
fv_dataset *fv_load_idx(const char *images_path, const char *labels_path, fv_error *err);
/* CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (R, G, B planes). */
fv_dataset *fv_load_cifar10(const char *const *paths, int n_paths, fv_error *err);
/* NumPy .npy: images uint8 (scaled by 1/255) or float32, (N, H, W[, C]) or (N, D), C order;
 * labels any integer type or float32 holding integers, shape (N) or (N, 1). */
fv_dataset *fv_load_npy(const char *images_path, const char *labels_path, fv_error *err);
/* HDF5 in the Happy House schema: `prefix`_x (N, H, W, C uint8), `prefix`_y (N) and
 * list_classes; prefix is "train_set" or "test_set". */
fv_dataset *fv_load_hdf5(const char *path, const char *prefix, fv_error *err);
/* A folder with one subfolder of PNG/JPEG images per class (classes sorted by name). Images are
 * resized to height x width (0, 0: the first image's size) with `channels` 1 or 3. */
fv_dataset *fv_load_image_folder(const char *dir, int height, int width, int channels, fv_error *err);
/* One image file (PNG/JPEG/BMP/GIF) as height x width x channels floats in [0, 1], resized when
 * its size differs. out holds height * width * channels floats. */
fv_status fv_load_image(const char *path, int height, int width, int channels, float *out, fv_error *err);
/* torchvision's photo preprocessing before the mean/std: the image resized so that its shorter
 * side is `shorter` pixels (aspect kept), then the central height x width crop (ImageNet models:
 * 256, 224 x 224). */
fv_status fv_load_image_cropped(const char *path, int shorter, int height, int width, int channels, float *out, fv_error *err);
/* The same from encoded bytes in memory (PNG/JPEG/BMP/GIF; shorter 0: resized, not cropped); name
 * (what the caller calls them) starts every error. */
fv_status fv_decode_image(const void *bytes, size_t size, const char *name, int shorter, int height, int width, int channels, float *out,
                          fv_error *err);
/* Encoded bytes' size as their header gives it, without decoding the pixels. */
fv_status fv_decode_image_size(const void *bytes, size_t size, const char *name, int *height, int *width, fv_error *err);
/* By name: "fashion-mnist" (Debian's dataset-fashion-mnist), a directory of IDX files, a CIFAR-10
 * directory, a .h5 file, or an image folder; `split` is "train" or "test". */
fv_dataset *fv_load_dataset(const char *spec, const char *split, fv_error *err);
void fv_dataset_free(fv_dataset *data);
/* Moves the last `fraction` of the samples into a new dataset (as Keras' validation_split). */
fv_dataset *fv_dataset_split(fv_dataset *data, double fraction, fv_error *err);
/* Subtracts mean and divides by std, per channel (arrays of shape.dim[rank-1] values). */
void fv_dataset_normalize(fv_dataset *data, const float *mean, const float *std);
/* Sets the dataset's class count to a network's (fv_net_classes): widened, the new classes are
 * named by number, so that a test subset lacking the last classes has as many class names as the
 * network's metrics have rows. Fails when a label is n_classes or more. */
fv_status fv_dataset_set_classes(fv_dataset *data, int n_classes, fv_error *err);

/* ---- Training: fit, evaluate, predict. ---- */
typedef struct fv_batch_log {
    int epoch, epochs;        /* epoch counts from 1 */
    int batch, batches;
    double loss, accuracy;    /* running means over the epoch so far */
    double seconds;           /* since the epoch began */
} fv_batch_log;

typedef struct fv_epoch_log {
    int epoch, epochs;
    double loss, accuracy;
    int has_validation;
    double val_loss, val_accuracy;
    float learning_rate;
    double seconds;
} fv_epoch_log;

/* Where training stands inside an epoch: what a mid-epoch checkpoint keeps to continue exactly.
 * (The epoch's sample order derives from the seed and the epoch, so it is not stored.) */
typedef struct fv_fit_position {
    int epoch;                /* the epoch under way, counting from 0 */
    int batch;                /* its batches done */
    uint64_t augment_rng;     /* unused (0): augmentation and dropout derive from each sample's */
    uint64_t dropout_rng;     /* number in the epoch, so a position needs no stream state */
    double loss_sum;          /* the epoch's running sums so far, for its log */
    uint64_t correct;
} fv_fit_position;

typedef struct fv_fit_config {
    int epochs;
    int batch_size;           /* the network is planned for it (a replica: for its share of it); a last
                                 partial batch is dropped */
    int initial_epoch;        /* resuming: epochs before this one are done */
    fv_loss loss;
    uint64_t seed;            /* shuffling of epoch e derives from (seed, e); dropout and augmentation
                                 of its sample i from (seed, e, i) */
    int shuffle;
    const fv_dataset *validation; /* evaluated after each epoch, or NULL */
    int patience;             /* early stopping: epochs without a better val_loss; 0 = off */
    int restore_best;         /* with patience: end with the best epoch's weights */
    int shift_pixels;         /* augmentation: random shift by up to this many pixels */
    int flip_horizontal;      /* augmentation: mirror half the images */
    float rotate_degrees;     /* augmentation: random rotation in [-r, r] */
    FILE *progress;           /* a Keras-like progress bar (a terminal) or a line per epoch; NULL: quiet */
    void (*on_batch)(const fv_batch_log *log, void *user);
    int (*on_epoch)(const fv_epoch_log *log, void *user); /* return non-zero to stop training */
    /* Mid-epoch checkpoints: on_checkpoint is called after every checkpoint_every batches (0: by
     * count never) or when checkpoint_seconds have passed since the last call (0: never), with the
     * weights and optimizer state of that moment; return non-zero to stop training. */
    int checkpoint_every;
    double checkpoint_seconds;
    int (*on_checkpoint)(const fv_fit_position *at, void *user);
    const fv_fit_position *resume_at; /* continue epoch resume_at->epoch from its batch (NULL: epochs
                                         start at initial_epoch) */
    void *user;
    /* Interruption (Ctrl-C, a scheduler's SIGTERM): when *interrupt becomes non-zero (a signal
     * handler may set it), training finishes the batch under way, calls on_checkpoint with that
     * position (or, after an epoch's last batch, ends the epoch as usual, on_epoch included) and
     * returns FV_OK with result->interrupted set. NULL: never. */
    const volatile sig_atomic_t *interrupt;
    /* Data-parallel training (fv_net_set_comm): the gradients are summed in buckets of about this
     * many bytes, each started once backward has finished its layers (default 2 MB; 0: one sum
     * after backward, no overlap). */
    size_t bucket_bytes;
} fv_fit_config;

typedef struct fv_fit_result {
    int epochs_run;           /* the last epoch completed (counting initial_epoch) */
    int best_epoch;           /* by val_loss (or loss without validation) */
    double best_loss;
    fv_epoch_log last;
    int stopped_early;
    int interrupted;          /* config->interrupt stopped it, at `stopped_at` */
    fv_fit_position stopped_at; /* the next batch to run (batch 0 of the next epoch after an epoch's end) */
    double step_seconds;      /* data-parallel: the training steps' time, and of it the time spent */
    double sum_wait_seconds;  /* waiting for the gradient sums (what the overlap did not hide) */
} fv_fit_result;

/* ---- Data-parallel training: a communicator among ranks (processes). fovea's own is Open MPI's
 * (fv_comm_mpi); another transport fills in the same struct. Every call is collective: each rank
 * makes it, in the same order. A call that fails (a rank died) returns FV_ERR with the reason, and
 * so does every later call. */
typedef struct fv_comm fv_comm;
struct fv_comm {
    int rank, size;
    /* Sums n floats (doubles) across ranks, in place; every rank gets the same sum. */
    fv_status (*sum_floats)(fv_comm *comm, float *values, size_t n, fv_error *err);
    fv_status (*sum_doubles)(fv_comm *comm, double *values, size_t n, fv_error *err);
    /* The same sum of floats, started without waiting; finish_sums waits for every one started. */
    fv_status (*start_sum)(fv_comm *comm, float *values, size_t n, fv_error *err);
    fv_status (*finish_sums)(fv_comm *comm, double *waited_seconds, fv_error *err);
    fv_status (*broadcast)(fv_comm *comm, void *bytes, size_t n, int root, fv_error *err);
    /* Ends every rank of the job (a tool calls it after a failure; the library never does). */
    void (*abort_job)(fv_comm *comm, int code);
    void (*free)(fv_comm *comm); /* finalises the transport */
    void *impl;
};
/* Open MPI's COMM_WORLD when this process was started by mpirun (else, and when fovea was built
 * without MPI, NULL with the reason). A call that waits longer than timeout_seconds for another
 * rank fails (0: 60 s). threads (or NULL): set to this rank's share of the machine's cores. */
fv_comm *fv_comm_mpi(double timeout_seconds, int *threads, fv_error *err);
int fv_comm_mpi_built(void);   /* whether this library has the MPI communicator */
int fv_comm_mpi_launched(void); /* whether this process looks started by mpirun (its environment) */
/* From now on the network is one replica among comm's ranks (NULL: alone again): fv_fit splits each
 * batch of batch_size samples across the ranks (rank r takes its share, in order), sums the
 * gradients in buckets as backward finishes their layers, and gives every rank the same weights
 * (the ones one process would reach, up to the order of sums); batch normalisation uses the whole
 * batch's statistics; fv_evaluate and validation evaluate a shard on each rank and sum. The
 * network is planned again. The weights must be equal on every rank (fv_fit broadcasts rank 0's). */
void fv_net_set_comm(fv_net *net, fv_comm *comm);
fv_comm *fv_net_comm(const fv_net *net);

fv_fit_config fv_fit_defaults(void); /* 10 epochs, batch 32, softmax cross-entropy, shuffle, seed 1 */
/* Trains with the optimizer; plans the network for the batch size (on its backend) if needed
 * (pointers into an earlier plan are then invalid: ask again). */
fv_status fv_fit(fv_net *net, fv_optimizer *opt, const fv_dataset *train, const fv_fit_config *config,
                 fv_fit_result *result, fv_error *err);

typedef struct fv_metrics {
    size_t count;
    double loss, accuracy;
    int n_classes;
    size_t *confusion;        /* n_classes x n_classes: row = true class, column = predicted */
    double *precision, *recall, *f1; /* per class */
    double macro_precision, macro_recall, macro_f1;
} fv_metrics;

/* The classes a network's flat output tells apart: its units, 2 for one sigmoid unit, 0 when the
 * output is not flat. */
int fv_net_classes(const fv_net *net);
/* Inference over the whole dataset (in batches of the planned size). The metrics have
 * fv_net_classes(net) classes, whatever labels the data holds. */
fv_status fv_evaluate(fv_net *net, const fv_dataset *data, fv_loss loss, fv_metrics *out, fv_error *err);
void fv_metrics_free(fv_metrics *m);
/* Loss, accuracy, a per-class table and the confusion matrix, as text. class_names: NULL (numbers)
 * or m->n_classes names (a dataset's after fv_dataset_set_classes(data, m->n_classes)). */
int fv_metrics_format(const fv_metrics *m, const char (*class_names)[FV_CLASS_NAME_MAX], char *buf, size_t size);
/* The same as one JSON document (stable keys: samples, loss, accuracy, macro_precision,
 * macro_recall, macro_f1, classes [{index, name, precision, recall, f1, support}], confusion). */
int fv_metrics_json(const fv_metrics *m, const char (*class_names)[FV_CLASS_NAME_MAX], char *buf, size_t size);
/* Outputs for `count` samples (count x input shape) into out (count x output shape). */
fv_status fv_predict(fv_net *net, const float *x, size_t count, float *out, fv_error *err);

/* ---- Post-training int8 quantisation (src/train/quantize.c). ---- */
typedef enum { FV_CALIBRATION_MINMAX, FV_CALIBRATION_PERCENTILE } fv_calibration;
const char *fv_calibration_name(fv_calibration method); /* "minmax", "percentile" */
typedef struct fv_quantize_candidate {
    fv_calibration method;     /* min/max: the largest |input| seen maps to 127; percentile: 99.99% of them */
    int first_fp32, last_fp32; /* the first / last convolution or dense layer kept in fp32 */
    double agreement;          /* the share of samples whose largest output is the same as in fp32 */
    double error;              /* sum |int8 - fp32| over sum |fp32| of the outputs */
} fv_quantize_candidate;
typedef struct fv_quantize_report {
    size_t samples;            /* calibration samples used */
    int layers;                /* layers quantised */
    int n_candidates, chosen;
    fv_quantize_candidate candidates[8];
} fv_quantize_report;
/* Quantises net's convolutions and dense layers for int8 (see fv_precision): calibrates each one's
 * input scale on the first `samples` samples of data (run in fp32 on backend), tries min/max and
 * percentile scales, each with the first and the last of those layers in int8 or kept in fp32,
 * and keeps the candidate whose outputs agree with fp32's on the most samples (then the smallest
 * error, counted a tenth more for each layer kept fp32). Each residual add read by quantised
 * layers gets their input scale as its output scale. Sets the scales and the precision int8; the
 * network is left unplanned. */
fv_status fv_quantize(fv_net *net, const fv_dataset *data, size_t samples, fv_backend backend, fv_quantize_report *report, fv_error *err);

/* ---- Model files: one versioned little-endian file holding the architecture, the weights with
 * their shapes, a CRC-32, and optionally the optimizer and training state for resuming. Written
 * to a temporary file and renamed, so a crash never leaves a half-written model. ---- */
#define FV_MODEL_FILE_VERSION 1

#define FV_MAX_NORMALIZE 16
typedef struct fv_train_state {
    int epochs_done;
    uint64_t seed;
    int batch_size;
    int n_classes;                               /* the class names, when known (else 0) */
    char (*class_names)[FV_CLASS_NAME_MAX];
    int has_position;                            /* a mid-epoch checkpoint: where in epochs_done + 1 */
    fv_fit_position position;
    int n_history;                               /* the logs of the epochs done, oldest first */
    fv_epoch_log *history;
    int n_normalize;                             /* input preprocessing: x = (pixel - mean) / std per */
    float mean[FV_MAX_NORMALIZE], std[FV_MAX_NORMALIZE]; /* channel (0 channels: none) */
} fv_train_state;

typedef struct fv_checkpoint {
    int has_optimizer;
    fv_optimizer_config optimizer;
    uint64_t optimizer_steps;
    size_t optimizer_state_count;
    float *optimizer_state;
    int has_train_state;
    fv_train_state train;
} fv_checkpoint;

/* opt and state may be NULL (weights only). */
fv_status fv_model_save(const char *path, const fv_net *net, fv_optimizer *opt, const fv_train_state *state, fv_error *err);
/* The network with its weights (not planned); fills checkpoint when it is not NULL. */
fv_net *fv_model_load(const char *path, fv_checkpoint *checkpoint, fv_error *err);
/* A saved model (recognised by its magic bytes; checkpoint filled as fv_model_load does), an ONNX
 * model (a path ending in .onnx), or else a model definition (checkpoint, if given, left empty). */
fv_net *fv_net_load(const char *path, fv_checkpoint *checkpoint, fv_error *err);
/* Its counterpart, the format by the path's ending: .onnx an ONNX model (fv_net_save_onnx,
 * channels-first input), .fv the definition (no weights), else a model file with the weights
 * (fv_model_save without optimizer or training state). fv_net_load reads each back. */
fv_status fv_net_save(const fv_net *net, const char *path, fv_error *err);
/* An optimizer carrying on from a checkpoint's state. */
fv_optimizer *fv_optimizer_resume(fv_net *net, const fv_checkpoint *checkpoint, fv_error *err);
void fv_checkpoint_free(fv_checkpoint *checkpoint); /* frees what load allocated (class names too) */

/* ---- ONNX: networks from and to PyTorch and other runtimes (docs/ONNX.md lists the operators).
 * ONNX tensors are channels-first (N, C, H, W); fovea's are channels-last (N, H, W, C). An
 * imported network is converted once, at import: its input and output are fovea's layout of
 * ONNX's tensors, the channel axis moved last (fv_channels_last converts). ---- */
#define FV_ONNX_NAME_MAX 128
typedef struct fv_onnx_info {
    int opset;                               /* the model's default operator-set version */
    int input_rank, output_rank;             /* ONNX ranks, the batch axis included */
    int64_t input_dims[8], output_dims[8];   /* ONNX order; [0] is the batch: -1 when any size */
    char input_name[FV_ONNX_NAME_MAX], output_name[FV_ONNX_NAME_MAX];
} fv_onnx_info;
/* An ONNX model file (.onnx) as a fovea network with its weights (not planned); info (may be
 * NULL) receives its input and output as ONNX describes them. */
fv_net *fv_net_load_onnx(const char *path, fv_onnx_info *info, fv_error *err);
/* The same for a model whose input sizes are left open (PaddleOCR's text models take any height
 * and width): input_dims, in ONNX order with the batch first (ignored), give the sizes of the axes
 * the file names but does not fix; a value <= 0 gives none. A given size that contradicts a
 * fixed one is an error. */
fv_net *fv_net_load_onnx_shaped(const char *path, const int64_t *input_dims, int input_rank, fv_onnx_info *info, fv_error *err);
/* The model's data input as the file declares it, without importing the network: info's opset,
 * input_name, input_rank and input_dims (-1 for a size the file leaves open); the output fields
 * are left zero. */
fv_status fv_onnx_read_input(const char *path, fv_onnx_info *info, fv_error *err);
/* Writes the network (with its weights: planned, loaded or initialised) as an ONNX model, opset
 * 13: input "input" (batch, C, H, W) — or (batch, H, W, C) with channels_last_input — and output
 * "output"; any batch size. */
fv_status fv_net_save_onnx(const fv_net *net, const char *path, int channels_last_input, fv_error *err);
/* (N, C, P) <-> (N, P, C) for `positions` P (the product of the spatial axes): to_last 1 turns
 * an ONNX tensor into fovea's layout, 0 back. src and dst must not overlap. */
void fv_channels_last(const float *src, float *dst, size_t batch, size_t channels, size_t positions, int to_last);

/* ---- Images: float pixels, height x width x channels (1 gray or 3 RGB), in [0, 1] when read from
 * a file or drawn as a picture. Pictures (feature maps, heat maps) are images too. ---- */
typedef struct fv_image {
    int height, width, channels;
    float *pixels;
} fv_image;

fv_image *fv_image_new(int height, int width, int channels, fv_error *err); /* zeros */
void fv_image_free(fv_image *image);
/* PNG/JPEG/BMP/GIF at its own size; channels 1 (gray) or 3 (RGB), converted as needed, or 0: as
 * stored (gray or RGB; alpha is dropped). */
fv_image *fv_image_load(const char *path, int channels, fv_error *err);
/* 8-bit PNG (values clamped to [0, 1]), written to a temporary file and renamed. */
fv_status fv_image_save_png(const fv_image *image, const char *path, fv_error *err);
/* The image as 8-bit PNG bytes in memory (free() them); size receives their count. */
unsigned char *fv_image_encode_png(const fv_image *image, size_t *size, fv_error *err);
/* Bilinear resampling with half-pixel centres (PyTorch's interpolate(align_corners=False), OpenCV's
 * resize): src is src_h x src_w x channels, dst dst_h x dst_w x channels. */
void fv_resize_bilinear(const float *src, int src_h, int src_w, int channels, float *dst, int dst_h, int dst_w);

/* A new image `factor` times larger, each pixel a factor x factor square (small maps stay sharp). */
fv_image *fv_image_enlarge(const fv_image *image, int factor, fv_error *err);

typedef enum {
    FV_SCALE_MINMAX, /* the minimum to 0, the maximum to 1 (a constant array is all 0) */
    FV_SCALE_SIGNED  /* zero to mid-grey, +-max|x| to 1 and 0: the sign shows */
} fv_scale;
/* values (height x width x channels, channels 1 or 3) rescaled into a picture. */
fv_image *fv_image_from_values(const float *values, int height, int width, int channels, fv_scale scale, fv_error *err);

typedef enum { FV_COLORMAP_VIRIDIS, FV_COLORMAP_INFERNO, FV_COLORMAP_JET, FV_COLORMAP_GRAY, FV_COLORMAP_COUNT } fv_colormap;
const char *fv_colormap_name(fv_colormap map);           /* "viridis" */
void fv_colormap_rgb(fv_colormap map, float t, float rgb[3]); /* t in [0, 1] */
/* A map (height x width, scaled min-max) in colour. */
fv_image *fv_image_heatmap(const float *map, int height, int width, fv_colormap colormap, fv_error *err);
/* The image (gray or RGB) under a map of the same height and width in colour: alpha of the colour,
 * 1 - alpha of the image. */
fv_image *fv_image_overlay(const fv_image *image, const float *map, fv_colormap colormap, float alpha, fv_error *err);

/* ---- Looking inside 1: classic convolution, as NumPy and SciPy define it. ---- */
typedef enum { FV_CONVOLVE_FULL, FV_CONVOLVE_SAME, FV_CONVOLVE_VALID } fv_convolve_mode;
/* 1-D: np.convolve(x, k, mode), or np.correlate(x, k, mode) with correlate (the flip-free
 * product CNN layers compute). The output has fv_convolve1d_length(n, m, mode) values: full
 * n + m - 1, same max(n, m), valid max(n, m) - min(n, m) + 1. */
int fv_convolve1d_length(int n, int m, fv_convolve_mode mode);
void fv_convolve1d(const float *x, int n, const float *k, int m, fv_convolve_mode mode, int correlate, float *out);
/* 2-D: scipy.signal.convolve2d / correlate2d (zero fill) on every channel of x (height x width x
 * channels) with one kernel (kh x kw). same keeps x's size; valid needs one of x and the kernel at
 * least as large as the other on both axes (an error otherwise, as in SciPy). */
fv_status fv_convolve2d_shape(int height, int width, int kh, int kw, fv_convolve_mode mode, int *out_h, int *out_w,
                              fv_error *err);
fv_status fv_convolve2d(const float *x, int height, int width, int channels, const float *k, int kh, int kw,
                        fv_convolve_mode mode, int correlate, float *out, fv_error *err);
/* A named kernel: "sobel-x", "sobel-y", "average" (size x size), "gaussian" (size x size, sigma;
 * size 0: 2 ceil(3 sigma) + 1), "laplacian", "sharpen". k holds up to max floats. */
fv_status fv_filter_kernel(const char *name, int size, float sigma, float *k, int max, int *kh, int *kw, fv_error *err);

/* ---- Looking inside 2: feature maps and learned filters as pictures. ---- */
/* maps (height x width x n, channels last) as a grid of n tiles, each scaled FV_SCALE_SIGNED on
 * its own (zero mid-grey), a thin border between tiles, small maps enlarged. */
fv_image *fv_image_grid(const float *maps, int height, int width, int n, fv_error *err);
/* rows x units values as "barcodes": one strip per row, one bar per unit, scaled together
 * (FV_SCALE_SIGNED) so the rows compare. */
fv_image *fv_image_barcodes(const float *values, int rows, int units, fv_error *err);
/* A node's output for one sample of the last forward (an inspection or training plan): a grid
 * for feature maps (2-D: one tile per channel; 1-D: one row per channel; 3-D volumes: the
 * middle depth slice), a barcode for a vector. */
fv_image *fv_show_node(fv_net *net, int node, int sample, fv_error *err);
/* A convolution's kernels as a grid (conv2d): one colour tile per filter when it reads 3
 * channels per group, else one gray tile per (input channel, filter), filters across. */
fv_image *fv_show_filters(const fv_net *net, int node, fv_error *err);

/* ---- Looking inside 3: attribution. Each call runs on one image (the input shape), on the
 * network itself when it is planned for inspection at batch 1 (its nodes' outputs and gradients
 * are then readable after the call) or not planned yet (it is then planned so); a network planned
 * for something else keeps its plan, and the call runs on an inspection twin the network keeps
 * (built at the first call, freed with the network, its weights copied at every call). Class scores are
 * taken *before* the output's softmax/sigmoid (the logits). ---- */
typedef enum { FV_SALIENCY_VANILLA, FV_SALIENCY_SMOOTHGRAD, FV_SALIENCY_GUIDED } fv_saliency_method;
typedef struct fv_saliency_config {
    fv_saliency_method method;
    int samples;     /* SmoothGrad: noisy copies (default 25) */
    float noise;     /* SmoothGrad: noise sigma as a fraction of the input's range (default 0.15) */
    uint64_t seed;   /* SmoothGrad's noise */
} fv_saliency_config;
fv_saliency_config fv_saliency_defaults(void);
const char *fv_saliency_method_name(fv_saliency_method method);
/* The class score (a logit) of image, and its gradient w.r.t. the input (input shape; may be
 * NULL); guided: guided backpropagation's rule at every ReLU. */
fv_status fv_class_gradient(fv_net *net, const float *image, int class_index, int guided, float *score, float *gradient,
                            fv_error *err);
/* map (the input's spatial size, H x W): max over channels of |d score / d pixel|; SmoothGrad
 * averages the gradient over noisy copies first. */
fv_status fv_saliency(fv_net *net, const float *image, int class_index, const fv_saliency_config *config, float *map,
                      fv_error *err);
/* The output node's highest-scoring class for image. */
fv_status fv_predict_class(fv_net *net, const float *image, int *class_index, float *probability, fv_error *err);

/* Grad-CAM (Selvaraju et al.) at a layer with 2-D maps (H' x W' x K; -1: fv_net_last_conv):
 * weights = spatial means of d score / d maps (the layer's output, after its activation), cam =
 * ReLU(sum_k w_k map_k). Grad-CAM++ (Chattopadhay et al., as pytorch-grad-cam computes it)
 * weighs positive gradients by a_ij = g^2 / (2 g^2 + sum(A) g^3). cam is H' x W'; upsampled (may
 * be NULL) is the input's H x W, bilinear. */
fv_status fv_gradcam(fv_net *net, const float *image, int node, int class_index, int plus_plus, float *cam,
                     float *upsampled, fv_error *err);
/* cam's size for a layer (-1: fv_net_last_conv): H' x W' floats; an error when the layer has no
 * 2-D maps, as fv_gradcam says. */
fv_status fv_gradcam_size(const fv_net *net, int node, int *height, int *width, fv_error *err);
/* Grad-CAM's default layer: the last convolutional block's output — the last conv2d, or the add,
 * concat, activation or batch norm with 2-D maps after it (a ResNet block ends in add + ReLU);
 * pooling and dropout are not. -1 when the network has no conv2d. */
int fv_net_last_conv(const fv_net *net);

/* Faithfulness: pixels are removed (deletion: set to 0, most important first) or added (insertion:
 * onto a zero image) in steps, in the order a map (H x W) ranks them, and the class probability
 * is averaged over the steps (the area under the curve, fraction 0 to 1). random_auc: the same
 * for a seeded random order. A good map gives a low deletion AUC and a high insertion AUC. */
fv_status fv_attribution_auc(fv_net *net, const float *image, int class_index, const float *map, int insertion, int steps,
                             uint64_t seed, double *auc, double *random_auc, fv_error *err);

/* ---- Looking inside 4: dreaming. Gradient ascent on the input. ---- */
typedef struct fv_image_prior fv_image_prior; /* below: fv_image_prior_fit */
typedef struct fv_dream_config {
    int steps;           /* per octave (default 200 for classes, 10 for DeepDream) */
    float step_size;     /* of the gradient scaled to mean |g| = 1, in pixel units (default 0.02 for classes, 0.004 for DeepDream) */
    int jitter;          /* random shift of up to this many pixels each step (default 2) */
    float background;    /* the level the image starts from (plus a little noise) and the L2
                            penalty pulls to (default 0: data on black, as the MNISTs; 0.5 for photos) */
    float l2;            /* weight of the L2 penalty on (x - background) (default 0.1) */
    float tv;            /* weight of the total-variation penalty (default 0.1) */
    int blur_every;      /* Gaussian blur (sigma blur_sigma) every this many steps; 0: never */
    float blur_sigma;
    int octaves;         /* DeepDream: scales, each octave_scale larger (default 3, 1.4) */
    float octave_scale;
    uint64_t seed;
    /* classes: NULL, or a model of the data (fv_image_prior_fit) the image is drawn in: its mean
       plus its principal components, each coefficient in units of the data's spread along it.
       l2 then pulls the coefficients to 0 (the mean) and tv and the blur are not used. */
    const fv_image_prior *prior;
} fv_dream_config;
fv_dream_config fv_dream_defaults(int deep_dream);
/* Activation maximisation: from seeded noise (with a prior: from the data's mean), an input (the
 * input shape) that raises the sum of the given classes' scores (logits). scores: each class's
 * score at the end (may be NULL); start receives them at the beginning (may be NULL). */
fv_status fv_dream_classes(fv_net *net, const int *classes, int n_classes, const fv_dream_config *config, float *out,
                           float *start, float *scores, fv_error *err);
/* A Gaussian model of a dataset's images, the prior activation maximisation draws in: their mean
 * and top `components` principal components, from the first max_samples images (0: all). Images
 * of at most 4096 values (its covariance is fitted whole: about a second for 28 x 28). */
fv_image_prior *fv_image_prior_fit(const fv_dataset *data, size_t max_samples, int components, fv_error *err);
void fv_image_prior_free(fv_image_prior *prior);
/* What it was fitted to, and the share of the data's variance its components hold (0 to 1). */
void fv_image_prior_info(const fv_image_prior *prior, int *components, size_t *samples, double *variance_held);
/* The image of coefficients (one per component, in units of its spread): mean + sum a_k s_k v_k. */
void fv_image_prior_image(const fv_image_prior *prior, const float *coefficients, float *image);
/* DeepDream: the image made to amplify the named layers' activations (the mean of their
 * squares), in octaves. When every layer up to them is convolutional the image keeps its own
 * size (the network's front is rebuilt for it), else it is resized to the input. Returns a new
 * image of the input's channels. */
fv_image *fv_deep_dream(const fv_net *net, const fv_image *image, const int *nodes, int n_nodes,
                        const fv_dream_config *config, fv_error *err);

/* A whole file written as fovea writes every output: a temporary file beside it, synced and
 * renamed over it (a path that is not a regular file, such as /dev/null, is written directly). */
fv_status fv_write_file(const char *path, const void *data, size_t size, fv_error *err);

/* .npy output (float32, C order) of any array: the pictures' exact values. */
fv_status fv_save_npy(const char *path, const float *data, int rank, const int *dims, fv_error *err);
/* Any numeric .npy (rank 1 to 8) as floats; fills rank and dims; free() the result. */
float *fv_load_npy_floats(const char *path, int *rank, int dims[8], fv_error *err);
/* The same from the file's bytes in memory; name (what the caller calls them) starts every error. */
float *fv_decode_npy_floats(const void *bytes, size_t size, const char *name, int *rank, int dims[8], fv_error *err);

/* ---- Summary: Keras-style table. Returns bytes written (like snprintf). ---- */
int fv_net_summary(const fv_net *net, char *buf, size_t size);

/* ---- For bindings: the layout of the public structs and the values of the enums a binding
 * mirrors (python/fovea.py checks itself against it). One entry per struct (member NULL, size its
 * sizeof), per member (its offset and size) and per enum constant (its value). ---- */
typedef struct fv_abi_entry {
    const char *type;   /* "fv_fit_config", "fv_plan_mode" */
    const char *member; /* "seed", "FV_PLAN_INFERENCE"; NULL for the struct itself */
    size_t offset, size;
    long long value;
} fv_abi_entry;
const fv_abi_entry *fv_abi_layout(int *count);

#ifdef __cplusplus
}
#endif
#endif
