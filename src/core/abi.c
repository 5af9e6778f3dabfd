/* abi.c — the layout of the public structs and the values of the enums, as this library was
 * compiled: what a binding that mirrors them by hand (python/fovea.py, ctypes) checks itself
 * against (tests/test_python.py), so that a field added, moved or resized in fovea.h fails a test
 * instead of corrupting memory. */
#include "fovea.h"

#include <stddef.h>

#define STRUCT(T) {#T, NULL, 0, sizeof(T), 0}
#define MEMBER(T, m) {#T, #m, offsetof(T, m), sizeof(((T *)0)->m), 0}
#define VALUE(E, v) {#E, #v, 0, 0, v}

static const fv_abi_entry entries[] = {
    STRUCT(fv_error), MEMBER(fv_error, message),
    STRUCT(fv_shape), MEMBER(fv_shape, rank), MEMBER(fv_shape, dim),
    STRUCT(fv_loss), MEMBER(fv_loss, kind), MEMBER(fv_loss, label_smoothing),
    STRUCT(fv_dataset), MEMBER(fv_dataset, count), MEMBER(fv_dataset, shape), MEMBER(fv_dataset, x), MEMBER(fv_dataset, labels),
    MEMBER(fv_dataset, n_classes), MEMBER(fv_dataset, class_names),
    STRUCT(fv_fit_config), MEMBER(fv_fit_config, epochs), MEMBER(fv_fit_config, batch_size), MEMBER(fv_fit_config, initial_epoch),
    MEMBER(fv_fit_config, loss), MEMBER(fv_fit_config, seed), MEMBER(fv_fit_config, shuffle), MEMBER(fv_fit_config, validation),
    MEMBER(fv_fit_config, patience), MEMBER(fv_fit_config, restore_best), MEMBER(fv_fit_config, shift_pixels),
    MEMBER(fv_fit_config, flip_horizontal), MEMBER(fv_fit_config, rotate_degrees), MEMBER(fv_fit_config, progress),
    MEMBER(fv_fit_config, on_batch), MEMBER(fv_fit_config, on_epoch), MEMBER(fv_fit_config, checkpoint_every),
    MEMBER(fv_fit_config, checkpoint_seconds), MEMBER(fv_fit_config, on_checkpoint), MEMBER(fv_fit_config, resume_at),
    MEMBER(fv_fit_config, user), MEMBER(fv_fit_config, interrupt), MEMBER(fv_fit_config, bucket_bytes),
    STRUCT(fv_optimizer_config), MEMBER(fv_optimizer_config, kind), MEMBER(fv_optimizer_config, learning_rate),
    MEMBER(fv_optimizer_config, momentum), MEMBER(fv_optimizer_config, nesterov), MEMBER(fv_optimizer_config, weight_decay),
    MEMBER(fv_optimizer_config, beta1), MEMBER(fv_optimizer_config, beta2), MEMBER(fv_optimizer_config, epsilon),
    MEMBER(fv_optimizer_config, schedule), MEMBER(fv_optimizer_config, step_epochs), MEMBER(fv_optimizer_config, gamma),
    MEMBER(fv_optimizer_config, cosine_epochs), MEMBER(fv_optimizer_config, min_learning_rate),
    STRUCT(fv_metrics), MEMBER(fv_metrics, count), MEMBER(fv_metrics, loss), MEMBER(fv_metrics, accuracy), MEMBER(fv_metrics, n_classes),
    MEMBER(fv_metrics, confusion), MEMBER(fv_metrics, precision), MEMBER(fv_metrics, recall), MEMBER(fv_metrics, f1),
    MEMBER(fv_metrics, macro_precision), MEMBER(fv_metrics, macro_recall), MEMBER(fv_metrics, macro_f1),
    STRUCT(fv_param_info), MEMBER(fv_param_info, name), MEMBER(fv_param_info, node), MEMBER(fv_param_info, trainable),
    MEMBER(fv_param_info, rank), MEMBER(fv_param_info, dim), MEMBER(fv_param_info, count), MEMBER(fv_param_info, value),
    MEMBER(fv_param_info, grad),
    STRUCT(fv_saliency_config), MEMBER(fv_saliency_config, method), MEMBER(fv_saliency_config, samples),
    MEMBER(fv_saliency_config, noise), MEMBER(fv_saliency_config, seed),
    STRUCT(fv_image), MEMBER(fv_image, height), MEMBER(fv_image, width), MEMBER(fv_image, channels), MEMBER(fv_image, pixels),
    STRUCT(fv_quantize_candidate), MEMBER(fv_quantize_candidate, method), MEMBER(fv_quantize_candidate, first_fp32),
    MEMBER(fv_quantize_candidate, last_fp32), MEMBER(fv_quantize_candidate, agreement), MEMBER(fv_quantize_candidate, error),
    STRUCT(fv_quantize_report), MEMBER(fv_quantize_report, samples), MEMBER(fv_quantize_report, layers),
    MEMBER(fv_quantize_report, n_candidates), MEMBER(fv_quantize_report, chosen), MEMBER(fv_quantize_report, candidates),
    VALUE(fv_status, FV_OK),
    VALUE(fv_precision, FV_PRECISION_FP32), VALUE(fv_precision, FV_PRECISION_BF16), VALUE(fv_precision, FV_PRECISION_INT8),
    VALUE(fv_calibration, FV_CALIBRATION_MINMAX), VALUE(fv_calibration, FV_CALIBRATION_PERCENTILE),
    VALUE(fv_plan_mode, FV_PLAN_TRAINING), VALUE(fv_plan_mode, FV_PLAN_INSPECTION), VALUE(fv_plan_mode, FV_PLAN_INFERENCE),
    VALUE(fv_saliency_method, FV_SALIENCY_VANILLA), VALUE(fv_saliency_method, FV_SALIENCY_SMOOTHGRAD),
    VALUE(fv_saliency_method, FV_SALIENCY_GUIDED),
    VALUE(fv_convolve_mode, FV_CONVOLVE_FULL), VALUE(fv_convolve_mode, FV_CONVOLVE_SAME), VALUE(fv_convolve_mode, FV_CONVOLVE_VALID),
};

const fv_abi_entry *fv_abi_layout(int *count) {
    *count = (int)(sizeof entries / sizeof *entries);
    return entries;
}
