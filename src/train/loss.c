/* loss.c — losses on the output of the last forward pass, each returning the mean loss and
 * writing d(loss) into the output node's gradient before running backward.
 *
 * Softmax cross-entropy and binary cross-entropy are fused with their activation: they read the
 * logits the output layer kept (or its output, when its activation is linear), compute the loss
 * with log-sum-exp, and hand backward d(logits) = (p - t) / rows, skipping the activation's own
 * derivative. Targets have the output's shape: one-hot (or soft) rows for class losses. */
#include "train/train.h"

#include <math.h>
#include <string.h>

const char *fv_loss_name(fv_loss_kind kind) {
    switch (kind) {
    case FV_LOSS_SOFTMAX_CROSS_ENTROPY: return "softmax_cross_entropy";
    case FV_LOSS_BINARY_CROSS_ENTROPY: return "binary_cross_entropy";
    case FV_LOSS_MSE: return "mse";
    case FV_LOSS_HINGE: return "hinge";
    default: return "?";
    }
}

typedef struct loss_view {
    const float *z;       /* logits (class losses) or outputs */
    const float *y;       /* the output */
    float *d;             /* d loss / d z, written here */
    size_t rows;
    int channels;
    int pre_activation;   /* d is w.r.t. the pre-activation of a softmax/sigmoid output */
} loss_view;

static fv_status view_of(fv_net *net, fv_loss loss, int samples, loss_view *v, fv_error *err) {
    fv_node *out = fv_net_output(net);
    int batch = fv_net_batch(net);
    if (batch == 0) return fv_fail(err, "the network must be planned and run forward before a loss");
    if (samples > 0 && samples < batch) batch = samples; /* a padded last batch: the first samples count */
    float alpha;
    fv_activation act = fv_node_activation(out, &alpha);
    v->channels = out->out_shape.dim[out->out_shape.rank - 1];
    v->rows = (size_t)batch * fv_shape_count(out->out_shape) / (size_t)v->channels;
    v->y = out->out;
    v->d = out->grad; /* NULL in an inference plan: only the loss value is computed */
    v->z = out->out;
    v->pre_activation = 0;
    if (loss.kind == FV_LOSS_SOFTMAX_CROSS_ENTROPY || loss.kind == FV_LOSS_BINARY_CROSS_ENTROPY) {
        fv_activation fused = loss.kind == FV_LOSS_SOFTMAX_CROSS_ENTROPY ? FV_ACT_SOFTMAX : FV_ACT_SIGMOID;
        if (act != fused && act != FV_ACT_LINEAR)
            return fv_fail(err, "%s needs the last layer ('%s') to end in %s or linear (logits), not %s",
                           fv_loss_name(loss.kind), out->name, fv_activation_name(fused), fv_activation_name(act));
        if (act == fused) v->z = out->logits, v->pre_activation = 1;
        if (loss.kind == FV_LOSS_SOFTMAX_CROSS_ENTROPY && v->channels < 2)
            return fv_fail(err, "softmax cross-entropy needs at least 2 classes; use binary cross-entropy");
    }
    if (!(loss.label_smoothing >= 0.0f && loss.label_smoothing < 1.0f))
        return fv_fail(err, "label smoothing must be in [0, 1)");
    return FV_OK;
}

/* Each loss returns the mean; when d is non-NULL it also writes the gradient of that mean. */
static double softmax_cross_entropy(const loss_view *v, const float *t, float smoothing, float *d) {
    double total = 0.0;
    int c = v->channels;
    for (size_t r = 0; r < v->rows; r++) {
        const float *z = v->z + r * c, *tr = t + r * c;
        double max = z[0], sum = 0.0, t_sum = 0.0;
        for (int k = 1; k < c; k++) max = z[k] > max ? z[k] : max;
        for (int k = 0; k < c; k++) sum += exp(z[k] - max);
        double lse = max + log(sum);
        for (int k = 0; k < c; k++) {
            double target = tr[k] * (1.0 - smoothing) + smoothing / c;
            t_sum += target;
            total += target * (lse - z[k]);
        }
        if (d)
            for (int k = 0; k < c; k++) {
                double target = tr[k] * (1.0 - smoothing) + smoothing / c;
                d[r * c + k] = (float)((exp(z[k] - lse) * t_sum - target) / (double)v->rows);
            }
    }
    return total / (double)v->rows;
}

static double binary_cross_entropy(const loss_view *v, const float *t, float smoothing, float *d) {
    size_t n = v->rows * (size_t)v->channels;
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        double z = v->z[i], target = t[i] * (1.0 - smoothing) + 0.5 * smoothing;
        total += (z > 0 ? z : 0.0) - z * target + log1p(exp(-fabs(z)));
        if (d) d[i] = (float)((1.0 / (1.0 + exp(-z)) - target) / (double)n);
    }
    return total / (double)n;
}

static double mean_squared_error(const loss_view *v, const float *t, float *d) {
    size_t n = v->rows * (size_t)v->channels;
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)v->y[i] - t[i];
        total += e * e;
        if (d) d[i] = (float)(2.0 * e / (double)n);
    }
    return total / (double)n;
}

/* Multi-class hinge (as torch.nn.MultiMarginLoss): per row sum_{j != y} max(0, 1 - x_y + x_j) / C,
 * with y the target row's largest entry. */
static double hinge(const loss_view *v, const float *t, float *d) {
    int c = v->channels;
    double total = 0.0, scale = 1.0 / ((double)c * (double)v->rows);
    for (size_t r = 0; r < v->rows; r++) {
        const float *x = v->y + r * c, *tr = t + r * c;
        int y = 0;
        for (int k = 1; k < c; k++) y = tr[k] > tr[y] ? k : y;
        if (d) memset(d + r * c, 0, (size_t)c * sizeof *d);
        for (int k = 0; k < c; k++) {
            double margin = 1.0 - x[y] + x[k];
            if (k == y || margin <= 0) continue;
            total += margin;
            if (d) d[r * c + k] += (float)scale, d[r * c + y] -= (float)scale;
        }
    }
    return total * scale;
}

fv_status fv_loss_compute(fv_net *net, fv_loss loss, const float *targets, int samples, double *value, int backward,
                          fv_error *err) {
    loss_view v = {0};
    if (view_of(net, loss, backward ? 0 : samples, &v, err) != FV_OK) return FV_ERR;
    float *d = backward ? v.d : NULL;
    double l;
    switch (loss.kind) {
    case FV_LOSS_SOFTMAX_CROSS_ENTROPY: l = softmax_cross_entropy(&v, targets, loss.label_smoothing, d); break;
    case FV_LOSS_BINARY_CROSS_ENTROPY: l = binary_cross_entropy(&v, targets, loss.label_smoothing, d); break;
    case FV_LOSS_MSE: l = mean_squared_error(&v, targets, d); break;
    case FV_LOSS_HINGE: l = hinge(&v, targets, d); break;
    default: return fv_fail(err, "unknown loss %d", (int)loss.kind);
    }
    if (value) *value = l;
    if (!isfinite(l)) return fv_fail(err, "the %s loss is %g: training diverged", fv_loss_name(loss.kind), l);
    return backward ? fv_net_backward_from_output_grad(net, v.pre_activation, err) : FV_OK;
}

fv_status fv_net_loss(fv_net *net, fv_loss loss, const float *targets, double *value, fv_error *err) {
    return fv_loss_compute(net, loss, targets, 0, value, 0, err);
}

fv_status fv_net_loss_backward(fv_net *net, fv_loss loss, const float *targets, double *value, fv_error *err) {
    return fv_loss_compute(net, loss, targets, 0, value, 1, err);
}
