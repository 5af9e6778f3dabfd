/* transpose.c — the axes after the batch in another order: output axis i is input axis perm[i].
 * What an imported network's Transpose becomes, and how the importer moves data between fovea's
 * channels-last layout and ONNX's own order when an operator needs the other (a channel shuffle,
 * a layer norm over the channels of permuted maps, attention's heads). */
#include "core/core.h"

static fv_status transpose_infer(fv_node *node, fv_error *err) {
    const fv_shape *p = &node->layer.transpose.perm, *in = &node->in_shape[0];
    if (p->rank != in->rank) return fv_fail(err, "perm has %d axes, the input %d", p->rank, in->rank);
    int seen = 0;
    for (int i = 0; i < p->rank; i++) {
        if (p->dim[i] < 0 || p->dim[i] >= in->rank || (seen >> p->dim[i] & 1)) return fv_fail(err, "perm is not a permutation of the axes");
        seen |= 1 << p->dim[i];
    }
    fv_shape out = {in->rank, {0}};
    for (int i = 0; i < in->rank; i++) out.dim[i] = in->dim[p->dim[i]];
    node->out_shape = out;
    return FV_OK;
}

/* For output axis i (of FV_MAX_RANK, trailing 1s): its size and its step in the input. */
static void geometry(const fv_node *node, int *size, size_t *step) {
    const fv_shape *p = &node->layer.transpose.perm, *in = &node->in_shape[0];
    size_t in_stride[FV_MAX_RANK], s = 1;
    for (int a = in->rank - 1; a >= 0; a--) in_stride[a] = s, s *= (size_t)in->dim[a];
    for (int i = 0; i < FV_MAX_RANK; i++) {
        size[i] = i < p->rank ? in->dim[p->dim[i]] : 1;
        step[i] = i < p->rank ? in_stride[p->dim[i]] : 0;
    }
}

/* Both directions: forward y[o] = x[i]; backward dx[i] = dy[o] (a permutation: each once). */
static void walk(const fv_node *node, int batch, const float *src, float *dst, int forward) {
    int size[FV_MAX_RANK];
    size_t step[FV_MAX_RANK], per = fv_shape_count(node->out_shape);
    geometry(node, size, step);
    for (int n = 0; n < batch; n++) {
        const float *x = src + (size_t)n * per;
        float *y = dst + (size_t)n * per;
        size_t o = 0;
        for (int c0 = 0; c0 < size[0]; c0++)
            for (int c1 = 0; c1 < size[1]; c1++)
                for (int c2 = 0; c2 < size[2]; c2++) {
                    size_t i = c0 * step[0] + c1 * step[1] + c2 * step[2];
                    for (int c3 = 0; c3 < size[3]; c3++, o++, i += step[3]) {
                        if (forward) y[o] = x[i];
                        else y[i] = x[o];
                    }
                }
    }
}

/* x (N, S) -> y (N, S permuted) */
static void transpose_forward(const fv_node *node, const fv_step *s) { walk(node, s->batch, s->in[0], s->out, 1); }

static void transpose_backward(const fv_node *node, const fv_step *s) { walk(node, s->batch, s->d_out, s->d_in[0], 0); }

static const fv_setting transpose_settings[] = {
    {"perm", FV_SET_PERM, offsetof(fv_layer, transpose.perm), 0, NULL, NULL, "output axis i is input axis perm[i], 0 the first after the batch: `2,0,1` turns (H, W, C) into (C, H, W)", NULL},
};

const fv_op fv_op_transpose = {
    .kind = FV_LAYER_TRANSPOSE, .word = "transpose", .type_name = "Permute",
    .help = "the axes after the batch in another order", .settings = transpose_settings, .n_settings = FV_COUNT(transpose_settings),
    .min_inputs = 1, .max_inputs = 1, .infer = transpose_infer, .forward = transpose_forward,
    .backward = transpose_backward
};

fv_layer fv_transpose(const int *perm, int rank) {
    fv_layer l = fv_layer_defaults(FV_LAYER_TRANSPOSE);
    l.transpose.perm.rank = rank;
    for (int i = 0; i < rank; i++) l.transpose.perm.dim[i] = perm[i];
    return l;
}
