/* cli.c — what every command of the fovea tool shares: checked option values and loading a
 * model definition or a saved model. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_int(const char *flag, const char *value, long min, long *out) {
    char *end;
    long v = value ? strtol(value, &end, 10) : 0;
    if (!value || *end || v < min) {
        fprintf(stderr, "fovea: %s needs an integer >= %ld\n", flag, min);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_float(const char *flag, const char *value, double min, double *out) {
    char *end;
    double v = value ? strtod(value, &end) : 0;
    if (!value || *end || !(v >= min)) {
        fprintf(stderr, "fovea: %s needs a number >= %g\n", flag, min);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_backend(const char *name, fv_backend *b) {
    if (name && !strcmp(name, "onednn") && fv_backend_available(FV_BACKEND_ONEDNN)) return *b = FV_BACKEND_ONEDNN, 1;
    if (name && !strcmp(name, "reference")) return *b = FV_BACKEND_REFERENCE, 1;
    fprintf(stderr, "fovea: --backend is %sreference\n", fv_backend_available(FV_BACKEND_ONEDNN) ? "onednn or " : "");
    return 0;
}

fv_net *cli_load_net(const char *path, fv_checkpoint *checkpoint) {
    fv_error err;
    fv_net *net = fv_net_load(path, checkpoint, &err);
    if (!net) fprintf(stderr, "fovea: %s\n", err.message);
    return net;
}

