/* cli.h — what the fovea tool's command files share. */
#ifndef FOVEA_CLI_H
#define FOVEA_CLI_H

#include "fovea.h"
#include "options.h"

#include <stdio.h>

/* Parses an integer/float option value in [min, max] (a float: finite); prints the one error line
 * ("fovea: --epochs needs an integer from 1 to 1000000, not '0'") and returns 0 when it is bad. */
int cli_int_range(const char *flag, const char *value, long min, long max, long *out);
int cli_float_range(const char *flag, const char *value, double min, double max, double *out);
/* --normalize's value: auto (automatic = 1: measure it on the training data), MEAN,STD, or
 * MEAN1,MEAN2,.../STD1,STD2,... per channel; 0 when it is bad (the option table has checked it). */
int cli_normalize_read(const char *value, fv_train_state *state, int *automatic);
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
/* A model definition, a saved model or an ONNX file (fv_net_load; an ONNX model whose input
 * leaves its size open gets --input-shape's); prints the error on failure. */
fv_net *cli_load_net(const cli_common *options, const char *path, fv_checkpoint *checkpoint); /* checkpoint: zeroed, then filled */
/* --precision, when given (else the model's own stays). */
void cli_apply_precision(const cli_common *options, fv_net *net);
int cli_is_onnx(const char *path);

/* Applies --normalize (or --imagenet's) and --labels to the model's state; prints the error and returns 0. */
int cli_prep_apply(const cli_prep *p, fv_train_state *state);
/* One image as the model's input (height x width x channels, before normalisation). */
fv_status cli_load_image(const cli_prep *p, const char *path, int height, int width, int channels, float *x, fv_error *err);

/* The commands (cmd_*.c), each declared by its options table. */
extern const cli_command cli_serve, cli_quantize, cli_summary, cli_layers, cli_forward, cli_export, cli_weights, cli_train, cli_evaluate, cli_predict, cli_filter,
    cli_show, cli_saliency, cli_gradcam, cli_dream, cli_report;

#endif
