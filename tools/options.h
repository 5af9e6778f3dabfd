/* options.h — every command of the fovea tool declares its options in tables (name, another
 * spelling, type, range, help) and its initial values in a struct; from those come the parsing,
 * the range checks with one error form, --help, the man page (scripts/make_man.sh reads --help)
 * and shell completion (fovea completion bash). Options every command may share (--backend,
 * --threads, --batch, -o/--out, --json, --normalize, the image preprocessing, --input-shape) are
 * declared once, in options.c; a command names the ones it takes. */
#ifndef FOVEA_OPTIONS_H
#define FOVEA_OPTIONS_H

#include "fovea.h"

#include <stddef.h>
#include <stdio.h>

typedef enum cli_type {
    CLI_FLAG,   /* int: 1 when given */
    CLI_INT,    /* long, in [min, max] */
    CLI_FLOAT,  /* double, finite, in [min, max] */
    CLI_TEXT,   /* const char *: a file name or a word the command reads */
    CLI_CHOICE, /* const char *: one of the words in `value` ("adam|sgd") */
    CLI_CUSTOM, /* parse() checks the text and fills the field */
} cli_type;

typedef struct cli_option {
    const char *name;  /* "--epochs" */
    const char *alias; /* another spelling that keeps working ("-o", an older name), or NULL */
    cli_type type;
    size_t at;         /* the field: its offset in the command's options struct */
    const char *value; /* the value's name in the help ("N"); CLI_CHOICE: the words, "adam|sgd" */
    double min, max;   /* CLI_INT, CLI_FLOAT */
    const char *help;  /* what it does; --help adds "(default X)" from the initial value when it is in range */
    /* CLI_CUSTOM: NULL when the text is good (and stored), else what a good value is */
    const char *(*parse)(const char *text, void *field);
} cli_option;

/* Image preprocessing of the commands that read photos (predict, show, saliency, gradcam). */
typedef struct cli_prep {
    long resize;
    int imagenet;
    const char *normalize, *labels;
} cli_prep;

/* --input-shape H,W: the spatial sizes given (n 0: none). */
typedef struct cli_shape {
    int64_t dim[FV_MAX_SPATIAL];
    int n;
} cli_shape;

/* The shared options' values: the first member of every command's options struct. */
typedef struct cli_common {
    char **args; /* the positional arguments, in order (cli_parse allocates the array; cli_done frees it) */
    int n_args;
    char **argv; /* the command line after the command's name, as given */
    int argc;
    fv_backend backend;
    const char *precision; /* NULL: the model's own (int8 for a quantised one, else fp32) */
    long threads, batch;
    const char *out;
    int json;
    cli_prep prep; /* --normalize is prep.normalize */
    cli_shape input_shape;
} cli_common;

/* Which shared options a command takes (--threads and --help: every command). */
enum {
    CLI_BACKEND = 1 << 0,
    CLI_BATCH = 1 << 1,
    CLI_OUT = 1 << 2,
    CLI_JSON = 1 << 3,
    CLI_NORMALIZE = 1 << 4,
    CLI_PREP = 1 << 5, /* --resize, --imagenet, --labels (and --normalize) */
    CLI_INPUT_SHAPE = 1 << 6,
};

typedef struct cli_table {
    const cli_option *options;
    int count;
} cli_table;

typedef struct cli_command {
    const char *name;     /* "train" */
    const char *usage;    /* its arguments: "MODEL --data DATA [options]"; more forms on more lines */
    const char *summary;  /* one line for fovea --help */
    const char *about;    /* lines after the usage line, or NULL */
    const char *examples; /* one command line a line, each printed after "example: " */
    int looking_inside;   /* listed under "looking inside" in fovea --help */
    unsigned shared;      /* CLI_* */
    cli_table own, family; /* its options; a group it shares with its family (the picture commands) */
    int min_args, max_args; /* positional arguments (max_args -1: any number) */
    size_t size;            /* its options struct, cli_common first */
    const void *initial;    /* that struct's initial values (shared ones included) */
    const char *shared_defaults; /* notes on shared defaults the initial values cannot show, or NULL */
    const char *out_value, *out_help; /* what -o/--out names for this command ("DIR", "the folder ...") */
    int (*run)(void *options);
} cli_command;

#define CLI_MAX_THREADS 4096 /* --threads, before the command or after it */
#define CLI_MAX_SEED 9007199254740991.0 /* 2^53 - 1: a seed's range, exact in the table's double */
#define CLI_TABLE(array) {array, (int)(sizeof(array) / sizeof *(array))}

/* Every command, in the order fovea --help lists them (fovea.c). */
extern const cli_command *const cli_commands[];
extern const int cli_command_count;

/* Parses argv (after the command name) into options (cmd->size bytes, filled from cmd->initial
 * first). Returns -1 when the command should run, else the exit status: 0 after --help, 2 after
 * an error line on stderr. */
int cli_parse(const cli_command *cmd, int argc, char **argv, void *options);
void cli_help(const cli_command *cmd, FILE *out);
/* Frees what cli_parse allocated. */
void cli_done(void *options);
/* fovea completion bash|commands|options: the completion script and what tests read. */
int cli_completion(int argc, char **argv);

#endif
