/* cmd_report.c — fovea report: the HTML run report of a saved model, evaluated on a dataset; and
 * the evaluation both it and fovea train --report end with. */
#include "report.h"

#include <omp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Evaluates net on data (a planned network) and writes the finished report. */
fv_status report_finish(const char *path, report_input *r, fv_loss loss, fv_error *err) {
    fv_metrics m;
    int units = (int)fv_shape_count(fv_net_node_shape(r->net, fv_net_output_node(r->net)));
    float *outputs = malloc(r->data->count * (size_t)units * sizeof *outputs);
    if (!outputs) return snprintf(err->message, sizeof err->message, "out of memory for the report"), FV_ERR;
    fv_status st = fv_evaluate(r->net, r->data, loss, &m, err);
    if (st == FV_OK) st = fv_predict(r->net, r->data->x, r->data->count, outputs, err);
    if (st == FV_OK) {
        r->metrics = &m, r->outputs = outputs, r->units = units, r->finished = 1, r->metrics_accuracy = m.accuracy;
        st = report_write(path, r, err);
        r->metrics = NULL, r->outputs = NULL;
        fv_metrics_free(&m);
    }
    free(outputs);
    return st;
}

typedef struct report_options {
    cli_common common;
    const char *data, *split;
} report_options;

static int run_report(void *options) {
    const report_options *o = options;
    const char *model = o->common.args[0], *data_spec = o->data, *split = o->split, *out = o->common.out;
    long batch = o->common.batch;
    fv_backend backend = o->common.backend;
    if (!data_spec || !out) return fprintf(stderr, "fovea: report needs --data DATA and -o OUT.html (fovea report --help)\n"), 2;
    if (!cli_output_writable(out)) return 1;
    fv_checkpoint ck;
    fv_net *net = cli_load_net(&o->common, model, &ck);
    if (!net) return 1;
    fv_error err;
    fv_dataset *d = fv_load_dataset(data_spec, split, &err);
    int rc = 1;
    if (d && d->count == 0) snprintf(err.message, sizeof err.message, "%s: the %s split has no samples", data_spec, split), fv_dataset_free(d), d = NULL;
    if (d && !cli_match_classes(net, &ck.train, data_spec, d, &err)) fv_dataset_free(d), d = NULL;
    if (d && (size_t)batch > d->count) batch = (long)d->count;
    cli_normalize_dataset(&ck.train, d);
    char command[2048] = "";
    for (int i = -1; i < o->common.argc; i++)
        snprintf(command + strlen(command), sizeof command - strlen(command), "%s%s", i < 0 ? "fovea report" : " ", i < 0 ? "" : o->common.argv[i]);
    report_input r = {.net = net, .history = ck.train.history, .n_history = ck.train.n_history, .data = d, .command_line = command,
                      .data_spec = data_spec, .backend = fv_backend_name(backend), .seed = ck.train.seed, .threads = omp_get_max_threads()};
    for (int i = 0; i < r.n_history; i++) r.seconds += r.history[i].seconds;
    fv_loss loss = {fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net))) == 1 ? FV_LOSS_BINARY_CROSS_ENTROPY : FV_LOSS_SOFTMAX_CROSS_ENTROPY, 0.0f};
    if (d && fv_net_plan_mode(net, (int)batch, backend, FV_PLAN_INFERENCE, 1, &err) == FV_OK && report_finish(out, &r, loss, &err) == FV_OK) {
        printf("wrote %s (%s on %zu %s images: accuracy %.2f%%)\n", out, model, d->count, split, 100.0 * r.metrics_accuracy);
        rc = 0;
    } else {
        fprintf(stderr, "fovea: %s\n", err.message);
    }
    fv_dataset_free(d);
    fv_checkpoint_free(&ck);
    fv_net_free(net);
    return rc;
}

#define REPORT(field) offsetof(report_options, field)
static const cli_option report_table[] = {
    {"--data", NULL, CLI_TEXT, REPORT(data), "DATA", 0, 0, "the dataset (as train reads it)", NULL},
    {"--split", NULL, CLI_CHOICE, REPORT(split), "test|train", 0, 0, "which split", NULL},
};
static const report_options report_initial = {.common = {.batch = 256}, .split = "test"};
const cli_command cli_report = {
    .name = "report", .usage = "MODEL --data DATA [--split S] -o OUT.html [--batch N] [--backend B]",
    .summary = "an HTML run report: curves, confusion matrix, mistakes, filters",
    .about = "  One self-contained HTML page (no network access needed): the training curves (loss and accuracy\n"
             "  per epoch, training and validation, and the learning rate, from the history in the model file),\n"
             "  the confusion matrix on DATA as a heat map, per-class precision/recall/F1, the most confidently\n"
             "  misclassified images, the first layer's filters, the model summary and the run's settings.\n",
    .examples = "build/mnist-cnn-fashion.fvm --data fashion-mnist -o run.html", .shared = CLI_BACKEND | CLI_BATCH | CLI_OUT | CLI_INPUT_SHAPE,
    .out_value = "OUT.html", .out_help = "the page to write", .own = CLI_TABLE(report_table), .min_args = 1, .max_args = 1,
    .size = sizeof(report_options), .initial = &report_initial, .run = run_report};
