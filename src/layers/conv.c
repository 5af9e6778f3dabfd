/* conv.c — convolution over one, two or three spatial axes (conv1d, conv2d, conv3d):
 * cross-correlation, as every framework computes it, with stride, padding, dilation, groups,
 * an optional bias and a fused activation. The reference kernels here are the oracle. */
#include "core/core.h"
#include "layers/conv_kernels.h"

#include <string.h>

/* ---- Reference kernels, for every spatial rank (absent axes have size 1). Shapes:
 *   x (N, D, H, W, Cin)      w (KD, KH, KW, Cin/G, Cout)      b (Cout) or NULL
 *   y (N, OD, OH, OW, Cout)  input position on each axis: o*S - pad_before + k*dilation
 * Group g reads input channels [g*Cin/G, (g+1)*Cin/G) and writes outputs [g*Cout/G, ...). ---- */

/* Runs at_position for every output position (o_: its index), then the body for each kernel tap
 * that lands inside the input (i_: the input position's index, t_: the tap's). Forward, the
 * data gradient and the weight gradient share this walk. */
#define FOR_EACH_TAP(g, at_position, ...)                                                       \
    for (int n_ = 0; n_ < (g)->n; n_++)                                                                     \
        for (int oz_ = 0; oz_ < (g)->out[0]; oz_++)                                                         \
            for (int oy_ = 0; oy_ < (g)->out[1]; oy_++)                                                     \
                for (int ox_ = 0; ox_ < (g)->out[2]; ox_++) {                                               \
                    size_t o_ = (((size_t)n_ * (g)->out[0] + oz_) * (g)->out[1] + oy_) * (g)->out[2] + ox_; \
                    at_position;                                                                            \
                    for (int kz_ = 0; kz_ < (g)->k[0]; kz_++) {                                             \
                        int iz_ = oz_ * (g)->s[0] - (g)->pad_before[0] + kz_ * (g)->d[0];                   \
                        if (iz_ < 0 || iz_ >= (g)->in[0]) continue;                                         \
                        for (int ky_ = 0; ky_ < (g)->k[1]; ky_++) {                                         \
                            int iy_ = oy_ * (g)->s[1] - (g)->pad_before[1] + ky_ * (g)->d[1];               \
                            if (iy_ < 0 || iy_ >= (g)->in[1]) continue;                                     \
                            for (int kx_ = 0; kx_ < (g)->k[2]; kx_++) {                                     \
                                int ix_ = ox_ * (g)->s[2] - (g)->pad_before[2] + kx_ * (g)->d[2];           \
                                if (ix_ < 0 || ix_ >= (g)->in[2]) continue;                                 \
                                size_t i_ = (((size_t)n_ * (g)->in[0] + iz_) * (g)->in[1] + iy_) * (g)->in[2] + ix_; \
                                size_t t_ = ((size_t)kz_ * (g)->k[1] + ky_) * (g)->k[2] + kx_;              \
                                __VA_ARGS__                                                                 \
                            }                                                                               \
                        }                                                                                   \
                    }                                                                                       \
                }

void fv_conv_forward_reference(const fv_window_geometry *g, const float *x, const float *w, const float *b, float *y) {
    int cig = g->c_in / g->groups, cog = g->c_out / g->groups;
    float *yrow = NULL;
    FOR_EACH_TAP(g, {
        yrow = y + o_ * g->c_out;
        for (int co = 0; co < g->c_out; co++) yrow[co] = b ? b[co] : 0.0f;
    }, {
        const float *xp = x + i_ * g->c_in, *wp = w + t_ * cig * g->c_out;
        for (int gr = 0; gr < g->groups; gr++)
            for (int ci = 0; ci < cig; ci++) {
                const float xv = xp[gr * cig + ci], *wrow = wp + (size_t)ci * g->c_out + gr * cog;
                float *yg = yrow + gr * cog;
                for (int co = 0; co < cog; co++) yg[co] += xv * wrow[co];
            }
    })
}

/* dx (N, D, H, W, Cin) = sum over windows of dy . w^T */
void fv_conv_backward_data_reference(const fv_window_geometry *g, const float *dy, const float *w, float *dx) {
    int cig = g->c_in / g->groups, cog = g->c_out / g->groups;
    memset(dx, 0, (size_t)g->n * g->in[0] * g->in[1] * g->in[2] * g->c_in * sizeof *dx);
    const float *dyrow = NULL;
    FOR_EACH_TAP(g, dyrow = dy + o_ * g->c_out, {
        float *dxp = dx + i_ * g->c_in;
        const float *wp = w + t_ * cig * g->c_out;
        for (int gr = 0; gr < g->groups; gr++)
            for (int ci = 0; ci < cig; ci++) {
                const float *wrow = wp + (size_t)ci * g->c_out + gr * cog, *dyg = dyrow + gr * cog;
                float sum = 0.0f;
                for (int co = 0; co < cog; co++) sum += dyg[co] * wrow[co];
                dxp[gr * cig + ci] += sum;
            }
    })
}

/* dw (KD, KH, KW, Cin/G, Cout) = sum over windows of x^T . dy;  db (Cout) = sum of dy (db may be NULL) */
void fv_conv_backward_weights_reference(const fv_window_geometry *g, const float *x, const float *dy, float *dw, float *db) {
    int cig = g->c_in / g->groups, cog = g->c_out / g->groups;
    memset(dw, 0, (size_t)g->k[0] * g->k[1] * g->k[2] * cig * g->c_out * sizeof *dw);
    if (db) memset(db, 0, (size_t)g->c_out * sizeof *db);
    const float *dyrow = NULL;
    FOR_EACH_TAP(g, {
        dyrow = dy + o_ * g->c_out;
        if (db)
            for (int co = 0; co < g->c_out; co++) db[co] += dyrow[co];
    }, {
        const float *xp = x + i_ * g->c_in;
        float *wp = dw + t_ * cig * g->c_out;
        for (int gr = 0; gr < g->groups; gr++)
            for (int ci = 0; ci < cig; ci++) {
                const float xv = xp[gr * cig + ci], *dyg = dyrow + gr * cog;
                float *wrow = wp + (size_t)ci * g->c_out + gr * cog;
                for (int co = 0; co < cog; co++) wrow[co] += xv * dyg[co];
            }
    })
}

/* ---- The op rows. ---- */
static int spatial_of(fv_layer_kind kind) { return kind == FV_LAYER_CONV1D ? 1 : kind == FV_LAYER_CONV3D ? 3 : 2; }

static void geometry_of(const fv_node *node, int batch, fv_window_geometry *g) {
    fv_conv_geometry(&node->layer.conv, spatial_of(node->layer.kind), node->in_shape[0], batch, g, NULL);
}

static fv_status conv_infer(fv_node *node, fv_error *err) {
    fv_window_geometry g;
    int spatial = spatial_of(node->layer.kind);
    if (fv_conv_geometry(&node->layer.conv, spatial, node->in_shape[0], 1, &g, err) != FV_OK) return FV_ERR;
    node->out_shape = fv_window_out_shape(&g, node->in_shape[0].rank);
    int kdim[5], r = 0, bdim[1] = {g.c_out};
    for (int t = 3 - spatial; t < 3; t++) kdim[r++] = g.k[t];
    kdim[r++] = g.c_in / g.groups, kdim[r++] = g.c_out;
    fv_node_declare_param(node, "kernel", 1, r, kdim);
    if (node->layer.conv.use_bias) fv_node_declare_param(node, "bias", 1, 1, bdim);
    return FV_OK;
}

/* Glorot (Keras' default) or He uniform over the receptive field; bias zero. */
static void conv_init(const fv_node *node, float **param, fv_rng *rng) {
    fv_window_geometry g;
    geometry_of(node, 1, &g);
    int field = g.k[0] * g.k[1] * g.k[2];
    fv_init_kernel(node->layer.conv.init, param[0], node->params[0].count, field * (g.c_in / g.groups), field * g.c_out, rng);
}

/* x (N, [D, H,] W, Cin) -> y (N, [OD, OH,] OW, Cout) = act(conv(x, kernel) + bias) */
static void conv_forward(const fv_node *node, const fv_step *s) {
    fv_window_geometry g;
    geometry_of(node, s->batch, &g);
    const fv_conv_settings *c = &node->layer.conv;
    const float *x = fv_step_input(s, c->input_scale, s->in[0], (size_t)s->batch * fv_shape_count(node->in_shape[0]));
    const float *w = fv_step_weights(s, c->input_scale, s->param[0], node->params[0].count, c->filters);
    fv_conv_forward_reference(&g, x, w, c->use_bias ? s->param[1] : NULL, s->out);
    fv_step_activate(s, c->activation, c->alpha, s->out, (size_t)g.n * g.out[0] * g.out[1] * g.out[2], g.c_out);
}

/* d_out -> d_in (skipped when NULL), d_kernel, d_bias; in bf16 every product's operands, and so
 * the bias gradient's terms too, rounded (as oneDNN's bf16 backward reads them) */
static void conv_backward(const fv_node *node, const fv_step *s) {
    fv_window_geometry g;
    geometry_of(node, s->batch, &g);
    const fv_conv_settings *c = &node->layer.conv;
    const float *dy = fv_step_activation_grad(s, c->activation, c->alpha, (size_t)g.n * g.out[0] * g.out[1] * g.out[2], g.c_out);
    dy = fv_step_operand(s, FV_CAST_D_OUT, dy, (size_t)s->batch * fv_shape_count(node->out_shape));
    const float *x = fv_step_input(s, c->input_scale, s->in[0], (size_t)s->batch * fv_shape_count(node->in_shape[0]));
    const float *w = fv_step_weights(s, c->input_scale, s->param[0], node->params[0].count, c->filters);
    if (s->d_in[0]) fv_conv_backward_data_reference(&g, dy, w, s->d_in[0]);
    fv_conv_backward_weights_reference(&g, x, dy, s->d_param[0], c->use_bias ? s->d_param[1] : NULL);
}

static fv_activation conv_activation(const fv_layer *l, float *alpha) {
    *alpha = l->conv.alpha;
    return l->conv.activation;
}

#define CONV(field) offsetof(fv_layer, conv.field)
static const fv_setting conv_settings[] = {
    {"filters", FV_SET_COUNT, CONV(filters), 0, NULL, NULL, "output channels", NULL},
    {"kernel", FV_SET_SPATIAL, CONV(kernel), 0, NULL, NULL, "window per spatial axis (`3` or `3,5`)", NULL},
    {"stride", FV_SET_SPATIAL, CONV(stride), 0, "1", NULL, "step per spatial axis", NULL},
    {"dilation", FV_SET_SPATIAL, CONV(dilation), 0, "1", NULL, "spacing of the kernel taps per spatial axis", NULL},
    {"padding", FV_SET_PADDING, CONV(padding), CONV(pad), "valid", NULL,
     "`valid`, `same` (Keras), or explicit: one value, one per axis, or before,after per axis", NULL},
    {"groups", FV_SET_COUNT, CONV(groups), 0, "1", NULL, "channel groups (input channels for depthwise)", NULL},
    {"bias", FV_SET_BOOL, CONV(use_bias), 0, "true", NULL, "add a learned bias per filter", NULL},
    {"activation", FV_SET_ACTIVATION, CONV(activation), 0, "linear", NULL, "fused activation", NULL},
    {"alpha", FV_SET_FLOAT, CONV(alpha), 0, "0.01", NULL, "leaky_relu slope for x < 0", NULL},
    {"init", FV_SET_INIT, CONV(init), 0, "glorot", NULL, "kernel initialisation: `glorot` or `he` uniform", NULL},
    {"input_scale", FV_SET_FLOAT, CONV(input_scale), 0, "0", NULL, "int8 plans: the input's calibrated scale (`fovea quantize`); 0: stays fp32", NULL},
};

const fv_op fv_op_conv1d = {
    .kind = FV_LAYER_CONV1D, .word = "conv1d", .type_name = "Conv1D", .help = "1-D convolution over (L, C)",
    .spatial = 1, .settings = conv_settings, .n_settings = FV_COUNT(conv_settings), .min_inputs = 1, .max_inputs = 1,
    .infer = conv_infer, .init = conv_init, .forward = conv_forward, .backward = conv_backward,
    .activation = conv_activation, .input_grad_optional = 1, .products = 1
};
const fv_op fv_op_conv2d = {
    .kind = FV_LAYER_CONV2D, .word = "conv2d", .type_name = "Conv2D", .help = "2-D convolution over (H, W, C)",
    .spatial = 2, .settings = conv_settings, .n_settings = FV_COUNT(conv_settings), .min_inputs = 1, .max_inputs = 1,
    .infer = conv_infer, .init = conv_init, .forward = conv_forward, .backward = conv_backward,
    .activation = conv_activation, .input_grad_optional = 1, .products = 1
};
const fv_op fv_op_conv3d = {
    .kind = FV_LAYER_CONV3D, .word = "conv3d", .type_name = "Conv3D",
    .help = "3-D convolution over (D, H, W, C): video, volumes", .spatial = 3, .settings = conv_settings,
    .n_settings = FV_COUNT(conv_settings), .min_inputs = 1, .max_inputs = 1, .infer = conv_infer, .init = conv_init,
    .forward = conv_forward, .backward = conv_backward, .activation = conv_activation, .input_grad_optional = 1, .products = 1
};

fv_layer fv_conv1d(int filters, int kernel) {
    fv_layer l = fv_layer_defaults(FV_LAYER_CONV1D);
    l.conv.filters = filters, l.conv.kernel[0] = kernel;
    return l;
}

fv_layer fv_conv2d(int filters, int kernel_h, int kernel_w) {
    fv_layer l = fv_layer_defaults(FV_LAYER_CONV2D);
    l.conv.filters = filters, l.conv.kernel[0] = kernel_h, l.conv.kernel[1] = kernel_w;
    return l;
}

fv_layer fv_conv3d(int filters, int kernel_d, int kernel_h, int kernel_w) {
    fv_layer l = fv_layer_defaults(FV_LAYER_CONV3D);
    l.conv.filters = filters, l.conv.kernel[0] = kernel_d, l.conv.kernel[1] = kernel_h, l.conv.kernel[2] = kernel_w;
    return l;
}
