/* text.c — see text.h. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cli_put(cli_text *t, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = t->failed ? 0 : vsnprintf(t->text ? t->text + t->len : NULL, t->text ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (t->failed) return;
        if (n < 0) return (void)(t->failed = 1);
        if (t->text && t->len + (size_t)n < t->cap) return (void)(t->len += (size_t)n);
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *grown = realloc(t->text, cap);
        if (!grown) return (void)(t->failed = 1);
        t->text = grown, t->cap = cap;
    }
}
