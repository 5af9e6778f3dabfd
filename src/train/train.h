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

/* One rank's part of data-parallel training (replica.c); fit's, while the network has a
 * communicator of two or more ranks. */
typedef struct fv_replica {
    fv_comm *comm;
    fv_net *net;
    int first, count;      /* this rank's samples of each batch: [first, first + count) */
    double share;          /* count / batch */
    float *grad;           /* the network's gradient block */
    size_t floats;
    size_t *ready_from;    /* per node: where the gradients final after its backward begin */
    size_t pending_end;    /* gradients [0, pending_end) are not being summed yet */
    size_t bucket_floats;  /* a bucket starts once this many are ready (0: one bucket at the end) */
    int buckets, failed;
    fv_error err;
    double wait_seconds;   /* waiting for sums, over the run */
} fv_replica;
fv_status fv_replica_begin(fv_replica *r, fv_net *net, int batch, size_t bucket_bytes, fv_error *err);
void fv_replica_attach(fv_replica *r);
fv_status fv_replica_check_start(fv_replica *r, const fv_dataset *data, const fv_fit_config *c, fv_error *err);
void fv_replica_before_backward(fv_replica *r);
fv_status fv_replica_sum_gradients(fv_replica *r, fv_error *err);
void fv_replica_end(fv_replica *r);

#endif
