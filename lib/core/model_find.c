/* Where programs find the model when none is named (cartoon_model_find in cartoon.h):
 * $CARTOON_MODEL, then the preferred model (the exact White-box one unless asked otherwise) in
 * the user's data directory and the installed data directory, then the other model in the
 * same places; each model is also looked for in the source tree, last (the White-box one in
 * weights/, where `make model` writes it, the student in weights/student, where it is
 * committed), so that programs run from the build tree use the exact model once it is made and
 * work on a fresh clone. Reads the environment with getenv only, keeps no state, never prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model_find.h"

/* PREFIX/share/libcartoon of the build, and the source tree's weights/student and weights: the
 * Makefile passes them to this file only (and rebuilds it when one changes); other builds
 * (tests/fuzz/run.sh) get make's default data directory and no source tree. */
#ifndef CARTOON_DATADIR
#define CARTOON_DATADIR "/usr/local/share/libcartoon"
#endif
#ifndef CARTOON_STUDENT_DIR
#define CARTOON_STUDENT_DIR ""
#endif
#ifndef CARTOON_SOURCE_WEIGHTS_DIR
#define CARTOON_SOURCE_WEIGHTS_DIR ""
#endif
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

/* Looks at dir/file (dir_shown names dir in the list when the path is too long). 1 when it is
 * the answer (*st then says whether it fitted the caller's buffers), 0 when passed over. */
static int try_place(const char *dir, const char *dir_shown, const char *file, char *path, size_t path_size,
                     place_list *l, cartoon_status *st)
{
    char cand[CANDIDATE_MAX];
    int n = snprintf(cand, sizeof cand, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof cand) {
        add_place(l, "%s/%s (path too long)", dir_shown, file);
        return 0;
    }
    const char *why = why_not(cand);
    if (!why) {
        *st = found(cand, path, path_size, l);
        return 1;
    }
    add_place(l, "%s (%s)", cand, why);
    return 0;
}

/* One model's places: the user's data directory, the installed one, then the source tree's
 * folder for that model. 1 when found (*st set), 0 when not. */
static int find_file(const ct_model_places *pl, const char *file, int student, char *path, size_t path_size,
                     place_list *l, cartoon_status *st)
{
    /* the user's data directory (XDG Base Directory: a relative XDG_DATA_HOME is ignored) */
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char dir[CANDIDATE_MAX];
    int n = -1;
    const char *shown = NULL;
    if (xdg && xdg[0] == '/') {
        n = snprintf(dir, sizeof dir, "%s/libcartoon", xdg);
        shown = "$XDG_DATA_HOME/libcartoon";
    } else if (home && *home) {
        n = snprintf(dir, sizeof dir, "%s/.local/share/libcartoon", home);
        shown = "$HOME/.local/share/libcartoon";
    } else {
        add_place(l, "$XDG_DATA_HOME/libcartoon/%s (XDG_DATA_HOME and HOME not set)", file);
    }
    if (n >= 0 && (size_t)n >= sizeof dir) add_place(l, "%s/%s (path too long)", shown, file);
    else if (n >= 0 && try_place(dir, shown, file, path, path_size, l, st)) return 1;

    /* the installed copy */
    if (pl->datadir && *pl->datadir && try_place(pl->datadir, pl->datadir, file, path, path_size, l, st)) return 1;
    /* the source tree, for programs run from its build directories: the committed student, or
     * the White-box model `make model` converted and nobody installed yet */
    const char *src = student ? pl->student_dir : pl->source_weights_dir;
    return src && *src && try_place(src, src, file, path, path_size, l, st);
}

static cartoon_status find(const ct_model_places *pl, cartoon_model_preference prefer, char *path,
                           size_t path_size, place_list *l)
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

    /* 2. the preferred model everywhere, then the other one */
    int student_first = prefer == CARTOON_MODEL_PREFER_STUDENT;
    cartoon_status st = CARTOON_E_IO;
    for (int k = 0; k < 2; k++) {
        int student = k == 0 ? student_first : !student_first;
        if (find_file(pl, student ? CT_STUDENT_FILE : CT_WHITEBOX_FILE, student, path, path_size, l, &st)) return st;
    }
    return l->full ? CARTOON_E_LIMIT : CARTOON_E_IO;
}

cartoon_status ct_model_find(const ct_model_places *places, cartoon_model_preference prefer, char *path,
                             size_t path_size, char *searched, size_t searched_size)
{
    if (!places || !path || !path_size || (!searched && searched_size) ||
        (prefer != CARTOON_MODEL_PREFER_WHITEBOX && prefer != CARTOON_MODEL_PREFER_STUDENT))
        return CARTOON_E_INVALID_ARGUMENT;
    place_list l = {searched_size ? searched : NULL, searched_size, 0, 0};
    if (l.buf) l.buf[0] = 0;
    path[0] = 0;
    cartoon_status st = find(places, prefer, path, path_size, &l);
    if (st != CARTOON_OK) path[0] = 0;
    return st;
}

void ct_model_places_builtin(ct_model_places *places)
{
    places->datadir = CARTOON_DATADIR;
    places->student_dir = CARTOON_STUDENT_DIR;
    places->source_weights_dir = CARTOON_SOURCE_WEIGHTS_DIR;
}

cartoon_status cartoon_model_find(cartoon_model_preference prefer, char *path, size_t path_size, char *searched,
                                  size_t searched_size)
{
    ct_model_places pl;
    ct_model_places_builtin(&pl);
    return ct_model_find(&pl, prefer, path, path_size, searched, searched_size);
}

cartoon_status cartoon_model_find_default(char *path, size_t path_size, char *searched, size_t searched_size)
{
    return cartoon_model_find(CARTOON_MODEL_PREFER_WHITEBOX, path, path_size, searched, searched_size);
}
