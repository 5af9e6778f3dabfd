/* fuzz_onnx.c — ONNX model files: the protobuf (protobuf-c), then the importer on whatever
 * parses, then one inference pass on a batch of zeros for what imports (shapes the importer
 * accepted must plan and run). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, ".onnx", data, size);
    if (!path) return 0;
    fv_error err;
    fv_onnx_info info;
    fv_net *net = fv_net_load_onnx(path, &info, &err);
    remove(path);
    if (!net) return 0;
    size_t in = fv_shape_count(fv_net_node_shape(net, 0)), out = fv_shape_count(fv_net_node_shape(net, fv_net_output_node(net)));
    if (in <= (1u << 20) && out <= (1u << 20) && fv_net_weight_count(net, 0) <= (1u << 22) &&
        fv_net_plan_mode(net, 1, FV_BACKEND_REFERENCE, FV_PLAN_INFERENCE, 1, &err) == FV_OK) {
        float *x = calloc(in, sizeof *x), *y = malloc(out * sizeof *y);
        if (x && y) fv_predict(net, x, 1, y, &err);
        free(x), free(y);
    }
    fv_net_free(net);
    return 0;
}
