/* parse.c — the model-definition text format (documented in models/README.md):
 *
 *   # comment
 *   model mnist-cnn
 *   input shape=28,28,1
 *   conv2d filters=32 kernel=3 activation=relu
 *   maxpool2d size=2
 *   dense units=10 activation=softmax
 *
 * One layer a line: its type, then key=value settings. Every layer reads the line above unless
 * it names its inputs (input=a or inputs=a,b). Unknown types, keys and bad values are errors
 * naming the file and line. */
#include "core/core.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct type_entry {
    const char *word;
    fv_layer_kind kind;
    fv_activation act; /* for activation words */
    const char *keys;  /* settings this type accepts, space separated */
} type_entry;

#define CONV_KEYS "filters kernel stride padding bias activation alpha init"
#define POOL_KEYS "size stride padding"
static const type_entry types[] = {
    {"input", FV_LAYER_INPUT, FV_ACT_LINEAR, "shape"},
    {"conv2d", FV_LAYER_CONV2D, FV_ACT_LINEAR, CONV_KEYS},
    {"conv1d", FV_LAYER_CONV1D, FV_ACT_LINEAR, CONV_KEYS},
    {"dense", FV_LAYER_DENSE, FV_ACT_LINEAR, "units bias activation alpha init"},
    {"maxpool2d", FV_LAYER_MAXPOOL2D, FV_ACT_LINEAR, POOL_KEYS},
    {"maxpool", FV_LAYER_MAXPOOL2D, FV_ACT_LINEAR, POOL_KEYS},
    {"avgpool2d", FV_LAYER_AVGPOOL2D, FV_ACT_LINEAR, POOL_KEYS},
    {"avgpool", FV_LAYER_AVGPOOL2D, FV_ACT_LINEAR, POOL_KEYS},
    {"sumpool2d", FV_LAYER_SUMPOOL2D, FV_ACT_LINEAR, POOL_KEYS},
    {"sumpool", FV_LAYER_SUMPOOL2D, FV_ACT_LINEAR, POOL_KEYS},
    {"global_avgpool", FV_LAYER_GLOBAL_AVGPOOL, FV_ACT_LINEAR, ""},
    {"flatten", FV_LAYER_FLATTEN, FV_ACT_LINEAR, ""},
    {"dropout", FV_LAYER_DROPOUT, FV_ACT_LINEAR, "rate"},
    {"batchnorm", FV_LAYER_BATCHNORM, FV_ACT_LINEAR, "momentum epsilon"},
    {"add", FV_LAYER_ADD, FV_ACT_LINEAR, ""},
    {"activation", FV_LAYER_ACTIVATION, FV_ACT_LINEAR, "function alpha"},
    {"relu", FV_LAYER_ACTIVATION, FV_ACT_RELU, ""},
    {"leaky_relu", FV_LAYER_ACTIVATION, FV_ACT_LEAKY_RELU, "alpha"},
    {"sigmoid", FV_LAYER_ACTIVATION, FV_ACT_SIGMOID, ""},
    {"tanh", FV_LAYER_ACTIVATION, FV_ACT_TANH, ""},
    {"softmax", FV_LAYER_ACTIVATION, FV_ACT_SOFTMAX, ""},
    {"linear", FV_LAYER_ACTIVATION, FV_ACT_LINEAR, ""},
};

typedef struct line_ctx {
    const char *source;
    int line;
    fv_error *err;
} line_ctx;

static fv_status bad(const line_ctx *at, const char *fmt, const char *a, const char *b) {
    char what[sizeof at->err->message];
    snprintf(what, sizeof what, fmt, a, b);
    return fv_fail(at->err, "%s:%d: %.*s", at->source, at->line, 400, what);
}

static int key_allowed(const char *keys, const char *key) {
    size_t n = strlen(key);
    for (const char *p = keys; (p = strstr(p, key)) != NULL; p += n)
        if ((p == keys || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    return 0;
}

/* "3" or "3,4" or "3x4" -> up to `max` positive-or-zero integers; returns how many. */
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
            p++;
            if (!*p) return -1;
        } else if (*p) {
            return -1;
        }
    }
    return n;
}

static int parse_float(const char *value, float *out) {
    errno = 0;
    char *end;
    float v = strtof(value, &end);
    if (end == value || *end || errno) return 0;
    *out = v;
    return 1;
}

static int parse_activation(const char *value, fv_activation *out) {
    for (int a = 0; a < FV_ACT_COUNT; a++)
        if (strcmp(value, fv_activation_name((fv_activation)a)) == 0) return *out = (fv_activation)a, 1;
    return 0;
}

/* A pair setting: "3" means 3x3, "3,5" means 3 high, 5 wide. */
static int parse_pair(const char *value, int out[2]) {
    int v[2], n = parse_ints(value, v, 2);
    if (n < 1 || v[0] == 0 || (n == 2 && v[1] == 0)) return 0;
    out[0] = v[0], out[1] = n == 2 ? v[1] : v[0];
    return 1;
}

static fv_status apply_setting(fv_layer *l, const char *key, const char *value, const line_ctx *at) {
    int ok = 1;
    if (!strcmp(key, "shape")) {
        int v[FV_MAX_RANK], n = parse_ints(value, v, FV_MAX_RANK);
        ok = n >= 1;
        for (int i = 0; ok && i < n; i++) ok = v[i] > 0;
        if (ok) {
            l->input_shape.rank = n;
            for (int i = 0; i < n; i++) l->input_shape.dim[i] = v[i];
        }
    } else if (!strcmp(key, "filters") || !strcmp(key, "units")) {
        int v = 0, n = parse_ints(value, &v, 1);
        ok = n == 1 && v > 0;
        l->filters = v;
    } else if (!strcmp(key, "kernel")) {
        ok = parse_pair(value, l->kernel);
        if (ok && l->kind == FV_LAYER_CONV1D) ok = !strpbrk(value, ",x"), l->kernel[0] = 1;
    } else if (!strcmp(key, "size")) {
        ok = parse_pair(value, l->pool);
        if (ok) l->stride[0] = l->pool[0], l->stride[1] = l->pool[1]; /* stride defaults to size */
    } else if (!strcmp(key, "stride")) {
        ok = parse_pair(value, l->stride);
    } else if (!strcmp(key, "padding")) {
        int v[4], n;
        if (!strcmp(value, "valid")) l->padding = FV_PAD_VALID;
        else if (!strcmp(value, "same")) l->padding = FV_PAD_SAME;
        else if ((n = parse_ints(value, v, 4)) == 1 || n == 2 || n == 4) {
            l->padding = FV_PAD_EXPLICIT;
            int t = v[0], b = v[0], lf = n == 1 ? v[0] : v[1], r = lf;
            if (n == 4) t = v[0], b = v[1], lf = v[2], r = v[3];
            l->pad[0] = t, l->pad[1] = b, l->pad[2] = lf, l->pad[3] = r;
        } else ok = 0;
    } else if (!strcmp(key, "bias")) {
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1")) l->use_bias = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0")) l->use_bias = 0;
        else ok = 0;
    } else if (!strcmp(key, "activation") || !strcmp(key, "function")) {
        ok = parse_activation(value, &l->activation);
    } else if (!strcmp(key, "init")) {
        if (!strcmp(value, "glorot")) l->init = FV_INIT_GLOROT_UNIFORM;
        else if (!strcmp(value, "he")) l->init = FV_INIT_HE_UNIFORM;
        else ok = 0;
    } else if (!strcmp(key, "alpha")) {
        ok = parse_float(value, &l->alpha) && l->alpha >= 0.0f;
    } else if (!strcmp(key, "rate")) {
        ok = parse_float(value, &l->rate);
    } else if (!strcmp(key, "momentum")) {
        ok = parse_float(value, &l->momentum);
    } else if (!strcmp(key, "epsilon")) {
        ok = parse_float(value, &l->epsilon);
    }
    return ok ? FV_OK : bad(at, "bad value '%s' for '%s'", value, key);
}

#define MAX_TOKENS 32

static fv_status parse_line(fv_net **net, char *text, const line_ctx *at) {
    char *tok[MAX_TOKENS];
    int n = 0;
    char *save = NULL;
    for (char *p = strtok_r(text, " \t\r", &save); p; p = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAX_TOKENS) return bad(at, "too many settings on one line%s%s", "", "");
        tok[n++] = p;
    }
    if (n == 0) return FV_OK;
    if (!strcmp(tok[0], "model")) {
        if (n != 2) return bad(at, "'model' takes one name%s%s", "", "");
        if (fv_net_node_count(*net) > 0) return bad(at, "'model' must come before the layers%s%s", "", "");
        fv_net *renamed = fv_net_new(tok[1], at->err);
        if (!renamed) return FV_ERR;
        fv_net_free(*net);
        *net = renamed;
        return FV_OK;
    }
    const type_entry *type = NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(tok[0], types[i].word)) type = &types[i];
    if (!type) return bad(at, "unknown layer type '%s'%s", tok[0], "");

    fv_layer l = fv_conv2d(0, 1, 1); /* defaults shared by every kind */
    l.kind = type->kind;
    l.activation = type->act;
    l.pool[0] = l.pool[1] = l.stride[0] = l.stride[1] = type->kind >= FV_LAYER_MAXPOOL2D && type->kind <= FV_LAYER_SUMPOOL2D ? 2 : 1;
    const char *name = NULL, *input_names = NULL;
    for (int i = 1; i < n; i++) {
        char *eq = strchr(tok[i], '=');
        if (!eq || eq == tok[i] || !eq[1]) return bad(at, "expected key=value, got '%s'%s", tok[i], "");
        *eq = '\0';
        const char *key = tok[i], *value = eq + 1;
        if (!strcmp(key, "name")) name = value;
        else if (!strcmp(key, "input") || !strcmp(key, "inputs")) input_names = value;
        else if (!key_allowed(type->keys, key))
            return bad(at, "'%s' has no setting '%s'", tok[0], key);
        else if (apply_setting(&l, key, value, at) != FV_OK) return FV_ERR;
    }
    if (type->kind == FV_LAYER_INPUT && l.input_shape.rank == 0) return bad(at, "input needs shape=H,W,C%s%s", "", "");
    if (type->kind == FV_LAYER_CONV2D || type->kind == FV_LAYER_CONV1D || type->kind == FV_LAYER_DENSE)
        if (l.filters == 0) return bad(at, "'%s' needs %s=", tok[0], type->kind == FV_LAYER_DENSE ? "units" : "filters");

    int inputs[FV_MAX_INPUTS], n_inputs = 0;
    if (type->kind != FV_LAYER_INPUT) {
        if (!input_names) {
            inputs[n_inputs++] = fv_net_node_count(*net) - 1;
        } else {
            char list[256];
            snprintf(list, sizeof list, "%s", input_names);
            for (char *list_save, *p = strtok_r(list, ",", &list_save); p; p = strtok_r(NULL, ",", &list_save)) {
                if (n_inputs == FV_MAX_INPUTS) return bad(at, "too many inputs%s%s", "", "");
                int node = fv_net_find(*net, p);
                if (node < 0) return bad(at, "no earlier layer is named '%s'%s", p, "");
                inputs[n_inputs++] = node;
            }
        }
    }
    fv_error why;
    if (fv_net_add_from(*net, &l, name, inputs, n_inputs, &why) < 0) return bad(at, "%s%s", why.message, "");
    return FV_OK;
}

fv_net *fv_net_from_text(const char *text, const char *source, fv_error *err) {
    fv_net *net = fv_net_new("model", err);
    if (!net) return NULL;
    line_ctx at = {source ? source : "<text>", 0, err};
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        at.line++;
        char line[1024];
        if (len >= sizeof line) {
            bad(&at, "line is longer than %s characters%s", "1023", "");
            fv_net_free(net);
            return NULL;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        if (parse_line(&net, line, &at) != FV_OK) {
            fv_net_free(net);
            return NULL;
        }
        p += len + (end ? 1 : 0);
    }
    if (fv_net_node_count(net) == 0) {
        fv_fail(err, "%s: no layers defined", at.source);
        fv_net_free(net);
        return NULL;
    }
    return net;
}

fv_net *fv_net_load_definition(const char *path, fv_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fv_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || size > (1L << 24) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        fv_fail(err, "%s: cannot read (not a regular file, or larger than 16 MiB)", path);
        return NULL;
    }
    text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(text);
        fv_fail(err, "%s: read failed", path);
        return NULL;
    }
    fclose(f);
    text[size] = '\0';
    if (strlen(text) != (size_t)size) {
        free(text);
        fv_fail(err, "%s: not a text file (contains a NUL byte)", path);
        return NULL;
    }
    fv_net *net = fv_net_from_text(text, path, err);
    free(text);
    return net;
}

/* ---- Writing: the inverse of the parser, every setting spelled out (floats exactly). ---- */
static void w_padding(fv_text *w, const fv_layer *l) {
    if (l->padding == FV_PAD_SAME) fv_text_put(w, " padding=same");
    else if (l->padding == FV_PAD_EXPLICIT) fv_text_put(w, " padding=%d,%d,%d,%d", l->pad[0], l->pad[1], l->pad[2], l->pad[3]);
    else fv_text_put(w, " padding=valid");
}

static void w_activation(fv_text *w, const fv_layer *l, const char *key) {
    fv_text_put(w, " %s=%s", key, fv_activation_name(l->activation));
    if (l->activation == FV_ACT_LEAKY_RELU) fv_text_put(w, " alpha=%.9g", (double)l->alpha);
    if (l->kind == FV_LAYER_CONV2D || l->kind == FV_LAYER_CONV1D || l->kind == FV_LAYER_DENSE)
        fv_text_put(w, " init=%s", l->init == FV_INIT_HE_UNIFORM ? "he" : "glorot");
}

int fv_net_to_text(const fv_net *net, char *buf, size_t size) {
    fv_text w = {buf, size, 0};
    if (size) buf[0] = '\0';
    fv_text_put(&w, "model %s\n", fv_net_name(net));
    for (int i = 0; i < fv_net_node_count(net); i++) {
        const fv_layer *l = fv_net_node_layer(net, i);
        switch (l->kind) {
        case FV_LAYER_INPUT:
            fv_text_put(&w, "input shape=%d", l->input_shape.dim[0]);
            for (int k = 1; k < l->input_shape.rank; k++) fv_text_put(&w, ",%d", l->input_shape.dim[k]);
            break;
        case FV_LAYER_CONV2D:
        case FV_LAYER_CONV1D:
            if (l->kind == FV_LAYER_CONV2D)
                fv_text_put(&w, "conv2d filters=%d kernel=%d,%d stride=%d,%d", l->filters, l->kernel[0], l->kernel[1], l->stride[0], l->stride[1]);
            else
                fv_text_put(&w, "conv1d filters=%d kernel=%d stride=%d", l->filters, l->kernel[1], l->stride[1]);
            w_padding(&w, l);
            fv_text_put(&w, " bias=%s", l->use_bias ? "true" : "false");
            w_activation(&w, l, "activation");
            break;
        case FV_LAYER_DENSE:
            fv_text_put(&w, "dense units=%d bias=%s", l->filters, l->use_bias ? "true" : "false");
            w_activation(&w, l, "activation");
            break;
        case FV_LAYER_MAXPOOL2D:
        case FV_LAYER_AVGPOOL2D:
        case FV_LAYER_SUMPOOL2D:
            fv_text_put(&w, "%s size=%d,%d stride=%d,%d", fv_layer_kind_name(l->kind), l->pool[0], l->pool[1], l->stride[0], l->stride[1]);
            w_padding(&w, l);
            break;
        case FV_LAYER_DROPOUT: fv_text_put(&w, "dropout rate=%.9g", (double)l->rate); break;
        case FV_LAYER_BATCHNORM: fv_text_put(&w, "batchnorm momentum=%.9g epsilon=%.9g", (double)l->momentum, (double)l->epsilon); break;
        case FV_LAYER_ACTIVATION:
            fv_text_put(&w, "activation");
            w_activation(&w, l, "function");
            break;
        default: fv_text_put(&w, "%s", fv_layer_kind_name(l->kind)); break;
        }
        fv_text_put(&w, " name=%s", fv_net_node_name(net, i));
        int inputs[FV_MAX_INPUTS], n = fv_net_node_inputs(net, i, inputs, FV_MAX_INPUTS);
        if (n > 1 || (n == 1 && inputs[0] != i - 1)) {
            fv_text_put(&w, " inputs=");
            for (int k = 0; k < n; k++) fv_text_put(&w, "%s%s", k ? "," : "", fv_net_node_name(net, inputs[k]));
        }
        fv_text_put(&w, "\n");
    }
    return (int)w.len;
}
