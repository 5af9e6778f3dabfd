/* cmd_model.c — the commands that only read a model: summary, forward (timed passes on seeded
 * input) and weights. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void forward_usage(FILE *out) {
    fprintf(out,
            "usage: fovea forward MODEL.fv [options]   run forward and backward passes on seeded random input\n"
            "      --batch N        batch size (default 32)\n"
            "      --seed S         seed for weights and input (default 1)\n"
            "      --repeat R       passes to time (default 5)\n"
            "      --backend B      onednn or reference (default: %s)\n",
            fv_backend_name(fv_backend_default()));
}

int cmd_summary(int argc, char **argv) {
    if (argc != 1 || !strcmp(argv[0], "--help")) {
        fprintf(argc == 1 ? stdout : stderr, "usage: fovea summary MODEL   (a definition .fv or a saved model)\n");
        return argc == 1 ? 0 : 2;
    }
    fv_net *net = cli_load_net(argv[0], NULL);
    if (!net) return 1;
    int len = fv_net_summary(net, NULL, 0);
    char *text = malloc((size_t)len + 1);
    if (!text) {
        fprintf(stderr, "fovea: out of memory\n");
        fv_net_free(net);
        return 1;
    }
    fv_net_summary(net, text, (size_t)len + 1);
    fputs(text, stdout);
    free(text);
    fv_net_free(net);
    return 0;
}

int cmd_forward(int argc, char **argv) {
    const char *path = NULL;
    long batch = 32, seed = 1, repeat = 5;
    fv_backend backend = fv_backend_default();
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return forward_usage(stdout), 0;
        if (!strcmp(a, "--batch")) { if (!cli_int(a, v, 1, &batch)) return 2; i++; }
        else if (!strcmp(a, "--seed")) { if (!cli_int(a, v, 0, &seed)) return 2; i++; }
        else if (!strcmp(a, "--repeat")) { if (!cli_int(a, v, 1, &repeat)) return 2; i++; }
        else if (!strcmp(a, "--backend")) {
            if (v && !strcmp(v, "onednn")) backend = FV_BACKEND_ONEDNN;
            else if (v && !strcmp(v, "reference")) backend = FV_BACKEND_REFERENCE;
            else return fprintf(stderr, "fovea: --backend is onednn or reference\n"), 2;
            i++;
        } else if (a[0] == '-') return fprintf(stderr, "fovea: unknown option '%s'\n", a), 2;
        else if (!path) path = a;
        else return fprintf(stderr, "fovea: unexpected argument '%s'\n", a), 2;
    }
    if (!path) return forward_usage(stderr), 2;

    fv_error err;
    fv_net *net = fv_net_load_definition(path, &err);
    if (!net || fv_net_plan(net, (int)batch, backend, (uint64_t)seed, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s\n", err.message);
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

/* fovea weights MODEL [--layer NAME]: every parameter with its shape and values. */
int cmd_weights(int argc, char **argv) {
    const char *path = NULL, *layer = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) return printf("usage: fovea weights MODEL [--layer NAME]\n"), 0;
        if (!strcmp(argv[i], "--layer") && i + 1 < argc) layer = argv[++i];
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
        for (size_t k = 0; k < p.count; k++) printf("%s% .6f%s", k % (size_t)row ? " " : "  ", (double)p.value[k], (k + 1) % (size_t)row ? "" : "\n");
    }
    if (!shown) printf("layer '%s' has no parameters\n", layer ? layer : "?");
    fv_net_free(net);
    return 0;
}

