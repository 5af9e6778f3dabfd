/* fuzz_image.c — image decoding (PNG, JPEG, BMP, GIF through stb_image) at the file's own size,
 * and decoding plus resizing to a network's input (as predict and the picture commands read). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, ".img", data, size);
    if (!path) return 0;
    fv_error err;
    fv_image_free(fv_image_load(path, 0, &err));
    float out[16 * 12 * 3];
    fv_load_image(path, 16, 12, 3, out, &err);
    remove(path);
    return 0;
}
