/* Where programs find the model when none is named: cartoon_model_find()'s order
 * ($CARTOON_MODEL, then the preferred model -- the exact White-box one unless the student is
 * asked for -- in $XDG_DATA_HOME or $HOME/.local/share, then the installed data directory,
 * then the source tree: weights/ for the White-box model, weights/student for the student; then
 * the other model in the same places), what `searched` reports, and its buffer errors; that the public functions use the
 * directories the library was built with; and scripts/fetch-model.sh: a wrong file is refused
 * and deleted, an unreachable address gives the offline advice, the published file (the shared
 * copy, through a file:// address) is accepted. The order is checked through ct_model_find()
 * with data and source directories of its own under /tmp (the real ones may hold models: the
 * source tree always has the student). Sets the environment with setenv/unsetenv. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cartoon.h"
#include "check.h"
#include "model_find.h"

#ifndef CARTOON_DATADIR /* the Makefile passes the library's own */
#define CARTOON_DATADIR "/usr/local/share/libcartoon"
#endif
#ifndef CARTOON_STUDENT_DIR
#define CARTOON_STUDENT_DIR ""
#endif
#ifndef CARTOON_SOURCE_WEIGHTS_DIR
#define CARTOON_SOURCE_WEIGHTS_DIR ""
#endif
#define WB "whitebox.safetensors"
#define ST "cartoon-student.safetensors"

static char tmp[] = "/tmp/cartoon-model-find-XXXXXX";
static char path[4096], searched[24576];
static ct_model_places places; /* under tmp: "data" (installed), "src/weights/student", "src/weights" */

static const char *at(const char *fmt, ...)
{
    static char bufs[8][1024];
    static int k;
    char rel[512], *b = bufs[k++ & 7];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    snprintf(b, sizeof bufs[0], "%s/%s", tmp, rel);
    return b;
}

static void mkdirs(const char *p)
{
    char b[1024];
    snprintf(b, sizeof b, "%s", p);
    for (char *s = b + 1; *s; s++)
        if (*s == '/') { *s = 0; mkdir(b, 0777); *s = '/'; }
    mkdir(b, 0777);
}

static void touch(const char *p)
{
    char d[1024];
    snprintf(d, sizeof d, "%s", p);
    *strrchr(d, '/') = 0;
    mkdirs(d);
    write_file_bytes(p, "x", 1);
}

static cartoon_status find_as(cartoon_model_preference prefer)
{
    memset(path, '?', sizeof path);
    memset(searched, '?', sizeof searched);
    return ct_model_find(&places, prefer, path, sizeof path, searched, sizeof searched);
}

static cartoon_status find(void)
{
    return find_as(CARTOON_MODEL_PREFER_WHITEBOX);
}

/* the i-th line of searched (0-based), "" past the end */
static const char *line(int i)
{
    static char b[4096];
    const char *s = searched;
    while (i-- > 0 && (s = strchr(s, '\n'))) s++;
    if (!s) return "";
    size_t n = strcspn(s, "\n");
    snprintf(b, sizeof b, "%.*s", (int)n, s);
    return b;
}

static int lines(void)
{
    if (!searched[0]) return 0;
    int n = 1;
    for (const char *s = searched; *s; s++) n += *s == '\n';
    return n;
}

/* "PATH (not found)" for a path under tmp */
static const char *not_found(const char *rel)
{
    static char b[8][1200];
    static int k;
    char *r = b[k++ & 7];
    snprintf(r, sizeof b[0], "%s (not found)", at("%s", rel));
    return r;
}

/* A clean environment: nothing set, HOME and XDG pointing at empty directories; empty data and
 * source directories (removed and made again, so no model of an earlier case is left). */
static void reset_env(void)
{
    unsetenv("CARTOON_MODEL");
    setenv("XDG_DATA_HOME", at("empty-xdg"), 1);
    setenv("HOME", at("empty-home"), 1);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s' '%s'", at("data"), at("src"), at("xdg"), at("home"));
    if (system(cmd) != 0) fprintf(stderr, "  could not clean %s\n", tmp);
    mkdirs(at("data"));
    mkdirs(at("src/weights/student"));
}

static void test_env_wins(void)
{
    reset_env();
    touch(at("env/my-model.safetensors"));
    touch(at("xdg/libcartoon/" WB));
    touch(at("src/weights/student/" ST));
    setenv("CARTOON_MODEL", at("env/my-model.safetensors"), 1);
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("env/my-model.safetensors")), "%s", path);
    CHECKF(lines() == 1 && !strcmp(line(0), at("env/my-model.safetensors")), "%s", searched);
    /* whatever the preference */
    CHECK(find_as(CARTOON_MODEL_PREFER_STUDENT) == CARTOON_OK);
    CHECKF(!strcmp(path, at("env/my-model.safetensors")), "%s", path);
    /* an empty CARTOON_MODEL counts as unset */
    setenv("CARTOON_MODEL", "", 1);
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/" WB)), "%s", path);
}

static void test_env_missing_is_an_error(void)
{
    reset_env();
    touch(at("xdg/libcartoon/" WB)); /* there, but not looked at */
    touch(at("src/weights/student/" ST));
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    setenv("CARTOON_MODEL", at("env/nonexistent.safetensors"), 1);
    for (int prefer = 0; prefer < 2; prefer++) { /* no fall-back to either model */
        CHECK(find_as((cartoon_model_preference)prefer) == CARTOON_E_IO);
        CHECK(path[0] == 0);
        CHECKF(lines() == 1 && strstr(searched, "CARTOON_MODEL") && strstr(searched, at("env/nonexistent.safetensors")) &&
                   strstr(searched, "not found"),
               "%s", searched);
    }
    /* a directory is not a model file either */
    setenv("CARTOON_MODEL", at("env"), 1);
    CHECK(find() == CARTOON_E_IO);
    CHECKF(strstr(searched, "directory") != NULL, "%s", searched);
}

static void test_xdg(void)
{
    reset_env();
    touch(at("xdg/libcartoon/" WB));
    touch(at("home/.local/share/libcartoon/" WB));
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    setenv("HOME", at("home"), 1);
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/" WB)), "%s", path);
    CHECKF(lines() == 2 && !strcmp(line(0), "$CARTOON_MODEL (not set)") && !strcmp(line(1), at("xdg/libcartoon/" WB)),
           "%s", searched);
    /* XDG_DATA_HOME is the user's data directory: $HOME/.local/share is not looked at */
    setenv("XDG_DATA_HOME", at("empty-xdg"), 1);
    CHECK(find() == CARTOON_E_IO);
    CHECKF(!strstr(searched, ".local/share"), "%s", searched);
}

static void test_home_fallback(void)
{
    reset_env();
    touch(at("home/.local/share/libcartoon/" WB));
    setenv("HOME", at("home"), 1);
    const char *want = at("home/.local/share/libcartoon/" WB);
    const char *xdg_values[] = {NULL, "", "relative/data"}; /* unset, empty, not absolute */
    for (int i = 0; i < 3; i++) {
        if (xdg_values[i]) setenv("XDG_DATA_HOME", xdg_values[i], 1);
        else unsetenv("XDG_DATA_HOME");
        CHECK(find() == CARTOON_OK);
        CHECKF(!strcmp(path, want), "XDG_DATA_HOME=%s: %s", xdg_values[i] ? xdg_values[i] : "(unset)", path);
    }
    /* a directory where the file should be is passed over, and said so */
    reset_env();
    mkdirs(at("dirhome/.local/share/libcartoon/" WB));
    setenv("HOME", at("dirhome"), 1);
    unsetenv("XDG_DATA_HOME");
    CHECK(find() == CARTOON_E_IO);
    CHECKF(strstr(line(1), "a directory") != NULL, "%s", searched);
}

/* The White-box model wins wherever it is; the student is the fall-back, in its own order. */
static void test_whitebox_then_student(void)
{
    reset_env();
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    touch(at("xdg/libcartoon/" ST));
    touch(at("src/weights/student/" ST));
    touch(at("data/" WB)); /* a student in the first student place, this in the second: still the White-box */
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("data/" WB)), "%s", path);
    CHECKF(lines() == 3 && !strcmp(line(1), not_found("xdg/libcartoon/" WB)) && !strcmp(line(2), at("data/" WB)),
           "%s", searched);
    /* only students: the user's, then the installed one, then the source tree's */
    unlink(at("data/" WB));
    touch(at("data/" ST));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/" ST)), "%s", path);
    CHECKF(lines() == 5 && !strcmp(line(1), not_found("xdg/libcartoon/" WB)) &&
               !strcmp(line(2), not_found("data/" WB)) && !strcmp(line(3), not_found("src/weights/" WB)) &&
               !strcmp(line(4), at("xdg/libcartoon/" ST)),
           "%s", searched);
    unlink(at("xdg/libcartoon/" ST));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("data/" ST)), "%s", path);
    unlink(at("data/" ST));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("src/weights/student/" ST)), "%s", path);
    CHECKF(lines() == 7 && !strcmp(line(4), not_found("xdg/libcartoon/" ST)) &&
               !strcmp(line(5), not_found("data/" ST)) && !strcmp(line(6), at("src/weights/student/" ST)),
           "%s", searched);
    /* the student directory holds the student only: a White-box file there is not looked at;
     * the source weights directory the White-box model only: a student there is not either */
    touch(at("src/weights/student/" WB));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("src/weights/student/" ST)), "%s", path);
    unlink(at("src/weights/student/" ST));
    touch(at("src/weights/" ST));
    CHECK(find() == CARTOON_E_IO);
    CHECKF(!strstr(searched, at("src/weights/" ST)) && !strstr(searched, at("src/weights/student/" WB)), "%s", searched);
}

/* The White-box model `make model` wrote into the source tree's weights/ (never installed): the
 * last White-box place, and still ahead of a student anywhere. */
static void test_source_weights(void)
{
    reset_env();
    touch(at("src/weights/" WB));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("src/weights/" WB)), "%s", path);
    CHECKF(lines() == 4 && !strcmp(line(1), not_found("empty-xdg/libcartoon/" WB)) &&
               !strcmp(line(2), not_found("data/" WB)) && !strcmp(line(3), at("src/weights/" WB)),
           "%s", searched);
    /* students in every student place: the White-box model all the same */
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    touch(at("xdg/libcartoon/" ST));
    touch(at("data/" ST));
    touch(at("src/weights/student/" ST));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("src/weights/" WB)), "%s", path);
    CHECKF(lines() == 4 && !strcmp(line(3), at("src/weights/" WB)), "%s", searched);
    /* the user's and the installed White-box models come first */
    touch(at("data/" WB));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("data/" WB)), "%s", path);
    touch(at("xdg/libcartoon/" WB));
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/" WB)), "%s", path);
    /* PREFER_STUDENT: the user's student, though the source tree has the White-box model */
    CHECK(find_as(CARTOON_MODEL_PREFER_STUDENT) == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/" ST)), "%s", path);
    /* and with no student anywhere, the source tree's White-box model, after every student place */
    unlink(at("xdg/libcartoon/" ST));
    unlink(at("data/" ST));
    unlink(at("src/weights/student/" ST));
    unlink(at("xdg/libcartoon/" WB));
    unlink(at("data/" WB));
    CHECK(find_as(CARTOON_MODEL_PREFER_STUDENT) == CARTOON_OK);
    CHECKF(!strcmp(path, at("src/weights/" WB)), "%s", path);
    CHECKF(lines() == 7 && !strcmp(line(3), not_found("src/weights/student/" ST)) &&
               !strcmp(line(5), not_found("data/" WB)) && !strcmp(line(6), at("src/weights/" WB)),
           "%s", searched);
    /* SOURCE_WEIGHTS_DIR= (NULL or ""): not looked at */
    ct_model_places no_src = places;
    for (int k = 0; k < 2; k++) {
        no_src.source_weights_dir = k ? "" : NULL;
        CHECK(ct_model_find(&no_src, CARTOON_MODEL_PREFER_WHITEBOX, path, sizeof path, searched, sizeof searched) ==
              CARTOON_E_IO);
        CHECKF(lines() == 6 && !strstr(searched, at("src/weights/" WB)), "%s", searched);
    }
}

/* PREFER_STUDENT: the same places, the student first. */
static void test_prefer_student(void)
{
    reset_env();
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    touch(at("xdg/libcartoon/" WB));
    touch(at("src/weights/student/" ST));
    CHECK(find_as(CARTOON_MODEL_PREFER_STUDENT) == CARTOON_OK);
    CHECKF(!strcmp(path, at("src/weights/student/" ST)), "%s", path);
    CHECKF(lines() == 4 && !strcmp(line(0), "$CARTOON_MODEL (not set)") && !strcmp(line(1), not_found("xdg/libcartoon/" ST)) &&
               !strcmp(line(2), not_found("data/" ST)) && !strcmp(line(3), at("src/weights/student/" ST)),
           "%s", searched);
    /* and the default preference still takes the White-box model */
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/" WB)), "%s", path);
    /* no student: the White-box model */
    unlink(at("src/weights/student/" ST));
    CHECK(find_as(CARTOON_MODEL_PREFER_STUDENT) == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/" WB)), "%s", path);
    CHECKF(lines() == 5 && !strcmp(line(3), not_found("src/weights/student/" ST)) && !strcmp(line(4), at("xdg/libcartoon/" WB)),
           "%s", searched);
    /* not a preference */
    CHECK(ct_model_find(&places, (cartoon_model_preference)2, path, sizeof path, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_find((cartoon_model_preference)-1, path, sizeof path, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
}

static void test_nothing_found(void)
{
    reset_env();
    for (int prefer = 0; prefer < 2; prefer++) {
        CHECK(find_as((cartoon_model_preference)prefer) == CARTOON_E_IO);
        CHECK(path[0] == 0);
        /* every place, each said once, in the order of the preference */
        const char *wb[] = {"empty-xdg/libcartoon/" WB, "data/" WB, "src/weights/" WB};
        const char *st[] = {"empty-xdg/libcartoon/" ST, "data/" ST, "src/weights/student/" ST};
        const char *want[6];
        int k = 0;
        if (prefer == CARTOON_MODEL_PREFER_STUDENT)
            for (int i = 0; i < 3; i++) want[k++] = not_found(st[i]);
        for (int i = 0; i < 3; i++) want[k++] = not_found(wb[i]);
        if (prefer == CARTOON_MODEL_PREFER_WHITEBOX)
            for (int i = 0; i < 3; i++) want[k++] = not_found(st[i]);
        CHECKF(lines() == 7, "%d lines: %s", lines(), searched);
        CHECKF(!strcmp(line(0), "$CARTOON_MODEL (not set)"), "%s", line(0));
        for (int i = 0; i < 6; i++) CHECKF(!strcmp(line(i + 1), want[i]), "line %d: %s, want %s", i + 1, line(i + 1), want[i]);
        CHECK(searched[strlen(searched) - 1] != '\n');
    }
    /* neither XDG_DATA_HOME nor HOME: the user's directory is reported as not looked at */
    unsetenv("XDG_DATA_HOME");
    unsetenv("HOME");
    CHECK(find() == CARTOON_E_IO);
    CHECKF(lines() == 7 && strstr(line(1), "not set") && strstr(line(1), WB) && strstr(line(4), "not set") &&
               strstr(line(4), ST),
           "%s", searched);
    /* places left out (a build without a source tree or data directory) are not listed */
    reset_env();
    ct_model_places none = {NULL, "", NULL};
    CHECK(ct_model_find(&none, CARTOON_MODEL_PREFER_WHITEBOX, path, sizeof path, searched, sizeof searched) == CARTOON_E_IO);
    CHECKF(lines() == 3 && !strcmp(line(1), not_found("empty-xdg/libcartoon/" WB)) &&
               !strcmp(line(2), not_found("empty-xdg/libcartoon/" ST)),
           "%s", searched);
    /* searched is optional */
    CHECK(ct_model_find(&places, CARTOON_MODEL_PREFER_WHITEBOX, path, sizeof path, NULL, 0) == CARTOON_E_IO);
}

/* The public functions look where the library was built to: the same answer and list as
 * ct_model_find() with the compiled-in places, which name CARTOON_DATADIR and the source tree. */
static void test_builtin_places(void)
{
    reset_env();
    ct_model_places built;
    ct_model_places_builtin(&built);
    CHECKF(!strcmp(built.datadir, CARTOON_DATADIR), "%s", built.datadir);
    CHECKF(!strcmp(built.student_dir, CARTOON_STUDENT_DIR), "%s", built.student_dir);
    CHECKF(!strcmp(built.source_weights_dir, CARTOON_SOURCE_WEIGHTS_DIR), "%s", built.source_weights_dir);
    static char p2[4096], s2[24576];
    for (int prefer = 0; prefer < 2; prefer++) {
        cartoon_status a = prefer ? cartoon_model_find(CARTOON_MODEL_PREFER_STUDENT, path, sizeof path, searched, sizeof searched)
                                  : cartoon_model_find_default(path, sizeof path, searched, sizeof searched);
        cartoon_status b = ct_model_find(&built, (cartoon_model_preference)prefer, p2, sizeof p2, s2, sizeof s2);
        CHECKF(a == b && !strcmp(path, p2) && !strcmp(searched, s2), "%d/%d: %s | %s", (int)a, (int)b, searched, s2);
        CHECKF(strstr(searched, CARTOON_DATADIR "/"), "%s", searched);
    }
    /* this tree's committed student: found by the build (unless an installed model comes first) */
    char student[1200];
    snprintf(student, sizeof student, "%s/" ST, CARTOON_STUDENT_DIR);
    if (CARTOON_STUDENT_DIR[0] && access(student, R_OK) == 0) {
        CHECK(cartoon_model_find(CARTOON_MODEL_PREFER_STUDENT, path, sizeof path, searched, sizeof searched) == CARTOON_OK);
        CHECKF(strstr(searched, student) != NULL, "%s", searched);
    }
    /* this tree's White-box model, after `make model`: found by default, not the student */
    char whitebox[1200];
    snprintf(whitebox, sizeof whitebox, "%s/" WB, CARTOON_SOURCE_WEIGHTS_DIR);
    if (CARTOON_SOURCE_WEIGHTS_DIR[0] && access(whitebox, R_OK) == 0) {
        CHECK(cartoon_model_find_default(path, sizeof path, searched, sizeof searched) == CARTOON_OK);
        CHECKF(strstr(searched, whitebox) != NULL && !strstr(path, ST), "%s", searched);
    }
}

static void test_buffers(void)
{
    reset_env();
    touch(at("xdg/libcartoon/" WB));
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    const char *want = at("xdg/libcartoon/" WB);
    size_t n = strlen(want);
    char small[4096], list[24576];
    /* exactly enough, then one byte short */
    CHECK(cartoon_model_find_default(small, n + 1, NULL, 0) == CARTOON_OK && !strcmp(small, want));
    CHECK(cartoon_model_find_default(small, n, NULL, 0) == CARTOON_E_LIMIT && small[0] == 0);
    CHECK(cartoon_model_find_default(small, 1, list, sizeof list) == CARTOON_E_LIMIT && small[0] == 0);
    /* searched too small: an error too, keeping the whole lines that fit */
    CHECK(cartoon_model_find_default(small, sizeof small, list, 10) == CARTOON_E_LIMIT && small[0] == 0);
    CHECK(list[0] == 0);
    CHECK(cartoon_model_find_default(small, sizeof small, list, 30) == CARTOON_E_LIMIT);
    CHECKF(!strcmp(list, "$CARTOON_MODEL (not set)"), "%s", list);
    /* also when the answer is the fall-back, after lines that did not fit */
    reset_env();
    touch(at("src/weights/student/" ST));
    CHECK(ct_model_find(&places, CARTOON_MODEL_PREFER_WHITEBOX, small, sizeof small, list, 30) == CARTOON_E_LIMIT &&
          small[0] == 0);
    CHECK(ct_model_find(&places, CARTOON_MODEL_PREFER_WHITEBOX, small, sizeof small, list, sizeof list) == CARTOON_OK &&
          !strcmp(small, at("src/weights/student/" ST)));
    /* NULL and zero sizes */
    CHECK(cartoon_model_find_default(NULL, 100, list, sizeof list) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_find_default(small, 0, list, sizeof list) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_find_default(small, sizeof small, NULL, 10) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_find(CARTOON_MODEL_PREFER_STUDENT, NULL, 100, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_model_find(NULL, CARTOON_MODEL_PREFER_WHITEBOX, small, sizeof small, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    touch(at("xdg/libcartoon/" WB));
    CHECK(cartoon_model_find_default(small, sizeof small, NULL, 0) == CARTOON_OK);
    /* a CARTOON_MODEL longer than path holds */
    char longname[600];
    snprintf(longname, sizeof longname, "%s/%0200d/%0200d", tmp, 0, 1); /* names <= NAME_MAX */
    touch(longname);
    setenv("CARTOON_MODEL", longname, 1);
    CHECK(cartoon_model_find_default(small, 100, list, sizeof list) == CARTOON_E_LIMIT && small[0] == 0);
    CHECK(cartoon_model_find_default(small, sizeof small, list, sizeof list) == CARTOON_OK && !strcmp(small, longname));
    unsetenv("CARTOON_MODEL");
}

/* ------------------------------------------------------------------ scripts/fetch-model.sh */

static const char *published = "7ebaaf2c3e83eb8332f19b333da507aa43752d2b418df9e67808a77d8432de02";

/* Runs the script with CARTOON_MODEL_URL=url into dest; its output (both streams) in *out. */
static int fetch(const char *url, const char *dest, char **out)
{
    char cmd[4096];
    setenv("CARTOON_MODEL_URL", url, 1);
    snprintf(cmd, sizeof cmd, "sh scripts/fetch-model.sh '%s' >'%s' 2>&1", dest, at("fetch.log"));
    int rc = system(cmd);
    unsetenv("CARTOON_MODEL_URL");
    size_t n;
    *out = (char *)read_file_bytes(at("fetch.log"), &n); /* one spare byte for the NUL */
    if (*out) (*out)[n] = 0;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* entries in dir, "." and ".." aside */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_fetch_wrong_file(void)
{
    const char *wrong = at("not-the-model.tflite");
    write_file_bytes(wrong, "TFL3 but not the published model\n", 34);
    mkdirs(at("fetch-wrong"));
    const char *dest = at("fetch-wrong/whitebox_cartoon_gan_fp16.tflite");
    char url[1200], *out = NULL;
    snprintf(url, sizeof url, "file://%s", wrong);
    int rc = fetch(url, dest, &out);
    CHECKF(rc != 0, "exit status %d", rc);
    CHECK(access(dest, F_OK) != 0);
    CHECKF(entries(at("fetch-wrong")) == 0, "a file was left in %s", at("fetch-wrong"));
    CHECKF(out && strstr(out, "expected sha256") && strstr(out, published) && strstr(out, "got") &&
               strstr(out, "do not use it"),
           "%s", out ? out : "(no output)");
    free(out);
}

static void test_fetch_offline(void)
{
    mkdirs(at("fetch-offline"));
    const char *dest = at("fetch-offline/whitebox_cartoon_gan_fp16.tflite");
    char *out = NULL;
    int rc = fetch("http://127.0.0.1:9/whitebox_cartoon_gan_fp16.tflite", dest, &out); /* discard port: closed */
    CHECKF(rc != 0, "exit status %d", rc);
    CHECK(access(dest, F_OK) != 0);
    CHECKF(entries(at("fetch-offline")) == 0, "a file was left in %s", at("fetch-offline"));
    CHECKF(out && strstr(out, "offline") && strstr(out, "by hand") && strstr(out, "MODEL_TFLITE") &&
               strstr(out, dest) && strstr(out, published),
           "%s", out ? out : "(no output)");
    free(out);
}

static void test_fetch_published(void)
{
    char real[PATH_MAX];
    if (!realpath(shared_path("models/whitebox_cartoon_gan_fp16.tflite"), real)) return; /* main() checked */
    mkdirs(at("fetch-ok"));
    const char *dest = at("fetch-ok/whitebox_cartoon_gan_fp16.tflite");
    char url[PATH_MAX + 16], *out = NULL;
    snprintf(url, sizeof url, "file://%s", real);
    int rc = fetch(url, dest, &out);
    CHECKF(rc == 0, "exit status %d: %s", rc, out ? out : "");
    free(out);
    char cmd[2048], sum[128] = "";
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", dest);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (!fgets(sum, sizeof sum, p)) sum[0] = 0;
        pclose(p);
    }
    CHECKF(!strncmp(sum, published, 64), "sha256 %s", sum);
    CHECKF(entries(at("fetch-ok")) == 1, "%d files in %s", entries(at("fetch-ok")), at("fetch-ok"));
    /* run again: the file there is checked, not downloaded */
    rc = fetch("http://127.0.0.1:9/", dest, &out);
    CHECKF(rc == 0 && out && strstr(out, "verified"), "exit status %d: %s", rc, out ? out : "");
    free(out);
}

int main(void)
{
    if (!mkdtemp(tmp)) return 1;
    static char data[1024], student[1024];
    snprintf(data, sizeof data, "%s", at("data"));
    static char weights[1024];
    snprintf(student, sizeof student, "%s", at("src/weights/student"));
    snprintf(weights, sizeof weights, "%s", at("src/weights"));
    places.datadir = data;
    places.student_dir = student;
    places.source_weights_dir = weights;
    run_case("model_find_env_wins", test_env_wins);
    run_case("model_find_env_missing_is_an_error", test_env_missing_is_an_error);
    run_case("model_find_xdg_data_home", test_xdg);
    run_case("model_find_home_fallback", test_home_fallback);
    run_case("model_find_whitebox_then_student", test_whitebox_then_student);
    run_case("model_find_source_weights", test_source_weights);
    run_case("model_find_prefer_student", test_prefer_student);
    run_case("model_find_nothing_found", test_nothing_found);
    run_case("model_find_builtin_places", test_builtin_places);
    run_case("model_find_buffers", test_buffers);
    run_case("fetch_model_wrong_file", test_fetch_wrong_file);
    run_case("fetch_model_offline", test_fetch_offline);
    if (access(shared_path("models/whitebox_cartoon_gan_fp16.tflite"), R_OK) == 0)
        run_case("fetch_model_published", test_fetch_published);
    else
        skip_case("fetch_model_published", "the shared model is not available ($CARTOON_SHARED/models)");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", tmp);
    return check_summary();
}
