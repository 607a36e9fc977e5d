/* cartoon-serve's worker pool: a fixed set of threads, each owning one engine context on the
 * shared model, fed from a bounded queue. A full queue refuses work at once (the caller answers
 * 503) so memory never grows with the load. */
#ifndef SERVE_POOL_H
#define SERVE_POOL_H
#include <pthread.h>
#include <stddef.h>
#include "cartoon.h"
#include "serve_params.h"

/* One cartoonize request. The submitter owns it; it stays valid until done is set. */
struct serve_job {
    /* in */
    const unsigned char *upload;  /* encoded picture, owned by the submitter */
    size_t upload_size;
    struct serve_params params;
    /* out, valid once done */
    int http_status;              /* 200 or the error status */
    unsigned char *body;          /* 200: encoded image (malloc'd, the submitter frees it) */
    size_t body_size;
    char message[512];            /* error text when http_status != 200 */
    int done;
    /* internal */
    double enqueued_at;
    struct serve_job *next;
};

struct serve_limits {
    unsigned long long max_pixels;  /* decoded input pixels */
    unsigned long long max_work_pixels; /* pixels the network runs at */
    double max_seconds;             /* refuse when the cost model predicts more */
    double queue_timeout;           /* seconds a job may wait for a worker before 503 */
    double auto_seconds;            /* resolution=auto: largest size predicted under this */
};

struct serve_pool;

/* Starts `workers` threads, each with a context made from copt on model. */
int serve_pool_create(const cartoon_model *model, const cartoon_context_options *copt,
                      int workers, int queue_len, const struct serve_limits *limits,
                      struct serve_pool **out, char *err, size_t err_size);
/* Queues the job and waits for its result. Returns 0 when it ran (job->http_status says how);
 * -1 when the queue was full or the pool is stopping (nothing was queued: answer 503). */
int serve_pool_run(struct serve_pool *pool, struct serve_job *job);
/* Jobs queued or running now. */
int serve_pool_load(struct serve_pool *pool);
/* Finishes queued and running jobs, joins the threads, frees the contexts. NULL: no-op. */
void serve_pool_free(struct serve_pool *pool);
#endif
