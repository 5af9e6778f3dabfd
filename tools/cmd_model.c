/* cmd_model.c — the commands that only read a model: summary, forward (timed passes on seeded
 * input) and weights. */
#include "cli.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The settings of every layer kind, as models/README.md shows them (generated from the
 * declarations in src/layers/). */
typedef struct layers_options {
    cli_common common;
} layers_options;

static int run_layers(void *options) {
    (void)options;
    int len = fv_layer_settings_markdown(NULL, 0);
    char *text = malloc((size_t)len + 1);
    if (!text) return fprintf(stderr, "fovea: out of memory\n"), 1;
    fv_layer_settings_markdown(text, (size_t)len + 1);
    fputs(text, stdout);
    free(text);
    return 0;
}

static double megabytes(size_t bytes) { return (double)bytes / 1e6; }

/* The kernel of every layer in an inference plan, and the bytes of each kind of plan. */
static int print_plan(fv_net *net, int batch, fv_backend backend) {
    fv_error err;
    fv_plan_memory m[3];
    for (int mode = 0; mode < 3; mode++)
        if (fv_net_plan_memory(net, batch, (fv_plan_mode)mode, &m[mode], &err) != FV_OK)
            return fprintf(stderr, "fovea: %s\n", err.message), 1;
    if (fv_net_plan_mode(net, batch, backend, FV_PLAN_INFERENCE, 1, &err) != FV_OK)
        return fprintf(stderr, "fovea: %s\n", err.message), 1;
    printf("\nKernels (backend %s, precision %s):\n", fv_backend_name(backend), fv_precision_name(fv_net_planned_precision(net)));
    int narrow = 0;
    for (int i = 0; i < fv_net_node_count(net); i++) {
        const char *chosen = fv_net_node_implementation(net, i);
        int by = fv_net_node_computed_by(net, i);
        printf(" %-28s %s%s%s%s%s%s%s%s\n", fv_net_node_name(net, i), fv_net_node_kernel(net, i), chosen ? " (" : "", chosen ? chosen : "",
               chosen ? ")" : "", by >= 0 ? ", computed by " : "", by >= 0 ? fv_net_node_name(net, by) : "",
               fv_net_node_narrow(net, i) ? ", output kept in " : "", fv_net_node_narrow(net, i) == 8 ? "int8" : fv_net_node_narrow(net, i) ? "bf16" : "");
        narrow += fv_net_node_narrow(net, i) != 0;
    }
    if (fv_net_planned_precision(net) != FV_PRECISION_FP32)
        printf(" %d of %d layers' outputs pass to the next in %s (the rest in fp32, converted where a product reads them)\n", narrow,
               fv_net_node_count(net), fv_net_planned_precision(net) == FV_PRECISION_INT8 ? "int8 or bf16" : "bf16");
    printf("\nPlanned memory for batch %d (MB)   training  inspection   inference\n", batch);
    const char *rows[] = {"parameters", "parameter gradients", "activations", "activation gradients", "scratch"};
    for (int r = 0; r < 5; r++) {
        printf(" %-33s", rows[r]);
        for (int mode = 0; mode < 3; mode++) {
            size_t v[5] = {m[mode].parameters, m[mode].parameter_grads, m[mode].activations, m[mode].activation_grads, m[mode].scratch};
            printf(" %11.1f", megabytes(v[r]));
        }
        printf("\n");
    }
    printf(" %-33s", "total");
    for (int mode = 0; mode < 3; mode++)
        printf(" %11.1f", megabytes(m[mode].parameters + m[mode].parameter_grads + m[mode].activations +
                                    m[mode].activation_grads + m[mode].scratch));
    printf("\n (largest single activation: %.1f MB)\n", megabytes(m[0].largest_activation));
    return 0;
}

/* The summary's numbers for scripts; parameter counts as Keras counts them. */
static void print_summary_json(const fv_net *net) {
    printf("{\"name\": "), cli_json_string(stdout, fv_net_name(net)), printf(", \"layers\": [");
    size_t total = 0, trainable = 0;
    fv_error err;
    for (int i = 0; i < fv_net_node_count(net); i++) {
        size_t params = 0;
        for (int p = 0; p < fv_net_param_count(net); p++) {
            fv_param_info info;
            if (fv_net_param_read(net, p, &info, &err) == FV_OK && info.node == i) params += info.count, trainable += info.trainable ? info.count : 0;
        }
        total += params;
        const fv_layer *layer = fv_net_node_layer(net, i);
        int inputs[8], n = fv_net_node_inputs(net, i, inputs, 8);
        printf("%s{\"name\": ", i ? ", " : ""), cli_json_string(stdout, fv_net_node_name(net, i));
        printf(", \"type\": "), cli_json_string(stdout, fv_layer_kind_name(layer->kind)), printf(", \"inputs\": [");
        for (int k = 0; k < n; k++) printf("%s", k ? ", " : ""), cli_json_string(stdout, fv_net_node_name(net, inputs[k]));
        fv_shape s = fv_net_node_shape(net, i);
        printf("], \"output_shape\": [null");
        for (int d = 0; d < s.rank; d++) printf(", %d", s.dim[d]);
        printf("], \"params\": %zu}", params);
    }
    printf("], \"total_params\": %zu, \"trainable_params\": %zu, \"non_trainable_params\": %zu}\n", total, trainable, total - trainable);
}

typedef struct summary_options {
    cli_common common;
    int plan;
} summary_options;

static int run_summary(void *options) {
    const summary_options *o = options;
    const char *path = o->common.args[0];
    int json = o->common.json;
    long batch = o->common.batch;
    fv_backend backend = o->common.backend;
    fv_net *net = cli_load_net(&o->common, path, NULL);
    if (!net) return 1;
    if (json) {
        print_summary_json(net);
        fv_net_free(net);
        return 0;
    }
    int len = fv_net_summary(net, NULL, 0), status = 0;
    char *text = malloc((size_t)len + 1);
    if (!text) {
        fprintf(stderr, "fovea: out of memory\n");
        fv_net_free(net);
        return 1;
    }
    fv_net_summary(net, text, (size_t)len + 1);
    fputs(text, stdout);
    free(text);
    if (o->plan) status = print_plan(net, (int)batch, backend);
    fv_net_free(net);
    return status;
}

/* The ONNX layout of a tensor of rank r: (N, C, P) with P the product of the spatial axes. */
static size_t onnx_positions(int rank, const int64_t *dims) {
    size_t p = 1;
    for (int a = 2; a < rank; a++) p *= (size_t)dims[a];
    return p;
}

/* fovea forward MODEL --input X.npy --output Y.npy: one inference pass over the batch. */
static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* repeat > 0: also times that many more passes and prints their median (bench/onnx.py). */
static int forward_npy(const cli_common *options, const char *path, const char *in_path, const char *out_path, fv_backend backend, long repeat) {
    fv_error err;
    fv_onnx_info info;
    int onnx = cli_is_onnx(path);
    int rank, dims[8];
    float *x = NULL, *x_fovea = NULL, *y = NULL;
    x = fv_load_npy_floats(in_path, &rank, dims, &err);
    if (!x) return fprintf(stderr, "fovea: %s\n", err.message), 1;
    /* an ONNX model takes the sizes its input leaves open from the data it is given */
    int64_t given[8] = {0};
    for (int a = 0; a < rank && a < 8; a++) given[a] = dims[a];
    fv_net *net = onnx ? fv_net_load_onnx_shaped(path, given, rank, &info, &err) : cli_load_net(options, path, NULL);
    if (!net) {
        if (onnx) fprintf(stderr, "fovea: %s\n", err.message);
        free(x);
        return 1;
    }
    cli_apply_precision(options, net);
    int status = 1;
    fv_shape in_shape = fv_net_node_shape(net, 0), out_shape = fv_net_node_shape(net, fv_net_output_node(net));
    size_t per_in = fv_shape_count(in_shape), per_out = fv_shape_count(out_shape);
    size_t count = 1;
    for (int a = 1; a < rank; a++) count *= (size_t)dims[a];
    if (rank < 2 || dims[0] < 1 || count != per_in) {
        char want[64];
        fv_shape_format(in_shape, want, sizeof want);
        fprintf(stderr, "fovea: %s: %d-dimensional array of %zu values per sample; the model takes %s%s\n", in_path, rank, count, want,
                onnx ? " in fovea's layout (the .npy is in the ONNX model's own)" : "");
        goto done;
    }
    int n = dims[0];
    x_fovea = malloc((size_t)n * per_in * sizeof *x_fovea);
    y = malloc((size_t)n * per_out * sizeof *y);
    if (!x_fovea || !y) {
        fprintf(stderr, "fovea: out of memory\n");
        goto done;
    }
    if (onnx) fv_channels_last(x, x_fovea, (size_t)n, (size_t)info.input_dims[1], onnx_positions(info.input_rank, info.input_dims), 1);
    else memcpy(x_fovea, x, (size_t)n * per_in * sizeof *x);
    if (fv_net_plan_mode(net, n, backend, FV_PLAN_INFERENCE, 1, &err) != FV_OK || fv_predict(net, x_fovea, (size_t)n, y, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s\n", err.message);
        goto done;
    }
    if (repeat > 0) {
        double *ms = malloc((size_t)repeat * sizeof *ms);
        if (!ms) {
            fprintf(stderr, "fovea: out of memory\n");
            goto done;
        }
        for (long r = 0; r < repeat; r++) {
            double t0 = fv_time_seconds();
            if (fv_predict(net, x_fovea, (size_t)n, y, &err) != FV_OK) break;
            ms[r] = (fv_time_seconds() - t0) * 1e3;
        }
        qsort(ms, (size_t)repeat, sizeof *ms, compare_doubles);
        printf("fovea_ms %.3f\n", ms[repeat / 2]);
        free(ms);
    }
    int out_dims[9];
    int out_rank;
    if (onnx) { /* back to the ONNX output's layout and dims (a buffer of the output's size: it can be larger than the input) */
        float *y_onnx = malloc((size_t)n * per_out * sizeof *y_onnx);
        if (!y_onnx) {
            fprintf(stderr, "fovea: out of memory\n");
            goto done;
        }
        fv_channels_last(y, y_onnx, (size_t)n, (size_t)info.output_dims[1], onnx_positions(info.output_rank, info.output_dims), 0);
        free(y), y = y_onnx;
        out_rank = info.output_rank;
        for (int a = 0; a < out_rank; a++) out_dims[a] = a ? (int)info.output_dims[a] : n;
    } else {
        out_rank = out_shape.rank + 1;
        out_dims[0] = n;
        for (int a = 0; a < out_shape.rank; a++) out_dims[a + 1] = out_shape.dim[a];
    }
    if (fv_save_npy(out_path, y, out_rank, out_dims, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s\n", err.message);
        goto done;
    }
    status = 0;
done:
    free(x), free(x_fovea), free(y);
    fv_net_free(net);
    return status;
}

typedef struct forward_options {
    cli_common common;
    long seed, repeat;
    const char *input, *output;
} forward_options;

static int run_forward(void *options) {
    const forward_options *o = options;
    const char *path = o->common.args[0], *in_path = o->input, *out_path = o->output;
    long batch = o->common.batch, seed = o->seed, repeat = o->repeat > 0 ? o->repeat : 5;
    fv_backend backend = o->common.backend;
    if (!in_path != !out_path) return fprintf(stderr, "fovea: --input and --output go together\n"), 2;
    if (in_path) {
        if (!cli_output_writable(out_path)) return 1;
        return forward_npy(&o->common, path, in_path, out_path, backend, o->repeat > 0 ? repeat : 0);
    }

    fv_error err;
    fv_net *net = cli_load_net(&o->common, path, NULL); /* a definition, a saved model or an ONNX file */
    if (!net) return 1;
    if (fv_net_plan(net, (int)batch, backend, (uint64_t)seed, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s: %s\n", path, err.message);
        fv_net_free(net);
        return 1;
    }
    int out_node = fv_net_output_node(net);
    size_t in_count = (size_t)batch * fv_shape_count(fv_net_node_shape(net, 0));
    size_t out_count = (size_t)batch * fv_shape_count(fv_net_node_shape(net, out_node));
    float *input = malloc(in_count * sizeof *input), *d_out = malloc(out_count * sizeof *d_out);
    if (!input || !d_out) {
        fprintf(stderr, "fovea: out of memory\n");
        free(input), free(d_out), fv_net_free(net);
        return 1;
    }
    fv_random_uniform(input, in_count, (uint64_t)seed); /* pixels in [0, 1) */
    for (size_t i = 0; i < out_count; i++) d_out[i] = 1.0f / (float)out_count;

    double fwd = 1e30, bwd = 1e30;
    for (long r = 0; r < repeat; r++) {
        double t0 = fv_time_seconds();
        fv_net_forward(net, input, 1, &err);
        double t1 = fv_time_seconds();
        fv_net_backward(net, d_out, &err);
        double t2 = fv_time_seconds();
        fwd = t1 - t0 < fwd ? t1 - t0 : fwd;
        bwd = t2 - t1 < bwd ? t2 - t1 : bwd;
    }
    char shape[64];
    fv_shape_format(fv_net_node_shape(net, out_node), shape, sizeof shape);
    const float *y = fv_net_node_output(net, out_node);
    size_t per = out_count / (size_t)batch;
    printf("model %s, backend %s, batch %ld, output %s\n", path, fv_backend_name(backend), batch, shape);
    printf("sample 0 output:");
    for (size_t i = 0; i < per && i < 10; i++) printf(" %.4f", (double)y[i]);
    printf("%s\n", per > 10 ? " ..." : "");
    printf("forward %.2f ms, backward %.2f ms (best of %ld; %.0f images/s forward+backward)\n", fwd * 1e3,
           bwd * 1e3, repeat, (double)batch / (fwd + bwd));
    free(input), free(d_out), fv_net_free(net);
    return 0;
}

/* fovea export MODEL -o FILE.onnx */
typedef struct export_options {
    cli_common common;
    int nhwc;
    long seed;
} export_options;

static int run_export(void *options) {
    const export_options *o = options;
    const char *path = o->common.args[0], *out = o->common.out;
    int nhwc = o->nhwc;
    long seed = o->seed;
    if (!out) return fprintf(stderr, "fovea: export needs -o FILE.onnx (fovea export --help)\n"), 2;
    if (!cli_output_writable(out)) return 1;
    fv_net *net = cli_load_net(&o->common, path, NULL);
    if (!net) return 1;
    fv_error err;
    int status = 0;
    if (fv_net_init_params(net, (uint64_t)seed, &err) != FV_OK || fv_net_save_onnx(net, out, nhwc, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s\n", err.message);
        status = 1;
    } else {
        printf("wrote %s (%zu parameters, input %s)\n", out, fv_net_weight_count(net, 0), nhwc ? "(batch, H, W, C)" : "(batch, C, H, W)");
    }
    fv_net_free(net);
    return status;
}

/* fovea weights MODEL [--layer NAME]: every parameter with its shape and values. */
typedef struct weights_options {
    cli_common common;
    const char *layer;
    int exact;
} weights_options;

static int run_weights(void *options) {
    const weights_options *o = options;
    const char *path = o->common.args[0], *layer = o->layer;
    int exact = o->exact;
    fv_net *net = cli_load_net(&o->common, path, NULL);
    if (!net) return 1;
    fv_error err;
    if (fv_net_init_params(net, 1, &err) != FV_OK) return fprintf(stderr, "fovea: %s\n", err.message), fv_net_free(net), 1;
    int node = layer ? fv_net_find(net, layer) : -1, shown = 0;
    if (layer && node < 0) {
        fprintf(stderr, "fovea: %s has no layer '%s'\n", path, layer);
        fv_net_free(net);
        return 1;
    }
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        if (layer && p.node != node) continue;
        shown++;
        printf("%s/%s (", fv_net_node_name(net, p.node), p.name);
        for (int k = 0; k < p.rank; k++) printf("%s%d", k ? ", " : "", p.dim[k]);
        printf(")%s\n", p.trainable ? "" : " non-trainable");
        int row = p.dim[p.rank - 1];
        for (size_t k = 0; k < p.count; k++)
            printf(exact ? "%s% .9g%s" : "%s% .6f%s", k % (size_t)row ? " " : "  ", (double)p.value[k], (k + 1) % (size_t)row ? "" : "\n");
    }
    if (!shown) printf("layer '%s' has no parameters\n", layer ? layer : "?");
    fv_net_free(net);
    return 0;
}


/* ---- the option tables ---- */

#define SUMMARY(field) offsetof(summary_options, field)
static const cli_option summary_table[] = {
    {"--plan", NULL, CLI_FLAG, SUMMARY(plan), NULL, 0, 0, "also the kernel each layer runs, and the memory each kind of plan needs", NULL},
};
static const summary_options summary_initial = {.common = {.batch = 1}};
const cli_command cli_summary = {
    .name = "summary", .usage = "MODEL [--plan] [--batch N] [--json]   (a definition .fv, a saved model or an .onnx file)",
    .summary = "print layers, output shapes and parameter counts",
    .about = "  layers, output shapes and parameter counts, as Keras prints them; --json: one document\n"
             "  {name, layers: [{name, type, inputs, output_shape, params}], total_params, trainable_params, non_trainable_params}\n",
    .examples = "models/vgg16.fv --plan --batch 64", .shared = CLI_BACKEND | CLI_BATCH | CLI_JSON | CLI_INPUT_SHAPE,
    .own = CLI_TABLE(summary_table), .min_args = 1, .max_args = 1, .size = sizeof(summary_options), .initial = &summary_initial,
    .run = run_summary};

static const layers_options layers_initial = {.common = {0}};
const cli_command cli_layers = {
    .name = "layers", .usage = "", .summary = "every layer kind's settings and defaults",
    .about = "  print every layer kind's settings with defaults (Markdown)\n",
    .examples = "> settings.md", .max_args = 0, .size = sizeof(layers_options), .initial = &layers_initial, .run = run_layers};

#define FORWARD(field) offsetof(forward_options, field)
static const cli_option forward_table[] = {
    {"--input", NULL, CLI_TEXT, FORWARD(input), "X.npy", 0, 0,
     "a float batch: (N, H, W, C) for fovea models; an .onnx model's own layout,\n(N, C, H, W), for ONNX models (the output is in it too)", NULL},
    {"--output", NULL, CLI_TEXT, FORWARD(output), "Y.npy", 0, 0, "where the outputs go (float32)", NULL},
    {"--seed", NULL, CLI_INT, FORWARD(seed), "S", 0, CLI_MAX_SEED, "seed for weights and input", NULL},
    {"--repeat", NULL, CLI_INT, FORWARD(repeat), "R", 1, 1000000, "passes to time (default 5; with --input: prints their median)", NULL},
};
static const forward_options forward_initial = {.common = {.batch = 32}, .seed = 1};
const cli_command cli_forward = {
    .name = "forward", .usage = "MODEL.fv [options]   run forward and backward passes on seeded random input\n"
                                "MODEL --input X.npy --output Y.npy   run a model on a batch",
    .summary = "time passes on random input; --input x.npy --output y.npy runs a batch",
    .examples = "models/vgg16.fv --batch 8 --repeat 3\nresnet18.onnx --input x.npy --output y.npy",
    .shared = CLI_BACKEND | CLI_BATCH | CLI_INPUT_SHAPE, .own = CLI_TABLE(forward_table), .min_args = 1, .max_args = 1,
    .size = sizeof(forward_options), .initial = &forward_initial, .run = run_forward};

#define EXPORT(field) offsetof(export_options, field)
static const cli_option export_table[] = {
    {"--nhwc", NULL, CLI_FLAG, EXPORT(nhwc), NULL, 0, 0,
     "input (batch, H, W, C) as fovea holds it (default: (batch, C, H, W),\nas PyTorch and ONNX Runtime expect)", NULL},
    {"--seed", NULL, CLI_INT, EXPORT(seed), "S", 0, CLI_MAX_SEED, "the initial weights of an untrained definition", NULL},
};
static const export_options export_initial = {.common = {0}, .seed = 1};
const cli_command cli_export = {
    .name = "export", .usage = "MODEL -o MODEL.onnx [options]   the network as an ONNX model (opset 13)",
    .summary = "the network as an ONNX model (PyTorch, ONNX Runtime)",
    .about = "  MODEL is a saved model (.fvm), a definition (.fv, seeded weights) or an .onnx file.\n",
    .examples = "mnist-cnn.fvm -o mnist-cnn.onnx", .shared = CLI_OUT | CLI_INPUT_SHAPE, .out_value = "FILE",
    .out_help = "the .onnx file to write", .own = CLI_TABLE(export_table), .min_args = 1, .max_args = 1, .size = sizeof(export_options),
    .initial = &export_initial, .run = run_export};

#define WEIGHTS(field) offsetof(weights_options, field)
static const cli_option weights_table[] = {
    {"--layer", NULL, CLI_TEXT, WEIGHTS(layer), "NAME", 0, 0, "only this layer's parameters", NULL},
    {"--exact", NULL, CLI_FLAG, WEIGHTS(exact), NULL, 0, 0, "every value with 9 digits (exact for float32)", NULL},
};
static const weights_options weights_initial = {.common = {0}};
const cli_command cli_weights = {
    .name = "weights", .usage = "MODEL [--layer NAME] [--exact]", .summary = "print a trained model's parameters",
    .about = "  a model's parameters, layer by layer\n", .examples = "build/mnist-cnn-fashion.fvm --layer dense_2",
    .shared = CLI_INPUT_SHAPE, .own = CLI_TABLE(weights_table), .min_args = 1, .max_args = 1, .size = sizeof(weights_options),
    .initial = &weights_initial, .run = run_weights};
