/* pool.c — the workers. Each holds its own copies of every model, planned for inference at batches
 * of 1, 2, 4, ... up to the limit, so requests run side by side with no lock around a network.
 * Predictions that arrive together are batched, as Triton's dynamic batcher does: a worker takes
 * every waiting prediction of a model and, when another worker is busy (the server is under load),
 * waits for more while they keep arriving, up to the window and the batch limit. It then runs the
 * largest batch they fill and leaves the rest waiting for the next free worker: no forward computes
 * padding. A lone request on an idle server runs at once. */
#include "serve/serve.h"

#include <omp.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct worker {
    serve_pool *pool;
    int index;
    pthread_t thread;
    float *x, *y;           /* max_batch rows of the largest input and output */
} worker;

struct serve_pool {
    serve_server *server;
    serve_explain_fn explain;
    pthread_mutex_t lock;
    pthread_cond_t work;
    serve_job *head;        /* waiting jobs, oldest first */
    int stopping, n_workers, started;
    int busy;               /* workers running a job */
    worker *workers;
    size_t max_in, max_out;
};

static void finish(serve_job **jobs, int n) {
    for (int i = 0; i < n; i++) {
        serve_call *call = jobs[i]->call;
        if (__atomic_sub_fetch(&call->remaining, 1, __ATOMIC_ACQ_REL) == 0) call->done(call->arg);
    }
}

/* Takes up to max predictions of `model` off the queue (lock held). */
static int take_predictions(serve_pool *p, int model, serve_job **jobs, int n, int max) {
    for (serve_job **at = &p->head; *at && n < max;) {
        if ((*at)->kind == JOB_PREDICT && (*at)->model == model) {
            jobs[n++] = *at;
            *at = (*at)->next;
        } else at = &(*at)->next;
    }
    return n;
}

/* Puts jobs back at the head of the queue, in their order (lock held). */
static void put_back(serve_pool *p, serve_job **jobs, int n) {
    for (int i = n - 1; i >= 0; i--) jobs[i]->next = p->head, p->head = jobs[i];
}

/* The largest planned batch that n requests fill. */
static int batch_for(const serve_model *m, int n) {
    int k = 0;
    while (k + 1 < m->n_sizes && m->sizes[k + 1] <= n) k++;
    return m->sizes[k];
}

/* n predictions of one model in one forward on this worker's copy planned for batch n (one of
 * m->sizes). */
static void predict(serve_pool *p, worker *w, int copy, serve_job **jobs, int n) {
    serve_model *m = &p->server->models[jobs[0]->model];
    int k = 0;
    while (k + 1 < m->n_sizes && m->sizes[k] < n) k++;
    fv_net *net = m->nets[copy * m->n_sizes + k];
    size_t in = (size_t)m->height * m->width * m->channels, out = (size_t)m->units;
    for (int i = 0; i < n; i++) memcpy(w->x + i * in, jobs[i]->x, in * sizeof *w->x);
    fv_error err;
    fv_status st = fv_net_forward(net, w->x, 0, &err);
    const float *y = st == FV_OK ? fv_net_node_output(net, fv_net_output_node(net)) : NULL;
    for (int i = 0; i < n; i++) {
        jobs[i]->status = st;
        if (st == FV_OK) memcpy(jobs[i]->y, y + i * out, out * sizeof *y);
        else jobs[i]->err = err;
    }
    pthread_mutex_lock(&p->server->metrics.lock);
    p->server->metrics.predictions += (unsigned long)n, p->server->metrics.batches++;
    pthread_mutex_unlock(&p->server->metrics.lock);
}

static void *work(void *arg) {
    worker *w = arg;
    serve_pool *p = w->pool;
    const serve_limits *lim = &p->server->limits;
    serve_job **jobs = calloc((size_t)lim->max_batch, sizeof *jobs);
    omp_set_num_threads(p->server->worker_threads); /* this worker's share of the cores */
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping) pthread_cond_wait(&p->work, &p->lock);
        if (!p->head) break; /* stopping, nothing left */
        serve_job *job = p->head;
        p->head = job->next;
        p->busy++;
        if (job->kind == JOB_EXPLAIN || !jobs) {
            pthread_mutex_unlock(&p->lock);
            serve_model *m = &p->server->models[job->model];
            pthread_rwlock_rdlock(&p->server->weights);
            if (job->kind == JOB_EXPLAIN) p->explain(p->server, m->inspect[w->index], job);
            else predict(p, w, w->index, &job, 1);
            pthread_rwlock_unlock(&p->server->weights);
            finish(&job, 1);
            pthread_mutex_lock(&p->lock);
            p->busy--;
            continue;
        }
        const serve_model *m = &p->server->models[job->model];
        int n = 1;
        jobs[0] = job;
        n = take_predictions(p, job->model, jobs, n, lim->max_batch);
        if (n < lim->max_batch && p->busy > 1 && lim->window_seconds > 0 && !p->stopping) { /* under load: wait a moment for more */
            /* ... up to the window, and only while they keep coming: a gap of an eighth of it
               with none new means the clients are waiting for answers (8 connections against 2
               workers would otherwise wait out the whole window every batch) */
            double now = fv_time_seconds(), end = now + lim->window_seconds, gap = lim->window_seconds / 8;
            for (double until = now + gap; n < lim->max_batch && !p->stopping && now < until;) {
                struct timespec at;
                clock_gettime(CLOCK_REALTIME, &at);
                long ns = at.tv_nsec + (long)((until - now) * 1e9);
                at.tv_sec += ns / 1000000000L, at.tv_nsec = ns % 1000000000L;
                pthread_cond_timedwait(&p->work, &p->lock, &at);
                int more = take_predictions(p, job->model, jobs, n, lim->max_batch);
                now = fv_time_seconds();
                if (more > n) until = now + gap < end ? now + gap : end;
                n = more;
            }
        }
        int batch = batch_for(m, n);
        if (batch < n) { /* the rest wait for the next free worker */
            put_back(p, jobs + batch, n - batch);
            pthread_cond_signal(&p->work);
        }
        pthread_mutex_unlock(&p->lock);
        pthread_rwlock_rdlock(&p->server->weights);
        predict(p, w, w->index, jobs, batch);
        pthread_rwlock_unlock(&p->server->weights);
        finish(jobs, batch);
        pthread_mutex_lock(&p->lock);
        p->busy--;
    }
    pthread_mutex_unlock(&p->lock);
    free(jobs);
    return NULL;
}

serve_pool *serve_pool_start(serve_server *s, int workers, serve_explain_fn explain, fv_error *err) {
    serve_pool *p = calloc(1, sizeof *p);
    if (!p) return serve_fail(err, "out of memory"), NULL;
    p->server = s, p->explain = explain, p->n_workers = workers;
    for (int i = 0; i < s->n_models; i++) {
        size_t in = (size_t)s->models[i].height * s->models[i].width * s->models[i].channels, out = (size_t)s->models[i].units;
        if (in > p->max_in) p->max_in = in;
        if (out > p->max_out) p->max_out = out;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    int n = workers > 0 ? workers : 1; /* workers 0: one set of buffers, used by the caller */
    if (!(p->workers = calloc((size_t)n, sizeof *p->workers))) return serve_pool_stop(p), serve_fail(err, "out of memory"), NULL;
    for (int i = 0; i < n; i++) {
        worker *w = &p->workers[i];
        w->pool = p, w->index = i;
        w->x = malloc((size_t)s->limits.max_batch * p->max_in * sizeof *w->x);
        w->y = malloc((size_t)s->limits.max_batch * p->max_out * sizeof *w->y);
        if (!w->x || !w->y) return serve_pool_stop(p), serve_fail(err, "out of memory"), NULL;
    }
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&p->workers[i].thread, NULL, work, &p->workers[i]) != 0)
            return serve_pool_stop(p), serve_fail(err, "cannot start a worker thread"), NULL;
        p->started++;
    }
    return p;
}

void serve_pool_submit(serve_pool *p, serve_job *jobs, int n, serve_call *call) {
    call->remaining = n;
    for (int i = 0; i < n; i++) jobs[i].call = call, jobs[i].next = i + 1 < n ? &jobs[i + 1] : NULL;
    if (p->n_workers == 0) { /* here and now (the fuzz harness) */
        for (int i = 0; i < n; i++) {
            serve_job *job = &jobs[i];
            serve_model *m = &p->server->models[job->model];
            job->next = NULL;
            if (job->kind == JOB_EXPLAIN) p->explain(p->server, m->inspect[0], job);
            else predict(p, &p->workers[0], 0, &job, 1);
            finish(&job, 1);
        }
        return;
    }
    /* all queued at once, so that the rows of one request are batched together */
    pthread_mutex_lock(&p->lock);
    serve_job **at = &p->head;
    while (*at) at = &(*at)->next;
    *at = jobs;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void serve_pool_stop(serve_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->started; i++) pthread_join(p->workers[i].thread, NULL);
    for (int i = 0; p->workers && i < (p->n_workers > 0 ? p->n_workers : 1); i++) free(p->workers[i].x), free(p->workers[i].y);
    free(p->workers);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
