/* cmd_train.c — fovea train, evaluate and predict. */
#include "cli.h"
#include "report.h"
#include "serve/serve.h"

#include <omp.h>

#include <limits.h>
#include <stddef.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct train_ctx {
    const char *out;
    const char *report;   /* --report: rewritten after every epoch */
    report_input page;
    fv_net *net;
    fv_optimizer *opt;
    fv_train_state state; /* its history has room for every epoch */
    int stop_after, run_epochs;
    int save_failed;
    int writer;           /* this process writes the files: the only one, or rank 0 of an MPI job */
    serve_server *watch;  /* --serve: the explorer page of the network as it trains (NULL: none) */
} train_ctx;

/* The signal (SIGINT, SIGTERM) that asked training to stop. A handler can only reach static
 * storage, so this is the tool's one file-scope variable; the library reads it through
 * fv_fit_config.interrupt and finishes the batch under way. A second signal ends the process at
 * once, as that signal's default would. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) {
    if (stop_signal) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
}

static void catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* reads and writes under way are not cut short */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Saves the model; at: a mid-epoch position (NULL at an epoch's end). */
static int save_checkpoint(train_ctx *t, int epochs_done, const fv_fit_position *at) {
    if (!t->writer) return 1;
    fv_error err;
    t->state.epochs_done = epochs_done;
    t->state.has_position = at != NULL;
    if (at) t->state.position = *at;
    if (fv_model_save(t->out, t->net, t->opt, &t->state, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s\n", err.message);
        t->save_failed = 1;
        return 0;
    }
    return 1;
}

static int on_epoch(const fv_epoch_log *log, void *user) {
    train_ctx *t = user;
    t->state.history[t->state.n_history++] = *log;
    if (t->watch) serve_training_epoch(t->watch, t->net, log);
    if (t->out && !save_checkpoint(t, log->epoch, NULL)) return 1;
    if (t->report && t->writer) {
        fv_error err;
        t->page.n_history = t->state.n_history, t->page.seconds = fv_time_seconds() - t->page.seconds_start;
        if (report_write(t->report, &t->page, &err) != FV_OK) return fprintf(stderr, "fovea: %s\n", err.message), t->save_failed = 1, 1;
    }
    return t->stop_after > 0 && ++t->run_epochs >= t->stop_after;
}

static int on_checkpoint(const fv_fit_position *at, void *user) {
    train_ctx *t = user;
    return !save_checkpoint(t, at->epoch, at);
}

static int parse_loss(const char *name, int *kind) {
    for (int k = 0; k < FV_LOSS_COUNT; k++)
        if (!strcmp(name, fv_loss_name((fv_loss_kind)k))) return *kind = k, 1;
    return !strcmp(name, "auto") ? (*kind = -1, 1) : 0;
}

static void print_metrics(const fv_metrics *m, const fv_dataset *d, int json) {
    int (*format)(const fv_metrics *, const char (*)[FV_CLASS_NAME_MAX], char *, size_t) = json ? fv_metrics_json : fv_metrics_format;
    int len = format(m, (const char (*)[FV_CLASS_NAME_MAX])d->class_names, NULL, 0);
    char *text = malloc((size_t)len + 1);
    if (!text) return;
    format(m, (const char (*)[FV_CLASS_NAME_MAX])d->class_names, text, (size_t)len + 1);
    fputs(text, stdout);
    free(text);
}

/* --normalize auto: each channel's mean and standard deviation over the training data. */
static int measure_normalization(const fv_dataset *d, fv_train_state *n) {
    int c = d->shape.dim[d->shape.rank - 1];
    if (c > FV_MAX_NORMALIZE) return 0;
    double sum[FV_MAX_NORMALIZE] = {0}, sq[FV_MAX_NORMALIZE] = {0};
    size_t values = d->count * fv_shape_count(d->shape);
    for (size_t i = 0; i < values; i++) sum[i % (size_t)c] += d->x[i], sq[i % (size_t)c] += (double)d->x[i] * d->x[i];
    double per = (double)values / c;
    for (int k = 0; k < c; k++) {
        double mean = sum[k] / per, var = sq[k] / per - mean * mean;
        n->mean[k] = (float)mean, n->std[k] = (float)(var > 1e-12 ? sqrt(var) : 1.0);
    }
    n->n_normalize = c;
    return 1;
}

static fv_loss default_loss(const fv_net *net, int kind) {
    fv_loss loss = {FV_LOSS_SOFTMAX_CROSS_ENTROPY, 0.0f};
    if (kind >= 0) loss.kind = (fv_loss_kind)kind;
    else if (fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net))) == 1) loss.kind = FV_LOSS_BINARY_CROSS_ENTROPY;
    return loss;
}

/* Ends this rank's part: after a failure the whole job ends (the others may wait on this one). */
static int leave_job(fv_comm *comm, int rc) {
    if (!comm) return rc;
    fflush(stdout), fflush(stderr);
    if (rc != 0 && rc < 128) comm->abort_job(comm, rc);
    comm->free(comm);
    return rc;
}

typedef struct train_options {
    cli_common common;
    const char *data, *report, *optimizer, *schedule, *loss;
    long epochs, seed, patience, shift, stop_after, step_epochs, checkpoint_every;
    long serve;
    double checkpoint_seconds, lr, momentum, weight_decay, val_split, rotate, smoothing, gamma, rank_timeout, bucket_mb;
    int nesterov, flip, no_test;
} train_options;

/* Under mpirun: this process is one rank of a data-parallel job (fv_net_set_comm). Its share of
 * the cores unless --threads or OMP_NUM_THREADS says otherwise; only rank 0 prints. NULL alone, or
 * *failed with the reason printed. */
static fv_comm *join_job(const train_options *o, int *failed) {
    *failed = 0;
    if (!fv_comm_mpi_launched()) return NULL;
    fv_error err;
    int threads = 0;
    fv_comm *comm = fv_comm_mpi(o->rank_timeout, &threads, &err);
    if (!comm) return fprintf(stderr, "fovea: under mpirun: %s\n", err.message), *failed = 1, NULL;
    if (o->common.threads <= 0 && !getenv("OMP_NUM_THREADS")) omp_set_num_threads(threads);
    if (comm->rank != 0 && !freopen("/dev/null", "w", stdout)) {
        fprintf(stderr, "fovea: rank %d: cannot quiet its output\n", comm->rank);
        comm->free(comm);
        return *failed = 1, NULL;
    }
    return comm;
}

static int run_train(void *options) {
    const train_options *o = options;
    const char *model = o->common.args[0], *data_spec = o->data, *out = o->common.out, *report = o->report, *optimizer = o->optimizer,
               *schedule = o->schedule;
    long epochs = o->epochs, batch = o->common.batch, seed = o->seed, patience = o->patience, shift = o->shift, stop_after = o->stop_after,
         step_epochs = o->step_epochs, checkpoint_every = o->checkpoint_every;
    double checkpoint_seconds = o->checkpoint_seconds, lr = o->lr, momentum = o->momentum, weight_decay = o->weight_decay,
           val_split = o->val_split, rotate = o->rotate, smoothing = o->smoothing, gamma = o->gamma, bucket_mb = o->bucket_mb;
    int nesterov = o->nesterov, flip = o->flip, test = !o->no_test, loss_kind = -1, normalize_auto = 0;
    fv_train_state normalization = {0}; /* --normalize: only its mean and std are used */
    fv_backend backend = o->common.backend;
    parse_loss(o->loss, &loss_kind);
    if (o->common.prep.normalize) cli_normalize_read(o->common.prep.normalize, &normalization, &normalize_auto);
    if (!data_spec) return fprintf(stderr, "fovea: train needs --data DATA (fovea train --help)\n"), 2;
    if ((checkpoint_every || checkpoint_seconds > 0) && !out) return fprintf(stderr, "fovea: --checkpoint-every/--checkpoint-seconds need --out FILE\n"), 2;
    int join_failed;
    fv_comm *comm = join_job(o, &join_failed);
    if (join_failed) return 1;
    int writer = !comm || comm->rank == 0;
    if (writer && out && !cli_output_writable(out)) return leave_job(comm, 1); /* before any training, not after the first epoch */
    if (writer && report && !cli_output_writable(report)) return leave_job(comm, 1);

    fv_checkpoint ck;
    fv_net *net = cli_load_net(&o->common, model, &ck);
    if (!net) return leave_job(comm, 1);
    fv_net_set_comm(net, comm);
    int resuming = ck.has_optimizer && ck.has_train_state;
    if (resuming) {
        if (seed < 0) seed = (long)ck.train.seed;
        if (batch < 0) batch = ck.train.batch_size;
    }
    if (seed < 0) seed = 1;
    if (batch < 0) batch = 64;

    fv_error err;
    int rc = 1;
    fv_epoch_log *t_history = NULL; /* every epoch's log, for the model file */
    fv_optimizer *opt = NULL;
    fv_dataset *train = fv_load_dataset(data_spec, "train", &err), *val = NULL, *test_set = NULL;
    if (!train || !cli_match_classes(net, &ck.train, data_spec, train, &err)) goto fail;
    if (resuming && ck.train.n_normalize) normalization = ck.train; /* the model keeps its preprocessing */
    else if (normalize_auto && !measure_normalization(train, &normalization)) {
        snprintf(err.message, sizeof err.message, "%s: --normalize auto: the data has more than %d channels", data_spec, FV_MAX_NORMALIZE);
        goto fail;
    }
    cli_normalize_dataset(&normalization, train);
    if (val_split > 0 && !(val = fv_dataset_split(train, val_split, &err))) goto fail;
    if ((size_t)batch > train->count) {
        snprintf(err.message, sizeof err.message, "%s: a batch of %ld is more than the %zu training samples", data_spec, batch, train->count);
        goto fail;
    }
    if (fv_net_plan(net, (int)batch, backend, (uint64_t)seed, &err) != FV_OK) goto fail;
    if (resuming) {
        if (!(opt = fv_optimizer_resume(net, &ck, &err))) { /* the file's optimizer: say which file */
            char why[sizeof err.message];
            snprintf(why, sizeof why, "%s", err.message);
            snprintf(err.message, sizeof err.message, "%.200s: %.300s", model, why);
        }
    } else {
        fv_optimizer_config oc = !strcmp(optimizer, "sgd") ? fv_sgd(lr > 0 ? (float)lr : 0.01f, (float)momentum)
                                                           : fv_adam(lr > 0 ? (float)lr : 0.001f);
        oc.nesterov = nesterov;
        oc.weight_decay = (float)weight_decay;
        oc.schedule = !strcmp(schedule, "step") ? FV_SCHEDULE_STEP : !strcmp(schedule, "cosine") ? FV_SCHEDULE_COSINE : FV_SCHEDULE_CONSTANT;
        oc.step_epochs = (int)step_epochs, oc.gamma = (float)gamma, oc.cosine_epochs = (int)epochs;
        opt = fv_optimizer_new(net, &oc, &err);
    }
    if (!opt) goto fail;

    fv_fit_config c = fv_fit_defaults();
    c.epochs = (int)epochs, c.batch_size = (int)batch, c.seed = (uint64_t)seed;
    c.initial_epoch = resuming ? ck.train.epochs_done : 0;
    c.loss = default_loss(net, loss_kind);
    c.loss.label_smoothing = (float)smoothing;
    c.validation = val, c.patience = (int)patience;
    c.shift_pixels = (int)shift, c.flip_horizontal = flip, c.rotate_degrees = (float)rotate;
    c.progress = stdout;
    if (!(t_history = calloc((size_t)epochs + (size_t)ck.train.n_history + 1, sizeof *t_history))) {
        snprintf(err.message, sizeof err.message, "out of memory");
        goto fail;
    }
    char command[2048] = "fovea train";
    for (int i = 0; i < o->common.argc; i++) snprintf(command + strlen(command), sizeof command - strlen(command), " %s", o->common.argv[i]);
    train_ctx t = {out, report, {.net = net, .history = t_history, .command_line = command, .data_spec = data_spec,
                                 .backend = fv_backend_name(backend), .seed = (uint64_t)seed, .threads = omp_get_max_threads(),
                                 .seconds_start = fv_time_seconds()},
                   net, opt, {.seed = (uint64_t)seed, .batch_size = (int)batch, .n_classes = train->n_classes,
                                   .class_names = train->class_names, .history = t_history}, (int)stop_after, 0, 0, writer, NULL};
    t.state.n_normalize = normalization.n_normalize;
    memcpy(t.state.mean, normalization.mean, sizeof t.state.mean), memcpy(t.state.std, normalization.std, sizeof t.state.std);
    if (normalization.n_normalize) {
        printf("inputs normalised: (x - mean) / std with mean");
        for (int k = 0; k < normalization.n_normalize; k++) printf(" %.4g", (double)normalization.mean[k]);
        printf(", std");
        for (int k = 0; k < normalization.n_normalize; k++) printf(" %.4g", (double)normalization.std[k]);
        printf("\n");
    }
    for (int k = 0; resuming && k < ck.train.n_history && k < c.initial_epoch; k++) t.state.history[t.state.n_history++] = ck.train.history[k];
    c.on_epoch = on_epoch, c.user = &t;
    c.checkpoint_every = (int)checkpoint_every, c.checkpoint_seconds = checkpoint_seconds;
    if (out) c.on_checkpoint = on_checkpoint; /* by count, by time, or when interrupted */
    c.interrupt = &stop_signal;
    catch_stop_signals();
    if (resuming && ck.train.has_position) c.resume_at = &ck.train.position;
    const fv_optimizer_config *oc = fv_optimizer_get_config(opt);
    fv_precision precision = fv_net_planned_precision(net);
    printf("Training %s on %zu samples%s%zu validation), batch %ld, %s lr %g, %s loss, backend %s%s%s, seed %ld%s\n", model,
           train->count, val ? " (" : " (", val ? val->count : (size_t)0, batch, fv_optimizer_name(oc->kind),
           (double)oc->learning_rate, fv_loss_name(c.loss.kind), fv_backend_name(backend), precision == FV_PRECISION_FP32 ? "" : " in ",
           precision == FV_PRECISION_FP32 ? "" : fv_precision_name(precision), seed, resuming ? ", resuming" : "");
    if (comm) {
        char share[48];
        if (batch % comm->size) snprintf(share, sizeof share, "%ld or %ld", batch / comm->size, batch / comm->size + 1);
        else snprintf(share, sizeof share, "%ld", batch / comm->size);
        printf("data-parallel over %d ranks (MPI): each runs %s samples of a batch on %d thread%s\n", comm->size, share,
               omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s");
    }
    c.bucket_bytes = (size_t)(bucket_mb * 1e6);
    /* --serve: the explorer page of the network as it learns, on this machine only */
    serve_server watch;
    serve_http *watch_http = NULL;
    memset(&watch, 0, sizeof watch);
    if (o->serve >= 0 && writer) {
        serve_limits limits = {16000000, 4096 * 4096, 1, 0.0, 64};
        const char *base = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(strchr(base, '.') ? strchr(base, '.') - base : (ptrdiff_t)strlen(base)), base);
        watch.worker_threads = 1;
        if (serve_open_training(&watch, net, name, &t.state, 1, &limits, backend, &err) != FV_OK ||
            !(watch_http = serve_http_start(&watch, "127.0.0.1", (int)o->serve, &err))) {
            serve_close(&watch);
            goto fail;
        }
        t.watch = &watch;
        printf("watch it learn: http://127.0.0.1:%d/ (until training ends)\n", serve_http_port(watch_http));
        fflush(stdout);
    }
    if (c.resume_at) printf("resuming epoch %d at batch %d\n", c.resume_at->epoch + 1, c.resume_at->batch + 1);
    if (c.initial_epoch >= c.epochs) printf("already trained for %d epochs\n", c.initial_epoch);
    fv_fit_result r;
    memset(&r, 0, sizeof r);
    if (c.initial_epoch < c.epochs && fv_fit(net, opt, train, &c, &r, &err) != FV_OK) {
        char why[sizeof err.message];
        snprintf(why, sizeof why, "%s", err.message);
        snprintf(err.message, sizeof err.message, "training on %.90s: %.400s", data_spec, why);
        goto fail;
    }
    if (watch_http) { /* the page's last look: the final epoch; then it closes with the training */
        pthread_mutex_lock(&watch.history_lock);
        watch.finished = 1;
        pthread_mutex_unlock(&watch.history_lock);
        serve_http_stop(watch_http, 5);
        serve_close(&watch);
        watch_http = NULL, t.watch = NULL;
    }
    if (comm && r.step_seconds > 0)
        printf("steps took %.2f s, %.2f s (%.0f%%) of it waiting for the gradient sums\n", r.step_seconds, r.sum_wait_seconds,
               100.0 * r.sum_wait_seconds / r.step_seconds);
    if (t.save_failed) goto fail_quiet;
    if (stop_signal) { /* Ctrl-C or a scheduler's SIGTERM: the batch under way was finished and saved */
        const char *name = stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
        char where[64] = "after training";
        if (r.interrupted && r.stopped_at.batch) snprintf(where, sizeof where, "at epoch %d, batch %d", r.stopped_at.epoch + 1, r.stopped_at.batch);
        else if (r.interrupted) snprintf(where, sizeof where, "after epoch %d", r.stopped_at.epoch);
        if (isatty(fileno(stdout))) printf("\n"); /* below the progress bar */
        if (!writer) { /* every rank stopped at the same batch; rank 0 saved and says so */
        } else if (out) fprintf(stderr, "fovea: %s: stopped %s; saved %s, which resumes there: fovea train %s --data %s\n", name, where, out, out, data_spec);
        else fprintf(stderr, "fovea: %s: stopped %s; nothing saved (no --out)\n", name, where);
        rc = 128 + stop_signal;
        goto done;
    }
    signal(SIGINT, SIG_DFL), signal(SIGTERM, SIG_DFL); /* the model is saved: a signal now may end the process */
    if (out && c.initial_epoch < c.epochs && r.stopped_early && !save_checkpoint(&t, r.epochs_run, NULL)) goto fail_quiet;
    if (out) printf("saved %s\n", out);
    if (test) {
        test_set = fv_load_dataset(data_spec, "test", &err);
        cli_normalize_dataset(&normalization, test_set);
        if (!test_set) {
            printf("no test split (%s)\n", err.message);
        } else {
            fv_metrics m;
            if (!cli_match_classes(net, &t.state, data_spec, test_set, &err) || fv_evaluate(net, test_set, c.loss, &m, &err) != FV_OK) goto fail;
            printf("\nTest set: ");
            print_metrics(&m, test_set, 0);
            fv_metrics_free(&m);
        }
    }
    if (comm) { /* the page is rank 0's alone: its network leaves the job, planned as one process */
        fv_net_set_comm(net, NULL);
        if (writer && report && fv_net_plan_mode(net, (int)batch, backend, FV_PLAN_INFERENCE, (uint64_t)seed, &err) != FV_OK) goto fail;
    }
    if (report && writer) { /* the finished page: with the test set's confusion matrix and mistakes when there is one */
        t.page.n_history = t.state.n_history, t.page.seconds = fv_time_seconds() - t.page.seconds_start, t.page.finished = 1;
        t.page.data = test_set;
        fv_status st = test_set ? report_finish(report, &t.page, c.loss, &err) : report_write(report, &t.page, &err);
        if (st != FV_OK) goto fail;
        printf("wrote %s\n", report);
    }
    rc = 0;
    goto done;
fail:
    if (comm && writer && out && access(out, F_OK) == 0) /* its last save was whole: saves go by a temporary and a rename */
        fprintf(stderr, "fovea: rank %d of %d: %s; %s is the last save, which resumes with any number of ranks\n", comm->rank, comm->size,
                err.message, out);
    else if (comm) fprintf(stderr, "fovea: rank %d of %d: %s\n", comm->rank, comm->size, err.message);
    else fprintf(stderr, "fovea: %s\n", err.message);
fail_quiet:
    rc = 1;
done:
    free(t_history);
    fv_optimizer_free(opt);
    fv_dataset_free(train), fv_dataset_free(val), fv_dataset_free(test_set);
    fv_checkpoint_free(&ck);
    fv_net_free(net);
    return leave_job(comm, rc);
}

typedef struct evaluate_options {
    cli_common common;
    const char *data, *split, *loss;
} evaluate_options;

static int run_evaluate(void *options) {
    const evaluate_options *o = options;
    const char *model = o->common.args[0], *data_spec = o->data, *split = o->split;
    long batch = o->common.batch;
    int loss_kind = -1, json = o->common.json;
    fv_backend backend = o->common.backend;
    parse_loss(o->loss, &loss_kind);
    if (!data_spec) return fprintf(stderr, "fovea: evaluate needs --data DATA (fovea evaluate --help)\n"), 2;
    fv_checkpoint ck;
    fv_net *net = cli_load_net(&o->common, model, &ck);
    if (!net) return 1;
    fv_error err;
    fv_metrics m;
    fv_dataset *d = fv_load_dataset(data_spec, split, &err);
    if (d && d->count == 0) snprintf(err.message, sizeof err.message, "%s: the %s split has no samples", data_spec, split), fv_dataset_free(d), d = NULL;
    if (d && (size_t)batch > d->count) batch = (long)d->count; /* never plan for more samples than there are */
    cli_normalize_dataset(&ck.train, d);
    if (d && !cli_match_classes(net, &ck.train, data_spec, d, &err)) fv_dataset_free(d), d = NULL;
    int rc = !d || fv_net_plan_mode(net, (int)batch, backend, FV_PLAN_INFERENCE, 1, &err) != FV_OK ||
             fv_evaluate(net, d, default_loss(net, loss_kind), &m, &err) != FV_OK;
    if (rc) fprintf(stderr, "fovea: %s%s%s\n", d ? data_spec : "", d ? ": " : "", err.message);
    else print_metrics(&m, d, json), fv_metrics_free(&m);
    fv_dataset_free(d);
    fv_checkpoint_free(&ck);
    fv_net_free(net);
    return rc;
}

/* Logits to probabilities, for display. */
static void softmax(float *y, int n) {
    float max = y[0];
    double sum = 0.0;
    for (int c = 1; c < n; c++) max = y[c] > max ? y[c] : max;
    for (int c = 0; c < n; c++) sum += (y[c] = expf(y[c] - max));
    for (int c = 0; c < n; c++) y[c] = (float)(y[c] / sum);
}

/* predict's networks for an input of open size: one per image size, the last few kept */
#define SIZES_KEPT 4
typedef struct sized_net {
    int h, w;
    fv_net *net;
} sized_net;

/* The input shape, the count of outputs and whether they are logits (shown as their softmax) of
 * a network predict runs; its buffers sized for them, and the network planned (backend NULL: it
 * is planned already). */
static fv_status predict_setup(fv_net *net, const fv_backend *backend, fv_shape *in, int *units, int *softmax_logits, float **x, float **y,
                               unsigned char **taken, fv_error *err) {
    *in = fv_net_node_shape(net, 0);
    fv_shape out = fv_net_node_shape(net, fv_net_output_node(net));
    /* scores that are not probabilities (an imported network's logits) are shown as their softmax */
    fv_activation out_act = fv_net_node_activation(net, fv_net_output_node(net), NULL);
    *softmax_logits = out_act != FV_ACT_SOFTMAX && out_act != FV_ACT_SIGMOID;
    *units = (int)fv_shape_count(out);
    if (in->rank != 3) return snprintf(err->message, sizeof err->message, "predict takes images: the model's input must be (H, W, C)"), FV_ERR;
    float *nx = realloc(*x, fv_shape_count(*in) * sizeof **x), *ny = nx ? realloc(*y, (size_t)*units * sizeof **y) : NULL;
    unsigned char *nt = ny ? realloc(*taken, (size_t)*units) : NULL;
    if (nx) *x = nx;
    if (ny) *y = ny;
    if (nt) *taken = nt;
    if (!nt) return snprintf(err->message, sizeof err->message, "out of memory"), FV_ERR;
    return backend ? fv_net_plan_mode(net, 1, *backend, FV_PLAN_INFERENCE, 1, err) : FV_OK;
}

/* One input's top classes, as text or as a JSON element (the n-th: a comma before all but the
 * first). y holds its scores (a softmax taken of logits). */
static void print_top(const char *name, float *y, int units, int softmax_logits, long top, unsigned char *taken, const fv_checkpoint *ck,
                      int json, int n) {
    if (softmax_logits && units > 1) softmax(y, units);
    if (json) printf("%s{\"image\": ", n ? ", " : ""), cli_json_string(stdout, name), printf(", \"top\": [");
    else printf("%s:", name);
    memset(taken, 0, (size_t)units);
    if (units == 1 && !json) printf(" %.4f (probability of class 1)\n", (double)y[0]);
    if (units == 1 && json) printf("{\"class\": 1, \"probability\": %.9g}", (double)y[0]);
    for (int k = 0; units > 1 && k < top && k < units; k++) { /* selection of the k-th largest */
        int best = -1;
        for (int c = 0; c < units; c++) /* a linear output's scores can be negative: taken[] marks the chosen */
            if (!taken[c] && (best < 0 || y[c] > y[best] || (isnan(y[best]) && !isnan(y[c])))) best = c;
        const char *label = ck->train.class_names && best < ck->train.n_classes ? ck->train.class_names[best] : NULL;
        if (json) {
            printf("%s{\"class\": %d, \"name\": ", k ? ", " : "", best);
            if (label) cli_json_string(stdout, label);
            else printf("null");
            printf(", \"probability\": %.9g}", (double)y[best]);
        } else if (label) printf("  %d. %s %.4f", k + 1, label, (double)y[best]);
        else printf("  %d. class %d %.4f", k + 1, best, (double)y[best]);
        taken[best] = 1;
    }
    if (json) printf("]}");
    else if (units > 1) printf("\n");
}

/* A float32 .npy of the model's inputs as given (N, H, W, C) or one (H, W, C), as fovea serve
 * takes them: each row's top classes, named FILE[i]. Returns 0 on success. */
static int predict_npy(const char *path, fv_net *net, const fv_shape *in, float *y, int units, int softmax_logits, long top,
                       unsigned char *taken, const fv_checkpoint *ck, int json, int *n) {
    fv_error err;
    int rank, dims[8];
    float *v = fv_load_npy_floats(path, &rank, dims, &err);
    if (!v) return fprintf(stderr, "fovea: %s\n", err.message), 1;
    int one = rank == 3 && dims[0] == in->dim[0] && dims[1] == in->dim[1] && dims[2] == in->dim[2];
    if (!one && !(rank == 4 && dims[1] == in->dim[0] && dims[2] == in->dim[1] && dims[3] == in->dim[2])) {
        fprintf(stderr, "fovea: %s: a .npy of the model's inputs must be (N, %d, %d, %d) float32, or one (%d, %d, %d)\n", path, in->dim[0],
                in->dim[1], in->dim[2], in->dim[0], in->dim[1], in->dim[2]);
        return free(v), 1;
    }
    size_t per = fv_shape_count(*in), rows = one ? 1 : (size_t)dims[0];
    for (size_t r = 0; r < rows; r++) {
        char name[4200];
        snprintf(name, sizeof name, "%s[%zu]", path, r);
        if (fv_predict(net, v + r * per, 1, y, &err) != FV_OK) return fprintf(stderr, "fovea: %s: %s\n", name, err.message), free(v), 1;
        print_top(name, y, units, softmax_logits, top, taken, ck, json, (*n)++);
    }
    free(v);
    return 0;
}

typedef struct predict_options {
    cli_common common;
    long top;
} predict_options;

static int run_predict(void *options) {
    const predict_options *o = options;
    const char *model = o->common.args[0];
    long top = o->top;
    fv_backend backend = o->common.backend;
    int json = o->common.json;
    const cli_prep prep = o->common.prep;
    fv_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    /* an ONNX model whose height and width the file leaves open (and --input-shape does not give)
     * takes each image at its own size: a network imported and planned per size, a few kept */
    fv_onnx_info declared;
    fv_error err;
    int open_size = cli_is_onnx(model) && !o->common.input_shape.n && fv_onnx_read_input(model, &declared, &err) == FV_OK &&
                    declared.input_rank == 4 && declared.input_dims[1] > 0 && (declared.input_dims[2] < 0 || declared.input_dims[3] < 0);
    if (open_size && (prep.resize || prep.imagenet)) return fprintf(stderr, "fovea: %s leaves its input size open: give it with --input-shape H,W to resize to\n", model), 2;
    sized_net kept[SIZES_KEPT] = {{0}};
    int next_kept = 0, channels = open_size ? (int)declared.input_dims[1] : 0;
    fv_net *net = NULL;
    if (!open_size && !(net = cli_load_net(&o->common, model, &ck))) return 1;
    if (!cli_prep_apply(&prep, &ck.train)) return fv_checkpoint_free(&ck), fv_net_free(net), 1;
    fv_shape in = {0, {0}};
    int softmax_logits = 0, units = 0, rc = 0;
    float *x = NULL, *y = NULL;
    unsigned char *taken = NULL;
    if (net && predict_setup(net, &backend, &in, &units, &softmax_logits, &x, &y, &taken, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s\n", err.message);
        rc = 1;
    }
    if (rc == 0 && json) printf("{\"model\": "), cli_json_string(stdout, model), printf(", \"predictions\": [");
    for (int i = 1, n = 0; rc == 0 && i < o->common.n_args; i++) {
        const char *path = o->common.args[i];
        size_t len = strlen(path);
        if (!open_size && len > 4 && !strcasecmp(path + len - 4, ".npy")) { /* the model's inputs, as given */
            rc = predict_npy(path, net, &in, y, units, softmax_logits, top, taken, &ck, json, &n);
            continue;
        }
        if (open_size) { /* the image at its own size, read once: its network, kept or new */
            fv_image *image = fv_image_load(path, channels, &err);
            int k = 0, fresh = 0;
            while (image && k < SIZES_KEPT && !(kept[k].net && kept[k].h == image->height && kept[k].w == image->width)) k++;
            if (image && k == SIZES_KEPT) { /* imported and planned, in place of the oldest */
                k = next_kept, next_kept = (next_kept + 1) % SIZES_KEPT, fresh = 1;
                fv_net_free(kept[k].net);
                int64_t dims[4] = {0, channels, image->height, image->width};
                kept[k] = (sized_net){image->height, image->width, fv_net_load_onnx_shaped(model, dims, 4, NULL, &err)};
                if (kept[k].net) cli_apply_precision(&o->common, kept[k].net);
            }
            net = image ? kept[k].net : NULL;
            if (!net || predict_setup(net, fresh ? &backend : NULL, &in, &units, &softmax_logits, &x, &y, &taken, &err) != FV_OK) {
                if (net && fresh) fv_net_free(net), kept[k].net = NULL; /* not planned: not kept */
                fprintf(stderr, "fovea: %s\n", err.message);
                fv_image_free(image);
                rc = 1;
                break;
            }
            memcpy(x, image->pixels, fv_shape_count(in) * sizeof *x);
            fv_image_free(image);
        }
        if ((!open_size && cli_load_image(&prep, path, in.dim[0], in.dim[1], in.dim[2], x, &err) != FV_OK) ||
            (cli_normalize(&ck.train, x, fv_shape_count(in), in.dim[2]), fv_predict(net, x, 1, y, &err)) != FV_OK) {
            fprintf(stderr, "fovea: %s\n", err.message);
            rc = 1;
            break;
        }
        print_top(path, y, units, softmax_logits, top, taken, &ck, json, n++);
    }
    if (rc == 0 && json) printf("]}\n");
    free(x), free(y), free(taken);
    fv_checkpoint_free(&ck);
    if (!open_size) fv_net_free(net);
    for (int k = 0; k < SIZES_KEPT; k++) fv_net_free(kept[k].net);
    return rc;
}

/* ---- the option tables ---- */

#define LOSSES "auto|softmax_cross_entropy|binary_cross_entropy|mse|hinge"
#define TRAIN(field) offsetof(train_options, field)
static const cli_option train_table[] = {
    {"--data", NULL, CLI_TEXT, TRAIN(data), "DATA", 0, 0,
     "fashion-mnist, an IDX or CIFAR-10 folder, a .h5 file, an image folder,\nor IMAGES.npy,LABELS.npy", NULL},
    {"--epochs", NULL, CLI_INT, TRAIN(epochs), "N", 1, 1000000, "total epochs", NULL},
    {"--optimizer", NULL, CLI_CHOICE, TRAIN(optimizer), "adam|sgd", 0, 0, "the optimizer (a resumed model keeps its own)", NULL},
    {"--lr", NULL, CLI_FLOAT, TRAIN(lr), "LR", 1e-12, 1e6, "learning rate (default 0.001 adam, 0.01 sgd)", NULL},
    {"--momentum", NULL, CLI_FLOAT, TRAIN(momentum), "M", 0, 1, "sgd momentum", NULL},
    {"--nesterov", NULL, CLI_FLAG, TRAIN(nesterov), NULL, 0, 0, "Nesterov momentum (sgd)", NULL},
    {"--weight-decay", NULL, CLI_FLOAT, TRAIN(weight_decay), "W", 0, 1e6, "L2 weight decay", NULL},
    {"--schedule", NULL, CLI_CHOICE, TRAIN(schedule), "constant|step|cosine", 0, 0, "learning-rate schedule", NULL},
    {"--step-epochs", NULL, CLI_INT, TRAIN(step_epochs), "N", 1, 1000000, "--schedule step: epochs between steps", NULL},
    {"--gamma", NULL, CLI_FLOAT, TRAIN(gamma), "G", 0, 1e6, "--schedule step: the factor at each step", NULL},
    {"--loss", NULL, CLI_CHOICE, TRAIN(loss), LOSSES, 0, 0,
     "auto: softmax_cross_entropy, or binary_cross_entropy for one output", NULL},
    {"--label-smoothing", NULL, CLI_FLOAT, TRAIN(smoothing), "E", 0, 1, "for the cross-entropies", NULL},
    {"--val-split", NULL, CLI_FLOAT, TRAIN(val_split), "F", 0, 0.99, "hold out the last fraction F of the training data for validation", NULL},
    {"--patience", NULL, CLI_INT, TRAIN(patience), "N", 0, 1000000, "early stopping after N epochs without a better val_loss (0: never)", NULL},
    {"--shift", NULL, CLI_INT, TRAIN(shift), "N", 0, 4096, "augmentation: random shifts of up to N pixels", NULL},
    {"--flip", NULL, CLI_FLAG, TRAIN(flip), NULL, 0, 0, "augmentation: random horizontal flips", NULL},
    {"--rotate", NULL, CLI_FLOAT, TRAIN(rotate), "DEG", 0, 180, "augmentation: random rotations of up to DEG degrees", NULL},
    {"--seed", NULL, CLI_INT, TRAIN(seed), "S", 0, CLI_MAX_SEED, "weights, shuffling, dropout, augmentation (default 1, or the saved model's)", NULL},
    {"--report", NULL, CLI_TEXT, TRAIN(report), "FILE.html", 0, 0, "an HTML run report, rewritten after every epoch (fovea report --help)", NULL},
    {"--checkpoint-every", NULL, CLI_INT, TRAIN(checkpoint_every), "N", 1, INT_MAX,
     "also save the model every N batches within an epoch (needs --out): a run\nkilled mid-epoch resumes from there and ends as an uninterrupted one", NULL},
    {"--checkpoint-seconds", NULL, CLI_FLOAT, TRAIN(checkpoint_seconds), "S", 0.001, 1e9, "... or every S seconds", NULL},
    {"--serve", NULL, CLI_INT, TRAIN(serve), "PORT", 0, 65535,
     "while training, the explorer page on http://127.0.0.1:PORT/: the loss and accuracy\nafter each epoch, and the network's answers and maps as it learns (0: any free port)", NULL},
    {"--rank-timeout", NULL, CLI_FLOAT, TRAIN(rank_timeout), "S", 1, 1e6,
     "under mpirun: end the job when another rank has not answered for S seconds (default 60)", NULL},
    {"--bucket-mb", NULL, CLI_FLOAT, TRAIN(bucket_mb), "MB", 0, 1e6,
     "under mpirun: sum the gradients in buckets of MB megabytes as backward\nfinishes their layers (default 2; 0: one sum after backward)", NULL},
    {"--stop-after", NULL, CLI_INT, TRAIN(stop_after), "N", 1, 1000000, "stop after N epochs in this run (resume later from --out)", NULL},
    {"--no-test", NULL, CLI_FLAG, TRAIN(no_test), NULL, 0, 0, "skip the evaluation on the test split", NULL},
};
static const train_options train_initial = {.common = {.batch = -1}, .optimizer = "adam", .schedule = "constant", .loss = "auto", .epochs = 5,
                                            .rank_timeout = 60, .bucket_mb = 2, .serve = -1,
                                            .seed = -1, .step_epochs = 10, .lr = -1, .momentum = 0.9, .gamma = 0.1};
const cli_command cli_train = {
    .name = "train", .usage = "MODEL --data DATA [options]", .summary = "train a model definition (.fv) or resume a saved model",
    .about = "  MODEL                a definition (.fv) to train from scratch, or a saved model to resume\n",
    .examples = "models/mnist-cnn.fv --data fashion-mnist --epochs 5 --schedule cosine --out mnist-cnn.fvm",
    .shared = CLI_BACKEND | CLI_BATCH | CLI_OUT | CLI_NORMALIZE | CLI_INPUT_SHAPE,
    .shared_defaults = "  (--batch: default 64, or the saved model's; --normalize auto: each channel's mean and std\n"
                       "  on the training data, kept in the model file for predict, evaluate and the picture commands)\n",
    .out_value = "FILE", .out_help = "save the model (weights, optimizer, epoch, history) after every epoch",
    .own = CLI_TABLE(train_table), .min_args = 1, .max_args = 1, .size = sizeof(train_options), .initial = &train_initial, .run = run_train};

#define EVALUATE(field) offsetof(evaluate_options, field)
static const cli_option evaluate_table[] = {
    {"--data", NULL, CLI_TEXT, EVALUATE(data), "DATA", 0, 0, "the dataset (as train reads it)", NULL},
    {"--split", NULL, CLI_CHOICE, EVALUATE(split), "test|train", 0, 0, "which split", NULL},
    {"--loss", NULL, CLI_CHOICE, EVALUATE(loss), LOSSES, 0, 0, "the loss reported", NULL},
};
static const evaluate_options evaluate_initial = {.common = {.batch = 256}, .split = "test", .loss = "auto"};
const cli_command cli_evaluate = {
    .name = "evaluate", .usage = "MODEL --data DATA [--split test|train] [--batch N] [--json]",
    .summary = "loss, accuracy, per-class metrics, confusion matrix",
    .about = "  loss, accuracy, per-class precision/recall/F1 and the confusion matrix on a split of DATA\n",
    .examples = "build/mnist-cnn-fashion.fvm --data fashion-mnist --json", .shared = CLI_BACKEND | CLI_BATCH | CLI_JSON | CLI_INPUT_SHAPE,
    .own = CLI_TABLE(evaluate_table), .min_args = 1, .max_args = 1, .size = sizeof(evaluate_options), .initial = &evaluate_initial,
    .run = run_evaluate};

static const cli_option predict_table[] = {
    {"--top", NULL, CLI_INT, offsetof(predict_options, top), "K", 1, 100000, "the top K classes of each image", NULL},
};
static const predict_options predict_initial = {.top = 3};
const cli_command cli_predict = {
    .name = "predict", .usage = "MODEL [--top K] [--json] [preprocessing] IMAGE|X.npy...", .summary = "top classes with probabilities",
    .about = "  the top K classes of each image, read and resized to the model's input;\n"
             "  a float32 X.npy holds the model's inputs as given, (N, H, W, C): each row's, named X.npy[i]\n"
             "  a model whose output is not a softmax (logits) shows the softmax of its scores;\n"
             "  an ONNX model whose input size is open (and no --input-shape) takes each image at its own size\n"
             "  --json: one JSON document {model, predictions: [{image, top: [{class, name, probability}]}]}\n",
    .examples = "build/mnist-cnn-fashion.fvm --top 3 samples/*.png\n"
                "resnet50.onnx --imagenet --labels models/imagenet_classes.txt --top 5 dog.jpg",
    .shared = CLI_BACKEND | CLI_JSON | CLI_PREP | CLI_INPUT_SHAPE, .own = CLI_TABLE(predict_table), .min_args = 2, .max_args = -1,
    .size = sizeof(predict_options), .initial = &predict_initial, .run = run_predict};
