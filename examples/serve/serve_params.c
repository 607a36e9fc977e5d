/* Request parameters for cartoon-serve: see serve_params.h. */
#include "serve_params.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_format(const char *s, cartoon_file_format *f)
{
    if (!strcmp(s, "png")) *f = CARTOON_FILE_PNG;
    else if (!strcmp(s, "jpg") || !strcmp(s, "jpeg")) *f = CARTOON_FILE_JPEG;
    else if (!strcmp(s, "webp")) *f = CARTOON_FILE_WEBP;
    else return -1;
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) return -1;
    *v = x;
    return 0;
}

int serve_params_parse(struct serve_params *p, serve_param_get get, void *user,
                       char *err, size_t err_size)
{
    memset(p, 0, sizeof *p);
    cartoon_options_default(&p->opt);
    cartoon_write_options_default(&p->wopt);
    p->format = CARTOON_FILE_PNG;

    const char *v = get(user, "preset");
    if (v && *v) {
        const cartoon_preset *pr = cartoon_preset_find(v);
        if (!pr) {
            snprintf(err, err_size, "unknown preset '%.64s' (preview, social, print, low-end)", v);
            return -1;
        }
        p->preset = pr->name;
        p->opt.resolution = pr->resolution;
        p->opt.strength = pr->strength;
        p->wopt.quality = pr->quality;
        if (parse_format(pr->format, &p->format)) {
            snprintf(err, err_size, "preset '%s' names an unknown format", pr->name);
            return -1;
        }
    }
    if ((v = get(user, "resolution")) && *v) {
        long r;
        if (!strcmp(v, "native")) { p->opt.resolution = 0; p->resolution_auto = 0; }
        else if (!strcmp(v, "auto")) p->resolution_auto = 1;
        else if (!parse_long(v, 1, 65536, &r)) { p->opt.resolution = (int)r; p->resolution_auto = 0; }
        else {
            snprintf(err, err_size, "resolution takes 'native', 'auto' or 1..65536, not '%.64s'", v);
            return -1;
        }
    }
    if ((v = get(user, "strength")) && *v) {
        char *end;
        double s = strtod(v, &end);
        if (end == v || *end || !isfinite(s) || s < 0 || s > 1) {
            snprintf(err, err_size, "strength takes a number in 0..1, not '%.64s'", v);
            return -1;
        }
        p->opt.strength = (float)s;
    }
    if ((v = get(user, "format")) && *v && parse_format(v, &p->format)) {
        snprintf(err, err_size, "format takes png, jpg or webp, not '%.64s'", v);
        return -1;
    }
    if ((v = get(user, "quality")) && *v) {
        long q;
        if (parse_long(v, 1, 100, &q)) {
            snprintf(err, err_size, "quality takes 1..100, not '%.64s'", v);
            return -1;
        }
        p->wopt.quality = (int)q;
    }
    return 0;
}

const char *serve_format_mime(cartoon_file_format f)
{
    return f == CARTOON_FILE_JPEG ? "image/jpeg" : f == CARTOON_FILE_WEBP ? "image/webp" : "image/png";
}

const char *serve_format_ext(cartoon_file_format f)
{
    return f == CARTOON_FILE_JPEG ? "jpg" : f == CARTOON_FILE_WEBP ? "webp" : "png";
}

void serve_params_describe(const struct serve_params *p, char *buf, size_t size)
{
    /* %a prints the float exactly, so two strengths never share a key. */
    snprintf(buf, size, "res=%s%d strength=%a fmt=%s q=%d lossless=%d png=%d quant=%d",
             p->resolution_auto ? "auto" : "", p->opt.resolution, (double)p->opt.strength,
             serve_format_ext(p->format), p->wopt.quality, p->wopt.lossless,
             p->wopt.png_compression, (int)p->opt.quantize);
}

int serve_pick_auto_resolution(cartoon_context *ctx, int w, int h, const cartoon_options *opt,
                               double budget)
{
    /* the library's own choice (cartoon_resolve_options), so the server and cartoonize agree */
    cartoon_options o = *opt, r;
    o.resolution = CARTOON_RESOLUTION_AUTO;
    o.time_budget = budget > 0 ? budget : CARTOON_AUTO_DEFAULT_TIME_BUDGET;
    if (cartoon_resolve_options(ctx, w, h, &o, &r, NULL, 0) == CARTOON_OK) return r.resolution;
    int longest = w > h ? w : h; /* nothing fits: the smallest size auto considers */
    return longest > CARTOON_AUTO_MIN_RESOLUTION ? CARTOON_AUTO_MIN_RESOLUTION : 0;
}
