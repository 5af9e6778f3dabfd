/* affine.c — y = x * scale + shift, elementwise, with constant scale and shift of one sample's
 * shape: what an imported network's Add, Sub, Mul, Div and Neg by a constant become (a constant
 * broadcast to the sample, in fovea's layout). The constants are parameters that training leaves
 * alone (not trainable), so a saved model keeps them. */
#include "core/core.h"

#include <string.h>

static fv_status affine_infer(fv_node *node, fv_error *err) {
    (void)err;
    node->out_shape = node->in_shape[0];
    fv_node_declare_param(node, "scale", 0, node->out_shape.rank, node->out_shape.dim);
    fv_node_declare_param(node, "shift", 0, node->out_shape.rank, node->out_shape.dim);
    return FV_OK;
}

static void affine_init(const fv_node *node, float **param, fv_rng *rng) {
    (void)rng;
    for (size_t i = 0; i < node->params[0].count; i++) param[0][i] = 1.0f, param[1][i] = 0.0f;
}

/* x (N, S) -> y (N, S) with scale and shift (S) */
static void affine_forward(const fv_node *node, const fv_step *s) {
    size_t per = fv_shape_count(node->out_shape);
    const float *scale = s->param[0], *shift = s->param[1];
    for (int n = 0; n < s->batch; n++) {
        const float *x = s->in[0] + (size_t)n * per;
        float *y = s->out + (size_t)n * per;
        for (size_t i = 0; i < per; i++) y[i] = x[i] * scale[i] + shift[i];
    }
}

/* dx = dy * scale; the constants get no gradient */
static void affine_backward(const fv_node *node, const fv_step *s) {
    size_t per = fv_shape_count(node->out_shape);
    for (int n = 0; n < s->batch; n++) {
        const float *dy = s->d_out + (size_t)n * per;
        float *dx = s->d_in[0] + (size_t)n * per;
        for (size_t i = 0; i < per; i++) dx[i] = dy[i] * s->param[0][i];
    }
    for (int p = 0; p < 2; p++)
        if (s->d_param[p]) memset(s->d_param[p], 0, per * sizeof(float));
}

const fv_op fv_op_affine = {
    .kind = FV_LAYER_AFFINE, .word = "affine", .type_name = "Affine",
    .help = "x * scale + shift with constant scale and shift (imported constants)", .min_inputs = 1, .max_inputs = 1,
    .infer = affine_infer, .init = affine_init, .forward = affine_forward, .backward = affine_backward
};

fv_layer fv_affine(void) { return fv_layer_defaults(FV_LAYER_AFFINE); }
