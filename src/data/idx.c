/* load_idx.c — MNIST / Fashion-MNIST IDX files (plain or gzip) and the whole-file reader the
 * other loaders share. IDX: a big-endian magic (0x0803 images, 0x0801 labels), the dimensions as
 * big-endian u32, then the bytes. */
#include "data/data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_FILE_BYTES ((size_t)1 << 32)

fv_status fv_read_file(const char *path, fv_bytes *out, fv_error *err) {
    out->data = NULL, out->size = 0;
    gzFile f = gzopen(path, "rb"); /* reads plain files as they are */
    if (!f) return fv_fail(err, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        if (out->size == cap) {
            if (cap >= MAX_FILE_BYTES) {
                gzclose(f), free(buf);
                return fv_fail(err, "%s: larger than 4 GiB", path);
            }
            unsigned char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf), buf = NULL;
                break;
            }
            buf = grown, cap *= 2;
        }
        int n = gzread(f, buf + out->size, (unsigned)(cap - out->size > (1u << 30) ? (1u << 30) : cap - out->size));
        int code = Z_OK;
        const char *why = n <= 0 ? gzerror(f, &code) : NULL;
        size_t plen = strlen(path);
        if (why && !strncmp(why, path, plen) && !strncmp(why + plen, ": ", 2)) why += plen + 2; /* zlib repeats the path */
        /* n < 0: a read or CRC error; n == 0 with Z_BUF_ERROR: a gzip stream cut short (no trailer) */
        if (n < 0 || (n == 0 && code != Z_OK && code != Z_STREAM_END)) {
            fv_fail(err, "%s: %s: %s", path, code == Z_BUF_ERROR ? "truncated gzip data" : "read failed",
                    why && *why ? why : "an I/O error"); /* the message lives in f: copied before gzclose */
            gzclose(f), free(buf);
            return FV_ERR;
        }
        if (n == 0) break;
        out->size += (size_t)n;
    }
    gzclose(f);
    if (!buf) return fv_fail(err, "%s: out of memory reading it", path);
    out->data = buf;
    return FV_OK;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

fv_dataset *fv_load_idx(const char *images_path, const char *labels_path, fv_error *err) {
    fv_bytes img = {0}, lab = {0};
    fv_dataset *d = NULL;
    if (fv_read_file(images_path, &img, err) != FV_OK || fv_read_file(labels_path, &lab, err) != FV_OK) goto done;
    if (img.size < 16 || be32(img.data) != 0x803) {
        fv_fail(err, "%s: not an IDX image file (expected magic 0x00000803 and 3 dimensions)", images_path);
        goto done;
    }
    if (lab.size < 8 || be32(lab.data) != 0x801) {
        fv_fail(err, "%s: not an IDX label file (expected magic 0x00000801)", labels_path);
        goto done;
    }
    uint32_t n = be32(img.data + 4), rows = be32(img.data + 8), cols = be32(img.data + 12), nl = be32(lab.data + 4);
    if (rows == 0 || cols == 0 || rows > 65536 || cols > 65536 || n > (1u << 28)) {
        fv_fail(err, "%s: implausible dimensions %u x %u x %u", images_path, n, rows, cols);
        goto done;
    }
    size_t need = 16 + (size_t)n * rows * cols;
    if (img.size != need) {
        fv_fail(err, "%s: %s: %u images of %ux%u need %zu bytes, the file has %zu", images_path,
                img.size < need ? "truncated" : "trailing bytes", n, rows, cols, need, img.size);
        goto done;
    }
    if (lab.size != 8 + (size_t)nl || nl != n) {
        fv_fail(err, "%s: %u labels in %zu bytes, but %s has %u images", labels_path, nl, lab.size, images_path, n);
        goto done;
    }
    int classes = 0;
    for (uint32_t i = 0; i < n; i++) classes = lab.data[8 + i] + 1 > classes ? lab.data[8 + i] + 1 : classes;
    d = fv_dataset_new(n, (fv_shape){3, {(int)rows, (int)cols, 1}}, classes, err);
    if (!d) goto done;
    for (size_t i = 0; i < (size_t)n * rows * cols; i++) d->x[i] = (float)img.data[16 + i] / 255.0f;
    for (uint32_t i = 0; i < n; i++) d->labels[i] = lab.data[8 + i];
done:
    free(img.data);
    free(lab.data);
    return d;
}
