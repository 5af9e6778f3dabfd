/* test_torch.c — the losses and the optimizers against PyTorch. tests/torch_reference.py writes, for
 * each loss (fused with its activation or not, with label smoothing) and each optimizer (three
 * steps of SGD with momentum/Nesterov/weight decay, Adam), the model text, weights, input, targets,
 * the loss and every gradient or the weights after the steps, computed by torch in float64; fovea
 * builds the same network, loads the same weights, and must agree on every backend compiled in.
 * The layer kinds' cases in the same file are test_ops.c's.
 *
 * Tolerance: the normwise relative error max|fovea - torch| / max|torch| must be <= 1e-5 (the
 * reasoning is test_ops.c's: float32 sums of a few hundred terms carry ~1e-6). */
#include "check.h"
#include "fovea.h"
#include "reference.h"

#define TOLERANCE 1e-5

static char worst_at[256]; /* where the largest error was seen, for the summary line (a test program's own state) */

static void compare(test_counts *t, const ref_case *c, const char *backend, const char *what, const float *got,
                    const ref_tensor *want) {
    CHECK(t, want != NULL, "[%s] %s: reference has no '%s'", backend, c->name, what);
    if (!want) return;
    double err = rel_diff(got, want->data, want->count, 1e-6);
    if (err > t->worst) {
        t->worst = err;
        snprintf(worst_at, sizeof worst_at, "[%s] %s: %s", backend, c->name, what);
    }
    CHECK(t, err <= TOLERANCE, "[%s] %s: %s differs from PyTorch: relative error %.3g", backend, c->name, what, err);
}

/* Three optimizer steps from the same weights with the same gradients must give PyTorch's weights. */
static void run_optimizer_case(test_counts *t, const ref_case *c, fv_net *net, const float *cfg) {
    fv_error err;
    fv_optimizer_config config = (int)cfg[0] == 1 ? fv_adam(cfg[1]) : fv_sgd(cfg[1], cfg[2]);
    config.nesterov = (int)cfg[3];
    config.weight_decay = cfg[4];
    config.beta1 = cfg[5], config.beta2 = cfg[6], config.epsilon = cfg[7];
    fv_optimizer *opt = fv_optimizer_new(net, &config, &err);
    CHECK(t, opt != NULL, "%s: %s", c->name, opt ? "" : err.message);
    if (!opt) return;
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < fv_net_param_count(net); i++) {
            fv_param_info p;
            fv_net_param(net, i, &p, &err);
            char key[200];
            snprintf(key, sizeof key, "step%d/%s/%s", step, fv_net_node_name(net, p.node), p.name);
            const ref_tensor *g = find(c, key);
            CHECK(t, g && g->count == p.count, "%s: no gradient %s", c->name, key);
            if (g && g->count == p.count) memcpy(p.grad, g->data, p.count * sizeof(float));
        }
        CHECK(t, fv_optimizer_step(opt, fv_optimizer_learning_rate(opt, 0), &err) == FV_OK, "step: %s", err.message);
    }
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        char key[200];
        snprintf(key, sizeof key, "final/%s/%s", fv_net_node_name(net, p.node), p.name);
        compare(t, c, fv_optimizer_name(config.kind), key, p.value, find(c, key));
    }
    fv_optimizer_free(opt);
}

static void run_case(test_counts *t, const ref_case *c, fv_backend backend) {
    const char *bname = fv_backend_name(backend);
    fv_error err;
    fv_net *net = fv_net_from_text(c->text, c->name, &err);
    CHECK(t, net != NULL, "[%s] %s: %s", bname, c->name, net ? "" : err.message);
    if (!net) return;
    fv_status st = fv_net_plan(net, c->batch, backend, 1, &err);
    CHECK(t, st == FV_OK, "[%s] %s: plan: %s", bname, c->name, st == FV_OK ? "" : err.message);
    if (st != FV_OK) return fv_net_free(net);

    char what[300];
    snprintf(what, sizeof what, "[%s] %s", bname, c->name);
    ref_load_params(t, c, net, what);

    const ref_tensor *opt_config = find(c, "opt_config");
    if (opt_config) {
        run_optimizer_case(t, c, net, opt_config->data);
        return fv_net_free(net);
    }
    const ref_tensor *input = find(c, "input"), *loss_config = find(c, "loss_config"), *targets = find(c, "targets");
    if (!input || !loss_config || !targets) {
        CHECK(t, 0, "%s: reference lacks input, loss or targets", c->name);
        return fv_net_free(net);
    }
    fv_net_forward(net, input->data, c->training, &err);
    compare(t, c, bname, "output", fv_net_node_output(net, fv_net_output_node(net)), find(c, "output"));
    fv_loss loss = {(fv_loss_kind)loss_config->data[0], loss_config->data[1]};
    double value = 0.0;
    st = fv_net_loss_backward(net, loss, targets->data, &value, &err);
    CHECK(t, st == FV_OK, "[%s] %s: loss: %s", bname, c->name, st == FV_OK ? "" : err.message);
    float got = (float)value;
    compare(t, c, bname, "loss", &got, find(c, "loss"));
    compare(t, c, bname, "d_input", fv_net_node_grad(net, 0), find(c, "d_input"));
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        char key[200];
        snprintf(key, sizeof key, "%s/%s/%s", p.trainable ? "grad" : "after", fv_net_node_name(net, p.node), p.name);
        compare(t, c, bname, key, p.trainable ? p.grad : p.value, find(c, key));
    }
    fv_net_free(net);
}

static void run_both(test_counts *t, const ref_case *c, void *user) {
    if (!find(c, "loss_config") && !find(c, "opt_config")) return; /* a layer kind's case: test_ops checks it */
    ++*(int *)user;
    run_case(t, c, FV_BACKEND_REFERENCE);
    if (fv_backend_available(FV_BACKEND_ONEDNN)) run_case(t, c, FV_BACKEND_ONEDNN);
}

int main(int argc, char **argv) {
    test_counts t = {0, 0, 0.0};
    if (argc != 2) return fprintf(stderr, "usage: test_torch REFERENCE.bin\n"), 2;
    int n_cases = 0;
    if (ref_for_each(argv[1], &t, run_both, &n_cases) < 0) return 1;
    CHECK(&t, n_cases >= 10, "%s: %d loss and optimizer cases", argv[1], n_cases);
    printf("%d loss and optimizer cases, backends: reference%s; largest relative error %.2g (tolerance %.0e), at %s\n", n_cases,
           fv_backend_available(FV_BACKEND_ONEDNN) ? ", onednn" : "", t.worst, TOLERANCE, worst_at);
    return report(&t);
}
