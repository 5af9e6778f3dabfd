/* test_shapes.c — shape inference, parameter counts (as Keras reports them), the summary, the
 * C builder for sequential and DAG networks, and clear errors for bad definitions. */
#include "check.h"
#include "fovea.h"

static fv_net *load_model(test_counts *t, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/models/%s.fv", FOVEA_SOURCE_DIR, name);
    fv_error err;
    fv_net *net = fv_net_load_definition(path, &err);
    CHECK(t, net != NULL, "%s: %s", path, net ? "" : err.message);
    return net;
}

static int shape_is(fv_shape s, int rank, int a, int b, int c) {
    return s.rank == rank && s.dim[0] == a && (rank < 2 || s.dim[1] == b) && (rank < 3 || s.dim[2] == c);
}

static void test_shipped_models(test_counts *t) {
    fv_net *net = load_model(t, "mnist-cnn");
    if (net) {
        CHECK(t, shape_is(fv_net_node_shape(net, 1), 3, 26, 26, 32), "mnist-cnn conv1 shape");
        CHECK(t, shape_is(fv_net_node_shape(net, 2), 3, 24, 24, 64), "mnist-cnn conv2 shape");
        CHECK(t, shape_is(fv_net_node_shape(net, 3), 3, 12, 12, 64), "mnist-cnn pool shape");
        CHECK(t, shape_is(fv_net_node_shape(net, 4), 1, 9216, 0, 0), "mnist-cnn flatten shape");
        CHECK(t, shape_is(fv_net_node_shape(net, 5), 1, 128, 0, 0), "mnist-cnn dense shape");
        CHECK(t, shape_is(fv_net_node_shape(net, 6), 1, 10, 0, 0), "mnist-cnn output shape");
        CHECK(t, fv_net_weight_count(net, 0) == 1199882, "mnist-cnn params %zu", fv_net_weight_count(net, 0));
        char text[4096];
        fv_net_summary(net, text, sizeof text);
        CHECK(t, strstr(text, "Total params: 1,199,882") != NULL, "summary total:\n%s", text);
        CHECK(t, strstr(text, "(None, 24, 24, 64)") != NULL, "summary shape:\n%s", text);
        CHECK(t, strstr(text, "Model: \"mnist-cnn\"") != NULL, "summary name:\n%s", text);
        fv_net_free(net);
    }
    if ((net = load_model(t, "lenet5"))) {
        CHECK(t, fv_net_weight_count(net, 0) == 61706, "lenet5 params %zu", fv_net_weight_count(net, 0));
        fv_net_free(net);
    }
    if ((net = load_model(t, "smile-cnn"))) {
        CHECK(t, fv_net_weight_count(net, 0) == 1063073, "smile-cnn params %zu", fv_net_weight_count(net, 0));
        CHECK(t, fv_net_weight_count(net, 0) - fv_net_weight_count(net, 1) == 96, "smile-cnn non-trainable");
        char text[8192];
        fv_net_summary(net, text, sizeof text);
        CHECK(t, strstr(text, "Non-trainable params: 96") != NULL, "summary:\n%s", text);
        fv_net_free(net);
    }
    if ((net = load_model(t, "mlp-2d"))) {
        CHECK(t, fv_net_weight_count(net, 0) == 21, "mlp-2d params %zu", fv_net_weight_count(net, 0));
        fv_net_free(net);
    }
}

/* The seeds' example: 3 filters 3x3 valid on 5x5x2 -> (3, 3, 3) and 3*3*2*3 + 3 = 57 parameters. */
static void test_conv_example(test_counts *t) {
    fv_error err;
    fv_net *net = fv_net_new("example", &err);
    fv_layer in = fv_input_layer((fv_shape){3, {5, 5, 2}}), conv = fv_conv2d(3, 3, 3);
    CHECK(t, fv_net_add(net, &in, NULL, &err) == 0, "%s", err.message);
    int node = fv_net_add(net, &conv, NULL, &err);
    CHECK(t, node == 1, "%s", err.message);
    CHECK(t, shape_is(fv_net_node_shape(net, node), 3, 3, 3, 3), "conv example shape");
    CHECK(t, fv_net_weight_count(net, 0) == 57, "conv example params %zu", fv_net_weight_count(net, 0));
    CHECK(t, !strcmp(fv_net_node_name(net, node), "conv2d_1"), "automatic name %s", fv_net_node_name(net, node));
    fv_net_free(net);
}

/* Padding and stride arithmetic, as TF/Keras define 'same' and PyTorch defines explicit pads. */
static void test_geometry(test_counts *t) {
    struct { const char *line, *in; int rank, a, b, c; } cases[] = {
        {"conv2d filters=4 kernel=3 stride=2 padding=same", "7,8,3", 3, 4, 4, 4},
        {"conv2d filters=4 kernel=3 stride=2", "7,8,3", 3, 3, 3, 4},
        {"conv2d filters=2 kernel=2,3 stride=2,1 padding=1,2", "5,6,3", 3, 3, 8, 2},
        {"conv2d filters=2 kernel=3 padding=0,1,2,1", "5,5,2", 3, 4, 6, 2},
        {"conv1d filters=4 kernel=3 stride=2 padding=same", "11,3", 2, 6, 4, 0},
        {"maxpool2d size=3 stride=1", "5,6,2", 3, 3, 4, 2},
        {"maxpool2d size=3 stride=2 padding=same", "7,6,2", 3, 4, 3, 2},
        {"avgpool2d size=2", "9,3", 2, 4, 3, 0},
        {"global_avgpool", "4,5,3", 1, 3, 0, 0},
        {"dense units=6", "3,5", 2, 3, 6, 0},
        {"flatten", "3,4,2", 1, 24, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "input shape=%s\n%s\n", cases[i].in, cases[i].line);
        fv_error err;
        fv_net *net = fv_net_from_text(text, "geometry", &err);
        CHECK(t, net != NULL, "%s: %s", cases[i].line, net ? "" : err.message);
        if (!net) continue;
        fv_shape s = fv_net_node_shape(net, 1);
        CHECK(t, shape_is(s, cases[i].rank, cases[i].a, cases[i].b, cases[i].c), "%s on (%s): got rank %d (%d, %d, %d)",
              cases[i].line, cases[i].in, s.rank, s.dim[0], s.dim[1], s.dim[2]);
        fv_net_free(net);
    }
}

/* A residual block built in C with the DAG builder; the summary then shows its connections. */
static void test_dag_builder(test_counts *t) {
    fv_error err;
    fv_net *net = fv_net_new("residual", &err);
    fv_layer in = fv_input_layer((fv_shape){3, {8, 8, 4}});
    fv_layer conv = fv_conv2d(4, 3, 3), add = fv_add(), relu = fv_activation_layer(FV_ACT_RELU);
    conv.conv.padding = FV_PAD_SAME;
    int x = fv_net_add(net, &in, "x", &err);
    int c1 = fv_net_add(net, &conv, "c1", &err);
    int c2 = fv_net_add(net, &conv, "c2", &err);
    int both[2] = {x, c2};
    int sum = fv_net_add_from(net, &add, "sum", both, 2, &err);
    CHECK(t, sum == 3 && c1 == 1, "residual add: %s", err.message);
    CHECK(t, fv_net_add(net, &relu, NULL, &err) == 4, "relu after add: %s", err.message);
    CHECK(t, !strcmp(fv_net_node_name(net, 4), "relu_1"), "relu name %s", fv_net_node_name(net, 4));
    int inputs[4], n = fv_net_node_inputs(net, sum, inputs, 4);
    CHECK(t, n == 2 && inputs[0] == x && inputs[1] == c2, "add inputs");
    char text[4096];
    fv_net_summary(net, text, sizeof text);
    CHECK(t, strstr(text, "Connected to") && strstr(text, "x, c2"), "DAG summary:\n%s", text);

    /* errors name the layer */
    fv_layer wide = fv_conv2d(5, 3, 3);
    int c3 = fv_net_add(net, &wide, "c3", &err);
    int mismatch[2] = {x, c3};
    CHECK(t, fv_net_add_from(net, &add, "bad_sum", mismatch, 2, &err) < 0, "shape mismatch accepted");
    CHECK(t, strstr(err.message, "bad_sum") && strstr(err.message, "same shape"), "message: %s", err.message);
    CHECK(t, fv_net_add(net, &in, NULL, &err) < 0 && strstr(err.message, "input"), "second input accepted");
    CHECK(t, fv_net_add(net, &conv, "c1", &err) < 0 && strstr(err.message, "used twice"), "duplicate name: %s", err.message);
    int ahead = 99;
    CHECK(t, fv_net_add_from(net, &relu, NULL, &ahead, 1, &err) < 0, "input from a later node accepted");
    fv_net_free(net);
}

/* Bad definitions are errors that name the file, the line and what is wrong. */
static void test_bad_definitions(test_counts *t) {
    struct { const char *text, *expect; } cases[] = {
        {"input shape=28,28,1\nconv2d filters=32 kernel=3 activaton=relu\n", "bad.fv:2: 'conv2d' has no setting 'activaton'"},
        {"input shape=28,28,1\nconvolution filters=3\n", "bad.fv:2: unknown layer type 'convolution'"},
        {"input shape=28,28,1\nconv2d filters=-3 kernel=3\n", "bad.fv:2: bad value '-3' for 'filters'"},
        {"input shape=28,28,1\nconv2d kernel=3\n", "bad.fv:2: 'conv2d' needs filters="},
        {"input shape=28,28,1\nconv2d filters=3 kernel=3x\n", "bad.fv:2: bad value '3x' for 'kernel'"},
        {"input shape=4,4,1\nconv2d filters=3 kernel=5\n", "bad.fv:2: layer 'conv2d_1' (conv2d): input 4x4 is smaller"},
        {"input shape=28,28\nconv2d filters=3 kernel=3\n", "(H, W, C) input"},
        {"input shape=28,28,1\nadd inputs=input_1,nowhere\n", "no earlier layer is named 'nowhere'"},
        {"input shape=28,28,1\ndense units=10 activation=swish\n", "bad value 'swish' for 'activation'"},
        {"input shape=28,28,1\ndropout rate=1.5\n", "rate must be in [0, 1)"},
        {"input shape=28,28,1\ndropout 0.5\n", "expected key=value"},
        {"conv2d filters=3 kernel=3\n", "the first layer must be an input layer"},
        {"input\n", "'input' needs shape="},
        {"# nothing\n\n", "no layers defined"},
        {"input shape=28,28,1\nmaxpool2d size=2 padding=3\n", "explicit padding must be in [0, pool size)"},
        {"input shape=28,28,1\nbatchnorm epsilon=0\n", "epsilon must be positive"},
        {"input shape=28,28,1\nflatten\nadd inputs=input_1,flatten_1\n", "same shape"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fv_error err = {{0}};
        fv_net *net = fv_net_from_text(cases[i].text, "bad.fv", &err);
        CHECK(t, net == NULL, "accepted: %s", cases[i].text);
        fv_net_free(net);
        CHECK(t, strstr(err.message, cases[i].expect) != NULL, "for %s: message '%s' lacks '%s'", cases[i].text,
              err.message, cases[i].expect);
    }
    fv_error err;
    CHECK(t, fv_net_load_definition("/nonexistent/model.fv", &err) == NULL && strstr(err.message, "/nonexistent/model.fv"),
          "missing file: %s", err.message);
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/not-a-model.bin", FOVEA_SOURCE_DIR);
    CHECK(t, fv_net_load_definition(path, &err) == NULL && strstr(err.message, "not-a-model.bin"), "binary file: %s", err.message);
    CHECK(t, fv_net_load_definition(FOVEA_SOURCE_DIR, &err) == NULL, "a directory was accepted");
}

static void test_plan_errors(test_counts *t) {
    fv_error err;
    fv_net *net = fv_net_from_text("input shape=3\ndense units=2\n", "plan", &err);
    CHECK(t, fv_net_plan(net, 0, FV_BACKEND_REFERENCE, 1, &err) != FV_OK && strstr(err.message, "batch"), "batch 0");
    CHECK(t, fv_net_forward(net, NULL, 0, &err) != FV_OK && strstr(err.message, "planned"), "forward before plan");
    CHECK(t, fv_net_plan(net, 2, FV_BACKEND_REFERENCE, 1, &err) == FV_OK, "plan: %s", err.message);
    fv_layer more = fv_dense(3);
    CHECK(t, fv_net_add(net, &more, NULL, &err) < 0 && strstr(err.message, "after it has been planned"), "add after plan");
    fv_net_free(net);
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    test_shipped_models(&t);
    test_conv_example(&t);
    test_geometry(&t);
    test_dag_builder(&t);
    test_bad_definitions(&t);
    test_plan_errors(&t);
    return report(&t);
}
