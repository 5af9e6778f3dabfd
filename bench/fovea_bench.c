/* fovea_bench.c — fovea's side of the benchmark (bench/bench.py runs it against PyTorch):
 *   fovea_bench train MODEL BATCH STEPS [P]   training images/s (Adam, steady state) in precision P (fp32, bf16)
 *   fovea_bench infer MODEL BATCH STEPS       inference: median ms per batch, images/s
 *   fovea_bench layers MODEL BATCH            each convolution alone: forward and backward GFLOP/s
 *   fovea_bench sgemm N                       oneDNN sgemm GFLOP/s on N x N x N (the machine's peak)
 *   fovea_bench accuracy MODEL TARGET EPOCHS  seconds of training until Fashion-MNIST test accuracy >= TARGET
 *   fovea_bench fit MODEL BATCH               one real Fashion-MNIST epoch through fv_fit: images/s
 *   fovea_bench memory MODEL BATCH MODE       planned MB per kind of plan; with MODE (training or
 *                                             inference) also plans it and runs one forward pass
 * Each prints one line of key=value pairs, and peak_rss_mb (this process's largest resident size). */
#include "fovea.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double peak_rss_mb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, const fv_error *err) {
    fprintf(stderr, "fovea_bench: %s: %s\n", what, err->message);
    exit(1);
}

static fv_precision precision; /* the bench program's setting: `train ... bf16` */

static fv_net *load_for(const char *path, int batch, fv_plan_mode mode) {
    fv_error err;
    fv_net *net = fv_net_load_definition(path, &err);
    if (net) fv_net_set_precision(net, precision);
    if (!net || fv_net_plan_mode(net, batch, fv_backend_default(), mode, 1, &err) != FV_OK) die(path, &err);
    return net;
}

static fv_net *load(const char *path, int batch) { return load_for(path, batch, FV_PLAN_TRAINING); }

static float *random_floats(size_t n, unsigned seed) {
    float *x = malloc(n * sizeof *x);
    if (!x) exit(1);
    srand(seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)rand() / (float)RAND_MAX;
    return x;
}

static void bench_train(const char *path, int batch, int steps) {
    fv_net *net = load(path, batch);
    fv_error err;
    fv_net_want_input_grad(net, 0);
    int units = (int)fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    float *x = random_floats((size_t)batch * fv_shape_count(fv_net_node_shape(net, 0)), 1);
    float *t = calloc((size_t)batch * units, sizeof *t);
    for (int i = 0; i < batch; i++) t[(size_t)i * units + (units == 1 ? 0 : i % units)] = (float)(units == 1 ? i % 2 : 1);
    fv_optimizer_config oc = fv_adam(1e-3f);
    fv_optimizer *opt = fv_optimizer_new(net, &oc, &err);
    fv_loss loss = {units == 1 ? FV_LOSS_BINARY_CROSS_ENTROPY : FV_LOSS_SOFTMAX_CROSS_ENTROPY, 0.0f};
    double start = 0.0, l;
    for (int s = -5; s < steps; s++) { /* 5 warm-up steps */
        if (s == 0) start = fv_time_seconds();
        if (fv_net_forward(net, x, 1, &err) != FV_OK || fv_net_loss_backward(net, loss, t, &l, &err) != FV_OK) die("step", &err);
        if (fv_optimizer_step(opt, 1e-3f, &err) != FV_OK) die("step", &err);
    }
    double seconds = fv_time_seconds() - start;
    printf("images_per_s=%.1f peak_rss_mb=%.1f\n", (double)batch * steps / seconds, peak_rss_mb());
    fv_optimizer_free(opt), fv_net_free(net), free(x), free(t);
}

static void bench_infer(const char *path, int batch, int steps) {
    fv_net *net = load_for(path, batch, FV_PLAN_INFERENCE);
    fv_error err;
    float *x = random_floats((size_t)batch * fv_shape_count(fv_net_node_shape(net, 0)), 2);
    double *ms = malloc((size_t)steps * sizeof *ms);
    for (int s = -5; s < steps; s++) {
        double t0 = fv_time_seconds();
        fv_net_forward(net, x, 0, &err);
        if (s >= 0) ms[s] = 1e3 * (fv_time_seconds() - t0);
    }
    qsort(ms, (size_t)steps, sizeof *ms, cmp_double);
    printf("median_ms=%.4f images_per_s=%.1f peak_rss_mb=%.1f\n", ms[steps / 2], batch * 1e3 / ms[steps / 2], peak_rss_mb());
    free(ms), free(x), fv_net_free(net);
}

/* Each convolution of the model alone, from a random input of its shape. */
static void bench_layers(const char *path, int batch) {
    fv_net *full = load(path, batch);
    fv_error err;
    for (int node = 1; node < fv_net_node_count(full); node++) {
        const fv_layer *l = fv_net_node_layer(full, node);
        if (l->kind != FV_LAYER_CONV2D) continue;
        int src;
        fv_net_node_inputs(full, node, &src, 1);
        fv_shape in = fv_net_node_shape(full, src), out = fv_net_node_shape(full, node);
        fv_net *one = fv_net_new("layer", &err);
        fv_layer input = fv_input_layer(in);
        fv_net_add(one, &input, NULL, &err);
        fv_net_add(one, l, fv_net_node_name(full, node), &err);
        if (fv_net_plan(one, batch, fv_backend_default(), 1, &err) != FV_OK) die("layer", &err);
        fv_net_want_input_grad(one, src != 0); /* as in training: no gradient for the network input */
        float *x = random_floats((size_t)batch * fv_shape_count(in), 3), *dy = random_floats((size_t)batch * fv_shape_count(out), 4);
        double macs = (double)batch * fv_shape_count(out) * l->conv.kernel[0] * l->conv.kernel[1] * in.dim[2];
        double fwd[21], bwd[21];
        for (int r = -3; r < 21; r++) {
            double t0 = fv_time_seconds();
            fv_net_forward(one, x, 1, &err);
            double t1 = fv_time_seconds();
            fv_net_backward(one, dy, &err);
            if (r >= 0) fwd[r] = t1 - t0, bwd[r] = fv_time_seconds() - t1;
        }
        qsort(fwd, 21, sizeof(double), cmp_double), qsort(bwd, 21, sizeof(double), cmp_double);
        double bwd_flops = 2.0 * macs * (src != 0 ? 2.0 : 1.0);
        printf("layer=%s fwd_ms=%.3f fwd_gflops=%.1f bwd_ms=%.3f bwd_gflops=%.1f\n", fv_net_node_name(full, node),
               1e3 * fwd[10], 2.0 * macs / fwd[10] / 1e9, 1e3 * bwd[10], bwd_flops / bwd[10] / 1e9);
        free(x), free(dy), fv_net_free(one);
    }
    fv_net_free(full);
}

static void bench_sgemm(int n) {
    float *a = random_floats((size_t)n * n, 5), *b = random_floats((size_t)n * n, 6), *c = calloc((size_t)n * n, sizeof *c);
    double best = 1e30;
    for (int r = 0; r < 8; r++) {
        double t0 = fv_time_seconds();
        dnnl_sgemm('N', 'N', n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double e = fv_time_seconds() - t0;
        best = e < best ? e : best;
    }
    printf("sgemm_gflops=%.1f\n", 2.0 * n * n * n / best / 1e9);
    free(a), free(b), free(c);
}

typedef struct target {
    double accuracy, reached_at, start;
    int epoch;
} target;

static int stop_at_target(const fv_epoch_log *log, void *user) {
    target *t = user;
    if (log->val_accuracy >= t->accuracy && t->reached_at == 0.0) t->reached_at = fv_time_seconds() - t->start, t->epoch = log->epoch;
    return t->reached_at != 0.0;
}

static void bench_accuracy(const char *path, double accuracy, int epochs) {
    fv_error err;
    fv_dataset *train = fv_load_dataset("fashion-mnist", "train", &err), *test = fv_load_dataset("fashion-mnist", "test", &err);
    if (!train || !test) die("fashion-mnist", &err);
    fv_net *net = load(path, 64);
    fv_optimizer_config oc = fv_adam(1e-3f);
    fv_optimizer *opt = fv_optimizer_new(net, &oc, &err);
    fv_fit_config c = fv_fit_defaults();
    target t = {accuracy, 0.0, fv_time_seconds(), 0};
    c.epochs = epochs, c.batch_size = 64, c.validation = test, c.on_epoch = stop_at_target, c.user = &t;
    fv_fit_result r;
    if (fv_fit(net, opt, train, &c, &r, &err) != FV_OK) die("fit", &err);
    printf("seconds=%.1f epochs=%d test_accuracy=%.4f peak_rss_mb=%.1f\n", t.reached_at ? t.reached_at : -1.0, t.epoch,
           r.last.val_accuracy, peak_rss_mb());
    fv_optimizer_free(opt), fv_net_free(net), fv_dataset_free(train), fv_dataset_free(test);
}

/* One epoch over the 60,000 Fashion-MNIST training images as a user runs it (shuffled, no
 * validation), to set against the steady rate of `train`: what fit itself costs. */
static void bench_fit(const char *path, int batch) {
    fv_error err;
    fv_dataset *train = fv_load_dataset("fashion-mnist", "train", &err);
    if (!train) die("fashion-mnist", &err);
    fv_net *net = load(path, batch);
    fv_optimizer_config oc = fv_adam(1e-3f);
    fv_optimizer *opt = fv_optimizer_new(net, &oc, &err);
    fv_fit_config c = fv_fit_defaults();
    c.epochs = 1, c.batch_size = batch;
    fv_fit_result r;
    double t0 = fv_time_seconds();
    if (fv_fit(net, opt, train, &c, &r, &err) != FV_OK) die("fit", &err);
    double seconds = fv_time_seconds() - t0;
    printf("images_per_s=%.1f seconds=%.2f peak_rss_mb=%.1f\n", (double)(train->count / (size_t)batch * (size_t)batch) / seconds,
           seconds, peak_rss_mb());
    fv_optimizer_free(opt), fv_net_free(net), fv_dataset_free(train);
}

static void bench_memory(const char *path, int batch, const char *mode) {
    fv_error err;
    fv_net *net = fv_net_load_definition(path, &err);
    if (!net) die(path, &err);
    fv_plan_memory m[3];
    for (int k = 0; k < 3; k++)
        if (fv_net_plan_memory(net, batch, (fv_plan_mode)k, &m[k], &err) != FV_OK) die("plan", &err);
    printf("training_mb=%.1f inspection_mb=%.1f inference_mb=%.1f largest_mb=%.1f", (m[0].activations + m[0].activation_grads) / 1e6,
           (m[1].activations + m[1].activation_grads) / 1e6, m[2].activations / 1e6, m[2].largest_activation / 1e6);
    if (mode) {
        fv_plan_mode pm = !strcmp(mode, "inference") ? FV_PLAN_INFERENCE : FV_PLAN_TRAINING;
        if (fv_net_plan_mode(net, batch, fv_backend_default(), pm, 1, &err) != FV_OK) die("plan", &err);
        float *x = random_floats((size_t)batch * fv_shape_count(fv_net_node_shape(net, 0)), 5);
        double t0 = fv_time_seconds();
        if (fv_net_forward(net, x, 0, &err) != FV_OK) die("forward", &err);
        printf(" forward_s=%.2f", fv_time_seconds() - t0);
        free(x);
    }
    printf(" peak_rss_mb=%.1f\n", peak_rss_mb());
    fv_net_free(net);
}

int main(int argc, char **argv) {
    fv_error err;
    if (argc >= 6 && !strcmp(argv[1], "train") && fv_precision_parse(argv[5], &precision, &err) != FV_OK) die("precision", &err);
    if (argc >= 5 && !strcmp(argv[1], "train")) bench_train(argv[2], atoi(argv[3]), atoi(argv[4]));
    else if (argc >= 5 && !strcmp(argv[1], "infer")) bench_infer(argv[2], atoi(argv[3]), atoi(argv[4]));
    else if (argc >= 4 && !strcmp(argv[1], "layers")) bench_layers(argv[2], atoi(argv[3]));
    else if (argc >= 3 && !strcmp(argv[1], "sgemm")) bench_sgemm(atoi(argv[2]));
    else if (argc >= 5 && !strcmp(argv[1], "accuracy")) bench_accuracy(argv[2], atof(argv[3]), atoi(argv[4]));
    else if (argc >= 4 && !strcmp(argv[1], "fit")) bench_fit(argv[2], atoi(argv[3]));
    else if (argc >= 4 && !strcmp(argv[1], "memory")) bench_memory(argv[2], atoi(argv[3]), argc >= 5 ? argv[4] : NULL);
    else return fprintf(stderr, "usage: see the comment at the top of bench/fovea_bench.c\n"), 2;
    return 0;
}
