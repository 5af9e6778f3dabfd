/* quantize.c — post-training int8 quantisation: calibrating each convolution's and dense layer's
 * input scale on samples (and so each residual add's output scale: fv_net_quantize_sums), and
 * choosing, by what the quantised network's outputs lose against fp32's on those samples,
 * between min/max and percentile scales and whether the first and last of those layers stay
 * fp32. What int8 computes is defined in src/core/precision.c. */
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CALIBRATION_BATCH 32
#define CALIBRATION_BYTES ((size_t)1 << 30)
#define BINS 2048
#define PERCENTILE 0.9999 /* of |x|: what the percentile scale covers, clipping the rest */

const char *fv_calibration_name(fv_calibration method) { return method == FV_CALIBRATION_PERCENTILE ? "percentile" : "minmax"; }

/* One calibration layer: its node, the node its input comes from, and what was seen of |input|. */
typedef struct seen_input {
    int node, source;
    double max;
    uint64_t hist[BINS]; /* |x| in BINS equal bins of [0, max] (the second pass) */
    float scale[2];      /* per fv_calibration */
} seen_input;

/* Runs `samples` samples through the planned network batch by batch; after each batch, calls
 * visit with the number of real samples in it (the last batch is padded with zeros). */
typedef fv_status (*batch_visitor)(fv_net *net, int n, size_t first, void *user);

static fv_status each_batch(fv_net *net, const fv_dataset *data, size_t samples, float *x, batch_visitor visit, void *user,
                            fv_error *err) {
    size_t batch = (size_t)fv_net_batch(net), per = fv_shape_count(data->shape);
    for (size_t at = 0; at < samples; at += batch) {
        size_t n = samples - at < batch ? samples - at : batch;
        memcpy(x, data->x + at * per, n * per * sizeof *x);
        memset(x + n * per, 0, (batch - n) * per * sizeof *x);
        if (fv_net_forward(net, x, 0, err) != FV_OK || visit(net, (int)n, at, user) != FV_OK) return FV_ERR;
    }
    return FV_OK;
}

typedef struct calibration {
    seen_input *layers;
    int n_layers, pass;
    float *reference; /* samples x outputs: fp32's outputs */
    size_t per_out;
} calibration;

static fv_status observe(fv_net *net, int n, size_t first, void *user) {
    calibration *c = user;
    const float *y = fv_net_node_output(net, fv_net_output_node(net));
    if (c->pass == 0) memcpy(c->reference + first * c->per_out, y, (size_t)n * c->per_out * sizeof *y);
    for (int k = 0; k < c->n_layers; k++) {
        seen_input *s = &c->layers[k];
        const float *v = fv_net_node_output(net, s->source);
        size_t count = (size_t)n * fv_shape_count(fv_net_node_shape(net, s->source));
        if (c->pass == 0) {
            for (size_t i = 0; i < count; i++) s->max = fabs(v[i]) > s->max ? fabs(v[i]) : s->max;
        } else if (s->max > 0.0) {
            for (size_t i = 0; i < count; i++) {
                size_t bin = (size_t)(fabs(v[i]) / s->max * BINS);
                s->hist[bin < BINS ? bin : BINS - 1]++;
            }
        }
    }
    return FV_OK;
}

/* min/max: the largest |x| maps to 127. percentile: the bin edge below which PERCENTILE of the
 * values lie. An input that was always 0 gets scale 1 (any scale represents it). */
static void scales_of(seen_input *s) {
    if (s->max <= 0.0) {
        s->scale[0] = s->scale[1] = 1.0f;
        return;
    }
    uint64_t total = 0, below = 0;
    for (int b = 0; b < BINS; b++) total += s->hist[b];
    int edge = BINS;
    for (int b = 0; b < BINS; b++)
        if ((below += s->hist[b]) >= (uint64_t)ceil(PERCENTILE * (double)total)) {
            edge = b + 1;
            break;
        }
    s->scale[FV_CALIBRATION_MINMAX] = (float)(s->max / 127.0);
    s->scale[FV_CALIBRATION_PERCENTILE] = (float)(s->max * edge / BINS / 127.0);
}

typedef struct comparison {
    const float *reference;
    size_t per_out;
    int classes;
    size_t agree;
    double diff, size;
} comparison;

static fv_status compare(fv_net *net, int n, size_t first, void *user) {
    comparison *c = user;
    const float *y = fv_net_node_output(net, fv_net_output_node(net));
    for (int r = 0; r < n; r++) {
        const float *a = y + (size_t)r * c->per_out, *b = c->reference + (first + (size_t)r) * c->per_out;
        size_t ia = 0, ib = 0;
        for (size_t k = 0; k < c->per_out; k++) {
            c->diff += fabs((double)a[k] - b[k]), c->size += fabs((double)b[k]);
            ia = a[k] > a[ia] ? k : ia, ib = b[k] > b[ib] ? k : ib;
        }
        c->agree += ia == ib;
    }
    return FV_OK;
}

static fv_status set_scales(fv_net *net, const calibration *c, fv_calibration method, int first_fp32, int last_fp32, fv_error *err) {
    for (int k = 0; k < c->n_layers; k++) {
        int keep = (k == 0 && first_fp32) || (k == c->n_layers - 1 && last_fp32);
        if (fv_net_set_input_scale(net, c->layers[k].node, keep ? 0.0f : c->layers[k].scale[method], err) != FV_OK) return FV_ERR;
    }
    fv_net_quantize_sums(net);
    return FV_OK;
}

/* A candidate's output error, counted a tenth more for each layer it keeps fp32: such a layer
 * costs time (ResNet50's first convolution and the max pooling after it in fp32 took a sixth of
 * its int8 time), so it is kept only where it lowers the error by more than that. */
static double weighed_error(const fv_quantize_candidate *q) { return q->error * (1.0 + 0.1 * (q->first_fp32 + q->last_fp32)); }

fv_status fv_quantize(fv_net *net, const fv_dataset *data, size_t samples, fv_backend backend, fv_quantize_report *report, fv_error *err) {
    memset(report, 0, sizeof *report);
    fv_shape in = fv_net_node_shape(net, 0);
    if (fv_shape_count(in) != fv_shape_count(data->shape))
        return fv_fail(err, "the calibration samples have %zu values each, the network's input %zu", fv_shape_count(data->shape),
                       fv_shape_count(in));
    samples = samples < data->count ? samples : data->count;
    if (samples == 0) return fv_fail(err, "quantising '%s' needs calibration samples, and there are none", fv_net_name(net));
    calibration c = {0};
    for (int i = 0; i < fv_net_node_count(net); i++) c.n_layers += fv_kind_quantisable(fv_net_node_layer(net, i)->kind);
    if (c.n_layers == 0) return fv_fail(err, "'%s' has no convolution or dense layer to quantise", fv_net_name(net));
    /* the inspection plan keeps every activation and its gradient: a batch within 1 GB of them */
    int batch = samples < CALIBRATION_BATCH ? (int)samples : CALIBRATION_BATCH;
    fv_plan_memory m;
    while (batch > 1 && fv_net_plan_memory(net, batch, FV_PLAN_INSPECTION, &m, err) == FV_OK && m.activations + m.activation_grads > CALIBRATION_BYTES)
        batch /= 2;
    c.per_out = fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    c.layers = calloc((size_t)c.n_layers, sizeof *c.layers);
    c.reference = malloc(samples * c.per_out * sizeof *c.reference);
    float *x = malloc((size_t)batch * fv_shape_count(in) * sizeof *x);
    fv_status st = c.layers && c.reference && x ? FV_OK : fv_fail(err, "out of memory quantising '%s'", fv_net_name(net));
    for (int i = 0, k = 0; st == FV_OK && i < fv_net_node_count(net); i++)
        if (fv_kind_quantisable(fv_net_node_layer(net, i)->kind)) {
            int source;
            fv_net_node_inputs(net, i, &source, 1);
            c.layers[k++] = (seen_input){.node = i, .source = source};
            st = fv_net_set_input_scale(net, i, 0.0f, err); /* fp32 first: what the scales are measured on */
        }
    /* fp32, every node's output kept (an inspection plan): the reference outputs and the maxima,
     * then the histograms */
    fv_net_set_precision(net, FV_PRECISION_FP32);
    if (st == FV_OK) st = fv_net_plan_mode(net, batch, backend, FV_PLAN_INSPECTION, 1, err);
    for (c.pass = 0; st == FV_OK && c.pass < 2; c.pass++) st = each_batch(net, data, samples, x, observe, &c, err);
    for (int k = 0; st == FV_OK && k < c.n_layers; k++) scales_of(&c.layers[k]);
    /* each candidate in int8, against fp32's outputs */
    int best = -1;
    for (int m = 0; st == FV_OK && m < 2; m++)
        for (int v = 0; st == FV_OK && v < 4; v++) {
            int first = v & 1, last = (v & 2) != 0;
            if (first + last >= c.n_layers) continue; /* nothing would be quantised */
            comparison cmp = {.reference = c.reference, .per_out = c.per_out};
            st = set_scales(net, &c, (fv_calibration)m, first, last, err);
            fv_net_set_precision(net, FV_PRECISION_INT8);
            if (st == FV_OK) st = fv_net_plan_mode(net, batch, backend, FV_PLAN_INFERENCE, 1, err);
            if (st == FV_OK) st = each_batch(net, data, samples, x, compare, &cmp, err);
            if (st != FV_OK) break;
            fv_quantize_candidate *q = &report->candidates[report->n_candidates];
            *q = (fv_quantize_candidate){(fv_calibration)m, first, last, (double)cmp.agree / (double)samples,
                                         cmp.size > 0.0 ? cmp.diff / cmp.size : 0.0};
            const fv_quantize_candidate *b = best >= 0 ? &report->candidates[best] : NULL;
            if (!b || q->agreement > b->agreement || (q->agreement == b->agreement && weighed_error(q) < weighed_error(b)))
                best = report->n_candidates;
            report->n_candidates++;
        }
    if (st == FV_OK) {
        const fv_quantize_candidate *b = &report->candidates[best];
        report->chosen = best, report->samples = samples, report->layers = c.n_layers - b->first_fp32 - b->last_fp32;
        st = set_scales(net, &c, b->method, b->first_fp32, b->last_fp32, err);
        fv_net_set_precision(net, FV_PRECISION_INT8);
    }
    free(c.layers), free(c.reference), free(x);
    return st;
}
