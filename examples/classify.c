/* classify.c — classify images with a saved model: the top class and its probability.
 *
 *   usage: classify MODEL.fvm IMAGE...
 */
#include <fovea.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) return fprintf(stderr, "usage: classify MODEL.fvm IMAGE...\n"), 2;
    fv_error err;
    fv_checkpoint ck; /* the class names come with the model's training state */
    fv_net *net = fv_model_load(argv[1], &ck, &err);
    if (!net) return fprintf(stderr, "classify: %s\n", err.message), 1;
    fv_shape in = fv_net_node_shape(net, 0), out = fv_net_node_shape(net, fv_net_output_node(net));
    size_t classes = fv_shape_count(out);
    float *x = malloc(fv_shape_count(in) * sizeof *x), *y = malloc(classes * sizeof *y);
    int rc = !x || !y || in.rank != 3 || fv_net_plan_mode(net, 1, fv_backend_default(), FV_PLAN_INFERENCE, 1, &err) != FV_OK;
    for (int i = 2; !rc && i < argc; i++) {
        if (fv_load_image(argv[i], in.dim[0], in.dim[1], in.dim[2], x, &err) != FV_OK || fv_predict(net, x, 1, y, &err) != FV_OK) {
            rc = 1;
            break;
        }
        size_t best = 0;
        for (size_t c = 1; c < classes; c++) best = y[c] > y[best] ? c : best;
        const char *name = ck.has_train_state && (int)best < ck.train.n_classes ? ck.train.class_names[best] : "?";
        printf("%s: %s (class %zu) %.4f\n", argv[i], name, best, (double)y[best]);
    }
    if (rc) fprintf(stderr, "classify: %s\n", in.rank != 3 ? "the model does not take images" : err.message);
    free(x), free(y);
    fv_checkpoint_free(&ck);
    fv_net_free(net);
    return rc;
}
