/* cli.c — what every command of the fovea tool shares: checked option values, loading a model,
 * the image preprocessing. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_int_range(const char *flag, const char *value, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = value ? strtol(value, &end, 10) : 0;
    if (!value || !*value || *end || errno == ERANGE || v < min || v > max) {
        fprintf(stderr, "fovea: %s needs an integer from %ld to %ld%s%s%s\n", flag, min, max, value ? ", not '" : "", value ? value : "",
                value ? "'" : "");
        return 0;
    }
    *out = v;
    return 1;
}

int cli_float_range(const char *flag, const char *value, double min, double max, double *out) {
    char *end;
    double v = value ? strtod(value, &end) : 0;
    if (!value || !*value || *end || !isfinite(v) || !(v >= min) || !(v <= max)) {
        fprintf(stderr, "fovea: %s needs a number from %g to %g%s%s%s\n", flag, min, max, value ? ", not '" : "", value ? value : "",
                value ? "'" : "");
        return 0;
    }
    *out = v;
    return 1;
}

int cli_output_writable(const char *path) {
    char tmp[4200];
    if (!*path) return fprintf(stderr, "fovea: the output file name is empty\n"), 0;
    snprintf(tmp, sizeof tmp, "%s.check.%ld", path, (long)getpid());
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return fprintf(stderr, "fovea: %s: is a folder, not a file\n", path), 0;
    FILE *f = fopen(tmp, "wb"); /* where the temporary file of every save will go */
    if (!f) return fprintf(stderr, "fovea: %s: cannot write here: %s\n", path, strerror(errno)), 0;
    fclose(f);
    remove(tmp);
    return 1;
}

int cli_is_onnx(const char *path) {
    size_t len = strlen(path);
    return len > 5 && !strcmp(path + len - 5, ".onnx");
}

fv_net *cli_load_net(const cli_common *o, const char *path, fv_checkpoint *checkpoint) {
    fv_error err;
    fv_net *net;
    if (checkpoint) memset(checkpoint, 0, sizeof *checkpoint); /* empty whatever the file holds, or when it fails */
    if (o->input_shape.n && cli_is_onnx(path)) { /* (batch, channels: as the file says, spatial sizes given) */
        int64_t dims[FV_MAX_SPATIAL + 2] = {0, 0};
        for (int a = 0; a < o->input_shape.n; a++) dims[a + 2] = o->input_shape.dim[a];
        net = fv_net_load_onnx_shaped(path, dims, o->input_shape.n + 2, NULL, &err);
    } else {
        net = fv_net_load(path, checkpoint, &err);
    }
    if (!net) fprintf(stderr, "fovea: %s\n", err.message);
    else cli_apply_precision(o, net);
    return net;
}

void cli_apply_precision(const cli_common *o, fv_net *net) {
    fv_precision p;
    fv_error err;
    if (o->precision && fv_precision_parse(o->precision, &p, &err) == FV_OK) fv_net_set_precision(net, p);
}

/* --imagenet: torchvision's ImageNet preprocessing, unless --resize or --normalize say otherwise. */
static const char *const imagenet_normalize = "0.485,0.456,0.406/0.229,0.224,0.225";

int cli_prep_apply(const cli_prep *p, fv_train_state *state) {
    int automatic = 0;
    const char *normalize = p->normalize ? p->normalize : p->imagenet ? imagenet_normalize : NULL;
    if (normalize && (!cli_normalize_read(normalize, state, &automatic) || automatic))
        return fprintf(stderr, "fovea: --normalize auto needs training data; give MEAN,STD\n"), 0;
    if (!p->labels) return 1;
    FILE *f = fopen(p->labels, "r");
    if (!f) return fprintf(stderr, "fovea: %s: cannot open: %s\n", p->labels, strerror(errno)), 0;
    char (*names)[FV_CLASS_NAME_MAX] = NULL, line[1024];
    int n = 0, ok = 1;
    while (ok && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\r\n");
        if (line[len] == '\0' && !feof(f)) ok = 0, fprintf(stderr, "fovea: %s: line %d is longer than %zu characters\n", p->labels, n + 1, sizeof line - 2);
        line[len] = '\0';
        if (!ok || (len == 0 && feof(f))) break;
        if (n == 100000) { ok = 0, fprintf(stderr, "fovea: %s: more than 100000 labels\n", p->labels); break; }
        char (*grown)[FV_CLASS_NAME_MAX] = realloc(names, (size_t)(n + 1) * sizeof *names);
        if (!grown) { ok = 0, fprintf(stderr, "fovea: out of memory\n"); break; }
        names = grown;
        snprintf(names[n++], FV_CLASS_NAME_MAX, "%.*s", FV_CLASS_NAME_MAX - 1, line);
    }
    if (ok && ferror(f)) ok = 0, fprintf(stderr, "fovea: %s: read error\n", p->labels);
    fclose(f);
    if (ok && n == 0) ok = 0, fprintf(stderr, "fovea: %s: no labels (one class name per line)\n", p->labels);
    if (!ok) return free(names), 0;
    free(state->class_names);
    state->class_names = names, state->n_classes = n;
    return 1;
}

fv_status cli_load_image(const cli_prep *p, const char *path, int height, int width, int channels, float *x, fv_error *err) {
    int resize = p ? (p->resize ? (int)p->resize : p->imagenet ? 256 : 0) : 0;
    if (resize) return fv_load_image_cropped(path, resize, height, width, channels, x, err);
    return fv_load_image(path, height, width, channels, x, err);
}

void cli_json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

int cli_normalize_read(const char *value, fv_train_state *state, int *automatic) {
    *automatic = 0, state->n_normalize = 0;
    if (value && !strcmp(value, "auto")) return *automatic = 1, 1;
    const char *slash = value ? strchr(value, '/') : NULL;
    float *lists[2] = {state->mean, state->std};
    int counts[2] = {0, 0};
    if (value && !slash) { /* "M,S": one mean and one std for every channel */
        char *end;
        state->mean[0] = strtof(value, &end);
        if (*end == ',') state->std[0] = strtof(end + 1, &end), counts[0] = counts[1] = *end ? 0 : 1;
    }
    for (int l = 0; value && slash && l < 2; l++) { /* "M1,M2,M3/S1,S2,S3" */
        const char *p = l ? slash + 1 : value;
        char *end = (char *)p;
        while (counts[l] < FV_MAX_NORMALIZE) {
            lists[l][counts[l]++] = strtof(p, &end);
            if (end == p) { counts[l] = 0; break; }
            if (*end != ',') break;
            p = end + 1;
        }
        if (l == 0 && end != slash) counts[0] = 0;
        if (l == 1 && *end) counts[1] = 0;
    }
    int ok = counts[0] > 0 && counts[0] == counts[1];
    for (int k = 0; ok && k < counts[0]; k++) ok = isfinite(state->mean[k]) && state->std[k] > 0.0f && isfinite(state->std[k]);
    if (!ok) return 0;
    state->n_normalize = counts[0];
    return 1;
}

void cli_normalize(const fv_train_state *state, float *x, size_t values, int channels) {
    if (state->n_normalize <= 0) return;
    for (size_t i = 0; i < values; i++) {
        int c = state->n_normalize == 1 ? 0 : (int)(i % (size_t)channels) % state->n_normalize;
        x[i] = (x[i] - state->mean[c]) / state->std[c];
    }
}

int cli_match_classes(const fv_net *net, const fv_train_state *state, const char *data_spec, fv_dataset *d, fv_error *err) {
    if (!d || fv_net_classes(net) == 0) return 1; /* not a classifier: fv_target_layout says why */
    if (fv_dataset_set_classes(d, fv_net_classes(net), err) != FV_OK) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        snprintf(err->message, sizeof err->message, "%.200s: %.300s", data_spec, why);
        return 0;
    }
    if (state && state->class_names && state->n_classes == d->n_classes)
        memcpy(d->class_names, state->class_names, (size_t)d->n_classes * sizeof *d->class_names);
    return 1;
}

void cli_normalize_dataset(const fv_train_state *state, fv_dataset *d) {
    if (d) cli_normalize(state, d->x, d->count * fv_shape_count(d->shape), d->shape.dim[d->shape.rank - 1]);
}
