/* Eight threads share one loaded model, each with its own context (threads=1), each
 * cartoonizing different small crops of the reference inputs several times. Every output
 * must be bit-identical to the same crop run beforehand by a single context on this thread.
 * CARTOON_TEST_QUICK=1 (set by make check-tsan) runs smaller crops, fewer repetitions. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"

#define N_THREADS 8
#define MAX_CROPS 4

typedef struct {
    cartoon_image in;            /* packed RGB crop */
    uint8_t *ref;                /* single-context result */
} crop;

static cartoon_model *model;
static crop crops[MAX_CROPS];
static int n_crops, reps;
static cartoon_conv_algo algo;

typedef struct { int id; int mismatches, failures; char msg[256]; } worker;

static cartoon_context *make_ctx(char *err, size_t n)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.threads = 1;
    o.conv = algo;
    cartoon_context *c = NULL;
    return cartoon_context_create(model, &o, &c, err, n) == CARTOON_OK ? c : NULL;
}

static cartoon_status run_crop(cartoon_context *c, const crop *k, uint8_t *out)
{
    cartoon_image o = {out, k->in.width, k->in.height, (size_t)k->in.width * 3, CARTOON_PIXEL_RGB};
    return unet_cartoonize(c, &k->in, &o, NULL);
}

static void *work(void *arg)
{
    worker *w = arg;
    cartoon_context *c = make_ctx(w->msg, sizeof w->msg);
    if (!c) { w->failures++; return NULL; }
    for (int r = 0; r < reps; r++)
        for (int j = 0; j < 2; j++) { /* two different crops per thread, order varies */
            const crop *k = &crops[(w->id + j + r) % n_crops];
            size_t bytes = (size_t)k->in.width * k->in.height * 3;
            uint8_t *out = malloc(bytes);
            if (!out) { w->failures++; continue; }
            if (run_crop(c, k, out) != CARTOON_OK) {
                w->failures++;
                snprintf(w->msg, sizeof w->msg, "%s", cartoon_context_last_error(c));
            } else if (memcmp(out, k->ref, bytes) != 0) {
                w->mismatches++;
            }
            free(out);
        }
    cartoon_context_free(c);
    return NULL;
}

static int load_crop(const char *file, int x0, int y0, int w, int h)
{
    cartoon_image full;
    char err[256];
    if (cartoon_image_read(shared_path(file), 0, &full, err, sizeof err) != CARTOON_OK) {
        fprintf(stderr, "  %s\n", err);
        return 0;
    }
    int bpp = cartoon_pixel_size(full.format);
    if (x0 + w > full.width) w = full.width - x0;
    if (y0 + h > full.height) h = full.height - y0;
    crop *k = &crops[n_crops];
    k->in.data = malloc((size_t)w * h * 3);
    k->in.width = w;
    k->in.height = h;
    k->in.stride = (size_t)w * 3;
    k->in.format = CARTOON_PIXEL_RGB;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(k->in.data + ((size_t)y * w + x) * 3,
                   full.data + (size_t)(y0 + y) * full.stride + (size_t)(x0 + x) * bpp, 3);
    cartoon_image_free(&full);
    n_crops++;
    return 1;
}

static void test_shared_model(void)
{
    char err[256];
    cartoon_context *single = make_ctx(err, sizeof err);
    CHECKF(single != NULL, "context: %s", err);
    if (!single) return;
    for (int i = 0; i < n_crops; i++) {
        size_t bytes = (size_t)crops[i].in.width * crops[i].in.height * 3;
        free(crops[i].ref);
        crops[i].ref = malloc(bytes);
        CHECK(run_crop(single, &crops[i], crops[i].ref) == CARTOON_OK);
    }
    cartoon_context_free(single);

    pthread_t th[N_THREADS];
    worker ws[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        memset(&ws[t], 0, sizeof ws[t]);
        ws[t].id = t;
        CHECK(pthread_create(&th[t], NULL, work, &ws[t]) == 0);
    }
    for (int t = 0; t < N_THREADS; t++) {
        pthread_join(th[t], NULL);
        CHECKF(ws[t].failures == 0, "thread %d: %d failed runs (%s)", t, ws[t].failures, ws[t].msg);
        CHECKF(ws[t].mismatches == 0, "thread %d: %d outputs differ from the single-context run", t,
               ws[t].mismatches);
    }
}

int main(void)
{
    const char *path = test_model_path();
    if (!path) {
        skip_case("threads_shared_model", "shared model not found");
        return check_summary();
    }
    char err[256];
    if (cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, err);
        return 1;
    }
    const char *q = getenv("CARTOON_TEST_QUICK");
    int quick = q && *q && strcmp(q, "0");
    reps = quick ? 1 : 3;
    int ok;
    if (quick)
        ok = load_crop("reference/astronaut_64x96_crop.in.png", 8, 16, 40, 52) &&
             load_crop("reference/chelsea_300x451_odd.in.png", 120, 200, 24, 30) &&
             load_crop("reference/coffee_400x600.in.png", 200, 100, 17, 23);
    else
        ok = load_crop("reference/astronaut_64x96_crop.in.png", 0, 0, 64, 96) &&
             load_crop("reference/chelsea_300x451_odd.in.png", 100, 200, 40, 52) &&
             load_crop("reference/coffee_400x600.in.png", 150, 100, 52, 40) &&
             load_crop("reference/rocket_424x640.in.png", 200, 300, 33, 47);
    if (!ok) {
        skip_case("threads_shared_model", "reference images not found");
    } else {
        /* the Winograd / vectorised path is all this library's own code; im2col goes through
         * OpenBLAS, whose (uninstrumented) internals ThreadSanitizer cannot follow: it is
         * run where ThreadSanitizer is not */
        algo = CARTOON_CONV_FAST;
        run_case("threads_shared_model_fast", test_shared_model);
#if defined(__SANITIZE_THREAD__)
        skip_case("threads_shared_model_im2col", "OpenBLAS under ThreadSanitizer");
#else
        algo = CARTOON_CONV_IM2COL;
        run_case("threads_shared_model_im2col", test_shared_model);
#endif
    }
    for (int i = 0; i < n_crops; i++) { free(crops[i].in.data); free(crops[i].ref); }
    cartoon_model_free(model);
    return check_summary();
}
