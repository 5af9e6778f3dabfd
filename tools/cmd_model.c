/* cmd_model.c — the commands that only read a model: summary, forward (timed passes on seeded
 * input) and weights. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void forward_usage(FILE *out) {
    fprintf(out,
            "usage: fovea forward MODEL.fv [options]   run forward and backward passes on seeded random input\n"
            "       fovea forward MODEL --input X.npy --output Y.npy   run a model on a batch\n"
            "      --input X.npy    a float batch: (N, H, W, C) for fovea models; an .onnx model's own\n"
            "                       layout, (N, C, H, W), for ONNX models (the output is in it too)\n"
            "      --output Y.npy   where the outputs go (float32)\n"
            "      --batch N        batch size (default 32)\n"
            "      --seed S         seed for weights and input (default 1)\n"
            "      --repeat R       passes to time (default 5; with --input: prints their median)\n"
            "      --backend B      onednn or reference (default: %s)\n"
            "example: fovea forward models/vgg16.fv --batch 8 --repeat 3\n"
            "example: fovea forward resnet18.onnx --input x.npy --output y.npy\n",
            fv_backend_name(fv_backend_default()));
}

/* The settings of every layer kind, as models/README.md shows them (generated from the
 * declarations in src/layers/). */
int cmd_layers(int argc, char **argv) {
    (void)argv;
    if (argc > 0) {
        fprintf(argc == 1 && !strcmp(argv[0], "--help") ? stdout : stderr,
                "usage: fovea layers   print every layer kind's settings with defaults (Markdown)\n"
                "example: fovea layers > settings.md\n");
        return argc == 1 && !strcmp(argv[0], "--help") ? 0 : 2;
    }
    int len = fv_layer_settings_markdown(NULL, 0);
    char *text = malloc((size_t)len + 1);
    if (!text) return fprintf(stderr, "fovea: out of memory\n"), 1;
    fv_layer_settings_markdown(text, (size_t)len + 1);
    fputs(text, stdout);
    free(text);
    return 0;
}

static void summary_usage(FILE *out) {
    fprintf(out,
            "usage: fovea summary MODEL [--plan] [--batch N] [--backend B] [--json]   (a definition .fv or a saved model)\n"
            "  layers, output shapes and parameter counts, as Keras prints them\n"
            "      --json           one JSON document: {name, layers: [{name, type, inputs, output_shape, params}],\n"
            "                       total_params, trainable_params, non_trainable_params}\n"
            "      --plan           also the kernel each layer runs, and the memory each kind of plan needs\n"
            "      --batch N        the batch size the plan is for (default 1)\n"
            "      --backend B      onednn or reference (default: %s)\n"
            "example: fovea summary models/vgg16.fv --plan --batch 64\n",
            fv_backend_name(fv_backend_default()));
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
    printf("\nKernels (backend %s):\n", fv_backend_name(backend));
    for (int i = 0; i < fv_net_node_count(net); i++) printf(" %-28s %s\n", fv_net_node_name(net, i), fv_net_node_kernel(net, i));
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
            if (fv_net_param(net, p, &info, &err) == FV_OK && info.node == i) params += info.count, trainable += info.trainable ? info.count : 0;
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

int cmd_summary(int argc, char **argv) {
    const char *path = NULL;
    long batch = 1;
    int plan = 0, json = 0;
    fv_backend backend = fv_backend_default();
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return summary_usage(stdout), 0;
        if (!strcmp(a, "--plan")) plan = 1;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--batch")) { if (!cli_int(a, v, 1, &batch)) return 2; i++; }
        else if (!strcmp(a, "--backend")) { if (!cli_backend(v, &backend)) return 2; i++; }
        else if (a[0] == '-') return fprintf(stderr, "fovea: unknown option '%s'\n", a), 2;
        else if (!path) path = a;
        else return fprintf(stderr, "fovea: unexpected argument '%s'\n", a), 2;
    }
    if (!path) return summary_usage(stderr), 2;
    fv_net *net = cli_load_net(path, NULL);
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
    if (plan) status = print_plan(net, (int)batch, backend);
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
static int forward_npy(const char *path, const char *in_path, const char *out_path, fv_backend backend, long repeat) {
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
    fv_net *net = onnx ? fv_net_load_onnx_shaped(path, given, rank, &info, &err) : cli_load_net(path, NULL);
    if (!net) {
        if (onnx) fprintf(stderr, "fovea: %s\n", err.message);
        free(x);
        return 1;
    }
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

int cmd_forward(int argc, char **argv) {
    const char *path = NULL, *in_path = NULL, *out_path = NULL;
    int repeat_given = 0;
    long batch = 32, seed = 1, repeat = 5;
    fv_backend backend = fv_backend_default();
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return forward_usage(stdout), 0;
        if (!strcmp(a, "--batch")) { if (!cli_int(a, v, 1, &batch)) return 2; i++; }
        else if (!strcmp(a, "--seed")) { if (!cli_int(a, v, 0, &seed)) return 2; i++; }
        else if (!strcmp(a, "--repeat")) { if (!cli_int(a, v, 1, &repeat)) return 2; i++, repeat_given = 1; }
        else if (!strcmp(a, "--backend")) { if (!cli_backend(v, &backend)) return 2; i++; }
        else if (!strcmp(a, "--input") && v) in_path = argv[++i];
        else if (!strcmp(a, "--output") && v) out_path = argv[++i];
        else if (a[0] == '-') return fprintf(stderr, "fovea: unknown option '%s'\n", a), 2;
        else if (!path) path = a;
        else return fprintf(stderr, "fovea: unexpected argument '%s'\n", a), 2;
    }
    if (!path) return forward_usage(stderr), 2;
    if (!in_path != !out_path) return fprintf(stderr, "fovea: --input and --output go together\n"), 2;
    if (in_path) {
        if (!cli_output_writable(out_path)) return 1;
        return forward_npy(path, in_path, out_path, backend, repeat_given ? repeat : 0);
    }

    fv_error err;
    fv_net *net = cli_load_net(path, NULL); /* a definition, a saved model or an ONNX file */
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

static void export_usage(FILE *out) {
    fprintf(out,
            "usage: fovea export MODEL -o MODEL.onnx [options]   the network as an ONNX model (opset 13)\n"
            "      -o, --out FILE   the .onnx file to write\n"
            "      --nhwc           input (batch, H, W, C) as fovea holds it (default: (batch, C, H, W),\n"
            "                       as PyTorch and ONNX Runtime expect)\n"
            "      --seed S         the initial weights of an untrained definition (default 1)\n"
            "MODEL is a saved model (.fvm), a definition (.fv, seeded weights) or an .onnx file.\n"
            "example: fovea export mnist-cnn.fvm -o mnist-cnn.onnx\n");
}

/* fovea export MODEL -o FILE.onnx */
int cmd_export(int argc, char **argv) {
    const char *path = NULL, *out = NULL;
    int nhwc = 0;
    long seed = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return export_usage(stdout), 0;
        if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && v) out = argv[++i];
        else if (!strcmp(a, "--nhwc")) nhwc = 1;
        else if (!strcmp(a, "--seed")) { if (!cli_int(a, v, 0, &seed)) return 2; i++; }
        else if (a[0] == '-') return fprintf(stderr, "fovea: unknown option '%s'\n", a), 2;
        else if (!path) path = a;
        else return fprintf(stderr, "fovea: unexpected argument '%s'\n", a), 2;
    }
    if (!path || !out) return export_usage(stderr), 2;
    if (!cli_output_writable(out)) return 1;
    fv_net *net = cli_load_net(path, NULL);
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
int cmd_weights(int argc, char **argv) {
    const char *path = NULL, *layer = NULL;
    int exact = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help"))
            return printf("usage: fovea weights MODEL [--layer NAME] [--exact]\n"
                          "  a model's parameters, layer by layer; --exact: every value with 9 digits (exact for float32)\n"
                          "example: fovea weights build/mnist-cnn-fashion.fvm --layer dense_2\n"), 0;
        if (!strcmp(argv[i], "--layer") && i + 1 < argc) layer = argv[++i];
        else if (!strcmp(argv[i], "--exact")) exact = 1;
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return fprintf(stderr, "fovea: unexpected argument '%s'\n", argv[i]), 2;
    }
    if (!path) return fprintf(stderr, "usage: fovea weights MODEL [--layer NAME]\n"), 2;
    fv_net *net = cli_load_net(path, NULL);
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

