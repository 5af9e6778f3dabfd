/* mpi.c — the communicator over Open MPI's COMM_WORLD (fv_comm_mpi): data-parallel training's
 * sums and broadcasts between the ranks mpirun started. Every operation is non-blocking underneath
 * and waited for with a deadline, so a rank that hangs or is lost ends the wait with an error
 * instead of hanging the job; after a failure every later call fails too. A rank on the same
 * machine that has ended is seen at once (its process is gone), one elsewhere by the deadline. Compiled when CMake finds
 * MPI (FOVEA_HAVE_MPI); without it fv_comm_mpi says so. */
#define _GNU_SOURCE
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

int fv_comm_mpi_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

#ifndef FOVEA_HAVE_MPI
int fv_comm_mpi_built(void) { return 0; }

fv_comm *fv_comm_mpi(double timeout_seconds, int *threads, fv_error *err) {
    (void)timeout_seconds, (void)threads;
    fv_fail(err, "this fovea was built without MPI (install libopenmpi-dev and build it again)");
    return NULL;
}
#else
#include <errno.h>
#include <mpi.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

enum { MAX_PENDING = 4096 }; /* gradient buckets in flight: VGG16's 550 MB in 2 MB buckets is 275 */

typedef struct peer {
    long host;  /* a hash of its machine's name */
    long pid;
} peer;

typedef struct mpi_state {
    MPI_Comm comm;
    peer *peers; /* every rank's, to see one on this machine end */
    int rank, size;
    MPI_Request pending[MAX_PENDING];
    int n_pending;
    double timeout;
    int failed;
    fv_error why; /* the first failure, repeated by every later call */
} mpi_state;

int fv_comm_mpi_built(void) { return 1; }

static fv_status failed(mpi_state *s, fv_error *err, const char *what, int code) {
    if (!s->failed) {
        char text[MPI_MAX_ERROR_STRING] = "";
        int len = 0;
        if (code != MPI_SUCCESS) MPI_Error_string(code, text, &len);
        fv_fail(&s->why, "%s%s%s", what, len ? ": " : "", text);
        s->failed = 1;
    }
    return fv_fail(err, "%s", s->why.message);
}

/* A rank on this machine whose process has gone, or -1. */
static int lost_rank(const mpi_state *s) {
    for (int r = 0; r < s->size; r++)
        if (r != s->rank && s->peers[r].host == s->peers[s->rank].host && kill((pid_t)s->peers[r].pid, 0) != 0 && errno == ESRCH) return r;
    return -1;
}

/* Waits for n requests, testing (which also moves the non-blocking collectives on) and yielding
 * the core between tests, until the deadline; every 50 ms it looks whether a rank here has ended.
 * (Sleeping between tests instead starves the transfer: a 93 MB sum between two ranks took 363 ms
 * with 100 us sleeps against 49 ms testing without pause.)
 * The deadline counts the time this process waited: a pause of more than a second between two
 * looks (this process was stopped, or starved of the CPU) moves it on. */
static fv_status wait_requests(mpi_state *s, MPI_Request *req, int n, const char *what, double *waited, fv_error *err) {
    double start = MPI_Wtime(), looked = start, paused = 0.0, last = start;
    for (;;) {
        int done = 0, rc = MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return failed(s, err, what, rc);
        if (done) break;
        double t = MPI_Wtime();
        if (t - last > 1.0) paused += t - last;
        last = t;
        double now = t - start - paused;
        if (t - looked > 0.05) {
            looked = t;
            int lost = lost_rank(s);
            if (lost >= 0) {
                char text[160];
                snprintf(text, sizeof text, "rank %d (process %ld on this machine) ended while %s", lost, s->peers[lost].pid, what);
                return failed(s, err, text, MPI_SUCCESS);
            }
        }
        if (now > s->timeout) {
            char text[160];
            snprintf(text, sizeof text, "no answer from another rank for %.0f s while %s: a rank hung or was lost", s->timeout, what);
            return failed(s, err, text, MPI_SUCCESS);
        }
        sched_yield();
    }
    if (waited) *waited = MPI_Wtime() - start - paused;
    return FV_OK;
}

static fv_status sum(fv_comm *c, void *values, size_t n, MPI_Datatype type, const char *what, fv_error *err) {
    mpi_state *s = c->impl;
    if (s->failed) return failed(s, err, "", MPI_SUCCESS);
    if (n > (size_t)INT32_MAX) return fv_fail(err, "a sum of %zu values is more than MPI takes at once", n);
    MPI_Request req;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, values, (int)n, type, MPI_SUM, s->comm, &req);
    if (rc != MPI_SUCCESS) return failed(s, err, what, rc);
    return wait_requests(s, &req, 1, what, NULL, err);
}

static fv_status sum_floats(fv_comm *c, float *values, size_t n, fv_error *err) { return sum(c, values, n, MPI_FLOAT, "summing", err); }
static fv_status sum_doubles(fv_comm *c, double *values, size_t n, fv_error *err) { return sum(c, values, n, MPI_DOUBLE, "summing", err); }

static fv_status start_sum(fv_comm *c, float *values, size_t n, fv_error *err) {
    mpi_state *s = c->impl;
    if (s->failed) return failed(s, err, "", MPI_SUCCESS);
    if (s->n_pending == MAX_PENDING && wait_requests(s, s->pending, s->n_pending, "summing gradients", NULL, err) != FV_OK) return FV_ERR;
    if (s->n_pending == MAX_PENDING) s->n_pending = 0;
    if (n > (size_t)INT32_MAX) return fv_fail(err, "a bucket of %zu gradients is more than MPI takes at once", n);
    int rc = MPI_Iallreduce(MPI_IN_PLACE, values, (int)n, MPI_FLOAT, MPI_SUM, s->comm, &s->pending[s->n_pending]);
    if (rc != MPI_SUCCESS) return failed(s, err, "summing gradients", rc);
    s->n_pending++;
    int done; /* moves the earlier buckets on while backward goes on */
    MPI_Testall(s->n_pending, s->pending, &done, MPI_STATUSES_IGNORE);
    return FV_OK;
}

static fv_status finish_sums(fv_comm *c, double *waited, fv_error *err) {
    mpi_state *s = c->impl;
    *waited = 0.0;
    if (s->failed) return failed(s, err, "", MPI_SUCCESS);
    fv_status st = wait_requests(s, s->pending, s->n_pending, "summing gradients", waited, err);
    s->n_pending = 0;
    return st;
}

static fv_status broadcast(fv_comm *c, void *bytes, size_t n, int root, fv_error *err) {
    mpi_state *s = c->impl;
    if (s->failed) return failed(s, err, "", MPI_SUCCESS);
    for (size_t at = 0; at < n;) { /* MPI counts in int */
        int part = n - at > (size_t)1 << 30 ? 1 << 30 : (int)(n - at);
        MPI_Request req;
        int rc = MPI_Ibcast((char *)bytes + at, part, MPI_BYTE, root, s->comm, &req);
        if (rc != MPI_SUCCESS) return failed(s, err, "broadcasting", rc);
        if (wait_requests(s, &req, 1, "broadcasting", NULL, err) != FV_OK) return FV_ERR;
        at += (size_t)part;
    }
    return FV_OK;
}

static void abort_job(fv_comm *c, int code) {
    mpi_state *s = c->impl;
    MPI_Abort(s->comm, code);
}

static void comm_free(fv_comm *c) {
    if (!c) return;
    mpi_state *s = c->impl;
    if (!s->failed) { /* after a failure a collective finalize could wait for the lost rank */
        MPI_Comm_free(&s->comm);
        MPI_Finalize();
    }
    free(s->peers);
    free(s);
    free(c);
}

/* This rank's share of the cores: those it may run on, divided among the ranks on this machine
 * when mpirun did not bind each to its own. */
static int threads_of_rank(void) {
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    int here = local ? atoi(local) : 1, online = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (here > 1 && online / here < cores) cores = online / here;
    return cores > 0 ? cores : 1;
}

fv_comm *fv_comm_mpi(double timeout_seconds, int *threads, fv_error *err) {
    if (!fv_comm_mpi_launched()) return fv_fail(err, "not started by mpirun (mpirun -np N fovea ...)"), NULL;
    /* Open MPI's shared memory between ranks on one machine copies large messages straight from the
     * other process (CMA), which prints its own error when that process has died; fovea reports a
     * lost rank itself, so it copies through the shared segment instead, unless the user chose. */
    if (setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0) != 0) return fv_fail(err, "setenv failed"), NULL;
    int provided, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fv_fail(err, "MPI_Init failed (error %d)", rc), NULL;
    fv_comm *c = calloc(1, sizeof *c);
    mpi_state *s = calloc(1, sizeof *s);
    if (!c || !s) {
        free(c), free(s);
        MPI_Finalize();
        return fv_fail(err, "out of memory"), NULL;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &s->comm);
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s->comm, &c->rank);
    MPI_Comm_size(s->comm, &c->size);
    s->rank = c->rank, s->size = c->size;
    s->timeout = timeout_seconds > 0 ? timeout_seconds : 60.0;
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int len = 0;
    MPI_Get_processor_name(name, &len);
    long host = 5381;
    for (int i = 0; i < len; i++) host = host * 33 + (unsigned char)name[i];
    peer me = {host, (long)getpid()};
    if (!(s->peers = calloc((size_t)c->size, sizeof *s->peers)) ||
        MPI_Allgather(&me, 2, MPI_LONG, s->peers, 2, MPI_LONG, s->comm) != MPI_SUCCESS) {
        free(s->peers), free(s), free(c);
        MPI_Finalize();
        return fv_fail(err, "could not learn the other ranks' processes"), NULL;
    }
    c->impl = s;
    c->sum_floats = sum_floats, c->sum_doubles = sum_doubles, c->start_sum = start_sum, c->finish_sums = finish_sums;
    c->broadcast = broadcast, c->abort_job = abort_job, c->free = comm_free;
    if (threads) *threads = threads_of_rank();
    return c;
}
#endif
