/* replay.c — main() for the fuzz harnesses without libFuzzer: runs the harness once on every file
 * named (or in every folder named), so the corpus and the regression inputs are part of the test
 * suite (and of its sanitizer run). Prints "N passed, N failed": an input passes when the harness
 * returns (a crash or a sanitizer report ends the process). */
#include "fuzz.h"

#include <dirent.h>
#include <sys/stat.h>

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "%s: cannot open\n", path), 0;
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) free(buf);
            buf = grown, cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return fprintf(stderr, "%s: out of memory\n", path), 0;
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 1;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) continue; /* a harness may have no regressions yet */
        if (!S_ISDIR(st.st_mode)) {
            run_file(argv[i]) ? passed++ : failed++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
            if (e->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            run_file(path) ? passed++ : failed++;
        }
        if (d) closedir(d);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
