/* cmd_quantize.c — fovea quantize: post-training int8 quantisation of a trained model on samples
 * of a dataset (fv_quantize), written as a model file that runs in int8 wherever it is loaded. */
#include "cli.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct quantize_options {
    cli_common common;
    const char *data, *split;
    long calibrate;
    int test;
} quantize_options;

/* Accuracy of net on the test split, planned for inference in `precision`. */
static int test_accuracy(fv_net *net, fv_precision precision, const fv_dataset *test, fv_backend backend, double *accuracy, fv_error *err) {
    fv_metrics m;
    fv_precision was = fv_net_precision(net);
    fv_loss loss = {FV_LOSS_SOFTMAX_CROSS_ENTROPY, 0.0f};
    fv_net_set_precision(net, precision);
    int ok = fv_net_plan_mode(net, 256 < (int)test->count ? 256 : (int)test->count, backend, FV_PLAN_INFERENCE, 1, err) == FV_OK &&
             fv_evaluate(net, test, loss, &m, err) == FV_OK;
    if (ok) *accuracy = m.accuracy, fv_metrics_free(&m);
    fv_net_set_precision(net, was);
    return ok;
}

static int run_quantize(void *options) {
    const quantize_options *o = options;
    const char *model = o->common.args[0], *out = o->common.out;
    if (!o->data || !out) return fprintf(stderr, "fovea: quantize needs --data DATA and -o OUT.fvm (fovea quantize --help)\n"), 2;
    if (!cli_output_writable(out)) return 1;
    fv_checkpoint ck;
    fv_net *net = cli_load_net(&o->common, model, &ck);
    if (!net) return 1;
    fv_error err;
    fv_quantize_report r;
    double before = 0.0, after = 0.0;
    fv_dataset *d = fv_load_dataset(o->data, o->split, &err), *test = NULL;
    int ok = d != NULL;
    if (ok) cli_normalize_dataset(&ck.train, d);
    if (ok && o->test) {
        ok = (test = fv_load_dataset(o->data, "test", &err)) != NULL;
        if (ok) cli_normalize_dataset(&ck.train, test);
        if (ok) ok = cli_match_classes(net, &ck.train, o->data, test, &err);
        if (ok) ok = test_accuracy(net, FV_PRECISION_FP32, test, o->common.backend, &before, &err);
    }
    if (ok) ok = fv_quantize(net, d, (size_t)o->calibrate, o->common.backend, &r, &err) == FV_OK;
    if (ok) {
        printf("calibrated on %zu %s samples of %s; candidates (agreement with fp32's top class, output error):\n", r.samples, o->split, o->data);
        for (int k = 0; k < r.n_candidates; k++) {
            const fv_quantize_candidate *q = &r.candidates[k];
            printf("  %c %-10s first layer %-4s last layer %-4s  %6.2f%%  %.4f\n", k == r.chosen ? '*' : ' ', fv_calibration_name(q->method),
                   q->first_fp32 ? "fp32" : "int8", q->last_fp32 ? "fp32" : "int8", 100.0 * q->agreement, q->error);
        }
        printf("%d layers in int8\n", r.layers);
    }
    if (ok && test) ok = test_accuracy(net, FV_PRECISION_INT8, test, o->common.backend, &after, &err);
    if (ok && test) printf("test accuracy: fp32 %.2f%%, int8 %.2f%% (%+.2f points)\n", 100.0 * before, 100.0 * after, 100.0 * (after - before));
    /* the training state (class names, normalisation) when the model came with one (not an ONNX file) */
    if (ok) ok = fv_model_save(out, net, NULL, ck.train.batch_size ? &ck.train : NULL, &err) == FV_OK;
    if (ok) printf("wrote %s\n", out);
    else fprintf(stderr, "fovea: %s\n", err.message);
    fv_dataset_free(d), fv_dataset_free(test);
    fv_checkpoint_free(&ck);
    fv_net_free(net);
    return !ok;
}

#define QUANTIZE(field) offsetof(quantize_options, field)
static const cli_option quantize_table[] = {
    {"--data", NULL, CLI_TEXT, QUANTIZE(data), "DATA", 0, 0, "the calibration data (as train reads it)", NULL},
    {"--split", NULL, CLI_CHOICE, QUANTIZE(split), "train|test", 0, 0, "the split the calibration samples come from", NULL},
    {"--calibrate", NULL, CLI_INT, QUANTIZE(calibrate), "N", 1, 1 << 20, "calibration samples (the split's first N)", NULL},
    {"--test", NULL, CLI_FLAG, QUANTIZE(test), NULL, 0, 0, "also the test split's accuracy in fp32 and in int8", NULL},
};
static const quantize_options quantize_initial = {.split = "train", .calibrate = 1024};
const cli_command cli_quantize = {
    .name = "quantize", .usage = "MODEL --data DATA -o OUT.fvm [--calibrate N] [--test]",
    .summary = "post-training int8 quantisation of a trained model",
    .about = "  Each convolution's and dense layer's input scale is calibrated on N samples run in fp32; min/max\n"
             "  and 99.99th-percentile scales are tried, each with the first and last of those layers in int8 or\n"
             "  kept in fp32, and the candidate whose outputs agree with fp32's on the most samples is kept (then\n"
             "  the smallest output error, each layer kept fp32 counting a tenth more). A residual add read by\n"
             "  quantised layers has its sum quantised with their scale (on oneDNN the convolution before it\n"
             "  computes it in int8). Weights are quantised per output channel (symmetric). OUT runs in int8\n"
             "  wherever it is loaded (evaluate, predict, the picture commands, export); --precision fp32 runs\n"
             "  it unquantised.\n",
    .examples = "build/mnist-cnn-fashion.fvm --data fashion-mnist --test -o mnist-cnn.q.fvm",
    .shared = CLI_BACKEND | CLI_OUT | CLI_INPUT_SHAPE, .out_value = "OUT.fvm", .out_help = "the quantised model to write",
    .own = CLI_TABLE(quantize_table), .min_args = 1, .max_args = 1, .size = sizeof(quantize_options), .initial = &quantize_initial,
    .run = run_quantize};
