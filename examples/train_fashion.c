/* train_fashion.c — train a small CNN on Fashion-MNIST with the fovea C API, evaluate it, save it.
 *
 *   usage: train_fashion [DATA] [EPOCHS] [OUT.fvm]     (defaults: fashion-mnist 2 fashion.fvm)
 *
 * Built against the installed library: see examples/CMakeLists.txt (find_package) and
 * examples/Makefile (pkg-config). */
#include <fovea.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *data_spec = argc > 1 ? argv[1] : "fashion-mnist", *out = argc > 3 ? argv[3] : "fashion.fvm";
    int epochs = argc > 2 ? atoi(argv[2]) : 2;
    fv_error err;

    /* the network: conv 3x3 (16) - max pool - conv 3x3 (32) - max pool - dense 64 - dense 10 */
    fv_net *net = fv_net_new("fashion-cnn", &err);
    fv_layer input = fv_input_layer((fv_shape){3, {28, 28, 1}}), conv1 = fv_conv2d(16, 3, 3), conv2 = fv_conv2d(32, 3, 3);
    fv_layer pool = fv_maxpool2d(2, 2), flat = fv_flatten(), hidden = fv_dense(64), output = fv_dense(10);
    conv1.conv.activation = conv2.conv.activation = hidden.dense.activation = FV_ACT_RELU;
    output.dense.activation = FV_ACT_SOFTMAX;
    const fv_layer *layers[] = {&input, &conv1, &pool, &conv2, &pool, &flat, &hidden, &output};
    for (size_t i = 0; net && i < sizeof layers / sizeof layers[0]; i++)
        if (fv_net_add(net, layers[i], NULL, &err) < 0) fv_net_free(net), net = NULL;
    fv_dataset *train = net ? fv_load_dataset(data_spec, "train", &err) : NULL;
    if (!net || !train) return fprintf(stderr, "train_fashion: %s\n", err.message), 1;

    fv_fit_config config = fv_fit_defaults(); /* softmax cross-entropy, batch 32, seed 1 */
    config.epochs = epochs, config.batch_size = 64, config.progress = stdout;
    fv_optimizer_config adam = fv_adam(0.001f);
    fv_optimizer *opt = NULL;
    int rc = 1;
    if (fv_net_plan(net, config.batch_size, fv_backend_default(), config.seed, &err) == FV_OK &&
        (opt = fv_optimizer_new(net, &adam, &err)) != NULL && fv_fit(net, opt, train, &config, NULL, &err) == FV_OK) {
        fv_train_state state = {.epochs_done = epochs, .seed = config.seed, .batch_size = config.batch_size,
                                .n_classes = train->n_classes, .class_names = train->class_names};
        fv_dataset *test = fv_load_dataset(data_spec, "test", &err);
        fv_metrics m;
        if (test && fv_evaluate(net, test, config.loss, &m, &err) == FV_OK) {
            printf("test accuracy %.2f%% on %zu images\n", 100.0 * m.accuracy, m.count);
            fv_metrics_free(&m);
        } else {
            printf("no test split evaluated (%s)\n", err.message);
        }
        fv_dataset_free(test);
        if (fv_model_save(out, net, opt, &state, &err) == FV_OK) printf("saved %s\n", out), rc = 0;
    }
    if (rc) fprintf(stderr, "train_fashion: %s\n", err.message);
    fv_optimizer_free(opt);
    fv_dataset_free(train);
    fv_net_free(net);
    return rc;
}
