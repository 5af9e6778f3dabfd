/* test_numerics.c — the numbers must not move when the code around them does: each shipped model
 * trains one epoch (seeded data, seed 1, Adam, shuffling, dropout) and the checksum of all its
 * weights must equal the one recorded before the architecture redesign, bit for bit.
 *
 * The reference backend is plain C compiled without -march flags, so its checksum holds on any
 * x86-64 machine. oneDNN picks its kernels by the instruction set it finds (AVX2, AVX-512 ...),
 * and different kernels round differently: its checksums are checked on the instruction set they
 * were recorded on, and reported as skipped elsewhere. */
#include "check.h"
#include "fovea.h"

#include <stdint.h>
#ifdef FOVEA_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif
#include <omp.h>

typedef struct recorded {
    const char *model;
    uint64_t reference, onednn;
} recorded;

/* Recorded at commit 9496832 (before the redesign); oneDNN on RECORDED_ISA with RECORDED_THREADS
 * threads (oneDNN splits its sums by thread, so the thread count changes its rounding). */
#define RECORDED_ISA "avx512_core_bf16"
#define RECORDED_THREADS 2
static const recorded expected[] = {
    {"mnist-cnn", 0x199f5a2e521aac93ull, 0xfe054f0da2ac7145ull},
    {"lenet5", 0x08c6f99318ae033dull, 0x6155c4691bc36f7dull},
    {"smile-cnn", 0x78685cc0668f197cull, 0xfc3d30157ac70861ull},
    {"mlp-2d", 0x9aa362db196b8199ull, 0x2369ae4e52271bfaull},
};

static uint64_t fnv1a(const void *data, size_t n, uint64_t h) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* count samples of the model's input shape: seeded uniform pixels, labels cycling the classes. */
static fv_dataset *seeded_data(fv_shape shape, int classes, size_t count) {
    fv_dataset *d = calloc(1, sizeof *d);
    size_t per = fv_shape_count(shape);
    d->count = count, d->shape = shape, d->n_classes = classes;
    d->x = malloc(count * per * sizeof(float)), d->labels = malloc(count * sizeof(int32_t));
    d->class_names = calloc((size_t)classes, sizeof *d->class_names);
    uint64_t s = 12345;
    for (size_t i = 0; i < count * per; i++) d->x[i] = test_uniform(&s);
    for (size_t i = 0; i < count; i++) d->labels[i] = (int32_t)(i % (size_t)classes);
    return d;
}

static uint64_t one_epoch(test_counts *t, const char *model, fv_backend backend) {
    char path[512];
    snprintf(path, sizeof path, "%s/models/%s.fv", FOVEA_SOURCE_DIR, model);
    fv_error err;
    fv_net *net = fv_net_load_definition(path, &err);
    CHECK(t, net != NULL, "%s", net ? "" : err.message);
    if (!net) return 0;
    int out = fv_net_output_node(net);
    int units = fv_net_node_shape(net, out).dim[0];
    fv_dataset *d = seeded_data(fv_net_node_shape(net, 0), units == 1 ? 2 : units, 96);
    uint64_t h = 0;
    fv_optimizer *opt = NULL;
    fv_optimizer_config oc = fv_adam(1e-3f);
    if (fv_net_plan(net, 32, backend, 1, &err) != FV_OK || !(opt = fv_optimizer_new(net, &oc, &err))) {
        CHECK(t, 0, "%s: %s", model, err.message);
    } else {
        fv_fit_config c = fv_fit_defaults();
        c.epochs = 1, c.batch_size = 32, c.seed = 1;
        c.loss.kind = units == 1 ? FV_LOSS_BINARY_CROSS_ENTROPY : FV_LOSS_SOFTMAX_CROSS_ENTROPY;
        fv_fit_result r;
        fv_status st = fv_fit(net, opt, d, &c, &r, &err);
        CHECK(t, st == FV_OK, "%s: fit: %s", model, st == FV_OK ? "" : err.message);
        h = 0xcbf29ce484222325ull;
        for (int i = 0; i < fv_net_param_count(net); i++) {
            fv_param_info p;
            fv_net_param(net, i, &p, &err);
            h = fnv1a(p.value, p.count * sizeof(float), h);
        }
    }
    fv_optimizer_free(opt);
    fv_dataset_free(d);
    fv_net_free(net);
    return h;
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    const char *isa = "none";
#ifdef FOVEA_HAVE_DNNL
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx2: isa = "avx2"; break;
    case dnnl_cpu_isa_avx512_core: isa = "avx512_core"; break;
    case dnnl_cpu_isa_avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl_cpu_isa_avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl_cpu_isa_avx512_core_amx: isa = "avx512_core_amx"; break;
    default: isa = "other"; break;
    }
#endif
    int skipped = 0;
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const recorded *r = &expected[i];
        uint64_t ref = one_epoch(&t, r->model, FV_BACKEND_REFERENCE);
        printf("%-10s reference 0x%016llx\n", r->model, (unsigned long long)ref);
        CHECK(&t, ref == r->reference, "%s: reference weights after one epoch changed (0x%016llx, recorded 0x%016llx)",
              r->model, (unsigned long long)ref, (unsigned long long)r->reference);
        if (!fv_backend_available(FV_BACKEND_ONEDNN)) continue;
        uint64_t dnn = one_epoch(&t, r->model, FV_BACKEND_ONEDNN);
        printf("%-10s onednn    0x%016llx (%s)\n", r->model, (unsigned long long)dnn, isa);
        if (strcmp(isa, RECORDED_ISA) != 0 || omp_get_max_threads() != RECORDED_THREADS) {
            skipped++;
            continue;
        }
        CHECK(&t, dnn == r->onednn, "%s: oneDNN weights after one epoch changed (0x%016llx, recorded 0x%016llx)",
              r->model, (unsigned long long)dnn, (unsigned long long)r->onednn);
    }
    if (skipped) printf("oneDNN checksums: %d skipped (recorded on %s with %d threads; here %s with %d)\n", skipped,
                       RECORDED_ISA, RECORDED_THREADS, isa, omp_get_max_threads());
    return report(&t);
}
