/* cartoonize --estimate and the budget check (see cartoonize_estimate.h). */
#include "cartoonize_estimate.h"

#include <stdlib.h>
#include <string.h>
#include "cartoon_io.h"

uint64_t cli_engine_budget(uint64_t budget, FILE *err)
{
    if (!budget) return 0;
    uint64_t rss = 0;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) rss = strtoull(line + 6, NULL, 10) * 1024; /* kB */
    if (f) fclose(f);
    if (rss >= budget) {
        fprintf(err, "cartoonize: --memory-budget %llu bytes: the program already holds %llu (code, model)\n",
                (unsigned long long)budget, (unsigned long long)rss);
        return 0;
    }
    return budget - rss;
}

int cli_check_budgets(cartoon_context *ctx, const cartoon_options *opt, FILE *err)
{
    if (!opt->memory_budget && opt->resolution != CARTOON_RESOLUTION_AUTO) return 0;
    /* a large square at the working size: it needs tiles unless the budget is huge, and at the
     * working size nothing but the tile counts (no resampling), so a refusal here is the
     * budget's fault, whatever the inputs */
    int side = opt->resolution > 0 ? opt->resolution : 8192; /* 8192^2 is within max_pixels */
    /* auto: the smallest picture it considers; budgets it cannot meet fit no image at all
     * (larger inputs may still fail on their own: resampling them holds more) */
    if (opt->resolution == CARTOON_RESOLUTION_AUTO) side = CARTOON_AUTO_MIN_RESOLUTION;
    cartoon_estimate e;
    cartoon_status st = cartoon_estimate_cost(ctx, side, side, opt, &e);
    if (st == CARTOON_E_LIMIT && strstr(cartoon_context_last_error(ctx), "budget")) { /* not the pixel limit */
        fprintf(err, "cartoonize: %s\n", cartoon_context_last_error(ctx));
        return 2;
    }
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void cli_say_model(const cartoon_model *model, const char *path, FILE *err)
{
    cartoon_model_info mi;
    const char *name = cartoon_model_get_info(model, &mi) == CARTOON_OK && mi.name && *mi.name ? mi.name : "unnamed";
    fprintf(err, "cartoonize: model: %s (%s)\n", name, path);
}

int cli_estimate(const struct cli_config *cfg, char **argv, FILE *out, FILE *err)
{
    char found[4096], msg[512];
    const char *path = cfg->model_path;
    if (!path) {
        cartoon_status fs = cartoon_model_find(cfg->prefer_student ? CARTOON_MODEL_PREFER_STUDENT
                                                                   : CARTOON_MODEL_PREFER_WHITEBOX,
                                               found, sizeof found, NULL, 0);
        if (fs) {
            fprintf(err, "cartoonize: no model (-m MODEL, or see cartoonize without --estimate)\n");
            return 2;
        }
        path = found;
    }
    cartoon_model *model = NULL;
    cartoon_context *ctx = NULL;
    cartoon_status st = cartoon_model_load(path, NULL, &model, msg, sizeof msg);
    if (!st) st = cartoon_context_create(model, &cfg->copt, &ctx, msg, sizeof msg);
    if (st) {
        fprintf(err, "cartoonize: %s: %s (%s)\n", path, msg, cartoon_status_name(st));
        cartoon_model_free(model);
        return 2;
    }
    cli_say_model(model, path, err);
    cartoon_options base = cfg->opt; /* the engine's share of the budget, as a real run */
    int rc = base.memory_budget && !(base.memory_budget = cli_engine_budget(base.memory_budget, err))
                 ? 2 : cli_check_budgets(ctx, &base, err);
    int opened = cfg->json && !rc, printed = 0;
    if (opened) fprintf(out, "[");
    for (int i = 0; i < cfg->n_inputs && rc != 2; i++) {
        const char *in = argv[cfg->first_input + i];
        cartoon_image im = {0};
        /* decoding gives the size (and the EXIF orientation the real run applies) */
        st = cartoon_image_read(in, CARTOON_DEFAULT_MAX_PIXELS, &im, msg, sizeof msg);
        if (st) {
            fprintf(err, "cartoonize: %s: %s (%s)\n", in, msg, cartoon_status_name(st));
            rc = 1;
            continue;
        }
        int w = im.width, h = im.height;
        cartoon_image_free(&im);
        cartoon_options o;
        char why[512] = "";
        cartoon_estimate e;
        st = cartoon_resolve_options(ctx, w, h, &base, &o, why, sizeof why);
        if (!st) st = cartoon_estimate_cost(ctx, w, h, &o, &e);
        if (st) {
            fprintf(err, "cartoonize: %s: %s (%s)\n", in, cartoon_context_last_error(ctx), cartoon_status_name(st));
            rc = st == CARTOON_E_LIMIT ? 2 : 1;
            continue;
        }
        const char *calib = e.calibrated == CARTOON_CALIBRATION_NONE ? "uncalibrated"
                            : e.calibrated == CARTOON_CALIBRATION_MEASURED ? "measured" : "cached";
        uint64_t peak = e.host_bytes > e.device_bytes ? e.host_bytes : e.device_bytes;
        if (cfg->json) {
            fprintf(out, "%s\n {\"input\": ", printed++ ? "," : "");
            json_str(out, in);
            fprintf(out,
                    ", \"width\": %d, \"height\": %d, \"working_width\": %d, \"working_height\": %d, "
                    "\"output_width\": %d, \"output_height\": %d, \"seconds\": %.6g, \"host_bytes\": %llu, "
                    "\"device_bytes\": %llu, \"arena_bytes\": %llu, \"gflop\": %.4g, \"calibration\": \"%s\", "
                    "\"resolution\": %d}",
                    w, h, e.width, e.height, e.out_width, e.out_height, e.seconds, (unsigned long long)e.host_bytes,
                    (unsigned long long)e.device_bytes, (unsigned long long)e.arena_bytes, e.flops / 1e9, calib,
                    o.resolution);
        } else {
            fprintf(out, "%s: %dx%d -> working %dx%d: %.3g s, peak %.1f MB%s (%s time model)\n", in, w, h, e.width,
                    e.height, e.seconds, peak / 1048576.0, e.device_bytes ? " on the GPU" : "", calib);
            if (why[0] && cfg->copt.verbose) fprintf(out, "  %s\n", why);
        }
    }
    if (opened) fprintf(out, "\n]\n");
    cartoon_context_free(ctx);
    cartoon_model_free(model);
    return rc;
}
