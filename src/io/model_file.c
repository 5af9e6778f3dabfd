/* model_file.c — the model file, little-endian whatever the host:
 *
 *   "FOVEAMDL"  u32 version  u32 section count
 *   sections:   u32 tag  u64 payload bytes  payload
 *     ARCH  the model definition text (model_text.c writes and reads it)
 *     WGTS  u32 tensors; each: str "layer/param", u32 rank, u32 dims[rank], f32 values
 *     OPTM  u32 kind, f32 lr, momentum, u32 nesterov, f32 weight_decay, beta1, beta2, epsilon,
 *           u32 schedule, u32 step_epochs, f32 gamma, u32 cosine_epochs, f32 min_lr,
 *           u64 steps, u64 count, f32 moments[count]
 *     TRAN  u32 epochs_done, u64 seed, u32 batch_size, u32 classes, str names[classes]
 *     POSN  a mid-epoch checkpoint: u32 epoch, u32 batch, u64 augment_rng, u64 dropout_rng,
 *           f64 loss_sum, u64 correct
 *     NORM  u32 channels, f32 mean[channels], f32 std[channels]: the inputs' preprocessing
 *     HIST  u32 epochs; each: u32 epoch, f64 loss, f64 accuracy, u32 has_validation,
 *           f64 val_loss, f64 val_accuracy, f32 learning_rate (no wall-clock times: a resumed
 *           run's file equals an uninterrupted one's, byte for byte)
 *   u32 CRC-32 (zlib) of every byte before it
 * A tag's first letter says what a reader that does not know the section does (as PNG's chunk
 * names): upper case, the section is required to read the file, and the file is refused naming
 * it; lower case, it is optional (information a newer fovea added that an older one can do
 * without), and it is skipped. Every section above is required.
 * A str is u32 length + bytes. Loading checks every length against the file and names what is
 * wrong. */
#include "core/core.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_ARCH TAG('A', 'R', 'C', 'H')
#define TAG_WGTS TAG('W', 'G', 'T', 'S')
#define TAG_OPTM TAG('O', 'P', 'T', 'M')
#define TAG_TRAN TAG('T', 'R', 'A', 'N')
#define TAG_POSN TAG('P', 'O', 'S', 'N')
#define TAG_HIST TAG('H', 'I', 'S', 'T')
#define TAG_NORM TAG('N', 'O', 'R', 'M')

/* Lower case first letter: a reader may skip the section. */
static int section_optional(uint32_t tag) { return (tag & 0xff) >= 'a' && (tag & 0xff) <= 'z'; }

/* A tag as text, unprintable bytes as '?'. */
static const char *tag_name(uint32_t tag, char out[5]) {
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(tag >> (8 * i));
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[4] = '\0';
    return out;
}

/* ---- A growable byte buffer for writing. ---- */
typedef struct out_buf {
    unsigned char *data;
    size_t len, cap;
    int failed;
} out_buf;

static void put_bytes(out_buf *b, const void *p, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown, b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u32(out_buf *b, uint32_t v) {
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put_bytes(b, x, 4);
}

static void put_u64(out_buf *b, uint64_t v) {
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(out_buf *b, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(b, v);
}

static void put_f64(out_buf *b, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}

static void put_str(out_buf *b, const char *s) {
    put_u32(b, (uint32_t)strlen(s));
    put_bytes(b, s, strlen(s));
}

/* Sections are written with a placeholder length, patched when the section ends. */
static size_t begin_section(out_buf *b, uint32_t tag) {
    put_u32(b, tag);
    put_u64(b, 0);
    return b->len;
}

static void end_section(out_buf *b, size_t start) {
    if (b->failed) return;
    uint64_t n = b->len - start;
    for (int i = 0; i < 8; i++) b->data[start - 8 + i] = (unsigned char)(n >> (8 * i));
}


fv_status fv_model_save(const char *path, const fv_net *net, fv_optimizer *opt, const fv_train_state *state, fv_error *err) {
    fv_param_info first;
    if (fv_net_param_count(net) > 0 && fv_net_param_read(net, 0, &first, err) == FV_OK && !first.value)
        return fv_fail(err, "%s: network '%s' has no weights yet (plan it, or call fv_net_init_params, first)", path, fv_net_name(net));
    out_buf b = {0};
    put_bytes(&b, "FOVEAMDL", 8);
    put_u32(&b, FV_MODEL_FILE_VERSION);
    int position = state && state->has_position, history = state && state->n_history > 0 && state->history;
    int normalize = state && state->n_normalize > 0 && state->n_normalize <= FV_MAX_NORMALIZE;
    put_u32(&b, 2 + (opt != NULL) + (state != NULL) + position + history + normalize);

    size_t at = begin_section(&b, TAG_ARCH);
    int len = fv_net_to_text(net, NULL, 0);
    char *text = malloc((size_t)len + 1);
    if (!text) return free(b.data), fv_fail(err, "out of memory");
    fv_net_to_text(net, text, (size_t)len + 1);
    put_bytes(&b, text, (size_t)len);
    free(text);
    end_section(&b, at);

    at = begin_section(&b, TAG_WGTS);
    put_u32(&b, (uint32_t)fv_net_param_count(net));
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param_read(net, i, &p, err);
        char key[2 * FV_NAME_MAX + 2];
        snprintf(key, sizeof key, "%s/%s", fv_net_node_name(net, p.node), p.name);
        put_str(&b, key);
        put_u32(&b, (uint32_t)p.rank);
        for (int k = 0; k < p.rank; k++) put_u32(&b, (uint32_t)p.dim[k]);
        for (size_t k = 0; k < p.count; k++) put_f32(&b, p.value[k]);
    }
    end_section(&b, at);

    if (opt) {
        const fv_optimizer_config *c = fv_optimizer_get_config(opt);
        size_t count;
        uint64_t *steps;
        const float *moments = fv_optimizer_state(opt, &count, &steps);
        at = begin_section(&b, TAG_OPTM);
        put_u32(&b, (uint32_t)c->kind), put_f32(&b, c->learning_rate), put_f32(&b, c->momentum);
        put_u32(&b, (uint32_t)c->nesterov), put_f32(&b, c->weight_decay), put_f32(&b, c->beta1);
        put_f32(&b, c->beta2), put_f32(&b, c->epsilon), put_u32(&b, (uint32_t)c->schedule);
        put_u32(&b, (uint32_t)c->step_epochs), put_f32(&b, c->gamma), put_u32(&b, (uint32_t)c->cosine_epochs);
        put_f32(&b, c->min_learning_rate), put_u64(&b, *steps), put_u64(&b, count);
        for (size_t k = 0; k < count; k++) put_f32(&b, moments[k]);
        end_section(&b, at);
    }
    if (state) {
        at = begin_section(&b, TAG_TRAN);
        put_u32(&b, (uint32_t)state->epochs_done), put_u64(&b, state->seed), put_u32(&b, (uint32_t)state->batch_size);
        put_u32(&b, state->class_names ? (uint32_t)state->n_classes : 0);
        for (int k = 0; state->class_names && k < state->n_classes; k++) put_str(&b, state->class_names[k]);
        end_section(&b, at);
    }
    if (position) {
        const fv_fit_position *p = &state->position;
        at = begin_section(&b, TAG_POSN);
        put_u32(&b, (uint32_t)p->epoch), put_u32(&b, (uint32_t)p->batch), put_u64(&b, p->augment_rng), put_u64(&b, p->dropout_rng);
        put_f64(&b, p->loss_sum), put_u64(&b, p->correct);
        end_section(&b, at);
    }
    if (normalize) {
        at = begin_section(&b, TAG_NORM);
        put_u32(&b, (uint32_t)state->n_normalize);
        for (int k = 0; k < state->n_normalize; k++) put_f32(&b, state->mean[k]);
        for (int k = 0; k < state->n_normalize; k++) put_f32(&b, state->std[k]);
        end_section(&b, at);
    }
    if (history) {
        at = begin_section(&b, TAG_HIST);
        put_u32(&b, (uint32_t)state->n_history);
        for (int k = 0; k < state->n_history; k++) {
            const fv_epoch_log *e = &state->history[k];
            put_u32(&b, (uint32_t)e->epoch), put_f64(&b, e->loss), put_f64(&b, e->accuracy), put_u32(&b, (uint32_t)e->has_validation);
            put_f64(&b, e->val_loss), put_f64(&b, e->val_accuracy), put_f32(&b, e->learning_rate);
        }
        end_section(&b, at);
    }
    put_u32(&b, (uint32_t)crc32(0L, b.data, (uInt)b.len));
    fv_status st = b.failed ? fv_fail(err, "out of memory writing %s", path) : fv_write_file(path, b.data, b.len, err);
    free(b.data);
    return st;
}

/* ---- Reading: a cursor that refuses to run past its end. ---- */
typedef struct in_buf {
    const unsigned char *p;
    size_t left;
    int short_read;
} in_buf;

static const unsigned char *take(in_buf *b, size_t n) {
    if (b->short_read || n > b->left) {
        b->short_read = 1;
        return NULL;
    }
    const unsigned char *p = b->p;
    b->p += n, b->left -= n;
    return p;
}

static uint32_t get_u32(in_buf *b) {
    const unsigned char *p = take(b, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static uint64_t get_u64(in_buf *b) {
    uint64_t lo = get_u32(b);
    return lo | (uint64_t)get_u32(b) << 32;
}

static double get_f64(in_buf *b) {
    uint64_t v = get_u64(b);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static float get_f32(in_buf *b) {
    uint32_t v = get_u32(b);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static fv_status read_weights(const char *path, in_buf *s, fv_net *net, fv_error *err) {
    uint32_t n = get_u32(s);
    if (n != (uint32_t)fv_net_param_count(net))
        return fv_fail(err, "%s: holds %u weight tensors, the architecture has %d", path, n, fv_net_param_count(net));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = get_u32(s);
        const unsigned char *name = take(s, len);
        char key[256];
        if (!name || len >= sizeof key) return fv_fail(err, "%s: weight tensor %u: bad name", path, i);
        memcpy(key, name, len), key[len] = '\0';
        char *slash = strrchr(key, '/');
        int node = -1, index = -1;
        if (slash) *slash = '\0', node = fv_net_find(net, key);
        if (node >= 0) index = fv_net_find_param(net, node, slash + 1);
        if (index < 0) return fv_fail(err, "%s: weight tensor '%s' matches no layer parameter", path, key);
        fv_param_info p;
        fv_net_param(net, index, &p, err);
        uint32_t rank = get_u32(s);
        int same = rank == (uint32_t)p.rank; /* a rank that differs is refused before its dims are read */
        for (uint32_t k = 0; same && k < rank; k++) same &= get_u32(s) == (uint32_t)p.dim[k];
        if (!same || s->short_read) return fv_fail(err, "%s: weight '%s/%s' has another shape than its layer", path, key, p.name);
        for (size_t k = 0; k < p.count; k++) p.value[k] = get_f32(s);
        if (s->short_read) return fv_fail(err, "%s: weight '%s/%s' is truncated", path, key, p.name);
    }
    return FV_OK;
}

static fv_status read_optimizer(const char *path, in_buf *s, fv_checkpoint *ck, fv_error *err) {
    fv_optimizer_config *c = &ck->optimizer;
    memset(c, 0, sizeof *c);
    c->kind = (fv_optimizer_kind)get_u32(s), c->learning_rate = get_f32(s), c->momentum = get_f32(s);
    c->nesterov = (int)get_u32(s), c->weight_decay = get_f32(s), c->beta1 = get_f32(s);
    c->beta2 = get_f32(s), c->epsilon = get_f32(s), c->schedule = (fv_schedule_kind)get_u32(s);
    c->step_epochs = (int)get_u32(s), c->gamma = get_f32(s), c->cosine_epochs = (int)get_u32(s);
    c->min_learning_rate = get_f32(s);
    ck->optimizer_steps = get_u64(s);
    uint64_t count = get_u64(s);
    if (s->short_read || count > s->left / 4) return fv_fail(err, "%s: the optimizer section is truncated", path);
    const char *bad = (unsigned)c->kind > FV_OPT_ADAM ? "an unknown optimizer kind"
                    : (unsigned)c->schedule > FV_SCHEDULE_COSINE ? "an unknown schedule kind"
                    : !(c->learning_rate > 0.0f && c->learning_rate < 1e6f) ? "a learning rate that is not a positive number"
                    : !(c->momentum >= 0.0f && c->momentum < 1e6f) || !(c->weight_decay >= 0.0f && c->weight_decay < 1e6f) ? "a negative momentum or weight decay"
                    : !(c->beta1 >= 0.0f && c->beta1 < 1.0f && c->beta2 >= 0.0f && c->beta2 < 1.0f) ? "Adam betas outside [0, 1)"
                    : !(c->epsilon >= 0.0f && c->epsilon < 1.0f) || !(c->gamma >= 0.0f && c->gamma < 1e6f) || !(c->min_learning_rate >= 0.0f && c->min_learning_rate < 1e6f) ? "a bad epsilon, gamma or minimum rate"
                    : (unsigned)c->nesterov > 1 || c->step_epochs < 0 || c->step_epochs > FV_MAX_EPOCHS || c->cosine_epochs < 0 || c->cosine_epochs > FV_MAX_EPOCHS ? "a bad Nesterov flag or schedule length"
                    : NULL;
    if (bad) return fv_fail(err, "%s: impossible optimizer settings: %s", path, bad);
    ck->optimizer_state = malloc((size_t)(count ? count : 1) * sizeof(float));
    if (!ck->optimizer_state) return fv_fail(err, "out of memory");
    for (uint64_t k = 0; k < count; k++) ck->optimizer_state[k] = get_f32(s);
    ck->optimizer_state_count = (size_t)count;
    ck->has_optimizer = 1;
    return FV_OK;
}

fv_net *fv_model_load(const char *path, fv_checkpoint *ck, fv_error *err) {
    fv_checkpoint local;
    if (!ck) ck = &local;
    memset(ck, 0, sizeof *ck);
    fv_net *net = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return fv_fail(err, "%s: cannot open: %s", path, strerror(errno)), NULL;
    unsigned char *data = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size + 1)) != NULL &&
        fread(data, 1, (size_t)size, f) != (size_t)size)
        size = -1;
    fclose(f);
    if (size < 0 || !data) {
        fv_fail(err, "%s: cannot read", path);
        goto fail;
    }
    if (size < 20 || memcmp(data, "FOVEAMDL", 8) != 0) {
        fv_fail(err, "%s: not a fovea model file (no FOVEAMDL magic)", path);
        goto fail;
    }
    in_buf all = {data + 8, (size_t)size - 8, 0};
    uint32_t version = get_u32(&all), sections = get_u32(&all);
    if (version != FV_MODEL_FILE_VERSION) {
        fv_fail(err, "%s: model file version %u; this fovea reads version %d", path, version, FV_MODEL_FILE_VERSION);
        goto fail;
    }
    uint32_t stored = (uint32_t)data[size - 4] | (uint32_t)data[size - 3] << 8 | (uint32_t)data[size - 2] << 16 | (uint32_t)data[size - 1] << 24;
    if (stored != (uint32_t)crc32(0L, data, (uInt)(size - 4))) {
        fv_fail(err, "%s: checksum mismatch: the file is truncated or corrupt", path);
        goto fail;
    }
    all.left -= 4; /* the CRC */
    int have_weights = 0;
    unsigned seen = 0;
    for (uint32_t i = 0; i < sections; i++) {
        uint32_t tag = get_u32(&all);
        uint64_t n = get_u64(&all);
        const unsigned char *payload = all.short_read || n > all.left ? NULL : take(&all, (size_t)n);
        if (!payload) {
            fv_fail(err, "%s: section %u runs past the end of the file", path, i);
            goto fail;
        }
        in_buf s = {payload, (size_t)n, 0};
        /* each known section once: a second would replace (and leak) what the first read */
        unsigned bit = tag == TAG_ARCH ? 1u : tag == TAG_WGTS ? 2u : tag == TAG_OPTM ? 4u : tag == TAG_TRAN ? 8u : tag == TAG_POSN ? 16u : 0u;
        if (seen & bit) {
            fv_fail(err, "%s: section %u repeats an earlier one (tag 0x%08x)", path, i, tag);
            goto fail;
        }
        seen |= bit;
        if (tag == TAG_ARCH) {
            char *text = malloc((size_t)n + 1);
            if (!text) {
                fv_fail(err, "out of memory");
                goto fail;
            }
            memcpy(text, payload, (size_t)n), text[n] = '\0';
            char source[4200];
            snprintf(source, sizeof source, "%s (architecture)", path);
            fv_net_free(net);
            net = fv_net_from_text(text, source, err);
            free(text);
            if (!net) goto fail;
            if (fv_net_weight_count(net, 0) > (size_t)size / 4) { /* before allocating what the file cannot hold */
                fv_fail(err, "%s: the architecture has %zu weights, more than the file's %ld bytes can hold", path,
                        fv_net_weight_count(net, 0), size);
                goto fail;
            }
            if (fv_net_init_params(net, 0, err) != FV_OK) goto fail;
        } else if (tag == TAG_WGTS) {
            if (!net) {
                fv_fail(err, "%s: weights come before the architecture", path);
                goto fail;
            }
            if (read_weights(path, &s, net, err) != FV_OK) goto fail;
            have_weights = 1;
        } else if (tag == TAG_OPTM) {
            if (read_optimizer(path, &s, ck, err) != FV_OK) goto fail;
        } else if (tag == TAG_TRAN) {
            uint32_t epochs = get_u32(&s);
            ck->train.seed = get_u64(&s);
            uint32_t batch = get_u32(&s), classes = get_u32(&s);
            if (!s.short_read && (epochs > FV_MAX_EPOCHS || batch < 1 || batch > FV_MAX_BATCH || classes > 100000)) {
                fv_fail(err, "%s: impossible training state: %u epochs done, batch %u, %u classes", path, epochs, batch, classes);
                goto fail;
            }
            ck->train.epochs_done = (int)epochs, ck->train.batch_size = (int)batch;
            if (classes > 0 && !s.short_read) {
                ck->train.class_names = calloc(classes, sizeof *ck->train.class_names);
                if (!ck->train.class_names) {
                    fv_fail(err, "out of memory");
                    goto fail;
                }
                ck->train.n_classes = (int)classes;
                for (uint32_t k = 0; k < classes; k++) {
                    uint32_t len = get_u32(&s);
                    const unsigned char *name = take(&s, len);
                    int text = name && len < FV_CLASS_NAME_MAX;
                    for (uint32_t c = 0; text && c < len; c++) text = name[c] >= 0x20 && name[c] != 0x7f; /* UTF-8 passes */
                    if (name && !text) {
                        fv_fail(err, "%s: class name %u is not a line of text (of at most %d bytes)", path, k, FV_CLASS_NAME_MAX - 1);
                        goto fail;
                    }
                    if (name) memcpy(ck->train.class_names[k], name, len), ck->train.class_names[k][len] = '\0';
                }
            }
            if (s.short_read) {
                fv_fail(err, "%s: the training-state section is truncated", path);
                goto fail;
            }
            ck->has_train_state = 1;
        } else if (tag == TAG_POSN) {
            fv_fit_position *p = &ck->train.position;
            uint32_t epoch = get_u32(&s), batch = get_u32(&s);
            p->augment_rng = get_u64(&s), p->dropout_rng = get_u64(&s), p->loss_sum = get_f64(&s), p->correct = get_u64(&s);
            if (s.short_read || epoch > FV_MAX_EPOCHS || batch > (uint32_t)INT32_MAX || !(p->loss_sum >= 0.0 && p->loss_sum < 1e300)) {
                fv_fail(err, "%s: the mid-epoch position is truncated or impossible", path);
                goto fail;
            }
            p->epoch = (int)epoch, p->batch = (int)batch;
            ck->train.has_position = 1;
        } else if (tag == TAG_NORM) {
            uint32_t channels = get_u32(&s);
            int ok = !s.short_read && channels >= 1 && channels <= FV_MAX_NORMALIZE;
            for (uint32_t k = 0; ok && k < channels; k++) ck->train.mean[k] = get_f32(&s), ok = isfinite(ck->train.mean[k]);
            for (uint32_t k = 0; ok && k < channels; k++) ck->train.std[k] = get_f32(&s), ok = ck->train.std[k] > 0.0f && isfinite(ck->train.std[k]);
            if (!ok || s.short_read) {
                fv_fail(err, "%s: the input normalisation is truncated or impossible", path);
                goto fail;
            }
            ck->train.n_normalize = (int)channels;
        } else if (tag == TAG_HIST) {
            uint32_t epochs = get_u32(&s);
            if (s.short_read || epochs > FV_MAX_EPOCHS || epochs > s.left / 44) {
                fv_fail(err, "%s: the training history is truncated or impossible", path);
                goto fail;
            }
            free(ck->train.history);
            if (!(ck->train.history = calloc(epochs ? epochs : 1, sizeof *ck->train.history))) {
                fv_fail(err, "out of memory");
                goto fail;
            }
            for (uint32_t k = 0; k < epochs; k++) {
                fv_epoch_log *e = &ck->train.history[k];
                e->epoch = (int)get_u32(&s), e->loss = get_f64(&s), e->accuracy = get_f64(&s), e->has_validation = get_u32(&s) != 0;
                e->val_loss = get_f64(&s), e->val_accuracy = get_f64(&s), e->learning_rate = get_f32(&s);
            }
            ck->train.n_history = (int)epochs;
        } else if (!section_optional(tag)) {
            char name[5];
            fv_fail(err, "%s: section '%s' is required to read this file and this fovea does not know it (a newer fovea wrote it)", path,
                    tag_name(tag, name));
            goto fail;
        } /* an optional section this fovea does not know: skipped */
    }
    if (!net || !have_weights) {
        fv_fail(err, "%s: %s", path, !net ? "has no architecture" : "has no weights");
        goto fail;
    }
    free(data);
    if (ck == &local) fv_checkpoint_free(ck);
    return net;
fail:
    free(data);
    fv_net_free(net);
    fv_checkpoint_free(ck);
    return NULL;
}

fv_optimizer *fv_optimizer_resume(fv_net *net, const fv_checkpoint *ck, fv_error *err) {
    if (!ck->has_optimizer) return fv_fail(err, "the model file holds no optimizer state"), NULL;
    fv_optimizer *opt = fv_optimizer_new(net, &ck->optimizer, err);
    if (!opt) return NULL;
    size_t count;
    uint64_t *steps;
    float *moments = fv_optimizer_state(opt, &count, &steps);
    if (count != ck->optimizer_state_count) {
        fv_optimizer_free(opt);
        return fv_fail(err, "the saved optimizer state has %zu values, this network needs %zu", ck->optimizer_state_count, count), NULL;
    }
    memcpy(moments, ck->optimizer_state, count * sizeof *moments);
    *steps = ck->optimizer_steps;
    return opt;
}

void fv_checkpoint_free(fv_checkpoint *ck) {
    if (!ck) return;
    free(ck->optimizer_state);
    free(ck->train.class_names);
    free(ck->train.history);
    memset(ck, 0, sizeof *ck);
}

fv_net *fv_net_load(const char *path, fv_checkpoint *checkpoint, fv_error *err) {
    char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f) fclose(f);
    if (got == sizeof magic && !memcmp(magic, "FOVEAMDL", sizeof magic)) return fv_model_load(path, checkpoint, err);
    if (checkpoint) memset(checkpoint, 0, sizeof *checkpoint);
    if (fv_has_suffix(path, ".onnx")) return fv_net_load_onnx(path, NULL, err);
    return fv_net_load_definition(path, err); /* which names a missing or unreadable file */
}

/* The counterpart of fv_net_load: the format by the path's ending. */
fv_status fv_net_save(const fv_net *net, const char *path, fv_error *err) {
    if (fv_has_suffix(path, ".onnx")) return fv_net_save_onnx(net, path, 0, err);
    if (fv_has_suffix(path, ".fv")) { /* the definition, without weights */
        int n = fv_net_to_text(net, NULL, 0);
        char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (!text) return fv_fail(err, "%s: out of memory", path);
        fv_net_to_text(net, text, (size_t)n + 1);
        fv_status st = fv_write_file(path, text, (size_t)n, err);
        free(text);
        return st;
    }
    return fv_model_save(path, net, NULL, NULL, err);
}
