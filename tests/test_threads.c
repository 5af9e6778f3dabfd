/* test_threads.c — the library keeps no global state: two networks trained at once, in two threads
 * of one process, end with the same weights as when trained one after the other (on each
 * backend), and training leaves the caller's OpenMP thread count as it found it. */
#include "check.h"
#include "data/data.h"
#include "fovea.h"

#include <omp.h>
#include <pthread.h>

typedef struct job {
    const char *text;
    uint64_t seed;
    fv_backend backend;
    float *weights; /* out: every parameter, in order */
    size_t count;
    char error[512];
} job;

/* A seeded two-class problem: class 1 images are brighter in their left half. */
static fv_dataset *make_data(uint64_t seed, fv_error *err) {
    fv_dataset *d = fv_dataset_new(256, (fv_shape){3, {12, 12, 1}}, 2, err);
    uint64_t state = seed;
    for (size_t i = 0; d && i < d->count; i++) {
        d->labels[i] = (int32_t)(i % 2);
        for (int p = 0; p < 144; p++) d->x[i * 144 + p] = test_uniform(&state) * 0.5f + (d->labels[i] && p % 12 < 6 ? 0.5f : 0.0f);
    }
    return d;
}

static void *train(void *arg) {
    job *j = arg;
    fv_error err;
    err.message[0] = '\0';
    fv_net *net = fv_net_from_text(j->text, "job", &err);
    fv_dataset *d = make_data(j->seed, &err);
    fv_optimizer_config oc = fv_adam(0.01f);
    fv_optimizer *opt = NULL;
    fv_fit_config c = fv_fit_defaults();
    c.epochs = 2, c.batch_size = 16, c.seed = j->seed, c.shift_pixels = 1;
    int ok = net && d && fv_net_plan(net, 16, j->backend, j->seed, &err) == FV_OK && (opt = fv_optimizer_new(net, &oc, &err)) &&
             fv_fit(net, opt, d, &c, NULL, &err) == FV_OK;
    j->count = ok ? fv_net_weight_count(net, 0) : 0;
    j->weights = ok ? malloc(j->count * sizeof *j->weights) : NULL;
    for (int i = 0, at = 0; j->weights && i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        memcpy(j->weights + at, p.value, p.count * sizeof(float)), at += (int)p.count;
    }
    if (!ok) snprintf(j->error, sizeof j->error, "%s", err.message);
    fv_optimizer_free(opt), fv_dataset_free(d), fv_net_free(net);
    return NULL;
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    const char *a = "input shape=12,12,1\nconv2d filters=4 kernel=3 activation=relu\nmaxpool2d size=2\nbatchnorm\nflatten\n"
                    "dropout rate=0.3\ndense units=2 activation=softmax\n";
    const char *b = "input shape=12,12,1\nconv2d filters=3 kernel=5 activation=tanh\nflatten\ndropout rate=0.5\n"
                    "dense units=8 activation=relu\ndense units=2 activation=softmax\n";
    int threads_before = omp_get_max_threads();
    for (int backend = 0; backend < 2; backend++) {
        if (!fv_backend_available((fv_backend)backend)) continue;
        const char *name = fv_backend_name((fv_backend)backend);
        job alone[2] = {{a, 11, (fv_backend)backend, NULL, 0, ""}, {b, 22, (fv_backend)backend, NULL, 0, ""}};
        job together[2] = {alone[0], alone[1]};
        train(&alone[0]), train(&alone[1]);
        pthread_t th[2];
        for (int k = 0; k < 2; k++) CHECK(&t, pthread_create(&th[k], NULL, train, &together[k]) == 0, "pthread_create");
        for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
        for (int k = 0; k < 2; k++) {
            CHECK(&t, alone[k].weights && together[k].weights, "[%s] job %d: %s%s", name, k, alone[k].error, together[k].error);
            CHECK(&t, alone[k].count == together[k].count && alone[k].weights && together[k].weights &&
                          !memcmp(alone[k].weights, together[k].weights, alone[k].count * sizeof(float)),
                  "[%s] network %d trained beside another differs from it trained alone", name, k);
            free(alone[k].weights), free(together[k].weights);
        }
        CHECK(&t, omp_get_max_threads() == threads_before, "[%s] OpenMP threads %d after training, %d before", name, omp_get_max_threads(),
              threads_before);
    }
    return report(&t);
}
