/* evaluate.c — evaluate (loss, accuracy, per-class precision/recall/F1, confusion matrix) and
 * predict, both in batches of the planned size with the last batch padded. */
#include "core/net.h"
#include "train/train.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

fv_status fv_predict(fv_net *net, const float *x, size_t count, float *out, fv_error *err) {
    if (fv_net_batch(net) == 0) return fv_fail(err, "the network must be planned before predict");
    size_t batch = (size_t)fv_net_batch(net), per_in = fv_shape_count(fv_net_node_shape(net, 0));
    size_t per_out = fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    float *pad = NULL;
    for (size_t at = 0; at < count; at += batch) {
        size_t n = count - at < batch ? count - at : batch;
        const float *in = x + at * per_in;
        if (n < batch) { /* the last, partial batch: pad it with zeros */
            if (!(pad = calloc(batch * per_in, sizeof *pad))) return fv_fail(err, "out of memory");
            memcpy(pad, in, n * per_in * sizeof *pad);
            in = pad;
        }
        fv_status st = fv_net_forward(net, in, 0, err);
        if (st == FV_OK) memcpy(out + at * per_out, fv_net_node_output(net, fv_net_output_node(net)), n * per_out * sizeof *out);
        free(pad), pad = NULL;
        if (st != FV_OK) return st;
    }
    return FV_OK;
}

void fv_metrics_free(fv_metrics *m) {
    if (!m) return;
    free(m->confusion);
    free(m->precision);
    free(m->recall);
    free(m->f1);
    memset(m, 0, sizeof *m);
}

fv_status fv_metrics_alloc(fv_metrics *m, int k, fv_error *err) {
    memset(m, 0, sizeof *m);
    m->n_classes = k;
    m->confusion = calloc((size_t)k * k, sizeof *m->confusion);
    m->precision = calloc((size_t)k, sizeof(double)), m->recall = calloc((size_t)k, sizeof(double));
    m->f1 = calloc((size_t)k, sizeof(double));
    if (m->confusion && m->precision && m->recall && m->f1) return FV_OK;
    fv_metrics_free(m);
    return fv_fail(err, "out of memory");
}

/* The classes a network's flat output tells apart: its units, or 2 for one sigmoid unit; 0 when
 * the output is not flat. Metrics are sized by this, never by the labels a dataset happens to hold
 * (a test subset may lack the last classes). */
int fv_net_classes(const fv_net *net) {
    fv_shape out = fv_net_node_shape(net, fv_net_output_node(net));
    if (out.rank != 1) return 0;
    return out.dim[0] == 1 ? 2 : out.dim[0];
}

/* A replica's metrics: each rank evaluated every size-th batch; the counts and the loss are summed
 * (a row of the confusion matrix at a time, through the precision array, which is filled after). */
static fv_status sum_shards(fv_comm *comm, fv_metrics *m, double *loss_sum, fv_error *err) {
    int k = m->n_classes;
    if (comm->sum_doubles(comm, loss_sum, 1, err) != FV_OK) return FV_ERR;
    for (int row = 0; row < k; row++) {
        for (int c = 0; c < k; c++) m->precision[c] = (double)m->confusion[(size_t)row * k + c];
        if (comm->sum_doubles(comm, m->precision, (size_t)k, err) != FV_OK) return FV_ERR;
        for (int c = 0; c < k; c++) m->confusion[(size_t)row * k + c] = (size_t)m->precision[c];
    }
    return FV_OK;
}

/* Into metrics allocated for the network's classes (fv_net_classes), with x (batch x input) and targets (batch x
 * units) as work space: fit calls it every epoch without allocating. A replica (fv_net_set_comm)
 * evaluates its shard of the batches, and every rank gets the whole set's metrics. */
fv_status fv_evaluate_into(fv_net *net, const fv_dataset *data, fv_loss loss, fv_metrics *m, float *x, float *targets,
                           fv_error *err) {
    int one_hot;
    if (fv_target_layout(net, data, &one_hot, err) != FV_OK) return FV_ERR;
    size_t batch = (size_t)fv_net_batch(net), per = fv_shape_count(data->shape);
    int units = fv_net_node_shape(net, fv_net_output_node(net)).dim[0], k = m->n_classes;
    m->count = data->count;
    memset(m->confusion, 0, (size_t)k * k * sizeof *m->confusion);
    m->macro_precision = m->macro_recall = m->macro_f1 = 0.0;
    fv_status st = FV_OK;
    double loss_sum = 0.0;
    fv_comm *comm = net->comm && net->comm->size > 1 ? net->comm : NULL;
    size_t stride = comm ? (size_t)comm->size * batch : batch;
    for (size_t at = comm ? (size_t)comm->rank * batch : 0; st == FV_OK && at < data->count; at += stride) {
        size_t n = data->count - at < batch ? data->count - at : batch;
        memcpy(x, data->x + at * per, n * per * sizeof *x);
        memset(x + n * per, 0, (batch - n) * per * sizeof *x);
        memset(targets, 0, batch * (size_t)units * sizeof *targets);
        fv_fill_targets(targets, data->labels + at, n, units, one_hot);
        double l;
        st = fv_net_forward(net, x, 0, err);
        if (st == FV_OK) st = fv_loss_compute(net, loss, targets, (int)n, &l, 0, err);
        if (st != FV_OK) break;
        loss_sum += l * (double)n;
        const float *y = fv_net_node_output(net, fv_net_output_node(net));
        for (size_t i = 0; i < n; i++) {
            int label = data->labels[at + i], predicted = fv_predicted_class(y + i * (size_t)units, units);
            if (label < 0 || label >= k || predicted >= k) /* fv_target_layout checks the labels; this guards the matrix */
                return fv_fail(err, "sample %zu: label %d is outside the network's %d classes", at + i, label, k);
            m->confusion[(size_t)label * k + (size_t)predicted]++;
        }
    }
    if (st != FV_OK || (comm && sum_shards(comm, m, &loss_sum, err) != FV_OK)) return FV_ERR;
    size_t correct = 0;
    for (int c = 0; c < k; c++) {
        size_t tp = m->confusion[(size_t)c * k + c], predicted = 0, actual = 0;
        for (int o = 0; o < k; o++) predicted += m->confusion[(size_t)o * k + c], actual += m->confusion[(size_t)c * k + o];
        correct += tp;
        m->precision[c] = predicted ? (double)tp / (double)predicted : 0.0;
        m->recall[c] = actual ? (double)tp / (double)actual : 0.0;
        double pr = m->precision[c] + m->recall[c];
        m->f1[c] = pr > 0 ? 2.0 * m->precision[c] * m->recall[c] / pr : 0.0;
        m->macro_precision += m->precision[c] / k, m->macro_recall += m->recall[c] / k, m->macro_f1 += m->f1[c] / k;
    }
    m->loss = data->count ? loss_sum / (double)data->count : 0.0;
    m->accuracy = data->count ? (double)correct / (double)data->count : 0.0;
    return FV_OK;
}

fv_status fv_evaluate(fv_net *net, const fv_dataset *data, fv_loss loss, fv_metrics *m, fv_error *err) {
    memset(m, 0, sizeof *m);
    if (fv_net_batch(net) == 0) return fv_fail(err, "the network must be planned before evaluate");
    size_t batch = (size_t)fv_net_batch(net), per = fv_shape_count(data->shape);
    size_t units = fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    if (fv_net_classes(net) < 2) return fv_fail(err, "evaluate needs a flat output of class scores");
    if (fv_metrics_alloc(m, fv_net_classes(net), err) != FV_OK) return FV_ERR;
    float *x = calloc(batch * per, sizeof *x), *targets = calloc(batch * units, sizeof *targets);
    fv_status st = x && targets ? fv_evaluate_into(net, data, loss, m, x, targets, err) : fv_fail(err, "out of memory");
    free(x), free(targets);
    if (st != FV_OK) fv_metrics_free(m);
    return st;
}

int fv_metrics_format(const fv_metrics *m, const char (*names)[FV_CLASS_NAME_MAX], char *buf, size_t size) {
    fv_text t = {buf, size, 0};
    if (size) buf[0] = '\0';
    int k = m->n_classes, width = 9;
    for (int c = 0; names && c < k; c++) width = (int)strlen(names[c]) > width ? (int)strlen(names[c]) : width;
    fv_text_put(&t, "%zu samples: loss %.4f, accuracy %.2f%%\n\n", m->count, m->loss, 100.0 * m->accuracy);
    fv_text_put(&t, "%-*s  precision  recall  f1-score  support\n", width, "class");
    for (int c = 0; c < k; c++) {
        size_t support = 0;
        for (int o = 0; o < k; o++) support += m->confusion[(size_t)c * k + o];
        char fallback[32];
        snprintf(fallback, sizeof fallback, "%d", c);
        fv_text_put(&t, "%-*s  %9.4f  %6.4f  %8.4f  %7zu\n", width, names ? names[c] : fallback, m->precision[c], m->recall[c], m->f1[c], support);
    }
    fv_text_put(&t, "%-*s  %9.4f  %6.4f  %8.4f  %7zu\n\n", width, "macro avg", m->macro_precision, m->macro_recall, m->macro_f1, m->count);
    fv_text_put(&t, "confusion matrix (rows: true class, columns: predicted)\n%-*s", width, "");
    for (int c = 0; c < k; c++) fv_text_put(&t, " %6d", c);
    fv_text_put(&t, "\n");
    for (int c = 0; c < k; c++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "%d", c);
        fv_text_put(&t, "%-*s", width, names ? names[c] : fallback);
        for (int o = 0; o < k; o++) fv_text_put(&t, " %6zu", m->confusion[(size_t)c * k + o]);
        fv_text_put(&t, "\n");
    }
    return (int)t.len;
}

/* A string as JSON: quotes, backslashes and control characters escaped. */
static void json_string(fv_text *t, const char *s) {
    fv_text_put(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fv_text_put(t, "\\%c", c);
        else if (c < 0x20) fv_text_put(t, "\\u%04x", c);
        else fv_text_put(t, "%c", c);
    }
    fv_text_put(t, "\"");
}

int fv_metrics_json(const fv_metrics *m, const char (*names)[FV_CLASS_NAME_MAX], char *buf, size_t size) {
    fv_text t = {buf, size, 0};
    if (size) buf[0] = '\0';
    int k = m->n_classes;
    fv_text_put(&t, "{\"samples\": %zu, \"loss\": %.9g, \"accuracy\": %.9g, \"macro_precision\": %.9g, \"macro_recall\": %.9g, "
                "\"macro_f1\": %.9g, \"classes\": [", m->count, m->loss, m->accuracy, m->macro_precision, m->macro_recall, m->macro_f1);
    for (int c = 0; c < k; c++) {
        size_t support = 0;
        for (int o = 0; o < k; o++) support += m->confusion[(size_t)c * k + o];
        char fallback[32];
        snprintf(fallback, sizeof fallback, "%d", c);
        fv_text_put(&t, "%s{\"index\": %d, \"name\": ", c ? ", " : "", c);
        json_string(&t, names ? names[c] : fallback);
        fv_text_put(&t, ", \"precision\": %.9g, \"recall\": %.9g, \"f1\": %.9g, \"support\": %zu}", m->precision[c], m->recall[c], m->f1[c], support);
    }
    fv_text_put(&t, "], \"confusion\": [");
    for (int c = 0; c < k; c++) {
        fv_text_put(&t, "%s[", c ? ", " : "");
        for (int o = 0; o < k; o++) fv_text_put(&t, "%s%zu", o ? ", " : "", m->confusion[(size_t)c * k + o]);
        fv_text_put(&t, "]");
    }
    fv_text_put(&t, "]}\n");
    return (int)t.len;
}
