/* fovea — the command-line tool: usage and dispatch. The commands live one group a file:
 * cmd_model.c (summary, weights, forward), cmd_train.c (train, evaluate, predict), cmd_filter.c
 * (filter), cmd_inspect.c (show, saliency, gradcam, dream); cli.c holds what they share. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: fovea COMMAND [ARGS]   (fovea COMMAND --help for its options)\n"
            "\n"
            "commands:\n"
            "  train MODEL --data DATA      train a model definition (.fv) or resume a saved model\n"
            "  evaluate MODEL --data DATA   loss, accuracy, per-class metrics, confusion matrix\n"
            "  predict MODEL IMAGE...       top classes with probabilities\n"
            "  summary MODEL                print layers, output shapes and parameter counts\n"
            "  weights MODEL [--layer L]    print a trained model's parameters\n"
            "  report MODEL --data DATA     an HTML run report: curves, confusion matrix, mistakes, filters\n"
            "  layers                       every layer kind's settings and defaults\n"
            "  forward MODEL.fv             time passes on random input; --input x.npy --output y.npy runs a batch\n"
            "  export MODEL -o MODEL.onnx   the network as an ONNX model (PyTorch, ONNX Runtime)\n"
            "\n"
            "looking inside:\n"
            "  filter IMAGE --kernel K      classic convolution (Sobel, Gaussian, ...; NumPy/SciPy semantics)\n"
            "  show MODEL IMAGE --layer L   feature maps, dense barcodes (--compare), filters (--filters L)\n"
            "  saliency MODEL IMAGE...      input-gradient maps: vanilla, smoothgrad, guided; --metric deletion\n"
            "  gradcam MODEL IMAGE...       Grad-CAM and Grad-CAM++ heat maps over the image\n"
            "  dream MODEL --class K        activation maximisation; with IMAGE --layer L: DeepDream\n"
            "\n"
            "\n"
            "options of every command: --threads N (OpenMP threads; OMP_NUM_THREADS works too)\n"
            "  --input-shape H,W  the input size of an ONNX model that leaves it open\n"
            "fovea --version    the version, backends and threads\n"
            "Model definitions: see models/README.md. The manual: man fovea.\n"
            "example: fovea train models/mnist-cnn.fv --data fashion-mnist --out mnist-cnn.fvm\n");
}

/* --threads N anywhere on the command line: the OpenMP threads of this process (the tool is the
 * application, so it may set them; the library never does). OMP_NUM_THREADS works as usual. */
static int take_threads(int *argc, char **argv) {
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--threads")) continue;
        long n;
        if (!cli_int("--threads", i + 1 < *argc ? argv[i + 1] : NULL, 1, &n)) return 0;
        omp_set_num_threads((int)n);
        for (int k = i; k + 2 <= *argc; k++) argv[k] = argv[k + 2];
        *argc -= 2;
        i--;
    }
    return 1;
}

/* --input-shape H,W (1 to 3 sizes) anywhere on the command line: the spatial sizes of an ONNX
 * model's input that the file leaves open (PaddleOCR's models take any height and width). */
static int take_input_shape(int *argc, char **argv) {
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--input-shape")) continue;
        const char *v = i + 1 < *argc ? argv[i + 1] : "";
        int64_t dims[FV_MAX_SPATIAL];
        int n = 0, ok = 1;
        for (const char *p = v; ok;) {
            char *end;
            long d = strtol(p, &end, 10);
            ok = end != p && d >= 1 && d <= 65536 && n < FV_MAX_SPATIAL && (*end == ',' || !*end);
            if (ok) dims[n++] = d;
            if (!ok || !*end) break;
            p = end + 1;
        }
        if (!ok) return fprintf(stderr, "fovea: --input-shape needs 1 to 3 sizes from 1 to 65536, as H,W (not '%s')\n", v), 0;
        cli_set_input_shape(dims, n);
        for (int k = i; k + 2 <= *argc; k++) argv[k] = argv[k + 2];
        *argc -= 2;
        i--;
    }
    return 1;
}

int main(int argc, char **argv) {
    /* a line at a time even into a file or a pipe: progress survives a kill, logs are current */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* a file-size limit (ulimit -f) then fails the write with EFBIG, which the library reports and
     * cleans up after (the temporary file removed, the old model kept), instead of killing the
     * process mid-write with a MODEL.tmp.PID left behind */
    signal(SIGXFSZ, SIG_IGN);
    if (!take_threads(&argc, argv) || !take_input_shape(&argc, argv)) return 2;
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("fovea %s (backends: reference%s; OpenMP threads: %d)\n", fv_version(),
               fv_backend_available(FV_BACKEND_ONEDNN) ? ", onednn" : "", omp_get_max_threads());
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "summary")) return cmd_summary(argc - 2, argv + 2);
    if (!strcmp(argv[1], "layers")) return cmd_layers(argc - 2, argv + 2);
    if (!strcmp(argv[1], "forward")) return cmd_forward(argc - 2, argv + 2);
    if (!strcmp(argv[1], "export")) return cmd_export(argc - 2, argv + 2);
    if (!strcmp(argv[1], "weights")) return cmd_weights(argc - 2, argv + 2);
    if (!strcmp(argv[1], "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(argv[1], "evaluate")) return cmd_evaluate(argc - 2, argv + 2);
    if (!strcmp(argv[1], "predict")) return cmd_predict(argc - 2, argv + 2);
    if (!strcmp(argv[1], "filter")) return cmd_filter(argc - 2, argv + 2);
    if (!strcmp(argv[1], "show")) return cmd_show(argc - 2, argv + 2);
    if (!strcmp(argv[1], "saliency")) return cmd_saliency(argc - 2, argv + 2);
    if (!strcmp(argv[1], "gradcam")) return cmd_gradcam(argc - 2, argv + 2);
    if (!strcmp(argv[1], "dream")) return cmd_dream(argc - 2, argv + 2);
    if (!strcmp(argv[1], "report")) return cmd_report(argc - 2, argv + 2);
    fprintf(stderr, "fovea: unknown command '%s' (try fovea --help)\n", argv[1]);
    return 2;
}
