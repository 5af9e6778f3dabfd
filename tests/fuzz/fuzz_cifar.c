/* fuzz_cifar.c — CIFAR-10 binary batches. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, ".bin", data, size);
    if (!path) return 0;
    fv_error err;
    const char *paths[1] = {path};
    fv_dataset_free(fv_load_cifar10(paths, 1, &err));
    remove(path);
    return 0;
}
