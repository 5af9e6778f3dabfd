/* fuzz_model_file.c — the model file reader (architecture, weights, optimizer and training state).
 * A mutated file almost never keeps a valid CRC-32, which would stop every input at the checksum;
 * so for inputs of even length the harness writes the CRC the bytes need, and the sections behind
 * it are fuzzed too (odd lengths keep whatever CRC they carry). */
#include "fuzz.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size + 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (size >= 24 && size % 2 == 0) {
        uint32_t crc = (uint32_t)crc32(0L, copy, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    const char *path = fuzz_file(0, ".fvm", copy, size);
    free(copy);
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
