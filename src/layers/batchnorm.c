/* batchnorm.c — batch normalisation over the last axis (channels).
 * Training: normalise with the batch mean and (biased) variance, then update the moving
 * statistics as Keras does: moving = momentum * moving + (1 - momentum) * batch, where the
 * variance folded in is the unbiased one (Keras' fused kernel and PyTorch both do this; PyTorch's
 * momentum is 1 - ours). Inference: normalise with the moving statistics.
 * Parameters: gamma, beta (trainable); moving_mean, moving_variance (not trainable). */
#include "core/core.h"

#include <math.h>
#include <string.h>

enum { GAMMA, BETA, MOVING_MEAN, MOVING_VAR };

typedef struct bn_dims {
    size_t rows; /* batch x positions */
    int c;
} bn_dims;

static bn_dims dims_of(const fv_node *node, int batch) {
    const fv_shape *s = &node->out_shape;
    int c = s->dim[s->rank - 1];
    return (bn_dims){(size_t)batch * fv_shape_count(*s) / (size_t)c, c};
}

/* ---- Reference kernels. x, y (R, C); mean, variance (C). Sums in double: this is the oracle.
 * Training a replica (s->comm), the sums run over every rank's rows (SyncBatchNorm): `work` has
 * room for 2C + 2 doubles: the sums and the row count, the squares' sums, and last the whole batch's
 * row count, kept for backward. ---- */
static void bn_batch_stats_reference(bn_dims d, const float *x, float *mean, float *variance, double *work,
                                     const fv_step *s) {
    for (int c = 0; c < d.c; c++) {
        double sum = 0.0;
        for (size_t r = 0; r < d.rows; r++) sum += x[r * d.c + c];
        work[c] = sum;
    }
    work[d.c] = (double)d.rows; /* the count travels with the sums */
    fv_step_sum(s, work, (size_t)d.c + 1);
    double rows = work[d.c] > 0 ? work[d.c] : 1.0;
    work[2 * d.c + 1] = rows;
    for (int c = 0; c < d.c; c++) {
        double mu = work[c] / rows, sq = 0.0;
        for (size_t r = 0; r < d.rows; r++) {
            double t = x[r * d.c + c] - mu;
            sq += t * t;
        }
        mean[c] = (float)mu;
        work[d.c + 1 + c] = sq;
    }
    fv_step_sum(s, work + d.c + 1, (size_t)d.c);
    for (int c = 0; c < d.c; c++) variance[c] = (float)(work[d.c + 1 + c] / rows);
}

static void bn_normalize_reference(bn_dims d, float eps, const float *x, const float *gamma, const float *beta,
                                   const float *mean, const float *variance, float *y) {
    for (size_t r = 0; r < d.rows; r++)
        for (int c = 0; c < d.c; c++) {
            float inv = 1.0f / sqrtf(variance[c] + eps);
            y[r * d.c + c] = gamma[c] * (x[r * d.c + c] - mean[c]) * inv + beta[c];
        }
}

/* training: dx = gamma * inv / R * (R * dy - sum(dy) - xhat * sum(dy * xhat))
 * inference (statistics are constants): dx = gamma * inv * dy
 * A replica's dy is in its own batch's units, 1 / share of the whole batch's: the sums (over every
 * rank, R the whole batch's rows) are taken of share * dy and scaled back. dgamma and dbeta stay this
 * rank's sums, which the gradient sum across ranks completes. */
static void bn_backward_reference(bn_dims d, float eps, int training, const float *x, const float *dy,
                                  const float *gamma, const float *mean, const float *variance,
                                  float *dx, float *dgamma, float *dbeta, double *work, const fv_step *s) {
    for (int c = 0; c < d.c; c++) {
        double inv = 1.0 / sqrt((double)variance[c] + eps), sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (size_t r = 0; r < d.rows; r++) {
            double xhat = (x[r * d.c + c] - mean[c]) * inv;
            sum_dy += dy[r * d.c + c];
            sum_dy_xhat += dy[r * d.c + c] * xhat;
        }
        dgamma[c] = (float)sum_dy_xhat;
        dbeta[c] = (float)sum_dy;
        work[c] = sum_dy * s->share, work[d.c + c] = sum_dy_xhat * s->share;
    }
    if (training) fv_step_sum(s, work, 2 * (size_t)d.c);
    double rows = training && s->comm ? work[2 * d.c + 1] : (double)d.rows;
    for (int c = 0; c < d.c; c++) {
        double inv = 1.0 / sqrt((double)variance[c] + eps), all_dy = work[c] / s->share, all_dy_xhat = work[d.c + c] / s->share;
        for (size_t r = 0; r < d.rows; r++) {
            double xhat = (x[r * d.c + c] - mean[c]) * inv, g = dy[r * d.c + c];
            dx[r * d.c + c] = (float)(training ? gamma[c] * inv / rows * (rows * g - all_dy - xhat * all_dy_xhat)
                                               : gamma[c] * inv * g);
        }
    }
}

static fv_status bn_infer(fv_node *node, fv_error *err) {
    const fv_batchnorm_settings *l = &node->layer.batchnorm;
    if (!(l->momentum >= 0.0f && l->momentum <= 1.0f)) return fv_fail(err, "momentum must be in [0, 1]");
    if (!(l->epsilon > 0.0f)) return fv_fail(err, "epsilon must be positive");
    node->out_shape = node->in_shape[0];
    int c[1] = {node->out_shape.dim[node->out_shape.rank - 1]};
    fv_node_declare_param(node, "gamma", 1, 1, c);
    fv_node_declare_param(node, "beta", 1, 1, c);
    fv_node_declare_param(node, "moving_mean", 0, 1, c);
    fv_node_declare_param(node, "moving_variance", 0, 1, c);
    /* batch mean and variance (floats), then the sums' work space (2C + 2 doubles) */
    node->scratch_fixed = 2 * (size_t)c[0] * sizeof(float) + (2 * (size_t)c[0] + 2) * sizeof(double);
    return FV_OK;
}

static void bn_init(const fv_node *node, float **param, fv_rng *rng) {
    (void)rng;
    for (size_t i = 0; i < node->params[GAMMA].count; i++) param[GAMMA][i] = 1.0f, param[MOVING_VAR][i] = 1.0f;
}

static void update_moving(const fv_node *node, const fv_step *s, double rows);

static double *work_of(void *scratch, bn_dims d) { return (double *)((float *)scratch + 2 * (size_t)d.c); }

/* x (N, ..., C) -> y (N, ..., C) */
static void bn_forward(const fv_node *node, const fv_step *s) {
    bn_dims d = dims_of(node, s->batch);
    float *mean = s->scratch, *variance = mean + d.c;
    float *const *p = s->param;
    const float *use_mean = s->training ? mean : p[MOVING_MEAN];
    const float *use_var = s->training ? variance : p[MOVING_VAR];
    if (s->training) bn_batch_stats_reference(d, s->in[0], mean, variance, work_of(mean, d), s);
    bn_normalize_reference(d, node->layer.batchnorm.epsilon, s->in[0], p[GAMMA], p[BETA], use_mean, use_var, s->out);
    if (s->training) update_moving(node, s, s->comm ? work_of(mean, d)[2 * d.c + 1] : (double)d.rows);
}

/* After a training forward, fold the batch statistics (in scratch, over `rows` rows) into the moving
 * ones. */
static void update_moving(const fv_node *node, const fv_step *s, double rows) {
    bn_dims d = dims_of(node, s->batch);
    const float *mean = s->scratch, *variance = mean + d.c;
    float *const *p = s->param;
    float m = node->layer.batchnorm.momentum;
    double unbias = rows > 1 ? rows / (rows - 1) : 1.0;
    for (int c = 0; c < d.c; c++) {
        p[MOVING_MEAN][c] = m * p[MOVING_MEAN][c] + (1.0f - m) * mean[c];
        p[MOVING_VAR][c] = m * p[MOVING_VAR][c] + (1.0f - m) * (float)(variance[c] * unbias);
    }
}

/* Every other backend's batch norm calls it after a training forward (never on replicas). */
void fv_batchnorm_update_moving(const fv_node *node, const fv_step *s) {
    update_moving(node, s, (double)dims_of(node, s->batch).rows);
}

static void bn_backward(const fv_node *node, const fv_step *s) {
    bn_dims d = dims_of(node, s->batch);
    const float *mean = s->training ? s->scratch : s->param[MOVING_MEAN];
    const float *variance = s->training ? (const float *)s->scratch + d.c : s->param[MOVING_VAR];
    memset(s->d_param[MOVING_MEAN], 0, (size_t)d.c * sizeof(float));
    memset(s->d_param[MOVING_VAR], 0, (size_t)d.c * sizeof(float));
    bn_backward_reference(d, node->layer.batchnorm.epsilon, s->training, s->in[0], s->d_out, s->param[GAMMA], mean,
                          variance, s->d_in[0], s->d_param[GAMMA], s->d_param[BETA], work_of(s->scratch, d), s);
}

#define BN(field) offsetof(fv_layer, batchnorm.field)
static const fv_setting bn_settings[] = {
    {"momentum", FV_SET_FLOAT, BN(momentum), 0, "0.99", NULL, "weight of the old moving statistics (Keras; PyTorch's is 1 - this)", NULL},
    {"epsilon", FV_SET_FLOAT, BN(epsilon), 0, "0.001", NULL, "added to the variance", NULL},
};

const fv_op fv_op_batchnorm = {
    .kind = FV_LAYER_BATCHNORM, .word = "batchnorm", .type_name = "BatchNormalization",
    .help = "batch normalisation over the last axis", .settings = bn_settings, .n_settings = FV_COUNT(bn_settings), .min_inputs = 1,
    .max_inputs = 1, .infer = bn_infer, .init = bn_init, .forward = bn_forward, .backward = bn_backward
};

fv_layer fv_batchnorm(void) { return fv_layer_defaults(FV_LAYER_BATCHNORM); }
