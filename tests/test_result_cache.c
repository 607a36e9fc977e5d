/* The result cache (cartoon_batch.h) through cartoon_batch_run with the real model on small
 * pictures written here. Expectations come from runs without a cache: a hit must give exactly
 * the bytes of a fresh run; a changed option misses; a damaged entry is ignored, counted and
 * replaced; two processes filling one directory at once leave only whole entries; eviction
 * keeps the directory under its cap and drops the least recently used first; the similar
 * mode answers a one-pixel-changed copy with the earlier result, the exact mode does not. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cartoon.h"
#include "cartoon_batch.h"
#include "cartoon_io.h"
#include "check.h"

#define N 4
static const char *model_path;
static cartoon_model *model;
static cartoon_context *ctx;
static char tmp[] = "/tmp/cartoon-cache-XXXXXX";
static char inputs[N][300];
static unsigned char *fresh[N]; /* PNG bytes of a run without cache */
static size_t fresh_size[N];

typedef struct {
    unsigned char *bytes[N];
    size_t size[N];
    int cached[N];
} got;

static void on_item(void *user, const cartoon_batch_event *ev)
{
    got *g = user;
    if (ev->index < N && ev->data) {
        g->bytes[ev->index] = malloc(ev->size);
        memcpy(g->bytes[ev->index], ev->data, ev->size);
        g->size[ev->index] = ev->size;
        g->cached[ev->index] = ev->cached;
    }
}

static void got_free(got *g)
{
    for (int i = 0; i < N; i++) free(g->bytes[i]);
    memset(g, 0, sizeof *g);
}

/* Runs inputs[first..first+n) to memory as PNG with the cache c (may be NULL). */
static void run(cartoon_result_cache *c, float strength, int first, int n, got *g)
{
    cartoon_batch_item items[N];
    for (int i = 0; i < n; i++) items[i] = (cartoon_batch_item){.input = inputs[first + i], .output = NULL, .format = CARTOON_FILE_PNG};
    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.opt.strength = strength;
    bo.cache = c;
    bo.cache_tag = "test";
    bo.on_item = on_item;
    bo.user = g;
    memset(g, 0, sizeof *g);
    CHECK(cartoon_batch_run(&ctx, 1, items, (size_t)n, &bo, NULL, NULL, 0) == CARTOON_OK);
}

static void picture(const char *path, int w, int h, int seed, int tweak)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (uint8_t)((i * 3 + seed * 53 + (i / (w * 3)) * 9) & 0xff);
    px[(h / 2) * w * 3 + (w / 2) * 3] ^= (uint8_t)tweak; /* one pixel of one channel */
    cartoon_image im = {px, w, h, (size_t)w * 3, CARTOON_PIXEL_RGB};
    CHECK(cartoon_image_write(path, &im, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_OK);
    free(px);
}

static int same(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
    return a && b && na == nb && !memcmp(a, b, na);
}

/* Calls fn on every entry file under dir (two levels: the cache's fan-out folders); returns
 * the sum of what fn returned. */
static int each_entry(const char *dir, int (*fn)(const char *path, void *user), void *user)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[700];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        DIR *d2 = opendir(sub);
        struct dirent *f;
        while (d2 && (f = readdir(d2))) {
            if (f->d_name[0] == '.') continue;
            char p[1000];
            snprintf(p, sizeof p, "%s/%s", sub, f->d_name);
            n += fn(p, user);
        }
        if (d2) closedir(d2);
    }
    if (d) closedir(d);
    return n;
}

static int add_size(const char *path, void *user)
{
    struct stat st;
    if (stat(path, &st)) return 0;
    *(uint64_t *)user += (uint64_t)st.st_size;
    return 1;
}

/* Entry files under dir, their total size in *bytes. */
static int count_entries(const char *dir, uint64_t *bytes)
{
    *bytes = 0;
    return each_entry(dir, add_size, bytes);
}

static void cache_dir(const char *name, char *out, size_t n) { snprintf(out, n, "%s/%s", tmp, name); }

static void test_hit_is_fresh_bytes(void)
{
    char dir[400];
    cache_dir("c1", dir, sizeof dir);
    cartoon_result_cache *c = NULL;
    char err[256];
    CHECKF(cartoon_result_cache_open(dir, model_path, 0, 0, &c, err, sizeof err) == CARTOON_OK, "%s", err);
    if (!c) return;
    got a, b;
    run(c, 1.f, 0, N, &a);
    run(c, 1.f, 0, N, &b);
    uint64_t st[6];
    cartoon_result_cache_stats(c, st);
    CHECKF(st[0] == N && st[2] == N && st[3] == N, "hits %llu misses %llu stores %llu", (unsigned long long)st[0],
           (unsigned long long)st[2], (unsigned long long)st[3]);
    for (int i = 0; i < N; i++) {
        CHECK(!a.cached[i] && b.cached[i]);
        CHECK(same(a.bytes[i], a.size[i], fresh[i], fresh_size[i]));
        CHECK(same(b.bytes[i], b.size[i], fresh[i], fresh_size[i]));
    }
    got_free(&a);
    got_free(&b);
    /* another option: a miss, and a different result */
    run(c, 0.5f, 0, 1, &a);
    CHECK(!a.cached[0] && a.bytes[0] && !same(a.bytes[0], a.size[0], fresh[0], fresh_size[0]));
    got_free(&a);
    cartoon_result_cache_close(c);
}

static int damage_one(const char *path, void *user)
{
    size_t sz;
    unsigned char *b = read_file_bytes(path, &sz);
    int n = 0;
    if (b && sz > 60) {
        b[sz / 2] ^= 0x5a;
        n = write_file_bytes(path, b, sz) == 0;
    }
    free(b);
    return n;
}

/* Flips a byte in the middle of every entry of dir. */
static int damage_all(const char *dir) { return each_entry(dir, damage_one, NULL); }

static void test_damaged_entry(void)
{
    char dir[400];
    cache_dir("c2", dir, sizeof dir);
    cartoon_result_cache *c = NULL;
    CHECK(cartoon_result_cache_open(dir, model_path, 0, 0, &c, NULL, 0) == CARTOON_OK);
    if (!c) return;
    got a;
    run(c, 1.f, 0, 1, &a);
    got_free(&a);
    CHECK(damage_all(dir) == 1);
    run(c, 1.f, 0, 1, &a); /* the damaged entry is ignored: a fresh run, stored again */
    CHECK(!a.cached[0] && same(a.bytes[0], a.size[0], fresh[0], fresh_size[0]));
    got_free(&a);
    run(c, 1.f, 0, 1, &a); /* and replaced */
    CHECK(a.cached[0] && same(a.bytes[0], a.size[0], fresh[0], fresh_size[0]));
    got_free(&a);
    uint64_t st[6];
    cartoon_result_cache_stats(c, st);
    CHECK(st[4] == 1);
    cartoon_result_cache_close(c);
}

/* The child of test_two_processes, a process of its own (exec'd, not only forked: sanitizers
 * and the engine's threads want a fresh process): three runs through the shared cache, each
 * compared with a run without it. Exit status 0 when all were equal. */
static int child_main(const char *dir)
{
    cartoon_result_cache *c = NULL;
    if (cartoon_result_cache_open(dir, model_path, 0, 0, &c, NULL, 0) != CARTOON_OK) return 3;
    got ref, g;
    run(NULL, 1.f, 0, N, &ref);
    for (int rep = 0; rep < 3; rep++) {
        run(c, 1.f, 0, N, &g);
        for (int i = 0; i < N; i++)
            if (!same(g.bytes[i], g.size[i], ref.bytes[i], ref.size[i])) return 4;
        got_free(&g);
    }
    got_free(&ref);
    cartoon_result_cache_close(c);
    return check_failures_in_case ? 5 : 0;
}

static const char *self_path;

static void test_two_processes(void)
{
    char dir[400];
    cache_dir("c3", dir, sizeof dir);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            execl(self_path, self_path, "--child", tmp, dir, (char *)NULL);
            _exit(127);
        }
    }
    for (int k = 0; k < 2; k++) {
        int st = -1;
        if (kids[k] > 0) waitpid(kids[k], &st, 0);
        CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d status %d", k, st);
    }
    uint64_t bytes;
    CHECK(count_entries(dir, &bytes) == N); /* one entry per key, no temporary file left */
    cartoon_result_cache *c = NULL;
    CHECK(cartoon_result_cache_open(dir, model_path, 0, 0, &c, NULL, 0) == CARTOON_OK);
    if (!c) return;
    got g;
    run(c, 1.f, 0, N, &g);
    for (int i = 0; i < N; i++) CHECK(g.cached[i] && same(g.bytes[i], g.size[i], fresh[i], fresh_size[i]));
    got_free(&g);
    cartoon_result_cache_close(c);
}

static void test_eviction_lru(void)
{
    char dir[400];
    cache_dir("c4", dir, sizeof dir);
    size_t biggest = 0;
    for (int i = 0; i < N; i++)
        if (fresh_size[i] > biggest) biggest = fresh_size[i];
    uint64_t cap = (uint64_t)(biggest + 40) * 5 / 2; /* room for two entries and a half */
    cartoon_result_cache *c = NULL;
    CHECK(cartoon_result_cache_open(dir, model_path, cap, 0, &c, NULL, 0) == CARTOON_OK);
    if (!c) return;
    got g;
    for (int i = 0; i < N; i++) { /* one at a time, so that their times are in order */
        run(c, 1.f, i, 1, &g);
        got_free(&g);
        usleep(20000);
    }
    uint64_t bytes;
    int n = count_entries(dir, &bytes);
    CHECKF(bytes <= cap && n >= 1 && n < N, "%d entries, %llu bytes, cap %llu", n, (unsigned long long)bytes,
           (unsigned long long)cap);
    run(c, 1.f, N - 1, 1, &g); /* the newest survived */
    CHECK(g.cached[0] && same(g.bytes[0], g.size[0], fresh[N - 1], fresh_size[N - 1]));
    got_free(&g);
    run(c, 1.f, 0, 1, &g); /* the oldest did not */
    CHECK(!g.cached[0] && same(g.bytes[0], g.size[0], fresh[0], fresh_size[0]));
    got_free(&g);
    uint64_t st[6];
    cartoon_result_cache_stats(c, st);
    CHECK(st[5] >= 1);
    cartoon_result_cache_close(c);
}

static void test_similar_opt_in(void)
{
    char tweaked[300];
    snprintf(tweaked, sizeof tweaked, "%s/tweaked.png", tmp);
    picture(tweaked, 64, 48, 0, 1); /* inputs[0] with one byte changed by one level */
    for (int similar = 0; similar < 2; similar++) {
        char dir[400];
        cache_dir(similar ? "c5s" : "c5e", dir, sizeof dir);
        cartoon_result_cache *c = NULL;
        CHECK(cartoon_result_cache_open(dir, model_path, 0, similar, &c, NULL, 0) == CARTOON_OK);
        if (!c) return;
        got g;
        run(c, 1.f, 0, 1, &g);
        got_free(&g);
        char keep[300];
        memcpy(keep, inputs[0], sizeof keep);
        snprintf(inputs[0], sizeof inputs[0], "%s", tweaked);
        run(c, 1.f, 0, 1, &g);
        memcpy(inputs[0], keep, sizeof keep);
        uint64_t st[6];
        cartoon_result_cache_stats(c, st);
        if (similar) CHECK(g.cached[0] && st[1] == 1 && same(g.bytes[0], g.size[0], fresh[0], fresh_size[0]));
        else CHECK(!g.cached[0] && st[1] == 0);
        got_free(&g);
        cartoon_result_cache_close(c);
    }
}

static void test_open_errors(void)
{
    cartoon_result_cache *c = (cartoon_result_cache *)1;
    char err[256], dir[400];
    cache_dir("c6", dir, sizeof dir);
    CHECK(cartoon_result_cache_open(dir, "/nonexistent.safetensors", 0, 0, &c, err, sizeof err) == CARTOON_E_IO &&
          c == NULL && err[0]);
    CHECK(cartoon_result_cache_open(dir, NULL, 0, 0, &c, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_result_cache_open("/proc/no/such/dir", model_path, 0, 0, &c, err, sizeof err) == CARTOON_E_IO);
    uint64_t st[6] = {1, 1, 1, 1, 1, 1};
    cartoon_result_cache_stats(NULL, st);
    CHECK(st[0] == 0 && st[5] == 0);
    cartoon_result_cache_close(NULL);
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    int child = argc == 4 && !strcmp(argv[1], "--child");
    model_path = test_model_path();
    char err[256];
    if (!model_path || cartoon_model_load(model_path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        skip_case("result_cache", "the shared model is not available");
        return check_summary();
    }
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.device = CARTOON_DEVICE_CPU;
    if (child) snprintf(tmp, sizeof tmp, "%s", argv[2]); /* the parent's inputs */
    if ((!child && !mkdtemp(tmp)) || cartoon_context_create(model, &co, &ctx, err, sizeof err) != CARTOON_OK) return 1;
    for (int i = 0; i < N; i++) {
        snprintf(inputs[i], sizeof inputs[i], "%s/in%d.png", tmp, i);
        if (!child) picture(inputs[i], 64 - 8 * (i % 2), 48, i, 0);
    }
    if (child) {
        int rc = child_main(argv[3]);
        cartoon_context_free(ctx);
        cartoon_model_free(model);
        return rc;
    }
    got g;
    run(NULL, 1.f, 0, N, &g);
    for (int i = 0; i < N; i++) {
        fresh[i] = g.bytes[i];
        fresh_size[i] = g.size[i];
    }
    run_case("cache_hit_is_fresh_bytes", test_hit_is_fresh_bytes);
    run_case("cache_damaged_entry_replaced", test_damaged_entry);
    run_case("cache_two_processes", test_two_processes);
    run_case("cache_eviction_lru", test_eviction_lru);
    run_case("cache_similar_opt_in", test_similar_opt_in);
    run_case("cache_open_errors", test_open_errors);
    for (int i = 0; i < N; i++) free(fresh[i]);
    cartoon_context_free(ctx);
    cartoon_model_free(model);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return check_summary();
}
