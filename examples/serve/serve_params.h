/* cartoon-serve's request parameters: preset, resolution (native, auto or N), strength,
 * format and quality, read from a lookup function so the same parser serves query strings
 * and multipart form fields. Touches nothing else. */
#ifndef SERVE_PARAMS_H
#define SERVE_PARAMS_H
#include <stddef.h>
#include "cartoon.h"
#include "cartoon_io.h"

struct serve_params {
    int resolution_auto;        /* 1: the server picks the resolution from the cost model */
    cartoon_options opt;        /* resolution, strength */
    cartoon_file_format format; /* of the result */
    cartoon_write_options wopt; /* quality */
    const char *preset;         /* static preset name, or NULL */
};

/* Returns the value of a parameter, or NULL when the request does not have it. */
typedef const char *(*serve_param_get)(void *user, const char *key);

/* Defaults (native, strength 1, PNG), then the preset, then the explicit parameters.
 * Returns 0, or -1 with a message naming the bad parameter. */
int serve_params_parse(struct serve_params *p, serve_param_get get, void *user,
                       char *err, size_t err_size);

/* MIME type and file extension of a result format. */
const char *serve_format_mime(cartoon_file_format f);
const char *serve_format_ext(cartoon_file_format f);

/* A canonical one-line text of the parameters (for the cache key). */
void serve_params_describe(const struct serve_params *p, char *buf, size_t size);

/* The network resolution `auto` picks for a w x h picture on ctx: cartoon_resolve_options()
 * with time_budget = budget (the library's default when <= 0) and opt's memory_budget (its
 * default when 0); when nothing fits, CARTOON_AUTO_MIN_RESOLUTION. 0 means native. */
int serve_pick_auto_resolution(cartoon_context *ctx, int w, int h, const cartoon_options *opt,
                               double budget);
#endif
