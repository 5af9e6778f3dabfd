/* targets.c — from class labels to the output layer's targets and back; fit and evaluate share it. */
#include "train/train.h"

#include <string.h>

fv_status fv_target_layout(const fv_net *net, const fv_dataset *d, int *one_hot, fv_error *err) {
    fv_shape out = fv_net_node_shape(net, fv_net_output_node(net)), in = fv_net_node_shape(net, 0);
    if (in.rank != d->shape.rank || fv_shape_count(in) != fv_shape_count(d->shape) ||
        memcmp(in.dim, d->shape.dim, (size_t)in.rank * sizeof(int)) != 0) {
        char a[64], b[64];
        fv_shape_format(in, a, sizeof a), fv_shape_format(d->shape, b, sizeof b);
        return fv_fail(err, "the network takes inputs %s but the data has samples %s", a, b);
    }
    int units = out.dim[out.rank - 1];
    if (out.rank != 1) return fv_fail(err, "training on class labels needs a flat output (units), not rank %d", out.rank);
    if (units == 1 && d->n_classes <= 2) *one_hot = 0;
    else if (units > 1 && units >= d->n_classes) *one_hot = 1; /* a split may lack the last classes */
    else return fv_fail(err, "labels go up to %d but the output has %d units: a label is out of range", d->n_classes - 1, units);
    return FV_OK;
}

void fv_fill_targets(float *t, const int32_t *labels, size_t n, int units, int one_hot) {
    if (!one_hot) {
        for (size_t i = 0; i < n; i++) t[i] = (float)labels[i];
        return;
    }
    memset(t, 0, n * (size_t)units * sizeof *t);
    for (size_t i = 0; i < n; i++) t[i * (size_t)units + (size_t)labels[i]] = 1.0f;
}

int fv_predicted_class(const float *row, int units) {
    if (units == 1) return row[0] > 0.5f;
    int best = 0;
    for (int k = 1; k < units; k++) best = row[k] > row[best] ? k : best;
    return best;
}
