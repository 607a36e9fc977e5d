/* Allocation-failure injection. The Makefile links this test with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc, so every allocation made
 * from the library's own objects (and from this file) goes through the __wrap_ functions
 * below. For N = 1, 2, 3, ... the Nth allocation of an operation fails, until a run completes
 * without reaching N. Each operation must then fail with CARTOON_E_OUT_OF_MEMORY (never
 * crash, never leak: the glibc heap's in-use bytes are compared before and after), and after
 * a failed cartoon_forward / unet_cartoonize the same context must succeed on the next call
 * with output identical to a context that never failed.
 *
 * Only the library's allocations are wrapped: those made inside shared libraries (jansson,
 * libpng, libjpeg, libwebp, libexif, OpenBLAS) call malloc directly and are not failed here. */
#define _GNU_SOURCE
#include <dirent.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

static long countdown; /* > 0: armed; the allocation that brings it to 0 fails */
static int hit;        /* the armed failure happened */
static long n_allocs;  /* allocations while armed */

static int fail_now(void)
{
    long c = __atomic_load_n(&countdown, __ATOMIC_SEQ_CST);
    if (c <= 0) return 0;
    __atomic_add_fetch(&n_allocs, 1, __ATOMIC_SEQ_CST);
    if (__atomic_sub_fetch(&countdown, 1, __ATOMIC_SEQ_CST) == 0) {
        __atomic_store_n(&hit, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { return fail_now() ? NULL : __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return fail_now() ? NULL : __real_aligned_alloc(a, n); }

static void arm(long n) { hit = 0; n_allocs = 0; __atomic_store_n(&countdown, n, __ATOMIC_SEQ_CST); }
static void disarm(void) { __atomic_store_n(&countdown, 0, __ATOMIC_SEQ_CST); }

/* Heap bytes in use (glibc); 0 under sanitizers, whose allocator does not report here and
 * whose leak checker covers this instead. */
static size_t live_bytes(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
#else
    return 0;
#endif
}

#define MAX_N 20000

/* ------------------------------------------------------------------ fixtures */

static unsigned char *model_bytes;
static size_t model_size;
static cartoon_model *model; /* loaded with failures off */

enum { H = 13, W = 9 };
static float in_f[H * W * 3], ref_f[H * W * 3];
static uint8_t in_px[H * W * 3];

static cartoon_context *new_ctx(void)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.threads = 1;
    cartoon_context *c = NULL;
    CHECK(cartoon_context_create(model, &o, &c, NULL, 0) == CARTOON_OK);
    return c;
}

/* One step of a failure sweep; returns 1 when the run completed without reaching N. */
static int sweep_done(const char *what, long n, cartoon_status st, size_t before, size_t after)
{
    if (!hit) {
        CHECKF(st == CARTOON_OK, "%s: failed (%s) without an allocation failure", what, cartoon_status_name(st));
        return 1;
    }
    CHECKF(st == CARTOON_OK || st == CARTOON_E_OUT_OF_MEMORY, "%s: allocation %ld failed, got %s", what, n,
           cartoon_status_name(st));
    CHECKF(before == after, "%s: allocation %ld failed: %zd bytes leaked", what, n, (ssize_t)(after - before));
    return 0;
}

static void test_model_load(void)
{
    long n;
    for (n = 1; n < MAX_N; n++) {
        char err[256];
        cartoon_model *m = (cartoon_model *)1;
        size_t before = live_bytes();
        arm(n);
        cartoon_status st = cartoon_model_load_memory(model_bytes, model_size, NULL, &m, err, sizeof err);
        disarm();
        if (st) CHECKF(m == NULL, "failed load returned a model");
        cartoon_model_free(st ? NULL : m);
        if (sweep_done("cartoon_model_load_memory", n, st, before, live_bytes())) break;
    }
    printf("  cartoon_model_load_memory: %ld allocation points\n", n - 1);
}

static void test_context_create(void)
{
    for (int threads = 1; threads <= 2; threads++) {
        long n;
        for (n = 1; n < MAX_N; n++) {
            cartoon_context_options o;
            cartoon_context_options_default(&o);
            o.device = CARTOON_DEVICE_CPU;
            o.threads = threads;
            cartoon_context *c = (cartoon_context *)1;
            size_t before = live_bytes();
            arm(n);
            cartoon_status st = cartoon_context_create(model, &o, &c, NULL, 0);
            disarm();
            if (st) CHECK(c == NULL);
            cartoon_context_free(st ? NULL : c);
            if (sweep_done("cartoon_context_create", n, st, before, live_bytes())) break;
        }
        printf("  cartoon_context_create (threads=%d): %ld allocation points\n", threads, n - 1);
    }
}

static void test_forward(void)
{
    long n;
    for (n = 1; n < MAX_N; n++) {
        size_t before = live_bytes();
        cartoon_context *c = new_ctx();
        if (!c) return;
        float out[H * W * 3];
        arm(n);
        cartoon_status st = cartoon_forward(c, in_f, H, W, out);
        disarm();
        int h = hit;
        if (st == CARTOON_OK) {
            CHECKF(!memcmp(out, ref_f, sizeof out), "forward: allocation %ld failed, success with different output", n);
        } else {
            /* the same context, failures off: must work and match */
            memset(out, 0, sizeof out);
            cartoon_status st2 = cartoon_forward(c, in_f, H, W, out);
            CHECKF(st2 == CARTOON_OK && !memcmp(out, ref_f, sizeof out),
                   "forward: after allocation %ld failed, the context gives %s / different output", n,
                   cartoon_status_name(st2));
        }
        cartoon_context_free(c);
        hit = h;
        if (sweep_done("cartoon_forward", n, st, before, live_bytes())) break;
    }
    printf("  cartoon_forward: %ld allocation points\n", n - 1);
}

/* Also after a successful run at another size, so that failures hit a context that already
 * owns an arena (replanning). */
static void test_forward_replan(void)
{
    long n;
    for (n = 1; n < MAX_N; n++) {
        cartoon_context *c = new_ctx();
        if (!c) return;
        float small[5 * 4 * 3], sout[5 * 4 * 3], out[H * W * 3];
        for (int i = 0; i < 60; i++) small[i] = (float)i / 30.f - 1.f;
        CHECK(cartoon_forward(c, small, 5, 4, sout) == CARTOON_OK);
        arm(n);
        cartoon_status st = cartoon_forward(c, in_f, H, W, out);
        disarm();
        int h = hit;
        if (st != CARTOON_OK) {
            CHECKF(cartoon_forward(c, in_f, H, W, out) == CARTOON_OK && !memcmp(out, ref_f, sizeof out),
                   "forward (replan): context broken after allocation %ld failed", n);
        } else {
            CHECK(!memcmp(out, ref_f, sizeof out));
        }
        cartoon_context_free(c);
        hit = h;
        if (sweep_done("cartoon_forward (replan)", n, st, 0, 0)) break;
    }
    printf("  cartoon_forward after a run at another size: %ld allocation points\n", n - 1);
}

static void test_cartoonize(void)
{
    static const int resolutions[] = {0, 8}; /* native; resampled down and back up */
    for (int r = 0; r < 2; r++) {
        cartoon_options opt;
        cartoon_options_default(&opt);
        opt.resolution = resolutions[r];
        opt.strength = 0.75f;
        cartoon_image in = {in_px, W, H, W * 3, CARTOON_PIXEL_RGB};
        uint8_t ref[H * W * 4], got[H * W * 4];
        cartoon_image out = {ref, W, H, W * 4, CARTOON_PIXEL_BGRA};
        cartoon_context *c = new_ctx();
        if (!c) return;
        CHECK(unet_cartoonize(c, &in, &out, &opt) == CARTOON_OK);
        cartoon_context_free(c);
        long n;
        for (n = 1; n < MAX_N; n++) {
            size_t before = live_bytes();
            c = new_ctx();
            if (!c) return;
            out.data = got;
            memset(got, 0, sizeof got);
            arm(n);
            cartoon_status st = unet_cartoonize(c, &in, &out, &opt);
            disarm();
            int h = hit;
            if (st != CARTOON_OK) {
                memset(got, 0, sizeof got);
                cartoon_status st2 = unet_cartoonize(c, &in, &out, &opt);
                CHECKF(st2 == CARTOON_OK && !memcmp(got, ref, sizeof got),
                       "unet_cartoonize (resolution %d): after allocation %ld failed, the context gives %s / different output",
                       opt.resolution, n, cartoon_status_name(st2));
            } else {
                CHECK(!memcmp(got, ref, sizeof got));
            }
            cartoon_context_free(c);
            hit = h;
            if (sweep_done("unet_cartoonize", n, st, before, live_bytes())) break;
        }
        printf("  unet_cartoonize (resolution %d): %ld allocation points\n", opt.resolution, n - 1);
    }
}

static const char *fmt_name(cartoon_file_format f)
{
    return f == CARTOON_FILE_PNG ? "PNG" : f == CARTOON_FILE_JPEG ? "JPEG" : "WebP";
}

static void test_codecs(void)
{
    cartoon_image img = {in_px, W, H, W * 3, CARTOON_PIXEL_RGB};
    for (int f = CARTOON_FILE_PNG; f <= CARTOON_FILE_WEBP; f++) {
        unsigned char *enc = NULL;
        size_t enc_n = 0;
        CHECK(cartoon_image_encode(&img, (cartoon_file_format)f, NULL, &enc, &enc_n, NULL, 0) == CARTOON_OK);
        cartoon_image ref;
        CHECK(cartoon_image_decode(enc, enc_n, 0, &ref, NULL, 0) == CARTOON_OK);
        long n;
        for (n = 1; n < MAX_N; n++) {
            unsigned char *b = NULL;
            size_t bn = 0;
            size_t before = live_bytes();
            arm(n);
            cartoon_status st = cartoon_image_encode(&img, (cartoon_file_format)f, NULL, &b, &bn, NULL, 0);
            disarm();
            if (st) CHECK(b == NULL && bn == 0);
            else CHECKF(bn == enc_n && !memcmp(b, enc, bn), "%s encode: different bytes after a failure", fmt_name(f));
            free(b);
            if (sweep_done("cartoon_image_encode", n, st, before, live_bytes())) break;
        }
        printf("  cartoon_image_encode %s: %ld allocation points\n", fmt_name(f), n - 1);
        for (n = 1; n < MAX_N; n++) {
            cartoon_image d;
            size_t before = live_bytes();
            arm(n);
            cartoon_status st = cartoon_image_decode(enc, enc_n, 0, &d, NULL, 0);
            disarm();
            if (st) CHECK(d.data == NULL && d.width == 0);
            else CHECK(d.width == ref.width && d.height == ref.height &&
                       !memcmp(d.data, ref.data, ref.stride * (size_t)ref.height));
            cartoon_image_free(&d);
            if (sweep_done("cartoon_image_decode", n, st, before, live_bytes())) break;
        }
        printf("  cartoon_image_decode %s: %ld allocation points\n", fmt_name(f), n - 1);
        cartoon_image_free(&ref);
        free(enc);
    }
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) k++;
    closedir(d);
    return k;
}

static void test_write(void)
{
    char dir[] = "/tmp/cartoon-allocfail-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0); return; }
    char path[256];
    snprintf(path, sizeof path, "%s/out.png", dir);
    cartoon_image img = {in_px, W, H, W * 3, CARTOON_PIXEL_RGB};
    long n;
    for (n = 1; n < MAX_N; n++) {
        arm(n);
        cartoon_status st = cartoon_image_write(path, &img, CARTOON_FILE_AUTO, NULL, NULL, 0);
        disarm();
        if (st) CHECKF(count_entries(dir) == 0, "cartoon_image_write: allocation %ld failed, files left behind", n);
        if (sweep_done("cartoon_image_write", n, st, 0, 0)) break;
    }
    printf("  cartoon_image_write: %ld allocation points\n", n - 1);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    /* glibc's per-thread caches (tcache, fastbins) hold freed chunks that mallinfo2 counts as
     * in use; run again without them so that the heap comparison is exact. */
    if (argc >= 1 && !getenv("CARTOON_ALLOC_TEST_REEXEC")) {
        setenv("CARTOON_ALLOC_TEST_REEXEC", "1", 1);
        setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0", 1);
        execv("/proc/self/exe", argv);
        /* no /proc: go on; the comparison may then see cached chunks */
    }
    model_bytes = read_file_bytes("tests/fuzz/corpus/fuzz_model_load/full_f32.safetensors", &model_size);
    if (!model_bytes) {
        skip_case("alloc_failure", "tests/fuzz/corpus/fuzz_model_load/full_f32.safetensors not found (run from the project root)");
        return check_summary();
    }
    char err[256];
    if (cartoon_model_load_memory(model_bytes, model_size, NULL, &model, err, sizeof err) != CARTOON_OK) {
        fprintf(stderr, "cannot load the synthetic model: %s\n", err);
        return 1;
    }
    for (int i = 0; i < H * W * 3; i++) {
        in_px[i] = (uint8_t)(i * 37 + (i / 27) * 11);
        in_f[i] = (float)in_px[i] / 127.5f - 1.f;
    }
    cartoon_context *c = new_ctx();
    CHECK(cartoon_forward(c, in_f, H, W, ref_f) == CARTOON_OK);
    cartoon_context_free(c);
    /* glibc keeps a finished thread's stack, with its malloc'd TLS vector, for the next
     * thread: start and join one first */
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.threads = 2;
    CHECK(cartoon_context_create(model, &o, &c, NULL, 0) == CARTOON_OK);
    cartoon_context_free(c);
    /* warm up what libraries allocate once per process (OpenBLAS, libwebp's tables), so that
     * the heap comparison sees only per-call memory */
    test_codecs();

    run_case("alloc_failure_model_load", test_model_load);
    run_case("alloc_failure_context_create", test_context_create);
    run_case("alloc_failure_forward", test_forward);
    run_case("alloc_failure_forward_replan", test_forward_replan);
    run_case("alloc_failure_unet_cartoonize", test_cartoonize);
    run_case("alloc_failure_codecs", test_codecs);
    run_case("alloc_failure_image_write", test_write);
    cartoon_model_free(model);
    free(model_bytes);
    return check_summary();
}
