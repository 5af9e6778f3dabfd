/* test_gradcheck.c — every layer kind's backward pass against central finite differences of its
 * forward pass, for the input and every trainable parameter, over several shapes (batch > 1, odd
 * sizes, stride 2, same and explicit padding, overlapping pooling), on the reference kernels and
 * on oneDNN's. A layer kind that no case uses fails the test.
 *
 * Loss L = sum(output * R) for a fixed random R, accumulated in double; dL/dz is then what
 * backward computes from d_output = R. Central differences with h = 1e-2 in float32:
 * truncation error ~ h^2/6 * |f'''| ~ 2e-5 and rounding error ~ sqrt(#outputs) * 6e-8 * |out| / (2h)
 * ~ 5e-5, so |numeric - analytic| <= 2e-3 + 1e-2 * |analytic| has a wide margin, while a wrong
 * index, a missing term or a wrong scale shows up as an error of the gradient's own size.
 *
 * Non-differentiable points: inputs are distinct values spaced 0.03 apart (> 2h) and at least
 * 0.015 from 0, so no ReLU sits within h of its kink and no max-pool window has two values within
 * 2h of each other (a perturbation never changes the argmax). Convolutions and dense layers are
 * checked with smooth fused activations; the ReLU code they share is checked on its own layer. */
#include "check.h"
#include "fovea.h"

#include <stdint.h>

#define H 1e-2f
#define MAX_PROBES 40

typedef struct lcg {
    uint64_t s;
} lcg;

static float uniform(lcg *g) { return 2.0f * test_uniform(&g->s) - 1.0f; } /* [-1, 1) */

static double loss_of(fv_net *net, const float *x, const float *r, int training) {
    fv_error err;
    fv_net_reseed(net, 7); /* the same dropout mask for every evaluation */
    fv_net_forward(net, x, training, &err);
    int out = fv_net_output_node(net);
    const float *y = fv_net_node_output(net, out);
    size_t n = (size_t)fv_net_batch(net) * fv_shape_count(fv_net_node_shape(net, out));
    double l = 0.0;
    for (size_t i = 0; i < n; i++) l += (double)y[i] * (double)r[i];
    return l;
}

/* Compares the analytic gradient `grad` of `value` (n entries) with finite differences. */
static void probe(test_counts *t, const char *what, const char *tensor, fv_net *net, float *x, const float *r,
                  int training, float *value, const float *grad, size_t n, lcg *g) {
    int probes = n < MAX_PROBES ? (int)n : MAX_PROBES, bad = 0;
    double worst = 0.0;
    for (int p = 0; p < probes; p++) {
        size_t i = n <= MAX_PROBES ? (size_t)p : (size_t)((uniform(g) + 1.0f) * 0.5f * (float)n) % n;
        float saved = value[i];
        value[i] = saved + H;
        double up = loss_of(net, x, r, training);
        value[i] = saved - H;
        double down = loss_of(net, x, r, training);
        value[i] = saved;
        double numeric = (up - down) / (2.0 * H), analytic = grad[i];
        double excess = fabs(numeric - analytic) - (2e-3 + 1e-2 * fabs(analytic));
        if (excess > 0 && !bad++)
            fprintf(stderr, "  %s: d%s[%zu]: numeric %.6f, analytic %.6f\n", what, tensor, i, numeric, analytic);
        worst = excess > worst ? excess : worst;
    }
    CHECK(t, bad == 0, "%s: %d of %d entries of d%s disagree with finite differences", what, bad, probes, tensor);
}

/* Builds "input shape=...\n<body>", fills weights and input, and checks every gradient. */
/* The layer kinds some case has checked: every kind must have one (main's last check). */
static int covered[FV_LAYER_KIND_COUNT];

static void gradcheck_on(test_counts *t, const char *case_name, const char *input_shape, const char *body, int batch, int training,
                         fv_backend backend) {
    char text[1024], what[256];
    snprintf(text, sizeof text, "input shape=%s\n%s\n", input_shape, body);
    snprintf(what, sizeof what, "[%s] %s", fv_backend_name(backend), case_name);
    fv_error err;
    fv_net *net = fv_net_from_text(text, what, &err);
    CHECK(t, net != NULL, "%s: %s", what, net ? "" : err.message);
    if (!net) return;
    for (int i = 0; i < fv_net_node_count(net); i++) covered[fv_net_node_layer(net, i)->kind] = 1;
    fv_status st = fv_net_plan(net, batch, backend, 3, &err);
    CHECK(t, st == FV_OK, "%s: %s", what, st == FV_OK ? "" : err.message);
    if (st != FV_OK) return fv_net_free(net);

    lcg g = {(uint64_t)strlen(what) * 7919u + (uint64_t)batch};
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        int positive = !strcmp(p.name, "moving_variance") || !strcmp(p.name, "gamma");
        for (size_t k = 0; k < p.count; k++) p.value[k] = positive ? 1.0f + 0.5f * uniform(&g) : 0.7f * uniform(&g);
    }
    int out = fv_net_output_node(net);
    size_t nx = (size_t)batch * fv_shape_count(fv_net_node_shape(net, 0));
    size_t ny = (size_t)batch * fv_shape_count(fv_net_node_shape(net, out));
    float *x = malloc(nx * sizeof *x), *r = malloc(ny * sizeof *r), *dx = malloc(nx * sizeof *dx);
    size_t *perm = malloc(nx * sizeof *perm);
    if (!x || !r || !dx || !perm) abort();
    /* distinct values 0.03 apart, none within 0.015 of zero, in a shuffled order */
    for (size_t i = 0; i < nx; i++) perm[i] = i;
    for (size_t i = nx; i > 1; i--) {
        size_t j = (size_t)((uniform(&g) + 1.0f) * 0.5f * (float)i) % i, tmp = perm[i - 1];
        perm[i - 1] = perm[j], perm[j] = tmp;
    }
    for (size_t i = 0; i < nx; i++) x[i] = ((float)perm[i] - (float)nx / 2.0f + 0.5f) * 0.03f;
    for (size_t i = 0; i < ny; i++) r[i] = uniform(&g);

    loss_of(net, x, r, training);
    fv_net_backward(net, r, &err);
    memcpy(dx, fv_net_node_grad(net, 0), nx * sizeof *dx);
    /* parameter gradients are read before the probes overwrite nothing but the forward state */
    int n_params = fv_net_param_count(net);
    float *grads[64];
    for (int i = 0; i < n_params && i < 64; i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        grads[i] = malloc(p.count * sizeof(float));
        if (!grads[i]) abort();
        memcpy(grads[i], p.grad, p.count * sizeof(float));
    }
    probe(t, what, "input", net, x, r, training, x, dx, nx, &g);
    for (int i = 0; i < n_params && i < 64; i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        char tensor[128];
        snprintf(tensor, sizeof tensor, "%s/%s", fv_net_node_name(net, p.node), p.name);
        if (p.trainable) probe(t, what, tensor, net, x, r, training, p.value, grads[i], p.count, &g);
        free(grads[i]);
    }
    free(x), free(r), free(dx), free(perm);
    fv_net_free(net);
}

/* A case on the reference kernels and on the default backend's (oneDNN's where it is built in). */
static void gradcheck(test_counts *t, const char *what, const char *input_shape, const char *body, int batch, int training) {
    gradcheck_on(t, what, input_shape, body, batch, training, FV_BACKEND_REFERENCE);
    if (fv_backend_default() != FV_BACKEND_REFERENCE) gradcheck_on(t, what, input_shape, body, batch, training, fv_backend_default());
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    /* conv2d */
    gradcheck(&t, "conv2d valid 3x3", "5,6,3", "conv2d filters=4 kernel=3", 2, 1);
    gradcheck(&t, "conv2d stride 2 same (asymmetric pad)", "6,7,2", "conv2d filters=3 kernel=3 stride=2 padding=same", 2, 1);
    gradcheck(&t, "conv2d 2x3 stride 2x1 explicit, no bias", "5,5,2", "conv2d filters=2 kernel=2,3 stride=2,1 padding=1,2 bias=false", 3, 1);
    gradcheck(&t, "conv2d fused tanh", "4,5,2", "conv2d filters=3 kernel=3 padding=same activation=tanh", 2, 1);
    gradcheck(&t, "conv2d fused sigmoid 1x1", "3,3,4", "conv2d filters=5 kernel=1 activation=sigmoid", 2, 1);
    /* conv1d */
    gradcheck(&t, "conv1d stride 2 same", "9,3", "conv1d filters=4 kernel=3 stride=2 padding=same", 2, 1);
    gradcheck(&t, "conv1d fused tanh", "7,2", "conv1d filters=2 kernel=4 activation=tanh", 3, 1);
    gradcheck(&t, "conv2d groups 2", "5,5,4", "conv2d filters=4 kernel=3 groups=2 activation=tanh", 2, 1);
    gradcheck(&t, "conv2d depthwise same", "5,4,3", "conv2d filters=3 kernel=3 groups=3 padding=same", 2, 1);
    gradcheck(&t, "conv2d dilation 2 stride 2", "9,8,2", "conv2d filters=2 kernel=3 dilation=2 stride=2 padding=1", 2, 1);
    gradcheck(&t, "conv3d 2x3x3 same", "4,5,5,2", "conv3d filters=3 kernel=2,3,3 padding=same activation=sigmoid", 2, 1);
    gradcheck(&t, "conv3d stride 2 groups 2 dilation 2", "5,5,6,2", "conv3d filters=2 kernel=2 stride=2 groups=2 dilation=2", 2, 1);
    gradcheck(&t, "maxpool3d 2", "4,4,4,2", "maxpool3d size=2", 2, 1);
    gradcheck(&t, "avgpool3d 3 stride 2 same", "5,4,5,2", "avgpool3d size=3 stride=2 padding=same", 2, 1);
    gradcheck(&t, "concat", "4,4,2", "conv2d name=a filters=3 kernel=1 activation=tanh\nconcat inputs=input_1,a,a", 2, 1);
    /* dense */
    gradcheck(&t, "dense", "7", "dense units=5", 3, 1);
    gradcheck(&t, "dense softmax", "6", "dense units=4 activation=softmax", 2, 1);
    gradcheck(&t, "dense over last axis, no bias, sigmoid", "3,5", "dense units=4 bias=false activation=sigmoid", 2, 1);
    /* pooling */
    const char *pools[] = {"maxpool2d", "avgpool2d", "sumpool2d"};
    for (int i = 0; i < 3; i++) {
        char what[128], body[128];
        snprintf(what, sizeof what, "%s 2x2", pools[i]);
        snprintf(body, sizeof body, "%s size=2", pools[i]);
        gradcheck(&t, what, "4,6,2", body, 2, 1);
        snprintf(what, sizeof what, "%s 3x3 stride 1 (overlapping)", pools[i]);
        snprintf(body, sizeof body, "%s size=3 stride=1", pools[i]);
        gradcheck(&t, what, "5,5,2", body, 2, 1);
        snprintf(what, sizeof what, "%s 3x2 stride 2 same", pools[i]);
        snprintf(body, sizeof body, "%s size=3,2 stride=2 padding=same", pools[i]);
        gradcheck(&t, what, "5,7,2", body, 2, 1);
        snprintf(what, sizeof what, "%s explicit pad 1", pools[i]);
        snprintf(body, sizeof body, "%s size=3 stride=2 padding=1", pools[i]);
        gradcheck(&t, what, "5,4,1", body, 2, 1);
        snprintf(what, sizeof what, "%s on (L, C)", pools[i]);
        snprintf(body, sizeof body, "%s size=3 stride=2", pools[i]);
        gradcheck(&t, what, "9,2", body, 2, 1);
    }
    gradcheck(&t, "global avgpool", "3,4,3", "global_avgpool", 2, 1);
    gradcheck(&t, "flatten", "2,3,2", "flatten", 2, 1);
    gradcheck(&t, "flatten channels first", "2,3,2", "flatten channels_first=true", 2, 1);
    gradcheck(&t, "reshape", "2,3,2", "reshape shape=3,4", 2, 1);
    gradcheck(&t, "affine", "2,3,2", "affine", 2, 1);
    gradcheck(&t, "prelu", "3,2,3", "prelu", 2, 1);
    gradcheck(&t, "dropout training (fixed mask)", "4,5", "dropout rate=0.3", 3, 1);
    gradcheck(&t, "dropout inference", "4,5", "dropout rate=0.3", 2, 0);
    gradcheck(&t, "batchnorm training", "3,2,4", "batchnorm", 3, 1);
    gradcheck(&t, "batchnorm inference", "3,2,4", "batchnorm", 2, 0);
    gradcheck(&t, "batchnorm on (C) training", "5", "batchnorm momentum=0.9", 4, 1);
    const char *acts[] = {"relu", "leaky_relu alpha=0.2", "sigmoid", "tanh", "softmax", "linear", "relu6", "hard_sigmoid alpha=0.3",
                          "log_softmax"};
    for (int i = 0; i < 9; i++) {
        char what[64];
        snprintf(what, sizeof what, "activation %s", acts[i]);
        gradcheck(&t, what, "3,7", acts[i], 2, 1);
    }
    /* the tensor kinds: broadcasting sums a gradient over the axes an operand was stretched along;
     * log, sqrt, reciprocal, pow and div read sigmoid outputs (in (0.27, 0.73): far from their poles) */
    const char *tensor_cases[][3] = {
        {"multiply, same shapes (SiLU)", "4,3,2", "sigmoid name=s\nmultiply inputs=input_1,s"},
        {"multiply, a per-channel gate (1,1,C) x (H,W,C)", "4,3,2", "reduce name=g op=mean axes=0,1\nmultiply inputs=input_1,g"},
        {"binary add, (H,1,C) + (1,W,C)", "3,4,2", "reduce name=r op=max axes=1\nreduce name=c op=sum axes=0 inputs=input_1\nbinary op=add inputs=r,c"},
        {"binary add broadcast, lower rank (C) + (H,W,C)", "3,4,2", "reduce name=v op=mean axes=0,1 keepdims=false\nbinary op=add inputs=input_1,v"},
        {"subtract broadcast", "3,4,2", "reduce name=g op=sum axes=2\nsubtract inputs=g,input_1"},
        {"divide", "3,4,2", "sigmoid name=s\ndivide inputs=input_1,s"},
        {"maximum (x, -x)", "3,5", "neg name=n\nmaximum inputs=input_1,n"},
        {"minimum (x, -x)", "3,5", "neg name=n\nminimum inputs=n,input_1"},
        {"power", "3,5", "sigmoid name=s\ntanh name=t inputs=input_1\npower inputs=s,t"},
        {"exp", "3,5", "exp"},
        {"log", "3,5", "sigmoid\nlog"},
        {"sqrt", "3,5", "sigmoid\nsqrt"},
        {"erf", "3,5", "erf"},
        {"abs", "3,5", "abs"},
        {"neg", "3,5", "neg"},
        {"reciprocal", "3,5", "sigmoid\nreciprocal"},
        {"elu", "3,5", "elu"},
        {"elu alpha 0.5", "3,5", "elu alpha=0.5"},
        {"selu", "3,5", "selu"},
        {"selu alpha 2 scale 3", "3,5", "selu alpha=2 beta=3"},
        {"celu alpha 2", "3,5", "celu alpha=2"},
        /* the jumps of thresholded_relu and shrink, and clip's corners, lie where no input is (a difference across one means nothing) */
        {"thresholded_relu 0.3", "3,5", "thresholded_relu alpha=0.3"},
        {"shrink lambda 0.45 bias 0.1", "3,5", "shrink alpha=0.45 beta=0.1"},
        {"softplus", "3,5", "softplus"},
        {"softsign", "3,5", "softsign"},
        {"hard_swish", "3,5", "affine\nhard_swish"},
        {"sin", "3,5", "sin"},
        {"cos", "3,5", "cos"},
        {"tan", "3,5", "tan"},
        {"asin", "3,5", "sigmoid\nasin"},
        {"acos", "3,5", "sigmoid\nacos"},
        {"atan", "3,5", "atan"},
        {"sinh", "3,5", "sinh"},
        {"cosh", "3,5", "cosh"},
        {"asinh", "3,5", "asinh"},
        {"acosh", "3,5", "sigmoid\nexp\nacosh"},
        {"atanh", "3,5", "sigmoid\natanh"},
        {"floor", "3,5", "affine\nfloor"},
        {"ceil", "3,5", "affine\nceil"},
        {"round", "3,5", "affine\nround"},
        {"sign", "3,5", "sign"},
        {"silu", "3,5", "silu"},
        {"gelu", "3,5", "gelu"},
        {"clip to [-0.3, 0.5]", "3,5", "clip alpha=-0.3 beta=0.5"},
        {"reduce mean over H, W", "3,4,2", "reduce op=mean axes=0,1"},
        {"reduce sum over C, dropped", "3,4,2", "reduce op=sum axes=2 keepdims=false"},
        {"reduce max over W", "3,4,2", "reduce op=max axes=1"},
        {"reduce everything", "3,4,2", "reduce op=mean axes=0,1,2 keepdims=false"},
        {"reduce min over W", "3,4,2", "reduce op=min axes=1"},
        {"reduce prod over C", "3,4,2", "sigmoid\nreduce op=prod axes=2"},
        {"reduce sum_square over H, W", "3,4,2", "reduce op=sum_square axes=0,1"},
        {"reduce l1 over W", "3,4,2", "reduce op=l1 axes=1"},
        {"reduce l2 over C, dropped", "3,4,2", "reduce op=l2 axes=2 keepdims=false"},
        {"reduce log_sum over H", "3,4,2", "sigmoid\nreduce op=log_sum axes=0"},
        {"reduce log_sum_exp over W, C", "3,4,2", "reduce op=log_sum_exp axes=1,2"},
        {"pad constant", "3,4,2", "pad pads=1,2,0,1,1,0 value=0.25"},
        {"pad reflect", "4,4,2", "pad pads=2,1,1,3 mode=reflect"},
        {"pad edge", "3,4,2", "pad pads=2,1,0,2 mode=edge"},
        {"transpose (H,W,C) -> (C,H,W), then a conv2d", "3,4,2", "transpose perm=2,0,1\nconv2d filters=2 kernel=2"},
        {"transpose of rank 4", "2,3,4,2", "transpose perm=3,1,0,2"},
        {"slice with steps", "5,6,3", "slice begin=1,0,1 size=2,3,2 step=2,2,1"},
        {"resize bilinear up", "3,4,2", "resize size=7,9"},
        {"matmul q k^T (attention scores)", "4,3", "dense name=q units=5 inputs=input_1\ndense name=k units=5 inputs=input_1\ntranspose name=kt perm=1,0 inputs=k\nmatmul inputs=q,kt"},
        {"matmul broadcast (H, M, K) x (K, P)", "2,3,4", "reduce name=r op=mean axes=0 keepdims=false inputs=input_1\ntranspose name=t perm=1,0 inputs=r\nmatmul inputs=input_1,t"},
        {"conv2d_transpose stride 2, kernel 2", "3,4,2", "conv2d_transpose filters=3 kernel=2 stride=2 activation=tanh"},
        {"conv2d_transpose 3x3 stride 2, pads, output padding, groups", "3,3,4", "conv2d_transpose filters=4 kernel=3 stride=2 padding=1 output_padding=1 groups=2"},
        {"conv2d_transpose dilation 2, no bias", "3,4,2", "conv2d_transpose filters=2 kernel=2,3 dilation=2 bias=false"},
        {"resize bilinear down, align corners", "6,5,2", "resize size=3,4 coordinates=align_corners"},
        {"resize nearest", "3,4,2", "resize size=7,5 mode=nearest coordinates=asymmetric nearest=floor"},
        {"tensor (a class token) joined along the first axis", "4,3", "tensor name=t shape=1,3 inputs=input_1\nconcat inputs=t,input_1 axis=0"},
        {"two slices of one input, added", "6,4", "slice name=a begin=0,0 size=3,4 step=1,1 inputs=input_1\nslice name=b begin=3,0 size=3,4 step=1,1 inputs=input_1\nadd inputs=a,b"},
    };
    for (size_t i = 0; i < sizeof tensor_cases / sizeof *tensor_cases; i++)
        gradcheck(&t, tensor_cases[i][0], tensor_cases[i][1], tensor_cases[i][2], 2, 1);
    /* the graph: gradients of a node read twice are summed */
    gradcheck(&t, "residual add (input read by two layers)", "4,4,2",
              "conv2d name=c filters=2 kernel=3 padding=same activation=tanh\nadd inputs=input_1,c", 2, 1);
    gradcheck(&t, "add of a node with itself", "5", "dense name=d units=5 activation=tanh\nadd inputs=d,d", 2, 1);
    gradcheck(&t, "add with a fused tanh", "4,4,3",
              "conv2d name=c filters=3 kernel=3 padding=same activation=tanh\nadd inputs=input_1,c activation=tanh", 2, 1);
    gradcheck(&t, "small CNN end to end", "8,8,1",
              "conv2d filters=3 kernel=3 activation=tanh\nbatchnorm\navgpool2d size=2\nflatten\ndropout rate=0.2\n"
              "dense units=5 activation=sigmoid\ndense units=3 activation=softmax",
              2, 1);
    for (int k = 0; k < FV_LAYER_KIND_COUNT; k++)
        CHECK(&t, covered[k], "layer kind '%s' has no finite-difference case (every kind needs one)", fv_layer_kind_name((fv_layer_kind)k));
    return report(&t);
}
