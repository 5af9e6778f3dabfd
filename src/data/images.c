/* load_images.c — a folder of images, one subfolder per class (as Keras'
 * image_dataset_from_directory): classes are the subfolders sorted by name, images are PNG, JPEG,
 * BMP or GIF decoded with stb_image (JPEG with libjpeg-turbo) and resized as PIL resizes
 * (resample.c) when their size differs. */
#include "data/data.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>
#include <sys/stat.h>

#include <stb/stb_image.h>
#include <turbojpeg.h>

typedef struct name_list {
    char **names;
    int count, cap;
} name_list;

static void free_names(name_list *l) {
    for (int i = 0; i < l->count; i++) free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
                   !strcasecmp(dot, ".bmp") || !strcasecmp(dot, ".gif"));
}

/* Sorted entries of dir: subdirectories (want_dirs) or image files. */
static fv_status list_dir(const char *dir, int want_dirs, name_list *out, fv_error *err) {
    DIR *d = opendir(dir);
    if (!d) return fv_fail(err, "%s: cannot open the folder", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[8192];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0) continue;
        if (want_dirs ? !S_ISDIR(st.st_mode) : !(S_ISREG(st.st_mode) && is_image_name(e->d_name))) continue;
        if (out->count == out->cap) {
            int cap = out->cap ? 2 * out->cap : 64;
            char **grown = realloc(out->names, (size_t)cap * sizeof *grown);
            if (!grown) return closedir(d), fv_fail(err, "out of memory listing %s", dir);
            out->names = grown, out->cap = cap;
        }
        if (!(out->names[out->count] = strdup(e->d_name))) return closedir(d), fv_fail(err, "out of memory listing %s", dir);
        out->count++;
    }
    closedir(d);
    if (out->count > 1) qsort(out->names, (size_t)out->count, sizeof *out->names, compare_names);
    return FV_OK;
}

fv_dataset *fv_load_image_folder(const char *dir, int height, int width, int channels, fv_error *err) {
    if (channels != 1 && channels != 3) return fv_fail(err, "images load with 1 or 3 channels, not %d", channels), NULL;
    name_list classes = {0}, *files = NULL;
    fv_dataset *d = NULL;
    if (list_dir(dir, 1, &classes, err) != FV_OK) goto done;
    if (classes.count < 1) {
        fv_fail(err, "%s: no class subfolders (expected DIR/CLASS/image.png)", dir);
        goto done;
    }
    /* every class folder is listed once; the lists say how many images there are */
    if (!(files = calloc((size_t)classes.count, sizeof *files))) {
        fv_fail(err, "out of memory listing %s", dir);
        goto done;
    }
    size_t total = 0;
    char first[8192] = "";
    for (int c = 0; c < classes.count; c++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, classes.names[c]);
        if (list_dir(sub, 0, &files[c], err) != FV_OK) goto done;
        if (!first[0] && files[c].count) snprintf(first, sizeof first, "%s/%s", sub, files[c].names[0]);
        total += (size_t)files[c].count;
    }
    if (total == 0) {
        fv_fail(err, "%s: no PNG/JPEG images in its class subfolders", dir);
        goto done;
    }
    int n;
    if ((height <= 0 || width <= 0) && !stbi_info(first, &width, &height, &n)) { /* the first image's size */
        fv_fail(err, "%s: cannot decode: %s", first, stbi_failure_reason());
        goto done;
    }
    if (!(d = fv_dataset_new(total, (fv_shape){3, {height, width, channels}}, classes.count, err))) goto done;
    size_t at = 0, per = (size_t)height * width * channels;
    for (int c = 0; c < classes.count; c++) {
        snprintf(d->class_names[c], FV_CLASS_NAME_MAX, "%s", classes.names[c]);
        for (int f = 0; f < files[c].count; f++, at++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes.names[c], files[c].names[f]);
            if (fv_load_image(path, height, width, channels, d->x + at * per, err) != FV_OK) {
                fv_dataset_free(d), d = NULL;
                goto done;
            }
            d->labels[at] = c;
        }
    }
done:
    for (int c = 0; files && c < classes.count; c++) free_names(&files[c]);
    free(files);
    free_names(&classes);
    return d;
}

/* ---- Decoding one file. stb_image decodes what it can of a damaged file without saying so; the
 * checks before it make a truncated file an error. ---- */
#define MAX_IMAGE_PIXELS ((size_t)1 << 28) /* 268 megapixels */

static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* NULL when the bytes hold a whole image as far as can be told cheaply, else what is missing. */
/* A PNG's image data (its IDAT chunks) inflated with zlib before stb does: stb's inflater reads
 * zero bits past the end of the data, so a short corrupt stream could grow its output without
 * bound (a 176-byte file asked for 2 GB under the fuzzer; so did a 199-byte one whose second IDAT
 * held a second stream after the first ended). The data must be one zlib stream, ending with the
 * last IDAT byte, that inflates to no more than the rows of its header's size need (8 bytes a pixel
 * at most, a filter byte a row, Adam7's seven passes). */
static const char *png_data_bad(const unsigned char *b, size_t n) {
    if (n < 33 || memcmp(b + 12, "IHDR", 4)) return "malformed PNG (no IHDR chunk first)";
    uint64_t w = (uint64_t)b[16] << 24 | (uint64_t)b[17] << 16 | (uint64_t)b[18] << 8 | b[19];
    uint64_t h = (uint64_t)b[20] << 24 | (uint64_t)b[21] << 16 | (uint64_t)b[22] << 8 | b[23];
    uint64_t limit = h * (w * 8 + 1) + 7 * (h + 8) * 9 + 64;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return "cannot check the PNG's data (zlib)";
    unsigned char out[16384];
    uint64_t total = 0;
    int status = Z_OK, trailing = 0;
    for (size_t at = 8; at + 12 <= n && (status == Z_OK || status == Z_STREAM_END);) {
        uint32_t len = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
        if (len > n - at - 12) /* stb would allocate what the chunk claims (a 199-byte file's 1.2 GB) before finding it short */
            return inflateEnd(&z), "malformed PNG (a chunk runs past the end of the file)";
        if (!memcmp(b + at + 4, "IDAT", 4) && status == Z_STREAM_END) trailing |= len > 0; /* stb would read on */
        else if (!memcmp(b + at + 4, "IDAT", 4)) {
            z.next_in = (unsigned char *)(uintptr_t)(b + at + 8), z.avail_in = len;
            while (status == Z_OK && (z.avail_in > 0 || z.avail_out == 0)) {
                z.next_out = out, z.avail_out = sizeof out;
                status = inflate(&z, Z_NO_FLUSH);
                total += sizeof out - z.avail_out;
                if (total > limit) status = Z_DATA_ERROR;
                if (status == Z_BUF_ERROR) status = Z_OK; /* needs the next chunk */
                if (status == Z_OK && z.avail_in == 0 && z.avail_out != 0) break;
            }
            if (status == Z_STREAM_END && z.avail_in > 0) trailing = 1;
        }
        at += (size_t)len + 12;
    }
    inflateEnd(&z);
    if (trailing) return "malformed PNG (image data after the end of its compressed stream)";
    if (total > limit) return "malformed PNG (its data inflates beyond its image size)";
    if (status != Z_STREAM_END) return "malformed PNG (its compressed data is corrupt or ends early)";
    return NULL;
}

static const char *incomplete(const unsigned char *b, size_t n) {
    if (n >= 8 && !memcmp(b, "\x89PNG", 4)) { /* must end with the IEND chunk */
        for (size_t i = n >= 12 ? n - 12 : 0; i + 4 <= n; i++)
            if (!memcmp(b + i, "IEND", 4)) return png_data_bad(b, n);
        return "truncated PNG (no IEND chunk)";
    }
    if (n >= 2 && b[0] == 0xFF && b[1] == 0xD8) { /* JPEG: an end-of-image marker */
        for (size_t i = n; i >= 2 && i + 64 > n; i--)
            if (b[i - 2] == 0xFF && b[i - 1] == 0xD9) return NULL;
        return "truncated JPEG (no end-of-image marker)";
    }
    if (n >= 6 && !memcmp(b, "GIF8", 4)) return b[n - 1] == 0x3B ? NULL : "truncated GIF (no trailer)";
    if (n >= 34 && b[0] == 'B' && b[1] == 'M' && le32(b + 30) == 0) { /* uncompressed BMP: every row there */
        int32_t w = (int32_t)le32(b + 18), h = (int32_t)le32(b + 22);
        uint32_t bpp = (uint32_t)b[28] | (uint32_t)b[29] << 8;
        if (w > 0 && h != 0 && h != INT32_MIN && bpp > 0 && bpp <= 32) {
            uint64_t row = ((uint64_t)w * bpp + 31) / 32 * 4, need = le32(b + 10) + row * (uint64_t)(h < 0 ? -h : h);
            if (need > n) return "truncated BMP (fewer bytes than its rows need)";
        }
    }
    return NULL;
}

/* A JPEG's pixels with libjpeg-turbo (TurboJPEG): its SIMD decoder is 3x stb's (4.7 ms for a 768 x
 * 576 photo, a third of fovea serve's CPU on resnet18 requests), and it decodes as PIL does, which
 * torchvision's preprocessing reads. The buffer is malloc'd: stbi_image_free frees it (stb's
 * allocator is malloc/free, STBI_MALLOC's default). Warnings (corrupt data libjpeg would fill in
 * grey) are errors, and progressive scans are limited (the libjpeg-turbo advisory on scan floods). */
static unsigned char *decode_jpeg(const unsigned char *bytes, size_t size, int channels, int w, int h, const char **why) {
    tjhandle tj = tjInitDecompress();
    unsigned char *pixels = tj ? malloc((size_t)w * (size_t)h * (size_t)channels) : NULL;
    if (!tj || !pixels) {
        *why = "out of memory";
    } else if (tjDecompress2(tj, bytes, (unsigned long)size, pixels, w, 0, h, channels == 1 ? TJPF_GRAY : TJPF_RGB,
                             TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0) {
        static const char *const known[] = {"a corrupt JPEG (libjpeg-turbo stopped on a warning)", "a JPEG libjpeg-turbo cannot decode"};
        *why = tjGetErrorCode(tj) == TJERR_WARNING ? known[0] : known[1];
        free(pixels), pixels = NULL;
    }
    if (tj) tjDestroy(tj);
    return pixels;
}

/* Encoded bytes' pixels as 8-bit, channels per pixel (1 or 3); free with stbi_image_free. `name`
 * (a file's path, or what a request calls it) starts every error. */
static unsigned char *decode_bytes(const unsigned char *bytes, size_t size, const char *name, int channels, int *w, int *h, fv_error *err) {
    int n;
    const char *why = size == 0 ? "an empty file" : size > INT_MAX ? "larger than 2 GB" : incomplete(bytes, size);
    if (!why && !stbi_info_from_memory(bytes, (int)size, w, h, &n)) why = stbi_failure_reason();
    else if (!why && (*w <= 0 || *h <= 0)) why = "the image has 0 pixels";
    else if (!why && (size_t)*w * (size_t)*h > MAX_IMAGE_PIXELS) why = "more than 268 megapixels";
    /* deflate (PNG), LZW (GIF), RLE (BMP) and JPEG pack at most about a thousand pixels in a byte;
     * a header claiming far more describes pixels the file does not hold (stb would invent them) */
    else if (!why && (size_t)*w * (size_t)*h > 4096 * size) why = "the header claims more pixels than the file can hold";
    int jpeg = size > 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
    unsigned char *pixels = why ? NULL : jpeg ? decode_jpeg(bytes, size, channels, *w, *h, &why)
                                              : stbi_load_from_memory(bytes, (int)size, w, h, &n, channels);
    if (!why && !pixels) why = stbi_failure_reason();
    if (why) fv_fail(err, "%s: cannot decode: %s", name, why);
    return pixels;
}

/* The file's pixels, as decode_bytes. */
static unsigned char *decode(const char *path, int channels, int *w, int *h, fv_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return fv_fail(err, "%s: cannot decode: cannot open: %s", path, strerror(errno)), NULL;
    unsigned char *bytes = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size > INT_MAX) return fclose(f), fv_fail(err, "%s: cannot decode: larger than 2 GB", path), NULL;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (bytes = malloc((size_t)size + 1)) != NULL &&
        fread(bytes, 1, (size_t)size, f) != (size_t)size)
        size = -1;
    fclose(f);
    if (size < 0 || !bytes) return free(bytes), fv_fail(err, "%s: cannot decode: cannot read it (a folder?)", path), NULL;
    unsigned char *pixels = decode_bytes(bytes, (size_t)size, path, channels, w, h, err);
    free(bytes);
    return pixels;
}

/* Decoded pixels (w x h) as the model's input: resized to height x width, or (shorter > 0) resized so
 * the shorter side is `shorter`, then the central crop; in [0, 1]. Frees pixels. */
static fv_status pixels_to_input(unsigned char *pixels, int w, int h, const char *name, int shorter, int height, int width, int channels,
                                 float *out, fv_error *err) {
    if (!shorter) {
        size_t count = (size_t)height * width * channels;
        unsigned char *src = pixels, *resized = NULL;
        if (w != width || h != height) {
            if (!(resized = malloc(count))) return stbi_image_free(pixels), fv_fail(err, "out of memory");
            if (!fv_resample_bilinear(pixels, w, h, channels, resized, width, height))
                return free(resized), stbi_image_free(pixels), fv_fail(err, "%s: out of memory resizing to %d x %d", name, width, height);
            src = resized;
        }
        for (size_t i = 0; i < count; i++) out[i] = (float)src[i] / 255.0f;
        free(resized);
        stbi_image_free(pixels);
        return FV_OK;
    }
    /* torchvision's Resize(shorter): the shorter side to `shorter`, the other int(long * shorter / short) */
    int rw = w <= h ? shorter : (int)((double)w * shorter / h), rh = w <= h ? (int)((double)h * shorter / w) : shorter;
    if (rw < width || rh < height) return stbi_image_free(pixels), fv_fail(err, "%s: %d x %d is too narrow to crop %d x %d", name, w, h, width, height);
    /* CenterCrop: the offsets torchvision rounds, int(round(d / 2.0)): Python rounds a half to even
     * (58.5 to 58, where lround gave 59: a 768 x 576 photo was cropped a pixel right of torchvision) */
    int top = (int)lrint((rh - height) / 2.0), left = (int)lrint((rw - width) / 2.0);
    unsigned char *resized = malloc((size_t)rw * rh * channels);
    if (!resized) return stbi_image_free(pixels), fv_fail(err, "out of memory");
    if (!fv_resample_bilinear(pixels, w, h, channels, resized, rw, rh)) {
        free(resized), stbi_image_free(pixels);
        return fv_fail(err, "%s: out of memory resizing to %d x %d", name, rw, rh);
    }
    stbi_image_free(pixels);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width * channels; x++)
            out[((size_t)y * width) * channels + x] = (float)resized[((size_t)(top + y) * rw + left) * channels + x] / 255.0f;
    free(resized);
    return FV_OK;
}

static fv_status check_input_size(int shorter, int height, int width, int channels, fv_error *err) {
    if (channels != 1 && channels != 3) return fv_fail(err, "images load with 1 or 3 channels, not %d", channels);
    if (height <= 0 || width <= 0) return fv_fail(err, "images are resized to a positive size, not %d x %d", height, width);
    if (shorter && (shorter < height || shorter < width))
        return fv_fail(err, "a %d x %d crop of an image resized to %d on its shorter side", height, width, shorter);
    return FV_OK;
}

fv_status fv_load_image(const char *path, int height, int width, int channels, float *out, fv_error *err) {
    return fv_load_image_cropped(path, 0, height, width, channels, out, err);
}

fv_status fv_load_image_cropped(const char *path, int shorter, int height, int width, int channels, float *out, fv_error *err) {
    if (check_input_size(shorter, height, width, channels, err) != FV_OK) return FV_ERR;
    int w, h;
    unsigned char *pixels = decode(path, channels, &w, &h, err);
    return pixels ? pixels_to_input(pixels, w, h, path, shorter, height, width, channels, out, err) : FV_ERR;
}

fv_status fv_decode_image_size(const void *bytes, size_t size, const char *name, int *height, int *width, fv_error *err) {
    int n;
    const char *why = size == 0 ? "an empty file" : size > INT_MAX ? "larger than 2 GB" : incomplete(bytes, size);
    if (!why && !stbi_info_from_memory(bytes, (int)size, width, height, &n)) why = stbi_failure_reason();
    else if (!why && (*width <= 0 || *height <= 0)) why = "the image has 0 pixels";
    return why ? fv_fail(err, "%s: cannot decode: %s", name, why) : FV_OK;
}

fv_status fv_decode_image(const void *bytes, size_t size, const char *name, int shorter, int height, int width, int channels, float *out,
                          fv_error *err) {
    if (check_input_size(shorter, height, width, channels, err) != FV_OK) return FV_ERR;
    int w, h;
    unsigned char *pixels = decode_bytes(bytes, size, name, channels, &w, &h, err);
    return pixels ? pixels_to_input(pixels, w, h, name, shorter, height, width, channels, out, err) : FV_ERR;
}

fv_image *fv_image_load(const char *path, int channels, fv_error *err) {
    if (channels != 0 && channels != 1 && channels != 3) return fv_fail(err, "images load with 1 or 3 channels, not %d", channels), NULL;
    int w, h, n;
    if (channels == 0) { /* as stored: gray (with or without alpha) or colour */
        if (!stbi_info(path, &w, &h, &n)) return fv_fail(err, "%s: cannot decode: %s", path, stbi_failure_reason()), NULL;
        channels = n <= 2 ? 1 : 3;
    }
    unsigned char *pixels = decode(path, channels, &w, &h, err);
    if (!pixels) return NULL;
    fv_error why;
    fv_image *im = fv_image_new(h, w, channels, &why);
    if (!im) fv_fail(err, "%s: %s", path, why.message);
    for (size_t i = 0; im && i < (size_t)h * w * channels; i++) im->pixels[i] = (float)pixels[i] / 255.0f;
    stbi_image_free(pixels);
    return im;
}
