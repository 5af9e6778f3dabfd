/* cmd_inspect.c — looking inside a trained network: fovea show (feature maps, barcodes, learned
 * filters), saliency, gradcam and dream. Inputs are image files, read and resized to the model's
 * input as `fovea predict` reads them, or samples of a dataset (--data). */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- What the commands share: the model, its inputs, the output folder. ---- */
typedef struct inspect_ctx {
    fv_net *net;
    fv_checkpoint ck;
    fv_backend backend;
    int height, width, channels;
    char **images;        /* image files (the command line's), or ... */
    int n_images;
    fv_dataset *data;     /* ... the first `count` samples of a dataset */
    long count;
    const char *out_dir;
    cli_prep prep;        /* --resize, --normalize, --imagenet, --labels */
    fv_colormap colormap; /* --colormap, decoded */
    const cli_common *options;
} inspect_ctx;

static void ctx_free(inspect_ctx *c) {
    fv_dataset_free(c->data);
    fv_checkpoint_free(&c->ck);
    fv_net_free(c->net);
}

static int ctx_inputs(const inspect_ctx *c) { return c->data ? (int)c->count : c->n_images; }

/* The model (with its class names) planned for inspection, and the dataset when one is named. */
static int ctx_open(inspect_ctx *c, const char *model, const char *data_spec, const char *split) {
    fv_error err;
    if (!(c->net = cli_load_net(c->options, model, &c->ck)) || !cli_prep_apply(&c->prep, &c->ck.train)) return 0;
    fv_shape in = fv_net_node_shape(c->net, 0);
    if (in.rank != 3) return fprintf(stderr, "fovea: %s takes %d-axis samples; these pictures need image input (H, W, C)\n", model, in.rank), 0;
    c->height = in.dim[0], c->width = in.dim[1], c->channels = in.dim[2];
    if (fv_net_plan_mode(c->net, 1, c->backend, FV_PLAN_INSPECTION, 1, &err) != FV_OK) return fprintf(stderr, "fovea: %s\n", err.message), 0;
    if (data_spec) {
        if (!(c->data = fv_load_dataset(data_spec, split, &err))) return fprintf(stderr, "fovea: %s\n", err.message), 0;
        if (fv_shape_count(c->data->shape) != fv_shape_count(in))
            return fprintf(stderr, "fovea: %s: samples have %zu values, %s takes %zu\n", data_spec, fv_shape_count(c->data->shape), model,
                           fv_shape_count(in)), 0;
        if (c->count <= 0 || (size_t)c->count > c->data->count) c->count = (long)c->data->count;
    }
    if (c->out_dir && mkdir(c->out_dir, 0777) != 0 && errno != EEXIST)
        return fprintf(stderr, "fovea: %s: cannot create the folder: %s\n", c->out_dir, strerror(errno)), 0;
    return 1;
}

/* Input i into x (the input shape, with the model's preprocessing) and, when raw is not NULL, as
 * its pixels (for drawing over); name: a short stem for its output files. */
static int ctx_input(inspect_ctx *c, int i, float *x, float *raw, char *name, size_t name_size) {
    size_t n = (size_t)c->height * c->width * c->channels;
    if (c->data) {
        memcpy(x, c->data->x + (size_t)i * n, n * sizeof *x);
        if (raw) memcpy(raw, x, n * sizeof *x);
        cli_normalize(&c->ck.train, x, n, c->channels);
        snprintf(name, name_size, "sample%d", i);
        return 1;
    }
    fv_error err;
    if (cli_load_image(&c->prep, c->images[i], c->height, c->width, c->channels, x, &err) != FV_OK) return fprintf(stderr, "fovea: %s\n", err.message), 0;
    if (raw) memcpy(raw, x, n * sizeof *x);
    cli_normalize(&c->ck.train, x, n, c->channels);
    const char *base = strrchr(c->images[i], '/');
    base = base ? base + 1 : c->images[i];
    snprintf(name, name_size, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    return 1;
}

static const char *class_name(const inspect_ctx *c, int k, char *buf, size_t size) {
    if (c->ck.train.class_names && k < c->ck.train.n_classes) return c->ck.train.class_names[k];
    snprintf(buf, size, "class %d", k);
    return buf;
}

/* A layer by name (or by index); prints the layers there are when none matches. */
static int find_layer(fv_net *net, const char *name) {
    int node = fv_net_find(net, name);
    if (node >= 0) return node;
    fprintf(stderr, "fovea: no layer '%s' in '%s' (layers:", name, fv_net_name(net));
    for (int i = 1; i < fv_net_node_count(net); i++) fprintf(stderr, " %s", fv_net_node_name(net, i));
    fprintf(stderr, ")\n");
    return -1;
}

/* Writes DIR/STEM-WHAT.png, enlarged `scale` times; frees the picture. */
static int save_picture(fv_image *im, const char *dir, const char *stem, const char *what, int scale, fv_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s%s.png", dir, stem, *what ? "-" : "", what);
    if (im && scale > 1) {
        fv_image *big = fv_image_enlarge(im, scale, err);
        fv_image_free(im), im = big;
    }
    int ok = im && fv_image_save_png(im, path, err) == FV_OK;
    if (ok) printf("  wrote %s\n", path);
    fv_image_free(im);
    return ok;
}

static int parse_colormap(const char *v, fv_colormap *map) {
    for (int m = 0; v && m < FV_COLORMAP_COUNT; m++)
        if (!strcmp(v, fv_colormap_name((fv_colormap)m))) return *map = (fv_colormap)m, 1;
    return 0;
}

/* The options of the picture commands: the shared ones, then these (declared once, in
 * inspect_table below). */
typedef struct inspect_options {
    cli_common common;
    const char *data, *split, *raw, *colormap;
    long count, scale;
    double alpha;
} inspect_options;

static void start(inspect_ctx *c, const inspect_options *in) {
    memset(c, 0, sizeof *c);
    c->options = &in->common;
    c->prep = in->common.prep;
    c->backend = in->common.backend;
    c->out_dir = in->common.out ? in->common.out : ".";
    c->count = in->count;
    c->images = in->common.args + 1, c->n_images = in->common.n_args - 1;
    c->colormap = FV_COLORMAP_INFERNO;
    parse_colormap(in->colormap, &c->colormap);
}

/* ---- fovea show ---- */
typedef struct show_options {
    inspect_options inspect;
    const char *layer, *filters;
    int all, compare;
} show_options;

static int run_show(void *options) {
    const show_options *so = options;
    const inspect_options *o = &so->inspect;
    inspect_ctx c;
    const char *layer = so->layer, *filters = so->filters;
    int all = so->all, compare = so->compare, rc = 1;
    start(&c, o);
    if ((!layer && !all && !filters) || (!filters && !ctx_inputs(&c) && !o->data) || (compare && !layer))
        return fprintf(stderr, "fovea: show needs --layer L or --all with images (or --data), or --filters L (fovea show --help)\n"), 2;
    if (!ctx_open(&c, o->common.args[0], o->data, o->split)) goto done;
    fv_error err;
    err.message[0] = '\0'; /* errors already printed leave it empty: nothing more to say */
    if (filters) {
        int node = find_layer(c.net, filters);
        char stem[256];
        snprintf(stem, sizeof stem, "filters-%s", filters);
        if (node < 0 || !save_picture(fv_show_filters(c.net, node, &err), c.out_dir, stem, "", 1, &err)) goto fail_if_err;
        if (!ctx_inputs(&c) || (!layer && !all)) { rc = 0; goto done; }
    }
    int first = 1, last = fv_net_node_count(c.net) - 1;
    if (layer && (first = last = find_layer(c.net, layer)) < 0) goto done;
    int n_inputs = ctx_inputs(&c);
    size_t in_count = (size_t)c.height * c.width * c.channels, out_count = fv_shape_count(fv_net_node_shape(c.net, last));
    float *x = malloc(in_count * sizeof *x), *rows = malloc((size_t)n_inputs * out_count * sizeof *rows);
    if (!x || !rows) { free(x), free(rows); fprintf(stderr, "fovea: out of memory\n"); goto done; }
    int ok = 1;
    for (int i = 0; ok && i < n_inputs; i++) {
        char name[256];
        if (!(ok = ctx_input(&c, i, x, NULL, name, sizeof name))) break;
        if (!(ok = fv_net_forward(c.net, x, 0, &err) == FV_OK)) break;
        memcpy(rows + (size_t)i * out_count, fv_net_node_output(c.net, last), out_count * sizeof *rows);
        printf("%s:\n", name);
        for (int node = first; ok && !compare && node <= last; node++) {
            if (all && fv_net_node_layer(c.net, node)->kind == FV_LAYER_FLATTEN) continue; /* the maps above, in a row */
            ok = save_picture(fv_show_node(c.net, node, 0, &err), c.out_dir, name, fv_net_node_name(c.net, node), o->scale > 0 ? (int)o->scale : 1,
                              &err);
            fv_activation act = fv_net_node_activation(c.net, node, NULL);
            if (ok && fv_net_node_shape(c.net, node).rank == 1 && (act == FV_ACT_SOFTMAX || act == FV_ACT_SIGMOID))
                printf("    (the bars are %s's output after its %s: probabilities; saliency and Grad-CAM explain the scores before it)\n",
                       fv_net_node_name(c.net, node), fv_activation_name(act));
        }
    }
    if (ok && compare) {
        fv_shape s = fv_net_node_shape(c.net, last);
        if (s.rank != 1) ok = 0, snprintf(err.message, sizeof err.message, "--compare draws dense outputs; layer '%s' has %d axes", layer, s.rank);
        char stem[256];
        snprintf(stem, sizeof stem, "compare-%s", layer);
        if (ok) ok = save_picture(fv_image_barcodes(rows, n_inputs, (int)out_count, &err), c.out_dir, stem, "", 1, &err);
    }
    if (ok && o->raw) {
        fv_shape s = fv_net_node_shape(c.net, last);
        int dims[FV_MAX_RANK + 1] = {n_inputs};
        for (int d = 0; d < s.rank; d++) dims[d + 1] = s.dim[d];
        ok = fv_save_npy(o->raw, rows, s.rank + 1, dims, &err) == FV_OK;
    }
    free(x), free(rows);
    if (ok) rc = 0;
    else if (err.message[0]) fprintf(stderr, "fovea: %s\n", err.message);
    goto done;
fail_if_err:
    if (err.message[0]) fprintf(stderr, "fovea: %s\n", err.message);
done:
    ctx_free(&c);
    return rc;
}

/* ---- fovea saliency and fovea gradcam: one map per input, drawn twice (heat map, overlay), with
 * the faithfulness metric on request. ---- */
typedef struct explain_opts {
    int gradcam;
    long class_index;   /* -1: the predicted class */
    fv_saliency_config saliency;
    int plus_plus;
    int layer;          /* Grad-CAM's node, -1: the last conv block (fv_net_last_conv) */
    int metric;         /* 0 none, 1 deletion, 2 insertion */
    long steps;
} explain_opts;

/* --scale by default: an input under 128 pixels on its longer side drawn about 256 pixels large
 * (28 x 28: 9 times), a larger one as it is. */
static int picture_scale(const inspect_options *o, int height, int width) {
    int longer = height > width ? height : width;
    return o->scale > 0 ? (int)o->scale : longer < 128 ? (256 + longer / 2) / longer : 1;
}

static int explain(inspect_ctx *c, const inspect_options *o, const explain_opts *e) {
    fv_error err;
    err.message[0] = '\0';
    size_t pixels = (size_t)c->height * c->width, n = pixels * c->channels;
    int scale = picture_scale(o, c->height, c->width);
    int n_inputs = ctx_inputs(c), cam_h = 0, cam_w = 0, ok = 1;
    if (e->gradcam) {
        int node = e->layer >= 0 ? e->layer : fv_net_last_conv(c->net);
        fv_shape s = node >= 0 ? fv_net_node_shape(c->net, node) : (fv_shape){0, {0}};
        cam_h = s.dim[0], cam_w = s.dim[1];
    }
    float *x = malloc(n * sizeof *x), *raw = malloc(n * sizeof *raw), *maps = malloc((size_t)n_inputs * pixels * sizeof *maps);
    float *cam = malloc(((size_t)cam_h * cam_w > pixels ? (size_t)cam_h * cam_w : pixels) * sizeof *cam);
    if (!x || !raw || !maps || !cam) { free(x), free(raw), free(maps), free(cam); return fprintf(stderr, "fovea: out of memory\n"), 0; }
    double auc_sum = 0.0, random_sum = 0.0;
    const char *what = e->gradcam ? (e->plus_plus ? "gradcam++" : "gradcam") : fv_saliency_method_name(e->saliency.method);
    for (int i = 0; ok && i < n_inputs; i++) {
        char name[256], buf[64], buf2[64];
        float *map = maps + (size_t)i * pixels, p;
        int predicted, k;
        if (!(ok = ctx_input(c, i, x, raw, name, sizeof name))) break;
        if (!(ok = fv_predict_class(c->net, x, &predicted, &p, &err) == FV_OK)) break;
        k = e->class_index >= 0 ? (int)e->class_index : predicted;
        ok = e->gradcam ? fv_gradcam(c->net, x, e->layer, k, e->plus_plus, cam, map, &err) == FV_OK
                        : fv_saliency(c->net, x, k, &e->saliency, map, &err) == FV_OK;
        if (!ok) break;
        printf("%s: predicted %s (%.4f); %s of %s", name, class_name(c, predicted, buf, sizeof buf), (double)p, what,
               class_name(c, k, buf2, sizeof buf2));
        if (e->gradcam) printf(" at %s", fv_net_node_name(c->net, e->layer >= 0 ? e->layer : fv_net_last_conv(c->net)));
        if (e->metric) {
            double auc, random_auc;
            if (!(ok = fv_attribution_auc(c->net, x, k, map, e->metric == 2, (int)e->steps, (uint64_t)i + 1, &auc, &random_auc, &err) == FV_OK))
                break;
            printf("; %s AUC %.4f (random order %.4f)", e->metric == 2 ? "insertion" : "deletion", auc, random_auc);
            auc_sum += auc, random_sum += random_auc;
        }
        float lo = map[0], hi = map[0];
        for (size_t q = 1; q < pixels; q++) lo = map[q] < lo ? map[q] : lo, hi = map[q] > hi ? map[q] : hi;
        if (hi == lo) /* drawn in one colour: say why rather than leave a flat picture unexplained */
            printf("; the map is %g everywhere: %s", (double)hi,
                   e->gradcam ? "the layer's maps are alike at every position for this input (a blank or uniform image), so it points nowhere"
                   : hi == 0  ? "the class score does not change with any pixel"
                              : "the gradient is the same at every pixel");
        printf("\n");
        if (!strcmp(c->out_dir, "-")) continue; /* -o -: numbers only */
        fv_image image = {c->height, c->width, c->channels, raw}; /* the pixels, not the normalised input */
        ok = save_picture(fv_image_heatmap(map, c->height, c->width, c->colormap, &err), c->out_dir, name, what, scale, &err);
        char overlay[64];
        snprintf(overlay, sizeof overlay, "%s-overlay", what);
        if (ok) ok = save_picture(fv_image_overlay(&image, map, c->colormap, (float)o->alpha, &err), c->out_dir, name, overlay, scale, &err);
    }
    if (ok && e->metric && n_inputs > 0)
        printf("mean %s AUC over %d inputs: %s %.4f, random order %.4f\n", e->metric == 2 ? "insertion" : "deletion", n_inputs, what,
               auc_sum / n_inputs, random_sum / n_inputs);
    if (ok && o->raw) {
        int dims[3] = {n_inputs, c->height, c->width};
        ok = fv_save_npy(o->raw, maps, 3, dims, &err) == FV_OK;
    }
    if (!ok && err.message[0]) fprintf(stderr, "fovea: %s\n", err.message);
    free(x), free(raw), free(maps), free(cam);
    return ok;
}

typedef struct explain_options {
    inspect_options inspect;
    const char *layer, *method, *metric;
    long class_index, steps, samples, seed;
    double noise;
} explain_options;

static int explain_command(const explain_options *x, int gradcam) {
    const inspect_options *o = &x->inspect;
    inspect_ctx c;
    explain_opts e = {gradcam, x->class_index, fv_saliency_defaults(), 0, -1, 0, x->steps};
    const char *layer = x->layer;
    int rc = 1;
    start(&c, o);
    if (x->metric) e.metric = !strcmp(x->metric, "insertion") ? 2 : 1;
    if (gradcam) e.plus_plus = x->method && !strcmp(x->method, "gradcam++");
    else if (x->method)
        e.saliency.method = !strcmp(x->method, "smoothgrad") ? FV_SALIENCY_SMOOTHGRAD : !strcmp(x->method, "guided") ? FV_SALIENCY_GUIDED : FV_SALIENCY_VANILLA;
    if (x->samples > 0) e.saliency.samples = (int)x->samples;
    if (x->noise >= 0) e.saliency.noise = (float)x->noise;
    e.saliency.seed = (uint64_t)x->seed;
    if (!ctx_inputs(&c) && !o->data)
        return fprintf(stderr, "fovea: %s needs images or --data (fovea %s --help)\n", gradcam ? "gradcam" : "saliency", gradcam ? "gradcam" : "saliency"), 2;
    if (ctx_open(&c, o->common.args[0], o->data, o->split) && (!layer || (e.layer = find_layer(c.net, layer)) >= 0) && explain(&c, o, &e))
        rc = 0;
    ctx_free(&c);
    return rc;
}

static int run_saliency(void *options) { return explain_command(options, 0); }
static int run_gradcam(void *options) { return explain_command(options, 1); }

/* ---- fovea dream ---- */
/* "a,b,c" into up to max values: class indices or layer nodes. */
static int parse_list(inspect_ctx *c, const char *list, int layers, int *out, int max) {
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max) return fprintf(stderr, "fovea: at most %d in a list\n", max), -1;
        if (layers) {
            if ((out[n++] = find_layer(c->net, tok)) < 0) return -1;
            continue;
        }
        long v;
        if (!cli_int_range("--class", tok, 0, INT_MAX, &v)) return -1;
        int classes = (int)fv_shape_count(fv_net_node_shape(c->net, fv_net_output_node(c->net)));
        if (v >= classes) return fprintf(stderr, "fovea: class %ld is out of range: '%s' has %d classes (0 to %d)\n", v, fv_net_name(c->net), classes, classes - 1), -1;
        out[n++] = (int)v;
    }
    return n;
}

typedef struct dream_options {
    inspect_options inspect;
    const char *classes, *layers, *prior;
    long steps, jitter, blur_every, octaves, seed, size, components, prior_samples;
    double step_size, l2, background, tv, blur_sigma, octave_scale;
} dream_options;

/* --prior DATA: the principal components of its training images, which must be the network's
 * input's size. */
static fv_image_prior *fit_prior(const dream_options *d, const inspect_ctx *c, fv_error *err) {
    fv_dataset *data = fv_load_dataset(d->prior, "train", err);
    if (!data) return NULL;
    fv_image_prior *prior = NULL;
    fv_shape s = data->shape;
    if (s.rank != 3 || s.dim[0] != c->height || s.dim[1] != c->width || s.dim[2] != c->channels) {
        char shape[96] = "";
        for (int i = 0; i < s.rank; i++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%d", i ? " x " : "", s.dim[i]);
        snprintf(err->message, sizeof err->message, "its images are %s; '%s' takes %d x %d x %d", shape, fv_net_name(c->net), c->height,
                 c->width, c->channels);
    } else prior = fv_image_prior_fit(data, (size_t)d->prior_samples, (int)d->components, err);
    fv_dataset_free(data);
    if (!prior) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        snprintf(err->message, sizeof err->message, "--prior %.200s: %.280s", d->prior, why);
        return NULL;
    }
    size_t samples;
    double held;
    fv_image_prior_info(prior, NULL, &samples, &held);
    printf("prior: the mean and %ld principal components of %zu images of %s (%.1f%% of their variance)\n", d->components, samples,
           d->prior, 100.0 * held);
    return prior;
}

static int run_dream(void *options) {
    const dream_options *d = options;
    const inspect_options *o = &d->inspect;
    const char *classes = d->classes, *layers = d->layers, *out = o->common.out;
    long size = d->size;
    inspect_ctx c;
    int rc = 1;
    start(&c, o);
    int deep = c.n_images > 0;
    if (!out || (deep ? !layers || classes : !classes || layers))
        return fprintf(stderr, "fovea: dream needs --class K -o OUT.png, or IMAGE --layer L -o OUT.png (fovea dream --help)\n"), 2;
    if (deep && d->prior) return fprintf(stderr, "fovea: --prior is for --class (activation maximisation), not DeepDream\n"), 2;
    fv_dream_config cfg = fv_dream_defaults(deep); /* an option not given (outside its range) keeps the default */
    if (d->steps > 0) cfg.steps = (int)d->steps;
    if (d->jitter >= 0) cfg.jitter = (int)d->jitter;
    if (d->blur_every >= 0) cfg.blur_every = (int)d->blur_every;
    if (d->octaves > 0) cfg.octaves = (int)d->octaves;
    if (d->step_size >= 0) cfg.step_size = (float)d->step_size;
    if (d->l2 >= 0) cfg.l2 = (float)d->l2;
    if (d->background >= 0) cfg.background = (float)d->background;
    if (d->tv >= 0) cfg.tv = (float)d->tv;
    if (d->blur_sigma > 0) cfg.blur_sigma = (float)d->blur_sigma;
    if (d->octave_scale >= 1) cfg.octave_scale = (float)d->octave_scale;
    cfg.seed = (uint64_t)d->seed;
    c.out_dir = NULL;
    fv_error err;
    err.message[0] = '\0';
    fv_image *result = NULL, *photo = NULL;
    fv_image_prior *prior = NULL;
    int list[16], n;
    if (!ctx_open(&c, o->common.args[0], NULL, NULL) || (n = parse_list(&c, deep ? layers : classes, deep, list, 16)) < 0) goto done;
    if (deep) {
        if (!(photo = fv_image_load(c.images[0], c.channels, &err))) goto fail;
        int longest = photo->height > photo->width ? photo->height : photo->width;
        if (longest > size) { /* the working size */
            int h = (int)((long)photo->height * size / longest), w = (int)((long)photo->width * size / longest);
            fv_image *small = fv_image_new(h > 0 ? h : 1, w > 0 ? w : 1, photo->channels, &err);
            if (!small) goto fail;
            fv_resize_bilinear(photo->pixels, photo->height, photo->width, photo->channels, small->pixels, small->height, small->width);
            fv_image_free(photo), photo = small;
        }
        if (!(result = fv_deep_dream(c.net, photo, list, n, &cfg, &err))) goto fail;
        printf("DeepDream of %s (%d x %d) on %s, %d octaves x %d steps\n", c.images[0], result->width, result->height, layers, cfg.octaves, cfg.steps);
    } else {
        float start_scores[16], end_scores[16];
        if (d->prior && !(prior = fit_prior(d, &c, &err))) goto fail;
        cfg.prior = prior;
        if (!(result = fv_image_new(c.height, c.width, c.channels, &err))) goto fail;
        if (fv_dream_classes(c.net, list, n, &cfg, result->pixels, start_scores, end_scores, &err) != FV_OK) goto fail;
        char buf[64];
        for (int i = 0; i < n; i++)
            printf("%s: score %.3f -> %.3f\n", class_name(&c, list[i], buf, sizeof buf), (double)start_scores[i], (double)end_scores[i]);
    }
    int dims[3] = {result->height, result->width, result->channels};
    if (o->raw && fv_save_npy(o->raw, result->pixels, 3, dims, &err) != FV_OK) goto fail;
    if (o->scale > 1) {
        fv_image *big = fv_image_enlarge(result, (int)o->scale, &err);
        if (!big) goto fail;
        fv_image_free(result), result = big;
    }
    if (fv_image_save_png(result, out, &err) != FV_OK) goto fail;
    printf("wrote %s\n", out);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "fovea: %s\n", err.message);
done:
    fv_image_free(result), fv_image_free(photo);
    fv_image_prior_free(prior);
    ctx_free(&c);
    return rc;
}

/* ---- the option tables ---- */

#define INSPECT(field) offsetof(inspect_options, field)
static const cli_option inspect_table[] = { /* the picture commands' own shared options */
    {"--data", NULL, CLI_TEXT, INSPECT(data), "D", 0, 0, "the first --count samples of a dataset instead of image files", NULL},
    {"--count", NULL, CLI_INT, INSPECT(count), "N", 1, INT_MAX, "with --data: how many samples (default: all)", NULL},
    {"--split", NULL, CLI_CHOICE, INSPECT(split), "test|train", 0, 0, "with --data: which split", NULL},
    {"--colormap", NULL, CLI_CHOICE, INSPECT(colormap), "inferno|viridis|jet|gray", 0, 0, "heat maps' colours", NULL},
    {"--alpha", NULL, CLI_FLOAT, INSPECT(alpha), "A", 0, 1, "overlay opacity", NULL},
    {"--scale", NULL, CLI_INT, INSPECT(scale), "N", 1, 64,
     "pictures N times larger (each pixel an N x N square; default: an input under\n128 pixels drawn about 256 large, 28 x 28 nine times; show: 1)", NULL},
    {"--raw", NULL, CLI_TEXT, INSPECT(raw), "OUT.npy", 0, 0, "the exact values (float32)", NULL},
};
#define INSPECT_INITIAL .split = "test", .colormap = "inferno", .alpha = 0.5
#define PICTURES CLI_BACKEND | CLI_OUT | CLI_PREP | CLI_INPUT_SHAPE

#define SHOW(field) offsetof(show_options, field)
static const cli_option show_table[] = {
    {"--layer", NULL, CLI_TEXT, SHOW(layer), "L", 0, 0, "a layer name (fovea summary MODEL lists them)", NULL},
    {"--all", NULL, CLI_FLAG, SHOW(all), NULL, 0, 0, "every layer after the input (but flatten: the maps above it, in a row)", NULL},
    {"--compare", NULL, CLI_FLAG, SHOW(compare), NULL, 0, 0, "stack the inputs' barcodes of dense layer --layer into DIR/compare-L.png", NULL},
    {"--filters", NULL, CLI_TEXT, SHOW(filters), "L", 0, 0,
     "the kernels of conv2d layer L: RGB tiles for a 3-channel input, else one tile\nper (input channel: row, filter: column)", NULL},
};
static const show_options show_initial = {.inspect = {INSPECT_INITIAL}};
const cli_command cli_show = {
    .name = "show", .usage = "MODEL IMAGE... --layer L|--all [-o DIR]     feature maps of a layer\n"
                             "MODEL IMAGE... --layer DENSE --compare [-o DIR] barcodes of several inputs\n"
                             "MODEL --filters L [-o DIR]                  a conv2d layer's kernels",
    .summary = "feature maps, dense barcodes (--compare), filters (--filters L)",
    .about = "  Feature maps: one grid per input and layer (each map scaled on its own, zero mid-grey); a\n"
             "  dense layer's output is a barcode (one bar per unit).\n",
    .examples = "build/mnist-cnn-fashion.fvm shirt.png --all -o maps", .looking_inside = 1, .shared = PICTURES, .out_value = "DIR",
    .out_help = "the output folder (default .): DIR/IMAGE-LAYER.png, DIR/filters-L.png", .own = CLI_TABLE(show_table),
    .family = CLI_TABLE(inspect_table), .min_args = 1, .max_args = -1, .size = sizeof(show_options), .initial = &show_initial,
    .run = run_show};

#define EXPLAIN(field) offsetof(explain_options, field)
#define EXPLAIN_SHARED                                                                                                                   \
    {"--class", NULL, CLI_INT, EXPLAIN(class_index), "K", 0, INT_MAX, "the class to explain (default: the predicted one)", NULL},       \
    {"--metric", NULL, CLI_CHOICE, EXPLAIN(metric), "deletion|insertion", 0, 0,                                                       \
     "also remove (add) pixels in the map's order and print the area under\nthe class-probability curve, and a random order's", NULL}, \
    {"--steps", NULL, CLI_INT, EXPLAIN(steps), "N", 1, 100000, "--metric's steps", NULL}
static const cli_option saliency_table[] = {
    EXPLAIN_SHARED,
    {"--method", NULL, CLI_CHOICE, EXPLAIN(method), "vanilla|smoothgrad|guided", 0, 0, "guided: guided backpropagation", NULL},
    {"--samples", NULL, CLI_INT, EXPLAIN(samples), "N", 1, 100000, "smoothgrad: noisy copies (default 25)", NULL},
    {"--noise", NULL, CLI_FLOAT, EXPLAIN(noise), "F", 0, 1e6, "smoothgrad: noise sigma as a fraction of the input's range (default 0.15)", NULL},
    {"--seed", NULL, CLI_INT, EXPLAIN(seed), "S", 0, CLI_MAX_SEED, "smoothgrad's noise", NULL},
};
static const explain_options saliency_initial = {.inspect = {INSPECT_INITIAL}, .method = "vanilla", .class_index = -1, .steps = 28,
                                                 .samples = -1, .noise = -1, .seed = 1};
const cli_command cli_saliency = {
    .name = "saliency", .usage = "MODEL IMAGE... [options]", .summary = "input-gradient maps: vanilla, smoothgrad, guided; --metric deletion",
    .about = "  The gradient of a class score (before softmax/sigmoid) w.r.t. the input pixels: |gradient|,\n"
             "  max over channels; written as DIR/IMAGE-METHOD.png (heat map) and DIR/IMAGE-METHOD-overlay.png.\n",
    .examples = "build/mnist-cnn-fashion.fvm boot.png --method smoothgrad -o maps", .looking_inside = 1, .shared = PICTURES,
    .out_value = "DIR", .out_help = "the output folder (default .; - writes no pictures)", .own = CLI_TABLE(saliency_table),
    .family = CLI_TABLE(inspect_table), .min_args = 1, .max_args = -1, .size = sizeof(explain_options), .initial = &saliency_initial,
    .run = run_saliency};

static const cli_option gradcam_table[] = {
    EXPLAIN_SHARED,
    {"--layer", NULL, CLI_TEXT, EXPLAIN(layer), "L", 0, 0,
     "a layer with 2-D feature maps (default: the last conv block: the last conv2d,\nor the add/ReLU that ends its residual block)", NULL},
    {"--method", NULL, CLI_CHOICE, EXPLAIN(method), "gradcam|gradcam++", 0, 0, "Grad-CAM or Grad-CAM++", NULL},
};
static const explain_options gradcam_initial = {.inspect = {INSPECT_INITIAL}, .method = "gradcam", .class_index = -1, .steps = 28, .seed = 1};
const cli_command cli_gradcam = {
    .name = "gradcam", .usage = "MODEL IMAGE... [options]", .summary = "Grad-CAM and Grad-CAM++ heat maps over the image",
    .about = "  Grad-CAM: a layer's feature maps weighted by the spatial mean of d(class score)/d(map), summed,\n"
             "  ReLU, upsampled (bilinear) to the input; DIR/IMAGE-gradcam.png and DIR/IMAGE-gradcam-overlay.png.\n",
    .examples = "build/mnist-cnn-fashion.fvm boot.png --colormap jet -o maps", .looking_inside = 1, .shared = PICTURES,
    .out_value = "DIR", .out_help = "the output folder (default .; - writes no pictures)", .own = CLI_TABLE(gradcam_table),
    .family = CLI_TABLE(inspect_table), .min_args = 1, .max_args = -1, .size = sizeof(explain_options), .initial = &gradcam_initial,
    .run = run_gradcam};

#define DREAM(field) offsetof(dream_options, field)
static const cli_option dream_table[] = {
    {"--class", NULL, CLI_TEXT, DREAM(classes), "K[,K2...]", 0, 0, "classes whose scores to raise (activation maximisation)", NULL},
    {"--layer", NULL, CLI_TEXT, DREAM(layers), "L[,L2...]", 0, 0, "with IMAGE: layers whose mean squared activation to raise (DeepDream)", NULL},
    {"--steps", NULL, CLI_INT, DREAM(steps), "N", 1, 1000000, "ascent steps (per octave; default 200 for classes, 10 for DeepDream)", NULL},
    {"--step-size", NULL, CLI_FLOAT, DREAM(step_size), "F", 0, 1e6, "step in pixel units of the normalised gradient (default 0.02 / 0.004)", NULL},
    {"--jitter", NULL, CLI_INT, DREAM(jitter), "N", 0, 4096, "random shift of up to N pixels per step (default 2)", NULL},
    {"--l2", NULL, CLI_FLOAT, DREAM(l2), "F", 0, 1e6, "classes: the L2 pull to grey (default 0.1)", NULL},
    {"--tv", NULL, CLI_FLOAT, DREAM(tv), "F", 0, 1e6, "classes: total variation (default 0.1)", NULL},
    {"--background", NULL, CLI_FLOAT, DREAM(background), "B", 0, 1,
     "classes: the grey level to start from and pull to (default 0, for data on\nblack such as the MNISTs; 0.5 for photos)", NULL},
    {"--blur-every", NULL, CLI_INT, DREAM(blur_every), "N", 0, 1000000, "classes: blur every N steps (default 8; 0: never)", NULL},
    {"--blur-sigma", NULL, CLI_FLOAT, DREAM(blur_sigma), "S", 0.01, 100, "classes: the blur's sigma (default 0.6)", NULL},
    {"--prior", NULL, CLI_TEXT, DREAM(prior), "DATA", 0, 0,
     "classes: draw the image in a model of DATA's training images (their mean\nand principal components), so that it looks like data", NULL},
    {"--components", NULL, CLI_INT, DREAM(components), "K", 1, 4096, "with --prior: principal components", NULL},
    {"--prior-samples", NULL, CLI_INT, DREAM(prior_samples), "N", 2, INT_MAX, "with --prior: the images fitted", NULL},
    {"--octaves", NULL, CLI_INT, DREAM(octaves), "N", 1, 64, "DeepDream scales (default 3)", NULL},
    {"--octave-scale", NULL, CLI_FLOAT, DREAM(octave_scale), "F", 1, 100, "DeepDream: the ratio between scales (default 1.4)", NULL},
    {"--size", NULL, CLI_INT, DREAM(size), "N", 1, 65536, "DeepDream: the photo's longer side is resized to N pixels", NULL},
    {"--seed", NULL, CLI_INT, DREAM(seed), "S", 0, CLI_MAX_SEED, "noise and jitter", NULL},
    {"--raw", NULL, CLI_TEXT, DREAM(inspect.raw), "OUT.npy", 0, 0, "the exact image (H x W x C, float32)", NULL},
    {"--scale", NULL, CLI_INT, DREAM(inspect.scale), "N", 1, 64, "the picture N times larger (each pixel an N x N square)", NULL},
};
static const dream_options dream_initial = {.inspect = {.scale = 1}, .steps = -1, .jitter = -1, .blur_every = -1, .octaves = -1, .seed = 1,
                                            .size = 256, .components = 128, .prior_samples = 10000, .step_size = -1, .l2 = -1,
                                            .background = -1, .tv = -1, .blur_sigma = -1, .octave_scale = -1};
const cli_command cli_dream = {
    .name = "dream", .usage = "MODEL --class K[,K2...] -o OUT.png [options]   activation maximisation\n"
                              "MODEL IMAGE --layer L[,L2...] -o OUT.png [options]   DeepDream",
    .summary = "activation maximisation; with IMAGE --layer L: DeepDream",
    .about = "  Gradient ascent on the input. With --class: from seeded grey noise, an image that raises the\n"
             "  classes' scores (before softmax), regularised by jitter, an L2 pull to grey, total variation\n"
             "  and a blur every few steps; these find what the network responds to, often stripes no person\n"
             "  would name. With --prior DATA the image is drawn in a Gaussian model of the data (its mean\n"
             "  and principal components, the pull toward the mean in units of the data's spread): pictures\n"
             "  that look like the class. With IMAGE and --layer: the photo changed to raise the layers'\n"
             "  mean squared activation, in octaves (small scale first); a photo keeps its size when every\n"
             "  layer up to L is convolutional (else it is resized to the model's input).\n",
    .examples = "build/mnist-cnn-fashion.fvm --class 9 -o boot.png\n"
                "build/mnist-cnn-fashion.fvm --class 9 --prior fashion-mnist --scale 4 -o boot.png\nbuild/mnist-cnn-fashion.fvm photo.jpg --layer conv2d_2 -o dream.png",
    .looking_inside = 1, .shared = PICTURES, .out_value = "OUT.png", .out_help = "the picture to write", .own = CLI_TABLE(dream_table),
    .min_args = 1, .max_args = 2, .size = sizeof(dream_options), .initial = &dream_initial, .run = run_dream};
