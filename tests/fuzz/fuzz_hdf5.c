/* fuzz_hdf5.c — Happy-House-style .h5 files (the schema reader on top of libhdf5). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, ".h5", data, size);
    if (!path) return 0;
    fv_error err;
    fv_dataset_free(fv_load_hdf5(path, "train_set", &err));
    remove(path);
    return 0;
}
