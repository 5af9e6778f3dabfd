/* settings.c — reading, writing and defaulting a layer's settings from its op row's declarations
 * (graph.h): the model-text parser and writer, the C constructors and the docs all come here. */
#include "core/graph.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(layer, offset, type) ((type *)((char *)(layer) + (offset)))
#define CFIELD(layer, offset, type) ((const type *)((const char *)(layer) + (offset)))
typedef int pad_pair[2];

/* "3" or "3,4" or "3x4" -> up to `max` integers in [0, 1e6]; returns how many, -1 when bad. */
static int parse_ints(const char *value, int *out, int max) {
    int n = 0;
    const char *p = value;
    while (*p) {
        if (n == max) return -1;
        errno = 0;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > 1000000) return -1;
        out[n++] = (int)v;
        p = end;
        if (*p == ',' || *p == 'x') {
            if (!*++p) return -1;
        } else if (*p) {
            return -1;
        }
    }
    return n;
}

static const char *const init_names[] = {[FV_INIT_GLOROT_UNIFORM] = "glorot", [FV_INIT_HE_UNIFORM] = "he"};

const char *fv_setting_parse(const fv_setting *s, int spatial, const char *value, fv_layer *layer) {
    int v[2 * FV_MAX_SPATIAL + 1], n;
    switch (s->type) {
    case FV_SET_COUNT:
        if (parse_ints(value, v, 1) != 1 || v[0] <= 0) return "a positive integer";
        *FIELD(layer, s->offset, int) = v[0];
        return NULL;
    case FV_SET_SPATIAL:
        n = parse_ints(value, v, spatial);
        if (n != 1 && n != spatial) return "a positive integer, or one per spatial axis";
        for (int a = 0; a < spatial; a++) {
            FIELD(layer, s->offset, int)[a] = v[n == 1 ? 0 : a];
            if (v[n == 1 ? 0 : a] <= 0) return "a positive integer, or one per spatial axis";
        }
        return NULL;
    case FV_SET_PADDING: {
        fv_padding *mode = FIELD(layer, s->offset, fv_padding);
        int(*pad)[2] = FIELD(layer, s->offset2, pad_pair);
        if (!strcmp(value, "valid")) *mode = FV_PAD_VALID;
        else if (!strcmp(value, "same")) *mode = FV_PAD_SAME;
        else {
            n = parse_ints(value, v, 2 * FV_MAX_SPATIAL);
            /* conv1d files written before 3-D convolution spell (left, right) as 0,0,left,right */
            if (spatial == 1 && n == 4 && v[0] == 0 && v[1] == 0) v[0] = v[2], v[1] = v[3], n = 2;
            if (n != 1 && n != spatial && n != 2 * spatial) return "valid, same, or padding per spatial axis";
            *mode = FV_PAD_EXPLICIT;
            for (int a = 0; a < spatial; a++) {
                pad[a][0] = n == 1 ? v[0] : n == spatial ? v[a] : v[2 * a];
                pad[a][1] = n == 1 ? v[0] : n == spatial ? v[a] : v[2 * a + 1];
            }
        }
        return NULL;
    }
    case FV_SET_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1")) *FIELD(layer, s->offset, int) = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0")) *FIELD(layer, s->offset, int) = 0;
        else return "true or false";
        return NULL;
    case FV_SET_FLOAT: {
        errno = 0;
        char *end;
        float f = strtof(value, &end);
        if (end == value || *end || errno) return "a number";
        *FIELD(layer, s->offset, float) = f;
        return NULL;
    }
    case FV_SET_ACTIVATION:
        for (int a = 0; a < FV_ACT_COUNT; a++)
            if (!strcmp(value, fv_activation_name((fv_activation)a))) {
                *FIELD(layer, s->offset, fv_activation) = (fv_activation)a;
                return NULL;
            }
        return "an activation";
    case FV_SET_INIT:
        for (int i = 0; i < 2; i++)
            if (!strcmp(value, init_names[i])) {
                *FIELD(layer, s->offset, fv_init) = (fv_init)i;
                return NULL;
            }
        return "glorot or he";
    case FV_SET_SHAPE: {
        fv_shape *shape = FIELD(layer, s->offset, fv_shape);
        n = parse_ints(value, v, FV_MAX_RANK);
        if (n < 1) return "1 to 4 positive integers";
        for (int i = 0; i < n; i++)
            if (v[i] <= 0) return "1 to 4 positive integers";
        memset(shape, 0, sizeof *shape);
        shape->rank = n;
        memcpy(shape->dim, v, (size_t)n * sizeof(int));
        return NULL;
    }
    case FV_SET_CHOICE:
        for (int i = 0; s->choices && s->choices[i]; i++)
            if (!strcmp(value, s->choices[i])) return *FIELD(layer, s->offset, int) = i, NULL;
        return "one of the words the setting lists";
    case FV_SET_AXES: {
        int mask = 0;
        n = parse_ints(value, v, FV_MAX_RANK);
        if (n < 1) return "1 to 4 axis numbers (0 is the first axis after the batch)";
        for (int i = 0; i < n; i++) {
            if (v[i] >= FV_MAX_RANK) return "axis numbers from 0 to 3";
            mask |= 1 << v[i];
        }
        *FIELD(layer, s->offset, int) = mask;
        return NULL;
    }
    case FV_SET_FLOATS: {
        float *f = FIELD(layer, s->offset, float);
        const char *p = value;
        for (int a = 0; a < FV_MAX_SPATIAL; a++) f[a] = 0.0f;
        for (int a = 0; a < FV_MAX_SPATIAL; a++) {
            errno = 0;
            char *end;
            f[a] = strtof(p, &end);
            if (end == p || errno || (*end && *end != ',')) return "1 to 3 numbers";
            if (!*end) return NULL;
            p = end + 1;
        }
        return "1 to 3 numbers";
    }
    case FV_SET_INT: {
        errno = 0;
        char *end;
        long i = strtol(value, &end, 10);
        if (end == value || *end || errno || i < -1000000 || i > 1000000) return "an integer";
        *FIELD(layer, s->offset, int) = (int)i;
        return NULL;
    }
    case FV_SET_INTS: {
        fv_shape *list = FIELD(layer, s->offset, fv_shape);
        n = parse_ints(value, v, FV_MAX_RANK);
        if (n < 1) return "1 to 4 integers >= 0";
        memset(list, 0, sizeof *list);
        list->rank = n;
        memcpy(list->dim, v, (size_t)n * sizeof(int));
        return NULL;
    }
    case FV_SET_PERM: {
        fv_shape *perm = FIELD(layer, s->offset, fv_shape);
        n = parse_ints(value, v, FV_MAX_RANK);
        int seen = 0;
        for (int i = 0; i < n; i++) {
            if (v[i] >= n || (seen >> v[i] & 1)) return "a permutation of 0 .. rank-1 (rank up to 4)";
            seen |= 1 << v[i];
        }
        if (n < 1) return "a permutation of 0 .. rank-1 (rank up to 4)";
        memset(perm, 0, sizeof *perm);
        perm->rank = n;
        memcpy(perm->dim, v, (size_t)n * sizeof(int));
        return NULL;
    }
    case FV_SET_PADS: {
        int p[2 * FV_MAX_RANK];
        int(*pads)[2] = FIELD(layer, s->offset, pad_pair);
        n = parse_ints(value, p, 2 * FV_MAX_RANK);
        if (n < 2 || n % 2) return "(before, after) pairs, one per axis after the batch";
        memset(pads, 0, FV_MAX_RANK * sizeof *pads);
        for (int a = 0; a < n / 2; a++) pads[a][0] = p[2 * a], pads[a][1] = p[2 * a + 1];
        return NULL;
    }
    }
    return "a value of an unknown type";
}

void fv_setting_format(const fv_setting *s, int spatial, const fv_layer *layer, fv_text *out) {
    fv_text_put(out, "%s=", s->key);
    switch (s->type) {
    case FV_SET_INT:
    case FV_SET_COUNT: fv_text_put(out, "%d", *CFIELD(layer, s->offset, int)); break;
    case FV_SET_FLOATS: {
        const float *f = CFIELD(layer, s->offset, float);
        int last = 0;
        for (int a = 0; a < FV_MAX_SPATIAL; a++)
            if (f[a] != 0.0f) last = a;
        for (int a = 0; a <= last; a++) fv_text_put(out, "%s%.9g", a ? "," : "", (double)f[a]);
        break;
    }
    case FV_SET_SPATIAL:
        for (int a = 0; a < spatial; a++) fv_text_put(out, "%s%d", a ? "," : "", CFIELD(layer, s->offset, int)[a]);
        break;
    case FV_SET_PADDING: {
        fv_padding mode = *CFIELD(layer, s->offset, fv_padding);
        const int(*pad)[2] = CFIELD(layer, s->offset2, pad_pair);
        if (mode == FV_PAD_EXPLICIT)
            for (int a = 0; a < spatial; a++) fv_text_put(out, "%s%d,%d", a ? "," : "", pad[a][0], pad[a][1]);
        else fv_text_put(out, "%s", mode == FV_PAD_SAME ? "same" : "valid");
        break;
    }
    case FV_SET_BOOL: fv_text_put(out, "%s", *CFIELD(layer, s->offset, int) ? "true" : "false"); break;
    case FV_SET_FLOAT: fv_text_put(out, "%.9g", (double)*CFIELD(layer, s->offset, float)); break;
    case FV_SET_ACTIVATION: fv_text_put(out, "%s", fv_activation_name(*CFIELD(layer, s->offset, fv_activation))); break;
    case FV_SET_INIT: {
        unsigned i = (unsigned)*CFIELD(layer, s->offset, fv_init);
        fv_text_put(out, "%s", i < 2 ? init_names[i] : "?");
        break;
    }
    case FV_SET_PERM:
    case FV_SET_INTS:
    case FV_SET_SHAPE: {
        const fv_shape *shape = CFIELD(layer, s->offset, fv_shape);
        for (int i = 0; i < shape->rank; i++) fv_text_put(out, "%s%d", i ? "," : "", shape->dim[i]);
        break;
    }
    case FV_SET_CHOICE: {
        int i = *CFIELD(layer, s->offset, int), n = 0;
        while (s->choices && s->choices[n]) n++;
        fv_text_put(out, "%s", i >= 0 && i < n ? s->choices[i] : "?");
        break;
    }
    case FV_SET_AXES: {
        int mask = *CFIELD(layer, s->offset, int), first = 1;
        for (int a = 0; a < FV_MAX_RANK; a++)
            if (mask >> a & 1) fv_text_put(out, "%s%d", first ? "" : ",", a), first = 0;
        break;
    }
    case FV_SET_PADS: {
        const int(*pads)[2] = CFIELD(layer, s->offset, pad_pair);
        int last = 0; /* the pairs up to the last non-zero one (at least one) */
        for (int a = 0; a < FV_MAX_RANK; a++)
            if (pads[a][0] || pads[a][1]) last = a;
        for (int a = 0; a <= last; a++) fv_text_put(out, "%s%d,%d", a ? "," : "", pads[a][0], pads[a][1]);
        break;
    }
    }
}

const fv_setting *fv_setting_find(const fv_op *op, const char *key) {
    for (int i = 0; i < op->n_settings; i++)
        if (!strcmp(op->settings[i].key, key)) return &op->settings[i];
    return NULL;
}

void fv_setting_follow(const fv_op *op, const fv_setting *s, fv_layer *layer) {
    const fv_setting *from = fv_setting_find(op, s->same_as);
    if (from && from->type == FV_SET_SPATIAL && s->type == FV_SET_SPATIAL)
        memcpy((char *)layer + s->offset, (const char *)layer + from->offset, FV_MAX_SPATIAL * sizeof(int));
}

/* Every setting at its declared default; required settings stay zero. */
fv_layer fv_layer_defaults(fv_layer_kind kind) {
    fv_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    const fv_op *op = fv_op_for(kind);
    if (!op) return l;
    for (int i = 0; i < op->n_settings; i++)
        if (op->settings[i].fallback) fv_setting_parse(&op->settings[i], op->spatial, op->settings[i].fallback, &l);
    for (int i = 0; i < op->n_settings; i++)
        if (op->settings[i].same_as) fv_setting_follow(op, &op->settings[i], &l);
    return l;
}

int fv_layer_settings_markdown(char *buf, size_t size) {
    fv_text t = {buf, size, 0};
    if (size) buf[0] = '\0';
    fv_text_put(&t, "| layer | setting | default | meaning |\n|---|---|---|---|\n");
    for (int k = 0; k < FV_LAYER_KIND_COUNT; k++) {
        const fv_op *op = fv_op_for((fv_layer_kind)k);
        fv_text_put(&t, "| `%s` | | | %s", op->word, op->help);
        for (int a = 0; a < op->n_aliases; a++) {
            const fv_alias *al = &op->aliases[a];
            fv_text_put(&t, "%s`%s`", a ? ", " : "; also ", al->word);
            if (al->preset[0]) fv_text_put(&t, " = `%s %s`", op->word, al->preset);
        }
        fv_text_put(&t, " |\n");
        for (int i = 0; i < op->n_settings; i++) {
            const fv_setting *s = &op->settings[i];
            fv_text_put(&t, "| | `%s` | ", s->key);
            if (s->fallback) fv_text_put(&t, "`%s`", s->fallback);
            else if (s->same_as) fv_text_put(&t, "= `%s`", s->same_as);
            else fv_text_put(&t, "required");
            fv_text_put(&t, " | %s |\n", s->help);
        }
    }
    return (int)t.len;
}
