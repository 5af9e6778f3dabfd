/* fuzz_npy.c — NumPy .npy arrays, as a dataset's images or labels (the first byte picks which the
 * rest of the input is; the other is a valid file of 2 samples), and as a plain array of floats. */
#include "fuzz.h"

static const char header_x[] = "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }";
static const char header_y[] = "\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }";

/* A valid .npy: the header padded to 128 bytes, then the data. */
static const char *valid(int slot, const char *header, size_t header_len, const uint8_t *body, size_t body_len) {
    uint8_t buf[256];
    memset(buf, ' ', 128);
    memcpy(buf, header, header_len);
    buf[127] = '\n';
    memcpy(buf + 128, body, body_len);
    return fuzz_file(slot, ".npy", buf, 128 + body_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const uint8_t pixels[8] = {1, 2, 3, 4, 5, 6, 7, 8}, classes[16] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
    int fuzz_labels = data[0] & 1;
    const char *x = fuzz_labels ? valid(0, header_x, sizeof header_x - 1, pixels, 8) : fuzz_file(0, "-x.npy", data + 1, size - 1);
    const char *y = fuzz_labels ? fuzz_file(1, "-y.npy", data + 1, size - 1) : valid(1, header_y, sizeof header_y - 1, classes, 16);
    fv_error err;
    if (x && y) fv_dataset_free(fv_load_npy(x, y, &err));
    int rank, dims[8];
    if (x) free(fv_load_npy_floats(x, &rank, dims, &err)), remove(x);
    if (y) remove(y);
    return 0;
}
