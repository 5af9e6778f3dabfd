/* dream.c — gradient ascent on the input: activation maximisation (an image that a class, or
 * several, scores highly: tf-keras-vis and lucid regularise it with jitter, an L2 pull to grey,
 * total variation and an occasional blur; or it is drawn in a prior of the data, prior.c) and
 * DeepDream (a photo changed to excite a layer more, scale by scale: Mordvintsev's octaves,
 * Darknet's `nightmare`).
 *
 * Every step's gradient is divided by its mean absolute value, so step_size is in pixel units
 * whatever the network's scale. */
#include "inspect/inspect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

fv_dream_config fv_dream_defaults(int deep_dream) {
    if (deep_dream)
        return (fv_dream_config){.steps = 10, .step_size = 0.004f, .jitter = 2, .background = 0.5f, .blur_sigma = 0.5f, .octaves = 3,
                                 .octave_scale = 1.4f, .seed = 1};
    return (fv_dream_config){.steps = 200, .step_size = 0.02f, .jitter = 2, .background = 0.0f, .l2 = 0.1f, .tv = 0.1f, .blur_every = 8,
                             .blur_sigma = 0.6f, .octaves = 1, .octave_scale = 1.4f, .seed = 1};
}

/* x (h x w x c) shifted by (dy, dx) with wrap-around, into out. */
static void roll(const float *x, int h, int w, int c, int dy, int dx, float *out) {
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) {
            int sy = ((y - dy) % h + h) % h, sx = ((i - dx) % w + w) % w;
            memcpy(out + ((size_t)y * w + i) * c, x + ((size_t)sy * w + sx) * c, (size_t)c * sizeof *x);
        }
}

static void normalise_gradient(float *g, size_t n) {
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) mean += fabsf(g[i]);
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) g[i] = (float)(g[i] / (mean + 1e-12));
}

/* d/dx of the anisotropic total variation sum |x[p + 1] - x[p]| over both axes, per channel. */
static void add_tv_gradient(const float *x, int h, int w, int c, float weight, float *g) {
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++)
            for (int k = 0; k < c; k++) {
                size_t p = ((size_t)y * w + i) * c + k;
                float d = 0.0f;
                if (i > 0) d += x[p] > x[p - c] ? 1.0f : x[p] < x[p - c] ? -1.0f : 0.0f;
                if (i + 1 < w) d -= x[p + c] > x[p] ? 1.0f : x[p + c] < x[p] ? -1.0f : 0.0f;
                if (y > 0) d += x[p] > x[p - (size_t)w * c] ? 1.0f : x[p] < x[p - (size_t)w * c] ? -1.0f : 0.0f;
                if (y + 1 < h) d -= x[p + (size_t)w * c] > x[p] ? 1.0f : x[p + (size_t)w * c] < x[p] ? -1.0f : 0.0f;
                g[p] -= weight * d;
            }
}

/* A Gaussian blur that keeps the borders' brightness: blur(x) / blur(1) (zero fill outside). */
static fv_status blur(float *x, int h, int w, int c, float sigma, float *tmp, fv_error *err) {
    float k[49 * 49];
    int kh, kw;
    if (fv_filter_kernel("gaussian", 0, sigma, k, 49 * 49, &kh, &kw, err) != FV_OK) return FV_ERR;
    if (fv_convolve2d(x, h, w, c, k, kh, kw, FV_CONVOLVE_SAME, 0, tmp, err) != FV_OK) return FV_ERR;
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) {
            double mass = 0.0; /* the part of the kernel inside the image */
            for (int a = 0; a < kh; a++)
                for (int b = 0; b < kw; b++) {
                    int yy = y + kh / 2 - a, xx = i + kw / 2 - b;
                    if (yy >= 0 && yy < h && xx >= 0 && xx < w) mass += k[a * kw + b];
                }
            for (int ch = 0; ch < c; ch++) x[((size_t)y * w + i) * c + ch] = (float)(tmp[((size_t)y * w + i) * c + ch] / mass);
        }
    return FV_OK;
}

static void clip01(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] < 0.0f ? 0.0f : x[i] > 1.0f ? 1.0f : x[i];
}

static int jitter_offset(fv_rng *rng, int jitter) {
    return jitter > 0 ? (int)(fv_rng_next(rng) % (uint64_t)(2 * jitter + 1)) - jitter : 0;
}

/* Activation maximisation in a prior: the ascent is on the coefficients a (one per principal
 * component, in units of the data's spread along it) of out = clip(mean + sum a_k s_k v_k), so
 * d score / d a_k = s_k (v_k . d score / d out), with 0 where the clip holds a pixel; l2 pulls a to
 * 0, the data's mean (a Gaussian prior: -l2/2 |a|^2 is its log-density). */
static fv_status dream_in_prior(fv_net *net, const int *classes, int n_classes, const fv_dream_config *config, int h, int w, int c,
                                float *out, float *start, fv_error *err) {
    const fv_image_prior *prior = config->prior;
    size_t n = (size_t)h * w * c;
    if (prior->size != (int)n)
        return fv_fail(err, "the prior models images of %d values; '%s' takes %d x %d x %d", prior->size, net->name, h, w, c);
    int k_count = prior->components;
    float *a = calloc((size_t)k_count, sizeof *a), *ga = malloc((size_t)k_count * sizeof *ga);
    float *unclipped = malloc(n * sizeof *unclipped), *shifted = malloc(n * sizeof *shifted), *g = malloc(n * sizeof *g);
    fv_status st = a && ga && unclipped && shifted && g ? FV_OK : fv_fail(err, "out of memory for activation maximisation");
    fv_rng rng;
    fv_rng_seed(&rng, config->seed);
    if (st == FV_OK) {
        fv_image_prior_image(prior, a, out);
        clip01(out, n);
    }
    if (st == FV_OK && start) st = fv_inspect_scores(net, out, classes, n_classes, start, err);
    for (int step = 0; st == FV_OK && step < config->steps; step++) {
        int dy = jitter_offset(&rng, config->jitter), dx = jitter_offset(&rng, config->jitter);
        fv_image_prior_image(prior, a, unclipped);
        memcpy(out, unclipped, n * sizeof *out);
        clip01(out, n);
        roll(out, h, w, c, dy, dx, shifted);
        if ((st = fv_inspect_backward_from_classes(net, shifted, classes, n_classes, 0, NULL, err)) != FV_OK) break;
        roll(net->nodes[0].grad, h, w, c, -dy, -dx, g);
        for (size_t i = 0; i < n; i++)
            if (unclipped[i] != out[i]) g[i] = 0.0f;
        for (int k = 0; k < k_count; k++) {
            const float *v = prior->basis + (size_t)k * n;
            double dot = 0.0;
            for (size_t i = 0; i < n; i++) dot += (double)v[i] * g[i];
            ga[k] = (float)dot * prior->spread[k];
        }
        normalise_gradient(ga, (size_t)k_count);
        for (int k = 0; k < k_count; k++) a[k] += config->step_size * (ga[k] - config->l2 * a[k]);
    }
    if (st == FV_OK) {
        fv_image_prior_image(prior, a, out);
        clip01(out, n);
    }
    free(a), free(ga), free(unclipped), free(shifted), free(g);
    return st;
}

fv_status fv_dream_classes(fv_net *net, const int *classes, int n_classes, const fv_dream_config *config, float *out,
                           float *start, float *scores, fv_error *err) {
    int h = 0, w = 0, c = 0;
    if (n_classes < 1) return fv_fail(err, "activation maximisation needs at least one class");
    if (!(net = fv_inspect_prepare(net, err)) || fv_inspect_input_size(net, &h, &w, &c, err) != FV_OK) return FV_ERR;
    if (config->prior) {
        fv_status st = dream_in_prior(net, classes, n_classes, config, h, w, c, out, start, err);
        return st == FV_OK && scores ? fv_inspect_scores(net, out, classes, n_classes, scores, err) : st;
    }
    size_t n = (size_t)h * w * c;
    float *shifted = malloc(n * sizeof *shifted), *g = malloc(n * sizeof *g);
    fv_status st = shifted && g ? FV_OK : fv_fail(err, "out of memory for activation maximisation");
    fv_rng rng;
    fv_rng_seed(&rng, config->seed);
    for (size_t i = 0; i < n; i++) out[i] = config->background + 0.1f * (fv_rng_uniform(&rng) - 0.5f); /* with a little noise */
    if (st == FV_OK && start) st = fv_inspect_scores(net, out, classes, n_classes, start, err);
    for (int step = 0; st == FV_OK && step < config->steps; step++) {
        int dy = jitter_offset(&rng, config->jitter), dx = jitter_offset(&rng, config->jitter);
        roll(out, h, w, c, dy, dx, shifted);
        st = fv_inspect_backward_from_classes(net, shifted, classes, n_classes, 0, NULL, err);
        if (st != FV_OK) break;
        roll(net->nodes[0].grad, h, w, c, -dy, -dx, g);
        normalise_gradient(g, n);
        for (size_t i = 0; i < n; i++) g[i] -= config->l2 * (out[i] - config->background);
        if (config->tv > 0.0f) add_tv_gradient(out, h, w, c, config->tv, g);
        for (size_t i = 0; i < n; i++) out[i] += config->step_size * g[i];
        clip01(out, n);
        if (config->blur_every > 0 && (step + 1) % config->blur_every == 0 && step + 1 < config->steps)
            st = blur(out, h, w, c, config->blur_sigma, shifted, err);
    }
    if (st == FV_OK && scores) st = fv_inspect_scores(net, out, classes, n_classes, scores, err);
    free(shifted), free(g);
    return st;
}

/* ---- DeepDream ---- */

/* The network's nodes 0..last again, for samples of `input`, with the same weights: a front that
 * a photo of any size goes through when every layer on the way is convolutional. */
static fv_net *front_of(const fv_net *net, int last, fv_shape input, fv_error *err) {
    fv_net *front = fv_net_new(net->name, err);
    if (!front) return NULL;
    fv_layer in = fv_input_layer(input);
    fv_status st = fv_net_add(front, &in, net->nodes[0].name, err) >= 0 ? FV_OK : FV_ERR;
    for (int i = 1; st == FV_OK && i <= last; i++) {
        const fv_node *node = &net->nodes[i];
        st = fv_net_add_from(front, &node->layer, node->name, node->inputs, node->n_inputs, err) >= 0 ? FV_OK : FV_ERR;
    }
    if (st == FV_OK) st = fv_net_init_params(front, 1, err);
    for (int p = 0; st == FV_OK && p < front->n_params; p++) { /* a prefix of the nodes has a prefix of the parameters */
        fv_param_info from, to;
        st = fv_net_param_read(net, p, &from, err) == FV_OK && fv_net_param(front, p, &to, err) == FV_OK ? FV_OK : FV_ERR;
        if (st == FV_OK && (from.count != to.count || !from.value))
            st = fv_fail(err, "layer '%s': its weights do not carry over", net->nodes[from.node].name);
        if (st == FV_OK) memcpy(to.value, from.value, from.count * sizeof(float));
    }
    if (st != FV_OK) fv_net_free(front), front = NULL;
    return front;
}

typedef struct dreamer {
    fv_net **fronts; /* one per target layer, each ending at it */
    int n;
    float *g, *shifted;
} dreamer;

static void dreamer_free(dreamer *d) {
    for (int i = 0; d->fronts && i < d->n; i++) fv_net_free(d->fronts[i]);
    free(d->fronts), free(d->g), free(d->shifted);
    memset(d, 0, sizeof *d);
}

/* Fronts for images of h x w x c, planned for inspection. */
static fv_status dreamer_open(dreamer *d, const fv_net *net, const int *nodes, int n, int h, int w, int c, fv_backend backend,
                              fv_error *err) {
    memset(d, 0, sizeof *d);
    size_t count = (size_t)h * w * c;
    d->fronts = calloc((size_t)n, sizeof *d->fronts), d->n = n;
    d->g = malloc(count * sizeof *d->g), d->shifted = malloc(count * sizeof *d->shifted);
    if (!d->fronts || !d->g || !d->shifted) return dreamer_free(d), fv_fail(err, "out of memory for DeepDream");
    for (int i = 0; i < n; i++) {
        fv_shape s = {3, {h, w, c}};
        if (!(d->fronts[i] = front_of(net, nodes[i], s, err)) ||
            fv_net_plan_mode(d->fronts[i], 1, backend, FV_PLAN_INSPECTION, 1, err) != FV_OK)
            return dreamer_free(d), FV_ERR;
    }
    return FV_OK;
}

/* Whether the layers up to the targets take images of h x w (they do when all are convolutional). */
static int fronts_fit(const fv_net *net, const int *nodes, int n, int h, int w, int c) {
    fv_error ignored;
    dreamer d;
    if (h < 1 || w < 1 || dreamer_open(&d, net, nodes, n, h, w, c, fv_net_backend(net), &ignored) != FV_OK) return 0;
    dreamer_free(&d);
    return 1;
}

/* One ascent step on x (h x w x c): the layers' mean squared activation, gradient summed. */
static fv_status dream_step(dreamer *d, float *x, int h, int w, int c, const fv_dream_config *config, fv_rng *rng, fv_error *err) {
    size_t n = (size_t)h * w * c;
    int dy = jitter_offset(rng, config->jitter), dx = jitter_offset(rng, config->jitter);
    roll(x, h, w, c, dy, dx, d->shifted);
    memset(d->g, 0, n * sizeof *d->g);
    for (int i = 0; i < d->n; i++) {
        fv_net *f = d->fronts[i];
        if (fv_net_forward(f, d->shifted, 0, err) != FV_OK) return FV_ERR;
        fv_node *target = &f->nodes[f->n_nodes - 1];
        size_t m = fv_shape_count(target->out_shape);
        for (size_t k = 0; k < m; k++) target->grad[k] = target->out[k] / (float)m; /* d mean(a^2)/2 */
        if (fv_net_backward_from_output_grad(f, 0, err) != FV_OK) return FV_ERR;
        for (size_t k = 0; k < n; k++) d->g[k] += f->nodes[0].grad[k];
    }
    roll(d->g, h, w, c, -dy, -dx, d->shifted);
    normalise_gradient(d->shifted, n);
    for (size_t k = 0; k < n; k++) x[k] += config->step_size * d->shifted[k];
    clip01(x, n);
    return FV_OK;
}

fv_image *fv_deep_dream(const fv_net *net, const fv_image *image, const int *nodes, int n_nodes, const fv_dream_config *config,
                        fv_error *err) {
    fv_shape in = net->nodes[0].out_shape;
    if (in.rank != 3) return fv_fail(err, "network '%s' does not take images", net->name), NULL;
    if (image->channels != in.dim[2])
        return fv_fail(err, "the image has %d channels, network '%s' takes %d", image->channels, net->name, in.dim[2]), NULL;
    if (n_nodes < 1) return fv_fail(err, "DeepDream needs at least one layer"), NULL;
    for (int i = 0; i < n_nodes; i++)
        if (nodes[i] < 1 || nodes[i] >= net->n_nodes) return fv_fail(err, "no layer %d in '%s' to dream with", nodes[i], net->name), NULL;
    if (config->octaves < 1 || !(config->octave_scale >= 1.0f)) return fv_fail(err, "DeepDream needs octaves >= 1 and a scale >= 1"), NULL;
    int c = image->channels, h = image->height, w = image->width;
    float smallest = powf(config->octave_scale, (float)(config->octaves - 1));
    int fixed = !fronts_fit(net, nodes, n_nodes, h, w, c) ||
                !fronts_fit(net, nodes, n_nodes, (int)lroundf((float)h / smallest), (int)lroundf((float)w / smallest), c);
    if (fixed) h = in.dim[0], w = in.dim[1]; /* a dense layer on the way: the network's own size, one scale */
    fv_image *base = fv_image_new(h, w, c, err), *result = NULL;
    if (!base) return NULL;
    fv_resize_bilinear(image->pixels, image->height, image->width, c, base->pixels, h, w);
    float *detail = calloc((size_t)h * w * c, sizeof *detail), *small = malloc((size_t)h * w * c * sizeof *small);
    float *x = malloc((size_t)h * w * c * sizeof *x);
    fv_status st = detail && small && x ? FV_OK : fv_fail(err, "out of memory for DeepDream");
    fv_rng rng;
    fv_rng_seed(&rng, config->seed);
    int prev_h = 0, prev_w = 0;
    for (int o = 0; st == FV_OK && o < config->octaves; o++) {
        float shrink = powf(config->octave_scale, (float)(config->octaves - 1 - o));
        int oh = fixed ? h : (int)lroundf((float)h / shrink), ow = fixed ? w : (int)lroundf((float)w / shrink);
        oh = oh < 1 ? 1 : oh, ow = ow < 1 ? 1 : ow;
        dreamer d;
        if ((st = dreamer_open(&d, net, nodes, n_nodes, oh, ow, c, fv_net_backend(net), err)) != FV_OK) break;
        fv_resize_bilinear(base->pixels, h, w, c, x, oh, ow); /* this octave's photo ... */
        if (o > 0) { /* ... plus the detail dreamed at the scale below */
            fv_resize_bilinear(detail, prev_h, prev_w, c, small, oh, ow);
            for (size_t k = 0; k < (size_t)oh * ow * c; k++) x[k] += small[k];
        }
        for (int s = 0; st == FV_OK && s < config->steps; s++) st = dream_step(&d, x, oh, ow, c, config, &rng, err);
        dreamer_free(&d);
        fv_resize_bilinear(base->pixels, h, w, c, small, oh, ow);
        for (size_t k = 0; k < (size_t)oh * ow * c; k++) detail[k] = x[k] - small[k];
        prev_h = oh, prev_w = ow;
    }
    if (st == FV_OK && (result = fv_image_new(prev_h, prev_w, c, err))) memcpy(result->pixels, x, (size_t)prev_h * prev_w * c * sizeof *x);
    free(detail), free(small), free(x);
    fv_image_free(base);
    return result;
}
