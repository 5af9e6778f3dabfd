/* cmd_filter.c — fovea filter: classic convolution of an image (or a 1-D signal) with a named or
 * given kernel, NumPy/SciPy semantics, written as a picture and optionally as exact values. */
#include "cli.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small array of numbers from text: rows split by newlines or ';', values by spaces or ','. */
static float *parse_numbers(const char *text, int *rows, int *cols, char *why, size_t why_size) {
    size_t cap = 16, n = 0;
    float *v = malloc(cap * sizeof *v);
    int r = 0, in_row = 0, first_cols = -1;
    const char *p = text;
    if (!v) return snprintf(why, why_size, "out of memory"), NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') p++;
        if (*p == '\n' || *p == ';' || *p == '\0') {
            if (in_row) {
                if (first_cols < 0) first_cols = in_row;
                else if (in_row != first_cols) return free(v), snprintf(why, why_size, "row %d has %d numbers, row 1 has %d", r + 1, in_row, first_cols), NULL;
                r++, in_row = 0;
            }
            if (*p == '\0') break;
            p++;
            continue;
        }
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x)) {
            int word = (int)strcspn(p, " \t\r\n,;"); /* the word, not the rest of the line: errors are one line */
            return free(v), snprintf(why, why_size, "'%.*s' is not a number", word > 20 ? 20 : word, p), NULL;
        }
        if (n == cap) {
            float *grown = realloc(v, 2 * cap * sizeof *v);
            if (!grown) return free(v), snprintf(why, why_size, "out of memory"), NULL;
            v = grown, cap *= 2;
        }
        v[n++] = (float)x, in_row++, p = end;
    }
    if (n == 0) return free(v), snprintf(why, why_size, "no numbers"), NULL;
    *rows = r, *cols = first_cols;
    return v;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *text = malloc(cap + 1);
    while (text && (got = fread(text + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = cap < ((size_t)64 << 20) ? realloc(text, 2 * cap + 1) : NULL;
            if (!grown) free(text), text = NULL;
            else text = grown, cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) free(text), text = NULL;
    if (text) text[n] = '\0';
    return text;
}

static int ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

/* A numbers file (.txt or .npy) as rows x cols; rank-1 .npy arrays are one row. */
static float *load_numbers(const char *path, int *rows, int *cols) {
    fv_error err;
    if (ends_with(path, ".npy")) {
        int rank, dims[8];
        float *v = fv_load_npy_floats(path, &rank, dims, &err);
        if (!v) return fprintf(stderr, "fovea: %s\n", err.message), NULL;
        if (rank > 2 || dims[0] < 1 || (rank == 2 && dims[1] < 1)) {
            fprintf(stderr, "fovea: %s: expected a 1-D or 2-D array, got rank %d\n", path, rank);
            return free(v), NULL;
        }
        *rows = rank == 1 ? 1 : dims[0], *cols = rank == 1 ? dims[0] : dims[1];
        return v;
    }
    char *text = read_text(path), why[128];
    if (!text) return fprintf(stderr, "fovea: %s: cannot read the file\n", path), NULL;
    float *v = parse_numbers(text, rows, cols, why, sizeof why);
    free(text);
    if (!v) fprintf(stderr, "fovea: %s: %s\n", path, why);
    return v;
}

static int parse_mode(const char *v, fv_convolve_mode *mode) {
    if (v && !strcmp(v, "full")) return *mode = FV_CONVOLVE_FULL, 1;
    if (v && !strcmp(v, "same")) return *mode = FV_CONVOLVE_SAME, 1;
    if (v && !strcmp(v, "valid")) return *mode = FV_CONVOLVE_VALID, 1;
    return 0;
}

/* The 1-D case: a signal and a one-row kernel. */
static int filter_signal(const float *x, int n, const float *k, int m, fv_convolve_mode mode, int correlate, const char *out_png,
                         const char *raw) {
    int len = fv_convolve1d_length(n, m, mode);
    float *y = malloc((size_t)len * sizeof *y);
    if (!y) return fprintf(stderr, "fovea: out of memory\n"), 1;
    fv_convolve1d(x, n, k, m, mode, correlate, y);
    for (int i = 0; i < len; i++) printf("%s%.9g", i ? " " : "", (double)y[i]);
    printf("\n");
    fv_error err;
    int rc = 0;
    if (raw && fv_save_npy(raw, y, 1, &len, &err) != FV_OK) rc = 1;
    if (!rc && out_png) { /* a strip, one pixel per value */
        fv_image *im = fv_image_from_values(y, 1, len, 1, FV_SCALE_MINMAX, &err);
        rc = !im || fv_image_save_png(im, out_png, &err) != FV_OK;
        fv_image_free(im);
    }
    if (rc) fprintf(stderr, "fovea: %s\n", err.message);
    free(y);
    return rc;
}

typedef struct filter_options {
    cli_common common;
    const char *kernel, *raw, *mode;
    long size;
    double sigma;
    int correlate, gray;
} filter_options;

static int run_filter(void *options) {
    const filter_options *o = options;
    const char *input = o->common.args[0], *kernel = o->kernel, *out = o->common.out, *raw = o->raw;
    long size = o->size;
    double sigma = o->sigma;
    int correlate = o->correlate, gray = o->gray;
    fv_convolve_mode mode = FV_CONVOLVE_SAME;
    parse_mode(o->mode, &mode);
    if (!kernel) return fprintf(stderr, "fovea: filter needs --kernel K (fovea filter --help)\n"), 2;

    /* the kernel: a name, a file or inline numbers */
    fv_error err;
    int kh = 0, kw = 0, magnitude = !strcmp(kernel, "sobel");
    float *k = NULL;
    int named = strspn(kernel, "abcdefghijklmnopqrstuvwxyz-") == strlen(kernel);
    if (strchr("0123456789-+.", kernel[0]) && !named) {
        char why[128];
        if (!(k = parse_numbers(kernel, &kh, &kw, why, sizeof why))) return fprintf(stderr, "fovea: --kernel: %s\n", why), 1;
    } else if (!named) {
        if (!(k = load_numbers(kernel, &kh, &kw))) return 1;
    } else {
        int max = size > 0 && size <= 1001 ? (int)(size * size) : 1001 * 1001;
        if (!(k = malloc((size_t)max * sizeof *k))) return fprintf(stderr, "fovea: out of memory\n"), 1;
        if (fv_filter_kernel(magnitude ? "sobel-x" : kernel, (int)size, (float)sigma, k, max, &kh, &kw, &err) != FV_OK)
            return free(k), fprintf(stderr, "fovea: %s\n", err.message), 1;
    }

    /* a signal (.npy / .txt) or an image */
    int rc = 1;
    fv_image *image = NULL, *picture = NULL;
    float *result = NULL, *second = NULL, *signal = NULL;
    if (ends_with(input, ".npy") || ends_with(input, ".txt")) {
        int rows, cols;
        if (!(signal = load_numbers(input, &rows, &cols))) goto done;
        if ((rows == 1 || cols == 1) && kh == 1) { /* a row, or a column (np.savetxt's 1-D: a number a line) */
            rc = filter_signal(signal, rows * cols, k, kw, mode, correlate, out, raw);
            goto done;
        }
        if (!(image = fv_image_new(rows, cols, 1, &err))) goto fail;
        memcpy(image->pixels, signal, (size_t)rows * cols * sizeof *signal);
    } else if (!(image = fv_image_load(input, gray ? 1 : 0, &err))) {
        goto fail;
    }
    int oh, ow, c = image->channels;
    if (fv_convolve2d_shape(image->height, image->width, kh, kw, mode, &oh, &ow, &err) != FV_OK) goto fail;
    result = malloc((size_t)oh * ow * c * sizeof *result);
    second = magnitude ? malloc((size_t)oh * ow * c * sizeof *second) : NULL;
    if (!result || (magnitude && !second)) { fprintf(stderr, "fovea: out of memory\n"); goto done; }
    if (fv_convolve2d(image->pixels, image->height, image->width, c, k, kh, kw, mode, correlate, result, &err) != FV_OK) goto fail;
    if (magnitude) { /* sqrt(gx^2 + gy^2) */
        if (fv_filter_kernel("sobel-y", 3, 1.0f, k, 9, &kh, &kw, &err) != FV_OK ||
            fv_convolve2d(image->pixels, image->height, image->width, c, k, kh, kw, mode, correlate, second, &err) != FV_OK)
            goto fail;
        for (size_t i = 0; i < (size_t)oh * ow * c; i++) result[i] = sqrtf(result[i] * result[i] + second[i] * second[i]);
    }
    int dims[3] = {oh, ow, c};
    if (raw && fv_save_npy(raw, result, c == 1 ? 2 : 3, dims, &err) != FV_OK) goto fail;
    if (out) {
        if (!(picture = fv_image_from_values(result, oh, ow, c, FV_SCALE_MINMAX, &err)) || fv_image_save_png(picture, out, &err) != FV_OK) goto fail;
        printf("wrote %s (%d x %d x %d)\n", out, oh, ow, c);
    }
    if (!out && !raw) { fprintf(stderr, "fovea: nothing to write: give -o OUT.png or --raw OUT.npy\n"); goto done; }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "fovea: %s\n", err.message);
done:
    free(k), free(signal), free(result), free(second);
    fv_image_free(image), fv_image_free(picture);
    return rc;
}

#define FILTER(field) offsetof(filter_options, field)
static const cli_option filter_table[] = {
    {"--kernel", NULL, CLI_TEXT, FILTER(kernel), "K", 0, 0,
     "sobel-x, sobel-y, sobel (gradient magnitude), average, gaussian, laplacian,\n"
     "sharpen; a file (.txt: rows of numbers, one row for a 1-D kernel; .npy);\n"
     "or numbers inline: \"1,0,-1\" or \"1,2,1;0,0,0;-1,-2,-1\"", NULL},
    {"--size", NULL, CLI_INT, FILTER(size), "N", 1, 1001, "average/gaussian kernel size (default 3; gaussian: 2*ceil(3*sigma)+1)", NULL},
    {"--sigma", NULL, CLI_FLOAT, FILTER(sigma), "S", 1e-6, 1e6, "gaussian standard deviation in pixels", NULL},
    {"--mode", NULL, CLI_CHOICE, FILTER(mode), "full|same|valid", 0, 0, "same: the input's size, zero padding", NULL},
    {"--correlate", NULL, CLI_FLAG, FILTER(correlate), NULL, 0, 0, "cross-correlation (no kernel flip: what CNN layers compute)", NULL},
    {"--gray", NULL, CLI_FLAG, FILTER(gray), NULL, 0, 0, "convert a colour image to gray first", NULL},
    {"--raw", NULL, CLI_TEXT, FILTER(raw), "OUT.npy", 0, 0, "the exact values (float32; H x W x C, or the 1-D result), in the input's\nunits: an image's pixels are in [0, 1], not 0 to 255", NULL},
};
static const filter_options filter_initial = {.mode = "same", .sigma = 1.0};
const cli_command cli_filter = {
    .name = "filter", .usage = "INPUT --kernel K [options] -o OUT.png", .summary = "classic convolution (Sobel, Gaussian, ...; NumPy/SciPy semantics)",
    .about = "  Convolves an image (PNG/JPEG/BMP/GIF, gray or RGB, each channel alone) or a signal (.npy or\n"
             "  .txt of numbers) with a kernel: 2-D as scipy.signal.convolve2d, 1-D as np.convolve. A signal is\n"
             "  one row, or one number a line (np.savetxt's 1-D); a 1-D result is also printed.\n",
    .examples = "photo.png --kernel sobel-x -o edges.png\nsignal.txt --kernel 1,0,-1 --mode same", .shared = CLI_OUT,
    .out_value = "OUT.png", .out_help = "the result rescaled for viewing (minimum to 0, maximum to 255)", .own = CLI_TABLE(filter_table),
    .min_args = 1, .max_args = 1, .size = sizeof(filter_options), .initial = &filter_initial, .run = run_filter};
