/* Context lifetime, options and errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
    char why[256] = "";
    int want_cuda = o.device == CARTOON_DEVICE_CUDA ||
                    (o.device == CARTOON_DEVICE_AUTO && ct_cuda_available(why, sizeof why));
    if (o.device == CARTOON_DEVICE_AUTO && !want_cuda && o.verbose)
        fprintf(stderr, "libcartoon: device auto: using the CPU (%s)\n", why[0] ? why : "no CUDA");
    if (want_cuda) {
        st = ct_backend_cuda_create(&cfg, &ctx->be, &e);
        if (st == CARTOON_OK) ctx->device = CARTOON_DEVICE_CUDA;
        else if (o.device == CARTOON_DEVICE_AUTO) {
            if (o.verbose) fprintf(stderr, "libcartoon: device auto: CUDA failed (%s), using the CPU\n", ctx->err);
            st = CARTOON_OK;
        }
    }
    if (!st && !ctx->be) {
        if (o.precision == CARTOON_PRECISION_FP16) {
            st = ct_ctx_fail(ctx, CARTOON_E_UNSUPPORTED, "fp16 precision needs the CUDA backend");
        } else if (o.precision == CARTOON_PRECISION_BF16) {
            /* refused rather than silently run in fp32: there are no bf16 CPU kernels yet
             * (they need AVX512_BF16, which the machines this was built on lack) */
            st = ct_ctx_fail(ctx, CARTOON_E_UNSUPPORTED, "bf16 precision has no CPU kernels in this build");
        } else {
            st = ct_backend_cpu_create(&cfg, &ctx->be, &e);
            ctx->device = CARTOON_DEVICE_CPU;
        }
    }
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
    free(ctx->obs_buf);
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
