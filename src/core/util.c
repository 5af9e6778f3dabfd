/* util.c — errors, aligned memory, shapes, the clock, random numbers, text and output files. */
#include "core/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

fv_status fv_fail(fv_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        char raw[sizeof err->message];
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        /* A message is one line: control bytes copied from a file (a \v in a model text split it
         * over two) are written as \xNN, which keeps the rest readable. */
        size_t o = 0;
        for (const unsigned char *c = (const unsigned char *)raw; *c && o + 5 < sizeof err->message; c++) {
            if (*c < 0x20 || *c == 0x7f) o += (size_t)snprintf(err->message + o, sizeof err->message - o, "\\x%02x", *c);
            else err->message[o++] = (char)*c;
        }
        err->message[o] = '\0';
    }
    return FV_ERR;
}

void fv_text_put(fv_text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->len < t->size ? t->buf + t->len : NULL, t->len < t->size ? t->size - t->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

double fv_time_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void *fv_alloc_aligned(size_t bytes) {
    if (bytes == 0) bytes = FV_ALIGN;
    void *p = aligned_alloc(FV_ALIGN, fv_align_up(bytes, FV_ALIGN));
    if (p) memset(p, 0, fv_align_up(bytes, FV_ALIGN));
    return p;
}

/* The first number in a file (after `key` when given), in bytes (kB when `kilobytes`); 0 if none. */
static size_t number_in_file(const char *path, const char *key, int kilobytes) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    unsigned long long v = 0;
    while (!v && fgets(line, sizeof line, f))
        if (!key || !strncmp(line, key, strlen(key))) {
            const char *p = key ? line + strlen(key) : line;
            if (sscanf(p, " %llu", &v) != 1) v = 0;
            if (!key) break;
        }
    fclose(f);
    return (size_t)(kilobytes ? v * 1024 : v);
}

size_t fv_memory_available(void) {
    size_t avail = SIZE_MAX, v;
    if ((v = number_in_file("/proc/meminfo", "MemAvailable:", 1))) avail = v;
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY && (size_t)r.rlim_cur < avail) avail = (size_t)r.rlim_cur;
    size_t max = number_in_file("/sys/fs/cgroup/memory.max", NULL, 0), used = number_in_file("/sys/fs/cgroup/memory.current", NULL, 0);
    if (max && max > used && max - used < avail) avail = max - used; /* "max" (no limit) reads as no number */
    return avail;
}

size_t fv_shape_count(fv_shape s) {
    size_t n = 1;
    for (int i = 0; i < s.rank; i++) n *= (size_t)s.dim[i];
    return n;
}

int fv_shape_format(fv_shape s, char *buf, size_t size) {
    char tmp[80]; /* rank <= 4: "(None" + 4 * ", -2147483648" + ")" fits */
    int len = snprintf(tmp, sizeof tmp, "(None");
    for (int i = 0; i < s.rank; i++) len += snprintf(tmp + len, sizeof tmp - (size_t)len, ", %d", s.dim[i]);
    snprintf(tmp + len, sizeof tmp - (size_t)len, ")");
    return snprintf(buf, size, "%s", tmp);
}

/* ---- Random numbers: splitmix64, enough for seeded initialisation and dropout masks. ---- */
void fv_rng_seed(fv_rng *rng, uint64_t seed) { rng->state = seed ^ 0x9E3779B97F4A7C15ull; }

uint64_t fv_rng_next(fv_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t fv_mix64(uint64_t x) {
    fv_rng r = {x};
    return fv_rng_next(&r);
}

float fv_rng_uniform(fv_rng *rng) { return (float)(fv_rng_next(rng) >> 40) * (1.0f / 16777216.0f); }

void fv_random_uniform(float *x, size_t n, uint64_t seed) {
    fv_rng rng;
    fv_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) x[i] = fv_rng_uniform(&rng);
}

fv_status fv_output_open(fv_output *o, const char *path, fv_error *err) {
    struct stat st;
    o->path = path, o->tmp[0] = '\0';
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) return fv_fail(err, "%s: is a folder, not a file", path);
        if (!(o->f = fopen(path, "wb"))) return fv_fail(err, "%s: cannot write: %s", path, strerror(errno));
        return FV_OK;
    }
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
    if (!(o->f = fopen(o->tmp, "wb"))) return fv_fail(err, "%s: cannot write: %s", path, strerror(errno));
    return FV_OK;
}

fv_status fv_output_close(fv_output *o, int ok, fv_error *err) {
    int e = 0;
    if (ok && (fflush(o->f) != 0 || (o->tmp[0] && fsync(fileno(o->f)) != 0))) ok = 0, e = errno;
    if (fclose(o->f) != 0 && ok) ok = 0, e = errno;
    o->f = NULL;
    if (!o->tmp[0]) return ok ? FV_OK : fv_fail(err, "%s: write failed: %s", o->path, e ? strerror(e) : "an error while writing");
    if (ok && rename(o->tmp, o->path) != 0) ok = 0, e = errno;
    if (ok) return FV_OK;
    remove(o->tmp);
    return fv_fail(err, "%s: write failed: %s", o->path, e ? strerror(e) : "an error while writing (disk full?)");
}

const char *fv_version(void) { return FOVEA_VERSION; }

int fv_has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

fv_status fv_write_file(const char *path, const void *data, size_t size, fv_error *err) {
    fv_output o;
    if (fv_output_open(&o, path, err) != FV_OK) return FV_ERR;
    return fv_output_close(&o, fwrite(data, 1, size, o.f) == size, err);
}
