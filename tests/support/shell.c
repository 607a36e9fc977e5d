#include "shell.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "check.h"

int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd) return -1; /* never run a truncated command */
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

char *slurp(const char *path)
{
    size_t n;
    char *b = (char *)read_file_bytes(path, &n);
    if (!b) return NULL;
    char *t = realloc(b, n + 1);
    if (!t) { free(b); return NULL; }
    t[n] = 0;
    return t;
}

const char *tmp_path(const char *dir, const char *rel)
{
    static char b[8][600];
    static int k;
    k = (k + 1) % 8;
    snprintf(b[k], sizeof b[k], "%s/%s", dir, rel);
    return b[k];
}
