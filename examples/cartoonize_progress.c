/* cartoonize's progress report (see cartoonize_progress.h). */
#include "cartoonize_progress.h"

#include <jansson.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cartoonize_args.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void emit_json(struct cli_progress *p, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) {
        fprintf(p->f, "%s\n", s);
        fflush(p->f);
        free(s);
    }
    json_decref(o);
}

void progress_start(struct cli_progress *p, int cli_mode, FILE *f, size_t total, const char *unit)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->total = total;
    p->unit = unit;
    p->t0 = now_s();
    p->mode = cli_mode == CLI_PROGRESS_JSON   ? PROGRESS_JSON
              : cli_mode == CLI_PROGRESS_NONE ? PROGRESS_QUIET
              : isatty(fileno(f))             ? PROGRESS_TTY
                                              : PROGRESS_LINES;
    if (p->mode == PROGRESS_JSON)
        emit_json(p, json_pack("{s:s, s:I, s:s}", "event", "start", "total", (json_int_t)total, "unit", unit));
}

void progress_item(struct cli_progress *p, const cartoon_batch_event *ev, const char *out_name)
{
    double el = now_s() - p->t0;
    if (ev->outcome != CARTOON_BATCH_NOT_DONE) p->done++;
    if (ev->outcome == CARTOON_BATCH_FAILED) p->failed++;
    double rate = el > 0 ? p->done / el : 0;
    double eta = rate > 0 ? (p->total - p->done) / rate : -1;
    const char *in = ev->item->input;
    switch (p->mode) {
    case PROGRESS_JSON:
        emit_json(p, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:f, s:b, s:I, s:I, s:I, s:f, s:f}", "event", "item",
                               "index", (json_int_t)ev->index, "input", in, "output", out_name ? out_name : "",
                               "status", ev->outcome == CARTOON_BATCH_DONE ? "done"
                                         : ev->outcome == CARTOON_BATCH_FAILED ? "failed" : "not_done",
                               "message", ev->message ? ev->message : "", "seconds", ev->seconds,
                               "cached", ev->cached, "done", (json_int_t)p->done, "failed", (json_int_t)p->failed, "total",
                               (json_int_t)p->total, "per_second", rate, "eta_s", eta));
        return;
    case PROGRESS_TTY:
        if (ev->outcome == CARTOON_BATCH_FAILED)
            fprintf(p->f, "\r\033[Kcartoonize: %s: %s (%s)\n", in, ev->message, cartoon_status_name(ev->status));
        if (eta >= 0)
            fprintf(p->f, "\r\033[K[%zu/%zu] %.2f %s/s, ETA %.0f s", p->done, p->total, rate, p->unit, eta);
        else
            fprintf(p->f, "\r\033[K[%zu/%zu]", p->done, p->total);
        fflush(p->f);
        return;
    default:
        if (ev->outcome == CARTOON_BATCH_FAILED)
            fprintf(p->f, "cartoonize: %s: %s (%s)\n", in, ev->message, cartoon_status_name(ev->status));
        else if (ev->outcome == CARTOON_BATCH_DONE && p->mode == PROGRESS_LINES)
            fprintf(p->f, ev->cached ? "[%zu/%zu] %s -> %s (cached, %.2f s)\n" : "[%zu/%zu] %s -> %s (%.2f s)\n",
                    p->done, p->total, in, out_name, ev->seconds);
        return;
    }
}

void progress_end(struct cli_progress *p, size_t not_done)
{
    double el = now_s() - p->t0;
    if (p->mode == PROGRESS_JSON)
        emit_json(p, json_pack("{s:s, s:I, s:I, s:I, s:f, s:f}", "event", "end", "done",
                               (json_int_t)(p->done - p->failed), "failed", (json_int_t)p->failed, "not_done",
                               (json_int_t)not_done, "seconds", el, "per_second", el > 0 ? p->done / el : 0));
    else if (p->mode == PROGRESS_TTY)
        fprintf(p->f, "\r\033[K[%zu/%zu] %.1f s, %.2f %s/s\n", p->done, p->total, el, el > 0 ? p->done / el : 0, p->unit);
}
