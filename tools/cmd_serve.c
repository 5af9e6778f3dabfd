/* cmd_serve.c — fovea serve: models behind an HTTP API (tools/serve/). The main thread waits for
 * SIGINT or SIGTERM, then stops taking connections, lets the requests under way finish, and exits 0. */
#include "serve/serve.h"

#include <omp.h>

#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct serve_options {
    cli_common common;
    const char *host, *token;
    long port, workers, max_batch, max_pixels;
    double window_ms, max_body_mb, drain_seconds;
} serve_options;

static int run_serve(void *options) {
    const serve_options *o = options;
    int cores = omp_get_max_threads();
    int workers = o->workers > 0 ? (int)o->workers : cores;
    serve_server s;
    memset(&s, 0, sizeof s);
    s.token = o->token && *o->token ? o->token : NULL;
    s.worker_threads = cores / workers > 0 ? cores / workers : 1;
    serve_limits limits = {(size_t)(o->max_body_mb * 1e6), o->max_pixels, (int)o->max_batch, o->window_ms / 1e3, 1024};
    fv_error err;
    /* the signals wait for the main thread: every thread started from here on blocks them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT), sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (serve_open(&s, (const char *const *)o->common.args, o->common.n_args, workers, &limits, &o->common, &err) != FV_OK) {
        fprintf(stderr, "fovea: %s\n", err.message);
        serve_close(&s);
        return 1;
    }
    serve_http *h = serve_http_start(&s, o->host, (int)o->port, &err);
    if (!h) {
        fprintf(stderr, "fovea: %s\n", err.message);
        serve_close(&s);
        return 1;
    }
    printf("serving %d model%s on http://%s:%d/ (%d worker%s of %d thread%s, batches of up to %ld within %g ms%s)\n", s.n_models,
           s.n_models == 1 ? "" : "s", o->host, serve_http_port(h), workers, workers == 1 ? "" : "s", s.worker_threads,
           s.worker_threads == 1 ? "" : "s", o->max_batch, o->window_ms, s.token ? "; requests need the bearer token" : "");
    for (int i = 0; i < s.n_models; i++)
        printf("  %-20s %s  input %d x %d x %d, %d outputs\n", s.models[i].name, s.models[i].path, s.models[i].height, s.models[i].width,
               s.models[i].channels, s.models[i].units);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    printf("%s: finishing the requests under way\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    serve_http_stop(h, o->drain_seconds);
    serve_close(&s);
    printf("stopped\n");
    return 0;
}

#define SERVE(field) offsetof(serve_options, field)
static const cli_option serve_table[] = {
    {"--host", NULL, CLI_TEXT, SERVE(host), "ADDRESS", 0, 0, "the address to listen on (127.0.0.1: this machine only; 0.0.0.0: every network)", NULL},
    {"--port", NULL, CLI_INT, SERVE(port), "PORT", 0, 65535, "the port (0: any free one, printed)", NULL},
    {"--token", NULL, CLI_TEXT, SERVE(token), "TOKEN", 0, 0, "requests (but / and /healthz) must carry 'Authorization: Bearer TOKEN'", NULL},
    {"--workers", NULL, CLI_INT, SERVE(workers), "N", 1, 256, "workers, each with its own copy of every model (default: one a core)", NULL},
    {"--max-batch", NULL, CLI_INT, SERVE(max_batch), "N", 1, 4096, "samples one forward pass gathers from requests", NULL},
    {"--batch-window-ms", NULL, CLI_FLOAT, SERVE(window_ms), "MS", 0, 1000, "how long a batch waits for more requests", NULL},
    {"--max-body-mb", NULL, CLI_FLOAT, SERVE(max_body_mb), "MB", 0.001, 4096, "the largest request body (413 beyond)", NULL},
    {"--max-pixels", NULL, CLI_INT, SERVE(max_pixels), "N", 1, 268435456, "the largest image, width x height (413 beyond)", NULL},
    {"--drain-seconds", NULL, CLI_FLOAT, SERVE(drain_seconds), "S", 0, 3600, "on SIGTERM/SIGINT, how long requests under way may take", NULL},
};
static const serve_options serve_initial = {.host = "127.0.0.1", .port = 8080, .max_batch = 32, .window_ms = 2, .max_body_mb = 16,
                                            .max_pixels = 4096 * 4096, .drain_seconds = 30};
const cli_command cli_serve = {
    .name = "serve", .usage = "MODEL... [--host 127.0.0.1] [--port 8080]",
    .summary = "answer predictions and explanations over HTTP, with the explorer page",
    .about = "  Each MODEL (a saved model, a definition or an ONNX file) is served under its file name:\n"
             "    GET  /                           the explorer page: draw or upload an image, look inside\n"
             "    GET  /v1/models[/NAME]           names, input shapes, classes, layers (JSON)\n"
             "    POST /v1/models/NAME/predict     a PNG/JPEG image or a float32 .npy batch (N, H, W, C): the top\n"
             "                                     classes (?top=K)\n"
             "    POST /v1/models/NAME/explain     an image: ?method=saliency|smoothgrad|guided|gradcam|gradcam++\n"
             "                                     (&class=K &layer=L &format=png|npy); ?method=maps&layer=L: a layer's\n"
             "                                     outputs (JSON)\n"
             "    GET  /v1/models/NAME/filters     ?layer=L: a convolution's or dense layer's weights (JSON)\n"
             "    GET  /healthz, /metrics          liveness; Prometheus metrics\n"
             "  Requests that arrive together are run as one batch. SIGTERM or SIGINT lets the requests under way\n"
             "  finish, then exits 0.\n",
    .examples = "build/mnist-cnn-fashion.fvm --port 8080",
    .shared = CLI_BACKEND | CLI_PREP | CLI_INPUT_SHAPE, .own = CLI_TABLE(serve_table), .min_args = 1, .max_args = -1,
    .size = sizeof(serve_options), .initial = &serve_initial, .run = run_serve};
