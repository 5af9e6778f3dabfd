/* text.h — text built up in memory with printf (the run report's HTML, the server's JSON). A failed
 * allocation marks it failed and later puts do nothing; the caller checks once at the end. */
#ifndef FOVEA_TEXT_H
#define FOVEA_TEXT_H

#include <stddef.h>

typedef struct cli_text {
    char *text; /* malloc'd, NUL-terminated (NULL while empty) */
    size_t len, cap;
    int failed;
} cli_text;

void cli_put(cli_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
