/* table.c — the oneDNN backend's table: its kernels, and the engine each planned network opens. */
#include "backends/onednn/onednn.h"

static const fv_kernel *const kernels[] = {
    &fv_onednn_conv1d,    &fv_onednn_conv2d,    &fv_onednn_conv3d,    &fv_onednn_maxpool2d, &fv_onednn_avgpool2d,
    &fv_onednn_maxpool3d, &fv_onednn_avgpool3d, &fv_onednn_batchnorm, &fv_onednn_dense,     &fv_onednn_unary,
    &fv_onednn_matmul,    &fv_onednn_add,
};

const fv_backend_ops fv_onednn_backend = {FV_BACKEND_ONEDNN, "onednn", fv_onednn_ctx_open, fv_onednn_ctx_close, kernels,
                                          (int)(sizeof kernels / sizeof kernels[0])};
