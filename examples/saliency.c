/* saliency.c — a saliency map of a saved model's prediction for one image, as a heat map over it.
 *
 *   usage: saliency MODEL.fvm IMAGE OUT.png
 */
#include <fovea.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4) return fprintf(stderr, "usage: saliency MODEL.fvm IMAGE OUT.png\n"), 2;
    fv_error err;
    fv_net *net = fv_model_load(argv[1], NULL, &err);
    if (!net) return fprintf(stderr, "saliency: %s\n", err.message), 1;
    fv_shape in = fv_net_node_shape(net, 0);
    fv_image *image = in.rank == 3 ? fv_image_new(in.dim[0], in.dim[1], in.dim[2], &err) : NULL, *picture = NULL;
    float *map = image ? malloc((size_t)in.dim[0] * in.dim[1] * sizeof *map) : NULL, p = 0.0f;
    fv_saliency_config config = fv_saliency_defaults(); /* vanilla: |d score / d pixel|, max over channels */
    config.method = FV_SALIENCY_SMOOTHGRAD;
    int klass = -1, rc = 1;
    if (map && fv_load_image(argv[2], in.dim[0], in.dim[1], in.dim[2], image->pixels, &err) == FV_OK &&
        fv_predict_class(net, image->pixels, &klass, &p, &err) == FV_OK &&
        fv_saliency(net, image->pixels, klass, &config, map, &err) == FV_OK &&
        (picture = fv_image_overlay(image, map, FV_COLORMAP_INFERNO, 0.6f, &err)) != NULL &&
        fv_image_save_png(picture, argv[3], &err) == FV_OK) {
        printf("%s: class %d (%.4f); SmoothGrad saliency written to %s\n", argv[2], klass, (double)p, argv[3]);
        rc = 0;
    }
    if (rc) fprintf(stderr, "saliency: %s\n", in.rank != 3 ? "the model does not take images" : err.message);
    free(map);
    fv_image_free(image), fv_image_free(picture);
    fv_net_free(net);
    return rc;
}
