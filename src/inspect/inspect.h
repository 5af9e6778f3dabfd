/* inspect.h — what the looking-inside files share; not part of the public API. */
#ifndef FOVEA_INSPECT_H
#define FOVEA_INSPECT_H

#include "core/net.h"

/* The network attribution runs on: net itself when it is planned for inspection at batch 1 (or
 * not planned at all: it is then planned so); else a twin net keeps for it, built from its
 * definition and planned for inspection at the first call, its weights copied from net at every
 * call, so that the caller's plan and its pointers stay as they were. NULL on error. Each public
 * call starts with it; the helpers below take its result. */
fv_net *fv_inspect_prepare(fv_net *net, fv_error *err);
/* The class count of a network ending in a vector (0 when it does not). */
int fv_inspect_classes(fv_net *net);
/* After a forward: the class's probability (the output's softmax/sigmoid, or a softmax of a
 * linear output). */
float fv_inspect_probability(fv_net *net, int class_index);
/* The input's (H, W, C), or an error when the network does not take images. */
fv_status fv_inspect_input_size(fv_net *net, int *height, int *width, int *channels, fv_error *err);
/* Forward image; scores (may be NULL) receives the classes' scores before the output's
 * softmax/sigmoid. Refuses a class out of range. */
fv_status fv_inspect_scores(fv_net *net, const float *image, const int *classes, int n_classes, float *scores, fv_error *err);
/* Forward image, then backward from d(sum of the classes' scores) = 1 (scores before the
 * output's softmax/sigmoid): every node's grad is then d score / d output; guided: guided ReLUs.
 * score (may be NULL) receives the summed score before the step. */
fv_status fv_inspect_backward_from_classes(fv_net *net, const float *image, const int *classes, int n_classes, int guided,
                                           float *score, fv_error *err);

/* A Gaussian model of a dataset's images (prior.c): image = mean + sum_k a_k spread_k basis_k. */
struct fv_image_prior {
    int size;             /* values in one image, H x W x C */
    int components;
    size_t samples;       /* the images it was fitted to */
    double variance_held; /* the share of the data's variance the components hold */
    float *mean;          /* size */
    float *basis;         /* components x size: unit principal directions, the largest first */
    float *spread;        /* components: the data's standard deviation along each */
};

#endif
