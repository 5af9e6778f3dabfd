/* conv_transpose.c — transposed convolution over (H, W, C) (Keras Conv2DTranspose, torch's
 * ConvTranspose2d, ONNX's ConvTranspose): every input position spreads kernel-weighted copies of
 * itself over an output window, stride apart, which upsamples (a text detector's decoder). It is
 * the data gradient of the convolution that maps its output back onto its input, so its kernels
 * are conv.c's with the roles swapped:
 *   forward   y  = conv_backward_data(x)        (the "convolution" reads y-space, writes x-space)
 *   backward  dx = conv_forward(dy),  dw = conv_backward_weights(dy, x)
 * Output size per axis: (in - 1) * stride - pad_before - pad_after + dilation * (kernel - 1) + 1
 * + output_padding. kernel (KH, KW, filters/G, Cin); bias (filters). */
#include "core/core.h"
#include "layers/conv_kernels.h"

#include <string.h>

/* The convolution from the output (y-space) to the input (x-space) this layer transposes. */
static fv_status dual_geometry(const fv_node *node, int batch, fv_window_geometry *g, fv_error *err) {
    const fv_conv_settings *c = &node->layer.conv;
    const fv_shape *in = &node->in_shape[0];
    memset(g, 0, sizeof *g);
    if (in->rank != 3) return fv_fail(err, "expects an (H, W, C) input, got rank %d", in->rank);
    if (c->filters <= 0) return fv_fail(err, "filters must be positive, got %d", c->filters);
    if ((unsigned)c->activation >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
    if (!(c->alpha >= 0.0f && c->alpha < 1e30f)) return fv_fail(err, "alpha must be a finite number >= 0");
    if (c->padding == FV_PAD_SAME) return fv_fail(err, "padding=same is not defined for a transposed convolution: give the pads");
    g->n = batch, g->spatial = 2, g->groups = c->groups;
    g->c_in = c->filters, g->c_out = in->dim[2]; /* the dual convolution's channels */
    if (c->groups <= 0 || c->filters % c->groups || in->dim[2] % c->groups)
        return fv_fail(err, "groups=%d must divide the %d input channels and the %d filters", c->groups, in->dim[2], c->filters);
    g->in[0] = g->out[0] = 1, g->k[0] = g->s[0] = g->d[0] = 1;
    for (int a = 0; a < 2; a++) {
        int t = a + 1, before = c->padding == FV_PAD_EXPLICIT ? c->pad[a][0] : 0, after = c->padding == FV_PAD_EXPLICIT ? c->pad[a][1] : 0;
        g->k[t] = c->kernel[a], g->s[t] = c->stride[a], g->d[t] = c->dilation[a], g->pad_before[t] = before, g->pad_after[t] = after;
        if (c->kernel[a] < 1 || c->stride[a] < 1 || c->dilation[a] < 1) return fv_fail(err, "kernel, stride and dilation must be positive");
        if (c->output_padding[a] < 0 || (c->output_padding[a] >= c->stride[a] && c->output_padding[a] >= c->dilation[a]))
            return fv_fail(err, "output_padding must be smaller than the stride or the dilation");
        g->out[t] = in->dim[a];
        long size = (long)(in->dim[a] - 1) * c->stride[a] - before - after + (long)c->dilation[a] * (c->kernel[a] - 1) + 1 + c->output_padding[a];
        if (size < 1 || size > 65536) return fv_fail(err, "an output of %ld on axis %d", size, a);
        g->in[t] = (int)size;
    }
    return FV_OK;
}

static fv_status transpose_infer(fv_node *node, fv_error *err) {
    fv_window_geometry g;
    if (dual_geometry(node, 1, &g, err) != FV_OK) return FV_ERR;
    node->out_shape = (fv_shape){3, {g.in[1], g.in[2], g.c_in, 0}};
    int kdim[4] = {g.k[1], g.k[2], g.c_in / g.groups, g.c_out}, bdim[1] = {g.c_in};
    fv_node_declare_param(node, "kernel", 1, 4, kdim);
    if (node->layer.conv.use_bias) fv_node_declare_param(node, "bias", 1, 1, bdim);
    return FV_OK;
}

static void transpose_init(const fv_node *node, float **param, fv_rng *rng) {
    fv_window_geometry g;
    dual_geometry(node, 1, &g, NULL);
    int field = g.k[1] * g.k[2];
    fv_init_kernel(node->layer.conv.init, param[0], node->params[0].count, field * (g.c_out / g.groups), field * (g.c_in / g.groups), rng);
}

/* x (N, H, W, Cin) -> y (N, OH, OW, filters) = act(conv_transpose(x, kernel) + bias) */
static void transpose_forward(const fv_node *node, const fv_step *s) {
    fv_window_geometry g;
    dual_geometry(node, s->batch, &g, NULL);
    const fv_conv_settings *c = &node->layer.conv;
    const float *x = fv_step_operand(s, FV_CAST_IN, s->in[0], (size_t)s->batch * fv_shape_count(node->in_shape[0]));
    const float *w = fv_step_operand(s, FV_CAST_OTHER, s->param[0], node->params[0].count);
    fv_conv_backward_data_reference(&g, x, w, s->out);
    size_t rows = (size_t)g.n * g.in[1] * g.in[2];
    if (c->use_bias)
        for (size_t r = 0; r < rows; r++)
            for (int k = 0; k < g.c_in; k++) s->out[r * g.c_in + k] += s->param[1][k];
    fv_step_activate(s, c->activation, c->alpha, s->out, rows, g.c_in);
}

static void transpose_backward(const fv_node *node, const fv_step *s) {
    fv_window_geometry g;
    dual_geometry(node, s->batch, &g, NULL);
    const fv_conv_settings *c = &node->layer.conv;
    size_t rows = (size_t)g.n * g.in[1] * g.in[2];
    const float *dy = fv_step_activation_grad(s, c->activation, c->alpha, rows, g.c_in);
    dy = fv_step_operand(s, FV_CAST_D_OUT, dy, (size_t)s->batch * fv_shape_count(node->out_shape));
    const float *x = fv_step_operand(s, FV_CAST_IN, s->in[0], (size_t)s->batch * fv_shape_count(node->in_shape[0]));
    const float *w = fv_step_operand(s, FV_CAST_OTHER, s->param[0], node->params[0].count);
    if (s->d_in[0]) fv_conv_forward_reference(&g, dy, w, NULL, s->d_in[0]);
    fv_conv_backward_weights_reference(&g, dy, x, s->d_param[0], NULL);
    if (c->use_bias) fv_bias_gradient(dy, rows, g.c_in, s->d_param[1]);
}

static fv_activation transpose_activation(const fv_layer *l, float *alpha) {
    *alpha = l->conv.alpha;
    return l->conv.activation;
}

#define CONV(field) offsetof(fv_layer, conv.field)
static const fv_setting transpose_settings[] = {
    {"filters", FV_SET_COUNT, CONV(filters), 0, NULL, NULL, "output channels", NULL},
    {"kernel", FV_SET_SPATIAL, CONV(kernel), 0, NULL, NULL, "window per spatial axis", NULL},
    {"stride", FV_SET_SPATIAL, CONV(stride), 0, "1", NULL, "the output step per input step (the upsampling)", NULL},
    {"dilation", FV_SET_SPATIAL, CONV(dilation), 0, "1", NULL, "spacing of the kernel taps", NULL},
    {"padding", FV_SET_PADDING, CONV(padding), CONV(pad), "valid", NULL, "`valid` (none) or explicit: rows/columns cut from the output's edges", NULL},
    {"output_padding", FV_SET_SPATIAL, CONV(output_padding), 0, "0", NULL, "extra rows/columns at the output's end (torch's output_padding)", NULL},
    {"groups", FV_SET_COUNT, CONV(groups), 0, "1", NULL, "channel groups", NULL},
    {"bias", FV_SET_BOOL, CONV(use_bias), 0, "true", NULL, "add a learned bias per filter", NULL},
    {"activation", FV_SET_ACTIVATION, CONV(activation), 0, "linear", NULL, "fused activation", NULL},
    {"alpha", FV_SET_FLOAT, CONV(alpha), 0, "0.01", NULL, "leaky_relu slope for x < 0", NULL},
    {"init", FV_SET_INIT, CONV(init), 0, "glorot", NULL, "kernel initialisation: `glorot` or `he` uniform", NULL},
};

const fv_op fv_op_conv2d_transpose = {
    .kind = FV_LAYER_CONV2D_TRANSPOSE, .word = "conv2d_transpose", .type_name = "Conv2DTranspose",
    .help = "2-D transposed convolution (upsampling) over (H, W, C)", .spatial = 2, .settings = transpose_settings,
    .n_settings = FV_COUNT(transpose_settings), .min_inputs = 1, .max_inputs = 1,
    .infer = transpose_infer, .init = transpose_init, .forward = transpose_forward, .backward = transpose_backward,
    .activation = transpose_activation, .input_grad_optional = 1, .products = 1
};

fv_layer fv_conv2d_transpose(int filters, int kernel_h, int kernel_w) {
    fv_layer l = fv_layer_defaults(FV_LAYER_CONV2D_TRANSPOSE);
    l.conv.filters = filters, l.conv.kernel[0] = kernel_h, l.conv.kernel[1] = kernel_w;
    return l;
}
