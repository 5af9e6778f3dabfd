/* replica.c — one rank's part of data-parallel training: its share of each batch, the gradients
 * summed across ranks in buckets that start as soon as backward has finished their layers (the
 * overlap of PyTorch's DDP and Horovod), and the checks that every rank starts from the same
 * weights, data and options. fit uses it when the network has a communicator of two or more ranks;
 * the transport is the communicator's (src/dist/mpi.c). */
#include "core/net.h"
#include "train/train.h"

#include <stdlib.h>
#include <string.h>

/* Rank r of n takes samples [first, first + count) of every batch of `batch`: the first batch % n
 * ranks one more, so any batch of at least n samples splits. */
static void share_of(int batch, int rank, int n, int *first, int *count) {
    int base = batch / n, extra = batch % n;
    *count = base + (rank < extra);
    *first = rank * base + (rank < extra ? rank : extra);
}

/* Starts summing gradients [lo, hi), scaled by this rank's share of the batch first: the sum is then
 * the whole batch's mean gradient. */
static void start_bucket(fv_replica *r, size_t lo, size_t hi) {
    if (hi <= lo || r->failed) return;
    float *g = r->grad + lo;
    if (r->share != 1.0)
        for (size_t i = 0; i < hi - lo; i++) g[i] = (float)(g[i] * r->share);
    if (r->comm->start_sum(r->comm, g, hi - lo, &r->err) != FV_OK) r->failed = 1;
    r->buckets++;
}

static void after_backward(void *user, int node) {
    fv_replica *r = user;
    size_t ready = r->ready_from[node];
    if (r->pending_end - ready >= r->bucket_floats && r->bucket_floats > 0) {
        start_bucket(r, ready, r->pending_end);
        r->pending_end = ready;
    }
}

fv_status fv_replica_begin(fv_replica *r, fv_net *net, int batch, size_t bucket_bytes, fv_error *err) {
    memset(r, 0, sizeof *r);
    r->comm = net->comm, r->net = net;
    if (batch < r->comm->size)
        return fv_fail(err, "a batch of %d cannot be split across %d ranks: use a batch of at least %d", batch, r->comm->size, r->comm->size);
    share_of(batch, r->comm->rank, r->comm->size, &r->first, &r->count);
    r->share = (double)r->count / (double)batch;
    r->bucket_floats = bucket_bytes / sizeof(float);
    /* ready_from[i]: where the gradients that are final once node i's backward is done begin (the
     * parameters lie in node order) */
    if (!(r->ready_from = malloc((size_t)net->n_nodes * sizeof *r->ready_from))) return fv_fail(err, "out of memory");
    size_t from = net->param_floats;
    for (int i = net->n_nodes - 1; i >= 0; i--) {
        for (int p = 0; p < net->nodes[i].n_params; p++)
            if (net->nodes[i].params[p].offset < from) from = net->nodes[i].params[p].offset;
        r->ready_from[i] = from;
    }
    return FV_OK;
}

/* After planning for r->count samples: hooks into backward. */
void fv_replica_attach(fv_replica *r) {
    r->grad = fv_net_gradient_block(r->net, &r->floats);
    r->net->share = r->share;
    r->net->after_backward = after_backward, r->net->after_backward_user = r;
}

void fv_replica_end(fv_replica *r) {
    if (r->net) r->net->after_backward = NULL, r->net->after_backward_user = NULL, r->net->share = 1.0;
    free(r->ready_from);
    r->ready_from = NULL;
}

/* Before backward: every gradient is pending. */
void fv_replica_before_backward(fv_replica *r) { r->pending_end = r->floats; }

/* After backward: starts what is left and waits for every sum. */
fv_status fv_replica_sum_gradients(fv_replica *r, fv_error *err) {
    start_bucket(r, 0, r->pending_end);
    r->pending_end = 0;
    double waited = 0.0;
    if (r->failed) return fv_fail(err, "%s", r->err.message);
    if (r->comm->finish_sums(r->comm, &waited, err) != FV_OK) return FV_ERR;
    r->wait_seconds += waited;
    return FV_OK;
}

/* A hash of bytes (FNV-1a over 64-bit words, then mixed): enough to tell different inputs apart. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    size_t words = n / 8;
    for (size_t i = 0; i < words; i++) {
        uint64_t w;
        memcpy(&w, b + 8 * i, 8);
        h = (h ^ w) * 0x100000001B3ull;
    }
    for (size_t i = 8 * words; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return fv_mix64(h);
}

/* Every rank must train the same network on the same data with the same options: each hashes its
 * own, rank 0's are broadcast, and any difference is refused on every rank (the sum of the
 * differences tells them all). Then rank 0's weights are every rank's. */
fv_status fv_replica_check_start(fv_replica *r, const fv_dataset *data, const fv_fit_config *c, fv_error *err) {
    fv_net *net = r->net;
    uint64_t mine[3], root[3];
    mine[0] = hash_bytes(0xCBF29CE484222325ull, net->param_block, net->param_floats * sizeof(float));
    mine[0] = hash_bytes(mine[0], net->name, strlen(net->name));
    mine[1] = hash_bytes(hash_bytes(0xCBF29CE484222325ull, data->x, data->count * fv_shape_count(data->shape) * sizeof(float)), data->labels,
                         data->count * sizeof *data->labels);
    int64_t options[] = {c->epochs, c->batch_size, c->initial_epoch, c->loss.kind, (int64_t)c->seed, c->shuffle, c->patience,
                         c->shift_pixels, c->flip_horizontal, (int64_t)(c->rotate_degrees * 1000), (int64_t)(c->loss.label_smoothing * 1e6),
                         c->resume_at ? c->resume_at->batch : -1, c->validation ? (int64_t)c->validation->count : -1, net->planned_precision};
    mine[2] = hash_bytes(0xCBF29CE484222325ull, options, sizeof options);
    memcpy(root, mine, sizeof root);
    if (r->comm->broadcast(r->comm, root, sizeof root, 0, err) != FV_OK) return FV_ERR;
    double differ[3];
    for (int i = 0; i < 3; i++) differ[i] = mine[i] != root[i];
    if (r->comm->sum_doubles(r->comm, differ, 3, err) != FV_OK) return FV_ERR;
    static const char *const what[3] = {"model (weights) differs", "training data differs", "options differ"};
    for (int i = 0; i < 3; i++)
        if (differ[i] > 0)
            return fv_fail(err, "%s%s from rank 0's on %g of %d ranks: every rank must be given the same", r->comm->rank && mine[i] != root[i] ? "this rank's " : "the ",
                           what[i], differ[i], r->comm->size);
    return r->comm->broadcast(r->comm, net->param_block, net->param_floats * sizeof(float), 0, err);
}
