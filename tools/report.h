/* report.h — the HTML run report (report.c), written by fovea train --report and fovea report. */
#ifndef FOVEA_REPORT_H
#define FOVEA_REPORT_H

#include "cli.h"

typedef struct report_input {
    fv_net *net;                 /* weights loaded */
    const fv_epoch_log *history; /* per-epoch logs, oldest first */
    int n_history;
    const fv_dataset *data;      /* the test set (NULL: not yet evaluated) */
    const fv_metrics *metrics;   /* its metrics, or NULL */
    const float *outputs;        /* data->count x units network outputs, or NULL */
    int units;
    int finished;                /* training over (else the page says it is rewritten) */
    const char *command_line, *data_spec, *backend;
    uint64_t seed;
    int threads;
    double seconds, seconds_start;
    double metrics_accuracy;     /* set by report_finish */
} report_input;

fv_status report_write(const char *path, const report_input *r, fv_error *err);
/* Evaluates r->net (planned) on r->data, then writes the finished report. */
fv_status report_finish(const char *path, report_input *r, fv_loss loss, fv_error *err);

#endif
