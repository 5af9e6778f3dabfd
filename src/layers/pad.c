/* pad.c — padding the axes after the batch: a constant, the reflection (the edge not repeated:
 * 1 2 3 -> 3 2 | 1 2 3 | 2 1) or the edge repeated (1 1 | 1 2 3 | 3 3). ONNX's Pad; a zero pad
 * read by a convolution or an average pool is folded into that layer's padding at import. */
#include "core/core.h"

#include <string.h>

static fv_status pad_infer(fv_node *node, fv_error *err) {
    const fv_pad_settings *l = &node->layer.pad;
    const fv_shape *in = &node->in_shape[0];
    if ((unsigned)l->mode >= FV_PAD_MODE_COUNT) return fv_fail(err, "unknown mode");
    fv_shape out = *in;
    for (int a = 0; a < FV_MAX_RANK; a++) {
        if (l->pads[a][0] < 0 || l->pads[a][1] < 0) return fv_fail(err, "pads must not be negative");
        if (a >= in->rank && (l->pads[a][0] || l->pads[a][1])) return fv_fail(err, "pads for axis %d of a rank-%d input", a, in->rank);
        if (a >= in->rank) continue;
        if (l->mode == FV_PAD_REFLECT && (l->pads[a][0] >= in->dim[a] || l->pads[a][1] >= in->dim[a]))
            return fv_fail(err, "reflect pads must be smaller than the axis (%d)", in->dim[a]);
        if ((long)in->dim[a] + l->pads[a][0] + l->pads[a][1] > (long)FV_MAX_SAMPLE_VALUES) return fv_fail(err, "pads too large");
        out.dim[a] = in->dim[a] + l->pads[a][0] + l->pads[a][1];
    }
    node->out_shape = out;
    return FV_OK;
}

/* The input coordinate an output coordinate c reads along an axis of n values padded by
 * `before`, or -1 for the constant. */
static int source(fv_pad_mode mode, int c, int before, int n) {
    c -= before;
    if (c >= 0 && c < n) return c;
    if (mode == FV_PAD_CONSTANT) return -1;
    if (mode == FV_PAD_EDGE) return c < 0 ? 0 : n - 1;
    return c < 0 ? -c : 2 * (n - 1) - c; /* reflect (pads < n) */
}

/* Both directions in one walk over the output: forward y = the padded x; backward dx += dy for
 * every output that reads an input (reflect and edge read some inputs twice). */
static void walk(const fv_node *node, int batch, const float *x, float *y, const float *dy, float *dx) {
    int in[FV_MAX_RANK], out[FV_MAX_RANK], before[FV_MAX_RANK];
    for (int a = 0; a < FV_MAX_RANK; a++) {
        in[a] = a < node->in_shape[0].rank ? node->in_shape[0].dim[a] : 1;
        out[a] = a < node->out_shape.rank ? node->out_shape.dim[a] : 1;
        before[a] = node->layer.pad.pads[a][0];
    }
    fv_pad_mode mode = node->layer.pad.mode;
    float value = node->layer.pad.value;
    size_t per_in = fv_shape_count(node->in_shape[0]), per_out = fv_shape_count(node->out_shape);
    for (int n = 0; n < batch; n++) {
        size_t o = (size_t)n * per_out, base = (size_t)n * per_in;
        for (int c0 = 0; c0 < out[0]; c0++) {
            int s0 = source(mode, c0, before[0], in[0]);
            for (int c1 = 0; c1 < out[1]; c1++) {
                int s1 = source(mode, c1, before[1], in[1]);
                for (int c2 = 0; c2 < out[2]; c2++) {
                    int s2 = source(mode, c2, before[2], in[2]);
                    for (int c3 = 0; c3 < out[3]; c3++, o++) {
                        int s3 = source(mode, c3, before[3], in[3]);
                        int inside = s0 >= 0 && s1 >= 0 && s2 >= 0 && s3 >= 0;
                        size_t i = inside ? base + (((size_t)s0 * (size_t)in[1] + (size_t)s1) * (size_t)in[2] + (size_t)s2) * (size_t)in[3] + (size_t)s3 : 0;
                        if (y) y[o] = inside ? x[i] : value;
                        else if (inside) dx[i] += dy[o];
                    }
                }
            }
        }
    }
}

/* x (N, S) -> y (N, S padded) */
static void pad_forward(const fv_node *node, const fv_step *s) { walk(node, s->batch, s->in[0], s->out, NULL, NULL); }

/* dx (N, S) = the sum of dy over the outputs that read each input */
static void pad_backward(const fv_node *node, const fv_step *s) {
    memset(s->d_in[0], 0, (size_t)s->batch * fv_shape_count(node->in_shape[0]) * sizeof(float));
    walk(node, s->batch, NULL, NULL, s->d_out, s->d_in[0]);
}

static const char *const pad_modes[] = {"constant", "reflect", "edge", NULL};
#define PAD(field) offsetof(fv_layer, pad.field)
static const fv_setting pad_settings[] = {
    {"pads", FV_SET_PADS, PAD(pads), 0, NULL, NULL, "(before, after) for each axis after the batch: `1,1,1,1,0,0` pads H and W of (H, W, C) by 1", NULL},
    {"mode", FV_SET_CHOICE, PAD(mode), 0, "constant", NULL, "constant, reflect (the edge not repeated) or edge (repeated)", pad_modes},
    {"value", FV_SET_FLOAT, PAD(value), 0, "0", NULL, "the constant", NULL},
};

const fv_op fv_op_pad = {
    .kind = FV_LAYER_PAD, .word = "pad", .type_name = "Padding",
    .help = "pads the axes after the batch with a constant, their reflection or their edge", .settings = pad_settings,
    .n_settings = FV_COUNT(pad_settings), .min_inputs = 1, .max_inputs = 1, .infer = pad_infer, .forward = pad_forward,
    .backward = pad_backward
};

fv_layer fv_pad(fv_pad_mode mode, float value) {
    fv_layer l = fv_layer_defaults(FV_LAYER_PAD);
    l.pad.mode = mode, l.pad.value = value;
    return l;
}
