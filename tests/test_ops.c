/* test_ops.c — the op test: every layer kind in the op table, on every backend compiled in, through
 * the cases that live beside it (src/layers/KIND.cases; networks of several kinds in
 * src/core/net.cases). Each case is checked three ways:
 *   fd     its input and parameter gradients against central finite differences of its forward pass;
 *   torch  its output and every gradient against PyTorch in float64 (tests/torch_reference.py reads
 *          the same files and writes the reference; fovea loads the same weights and input);
 *   and on a backend other than the reference kernels, its output and gradients against the
 *   reference kernels' on the same weights and input.
 * A kind no file lists, or whose file has no case of it under each check, fails the test, and so
 * does a kernel of a backend's table that no case ran.
 *
 * A .cases file: '#' starts a comment line; "kinds WORD..." names the kinds whose cases it holds
 * (each kind in exactly one file); "case NAME [| OPTIONS]" starts a case, whose model text (the
 * lines up to the next case, starting with "input name=in shape=...") follows. OPTIONS: batch=N
 * (default 3), training=1 (dropout's mask and batch statistics; default 0), scale=S (PyTorch's
 * inputs in (-S, S); default 1), checks=fd or checks=torch (default both).
 *
 * Finite differences: L = sum(output * R) for a fixed random R, accumulated in double; central
 * differences with h = 1e-2 in float32: truncation error ~ h^2/6 * |f'''| ~ 2e-5 and rounding error
 * ~ sqrt(#outputs) * 6e-8 * |out| / (2h) ~ 5e-5, so |numeric - analytic| <= 2e-3 + 1e-2 * |analytic|
 * has a wide margin, while a wrong index, a missing term or a wrong scale shows up as an error of
 * the gradient's own size. Inputs are distinct values spaced 0.03 apart (> 2h) and at least 0.015
 * from 0, so no ReLU sits within h of its kink and no max-pool window has two values within 2h of
 * each other; a case whose activations have kinks elsewhere is checks=torch.
 *
 * PyTorch and the reference kernels: the normwise relative error max|fovea - torch| / max|torch|
 * must be <= 1e-5. fovea computes in float32 (unit roundoff 6e-8); a sum of K products carries an
 * error of about sqrt(K) * 6e-8 relative to its largest terms, and the largest K here (a weight
 * gradient summed over batch x positions, ~500 terms) gives ~1.3e-6, so 1e-5 leaves margin without
 * hiding a wrong index (which shows up as an O(1) error).
 *
 * usage: test_ops SOURCE_DIR TORCH_REFERENCE.bin */
#include "check.h"
#include "core/graph.h" /* the backends' kernel tables: each kernel must have run */
#include "fovea.h"
#include "reference.h"

#include <dirent.h>

#define H 1e-2f
#define MAX_PROBES 40
#define TOLERANCE 1e-5
#define MAX_CASES 512

typedef struct op_case {
    char file[64];  /* "conv.cases" */
    char name[256];
    char text[1024]; /* the model text */
    int batch, training;
    int fd, torch;   /* the checks it takes */
} op_case;

typedef struct op_cases {
    op_case c[MAX_CASES];
    int n;
    const char *kind_file[FV_LAYER_KIND_COUNT]; /* the file whose "kinds" line lists the kind */
    char files[64][64];
    int n_files;
} op_cases;

/* ---- reading the case files ---- */

static const char *after_space(const char *s) {
    while (*s == ' ') s++;
    return s;
}

static int read_options(test_counts *t, op_case *c, const char *opts) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", opts);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        if (!strncmp(tok, "batch=", 6)) c->batch = atoi(tok + 6);
        else if (!strcmp(tok, "training=1")) c->training = 1;
        else if (!strncmp(tok, "scale=", 6)) continue; /* PyTorch's inputs only */
        else if (!strcmp(tok, "checks=fd")) c->torch = 0;
        else if (!strcmp(tok, "checks=torch")) c->fd = 0;
        else {
            CHECK(t, 0, "%s: case '%s': unknown option '%s'", c->file, c->name, tok);
            return 0;
        }
    }
    CHECK(t, c->batch >= 1 && c->batch <= 16, "%s: case '%s': batch %d", c->file, c->name, c->batch);
    return 1;
}

static void read_file(test_counts *t, op_cases *all, const char *dir, const char *file) {
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    CHECK(t, f != NULL, "%s: cannot open", path);
    if (!f) return;
    CHECK(t, all->n_files < 64, "more than 64 .cases files");
    char *fname = all->files[all->n_files < 63 ? all->n_files++ : 63];
    snprintf(fname, sizeof all->files[0], "%s", file);
    op_case *c = NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#') continue;
        if (!strncmp(line, "kinds ", 6)) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s", line + 6);
            for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
                int k = 0;
                while (k < FV_LAYER_KIND_COUNT && strcmp(fv_layer_kind_name((fv_layer_kind)k), w)) k++;
                CHECK(t, k < FV_LAYER_KIND_COUNT, "%s: 'kinds' names '%s', which is no layer kind", file, w);
                if (k == FV_LAYER_KIND_COUNT) continue;
                CHECK(t, !all->kind_file[k], "%s: kind '%s' is listed in %s too", file, w, all->kind_file[k]);
                all->kind_file[k] = fname;
            }
        } else if (!strncmp(line, "case ", 5)) {
            CHECK(t, all->n < MAX_CASES, "more than %d cases", MAX_CASES);
            if (all->n >= MAX_CASES) break;
            c = &all->c[all->n++];
            memset(c, 0, sizeof *c);
            snprintf(c->file, sizeof c->file, "%s", file);
            c->batch = 3, c->fd = 1, c->torch = 1;
            char *bar = strchr(line, '|');
            if (bar) *bar = '\0';
            size_t n = strlen(line);
            while (n > 5 && line[n - 1] == ' ') line[--n] = '\0';
            snprintf(c->name, sizeof c->name, "%s", after_space(line + 5));
            for (op_case *o = all->c; o < c; o++)
                CHECK(t, strcmp(o->file, c->file) || strcmp(o->name, c->name), "%s: two cases are named '%s'", file, c->name);
            if (bar && !read_options(t, c, after_space(bar + 1))) c->fd = c->torch = 0;
        } else if (c && *line) {
            size_t used = strlen(c->text);
            CHECK(t, used + strlen(line) + 2 < sizeof c->text, "%s: case '%s' is too long", file, c->name);
            if (used + strlen(line) + 2 < sizeof c->text) snprintf(c->text + used, sizeof c->text - used, "%s\n", line);
        } else {
            CHECK(t, !*line, "%s: '%s' is outside any case", file, line);
        }
    }
    fclose(f);
}

static int by_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Every *.cases file of a folder, in name order (the same order as torch_reference.py's). */
static void read_dir(test_counts *t, op_cases *all, const char *dir) {
    DIR *d = opendir(dir);
    CHECK(t, d != NULL, "%s: cannot open", dir);
    if (!d) return;
    char *names[128];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 128;) {
        size_t len = strlen(e->d_name);
        if (len > 6 && !strcmp(e->d_name + len - 6, ".cases") && (names[n] = strdup(e->d_name))) n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) read_file(t, all, dir, names[i]), free(names[i]);
}

/* ---- one network, set up the same way for every check ---- */

typedef struct lcg {
    uint64_t s;
} lcg;

static float uniform(lcg *g) { return 2.0f * test_uniform(&g->s) - 1.0f; } /* [-1, 1) */

static int bf16_unavailable; /* oneDNN bf16 plans refused on a CPU without AVX-512 */

static fv_net *build_mode(test_counts *t, const op_case *c, fv_backend backend, fv_precision precision, fv_plan_mode mode,
                          const char *what) {
    fv_error err;
    fv_net *net = fv_net_from_text(c->text, what, &err);
    CHECK(t, net != NULL, "%s: %s", what, net ? "" : err.message);
    if (!net) return NULL;
    fv_net_set_precision(net, precision);
    fv_status st = fv_net_plan_mode(net, c->batch, backend, mode, 3, &err);
    if (st != FV_OK && precision == FV_PRECISION_BF16 && backend == FV_BACKEND_ONEDNN && !test_cpu_has_avx512() &&
        strstr(err.message, "no bf16 kernel")) /* oneDNN 2.6 has bf16 only on AVX-512: said once at the end */
        return bf16_unavailable++, fv_net_free(net), NULL;
    CHECK(t, st == FV_OK, "%s: plan: %s", what, st == FV_OK ? "" : err.message);
    if (st != FV_OK) return fv_net_free(net), NULL;
    return net;
}

static fv_net *build_in(test_counts *t, const op_case *c, fv_backend backend, fv_precision precision, const char *what) {
    return build_mode(t, c, backend, precision, FV_PLAN_TRAINING, what);
}

static fv_net *build(test_counts *t, const op_case *c, fv_backend backend, const char *what) {
    return build_in(t, c, backend, FV_PRECISION_FP32, what);
}

/* Weights for the finite-difference and backend checks: variances and batch-norm scales near 1. */
static void fill_weights(fv_net *net, lcg *g) {
    fv_error err;
    for (int i = 0; i < fv_net_param_count(net); i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        int positive = !strcmp(p.name, "moving_variance") || !strcmp(p.name, "gamma");
        for (size_t k = 0; k < p.count; k++) p.value[k] = positive ? 1.0f + 0.5f * uniform(g) : 0.7f * uniform(g);
    }
}

/* Distinct values 0.03 apart, none within 0.015 of zero, in a shuffled order. */
static void fill_input(float *x, size_t nx, lcg *g) {
    size_t *perm = malloc(nx * sizeof *perm);
    if (!perm) abort();
    for (size_t i = 0; i < nx; i++) perm[i] = i;
    for (size_t i = nx; i > 1; i--) {
        size_t j = (size_t)((uniform(g) + 1.0f) * 0.5f * (float)i) % i, tmp = perm[i - 1];
        perm[i - 1] = perm[j], perm[j] = tmp;
    }
    for (size_t i = 0; i < nx; i++) x[i] = ((float)perm[i] - (float)(nx / 2) + 0.5f) * 0.03f; /* half-integers: no zero */
    free(perm);
}

static size_t input_count(fv_net *net) { return (size_t)fv_net_batch(net) * fv_shape_count(fv_net_node_shape(net, 0)); }

static size_t output_count(fv_net *net) {
    return (size_t)fv_net_batch(net) * fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
}

/* ---- finite differences ---- */

static double loss_of(fv_net *net, const float *x, const float *r, int training) {
    fv_error err;
    fv_net_reseed(net, 7); /* the same dropout mask for every evaluation */
    fv_net_forward(net, x, training, &err);
    const float *y = fv_net_node_output(net, fv_net_output_node(net));
    double l = 0.0;
    for (size_t i = 0, n = output_count(net); i < n; i++) l += (double)y[i] * (double)r[i];
    return l;
}

/* Compares the analytic gradient `grad` of `value` (n entries) with finite differences. */
static void probe(test_counts *t, const char *what, const char *tensor, fv_net *net, float *x, const float *r, int training,
                  float *value, const float *grad, size_t n, lcg *g) {
    int probes = n < MAX_PROBES ? (int)n : MAX_PROBES, bad = 0;
    for (int p = 0; p < probes; p++) {
        size_t i = n <= MAX_PROBES ? (size_t)p : (size_t)((uniform(g) + 1.0f) * 0.5f * (float)n) % n;
        float saved = value[i];
        value[i] = saved + H;
        double up = loss_of(net, x, r, training);
        value[i] = saved - H;
        double down = loss_of(net, x, r, training);
        value[i] = saved;
        double numeric = (up - down) / (2.0 * H), analytic = grad[i];
        if (fabs(numeric - analytic) > 2e-3 + 1e-2 * fabs(analytic) && !bad++)
            fprintf(stderr, "  %s: d%s[%zu]: numeric %.6f, analytic %.6f\n", what, tensor, i, numeric, analytic);
    }
    CHECK(t, bad == 0, "%s: %d of %d entries of d%s disagree with finite differences", what, bad, probes, tensor);
}

static void check_fd(test_counts *t, const op_case *c, fv_backend backend) {
    char what[400];
    snprintf(what, sizeof what, "[%s] %s: %s (finite differences)", fv_backend_name(backend), c->file, c->name);
    fv_net *net = build(t, c, backend, what);
    if (!net) return;
    fv_error err;
    lcg g = {(uint64_t)strlen(c->name) * 7919u + (uint64_t)c->batch};
    fill_weights(net, &g);
    size_t nx = input_count(net), ny = output_count(net);
    float *x = malloc(nx * sizeof *x), *r = malloc(ny * sizeof *r), *dx = malloc(nx * sizeof *dx);
    if (!x || !r || !dx) abort();
    fill_input(x, nx, &g);
    for (size_t i = 0; i < ny; i++) r[i] = uniform(&g);

    loss_of(net, x, r, c->training);
    fv_net_backward(net, r, &err);
    memcpy(dx, fv_net_node_grad(net, 0), nx * sizeof *dx);
    int n_params = fv_net_param_count(net);
    float *grads[64] = {0};
    for (int i = 0; i < n_params && i < 64; i++) { /* read before the probes run forward again */
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        if (!(grads[i] = malloc(p.count * sizeof(float)))) abort();
        memcpy(grads[i], p.grad, p.count * sizeof(float));
    }
    probe(t, what, "input", net, x, r, c->training, x, dx, nx, &g);
    for (int i = 0; i < n_params && i < 64; i++) {
        fv_param_info p;
        fv_net_param(net, i, &p, &err);
        char tensor[160];
        snprintf(tensor, sizeof tensor, "%s/%s", fv_net_node_name(net, p.node), p.name);
        if (p.trainable) probe(t, what, tensor, net, x, r, c->training, p.value, grads[i], p.count, &g);
        free(grads[i]);
    }
    free(x), free(r), free(dx);
    fv_net_free(net);
}

/* ---- comparisons: PyTorch's numbers, the reference kernels' ---- */

/* The largest error seen per kind of comparison, and where, for the summary lines (this
 * program's own state). */
typedef struct worst_error {
    const char *label;
    double tolerance, error;
    char at[600];
} worst_error;
/* fp32 against PyTorch and between backends; bf16 between backends (each rounds the operands
 * of the same products, exactly representable in fp32, then sums in its own order: an input a
 * summation-order difference puts on the other side of a bf16 rounding boundary moves by a bf16
 * step, 2^-8 of itself; seen: 2.5e-6); bf16 against fp32 on the reference (every operand off by
 * up to 2^-9 of itself, so a sum of K terms by ~sqrt(K) 2^-9 of its terms: seen, median 0 (no
 * products), 97th percentile 2e-2, largest 7e-2 where relu6's kink at 6 lies within the
 * pre-activation's bf16 rounding, 6 x 2^-9; a wrong operand or index errs by O(1)). */
static worst_error fp32_worst = {"fp32", TOLERANCE, 0.0, ""}, bf16_worst = {"bf16 between backends", 1e-2, 0.0, ""},
                   bf16_fp32_worst = {"bf16 against fp32", 1e-1, 0.0, ""}, int8_worst = {"int8 between backends", 2e-2, 0.0, ""},
                   bf16_inference_worst = {"bf16 inference between backends (values between layers in bf16)", 2e-2, 0.0, ""};
static int narrow_seen; /* layers whose outputs a bf16 inference plan kept in bf16 */
static int int8_narrow_seen[2]; /* ... an int8 inference plan kept in int8, in bf16 */
static int int8_sums_seen;      /* ... adds an int8 inference plan's convolutions computed */
static int kernel_ran[FV_LAYER_KIND_COUNT]; /* a kind some case ran on a backend's own kernel */

static void compare_within(test_counts *t, worst_error *w, const char *what, const char *tensor, const float *got, const float *want,
                           size_t n) {
    double err = rel_diff(got, want, n, 1e-6);
    if (err > w->error) w->error = err, snprintf(w->at, sizeof w->at, "%s: %s", what, tensor);
    CHECK(t, err <= w->tolerance, "%s: %s differs: relative error %.3g (tolerance %.0e)", what, tensor, err, w->tolerance);
}

static void compare(test_counts *t, const char *what, const char *tensor, const float *got, const float *want, size_t n) {
    compare_within(t, &fp32_worst, what, tensor, got, want, n);
}

/* ref and net (the same case, planned) given the same weights and input (the finite differences'
 * spaced one, see fill_input, or uniform in (-span, span)), run forward (and backward unless an
 * inference plan), and compared: output, input gradient, and each parameter's gradient (the value
 * after the step for a non-trainable one). Frees both. */
static void run_and_compare(test_counts *t, worst_error *w, const char *what, const op_case *c, fv_net *ref, fv_net *net, uint64_t seed,
                            int spaced, float span) {
    fv_error err;
    lcg g = {seed};
    int gradients = fv_net_mode(net) != FV_PLAN_INFERENCE, training = gradients && c->training;
    fill_weights(ref, &g);
    for (int i = 0; i < fv_net_param_count(ref); i++) {
        fv_param_info p, q;
        fv_net_param(ref, i, &p, &err), fv_net_param(net, i, &q, &err);
        memcpy(q.value, p.value, p.count * sizeof(float));
    }
    size_t nx = input_count(ref), ny = output_count(ref);
    float *x = malloc(nx * sizeof *x), *r = malloc(ny * sizeof *r);
    if (!x || !r) abort();
    if (spaced) fill_input(x, nx, &g);
    else
        for (size_t i = 0; i < nx; i++) x[i] = span * uniform(&g);
    for (size_t i = 0; i < ny; i++) r[i] = uniform(&g);
    for (int i = 0; i < fv_net_node_count(net); i++)
        if (strcmp(fv_net_node_kernel(net, i), "reference")) kernel_ran[fv_net_node_layer(net, i)->kind] = 1;
    fv_net *nets[2] = {ref, net};
    for (int k = 0; k < 2; k++) {
        fv_net_reseed(nets[k], 11);
        fv_net_forward(nets[k], x, training, &err);
        if (gradients) fv_net_backward(nets[k], r, &err);
    }
    compare_within(t, w, what, "output", fv_net_node_output(net, fv_net_output_node(net)), fv_net_node_output(ref, fv_net_output_node(ref)), ny);
    if (gradients) {
        compare_within(t, w, what, "d_input", fv_net_node_grad(net, 0), fv_net_node_grad(ref, 0), nx);
        for (int i = 0; i < fv_net_param_count(ref); i++) {
            fv_param_info p, q;
            fv_net_param(ref, i, &p, &err), fv_net_param(net, i, &q, &err);
            char tensor[160];
            snprintf(tensor, sizeof tensor, "%s %s/%s", p.trainable ? "grad" : "after", fv_net_node_name(ref, p.node), p.name);
            if (p.trainable || training) compare_within(t, w, what, tensor, q.trainable ? q.grad : q.value, p.trainable ? p.grad : p.value, p.count);
        }
    }
    free(x), free(r);
    fv_net_free(ref), fv_net_free(net);
}

/* Training plans: the output and gradients of `backend` in `precision` against the reference
 * kernels' in ref_precision, on the same weights and input (spaced: no ReLU gate near its kink,
 * where two precisions could decide it differently). */
static void check_against(test_counts *t, const op_case *c, fv_backend backend, fv_precision precision, fv_precision ref_precision,
                          worst_error *w, int spaced) {
    char what[400];
    snprintf(what, sizeof what, "[%s %s] %s: %s (against the reference kernels in %s)", fv_backend_name(backend), fv_precision_name(precision),
             c->file, c->name, fv_precision_name(ref_precision));
    fv_net *ref = build_in(t, c, FV_BACKEND_REFERENCE, ref_precision, what), *net = ref ? build_in(t, c, backend, precision, what) : NULL;
    if (!net) return fv_net_free(ref);
    run_and_compare(t, w, what, c, ref, net, (uint64_t)strlen(c->name) * 104729u, spaced, 1.0f);
}

/* bf16 inference: oneDNN keeps values between layers in bf16 where every kernel on both sides can
 * (plan.c's narrow_edges: in a case of several layers), which rounds them where the reference's
 * definition rounds only products' operands: a few bf16 steps more (2^-8 each). */
static void check_bf16_inference(test_counts *t, const op_case *c, fv_backend backend) {
    char what[400];
    snprintf(what, sizeof what, "[%s bf16 inference] %s: %s (against the reference kernels in bf16)", fv_backend_name(backend), c->file, c->name);
    fv_net *ref = build_mode(t, c, FV_BACKEND_REFERENCE, FV_PRECISION_BF16, FV_PLAN_INFERENCE, what);
    fv_net *net = ref ? build_mode(t, c, backend, FV_PRECISION_BF16, FV_PLAN_INFERENCE, what) : NULL;
    if (!net) return fv_net_free(ref);
    for (int i = 0; i < fv_net_node_count(net); i++) narrow_seen += fv_net_node_narrow(net, i) != 0;
    run_and_compare(t, &bf16_inference_worst, what, c, ref, net, (uint64_t)strlen(c->name) * 104729u, 0, 1.0f);
}

/* int8: every convolution and dense layer given an input scale (0.02: inputs beyond 2.5 in
 * magnitude saturate, which is tested too), inference and inspection plans (oneDNN's int8
 * kernels run forward in inference; gradients take the reference's straight-through definition)
 * against the reference's. Both quantise the same values; an input a summation-order difference
 * moves across a rounding boundary changes by one step, s |w|. oneDNN's inference plans also keep
 * values between layers in int8 (exact: what the reader quantises anyway) or bf16 (toward an add:
 * rounded, as in bf16 inference), so the tolerance is bf16 inference's. An add read by quantised
 * layers has its sum quantised (fv_net_quantize_sums), which oneDNN's plans have the convolution
 * before it compute where they can. */
static void check_int8(test_counts *t, const op_case *c, fv_backend backend, fv_plan_mode mode) {
    char what[400];
    snprintf(what, sizeof what, "[%s int8 %s] %s: %s (against the reference kernels in int8)", fv_backend_name(backend), fv_plan_mode_name(mode),
             c->file, c->name);
    fv_net *nets[2] = {NULL, NULL};
    fv_error err;
    int scaled = 0;
    for (int k = 0; k < 2; k++) {
        fv_net *net = nets[k] = fv_net_from_text(c->text, what, &err);
        CHECK(t, net != NULL, "%s: %s", what, net ? "" : err.message);
        if (!net) return fv_net_free(nets[0]);
        for (int i = 0; i < fv_net_node_count(net); i++) {
            if (fv_kind_quantisable(fv_net_node_layer(net, i)->kind)) scaled += fv_net_set_input_scale(net, i, 0.02f, &err) == FV_OK;
        }
        fv_net_quantize_sums(net); /* an add read by those: its sum quantised, as fv_quantize does */
        fv_net_set_precision(net, FV_PRECISION_INT8);
        fv_status st = fv_net_plan_mode(net, c->batch, k ? backend : FV_BACKEND_REFERENCE, mode, 3, &err);
        CHECK(t, st == FV_OK, "%s: plan: %s", what, st == FV_OK ? "" : err.message);
        if (st != FV_OK) return fv_net_free(nets[0]), fv_net_free(nets[1]);
    }
    if (!scaled) return fv_net_free(nets[0]), fv_net_free(nets[1]); /* nothing quantised: fp32 checked it */
    for (int i = 0; i < fv_net_node_count(nets[1]); i++) {
        int8_narrow_seen[0] += fv_net_node_narrow(nets[1], i) == 8, int8_narrow_seen[1] += fv_net_node_narrow(nets[1], i) == 16;
        int8_sums_seen += fv_net_node_computed_by(nets[1], i) >= 0;
    }
    run_and_compare(t, &int8_worst, what, c, nets[0], nets[1], (uint64_t)strlen(c->name) * 15485863u, 0, 2.0f);
}

static void check_torch(test_counts *t, const op_case *c, const ref_case *rc, fv_backend backend) {
    char what[400];
    snprintf(what, sizeof what, "[%s] %s: %s (PyTorch)", fv_backend_name(backend), c->file, c->name);
    CHECK(t, rc->batch == c->batch && rc->training == c->training && !strcmp(rc->text, c->text),
          "%s: the reference was written for another version of the case (rerun torch_reference.py)", what);
    fv_net *net = build(t, c, backend, what);
    if (!net) return;
    fv_error err;
    ref_load_params(t, rc, net, what);
    const ref_tensor *input = find(rc, "input"), *d_output = find(rc, "d_output"), *want;
    CHECK(t, input && d_output && input->count == input_count(net) && d_output->count == output_count(net),
          "%s: the reference lacks an input or d_output of the network's size", what);
    if (input && d_output && input->count == input_count(net) && d_output->count == output_count(net)) {
        fv_net_forward(net, input->data, c->training, &err);
        fv_net_backward(net, d_output->data, &err);
        if ((want = find(rc, "output"))) compare(t, what, "output", fv_net_node_output(net, fv_net_output_node(net)), want->data, want->count);
        if ((want = find(rc, "d_input"))) compare(t, what, "d_input", fv_net_node_grad(net, 0), want->data, want->count);
        for (int i = 0; i < fv_net_param_count(net); i++) {
            fv_param_info p;
            fv_net_param(net, i, &p, &err);
            char key[200];
            snprintf(key, sizeof key, "%s/%s/%s", p.trainable ? "grad" : "after", fv_net_node_name(net, p.node), p.name);
            want = find(rc, key);
            CHECK(t, want && want->count == p.count, "%s: the reference has no %s", what, key);
            if (want && want->count == p.count) compare(t, what, key, p.trainable ? p.grad : p.value, want->data, want->count);
        }
    }
    fv_net_free(net);
}

/* ---- the program ---- */

typedef struct run_state {
    op_cases *all;
    int *torch_done; /* per case: its reference was found */
} run_state;

static void run_reference_case(test_counts *t, const ref_case *rc, void *user) {
    run_state *s = user;
    if (find(rc, "loss_config") || find(rc, "opt_config")) return; /* losses and optimizers: test_torch */
    for (int i = 0; i < s->all->n; i++) {
        const op_case *c = &s->all->c[i];
        char key[340];
        snprintf(key, sizeof key, "%s: %s", c->file, c->name);
        if (strcmp(key, rc->name)) continue;
        s->torch_done[i] = 1;
        if (!c->torch) return;
        check_torch(t, c, rc, FV_BACKEND_REFERENCE);
        if (fv_backend_available(FV_BACKEND_ONEDNN)) check_torch(t, c, rc, FV_BACKEND_ONEDNN);
        return;
    }
    CHECK(t, 0, "the PyTorch reference has a case '%s' that no .cases file has (rerun torch_reference.py)", rc->name);
}

static int case_uses(const op_case *c, fv_layer_kind kind) {
    fv_error err;
    fv_net *net = fv_net_from_text(c->text, c->name, &err);
    int uses = 0;
    for (int i = 0; net && i < fv_net_node_count(net); i++) uses |= fv_net_node_layer(net, i)->kind == kind;
    fv_net_free(net);
    return uses;
}

int main(int argc, char **argv) {
    test_counts t = {0, 0, 0.0};
    if (argc != 3) return fprintf(stderr, "usage: test_ops SOURCE_DIR TORCH_REFERENCE.bin\n"), 2;
    static op_cases all; /* about 400 KB: not on the stack */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/src/layers", argv[1]);
    read_dir(&t, &all, dir);
    snprintf(dir, sizeof dir, "%s/src/core", argv[1]);
    read_dir(&t, &all, dir);
    int backends[2] = {FV_BACKEND_REFERENCE, FV_BACKEND_ONEDNN}, n_backends = fv_backend_available(FV_BACKEND_ONEDNN) ? 2 : 1;

    for (int i = 0; i < all.n; i++)
        for (int b = 0; b < n_backends; b++) {
            if (all.c[i].fd) check_fd(&t, &all.c[i], (fv_backend)backends[b]);
            if (b > 0) check_against(&t, &all.c[i], (fv_backend)backends[b], FV_PRECISION_FP32, FV_PRECISION_FP32, &fp32_worst, 0);
            if (b > 0) check_against(&t, &all.c[i], (fv_backend)backends[b], FV_PRECISION_BF16, FV_PRECISION_BF16, &bf16_worst, 0);
            if (b > 0) check_bf16_inference(&t, &all.c[i], (fv_backend)backends[b]);
            if (b > 0) check_int8(&t, &all.c[i], (fv_backend)backends[b], FV_PLAN_INFERENCE);
            if (b > 0) check_int8(&t, &all.c[i], (fv_backend)backends[b], FV_PLAN_INSPECTION);
        }
    /* bf16's definition near fp32's, within bf16's rounding, on the finite differences' cases and
     * inputs (cases with kinks near their inputs are checks=torch; those without products are
     * here too: bf16 changes nothing in them) */
    for (int i = 0; i < all.n; i++)
        if (all.c[i].fd) check_against(&t, &all.c[i], FV_BACKEND_REFERENCE, FV_PRECISION_BF16, FV_PRECISION_FP32, &bf16_fp32_worst, 1);
    int torch_done[MAX_CASES] = {0};
    run_state s = {&all, torch_done};
    long n_ref = ref_for_each(argv[2], &t, run_reference_case, &s);
    CHECK(&t, n_ref > 0, "%s: no PyTorch reference", argv[2]);
    for (int i = 0; i < all.n; i++)
        CHECK(&t, !all.c[i].torch || torch_done[i], "%s: %s: the PyTorch reference lacks it (rerun torch_reference.py)", all.c[i].file,
              all.c[i].name);

    /* every kind: listed in one file, which has a case of it under each check */
    for (int k = 0; k < FV_LAYER_KIND_COUNT; k++) {
        const char *word = fv_layer_kind_name((fv_layer_kind)k), *file = all.kind_file[k];
        CHECK(&t, file != NULL, "layer kind '%s': no .cases file lists it (a 'kinds' line beside its source)", word);
        if (!file) continue;
        int fd = 0, torch = 0;
        for (int i = 0; i < all.n; i++)
            if (!strcmp(all.c[i].file, file) && (all.c[i].fd || all.c[i].torch) && case_uses(&all.c[i], (fv_layer_kind)k))
                fd += all.c[i].fd, torch += all.c[i].torch;
        CHECK(&t, fd > 0, "layer kind '%s': %s has no finite-difference case of it", word, file);
        CHECK(&t, torch > 0, "layer kind '%s': %s has no PyTorch case of it", word, file);
    }
    /* every kernel of every backend's table ran on some case (else its cases miss what it supports) */
    for (int b = 1; b < n_backends; b++) {
        const fv_backend_ops *ops = fv_backend_ops_for((fv_backend)backends[b]);
        for (int k = 0; ops && k < ops->n_kernels; k++)
            CHECK(&t, kernel_ran[ops->kernels[k]->kind], "the %s kernel of '%s' ran on no case", ops->name,
                  fv_layer_kind_name(ops->kernels[k]->kind));
    }
    int n_fd = 0, n_torch = 0;
    for (int i = 0; i < all.n; i++) n_fd += all.c[i].fd, n_torch += all.c[i].torch;
    printf("%d cases in %d files (%d with finite differences, %d with PyTorch), backends: reference%s\n", all.n, all.n_files, n_fd, n_torch,
           n_backends > 1 ? ", onednn" : "");
    const worst_error *worst[] = {&fp32_worst, &bf16_worst, &bf16_fp32_worst, &int8_worst, &bf16_inference_worst};
    if (bf16_unavailable)
        printf("  oneDNN bf16: not checked on this CPU, which has no AVX-512 (oneDNN 2.6 has no bf16 kernels without it): %d plans refused\n",
               bf16_unavailable);
    CHECK(&t, n_backends < 2 || bf16_unavailable || narrow_seen > 0, "no bf16 inference plan kept a value between layers in bf16 (plan.c's narrow_edges)");
    printf("  bf16 inference: %d layers' outputs kept in bf16 between layers\n", narrow_seen);
    CHECK(&t, n_backends < 2 || int8_narrow_seen[0] > 0, "no int8 inference plan kept a value between layers in int8 (plan.c's narrow_edges)");
    CHECK(&t, n_backends < 2 || int8_sums_seen > 0, "no int8 inference plan had a convolution compute the add after it (plan.c's fuse_sums)");
    printf("  int8 inference: %d layers' outputs kept in int8 between layers, %d in bf16; %d adds computed by their convolution\n",
           int8_narrow_seen[0], int8_narrow_seen[1], int8_sums_seen);
    for (int k = 0; k < (int)(sizeof worst / sizeof *worst); k++)
        if (worst[k]->at[0]) printf("  %s: largest relative error %.2g (tolerance %.0e), at %s\n", worst[k]->label, worst[k]->error, worst[k]->tolerance, worst[k]->at);
        else printf("  %s: not run (no backend besides the reference)\n", worst[k]->label);
    return report(&t);
}
