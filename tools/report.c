/* report.c — the run report: one self-contained HTML page (no network access: curves are inline
 * SVG, pictures inline PNG) with the training curves, the model summary, the confusion matrix as a
 * heat map, per-class precision/recall/F1, the most confidently misclassified test images, the
 * first layer's filters, and the run's settings. Written as every output is (fv_write_file). */
#include "report.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef cli_text page;
#define put cli_put

static void put_escaped(page *p, const char *s) { /* text as HTML */
    for (; *s; s++) {
        if (*s == '<') put(p, "&lt;");
        else if (*s == '>') put(p, "&gt;");
        else if (*s == '&') put(p, "&amp;");
        else if (*s == '"') put(p, "&quot;");
        else put(p, "%c", *s);
    }
}

/* A picture as an inline <img> (base64 PNG). */
static void put_image(page *p, const fv_image *im, const char *alt, int width) {
    fv_error err;
    size_t n = 0;
    unsigned char *png = im ? fv_image_encode_png(im, &n, &err) : NULL;
    if (!png) return;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    put(p, "<img alt=\"%s\" width=\"%d\" src=\"data:image/png;base64,", alt, width);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)png[i] << 16 | (i + 1 < n ? (unsigned)png[i + 1] << 8 : 0) | (i + 2 < n ? png[i + 2] : 0);
        put(p, "%c%c%c%c", b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < n ? b64[v >> 6 & 63] : '=', i + 2 < n ? b64[v & 63] : '=');
    }
    put(p, "\">");
    free(png);
}

/* A chart's frame: w x h pixels, the plot inside the margins, values lo..hi up the y axis. */
enum { CHART_W = 420, CHART_H = 240, CHART_LEFT = 64, CHART_RIGHT = 12, CHART_TOP = 28, CHART_BOTTOM = 36 };

static double chart_x(int i, int n) { /* epoch i + 1 of n */
    double width = CHART_W - CHART_LEFT - CHART_RIGHT;
    return CHART_LEFT + (n > 1 ? width * i / (n - 1) : width / 2.0);
}

static double chart_y(double v, double lo, double hi) {
    return CHART_TOP + (CHART_H - CHART_TOP - CHART_BOTTOM) * (1.0 - (v - lo) / (hi - lo));
}

/* An SVG line chart of up to 2 series over the epochs 1..n. */
static void put_chart(page *p, const char *id, const char *title, int n, const double *a, const char *a_name, const double *b,
                      const char *b_name) {
    const int w = CHART_W, h = CHART_H, left = CHART_LEFT, right = CHART_RIGHT, top = CHART_TOP, bottom = CHART_BOTTOM;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (a && isfinite(a[i])) lo = fmin(lo, a[i]), hi = fmax(hi, a[i]);
        if (b && isfinite(b[i])) lo = fmin(lo, b[i]), hi = fmax(hi, b[i]);
    }
    if (!(hi >= lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    double pad = (hi - lo) * 0.08;
    lo -= pad, hi += pad;
    put(p, "<svg id=\"%s\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">\n", id, w, h, w, h);
    put(p, "<text x=\"%d\" y=\"18\" class=\"title\">%s</text>\n", left, title);
    put(p, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#999\"/>\n", left, top, w - left - right, h - top - bottom);
    for (int k = 0; k <= 4; k++) { /* y grid and labels */
        double v = lo + (hi - lo) * k / 4.0;
        double y = chart_y(v, lo, hi);
        put(p, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%.3g</text>\n",
            left, w - right, y, y, left - 4, y + 4, v);
    }
    int step = n > 10 ? (n + 9) / 10 : 1;
    for (int i = 0; i < n; i += step) {
        put(p, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%d</text>\n", chart_x(i, n), h - bottom + 16, i + 1);
    }
    put(p, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">epoch</text>\n", (left + w - right) / 2, h - 4);
    const double *series[2] = {a, b};
    const char *names[2] = {a_name, b_name}, *colors[2] = {"#1f77b4", "#ff7f0e"};
    for (int s = 0; s < 2; s++) {
        if (!series[s]) continue;
        put(p, "<polyline class=\"series\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", names[s], colors[s]);
        for (int i = 0; i < n; i++) {
            double y = chart_y(series[s][i], lo, hi);
            if (isfinite(y)) put(p, "%.1f,%.1f ", chart_x(i, n), y);
        }
        put(p, "\"/>\n");
        for (int i = 0; i < n; i++) {
            double y = chart_y(series[s][i], lo, hi);
            if (isfinite(y))
                put(p, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s, epoch %d: %.4f</title></circle>", chart_x(i, n), y,
                    colors[s], names[s], i + 1, series[s][i]);
        }
        put(p, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" class=\"tick\">%s</text>\n",
            w - right - 150 + 75 * s, 12, colors[s], w - right - 134 + 75 * s, 17, names[s]);
    }
    put(p, "</svg>\n");
}

static const char *style =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}h1{font-size:22px}h2{font-size:17px;margin-top:28px;"
    "border-bottom:1px solid #ccc}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;"
    "text-align:right}th{background:#f0f0f0}td.name{text-align:left}.title{font-size:13px;font-weight:bold}.tick{font-size:11px;"
    "fill:#444}.thumbs figure{display:inline-block;margin:6px;text-align:center;font-size:11px}.thumbs img{image-rendering:pixelated;"
    "border:1px solid #999}pre{font-size:12px;background:#f7f7f7;padding:8px}.chart{margin-right:12px}";

static void put_confusion(page *p, const fv_metrics *m, const fv_dataset *d) {
    int k = m->n_classes;
    put(p, "<table id=\"confusion\"><tr><th>true \\ predicted</th>");
    for (int c = 0; c < k; c++) put(p, "<th>"), put_escaped(p, d->class_names[c]), put(p, "</th>");
    put(p, "</tr>\n");
    for (int r = 0; r < k; r++) {
        size_t row = 0;
        for (int c = 0; c < k; c++) row += m->confusion[(size_t)r * k + c];
        put(p, "<tr><th>"), put_escaped(p, d->class_names[r]), put(p, "</th>");
        for (int c = 0; c < k; c++) {
            size_t v = m->confusion[(size_t)r * k + c];
            double f = row ? (double)v / (double)row : 0.0;
            put(p, "<td style=\"background:rgba(%s,%.3f);color:%s\">%zu</td>", r == c ? "31,119,180" : "214,39,40", f, f > 0.6 ? "#fff" : "#222", v);
        }
        put(p, "</tr>\n");
    }
    put(p, "</table>\n<h2>Per class</h2>\n<table id=\"per-class\"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n");
    for (int c = 0; c < k; c++) {
        size_t support = 0;
        for (int o = 0; o < k; o++) support += m->confusion[(size_t)c * k + o];
        put(p, "<tr><td class=\"name\">"), put_escaped(p, d->class_names[c]);
        put(p, "</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%zu</td></tr>\n", m->precision[c], m->recall[c], m->f1[c], support);
    }
    put(p, "<tr><th>macro average</th><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%zu</td></tr></table>\n", m->macro_precision,
        m->macro_recall, m->macro_f1, m->count);
}

typedef struct wrong {
    size_t sample;
    int predicted;
    float p;
} wrong;

static int by_confidence(const void *a, const void *b) {
    float pa = ((const wrong *)a)->p, pb = ((const wrong *)b)->p;
    return pa > pb ? -1 : pa < pb ? 1 : 0;
}

/* The misclassified samples the network was surest of, as thumbnails with both labels. */
static void put_misclassified(page *p, const report_input *r, int most) {
    const fv_dataset *d = r->data;
    int units = r->units;
    wrong *list = malloc(d->count * sizeof *list);
    size_t n = 0;
    for (size_t i = 0; list && i < d->count; i++) {
        const float *y = r->outputs + i * (size_t)units;
        int best = 0;
        for (int c = 1; c < units; c++) best = y[c] > y[best] ? c : best;
        if (best != d->labels[i]) list[n++] = (wrong){i, best, y[best]};
    }
    if (!list || n == 0) {
        put(p, "<p>No test image is misclassified.</p>\n");
        free(list);
        return;
    }
    qsort(list, n, sizeof *list, by_confidence);
    put(p, "<div class=\"thumbs\" id=\"misclassified\">\n");
    fv_shape s = d->shape;
    for (size_t i = 0; i < n && i < (size_t)most && s.rank == 3; i++) {
        fv_error err;
        fv_image sample = {s.dim[0], s.dim[1], s.dim[2], d->x + list[i].sample * fv_shape_count(s)};
        fv_image *big = fv_image_enlarge(&sample, s.dim[0] < 48 ? 3 : 1, &err);
        put(p, "<figure>"), put_image(p, big, "misclassified", 84);
        put(p, "<figcaption>#%zu true: ", list[i].sample), put_escaped(p, d->class_names[d->labels[list[i].sample]]);
        put(p, "<br>predicted: "), put_escaped(p, list[i].predicted < d->n_classes ? d->class_names[list[i].predicted] : "?");
        put(p, " (%.3f)</figcaption></figure>\n", (double)list[i].p);
        fv_image_free(big);
    }
    put(p, "</div>\n<p>%zu of %zu test images misclassified.</p>\n", n, d->count);
    free(list);
}

fv_status report_write(const char *path, const report_input *r, fv_error *err) {
    page p = {0};
    put(&p, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>fovea run: ");
    put_escaped(&p, fv_net_name(r->net));
    put(&p, "</title><style>%s</style></head><body>\n<h1>fovea run report: ", style);
    put_escaped(&p, fv_net_name(r->net));
    put(&p, "</h1>\n<p>%s</p>\n", r->finished ? "Training finished." : "Training in progress: this page is rewritten after every epoch.");

    put(&p, "<h2>Training</h2>\n");
    int n = r->n_history;
    if (n == 0) {
        put(&p, "<p>No epochs recorded (the model file holds no training history).</p>\n");
    } else {
        double *v = malloc((size_t)n * 5 * sizeof *v);
        int val = 0;
        for (int i = 0; v && i < n; i++) {
            const fv_epoch_log *e = &r->history[i];
            v[i] = e->loss, v[n + i] = e->val_loss, v[2 * n + i] = e->accuracy, v[3 * n + i] = e->val_accuracy, v[4 * n + i] = e->learning_rate;
            val |= e->has_validation;
        }
        if (v) {
            put(&p, "<div>");
            put_chart(&p, "loss-curve", "loss", n, v, "training", val ? v + n : NULL, "validation");
            put_chart(&p, "accuracy-curve", "accuracy", n, v + 2 * n, "training", val ? v + 3 * n : NULL, "validation");
            put_chart(&p, "lr-curve", "learning rate", n, v + 4 * n, "learning rate", NULL, NULL);
            put(&p, "</div>\n<table id=\"history\"><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val_loss</th><th>val_accuracy</th>"
                    "<th>learning rate</th><th>seconds</th></tr>\n");
            for (int i = 0; i < n; i++) {
                const fv_epoch_log *e = &r->history[i];
                put(&p, "<tr><td>%d</td><td>%.4f</td><td>%.4f</td>", e->epoch, e->loss, e->accuracy);
                if (e->has_validation) put(&p, "<td>%.4f</td><td>%.4f</td>", e->val_loss, e->val_accuracy);
                else put(&p, "<td>-</td><td>-</td>");
                put(&p, "<td>%.3g</td>", (double)e->learning_rate);
                put(&p, e->seconds > 0 ? "<td>%.1f</td></tr>\n" : "<td>-</td></tr>\n", e->seconds); /* not kept in model files */
            }
            put(&p, "</table>\n");
        }
        free(v);
    }

    if (r->metrics && r->data) {
        put(&p, "<h2>Test set: %zu images, loss %.4f, accuracy %.2f%%</h2>\n<h2>Confusion matrix</h2>\n", r->metrics->count,
            r->metrics->loss, 100.0 * r->metrics->accuracy);
        put_confusion(&p, r->metrics, r->data);
        if (r->outputs) put(&p, "<h2>Most confidently misclassified</h2>\n"), put_misclassified(&p, r, 16);
    } else {
        put(&p, "<h2>Test set</h2>\n<p>Evaluated when training ends.</p>\n");
    }

    for (int i = 1; i < fv_net_node_count(r->net); i++) {
        if (fv_net_node_layer(r->net, i)->kind != FV_LAYER_CONV2D) continue;
        fv_error ignored;
        fv_image *filters = fv_show_filters(r->net, i, &ignored);
        put(&p, "<h2>Filters of the first layer, "), put_escaped(&p, fv_net_node_name(r->net, i)), put(&p, "</h2>\n<div id=\"filters\">");
        put_image(&p, filters, "first-layer filters", filters && filters->width < 900 ? filters->width : 900);
        put(&p, "</div>\n");
        fv_image_free(filters);
        break;
    }

    int len = fv_net_summary(r->net, NULL, 0);
    char *summary = malloc((size_t)len + 1);
    if (summary) {
        fv_net_summary(r->net, summary, (size_t)len + 1);
        put(&p, "<h2>Model</h2>\n<pre id=\"summary\">"), put_escaped(&p, summary), put(&p, "</pre>\n");
        free(summary);
    }
    put(&p, "<h2>Settings</h2>\n<table id=\"settings\">");
    put(&p, "<tr><td class=\"name\">command</td><td class=\"name\"><code>"), put_escaped(&p, r->command_line), put(&p, "</code></td></tr>");
    put(&p, "<tr><td class=\"name\">data</td><td class=\"name\">"), put_escaped(&p, r->data_spec), put(&p, "</td></tr>");
    put(&p, "<tr><td class=\"name\">seed</td><td class=\"name\">%llu</td></tr>", (unsigned long long)r->seed);
    put(&p, "<tr><td class=\"name\">backend</td><td class=\"name\">%s</td></tr>", r->backend);
    put(&p, "<tr><td class=\"name\">threads</td><td class=\"name\">%d</td></tr>", r->threads);
    if (r->seconds > 0) put(&p, "<tr><td class=\"name\">duration</td><td class=\"name\">%.1f s</td></tr>", r->seconds);
    else put(&p, "<tr><td class=\"name\">duration</td><td class=\"name\">not kept in the model file (train with --report)</td></tr>");
    put(&p, "<tr><td class=\"name\">fovea</td><td class=\"name\">%s</td></tr></table>\n</body></html>\n", fv_version());
    if (p.failed) return free(p.text), snprintf(err->message, sizeof err->message, "%s: out of memory writing the report", path), FV_ERR;
    fv_status st = fv_write_file(path, p.text, p.len, err);
    free(p.text);
    return st;
}
