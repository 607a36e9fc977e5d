/* The cost model: cartoon_estimate_cost() and cartoon_context_calibrate().
 *
 * Memory: the Makefile links this test with -Wl,--wrap=malloc,calloc,realloc,aligned_alloc,free,
 * so every allocation of the library's own objects (and of this file) is counted here by its
 * requested size. The estimate must equal, byte for byte, what a fresh context keeps after a
 * call (arena + its buffers) and the peak it reaches during a later call (plus the
 * temporaries), at odd sizes, 1x1, with the resolution option (shrinking and enlarging),
 * keep_model_size, strength < 1 and an observer that wants data.
 *
 * Time: never checked for accuracy (the machine is shared and noisy); only that the prediction
 * is positive and grows with the size, that calibrating writes the cache file in a temporary
 * CARTOON_CACHE_DIR, that another context adopts it without measuring (file untouched: same
 * inode, same bytes), that damaged, foreign or mismatched files are ignored and replaced, that
 * the key follows the thread count, and the argument checks. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calibrate.h"
#include "cartoon.h"
#include "check.h"
#include "context.h"
#include "threadpool.h"

/* ------------------------------------------------------------------ allocation accounting */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
void __wrap_free(void *p);

/* Live allocations by address: linear probing with backward-shift deletion, no allocation of
 * its own. */
#define SLOTS (1u << 17)
static struct { void *p; size_t n; } slot[SLOTS];
static pthread_mutex_t acct_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t live, peak, n_live;
static int overflowed;

static size_t home(const void *p) { return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 47) & (SLOTS - 1); }

static void track(void *p, size_t n)
{
    if (!p) return;
    pthread_mutex_lock(&acct_lock);
    if (n_live + 1 >= SLOTS / 2) {
        overflowed = 1;
    } else {
        size_t i = home(p);
        while (slot[i].p) i = (i + 1) & (SLOTS - 1);
        slot[i].p = p;
        slot[i].n = n;
        n_live++;
        live += n;
        if (live > peak) peak = live;
    }
    pthread_mutex_unlock(&acct_lock);
}

static void untrack(void *p)
{
    if (!p) return;
    pthread_mutex_lock(&acct_lock);
    size_t i = home(p);
    while (slot[i].p && slot[i].p != p) i = (i + 1) & (SLOTS - 1);
    if (slot[i].p) {
        live -= slot[i].n;
        n_live--;
        for (size_t j = i;;) { /* backward shift */
            j = (j + 1) & (SLOTS - 1);
            if (!slot[j].p) break;
            size_t k = home(slot[j].p);
            if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
                slot[i] = slot[j];
                i = j;
            }
        }
        slot[i].p = NULL;
        slot[i].n = 0;
    }
    pthread_mutex_unlock(&acct_lock);
}

/* > 0: armed; the allocation that brings it to 0 fails (allocation-failure case) */
static long countdown;
static int fail_now(void)
{
    long c = __atomic_load_n(&countdown, __ATOMIC_SEQ_CST);
    return c > 0 && __atomic_sub_fetch(&countdown, 1, __ATOMIC_SEQ_CST) == 0;
}

void *__wrap_malloc(size_t n)
{
    if (fail_now()) return NULL;
    void *p = __real_malloc(n);
    track(p, n);
    return p;
}
void *__wrap_calloc(size_t n, size_t s)
{
    if (fail_now()) return NULL;
    void *p = __real_calloc(n, s);
    track(p, n * s);
    return p;
}
void *__wrap_aligned_alloc(size_t a, size_t n)
{
    if (fail_now()) return NULL;
    void *p = __real_aligned_alloc(a, n);
    track(p, n);
    return p;
}
void *__wrap_realloc(void *p, size_t n)
{
    if (fail_now()) return NULL;
    untrack(p);
    void *q = __real_realloc(p, n);
    if (q) track(q, n);
    else if (p && n) track(p, 0); /* failed: p lives on, its size unknown here */
    return q;
}
void __wrap_free(void *p) { untrack(p); __real_free(p); }

static size_t live_now(void)
{
    pthread_mutex_lock(&acct_lock);
    size_t v = live;
    pthread_mutex_unlock(&acct_lock);
    return v;
}
static void peak_reset(void)
{
    pthread_mutex_lock(&acct_lock);
    peak = live;
    pthread_mutex_unlock(&acct_lock);
}
static size_t peak_now(void)
{
    pthread_mutex_lock(&acct_lock);
    size_t v = peak;
    pthread_mutex_unlock(&acct_lock);
    return v;
}

/* ------------------------------------------------------------------ fixtures */

static cartoon_model *model;
static char tmp_root[256];

static cartoon_context *ctx_new(int threads)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.threads = threads;
    cartoon_context *c = NULL;
    char err[256] = "";
    CHECKF(cartoon_context_create(model, &o, &c, err, sizeof err) == CARTOON_OK, "%s", err);
    return c;
}

static void set_cache_dir(const char *name)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tmp_root, name);
    setenv("CARTOON_CACHE_DIR", dir, 1);
}

static const char *cache_file(void)
{
    static char path[4200];
    CHECK(ct_calibration_cache_path(path, sizeof path) == 0);
    return path;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

/* ------------------------------------------------------------------ memory */

typedef struct {
    int w, h;
    int resolution;
    float strength;
    int keep_model_size;
    int observe_data;
    const char *what;
} mem_case;

static void observer_nop(void *user, const cartoon_layer_info *info) { (void)user; (void)info; }
static void pool_nop(void *arg, int i, int tid) { (void)arg; (void)i; (void)tid; }

/* tile > 0: tiled (tiling.c) */
static void check_memory_case(const mem_case *mc, int tile)
{
    cartoon_options o;
    cartoon_options_default(&o);
    o.resolution = mc->resolution;
    o.strength = mc->strength;
    o.keep_model_size = mc->keep_model_size;
    o.tile = tile;
    int ow, oh;
    CHECK(cartoon_output_size(&o, mc->w, mc->h, &ow, &oh) == CARTOON_OK);
    size_t in_bytes = (size_t)mc->w * mc->h * 3, out_bytes = (size_t)ow * oh * 4;
    uint8_t *a = malloc(in_bytes), *b = malloc(out_bytes);
    fill(a, in_bytes, (unsigned)mc->w);
    cartoon_image in = {a, mc->w, mc->h, (size_t)mc->w * 3, CARTOON_PIXEL_RGB};
    cartoon_image out = {b, ow, oh, (size_t)ow * 4, CARTOON_PIXEL_RGBA};

    cartoon_context *c = ctx_new(2);
    if (!c) { free(a); free(b); return; }
    /* each pool worker frees its start-up argument when it first runs: make sure both have,
     * so that free does not land inside the measurement (ct_pool_run waits for every worker) */
    ct_pool_run(c->pool, 4, pool_nop, NULL);
    if (mc->observe_data) cartoon_context_set_observer(c, observer_nop, NULL, 1);
    cartoon_estimate e;
    CHECK(cartoon_estimate_cost(c, mc->w, mc->h, &o, &e) == CARTOON_OK);
    CHECK(e.out_width == ow && e.out_height == oh);
    CHECK(e.device_bytes == 0);

    size_t live0 = live_now();
    peak_reset();
    cartoon_status st = unet_cartoonize(c, &in, &out, &o);
    CHECKF(st == CARTOON_OK, "%s: %s", mc->what, cartoon_context_last_error(c));
    size_t held = live_now() - live0, first_peak = peak_now() - live0;
    uint64_t bufs = ((uint64_t)c->img_cap + c->stage_cap + c->obs_cap + c->tile_cap) * sizeof(float);
    CHECKF(cartoon_context_arena_bytes(c) == e.arena_bytes, "%s: arena %llu, estimated %llu", mc->what,
           (unsigned long long)cartoon_context_arena_bytes(c), (unsigned long long)e.arena_bytes);
    CHECKF(bufs == e.buffer_bytes, "%s: buffers %llu, estimated %llu", mc->what, (unsigned long long)bufs,
           (unsigned long long)e.buffer_bytes);
    CHECKF(held == e.arena_bytes + e.buffer_bytes, "%s: the context kept %zu bytes, estimated %llu + %llu",
           mc->what, held, (unsigned long long)e.arena_bytes, (unsigned long long)e.buffer_bytes);
    /* the first call resamples its input before the arena exists: its peak is not higher
     * (except with an observer that wants data: its copy buffer grows node by node, the old
     * one freed after the new one is allocated) */
    CHECKF(mc->observe_data || first_peak <= e.host_bytes, "%s: first call peaked at %zu bytes, estimated %llu", mc->what, first_peak,
           (unsigned long long)e.host_bytes);
    /* a later call holds the arena and buffers throughout: its peak is the estimate, exactly */
    peak_reset();
    st = unet_cartoonize(c, &in, &out, &o);
    CHECK(st == CARTOON_OK);
    size_t second_peak = peak_now() - live0;
    CHECKF(second_peak == e.host_bytes, "%s: peak %zu bytes, estimated %llu (transient %llu)", mc->what,
           second_peak, (unsigned long long)e.host_bytes, (unsigned long long)e.transient_bytes);
    CHECK(live_now() - live0 == held);
    CHECK(!overflowed);
    cartoon_context_free(c);
    free(a);
    free(b);
}

static void test_memory_exact(void)
{
    static const mem_case cases[] = {
        {256, 256, 0, 1.f, 0, 0, "256x256 native"},
        {1, 1, 0, 1.f, 0, 0, "1x1"},
        {37, 53, 0, 1.f, 0, 0, "37x53 odd"},
        {37, 53, 0, 0.5f, 0, 0, "37x53 strength 0.5"},
        {130, 67, 96, 1.f, 0, 0, "130x67 resolution 96 (shrink)"},
        {61, 90, 150, 1.f, 0, 0, "61x90 resolution 150 (enlarge)"},
        {90, 61, 64, 1.f, 1, 0, "90x61 resolution 64 keep_model_size"},
        {90, 61, 64, 0.25f, 1, 0, "90x61 resolution 64 keep_model_size strength 0.25"},
        {64, 48, 100, 0.5f, 0, 0, "64x48 resolution 100 strength 0.5"},
        {301, 7, 33, 1.f, 0, 0, "301x7 resolution 33"},
        {45, 45, 0, 1.f, 0, 1, "45x45 observer with data (no fusion, obs_buf)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) check_memory_case(&cases[k], 0);
    /* tiled: the tile's arena and buffer; at native size nothing of the image's size */
    static const mem_case tiled[] = {
        {203, 150, 0, 0.5f, 0, 0, "203x150 tile 32 (8-bit streaming)"},
        {130, 67, 200, 1.f, 0, 0, "130x67 resolution 200 tile 24 (float images held)"},
    };
    check_memory_case(&tiled[0], 32);
    check_memory_case(&tiled[1], 24);
}

/* ------------------------------------------------------------------ sizes */

static void test_working_size(void)
{
    cartoon_model_info info;
    CHECK(cartoon_model_get_info(model, &info) == CARTOON_OK);
    int pm = info.pad_multiple;
    cartoon_context *c = ctx_new(1);
    if (!c) return;
    static const int dims[][2] = {{1, 1}, {1, 500}, {500, 1}, {37, 53}, {640, 480}, {479, 1023}, {4096, 3}};
    static const int res[] = {0, 1, 7, 64, 100, 257, 1024};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (size_t r = 0; r < sizeof res / sizeof res[0]; r++)
            for (int keep = 0; keep < 2; keep++) {
                cartoon_options o;
                cartoon_options_default(&o);
                o.resolution = res[r];
                o.keep_model_size = keep;
                cartoon_options om = o;
                om.keep_model_size = 1;
                int w = dims[d][0], h = dims[d][1], mw, mh, ow, oh;
                CHECK(cartoon_output_size(&om, w, h, &mw, &mh) == CARTOON_OK);
                CHECK(cartoon_output_size(&o, w, h, &ow, &oh) == CARTOON_OK);
                cartoon_estimate e;
                CHECK(cartoon_estimate_cost(c, w, h, &o, &e) == CARTOON_OK);
                CHECKF(e.width == mw && e.height == mh, "%dx%d res %d: %dx%d, expected %dx%d", w, h, res[r],
                       e.width, e.height, mw, mh);
                CHECK(e.out_width == ow && e.out_height == oh);
                CHECK(e.padded_width == (mw + pm - 1) / pm * pm && e.padded_height == (mh + pm - 1) / pm * pm);
                CHECK(e.flops > 0 && e.seconds > 0);
                CHECK(e.host_bytes >= e.arena_bytes + e.buffer_bytes + e.transient_bytes);
            }
    cartoon_context_free(c);
}

/* ------------------------------------------------------------------ arguments */

static void test_bad_arguments(void)
{
    cartoon_estimate e;
    CHECK(cartoon_estimate_cost(NULL, 10, 10, NULL, &e) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_context_calibrate(NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_context *c = ctx_new(1);
    if (!c) return;
    CHECK(cartoon_estimate_cost(c, 10, 10, NULL, NULL) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_estimate_cost(c, 0, 10, NULL, &e) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_estimate_cost(c, 10, -3, NULL, &e) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_context_last_error(c)[0] != 0);
    cartoon_options o;
    cartoon_options_default(&o);
    o.strength = 2.f;
    CHECK(cartoon_estimate_cost(c, 10, 10, &o, &e) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_options_default(&o);
    o.resolution = -2; /* -1 is CARTOON_RESOLUTION_AUTO */
    CHECK(cartoon_estimate_cost(c, 10, 10, &o, &e) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_options_default(&o);
    o.quantize = (cartoon_quantize)7;
    CHECK(cartoon_estimate_cost(c, 10, 10, &o, &e) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_context_calibrate(c, 0x100) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_estimate_cost(c, 10, 10, NULL, &e) == CARTOON_OK);
    CHECK(cartoon_context_last_error(c)[0] == 0);
    cartoon_context_free(c);

    /* limits: the input, and the working size the resolution option makes */
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.device = CARTOON_DEVICE_CPU;
    co.threads = 1;
    co.max_pixels = 1000;
    CHECK(cartoon_context_create(model, &co, &c, NULL, 0) == CARTOON_OK);
    CHECK(cartoon_estimate_cost(c, 100, 100, NULL, &e) == CARTOON_E_LIMIT);
    cartoon_options_default(&o);
    o.resolution = 100;
    CHECK(cartoon_estimate_cost(c, 10, 10, &o, &e) == CARTOON_E_LIMIT);
    o.resolution = 20;
    CHECK(cartoon_estimate_cost(c, 10, 10, &o, &e) == CARTOON_OK);
    CHECK(cartoon_context_calibrate(c, CARTOON_CALIBRATE_NO_CACHE) == CARTOON_E_LIMIT); /* needs 32 x 32 */
    cartoon_context_free(c);
}

/* ------------------------------------------------------------------ time */

/* Predictions grow with the size, for square inputs and with the resolution option. */
static void check_monotonic(cartoon_context *c, cartoon_calibration want)
{
    static const int sizes[] = {1, 16, 32, 64, 100, 128, 200, 256, 512, 1024, 2048, 4096};
    double prev = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        cartoon_estimate e;
        CHECK(cartoon_estimate_cost(c, sizes[k], sizes[k], NULL, &e) == CARTOON_OK);
        CHECK(e.calibrated == want);
        CHECKF(e.seconds > 0 && e.seconds > prev, "%d: %g s after %g s", sizes[k], e.seconds, prev);
        prev = e.seconds;
    }
    prev = 0;
    for (int r = 64; r <= 2048; r *= 2) { /* the same 1000x700 picture at growing working sizes */
        cartoon_options o;
        cartoon_options_default(&o);
        o.resolution = r;
        cartoon_estimate e;
        CHECK(cartoon_estimate_cost(c, 1000, 700, &o, &e) == CARTOON_OK);
        CHECKF(e.seconds > prev, "resolution %d: %g s after %g s", r, e.seconds, prev);
        prev = e.seconds;
    }
}

static void test_uncalibrated_guess(void)
{
    set_cache_dir("empty");
    cartoon_context *c = ctx_new(1);
    if (!c) return;
    check_monotonic(c, CARTOON_CALIBRATION_NONE);
    struct stat st;
    CHECK(stat(cache_file(), &st) != 0); /* estimating never writes the cache */
    cartoon_context_free(c);
}

static int observed_nodes;
static void count_nodes(void *user, const cartoon_layer_info *info) { (void)user; (void)info; observed_nodes++; }

static json_t *load_json(const char *path)
{
    return json_load_file(path, 0, NULL);
}

static int file_same(const char *path, const struct stat *before, const char *bytes, size_t n)
{
    struct stat now;
    size_t m = 0;
    unsigned char *data = read_file_bytes(path, &m);
    int same = stat(path, &now) == 0 && now.st_ino == before->st_ino && data && m == n && !memcmp(data, bytes, n);
    free(data);
    return same;
}

static void test_calibration_cache(void)
{
    set_cache_dir("a/nested/dir"); /* created on the first write */
    cartoon_context *c1 = ctx_new(2);
    if (!c1) return;
    observed_nodes = 0;
    CHECK(cartoon_context_set_observer(c1, count_nodes, NULL, 0) == CARTOON_OK);
    CHECKF(cartoon_context_calibrate(c1, 0) == CARTOON_OK, "%s", cartoon_context_last_error(c1));
    CHECK(observed_nodes == 0);   /* the caller's observer was set aside ... */
    CHECK(c1->observer == count_nodes); /* ... and put back */
    cartoon_context_set_observer(c1, NULL, NULL, 0);
    check_monotonic(c1, CARTOON_CALIBRATION_MEASURED);

    /* the file: one entry with this context's key */
    const char *path = cache_file();
    json_t *root = load_json(path);
    CHECK(root && !strcmp(json_string_value(json_object_get(root, "format")), "libcartoon-calibration"));
    json_t *entries = json_object_get(root, "entries");
    CHECK(json_array_size(entries) == 1);
    json_t *key = json_object_get(json_array_get(entries, 0), "key");
    CHECK(json_integer_value(json_object_get(key, "threads")) == 2);
    CHECK(!strcmp(json_string_value(json_object_get(key, "device")), "cpu"));
    CHECK(json_string_value(json_object_get(key, "cpu")) && json_string_value(json_object_get(key, "isa")));
    CHECK(json_integer_value(json_object_get(json_object_get(key, "model"), "nodes")) == model->n_nodes);
    CHECK(!strcmp(json_string_value(json_object_get(key, "library")), cartoon_version_string()));
    CHECK(json_array_size(json_object_get(json_array_get(entries, 0), "nodes")) == (size_t)model->n_nodes);
    json_decref(root);

    struct stat before;
    CHECK(stat(path, &before) == 0);
    size_t n = 0;
    char *bytes = (char *)read_file_bytes(path, &n);

    /* a second context adopts it: no measuring, the file untouched */
    cartoon_context *c2 = ctx_new(2);
    CHECK(cartoon_context_calibrate(c2, 0) == CARTOON_OK);
    CHECK(c2->calib && c2->calib->source == CARTOON_CALIBRATION_CACHED && c2->calib->seconds == 0);
    CHECK(file_same(path, &before, bytes, n));
    check_monotonic(c2, CARTOON_CALIBRATION_CACHED);
    for (int s = 64; s <= 4096; s *= 4) { /* the same prediction, to the file's 10 digits */
        cartoon_estimate e1, e2;
        CHECK(cartoon_estimate_cost(c1, s, s, NULL, &e1) == CARTOON_OK);
        CHECK(cartoon_estimate_cost(c2, s, s, NULL, &e2) == CARTOON_OK);
        CHECKF(fabs(e1.seconds - e2.seconds) <= 1e-7 * e1.seconds, "%d: %.9g vs %.9g", s, e1.seconds, e2.seconds);
    }
    /* a third one finds it from cartoon_estimate_cost() alone */
    cartoon_context *c3 = ctx_new(2);
    cartoon_estimate e;
    CHECK(cartoon_estimate_cost(c3, 300, 200, NULL, &e) == CARTOON_OK && e.calibrated == CARTOON_CALIBRATION_CACHED);
    CHECK(file_same(path, &before, bytes, n));
    cartoon_context_free(c3);

    /* another thread count is another key: not read from this entry */
    cartoon_context *t1 = ctx_new(1);
    char k1[4096], k2[4096], k2b[4096];
    CHECK(ct_calibration_key(t1, k1, sizeof k1) == 0 && ct_calibration_key(c1, k2, sizeof k2) == 0 &&
          ct_calibration_key(c2, k2b, sizeof k2b) == 0);
    CHECK(strcmp(k1, k2) != 0 && strcmp(k2, k2b) == 0);
    CHECK(strstr(k1, "\"threads\":1") && strstr(k2, "\"threads\":2"));
    CHECK(cartoon_estimate_cost(t1, 300, 200, NULL, &e) == CARTOON_OK && e.calibrated == CARTOON_CALIBRATION_NONE);
    cartoon_context_free(t1);

    /* FORCE measures again and replaces the entry; other keys' entries are kept, at most 16 */
    root = load_json(path);
    entries = json_object_get(root, "entries");
    for (int i = 0; i < 20; i++) {
        json_t *other = json_deep_copy(json_array_get(entries, 0));
        json_object_set_new(json_object_get(other, "key"), "threads", json_integer(100 + i));
        json_array_append_new(entries, other);
    }
    CHECK(json_dump_file(root, path, 0) == 0);
    json_decref(root);
    CHECK(cartoon_context_calibrate(c2, CARTOON_CALIBRATE_FORCE) == CARTOON_OK);
    CHECK(c2->calib->source == CARTOON_CALIBRATION_MEASURED && c2->calib->seconds > 0);
    root = load_json(path);
    entries = json_object_get(root, "entries");
    CHECK(json_array_size(entries) == CT_CALIB_MAX_ENTRIES);
    CHECK(json_integer_value(json_object_get(json_object_get(json_array_get(entries, 0), "key"), "threads")) == 2);
    int ours = 0;
    for (size_t i = 0; i < json_array_size(entries); i++)
        ours += json_integer_value(json_object_get(json_object_get(json_array_get(entries, i), "key"), "threads")) == 2;
    CHECK(ours == 1);
    json_decref(root);
    /* without FORCE a context keeps the calibration it has */
    CHECK(cartoon_context_calibrate(c1, 0) == CARTOON_OK && c1->calib->source == CARTOON_CALIBRATION_MEASURED);
    free(bytes);
    cartoon_context_free(c1);
    cartoon_context_free(c2);
}

static void test_damaged_cache(void)
{
    set_cache_dir("b");
    /* NO_CACHE: measured, nothing written */
    cartoon_context *c = ctx_new(2);
    if (!c) return;
    CHECK(cartoon_context_calibrate(c, CARTOON_CALIBRATE_NO_CACHE) == CARTOON_OK);
    CHECK(c->calib && c->calib->source == CARTOON_CALIBRATION_MEASURED);
    struct stat st;
    const char *path = cache_file();
    CHECK(stat(path, &st) != 0);
    char key[4096];
    CHECK(ct_calibration_key(c, key, sizeof key) == 0);
    cartoon_context_free(c);

    char dir[512];
    snprintf(dir, sizeof dir, "%s/b", tmp_root);
    mkdir(dir, 0700);
    /* files that must be ignored: garbage, truncated, foreign, an entry of our key that is
     * malformed (wrong node count, a negative time) */
    char good_nodes[8192] = "";
    for (int i = 0; i < model->n_nodes; i++)
        snprintf(good_nodes + strlen(good_nodes), sizeof good_nodes - strlen(good_nodes), "%s[0.001, 0.5]", i ? "," : "");
    char bad_count[16384], negative[16384], valid[16384]; /* key + nodes + the template: never cut */
    const char *tmpl = "{\"format\": \"libcartoon-calibration\", \"version\": 1, \"entries\": [{\"key\": %s, "
                       "\"nodes\": [%s], \"overhead\": [%s, 0], \"resample\": 0}]}";
    CHECK(snprintf(bad_count, sizeof bad_count, tmpl, key, "[0.001, 0.5]", "0") < (int)sizeof bad_count);
    CHECK(snprintf(negative, sizeof negative, tmpl, key, good_nodes, "-1") < (int)sizeof negative);
    CHECK(snprintf(valid, sizeof valid, tmpl, key, good_nodes, "0") < (int)sizeof valid);
    const char *bad[] = {"\x01\x02garbage\xff", "{\"format\": \"libcartoon-calibration\", \"version\": 1, \"entr",
                         "{\"format\": \"something-else\", \"version\": 1, \"entries\": []}",
                         "[1, 2, 3]", bad_count, negative};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CHECK(write_file_bytes(path, bad[k], strlen(bad[k])) == 0);
        cartoon_context *x = ctx_new(2);
        cartoon_estimate e;
        CHECK(cartoon_estimate_cost(x, 256, 256, NULL, &e) == CARTOON_OK);
        CHECKF(e.calibrated == CARTOON_CALIBRATION_NONE, "file %zu was used", k);
        cartoon_context_free(x);
    }
    /* the well-formed version of the same entry is used (the test's hand-written times) */
    CHECK(write_file_bytes(path, valid, strlen(valid)) == 0);
    c = ctx_new(2);
    cartoon_estimate e;
    CHECK(cartoon_estimate_cost(c, 256, 256, NULL, &e) == CARTOON_OK && e.calibrated == CARTOON_CALIBRATION_CACHED);
    cartoon_context_free(c);

    /* a damaged file is replaced by calibrating */
    CHECK(write_file_bytes(path, bad[0], strlen(bad[0])) == 0);
    c = ctx_new(2);
    CHECK(cartoon_context_calibrate(c, 0) == CARTOON_OK && c->calib->source == CARTOON_CALIBRATION_MEASURED);
    json_t *root = load_json(path);
    CHECK(root && json_array_size(json_object_get(root, "entries")) == 1);
    json_decref(root);
    cartoon_context_free(c);
    c = ctx_new(2);
    CHECK(cartoon_estimate_cost(c, 256, 256, NULL, &e) == CARTOON_OK && e.calibrated == CARTOON_CALIBRATION_CACHED);
    cartoon_context_free(c);
}

/* Every allocation of an estimate and of a calibration (measuring, then writing the cache)
 * failed in turn: OUT_OF_MEMORY or success, nothing leaked once the context is freed, and the
 * context still works afterwards. Calibrates at 32 and 64 (max_pixels 64 x 64) to stay quick. */
static void test_allocation_failures(void)
{
    set_cache_dir("oom");
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.device = CARTOON_DEVICE_CPU;
    co.threads = 2;
    co.max_pixels = 64 * 64;
    for (int what = 0; what < 2; what++) {
        int done = 0;
        long n = 1;
        for (; n < 5000 && !done; n++) {
            size_t base = live_now();
            cartoon_context *c = NULL;
            if (cartoon_context_create(model, &co, &c, NULL, 0) != CARTOON_OK) { CHECK(0); return; }
            cartoon_options o;
            cartoon_options_default(&o);
            o.resolution = 50;
            o.strength = 0.5f;
            cartoon_estimate e;
            __atomic_store_n(&countdown, n, __ATOMIC_SEQ_CST);
            cartoon_status st = what == 0 ? cartoon_estimate_cost(c, 60, 20, &o, &e)
                                          : cartoon_context_calibrate(c, CARTOON_CALIBRATE_FORCE);
            int failed = __atomic_load_n(&countdown, __ATOMIC_SEQ_CST) == 0;
            __atomic_store_n(&countdown, 0, __ATOMIC_SEQ_CST);
            if (failed) {
                /* an allocation failed: reported, unless it was only the cache write's */
                CHECKF(st == CARTOON_E_OUT_OF_MEMORY || (what == 1 && st == CARTOON_OK), "%s %ld: %s",
                       what ? "calibrate" : "estimate", n, cartoon_status_name(st));
            } else {
                CHECK(st == CARTOON_OK);
                done = 1;
            }
            CHECK(cartoon_estimate_cost(c, 60, 20, &o, &e) == CARTOON_OK); /* still usable */
            cartoon_context_free(c);
            CHECKF(live_now() == base, "%s %ld: %zu bytes leaked", what ? "calibrate" : "estimate", n,
                   live_now() - base);
        }
        CHECK(done);
        printf("  %s: %ld allocations failed in turn\n", what ? "calibrate" : "estimate", n - 2);
    }
}

static void remove_tree(const char *root)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
}

int main(void)
{
    /* never the user's cache: every case points CARTOON_CACHE_DIR into this directory */
    snprintf(tmp_root, sizeof tmp_root, "/tmp/cartoon-test-estimate-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        printf("setup failed: mkdtemp\n");
        return 1;
    }
    set_cache_dir("unused");
    const char *path = test_model_path();
    char err[256];
    if (!path) {
        skip_case("estimate", "the shared model is not available");
        remove_tree(tmp_root);
        return check_summary();
    }
    if (cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        printf("setup failed: %s\n", err);
        return 1;
    }
    run_case("memory_estimate_equals_allocations", test_memory_exact);
    run_case("working_size_follows_options", test_working_size);
    run_case("bad_arguments_and_limits", test_bad_arguments);
    run_case("uncalibrated_guess_grows", test_uncalibrated_guess);
    run_case("calibration_cache_written_and_reused", test_calibration_cache);
    run_case("damaged_or_foreign_cache_ignored", test_damaged_cache);
    run_case("allocation_failures_are_clean", test_allocation_failures);
    cartoon_model_free(model);
    remove_tree(tmp_root);
    return check_summary();
}
