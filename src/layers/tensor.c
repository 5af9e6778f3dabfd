/* tensor.c — a learned tensor given to every sample: its input only says how many samples there
 * are. What an imported ViT's class token (a parameter expanded over the batch) becomes, trained
 * like any weight when the network is fine-tuned. */
#include "core/core.h"

#include <string.h>

static fv_status tensor_infer(fv_node *node, fv_error *err) {
    const fv_shape *s = &node->layer.tensor.shape;
    if (s->rank < 1 || s->rank > FV_MAX_RANK) return fv_fail(err, "shape must have rank 1 to %d", FV_MAX_RANK);
    for (int a = 0; a < s->rank; a++)
        if (s->dim[a] < 1) return fv_fail(err, "dimension %d must be positive", a);
    node->out_shape = *s;
    fv_node_declare_param(node, "value", 1, s->rank, s->dim);
    return FV_OK;
}

/* (ignored x) -> y (N, shape): the value in every sample */
static void tensor_forward(const fv_node *node, const fv_step *s) {
    size_t per = fv_shape_count(node->out_shape);
    for (int n = 0; n < s->batch; n++) memcpy(s->out + (size_t)n * per, s->param[0], per * sizeof(float));
}

/* d value = the sum of dy over the batch; the input gets no gradient (it gave only the count) */
static void tensor_backward(const fv_node *node, const fv_step *s) {
    size_t per = fv_shape_count(node->out_shape);
    if (s->d_param[0]) {
        memset(s->d_param[0], 0, per * sizeof(float));
        for (int n = 0; n < s->batch; n++)
            for (size_t i = 0; i < per; i++) s->d_param[0][i] += s->d_out[(size_t)n * per + i];
    }
    if (s->d_in[0]) memset(s->d_in[0], 0, (size_t)s->batch * fv_shape_count(node->in_shape[0]) * sizeof(float));
}

static const fv_setting tensor_settings[] = {
    {"shape", FV_SET_SHAPE, offsetof(fv_layer, tensor.shape), 0, NULL, NULL, "the tensor's shape (one sample's)", NULL},
};

const fv_op fv_op_tensor = {
    .kind = FV_LAYER_TENSOR, .word = "tensor", .type_name = "Tensor",
    .help = "a learned tensor, the same for every sample (a ViT's class token)", .settings = tensor_settings,
    .n_settings = FV_COUNT(tensor_settings), .min_inputs = 1, .max_inputs = 1, .infer = tensor_infer, .forward = tensor_forward,
    .backward = tensor_backward, .input_grad_optional = 1
};

fv_layer fv_tensor(fv_shape shape) {
    fv_layer l = fv_layer_defaults(FV_LAYER_TENSOR);
    l.tensor.shape = shape;
    return l;
}
