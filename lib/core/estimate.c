/* cartoon_estimate_cost(): the memory a unet_cartoonize() call would hold, from the planner
 * itself (the same fusion and kernel scratch as the context's backend, without allocating the
 * arena) plus every buffer cartoonize.c, executor.c and resample.c allocate at that size; and
 * its time, from the context's calibration (calibrate.c) or a FLOP-rate guess.
 *
 * Keep in step with: cartoonize.c (img: the model-space image, the full-size source when
 * resampling in, the kept original; the result resample's tmp), executor.c (stage for
 * backends without host buffers, obs_buf for an observer that wants data, ensure_plan's
 * fusion and scratch), resample.c (its temporary and filter tables) and the CUDA backend's
 * pinned staging buffer. tests/test_estimate.c checks the CPU figures against the bytes a
 * real call allocates (malloc wrapped), so a drift there fails the suite. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "calibrate.h"
#include "context.h"
#include "plan.h"
#include "tiling.h"

/* Uncalibrated guesses: effective FLOP rates (Winograd counted as direct convolution). */
#define GUESS_CPU_FLOPS_PER_THREAD 25e9
#define GUESS_GPU_FLOPS 5e12

static size_t node_scratch(void *user, const cartoon_model *m, const ct_plan *p, int i)
{
    ct_backend *be = user;
    return be->ops->scratch(be, m, p, i);
}

/* a * b and a + b on uint64, 0 on overflow (the caller reports LIMIT). */
static int mul64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static int add64(uint64_t a, uint64_t b, uint64_t *r) { return !__builtin_add_overflow(a, b, r); }

/* Taps per output of one axis, as resample.c's axis_build() sizes its table. */
static uint64_t max_taps(int in, int out)
{
    return out < in ? (uint64_t)ceil((double)in / out) + 2 : 2;
}

/* Bytes ct_resample() holds at once from iw x ih to ow x oh with c channels: its
 * ih x ow x c float temporary and both axes' first/count/weight tables. 0 when the sizes are
 * equal (a plain copy). */
static int resample_bytes(int iw, int ih, int ow, int oh, int c, uint64_t *out)
{
    *out = 0;
    if (iw == ow && ih == oh) return 1;
    uint64_t tmp, fx, fy, t;
    int ok = mul64((uint64_t)ih * (uint64_t)ow, (uint64_t)c * sizeof(float), &tmp);
    ok = ok && mul64((uint64_t)ow, max_taps(iw, ow), &t) && mul64(t, sizeof(float), &fx) &&
         add64(fx, 2 * (uint64_t)ow * sizeof(int), &fx);
    ok = ok && mul64((uint64_t)oh, max_taps(ih, oh), &t) && mul64(t, sizeof(float), &fy) &&
         add64(fy, 2 * (uint64_t)oh * sizeof(int), &fy);
    return ok && add64(tmp, fx, out) && add64(*out, fy, out);
}

double ct_resample_work(int iw, int ih, int ow, int oh, int c)
{
    if (iw == ow && ih == oh) return 0;
    /* taps summed over the outputs of one axis: about in + out when shrinking (area), 2 per
     * output when enlarging (bilinear); plus one write per output element */
    double tx = ow < iw ? (double)iw + ow : 2.0 * ow, ty = oh < ih ? (double)ih + oh : 2.0 * oh;
    return (double)c * ((double)ih * (tx + ow) + (double)ow * (ty + oh));
}

/* The plan unet_cartoonize() would build for a ph x pw padded input on this context
 * (executor.c, ensure_plan): fusion unless the observer wants data, the backend's scratch. */
static cartoon_status plan_for(cartoon_context *ctx, int ph, int pw, ct_plan *p)
{
    const ct_backend_ops *ops = ctx->be->ops;
    ct_fusion_caps caps = ctx->observer_data ? (ct_fusion_caps){0} : ops->fusion;
    ct_err e = {ctx->err, sizeof ctx->err};
    p->t = calloc((size_t)ctx->model->n_nodes, sizeof *p->t);
    if (!p->t) return ct_ctx_fail(ctx, CARTOON_E_OUT_OF_MEMORY, "no memory to plan an estimate");
    cartoon_status st = ct_plan_build(ctx->model, ph, pw, caps, ops->scratch ? node_scratch : NULL, ctx->be, p, &e);
    if (st) { free(p->t); p->t = NULL; }
    return st;
}

/* Predicted milliseconds from a calibration (see calibrate.c for the fit); the nodes run once
 * per tile (runs = 1 untiled). */
static double predict_ms(const ct_calibration *c, const ct_plan *p, int runs, double units, double resample_work)
{
    double ms = 0;
    for (int i = 0; i < c->n && i < p->n; i++)
        ms += c->node_a[i] * ((double)p->t[i].h * p->t[i].w) + c->node_b[i];
    ms *= runs;
    ms += c->over_a * units + c->over_b;
    ms += c->resample_a * resample_work;
    return ms;
}

cartoon_status cartoon_estimate_cost(cartoon_context *ctx, int in_w, int in_h, const cartoon_options *opt,
                                     cartoon_estimate *out)
{
    ct_tiling t;
    return ct_estimate(ctx, in_w, in_h, opt, out, &t, 1);
}

/* The estimate, and the tiling unet_cartoonize() uses with these options (tiled = 0: none).
 * Without want_time the time is left at 0 and no calibration is looked for. */
cartoon_status ct_estimate(cartoon_context *ctx, int in_w, int in_h, const cartoon_options *opt,
                           cartoon_estimate *out, ct_tiling *tiling, int want_time)
{
    memset(tiling, 0, sizeof *tiling);
    if (!ctx) return CARTOON_E_INVALID_ARGUMENT;
    ctx->err[0] = 0;
    if (!out) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "out is NULL");
    memset(out, 0, sizeof *out);
    if (in_w < 1 || in_h < 1)
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "input size %dx%d is empty", in_w, in_h);
    cartoon_options o;
    cartoon_options_default(&o);
    if (opt) o = *opt;
    if (o.resolution == CARTOON_RESOLUTION_AUTO) {
        cartoon_status rs = cartoon_resolve_options(ctx, in_w, in_h, &o, &o, NULL, 0);
        if (rs) return rs;
    }
    /* the working size is the output size with keep_model_size set: the same rule
     * (cartoonize.c's model_size), the same option checks */
    cartoon_options om = o;
    om.keep_model_size = 1;
    int mw, mh, ow, oh;
    if (cartoon_output_size(&om, in_w, in_h, &mw, &mh) || cartoon_output_size(&o, in_w, in_h, &ow, &oh))
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT,
                           "options: resolution %d, strength %g or quantize %d out of range", o.resolution,
                           (double)o.strength, (int)o.quantize);
    const uint64_t maxp = ctx->opt.max_pixels;
    if ((uint64_t)in_w * (uint64_t)in_h > maxp)
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "input: %dx%d exceeds the limit of %llu pixels", in_w, in_h,
                           (unsigned long long)maxp);
    if ((uint64_t)mw * (uint64_t)mh > maxp || mw > (1 << 30) || mh > (1 << 30))
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "model resolution %dx%d exceeds the pixel limit", mw, mh);
    if ((uint64_t)ow * (uint64_t)oh > maxp)
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "output: %dx%d exceeds the limit of %llu pixels", ow, oh,
                           (unsigned long long)maxp);
    const cartoon_model *m = ctx->model;
    const int pm = m->pad_multiple, c = m->in_channels;
    int ph = (mh + pm - 1) / pm * pm, pw = (mw + pm - 1) / pm * pm;
    out->width = mw; out->height = mh;
    out->padded_width = pw; out->padded_height = ph;
    out->out_width = ow; out->out_height = oh;

    ct_plan p = {0};
    cartoon_status st = plan_for(ctx, ph, pw, &p);
    if (st) return st;
    for (int i = 0; i < m->n_nodes; i++) out->flops += ct_node_flops(m, i, ph, pw);

    /* ---- memory, in the order unet_cartoonize() allocates it */
    const uint64_t in_px = (uint64_t)in_w * in_h, m_px = (uint64_t)mw * mh, o_px = (uint64_t)ow * oh;
    const uint64_t f = sizeof(float);
    int resample_in = mw != in_w || mh != in_h;
    int same_size = ow == in_w && oh == in_h;
    int keep_orig = !same_size && o.strength < 1.f;
    int resample_out = ow != mw || oh != mh;
    int host_arena = ctx->be->ops->host != NULL; /* CPU: the arena is host memory used in place */
    uint64_t img = 0, stage = 0, obs = 0, t_in = 0, t_out = 0, pinned = 0, v;
    int ok = mul64(m_px, 3 * f, &img);
    if (ok && resample_in) ok = mul64(in_px, 3 * f, &v) && add64(img, v, &img);
    if (ok && keep_orig) ok = mul64(m_px, 3 * f, &v) && add64(img, v, &img);
    if (ok && !host_arena) ok = mul64((uint64_t)ph * pw, (uint64_t)c * f, &stage);
    if (ok && ctx->observer_data) /* report() copies every node's output into obs_buf */
        for (int i = 0; i < p.n && ok; i++) {
            uint64_t n = 0;
            ok = mul64((uint64_t)p.t[i].h * p.t[i].w, (uint64_t)p.t[i].c * f, &n);
            if (n > obs) obs = n;
        }
    if (ok && !host_arena) { /* the CUDA backend stages write() and read() through pinned memory */
        const ct_tensor_plan *ti = &p.t[0], *to = &p.t[m->output];
        uint64_t a = 0, b = 0;
        ok = mul64((uint64_t)ti->h * ti->w, (uint64_t)ti->c * f, &a) &&
             mul64((uint64_t)to->h * to->w, (uint64_t)to->c * f, &b);
        pinned = a > b ? a : b;
    }
    if (ok && resample_in) ok = resample_bytes(in_w, in_h, mw, mh, 3, &t_in);
    if (ok && resample_out) ok = mul64(o_px, 3 * f, &t_out) && resample_bytes(mw, mh, ow, oh, 3, &v) &&
                                 add64(t_out, v, &t_out);
    out->arena_bytes = p.arena_bytes;
    out->buffer_bytes = img + stage + obs;
    out->transient_bytes = t_in > t_out ? t_in : t_out;
    ok = ok && add64(out->buffer_bytes, out->transient_bytes, &out->host_bytes) &&
         add64(out->host_bytes, pinned, &out->host_bytes) &&
         (!host_arena || add64(out->host_bytes, out->arena_bytes, &out->host_bytes));
    out->device_bytes = host_arena ? 0 : out->arena_bytes;
    if (!ok) {
        free(p.t);
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "buffers for a %dx%d input overflow", in_w, in_h);
    }
    tiling->th = ph; tiling->tw = pw; tiling->ph = ph; tiling->pw = pw; tiling->ny = tiling->nx = 1;
    int runs = 1;
    uint64_t dev_budget = host_arena ? 0 : ctx->opt.device_memory_budget;
    uint64_t untiled_dev = 0; /* as ct_tile_cost counts it */
    if (!host_arena) {
        const ct_tensor_plan *to = &p.t[m->output];
        untiled_dev = out->arena_bytes + 6 * m->parameters + 2 * (uint64_t)to->h * to->w * to->c * f;
    }
    if (o.tile > 0 || (o.memory_budget && out->host_bytes > o.memory_budget) ||
        (dev_budget && untiled_dev > dev_budget)) {
        /* Tiled: at native size the 8-bit pixels stream tile by tile (nothing held but the
         * tile); with resampling the working image and a separate result stay whole. */
        int stream = !resample_in && !resample_out;
        uint64_t fixed = 0;
        if (!stream) ok = add64(img, m_px * 3 * f, &fixed) && add64(fixed, out->transient_bytes, &fixed);
        if (!ok) { free(p.t); return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "buffers for a %dx%d input overflow", in_w, in_h); }
        st = ct_tiling_plan(ctx, mh, mw, o.tile, fixed, o.memory_budget, dev_budget, tiling);
        if (!st && tiling->tiled) {
            free(p.t);
            st = plan_for(ctx, tiling->th, tiling->tw, &p);
        }
        if (st) { free(p.t); return st; }
    }
    if (tiling->tiled) { /* the same figures for the tile's plan */
        int stream = !resample_in && !resample_out;
        uint64_t tpx = (uint64_t)tiling->th * tiling->tw;
        runs = tiling->ny * tiling->nx;
        stage = host_arena ? 0 : tpx * c * f;
        obs = 0;
        if (ctx->observer_data)
            for (int i = 0; i < p.n; i++) {
                uint64_t n = (uint64_t)p.t[i].h * p.t[i].w * p.t[i].c * f;
                if (n > obs) obs = n;
            }
        if (!host_arena) {
            const ct_tensor_plan *to = &p.t[m->output];
            uint64_t a = tpx * c * f, b = (uint64_t)to->h * to->w * to->c * f;
            pinned = a > b ? a : b;
        }
        img = stream ? 0 : img + m_px * 3 * f; /* the result beside the working image */
        if (stream) out->transient_bytes = 0;
        out->arena_bytes = p.arena_bytes;
        /* the tile's float buffer; a host arena takes the tile in its own input tensor */
        out->buffer_bytes = img + (host_arena ? 0 : tpx * 3 * f) + stage + obs;
        out->host_bytes = out->buffer_bytes + out->transient_bytes + pinned + (host_arena ? out->arena_bytes : 0);
        out->device_bytes = host_arena ? 0 : out->arena_bytes;
    }
    if (!want_time) { free(p.t); return CARTOON_OK; }

    /* ---- time */
    if (!ctx->calib && !ctx->calib_looked) ct_calibration_load(ctx);
    double rs = (resample_in ? ct_resample_work(in_w, in_h, mw, mh, 3) : 0) +
                (resample_out ? ct_resample_work(mw, mh, ow, oh, 3) : 0);
    /* the work outside the nodes: one pass over the input pixels (to float), four over the
     * working pixels (normalise, pad, crop, back to pixel values), one over the output pixels
     * (blend, quantise); calibrated at native size, where the three counts are equal */
    double units = ((double)in_px + 4.0 * ph * pw + (double)o_px) / 6.0;
    if (ctx->calib) {
        out->seconds = predict_ms(ctx->calib, &p, runs, units, rs) / 1e3;
        out->calibrated = ctx->calib->source;
    } else {
        double rate = host_arena ? GUESS_CPU_FLOPS_PER_THREAD * ct_pool_size(ctx->pool) : GUESS_GPU_FLOPS;
        double flops = out->flops;
        if (runs > 1) { /* the tiles' FLOPs, overlap included */
            flops = 0;
            for (int i = 0; i < m->n_nodes; i++) flops += ct_node_flops(m, i, tiling->th, tiling->tw);
            flops *= runs;
        }
        out->seconds = flops / rate + (units * 20 + rs * 2) * 1e-9;
        out->calibrated = CARTOON_CALIBRATION_NONE;
    }
    if (!(out->seconds > 0)) out->seconds = 1e-9;
    free(p.t);
    return CARTOON_OK;
}
