/* cartoon-serve's HTTP side on libmicrohttpd: the routes, upload collection (raw body or
 * multipart/form-data through MHD's post processor) and the JSON error answers. */
#ifndef SERVE_HTTP_H
#define SERVE_HTTP_H
#include <pthread.h>
#include <stddef.h>
#include "cartoon.h"
#include "serve_cache.h"
#include "serve_pool.h"

struct serve_app {
    const cartoon_model *model;
    const char *model_name;         /* from the model file's metadata */
    const char *model_file;         /* the file's name without its directory (/healthz shows
                                       this, not the server's paths) */
    struct serve_pool *pool;
    struct serve_cache *cache;      /* NULL without --cache */
    cartoon_context *estimator;     /* answers /api/estimate, under estimator_lock */
    pthread_mutex_t estimator_lock;
    struct serve_limits limits;
    size_t max_upload;              /* bytes of one upload */
    double upload_timeout;          /* seconds to receive one request body */
    int workers, queue_len, retry_after;
    pthread_mutex_t lock;           /* guards the counters below */
    int in_flight;                  /* requests with a body between start and completion */
    unsigned long long served, refused;
};

struct MHD_Daemon;
/* Serves on the bound, listening socket fd (closed by MHD_stop_daemon). */
struct MHD_Daemon *serve_http_start(struct serve_app *app, int listen_fd, int max_connections,
                                    int connection_timeout);
/* In-flight requests with a body (the drain on SIGTERM waits for 0). */
int serve_http_in_flight(struct serve_app *app);
#endif
