/* fuzz_idx.c — IDX images and labels, plain or gzip. The first byte picks which file the rest of
 * the input is (even: images, odd: labels); the other is a valid file of 2 samples. */
#include "fuzz.h"

static const uint8_t images[16 + 2 * 4] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t labels[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int fuzz_labels = data[0] & 1;
    const char *img = fuzz_labels ? fuzz_file(0, "-images.idx", images, sizeof images) : fuzz_file(0, "-images.idx", data + 1, size - 1);
    const char *lab = fuzz_labels ? fuzz_file(1, "-labels.idx", data + 1, size - 1) : fuzz_file(1, "-labels.idx", labels, sizeof labels);
    if (img && lab) {
        fv_error err;
        fv_dataset_free(fv_load_idx(img, lab, &err));
    }
    if (img) remove(img);
    if (lab) remove(lab);
    return 0;
}
