/* test_numerics.c — the numbers must not move when the code around them does: each shipped model
 * trains one epoch (seeded data, seed 1, Adam, shuffling, dropout) and the checksum of all its
 * weights must equal the one recorded before the architecture redesign, bit for bit.
 *
 * The reference backend is plain C compiled without -march flags, so its checksum holds on any
 * x86-64 machine. oneDNN picks its kernels by the instruction set it finds (AVX2, AVX-512 ...),
 * and different kernels round differently: its checksums are checked bit for bit on the
 * instruction set and thread count they were recorded on, and on every machine its weights after
 * an epoch of plain SGD must change the weights as the reference backend's does, within
 * the model's tolerance (normwise relative, on the changes): the two sum in different orders (~1e-6
 * relative), while a wrong kernel changes the gradients, and so the changes, by their own size.
 * (Adam's changes are not compared: its first steps are lr * sign(gradient), which a rounding
 * flips where a gradient is near zero.) */
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
    double tolerance; /* of an SGD epoch's changes on oneDNN against the reference's */
} recorded;

/* Recorded at commit 9496832 (before the redesign); oneDNN on RECORDED_ISA with RECORDED_THREADS
 * threads (oneDNN splits its sums by thread, so the thread count changes its rounding); on a newer
 * CPU, ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 reproduces them. */
#define RECORDED_ISA "avx512_core_bf16"
#define RECORDED_THREADS 2
static const recorded expected[] = {
    {"mnist-cnn", 0x199f5a2e521aac93ull, 0xfe054f0da2ac7145ull, 1e-4},
    {"lenet5", 0x08c6f99318ae033dull, 0x6155c4691bc36f7dull, 1e-4},
    /* batch norm over 32 x 64 x 64 = 131,072 values a channel: oneDNN sums its statistics and
     * gradients in float32, the reference in double, and a step's changes differ by ~1e-3, which
     * three steps through ReLU and dropout grow to 3e-2 .. 0.17 depending on the dropout masks drawn
     * (seen: 2.7e-2 with one draw; 0.17 and 0.06 with two others; without the batch norms 4e-6); a
     * wrong kernel changes them by their own size (1). Checksums recorded again at the change to
     * per-sample dropout masks (data-parallel training), which changed this model's draw; the
     * others have no dropout and kept theirs. */
    {"smile-cnn", 0xd9b5e8df8e5e1a4cull, 0xb1cb41f7b79a5056ull, 0.3},
    {"mlp-2d", 0x9aa362db196b8199ull, 0x2369ae4e52271bfaull, 1e-4},
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

/* One epoch (Adam, or plain SGD); the checksum of the weights, and in *weights (malloc'd, *count
 * of them) what the epoch changed: the weights after minus before. */
static uint64_t one_epoch(test_counts *t, const char *model, fv_backend backend, int sgd, float **weights, size_t *count) {
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
    fv_optimizer_config oc = sgd ? fv_sgd(0.05f, 0.0f) : fv_adam(1e-3f);
    float *before = NULL;
    if (fv_net_plan(net, 32, backend, 1, &err) != FV_OK || !(opt = fv_optimizer_new(net, &oc, &err))) {
        CHECK(t, 0, "%s: %s", model, err.message);
    } else {
        *count = fv_net_weight_count(net, 0);
        float *b = before = malloc(*count * sizeof *b);
        if (!b) abort();
        for (int i = 0; i < fv_net_param_count(net); i++) {
            fv_param_info p;
            fv_net_param(net, i, &p, &err);
            memcpy(b, p.value, p.count * sizeof *b), b += p.count;
        }
        fv_fit_config c = fv_fit_defaults();
        c.epochs = 1, c.batch_size = 32, c.seed = 1;
        c.loss.kind = units == 1 ? FV_LOSS_BINARY_CROSS_ENTROPY : FV_LOSS_SOFTMAX_CROSS_ENTROPY;
        fv_fit_result r;
        fv_status st = fv_fit(net, opt, d, &c, &r, &err);
        CHECK(t, st == FV_OK, "%s: fit: %s", model, st == FV_OK ? "" : err.message);
        h = 0xcbf29ce484222325ull;
        float *w = *weights = malloc(*count * sizeof *w);
        if (!w) abort();
        for (int i = 0, k = 0; i < fv_net_param_count(net); i++) {
            fv_param_info p;
            fv_net_param(net, i, &p, &err);
            h = fnv1a(p.value, p.count * sizeof(float), h);
            for (size_t j = 0; j < p.count; j++, k++) w[k] = p.value[j] - before[k];
        }
    }
    free(before);
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
        float *ref_w = NULL, *dnn_w = NULL;
        size_t ref_n = 0, dnn_n = 0;
        uint64_t ref = one_epoch(&t, r->model, FV_BACKEND_REFERENCE, 0, &ref_w, &ref_n);
        printf("%-10s reference 0x%016llx\n", r->model, (unsigned long long)ref);
        CHECK(&t, ref == r->reference, "%s: reference weights after one epoch changed (0x%016llx, recorded 0x%016llx)",
              r->model, (unsigned long long)ref, (unsigned long long)r->reference);
        if (!fv_backend_available(FV_BACKEND_ONEDNN)) {
            free(ref_w);
            continue;
        }
        uint64_t dnn = one_epoch(&t, r->model, FV_BACKEND_ONEDNN, 0, &dnn_w, &dnn_n);
        free(ref_w), free(dnn_w), ref_w = dnn_w = NULL;
        printf("%-10s onednn    0x%016llx (%s)\n", r->model, (unsigned long long)dnn, isa);
        one_epoch(&t, r->model, FV_BACKEND_REFERENCE, 1, &ref_w, &ref_n);
        one_epoch(&t, r->model, FV_BACKEND_ONEDNN, 1, &dnn_w, &dnn_n);
        double diff = ref_w && dnn_w && ref_n == dnn_n ? rel_diff(dnn_w, ref_w, ref_n, 1e-9) : 1.0;
        printf("%-10s an SGD epoch's changes, oneDNN against the reference: %.2g\n", r->model, diff);
        CHECK(&t, diff <= r->tolerance, "%s: an SGD epoch on oneDNN changes the weights unlike the reference: %.3g (tolerance %.0e)", r->model,
              diff, r->tolerance);
        free(ref_w), free(dnn_w);
        if (strcmp(isa, RECORDED_ISA) != 0 || omp_get_max_threads() != RECORDED_THREADS) {
            skipped++;
            continue;
        }
        CHECK(&t, dnn == r->onednn, "%s: oneDNN weights after one epoch changed (0x%016llx, recorded 0x%016llx)",
              r->model, (unsigned long long)dnn, (unsigned long long)r->onednn);
    }
    if (skipped) printf("oneDNN checksums: %d not compared bit for bit (recorded on %s with %d threads; here %s with %d), by tolerance only\n", skipped,
                       RECORDED_ISA, RECORDED_THREADS, isa, omp_get_max_threads());
    return report(&t);
}
