/* reference.h — reading the reference files the Python scripts write (tests/torch_reference.py,
 * tests/inspect_reference.py): b"FVREF001", u32 case count, then per case: str name, str model
 * text, i32 batch, i32 training, u32 tensor count, and per tensor: str key, u32 rank, u32
 * dims[rank], f32 data. A str is u32 length + bytes. */
#ifndef FOVEA_TEST_REFERENCE_H
#define FOVEA_TEST_REFERENCE_H

#include "check.h"
#include "fovea.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_tensor {
    char key[128];
    int rank;
    int dim[8];
    size_t count;
    float *data;
} ref_tensor;

typedef struct ref_case {
    char name[128];
    char *text;
    int batch, training;
    int n_tensors;
    ref_tensor *tensors;
} ref_case;

static int read_exact(FILE *f, void *buf, size_t n) { return fread(buf, 1, n, f) == n; }

static int read_u32(FILE *f, uint32_t *v) { return read_exact(f, v, 4); }

static char *read_str(FILE *f) {
    uint32_t n;
    if (!read_u32(f, &n) || n > (1u << 20)) return NULL;
    char *s = malloc(n + 1);
    if (!s || !read_exact(f, s, n)) return free(s), NULL;
    s[n] = '\0';
    return s;
}

static void free_case(ref_case *c) {
    for (int i = 0; i < c->n_tensors; i++) free(c->tensors[i].data);
    free(c->tensors);
    free(c->text);
    memset(c, 0, sizeof *c);
}

static int read_case(FILE *f, ref_case *c) {
    memset(c, 0, sizeof *c);
    char *name = read_str(f);
    if (!name) return 0;
    snprintf(c->name, sizeof c->name, "%s", name);
    free(name);
    uint32_t n;
    int32_t bt[2];
    if (!(c->text = read_str(f)) || !read_exact(f, bt, sizeof bt) || !read_u32(f, &n) || n > 1000) return 0;
    c->batch = bt[0], c->training = bt[1];
    c->tensors = calloc(n, sizeof *c->tensors);
    if (!c->tensors) return 0;
    for (uint32_t i = 0; i < n; i++) {
        ref_tensor *t = &c->tensors[c->n_tensors++];
        char *key = read_str(f);
        uint32_t rank, d;
        if (!key || !read_u32(f, &rank) || rank > 8) return free(key), 0;
        snprintf(t->key, sizeof t->key, "%s", key);
        free(key);
        t->rank = (int)rank;
        t->count = 1;
        for (uint32_t k = 0; k < rank; k++) {
            if (!read_u32(f, &d)) return 0;
            t->dim[k] = (int)d, t->count *= d;
        }
        if (!(t->data = malloc(t->count * sizeof(float) + 1)) || !read_exact(f, t->data, t->count * sizeof(float))) return 0;
    }
    return 1;
}

static const ref_tensor *find(const ref_case *c, const char *key) {
    for (int i = 0; i < c->n_tensors; i++)
        if (!strcmp(c->tensors[i].key, key)) return &c->tensors[i];
    return NULL;
}

/* Opens a reference file and reads its header; prints why and returns NULL when it is not one. */
static FILE *ref_open(const char *path, uint32_t *n_cases) {
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "%s: cannot open (run the reference script)\n", path), NULL;
    char magic[8];
    if (!read_exact(f, magic, 8) || memcmp(magic, "FVREF001", 8) || !read_u32(f, n_cases)) {
        fclose(f);
        return fprintf(stderr, "%s: not a fovea reference file\n", path), NULL;
    }
    return f;
}

/* Runs run(t, case, user) on every case of a reference file; returns how many, or -1 when the
 * file cannot be read (a truncated case counts as a failure). */
static long ref_for_each(const char *path, test_counts *t, void (*run)(test_counts *, const ref_case *, void *), void *user) {
    uint32_t n_cases;
    FILE *f = ref_open(path, &n_cases);
    if (!f) return -1;
    for (uint32_t i = 0; i < n_cases; i++) {
        ref_case c;
        int ok = read_case(f, &c);
        CHECK(t, ok, "%s: case %u is truncated", path, i);
        if (ok) run(t, &c, user);
        free_case(&c);
        if (!ok) break;
    }
    fclose(f);
    return (long)n_cases;
}

/* Sets every parameter of a planned net from the case's "param/LAYER/NAME" tensors: each must be
 * there with the same size, and every one the case has must be used (what: the lines' prefix). */
static void ref_load_params(test_counts *t, const ref_case *c, fv_net *net, const char *what) {
    fv_error err;
    int loaded = 0, expected = 0;
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        char key[200];
        snprintf(key, sizeof key, "param/%s/%s", fv_net_node_name(net, p.node), p.name);
        const ref_tensor *r = find(c, key);
        CHECK(t, r && r->count == p.count, "%s: parameter %s missing or of another size", what, key);
        if (r && r->count == p.count) memcpy(p.value, r->data, p.count * sizeof(float)), loaded++;
    }
    for (int i = 0; i < c->n_tensors; i++) expected += !strncmp(c->tensors[i].key, "param/", 6);
    CHECK(t, loaded == expected, "%s: loaded %d of %d reference parameters", what, loaded, expected);
}

#endif
