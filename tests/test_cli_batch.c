/* cartoonize over folders and pipes (issue 10), as a user runs it: a directory input (its
 * images only, non-images listed as skipped, a corrupt image reported with its path and the
 * run going on to exit 1), -R mirroring the tree, the refusals made before any work (output
 * inside the input tree, -o - for several inputs, -o naming a file for several inputs, two
 * inputs of one folder mapping to one output), '-' and '-o -' giving the same bytes as files,
 * --progress json (every stderr line of the run a JSON object), and -j changing nothing in the
 * results. Every result is compared with the single-file run of the same input. */
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"
#include "shell.h"

static const char *model;
static char tmp[] = "/tmp/cartoon-cli-batch-XXXXXX";
static char bin[512];

static const char *p(const char *rel) { return tmp_path(tmp, rel); }

static int exists(const char *path) { return access(path, F_OK) == 0; }

static void picture(const char *path, int w, int h, int seed)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (uint8_t)((i * 11 + seed * 97 + (i / (w * 3)) * 7) & 0xff);
    cartoon_image im = {px, w, h, (size_t)w * 3, CARTOON_PIXEL_RGB};
    CHECK(cartoon_image_write(path, &im, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_OK);
    free(px);
}

/* 1 when the two files have the same bytes */
static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = read_file_bytes(a, &na), *y = read_file_bytes(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* in/a.png in/b.jpg in/notes.txt in/broken.png in/sub/c.png in/sub/deeper/d.webp; the expected
 * result of each image made by a single-file run into ref/ */
static void setup(void)
{
    mkdir(p("in"), 0777);
    mkdir(p("in/sub"), 0777);
    mkdir(p("in/sub/deeper"), 0777);
    mkdir(p("ref"), 0777);
    picture(p("in/a.png"), 40, 32, 1);
    picture(p("in/b.jpg"), 48, 24, 2);
    picture(p("in/sub/c.png"), 32, 40, 3);
    picture(p("in/sub/deeper/d.webp"), 24, 24, 4);
    CHECK(write_file_bytes(p("in/notes.txt"), "not an image\n", 13) == 0);
    CHECK(write_file_bytes(p("in/broken.png"), "\x89PNG\r\n\x1a\n-truncated", 18) == 0);
    const char *imgs[][2] = {{"in/a.png", "ref/a.png"}, {"in/b.jpg", "ref/b.png"},
                             {"in/sub/c.png", "ref/c.png"}, {"in/sub/deeper/d.webp", "ref/d.png"}};
    for (int i = 0; i < 4; i++)
        CHECK(sh("%s -m %s %s -o %s 2>/dev/null", bin, model, p(imgs[i][0]), p(imgs[i][1])) == 0);
}

static void test_folder(void)
{
    char err[600];
    snprintf(err, sizeof err, "%s", p("folder.err")); /* p()'s buffers rotate */
    int rc = sh("%s -m %s %s -o %s 2>%s", bin, model, p("in"), p("out1"), err);
    CHECKF(rc == 1, "exit status %d (a corrupt image is in the folder)", rc);
    CHECK(same_file(p("out1/a.png"), p("ref/a.png")));
    CHECK(same_file(p("out1/b.png"), p("ref/b.png")));
    CHECK(!exists(p("out1/sub")) && !exists(p("out1/broken.png")) && !exists(p("out1/notes.png")));
    char *msg = slurp(err);
    CHECKF(msg && strstr(msg, "notes.txt: skipped, not an image") && strstr(msg, "broken.png") &&
               strstr(msg, "sub: skipped, a directory"),
           "%s", msg ? msg : "");
    free(msg);
}

static void test_recursive_mirror(void)
{
    int rc = sh("%s -m %s -R %s -o %s 2>/dev/null", bin, model, p("in"), p("out2"));
    CHECKF(rc == 1, "exit status %d", rc);
    CHECK(same_file(p("out2/a.png"), p("ref/a.png")));
    CHECK(same_file(p("out2/b.png"), p("ref/b.png")));
    CHECK(same_file(p("out2/sub/c.png"), p("ref/c.png")));
    CHECK(same_file(p("out2/sub/deeper/d.png"), p("ref/d.png")));
    /* the pipeline's thread counts change nothing in the results */
    rc = sh("%s -m %s -R -j 2:2:2 %s -o %s 2>/dev/null", bin, model, p("in"), p("out3"));
    CHECKF(rc == 1, "exit status %d", rc);
    CHECK(same_file(p("out3/sub/deeper/d.png"), p("ref/d.png")) && same_file(p("out3/a.png"), p("ref/a.png")));
    CHECK(sh("%s -m %s -j 2:2 %s -o %s 2>/dev/null", bin, model, p("in"), p("out3")) == 2);
    CHECK(sh("%s -m %s -j 0:1:1 %s -o %s 2>/dev/null", bin, model, p("in"), p("out3")) == 2);
}

static void test_refusals(void)
{
    /* output inside the input tree: exit 2, nothing created */
    CHECK(sh("%s -m %s -R %s -o %s 2>/dev/null", bin, model, p("in"), p("in/sub/out")) == 2);
    CHECK(!exists(p("in/sub/out")));
    CHECK(sh("%s -m %s %s -o %s 2>/dev/null", bin, model, p("in"), p("in")) == 2);
    /* -o - takes one image */
    CHECK(sh("%s -m %s %s %s -o - >/dev/null 2>/dev/null", bin, model, p("in/a.png"), p("in/b.jpg")) == 2);
    CHECK(sh("%s -m %s %s -o - >/dev/null 2>/dev/null", bin, model, p("in")) == 2);
    /* several inputs and -o naming an existing file: refused, the file untouched */
    picture(p("keep.png"), 8, 8, 9);
    CHECK(write_file_bytes(p("keep.bak"), "", 0) == 0);
    CHECK(sh("cp %s %s", p("keep.png"), p("keep.bak")) == 0);
    CHECK(sh("%s -m %s %s %s -o %s 2>/dev/null", bin, model, p("in/a.png"), p("in/b.jpg"), p("keep.png")) == 2);
    CHECK(same_file(p("keep.png"), p("keep.bak")));
    /* a.png and a.jpg in one folder both map to a.png: the second is refused, the first done */
    mkdir(p("dup"), 0777);
    CHECK(sh("cp %s %s && cp %s %s", p("in/a.png"), p("dup/a.png"), p("in/b.jpg"), p("dup/a.jpg")) == 0);
    char err[600];
    snprintf(err, sizeof err, "%s", p("dup.err"));
    CHECK(sh("%s -m %s %s -o %s 2>%s", bin, model, p("dup"), p("dupout"), err) == 1);
    char *msg = slurp(err);
    CHECKF(msg && strstr(msg, "a.png: skipped, its output"), "%s", msg ? msg : "");
    free(msg);
    CHECK(same_file(p("dupout/a.png"), p("ref/b.png"))); /* dup/a.jpg sorts first: it is b.jpg's picture */
    /* an unreadable path: reported, the rest done, exit 1 */
    CHECK(sh("%s -m %s %s %s -o %s 2>/dev/null", bin, model, p("nope.png"), p("in/a.png"), p("out4")) == 1);
    CHECK(same_file(p("out4/a.png"), p("ref/a.png")));
}

static void test_pipes(void)
{
    CHECK(sh("%s -m %s - -o - < %s > %s 2>/dev/null", bin, model, p("in/a.png"), p("piped.png")) == 0);
    CHECK(same_file(p("piped.png"), p("ref/a.png")));
    CHECK(sh("cat %s | %s -m %s - -o %s 2>/dev/null", p("in/b.jpg"), bin, model, p("piped_b.png")) == 0);
    CHECK(same_file(p("piped_b.png"), p("ref/b.png")));
    /* -o - in the format of -f */
    CHECK(sh("%s -m %s %s -o - -f webp > %s 2>/dev/null", bin, model, p("in/a.png"), p("piped.webp")) == 0);
    size_t n;
    unsigned char *b = read_file_bytes(p("piped.webp"), &n);
    CHECK(b && cartoon_file_format_sniff(b, n) == CARTOON_FILE_WEBP);
    free(b);
    /* garbage on standard input: exit 1, nothing on standard output */
    CHECK(sh("echo garbage | %s -m %s - -o - > %s 2>/dev/null", bin, model, p("garbage.out")) == 1);
    b = read_file_bytes(p("garbage.out"), &n);
    CHECK(b && n == 0);
    free(b);
}

static void test_progress_json(void)
{
    char err[600];
    snprintf(err, sizeof err, "%s", p("json.err"));
    CHECK(sh("%s -m %s --progress json %s %s %s -o %s 2>%s", bin, model, p("in/a.png"), p("in/broken.png"),
             p("in/b.jpg"), p("out5"), err) == 1);
    char *msg = slurp(err);
    int items = 0, start = 0, end = 0, lines = 0, bad = 0;
    for (char *line = msg ? strtok(msg, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "cartoonize: model: ", 19)) continue; /* said before the run starts */
        lines++;
        json_t *o = json_loads(line, 0, NULL);
        const char *ev = json_string_value(json_object_get(o, "event"));
        if (!ev) bad++;
        else if (!strcmp(ev, "start")) start += json_integer_value(json_object_get(o, "total")) == 3;
        else if (!strcmp(ev, "end"))
            end += json_integer_value(json_object_get(o, "done")) == 2 && json_integer_value(json_object_get(o, "failed")) == 1;
        else if (!strcmp(ev, "item")) {
            const char *st = json_string_value(json_object_get(o, "status"));
            const char *in = json_string_value(json_object_get(o, "input"));
            int want_fail = in && strstr(in, "broken.png");
            items += st && !strcmp(st, want_fail ? "failed" : "done") &&
                     json_integer_value(json_object_get(o, "index")) == items;
        }
        json_decref(o);
    }
    CHECKF(start == 1 && end == 1 && items == 3 && bad == 0, "start %d end %d items %d not-json %d (of %d lines)",
           start, end, items, bad, lines);
    free(msg);
    /* --progress none: only failures are reported */
    CHECK(sh("%s -m %s --progress none %s -o %s 2>%s", bin, model, p("in/a.png"), p("out6.png"), err) == 0);
    msg = slurp(err);
    CHECKF(msg && !strstr(msg, "[1/"), "%s", msg ? msg : "");
    free(msg);
    CHECK(sh("%s -m %s --progress bogus %s -o %s 2>/dev/null", bin, model, p("in/a.png"), p("out6.png")) == 2);
}

/* The result cache as the CLI uses it: on by default under $XDG_CACHE_HOME, a second run
 * answered from it with the same bytes, --no-cache touching nothing. */
static void test_cache(void)
{
    char xdg[600], xdg2[600], errf[600];
    snprintf(xdg, sizeof xdg, "%s", p("xdg"));
    snprintf(xdg2, sizeof xdg2, "%s", p("xdg2"));
    snprintf(errf, sizeof errf, "%s", p("cache.err"));
    CHECK(sh("XDG_CACHE_HOME=%s %s -m %s -v %s -o %s 2>%s", xdg, bin, model, p("in/a.png"), p("c1.png"), errf) == 0);
    char *msg = slurp(errf); /* a fresh run says nothing of the cache on its item line */
    CHECKF(msg && strstr(msg, "c1.png (") && !strstr(msg, "(cached"), "%s", msg ? msg : "");
    free(msg);
    CHECK(sh("XDG_CACHE_HOME=%s %s -m %s -v %s -o %s 2>%s", xdg, bin, model, p("in/a.png"), p("c2.png"), errf) == 0);
    msg = slurp(errf); /* the hit is named as such, not shown as a fast run */
    CHECKF(msg && strstr(msg, "result cache: 1 hits") && strstr(msg, "c2.png (cached, "), "%s", msg ? msg : "");
    free(msg);
    CHECK(same_file(p("c1.png"), p("ref/a.png")) && same_file(p("c2.png"), p("ref/a.png")));
    CHECK(sh("test -n \"$(find %s/libcartoon/results -name '*.ctr')\"", xdg) == 0);
    CHECK(sh("XDG_CACHE_HOME=%s %s -m %s --no-cache %s -o %s 2>/dev/null", xdg2, bin, model, p("in/a.png"), p("c3.png")) == 0);
    CHECK(same_file(p("c3.png"), p("ref/a.png")));
    CHECK(!exists(xdg2));
}

int main(void)
{
    snprintf(bin, sizeof bin, "%s/cartoonize", build_dir());
    model = test_model_path();
    if (!model) {
        skip_case("cli_batch", "the shared model is not available");
        return check_summary();
    }
    if (!mkdtemp(tmp)) return 1;
    setup();
    run_case("cli_folder_skips_and_reports", test_folder);
    run_case("cli_recursive_mirror_and_jobs", test_recursive_mirror);
    run_case("cli_refusals_before_work", test_refusals);
    run_case("cli_pipes", test_pipes);
    run_case("cli_progress_json", test_progress_json);
    run_case("cli_result_cache", test_cache);
    sh("rm -rf %s", tmp);
    return check_summary();
}
