/* Where programs find the model when none is named (cartoon_model_find_default in cartoon.h):
 * $CARTOON_MODEL, then the user's data directory, then the installed data directory.
 * Reads the environment with getenv only, keeps no state, never prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cartoon.h"

/* PREFIX/share/libcartoon of the build: the Makefile passes it to this file only (and
 * rebuilds it when PREFIX changes); other builds (tests/fuzz/run.sh) get make's default. */
#ifndef CARTOON_DATADIR
#define CARTOON_DATADIR "/usr/local/share/libcartoon"
#endif
#define MODEL_FILE "whitebox.safetensors"
#define CANDIDATE_MAX 4096 /* PATH_MAX on Linux: a longer path cannot be stat()ed anyway */

/* The caller's `searched` buffer, filled line by line; `full` once a line did not fit. */
typedef struct {
    char *buf;
    size_t size, len;
    int full;
} place_list;

static void add_place(place_list *l, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void add_place(place_list *l, const char *fmt, ...)
{
    if (!l->buf || l->full) return;
    size_t at = l->len ? l->len + 1 : 0; /* after a '\n' separating it from the last line */
    if (at >= l->size) { l->full = 1; return; }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + at, l->size - at, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= l->size - at) { /* keep only the complete lines */
        l->buf[l->len] = 0;
        l->full = 1;
        return;
    }
    if (l->len) l->buf[l->len] = '\n';
    l->len = at + (size_t)n;
}

/* NULL when p is an existing regular file (after symbolic links), else why it is not. */
static const char *why_not(const char *p)
{
    struct stat st;
    if (stat(p, &st) != 0) {
        switch (errno) {
        case ENOENT: case ENOTDIR: return "not found";
        case EACCES: return "permission denied";
        case ENAMETOOLONG: return "path too long";
        default: return "cannot be examined";
        }
    }
    if (S_ISDIR(st.st_mode)) return "a directory, not a file";
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    return NULL;
}

static cartoon_status found(const char *p, char *path, size_t path_size, place_list *l)
{
    add_place(l, "%s", p);
    size_t n = strlen(p);
    if (n >= path_size) return CARTOON_E_LIMIT;
    memcpy(path, p, n + 1);
    return l->full ? CARTOON_E_LIMIT : CARTOON_OK;
}

static cartoon_status find(char *path, size_t path_size, place_list *l)
{
    /* 1. $CARTOON_MODEL: the answer, or the error, when set */
    const char *env = getenv("CARTOON_MODEL");
    if (env && *env) {
        const char *why = why_not(env);
        if (!why) return found(env, path, path_size, l);
        add_place(l, "$CARTOON_MODEL=%s (%s)", env, why);
        return l->full ? CARTOON_E_LIMIT : CARTOON_E_IO;
    }
    add_place(l, "$CARTOON_MODEL (not set)");

    /* 2. the user's data directory (XDG Base Directory: a relative XDG_DATA_HOME is ignored) */
    char cand[CANDIDATE_MAX];
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n = -1;
    if (xdg && xdg[0] == '/')
        n = snprintf(cand, sizeof cand, "%s/libcartoon/" MODEL_FILE, xdg);
    else if (home && *home)
        n = snprintf(cand, sizeof cand, "%s/.local/share/libcartoon/" MODEL_FILE, home);
    else
        add_place(l, "$XDG_DATA_HOME/libcartoon/" MODEL_FILE " (XDG_DATA_HOME and HOME not set)");
    if (n >= 0 && (size_t)n >= sizeof cand) {
        add_place(l, "%s/libcartoon/" MODEL_FILE " (path too long)", xdg && xdg[0] == '/' ? "$XDG_DATA_HOME" : "$HOME/.local/share");
    } else if (n >= 0) {
        const char *why = why_not(cand);
        if (!why) return found(cand, path, path_size, l);
        add_place(l, "%s (%s)", cand, why);
    }

    /* 3. the installed copy */
    const char *inst = CARTOON_DATADIR "/" MODEL_FILE;
    const char *why = why_not(inst);
    if (!why) return found(inst, path, path_size, l);
    add_place(l, "%s (%s)", inst, why);
    return l->full ? CARTOON_E_LIMIT : CARTOON_E_IO;
}

cartoon_status cartoon_model_find_default(char *path, size_t path_size, char *searched,
                                          size_t searched_size)
{
    if (!path || !path_size || (!searched && searched_size)) return CARTOON_E_INVALID_ARGUMENT;
    place_list l = {searched_size ? searched : NULL, searched_size, 0, 0};
    if (l.buf) l.buf[0] = 0;
    path[0] = 0;
    cartoon_status st = find(path, path_size, &l);
    if (st != CARTOON_OK) path[0] = 0;
    return st;
}
