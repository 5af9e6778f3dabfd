/* conv_kernels.h — the reference convolution kernels of conv.c, which the transposed convolution
 * (conv_transpose.c) runs with its roles swapped: its forward pass is a convolution's data
 * gradient. Shapes: x (N, D, H, W, Cin), w (KD, KH, KW, Cin/G, Cout), y (N, OD, OH, OW, Cout). */
#ifndef FOVEA_CONV_KERNELS_H
#define FOVEA_CONV_KERNELS_H

#include "core/core.h"

void fv_conv_forward_reference(const fv_window_geometry *g, const float *x, const float *w, const float *b, float *y);
void fv_conv_backward_data_reference(const fv_window_geometry *g, const float *dy, const float *w, float *dx);
void fv_conv_backward_weights_reference(const fv_window_geometry *g, const float *x, const float *dy, float *dw, float *db);

#endif
