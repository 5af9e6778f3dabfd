/* onnx_conformance.c — runs ONNX's backend conformance tests (Debian's libonnx-testdata) through
 * fovea's importer and prints one line per test and "N passed, N failed, N skipped".
 *
 * A test is a folder with model.onnx and test_data_set_0/input_K.pb, output_K.pb. input_0 is the
 * network's input; further inputs (the node tests pass weights, bounds and axes as inputs) are
 * bound as constants before import, since fovea networks take one input. A test is skipped when
 * fovea refuses the model: the line gives the importer's one-line reason (the operator,
 * attribute or data type it lacks). A model fovea imports must give the expected output, every
 * element within 1e-5 + 1e-4 |expected| (float32), or the test fails.
 *
 * usage: onnx_conformance DATA_DIR [--doc docs/ONNX.md [--write]] [--quiet]
 *   DATA_DIR is /usr/share/libonnx-testdata/data (its node/, pytorch-converted/,
 *   pytorch-operator/, simple/ and real/ folders are run); --doc checks that the doc's table of
 *   operators covered (between its conformance markers) is this run's, or --write puts it there. */
#include "io/onnx.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-4
#define ATOL 1e-5

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            unsigned char *g = realloc(buf, cap);
            if (!g) return fclose(f), free(buf), NULL;
            buf = g;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (!got) break;
    }
    fclose(f);
    *size = n;
    return buf;
}

static FvOnnx__TensorProto *read_tensor(const char *path) {
    size_t size;
    unsigned char *buf = read_all(path, &size);
    if (!buf) return NULL;
    FvOnnx__TensorProto *t = fv_onnx__tensor_proto__unpack(NULL, size, buf);
    free(buf);
    return t;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Per operator: tests that use it, and how they ended. */
typedef struct op_tally {
    char op[64];
    int passed, failed, skipped;
    char reason[200]; /* one skip reason naming this operator */
} op_tally;

typedef struct run {
    int passed, failed, skipped, quiet;
    op_tally ops[256];
    int n_ops;
} run;

static op_tally *tally_of(run *r, const char *op) {
    for (int i = 0; i < r->n_ops; i++)
        if (!strcmp(r->ops[i].op, op)) return &r->ops[i];
    if (r->n_ops == 256) return NULL;
    op_tally *t = &r->ops[r->n_ops++];
    memset(t, 0, sizeof *t);
    snprintf(t->op, sizeof t->op, "%s", op);
    return t;
}

/* 0 passed, 1 failed, 2 skipped; why receives the reason. */
static int run_test(const char *dir, const char *name, const FvOnnx__ModelProto *model, char *why, size_t why_size) {
    char path[2048];
    const FvOnnx__GraphProto *g = model->graph;
    if (!g) return snprintf(why, why_size, "no graph"), 2;
    /* the inputs that are not initializers, in order: input_0.pb, input_1.pb, ... */
    FvOnnx__TensorProto *tensors[64] = {0};
    fv_onnx_binding bound[64];
    int n_inputs = 0, n_bound = 0, status = 2;
    fv_net *net = NULL;
    float *x = NULL, *x_fovea = NULL, *y = NULL, *y_onnx = NULL, *expected = NULL;
    FvOnnx__TensorProto *out_t = NULL;
    for (size_t i = 0; i < g->n_input && n_inputs < 64; i++) {
        int init = 0;
        for (size_t k = 0; k < g->n_initializer; k++) init |= !strcmp(g->initializer[k]->name, g->input[i]->name);
        if (init) continue;
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, n_inputs);
        tensors[n_inputs] = read_tensor(path);
        if (!tensors[n_inputs]) {
            snprintf(why, why_size, "cannot read %.300s", path);
            status = 1;
            goto done;
        }
        if (n_inputs > 0) bound[n_bound++] = (fv_onnx_binding){g->input[i]->name, tensors[n_inputs]};
        n_inputs++;
    }
    if (n_inputs == 0) {
        snprintf(why, why_size, "the graph has no input (fovea networks compute from one)");
        goto done;
    }
    fv_error err;
    fv_onnx_info info;
    net = fv_onnx_import_model(model, name, bound, n_bound, NULL, 0, 0, &info, &err);
    int unbatched = 0;
    if (!net) { /* the first axis may not be a batch: the whole tensor as one sample */
        fv_error batched = err;
        net = fv_onnx_import_model(model, name, bound, n_bound, NULL, 0, 1, &info, &err);
        unbatched = net != NULL;
        if (!net) {
            snprintf(why, why_size, "%s", batched.message);
            goto done;
        }
    }
    /* the data: input_0 in its own dims (the batch is its first axis) */
    FvOnnx__TensorProto *in = tensors[0];
    if (in->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        snprintf(why, why_size, "input data type %d is not float32", in->data_type);
        goto done;
    }
    size_t n_x;
    x = fv_onnx_tensor_floats(in, &n_x, &err);
    if (!x || in->n_dims != (size_t)info.input_rank || in->dims[0] < 1) {
        snprintf(why, why_size, "input_0 does not match the model's input: %s", x ? "dims" : err.message);
        status = 1;
        goto done;
    }
    int batch = unbatched ? 1 : (int)in->dims[0];
    size_t positions = 1, per_in = fv_shape_count(fv_net_node_shape(net, 0));
    for (int a = 2; a < info.input_rank; a++) positions *= (size_t)in->dims[a];
    if (n_x != (size_t)batch * per_in) {
        snprintf(why, why_size, "input_0 holds %zu values, the model takes %zu per sample", n_x, per_in);
        status = 1;
        goto done;
    }
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    out_t = read_tensor(path);
    size_t n_expected;
    expected = out_t ? fv_onnx_tensor_floats(out_t, &n_expected, &err) : NULL;
    if (!expected) {
        snprintf(why, why_size, "cannot read %.300s", path);
        status = 1;
        goto done;
    }
    if (out_t->data_type != FV_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        snprintf(why, why_size, "output data type %d is not float32", out_t->data_type);
        status = 2;
        goto done;
    }
    size_t per_out = fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    x_fovea = malloc(n_x * sizeof *x_fovea);
    y = malloc((size_t)batch * per_out * sizeof *y);
    y_onnx = malloc((size_t)batch * per_out * sizeof *y_onnx);
    if (!x_fovea || !y || !y_onnx) {
        snprintf(why, why_size, "out of memory");
        status = 1;
        goto done;
    }
    if (unbatched) memcpy(x_fovea, x, n_x * sizeof *x); /* ONNX's order is the sample's */
    else fv_channels_last(x, x_fovea, (size_t)batch, (size_t)in->dims[1 < in->n_dims ? 1 : 0], positions, 1);
    if (fv_net_plan_mode(net, batch, fv_backend_default(), FV_PLAN_INFERENCE, 1, &err) != FV_OK ||
        fv_predict(net, x_fovea, (size_t)batch, y, &err) != FV_OK) {
        snprintf(why, why_size, "%s", err.message);
        status = 1;
        goto done;
    }
    if (n_expected != (size_t)batch * per_out) {
        snprintf(why, why_size, "fovea gives %zu values, the test expects %zu", (size_t)batch * per_out, n_expected);
        status = 1;
        goto done;
    }
    size_t out_positions = 1;
    for (int a = 2; a < info.output_rank; a++) out_positions *= (size_t)info.output_dims[a];
    if (unbatched) memcpy(y_onnx, y, n_expected * sizeof *y);
    else fv_channels_last(y, y_onnx, (size_t)batch, per_out / out_positions, out_positions, 0);
    double worst = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n_expected; i++) {
        if (isnan(y_onnx[i]) && isnan(expected[i])) continue; /* NaN where ONNX has NaN (sqrt(-1)), as numpy's allclose(equal_nan) */
        double d = fabs((double)y_onnx[i] - (double)expected[i]), allowed = ATOL + RTOL * fabs((double)expected[i]);
        if (!(d <= allowed)) bad++;
        if (d > worst || d != d) worst = d;
    }
    if (bad) {
        snprintf(why, why_size, "%zu of %zu values differ, by up to %.3g", bad, n_expected, worst);
        status = 1;
    } else {
        snprintf(why, why_size, "largest difference %.3g%s", worst, unbatched ? " (the whole tensor one sample)" : "");
        status = 0;
    }
done:
    for (int i = 0; i < n_inputs; i++) fv_onnx__tensor_proto__free_unpacked(tensors[i], NULL);
    if (out_t) fv_onnx__tensor_proto__free_unpacked(out_t, NULL);
    free(x), free(x_fovea), free(y), free(y_onnx), free(expected);
    fv_net_free(net);
    return status;
}

static void run_folder(run *r, const char *root, const char *suite) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, suite);
    DIR *d = opendir(path);
    if (!d) return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **g = realloc(names, cap * sizeof *g);
            if (!g) break;
            names = g;
        }
        names[n] = strdup(e->d_name);
        if (names[n]) n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        char dir[1024], model_path[1100], why[600];
        snprintf(dir, sizeof dir, "%s/%s/%s", root, suite, names[i]);
        snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
        size_t size;
        unsigned char *buf = read_all(model_path, &size);
        FvOnnx__ModelProto *model = buf ? fv_onnx__model_proto__unpack(NULL, size, buf) : NULL;
        free(buf);
        int status;
        if (!model) {
            status = 2;
            snprintf(why, sizeof why, "%s", buf ? "model.onnx does not parse" : "no model.onnx (the package holds a download link)");
        } else {
            char name[600];
            snprintf(name, sizeof name, "%s/%.200s/model.onnx", suite, names[i]);
            status = run_test(dir, name, model, why, sizeof why);
        }
        const char *word[3] = {"PASS", "FAIL", "SKIP"};
        if (!r->quiet || status == 1) printf("%s %s/%s: %s\n", word[status], suite, names[i], why);
        *(status == 0 ? &r->passed : status == 1 ? &r->failed : &r->skipped) += 1;
        /* per operator: every op type of the graph counts this test once */
        for (size_t k = 0; model && model->graph && k < model->graph->n_node; k++) {
            const char *op = model->graph->node[k]->op_type;
            int seen = 0;
            for (size_t j = 0; j < k; j++) seen |= !strcmp(model->graph->node[j]->op_type, op);
            op_tally *t = seen ? NULL : tally_of(r, op);
            if (!t) continue;
            *(status == 0 ? &t->passed : status == 1 ? &t->failed : &t->skipped) += 1;
            const char *tail = strstr(why, ".onnx: ");
            char named[2][96]; /* the importer names a node "the OP node computing" or "'name' (OP)" */
            snprintf(named[0], sizeof named[0], "the %s node", op), snprintf(named[1], sizeof named[1], "(%s)", op);
            if (status == 2 && !t->reason[0] && (strstr(why, named[0]) || strstr(why, named[1]))) {
                const char *r = tail ? tail + 7 : why;
                size_t len = strlen(r);
                if (len < sizeof t->reason) snprintf(t->reason, sizeof t->reason, "%s", r);
                else snprintf(t->reason, sizeof t->reason, "%.180s ...", r); /* long tensor names */
            }
        }
        if (model) fv_onnx__model_proto__free_unpacked(model, NULL);
        free(names[i]);
    }
    free(names);
}

static int compare_tally(const void *a, const void *b) { return strcmp(((const op_tally *)a)->op, ((const op_tally *)b)->op); }

/* The table of operators as Markdown, with the counts; returns its length (like snprintf). */
static int table(run *r, char *buf, size_t size) {
    int n = 0;
#define PUT(...) (n += snprintf(buf ? buf + n : NULL, buf && (size_t)n < size ? size - (size_t)n : 0, __VA_ARGS__))
    qsort(r->ops, (size_t)r->n_ops, sizeof *r->ops, compare_tally);
    PUT("%d passed, %d failed, %d skipped (float32; every value within 1e-5 + 1e-4 |expected|).\n\n", r->passed, r->failed,
        r->skipped);
    PUT("| operator | imported | passed | failed | skipped | why a test was skipped (one) |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < r->n_ops; i++) {
        const op_tally *t = &r->ops[i];
        char reason[sizeof t->reason];
        snprintf(reason, sizeof reason, "%s", t->reason);
        for (char *c = reason; *c; c++)
            if (*c == '|') *c = '/';
        PUT("| %s | %s | %d | %d | %d | %s |\n", t->op, fv_onnx_supports(t->op) ? "yes" : "no", t->passed, t->failed, t->skipped, reason);
    }
#undef PUT
    return n;
}

static char *read_text(const char *path) {
    size_t size;
    unsigned char *buf = read_all(path, &size);
    char *text = buf ? realloc(buf, size + 1) : NULL;
    if (!text) return free(buf), NULL;
    text[size] = 0;
    return text;
}

/* --doc: 1 when the doc's table is this run's (or has been written), else 0 with a message. */
static int check_doc(run *r, const char *path, int write) {
    static const char begin[] = "<!-- conformance: begin -->\n", end[] = "<!-- conformance: end -->";
    char *doc = read_text(path);
    char *b = doc ? strstr(doc, begin) : NULL, *e = b ? strstr(b, end) : NULL;
    if (!e) return printf("FAILED: %s has no conformance markers\n", path), free(doc), 0;
    b += sizeof begin - 1;
    int len = table(r, NULL, 0);
    char *t = malloc((size_t)len + 1);
    if (!t) return free(doc), 0;
    table(r, t, (size_t)len + 1);
    int same = (size_t)(e - b) == (size_t)len && !memcmp(b, t, (size_t)len), ok = same;
    if (!same && write) {
        FILE *f = fopen(path, "w");
        ok = f && fwrite(doc, 1, (size_t)(b - doc), f) == (size_t)(b - doc) && fwrite(t, 1, (size_t)len, f) == (size_t)len &&
             fputs(e, f) >= 0;
        if (f && fclose(f) != 0) ok = 0;
        printf("%s %s\n", ok ? "wrote the table into" : "FAILED: cannot write", path);
    } else if (!same) {
        printf("FAILED: %s's conformance table is not this run's (regenerate: onnx_conformance DATA --doc %s --write)\n", path, path);
    }
    free(t), free(doc);
    return ok;
}

int main(int argc, char **argv) {
    const char *root = NULL, *doc = NULL;
    int write = 0;
    run *r = calloc(1, sizeof *r); /* 40 KB: not on the stack */
    if (!r) return fprintf(stderr, "out of memory\n"), 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--doc") && i + 1 < argc) doc = argv[++i];
        else if (!strcmp(argv[i], "--write")) write = 1;
        else if (!strcmp(argv[i], "--quiet")) r->quiet = 1;
        else root = argv[i];
    }
    if (!root) return fprintf(stderr, "usage: onnx_conformance DATA_DIR [--doc FILE [--write]] [--quiet]\n"), 2;
    static const char *const suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple", "real"};
    for (size_t s = 0; s < sizeof suites / sizeof *suites; s++) run_folder(r, root, suites[s]);
    int doc_ok = !doc || check_doc(r, doc, write);
    printf("%d passed, %d failed, %d skipped\n", r->passed, r->failed, r->skipped);
    int status = r->failed || !doc_ok ? 1 : 0;
    free(r);
    return status;
}
