/* cli.h — what the fovea tool's command files share. */
#ifndef FOVEA_CLI_H
#define FOVEA_CLI_H

#include "fovea.h"

#include <stdio.h>

/* Parses an integer/float flag value in [min, max] (cli_int: up to INT_MAX; cli_float: finite,
 * up to 1e30); prints the error and returns 0 when it is bad. */
int cli_int(const char *flag, const char *value, long min, long *out);
int cli_int_range(const char *flag, const char *value, long min, long max, long *out);
int cli_float(const char *flag, const char *value, double min, double *out);
int cli_float_range(const char *flag, const char *value, double min, double max, double *out);
/* --normalize's value: auto (automatic = 1: measure it on the training data), MEAN,STD, or
 * MEAN1,MEAN2,.../STD1,STD2,... per channel; prints the error and returns 0 when it is bad. */
int cli_normalize_parse(const char *value, fv_train_state *state, int *automatic);
/* The model's input preprocessing (none when the state has none) on values (channels last). */
void cli_normalize(const fv_train_state *state, float *x, size_t values, int channels);
/* The same on every sample of a dataset (NULL: nothing). */
void cli_normalize_dataset(const fv_train_state *state, fv_dataset *d);
/* The dataset's classes become the network's (a split may lack the last ones; a label beyond
 * them is an error naming data_spec), named as the model's training named them when it did. */
int cli_match_classes(const fv_net *net, const fv_train_state *state, const char *data_spec, fv_dataset *d, fv_error *err);
/* A string as a JSON string (quoted, escaped). */
void cli_json_string(FILE *out, const char *s);
/* Whether an output file can be written where path names (checked before any long work). */
int cli_output_writable(const char *path);
/* --backend's value; prints the error and returns 0 when it is not a compiled-in backend. */
int cli_backend(const char *name, fv_backend *backend);
/* A model definition or a saved model (fv_net_load); prints the error on failure. */
fv_net *cli_load_net(const char *path, fv_checkpoint *checkpoint);
/* --input-shape: the spatial sizes cli_load_net gives an ONNX model whose input leaves them open. */
void cli_set_input_shape(const int64_t *spatial, int n);
int cli_input_shape_given(void);
int cli_is_onnx(const char *path);

/* Photo preprocessing of the commands that read images (predict, show, saliency, gradcam):
 *   --resize N       the shorter side to N pixels, then the model's input size from the centre
 *                    (torchvision's Resize + CenterCrop; default: the whole image resized)
 *   --normalize S    the mean/std (replaces the one stored with the model)
 *   --imagenet       --resize 256 --normalize 0.485,0.456,0.406/0.229,0.224,0.225
 *   --labels FILE    class names, one per line (replaces the stored ones) */
typedef struct cli_prep {
    int resize;
    const char *normalize, *labels;
} cli_prep;
/* Takes these options out of argv; prints the error and returns 0 when one is bad. */
int cli_take_prep(int *argc, char **argv, cli_prep *p);
/* Applies --normalize and --labels to the model's state; prints the error and returns 0. */
int cli_prep_apply(const cli_prep *p, fv_train_state *state);
/* One image as the model's input (height x width x channels, before normalisation). */
fv_status cli_load_image(const cli_prep *p, const char *path, int height, int width, int channels, float *x, fv_error *err);

int cmd_summary(int argc, char **argv);
int cmd_layers(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_weights(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_saliency(int argc, char **argv);
int cmd_gradcam(int argc, char **argv);
int cmd_dream(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
