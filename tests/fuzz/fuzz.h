/* fuzz.h — what the fuzz harnesses share. Each harness is one LLVMFuzzerTestOneInput over one
 * parser, built two ways (tests/fuzz/CMakeLists.txt): with libFuzzer (clang, FOVEA_FUZZ=ON) to
 * search, and with replay.c's main() to run the seed corpus and every input that once crashed
 * (tests/fuzz/regressions/) in the ordinary and the sanitizer test runs.
 *
 * The parsers read files, so an input is written to a temporary file first: the harness tests
 * the path users take, from fopen to the dataset. */
#ifndef FOVEA_FUZZ_H
#define FOVEA_FUZZ_H

#include "fovea.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a per-process temporary file named with `suffix`; returns its path (static
 * storage per suffix slot), or NULL. */
static inline const char *fuzz_file(int slot, const char *suffix, const uint8_t *data, size_t size) {
    static char paths[2][256];
    snprintf(paths[slot], sizeof paths[slot], "/tmp/fovea-fuzz-%ld-%d%s", (long)getpid(), slot, suffix);
    FILE *f = fopen(paths[slot], "wb");
    if (!f) return NULL;
    int ok = fwrite(data, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    return ok ? paths[slot] : NULL;
}

#endif
