/* cartoon-serve's routes: see serve_http.h. MHD runs one thread per connection, so a handler
 * may block while its job runs; the connection limit and the pool's bounded queue keep the
 * memory bounded (connections x max upload, workers x one decoded picture and one arena). */
#include "serve_http.h"
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "cartoon_io.h"
#include "serve_params.h"

extern const unsigned char serve_page_html[]; /* examples/web/index.html, embedded at build */
extern const unsigned int serve_page_html_len;

#define MAX_FIELDS 8
#define FIELD_LEN 64

/* What one request collects while its body arrives. */
struct request {
    struct serve_app *app;
    unsigned char *body;
    size_t len, cap;
    int too_large, bad_form;
    double started;
    struct MHD_PostProcessor *pp;
    int nfields;
    char keys[MAX_FIELDS][FIELD_LEN], values[MAX_FIELDS][FIELD_LEN];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- answers */

static enum MHD_Result send_buffer(struct MHD_Connection *c, int status, const char *type,
                                   void *data, size_t size, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(size, data, mode);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Takes ownership of j. */
static enum MHD_Result send_json(struct MHD_Connection *c, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) return MHD_NO;
    size_t n = strlen(text);
    /* jansson allocates with malloc, so MHD may free the text */
    return send_buffer(c, status, "application/json", text, n, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_error(struct serve_app *app, struct MHD_Connection *c, int status,
                                  const char *message)
{
    json_t *j = json_pack("{s:s, s:i}", "error", message, "status", status);
    if (status != 503) return send_json(c, status, j);
    /* 503: tell the client when to come back */
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
                                                             MHD_RESPMEM_MUST_FREE);
    if (!r) { free(text); return MHD_NO; }
    char after[16];
    snprintf(after, sizeof after, "%d", app->retry_after);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Retry-After", after);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    pthread_mutex_lock(&app->lock);
    app->refused++;
    pthread_mutex_unlock(&app->lock);
    return ret;
}

/* ---------------------------------------------------------------- parameters */

static const char *query_get(void *user, const char *key)
{
    return MHD_lookup_connection_value(user, MHD_GET_ARGUMENT_KIND, key);
}

struct lookup { struct request *req; struct MHD_Connection *c; };

/* Form fields first, then the query string. */
static const char *form_get(void *user, const char *key)
{
    struct lookup *l = user;
    for (int i = 0; i < l->req->nfields; i++)
        if (!strcmp(l->req->keys[i], key)) return l->req->values[i];
    return query_get(l->c, key);
}

/* ---------------------------------------------------------------- GET routes */

static enum MHD_Result route_page(struct MHD_Connection *c)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        serve_page_html_len, (void *)serve_page_html, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    /* the page loads nothing from elsewhere; say so, so a browser enforces it */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src "
                            "'unsafe-inline'; img-src blob: data:; connect-src 'self' blob:");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route_health(struct serve_app *app, struct MHD_Connection *c)
{
    pthread_mutex_lock(&app->lock);
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:I, s:I}", "status", "ok", "model",
                          app->model_name, "model_file", app->model_file, "workers", app->workers, "queue", app->queue_len,
                          "load", serve_pool_load(app->pool), "in_flight", app->in_flight,
                          "served", (json_int_t)app->served, "refused", (json_int_t)app->refused);
    pthread_mutex_unlock(&app->lock);
    return send_json(c, MHD_HTTP_OK, j);
}

static enum MHD_Result route_presets(struct MHD_Connection *c)
{
    int n = 0;
    const cartoon_preset *p = cartoon_presets(&n);
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:i, s:f, s:s, s:i, s:s}", "name", p[i].name,
                                           "resolution", p[i].resolution, "strength",
                                           (double)p[i].strength, "format", p[i].format,
                                           "quality", p[i].quality, "use", p[i].use));
    return send_json(c, MHD_HTTP_OK, a);
}

static const char *calibration_name(cartoon_calibration k)
{
    return k == CARTOON_CALIBRATION_MEASURED ? "measured"
         : k == CARTOON_CALIBRATION_CACHED ? "cached" : "none";
}

static enum MHD_Result route_estimate(struct serve_app *app, struct MHD_Connection *c)
{
    char err[256];
    struct serve_params p;
    if (serve_params_parse(&p, query_get, c, err, sizeof err))
        return send_error(app, c, MHD_HTTP_BAD_REQUEST, err);
    const char *ws = query_get(c, "w"), *hs = query_get(c, "h");
    char *e1 = NULL, *e2 = NULL;
    long w = ws ? strtol(ws, &e1, 10) : 0, h = hs ? strtol(hs, &e2, 10) : 0;
    if (!ws || !hs || *e1 || *e2 || w < 1 || h < 1 || w > 65536 || h > 65536)
        return send_error(app, c, MHD_HTTP_BAD_REQUEST, "w and h take 1..65536");
    if ((unsigned long long)w * h > app->limits.max_pixels)
        return send_error(app, c, MHD_HTTP_CONTENT_TOO_LARGE, "picture over this server's pixel limit");
    cartoon_estimate e;
    pthread_mutex_lock(&app->estimator_lock);
    if (p.resolution_auto)
        p.opt.resolution = serve_pick_auto_resolution(app->estimator, (int)w, (int)h, &p.opt,
                                                      app->limits.auto_seconds);
    cartoon_status st = cartoon_estimate_cost(app->estimator, (int)w, (int)h, &p.opt, &e);
    if (st != CARTOON_OK) snprintf(err, sizeof err, "%s", cartoon_context_last_error(app->estimator));
    pthread_mutex_unlock(&app->estimator_lock);
    if (st != CARTOON_OK)
        return send_error(app, c, st == CARTOON_E_LIMIT ? MHD_HTTP_CONTENT_TOO_LARGE
                                                        : MHD_HTTP_BAD_REQUEST, err);
    int allowed = (unsigned long long)e.width * e.height <= app->limits.max_work_pixels &&
                  e.seconds <= app->limits.max_seconds;
    json_t *j = json_pack("{s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:s, s:I, s:b, s:f}",
                          "resolution", p.opt.resolution, "width", e.width, "height", e.height,
                          "out_width", e.out_width, "out_height", e.out_height, "seconds",
                          e.seconds, "flops", e.flops, "calibrated", calibration_name(e.calibrated),
                          "host_bytes", (json_int_t)e.host_bytes, "allowed", allowed,
                          "max_seconds", app->limits.max_seconds);
    return send_json(c, MHD_HTTP_OK, j);
}

/* ---------------------------------------------------------------- POST /api/cartoonize */

static int append(struct serve_app *app, struct request *r, const char *data, size_t size)
{
    if (r->too_large || size > app->max_upload - r->len) {
        r->too_large = 1; /* keep reading (and dropping) so the client gets its 413 */
        return 0;
    }
    if (r->len + size > r->cap) {
        size_t cap = r->cap ? r->cap : 65536;
        while (cap < r->len + size) cap *= 2;
        if (cap > app->max_upload) cap = app->max_upload;
        unsigned char *b = realloc(r->body, cap);
        if (!b) return -1;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, size);
    r->len += size;
    return 0;
}

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data, uint64_t off,
                                  size_t size)
{
    struct request *r = cls;
    if (filename || !strcmp(key, "image"))
        return append(r->app, r, data, size) ? MHD_NO : MHD_YES;
    /* a small text field: keep the known ones, whole (MHD may deliver it in pieces) */
    int i = 0;
    while (i < r->nfields && strcmp(r->keys[i], key)) i++;
    if (i == r->nfields) {
        if (i == MAX_FIELDS || strlen(key) >= FIELD_LEN) { r->bad_form = 1; return MHD_YES; }
        snprintf(r->keys[i], FIELD_LEN, "%s", key);
        r->values[i][0] = 0;
        r->nfields++;
    }
    size_t have = strlen(r->values[i]);
    if (off != have || have + size >= FIELD_LEN) { r->bad_form = 1; return MHD_YES; }
    memcpy(r->values[i] + have, data, size);
    r->values[i][have + size] = 0;
    return MHD_YES;
}

static enum MHD_Result finish_cartoonize(struct serve_app *app, struct MHD_Connection *c,
                                         struct request *r)
{
    char err[256];
    if (r->too_large) {
        snprintf(err, sizeof err, "upload over this server's limit of %zu bytes", app->max_upload);
        return send_error(app, c, MHD_HTTP_CONTENT_TOO_LARGE, err);
    }
    if (r->bad_form) return send_error(app, c, MHD_HTTP_BAD_REQUEST, "malformed form fields");
    if (r->len == 0)
        return send_error(app, c, MHD_HTTP_BAD_REQUEST,
                          "no image: send it as the body or as the form field 'image'");
    struct serve_params p;
    struct lookup l = {r, c};
    if (serve_params_parse(&p, form_get, &l, err, sizeof err))
        return send_error(app, c, MHD_HTTP_BAD_REQUEST, err);
    if (cartoon_file_format_sniff(r->body, r->len) == CARTOON_FILE_AUTO)
        return send_error(app, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "not a PNG, JPEG or WebP image");

    char key[33] = "", options[256];
    const char *ext = serve_format_ext(p.format), *cache_state = "off";
    unsigned char *image = NULL;
    size_t image_size = 0;
    if (app->cache) {
        serve_params_describe(&p, options, sizeof options);
        serve_cache_key(app->cache, r->body, r->len, options, key);
        cache_state = serve_cache_get(app->cache, key, ext, &image, &image_size) ? "miss" : "hit";
    }
    if (!image) {
        struct serve_job job;
        memset(&job, 0, sizeof job);
        job.upload = r->body;
        job.upload_size = r->len;
        job.params = p;
        if (serve_pool_run(app->pool, &job))
            return send_error(app, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "busy: every worker and queue slot is taken, retry later");
        if (job.http_status != 200) {
            if (job.http_status == 503)
                return send_error(app, c, MHD_HTTP_SERVICE_UNAVAILABLE, job.message);
            return send_error(app, c, job.http_status, job.message);
        }
        image = job.body;
        image_size = job.body_size;
        if (app->cache) serve_cache_put(app->cache, key, ext, image, image_size);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(image_size, image,
                                                                MHD_RESPMEM_MUST_FREE);
    if (!resp) { free(image); return MHD_NO; }
    char disposition[64];
    snprintf(disposition, sizeof disposition, "inline; filename=\"cartoon.%s\"", ext);
    MHD_add_response_header(resp, "Content-Type", serve_format_mime(p.format));
    MHD_add_response_header(resp, "Content-Disposition", disposition);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Cartoon-Cache", cache_state);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    pthread_mutex_lock(&app->lock);
    app->served++;
    pthread_mutex_unlock(&app->lock);
    return ret;
}

static enum MHD_Result route_cartoonize(struct serve_app *app, struct MHD_Connection *c,
                                        const char *data, size_t *size, void **state)
{
    struct request *r = *state;
    if (!r) { /* headers are in, no body yet */
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->app = app;
        r->started = now_s();
        *state = r;
        pthread_mutex_lock(&app->lock);
        app->in_flight++;
        pthread_mutex_unlock(&app->lock);
        const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        /* a declared size over the limit is answered before a byte of the body is read;
         * multipart framing gets 64 KiB of slack */
        if (len && strtoull(len, NULL, 10) > app->max_upload + 65536) {
            r->too_large = 1;
            return finish_cartoonize(app, c, r);
        }
        const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        if (type && !strncasecmp(type, "multipart/form-data", 19)) {
            r->pp = MHD_create_post_processor(c, 65536, form_field, r);
            if (!r->pp) return send_error(app, c, MHD_HTTP_BAD_REQUEST, "malformed multipart body");
        }
        return MHD_YES;
    }
    if (*size) {
        if (now_s() - r->started > app->upload_timeout) return MHD_NO; /* too slow: drop it */
        int failed = 0;
        if (r->pp) {
            /* a malformed form is answered 400 once the body is in */
            if (MHD_post_process(r->pp, data, *size) != MHD_YES) r->bad_form = 1;
        } else {
            failed = append(app, r, data, *size) != 0; /* out of memory: drop the connection */
        }
        *size = 0;
        return failed ? MHD_NO : MHD_YES;
    }
    return finish_cartoonize(app, c, r);
}

/* ---------------------------------------------------------------- dispatch */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
    struct serve_app *app = cls;
    if (!strcmp(url, "/api/cartoonize")) {
        if (strcmp(method, "POST"))
            return send_error(app, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
        return route_cartoonize(app, c, data, size, state);
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return send_error(app, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET");
    if (!strcmp(url, "/") || !strcmp(url, "/index.html")) return route_page(c);
    if (!strcmp(url, "/healthz")) return route_health(app, c);
    if (!strcmp(url, "/api/estimate")) return route_estimate(app, c);
    if (!strcmp(url, "/api/presets")) return route_presets(c);
    return send_error(app, c, MHD_HTTP_NOT_FOUND, "no such page");
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode why)
{
    struct serve_app *app = cls;
    struct request *r = *state;
    if (!r) return;
    if (r->pp) MHD_destroy_post_processor(r->pp);
    free(r->body);
    free(r);
    *state = NULL;
    pthread_mutex_lock(&app->lock);
    app->in_flight--;
    pthread_mutex_unlock(&app->lock);
}

int serve_http_in_flight(struct serve_app *app)
{
    pthread_mutex_lock(&app->lock);
    int n = app->in_flight;
    pthread_mutex_unlock(&app->lock);
    return n;
}

struct MHD_Daemon *serve_http_start(struct serve_app *app, int listen_fd, int max_connections,
                                    int connection_timeout)
{
    return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_ITC | MHD_USE_ERROR_LOG,
                            0, NULL, NULL, handle, app,
                            MHD_OPTION_LISTEN_SOCKET, listen_fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)connection_timeout,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, app,
                            MHD_OPTION_END);
}
