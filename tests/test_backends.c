/* test_backends.c — the oneDNN kernels against the reference kernels at the real sizes of the
 * shipped models (and of a small residual net), in training and inference mode.
 *
 * 1. Whole network: every node's output and every parameter after a step (batch-norm moving
 *    statistics) agree between the two backends.
 * 2. Layer by layer: each layer that has a fast kernel is run alone on both backends with the
 *    same input (the reference network's activation) and the same upstream gradient, and its
 *    output, input gradient and parameter gradients must agree. Layer by layer, because
 *    where ReLU outputs exact zeros into a max pool, the two backends break the tie differently
 *    (both valid subgradients) and a whole-network gradient would diverge from there on; for the
 *    same reason the input of a max pool gets a distinct tiny offset per element.
 * 3. Backward overwrites gradients (a second pass gives the same), and re-planning for another
 *    batch size keeps the weights.
 *
 * Tolerance: normwise relative 1e-4. Both compute in float32 but sum in different orders
 * (oneDNN blocks and vectorises its reductions); mnist-cnn's dense weight gradient sums
 * 9,216 x batch products, so the orders differ by ~sqrt(K) * 6e-8 ~ 1e-5 of the largest term,
 * while a wrong result is O(1). */
#include "check.h"
#include "fovea.h"

#include <stdint.h>

#define TOLERANCE 1e-4

static float *random_input(size_t n, uint64_t seed) {
    float *x = malloc(n * sizeof *x);
    if (!x) abort();
    for (size_t i = 0; i < n; i++) x[i] = test_uniform(&seed);
    return x;
}

static fv_net *build(test_counts *t, const char *path, int batch, fv_backend backend) {
    fv_error err;
    fv_net *net = fv_net_load_definition(path, &err);
    CHECK(t, net != NULL, "%s", net ? "" : err.message);
    if (net && fv_net_plan(net, batch, backend, 42, &err) != FV_OK) {
        CHECK(t, 0, "%s: %s", path, err.message);
        fv_net_free(net);
        return NULL;
    }
    return net;
}

static void step(fv_net *net, const float *x, const float *dy, int training) {
    fv_error err;
    fv_net_reseed(net, 5);
    fv_net_forward(net, x, training, &err);
    fv_net_backward(net, dy, &err);
}

/* Runs node `node` of `full` alone on `backend`, fed from `full`'s activations and gradients. */
static fv_net *single_layer(const fv_net *full, int node, int batch, int training, fv_backend backend, fv_error *err) {
    int src;
    fv_net_node_inputs(full, node, &src, 1);
    const fv_layer *layer = fv_net_node_layer(full, node);
    fv_net *net = fv_net_new("single", err);
    fv_layer input = fv_input_layer(fv_net_node_shape(full, src));
    if (!net || fv_net_add(net, &input, "in", err) < 0 || fv_net_add(net, layer, fv_net_node_name(full, node), err) < 0 ||
        fv_net_plan(net, batch, backend, 1, err) != FV_OK) {
        fv_net_free(net);
        return NULL;
    }
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info mine, theirs;
        fv_net_param(net, i, &mine, err);
        fv_net_param_read(full, fv_net_find_param(full, node, mine.name), &theirs, err);
        memcpy(mine.value, theirs.value, mine.count * sizeof(float));
    }
    size_t nx = (size_t)batch * fv_shape_count(fv_net_node_shape(full, src));
    float *x = malloc(nx * sizeof *x);
    if (!x) abort();
    memcpy(x, fv_net_node_output((fv_net *)full, src), nx * sizeof *x);
    if (layer->kind == FV_LAYER_MAXPOOL2D)
        for (size_t i = 0; i < nx; i++) x[i] += 1e-3f * (float)(i % 1009) / 1009.0f;
    fv_net_forward(net, x, training, err);
    fv_net_backward(net, fv_net_node_grad((fv_net *)full, node), err);
    free(x);
    return net;
}

/* ref: the network on the reference kernels; dnn: the same planned on oneDNN, which says which
 * of its layers run a oneDNN kernel (its kernel table's choice, not a list kept here). */
static void compare_layers(test_counts *t, const char *path, fv_net *ref, const fv_net *dnn, int batch, int training) {
    fv_error err;
    const char *mode = training ? "training" : "inference";
    for (int node = 1; node < fv_net_node_count(ref); node++) {
        if (!strcmp(fv_net_node_kernel(dnn, node), "reference")) continue;
        fv_net *a = single_layer(ref, node, batch, training, FV_BACKEND_REFERENCE, &err);
        fv_net *b = a ? single_layer(ref, node, batch, training, FV_BACKEND_ONEDNN, &err) : NULL;
        CHECK(t, a && b, "%s: layer %s alone: %s", path, fv_net_node_name(ref, node), err.message);
        if (!a || !b) {
            fv_net_free(a);
            continue;
        }
        const char *name = fv_net_node_name(ref, node);
        for (int i = 0; i < 2; i++) {
            size_t n = (size_t)batch * fv_shape_count(fv_net_node_shape(a, i));
            double e = rel_diff(fv_net_node_output(b, i), fv_net_node_output(a, i), n, 1e-6);
            CHECK(t, i == 0 || e <= TOLERANCE, "%s (%s): %s output: onednn vs reference %.3g", path, mode, name, e);
            e = rel_diff(fv_net_node_grad(b, i), fv_net_node_grad(a, i), n, 1e-6);
            CHECK(t, e <= TOLERANCE, "%s (%s): %s %s: onednn vs reference %.3g", path, mode, name,
                  i ? "upstream gradient" : "input gradient", e);
        }
        for (int i = 0; i < fv_net_param_count(a); i++) {
            fv_param_info pa, pb;
            fv_net_param(a, i, &pa, &err);
            fv_net_param(b, i, &pb, &err);
            double e = pa.trainable ? rel_diff(pb.grad, pa.grad, pa.count, 1e-6) : rel_diff(pb.value, pa.value, pa.count, 1e-6);
            CHECK(t, e <= TOLERANCE, "%s (%s): %s/%s %s: onednn vs reference %.3g", path, mode, name, pa.name,
                  pa.trainable ? "gradient" : "after the step", e);
        }
        fv_net_free(a);
        fv_net_free(b);
    }
}

static void compare_models(test_counts *t, const char *path, int batch, int training) {
    fv_net *ref = build(t, path, batch, FV_BACKEND_REFERENCE), *fast = build(t, path, batch, FV_BACKEND_ONEDNN);
    if (!ref || !fast) return fv_net_free(ref), fv_net_free(fast);
    int out = fv_net_output_node(ref);
    size_t nx = (size_t)batch * fv_shape_count(fv_net_node_shape(ref, 0));
    size_t ny = (size_t)batch * fv_shape_count(fv_net_node_shape(ref, out));
    float *x = random_input(nx, 1), *dy = random_input(ny, 2);
    step(ref, x, dy, training);
    step(fast, x, dy, training);
    const char *mode = training ? "training" : "inference";
    for (int i = 0; i < fv_net_node_count(ref); i++) {
        size_t n = (size_t)batch * fv_shape_count(fv_net_node_shape(ref, i));
        double e = rel_diff(fv_net_node_output(fast, i), fv_net_node_output(ref, i), n, 1e-6);
        CHECK(t, e <= TOLERANCE, "%s (%s): output of %s: onednn vs reference %.3g", path, mode, fv_net_node_name(ref, i), e);
    }
    fv_error err;
    for (int i = 0; i < fv_net_param_count(ref); i++) {
        fv_param_info a, b;
        fv_net_param(ref, i, &a, &err);
        fv_net_param(fast, i, &b, &err);
        double e = rel_diff(b.value, a.value, a.count, 1e-6);
        CHECK(t, e <= TOLERANCE, "%s (%s): %s/%s after the step %.3g", path, mode, fv_net_node_name(ref, a.node), a.name, e);
    }
    compare_layers(t, path, ref, fast, batch, training);

    /* a second backward pass overwrites: the gradients are the same, not doubled */
    fv_net *nets[2] = {ref, fast};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < fv_net_param_count(nets[k]); i++) {
            fv_param_info p;
            fv_net_param(nets[k], i, &p, &err);
            float *first = malloc(p.count * sizeof *first);
            if (!first) abort();
            memcpy(first, p.grad, p.count * sizeof *first);
            fv_net_backward(nets[k], dy, &err);
            CHECK(t, rel_diff(p.grad, first, p.count, 1e-6) == 0.0, "%s: a second backward pass changed %s's gradient",
                  path, p.name);
            free(first);
        }
    free(x), free(dy);
    fv_net_free(ref), fv_net_free(fast);
}

/* Re-planning for another batch size keeps the weights; forward then agrees per sample. */
static void replan_keeps_weights(test_counts *t, const char *path) {
    fv_net *net = build(t, path, 4, fv_backend_default());
    if (!net) return;
    fv_error err;
    size_t per_in = fv_shape_count(fv_net_node_shape(net, 0));
    size_t per_out = fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    float *x = random_input(4 * per_in, 3), *y4 = malloc(4 * per_out * sizeof *y4);
    if (!y4) abort();
    fv_net_forward(net, x, 0, &err);
    memcpy(y4, fv_net_node_output(net, fv_net_output_node(net)), 4 * per_out * sizeof *y4);
    CHECK(t, fv_net_plan(net, 1, fv_backend_default(), 99, &err) == FV_OK, "replan: %s", err.message);
    fv_net_forward(net, x + 2 * per_in, 0, &err); /* sample 2 alone */
    double e = rel_diff(fv_net_node_output(net, fv_net_output_node(net)), y4 + 2 * per_out, per_out, 1e-6);
    CHECK(t, e <= TOLERANCE, "%s: batch-1 output differs from the same sample in a batch of 4: %.3g", path, e);
    free(x), free(y4);
    fv_net_free(net);
}

/* The network `text` planned for inference in `precision` on the reference (nets[0]) and oneDNN
 * (nets[1]), with the same weights. 0 when it cannot be: a CPU without AVX-512, where oneDNN says
 * it has no kernel for the precision (fv_onednn_precision_unavailable), or a failure checked. */
static int plan_pair(test_counts *t, const char *text, const char *what, fv_precision precision, fv_net *nets[2]) {
    fv_error err;
    const fv_backend backends[2] = {FV_BACKEND_REFERENCE, FV_BACKEND_ONEDNN};
    char unavailable[64];
    snprintf(unavailable, sizeof unavailable, "no %s kernel", fv_precision_name(precision));
    nets[0] = nets[1] = NULL;
    for (int b = 0; b < 2; b++) {
        nets[b] = fv_net_from_text(text, what, &err);
        CHECK(t, nets[b] != NULL, "%s: %s", what, nets[b] ? "" : err.message);
        if (nets[b]) fv_net_set_precision(nets[b], precision);
        if (nets[b] && fv_net_plan_mode(nets[b], 4, backends[b], FV_PLAN_INFERENCE, 7, &err) == FV_OK) continue;
        if (nets[b]) {
            CHECK(t, b == 1 && precision == FV_PRECISION_BF16 && !test_cpu_has_avx512() && strstr(err.message, unavailable), "%s in %s: %s", what, fv_precision_name(precision), err.message);
            printf("%s in %s: not checked on this CPU (%s)\n", what, fv_precision_name(precision), err.message);
        }
        fv_net_free(nets[0]), fv_net_free(nets[1]);
        return 0;
    }
    for (int p = 0; p < fv_net_param_count(nets[0]); p++) {
        fv_param_info a, c;
        fv_net_param(nets[0], p, &a, &err), fv_net_param(nets[1], p, &c, &err);
        memcpy(c.value, a.value, a.count * sizeof(float));
    }
    return 1;
}

/* bf16 inference on oneDNN keeps values between layers in bf16 where the writer and every reader
 * can (plan.c's narrow_edges): a bottleneck block as PyTorch exports one (ReLUs fused into the
 * convolutions and the add). Its outputs against the reference's bf16, which rounds only the
 * products' operands: the narrow values add the rounding of the adds' inputs and outputs, a few
 * bf16 steps (2^-8) through the network. c3 computes the add after it (plan.c's fuse_sums). */
static void narrow_bf16(test_counts *t) {
    const char *text = "input shape=16,16,8\n"
                       "conv2d name=stem filters=16 kernel=3 padding=same activation=relu\n"
                       "maxpool2d size=2 stride=2\n"
                       "conv2d name=c1 filters=16 kernel=1 activation=relu\n"
                       "conv2d name=c2 filters=16 kernel=3 padding=same activation=relu\n"
                       "conv2d name=c3 filters=16 kernel=1\n"
                       "add name=sum inputs=maxpool2d_1,c3 activation=relu\n"
                       "conv2d name=c4 filters=16 kernel=3 padding=same activation=relu\n"
                       "add name=sum2 inputs=sum,c4 activation=relu\n"
                       "global_avgpool\n"
                       "dense units=10\n";
    fv_error err;
    fv_net *nets[2];
    if (!plan_pair(t, text, "bottleneck", FV_PRECISION_BF16, nets)) return;
    int narrow = 0;
    for (int i = 0; i < fv_net_node_count(nets[1]); i++) narrow += fv_net_node_narrow(nets[1], i) != 0;
    int want[] = {1, 2, 3, 4, 5, 6, 7}; /* stem .. c4; not sum2, which the reference's global pooling reads */
    int all = 1;
    for (int k = 0; k < 7; k++) all &= fv_net_node_narrow(nets[1], want[k]) == 16;
    CHECK(t, narrow == 7 && all, "bf16 between layers: %d outputs kept in bf16, 7 expected (stem to c4)", narrow);
    CHECK(t, fv_net_node_computed_by(nets[1], fv_net_find(nets[1], "sum")) == fv_net_find(nets[1], "c3") &&
                 fv_net_node_computed_by(nets[1], fv_net_find(nets[1], "sum2")) < 0,
          "bf16 between layers: c3 computes sum (a sum post-op into the pooling's buffer), sum2 (read as floats) computes itself");
    CHECK(t, fv_net_node_narrow(nets[0], 3) == 0, "the reference keeps every value in fp32");
    size_t nx = 4 * 16 * 16 * 8, ny = 4 * 10;
    float *x = random_input(nx, 11), *want_y = malloc(ny * sizeof *want_y);
    if (!want_y) abort();
    CHECK(t, fv_net_forward(nets[0], x, 0, &err) == FV_OK, "reference: %s", err.message);
    memcpy(want_y, fv_net_node_output(nets[0], fv_net_output_node(nets[0])), ny * sizeof *want_y);
    CHECK(t, fv_net_forward(nets[1], x, 0, &err) == FV_OK, "oneDNN: %s", err.message);
    double e = rel_diff(fv_net_node_output(nets[1], fv_net_output_node(nets[1])), want_y, ny, 1e-6);
    CHECK(t, e <= 2e-2, "bf16 between layers: outputs differ from the reference's bf16 by %.3g (a wrong type read would be ~1)", e);
    printf("bf16 between layers: %d of %d outputs kept in bf16; outputs within %.2g of the reference's bf16\n", narrow,
           fv_net_node_count(nets[1]), e);
    free(x), free(want_y);
    fv_net_free(nets[0]), fv_net_free(nets[1]);
}

/* int8 inference: both networks' outputs on x against each other, twice: the second time with
 * every weight times weight_factor and every bias doubled (oneDNN's int8 primitives are made
 * again in between). e receives the two relative differences, each checked against 2e-2. */
static void int8_rounds(test_counts *t, fv_net *nets[2], const float *x, size_t ny, float weight_factor, const char *what, double e[2]) {
    fv_error err;
    float *want_y = malloc(ny * sizeof *want_y);
    if (!want_y) abort();
    for (int round = 0; round < 2; round++) {
        CHECK(t, fv_net_forward(nets[0], x, 0, &err) == FV_OK, "reference: %s", err.message);
        memcpy(want_y, fv_net_node_output(nets[0], fv_net_output_node(nets[0])), ny * sizeof *want_y);
        CHECK(t, fv_net_forward(nets[1], x, 0, &err) == FV_OK, "oneDNN: %s", err.message);
        e[round] = rel_diff(fv_net_node_output(nets[1], fv_net_output_node(nets[1])), want_y, ny, 1e-6);
        CHECK(t, e[round] <= 2e-2, "%s (weights %d): outputs differ from the reference's int8 by %.3g", what, round, e[round]);
        for (int p = 0; p < fv_net_param_count(nets[0]); p++) {
            fv_param_info a, c;
            fv_net_param(nets[0], p, &a, &err), fv_net_param(nets[1], p, &c, &err);
            for (size_t i = 0; i < a.count; i++) a.value[i] *= strcmp(a.name, "bias") ? weight_factor : 2.0f;
            memcpy(c.value, a.value, a.count * sizeof(float));
        }
    }
    free(want_y);
}

/* int8 inference on oneDNN keeps a quantised convolution's output as int8 when every reader is a
 * quantised convolution with one input scale, or a max pooling whose readers are (plan.c's
 * narrow_edges): stem and its pooling (read by c1), c1 (read by c2 and c2b, one scale; its ReLU6
 * ceiling in int8 units) and c2 (leaky ReLU, read by c3). Those values are what each reader would
 * have quantised itself. Else in bf16 when every reader reads that: c3, whose readers have two
 * scales, and what the adds read and write, but the last add's output (the reference's global
 * pooling reads it). Against the reference's int8, those add bf16's rounding. Without AVX-512
 * (no bf16 kernels in oneDNN) only the int8 values are narrow. */
static void narrow_int8(test_counts *t) {
    const char *text = "input shape=16,16,8\n"
                       "conv2d name=stem filters=16 kernel=3 padding=same activation=relu input_scale=0.008\n"
                       "maxpool2d size=2 stride=2\n"
                       "conv2d name=c1 filters=16 kernel=1 activation=relu6 input_scale=0.03\n"
                       "conv2d name=c2 filters=16 kernel=3 padding=same activation=leaky_relu alpha=0.1 input_scale=0.02\n"
                       "conv2d name=c2b inputs=c1 filters=16 kernel=1 input_scale=0.02\n"
                       "conv2d name=c3 inputs=c2 filters=16 kernel=1 input_scale=0.02\n"
                       "conv2d name=c4 inputs=c3 filters=16 kernel=1 activation=relu input_scale=0.03\n"
                       "conv2d name=c5 inputs=c3 filters=16 kernel=3 padding=same input_scale=0.025\n"
                       "add name=sum inputs=c4,c5\n"
                       "add name=sum2 inputs=sum,c2b activation=relu\n"
                       "global_avgpool\n"
                       "dense units=10 input_scale=0.01\n";
    fv_net *nets[2];
    if (!plan_pair(t, text, "int8 chain", FV_PRECISION_INT8, nets)) return;
    int narrow = 0, all = 1;
    for (int i = 0; i < fv_net_node_count(nets[1]); i++) narrow += fv_net_node_narrow(nets[1], i) != 0;
    const char *want[] = {"stem", "maxpool2d_1", "c1", "c2", "c2b", "c3", "c4", "c5", "sum"};
    const int bf16 = test_cpu_has_avx512(), expected = bf16 ? 9 : 4;
    for (int k = 0; k < 9; k++) all &= fv_net_node_narrow(nets[1], fv_net_find(nets[1], want[k])) == (k < 4 ? 8 : bf16 ? 16 : 0);
    CHECK(t, narrow == expected && all, "int8 between layers: %d outputs kept narrow, %d expected (int8: stem, its pooling, c1, c2; bf16: c2b to sum%s)",
          narrow, expected, bf16 ? "" : ", not on this CPU without AVX-512");
    double e[2];
    float *x = random_input(4 * 16 * 16 * 8, 12);
    int8_rounds(t, nets, x, 4 * 10, 0.5f, "int8 between layers", e);
    printf("int8 between layers: %d of %d outputs kept in int8 or bf16; outputs within %.2g and %.2g of the reference's int8\n", narrow,
           fv_net_node_count(nets[1]), e[0], e[1]);
    free(x);
    fv_net_free(nets[0]), fv_net_free(nets[1]);
}

/* int8 residual sums (an add with an output scale, as fv_quantize sets one) on oneDNN: the
 * convolution before an add computes it (plan.c's fuse_sums) and writes its int8 output, adding
 * the other input as it arrives. sum1's other input c2 is bf16 (a binary post-op); sum2's is
 * sum1's int8 (a sum post-op into the output, which takes over sum1's buffer). sum3's later input
 * c5 has an activation oneDNN cannot fuse: the add runs itself and quantises its sum. sum4 has no
 * output scale (the reference's global pooling reads it). Against the reference's int8. */
static void summed_int8(test_counts *t) {
    const char *text = "input shape=12,12,8\n"
                       "conv2d name=stem filters=16 kernel=3 padding=same activation=relu input_scale=0.008\n"
                       "conv2d name=c1 filters=16 kernel=1 activation=relu input_scale=0.03\n"
                       "conv2d name=c2 filters=16 kernel=3 padding=same input_scale=0.02\n"
                       "conv2d name=down inputs=stem filters=16 kernel=1 input_scale=0.03\n"
                       "add name=sum1 inputs=c2,down activation=relu output_scale=0.05\n"
                       "conv2d name=c3 inputs=sum1 filters=16 kernel=3 padding=same activation=relu input_scale=0.05\n"
                       "conv2d name=c4 filters=16 kernel=1 activation=relu6 input_scale=0.02\n"
                       "add name=sum2 inputs=sum1,c4 output_scale=0.04\n"
                       "conv2d name=c5 filters=16 kernel=1 activation=tanh input_scale=0.04\n"
                       "add name=sum3 inputs=sum2,c5 activation=relu output_scale=0.04\n"
                       "conv2d name=c6 filters=16 kernel=1 input_scale=0.04\n"
                       "add name=sum4 inputs=sum3,c6\n"
                       "global_avgpool\n"
                       "dense units=10 input_scale=0.01\n";
    fv_net *nets[2];
    if (!plan_pair(t, text, "int8 sums", FV_PRECISION_INT8, nets)) return;
    fv_net *n = nets[1];
    int by1 = fv_net_node_computed_by(n, fv_net_find(n, "sum1")), by2 = fv_net_node_computed_by(n, fv_net_find(n, "sum2"));
    CHECK(t, by1 == fv_net_find(n, "down") && by2 == fv_net_find(n, "c4"), "int8 sums: sum1 computed by node %d (down: %d), sum2 by %d (c4: %d)",
          by1, fv_net_find(n, "down"), by2, fv_net_find(n, "c4"));
    CHECK(t, fv_net_node_computed_by(n, fv_net_find(n, "sum3")) < 0 && fv_net_node_computed_by(n, fv_net_find(n, "sum4")) < 0,
          "int8 sums: sum3 and sum4 are computed by their own add");
    CHECK(t, fv_net_node_computed_by(nets[0], fv_net_find(nets[0], "sum1")) < 0, "the reference computes every node itself");
    const char *int8s[] = {"sum1", "sum2", "sum3", "down", "c4"};
    int all = 1;
    for (int k = 0; k < 5; k++) all &= fv_net_node_narrow(n, fv_net_find(n, int8s[k])) == 8;
    CHECK(t, all, "int8 sums: the sums (and what computes sum1, sum2) kept in int8");
    CHECK(t, fv_net_node_output(n, fv_net_find(n, "sum2")) == fv_net_node_output(n, fv_net_find(n, "sum1")),
          "int8 sums: sum2 takes over sum1's buffer (c4 sums into it in place; nothing reads sum1 after c4 starts)");
    CHECK(t, fv_net_node_output(n, fv_net_find(n, "sum3")) != fv_net_node_output(n, fv_net_find(n, "sum2")),
          "int8 sums: sum3, which no convolution computes, has a buffer of its own");
    double e[2];
    float *x = random_input(4 * 12 * 12 * 8, 13);
    int8_rounds(t, nets, x, 4 * 10, 0.7f, "int8 sums", e);
    printf("int8 sums: sum1 computed by down, sum2 by c4; outputs within %.2g and %.2g of the reference's int8\n", e[0], e[1]);
    free(x);
    fv_net_free(nets[0]), fv_net_free(nets[1]);
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    if (!fv_backend_available(FV_BACKEND_ONEDNN)) {
        printf("built without oneDNN: nothing to compare (skipped)\n");
        return 77; /* ctest's SKIP_RETURN_CODE: reported as skipped, not passed */
    }
    const char *models[] = {"models/mnist-cnn", "models/lenet5", "models/smile-cnn", "models/mlp-2d", "tests/data/resnet-tiny"};
    for (int i = 0; i < 5; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.fv", FOVEA_SOURCE_DIR, models[i]);
        compare_models(&t, path, 8, 1);
        compare_models(&t, path, 3, 0);
        replan_keeps_weights(&t, path);
    }
    narrow_bf16(&t);
    narrow_int8(&t);
    summed_int8(&t);
    return report(&t);
}
