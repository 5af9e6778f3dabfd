/* fit.c — fit: epochs of shuffled minibatches, augmentation, validation, early stopping, a
 * progress bar, mid-epoch checkpoints. Every buffer is allocated before the first step. Each
 * epoch's order derives from (seed, epoch), and each sample's dropout mask and augmentation from
 * (seed, epoch, its number in the epoch), so a run resumed from a saved epoch or batch
 * (fv_fit_position) continues exactly as the uninterrupted run would, and a batch split across
 * ranks (replica.c) trains as one process would train it. */
#include "core/net.h"
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

fv_fit_config fv_fit_defaults(void) {
    fv_fit_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 10;
    c.batch_size = 32;
    c.loss.kind = FV_LOSS_SOFTMAX_CROSS_ENTROPY;
    c.seed = 1;
    c.shuffle = 1;
    c.restore_best = 1;
    return c;
}

/* ---- Augmentation: one inverse map per image: flip, then rotate about the centre and shift,
 * sampled bilinearly; pixels from outside the image are 0. x, out (H, W, C). ---- */
static void augment(const fv_fit_config *c, const fv_shape *s, const float *x, float *out, fv_rng *rng) {
    int h = s->rank == 3 ? s->dim[0] : 1, w = s->dim[s->rank - 2], ch = s->dim[s->rank - 1];
    int flip = c->flip_horizontal && fv_rng_uniform(rng) < 0.5f;
    float angle = c->rotate_degrees * (2.0f * fv_rng_uniform(rng) - 1.0f) * (float)FV_PI / 180.0f;
    float dy = c->shift_pixels ? (float)((int)(fv_rng_next(rng) % (uint64_t)(2 * c->shift_pixels + 1)) - c->shift_pixels) : 0.0f;
    float dx = c->shift_pixels ? (float)((int)(fv_rng_next(rng) % (uint64_t)(2 * c->shift_pixels + 1)) - c->shift_pixels) : 0.0f;
    float cy = 0.5f * (float)(h - 1), cx = 0.5f * (float)(w - 1), cs = cosf(angle), sn = sinf(angle);
    for (int y = 0; y < h; y++)
        for (int xo = 0; xo < w; xo++) {
            float py = (float)y - cy - dy, px = (float)xo - cx - dx;
            float sy = cs * py + sn * px + cy, sx = -sn * py + cs * px + cx;
            if (flip) sx = (float)(w - 1) - sx;
            int y0 = (int)floorf(sy), x0 = (int)floorf(sx);
            float fy = sy - (float)y0, fx = sx - (float)x0;
            float *o = out + ((size_t)y * w + xo) * ch;
            for (int k = 0; k < ch; k++) o[k] = 0.0f;
            for (int j = 0; j < 4; j++) {
                int yy = y0 + (j >> 1), xx = x0 + (j & 1);
                float wgt = ((j >> 1) ? fy : 1.0f - fy) * ((j & 1) ? fx : 1.0f - fx);
                if (yy < 0 || yy >= h || xx < 0 || xx >= w || wgt == 0.0f) continue;
                const float *p = x + ((size_t)yy * w + xx) * ch;
                for (int k = 0; k < ch; k++) o[k] += wgt * p[k];
            }
        }
}

static uint64_t epoch_seed(uint64_t seed, int epoch, uint64_t stream) {
    fv_rng r;
    fv_rng_seed(&r, seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(epoch + 1)) ^ (stream << 56));
    return fv_rng_next(&r);
}

/* What a batch's ranks agree on after its step: the summed loss and hits, and whether to save or
 * stop (a signal or a clock may reach one rank a batch before the other). */
enum { AGREE_LOSS, AGREE_CORRECT, AGREE_CHECKPOINT, AGREE_INTERRUPT, AGREE_COUNT };

/* Whether any rank says yes, told to every rank. */
static fv_status agree_on(fv_net *net, int *flag, fv_error *err) {
    double any = *flag != 0;
    if (net->comm->sum_doubles(net->comm, &any, 1, err) != FV_OK) return FV_ERR;
    *flag = any > 0;
    return FV_OK;
}

/* ---- Progress: a bar redrawn in place on a terminal, else one line per epoch. ---- */
static void progress_line(FILE *f, const fv_batch_log *b, int final) {
    int width = 30, done = b->batches ? (int)((long)width * b->batch / b->batches) : width;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < done - 1 ? '=' : i == done - 1 ? (final ? '=' : '>') : '.';
    bar[width] = '\0';
    fprintf(f, "\r%*d/%d [%s] - ", (int)snprintf(NULL, 0, "%d", b->batches), b->batch, b->batches, bar);
    if (final) fprintf(f, "%.0fs %.0fms/step", b->seconds, 1e3 * b->seconds / (b->batch ? b->batch : 1));
    else fprintf(f, "ETA: %.0fs", b->batch ? b->seconds / b->batch * (b->batches - b->batch) : 0.0);
    fprintf(f, " - loss: %.4f - accuracy: %.4f", b->loss, b->accuracy);
}

fv_status fv_fit(fv_net *net, fv_optimizer *opt, const fv_dataset *data, const fv_fit_config *c, fv_fit_result *result,
                 fv_error *err) {
    if (c->batch_size <= 0 || c->epochs <= 0) return fv_fail(err, "epochs and batch size must be positive");
    if (data->count < (size_t)c->batch_size)
        return fv_fail(err, "%zu training samples are fewer than one batch of %d", data->count, c->batch_size);
    int shape_h = data->shape.rank == 3 ? data->shape.dim[0] : 1, shape_w = data->shape.rank >= 2 ? data->shape.dim[data->shape.rank - 2] : 1;
    if (c->shift_pixels < 0 || c->shift_pixels >= (shape_h < shape_w ? shape_h : shape_w))
        return fv_fail(err, "a shift of %d pixels does not fit images of %d x %d", c->shift_pixels, shape_h, shape_w);
    if (!(c->rotate_degrees >= 0.0f && c->rotate_degrees <= 180.0f))
        return fv_fail(err, "rotation must be between 0 and 180 degrees, not %g", (double)c->rotate_degrees);
    if (c->resume_at && (c->resume_at->epoch != c->initial_epoch || c->resume_at->batch < 0 ||
                         (size_t)c->resume_at->batch > data->count / (size_t)c->batch_size))
        return fv_fail(err, "cannot resume at epoch %d, batch %d: the run is at epoch %d with %zu batches an epoch", c->resume_at->epoch + 1,
                       c->resume_at->batch, c->initial_epoch + 1, data->count / (size_t)c->batch_size);
    fv_replica rep, *replica = net->comm && net->comm->size > 1 ? &rep : NULL;
    int local = c->batch_size; /* samples of each batch this process runs */
    if (replica) {
        if (fv_replica_begin(replica, net, c->batch_size, c->bucket_bytes, err) != FV_OK) return FV_ERR;
        local = replica->count;
    }
    if ((fv_net_batch(net) != local || fv_net_mode(net) != FV_PLAN_TRAINING) && fv_net_plan(net, local, fv_net_backend(net), c->seed, err) != FV_OK)
        return replica ? fv_replica_end(replica), FV_ERR : FV_ERR;
    if (replica) {
        fv_replica_attach(replica);
        if (fv_replica_check_start(replica, data, c, err) != FV_OK) return fv_replica_end(replica), FV_ERR;
    }
    int one_hot;
    if (fv_target_layout(net, data, &one_hot, err) != FV_OK || (c->validation && fv_target_layout(net, c->validation, &one_hot, err) != FV_OK)) {
        if (replica) fv_replica_end(replica);
        return FV_ERR;
    }
    int units = fv_net_node_shape(net, fv_net_output_node(net)).dim[0];
    int wanted_input_grad = fv_net_want_input_grad(net, 0); /* training needs no input gradient */
    size_t per = fv_shape_count(data->shape), batch = (size_t)local, global = (size_t)c->batch_size, batches = data->count / global;
    size_t mine = replica ? (size_t)replica->first : 0; /* this rank's first sample of each batch */
    int augmenting = c->shift_pixels > 0 || c->flip_horizontal || c->rotate_degrees > 0.0f;
    size_t weights = fv_net_weight_count(net, 0);

    float *x = malloc(batch * per * sizeof *x), *targets = malloc(batch * (size_t)units * sizeof *targets);
    int32_t *labels = malloc(batch * sizeof *labels);
    size_t *order = malloc(data->count * sizeof *order);
    float *best = c->patience > 0 && c->restore_best ? malloc(weights * sizeof *best) : NULL;
    fv_metrics val; /* the validation's metrics, allocated once for every epoch */
    memset(&val, 0, sizeof val);
    if (!x || !targets || !labels || !order || (c->patience > 0 && c->restore_best && !best) ||
        (c->validation && fv_metrics_alloc(&val, fv_net_classes(net), err) != FV_OK)) {
        free(x), free(targets), free(labels), free(order), free(best);
        if (replica) fv_replica_end(replica);
        return fv_fail(err, "out of memory for the training buffers");
    }
    fv_fit_result r;
    memset(&r, 0, sizeof r);
    r.best_loss = INFINITY;
    r.epochs_run = c->initial_epoch;
    int wait = 0, stop = 0, interactive = c->progress && isatty(fileno(c->progress));
    fv_status status = FV_OK;

    double step_seconds = 0.0;
    for (int epoch = c->initial_epoch; epoch < c->epochs && status == FV_OK; epoch++) {
        fv_rng shuffle;
        fv_rng_seed(&shuffle, epoch_seed(c->seed, epoch, 1));
        uint64_t augment_seed = epoch_seed(c->seed, epoch, 2);
        fv_net_reseed(net, epoch_seed(c->seed, epoch, 3));
        for (size_t i = 0; i < data->count; i++) order[i] = i;
        for (size_t i = data->count; c->shuffle && i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)(fv_rng_next(&shuffle) % i), t = order[i - 1];
            order[i - 1] = order[j], order[j] = t;
        }
        float lr = fv_optimizer_learning_rate(opt, epoch);
        double start = fv_time_seconds(), loss_sum = 0.0, last_draw = 0.0, last_checkpoint = start;
        size_t correct = 0, first = 0;
        const fv_fit_position *at = c->resume_at && epoch == c->initial_epoch ? c->resume_at : NULL;
        if (at) { /* continue where the checkpoint was taken */
            first = (size_t)at->batch;
            loss_sum = at->loss_sum, correct = (size_t)at->correct;
        }
        if (c->progress) fprintf(c->progress, at ? "Epoch %d/%d (from batch %zu)\n" : "Epoch %d/%d\n", epoch + 1, c->epochs, first + 1);
        fv_batch_log b = {epoch + 1, c->epochs, 0, (int)batches, 0, 0, 0};
        for (size_t k = first; k < batches; k++) {
            uint64_t number = k * global + mine; /* this process's first sample's number in the epoch */
            for (size_t i = 0; i < batch; i++) {
                size_t s = order[number + i];
                if (augmenting) {
                    fv_rng aug;
                    fv_rng_seed(&aug, fv_mix64(augment_seed ^ (number + i)));
                    augment(c, &data->shape, data->x + s * per, x + i * per, &aug);
                } else memcpy(x + i * per, data->x + s * per, per * sizeof *x);
                labels[i] = data->labels[s];
            }
            fv_fill_targets(targets, labels, batch, units, one_hot);
            fv_net_set_first_sample(net, number);
            double loss, step_start = fv_time_seconds();
            if (replica) fv_replica_before_backward(replica);
            if (fv_net_forward(net, x, 1, err) != FV_OK || fv_net_loss_backward(net, c->loss, targets, &loss, err) != FV_OK ||
                (replica && fv_replica_sum_gradients(replica, err) != FV_OK) || fv_optimizer_step(opt, lr, err) != FV_OK) {
                char why[sizeof err->message];
                snprintf(why, sizeof why, "%s", err->message);
                fv_fail(err, "epoch %d, batch %zu: %s", epoch + 1, k + 1, why);
                status = FV_ERR;
                break;
            }
            step_seconds += fv_time_seconds() - step_start;
            const float *y = fv_net_node_output(net, fv_net_output_node(net));
            size_t hits = 0;
            for (size_t i = 0; i < batch; i++) hits += fv_predicted_class(y + i * (size_t)units, units) == labels[i];
            int by_count = c->checkpoint_every > 0 && (k + 1) % (size_t)c->checkpoint_every == 0;
            int by_time = c->checkpoint_seconds > 0 && fv_time_seconds() - last_checkpoint >= c->checkpoint_seconds;
            int interrupted = c->interrupt && *c->interrupt;
            if (replica) { /* every rank agrees on the batch's loss and hits, and on saving and stopping */
                double agree[AGREE_COUNT] = {loss * replica->share, (double)hits, by_time, interrupted};
                if (net->comm->sum_doubles(net->comm, agree, AGREE_COUNT, err) != FV_OK) {
                    status = FV_ERR;
                    break;
                }
                loss = agree[AGREE_LOSS], hits = (size_t)agree[AGREE_CORRECT];
                by_time = agree[AGREE_CHECKPOINT] > 0, interrupted = agree[AGREE_INTERRUPT] > 0;
            }
            correct += hits;
            loss_sum += loss;
            b.batch = (int)k + 1, b.loss = loss_sum / (double)(k + 1);
            b.accuracy = (double)correct / (double)((k + 1) * global), b.seconds = fv_time_seconds() - start;
            if (c->on_batch) c->on_batch(&b, c->user);
            if (interactive && (b.seconds - last_draw > 0.1 || k + 1 == batches)) {
                progress_line(c->progress, &b, 0);
                fflush(c->progress);
                last_draw = b.seconds;
            }
            fv_fit_position here = {epoch, (int)k + 1, 0, 0, loss_sum, (uint64_t)correct};
            if (c->on_checkpoint && (by_count || by_time || interrupted) && k + 1 < batches) { /* the epoch's end has its own save */
                last_checkpoint = fv_time_seconds();
                int stop_now = c->on_checkpoint(&here, c->user);
                if (replica && agree_on(net, &stop_now, err) != FV_OK) {
                    status = FV_ERR;
                    break;
                }
                if (stop_now) {
                    stop = 1;
                    break;
                }
            }
            if (interrupted && k + 1 < batches) {
                r.interrupted = 1, r.stopped_at = here;
                stop = 1;
                break;
            }
        }
        if (stop) break;
        if (status != FV_OK) break;
        fv_epoch_log e = {epoch + 1, c->epochs, b.loss, b.accuracy, 0, 0, 0, lr, 0};
        if (c->validation) {
            if (fv_evaluate_into(net, c->validation, c->loss, &val, x, targets, err) != FV_OK) {
                status = FV_ERR;
                break;
            }
            e.has_validation = 1, e.val_loss = val.loss, e.val_accuracy = val.accuracy;
        }
        e.seconds = fv_time_seconds() - start;
        b.seconds = e.seconds;
        if (c->progress) {
            progress_line(c->progress, &b, 1);
            if (e.has_validation) fprintf(c->progress, " - val_loss: %.4f - val_accuracy: %.4f", e.val_loss, e.val_accuracy);
            fprintf(c->progress, "\n");
            fflush(c->progress);
        }
        r.epochs_run = epoch + 1, r.last = e;
        double monitored = e.has_validation ? e.val_loss : e.loss;
        if (monitored < r.best_loss) {
            r.best_loss = monitored, r.best_epoch = epoch + 1, wait = 0;
            if (best) fv_net_copy_weights(net, best, 0);
        } else if (c->patience > 0 && ++wait >= c->patience) {
            r.stopped_early = 1;
            if (best) fv_net_copy_weights(net, best, 1);
            if (c->progress)
                fprintf(c->progress, "Early stopping: no better %s for %d epochs; %s epoch %d\n",
                        e.has_validation ? "val_loss" : "loss", c->patience, best ? "restored the weights of" : "best was", r.best_epoch);
            break;
        }
        int stop_now = c->on_epoch && c->on_epoch(&e, c->user);
        if (replica && agree_on(net, &stop_now, err) != FV_OK) { /* one rank's failed save stops every rank */
            status = FV_ERR;
            break;
        }
        if (stop_now) break;
        int interrupted = c->interrupt && *c->interrupt;
        if (replica && agree_on(net, &interrupted, err) != FV_OK) {
            status = FV_ERR;
            break;
        }
        if (interrupted) { /* after an epoch's last batch: the epoch's own end was the save */
            r.interrupted = 1, r.stopped_at = (fv_fit_position){epoch + 1, 0, 0, 0, 0.0, 0};
            break;
        }
    }
    fv_net_want_input_grad(net, wanted_input_grad);
    fv_metrics_free(&val);
    r.step_seconds = step_seconds;
    if (replica) r.sum_wait_seconds = replica->wait_seconds, fv_replica_end(replica);
    if (result) *result = r;
    free(x), free(targets), free(labels), free(order), free(best);
    return status;
}
