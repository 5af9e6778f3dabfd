/* train.h — what fit, evaluate and the model file share; not part of the public API. */
#ifndef FOVEA_TRAIN_H
#define FOVEA_TRAIN_H

#include "core/core.h"

/* Checks the data fits the network; one_hot: targets are one-hot rows (else one 0/1 unit). */
fv_status fv_target_layout(const fv_net *net, const fv_dataset *d, int *one_hot, fv_error *err);
void fv_fill_targets(float *t, const int32_t *labels, size_t n, int units, int one_hot);
int fv_predicted_class(const float *row, int units);

/* The mean loss over the first `samples` samples of the batch (0: all); backward needs all. */
fv_status fv_loss_compute(fv_net *net, fv_loss loss, const float *targets, int samples, double *value, int backward,
                          fv_error *err);

/* Evaluation without allocating (fit's validation): metrics from fv_metrics_alloc for
 * fv_net_classes(net) classes; x and targets hold one batch of inputs and of outputs. */
fv_status fv_metrics_alloc(fv_metrics *m, int classes, fv_error *err);
fv_status fv_evaluate_into(fv_net *net, const fv_dataset *data, fv_loss loss, fv_metrics *m, float *x, float *targets,
                           fv_error *err);

#endif
