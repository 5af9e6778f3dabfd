/* fuzz_serve.c — fovea serve's request handler (tools/serve/api.c), as a request reaches it from
 * HTTP: the input is split at newlines into the method, the path, the query string and the
 * content type, and the rest is the body (an image, a .npy batch, anything). The server holds
 * lenet5 (seeded weights) and runs each job in the caller (no worker threads). */
#include "fuzz.h"
#include "serve/serve.h"

/* The tool's command list, which the option code's completion reads (none here). */
const cli_command *const cli_commands[1] = {NULL};
const int cli_command_count = 0;

static serve_server server;
static int ready;

/* Splits off the next line (at most max bytes) into buf. */
static void field(const uint8_t **data, size_t *size, char *buf, size_t max) {
    size_t n = 0;
    while (*size && **data != '\n' && n + 1 < max) buf[n++] = (char)*(*data)++, (*size)--;
    if (*size && **data == '\n') (*data)++, (*size)--;
    buf[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        static const char lenet[] = "model lenet5\ninput shape=28,28,1\nconv2d filters=6 kernel=5 padding=same activation=relu\nmaxpool2d size=2\n"
                                    "conv2d filters=16 kernel=5 activation=relu\nmaxpool2d size=2\nflatten\ndense units=10 activation=softmax\n";
        const char *path = fuzz_file(0, ".fv", (const uint8_t *)lenet, sizeof lenet - 1);
        serve_limits limits = {1 << 20, 1 << 20, 4, 0.0, 8};
        cli_common options;
        memset(&options, 0, sizeof options);
        options.backend = FV_BACKEND_REFERENCE;
        fv_error err;
        if (!path || serve_open(&server, &path, 1, 0, &limits, &options, &err) != FV_OK) {
            fprintf(stderr, "fuzz_serve: %s\n", err.message);
            abort();
        }
        ready = 1;
    }
    char method[8], path[256], query[512], type[128];
    field(&data, &size, method, sizeof method);
    field(&data, &size, path, sizeof path);
    field(&data, &size, query, sizeof query);
    field(&data, &size, type, sizeof type);
    serve_request r = {method, path, query[0] ? query : NULL, type[0] ? type : NULL, data, size};
    serve_response out;
    serve_handle(&server, &r, &out);
    if (out.status < 200 || out.status > 599) abort(); /* every answer is a status */
    free(out.body);
    return 0;
}
