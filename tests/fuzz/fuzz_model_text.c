/* fuzz_model_text.c — the model-definition parser (and the writer and summary of what it accepts). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fv_error err;
    fv_net *net = fv_net_from_text(text, "fuzz", &err);
    if (net) {
        char buf[4096];
        fv_net_to_text(net, buf, sizeof buf);
        fv_net_summary(net, buf, sizeof buf);
        fv_plan_memory m;
        fv_net_plan_memory(net, 2, FV_PLAN_INFERENCE, &m, &err);
    }
    fv_net_free(net);
    free(text);
    return 0;
}
