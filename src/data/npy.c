/* load_npy.c — NumPy .npy files (format versions 1-3): the magic "\x93NUMPY", a version, a
 * header length, then a Python-dict header {'descr': '<f4', 'fortran_order': False,
 * 'shape': (N, ...)} and the C-order data. */
#include "data/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct npy_array {
    char kind;      /* 'u' unsigned int, 'i' signed int, 'f' float */
    int item_size;  /* bytes */
    int rank;
    size_t dim[8];
    size_t count;
    const unsigned char *data;
} npy_array;

static fv_status parse_npy(const char *path, const fv_bytes *b, npy_array *a, fv_error *err) {
    if (b->size < 10 || memcmp(b->data, "\x93NUMPY", 6)) return fv_fail(err, "%s: not a .npy file (no \\x93NUMPY magic)", path);
    int major = b->data[6];
    size_t header_len, start;
    if (major == 1) header_len = b->data[8] | (size_t)b->data[9] << 8, start = 10;
    else if (major == 2 || major == 3) {
        if (b->size < 12) return fv_fail(err, "%s: truncated header", path);
        header_len = b->data[8] | (size_t)b->data[9] << 8 | (size_t)b->data[10] << 16 | (size_t)b->data[11] << 24;
        start = 12;
    } else return fv_fail(err, "%s: unsupported .npy version %d", path, major);
    if (start + header_len > b->size || header_len > 65536) return fv_fail(err, "%s: truncated header", path);
    char header[65537];
    memcpy(header, b->data + start, header_len);
    header[header_len] = '\0';

    const char *descr = strstr(header, "'descr'"), *fortran = strstr(header, "'fortran_order'"), *shape = strstr(header, "'shape'");
    if (!descr || !fortran || !shape) return fv_fail(err, "%s: header lacks descr, fortran_order or shape", path);
    const char *q = strchr(descr + 7, '\'');
    if (!q || !q[1] || !q[2] || !q[3]) return fv_fail(err, "%s: bad descr", path);
    char order = q[1];
    a->kind = q[2];
    a->item_size = atoi(q + 3);
    if (order == '>' && a->item_size > 1) return fv_fail(err, "%s: big-endian data is not supported", path);
    if (!(a->kind == 'u' || a->kind == 'i' || a->kind == 'f') || !(a->item_size == 1 || a->item_size == 2 || a->item_size == 4 || a->item_size == 8) ||
        (a->kind == 'f' && a->item_size < 4))
        return fv_fail(err, "%s: unsupported dtype '%c%c%d' (use uint8, integers or float32/64)", path, order, a->kind, a->item_size);
    const char *value = strchr(fortran, ':');
    while (value && (*value == ':' || *value == ' ')) value++;
    if (!value || strncmp(value, "False", 5) != 0)
        return fv_fail(err, "%s: Fortran-order arrays are not supported (save with C order)", path);
    const char *p = strchr(shape, '(');
    if (!p) return fv_fail(err, "%s: bad shape", path);
    p++;
    a->rank = 0, a->count = 1;
    while (*p && *p != ')') {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (v < 0 || a->rank == 8) return fv_fail(err, "%s: bad shape", path);
        a->dim[a->rank++] = (size_t)v, a->count *= (size_t)v;
        p = end;
    }
    if (a->rank == 0) return fv_fail(err, "%s: a scalar, not an array", path);
    size_t need = start + header_len + a->count * (size_t)a->item_size;
    if (b->size != need)
        return fv_fail(err, "%s: %s: the shape needs %zu bytes of data, the file has %zu", path,
                       b->size < need ? "truncated" : "trailing bytes", need - start - header_len, b->size - start - header_len);
    a->data = b->data + start + header_len;
    return FV_OK;
}

static double element(const npy_array *a, size_t i) {
    const unsigned char *p = a->data + i * (size_t)a->item_size;
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f; double d; } v;
    memcpy(&v, p, (size_t)a->item_size);
    switch (a->kind) {
    case 'u': return a->item_size == 1 ? v.u8 : a->item_size == 2 ? v.u16 : a->item_size == 4 ? v.u32 : (double)v.u64;
    case 'i': return a->item_size == 1 ? v.i8 : a->item_size == 2 ? v.i16 : a->item_size == 4 ? v.i32 : (double)v.i64;
    default: return a->item_size == 4 ? v.f : v.d;
    }
}

fv_dataset *fv_load_npy(const char *images_path, const char *labels_path, fv_error *err) {
    fv_bytes xb = {0}, yb = {0};
    fv_dataset *d = NULL;
    npy_array x, y;
    if (fv_read_file(images_path, &xb, err) != FV_OK || parse_npy(images_path, &xb, &x, err) != FV_OK) goto done;
    if (fv_read_file(labels_path, &yb, err) != FV_OK || parse_npy(labels_path, &yb, &y, err) != FV_OK) goto done;
    if (x.rank < 2 || x.rank > 4) {
        fv_fail(err, "%s: expected (N, H, W[, C]) or (N, D), got rank %d", images_path, x.rank);
        goto done;
    }
    if (!(y.rank == 1 || (y.rank == 2 && y.dim[1] == 1)) || y.dim[0] != x.dim[0]) {
        fv_fail(err, "%s: expected %zu labels of shape (N) or (N, 1)", labels_path, x.dim[0]);
        goto done;
    }
    fv_shape shape = {x.rank - 1, {0, 0, 0}};
    for (int i = 1; i < x.rank; i++) shape.dim[i - 1] = (int)x.dim[i];
    if (x.rank == 3) shape = (fv_shape){3, {(int)x.dim[1], (int)x.dim[2], 1}}; /* (N, H, W): one channel */
    int classes = 0;
    for (size_t i = 0; i < y.count; i++) {
        double v = element(&y, i);
        if (!(v >= 0 && v < FV_MAX_CLASSES) || v != (double)(int)v) { /* the range first: (int) of a huge v is undefined */
            fv_fail(err, "%s: label %zu is %g, not a class index", labels_path, i, v);
            goto done;
        }
        classes = (int)v + 1 > classes ? (int)v + 1 : classes;
    }
    d = fv_dataset_new(x.dim[0], shape, classes, err);
    if (!d) goto done;
    double scale = x.kind == 'u' && x.item_size == 1 ? 1.0 / 255.0 : 1.0;
    for (size_t i = 0; i < x.count; i++) d->x[i] = (float)(element(&x, i) * scale);
    for (size_t i = 0; i < y.count; i++) d->labels[i] = (int32_t)element(&y, i);
    if (fv_dataset_check(d, images_path, err) != FV_OK) fv_dataset_free(d), d = NULL;
done:
    free(xb.data);
    free(yb.data);
    return d;
}

fv_status fv_save_npy(const char *path, const float *data, int rank, const int *dims, fv_error *err) {
    char header[256], shape[160] = "";
    size_t count = 1, used = 0;
    if (rank < 1 || rank > 8) return fv_fail(err, "%s: an array of rank %d", path, rank);
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return fv_fail(err, "%s: negative dimension %d", path, dims[i]);
        count *= (size_t)dims[i];
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%d%s", dims[i], rank == 1 ? "," : i + 1 < rank ? ", " : "");
    }
    /* the header, padded with spaces and ended by a newline so the data starts 64-byte aligned */
    int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
    size_t total = (size_t)(10 + len + 1 + 63) / 64 * 64;
    fv_output o;
    if (fv_output_open(&o, path, err) != FV_OK) return FV_ERR;
    FILE *f = o.f;
    unsigned short header_len = (unsigned short)(total - 10);
    unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(header_len & 0xff), (unsigned char)(header_len >> 8)};
    int ok = fwrite(preamble, 1, 10, f) == 10 && fwrite(header, 1, (size_t)len, f) == (size_t)len;
    for (size_t i = 10 + (size_t)len; ok && i < total - 1; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && fwrite(data, sizeof *data, count, f) == count; /* little-endian hosts */
    return fv_output_close(&o, ok, err);
}

static float *npy_floats(const char *name, const fv_bytes *b, int *rank, int dims[8], fv_error *err) {
    npy_array a;
    float *out = NULL;
    if (parse_npy(name, b, &a, err) != FV_OK) return NULL;
    if (!(out = malloc((a.count ? a.count : 1) * sizeof *out))) return fv_fail(err, "%s: out of memory", name), NULL;
    for (size_t i = 0; i < a.count; i++) out[i] = (float)element(&a, i);
    *rank = a.rank;
    for (int i = 0; i < a.rank; i++) dims[i] = a.dim[i] > (size_t)1 << 30 ? -1 : (int)a.dim[i];
    return out;
}

float *fv_load_npy_floats(const char *path, int *rank, int dims[8], fv_error *err) {
    fv_bytes b = {0};
    float *out = fv_read_file(path, &b, err) == FV_OK ? npy_floats(path, &b, rank, dims, err) : NULL;
    free(b.data);
    return out;
}

float *fv_decode_npy_floats(const void *bytes, size_t size, const char *name, int *rank, int dims[8], fv_error *err) {
    fv_bytes b = {(unsigned char *)bytes, size};
    return npy_floats(name, &b, rank, dims, err);
}
