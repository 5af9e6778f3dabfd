/* conv1d.c — 1-D convolution over (L, Cin) -> (OL, Cout) with kernel (K, Cin, Cout): the conv2d
 * kernels (conv2d.c) run on (1, L, Cin) with KH = 1, so both share one oracle and one fast path. */
#include "core/core.h"

static fv_status conv1d_infer(fv_node *node, fv_error *err) {
    const fv_shape *in = &node->in_shape[0];
    if (in->rank != 2) return fv_fail(err, "expects an (L, C) input, got rank %d", in->rank);
    node->layer.kernel[0] = 1, node->layer.stride[0] = 1;
    node->layer.pad[0] = node->layer.pad[1] = 0;
    fv_conv_geometry g;
    if (fv_conv_infer_geometry(node, 1, in->dim[0], in->dim[1], &g, err) != FV_OK) return FV_ERR;
    node->out_shape = (fv_shape){2, {g.ow, g.c_out, 0}};
    int kdim[3] = {g.kw, g.c_in, g.c_out}, bdim[1] = {g.c_out};
    fv_node_declare_param(node, "kernel", 1, 3, kdim);
    if (node->layer.use_bias) fv_node_declare_param(node, "bias", 1, 1, bdim);
    return FV_OK;
}

const fv_op fv_op_conv1d = {"Conv1D", 1, 1, conv1d_infer, fv_conv_init, fv_conv_plan, fv_conv_release,
                            fv_conv_forward, fv_conv_backward};
