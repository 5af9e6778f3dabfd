/* attribution.c — which pixels and which feature maps a class score depends on: the class
 * gradient, saliency maps (vanilla, SmoothGrad, guided backpropagation), Grad-CAM and Grad-CAM++,
 * and the deletion/insertion test of whether a map means anything.
 *
 * Everything runs on an inspection plan for one image: every node's output and d score / d output
 * stay readable after backward (plan.c gives fused activations a buffer of their own for
 * d(pre-activation), so a node's gradient is the one Grad-CAM's formula needs). */
#include "inspect/inspect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

fv_net *fv_inspect_prepare(fv_net *net, fv_error *err) {
    if (net->batch == 1 && net->mode == FV_PLAN_INSPECTION) return net;
    if (!net->batch) return fv_net_plan_mode(net, 1, fv_net_backend(net), FV_PLAN_INSPECTION, 1, err) == FV_OK ? net : NULL;
    if (!net->inspection) { /* the same definition (every kind's text round-trips), planned for inspection */
        int n = fv_net_to_text(net, NULL, 0);
        char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (!text) return fv_fail(err, "out of memory for an inspection plan of '%s'", net->name), NULL;
        fv_net_to_text(net, text, (size_t)n + 1);
        fv_net *twin = fv_net_from_text(text, net->name, err);
        free(text);
        if (twin) fv_net_set_precision(twin, net->planned_precision); /* the precision it runs in now */
        if (!twin || fv_net_plan_mode(twin, 1, net->backend, FV_PLAN_INSPECTION, 1, err) != FV_OK) return fv_net_free(twin), NULL;
        net->inspection = twin;
    }
    fv_net *twin = net->inspection;
    if (twin->planned_precision != net->planned_precision) { /* the network was planned again in another precision */
        fv_net_set_precision(twin, net->planned_precision);
        if (fv_net_plan_mode(twin, 1, net->backend, FV_PLAN_INSPECTION, 1, err) != FV_OK) return NULL;
    }
    for (int i = 0; i < net->n_params; i++) { /* the weights as they are now (training may have moved them) */
        fv_param_info from, to;
        if (fv_net_param_read(net, i, &from, err) != FV_OK || fv_net_param(twin, i, &to, err) != FV_OK) return NULL;
        if (from.count != to.count) return fv_fail(err, "'%s': its inspection plan's parameter %d differs in size", net->name, i), NULL;
        memcpy(to.value, from.value, from.count * sizeof *from.value);
    }
    return twin;
}

int fv_inspect_classes(fv_net *net) {
    fv_shape s = net->nodes[net->n_nodes - 1].out_shape;
    return s.rank == 1 ? s.dim[0] : 0;
}

static fv_status check_class(fv_net *net, int class_index, fv_error *err) {
    int classes = fv_inspect_classes(net);
    if (classes == 0) return fv_fail(err, "network '%s' does not end in a vector of class scores", net->name);
    if (class_index < 0 || class_index >= classes)
        return fv_fail(err, "class %d is out of range: '%s' has %d classes (0 to %d)", class_index, net->name, classes, classes - 1);
    return FV_OK;
}

/* The output's scores before its softmax/sigmoid (the logits the output node keeps), or the
 * output itself when it ends linear. */
static const float *class_scores(fv_net *net) {
    const fv_node *out = &net->nodes[net->n_nodes - 1];
    return out->logits ? out->logits : out->out;
}

float fv_inspect_probability(fv_net *net, int class_index) {
    const fv_node *out = &net->nodes[net->n_nodes - 1];
    int classes = out->out_shape.dim[0];
    if (out->logits) return out->out[class_index]; /* softmax or sigmoid */
    float max = out->out[0], sum = 0.0f;
    for (int c = 1; c < classes; c++) max = fmaxf(max, out->out[c]);
    for (int c = 0; c < classes; c++) sum += expf(out->out[c] - max);
    return expf(out->out[class_index] - max) / sum;
}

fv_status fv_inspect_scores(fv_net *net, const float *image, const int *classes, int n_classes, float *scores, fv_error *err) {
    for (int i = 0; i < n_classes; i++)
        if (check_class(net, classes[i], err) != FV_OK) return FV_ERR;
    if (fv_net_forward(net, image, 0, err) != FV_OK) return FV_ERR;
    for (int i = 0; scores && i < n_classes; i++) scores[i] = class_scores(net)[classes[i]];
    return FV_OK;
}

fv_status fv_inspect_backward_from_classes(fv_net *net, const float *image, const int *classes, int n_classes, int guided,
                                           float *score, fv_error *err) {
    if (fv_inspect_scores(net, image, classes, n_classes, NULL, err) != FV_OK) return FV_ERR;
    fv_node *out = &net->nodes[net->n_nodes - 1];
    memset(out->grad, 0, (size_t)out->out_shape.dim[0] * sizeof(float));
    float sum = 0.0f;
    for (int i = 0; i < n_classes; i++) out->grad[classes[i]] += 1.0f, sum += class_scores(net)[classes[i]];
    if (score) *score = sum;
    int want = fv_net_want_input_grad(net, 1);
    net->guided = guided;
    fv_status st = fv_net_backward_from_output_grad(net, out->logits != NULL, err);
    net->guided = 0;
    fv_net_want_input_grad(net, want);
    return st;
}

fv_status fv_class_gradient(fv_net *net, const float *image, int class_index, int guided, float *score, float *gradient,
                            fv_error *err) {
    if (!(net = fv_inspect_prepare(net, err)) || fv_inspect_backward_from_classes(net, image, &class_index, 1, guided, score, err) != FV_OK)
        return FV_ERR;
    if (gradient) memcpy(gradient, net->nodes[0].grad, fv_shape_count(net->nodes[0].out_shape) * sizeof(float));
    return FV_OK;
}

fv_status fv_predict_class(fv_net *net, const float *image, int *class_index, float *probability, fv_error *err) {
    if (!(net = fv_inspect_prepare(net, err)) || fv_net_forward(net, image, 0, err) != FV_OK) return FV_ERR;
    int classes = fv_inspect_classes(net);
    if (classes == 0) return fv_fail(err, "network '%s' does not end in a vector of class scores", net->name);
    const float *s = class_scores(net);
    int best = 0;
    for (int c = 1; c < classes; c++) best = s[c] > s[best] ? c : best;
    *class_index = best;
    if (probability) *probability = fv_inspect_probability(net, best);
    return FV_OK;
}

fv_saliency_config fv_saliency_defaults(void) { return (fv_saliency_config){FV_SALIENCY_VANILLA, 25, 0.15f, 1}; }

const char *fv_saliency_method_name(fv_saliency_method method) {
    return method == FV_SALIENCY_SMOOTHGRAD ? "smoothgrad" : method == FV_SALIENCY_GUIDED ? "guided" : "vanilla";
}

static float normal(fv_rng *rng) { /* Box-Muller */
    float u = fv_rng_uniform(rng), v = fv_rng_uniform(rng);
    return sqrtf(-2.0f * logf(1.0f - u)) * cosf(6.2831853f * v);
}

fv_status fv_inspect_input_size(fv_net *net, int *height, int *width, int *channels, fv_error *err) {
    fv_shape in = net->nodes[0].out_shape;
    if (in.rank != 3) return fv_fail(err, "network '%s' takes (%d-axis) samples, not images (H, W, C)", net->name, in.rank);
    *height = in.dim[0], *width = in.dim[1], *channels = in.dim[2];
    return FV_OK;
}

/* image, gradient: H x W x C; map: H x W */
fv_status fv_saliency(fv_net *net, const float *image, int class_index, const fv_saliency_config *config, float *map,
                      fv_error *err) {
    int h = 0, w = 0, c = 0;
    if (!(net = fv_inspect_prepare(net, err)) || fv_inspect_input_size(net, &h, &w, &c, err) != FV_OK) return FV_ERR;
    size_t n = (size_t)h * w * c;
    int samples = config->method == FV_SALIENCY_SMOOTHGRAD ? config->samples : 1;
    if (samples < 1) return fv_fail(err, "SmoothGrad needs at least one sample, not %d", samples);
    float *mean = calloc(n, sizeof *mean), *grad = malloc(n * sizeof *grad), *noisy = malloc(n * sizeof *noisy);
    fv_status st = mean && grad && noisy ? FV_OK : fv_fail(err, "out of memory for a saliency map");
    float lo = image[0], hi = image[0];
    for (size_t i = 1; i < n; i++) lo = fminf(lo, image[i]), hi = fmaxf(hi, image[i]);
    float sigma = config->noise * (hi > lo ? hi - lo : 1.0f);
    fv_rng rng;
    fv_rng_seed(&rng, config->seed);
    for (int s = 0; st == FV_OK && s < samples; s++) {
        for (size_t i = 0; i < n; i++) noisy[i] = image[i] + (config->method == FV_SALIENCY_SMOOTHGRAD ? sigma * normal(&rng) : 0.0f);
        st = fv_class_gradient(net, noisy, class_index, config->method == FV_SALIENCY_GUIDED, NULL, grad, err);
        for (size_t i = 0; st == FV_OK && i < n; i++) mean[i] += grad[i] / (float)samples;
    }
    for (size_t p = 0; st == FV_OK && p < (size_t)h * w; p++) {
        float best = 0.0f;
        for (int k = 0; k < c; k++) best = fmaxf(best, fabsf(mean[p * c + k]));
        map[p] = best;
    }
    free(mean), free(grad), free(noisy);
    return st;
}

/* The last conv2d, or a node with 2-D maps after it that ends a block (a residual add and its
 * ReLU, a concat, a batch norm); pooling and dropout are not a block's output. */
int fv_net_last_conv(const fv_net *net) {
    int first_conv = -1;
    for (int i = 1; i < net->n_nodes && first_conv < 0; i++)
        if (net->nodes[i].layer.kind == FV_LAYER_CONV2D) first_conv = i;
    for (int i = net->n_nodes - 1; first_conv >= 0 && i >= first_conv; i--) {
        fv_layer_kind k = net->nodes[i].layer.kind;
        if (net->nodes[i].out_shape.rank == 3 && (k == FV_LAYER_CONV2D || k == FV_LAYER_ADD || k == FV_LAYER_CONCAT ||
                                                  k == FV_LAYER_ACTIVATION || k == FV_LAYER_BATCHNORM))
            return i;
    }
    return -1;
}

/* The layer Grad-CAM reads (node, or the last conv block for -1), checked: it has 2-D maps. */
static const fv_node *gradcam_layer(const fv_net *net, int *node, fv_error *err) {
    if (*node < 0) *node = fv_net_last_conv(net);
    if (*node < 0) return fv_fail(err, "network '%s' has no conv2d layer for Grad-CAM (name one with --layer)", net->name), NULL;
    if (*node >= net->n_nodes) return fv_fail(err, "no node %d in '%s'", *node, net->name), NULL;
    const fv_node *target = &net->nodes[*node];
    if (target->out_shape.rank != 3)
        return fv_fail(err, "layer '%s' is a %s with output %d-axis; Grad-CAM needs a layer with 2-D feature maps (H, W, C)",
                       target->name, fv_layer_kind_name(target->layer.kind), target->out_shape.rank), NULL;
    return target;
}

fv_status fv_gradcam_size(const fv_net *net, int node, int *height, int *width, fv_error *err) {
    const fv_node *target = gradcam_layer(net, &node, err);
    if (!target) return FV_ERR;
    *height = target->out_shape.dim[0], *width = target->out_shape.dim[1];
    return FV_OK;
}

/* cam: H' x W' of the layer; upsampled: the input's H x W */
fv_status fv_gradcam(fv_net *net, const float *image, int node, int class_index, int plus_plus, float *cam,
                     float *upsampled, fv_error *err) {
    const fv_node *target = (net = fv_inspect_prepare(net, err)) ? gradcam_layer(net, &node, err) : NULL;
    if (!target) return FV_ERR;
    int h = 0, w = 0, c = 0;
    if (fv_inspect_input_size(net, &h, &w, &c, err) != FV_OK) return FV_ERR;
    if (fv_inspect_backward_from_classes(net, image, &class_index, 1, 0, NULL, err) != FV_OK) return FV_ERR;
    int mh = target->out_shape.dim[0], mw = target->out_shape.dim[1], k = target->out_shape.dim[2];
    size_t plane = (size_t)mh * mw;
    const float *a = target->out, *g = target->grad; /* H' x W' x K: the maps and d score / d maps */
    double *weight = calloc((size_t)k, sizeof *weight);
    if (!weight) return fv_fail(err, "out of memory for Grad-CAM");
    for (int ch = 0; ch < k; ch++) {
        if (!plus_plus) {
            for (size_t p = 0; p < plane; p++) weight[ch] += g[p * k + ch];
            weight[ch] /= (double)plane;
            continue;
        }
        double sum_a = 0.0;
        for (size_t p = 0; p < plane; p++) sum_a += a[p * k + ch];
        for (size_t p = 0; p < plane; p++) {
            double gp = g[p * k + ch], g2 = gp * gp, g3 = g2 * gp;
            double alpha = gp != 0.0 ? g2 / (2.0 * g2 + sum_a * g3 + 1e-6) : 0.0;
            weight[ch] += (gp > 0.0 ? gp : 0.0) * alpha;
        }
    }
    for (size_t p = 0; p < plane; p++) {
        double sum = 0.0;
        for (int ch = 0; ch < k; ch++) sum += weight[ch] * a[p * k + ch];
        cam[p] = sum > 0.0 ? (float)sum : 0.0f;
    }
    free(weight);
    if (upsampled) fv_resize_bilinear(cam, mh, mw, 1, upsampled, h, w);
    return FV_OK;
}

typedef struct ranked {
    float value;
    uint64_t tie; /* a seeded random key: equal values (Grad-CAM's zeros) go in a random order */
    int pixel;
} ranked;

static int by_value_descending(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->value != b->value) return a->value > b->value ? -1 : 1;
    if (a->tie != b->tie) return a->tie < b->tie ? -1 : 1;
    return a->pixel - b->pixel; /* a total order: the result does not depend on qsort */
}

/* The mean class probability as pixels go (deletion) or come (insertion) in `order`. */
static fv_status curve_area(fv_net *net, const float *image, int class_index, const int *order, int insertion, int steps,
                            float *x, double *area, fv_error *err) {
    int h = 0, w = 0, c = 0;
    if (fv_inspect_input_size(net, &h, &w, &c, err) != FV_OK) return FV_ERR;
    size_t pixels = (size_t)h * w;
    double sum = 0.0;
    for (int s = 0; s <= steps; s++) {
        size_t moved = pixels * (size_t)s / (size_t)steps;
        if (insertion) memset(x, 0, pixels * c * sizeof *x);
        else memcpy(x, image, pixels * c * sizeof *x);
        for (size_t i = 0; i < moved; i++)
            for (int k = 0; k < c; k++) {
                size_t at = (size_t)order[i] * c + k;
                x[at] = insertion ? image[at] : 0.0f;
            }
        if (fv_net_forward(net, x, 0, err) != FV_OK) return FV_ERR;
        double p = fv_inspect_probability(net, class_index);
        sum += s == 0 || s == steps ? p / 2.0 : p; /* the trapezoid rule over fractions 0 .. 1 */
    }
    *area = sum / steps;
    return FV_OK;
}

fv_status fv_attribution_auc(fv_net *net, const float *image, int class_index, const float *map, int insertion, int steps,
                             uint64_t seed, double *auc, double *random_auc, fv_error *err) {
    int h = 0, w = 0, c = 0;
    if (!(net = fv_inspect_prepare(net, err)) || check_class(net, class_index, err) != FV_OK ||
        fv_inspect_input_size(net, &h, &w, &c, err) != FV_OK)
        return FV_ERR;
    if (steps < 1) return fv_fail(err, "the deletion/insertion curve needs at least one step, not %d", steps);
    int pixels = h * w;
    ranked *rank = malloc((size_t)pixels * sizeof *rank);
    int *order = calloc((size_t)pixels, sizeof *order);
    float *x = malloc((size_t)pixels * c * sizeof *x);
    fv_status st = rank && order && x ? FV_OK : fv_fail(err, "out of memory for the deletion curve");
    fv_rng rng;
    fv_rng_seed(&rng, seed);
    if (st == FV_OK) {
        for (int i = 0; i < pixels; i++) rank[i] = (ranked){isfinite(map[i]) ? map[i] : -INFINITY, fv_rng_next(&rng), i};
        qsort(rank, (size_t)pixels, sizeof *rank, by_value_descending);
        for (int i = 0; i < pixels; i++) order[i] = rank[i].pixel;
        st = curve_area(net, image, class_index, order, insertion, steps, x, auc, err);
    }
    if (st == FV_OK && random_auc) {
        for (int i = 0; i < pixels; i++) order[i] = i;
        for (int i = pixels - 1; i > 0; i--) { /* Fisher-Yates */
            int j = (int)(fv_rng_next(&rng) % (uint64_t)(i + 1)), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        st = curve_area(net, image, class_index, order, insertion, steps, x, random_auc, err);
    }
    free(rank), free(order), free(x);
    return st;
}
