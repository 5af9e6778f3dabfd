/* optimizer.c — SGD (momentum, Nesterov, weight decay) and Adam, step for step as PyTorch's
 * torch.optim defines them, and the learning-rate schedules. The moments live in one block
 * allocated when the optimizer is made; a step allocates nothing. Each weight's update is
 * independent, so the loops run on every core (OpenMP) with the same result. */
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fv_optimizer {
    fv_optimizer_config config;
    fv_net *net;
    uint64_t steps;
    size_t count;   /* floats in moments: 1 (SGD) or 2 (Adam) per trainable weight */
    float *moments; /* SGD: momentum buffers; Adam: m then v, per parameter tensor */
};

fv_optimizer_config fv_sgd(float learning_rate, float momentum) {
    fv_optimizer_config c;
    memset(&c, 0, sizeof c);
    c.kind = FV_OPT_SGD;
    c.learning_rate = learning_rate;
    c.momentum = momentum;
    c.beta1 = 0.9f, c.beta2 = 0.999f, c.epsilon = 1e-8f;
    c.gamma = 0.1f;
    return c;
}

fv_optimizer_config fv_adam(float learning_rate) {
    fv_optimizer_config c = fv_sgd(learning_rate, 0.0f);
    c.kind = FV_OPT_ADAM;
    return c;
}

const char *fv_optimizer_name(fv_optimizer_kind kind) { return kind == FV_OPT_ADAM ? "adam" : "sgd"; }

fv_optimizer *fv_optimizer_new(fv_net *net, const fv_optimizer_config *config, fv_error *err) {
    const fv_optimizer_config *c = config;
    if (c->kind != FV_OPT_SGD && c->kind != FV_OPT_ADAM) return fv_fail(err, "unknown optimizer"), NULL;
    if (!(c->learning_rate > 0.0f)) return fv_fail(err, "learning rate must be positive"), NULL;
    if (!(c->momentum >= 0.0f && c->momentum < 1.0f)) return fv_fail(err, "momentum must be in [0, 1)"), NULL;
    if (!(c->weight_decay >= 0.0f)) return fv_fail(err, "weight decay must not be negative"), NULL;
    if (c->kind == FV_OPT_ADAM && !(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 && c->epsilon > 0))
        return fv_fail(err, "Adam needs betas in [0, 1) and a positive epsilon"), NULL;
    if (c->schedule == FV_SCHEDULE_STEP && c->step_epochs <= 0) return fv_fail(err, "step schedule needs step_epochs > 0"), NULL;
    if (c->schedule == FV_SCHEDULE_COSINE && c->cosine_epochs <= 0) return fv_fail(err, "cosine schedule needs its epochs"), NULL;
    fv_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt) return fv_fail(err, "out of memory"), NULL;
    opt->config = *c;
    opt->net = net;
    opt->count = fv_net_weight_count(net, 1) * (c->kind == FV_OPT_ADAM ? 2 : 1);
    opt->moments = calloc(opt->count ? opt->count : 1, sizeof *opt->moments);
    if (!opt->moments) {
        free(opt);
        return fv_fail(err, "out of memory for optimizer state"), NULL;
    }
    return opt;
}

void fv_optimizer_free(fv_optimizer *opt) {
    if (!opt) return;
    free(opt->moments);
    free(opt);
}

float fv_optimizer_learning_rate(const fv_optimizer *opt, int epoch) {
    const fv_optimizer_config *c = &opt->config;
    switch (c->schedule) {
    case FV_SCHEDULE_STEP: return c->learning_rate * powf(c->gamma, (float)(epoch / c->step_epochs));
    case FV_SCHEDULE_COSINE: {
        int e = epoch < c->cosine_epochs ? epoch : c->cosine_epochs;
        return c->min_learning_rate + 0.5f * (c->learning_rate - c->min_learning_rate) *
                                          (1.0f + cosf((float)FV_PI * (float)e / (float)c->cosine_epochs));
    }
    default: return c->learning_rate;
    }
}

/* w -= lr * (nesterov ? g + mu * b : b),  b = mu * b + g  (b = g on the first step), where
 * g = gradient + weight_decay * w. One loop per case keeps each loop free of branches. */
static void sgd_update(const fv_optimizer_config *c, int first, float lr, float *w, const float *grad, float *buf, size_t n) {
    const float mu = c->momentum, wd = c->weight_decay, keep = first ? 0.0f : mu;
    if (mu == 0.0f) {
#pragma omp parallel for simd if (n > 32768)
        for (size_t i = 0; i < n; i++) w[i] -= lr * (grad[i] + wd * w[i]);
    } else if (c->nesterov) {
#pragma omp parallel for simd if (n > 32768)
        for (size_t i = 0; i < n; i++) {
            float g = grad[i] + wd * w[i];
            buf[i] = keep * buf[i] + g;
            w[i] -= lr * (g + mu * buf[i]);
        }
    } else {
#pragma omp parallel for simd if (n > 32768)
        for (size_t i = 0; i < n; i++) {
            buf[i] = keep * buf[i] + grad[i] + wd * w[i];
            w[i] -= lr * buf[i];
        }
    }
}

/* m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps) */
static void adam_update(const fv_optimizer_config *c, uint64_t t, float lr, float *w, const float *grad, float *m,
                        float *v, size_t n) {
    float correction1 = 1.0f - powf(c->beta1, (float)t), correction2 = 1.0f - powf(c->beta2, (float)t);
    float step = lr / correction1, root2 = sqrtf(correction2);
#pragma omp parallel for simd if (n > 32768)
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] + c->weight_decay * w[i];
        m[i] = c->beta1 * m[i] + (1.0f - c->beta1) * g;
        v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * g * g;
        w[i] -= step * m[i] / (sqrtf(v[i]) / root2 + c->epsilon);
    }
}

fv_status fv_optimizer_step(fv_optimizer *opt, float learning_rate, fv_error *err) {
    if (fv_net_batch(opt->net) == 0 || fv_net_mode(opt->net) != FV_PLAN_TRAINING)
        return fv_fail(err, "an optimizer step needs the network planned for training (it is %s)",
                       fv_net_batch(opt->net) ? fv_plan_mode_name(fv_net_mode(opt->net)) : "not planned");
    opt->steps++;
    float *state = opt->moments;
    size_t half = opt->count / 2;
    for (int i = 0; i < fv_net_param_count(opt->net); i++) {
        fv_param_info p;
        fv_net_param(opt->net, i, &p, err);
        if (!p.trainable) continue;
        if (opt->config.kind == FV_OPT_SGD) sgd_update(&opt->config, opt->steps == 1, learning_rate, p.value, p.grad, state, p.count);
        else adam_update(&opt->config, opt->steps, learning_rate, p.value, p.grad, state, state + half, p.count);
        state += p.count;
    }
    return FV_OK;
}

const fv_optimizer_config *fv_optimizer_get_config(const fv_optimizer *opt) { return &opt->config; }

float *fv_optimizer_state(fv_optimizer *opt, size_t *count, uint64_t **steps) {
    *count = opt->count;
    if (steps) *steps = &opt->steps;
    return opt->moments;
}
