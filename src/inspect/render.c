/* render.c — feature maps, learned filters and dense outputs as pictures: tiles in a grid with a
 * thin border, small maps enlarged (nearest neighbour, so each value stays a visible square),
 * dense outputs as "barcodes". */
#include "core/net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BORDER 2                 /* pixels between tiles */
#define TILE_AT_LEAST 64         /* small maps are enlarged to about this many pixels ... */
#define WIDTH_AT_MOST 1600       /* ... while the picture stays narrower than this */
static const float border_rgb[3] = {0.12f, 0.16f, 0.32f}; /* dark blue: apart from every gray level */

/* rows x cols for n tiles: the most square exact factorisation (32 -> 4 x 8), or a near-square
 * grid with empty cells when n has none (a prime above 8). */
static void grid_shape(int n, int *rows, int *cols) {
    int r = (int)sqrt((double)n);
    while (r > 1 && n % r) r--;
    *rows = r, *cols = n / r;
    if (r == 1 && n > 8) {
        *cols = (int)ceil(sqrt((double)n));
        *rows = (n + *cols - 1) / *cols;
    }
}

/* tiles: n x h x w x c values in [0, 1] -> one RGB picture, tiles left to right, then down. */
static fv_image *compose(const float *tiles, int n, int h, int w, int c, int cols, fv_error *err) {
    int rows = (n + cols - 1) / cols, longest = h > w ? h : w;
    int zoom = longest >= TILE_AT_LEAST ? 1 : (TILE_AT_LEAST + longest - 1) / longest;
    int fits = (WIDTH_AT_MOST / cols - BORDER) / w;
    if (zoom > fits) zoom = fits > 1 ? fits : 1;
    int tile_h = h * zoom, tile_w = w * zoom;
    fv_image *im = fv_image_new(rows * (tile_h + BORDER) + BORDER, cols * (tile_w + BORDER) + BORDER, 3, err);
    if (!im) return NULL;
    for (size_t i = 0; i < (size_t)im->height * im->width; i++) memcpy(im->pixels + 3 * i, border_rgb, sizeof border_rgb);
    for (int t = 0; t < n; t++) {
        int y0 = BORDER + (t / cols) * (tile_h + BORDER), x0 = BORDER + (t % cols) * (tile_w + BORDER);
        for (int y = 0; y < tile_h; y++)
            for (int x = 0; x < tile_w; x++) {
                const float *v = tiles + (((size_t)t * h + y / zoom) * w + x / zoom) * c;
                float *p = im->pixels + ((size_t)(y0 + y) * im->width + x0 + x) * 3;
                for (int k = 0; k < 3; k++) p[k] = v[c == 3 ? k : 0];
            }
    }
    return im;
}

/* Scales count values in place: zero to 0.5, the largest |v| to 0 or 1. */
static void scale_signed(float *v, size_t count) {
    float big = 0.0f;
    for (size_t i = 0; i < count; i++) big = isfinite(v[i]) ? fmaxf(big, fabsf(v[i])) : big;
    for (size_t i = 0; i < count; i++) v[i] = big > 0.0f && isfinite(v[i]) ? 0.5f + 0.5f * v[i] / big : 0.5f;
}

/* maps: h x w x n (channels last) -> a grid of n tiles, each scaled on its own */
fv_image *fv_image_grid(const float *maps, int height, int width, int n, fv_error *err) {
    if (height <= 0 || width <= 0 || n <= 0) return fv_fail(err, "no maps to draw (%d x %d x %d)", height, width, n), NULL;
    size_t plane = (size_t)height * width;
    float *tiles = malloc(plane * n * sizeof *tiles);
    if (!tiles) return fv_fail(err, "out of memory drawing %d maps", n), NULL;
    for (int t = 0; t < n; t++) {
        for (size_t i = 0; i < plane; i++) tiles[t * plane + i] = maps[i * n + t];
        scale_signed(tiles + t * plane, plane);
    }
    int rows, cols;
    grid_shape(n, &rows, &cols);
    fv_image *im = compose(tiles, n, height, width, 1, cols, err);
    free(tiles);
    return im;
}

/* values: rows x units -> one strip per row, bars BAR wide; all rows share one scale. Outputs that
 * are never negative (after a ReLU) put zero at black, others zero at mid-grey. */
fv_image *fv_image_barcodes(const float *values, int rows, int units, fv_error *err) {
    if (rows <= 0 || units <= 0) return fv_fail(err, "no values to draw (%d x %d)", rows, units), NULL;
    int bar = units >= 256 ? 2 : units >= 64 ? 4 : 512 / units > 24 ? 24 : 512 / units, strip = 48;
    fv_image *im = fv_image_new(rows * (strip + BORDER) + BORDER, units * bar + 2 * BORDER, 3, err);
    if (!im) return NULL;
    float lo = 0.0f, big = 0.0f;
    for (size_t i = 0; i < (size_t)rows * units; i++)
        if (isfinite(values[i])) lo = fminf(lo, values[i]), big = fmaxf(big, fabsf(values[i]));
    for (size_t i = 0; i < (size_t)im->height * im->width; i++) memcpy(im->pixels + 3 * i, border_rgb, sizeof border_rgb);
    for (int r = 0; r < rows; r++)
        for (int u = 0; u < units; u++) {
            float v = values[(size_t)r * units + u];
            v = !(big > 0.0f) || !isfinite(v) ? (lo < 0.0f ? 0.5f : 0.0f) : lo < 0.0f ? 0.5f + 0.5f * v / big : v / big;
            for (int y = 0; y < strip; y++)
                for (int x = 0; x < bar; x++) {
                    float *p = im->pixels + ((size_t)(BORDER + r * (strip + BORDER) + y) * im->width + BORDER + u * bar + x) * 3;
                    p[0] = p[1] = p[2] = v;
                }
        }
    return im;
}

fv_image *fv_show_node(fv_net *net, int node, int sample, fv_error *err) {
    if (node < 0 || node >= net->n_nodes) return fv_fail(err, "no node %d in '%s'", node, net->name), NULL;
    const fv_node *n = &net->nodes[node];
    if (!net->batch) return fv_fail(err, "network '%s' must be planned and run before its feature maps are drawn", net->name), NULL;
    if (net->mode == FV_PLAN_INFERENCE && node != net->n_nodes - 1)
        return fv_fail(err, "layer '%s': an inference plan shares its buffers (plan for inspection to draw it)", n->name), NULL;
    if (sample < 0 || sample >= net->batch) return fv_fail(err, "sample %d is outside the batch of %d", sample, net->batch), NULL;
    fv_shape s = n->out_shape;
    const float *out = n->out + (size_t)sample * fv_shape_count(s);
    int c = s.dim[s.rank - 1];
    if (s.rank == 1) return fv_image_barcodes(out, 1, c, err);
    if (s.rank == 3) return fv_image_grid(out, s.dim[0], s.dim[1], c, err);
    if (s.rank == 4) /* a volume: its middle depth slice */
        return fv_image_grid(out + (size_t)(s.dim[0] / 2) * s.dim[1] * s.dim[2] * c, s.dim[1], s.dim[2], c, err);
    /* (L, C): one row per channel, as a single tile */
    int length = s.dim[0];
    float *rows = malloc((size_t)length * c * sizeof *rows);
    if (!rows) return fv_fail(err, "out of memory drawing '%s'", n->name), NULL;
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < length; i++) rows[(size_t)ch * length + i] = out[(size_t)i * c + ch];
    fv_image *im = fv_image_grid(rows, c, length, 1, err);
    free(rows);
    return im;
}

#define MAX_FILTER_TILES 4096

fv_image *fv_show_filters(const fv_net *net, int node, fv_error *err) {
    if (node < 0 || node >= net->n_nodes) return fv_fail(err, "no node %d in '%s'", node, net->name), NULL;
    const fv_node *n = &net->nodes[node];
    if (n->layer.kind != FV_LAYER_CONV2D)
        return fv_fail(err, "layer '%s' is a %s; filters are drawn for conv2d layers", n->name, fv_layer_kind_name(n->layer.kind)), NULL;
    if (!net->param_block) return fv_fail(err, "network '%s' has no weights yet (load a trained model)", net->name), NULL;
    const fv_param_decl *k = &n->params[0]; /* kh x kw x cin_g x cout */
    const float *w = net->param_block + k->offset;
    int kh = k->dim[0], kw = k->dim[1], cin = k->dim[2], cout = k->dim[3];
    int rgb = cin == 3, rows = rgb ? 1 : cin, cols = cout;
    if (!rgb && (size_t)rows * cols > MAX_FILTER_TILES) rows = MAX_FILTER_TILES / cols > 0 ? MAX_FILTER_TILES / cols : 1;
    if ((size_t)rows * cols > MAX_FILTER_TILES) cols = MAX_FILTER_TILES;
    int c = rgb ? 3 : 1, n_tiles = rows * cols;
    size_t per = (size_t)kh * kw * c;
    float *tiles = malloc(per * n_tiles * sizeof *tiles);
    if (!tiles) return fv_fail(err, "out of memory drawing the filters of '%s'", n->name), NULL;
    /* tile (input channel i, filter f) at row i, column f; each filter scaled on its own */
    for (int f = 0; f < cols; f++) {
        float big = 0.0f;
        for (size_t j = 0; j < (size_t)kh * kw * cin; j++) big = fmaxf(big, fabsf(w[j * cout + f]));
        for (int i = 0; i < rows; i++)
            for (int y = 0; y < kh * kw; y++)
                for (int ch = 0; ch < c; ch++) {
                    float v = w[((size_t)y * cin + (rgb ? ch : i)) * cout + f];
                    tiles[(size_t)(i * cols + f) * per + (size_t)y * c + ch] = big > 0.0f ? 0.5f + 0.5f * v / big : 0.5f;
                }
    }
    int grid_rows, grid_cols;
    grid_shape(cols, &grid_rows, &grid_cols);
    fv_image *im = compose(tiles, n_tiles, kh, kw, c, rows == 1 ? grid_cols : cols, err);
    free(tiles);
    return im;
}
