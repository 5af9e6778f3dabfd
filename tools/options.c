/* options.c — parsing, --help and completion from the commands' option tables (options.h), and
 * the options commands share, declared once here. */
#include "options.h"
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the shared options ---- */

static const char *parse_backend(const char *text, void *field) {
    fv_backend *b = field;
    if (!strcmp(text, "reference")) return *b = FV_BACKEND_REFERENCE, NULL;
    if (!strcmp(text, "onednn") && fv_backend_available(FV_BACKEND_ONEDNN)) return *b = FV_BACKEND_ONEDNN, NULL;
    return fv_backend_available(FV_BACKEND_ONEDNN) ? "onednn or reference" : "reference (this fovea is built without oneDNN)";
}

static const char *parse_normalize(const char *text, void *field) {
    fv_train_state probe = {0};
    int automatic;
    if (!cli_normalize_read(text, &probe, &automatic)) return "auto, MEAN,STD or MEAN1,MEAN2,.../STD1,STD2,... (std > 0)";
    *(const char **)field = text;
    return NULL;
}

static const char *parse_input_shape(const char *text, void *field) {
    cli_shape *shape = field;
    int n = 0;
    for (const char *p = text;;) {
        char *end;
        errno = 0;
        long d = strtol(p, &end, 10);
        if (end == p || errno || d < 1 || d > 65536 || n == FV_MAX_SPATIAL || (*end != ',' && *end)) return "1 to 3 sizes from 1 to 65536, as H,W";
        shape->dim[n++] = d;
        if (!*end) break;
        p = end + 1;
    }
    shape->n = n;
    return NULL;
}

#define COMMON(field) offsetof(cli_common, field)
typedef struct shared_option {
    unsigned bit; /* 0: every command */
    cli_option option;
} shared_option;

static const shared_option shared[] = {
    {CLI_BACKEND, {"--backend", NULL, CLI_CUSTOM, COMMON(backend), "B", 0, 0, "onednn (the default where fovea is built with it) or reference", parse_backend}},
    {CLI_BACKEND, {"--precision", NULL, CLI_CHOICE, COMMON(precision), "fp32|bf16|int8", 0, 0,
                   "fp32; bf16: mixed precision, the products' operands in bfloat16 (as torch.autocast);\n"
                   "int8: a quantised model's layers on int8 (fovea quantize).\n"
                   "Default: int8 for a quantised model, else fp32", NULL}},
    {CLI_BATCH, {"--batch", NULL, CLI_INT, COMMON(batch), "N", 1, 1 << 24, "samples a pass", NULL}},
    {CLI_OUT, {"--out", "-o", CLI_TEXT, COMMON(out), "FILE", 0, 0, "where the result goes", NULL}},
    {CLI_JSON, {"--json", NULL, CLI_FLAG, COMMON(json), NULL, 0, 0, "one JSON document on standard output", NULL}},
    {CLI_NORMALIZE | CLI_PREP, {"--normalize", NULL, CLI_CUSTOM, COMMON(prep.normalize), "S", 0, 0,
                                "the input's mean/std: MEAN,STD or MEAN1,MEAN2,.../STD1,STD2,... per channel\n"
                                "(default: the one kept in the model file)", parse_normalize}},
    {CLI_PREP, {"--resize", NULL, CLI_INT, COMMON(prep.resize), "N", 1, 65536,
                "the shorter side to N pixels, then the model's input size from the centre\n"
                "(torchvision's Resize + CenterCrop; default: the whole image resized)", NULL}},
    {CLI_PREP, {"--imagenet", NULL, CLI_FLAG, COMMON(prep.imagenet), NULL, 0, 0,
                "--resize 256 --normalize 0.485,0.456,0.406/0.229,0.224,0.225", NULL}},
    {CLI_PREP, {"--labels", NULL, CLI_TEXT, COMMON(prep.labels), "FILE", 0, 0, "class names, one a line (replaces the model's)", NULL}},
    {CLI_INPUT_SHAPE, {"--input-shape", NULL, CLI_CUSTOM, COMMON(input_shape), "H,W", 0, 0,
                       "the input size of an ONNX model that leaves it open", parse_input_shape}},
    {0, {"--threads", NULL, CLI_INT, COMMON(threads), "N", 1, CLI_MAX_THREADS, "OpenMP threads (default: OMP_NUM_THREADS, else every core)", NULL}},
};
#define N_SHARED (int)(sizeof shared / sizeof *shared)

static int takes_shared(const cli_command *cmd, int k) { return !shared[k].bit || (cmd->shared & shared[k].bit); }

/* Every option of a command, own first: at most 128. */
static int options_of(const cli_command *cmd, const cli_option **out) {
    int n = 0;
    for (int i = 0; i < cmd->own.count && n < 128; i++) out[n++] = &cmd->own.options[i];
    for (int i = 0; i < cmd->family.count && n < 128; i++) out[n++] = &cmd->family.options[i];
    for (int k = 0; k < N_SHARED && n < 128; k++)
        if (takes_shared(cmd, k)) out[n++] = &shared[k].option;
    return n;
}

/* ---- parsing ---- */

static int choice_ok(const char *words, const char *text) {
    size_t len = strlen(text);
    for (const char *w = words; *w;) {
        size_t n = strcspn(w, "|");
        if (n == len && !strncmp(w, text, n)) return 1;
        w += n + (w[n] == '|');
    }
    return 0;
}

static int set_value(const cli_option *o, const char *text, void *options) {
    void *field = (char *)options + o->at;
    switch (o->type) {
    case CLI_FLAG: *(int *)field = 1; return 1;
    case CLI_INT: return cli_int_range(o->name, text, (long)o->min, (long)o->max, field);
    case CLI_FLOAT: return cli_float_range(o->name, text, o->min, o->max, field);
    case CLI_TEXT: *(const char **)field = text; return 1;
    case CLI_CHOICE:
        if (choice_ok(o->value, text)) return *(const char **)field = text, 1;
        fprintf(stderr, "fovea: %s needs one of ", o->name);
        for (const char *w = o->value; *w;) {
            size_t n = strcspn(w, "|");
            fprintf(stderr, "%.*s%s", (int)n, w, w[n] ? ", " : "");
            w += n + (w[n] == '|');
        }
        fprintf(stderr, ", not '%s'\n", text);
        return 0;
    case CLI_CUSTOM: {
        const char *expects = o->parse(text, field);
        if (expects) fprintf(stderr, "fovea: %s needs %s, not '%s'\n", o->name, expects, text);
        return expects == NULL;
    }
    }
    return 0;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, void *options) {
    const cli_option *all[128];
    int n = options_of(cmd, all), only_args = 0;
    memcpy(options, cmd->initial, cmd->size);
    cli_common *common = options;
    common->backend = fv_backend_default(); /* chosen at run time: not in the initial values */
    common->argv = argv, common->argc = argc, common->n_args = 0;
    if (!(common->args = calloc((size_t)argc + 1, sizeof *common->args))) return fprintf(stderr, "fovea: out of memory\n"), 2;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (only_args || a[0] != '-' || !a[1]) { /* a positional argument ("-" too: standard input or output) */
            common->args[common->n_args++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_args = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return cli_help(cmd, stdout), 0;
        char name[64];
        const char *eq = strchr(a, '='), *text;
        snprintf(name, sizeof name, "%.*s", eq && eq - a < 63 ? (int)(eq - a) : 63, a);
        const cli_option *o = NULL;
        for (int k = 0; k < n && !o; k++)
            if (!strcmp(all[k]->name, eq ? name : a) || (all[k]->alias && !strcmp(all[k]->alias, eq ? name : a))) o = all[k];
        if (!o) return fprintf(stderr, "fovea: unknown option '%s' (fovea %s --help)\n", a, cmd->name), 2;
        if (o->type == CLI_FLAG) {
            if (eq) return fprintf(stderr, "fovea: %s takes no value\n", o->name), 2;
            text = NULL;
        } else if (eq) {
            text = eq + 1;
        } else if (i + 1 < argc) {
            text = argv[++i];
        } else {
            return fprintf(stderr, "fovea: %s needs a value (fovea %s --help)\n", o->name, cmd->name), 2;
        }
        if (!set_value(o, text, options)) return 2;
    }
    if (common->n_args < cmd->min_args || (cmd->max_args >= 0 && common->n_args > cmd->max_args)) {
        fprintf(stderr, "usage: fovea %s %.*s   (fovea %s --help)\n", cmd->name, (int)strcspn(cmd->usage, "\n"), cmd->usage, cmd->name);
        return 2;
    }
    return -1;
}

void cli_done(void *options) {
    cli_common *common = options;
    free(common->args);
    common->args = NULL;
}

/* ---- --help ---- */

/* "(default X)" from a field's initial value; nothing when it is outside the option's range (a
 * value the command chooses itself) or empty. */
static void format_default(const cli_option *o, const void *initial, char *buf, size_t size) {
    const void *field = (const char *)initial + o->at;
    buf[0] = '\0';
    if (o->type == CLI_INT) {
        long v = *(const long *)field;
        if (v >= (long)o->min && v <= (long)o->max) snprintf(buf, size, " (default %ld)", v);
    } else if (o->type == CLI_FLOAT) {
        double v = *(const double *)field;
        if (v >= o->min && v <= o->max) snprintf(buf, size, " (default %g)", v);
    } else if (o->type == CLI_TEXT || o->type == CLI_CHOICE) {
        const char *v = *(const char *const *)field;
        if (v && *v) snprintf(buf, size, " (default %s)", v);
    } /* --backend's default depends on the build: its help says so, so that the manual does not */
}

static void print_option(FILE *out, const cli_command *cmd, const cli_option *o) {
    char left[96], def[96];
    int is_out = !strcmp(o->name, "--out");
    const char *value = is_out && cmd->out_value ? cmd->out_value : o->value, *help = is_out && cmd->out_help ? cmd->out_help : o->help;
    snprintf(left, sizeof left, "  %s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name, value ? " " : "", value ? value : "");
    format_default(o, cmd->initial, def, sizeof def);
    if (strlen(left) > 22) fprintf(out, "%s\n%23s", left, "");
    else fprintf(out, "%-23s", left);
    for (const char *line = help; *line;) { /* continuation lines under the first */
        size_t len = strcspn(line, "\n");
        int last = !line[len];
        fprintf(out, "%.*s%s\n", (int)len, line, last ? def : "");
        if (last) break;
        line += len + 1;
        fprintf(out, "%23s", "");
    }
}

void cli_help(const cli_command *cmd, FILE *out) {
    for (const char *u = cmd->usage, *lead = "usage:";; lead = "      ") {
        size_t len = strcspn(u, "\n");
        fprintf(out, "%s fovea %s %.*s\n", lead, cmd->name, (int)len, u);
        if (!u[len]) break;
        u += len + 1;
    }
    if (cmd->about) fprintf(out, "%s", cmd->about);
    const cli_option *all[128];
    int n = options_of(cmd, all);
    for (int k = 0; k < n; k++) print_option(out, cmd, all[k]);
    if (cmd->shared_defaults) fprintf(out, "%s", cmd->shared_defaults);
    for (const char *e = cmd->examples; *e;) {
        size_t len = strcspn(e, "\n");
        fprintf(out, "example: fovea %s %.*s\n", cmd->name, (int)len, e);
        if (!e[len]) break;
        e += len + 1;
    }
}

/* ---- completion ---- */

static void words_of(FILE *out, const char *choices) {
    for (const char *w = choices; *w; w++) fputc(*w == '|' ? ' ' : *w, out);
}

static void bash_script(FILE *out) {
    fprintf(out, "# bash completion for fovea (fovea completion bash > /etc/bash_completion.d/fovea, or source it)\n"
                 "_fovea() {\n"
                 "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
                 "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
                 "    COMPREPLY=($(compgen -W \"--help --version --threads");
    for (int c = 0; c < cli_command_count; c++) fprintf(out, " %s", cli_commands[c]->name);
    fprintf(out, "\" -- \"$cur\")); return\n  fi\n  case \"${COMP_WORDS[1]}\" in\n");
    for (int c = 0; c < cli_command_count; c++) {
        const cli_command *cmd = cli_commands[c];
        const cli_option *all[128];
        int n = options_of(cmd, all), numbers = 0;
        fprintf(out, "  %s)\n    case \"$prev\" in\n", cmd->name);
        for (int k = 0; k < n; k++)
            if (all[k]->type == CLI_CHOICE || all[k]->parse == parse_backend) {
                fprintf(out, "      %s%s%s) COMPREPLY=($(compgen -W \"", all[k]->name, all[k]->alias ? "|" : "", all[k]->alias ? all[k]->alias : "");
                if (all[k]->type == CLI_CHOICE) words_of(out, all[k]->value);
                else fprintf(out, "reference%s", fv_backend_available(FV_BACKEND_ONEDNN) ? " onednn" : "");
                fprintf(out, "\" -- \"$cur\")); return;;\n");
            }
        for (int k = 0; k < n; k++) /* a number or a shape: nothing to complete */
            if (all[k]->type == CLI_INT || all[k]->type == CLI_FLOAT || all[k]->parse == parse_input_shape || all[k]->parse == parse_normalize)
                fprintf(out, "%s%s", numbers++ ? "|" : "      ", all[k]->name);
        if (numbers) fprintf(out, ") return;;\n");
        fprintf(out, "    esac\n    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"--help");
        for (int k = 0; k < n; k++) fprintf(out, " %s%s%s", all[k]->name, all[k]->alias ? " " : "", all[k]->alias ? all[k]->alias : "");
        fprintf(out, "\" -- \"$cur\")); else COMPREPLY=($(compgen -f -- \"$cur\")); fi;;\n");
    }
    fprintf(out, "  esac\n}\ncomplete -o filenames -F _fovea fovea\n");
}

static const char *type_name(cli_type t) {
    static const char *const names[] = {"flag", "int", "float", "text", "choice", "custom"};
    return names[t];
}

int cli_completion(int argc, char **argv) {
    const char *what = argc > 0 ? argv[0] : "";
    if (argc == 1 && !strcmp(what, "bash")) return bash_script(stdout), 0;
    if (argc == 1 && !strcmp(what, "commands")) {
        for (int c = 0; c < cli_command_count; c++) printf("%s\n", cli_commands[c]->name);
        return 0;
    }
    if (argc == 1 && !strcmp(what, "options")) { /* one line an option: command, name, alias, type, min, max, choices */
        for (int c = 0; c < cli_command_count; c++) {
            const cli_option *all[128];
            int n = options_of(cli_commands[c], all);
            for (int k = 0; k < n; k++)
                printf("%s\t%s\t%s\t%s\t%.17g\t%.17g\t%s\n", cli_commands[c]->name, all[k]->name, all[k]->alias ? all[k]->alias : "-",
                       type_name(all[k]->type), all[k]->min, all[k]->max, all[k]->type == CLI_CHOICE ? all[k]->value : "-");
        }
        return 0;
    }
    FILE *out = argc == 1 && (!strcmp(what, "--help") || !strcmp(what, "-h")) ? stdout : stderr;
    fprintf(out, "usage: fovea completion bash       a bash completion script for every command and option\n"
                 "       fovea completion commands   the commands, one a line\n"
                 "       fovea completion options    every command's options: command, name, other spelling, type, min, max, choices\n"
                 "example: fovea completion bash > ~/.local/share/bash-completion/completions/fovea\n");
    return out == stdout ? 0 : 2;
}
