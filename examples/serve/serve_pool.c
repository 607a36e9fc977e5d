/* cartoon-serve's worker pool: see serve_pool.h. Each worker decodes, checks the request's
 * cost against the limits with the library's cost model, cartoonizes and encodes, so the heavy
 * memory (decoded pixels, arena) exists only in the fixed number of workers. */
#include "serve_pool.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cartoon_io.h"

struct serve_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;      /* a job was queued, or stopping */
    pthread_cond_t done;      /* some job finished */
    struct serve_job *head, *tail;
    int queued, running, queue_len, stopping;
    struct serve_limits limits;
    int workers, contexts; /* threads started, contexts created */
    pthread_t *threads;
    cartoon_context **ctx;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fail(struct serve_job *j, int status, const char *fmt, const char *detail)
{
    j->http_status = status;
    snprintf(j->message, sizeof j->message, fmt, detail);
}

/* Maps a library status of decoding or running to the HTTP answer. */
static int http_status_of(cartoon_status st)
{
    switch (st) {
    case CARTOON_E_BAD_IMAGE: case CARTOON_E_INVALID_ARGUMENT: return 400;
    case CARTOON_E_LIMIT: return 413;
    case CARTOON_E_OUT_OF_MEMORY: return 503;
    default: return 500;
    }
}

static void process(struct serve_pool *pool, cartoon_context *ctx, struct serve_job *j)
{
    const struct serve_limits *lim = &pool->limits;
    char err[256] = "";
    if (cartoon_file_format_sniff(j->upload, j->upload_size) == CARTOON_FILE_AUTO) {
        fail(j, 415, "%s", "not a PNG, JPEG or WebP image");
        return;
    }
    cartoon_image in = {0}, out = {0};
    cartoon_status st = cartoon_image_decode(j->upload, j->upload_size, lim->max_pixels, &in,
                                             err, sizeof err);
    if (st != CARTOON_OK) {
        fail(j, http_status_of(st), "bad image: %s", err);
        return;
    }
    cartoon_options opt = j->params.opt;
    if (j->params.resolution_auto)
        opt.resolution = serve_pick_auto_resolution(ctx, in.width, in.height, &opt, lim->auto_seconds);
    cartoon_estimate e;
    st = cartoon_estimate_cost(ctx, in.width, in.height, &opt, &e);
    if (st != CARTOON_OK) {
        fail(j, http_status_of(st), "%s", cartoon_context_last_error(ctx));
        goto done;
    }
    if ((unsigned long long)e.width * e.height > lim->max_work_pixels) {
        snprintf(j->message, sizeof j->message, "working size %dx%d is over this server's limit of "
                 "%llu pixels: ask for a smaller resolution", e.width, e.height, lim->max_work_pixels);
        j->http_status = 413;
        goto done;
    }
    if (e.seconds > lim->max_seconds) {
        snprintf(j->message, sizeof j->message, "predicted %.1f s at %dx%d is over this server's "
                 "limit of %.1f s: ask for a smaller resolution", e.seconds, e.width, e.height,
                 lim->max_seconds);
        j->http_status = 413;
        goto done;
    }
    int bpp = cartoon_pixel_size(in.format);
    out.width = e.out_width;
    out.height = e.out_height;
    out.format = in.format;
    out.stride = (size_t)out.width * bpp;
    out.data = malloc(out.stride * out.height);
    if (!out.data) {
        fail(j, 503, "%s", "out of memory");
        goto done;
    }
    st = unet_cartoonize(ctx, &in, &out, &opt);
    if (st != CARTOON_OK) {
        fail(j, http_status_of(st), "%s", cartoon_context_last_error(ctx));
        goto done;
    }
    st = cartoon_image_encode(&out, j->params.format, &j->params.wopt, &j->body, &j->body_size,
                              err, sizeof err);
    if (st != CARTOON_OK) {
        fail(j, 500, "encoding the result: %s", err);
        goto done;
    }
    j->http_status = 200;
done:
    free(out.data);
    cartoon_image_free(&in);
}

struct worker_arg { struct serve_pool *pool; int index; };

static void *worker_main(void *arg)
{
    struct serve_pool *pool = ((struct worker_arg *)arg)->pool;
    cartoon_context *ctx = pool->ctx[((struct worker_arg *)arg)->index];
    free(arg);
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping) pthread_cond_wait(&pool->work, &pool->lock);
        if (!pool->head) break; /* stopping and nothing left */
        struct serve_job *j = pool->head;
        pool->head = j->next;
        if (!pool->head) pool->tail = NULL;
        pool->queued--;
        pool->running++;
        pthread_mutex_unlock(&pool->lock);
        if (now_s() - j->enqueued_at > pool->limits.queue_timeout)
            fail(j, 503, "%s", "waited too long for a free worker");
        else
            process(pool, ctx, j);
        pthread_mutex_lock(&pool->lock);
        pool->running--;
        j->done = 1;
        pthread_cond_broadcast(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int serve_pool_create(const cartoon_model *model, const cartoon_context_options *copt,
                      int workers, int queue_len, const struct serve_limits *limits,
                      struct serve_pool **out, char *err, size_t err_size)
{
    *out = NULL;
    struct serve_pool *p = calloc(1, sizeof *p);
    if (!p) { snprintf(err, err_size, "out of memory"); return -1; }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->queue_len = queue_len;
    p->limits = *limits;
    p->threads = calloc(workers, sizeof *p->threads);
    p->ctx = calloc(workers, sizeof *p->ctx);
    if (!p->threads || !p->ctx) { snprintf(err, err_size, "out of memory"); goto fail; }
    for (int i = 0; i < workers; i++) {
        cartoon_status st = cartoon_context_create(model, copt, &p->ctx[i], err, err_size);
        if (st != CARTOON_OK) goto fail;
        p->contexts++;
    }
    for (int i = 0; i < workers; i++) {
        struct worker_arg *a = malloc(sizeof *a);
        if (!a) { snprintf(err, err_size, "out of memory"); goto fail; }
        a->pool = p;
        a->index = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, a)) {
            free(a);
            snprintf(err, err_size, "cannot start worker thread %d", i);
            goto fail;
        }
        p->workers++;
    }
    *out = p;
    return 0;
fail:
    serve_pool_free(p);
    return -1;
}

int serve_pool_run(struct serve_pool *pool, struct serve_job *job)
{
    job->done = 0;
    job->next = NULL;
    job->body = NULL;
    job->body_size = 0;
    job->message[0] = 0;
    job->enqueued_at = now_s();
    pthread_mutex_lock(&pool->lock);
    if (pool->stopping || pool->queued >= pool->queue_len) {
        pthread_mutex_unlock(&pool->lock);
        return -1;
    }
    if (pool->tail) pool->tail->next = job; else pool->head = job;
    pool->tail = job;
    pool->queued++;
    pthread_cond_signal(&pool->work);
    while (!job->done) pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    return 0;
}

int serve_pool_load(struct serve_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    int n = pool->queued + pool->running;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

void serve_pool_free(struct serve_pool *pool)
{
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->workers; i++) pthread_join(pool->threads[i], NULL);
    for (int i = 0; i < pool->contexts; i++) cartoon_context_free(pool->ctx[i]);
    free(pool->ctx);
    free(pool->threads);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->done);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
