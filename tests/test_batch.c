/* The pipelined batch runner (include/cartoon_batch.h) with the real model on small pictures
 * written here: every result equals unet_cartoonize() run directly on the decoded input (the
 * independent expectation), events come in item order for any thread counts and windows,
 * a corrupt input fails alone, results handed back as bytes equal the files, and a stop
 * request after k items leaves exactly k done and the rest NOT_DONE (window 1); the stream
 * form hands decoded pixels in and result pixels out, in order. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cartoon.h"
#include "cartoon_batch.h"
#include "cartoon_io.h"
#include "check.h"

#define N 7
static cartoon_model *model;
static char tmp[] = "/tmp/cartoon-batch-XXXXXX";
static char inputs[N][300], outputs[N][300];
static uint8_t *expect[N]; /* direct unet_cartoonize of the decoded input, RGB */
static int ew[N], eh[N];

static cartoon_context *make_ctx(int threads)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.threads = threads;
    cartoon_context *c = NULL;
    return cartoon_context_create(model, &o, &c, NULL, 0) == CARTOON_OK ? c : NULL;
}

/* Inputs of different sizes (so the items take different times and finish out of order in the
 * stages); item 3 is corrupt. */
static int setup(void)
{
    if (!mkdtemp(tmp)) return 0;
    cartoon_context *c = make_ctx(1);
    if (!c) return 0;
    for (int i = 0; i < N; i++) {
        snprintf(inputs[i], sizeof inputs[i], "%s/in%d.%s", tmp, i, i % 2 ? "jpg" : "png");
        if (i == 3) {
            if (write_file_bytes(inputs[i], "\xff\xd8\xff garbage", 12) != 0) return 0;
            continue;
        }
        int w = 24 + 16 * ((i * 5) % 7), h = 20 + 8 * i;
        uint8_t *px = malloc((size_t)w * h * 3);
        for (int k = 0; k < w * h * 3; k++) px[k] = (uint8_t)((k * 13 + i * 71 + (k / (w * 3)) * 5) & 0xff);
        cartoon_image im = {px, w, h, (size_t)w * 3, CARTOON_PIXEL_RGB};
        CHECK(cartoon_image_write(inputs[i], &im, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_OK);
        free(px);
        /* the expectation from the decoded file (JPEG is lossy: decode what was written) */
        cartoon_image d = {0};
        CHECK(cartoon_image_read(inputs[i], 0, &d, NULL, 0) == CARTOON_OK);
        expect[i] = malloc((size_t)w * h * 3);
        cartoon_image o = {expect[i], w, h, (size_t)w * 3, CARTOON_PIXEL_RGB};
        CHECK(unet_cartoonize(c, &d, &o, NULL) == CARTOON_OK);
        ew[i] = w;
        eh[i] = h;
        cartoon_image_free(&d);
    }
    cartoon_context_free(c);
    return 1;
}

typedef struct {
    size_t order[N], n;
    int outcome[N];
    unsigned char *bytes[N];
    size_t size[N];
    size_t stop_after; /* should_stop answers yes once this many were reported; 0 never */
} seen;

static void on_item(void *user, const cartoon_batch_event *ev)
{
    seen *s = user;
    if (s->n < N) {
        s->order[s->n] = ev->index;
        s->outcome[s->n++] = ev->outcome;
    }
    if (ev->data && ev->index < N) {
        s->bytes[ev->index] = malloc(ev->size);
        memcpy(s->bytes[ev->index], ev->data, ev->size);
        s->size[ev->index] = ev->size;
    }
}

static int stop_now(void *user)
{
    seen *s = user;
    return s->stop_after && s->n >= s->stop_after;
}

/* One run with load:proc:save threads and a window; to_memory: results as bytes (PNG). */
static void run_and_check(int nl, int np, int ns, int window, int to_memory)
{
    cartoon_context *ctx[4] = {0};
    for (int k = 0; k < np; k++) ctx[k] = make_ctx(np > 1 ? 1 : 2);
    cartoon_batch_item items[N];
    for (int i = 0; i < N; i++) {
        snprintf(outputs[i], sizeof outputs[i], "%s/out%d_%d%d%d%d.png", tmp, i, nl, np, ns, window);
        items[i] = (cartoon_batch_item){.input = inputs[i], .output = to_memory ? NULL : outputs[i], .format = CARTOON_FILE_PNG};
    }
    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.load_threads = nl;
    bo.save_threads = ns;
    bo.window = window;
    seen s;
    memset(&s, 0, sizeof s);
    bo.on_item = on_item;
    bo.user = &s;
    size_t sum[3];
    char err[256];
    CHECKF(cartoon_batch_run(ctx, np, items, N, &bo, sum, err, sizeof err) == CARTOON_OK, "%s", err);
    CHECKF(sum[0] == N - 1 && sum[1] == 1 && sum[2] == 0, "%zu %zu %zu", sum[0], sum[1], sum[2]);
    CHECK(s.n == N);
    for (int i = 0; i < N && i < (int)s.n; i++) {
        CHECKF(s.order[i] == (size_t)i, "event %d is item %zu", i, s.order[i]);
        CHECK(s.outcome[i] == (i == 3 ? CARTOON_BATCH_FAILED : CARTOON_BATCH_DONE));
        if (i == 3) {
            CHECK(access(outputs[i], F_OK) != 0 && s.bytes[i] == NULL);
            continue;
        }
        cartoon_image r = {0};
        cartoon_status st = to_memory ? (s.bytes[i] ? cartoon_image_decode(s.bytes[i], s.size[i], 0, &r, NULL, 0)
                                                    : CARTOON_E_IO)
                                      : cartoon_image_read(outputs[i], 0, &r, NULL, 0);
        CHECKF(st == CARTOON_OK && r.width == ew[i] && r.height == eh[i] &&
                   !memcmp(r.data, expect[i], (size_t)ew[i] * eh[i] * 3),
               "item %d (%d:%d:%d window %d%s) differs from unet_cartoonize", i, nl, np, ns, window,
               to_memory ? ", to memory" : "");
        cartoon_image_free(&r);
        if (!to_memory) unlink(outputs[i]);
        free(s.bytes[i]);
    }
    for (int k = 0; k < np; k++) cartoon_context_free(ctx[k]);
}

static void test_pipeline_1_1_1(void) { run_and_check(1, 1, 1, 0, 0); }
static void test_pipeline_window_1(void) { run_and_check(1, 1, 1, 1, 0); }
static void test_pipeline_2_2_2(void) { run_and_check(2, 2, 2, 3, 0); }
static void test_pipeline_many_threads(void) { run_and_check(3, 1, 4, 0, 1); }

static void test_stop(void)
{
    cartoon_context *c = make_ctx(2);
    cartoon_batch_item items[N];
    for (int i = 0; i < N; i++) {
        snprintf(outputs[i], sizeof outputs[i], "%s/stop%d.png", tmp, i);
        items[i] = (cartoon_batch_item){.input = inputs[i], .output = outputs[i], .format = CARTOON_FILE_AUTO};
    }
    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.window = 1; /* an item is claimed only after the previous one is reported */
    seen s;
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    bo.on_item = on_item;
    bo.should_stop = stop_now;
    bo.user = &s;
    size_t sum[3];
    CHECK(cartoon_batch_run(&c, 1, items, N, &bo, sum, NULL, 0) == CARTOON_OK);
    CHECKF(sum[0] == 2 && sum[1] == 0 && sum[2] == N - 2, "%zu %zu %zu", sum[0], sum[1], sum[2]);
    CHECK(s.n == N && s.outcome[0] == CARTOON_BATCH_DONE && s.outcome[1] == CARTOON_BATCH_DONE);
    for (int i = 2; i < N; i++) {
        CHECK(s.outcome[i] == CARTOON_BATCH_NOT_DONE && s.order[i] == (size_t)i);
        CHECK(access(outputs[i], F_OK) != 0);
    }
    unlink(outputs[0]);
    unlink(outputs[1]);
    cartoon_context_free(c);
}

/* The stream form, as video frames use it: decoded pixels in (borrowed), pixels out. */
typedef struct {
    cartoon_image im[N];
    int order[N], next, bad_order, mismatches, events;
} stream_state;

static int source(void *user, cartoon_batch_item *it)
{
    stream_state *st = user;
    while (st->next < N && !st->im[st->next].data) st->next++; /* the corrupt one has none */
    if (st->next >= N) return 0;
    it->input = inputs[st->next];
    it->image = &st->im[st->next];
    it->raw_output = 1;
    it->user_item = &st->order[st->next];
    st->order[st->next] = st->next;
    st->next++;
    return 1;
}

static void on_frame(void *user, const cartoon_batch_event *ev)
{
    stream_state *st = user;
    int k = *(int *)ev->item->user_item;
    st->bad_order += ev->index != (size_t)st->events;
    st->events++;
    if (ev->outcome != CARTOON_BATCH_DONE || !ev->image || ev->data || ev->image->width != ew[k] ||
        ev->image->height != eh[k] || ev->image->format != CARTOON_PIXEL_RGB ||
        memcmp(ev->image->data, expect[k], (size_t)ew[k] * eh[k] * 3))
        st->mismatches++;
}

static void test_stream(void)
{
    cartoon_context *ctx[2] = {make_ctx(1), make_ctx(1)};
    stream_state st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < N; i++)
        if (i != 3) CHECK(cartoon_image_read(inputs[i], 0, &st.im[i], NULL, 0) == CARTOON_OK);
    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.on_item = on_frame;
    bo.user = &st;
    bo.window = 3;
    size_t sum[3];
    char err[256];
    CHECKF(cartoon_batch_run_stream(ctx, 2, source, &st, &bo, sum, err, sizeof err) == CARTOON_OK, "%s", err);
    CHECKF(sum[0] == N - 1 && sum[1] == 0 && st.events == N - 1 && st.bad_order == 0 && st.mismatches == 0,
           "done %zu, events %d, out of order %d, mismatches %d", sum[0], st.events, st.bad_order, st.mismatches);
    CHECK(cartoon_batch_run_stream(ctx, 2, NULL, NULL, NULL, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    for (int i = 0; i < N; i++) cartoon_image_free(&st.im[i]); /* the runner never freed them */
    cartoon_context_free(ctx[0]);
    cartoon_context_free(ctx[1]);
}

static void test_arguments(void)
{
    cartoon_context *c = make_ctx(1);
    cartoon_batch_item it = {.input = inputs[0], .output = NULL, .format = CARTOON_FILE_AUTO};
    char err[256];
    CHECK(cartoon_batch_run(NULL, 1, &it, 1, NULL, NULL, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT && err[0]);
    CHECK(cartoon_batch_run(&c, 0, &it, 1, NULL, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_batch_run(&c, 1, NULL, 1, NULL, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.window = -1;
    CHECK(cartoon_batch_run(&c, 1, &it, 1, &bo, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    size_t sum[3] = {9, 9, 9};
    CHECK(cartoon_batch_run(&c, 1, NULL, 0, NULL, sum, NULL, 0) == CARTOON_OK && !sum[0] && !sum[1] && !sum[2]);
    /* no output path and no format: the item fails with a message, nothing else happens */
    seen s;
    memset(&s, 0, sizeof s);
    bo.window = 0;
    bo.on_item = on_item;
    bo.user = &s;
    CHECK(cartoon_batch_run(&c, 1, &it, 1, &bo, sum, NULL, 0) == CARTOON_OK && sum[1] == 1);
    CHECK(s.n == 1 && s.outcome[0] == CARTOON_BATCH_FAILED);
    cartoon_context_free(c);
}

int main(void)
{
    const char *mp = test_model_path();
    char err[256];
    if (!mp || cartoon_model_load(mp, NULL, &model, err, sizeof err) != CARTOON_OK) {
        skip_case("batch", "the shared model is not available");
        return check_summary();
    }
    if (!setup()) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    run_case("batch_pipeline_1_1_1", test_pipeline_1_1_1);
    run_case("batch_pipeline_window_1", test_pipeline_window_1);
    run_case("batch_pipeline_2_2_2", test_pipeline_2_2_2);
    run_case("batch_pipeline_3_1_4_to_memory", test_pipeline_many_threads);
    run_case("batch_stop_after_two", test_stop);
    run_case("batch_stream_raw_frames", test_stream);
    run_case("batch_arguments", test_arguments);
    for (int i = 0; i < N; i++) {
        free(expect[i]);
        unlink(inputs[i]);
    }
    rmdir(tmp);
    cartoon_model_free(model);
    return check_summary();
}
