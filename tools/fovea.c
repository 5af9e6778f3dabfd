/* fovea — the command-line tool: usage and dispatch. The commands live one group a file:
 * cmd_model.c (summary, weights, forward), cmd_train.c (train, evaluate, predict), cmd_filter.c
 * (filter), cmd_inspect.c (show, saliency, gradcam, dream); cli.c holds what they share. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            "  layers                       every layer kind's settings and defaults\n"
            "  forward MODEL.fv             time forward and backward passes on seeded random input\n"
            "\n"
            "looking inside:\n"
            "  filter IMAGE --kernel K      classic convolution (Sobel, Gaussian, ...; NumPy/SciPy semantics)\n"
            "  show MODEL IMAGE --layer L   feature maps, dense barcodes (--compare), filters (--filters L)\n"
            "  saliency MODEL IMAGE...      input-gradient maps: vanilla, smoothgrad, guided; --metric deletion\n"
            "  gradcam MODEL IMAGE...       Grad-CAM and Grad-CAM++ heat maps over the image\n"
            "  dream MODEL --class K        activation maximisation; with IMAGE --layer L: DeepDream\n"
            "\n"
            "Model definitions: see models/README.md.\n");
}

int main(int argc, char **argv) {
    /* a line at a time even into a file or a pipe: progress survives a kill, logs are current */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "summary")) return cmd_summary(argc - 2, argv + 2);
    if (!strcmp(argv[1], "layers")) return cmd_layers(argc - 2, argv + 2);
    if (!strcmp(argv[1], "forward")) return cmd_forward(argc - 2, argv + 2);
    if (!strcmp(argv[1], "weights")) return cmd_weights(argc - 2, argv + 2);
    if (!strcmp(argv[1], "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(argv[1], "evaluate")) return cmd_evaluate(argc - 2, argv + 2);
    if (!strcmp(argv[1], "predict")) return cmd_predict(argc - 2, argv + 2);
    if (!strcmp(argv[1], "filter")) return cmd_filter(argc - 2, argv + 2);
    if (!strcmp(argv[1], "show")) return cmd_show(argc - 2, argv + 2);
    if (!strcmp(argv[1], "saliency")) return cmd_saliency(argc - 2, argv + 2);
    if (!strcmp(argv[1], "gradcam")) return cmd_gradcam(argc - 2, argv + 2);
    if (!strcmp(argv[1], "dream")) return cmd_dream(argc - 2, argv + 2);
    fprintf(stderr, "fovea: unknown command '%s' (try fovea --help)\n", argv[1]);
    return 2;
}
