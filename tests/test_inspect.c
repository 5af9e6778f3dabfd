/* test_inspect.c — looking inside, checked against NumPy, SciPy and PyTorch.
 *
 * tests/inspect_reference.py writes (see there): classic 1-D/2-D convolutions in every mode from
 * np.convolve/np.correlate and scipy.signal.convolve2d/correlate2d; and for small networks with
 * random weights, PyTorch autograd's input gradient of a class logit, vanilla and guided saliency
 * maps, Grad-CAM (at the feature-map size and upsampled) and Grad-CAM++ at several layers. Here
 * fovea computes the same on every backend. Then the properties no reference gives: SmoothGrad,
 * pictures, PNG and .npy round trips, activation maximisation, DeepDream, and bad input.
 *
 * Tolerances (normwise relative): convolutions 1e-6 (fovea sums in double and rounds once);
 * attribution 1e-4, as the issue asks (float32 through a few layers gives ~1e-6). */
#include "check.h"
#include "fovea.h"
#include "reference.h"

#define CONV_TOLERANCE 1e-6
#define ATTRIBUTION_TOLERANCE 1e-4

static void compare(test_counts *t, const char *what, const char *backend, const float *got, const ref_tensor *want, double tol) {
    CHECK(t, want != NULL, "%s: no reference", what);
    if (!want) return;
    double err = rel_diff(got, want->data, want->count, 1e-6);
    if (err > t->worst) t->worst = err;
    CHECK(t, err <= tol, "[%s] %s differs from the reference: relative error %.3g", backend, what, err);
}

static void run_convolution(test_counts *t, const ref_case *c, const float *config) {
    const ref_tensor *x = find(c, "x"), *k = find(c, "k"), *want = find(c, "out");
    int mode = (int)config[1], correlate = (int)config[2];
    if ((int)config[0] == 1) {
        int len = fv_convolve1d_length(x->dim[0], k->dim[0], (fv_convolve_mode)mode);
        CHECK(t, (size_t)len == want->count, "%s: length %d, NumPy's %zu", c->name, len, want->count);
        float *y = malloc((size_t)len * sizeof *y);
        fv_convolve1d(x->data, x->dim[0], k->data, k->dim[0], (fv_convolve_mode)mode, correlate, y);
        if ((size_t)len == want->count) compare(t, c->name, "numpy", y, want, CONV_TOLERANCE);
        free(y);
        return;
    }
    fv_error err;
    int oh = 0, ow = 0;
    fv_status st = fv_convolve2d_shape(x->dim[0], x->dim[1], k->dim[0], k->dim[1], (fv_convolve_mode)mode, &oh, &ow, &err);
    if (want->count == 0) { /* SciPy refuses: so must fovea */
        CHECK(t, st == FV_ERR && strstr(err.message, "valid"), "%s: SciPy refuses this valid convolution, fovea did not", c->name);
        return;
    }
    CHECK(t, st == FV_OK && oh == want->dim[0] && ow == want->dim[1], "%s: shape %d x %d, SciPy's %d x %d", c->name, oh, ow, want->dim[0],
          want->dim[1]);
    if (st != FV_OK || oh != want->dim[0] || ow != want->dim[1]) return;
    float *y = malloc(want->count * sizeof *y);
    st = fv_convolve2d(x->data, x->dim[0], x->dim[1], x->dim[2], k->data, k->dim[0], k->dim[1], (fv_convolve_mode)mode, correlate, y, &err);
    CHECK(t, st == FV_OK, "%s: %s", c->name, err.message);
    if (st == FV_OK) compare(t, c->name, "scipy", y, want, CONV_TOLERANCE);
    free(y);
}

/* The network of a case, planned for inspection, with the reference's weights. */
static fv_net *case_net(test_counts *t, const ref_case *c, fv_backend backend) {
    fv_error err;
    fv_net *net = fv_net_from_text(c->text, c->name, &err);
    CHECK(t, net != NULL, "%s: %s", c->name, net ? "" : err.message);
    if (!net) return NULL;
    fv_status st = fv_net_plan_mode(net, 1, backend, FV_PLAN_INSPECTION, 1, &err);
    CHECK(t, st == FV_OK, "%s: plan: %s", c->name, st == FV_OK ? "" : err.message);
    if (st == FV_OK) ref_load_params(t, c, net, c->name);
    if (st != FV_OK) fv_net_free(net), net = NULL;
    return net;
}

static void run_attribution(test_counts *t, const ref_case *c, fv_backend backend) {
    const char *b = fv_backend_name(backend);
    fv_net *net = case_net(t, c, backend);
    if (!net) return;
    fv_error err;
    const ref_tensor *input = find(c, "input");
    int k = (int)find(c, "class")->data[0];
    size_t n = input->count, pixels = n / (size_t)input->dim[2];
    float *grad = malloc(n * sizeof *grad), *map = malloc(pixels * sizeof *map), *up = malloc(pixels * sizeof *up);
    float *cam = malloc(pixels * sizeof *cam), score = 0.0f;
    char what[256];

    fv_status st = fv_class_gradient(net, input->data, k, 0, &score, grad, &err);
    CHECK(t, st == FV_OK, "[%s] %s: %s", b, c->name, err.message);
    snprintf(what, sizeof what, "%s: class score", c->name);
    compare(t, what, b, &score, find(c, "score"), ATTRIBUTION_TOLERANCE);
    snprintf(what, sizeof what, "%s: input gradient", c->name);
    compare(t, what, b, grad, find(c, "gradient"), ATTRIBUTION_TOLERANCE);

    fv_saliency_config cfg = fv_saliency_defaults();
    st = fv_saliency(net, input->data, k, &cfg, map, &err);
    snprintf(what, sizeof what, "%s: vanilla saliency", c->name);
    CHECK(t, st == FV_OK, "[%s] %s: %s", b, what, err.message);
    compare(t, what, b, map, find(c, "saliency"), ATTRIBUTION_TOLERANCE);

    st = fv_class_gradient(net, input->data, k, 1, NULL, grad, &err);
    snprintf(what, sizeof what, "%s: guided backpropagation gradient", c->name);
    CHECK(t, st == FV_OK, "[%s] %s: %s", b, what, err.message);
    compare(t, what, b, grad, find(c, "guided_gradient"), ATTRIBUTION_TOLERANCE);
    cfg.method = FV_SALIENCY_GUIDED;
    st = fv_saliency(net, input->data, k, &cfg, map, &err);
    snprintf(what, sizeof what, "%s: guided saliency", c->name);
    compare(t, what, b, map, find(c, "guided"), ATTRIBUTION_TOLERANCE);

    /* SmoothGrad with no noise is the vanilla map; with noise it is seeded (the same twice) */
    cfg.method = FV_SALIENCY_SMOOTHGRAD, cfg.noise = 0.0f, cfg.samples = 3;
    st = fv_saliency(net, input->data, k, &cfg, map, &err);
    snprintf(what, sizeof what, "%s: SmoothGrad without noise", c->name);
    compare(t, what, b, map, find(c, "saliency"), ATTRIBUTION_TOLERANCE);
    cfg.noise = 0.2f, cfg.seed = 9;
    fv_saliency(net, input->data, k, &cfg, map, &err);
    fv_saliency(net, input->data, k, &cfg, up, &err);
    CHECK(t, !memcmp(map, up, pixels * sizeof *map), "[%s] %s: SmoothGrad is not reproducible", b, c->name);
    CHECK(t, rel_diff(map, find(c, "saliency")->data, pixels, 1e-6) > 1e-3, "[%s] %s: SmoothGrad's noise changed nothing", b, c->name);

    for (int i = 0; i < c->n_tensors; i++) {
        if (strncmp(c->tensors[i].key, "gradcam/", 8)) continue;
        const char *layer = c->tensors[i].key + 8;
        int node = fv_net_find(net, layer);
        CHECK(t, node > 0, "%s: no layer %s", c->name, layer);
        char key[160];
        int cam_h = 0, cam_w = 0;
        fv_shape maps = fv_net_node_shape(net, node);
        CHECK(t, fv_gradcam_size(net, node, &cam_h, &cam_w, &err) == FV_OK && cam_h == maps.dim[0] && cam_w == maps.dim[1],
              "%s: fv_gradcam_size at %s: %d x %d, the layer's maps %d x %d", c->name, layer, cam_h, cam_w, maps.dim[0], maps.dim[1]);
        for (int plus = 0; plus < 2; plus++) {
            st = fv_gradcam(net, input->data, node, k, plus, cam, up, &err);
            snprintf(what, sizeof what, "%s: Grad-CAM%s at %s", c->name, plus ? "++" : "", layer);
            CHECK(t, st == FV_OK, "[%s] %s: %s", b, what, err.message);
            snprintf(key, sizeof key, "%s/%s", plus ? "gradcampp" : "gradcam", layer);
            compare(t, what, b, cam, find(c, key), ATTRIBUTION_TOLERANCE);
            if (plus) continue;
            snprintf(key, sizeof key, "gradcam_up/%s", layer);
            snprintf(what, sizeof what, "%s: Grad-CAM at %s, upsampled", c->name, layer);
            compare(t, what, b, up, find(c, key), ATTRIBUTION_TOLERANCE);
        }
    }
    free(grad), free(map), free(up), free(cam);
    fv_net_free(net);
}

/* ---- Properties that need no reference. ---- */

static fv_net *small_cnn(void) {
    fv_error err;
    fv_net *net = fv_net_from_text("input shape=12,12,1\nconv2d filters=8 kernel=3 activation=relu\n"
                                   "conv2d name=last_conv filters=8 kernel=3 activation=relu\nmaxpool2d size=2\n"
                                   "flatten\ndense units=16 activation=relu\ndense name=out units=3 activation=softmax\n",
                                   "small cnn", &err);
    if (net && fv_net_init_params(net, 3, &err) != FV_OK) fv_net_free(net), net = NULL;
    return net;
}

static void test_dream(test_counts *t) {
    fv_net *net = small_cnn();
    CHECK(t, net != NULL, "small cnn");
    if (!net) return;
    fv_error err;
    /* the mechanics, without regularisers (on a random network they win; scripts/look_inside.sh
     * checks the defaults on the trained main-job model) */
    fv_dream_config cfg = fv_dream_defaults(0);
    cfg.steps = 60, cfg.l2 = cfg.tv = 0.0f, cfg.blur_every = 0;
    float x[144], start[2], end[2];
    int one[1] = {1}, two[2] = {0, 2};
    fv_status st = fv_dream_classes(net, one, 1, &cfg, x, start, end, &err);
    CHECK(t, st == FV_OK, "dream: %s", err.message);
    CHECK(t, end[0] > 20.0f * fabsf(start[0]) && end[0] > 0.1f, "dream raised class 1 only from %g to %g",
          (double)start[0], (double)end[0]);
    float lo = 1, hi = 0;
    for (int i = 0; i < 144; i++) lo = fminf(lo, x[i]), hi = fmaxf(hi, x[i]);
    CHECK(t, lo >= 0.0f && hi <= 1.0f && hi - lo > 0.1f, "dream image should span pixel values in [0, 1]: %g .. %g", (double)lo, (double)hi);
    st = fv_dream_classes(net, two, 2, &cfg, x, start, end, &err);
    CHECK(t, st == FV_OK && end[0] > start[0] + 0.02f && end[1] > start[1] + 0.02f, "two classes: %g -> %g and %g -> %g", (double)start[0], (double)end[0],
          (double)start[1], (double)end[1]);
    int bad[1] = {3};
    CHECK(t, fv_dream_classes(net, bad, 1, &cfg, x, start, end, &err) == FV_ERR && strstr(err.message, "class 3 is out of range"),
          "class out of range: %s", err.message);

    /* DeepDream on the convolutional front keeps a photo's own size; past the dense layers it takes the input's */
    fv_image *photo = fv_image_new(20, 30, 1, &err);
    for (int i = 0; i < 600; i++) photo->pixels[i] = (float)(i % 30) / 30.0f;
    fv_dream_config deep = fv_dream_defaults(1);
    deep.steps = 5, deep.octaves = 2;
    int conv = fv_net_find(net, "last_conv"), dense = fv_net_output_node(net);
    fv_image *dream = fv_deep_dream(net, photo, &conv, 1, &deep, &err);
    CHECK(t, dream && dream->height == 20 && dream->width == 30, "DeepDream on a conv layer keeps 20 x 30: %s", dream ? "" : err.message);
    double changed = 0.0;
    for (int i = 0; dream && i < 600; i++) changed += fabsf(dream->pixels[i] - photo->pixels[i]);
    CHECK(t, changed / 600 > 1e-3, "DeepDream changed the photo by %g per pixel", changed / 600);
    fv_image_free(dream);
    dream = fv_deep_dream(net, photo, &dense, 1, &deep, &err);
    CHECK(t, dream && dream->height == 12 && dream->width == 12, "DeepDream past a dense layer works at the input's 12 x 12: %s",
          dream ? "" : err.message);
    fv_image_free(dream), fv_image_free(photo);
    fv_net_free(net);
}

/* A Gaussian of known shape: 3,000 images of 12 x 12 = mean + 3 z1 u1 + z2 u2 + 0.3 z3 u3 + 0.01 noise
 * (u orthonormal, z standard normal). The prior's top components must be u1..u3 with spreads 3, 1,
 * 0.3; then activation maximisation in it stays in the model's span. */
static double normal(uint64_t *state) {
    double u[2];
    for (int i = 0; i < 2; i++) { /* splitmix64 */
        uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL, z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL, z ^= z >> 31;
        u[i] = ((double)(z >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

static void test_prior(test_counts *t) {
    enum { N = 3000, D = 144, K = 3 };
    float u[K][D], mean[D], centre[D] = {0};
    const float spread[K] = {3.0f, 1.0f, 0.3f};
    uint64_t state = 7;
    for (int i = 0; i < D; i++) mean[i] = 0.5f + 0.2f * (float)sin(i * 0.3);
    for (int k = 0; k < K; k++) { /* random directions, Gram-Schmidt */
        for (int i = 0; i < D; i++) u[k][i] = (float)normal(&state);
        for (int j = 0; j < k; j++) {
            double dot = 0.0;
            for (int i = 0; i < D; i++) dot += (double)u[k][i] * u[j][i];
            for (int i = 0; i < D; i++) u[k][i] -= (float)dot * u[j][i];
        }
        double norm = 0.0;
        for (int i = 0; i < D; i++) norm += (double)u[k][i] * u[k][i];
        for (int i = 0; i < D; i++) u[k][i] /= (float)sqrt(norm);
    }
    fv_dataset data = {.count = N, .shape = {3, {12, 12, 1}}, .n_classes = 1};
    data.x = malloc((size_t)N * D * sizeof *data.x);
    CHECK(t, data.x != NULL, "out of memory");
    if (!data.x) return;
    for (int s = 0; s < N; s++) {
        float *x = data.x + (size_t)s * D;
        for (int i = 0; i < D; i++) x[i] = mean[i] + 0.01f * (float)normal(&state);
        for (int k = 0; k < K; k++) {
            float z = spread[k] * (float)normal(&state);
            for (int i = 0; i < D; i++) x[i] += z * u[k][i];
        }
    }
    fv_error err;
    fv_image_prior *prior = fv_image_prior_fit(&data, 0, K, &err);
    CHECK(t, prior != NULL, "prior: %s", prior ? "" : err.message);
    if (prior) {
        int components;
        size_t samples;
        double held;
        fv_image_prior_info(prior, &components, &samples, &held);
        CHECK(t, components == K && samples == N && held > 0.998 && held <= 1.0, "prior info: %d components, %zu samples, %g held",
              components, samples, held);
        float zero[K] = {0};
        fv_image_prior_image(prior, zero, centre);
        double worst = 0.0; /* against the samples' mean (3,000 samples put it ~0.01 from `mean`) */
        for (int i = 0; i < D; i++) {
            double sum = 0.0;
            for (int s = 0; s < N; s++) sum += data.x[(size_t)s * D + (size_t)i];
            worst = fmax(worst, fabs(centre[i] - sum / N));
        }
        CHECK(t, worst < 1e-5, "the prior's mean is %g from the data's", worst);
        for (int k = 0; k < K; k++) { /* the image of coefficient e_k is mean + s_k v_k: v_k must be +-u_k, s_k its spread */
            float a[K] = {0}, image[D];
            a[k] = 1.0f;
            fv_image_prior_image(prior, a, image);
            double dot = 0.0, len = 0.0;
            for (int i = 0; i < D; i++) dot += (double)(image[i] - centre[i]) * u[k][i], len += (double)(image[i] - centre[i]) * (image[i] - centre[i]);
            len = sqrt(len);
            /* sampling error alone: cosines 0.99996 and up, spreads within 1% (NumPy's eigh of the
               same data agrees with fovea's to 1e-7) */
            CHECK(t, fabs(fabs(dot) / len - 1.0) < 2e-4 && fabs(len / spread[k] - 1.0) < 0.03,
                  "component %d: cosine with the true direction %.6f, spread %.4f (true %.1f)", k, fabs(dot) / len, len, (double)spread[k]);
        }
    }
    CHECK(t, fv_image_prior_fit(&data, 0, D + 1, &err) == NULL && strstr(err.message, "1 to 144 components"), "too many components: %s",
          err.message);
    fv_dataset big = {.count = 2, .shape = {3, {64, 65, 1}}, .x = data.x};
    CHECK(t, fv_image_prior_fit(&big, 0, 4, &err) == NULL && strstr(err.message, "at most 4096 values"), "images too large: %s", err.message);

    /* activation maximisation in it: scores rise, and the picture is the mean plus the three
       directions (away from the clip) */
    fv_net *net = small_cnn();
    CHECK(t, net != NULL, "small cnn");
    fv_dream_config cfg = fv_dream_defaults(0);
    cfg.prior = prior, cfg.steps = 60;
    float x[D], start[1], end[1];
    int one[1] = {1};
    fv_status st = net && prior ? fv_dream_classes(net, one, 1, &cfg, x, start, end, &err) : FV_ERR;
    CHECK(t, st == FV_OK && end[0] > start[0] + 0.05f, "dream in a prior raised class 1 from %g to %g (%s)", (double)start[0], (double)end[0],
          st == FV_OK ? "" : err.message);
    double off = 0.0;
    int inside = 0;
    for (int i = 0; st == FV_OK && i < D; i++) {
        if (x[i] <= 0.0f || x[i] >= 1.0f) continue;
        double r = x[i] - centre[i];
        for (int k = 0; k < K; k++) {
            double dot = 0.0;
            for (int j = 0; j < D; j++) dot += (double)(x[j] - centre[j]) * u[k][j];
            r -= dot * u[k][i];
        }
        off = fmax(off, fabs(r)), inside++;
    }
    CHECK(t, st == FV_OK && inside > D / 2 && off < 0.2, "the dream is not in the prior's span: %d pixels inside (0, 1), %g off it", inside, off);
    if (net && prior) {
        fv_net *wide = fv_net_from_text("input shape=10,10,1\nflatten\ndense units=2\n", "wide", &err);
        if (wide && fv_net_init_params(wide, 1, &err) != FV_OK) fv_net_free(wide), wide = NULL;
        CHECK(t, wide && fv_dream_classes(wide, one, 1, &cfg, x, start, end, &err) == FV_ERR && strstr(err.message, "prior models images of 144"),
              "a prior of another size: %s", err.message);
        fv_net_free(wide);
    }
    fv_net_free(net);
    fv_image_prior_free(prior);
    free(data.x);
}

static void test_pictures(test_counts *t) {
    fv_error err;
    float maps[5 * 4 * 32];
    for (int i = 0; i < 5 * 4 * 32; i++) maps[i] = (float)((i * 37) % 11) - 5.0f;
    maps[0] = 0.0f;
    fv_image *grid = fv_image_grid(maps, 5, 4, 32, &err);
    CHECK(t, grid != NULL, "grid: %s", err.message);
    if (grid) { /* 32 maps: 4 rows of 8, each map enlarged to 64 pixels high (13x) with 2-pixel borders */
        int zoom = (64 + 4) / 5;
        CHECK(t, grid->width == 8 * (4 * zoom + 2) + 2 && grid->height == 4 * (5 * zoom + 2) + 2 && grid->channels == 3,
              "a 4 x 8 grid, not %d x %d", grid->width, grid->height);
        const float *zero = grid->pixels + (2 * (size_t)grid->width + 2) * 3; /* map 0, value 0 */
        CHECK(t, fabsf(zero[0] - 0.5f) < 1e-6f, "zero is mid-grey, got %g", (double)zero[0]);
    }
    fv_image_free(grid);

    /* PNG and .npy round trips */
    fv_image *im = fv_image_new(7, 9, 3, &err);
    for (int i = 0; i < 7 * 9 * 3; i++) im->pixels[i] = (float)((i * 29) % 256) / 255.0f;
    char png[] = "/tmp/fovea_test_inspect.png", npy[] = "/tmp/fovea_test_inspect.npy";
    CHECK(t, fv_image_save_png(im, png, &err) == FV_OK, "save png: %s", err.message);
    fv_image *back = fv_image_load(png, 0, &err);
    CHECK(t, back && back->height == 7 && back->width == 9 && back->channels == 3 && rel_diff(back->pixels, im->pixels, 189, 1.0) < 1e-6,
          "PNG round trip: %s", back ? "values differ" : err.message);
    int dims[3] = {7, 9, 3}, rank = 0, got[8];
    CHECK(t, fv_save_npy(npy, im->pixels, 3, dims, &err) == FV_OK, "save npy: %s", err.message);
    float *values = fv_load_npy_floats(npy, &rank, got, &err);
    CHECK(t, values && rank == 3 && got[0] == 7 && got[1] == 9 && got[2] == 3 && !memcmp(values, im->pixels, sizeof(float) * 189),
          ".npy round trip: %s", values ? "differs" : err.message);
    free(values);
    CHECK(t, fv_image_save_png(im, "/nonexistent-dir/x.png", &err) == FV_ERR && strstr(err.message, "/nonexistent-dir/x.png"),
          "unwritable PNG: %s", err.message);
    CHECK(t, fv_image_load("/nonexistent.png", 0, &err) == NULL && strstr(err.message, "/nonexistent.png"), "missing image: %s", err.message);
    remove(png), remove(npy);
    fv_image_free(im), fv_image_free(back);

    /* colormaps: viridis runs dark blue-purple to yellow; jet blue to red */
    float rgb[3];
    fv_colormap_rgb(FV_COLORMAP_VIRIDIS, 0.0f, rgb);
    CHECK(t, fabsf(rgb[0] - 0.267f) < 0.02f && fabsf(rgb[2] - 0.329f) < 0.02f, "viridis(0) = %g %g %g", (double)rgb[0], (double)rgb[1], (double)rgb[2]);
    fv_colormap_rgb(FV_COLORMAP_VIRIDIS, 1.0f, rgb);
    CHECK(t, fabsf(rgb[0] - 0.993f) < 0.02f && fabsf(rgb[1] - 0.906f) < 0.02f && fabsf(rgb[2] - 0.144f) < 0.02f, "viridis(1)");
    fv_colormap_rgb(FV_COLORMAP_INFERNO, 0.5f, rgb);
    CHECK(t, fabsf(rgb[0] - 0.735f) < 0.02f && fabsf(rgb[1] - 0.216f) < 0.02f && fabsf(rgb[2] - 0.330f) < 0.02f, "inferno(0.5) = %g %g %g",
          (double)rgb[0], (double)rgb[1], (double)rgb[2]);
    fv_colormap_rgb(FV_COLORMAP_JET, 0.0f, rgb);
    CHECK(t, rgb[0] == 0.0f && rgb[2] == 0.5f, "jet(0) is dark blue");

    /* feature maps of an inference plan are refused (its buffers are shared), of an inspection plan drawn */
    fv_net *net = small_cnn();
    float x[144] = {0};
    fv_net_plan_mode(net, 1, fv_backend_default(), FV_PLAN_INFERENCE, 1, &err);
    fv_net_forward(net, x, 0, &err);
    CHECK(t, fv_show_node(net, 1, 0, &err) == NULL && strstr(err.message, "inspection"), "inference plan: %s", err.message);
    fv_net_plan_mode(net, 1, fv_backend_default(), FV_PLAN_INSPECTION, 1, &err);
    fv_net_forward(net, x, 0, &err);
    fv_image *maps_im = fv_show_node(net, 1, 0, &err), *bar = fv_show_node(net, 5, 0, &err), *filt = fv_show_filters(net, 1, &err);
    CHECK(t, maps_im && bar && filt, "show: %s", err.message);
    fv_image_free(maps_im), fv_image_free(bar), fv_image_free(filt);
    CHECK(t, fv_show_filters(net, 5, &err) == NULL && strstr(err.message, "conv2d"), "filters of a dense layer: %s", err.message);
    float cam[144];
    CHECK(t, fv_gradcam(net, x, 5, 0, 0, cam, NULL, &err) == FV_ERR && strstr(err.message, "2-D feature maps"), "Grad-CAM on dense: %s",
          err.message);
    int cam_h, cam_w;
    CHECK(t, fv_gradcam_size(net, 5, &cam_h, &cam_w, &err) == FV_ERR && strstr(err.message, "2-D feature maps"), "Grad-CAM's size on dense: %s",
          err.message);
    CHECK(t, fv_saliency(net, x, 7, &(fv_saliency_config){FV_SALIENCY_VANILLA, 1, 0, 1}, cam, &err) == FV_ERR &&
                 strstr(err.message, "class 7 is out of range"),
          "saliency class out of range: %s", err.message);
    fv_net_free(net);

    /* a first layer reading RGB draws its filters in colour */
    net = fv_net_from_text("input shape=6,6,3\nconv2d filters=4 kernel=2\n", "rgb", &err);
    fv_net_init_params(net, 5, &err);
    filt = fv_show_filters(net, 1, &err);
    CHECK(t, filt && filt->channels == 3, "RGB filters: %s", filt ? "" : err.message);
    int colour = 0;
    for (int i = 0; filt && i < filt->height * filt->width; i++) colour |= filt->pixels[3 * i] != filt->pixels[3 * i + 1];
    CHECK(t, colour, "RGB filters should be drawn in colour");
    fv_image_free(filt);
    fv_net_free(net);
}

/* counts[0]: convolution cases, counts[1]: attribution cases */
static void run_any(test_counts *t, const ref_case *c, void *user) {
    int *counts = user;
    const ref_tensor *config = find(c, "config");
    if (config) {
        run_convolution(t, c, config->data), counts[0]++;
        return;
    }
    run_attribution(t, c, FV_BACKEND_REFERENCE), counts[1]++;
    if (fv_backend_available(FV_BACKEND_ONEDNN)) run_attribution(t, c, FV_BACKEND_ONEDNN);
}

/* Attribution on a network planned for something else runs on an inspection twin: the caller's
 * plan and pointers stay, the results equal an inspection plan's, and they follow the weights. */
static void test_inspection_twin(test_counts *t) {
    fv_error err;
    fv_net *net = small_cnn(), *ins = small_cnn();
    CHECK(t, net && ins, "small cnn");
    if (!net || !ins) return fv_net_free(net), fv_net_free(ins);
    CHECK(t, fv_net_plan(net, 4, fv_backend_default(), 3, &err) == FV_OK, "plan: %s", err.message);
    CHECK(t, fv_net_plan_mode(ins, 1, fv_backend_default(), FV_PLAN_INSPECTION, 3, &err) == FV_OK, "plan: %s", err.message);
    float x[144], a[144], b[144];
    fv_random_uniform(x, 144, 8);
    const float *out_before = fv_net_node_output(net, 2);
    fv_param_info p_before, p;
    fv_net_param(net, 0, &p_before, &err);
    fv_saliency_config cfg = fv_saliency_defaults();
    for (int round = 0; round < 2; round++) {
        CHECK(t, fv_saliency(net, x, 1, &cfg, a, &err) == FV_OK && fv_saliency(ins, x, 1, &cfg, b, &err) == FV_OK, "saliency: %s", err.message);
        CHECK(t, !memcmp(a, b, sizeof a), "round %d: saliency of a training-planned network differs from an inspection plan's", round);
        CHECK(t, fv_net_batch(net) == 4 && fv_net_mode(net) == FV_PLAN_TRAINING && fv_net_node_output(net, 2) == out_before,
              "round %d: the caller's plan was changed (batch %d)", round, fv_net_batch(net));
        fv_net_param(net, 0, &p, &err);
        CHECK(t, p.value == p_before.value, "round %d: the caller's parameters moved", round);
        /* the weights change (as a training step changes them): the next call must follow */
        fv_param_info q;
        fv_net_param(ins, 0, &q, &err);
        for (size_t i = 0; i < p.count; i++) p.value[i] *= 1.5f, q.value[i] *= 1.5f;
    }
    fv_net_free(net), fv_net_free(ins);
}

int main(int argc, char **argv) {
    test_counts t = {0, 0, 0.0};
    if (argc != 2) return fprintf(stderr, "usage: test_inspect REFERENCE.bin\n"), 2;
    int counts[2] = {0, 0};
    if (ref_for_each(argv[1], &t, run_any, counts) < 0) return 1;
    printf("%d convolution cases (NumPy, SciPy), %d attribution cases (PyTorch); largest relative error %.2g\n", counts[0], counts[1],
           t.worst);
    test_pictures(&t);
    test_dream(&t);
    test_prior(&t);
    test_inspection_twin(&t);
    return report(&t);
}
