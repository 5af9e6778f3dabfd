/* geometry.c — where convolution and pooling windows fall on an input (see geometry.h). */
#include "core/geometry.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

int fv_window_output(int in, int window, int stride, fv_padding padding, int explicit_before,
                     int explicit_after, int *pad_before, int *pad_after) {
    int before = 0, after = 0, out;
    if (padding == FV_PAD_SAME) {
        out = (in + stride - 1) / stride;
        int total = (out - 1) * stride + window - in;
        if (total < 0) total = 0;
        before = total / 2; /* TF/Keras: the odd pixel goes after */
        after = total - before;
    } else {
        if (padding == FV_PAD_EXPLICIT) {
            before = explicit_before;
            after = explicit_after;
        }
        int span = in + before + after - window;
        out = span < 0 ? 0 : span / stride + 1;
    }
    *pad_before = before;
    *pad_after = after;
    return out;
}


/* "4x4" or "4" (one spatial axis) or "2x4x4", for messages. */
static void format_extent(const int v[3], int first, char *buf, size_t size) {
    int len = 0;
    buf[0] = '\0';
    for (int a = first; a < 3 && len < (int)size; a++) len += snprintf(buf + len, size - (size_t)len, "%s%d", a > first ? "x" : "", v[a]);
}

/* The part both share: the input's spatial axes right-aligned in (D, H, W), each taking the
 * setting of the layer's axis it faces. */
static fv_status window_geometry(const int *k, const int *s, const int *d, fv_padding padding, const int (*pad)[2],
                                 int spatial, fv_shape in, int n, const char *what, fv_window_geometry *g,
                                 fv_error *err) {
    int m = in.rank - 1; /* the input's spatial axes */
    memset(g, 0, sizeof *g);
    g->n = n, g->spatial = spatial, g->groups = 1;
    g->c_in = g->c_out = in.dim[in.rank - 1];
    for (int t = 0; t < 3; t++) g->in[t] = g->out[t] = g->k[t] = g->s[t] = g->d[t] = 1;
    for (int a = 0; a < m; a++) {
        int j = spatial - m + a, t = 3 - m + a; /* the setting's axis, the geometry's slot */
        if (k[j] <= 0) return fv_fail(err, "%s must be positive", what);
        if (s[j] <= 0) return fv_fail(err, "stride must be positive");
        if (d[j] <= 0) return fv_fail(err, "dilation must be positive");
        if (padding == FV_PAD_EXPLICIT && (pad[j][0] < 0 || pad[j][1] < 0)) return fv_fail(err, "padding must not be negative");
        g->in[t] = in.dim[a], g->k[t] = k[j], g->s[t] = s[j], g->d[t] = d[j];
        int extent = d[j] * (k[j] - 1) + 1;
        g->out[t] = fv_window_output(in.dim[a], extent, s[j], padding, pad[j][0], pad[j][1], &g->pad_before[t], &g->pad_after[t]);
    }
    for (int t = 3 - m; t < 3; t++)
        if (g->out[t] <= 0) {
            char a[48], b[48];
            format_extent(g->in, 3 - m, a, sizeof a), format_extent(g->k, 3 - m, b, sizeof b);
            return fv_fail(err, "input %s is smaller than the %s %s", a, b, what);
        }
    return FV_OK;
}

fv_status fv_conv_geometry(const fv_conv_settings *c, int spatial, fv_shape in, int n, fv_window_geometry *g,
                           fv_error *err) {
    static const char *const expect[4] = {"", "(L, C)", "(H, W, C)", "(D, H, W, C)"};
    if (in.rank != spatial + 1)
        return fv_fail(err, "expects an %s input, got rank %d%s", expect[spatial], in.rank,
                       spatial == 2 && in.rank == 2 ? " (use conv1d for (L, C))" : "");
    if (c->filters <= 0) return fv_fail(err, "filters must be positive, got %d", c->filters);
    if ((unsigned)c->activation >= FV_ACT_COUNT) return fv_fail(err, "unknown activation");
    if (!(c->alpha >= 0.0f && c->alpha < 1e30f)) return fv_fail(err, "alpha must be a finite number >= 0");
    if (!(c->input_scale >= 0.0f && c->input_scale < 1e30f)) return fv_fail(err, "input_scale must be a finite number >= 0");
    if (window_geometry(c->kernel, c->stride, c->dilation, c->padding, c->pad, spatial, in, n, "kernel", g, err) != FV_OK)
        return FV_ERR;
    g->c_out = c->filters, g->groups = c->groups;
    if (c->groups <= 0 || g->c_in % c->groups || c->filters % c->groups)
        return fv_fail(err, "groups=%d must divide the %d input channels and the %d filters", c->groups, g->c_in, c->filters);
    return FV_OK;
}

fv_status fv_pool_geometry(const fv_pool_settings *p, int spatial, fv_shape in, int n, fv_window_geometry *g,
                           fv_error *err) {
    if (in.rank < 2 || in.rank > spatial + 1)
        return fv_fail(err, "expects an input with 1 to %d spatial axes and channels last, got rank %d", spatial, in.rank);
    static const int ones[3] = {1, 1, 1};
    if (window_geometry(p->size, p->stride, ones, p->padding, p->pad, spatial, in, n, "window", g, err) != FV_OK) return FV_ERR;
    for (int t = 0; p->padding == FV_PAD_EXPLICIT && t < 3; t++)
        if (g->pad_before[t] >= g->k[t] || g->pad_after[t] >= g->k[t])
            return fv_fail(err, "explicit padding must be in [0, pool size)");
    return FV_OK;
}

fv_shape fv_window_out_shape(const fv_window_geometry *g, int rank) {
    fv_shape s = {rank, {0, 0, 0, 0}};
    for (int a = 0; a < rank - 1; a++) s.dim[a] = g->out[3 - (rank - 1) + a];
    s.dim[rank - 1] = g->c_out;
    return s;
}
