/* dense.c — the dense layer on oneDNN's sgemm: x (R, In) . w (In, Out) + b, with the bias
 * gradient and the activation code shared with the reference. */
#include "backends/onednn/onednn.h"

#include <string.h>

static void dims_of(const fv_node *node, int batch, int *rows, int *in, int *out) {
    const fv_shape *s = &node->in_shape[0];
    *in = s->dim[s->rank - 1], *out = node->layer.dense.units;
    *rows = (int)((size_t)batch * fv_shape_count(*s) / (size_t)*in);
}

static fv_status dense_forward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    (void)state;
    int rows, in, out;
    dims_of(node, s->batch, &rows, &in, &out);
    const fv_dense_settings *l = &node->layer.dense;
    const float *bias = l->use_bias ? s->param[1] : NULL;
    for (int r = 0; bias && r < rows; r++) memcpy(s->out + (size_t)r * out, bias, (size_t)out * sizeof(float));
    if (fv_onednn_sgemm('N', 'N', rows, out, in, s->in[0], in, s->param[0], out, bias ? 1.0f : 0.0f, s->out, out, err) != FV_OK)
        return FV_ERR;
    fv_step_activate(s, l->activation, l->alpha, s->out, (size_t)rows, out);
    return FV_OK;
}

static fv_status dense_backward(const fv_node *node, void *state, const fv_step *s, fv_error *err) {
    (void)state;
    int rows, in, out;
    dims_of(node, s->batch, &rows, &in, &out);
    const fv_dense_settings *l = &node->layer.dense;
    const float *dy = fv_step_activation_grad(s, l->activation, l->alpha, (size_t)rows, out);
    if (l->use_bias) fv_bias_gradient(dy, (size_t)rows, out, s->d_param[1]);
    if (s->d_in[0] && fv_onednn_sgemm('N', 'T', rows, in, out, dy, out, s->param[0], out, 0.0f, s->d_in[0], in, err) != FV_OK)
        return FV_ERR;
    return fv_onednn_sgemm('T', 'N', in, out, rows, s->in[0], in, dy, out, 0.0f, s->d_param[0], out, err);
}

static int dense_supports(const fv_node *node) {
    (void)node;
    return 1;
}

static fv_status dense_plan(const fv_node *node, void *engine, int batch, void **state, fv_error *err) {
    (void)node, (void)engine, (void)batch, (void)err;
    *state = NULL;
    return FV_OK;
}

const fv_kernel fv_onednn_dense = {FV_LAYER_DENSE, "onednn", dense_supports, dense_plan, dense_forward, dense_backward, NULL};
