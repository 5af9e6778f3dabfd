/* model_text.c — the model-definition text format (documented in models/README.md), read and written:
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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* key=value onto the layer, by the kind's declaration of that key. */
static fv_status apply_setting(const fv_op *op, fv_layer *l, const char *key, const char *value, const line_ctx *at) {
    const fv_setting *s = fv_setting_find(op, key);
    if (!s) return bad(at, "'%s' has no setting '%s'", op->word, key);
    const char *why = fv_setting_parse(s, op->spatial, value, l);
    return why ? bad(at, "bad value '%s' for '%s'", value, key) : FV_OK;
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
    const fv_alias *alias;
    const fv_op *op = fv_op_for_word(tok[0], &alias);
    if (!op) return bad(at, "unknown layer type '%s'%s", tok[0], "");

    fv_layer l = fv_layer_defaults(op->kind);
    int given[FV_MAX_SETTINGS] = {0}; /* which declared settings the line sets */
    if (op->n_settings > FV_MAX_SETTINGS) return bad(at, "'%s' declares more than %s settings", tok[0], "FV_MAX_SETTINGS");
    if (alias && alias->preset[0]) { /* "key=value key=value" */
        char preset[128];
        snprintf(preset, sizeof preset, "%s", alias->preset);
        for (char *save = NULL, *kv = strtok_r(preset, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(kv, '=');
            if (eq) *eq = '\0';
            if (!eq || apply_setting(op, &l, kv, eq + 1, at) != FV_OK) return FV_ERR;
            given[fv_setting_find(op, kv) - op->settings] = 1;
        }
    }
    const char *name = NULL, *input_names = NULL;
    for (int i = 1; i < n; i++) {
        char *eq = strchr(tok[i], '=');
        if (!eq || eq == tok[i] || !eq[1]) return bad(at, "expected key=value, got '%s'%s", tok[i], "");
        *eq = '\0';
        const char *key = tok[i], *value = eq + 1;
        if (!strcmp(key, "name")) name = value;
        else if (!strcmp(key, "input") || !strcmp(key, "inputs")) input_names = value;
        else if (apply_setting(op, &l, key, value, at) != FV_OK) return FV_ERR;
        else given[fv_setting_find(op, key) - op->settings] = 1;
    }
    for (int i = 0; i < op->n_settings; i++) {
        const fv_setting *s = &op->settings[i];
        if (given[i]) continue;
        if (s->same_as) fv_setting_follow(op, s, &l); /* the setting it follows may have been given */
        else if (!s->fallback) {
            return bad(at, "'%s' needs %s=", tok[0], s->key);
        }
    }

    int inputs[FV_MAX_INPUTS], n_inputs = 0;
    if (op->kind != FV_LAYER_INPUT) {
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
        int saved = size >= 8 && !memcmp(text, "FOVEAMDL", 8);
        free(text);
        if (saved) fv_fail(err, "%s: this is a saved model, not a definition: read it with fv_net_load (every fovea command does)", path);
        else fv_fail(err, "%s: not a text file (contains a NUL byte)", path);
        return NULL;
    }
    fv_net *net = fv_net_from_text(text, path, err);
    free(text);
    return net;
}

/* ---- Writing: the inverse of the parser, every declared setting spelled out (floats exactly). ---- */
int fv_net_to_text(const fv_net *net, char *buf, size_t size) {
    fv_text w = {buf, size, 0};
    if (size) buf[0] = '\0';
    fv_text_put(&w, "model %s\n", fv_net_name(net));
    for (int i = 0; i < fv_net_node_count(net); i++) {
        const fv_layer *l = fv_net_node_layer(net, i);
        const fv_op *op = fv_op_for(l->kind);
        fv_text_put(&w, "%s", op->word);
        for (int k = 0; k < op->n_settings; k++) {
            fv_text_put(&w, " ");
            fv_setting_format(&op->settings[k], op->spatial, l, &w);
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
