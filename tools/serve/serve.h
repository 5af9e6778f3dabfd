/* serve.h — fovea serve: models behind an HTTP API and the explorer page. Three parts:
 *   api.c    a request in, a response out: routing, decoding inputs, JSON, pictures (no sockets,
 *            so the fuzz harness drives it directly)
 *   pool.c   the workers, each with its own copy of every model, and the dynamic batcher
 *   http.c   libmicrohttpd: connections, bodies and their limits, the bearer token, metrics
 * tools/cmd_serve.c is the command. */
#ifndef FOVEA_SERVE_H
#define FOVEA_SERVE_H

#include "cli.h"

#include <pthread.h>
#include <semaphore.h>

/* ---- One request and its response (api.c). ---- */
typedef struct serve_request {
    const char *method;        /* "GET", "POST" */
    const char *path;          /* "/v1/models/mnist/predict" */
    const char *query;         /* the query string's pairs, "k=v&k=v" (NULL: none) */
    const char *content_type;  /* NULL: none */
    const unsigned char *body;
    size_t body_size;
} serve_request;

typedef struct serve_response {
    int status;
    const char *content_type;  /* a string literal */
    unsigned char *body;       /* malloc'd (NULL for an empty body) */
    size_t size;
} serve_response;

/* ---- A model as the server keeps it: its name, input, classes, and a copy per worker. ---- */
#define SERVE_MAX_SIZES 14 /* 1, 2, 4, ... 4096 (--max-batch's limit), and the limit */
typedef struct serve_model {
    char name[64];             /* from the file name: "mnist-cnn" for models/mnist-cnn.fvm */
    char path[1024];
    fv_net **nets;             /* per worker, n_sizes copies planned for inference at batches sizes[k]
                                  (nets[worker * n_sizes + k]): 1, 2, 4, ... up to the limit, and the
                                  limit; a forward takes as many waiting requests as the largest
                                  that they fill, so no forward computes padding */
    int sizes[SERVE_MAX_SIZES], n_sizes;
    fv_net **inspect;          /* one per worker, planned for inspection at batch 1: explanations
                                  and feature maps read every layer */
    fv_checkpoint checkpoint;  /* class names, normalisation */
    int borrowed;              /* the checkpoint's class names are the trainer's (fovea train --serve) */
    int height, width, channels, units;
    int softmax_logits;        /* its outputs are logits: predictions show their softmax */
    int shorter;               /* ImageNet-style preprocessing: resize the shorter side, then crop (0: resize) */
} serve_model;

typedef struct serve_limits {
    size_t max_body;           /* bytes (413 beyond) */
    long max_pixels;           /* an image's width x height */
    int max_batch;             /* samples one forward runs */
    double window_seconds;     /* how long a batch waits for more requests */
    int max_rows;              /* samples one .npy request may hold */
} serve_limits;

/* ---- The workers (pool.c). ---- */
enum { JOB_PREDICT, JOB_EXPLAIN };

typedef struct serve_job serve_job;
struct serve_job {
    int model, kind;
    const float *x;            /* predict: one sample; explain: the image (normalised as the model wants) */
    const float *raw;          /* explain: the image's pixels in [0, 1], to draw on */
    float *y;                  /* predict: its outputs */
    const char *query;         /* explain: the request's query */
    serve_response *response;  /* explain: the picture or values */
    fv_status status;
    fv_error err;
    struct serve_call *call;   /* the request it is part of */
    serve_job *next;
};

/* A request's jobs, submitted together: the worker that finishes the last calls done(arg) (on a
 * worker thread; http.c resumes the request's connection, which alone wakes). */
typedef struct serve_call {
    int remaining;             /* jobs not done (atomic) */
    void (*done)(void *arg);
    void *arg;
} serve_call;

typedef struct serve_pool serve_pool;
struct serve_server;
/* Runs an explanation on a worker's copy of the model (api.c). */
typedef void (*serve_explain_fn)(struct serve_server *s, fv_net *net, serve_job *job);
serve_pool *serve_pool_start(struct serve_server *s, int workers, serve_explain_fn explain, fv_error *err);
/* Queues n jobs for the workers together, so that a request's rows batch together; call->done
 * runs once all are done (workers 0: here and now, before this returns: the fuzz harness). */
void serve_pool_submit(serve_pool *p, serve_job *jobs, int n, serve_call *call);
void serve_pool_stop(serve_pool *p); /* after the jobs under way */

/* ---- The server. ---- */
typedef struct serve_metrics {
    pthread_mutex_t lock;
    unsigned long requests[6];       /* by status class: 1xx .. 5xx (index 1..5) */
    unsigned long predictions, batches; /* samples predicted, forwards run: their ratio is the batching */
    double latency_sum;
    unsigned long latency_buckets[12]; /* counts at or below each serve_latency_bounds */
    unsigned long latency_count;
    long in_flight;
} serve_metrics;

typedef struct serve_server {
    serve_model *models;
    int n_models;
    int workers;
    int worker_threads;              /* OpenMP threads each worker's forward runs on */
    serve_limits limits;
    const char *token;               /* a bearer token every request but /healthz must carry (NULL: none) */
    /* fovea train --serve: the model is the one training; workers read its weights under the read
     * lock, an epoch's end writes them under the write lock; /v1/training gives the history */
    pthread_rwlock_t weights;
    pthread_mutex_t history_lock;
    fv_epoch_log *history;
    int n_history, epochs, training, finished;
    serve_pool *pool;
    serve_metrics metrics;
    double started;
} serve_server;

extern const double serve_latency_bounds[12];

/* Loads every model once per worker (planned for inference at the batch limit); workers 0 runs
 * jobs in the caller (the fuzz harness). */
fv_status serve_open(serve_server *s, const char *const *paths, int n, int workers, const serve_limits *limits, const cli_common *options,
                     fv_error *err);
void serve_close(serve_server *s);
/* The server of a network being trained (fovea train --serve): copies of it (its definition and
 * current weights) named `name`, with the training's preprocessing and class names (borrowed). */
fv_status serve_open_training(serve_server *s, const fv_net *net, const char *name, const fv_train_state *state, int workers,
                              const serve_limits *limits, fv_backend backend, fv_error *err);
/* At an epoch's end: the trained weights into every copy, and the epoch into the history. */
void serve_training_epoch(serve_server *s, const fv_net *net, const fv_epoch_log *epoch);
/* Answers one request (without the token check and the metrics, which http.c does), waiting
 * for the workers: serve_start, serve_submit, then serve_finish. */
void serve_handle(serve_server *s, const serve_request *r, serve_response *out);
/* The same in three steps, for a server that waits for no one (http.c suspends the connection):
 * serve_start answers *out at once and returns NULL, or returns the work the request needs of the
 * workers (r must live until it is finished); serve_submit queues it, done(arg) runs on a worker
 * when it is done; serve_finish then answers *out and frees it. */
typedef struct serve_pending serve_pending;
serve_pending *serve_start(serve_server *s, const serve_request *r, serve_response *out);
void serve_submit(serve_server *s, serve_pending *p, void (*done)(void *arg), void *arg);
void serve_finish(serve_server *s, serve_pending *p, serve_response *out);
/* The message into err; returns FV_ERR (the library's fv_fail, for the tool). */
fv_status serve_fail(fv_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON error body: {"error": message} with the status. */
void serve_error(serve_response *out, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The Prometheus text of the metrics. */
void serve_metrics_text(serve_server *s, serve_response *out);

/* ---- HTTP (http.c). ---- */
typedef struct serve_http serve_http;
serve_http *serve_http_start(serve_server *s, const char *host, int port, fv_error *err);
int serve_http_port(serve_http *h); /* the port it listens on (--port 0: the one the system gave) */
/* Stops taking connections, waits up to `seconds` for the requests under way, and closes. */
void serve_http_stop(serve_http *h, double seconds);

/* The explorer page (explorer.html, built into the binary). */
extern const unsigned char serve_explorer_page[];
extern const size_t serve_explorer_page_size;

#endif
