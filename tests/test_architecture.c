/* test_architecture.c — what the architecture promises: layer kinds defined in one place (the
 * docs' settings table is the generated one; the writer and parser round-trip every kind),
 * rank-4 samples with Keras shapes and parameter counts for conv3d, grouped, depthwise and
 * dilated convolutions, 3-D pooling and concat; model files with rank-5 kernels; plans by purpose
 * (inference reuses memory yet computes the same numbers; it refuses backward and optimizer
 * steps); and which kernel each layer runs. */
#include "check.h"
#include "fovea.h"

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = calloc(1 << 20, 1);
    if (text) text[fread(text, 1, (1 << 20) - 1, f)] = '\0';
    fclose(f);
    return text;
}

/* models/README.md holds exactly what `fovea layers` prints, between its markers. */
static void test_docs_table(test_counts *t) {
    char path[512];
    snprintf(path, sizeof path, "%s/models/README.md", FOVEA_SOURCE_DIR);
    char *doc = read_text(path);
    CHECK(t, doc != NULL, "cannot read %s", path);
    if (!doc) return;
    int len = fv_layer_settings_markdown(NULL, 0);
    char *table = malloc((size_t)len + 1);
    fv_layer_settings_markdown(table, (size_t)len + 1);
    const char *begin = strstr(doc, "<!-- settings: begin -->\n"), *end = strstr(doc, "<!-- settings: end -->");
    CHECK(t, begin && end, "models/README.md lacks the settings markers");
    if (begin && end) {
        begin += strlen("<!-- settings: begin -->\n");
        CHECK(t, (size_t)(end - begin) == (size_t)len && !memcmp(begin, table, (size_t)len),
              "models/README.md's settings table is stale: regenerate it with `fovea layers`");
    }
    for (int k = 0; k < FV_LAYER_KIND_COUNT; k++) {
        char row[64];
        snprintf(row, sizeof row, "| `%s` |", fv_layer_kind_name((fv_layer_kind)k));
        CHECK(t, strstr(table, row) != NULL, "kind %d has no row in the settings table", k);
    }
    free(table), free(doc);
}

static const char *const new_layers =
    "model newlayers\n"
    "input shape=8,16,16,3\n"
    "conv3d name=c3 filters=4 kernel=3 activation=relu\n"                      /* (6, 14, 14, 4): 3*3*3*3*4 + 4 */
    "maxpool3d name=p3 size=2\n"                                               /* (3, 7, 7, 4) */
    "conv3d name=c3b filters=4 kernel=1,3,3 padding=same groups=2 bias=false\n" /* 1*3*3*2*4 = 72 */
    "avgpool3d name=a3 size=3,1,1 stride=1 padding=same\n"
    "concat name=cat inputs=p3,c3b\n";                                         /* (3, 7, 7, 8) */

static const char *const new_layers_2d =
    "model newlayers2d\n"
    "input shape=9,9,4\n"
    "conv2d name=g filters=6 kernel=3 groups=2\n"            /* (7, 7, 6): 3*3*2*6 + 6 = 114 */
    "conv2d name=dw filters=6 kernel=3 groups=6 padding=same\n" /* depthwise: 3*3*1*6 + 6 = 60 */
    "conv2d name=dil filters=2 kernel=3 dilation=2\n"          /* (3, 3, 2): 3*3*6*2 + 2 = 110 */
    "concat name=cat inputs=dil,dil\n"
    "flatten\n"
    "dense units=3 activation=softmax\n";

static int param_count(const fv_net *net, const char *layer) {
    int node = fv_net_find(net, layer), total = 0;
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_error err;
        fv_net_param_read(net, i, &p, &err);
        if (p.node == node) total += (int)p.count;
    }
    return total;
}

static int shape_eq(fv_shape s, int rank, const int *dims) {
    if (s.rank != rank) return 0;
    for (int i = 0; i < rank; i++)
        if (s.dim[i] != dims[i]) return 0;
    return 1;
}

static void test_new_layer_shapes(test_counts *t) {
    fv_error err;
    fv_net *net = fv_net_from_text(new_layers, "new", &err);
    CHECK(t, net != NULL, "%s", net ? "" : err.message);
    if (net) {
        CHECK(t, shape_eq(fv_net_node_shape(net, 1), 4, (int[]){6, 14, 14, 4}), "conv3d shape");
        CHECK(t, shape_eq(fv_net_node_shape(net, 2), 4, (int[]){3, 7, 7, 4}), "maxpool3d shape");
        CHECK(t, shape_eq(fv_net_node_shape(net, 5), 4, (int[]){3, 7, 7, 8}), "concat shape");
        CHECK(t, param_count(net, "c3") == 328, "conv3d params %d", param_count(net, "c3"));
        CHECK(t, param_count(net, "c3b") == 72, "grouped conv3d params %d", param_count(net, "c3b"));
        char text[8192];
        fv_net_summary(net, text, sizeof text);
        CHECK(t, strstr(text, "c3 (Conv3D)") && strstr(text, "(None, 6, 14, 14, 4)") && strstr(text, "MaxPooling3D") &&
                     strstr(text, "cat (Concatenate)") && strstr(text, "p3, c3b"),
              "summary:\n%s", text);
        fv_net_free(net);
    }
    net = fv_net_from_text(new_layers_2d, "new2d", &err);
    CHECK(t, net != NULL, "%s", net ? "" : err.message);
    if (net) {
        CHECK(t, shape_eq(fv_net_node_shape(net, 1), 3, (int[]){7, 7, 6}), "grouped conv shape");
        CHECK(t, shape_eq(fv_net_node_shape(net, 3), 3, (int[]){3, 3, 2}), "dilated conv shape");
        CHECK(t, param_count(net, "g") == 114 && param_count(net, "dw") == 60 && param_count(net, "dil") == 110,
              "params %d %d %d", param_count(net, "g"), param_count(net, "dw"), param_count(net, "dil"));
        fv_net_free(net);
    }
    struct { const char *text, *expect; } bad[] = {
        {"input shape=8,8,4\nconv2d filters=6 kernel=3 groups=3\n", "groups=3 must divide the 4 input channels"},
        {"input shape=8,8,3\nconv3d filters=2 kernel=3\n", "expects an (D, H, W, C) input"},
        {"input shape=4,4,2\nconcat inputs=input_1,input_1\nconv2d name=x filters=1 kernel=2\nconcat inputs=input_1,x\n", "same shape but along axis 2"},
        {"input shape=4,4,4,4,2\n", "bad value '4,4,4,4,2' for 'shape'"},
        {"input shape=8,8,2\nconv2d filters=2 kernel=3 dilation=0\n", "bad value '0' for 'dilation'"},
        {"input shape=8,8,8,2\nmaxpool3d size=2,2\n", "bad value '2,2' for 'size'"},
        {"input shape=8\ndense units=2 activation=leaky_relu alpha=-0.5\n", "alpha must be a finite number >= 0"},
        {"input shape=8\nleaky_relu alpha=inf\n", "alpha must be a finite number >= 0"},
        {"input shape=8,8,2\nconv2d filters=2 kernel=3 alpha=nan\n", "alpha must be a finite number >= 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fv_net *b = fv_net_from_text(bad[i].text, "bad.fv", &err);
        CHECK(t, b == NULL && strstr(err.message, bad[i].expect), "for %s: '%s' lacks '%s'", bad[i].text,
              b ? "(accepted)" : err.message, bad[i].expect);
        fv_net_free(b);
    }
}

/* The writer spells out every declared setting; parsing that gives the same text again. */
static void test_round_trip(test_counts *t) {
    const char *texts[] = {new_layers, new_layers_2d};
    for (int i = 0; i < 2; i++) {
        fv_error err;
        fv_net *net = fv_net_from_text(texts[i], "rt", &err);
        char a[8192], b[8192];
        fv_net_to_text(net, a, sizeof a);
        fv_net *again = fv_net_from_text(a, "written", &err);
        CHECK(t, again != NULL, "written text does not parse: %s\n%s", again ? "" : err.message, a);
        if (again) {
            fv_net_to_text(again, b, sizeof b);
            CHECK(t, !strcmp(a, b), "round trip differs:\n%s\n%s", a, b);
        }
        fv_net_free(net), fv_net_free(again);
    }
}

static float *forward_copy(fv_net *net, const float *x, fv_plan_mode mode, fv_backend backend, test_counts *t) {
    fv_error err;
    CHECK(t, fv_net_plan_mode(net, 2, backend, mode, 5, &err) == FV_OK, "plan: %s", err.message);
    CHECK(t, fv_net_forward(net, x, 0, &err) == FV_OK, "forward: %s", err.message);
    size_t n = 2 * fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    float *y = malloc(n * sizeof *y);
    memcpy(y, fv_net_node_output(net, fv_net_output_node(net)), n * sizeof *y);
    return y;
}

/* A model file keeps conv3d's rank-5 kernel; inference plans compute what training plans do. */
static void test_plans_and_files(test_counts *t, const char *dir) {
    const char *texts[] = {new_layers, new_layers_2d};
    for (int i = 0; i < 2; i++) {
        fv_error err;
        fv_net *net = fv_net_from_text(texts[i], "plans", &err);
        char unplanned[600];
        snprintf(unplanned, sizeof unplanned, "%s/unplanned.fvm", dir);
        fv_param_info p0;
        CHECK(t, fv_model_save(unplanned, net, NULL, NULL, &err) == FV_ERR && strstr(err.message, "no weights yet"),
              "saving a network without weights: %s", err.message);
        CHECK(t, fv_net_param(net, 0, &p0, &err) == FV_OK && p0.value == NULL, "saving initialised the parameters");
        size_t in = 2 * fv_shape_count(fv_net_node_shape(net, 0));
        float *x = malloc(in * sizeof *x);
        fv_random_uniform(x, in, 3);
        size_t n = 2 * fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
        for (int b = 0; b < 2; b++) {
            fv_backend backend = b ? FV_BACKEND_ONEDNN : FV_BACKEND_REFERENCE;
            if (!fv_backend_available(backend)) continue;
            float *train = forward_copy(net, x, FV_PLAN_TRAINING, backend, t);
            float *infer = forward_copy(net, x, FV_PLAN_INFERENCE, backend, t);
            CHECK(t, !memcmp(train, infer, n * sizeof *train), "%s: inference plan computes differently", fv_backend_name(backend));
            fv_param_info p;
            fv_net_param(net, 0, &p, &err);
            CHECK(t, p.grad == NULL && fv_net_node_grad(net, 1) == NULL, "inference plan has gradient buffers");
            CHECK(t, fv_net_backward(net, infer, &err) == FV_ERR && strstr(err.message, "inference"), "backward accepted: %s", err.message);
            fv_optimizer_config oc = fv_sgd(0.1f, 0.0f);
            fv_optimizer *opt = fv_optimizer_new(net, &oc, &err);
            CHECK(t, opt && fv_optimizer_step(opt, 0.1f, &err) == FV_ERR && strstr(err.message, "training"), "optimizer step accepted: %s", err.message);
            fv_optimizer_free(opt);
            free(infer);
            char path[600];
            snprintf(path, sizeof path, "%s/arch%d.fvm", dir, i);
            CHECK(t, fv_model_save(path, net, NULL, NULL, &err) == FV_OK, "save: %s", err.message);
            fv_net *loaded = fv_net_load(path, NULL, &err); /* a model file, known by its magic */
            CHECK(t, loaded != NULL, "load: %s", loaded ? "" : err.message);
            if (loaded) {
                float *again = forward_copy(loaded, x, FV_PLAN_INFERENCE, backend, t);
                CHECK(t, !memcmp(train, again, n * sizeof *train), "%s: a saved and loaded model computes differently", fv_backend_name(backend));
                free(again);
                fv_net_free(loaded);
            }
            /* fv_net_save, fv_net_load's counterpart: each format by its ending, read back */
            const char *endings[] = {".fvm", ".fv", ".onnx"};
            for (int e = 0; e < (i == 1 ? 3 : 2); e++) { /* (ONNX: the 2-D network) */
                snprintf(path, sizeof path, "%s/saved%d%s", dir, i, endings[e]);
                CHECK(t, fv_net_save(net, path, &err) == FV_OK, "fv_net_save %s: %s", endings[e], err.message);
                fv_net *back = fv_net_load(path, NULL, &err);
                CHECK(t, back != NULL, "fv_net_load of fv_net_save's %s: %s", endings[e], back ? "" : err.message);
                if (!back) continue;
                if (e == 1) { /* the definition: the same text */
                    char a[4096], b[4096];
                    fv_net_to_text(net, a, sizeof a), fv_net_to_text(back, b, sizeof b);
                    CHECK(t, !strcmp(a, b), "fv_net_save .fv: the definition read back differs");
                } else {
                    float *again = forward_copy(back, x, FV_PLAN_INFERENCE, backend, t);
                    CHECK(t, rel_diff(again, train, n, 1e-6) <= 1e-5, "%s: fv_net_save %s read back computes differently", fv_backend_name(backend),
                          endings[e]);
                    free(again);
                }
                fv_net_free(back);
            }
            free(train);
        }
        free(x);
        fv_net_free(net);
    }
}

/* For VGG16 at 224x224x3 the inference plan needs at most twice its largest activation, and at
 * most a quarter of the training plan's activations and their gradients. */
static void test_plan_memory(test_counts *t) {
    char path[512];
    snprintf(path, sizeof path, "%s/models/vgg16.fv", FOVEA_SOURCE_DIR);
    fv_error err;
    fv_net *net = fv_net_load(path, NULL, &err); /* a definition: no model-file magic */
    CHECK(t, net != NULL, "%s", net ? "" : err.message);
    if (!net) return;
    CHECK(t, fv_net_weight_count(net, 0) == 138357544, "vgg16 params %zu", fv_net_weight_count(net, 0));
    for (int batch = 1; batch <= 64; batch *= 64) {
        fv_plan_memory train, infer;
        CHECK(t, fv_net_plan_memory(net, batch, FV_PLAN_TRAINING, &train, &err) == FV_OK, "%s", err.message);
        CHECK(t, fv_net_plan_memory(net, batch, FV_PLAN_INFERENCE, &infer, &err) == FV_OK, "%s", err.message);
        printf("vgg16 batch %d: training activations + gradients %.1f MB, inference activations %.1f MB, largest activation %.1f MB\n",
               batch, (double)(train.activations + train.activation_grads) / 1e6, (double)infer.activations / 1e6,
               (double)infer.largest_activation / 1e6);
        CHECK(t, infer.activations <= 2 * infer.largest_activation, "batch %d: inference %zu > 2 x largest %zu", batch,
              infer.activations, infer.largest_activation);
        CHECK(t, infer.activations * 4 <= train.activations + train.activation_grads, "batch %d: inference %zu > 25%% of training", batch,
              infer.activations);
        CHECK(t, infer.activation_grads == 0 && infer.parameter_grads == 0, "inference plans gradients");
    }
    fv_net_free(net);
}

/* Each layer runs its backend's kernel where the backend has one that supports it. */
static void test_kernel_choice(test_counts *t) {
    if (!fv_backend_available(FV_BACKEND_ONEDNN)) return;
    fv_error err;
    fv_net *net = fv_net_from_text("input shape=9,9,2\nconv2d name=a filters=2 kernel=3\nsumpool2d name=s size=2\n"
                                   "conv2d name=d filters=2 kernel=2 dilation=2 stride=2 padding=same\nflatten\ndense name=o units=2\n",
                                   "kernels", &err);
    CHECK(t, fv_net_node_kernel(net, 1) == NULL, "a kernel before planning");
    CHECK(t, fv_net_plan_mode(net, 2, FV_BACKEND_ONEDNN, FV_PLAN_INSPECTION, 1, &err) == FV_OK, "%s", err.message);
    CHECK(t, !strcmp(fv_net_node_kernel(net, fv_net_find(net, "a")), "onednn"), "conv on %s", fv_net_node_kernel(net, 1));
    CHECK(t, !strcmp(fv_net_node_kernel(net, fv_net_find(net, "s")), "reference"), "sum pooling has no oneDNN kernel");
    CHECK(t, !strcmp(fv_net_node_kernel(net, fv_net_find(net, "d")), "reference"), "dilated strided conv on oneDNN");
    CHECK(t, !strcmp(fv_net_node_kernel(net, fv_net_find(net, "o")), "onednn"), "dense");
    fv_net_free(net);
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    char dir[] = "/tmp/fovea-arch-XXXXXX";
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    test_docs_table(&t);
    test_new_layer_shapes(&t);
    test_round_trip(&t);
    test_plans_and_files(&t, dir);
    test_plan_memory(&t);
    test_kernel_choice(&t);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return report(&t);
}
