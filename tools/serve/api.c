/* api.c — fovea serve's API: one request in, one response out. Nothing here touches a socket or
 * names a file from a request: images and .npy batches are decoded from the body.
 *   GET  /                               the explorer page
 *   GET  /healthz                        {"status": "ok"}
 *   GET  /metrics                        Prometheus text
 *   GET  /v1/models                      every model: name, input, classes, layers
 *   GET  /v1/models/NAME                 one of them
 *   POST /v1/models/NAME/predict         a PNG/JPEG image or a float32 .npy batch (N, H, W, C) ->
 *                                        the top classes (?top=K, default 5)
 *   POST /v1/models/NAME/explain         an image -> ?method=saliency|smoothgrad|guided|gradcam|
 *                                        gradcam++ (&class=K, default the predicted; &layer=L for
 *                                        Grad-CAM) as a PNG overlay (&format=npy: the map);
 *                                        ?method=maps&layer=L: the layer's outputs as JSON
 *   GET  /v1/models/NAME/filters?layer=L a convolution's kernels (or a dense layer's weights) as JSON */
#include "serve/serve.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON is built up with cli_put (text.h); a failed allocation answers 500. ---- */
typedef cli_text text;
#define put cli_put

static void put_string(text *t, const char *s) {
    put(t, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') put(t, "\\%c", c);
        else if (c < 0x20) put(t, "\\u%04x", c);
        else put(t, "%c", c);
    }
    put(t, "\"");
}

static void put_float(text *t, double v) { isfinite(v) ? put(t, "%.6g", v) : put(t, "null"); }

static void respond_text(serve_response *out, int status, const char *type, text *t) {
    if (t->failed) {
        free(t->text);
        serve_error(out, 500, "out of memory");
        return;
    }
    *out = (serve_response){status, type, (unsigned char *)t->text, t->len};
}

fv_status serve_fail(fv_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return FV_ERR;
}

void serve_error(serve_response *out, int status, const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    text t = {0};
    put(&t, "{\"error\": ");
    put_string(&t, message);
    put(&t, "}\n");
    *out = (serve_response){status, "application/json", (unsigned char *)t.text, t.failed ? 0 : t.len};
    if (t.failed) free(t.text), out->body = NULL;
}

/* ---- The query string: "k=v&k=v", %XX and + decoded into buf. NULL when absent. ---- */
static int hex(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

static const char *query_value(const char *query, const char *key, char *buf, size_t size) {
    size_t klen = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            size_t o = 0;
            for (size_t i = klen + 1; i < len && o + 1 < size; i++) {
                if (p[i] == '%' && i + 2 < len && hex(p[i + 1]) >= 0 && hex(p[i + 2]) >= 0) {
                    buf[o++] = (char)(hex(p[i + 1]) * 16 + hex(p[i + 2]));
                    i += 2;
                } else buf[o++] = p[i] == '+' ? ' ' : p[i];
            }
            buf[o] = '\0';
            return buf;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* An integer query value in [lo, hi]; *ok 0 when present and bad. */
static long query_int(const char *query, const char *key, long fallback, long lo, long hi, int *ok) {
    char buf[32];
    const char *v = query_value(query, key, buf, sizeof buf);
    if (!v) return fallback;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) return *ok = 0, fallback;
    return n;
}

/* ---- Models ---- */
static int find_model(serve_server *s, const char *name, size_t len) {
    for (int i = 0; i < s->n_models; i++)
        if (strlen(s->models[i].name) == len && !strncmp(s->models[i].name, name, len)) return i;
    return -1;
}

static const char *class_name(const serve_model *m, int k) {
    return m->checkpoint.train.class_names && k < m->checkpoint.train.n_classes ? m->checkpoint.train.class_names[k] : NULL;
}

static void put_model(text *t, const serve_model *m) {
    const fv_net *net = m->nets[0];
    put(t, "{\"name\": ");
    put_string(t, m->name);
    put(t, ", \"input\": [%d, %d, %d], \"outputs\": %d, \"classes\": [", m->height, m->width, m->channels, m->units);
    for (int k = 0; k < m->units; k++) {
        put(t, k ? ", " : "");
        const char *name = class_name(m, k);
        if (name) put_string(t, name);
        else put(t, "\"%d\"", k);
    }
    put(t, "], \"layers\": [");
    for (int i = 0; i < fv_net_node_count(net); i++) {
        fv_shape s = fv_net_node_shape(net, i);
        const fv_layer *l = fv_net_node_layer(net, i);
        put(t, "%s{\"name\": ", i ? ", " : "");
        put_string(t, fv_net_node_name(net, i));
        put(t, ", \"kind\": ");
        put_string(t, fv_layer_kind_name(l->kind));
        put(t, ", \"shape\": [");
        for (int d = 0; d < s.rank; d++) put(t, "%s%d", d ? ", " : "", s.dim[d]);
        int inputs[16], n = fv_net_node_inputs(net, i, inputs, 16);
        put(t, "], \"inputs\": [");
        for (int j = 0; j < n && j < 16; j++) put(t, "%s%d", j ? ", " : "", inputs[j]);
        put(t, "], \"filters\": %s}", (l->kind == FV_LAYER_CONV2D || l->kind == FV_LAYER_DENSE) ? "true" : "false");
    }
    put(t, "]}");
}

/* ---- Inputs: an image (PNG, JPEG, BMP, GIF) or a .npy batch, as the model's input. ---- */
static int is_npy(const serve_request *r) { return r->body_size >= 6 && !memcmp(r->body, "\x93NUMPY", 6); }

/* The body as rows of the model's input, normalised (x) and as pixels (raw, may be NULL); *rows
 * set. Returns 0 with the error response filled. */
static int read_inputs(serve_server *s, const serve_model *m, const serve_request *r, int allow_batch, float **x, float **raw, int *rows,
                       serve_response *out) {
    size_t per = (size_t)m->height * m->width * m->channels;
    fv_error err;
    *x = NULL, *rows = 0;
    if (raw) *raw = NULL;
    if (!r->body_size) return serve_error(out, 400, "the body is empty: send an image (PNG or JPEG) or a float32 .npy batch"), 0;
    if (is_npy(r)) {
        int rank, dims[8];
        float *v = fv_decode_npy_floats(r->body, r->body_size, "the .npy body", &rank, dims, &err);
        if (!v) return serve_error(out, 400, "%s", err.message), 0;
        int shape_ok = rank == 4 && dims[1] == m->height && dims[2] == m->width && dims[3] == m->channels;
        if (!shape_ok && rank == 3 && dims[0] == m->height && dims[1] == m->width && dims[2] == m->channels) /* one sample */
            shape_ok = 1, dims[0] = 1;
        if (!shape_ok)
            return free(v), serve_error(out, 400, "the .npy batch must be (N, %d, %d, %d) float32 (or one (%d, %d, %d) sample)", m->height,
                                        m->width, m->channels, m->height, m->width, m->channels), 0;
        if (dims[0] < 1 || dims[0] > (allow_batch ? s->limits.max_rows : 1))
            return free(v), serve_error(out, 400, "the .npy batch holds %d samples; at most %d a request", dims[0], allow_batch ? s->limits.max_rows : 1), 0;
        for (size_t i = 0; i < (size_t)dims[0] * per; i++)
            if (!isfinite(v[i])) return free(v), serve_error(out, 400, "the .npy batch holds a value that is not finite (sample %zu)", i / per), 0;
        *rows = dims[0], *x = v;
        if (raw && !(*raw = malloc(per * sizeof **raw))) return free(v), *x = NULL, serve_error(out, 500, "out of memory"), 0;
        if (raw) memcpy(*raw, v, per * sizeof **raw); /* already the model's input: drawn as given */
        return 1;
    }
    if (r->content_type && strncmp(r->content_type, "image/", 6) && strncmp(r->content_type, "application/octet-stream", 24))
        return serve_error(out, 415, "send an image (image/png, image/jpeg) or a .npy batch (application/octet-stream), not %.100s", r->content_type), 0;
    int h, w;
    if (fv_decode_image_size(r->body, r->body_size, "the image", &h, &w, &err) != FV_OK) return serve_error(out, 400, "%s", err.message), 0;
    if ((long)h * w > s->limits.max_pixels)
        return serve_error(out, 413, "the image is %d x %d: at most %ld pixels (--max-pixels)", w, h, s->limits.max_pixels), 0;
    float *v = malloc(per * sizeof *v), *pixels = raw ? malloc(per * sizeof *pixels) : NULL;
    if (!v || (raw && !pixels)) return free(v), free(pixels), serve_error(out, 500, "out of memory"), 0;
    if (fv_decode_image(r->body, r->body_size, "the image", m->shorter, m->height, m->width, m->channels, v, &err) != FV_OK)
        return free(v), free(pixels), serve_error(out, 400, "%s", err.message), 0;
    if (pixels) memcpy(pixels, v, per * sizeof *v);
    cli_normalize(&m->checkpoint.train, v, per, m->channels);
    *rows = 1, *x = v;
    if (raw) *raw = pixels;
    return 1;
}

/* ---- POST predict ---- */
static void softmax(float *y, int n) {
    float hi = y[0];
    for (int i = 1; i < n; i++) hi = y[i] > hi ? y[i] : hi;
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += exp((double)(y[i] - hi));
    for (int i = 0; i < n; i++) y[i] = (float)(exp((double)(y[i] - hi)) / sum);
}

/* ---- A request the workers compute: serve_start decodes it into jobs, serve_submit queues
 * them, serve_finish answers once they are done. ---- */
struct serve_pending {
    int model, rows;
    long top;                  /* predict */
    float *x, *raw, *y;
    serve_job *jobs;           /* one a sample */
    serve_response explained;  /* explain: the worker's answer */
    serve_call call;
};

/* rows samples of `per` values in x, each a job of its own with `outputs` values in y. */
static serve_pending *pending_new(int mi, float *x, float *raw, int rows, size_t per, size_t outputs, int kind, const char *query) {
    serve_pending *p = calloc(1, sizeof *p);
    float *y = malloc((rows * outputs + 1) * sizeof *y);
    serve_job *jobs = calloc((size_t)rows, sizeof *jobs);
    if (!p || !y || !jobs) return free(p), free(y), free(jobs), NULL;
    *p = (serve_pending){.model = mi, .rows = rows, .x = x, .raw = raw, .y = y, .jobs = jobs};
    for (int i = 0; i < rows; i++)
        jobs[i] = (serve_job){.model = mi, .kind = kind, .x = x + i * per, .raw = raw, .y = y + (size_t)i * outputs, .query = query, .response = &p->explained};
    return p;
}

static void pending_free(serve_pending *p) {
    free(p->x), free(p->raw), free(p->y), free(p->jobs), free(p);
}

/* ---- POST predict ---- */
static void predict(serve_server *s, int mi, const serve_request *r, serve_response *out, serve_pending **pending) {
    serve_model *m = &s->models[mi];
    int ok = 1;
    long top = query_int(r->query, "top", 5, 1, 100000, &ok);
    if (!ok) return serve_error(out, 400, "top must be a whole number from 1");
    float *x;
    int rows;
    if (!read_inputs(s, m, r, 1, &x, NULL, &rows, out)) return;
    size_t per = (size_t)m->height * m->width * m->channels;
    /* each sample is a job of its own: the batcher gathers them with each other and with other
     * requests' (queued one at a time, each waiting for the last, 16 rows took 16 forwards) */
    serve_pending *p = pending_new(mi, x, NULL, rows, per, (size_t)m->units, JOB_PREDICT, NULL);
    if (!p) return free(x), serve_error(out, 500, "out of memory");
    p->top = top;
    *pending = p;
}

static void predict_answer(serve_server *s, serve_pending *p, serve_response *out) {
    serve_model *m = &s->models[p->model];
    int rows = p->rows;
    long top = p->top;
    float *y = p->y;
    serve_job *jobs = p->jobs;
    text t = {0};
    put(&t, "{\"model\": ");
    put_string(&t, m->name);
    put(&t, ", \"predictions\": [");
    for (int i = 0; i < rows && jobs[i].status == FV_OK; i++) {
        float *row = y + (size_t)i * m->units;
        if (m->softmax_logits && m->units > 1) softmax(row, m->units);
        put(&t, "%s{\"top\": [", i ? ", " : "");
        if (m->units == 1) put(&t, "{\"class\": 1, \"probability\": "), put_float(&t, row[0]), put(&t, "}");
        for (int k = 0; m->units > 1 && k < top && k < m->units; k++) { /* the k-th largest: taken ones are set to -inf */
            int best = 0;
            for (int c = 1; c < m->units; c++)
                if (row[c] > row[best] || isnan(row[best])) best = c;
            put(&t, "%s{\"class\": %d, \"name\": ", k ? ", " : "", best);
            const char *name = class_name(m, best);
            if (name) put_string(&t, name);
            else put(&t, "null");
            put(&t, ", \"probability\": ");
            put_float(&t, row[best]);
            put(&t, "}");
            row[best] = -INFINITY;
        }
        put(&t, "]}");
    }
    put(&t, "]}\n");
    int failed = -1;
    for (int i = 0; i < rows && failed < 0; i++)
        if (jobs[i].status != FV_OK) failed = i;
    if (failed >= 0) {
        free(t.text);
        serve_error(out, 500, "%s", jobs[failed].err.message);
    } else respond_text(out, 200, "application/json", &t);
}

/* ---- POST explain (on a worker's inspection copy: serve_explain) ---- */
static int find_layer(fv_net *net, const char *name) {
    int n = fv_net_find(net, name);
    if (n >= 0) return n;
    char *end;
    long i = strtol(name, &end, 10);
    return *name && !*end && i >= 0 && i < fv_net_node_count(net) ? (int)i : -1;
}

/* A picture a person reads: small inputs drawn larger (a 28 x 28 map becomes 224 x 224). */
static void respond_png(serve_response *out, fv_image *im, fv_error *err) {
    if (!im) return serve_error(out, 500, "%s", err->message);
    int longer = im->height > im->width ? im->height : im->width, factor = longer < 224 ? (224 + longer - 1) / longer : 1;
    fv_image *big = factor > 1 ? fv_image_enlarge(im, factor, err) : im;
    size_t size = 0;
    unsigned char *png = big ? fv_image_encode_png(big, &size, err) : NULL;
    if (big != im) fv_image_free(big);
    fv_image_free(im);
    if (!png) return serve_error(out, 500, "%s", err->message);
    *out = (serve_response){200, "image/png", png, size};
}

static void explain_maps(serve_server *s, fv_net *net, serve_job *job, const char *layer) {
    (void)s;
    fv_error err;
    int node = find_layer(net, layer);
    if (node < 0) return serve_error(job->response, 404, "no layer '%s' (GET /v1/models/NAME lists them)", layer);
    if (fv_net_forward(net, job->x, 0, &err) != FV_OK) return serve_error(job->response, 500, "%s", err.message);
    fv_shape sh = fv_net_node_shape(net, node);
    const float *v = fv_net_node_output(net, node);
    size_t n = fv_shape_count(sh);
    text t = {0};
    put(&t, "{\"layer\": ");
    put_string(&t, fv_net_node_name(net, node));
    put(&t, ", \"shape\": [");
    for (int d = 0; d < sh.rank; d++) put(&t, "%s%d", d ? ", " : "", sh.dim[d]);
    put(&t, "], \"values\": [");
    for (size_t i = 0; i < n; i++) put(&t, i ? ",%.4g" : "%.4g", isfinite(v[i]) ? (double)v[i] : 0.0);
    put(&t, "]}\n");
    respond_text(job->response, 200, "application/json", &t);
}

static void serve_explain(serve_server *s, fv_net *net, serve_job *job) {
    serve_model *m = &s->models[job->model];
    char method[32] = "saliency", layer[128] = "", format[16] = "png";
    query_value(job->query, "method", method, sizeof method);
    query_value(job->query, "layer", layer, sizeof layer);
    query_value(job->query, "format", format, sizeof format);
    if (!strcmp(method, "maps")) {
        if (!layer[0]) return serve_error(job->response, 400, "method=maps needs &layer=NAME");
        return explain_maps(s, net, job, layer);
    }
    int gradcam = !strcmp(method, "gradcam") || !strcmp(method, "gradcam++");
    fv_saliency_config sc = fv_saliency_defaults();
    if (!strcmp(method, "smoothgrad")) sc.method = FV_SALIENCY_SMOOTHGRAD;
    else if (!strcmp(method, "guided")) sc.method = FV_SALIENCY_GUIDED;
    else if (!gradcam && strcmp(method, "saliency") && strcmp(method, "vanilla"))
        return serve_error(job->response, 400, "method must be saliency, smoothgrad, guided, gradcam, gradcam++ or maps, not '%s'", method);
    if (strcmp(format, "png") && strcmp(format, "npy")) return serve_error(job->response, 400, "format must be png or npy, not '%s'", format);
    int ok = 1, node = -1;
    long k = query_int(job->query, "class", -1, 0, m->units > 1 ? m->units - 1 : 1, &ok);
    if (!ok) return serve_error(job->response, 400, "class must be a class number from 0 to %d", m->units > 1 ? m->units - 1 : 1);
    if (gradcam && layer[0] && (node = find_layer(net, layer)) < 0) return serve_error(job->response, 404, "no layer '%s'", layer);
    fv_error err;
    size_t pixels = (size_t)m->height * m->width;
    int cam_h = 0, cam_w = 0;
    if (gradcam && fv_gradcam_size(net, node, &cam_h, &cam_w, &err) != FV_OK) return serve_error(job->response, 400, "%s", err.message);
    float *map = malloc(pixels * sizeof *map), *cam = malloc(((size_t)cam_h * cam_w + 1) * sizeof *cam);
    if (!map || !cam) return free(map), free(cam), serve_error(job->response, 500, "out of memory");
    int predicted;
    float p;
    fv_status st = fv_predict_class(net, job->x, &predicted, &p, &err);
    if (st == FV_OK && k < 0) k = predicted;
    if (st == FV_OK) st = gradcam ? fv_gradcam(net, job->x, node, (int)k, method[7] == '+', cam, map, &err) : fv_saliency(net, job->x, (int)k, &sc, map, &err);
    free(cam);
    if (st != FV_OK) return free(map), serve_error(job->response, 400, "%s", err.message);
    if (!strcmp(format, "npy")) { /* the map's exact values, as `fovea saliency --raw` writes them */
        text t = {0}; /* a .npy in memory: header, then little-endian float32 */
        char header[128];
        int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", m->height, m->width);
        int total = ((10 + len + 1 + 63) / 64) * 64;
        put(&t, "\x93NUMPY%c%c%c%c%s", 1, 0, (total - 10) & 0xff, (total - 10) >> 8, header);
        while (!t.failed && t.len < (size_t)total - 1) put(&t, " ");
        put(&t, "\n");
        if (!t.failed && t.len + pixels * 4 + 1 > t.cap) {
            char *grown = realloc(t.text, t.len + pixels * 4 + 1);
            if (grown) t.text = grown, t.cap = t.len + pixels * 4 + 1;
            else t.failed = 1;
        }
        if (!t.failed) memcpy(t.text + t.len, map, pixels * 4), t.len += pixels * 4;
        free(map);
        return respond_text(job->response, 200, "application/octet-stream", &t);
    }
    fv_image image = {m->height, m->width, m->channels, (float *)job->raw};
    respond_png(job->response, fv_image_overlay(&image, map, FV_COLORMAP_JET, 0.5f, &err), &err);
    free(map);
}

/* r->query is read by the worker: it lives until the request is answered */
static void explain(serve_server *s, int mi, const serve_request *r, serve_response *out, serve_pending **pending) {
    serve_model *m = &s->models[mi];
    float *x, *raw;
    int rows;
    if (!read_inputs(s, m, r, 0, &x, &raw, &rows, out)) return;
    if (!(*pending = pending_new(mi, x, raw, 1, 0, 1, JOB_EXPLAIN, r->query))) free(x), free(raw), serve_error(out, 500, "out of memory");
}

/* ---- GET filters: the weights of a convolution (kh, kw, cin, cout) or dense layer (in, out) ---- */
static void filters(serve_server *s, int mi, const serve_request *r, serve_response *out) {
    const fv_net *net = s->models[mi].nets[0];
    char layer[128];
    if (!query_value(r->query, "layer", layer, sizeof layer)) return serve_error(out, 400, "filters needs ?layer=NAME");
    int node = find_layer((fv_net *)net, layer), index = node >= 0 ? fv_net_find_param(net, node, "kernel") : -1;
    if (node < 0) return serve_error(out, 404, "no layer '%s'", layer);
    fv_param_info p;
    fv_error err;
    if (index < 0 || fv_net_param_read(net, index, &p, &err) != FV_OK) return serve_error(out, 404, "layer '%s' has no kernel", layer);
    text t = {0};
    put(&t, "{\"layer\": ");
    put_string(&t, layer);
    put(&t, ", \"shape\": [");
    for (int d = 0; d < p.rank; d++) put(&t, "%s%d", d ? ", " : "", p.dim[d]);
    put(&t, "], \"values\": [");
    for (size_t i = 0; i < p.count; i++) put(&t, i ? ",%.5g" : "%.5g", (double)p.value[i]);
    put(&t, "]}\n");
    respond_text(out, 200, "application/json", &t);
}

static void training(serve_server *s, serve_response *out);

/* ---- Routing ---- */
static void route(serve_server *s, const serve_request *r, serve_response *out, serve_pending **pending) {
    const char *path = r->path ? r->path : "";
    int get = r->method && !strcmp(r->method, "GET"), post = r->method && !strcmp(r->method, "POST");
    if (!strcmp(path, "/") || !strcmp(path, "/index.html")) {
        if (!get) return serve_error(out, 405, "GET / is the explorer page");
        unsigned char *page = malloc(serve_explorer_page_size);
        if (!page) return serve_error(out, 500, "out of memory");
        memcpy(page, serve_explorer_page, serve_explorer_page_size);
        *out = (serve_response){200, "text/html; charset=utf-8", page, serve_explorer_page_size};
        return;
    }
    if (!strcmp(path, "/healthz")) {
        text t = {0};
        put(&t, "{\"status\": \"ok\", \"models\": %d}\n", s->n_models);
        return respond_text(out, 200, "application/json", &t);
    }
    if (!strcmp(path, "/metrics")) return serve_metrics_text(s, out);
    if (!strcmp(path, "/v1/training")) return training(s, out);
    if (!strcmp(path, "/v1/models")) {
        if (!get) return serve_error(out, 405, "GET /v1/models lists the models");
        text t = {0};
        put(&t, "{\"models\": [");
        for (int i = 0; i < s->n_models; i++) put(&t, i ? ", " : ""), put_model(&t, &s->models[i]);
        put(&t, "]}\n");
        return respond_text(out, 200, "application/json", &t);
    }
    if (strncmp(path, "/v1/models/", 11)) return serve_error(out, 404, "no such path: %.200s", path);
    const char *name = path + 11, *slash = strchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : strlen(name);
    int mi = find_model(s, name, len);
    if (mi < 0) return serve_error(out, 404, "no model '%.*s' (GET /v1/models lists them)", (int)(len > 100 ? 100 : len), name);
    const char *action = slash ? slash + 1 : "";
    if (!*action) {
        if (!get) return serve_error(out, 405, "GET /v1/models/NAME describes a model");
        text t = {0};
        put_model(&t, &s->models[mi]);
        put(&t, "\n");
        return respond_text(out, 200, "application/json", &t);
    }
    if (!strcmp(action, "predict")) return post ? predict(s, mi, r, out, pending) : serve_error(out, 405, "predict takes POST with an image or .npy body");
    if (!strcmp(action, "explain")) return post ? explain(s, mi, r, out, pending) : serve_error(out, 405, "explain takes POST with an image body");
    if (!strcmp(action, "filters")) return get ? filters(s, mi, r, out) : serve_error(out, 405, "filters takes GET");
    serve_error(out, 404, "no such path: %.200s", path);
}

serve_pending *serve_start(serve_server *s, const serve_request *r, serve_response *out) {
    *out = (serve_response){0};
    serve_pending *pending = NULL;
    route(s, r, out, &pending);
    return pending;
}

void serve_submit(serve_server *s, serve_pending *p, void (*done)(void *arg), void *arg) {
    p->call.done = done, p->call.arg = arg;
    serve_pool_submit(s->pool, p->jobs, p->rows, &p->call);
}

void serve_finish(serve_server *s, serve_pending *p, serve_response *out) {
    if (p->jobs[0].kind == JOB_EXPLAIN) *out = p->explained;
    else predict_answer(s, p, out);
    pending_free(p);
}

static void post(void *done) { sem_post(done); }

void serve_handle(serve_server *s, const serve_request *r, serve_response *out) {
    serve_pending *p = serve_start(s, r, out);
    if (!p) return;
    sem_t done;
    sem_init(&done, 0, 0);
    serve_submit(s, p, post, &done);
    while (sem_wait(&done) != 0) continue; /* EINTR: a signal (SIGTERM's drain) */
    sem_destroy(&done);
    serve_finish(s, p, out);
}

/* ---- Opening and closing ---- */
static fv_status prepare(serve_model *m, fv_net *net, int batch, fv_plan_mode mode, fv_backend backend, fv_error *err) {
    fv_shape in = fv_net_node_shape(net, 0);
    if (in.rank != 3 || (in.dim[2] != 1 && in.dim[2] != 3))
        return serve_fail(err, "%s: the server takes images: the model's input must be (H, W, 1 or 3), not rank %d", m->path, in.rank);
    m->height = in.dim[0], m->width = in.dim[1], m->channels = in.dim[2];
    m->units = (int)fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    fv_activation act = fv_net_node_activation(net, fv_net_output_node(net), NULL);
    m->softmax_logits = act != FV_ACT_SOFTMAX && act != FV_ACT_SIGMOID;
    return fv_net_plan_mode(net, batch, backend, mode, 1, err);
}

static void init_locks(serve_server *s) {
    memset(&s->metrics, 0, sizeof s->metrics);
    pthread_mutex_init(&s->metrics.lock, NULL);
    pthread_rwlock_init(&s->weights, NULL);
    pthread_mutex_init(&s->history_lock, NULL);
}

fv_status serve_open(serve_server *s, const char *const *paths, int n, int workers, const serve_limits *limits, const cli_common *options,
                     fv_error *err) {
    init_locks(s);
    s->limits = *limits, s->workers = workers, s->started = fv_time_seconds();
    int copies = workers > 0 ? workers : 1;
    if (!(s->models = calloc((size_t)n, sizeof *s->models))) return serve_fail(err, "out of memory");
    for (int i = 0; i < n; i++) {
        serve_model *m = &s->models[i];
        snprintf(m->path, sizeof m->path, "%s", paths[i]);
        const char *base = strrchr(paths[i], '/') ? strrchr(paths[i], '/') + 1 : paths[i];
        snprintf(m->name, sizeof m->name, "%s", base);
        char *dot = strrchr(m->name, '.');
        if (dot && dot != m->name) *dot = '\0';
        for (char *c = m->name; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.')) *c = '_';
        for (int j = 0; j < i; j++) /* two files of one name: the later is NAME-K, K its place on the command line */
            if (!strcmp(s->models[j].name, m->name)) {
                size_t at = strlen(m->name) < sizeof m->name - 12 ? strlen(m->name) : sizeof m->name - 12;
                snprintf(m->name + at, 12, "-%d", i + 1);
                break;
            }
        s->n_models = i + 1;
        /* batches of 1, 2, 4, ... and the limit: a forward runs the largest its waiting requests fill */
        for (int b = 1; b < limits->max_batch && m->n_sizes < SERVE_MAX_SIZES - 1; b *= 2) m->sizes[m->n_sizes++] = b;
        m->sizes[m->n_sizes++] = limits->max_batch;
        m->nets = calloc((size_t)copies * m->n_sizes, sizeof *m->nets), m->inspect = calloc((size_t)copies, sizeof *m->inspect);
        if (!m->nets || !m->inspect) return serve_fail(err, "out of memory");
        for (int w = 0; w < copies; w++)
            for (int k = 0; k <= m->n_sizes; k++) { /* k = n_sizes: the inspection copy */
                fv_checkpoint ck;
                fv_net *net = cli_load_net(options, paths[i], &ck);
                if (!net) return serve_fail(err, "%s: cannot load it (above)", paths[i]);
                if (w == 0 && k == 0) {
                    m->checkpoint = ck;
                    if (!cli_prep_apply(&options->prep, &m->checkpoint.train)) return fv_net_free(net), serve_fail(err, "%s: its preprocessing (above)", paths[i]);
                    m->shorter = options->prep.resize ? (int)options->prep.resize : options->prep.imagenet ? 256 : 0;
                } else fv_checkpoint_free(&ck);
                int inspect = k == m->n_sizes;
                if (inspect) m->inspect[w] = net;
                else m->nets[w * m->n_sizes + k] = net;
                if (prepare(m, net, inspect ? 1 : m->sizes[k], inspect ? FV_PLAN_INSPECTION : FV_PLAN_INFERENCE, options->backend, err) != FV_OK)
                    return FV_ERR;
            }
    }
    if (!(s->pool = serve_pool_start(s, workers, serve_explain, err))) return FV_ERR;
    return FV_OK;
}

void serve_close(serve_server *s) {
    serve_pool_stop(s->pool);
    s->pool = NULL;
    for (int i = 0; i < s->n_models; i++) {
        serve_model *m = &s->models[i];
        for (int w = 0; w < (s->workers > 0 ? s->workers : 1); w++) {
            for (int k = 0; m->nets && k < m->n_sizes; k++) fv_net_free(m->nets[w * m->n_sizes + k]);
            if (m->inspect) fv_net_free(m->inspect[w]);
        }
        free(m->nets), free(m->inspect);
        if (!m->borrowed) fv_checkpoint_free(&m->checkpoint);
    }
    free(s->models);
    s->models = NULL, s->n_models = 0;
    free(s->history);
    s->history = NULL;
    pthread_mutex_destroy(&s->metrics.lock);
    pthread_rwlock_destroy(&s->weights);
    pthread_mutex_destroy(&s->history_lock);
}

/* src's weights into dst (the same definition), parameter by parameter. */
static void copy_weights(const fv_net *src, fv_net *dst) {
    fv_error err;
    for (int i = 0; i < fv_net_param_count(src); i++) {
        fv_param_info from, to;
        if (fv_net_param_read(src, i, &from, &err) == FV_OK && fv_net_param(dst, i, &to, &err) == FV_OK && from.count == to.count)
            memcpy(to.value, from.value, from.count * sizeof *from.value);
    }
}

fv_status serve_open_training(serve_server *s, const fv_net *net, const char *name, const fv_train_state *state, int workers,
                              const serve_limits *limits, fv_backend backend, fv_error *err) {
    init_locks(s);
    s->limits = *limits, s->workers = workers, s->started = fv_time_seconds(), s->training = 1;
    int copies = workers > 0 ? workers : 1, len = fv_net_to_text(net, NULL, 0);
    char *definition = len > 0 ? malloc((size_t)len + 1) : NULL;
    if (!definition || !(s->models = calloc(1, sizeof *s->models)) || !(s->history = calloc(1024, sizeof *s->history)))
        return free(definition), serve_fail(err, "out of memory");
    fv_net_to_text(net, definition, (size_t)len + 1);
    serve_model *m = &s->models[0];
    s->n_models = 1;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->path, sizeof m->path, "(training)");
    m->checkpoint.train = *state, m->borrowed = 1;
    m->sizes[m->n_sizes++] = 1;
    m->nets = calloc((size_t)copies, sizeof *m->nets), m->inspect = calloc((size_t)copies, sizeof *m->inspect);
    if (!m->nets || !m->inspect) return free(definition), serve_fail(err, "out of memory");
    for (int w = 0; w < copies; w++)
        for (int k = 0; k < 2; k++) {
            fv_net *copy = fv_net_from_text(definition, m->name, err);
            if (!copy) return free(definition), FV_ERR;
            (k ? m->inspect : m->nets)[w] = copy;
            if (prepare(m, copy, 1, k ? FV_PLAN_INSPECTION : FV_PLAN_INFERENCE, backend, err) != FV_OK) return free(definition), FV_ERR;
            copy_weights(net, copy);
        }
    free(definition);
    if (!(s->pool = serve_pool_start(s, workers, serve_explain, err))) return FV_ERR;
    return FV_OK;
}

void serve_training_epoch(serve_server *s, const fv_net *net, const fv_epoch_log *epoch) {
    pthread_rwlock_wrlock(&s->weights);
    for (int w = 0; w < (s->workers > 0 ? s->workers : 1); w++) copy_weights(net, s->models[0].nets[w]), copy_weights(net, s->models[0].inspect[w]);
    pthread_rwlock_unlock(&s->weights);
    pthread_mutex_lock(&s->history_lock);
    if (epoch && s->n_history < 1024) s->history[s->n_history++] = *epoch;
    if (epoch) s->epochs = epoch->epochs;
    pthread_mutex_unlock(&s->history_lock);
}

/* GET /v1/training: the epochs so far (fovea train --serve). */
static void training(serve_server *s, serve_response *out) {
    if (!s->training) return serve_error(out, 404, "this server is not attached to a training (fovea train --serve)");
    text t = {0};
    pthread_mutex_lock(&s->history_lock);
    put(&t, "{\"model\": ");
    put_string(&t, s->models[0].name);
    put(&t, ", \"epochs\": %d, \"finished\": %s, \"history\": [", s->epochs, s->finished ? "true" : "false");
    for (int i = 0; i < s->n_history; i++) {
        const fv_epoch_log *e = &s->history[i];
        put(&t, "%s{\"epoch\": %d, \"loss\": ", i ? ", " : "", e->epoch);
        put_float(&t, e->loss), put(&t, ", \"accuracy\": "), put_float(&t, e->accuracy);
        if (e->has_validation) put(&t, ", \"val_loss\": "), put_float(&t, e->val_loss), put(&t, ", \"val_accuracy\": "), put_float(&t, e->val_accuracy);
        put(&t, "}");
    }
    pthread_mutex_unlock(&s->history_lock);
    put(&t, "]}\n");
    respond_text(out, 200, "application/json", &t);
}

/* ---- Metrics ---- */
const double serve_latency_bounds[12] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

void serve_metrics_text(serve_server *s, serve_response *out) {
    serve_metrics m;
    pthread_mutex_lock(&s->metrics.lock);
    m = s->metrics;
    pthread_mutex_unlock(&s->metrics.lock);
    text t = {0};
    put(&t, "# HELP fovea_requests_total HTTP requests answered, by status class.\n# TYPE fovea_requests_total counter\n");
    for (int c = 1; c <= 5; c++) put(&t, "fovea_requests_total{code=\"%dxx\"} %lu\n", c, m.requests[c]);
    put(&t, "# HELP fovea_request_errors_total Requests answered with a 4xx or 5xx status.\n# TYPE fovea_request_errors_total counter\n");
    put(&t, "fovea_request_errors_total %lu\n", m.requests[4] + m.requests[5]);
    put(&t, "# HELP fovea_request_seconds Time from a request's last byte to its response.\n# TYPE fovea_request_seconds histogram\n");
    for (int b = 0; b < 12; b++) put(&t, "fovea_request_seconds_bucket{le=\"%g\"} %lu\n", serve_latency_bounds[b], m.latency_buckets[b]);
    put(&t, "fovea_request_seconds_bucket{le=\"+Inf\"} %lu\nfovea_request_seconds_sum %.6f\nfovea_request_seconds_count %lu\n", m.latency_count,
        m.latency_sum, m.latency_count);
    put(&t, "# HELP fovea_in_flight Requests being answered now.\n# TYPE fovea_in_flight gauge\nfovea_in_flight %ld\n", m.in_flight);
    put(&t, "# HELP fovea_predictions_total Samples predicted.\n# TYPE fovea_predictions_total counter\nfovea_predictions_total %lu\n", m.predictions);
    put(&t, "# HELP fovea_batches_total Forward passes run for them (predictions / batches: the dynamic batching).\n"
            "# TYPE fovea_batches_total counter\nfovea_batches_total %lu\n", m.batches);
    put(&t, "# HELP fovea_uptime_seconds Seconds since the server started.\n# TYPE fovea_uptime_seconds gauge\nfovea_uptime_seconds %.1f\n",
        fv_time_seconds() - s->started);
    respond_text(out, 200, "text/plain; version=0.0.4", &t);
}
