/* geometry.h — where windows (convolution and pooling kernels) fall on an input: shared by the
 * layers' shape inference and reference kernels and by every backend's kernels.
 *
 * Inputs are N x D x H x W x C with one to three spatial axes; fewer axes are the trailing ones
 * of (D, H, W), with the leading ones of size 1 (conv2d's (H, W, C) is (1, H, W, C)). */
#ifndef FOVEA_GEOMETRY_H
#define FOVEA_GEOMETRY_H

#include "fovea.h"

/* Output length of a strided window of extent `window` over `in`; fills the padding used. */
int fv_window_output(int in, int window, int stride, fv_padding padding, int explicit_before,
                     int explicit_after, int *pad_before, int *pad_after);

typedef struct fv_window_geometry {
    int n, spatial;            /* batch; spatial axes of the layer (1, 2 or 3) */
    int in[3], out[3];         /* D, H, W of input and output (1 for absent axes) */
    int c_in, c_out;           /* channels (pooling: c_in = c_out) */
    int k[3], s[3], d[3];      /* window, stride, dilation per axis */
    int pad_before[3], pad_after[3];
    int groups;                /* convolution only (1 for pooling) */
} fv_window_geometry;

/* Fills g for a convolution/pooling node's input shape (one sample) and batch n; checks the
 * settings and returns FV_ERR with a message when they do not fit the input. spatial is the
 * layer's number of spatial axes; in may have fewer (a 2-D pool over (L, C)). */
fv_status fv_conv_geometry(const fv_conv_settings *c, int spatial, fv_shape in, int n, fv_window_geometry *g,
                           fv_error *err);
fv_status fv_pool_geometry(const fv_pool_settings *p, int spatial, fv_shape in, int n, fv_window_geometry *g,
                           fv_error *err);
/* The output shape (one sample) of g, of the input's rank. */
fv_shape fv_window_out_shape(const fv_window_geometry *g, int rank);

#endif
