/* util.h — errors, random numbers and text helpers every part of the library uses. */
#ifndef FOVEA_UTIL_H
#define FOVEA_UTIL_H

#include "fovea.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FV_PI 3.14159265358979323846
#define FV_ALIGN 64 /* bytes: every planned buffer starts on a cache line */
/* Limits that keep every size computed from a file or a definition far from overflow: 2^31
 * values per sample (any one fits an int; VGG16's largest has 3.2 million), 2^32 parameters (VGG16 has 138 million). */
#define FV_MAX_SAMPLE_VALUES ((size_t)INT_MAX)
#define FV_MAX_PARAM_VALUES ((size_t)1 << 32)
#define FV_MAX_EPOCHS 1000000
#define FV_MAX_BATCH (1 << 24)
#define FV_MAX_CLASSES 100000

fv_status fv_fail(fv_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline size_t fv_align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }
/* Zeroed, FV_ALIGN-aligned memory (free with free()); NULL when out of memory. */
void *fv_alloc_aligned(size_t bytes);
/* The bytes this process can still take: the least of the memory the kernel reports available
 * (MemAvailable), the address-space limit (ulimit -v) and the cgroup's limit; SIZE_MAX when none
 * can be read. Planning checks a plan against it before touching a byte. */
size_t fv_memory_available(void);

/* ---- Random numbers: a per-network generator (no global state): splitmix64. Only
 * reproducibility matters here, not crypto quality. ---- */
typedef struct fv_rng {
    uint64_t state;
} fv_rng;
void fv_rng_seed(fv_rng *rng, uint64_t seed);
uint64_t fv_rng_next(fv_rng *rng);
float fv_rng_uniform(fv_rng *rng); /* [0, 1) */
/* A seed for one item of a stream (one sample of an epoch, one layer): splitmix64's mixing of x,
 * so nearby numbers give unrelated seeds. */
uint64_t fv_mix64(uint64_t x);

/* ---- Text into a caller's buffer, snprintf-style: len counts what would have been written. ---- */
typedef struct fv_text {
    char *buf;
    size_t size, len;
} fv_text;
void fv_text_put(fv_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Output files are written to a temporary file beside the path, synced and renamed over it:
 * a crash or a full disk never leaves half a file nor damages the old one. A path that exists
 * and is not a regular file (/dev/null, a pipe) is written directly: renaming over it would
 * replace the device. ---- */
typedef struct fv_output {
    FILE *f;
    const char *path;
    char tmp[4096]; /* empty when written directly */
} fv_output;
fv_status fv_output_open(fv_output *o, const char *path, fv_error *err);
/* ok: whether every write succeeded. Closes; renames into place, or removes the temporary file. */
fv_status fv_output_close(fv_output *o, int ok, fv_error *err);

/* Whether s ends in suffix (a file's kind by its name: ".onnx", ".npy"). */
int fv_has_suffix(const char *s, const char *suffix);

#endif
