/* cmd_inspect.c — looking inside a trained network: fovea show (feature maps, barcodes, learned
 * filters), saliency, gradcam and dream. Inputs are image files, read and resized to the model's
 * input as `fovea predict` reads them, or samples of a dataset (--data). */
#include "cli.h"

#include <errno.h>
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
    const char **images;  /* image files, or ... */
    int n_images;
    fv_dataset *data;     /* ... the first `count` samples of a dataset */
    long count;
    const char *out_dir;
    cli_prep prep;        /* --resize, --normalize, --imagenet, --labels */
} inspect_ctx;

static void ctx_free(inspect_ctx *c) {
    fv_dataset_free(c->data);
    fv_checkpoint_free(&c->ck);
    fv_net_free(c->net);
    free(c->images);
}

static int ctx_inputs(const inspect_ctx *c) { return c->data ? (int)c->count : c->n_images; }

/* The model (with its class names) planned for inspection, and the dataset when one is named. */
static int ctx_open(inspect_ctx *c, const char *model, const char *data_spec, const char *split) {
    fv_error err;
    memset(&c->ck, 0, sizeof c->ck);
    if (!(c->net = cli_load_net(model, &c->ck)) || !cli_prep_apply(&c->prep, &c->ck.train)) return 0;
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

/* Options every command reads; returns 1 when argv[*i] was one (and consumes its value), 0 when it
 * is not one of them, -1 on a bad value. */
typedef struct common_opts {
    const char *data, *split, *raw, *model;
    fv_colormap colormap;
    double alpha;
    long scale;
} common_opts;

static int common_option(inspect_ctx *c, common_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(a, "-o") && v) c->out_dir = v;
    else if (!strcmp(a, "--data") && v) o->data = v;
    else if (!strcmp(a, "--split") && v) o->split = v;
    else if (!strcmp(a, "--raw") && v) o->raw = v;
    else if (!strcmp(a, "--count")) { if (!cli_int(a, v, 1, &c->count)) return -1; }
    else if (!strcmp(a, "--scale")) { if (!cli_int(a, v, 1, &o->scale) || o->scale > 64) return fprintf(stderr, "fovea: --scale is 1 to 64\n"), -1; }
    else if (!strcmp(a, "--backend")) { if (!cli_backend(v, &c->backend)) return -1; }
    else if (!strcmp(a, "--colormap")) { if (!parse_colormap(v, &o->colormap)) return fprintf(stderr, "fovea: --colormap is viridis, inferno, jet or gray\n"), -1; }
    else if (!strcmp(a, "--alpha")) { if (!cli_float(a, v, 0, &o->alpha) || o->alpha > 1) return fprintf(stderr, "fovea: --alpha is in [0, 1]\n"), -1; }
    else if (a[0] != '-') {
        if (!o->model) o->model = a;
        else c->images[c->n_images++] = a;
        return 1;
    } else return 0;
    (*i)++;
    return 1;
}

static int start(inspect_ctx *c, common_opts *o, int *argc, char **argv) {
    memset(c, 0, sizeof *c);
    memset(o, 0, sizeof *o);
    if (!cli_take_prep(argc, argv, &c->prep)) return 0;
    c->backend = fv_backend_default();
    c->out_dir = ".";
    o->split = "test";
    o->colormap = FV_COLORMAP_INFERNO;
    o->alpha = 0.5;
    o->scale = 1;
    if (!(c->images = calloc((size_t)*argc + 1, sizeof *c->images))) return fprintf(stderr, "fovea: out of memory\n"), 0;
    return 1;
}

/* ---- fovea show ---- */
static const char *const show_usage =
    "usage: fovea show MODEL IMAGE... --layer L|--all [-o DIR]     feature maps of a layer\n"
    "       fovea show MODEL IMAGE... --layer DENSE --compare [-o DIR] barcodes of several inputs\n"
    "       fovea show MODEL --filters L [-o DIR]                  a conv2d layer's kernels\n"
    "  Feature maps: one grid per input and layer (each map scaled on its own, zero mid-grey); a\n"
    "  dense layer's output is a barcode (one bar per unit). --compare stacks the inputs' barcodes\n"
    "  (one row each, one shared scale) into DIR/compare-L.png.\n"
    "  --layer L        a layer name (fovea summary MODEL lists them)\n"
    "  --all            every layer after the input (but flatten: the maps above it, in a row)\n"
    "  --filters L      the kernels of conv2d layer L: RGB tiles for a 3-channel input, else one tile\n"
    "                   per (input channel: row, filter: column)\n"
    "  --data D --count N --split S   the first N samples of a dataset instead of image files\n"
    "  -o DIR           the output folder (default .): DIR/IMAGE-LAYER.png, DIR/filters-L.png\n"
    "  --raw OUT.npy    the layer's exact output for every input (N x its shape)\n"
    "  --backend B      onednn or reference\n"
    "example: fovea show build/mnist-cnn-fashion.fvm shirt.png --all -o maps\n";

int cmd_show(int argc, char **argv) {
    inspect_ctx c;
    common_opts o;
    const char *layer = NULL, *filters = NULL;
    int all = 0, compare = 0, rc = 1;
    if (!start(&c, &o, &argc, argv)) return 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return ctx_free(&c), fputs(show_usage, stdout), 0;
        int r = common_option(&c, &o, argc, argv, &i);
        if (r < 0) return ctx_free(&c), 2;
        if (r) continue;
        if (!strcmp(a, "--layer") && v) layer = v, i++;
        else if (!strcmp(a, "--filters") && v) filters = v, i++;
        else if (!strcmp(a, "--all")) all = 1;
        else if (!strcmp(a, "--compare")) compare = 1;
        else return ctx_free(&c), fprintf(stderr, "fovea: unexpected argument '%s' (fovea show --help)\n", a), 2;
    }
    if (!o.model || (!layer && !all && !filters) || (!filters && !ctx_inputs(&c) && !o.data) || (compare && !layer))
        return ctx_free(&c), fputs(show_usage, stderr), 2;
    if (!ctx_open(&c, o.model, o.data, o.split)) goto done;
    fv_error err;
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
            ok = save_picture(fv_show_node(c.net, node, 0, &err), c.out_dir, name, fv_net_node_name(c.net, node), 1, &err);
        }
    }
    if (ok && compare) {
        fv_shape s = fv_net_node_shape(c.net, last);
        if (s.rank != 1) ok = 0, snprintf(err.message, sizeof err.message, "--compare draws dense outputs; layer '%s' has %d axes", layer, s.rank);
        char stem[256];
        snprintf(stem, sizeof stem, "compare-%s", layer);
        if (ok) ok = save_picture(fv_image_barcodes(rows, n_inputs, (int)out_count, &err), c.out_dir, stem, "", 1, &err);
    }
    if (ok && o.raw) {
        fv_shape s = fv_net_node_shape(c.net, last);
        int dims[FV_MAX_RANK + 1] = {n_inputs};
        for (int d = 0; d < s.rank; d++) dims[d + 1] = s.dim[d];
        ok = fv_save_npy(o.raw, rows, s.rank + 1, dims, &err) == FV_OK;
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

static int explain(inspect_ctx *c, const common_opts *o, const explain_opts *e) {
    fv_error err;
    err.message[0] = '\0';
    size_t pixels = (size_t)c->height * c->width, n = pixels * c->channels;
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
        printf("\n");
        if (!strcmp(c->out_dir, "-")) continue; /* -o -: numbers only */
        fv_image image = {c->height, c->width, c->channels, raw}; /* the pixels, not the normalised input */
        ok = save_picture(fv_image_heatmap(map, c->height, c->width, o->colormap, &err), c->out_dir, name, what, (int)o->scale, &err);
        char overlay[64];
        snprintf(overlay, sizeof overlay, "%s-overlay", what);
        if (ok) ok = save_picture(fv_image_overlay(&image, map, o->colormap, (float)o->alpha, &err), c->out_dir, name, overlay, (int)o->scale, &err);
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

static const char *const saliency_usage =
    "usage: fovea saliency MODEL IMAGE... [options]\n"
    "  The gradient of a class score (before softmax/sigmoid) w.r.t. the input pixels: |gradient|,\n"
    "  max over channels; written as DIR/IMAGE-METHOD.png (heat map) and DIR/IMAGE-METHOD-overlay.png.\n"
    "  --class K        the class to explain (default: the predicted one)\n"
    "  --method M       vanilla (default), smoothgrad or guided (guided backpropagation)\n"
    "  --samples N      smoothgrad: noisy copies (default 25)\n"
    "  --noise F        smoothgrad: noise sigma as a fraction of the input's range (default 0.15)\n"
    "  --seed S         smoothgrad's noise (default 1)\n"
    "  --metric deletion|insertion  also remove (add) pixels in the map's order and print the area\n"
    "                   under the class-probability curve, and a random order's (--steps N, default 28)\n"
    "  --data D --count N --split S   the first N samples of a dataset instead of image files\n"
    "  --colormap M     inferno (default), viridis, jet or gray   --alpha A  overlay opacity (0.5)\n"
    "  --scale N        pictures N times larger (each pixel an N x N square)\n"
    "  -o DIR           the output folder (default .; - writes no pictures)\n"
    "  --raw OUT.npy    the exact maps (N x H x W, float32)\n"
    "  --backend B      onednn or reference\n"
    "example: fovea saliency build/mnist-cnn-fashion.fvm boot.png --method smoothgrad -o maps\n";

static const char *const gradcam_usage =
    "usage: fovea gradcam MODEL IMAGE... [options]\n"
    "  Grad-CAM: a layer's feature maps weighted by the spatial mean of d(class score)/d(map), summed,\n"
    "  ReLU, upsampled (bilinear) to the input; DIR/IMAGE-gradcam.png and DIR/IMAGE-gradcam-overlay.png.\n"
    "  --layer L        a layer with 2-D feature maps (default: the last conv block: the last conv2d,\n"
    "                   or the add/ReLU that ends its residual block)\n"
    "  --class K        the class to explain (default: the predicted one)\n"
    "  --method M       gradcam (default) or gradcam++\n"
    "  --metric deletion|insertion [--steps N]   as fovea saliency\n"
    "  --data D --count N --split S   the first N samples of a dataset instead of image files\n"
    "  --colormap M     inferno (default), viridis, jet or gray   --alpha A  overlay opacity (0.5)\n"
    "  --scale N        pictures N times larger (each pixel an N x N square)\n"
    "  -o DIR           the output folder (default .; - writes no pictures)\n"
    "  --raw OUT.npy    the exact maps at the input's size (N x H x W, float32)\n"
    "  --backend B      onednn or reference\n"
    "example: fovea gradcam build/mnist-cnn-fashion.fvm boot.png --colormap jet -o maps\n";

static int explain_command(int argc, char **argv, int gradcam) {
    inspect_ctx c;
    common_opts o;
    explain_opts e = {gradcam, -1, fv_saliency_defaults(), 0, -1, 0, 28};
    const char *layer = NULL;
    long samples = e.saliency.samples, seed = 1;
    double noise = e.saliency.noise;
    int rc = 1;
    if (!start(&c, &o, &argc, argv)) return 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return ctx_free(&c), fputs(gradcam ? gradcam_usage : saliency_usage, stdout), 0;
        int r = common_option(&c, &o, argc, argv, &i);
        if (r < 0) return ctx_free(&c), 2;
        if (r) continue;
        int ok = 1;
        if (!strcmp(a, "--class")) ok = cli_int(a, v, 0, &e.class_index);
        else if (!strcmp(a, "--steps")) ok = cli_int(a, v, 1, &e.steps);
        else if (!strcmp(a, "--metric")) ok = v && (!strcmp(v, "deletion") || !strcmp(v, "insertion")), e.metric = v && !strcmp(v, "insertion") ? 2 : 1;
        else if (gradcam && !strcmp(a, "--layer") && v) layer = v;
        else if (gradcam && !strcmp(a, "--method")) ok = v && (!strcmp(v, "gradcam") || !strcmp(v, "gradcam++")), e.plus_plus = v && !strcmp(v, "gradcam++");
        else if (!gradcam && !strcmp(a, "--method")) {
            ok = v && (!strcmp(v, "vanilla") || !strcmp(v, "smoothgrad") || !strcmp(v, "guided"));
            e.saliency.method = !v ? FV_SALIENCY_VANILLA : !strcmp(v, "smoothgrad") ? FV_SALIENCY_SMOOTHGRAD : !strcmp(v, "guided") ? FV_SALIENCY_GUIDED : FV_SALIENCY_VANILLA;
        } else if (!gradcam && !strcmp(a, "--samples")) ok = cli_int(a, v, 1, &samples);
        else if (!gradcam && !strcmp(a, "--noise")) ok = cli_float(a, v, 0, &noise);
        else if (!gradcam && !strcmp(a, "--seed")) ok = cli_int(a, v, 0, &seed);
        else return ctx_free(&c), fprintf(stderr, "fovea: unexpected argument '%s' (fovea %s --help)\n", a, gradcam ? "gradcam" : "saliency"), 2;
        if (!ok) return ctx_free(&c), fprintf(stderr, "fovea: bad or missing value for %s (fovea %s --help)\n", a, gradcam ? "gradcam" : "saliency"), 2;
        i++;
    }
    e.saliency.samples = (int)samples, e.saliency.noise = (float)noise, e.saliency.seed = (uint64_t)seed;
    if (!o.model || (!ctx_inputs(&c) && !o.data)) return ctx_free(&c), fputs(gradcam ? gradcam_usage : saliency_usage, stderr), 2;
    if (ctx_open(&c, o.model, o.data, o.split) && (!layer || (e.layer = find_layer(c.net, layer)) >= 0) && explain(&c, &o, &e)) rc = 0;
    ctx_free(&c);
    return rc;
}

int cmd_saliency(int argc, char **argv) { return explain_command(argc, argv, 0); }
int cmd_gradcam(int argc, char **argv) { return explain_command(argc, argv, 1); }

/* ---- fovea dream ---- */
static const char *const dream_usage =
    "usage: fovea dream MODEL --class K[,K2...] -o OUT.png [options]   activation maximisation\n"
    "       fovea dream MODEL IMAGE --layer L[,L2...] -o OUT.png [options]   DeepDream\n"
    "  Gradient ascent on the input. With --class: from seeded grey noise, an image that raises the\n"
    "  classes' scores (before softmax), regularised by jitter, an L2 pull to grey, total variation\n"
    "  and a blur every few steps. With IMAGE and --layer: the photo changed to raise the layers'\n"
    "  mean squared activation, in octaves (small scale first); a photo keeps its size when every\n"
    "  layer up to L is convolutional (else it is resized to the model's input).\n"
    "  --steps N        ascent steps (per octave; default 200 for classes, 10 for DeepDream)\n"
    "  --step-size F    step in pixel units of the normalised gradient (default 0.02 / 0.004)\n"
    "  --jitter N       random shift of up to N pixels per step (default 2)\n"
    "  --l2 F --tv F    regulariser weights (classes; defaults 0.1, 0.1)\n"
    "  --background B   the grey level to start from and pull to (classes; default 0, for data on\n"
    "                   black such as the MNISTs; 0.5 for photos)\n"
    "  --blur-every N --blur-sigma S   blur (classes; defaults 8, 0.6; 0: never)\n"
    "  --octaves N --octave-scale F     DeepDream scales (defaults 3, 1.4)\n"
    "  --size N         DeepDream: the photo's longer side is resized to N pixels (default 256)\n"
    "  --seed S         noise and jitter (default 1)\n"
    "  --raw OUT.npy    the exact image (H x W x C, float32)\n"
    "  --scale N        the picture N times larger (each pixel an N x N square)\n"
    "  --backend B      onednn or reference\n"
    "example: fovea dream build/mnist-cnn-fashion.fvm --class 9 -o boot.png\n"
    "         fovea dream build/mnist-cnn-fashion.fvm photo.jpg --layer conv2d_2 -o dream.png\n";

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
        if (!cli_int("--class", tok, 0, &v)) return -1;
        int classes = (int)fv_shape_count(fv_net_node_shape(c->net, fv_net_output_node(c->net)));
        if (v >= classes) return fprintf(stderr, "fovea: class %ld is out of range: '%s' has %d classes (0 to %d)\n", v, fv_net_name(c->net), classes, classes - 1), -1;
        out[n++] = (int)v;
    }
    return n;
}

int cmd_dream(int argc, char **argv) {
    inspect_ctx c;
    common_opts o;
    const char *classes = NULL, *layers = NULL, *out = NULL;
    long steps = -1, jitter = -1, blur_every = -1, octaves = -1, seed = 1, size = 256;
    double step_size = -1, l2 = -1, background = -1, tv = -1, blur_sigma = -1, octave_scale = -1;
    int rc = 1;
    if (!start(&c, &o, &argc, argv)) return 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (!strcmp(a, "--help")) return ctx_free(&c), fputs(dream_usage, stdout), 0;
        if (!strcmp(a, "-o") && v) out = v;
        else if (!strcmp(a, "--class") && v) classes = v;
        else if (!strcmp(a, "--layer") && v) layers = v;
        else if (!strcmp(a, "--raw") && v) o.raw = v;
        else if (!strcmp(a, "--backend")) ok = cli_backend(v, &c.backend);
        else if (!strcmp(a, "--steps")) ok = cli_int(a, v, 1, &steps);
        else if (!strcmp(a, "--jitter")) ok = cli_int(a, v, 0, &jitter);
        else if (!strcmp(a, "--blur-every")) ok = cli_int(a, v, 0, &blur_every);
        else if (!strcmp(a, "--octaves")) ok = cli_int(a, v, 1, &octaves);
        else if (!strcmp(a, "--seed")) ok = cli_int(a, v, 0, &seed);
        else if (!strcmp(a, "--size")) ok = cli_int(a, v, 1, &size);
        else if (!strcmp(a, "--scale")) ok = cli_int(a, v, 1, &o.scale) && o.scale <= 64;
        else if (!strcmp(a, "--step-size")) ok = cli_float(a, v, 0, &step_size);
        else if (!strcmp(a, "--l2")) ok = cli_float(a, v, 0, &l2);
        else if (!strcmp(a, "--background")) ok = cli_float(a, v, 0, &background) && background <= 1;
        else if (!strcmp(a, "--tv")) ok = cli_float(a, v, 0, &tv);
        else if (!strcmp(a, "--blur-sigma")) ok = cli_float(a, v, 0.01, &blur_sigma);
        else if (!strcmp(a, "--octave-scale")) ok = cli_float(a, v, 1, &octave_scale);
        else if (a[0] != '-' && !o.model) { o.model = a; continue; }
        else if (a[0] != '-' && !c.n_images) { c.images[c.n_images++] = a; continue; }
        else return ctx_free(&c), fprintf(stderr, "fovea: unexpected argument '%s' (fovea dream --help)\n", a), 2;
        if (!ok) return ctx_free(&c), 2;
        i++;
    }
    int deep = c.n_images > 0;
    if (!o.model || !out || (deep ? !layers || classes : !classes || layers)) return ctx_free(&c), fputs(dream_usage, stderr), 2;
    fv_dream_config cfg = fv_dream_defaults(deep);
    if (steps > 0) cfg.steps = (int)steps;
    if (jitter >= 0) cfg.jitter = (int)jitter;
    if (blur_every >= 0) cfg.blur_every = (int)blur_every;
    if (octaves > 0) cfg.octaves = (int)octaves;
    if (step_size >= 0) cfg.step_size = (float)step_size;
    if (l2 >= 0) cfg.l2 = (float)l2;
    if (background >= 0) cfg.background = (float)background;
    if (tv >= 0) cfg.tv = (float)tv;
    if (blur_sigma > 0) cfg.blur_sigma = (float)blur_sigma;
    if (octave_scale >= 1) cfg.octave_scale = (float)octave_scale;
    cfg.seed = (uint64_t)seed;
    c.out_dir = NULL;
    fv_error err;
    err.message[0] = '\0';
    fv_image *result = NULL, *photo = NULL;
    int list[16], n;
    if (!ctx_open(&c, o.model, NULL, NULL) || (n = parse_list(&c, deep ? layers : classes, deep, list, 16)) < 0) goto done;
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
        if (!(result = fv_image_new(c.height, c.width, c.channels, &err))) goto fail;
        if (fv_dream_classes(c.net, list, n, &cfg, result->pixels, start_scores, end_scores, &err) != FV_OK) goto fail;
        char buf[64];
        for (int i = 0; i < n; i++)
            printf("%s: score %.3f -> %.3f\n", class_name(&c, list[i], buf, sizeof buf), (double)start_scores[i], (double)end_scores[i]);
    }
    int dims[3] = {result->height, result->width, result->channels};
    if (o.raw && fv_save_npy(o.raw, result->pixels, 3, dims, &err) != FV_OK) goto fail;
    if (o.scale > 1) {
        fv_image *big = fv_image_enlarge(result, (int)o.scale, &err);
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
    ctx_free(&c);
    return rc;
}
