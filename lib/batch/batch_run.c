/* The pipelined batch runner (include/cartoon_batch.h).
 *
 * Items move through states LOADING -> DECODED -> RUNNING -> PROCESSED -> SAVING -> FINISHED
 * (or straight to FINISHED on a failure). Loaders claim items in order, but only while the
 * item lies within `window` of the first item not yet reported; that one rule bounds memory
 * and lets the results be reported in order without a stage ever waiting on a full queue (a
 * reorder buffer fed by bounded queues can deadlock; a window cannot). The stages find their
 * next item by scanning the window (a few entries) under one mutex; the heavy work, decode,
 * network and encode/write, runs with the mutex released. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cartoon_batch.h"
#include "errors.h"
#include "file_io.h"
#include "result_cache.h"

enum { S_FREE, S_LOADING, S_DECODED, S_RUNNING, S_PROCESSED, S_SAVING, S_FINISHED };

typedef struct slot {
    int state;
    size_t index;
    cartoon_batch_item item; /* a copy (from the array or the source) */
    int borrowed;            /* in is the caller's (item.image): never freed here */
    cartoon_image in, out;
    unsigned char *enc;
    size_t enc_size;
    cartoon_status status;
    char msg[512];
    double t0, seconds;
    int cached;            /* enc came from the result cache: nothing to run or encode */
    int keyed;             /* keys are set: store the result after encoding */
    ct_cache_keys keys;
} slot;

typedef struct run {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cartoon_context *const *ctx;
    const cartoon_batch_item *items; /* the array, or NULL with a source */
    cartoon_batch_source source;
    void *source_user;
    size_t n, window;                /* n: SIZE_MAX for a source until it ends */
    const cartoon_batch_options *o;
    slot *slots;             /* window entries; item i lives in slots[i % window] */
    size_t next_load;        /* next item a loader claims */
    size_t reported;         /* items reported so far (all of them in order) */
    int stopping;            /* should_stop said so: claim no more items */
    int reporting;           /* a thread is inside the reporting loop */
    int loaders_final, loaders_live; /* all loaders created / how many still run */
    int procs_final, procs_live;
    size_t count[3];         /* done, failed, not done */
} run;

typedef struct worker {
    run *r;
    int k; /* context index, for the network stage */
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static slot *slot_of(run *r, size_t i) { return &r->slots[i % r->window]; }

/* Drops the decoded input (the caller's pixels are only forgotten). */
static void drop_input(slot *s)
{
    if (!s->borrowed) cartoon_image_free(&s->in);
    memset(&s->in, 0, sizeof s->in);
}

static void slot_clear(slot *s)
{
    drop_input(s);
    free(s->out.data);
    free(s->enc);
    memset(s, 0, sizeof *s);
}

/* Reports every finished item at the head of the window, in order. Called with the mutex held;
 * releases it around on_item so that the stages go on meanwhile. One thread reports at a time:
 * another that finishes an item meanwhile leaves it to the reporting thread, which looks again
 * after each callback. */
static void report_ready(run *r)
{
    if (r->reporting) return;
    r->reporting = 1;
    while (r->reported < r->n && r->reported < r->next_load && slot_of(r, r->reported)->state == S_FINISHED) {
        size_t i = r->reported;
        slot *s = slot_of(r, i);
        const cartoon_batch_item *it = &s->item;
        cartoon_batch_event ev;
        memset(&ev, 0, sizeof ev);
        ev.index = i;
        ev.item = it;
        ev.status = s->status;
        ev.outcome = s->status == CARTOON_OK ? CARTOON_BATCH_DONE : CARTOON_BATCH_FAILED;
        ev.message = s->status == CARTOON_OK ? "" : s->msg;
        if (s->status == CARTOON_OK) {
            ev.width = s->out.width;
            ev.height = s->out.height;
            if (it->raw_output) ev.image = &s->out;
            else if (!it->output) {
                ev.data = s->enc;
                ev.size = s->enc_size;
            }
        }
        ev.seconds = s->seconds;
        ev.cached = s->cached;
        r->count[ev.outcome]++;
        pthread_mutex_unlock(&r->mu);
        if (r->o->on_item) r->o->on_item(r->o->user, &ev);
        pthread_mutex_lock(&r->mu);
        slot_clear(s);
        r->reported++;
        pthread_cond_broadcast(&r->cv);
    }
    r->reporting = 0;
}

/* Marks item i finished (with its status already in the slot) and reports what can be. */
static void finish(run *r, slot *s)
{
    s->seconds = now_s() - s->t0;
    s->state = S_FINISHED;
    pthread_cond_broadcast(&r->cv);
    report_ready(r);
}

/* A stage's end for slot s (lock held): on failure the item is finished with st and msg (a
 * message of sizeof s->msg bytes); otherwise it moves on to state next for the next stage. */
static void advance(run *r, slot *s, cartoon_status st, const char *msg, int next)
{
    if (st) {
        s->status = st;
        memcpy(s->msg, msg, sizeof s->msg);
        finish(r, s);
    } else {
        s->state = next;
        pthread_cond_broadcast(&r->cv);
    }
}

/* The format an item's result is encoded in (AUTO: none can be told). */
static cartoon_file_format item_format(const cartoon_batch_item *it)
{
    if (it->format != CARTOON_FILE_AUTO) return it->format;
    return it->output ? cartoon_file_format_from_path(it->output) : CARTOON_FILE_AUTO;
}

/* After a decode: the cached result of this input, when the cache has it (then the network and
 * the encoder are skipped). Runs in a loader thread, without the mutex. */
static void cache_lookup(run *r, const cartoon_batch_item *it, const cartoon_image *im, slot *tmp)
{
    cartoon_file_format fmt = item_format(it);
    /* an automatic resolution depends on this machine's timings, not only on the options:
     * such results are not cached */
    if (!r->o->cache || it->raw_output || fmt == CARTOON_FILE_AUTO || r->o->opt.resolution < 0) return;
    ct_cache_keys_of(r->o->cache, im, r->o, fmt, &tmp->keys);
    tmp->keyed = 1;
    int ow, oh;
    if (cartoon_output_size(&r->o->opt, im->width, im->height, &ow, &oh) != CARTOON_OK) return;
    if (ct_cache_get(r->o->cache, &tmp->keys, &tmp->enc, &tmp->enc_size, NULL)) {
        tmp->cached = 1;
        tmp->out.width = ow; /* for the report; no pixels */
        tmp->out.height = oh;
    }
}

static void *loader(void *arg)
{
    run *r = ((worker *)arg)->r;
    const cartoon_batch_options *o = r->o;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stopping && r->next_load < r->n && r->next_load >= r->reported + r->window)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stopping || r->next_load >= r->n) break;
        if (o->should_stop && o->should_stop(o->user)) {
            r->stopping = 1;
            pthread_cond_broadcast(&r->cv);
            break;
        }
        size_t i = r->next_load++;
        slot *s = slot_of(r, i);
        s->state = S_LOADING;
        s->index = i;
        s->t0 = now_s();
        if (r->source) {
            /* the next item from the caller (its decode, e.g. a video frame's, happens here) */
            cartoon_batch_item next;
            memset(&next, 0, sizeof next);
            pthread_mutex_unlock(&r->mu);
            int got = r->source(r->source_user, &next);
            pthread_mutex_lock(&r->mu);
            if (got <= 0) { /* the end: there is no item i (one loader: nobody claimed past it) */
                s->state = S_FREE;
                r->next_load = r->n = i;
                pthread_cond_broadcast(&r->cv);
                report_ready(r);
                break;
            }
            s->item = next;
        } else {
            s->item = r->items[i];
        }
        pthread_mutex_unlock(&r->mu);

        const cartoon_batch_item *it = &s->item;
        cartoon_image im = {0};
        char msg[sizeof s->msg];
        msg[0] = 0;
        int borrowed = it->image != NULL;
        cartoon_status st;
        if (borrowed) {
            im = *it->image;
            st = im.data ? CARTOON_OK : CARTOON_E_INVALID_ARGUMENT;
            if (st) snprintf(msg, sizeof msg, "%s: image without pixels", it->input ? it->input : "item");
        } else {
            st = it->input_data
                     ? cartoon_image_decode(it->input_data, it->input_size, o->max_pixels, &im, msg, sizeof msg)
                     : cartoon_image_read(it->input, o->max_pixels, &im, msg, sizeof msg);
        }

        slot found;
        memset(&found, 0, sizeof found);
        if (!st) cache_lookup(r, it, &im, &found);

        pthread_mutex_lock(&r->mu);
        s->in = im;
        s->borrowed = borrowed;
        s->keyed = found.keyed;
        s->keys = found.keys;
        if (found.cached) {
            s->cached = 1;
            s->enc = found.enc;
            s->enc_size = found.enc_size;
            s->out.width = found.out.width;
            s->out.height = found.out.height;
            drop_input(s);
            s->state = S_PROCESSED;
            pthread_cond_broadcast(&r->cv);
        } else {
            advance(r, s, st, msg, S_DECODED);
        }
    }
    r->loaders_live--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* The first item of the window in state `state`, or NULL. */
static slot *find(run *r, int state)
{
    for (size_t i = r->reported; i < r->next_load; i++)
        if (slot_of(r, i)->state == state) return slot_of(r, i);
    return NULL;
}

static int any_in(run *r, int a, int b)
{
    for (size_t i = r->reported; i < r->next_load; i++)
        if (slot_of(r, i)->state == a || slot_of(r, i)->state == b) return 1;
    return 0;
}

static void *processor(void *arg)
{
    run *r = ((worker *)arg)->r;
    cartoon_context *ctx = r->ctx[((worker *)arg)->k];
    pthread_mutex_lock(&r->mu);
    for (;;) {
        slot *s = find(r, S_DECODED);
        if (!s) {
            if (r->loaders_final && r->loaders_live == 0 && !any_in(r, S_LOADING, S_DECODED)) break;
            pthread_cond_wait(&r->cv, &r->mu);
            continue;
        }
        s->state = S_RUNNING;
        pthread_mutex_unlock(&r->mu);

        cartoon_status st;
        int ow = 0, oh = 0;
        cartoon_image out = {0};
        st = cartoon_output_size(&r->o->opt, s->in.width, s->in.height, &ow, &oh);
        if (!st) {
            out.width = ow;
            out.height = oh;
            out.format = s->in.format;
            out.stride = (size_t)ow * cartoon_pixel_size(s->in.format);
            out.data = malloc(out.stride * (size_t)oh);
            st = out.data ? unet_cartoonize(ctx, &s->in, &out, &r->o->opt) : CARTOON_E_OUT_OF_MEMORY;
        }
        char msg[sizeof s->msg];
        if (st)
            snprintf(msg, sizeof msg, "%s", out.data || st != CARTOON_E_OUT_OF_MEMORY
                                                 ? cartoon_context_last_error(ctx) : "no memory for the result");

        pthread_mutex_lock(&r->mu);
        drop_input(s); /* the input is no longer needed: keep memory to the window */
        s->out = out;
        advance(r, s, st, msg, S_PROCESSED);
    }
    r->procs_live--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void *saver(void *arg)
{
    run *r = ((worker *)arg)->r;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        slot *s = find(r, S_PROCESSED);
        if (!s) {
            if (r->procs_final && r->procs_live == 0) break;
            pthread_cond_wait(&r->cv, &r->mu);
            continue;
        }
        s->state = S_SAVING;
        const cartoon_batch_item *it = &s->item;
        pthread_mutex_unlock(&r->mu);

        char msg[sizeof s->msg];
        unsigned char *enc = s->cached ? s->enc : NULL; /* a cache hit: the bytes to write */
        size_t size = s->cached ? s->enc_size : 0;
        cartoon_file_format fmt = item_format(it);
        cartoon_status st = CARTOON_OK;
        if (it->raw_output) {
            /* the pixels go to on_item as they are */
        } else if (!s->cached && fmt == CARTOON_FILE_AUTO) {
            st = CARTOON_E_INVALID_ARGUMENT;
            snprintf(msg, sizeof msg, "no output format: %s has no known extension", it->output ? it->output : "(stream)");
        } else if (!s->cached) {
            st = cartoon_image_encode(&s->out, fmt, &r->o->wopt, &enc, &size, msg, sizeof msg);
            if (!st && s->keyed) ct_cache_put(r->o->cache, &s->keys, enc, size);
        }
        if (!st && it->output && !it->raw_output) {
            ct_err e = {msg, sizeof msg};
            st = ct_write_file_atomic(it->output, enc, size, &e);
        }

        pthread_mutex_lock(&r->mu);
        s->enc = enc;
        s->enc_size = size;
        s->status = st;
        if (st) memcpy(s->msg, msg, sizeof msg);
        finish(r, s);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

void cartoon_batch_options_default(cartoon_batch_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    cartoon_options_default(&o->opt);
    cartoon_write_options_default(&o->wopt);
}

/* Starts up to n threads of fn; returns how many started. */
static int start(pthread_t *t, worker *w, int n, void *(*fn)(void *), run *r, int *live)
{
    int k = 0;
    for (; k < n; k++) {
        w[k].r = r;
        w[k].k = k;
        pthread_mutex_lock(&r->mu);
        (*live)++;
        pthread_mutex_unlock(&r->mu);
        if (pthread_create(&t[k], NULL, fn, &w[k]) != 0) {
            pthread_mutex_lock(&r->mu);
            (*live)--;
            pthread_mutex_unlock(&r->mu);
            break;
        }
    }
    return k;
}

/* What both entry points do first: clear the message and the summary, take the defaults for
 * NULL options (*o points into *defaults then), check the arguments. OK to go on. */
static cartoon_status begin(cartoon_context *const *contexts, int n_contexts, const cartoon_batch_options **o,
                            cartoon_batch_options *defaults, size_t summary[3], const char *what, ct_err *e)
{
    if (e->buf && e->size) e->buf[0] = 0;
    if (summary) summary[0] = summary[1] = summary[2] = 0;
    if (!*o) {
        cartoon_batch_options_default(defaults);
        *o = defaults;
    }
    if (!contexts || n_contexts < 1) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "%s: no context", what);
    if ((*o)->load_threads < 0 || (*o)->save_threads < 0 || (*o)->window < 0)
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "%s: negative thread count or window", what);
    for (int k = 0; k < n_contexts; k++)
        if (!contexts[k]) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "%s: context %d is NULL", what, k);
    return CARTOON_OK;
}

static cartoon_status run_pipeline(cartoon_context *const *contexts, int n_contexts, const cartoon_batch_item *items,
                                   size_t n_items, cartoon_batch_source source, void *source_user,
                                   const cartoon_batch_options *o, size_t summary[3], ct_err *err);

cartoon_status cartoon_batch_run(cartoon_context *const *contexts, int n_contexts, const cartoon_batch_item *items,
                                 size_t n_items, const cartoon_batch_options *options, size_t summary[3], char *err,
                                 size_t err_size)
{
    ct_err e = {err, err_size};
    cartoon_batch_options defaults;
    const cartoon_batch_options *o = options;
    cartoon_status st = begin(contexts, n_contexts, &o, &defaults, summary, "cartoon_batch_run", &e);
    if (st) return st;
    if (!items && n_items) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_batch_run: items is NULL");
    if (n_items == 0) return CARTOON_OK;
    return run_pipeline(contexts, n_contexts, items, n_items, NULL, NULL, o, summary, &e);
}

cartoon_status cartoon_batch_run_stream(cartoon_context *const *contexts, int n_contexts, cartoon_batch_source source,
                                        void *source_user, const cartoon_batch_options *options, size_t summary[3],
                                        char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    cartoon_batch_options defaults;
    const cartoon_batch_options *o = options;
    cartoon_status st = begin(contexts, n_contexts, &o, &defaults, summary, "cartoon_batch_run_stream", &e);
    if (st) return st;
    if (!source) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_batch_run_stream: no source");
    return run_pipeline(contexts, n_contexts, NULL, SIZE_MAX, source, source_user, o, summary, &e);
}

static cartoon_status run_pipeline(cartoon_context *const *contexts, int n_contexts, const cartoon_batch_item *items,
                                   size_t n_items, cartoon_batch_source source, void *source_user,
                                   const cartoon_batch_options *o, size_t summary[3], ct_err *err)
{
    ct_err e = *err;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int nl = source ? 1 : o->load_threads ? o->load_threads : cores >= 8 ? 2 : 1;
    int ns = o->save_threads ? o->save_threads : source ? 1 : nl;
    size_t window = o->window ? (size_t)o->window : (size_t)(nl + n_contexts + ns + 2);
    if (window > n_items) window = n_items;

    run r;
    memset(&r, 0, sizeof r);
    r.ctx = contexts;
    r.items = items;
    r.source = source;
    r.source_user = source_user;
    r.n = n_items;
    r.window = window;
    r.o = o;
    r.slots = calloc(window, sizeof *r.slots);
    pthread_t *t = calloc((size_t)(nl + n_contexts + ns), sizeof *t);
    worker *w = calloc((size_t)(nl + n_contexts + ns), sizeof *w);
    if (!r.slots || !t || !w) {
        free(r.slots);
        free(t);
        free(w);
        return ct_fail(&e, CARTOON_E_OUT_OF_MEMORY, "cartoon_batch_run: no memory for %zu slots", window);
    }
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);

    /* Savers first, then processors, then loaders: a stage that cannot start any thread ends
     * the run before any item is claimed, and the stages after it see their producers final. */
    pthread_t *ts = t, *tp = t + ns, *tl = t + ns + n_contexts;
    int savers_live = 0; /* nobody waits on the savers but this thread, which joins them */
    int started_s = start(ts, w, ns, saver, &r, &savers_live);
    int started_p = started_s ? start(tp, w + ns, n_contexts, processor, &r, &r.procs_live) : 0;
    int started_l = 0;
    pthread_mutex_lock(&r.mu);
    r.procs_final = 1;
    if (!started_p) r.stopping = 1;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    if (started_p) started_l = start(tl, w + ns + n_contexts, nl, loader, &r, &r.loaders_live);
    pthread_mutex_lock(&r.mu);
    r.loaders_final = 1;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);

    for (int k = 0; k < started_l; k++) pthread_join(tl[k], NULL);
    for (int k = 0; k < started_p; k++) pthread_join(tp[k], NULL);
    for (int k = 0; k < started_s; k++) pthread_join(ts[k], NULL);

    cartoon_status st = CARTOON_OK;
    if (!started_s || !started_p || !started_l) {
        st = ct_fail(&e, CARTOON_E_INTERNAL, "cartoon_batch_run: cannot start the %s threads",
                     !started_s ? "save" : !started_p ? "network" : "load");
    } else if (!source) {
        /* every claimed item is reported by now; the rest were never started */
        for (size_t i = r.reported; i < n_items; i++) {
            cartoon_batch_event ev;
            memset(&ev, 0, sizeof ev);
            ev.index = i;
            ev.item = &items[i];
            ev.outcome = CARTOON_BATCH_NOT_DONE;
            ev.status = CARTOON_OK;
            ev.message = "not started: the run was stopped";
            r.count[CARTOON_BATCH_NOT_DONE]++;
            if (o->on_item) o->on_item(o->user, &ev);
        }
    }
    if (summary) memcpy(summary, r.count, sizeof r.count);
    for (size_t i = 0; i < window; i++) slot_clear(&r.slots[i]);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    free(r.slots);
    free(t);
    free(w);
    return st;
}
