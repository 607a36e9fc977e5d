/* Where programs find the model when none is named: cartoon_model_find_default()'s order
 * ($CARTOON_MODEL, then $XDG_DATA_HOME or $HOME/.local/share, then the installed data
 * directory), what `searched` reports, and its buffer errors; and scripts/fetch-model.sh:
 * a wrong file is refused and deleted, an unreachable address gives the offline advice, the
 * published file (the shared copy, through a file:// address) is accepted. Works in
 * directories it creates under /tmp and sets the environment with setenv/unsetenv. */
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

#ifndef CARTOON_DATADIR /* the Makefile passes the library's own */
#define CARTOON_DATADIR "/usr/local/share/libcartoon"
#endif
#define INSTALLED CARTOON_DATADIR "/whitebox.safetensors"

static char tmp[] = "/tmp/cartoon-model-find-XXXXXX";
static char path[4096], searched[16384];

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

static int installed_exists(void)
{
    struct stat st;
    return stat(INSTALLED, &st) == 0;
}

static cartoon_status find(void)
{
    memset(path, '?', sizeof path);
    memset(searched, '?', sizeof searched);
    return cartoon_model_find_default(path, sizeof path, searched, sizeof searched);
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

/* A clean environment: nothing set, HOME and XDG pointing at empty directories. */
static void reset_env(void)
{
    unsetenv("CARTOON_MODEL");
    setenv("XDG_DATA_HOME", at("empty-xdg"), 1);
    setenv("HOME", at("empty-home"), 1);
}

static void test_env_wins(void)
{
    reset_env();
    touch(at("env/my-model.safetensors"));
    touch(at("xdg/libcartoon/whitebox.safetensors"));
    setenv("CARTOON_MODEL", at("env/my-model.safetensors"), 1);
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("env/my-model.safetensors")), "%s", path);
    CHECKF(lines() == 1 && !strcmp(line(0), at("env/my-model.safetensors")), "%s", searched);
    /* an empty CARTOON_MODEL counts as unset */
    setenv("CARTOON_MODEL", "", 1);
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/whitebox.safetensors")), "%s", path);
}

static void test_env_missing_is_an_error(void)
{
    reset_env();
    touch(at("xdg/libcartoon/whitebox.safetensors")); /* there, but not looked at */
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    setenv("CARTOON_MODEL", at("env/nonexistent.safetensors"), 1);
    CHECK(find() == CARTOON_E_IO);
    CHECK(path[0] == 0);
    CHECKF(lines() == 1 && strstr(searched, "CARTOON_MODEL") && strstr(searched, at("env/nonexistent.safetensors")) &&
               strstr(searched, "not found"),
           "%s", searched);
    /* a directory is not a model file either */
    setenv("CARTOON_MODEL", at("env"), 1);
    CHECK(find() == CARTOON_E_IO);
    CHECKF(strstr(searched, "directory") != NULL, "%s", searched);
}

static void test_xdg(void)
{
    reset_env();
    touch(at("xdg/libcartoon/whitebox.safetensors"));
    touch(at("home/.local/share/libcartoon/whitebox.safetensors"));
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    setenv("HOME", at("home"), 1);
    CHECK(find() == CARTOON_OK);
    CHECKF(!strcmp(path, at("xdg/libcartoon/whitebox.safetensors")), "%s", path);
    CHECKF(lines() == 2 && !strcmp(line(0), "$CARTOON_MODEL (not set)") &&
               !strcmp(line(1), at("xdg/libcartoon/whitebox.safetensors")),
           "%s", searched);
    /* XDG_DATA_HOME is the user's data directory: $HOME/.local/share is not looked at */
    setenv("XDG_DATA_HOME", at("empty-xdg"), 1);
    if (!installed_exists()) {
        CHECK(find() == CARTOON_E_IO);
        CHECKF(!strstr(searched, ".local/share"), "%s", searched);
    }
}

static void test_home_fallback(void)
{
    reset_env();
    touch(at("home/.local/share/libcartoon/whitebox.safetensors"));
    setenv("HOME", at("home"), 1);
    const char *want = at("home/.local/share/libcartoon/whitebox.safetensors");
    const char *xdg_values[] = {NULL, "", "relative/data"}; /* unset, empty, not absolute */
    for (int i = 0; i < 3; i++) {
        if (xdg_values[i]) setenv("XDG_DATA_HOME", xdg_values[i], 1);
        else unsetenv("XDG_DATA_HOME");
        CHECK(find() == CARTOON_OK);
        CHECKF(!strcmp(path, want), "XDG_DATA_HOME=%s: %s", xdg_values[i] ? xdg_values[i] : "(unset)", path);
    }
    /* a directory where the file should be is passed over, and said so */
    reset_env();
    mkdirs(at("dirhome/.local/share/libcartoon/whitebox.safetensors"));
    setenv("HOME", at("dirhome"), 1);
    unsetenv("XDG_DATA_HOME");
    cartoon_status st = find();
    CHECK(installed_exists() ? st == CARTOON_OK : st == CARTOON_E_IO);
    CHECKF(strstr(line(1), "a directory") != NULL, "%s", searched);
}

static void test_nothing_found(void)
{
    if (installed_exists()) {
        fprintf(stderr, "  (%s exists on this machine: the not-found case is not checked)\n", INSTALLED);
        return;
    }
    reset_env();
    CHECK(find() == CARTOON_E_IO);
    CHECK(path[0] == 0);
    char want[1200];
    snprintf(want, sizeof want, "%s (not found)", at("empty-xdg/libcartoon/whitebox.safetensors"));
    CHECKF(lines() == 3, "%d lines: %s", lines(), searched);
    CHECKF(!strcmp(line(0), "$CARTOON_MODEL (not set)"), "%s", line(0));
    CHECKF(!strcmp(line(1), want), "%s", line(1));
    CHECKF(!strcmp(line(2), INSTALLED " (not found)"), "%s", line(2));
    CHECK(searched[strlen(searched) - 1] != '\n');
    /* neither XDG_DATA_HOME nor HOME: the user's directory is reported as not looked at */
    unsetenv("XDG_DATA_HOME");
    unsetenv("HOME");
    CHECK(find() == CARTOON_E_IO);
    CHECKF(lines() == 3 && strstr(line(1), "not set"), "%s", searched);
    /* searched is optional */
    reset_env();
    CHECK(cartoon_model_find_default(path, sizeof path, NULL, 0) == CARTOON_E_IO);
}

static void test_buffers(void)
{
    reset_env();
    touch(at("xdg/libcartoon/whitebox.safetensors"));
    setenv("XDG_DATA_HOME", at("xdg"), 1);
    const char *want = at("xdg/libcartoon/whitebox.safetensors");
    size_t n = strlen(want);
    char small[4096], list[16384];
    /* exactly enough, then one byte short */
    CHECK(cartoon_model_find_default(small, n + 1, NULL, 0) == CARTOON_OK && !strcmp(small, want));
    CHECK(cartoon_model_find_default(small, n, NULL, 0) == CARTOON_E_LIMIT && small[0] == 0);
    CHECK(cartoon_model_find_default(small, 1, list, sizeof list) == CARTOON_E_LIMIT && small[0] == 0);
    /* searched too small: an error too, keeping the whole lines that fit */
    CHECK(cartoon_model_find_default(small, sizeof small, list, 10) == CARTOON_E_LIMIT && small[0] == 0);
    CHECK(list[0] == 0);
    CHECK(cartoon_model_find_default(small, sizeof small, list, 30) == CARTOON_E_LIMIT);
    CHECKF(!strcmp(list, "$CARTOON_MODEL (not set)"), "%s", list);
    /* NULL and zero sizes */
    CHECK(cartoon_model_find_default(NULL, 100, list, sizeof list) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_find_default(small, 0, list, sizeof list) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_find_default(small, sizeof small, NULL, 10) == CARTOON_E_INVALID_ARGUMENT);
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
    run_case("model_find_env_wins", test_env_wins);
    run_case("model_find_env_missing_is_an_error", test_env_missing_is_an_error);
    run_case("model_find_xdg_data_home", test_xdg);
    run_case("model_find_home_fallback", test_home_fallback);
    run_case("model_find_nothing_found", test_nothing_found);
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
