/* Context lifetime, options and errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "calibrate.h"
#include "context.h"

void cartoon_context_options_default(cartoon_context_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->device = CARTOON_DEVICE_AUTO;
    o->precision = CARTOON_PRECISION_FP32;
    o->conv = CARTOON_CONV_AUTO;
}

cartoon_status ct_ctx_fail(cartoon_context *ctx, cartoon_status status, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
        va_end(ap);
    }
    return status;
}

cartoon_status ct_ctx_grow(cartoon_context *ctx, float **buf, size_t *cap, size_t n)
{
    if (n <= *cap) return CARTOON_OK;
    size_t bytes;
    if (!ct_mul_size(n, sizeof(float), &bytes))
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "buffer of %zu floats overflows", n);
    float *p = malloc(bytes);
    if (!p) return ct_ctx_fail(ctx, CARTOON_E_OUT_OF_MEMORY, "no memory for %zu bytes", bytes);
    free(*buf);
    *buf = p;
    *cap = n;
    return CARTOON_OK;
}

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

/* Copies the context's message to the caller's buffer, frees the context, returns st. */
static cartoon_status create_failed(cartoon_context *ctx, cartoon_status st, char *err, size_t err_size)
{
    if (err && err_size) snprintf(err, err_size, "%s", ctx->err[0] ? ctx->err : cartoon_strerror(st));
    cartoon_context_free(ctx);
    return st;
}

static const char *precision_name(cartoon_precision p)
{
    return p == CARTOON_PRECISION_BF16 ? "bf16" : p == CARTOON_PRECISION_FP16 ? "fp16" : "fp32";
}

/* Creates the context's backend: the one asked for, or with CARTOON_DEVICE_AUTO the first
 * in ct_backends that is usable here, runs the precision and has a kernel for every node.
 * Each refusal is one line on stderr when verbose. */
static cartoon_status pick_backend(cartoon_context *ctx, const ct_backend_config *cfg, ct_err *e)
{
    const cartoon_context_options *o = &ctx->opt;
    int any = o->device == CARTOON_DEVICE_AUTO;
    const char *prec = precision_name(o->precision);
    char why[256], runs[64] = ""; /* the backends of this build that run the precision */
    for (int k = 0; k < ct_backend_count; k++)
        if (ct_backends[k]->precisions & CT_PRECISION_BIT(o->precision))
            snprintf(runs + strlen(runs), sizeof runs - strlen(runs), "%s%s", runs[0] ? ", " : "",
                     ct_backends[k]->label);
    for (int k = 0; k < ct_backend_count; k++) {
        const ct_backend_desc *d = ct_backends[k];
        if (!any && d->device != o->device) continue;
        why[0] = 0;
        if (!d->available(why, sizeof why)) {
            if (!any) return ct_fail(e, CARTOON_E_DEVICE, "%s requested, but %s", d->label, why);
            if (o->verbose) fprintf(stderr, "libcartoon: device auto: not %s (%s)\n", d->label, why);
            continue;
        }
        if (!(d->precisions & CT_PRECISION_BIT(o->precision))) {
            if (!any)
                return ct_fail(e, CARTOON_E_UNSUPPORTED, "%s precision is not run by the %s backend (run by: %s)",
                               prec, d->label, runs[0] ? runs : "no backend of this build");
            continue;
        }
        if (d->precision_usable && !d->precision_usable(o->precision, why, sizeof why)) {
            if (!any) return ct_fail(e, CARTOON_E_UNSUPPORTED, "%s precision on the %s backend: %s", prec, d->label, why);
            if (o->verbose) fprintf(stderr, "libcartoon: device auto: not %s (%s)\n", d->label, why);
            continue;
        }
        if (!ct_backend_runs_model(d, ctx->model, why, sizeof why)) {
            if (!any) return ct_fail(e, CARTOON_E_UNSUPPORTED, "%s", why);
            if (o->verbose) fprintf(stderr, "libcartoon: device auto: not %s (%s)\n", d->label, why);
            continue;
        }
        cartoon_status st = d->create(ctx->model, cfg, &ctx->be, e);
        if (st == CARTOON_OK) {
            ctx->device = d->device;
            return CARTOON_OK;
        }
        /* AUTO ends on the CPU, so the CPU's own failure (out of memory) is the answer. */
        if (!any || k == ct_backend_count - 1) return st;
        if (o->verbose) fprintf(stderr, "libcartoon: device auto: %s failed (%s), trying the next\n", d->label, ctx->err);
    }
    if (runs[0])
        return ct_fail(e, CARTOON_E_UNSUPPORTED, "%s precision needs the %s backend, which is not usable here",
                       prec, runs);
    return ct_fail(e, CARTOON_E_UNSUPPORTED, "%s precision has no backend in this build", prec);
}

cartoon_status cartoon_context_create(const cartoon_model *m, const cartoon_context_options *opt,
                                      cartoon_context **out, char *err, size_t err_size)
{
    ct_err ce = {err, err_size};
    if (err && err_size) err[0] = 0;
    if (!out) return ct_fail(&ce, CARTOON_E_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    if (!m) return ct_fail(&ce, CARTOON_E_INVALID_ARGUMENT, "model is NULL");
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    if (opt) o = *opt;
    if ((unsigned)o.device > CARTOON_DEVICE_CUDA || (unsigned)o.precision > CARTOON_PRECISION_FP16 ||
        (unsigned)o.conv > CARTOON_CONV_FAST || o.threads < 0 || o.threads > 1024)
        return ct_fail(&ce, CARTOON_E_INVALID_ARGUMENT,
                       "options out of range (device %d, precision %d, conv %d, threads %d)",
                       (int)o.device, (int)o.precision, (int)o.conv, o.threads);
    cartoon_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return ct_fail(&ce, CARTOON_E_OUT_OF_MEMORY, "no memory for a context");
    ctx->model = m;
    ctx->opt = o;
    if (!ctx->opt.max_pixels) ctx->opt.max_pixels = CARTOON_DEFAULT_MAX_PIXELS;
    ctx->plan.t = calloc((size_t)m->n_nodes, sizeof *ctx->plan.t);
    cartoon_status st = ctx->plan.t ? ct_pool_create(o.threads ? o.threads : online_cores(), &ctx->pool)
                                    : CARTOON_E_OUT_OF_MEMORY;
    if (st) return create_failed(ctx, st, err, err_size);

    ct_err e = {ctx->err, sizeof ctx->err};
    ct_backend_config cfg = {o.conv, o.precision, ctx->pool, o.device_memory_budget};
    st = pick_backend(ctx, &cfg, &e);
    if (st) return create_failed(ctx, st, err, err_size);
    ctx->err[0] = 0;
    *out = ctx;
    return CARTOON_OK;
}

void cartoon_context_free(cartoon_context *ctx)
{
    if (!ctx) return;
    if (ctx->be) ctx->be->ops->destroy(ctx->be);
    ct_pool_free(ctx->pool);
    free(ctx->plan.t);
    free(ctx->stage);
    free(ctx->img);
    free(ctx->tile_buf);
    free(ctx->obs_buf);
    ct_calibration_free(ctx->calib);
    free(ctx);
}

const char *cartoon_context_last_error(const cartoon_context *ctx)
{
    return ctx ? ctx->err : "no context";
}

cartoon_device cartoon_context_device(const cartoon_context *ctx)
{
    return ctx ? ctx->device : CARTOON_DEVICE_CPU;
}

uint64_t cartoon_context_arena_bytes(const cartoon_context *ctx)
{
    return ctx && ctx->be ? ctx->be->ops->memory(ctx->be) : 0;
}

cartoon_status cartoon_context_set_observer(cartoon_context *ctx, cartoon_observer fn, void *user,
                                            int want_data)
{
    if (!ctx) return CARTOON_E_INVALID_ARGUMENT;
    ctx->observer = fn;
    ctx->observer_user = user;
    ctx->observer_data = fn && want_data;
    return CARTOON_OK;
}
