/* check.h — a tiny test harness: CHECK counts, and report() prints "N passed, N failed". */
#ifndef FOVEA_TEST_CHECK_H
#define FOVEA_TEST_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_counts {
    int passed, failed;
    double worst; /* the largest error a comparison saw, for programs that report it */
} test_counts;

#define CHECK(t, cond, ...)                                                                             \
    do {                                                                                                \
        if (cond) {                                                                                     \
            (t)->passed++;                                                                              \
        } else {                                                                                        \
            (t)->failed++;                                                                              \
            fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond);                          \
            fprintf(stderr, __VA_ARGS__);                                                               \
            fputc('\n', stderr);                                                                        \
        }                                                                                               \
    } while (0)

static inline int report(const test_counts *t) {
    printf("%d passed, %d failed\n", t->passed, t->failed);
    return t->failed == 0 && t->passed > 0 ? 0 : 1;
}

/* 1 where oneDNN 2.6 has bf16 kernels (AVX-512): only there may a test accept its "no bf16 kernel". */
static inline int test_cpu_has_avx512(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* The tests' one source of seeded data: a 64-bit LCG, uniform in [0, 1) with 24 bits. */
static inline float test_uniform(uint64_t *state) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(*state >> 40) / 16777216.0f;
}

/* Normwise relative difference: max|a - b| / max(max|b|, floor). */
static inline double rel_diff(const float *a, const float *b, size_t n, double floor) {
    double diff = 0.0, scale = floor;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= diff)) diff = d; /* NaN propagates as a failure */
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return diff / scale;
}

#endif
