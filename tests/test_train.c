/* test_train.c — training end to end on small data: reproducibility (same seed, same weights, bit
 * for bit), exact resumption from a model file, the model file's checks, the definition writer,
 * divergence detection, mlp-2d on two overlapping point clouds and smile-cnn on a
 * Happy-House-shaped HDF5 file. */
#include "check.h"
#include "fovea.h"

#include <hdf5.h>
#include <stdint.h>
#include <unistd.h>

static float gaussian(uint64_t *s) { /* Box-Muller on an LCG: enough for test data */
    double u[2];
    for (int i = 0; i < 2; i++) u[i] = (double)test_uniform(s) + 0x1p-25; /* never 0 */
    return (float)(sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]));
}

/* 8x8 images: class k has a bright k-th row band, plus noise. */
static fv_dataset *pattern_data(int n, uint64_t seed) {
    fv_dataset *d = calloc(1, sizeof *d);
    d->count = (size_t)n, d->shape = (fv_shape){3, {8, 8, 1}}, d->n_classes = 4;
    d->x = malloc((size_t)n * 64 * sizeof(float)), d->labels = malloc((size_t)n * sizeof(int32_t));
    d->class_names = calloc(4, sizeof *d->class_names);
    for (int i = 0; i < n; i++) {
        d->labels[i] = i % 4;
        for (int k = 0; k < 64; k++)
            d->x[i * 64 + k] = 0.3f * gaussian(&seed) + (k / 8 == 2 * d->labels[i] || k / 8 == 2 * d->labels[i] + 1 ? 1.0f : 0.0f);
    }
    return d;
}

static const char *small_cnn =
    "model small\ninput shape=8,8,1\nconv2d filters=4 kernel=3 padding=same activation=relu\nbatchnorm\n"
    "maxpool2d size=2\ndropout rate=0.25\nflatten\ndense units=16 activation=relu\ndense units=4 activation=softmax\n";

static float *weights_of(fv_net *net) {
    size_t n = fv_net_weight_count(net, 0), at = 0;
    float *w = malloc(n * sizeof *w);
    fv_error err;
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        memcpy(w + at, p.value, p.count * sizeof *w);
        at += p.count;
    }
    return w;
}

/* Trains small_cnn from scratch (or resumes from `resume_path`) up to `epochs`. */
static float *train_small(test_counts *t, const fv_dataset *d, int epochs, int stop_after, const char *save_path,
                          const char *resume_path) {
    fv_error err;
    fv_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    fv_net *net = resume_path ? fv_model_load(resume_path, &ck, &err) : fv_net_from_text(small_cnn, "small", &err);
    CHECK(t, net != NULL, "%s", net ? "" : err.message);
    if (!net) return NULL;
    fv_net_plan(net, 16, fv_backend_default(), 7, &err);
    fv_optimizer_config oc = fv_adam(0.01f);
    fv_optimizer *opt = resume_path ? fv_optimizer_resume(net, &ck, &err) : fv_optimizer_new(net, &oc, &err);
    CHECK(t, opt != NULL, "%s", opt ? "" : err.message);
    fv_fit_config c = fv_fit_defaults();
    c.epochs = stop_after ? stop_after : epochs, c.batch_size = 16, c.seed = 7;
    c.shift_pixels = 1, c.flip_horizontal = 1, c.rotate_degrees = 10;
    c.initial_epoch = resume_path ? ck.train.epochs_done : 0;
    fv_fit_result r;
    fv_status st = fv_fit(net, opt, d, &c, &r, &err);
    CHECK(t, st == FV_OK, "fit: %s", st == FV_OK ? "" : err.message);
    if (save_path) {
        fv_train_state state = {.epochs_done = r.epochs_run, .seed = 7, .batch_size = 16};
        CHECK(t, fv_model_save(save_path, net, opt, &state, &err) == FV_OK, "save: %s", err.message);
    }
    float *w = weights_of(net);
    fv_optimizer_free(opt);
    fv_checkpoint_free(&ck);
    fv_net_free(net);
    return w;
}

static void test_reproducible_and_resumable(test_counts *t, const char *dir) {
    fv_dataset *d = pattern_data(160, 11);
    char path[300];
    snprintf(path, sizeof path, "%s/half.fvm", dir);
    float *a = train_small(t, d, 3, 0, NULL, NULL), *b = train_small(t, d, 3, 0, NULL, NULL);
    float *first = train_small(t, d, 3, 1, path, NULL), *resumed = train_small(t, d, 3, 0, NULL, path);
    fv_error err;
    fv_net *net = fv_net_from_text(small_cnn, "small", &err);
    size_t n = fv_net_weight_count(net, 0);
    fv_net_free(net);
    CHECK(t, a && b && !memcmp(a, b, n * sizeof *a), "two runs with the same seed differ");
    CHECK(t, a && resumed && !memcmp(a, resumed, n * sizeof *a), "a run resumed after epoch 1 differs from the uninterrupted run");
    CHECK(t, a && first && memcmp(a, first, n * sizeof *a) != 0, "one epoch gave the same weights as three");
    free(a), free(b), free(first), free(resumed);
    fv_dataset_free(d);
}

static void test_model_file(test_counts *t, const char *dir) {
    fv_error err;
    char path[300], bad[300];
    snprintf(path, sizeof path, "%s/m.fvm", dir);
    snprintf(bad, sizeof bad, "%s/bad.fvm", dir);
    fv_net *net = fv_net_from_text(small_cnn, "small", &err);
    fv_net_plan(net, 2, fv_backend_default(), 3, &err);
    fv_dataset *d = pattern_data(2, 5);
    fv_net_forward(net, d->x, 0, &err);
    float before[8];
    memcpy(before, fv_net_node_output(net, fv_net_output_node(net)), sizeof before);
    CHECK(t, fv_model_save(path, net, NULL, NULL, &err) == FV_OK, "save: %s", err.message);
    fv_net *again = fv_model_load(path, NULL, &err);
    CHECK(t, again != NULL, "load: %s", again ? "" : err.message);
    if (again) {
        fv_net_plan(again, 2, fv_backend_default(), 99, &err);
        fv_net_forward(again, d->x, 0, &err);
        CHECK(t, !memcmp(before, fv_net_node_output(again, fv_net_output_node(again)), sizeof before), "reloaded model computes differently");
        fv_net_free(again);
    }
    /* damaged copies */
    FILE *f = fopen(path, "rb");
    unsigned char *bytes = malloc(1 << 20);
    size_t size = fread(bytes, 1, 1 << 20, f);
    fclose(f);
    struct { const char *what; size_t keep; size_t flip; unsigned char value; const char *expect; } cases[] = {
        {"truncated", size / 2, 0, 0, "checksum"},
        {"a flipped byte", size, size / 2, 0x5a, "checksum"},
        {"another magic", size, 0, 'X', "not a fovea model file"},
        {"a newer version", size, 8, 8, "version 9"},
        {"empty", 0, 0, 0, "not a fovea model file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char saved = bytes[cases[i].flip];
        if (cases[i].value) bytes[cases[i].flip] ^= cases[i].value;
        f = fopen(bad, "wb");
        fwrite(bytes, 1, cases[i].keep, f);
        fclose(f);
        bytes[cases[i].flip] = saved;
        fv_net *loaded = fv_model_load(bad, NULL, &err);
        CHECK(t, loaded == NULL && strstr(err.message, "bad.fvm") && strstr(err.message, cases[i].expect),
              "%s: '%s' lacks '%s'", cases[i].what, loaded ? "(loaded)" : err.message, cases[i].expect);
        fv_net_free(loaded);
    }
    CHECK(t, fv_model_load("/nonexistent.fvm", NULL, &err) == NULL && strstr(err.message, "/nonexistent.fvm"), "missing file");
    /* a failed save leaves the old file untouched */
    char dir_path[300];
    snprintf(dir_path, sizeof dir_path, "%s/no/such/dir/m.fvm", dir);
    CHECK(t, fv_model_save(dir_path, net, NULL, NULL, &err) != FV_OK && strstr(err.message, "no/such/dir"), "save into nothing");
    free(bytes);
    fv_dataset_free(d);
    fv_net_free(net);
}

static void test_definition_round_trip(test_counts *t) {
    const char *models[] = {"models/mnist-cnn", "models/lenet5", "models/smile-cnn", "models/mlp-2d", "tests/data/resnet-tiny"};
    for (int i = 0; i < 5; i++) {
        char path[512], a[8192], b[8192], sa[8192], sb[8192];
        snprintf(path, sizeof path, "%s/%s.fv", FOVEA_SOURCE_DIR, models[i]);
        fv_error err;
        fv_net *net = fv_net_load_definition(path, &err);
        if (!net) {
            CHECK(t, 0, "%s", err.message);
            continue;
        }
        fv_net_to_text(net, a, sizeof a);
        fv_net *again = fv_net_from_text(a, "written", &err);
        CHECK(t, again != NULL, "%s: the written definition does not parse: %s", models[i], again ? "" : err.message);
        if (again) {
            fv_net_to_text(again, b, sizeof b);
            fv_net_summary(net, sa, sizeof sa), fv_net_summary(again, sb, sizeof sb);
            CHECK(t, !strcmp(a, b) && !strcmp(sa, sb), "%s: written definition differs:\n%s\n%s", models[i], a, b);
        }
        fv_net_free(again);
        fv_net_free(net);
    }
}

/* The seeds' 2-D example: two overlapping Gaussian clouds (means (-1,-1) and (1,1), unit
 * variance); the best possible accuracy is Phi(sqrt 2) = 92.1%. */
static void test_mlp_2d(test_counts *t) {
    fv_error err;
    char path[512];
    snprintf(path, sizeof path, "%s/models/mlp-2d.fv", FOVEA_SOURCE_DIR);
    fv_net *net = fv_net_load_definition(path, &err);
    fv_dataset *sets[2];
    uint64_t s = 99;
    for (int k = 0; k < 2; k++) {
        fv_dataset *d = sets[k] = calloc(1, sizeof *d);
        d->count = 1000, d->shape = (fv_shape){1, {2, 0, 0}}, d->n_classes = 2;
        d->x = malloc(2000 * sizeof(float)), d->labels = malloc(1000 * sizeof(int32_t)), d->class_names = calloc(2, sizeof *d->class_names);
        for (int i = 0; i < 1000; i++) {
            d->labels[i] = i % 2;
            for (int j = 0; j < 2; j++) d->x[2 * i + j] = gaussian(&s) + (d->labels[i] ? 1.0f : -1.0f);
        }
    }
    fv_net_plan(net, 32, fv_backend_default(), 1, &err);
    fv_optimizer_config oc = fv_adam(0.01f);
    fv_optimizer *opt = fv_optimizer_new(net, &oc, &err);
    fv_fit_config c = fv_fit_defaults();
    c.epochs = 20, c.batch_size = 32, c.loss.kind = FV_LOSS_BINARY_CROSS_ENTROPY;
    fv_fit_result r;
    fv_metrics m;
    CHECK(t, fv_fit(net, opt, sets[0], &c, &r, &err) == FV_OK, "mlp-2d fit: %s", err.message);
    CHECK(t, fv_evaluate(net, sets[1], c.loss, &m, &err) == FV_OK, "mlp-2d evaluate: %s", err.message);
    printf("mlp-2d: test accuracy %.2f%% (the Bayes rate is 92.1%% on the population)\n", 100.0 * m.accuracy);
    CHECK(t, m.accuracy >= 0.90, "mlp-2d test accuracy %.4f < 0.90", m.accuracy);
    fv_metrics_free(&m);
    /* early stopping on the validation loss, restoring the best epoch's weights */
    fv_optimizer_config fast = fv_adam(0.05f);
    fv_optimizer *noisy = fv_optimizer_new(net, &fast, &err);
    c.epochs = 200, c.validation = sets[1], c.patience = 2, c.restore_best = 1;
    CHECK(t, fv_fit(net, noisy, sets[0], &c, &r, &err) == FV_OK, "early stopping fit: %s", err.message);
    CHECK(t, r.stopped_early && r.epochs_run < 200 && r.epochs_run == r.best_epoch + 2, "early stopping: ran %d, best %d",
          r.epochs_run, r.best_epoch);
    CHECK(t, fv_evaluate(net, sets[1], c.loss, &m, &err) == FV_OK && fabs(m.loss - r.best_loss) <= 1e-9 * r.best_loss,
          "restored weights give val_loss %.9f, best was %.9f", m.loss, r.best_loss);
    fv_metrics_free(&m);
    fv_optimizer_free(noisy);
    c.validation = NULL, c.patience = 0, c.epochs = 20;
    /* divergence: a learning rate of 1e30 overflows the weights; fit must stop with a message */
    fv_optimizer_config wild = fv_sgd(1e30f, 0.0f);
    fv_optimizer *bad = fv_optimizer_new(net, &wild, &err);
    CHECK(t, fv_fit(net, bad, sets[0], &c, &r, &err) != FV_OK && strstr(err.message, "diverged"), "divergence: %s", err.message);
    fv_optimizer_free(bad);
    fv_optimizer_free(opt);
    for (int k = 0; k < 2; k++) fv_dataset_free(sets[k]);
    fv_net_free(net);
}

static int record_losses(const fv_epoch_log *log, void *user) {
    double *losses = user;
    losses[log->epoch - 1] = log->loss, losses[9] = log->accuracy;
    return 0;
}

static void test_smile_cnn(test_counts *t, const char *dir) {
    char h5[300], path[512];
    snprintf(h5, sizeof h5, "%s/happy.h5", dir);
    hid_t file = H5Fcreate(h5, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int n = 64;
    hsize_t xdims[4] = {(hsize_t)n, 64, 64, 3}, ydims[1] = {(hsize_t)n};
    unsigned char *x = malloc((size_t)n * 64 * 64 * 3);
    int64_t y[64];
    uint64_t s = 5;
    for (int i = 0; i < n; i++) { /* class 1 ("smiling"): a bright arc in the lower half */
        y[i] = i % 2;
        for (int k = 0; k < 64 * 64 * 3; k++) {
            int row = k / (64 * 3), col = (k / 3) % 64, arc = abs((row - 44) - (col - 32) * (col - 32) / 40) < 2;
            x[(size_t)i * 64 * 64 * 3 + k] = (unsigned char)(100 + 30 * gaussian(&s) + (y[i] && arc && col > 12 && col < 52 ? 120 : 0));
        }
    }
    hid_t space = H5Screate_simple(4, xdims, NULL), set = H5Dcreate2(file, "train_set_x", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(set), H5Sclose(space);
    space = H5Screate_simple(1, ydims, NULL), set = H5Dcreate2(file, "train_set_y", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y);
    H5Dclose(set), H5Sclose(space), H5Fclose(file);
    free(x);

    fv_error err;
    fv_dataset *d = fv_load_dataset(h5, "train", &err);
    snprintf(path, sizeof path, "%s/models/smile-cnn.fv", FOVEA_SOURCE_DIR);
    fv_net *net = fv_net_load_definition(path, &err);
    CHECK(t, d && net, "smile: %s", err.message);
    if (!d || !net) return fv_dataset_free(d), fv_net_free(net);
    fv_net_plan(net, 16, fv_backend_default(), 1, &err);
    fv_optimizer_config oc = fv_adam(0.001f);
    fv_optimizer *opt = fv_optimizer_new(net, &oc, &err);
    fv_fit_config c = fv_fit_defaults();
    double losses[10] = {0};
    c.epochs = 6, c.batch_size = 16, c.loss.kind = FV_LOSS_BINARY_CROSS_ENTROPY;
    c.on_epoch = record_losses, c.user = losses;
    fv_fit_result r;
    CHECK(t, fv_fit(net, opt, d, &c, &r, &err) == FV_OK, "smile-cnn fit: %s", err.message);
    printf("smile-cnn on a Happy-House-shaped file: loss %.3f -> %.3f, last epoch's accuracy %.2f\n", losses[0], losses[5], losses[9]);
    CHECK(t, losses[5] < 0.5 * losses[0] && losses[9] >= 0.9, "smile-cnn did not learn: loss %.3f -> %.3f, accuracy %.2f",
          losses[0], losses[5], losses[9]);
    fv_optimizer_free(opt);
    fv_dataset_free(d);
    fv_net_free(net);
}

/* Seeded kernels within the Glorot or He bounds, and filling them. */
static void test_init(test_counts *t) {
    const char *texts[2] = {"input shape=50\ndense units=10\n", "input shape=50\ndense units=10 init=he\n"};
    double limits[2] = {sqrt(6.0 / 60.0), sqrt(6.0 / 50.0)};
    for (int k = 0; k < 2; k++) {
        fv_error err;
        fv_net *net = fv_net_from_text(texts[k], "init", &err);
        fv_net_init_params(net, 3, &err);
        fv_param_info p;
        fv_net_param(net, 0, &p, &err);
        double max = 0.0;
        for (size_t i = 0; i < p.count; i++) max = fabs(p.value[i]) > max ? fabs(p.value[i]) : max;
        CHECK(t, max <= limits[k] && max > 0.95 * limits[k], "%s: largest |w| %.4f for the limit %.4f", k ? "he" : "glorot", max, limits[k]);
        fv_net_free(net);
    }
}

int main(void) {
    test_counts t = {0, 0, 0.0};
    test_init(&t);
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/fovea-test-train-%ld", (long)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return 1;
    test_definition_round_trip(&t);
    test_model_file(&t, dir);
    test_reproducible_and_resumable(&t, dir);
    test_mlp_2d(&t);
    test_smile_cnn(&t, dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return report(&t);
}
