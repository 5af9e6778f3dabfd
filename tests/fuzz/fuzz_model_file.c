/* fuzz_model_file.c — the model file reader (architecture, weights, optimizer and training state). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, ".fvm", data, size);
    if (!path) return 0;
    fv_error err;
    fv_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    fv_net *net = fv_model_load(path, &ck, &err);
    fv_net_free(net);
    fv_checkpoint_free(&ck);
    remove(path);
    return 0;
}
