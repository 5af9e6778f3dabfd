/* fovea — the command-line tool: usage and dispatch. The commands live one group a file, each
 * declared by its option table (options.h): cmd_model.c (summary, layers, forward, export,
 * weights), cmd_train.c (train, evaluate, predict), cmd_report.c (report), cmd_filter.c (filter),
 * cmd_inspect.c (show, saliency, gradcam, dream), cmd_quantize.c (quantize); cli.c and options.c hold what they share. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

const cli_command *const cli_commands[] = {&cli_train, &cli_evaluate, &cli_predict, &cli_summary, &cli_weights, &cli_report, &cli_quantize,
                                            &cli_layers, &cli_forward, &cli_export, &cli_filter, &cli_show, &cli_saliency, &cli_gradcam, &cli_dream,
                                            &cli_serve};
const int cli_command_count = (int)(sizeof cli_commands / sizeof *cli_commands);

static void usage(FILE *out) {
    fprintf(out, "usage: fovea COMMAND [ARGS]   (fovea COMMAND --help for its options)\n");
    for (int group = 0; group < 2; group++) {
        fprintf(out, "\n%s:\n", group ? "looking inside" : "commands");
        for (int c = 0; c < cli_command_count; c++) {
            const cli_command *cmd = cli_commands[c];
            if (cmd->looking_inside != group) continue;
            char left[64];
            int args = (int)strcspn(cmd->usage, "[\n");
            snprintf(left, sizeof left, "%s %.*s", cmd->name, args, cmd->usage);
            fprintf(out, "  %-28s %s\n", left, cmd->summary);
        }
    }
    fprintf(out, "\n"
                 "options of every command: --threads N (OpenMP threads; OMP_NUM_THREADS works too), --help\n"
                 "fovea --version                the version, backends and threads\n"
                 "fovea completion bash          shell completion for every command and option\n"
                 "Model definitions: see models/README.md. The manual: man fovea.\n"
                 "example: fovea train models/mnist-cnn.fv --data fashion-mnist --out mnist-cnn.fvm\n");
}

/* A fair share of a shared machine. libgomp's threads, at the end of each parallel region,
 * spin for up to 300,000 rounds (milliseconds) waiting for their partners before they sleep; when
 * another program holds a core, the partner is descheduled and the spinning takes the CPU time it
 * needs: mobilenet_v2 at batch 1 took 350 ms on 2 threads beside two busy loops against 8 ms on
 * one. After 1,000 rounds (microseconds) they sleep: 7-12 ms there, and within noise of the
 * default on an idle machine (bench/SHARING.md). libgomp reads the policy once, as it is loaded,
 * before main runs (and a preinit function's setenv is undone by libc's own start-up, which
 * resets the environment to the one the process started with), so the tool starts itself again
 * with the policy set, once (about 6 ms); a policy the user set (OMP_WAIT_POLICY,
 * GOMP_SPINCOUNT) is left alone, and if the new start fails the tool runs as it is. The library
 * cannot choose for its callers (it is loaded with libgomp); the Python binding sets it before
 * loading the library. */
#define FAIR_SPIN_COUNT "1000"
static void fair_share(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", FAIR_SPIN_COUNT, 1) != 0) return;
    char self[4096]; /* this program's own path: ps, top and pgrep then name it fovea, not exe */
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self - 1) return;
    self[n] = '\0';
    execv(self, argv); /* returns only on failure */
}

/* Runs a command: its options parsed from its table, --threads applied (the tool is the
 * application, so it may set them; the library never does), then the command. */
static int run(const cli_command *cmd, int argc, char **argv) {
    void *options = calloc(1, cmd->size);
    if (!options) return fprintf(stderr, "fovea: out of memory\n"), 1;
    int rc = cli_parse(cmd, argc, argv, options);
    if (rc < 0) {
        const cli_common *common = options;
        if (common->threads > 0) omp_set_num_threads((int)common->threads);
        rc = cmd->run(options);
    }
    cli_done(options);
    free(options);
    return rc;
}

int main(int argc, char **argv) {
    fair_share(argv);
    /* a line at a time even into a file or a pipe: progress survives a kill, logs are current */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* a file-size limit (ulimit -f) then fails the write with EFBIG, which the library reports and
     * cleans up after (the temporary file removed, the old model kept), instead of killing the
     * process mid-write with a MODEL.tmp.PID left behind */
    signal(SIGXFSZ, SIG_IGN);
    while (argc >= 2 && !strcmp(argv[1], "--threads")) { /* before the command too: fovea --threads 1 --version */
        long n;
        if (!cli_int_range("--threads", argc >= 3 ? argv[2] : NULL, 1, CLI_MAX_THREADS, &n)) return 2;
        omp_set_num_threads((int)n);
        argv[2] = argv[0], argv += 2, argc -= 2;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("fovea %s (backends: reference%s; OpenMP threads: %d; data-parallel training over MPI: %s)\n", fv_version(),
               fv_backend_available(FV_BACKEND_ONEDNN) ? ", onednn" : "", omp_get_max_threads(), fv_comm_mpi_built() ? "yes" : "no");
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "completion")) return cli_completion(argc - 2, argv + 2);
    for (int c = 0; c < cli_command_count; c++)
        if (!strcmp(argv[1], cli_commands[c]->name)) return run(cli_commands[c], argc - 2, argv + 2);
    fprintf(stderr, "fovea: unknown command '%s' (try fovea --help)\n", argv[1]);
    return 2;
}
