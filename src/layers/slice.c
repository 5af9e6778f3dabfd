/* slice.c — a box of the axes after the batch, with a step: along axis a the elements begin[a],
 * begin[a] + step[a], ... (size[a] of them). ONNX's Slice and Split of data (torch's x[:, :c],
 * chunk, a ViT's class token x[:, 0]). */
#include "core/core.h"

#include <string.h>

static fv_status slice_infer(fv_node *node, fv_error *err) {
    const fv_slice_settings *l = &node->layer.slice;
    const fv_shape *in = &node->in_shape[0];
    if (l->begin.rank != in->rank || l->size.rank != in->rank || l->step.rank != in->rank)
        return fv_fail(err, "begin, size and step need %d values (one per axis after the batch)", in->rank);
    fv_shape out = *in;
    for (int a = 0; a < in->rank; a++) {
        int b = l->begin.dim[a], n = l->size.dim[a], st = l->step.dim[a];
        if (st < 1 || n < 1) return fv_fail(err, "axis %d: size and step must be positive", a);
        if (b < 0 || (long)b + (long)(n - 1) * st >= in->dim[a]) return fv_fail(err, "axis %d: the slice leaves the input's %d values", a, in->dim[a]);
        out.dim[a] = n;
    }
    node->out_shape = out;
    return FV_OK;
}

/* Both directions: forward y[o] = x[i]; backward dx[i] = dy[o] (dx zeroed first). */
static void walk(const fv_node *node, int batch, const float *src, float *dst, int forward) {
    const fv_slice_settings *l = &node->layer.slice;
    const fv_shape *in = &node->in_shape[0];
    int size[FV_MAX_RANK];
    size_t step[FV_MAX_RANK], first = 0, stride = 1;
    for (int a = FV_MAX_RANK - 1; a >= 0; a--) {
        size[a] = a < in->rank ? l->size.dim[a] : 1;
        step[a] = a < in->rank ? stride * (size_t)l->step.dim[a] : 0;
        if (a < in->rank) first += stride * (size_t)l->begin.dim[a], stride *= (size_t)in->dim[a];
    }
    size_t per_in = fv_shape_count(*in), per_out = fv_shape_count(node->out_shape);
    for (int n = 0; n < batch; n++) {
        size_t o = (size_t)n * per_out, base = (size_t)n * per_in + first;
        for (int c0 = 0; c0 < size[0]; c0++)
            for (int c1 = 0; c1 < size[1]; c1++)
                for (int c2 = 0; c2 < size[2]; c2++) {
                    size_t i = base + c0 * step[0] + c1 * step[1] + c2 * step[2];
                    for (int c3 = 0; c3 < size[3]; c3++, o++, i += step[3]) {
                        if (forward) dst[o] = src[i];
                        else dst[i] = src[o];
                    }
                }
    }
}

/* x (N, S) -> y (N, the box) */
static void slice_forward(const fv_node *node, const fv_step *s) { walk(node, s->batch, s->in[0], s->out, 1); }

/* dx is dy inside the box, 0 elsewhere */
static void slice_backward(const fv_node *node, const fv_step *s) {
    memset(s->d_in[0], 0, (size_t)s->batch * fv_shape_count(node->in_shape[0]) * sizeof(float));
    walk(node, s->batch, s->d_out, s->d_in[0], 0);
}

#define SLICE(field) offsetof(fv_layer, slice.field)
static const fv_setting slice_settings[] = {
    {"begin", FV_SET_INTS, SLICE(begin), 0, NULL, NULL, "the first element taken, per axis after the batch", NULL},
    {"size", FV_SET_INTS, SLICE(size), 0, NULL, NULL, "how many taken, per axis", NULL},
    {"step", FV_SET_INTS, SLICE(step), 0, NULL, NULL, "the distance between them, per axis (1: adjacent)", NULL},
};

const fv_op fv_op_slice = {
    .kind = FV_LAYER_SLICE, .word = "slice", .type_name = "Slice",
    .help = "a box of the axes after the batch, with a step", .settings = slice_settings, .n_settings = FV_COUNT(slice_settings),
    .min_inputs = 1, .max_inputs = 1, .infer = slice_infer, .forward = slice_forward, .backward = slice_backward
};

fv_layer fv_slice(int rank) {
    fv_layer l = fv_layer_defaults(FV_LAYER_SLICE);
    l.slice.begin.rank = l.slice.size.rank = l.slice.step.rank = rank;
    for (int a = 0; a < rank; a++) l.slice.begin.dim[a] = 0, l.slice.size.dim[a] = 1, l.slice.step.dim[a] = 1;
    return l;
}
