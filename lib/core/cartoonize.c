/* unet_cartoonize(): 8-bit pixels in, 8-bit pixels out. Converts to the model's colour order
 * and normalisation, resamples to the requested resolution, runs the network, brings the
 * result back to the output size, blends it with the original by `strength` and turns that
 * float into 8 bits once, at the end (truncated like the original program, or rounded). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "context.h"
#include "resample.h"
#include "tiling.h"

#define CT_MAX_RESOLUTION 65536

void cartoon_options_default(cartoon_options *o)
{
    if (!o) return;
    o->resolution = 0;
    o->strength = 1.0f;
    o->keep_model_size = 0;
    o->quantize = CARTOON_QUANTIZE_TRUNCATE;
    o->memory_budget = 0;
    o->tile = 0;
    o->time_budget = 0;
}

int cartoon_pixel_size(cartoon_pixel_format f)
{
    switch (f) {
    case CARTOON_PIXEL_RGB: case CARTOON_PIXEL_BGR: return 3;
    case CARTOON_PIXEL_RGBA: case CARTOON_PIXEL_BGRA: return 4;
    default: return 0;
    }
}

static int is_bgr(cartoon_pixel_format f) { return f == CARTOON_PIXEL_BGR || f == CARTOON_PIXEL_BGRA; }

/* The model's working size for an input of w x h: native, or the longest side scaled to
 * resolution with the aspect ratio kept (at least 1 pixel each way). */
static void model_size(const cartoon_options *o, int w, int h, int *mw, int *mh)
{
    if (o->resolution <= 0) { *mw = w; *mh = h; return; }
    int longest = w > h ? w : h;
    double s = (double)o->resolution / longest;
    *mw = w >= h ? o->resolution : (int)lround(w * s);
    *mh = h >= w ? o->resolution : (int)lround(h * s);
    if (*mw < 1) *mw = 1;
    if (*mh < 1) *mh = 1;
}

static cartoon_status check_options(const cartoon_options *o)
{
    if ((o->resolution < 0 && o->resolution != CARTOON_RESOLUTION_AUTO) || o->resolution > CT_MAX_RESOLUTION ||
        !(o->strength >= 0.f && o->strength <= 1.f) ||
        (o->quantize != CARTOON_QUANTIZE_TRUNCATE && o->quantize != CARTOON_QUANTIZE_ROUND) || o->tile < 0 ||
        o->tile > CT_MAX_RESOLUTION || !(o->time_budget >= 0 && o->time_budget <= 1e9))
        return CARTOON_E_INVALID_ARGUMENT;
    return CARTOON_OK;
}

cartoon_status cartoon_output_size(const cartoon_options *opt, int in_w, int in_h, int *out_w, int *out_h)
{
    cartoon_options o;
    cartoon_options_default(&o);
    if (opt) o = *opt;
    if (!out_w || !out_h || in_w < 1 || in_h < 1 || check_options(&o)) return CARTOON_E_INVALID_ARGUMENT;
    /* the model size of AUTO depends on the context: cartoon_resolve_options() first */
    if (o.keep_model_size && o.resolution == CARTOON_RESOLUTION_AUTO) return CARTOON_E_INVALID_ARGUMENT;
    if (o.keep_model_size) model_size(&o, in_w, in_h, out_w, out_h);
    else { *out_w = in_w; *out_h = in_h; }
    return CARTOON_OK;
}

static cartoon_status check_image(cartoon_context *ctx, const cartoon_image *im, const char *what)
{
    int bpp = cartoon_pixel_size(im->format);
    if (!bpp) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "%s: unknown pixel format %d", what, (int)im->format);
    if (!im->data) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "%s: data is NULL", what);
    if (im->width < 1 || im->height < 1)
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "%s: size %dx%d is empty", what, im->width, im->height);
    if ((uint64_t)im->width * (uint64_t)im->height > ctx->opt.max_pixels)
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "%s: %dx%d exceeds the limit of %llu pixels", what, im->width,
                           im->height, (unsigned long long)ctx->opt.max_pixels);
    if (im->stride < (size_t)im->width * bpp)
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "%s: stride %zu is below width x %d bytes", what,
                           im->stride, bpp);
    return CARTOON_OK;
}

/* 8-bit pixels into float pixel values (0..255) in the model's channel order. */
static void to_float(const cartoon_image *im, int model_bgr, float *dst)
{
    int bpp = cartoon_pixel_size(im->format);
    int swap = is_bgr(im->format) != model_bgr;
    for (int y = 0; y < im->height; y++) {
        const uint8_t *s = im->data + (size_t)y * im->stride;
        float *d = dst + (size_t)y * im->width * 3;
        for (int x = 0; x < im->width; x++, s += bpp, d += 3) {
            d[0] = s[swap ? 2 : 0];
            d[1] = s[1];
            d[2] = s[swap ? 0 : 2];
        }
    }
}

/* The final float pixel value into 8 bits: clip to 0..255, then truncate (the original's
 * np.clip(v, 0, 255).astype(np.uint8)) or round to nearest. NaN gives 0. */
static uint8_t to_u8(float v, int round_nearest)
{
    if (!(v > 0.f)) return 0;
    if (v >= 255.f) return 255;
    return (uint8_t)(round_nearest ? v + 0.5f : v);
}

/* Tiled runs (tiling.c). At native size the tiles read the 8-bit input and write the 8-bit
 * output directly, with the same float operations as the whole-image path below, so nothing
 * of the image's size is held; with resampling they read and write float images. */
typedef struct tile_io {
    const cartoon_image *in;
    cartoon_image *out;
    const cartoon_model *m;
    float strength;
    int rnd;
    const float *src; /* float fetch: the model-space working image, w x h */
    float *dst;       /* float store: the network output */
    int w, h;
} tile_io;

static void fetch_u8(void *user, int y0, int x0, int th, int tw, float *d)
{
    const tile_io *io = user;
    const cartoon_image *im = io->in;
    int bpp = cartoon_pixel_size(im->format), swap = is_bgr(im->format) != io->m->bgr;
    float inv = io->m->inv_scale, off = io->m->offset;
    for (int y = 0; y < th; y++) {
        int sy = y0 + y < im->height ? y0 + y : im->height - 1; /* edge padding, as ct_pad_edge */
        const uint8_t *row = im->data + (size_t)sy * im->stride;
        for (int x = 0; x < tw; x++, d += 3) {
            int sx = x0 + x < im->width ? x0 + x : im->width - 1;
            const uint8_t *q = row + (size_t)sx * bpp;
            float v[3] = {q[swap ? 2 : 0], q[1], q[swap ? 0 : 2]};
            for (int k = 0; k < 3; k++) d[k] = v[k] / inv + off;
        }
    }
}

static void store_u8(void *user, int y0, int x0, int kh, int kw, const float *src, int src_w)
{
    const tile_io *io = user;
    const cartoon_model *m = io->m;
    int obpp = cartoon_pixel_size(io->out->format), ibpp = cartoon_pixel_size(io->in->format);
    int swap = is_bgr(io->out->format) != m->bgr, in_swap = is_bgr(io->in->format) != m->bgr;
    int alpha_from_in = obpp == 4 && ibpp == 4;
    float s = io->strength, inv = m->inv_scale;
    for (int y = 0; y < kh; y++) {
        const float *c = src + (size_t)y * src_w * 3;
        const uint8_t *q = io->in->data + (size_t)(y0 + y) * io->in->stride + (size_t)x0 * ibpp;
        uint8_t *d = io->out->data + (size_t)(y0 + y) * io->out->stride + (size_t)x0 * obpp;
        for (int x = 0; x < kw; x++, c += 3, q += ibpp, d += obpp) {
            float v[3];
            for (int k = 0; k < 3; k++) v[k] = (c[k] - m->offset) * inv; /* pixel values */
            if (s < 1.f) {
                float g[3] = {q[in_swap ? 2 : 0], q[1], q[in_swap ? 0 : 2]};
                for (int k = 0; k < 3; k++) v[k] = s * v[k] + (1.f - s) * g[k];
            }
            d[0] = to_u8(v[swap ? 2 : 0], io->rnd);
            d[1] = to_u8(v[1], io->rnd);
            d[2] = to_u8(v[swap ? 0 : 2], io->rnd);
            if (obpp == 4) d[3] = alpha_from_in ? q[3] : 255;
        }
    }
}

static void fetch_f32(void *user, int y0, int x0, int th, int tw, float *d)
{
    const tile_io *io = user;
    for (int y = 0; y < th; y++) {
        int sy = y0 + y < io->h ? y0 + y : io->h - 1;
        const float *row = io->src + (size_t)sy * io->w * 3;
        for (int x = 0; x < tw; x++, d += 3) {
            const float *q = row + (size_t)(x0 + x < io->w ? x0 + x : io->w - 1) * 3;
            d[0] = q[0]; d[1] = q[1]; d[2] = q[2];
        }
    }
}

static void store_f32(void *user, int y0, int x0, int kh, int kw, const float *src, int src_w)
{
    const tile_io *io = user;
    for (int y = 0; y < kh; y++)
        memcpy(io->dst + ((size_t)(y0 + y) * io->w + x0) * 3, src + (size_t)y * src_w * 3, (size_t)kw * 3 * sizeof *src);
}

cartoon_status unet_cartoonize(cartoon_context *ctx, const cartoon_image *in, cartoon_image *out,
                               const cartoon_options *opt)
{
    if (!ctx) return CARTOON_E_INVALID_ARGUMENT;
    ctx->err[0] = 0;
    if (!in || !out) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "input or output image is NULL");
    cartoon_options o;
    cartoon_options_default(&o);
    if (opt) o = *opt;
    if (check_options(&o))
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT,
                           "options: resolution %d (AUTO or 0..%d), strength %g (0..1), quantize %d (0..1), "
                           "tile %d (0..%d) or time budget %g (0..1e9 s) out of range",
                           o.resolution, CT_MAX_RESOLUTION, (double)o.strength, (int)o.quantize, o.tile,
                           CT_MAX_RESOLUTION, o.time_budget);
    cartoon_status st;
    if ((st = check_image(ctx, in, "input"))) return st;
    if (o.resolution == CARTOON_RESOLUTION_AUTO) {
        char why[512];
        if ((st = cartoon_resolve_options(ctx, in->width, in->height, &o, &o, why, sizeof why))) return st;
        if (ctx->opt.verbose) fprintf(stderr, "libcartoon: %s\n", why);
    }
    if ((st = check_image(ctx, out, "output"))) return st;
    int mw, mh, ow, oh;
    model_size(&o, in->width, in->height, &mw, &mh);
    cartoon_output_size(&o, in->width, in->height, &ow, &oh);
    if (out->width != ow || out->height != oh)
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "output is %dx%d but must be %dx%d", out->width,
                           out->height, ow, oh);
    if ((uint64_t)mw * (uint64_t)mh > ctx->opt.max_pixels)
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "model resolution %dx%d exceeds the pixel limit", mw, mh);
    const uint8_t *ib = in->data, *ie = ib + (size_t)(in->height - 1) * in->stride + (size_t)in->width * cartoon_pixel_size(in->format);
    const uint8_t *ob = out->data, *oe = ob + (size_t)(out->height - 1) * out->stride + (size_t)out->width * cartoon_pixel_size(out->format);
    if (ib < oe && ob < ie) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "input and output overlap");

    const cartoon_model *m = ctx->model;
    /* tiling: decided by the cost model (estimate.c) from the same options, so the memory the
     * call holds is the one cartoon_estimate_cost() reports */
    ct_tiling tl = {0};
    tile_io tio = {in, out, m, o.strength, o.quantize == CARTOON_QUANTIZE_ROUND, NULL, NULL, mw, mh};
    if (o.tile > 0 || o.memory_budget || (!ctx->be->ops->host && ctx->opt.device_memory_budget)) {
        const cartoon_options *k = &ctx->tiling_opt;
        if (ctx->tiling_valid && ctx->tiling_w == in->width && ctx->tiling_h == in->height &&
            ctx->tiling_obs == ctx->observer_data && k->resolution == o.resolution && k->strength == o.strength &&
            k->keep_model_size == o.keep_model_size && k->memory_budget == o.memory_budget && k->tile == o.tile) {
            tl = ctx->tiling;
        } else {
            cartoon_estimate est;
            ctx->tiling_valid = 0;
            if ((st = ct_estimate(ctx, in->width, in->height, &o, &est, &tl, 0))) return st;
            if (tl.tiled && ctx->opt.verbose)
                fprintf(stderr, "libcartoon: tiling %dx%d: %d x %d tiles of %dx%d (halo %d+%d), %.1f MB planned\n",
                        mw, mh, tl.nx, tl.ny, tl.tw, tl.th, tl.before, tl.after, est.host_bytes / 1048576.0);
            ctx->tiling = tl;
            ctx->tiling_opt = o;
            ctx->tiling_w = in->width;
            ctx->tiling_h = in->height;
            ctx->tiling_obs = ctx->observer_data;
            ctx->tiling_valid = 1;
        }
        if (tl.tiled && mw == in->width && mh == in->height && ow == mw && oh == mh)
            return ct_tiles_run(ctx, &tl, mh, mw, fetch_u8, store_u8, &tio);
    }
    size_t in_px = (size_t)in->width * in->height, m_px = (size_t)mw * mh, o_px = (size_t)ow * oh;
    float s = o.strength;
    int resample_in = mw != in->width || mh != in->height;
    int same_size = ow == in->width && oh == in->height; /* then the input itself is the original */
    int keep_orig = !same_size && s < 1.f;                /* a model-size result blended by strength */
    /* Working floats: x, the model input, which cartoon_forward() overwrites with its output;
     * when the model runs at another size, `full` (the input at its own size) to resample
     * from; for keep_orig, the resampled input before normalisation. */
    size_t need, in_need = 0, keep_need = 0;
    if (!ct_mul_size(m_px, 3, &need) || (resample_in && !ct_mul_size(in_px, 3, &in_need)) ||
        (keep_orig && !ct_mul_size(m_px, 3, &keep_need)) || !ct_add_size(need, in_need, &need) ||
        !ct_add_size(need, keep_need, &need) || (tl.tiled && !ct_add_size(need, 3 * m_px, &need)))
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "working buffers for %dx%d overflow", in->width, in->height);
    if ((st = ct_ctx_grow(ctx, &ctx->img, &ctx->img_cap, need))) return st;
    float *x = ctx->img, *full = x + 3 * m_px, *orig = full + in_need;
    if (resample_in) {
        to_float(in, m->bgr, full);
        if ((st = ct_resample(full, in->width, in->height, 3, x, mw, mh)))
            return ct_ctx_fail(ctx, st, "no memory to resample the input to %dx%d", mw, mh);
    } else {
        to_float(in, m->bgr, x);
    }
    if (keep_orig) memcpy(orig, x, 3 * m_px * sizeof *x);
    /* v / 127.5 - 1 and, below, (y + 1) * 127.5 in float, operation for operation what the
     * original computes (inv_scale is 1/scale from the file's double) */
    float inv = m->inv_scale;
    for (size_t k = 0; k < 3 * m_px; k++) x[k] = x[k] / inv + m->offset;

    if (tl.tiled) { /* into a separate result: later tiles read the input around their centres */
        tio.src = x;
        tio.dst = orig + keep_need;
        if ((st = ct_tiles_run(ctx, &tl, mh, mw, fetch_f32, store_f32, &tio))) return st;
        x = tio.dst;
    } else if ((st = cartoon_forward(ctx, x, mh, mw, x))) {
        return st;
    }

    for (size_t k = 0; k < 3 * m_px; k++) x[k] = (x[k] - m->offset) * inv; /* pixel values */
    float *cart = x, *tmp = NULL;
    if (ow != mw || oh != mh) { /* back to the input size */
        size_t tmp_bytes;
        if (!ct_mul_size(o_px, 3 * sizeof *tmp, &tmp_bytes))
            return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "a %dx%d result overflows", ow, oh);
        tmp = malloc(tmp_bytes);
        if (!tmp) return ct_ctx_fail(ctx, CARTOON_E_OUT_OF_MEMORY, "no memory to resample the result");
        if ((st = ct_resample(x, mw, mh, 3, tmp, ow, oh))) {
            free(tmp);
            return ct_ctx_fail(ctx, st, "no memory to resample the result to %dx%d", ow, oh);
        }
        cart = tmp;
    }
    int obpp = cartoon_pixel_size(out->format), ibpp = cartoon_pixel_size(in->format);
    int swap = is_bgr(out->format) != m->bgr, in_swap = is_bgr(in->format) != m->bgr;
    int alpha_from_in = obpp == 4 && ibpp == 4 && same_size;
    int rnd = o.quantize == CARTOON_QUANTIZE_ROUND;
    for (int y = 0; y < oh; y++) {
        uint8_t *d = out->data + (size_t)y * out->stride;
        const uint8_t *src = in->data + (size_t)y * in->stride;
        for (int xx = 0; xx < ow; xx++, d += obpp) {
            size_t p = ((size_t)y * ow + xx) * 3;
            float v[3] = {cart[p], cart[p + 1], cart[p + 2]};
            if (s < 1.f) {
                float g[3];
                if (same_size) { /* the input pixel, in the model's channel order */
                    const uint8_t *q = src + (size_t)xx * ibpp;
                    g[0] = q[in_swap ? 2 : 0]; g[1] = q[1]; g[2] = q[in_swap ? 0 : 2];
                } else {
                    g[0] = orig[p]; g[1] = orig[p + 1]; g[2] = orig[p + 2];
                }
                for (int k = 0; k < 3; k++) v[k] = s * v[k] + (1.f - s) * g[k];
            }
            /* quantised once, here, after resampling and blending in float */
            d[0] = to_u8(v[swap ? 2 : 0], rnd);
            d[1] = to_u8(v[1], rnd);
            d[2] = to_u8(v[swap ? 0 : 2], rnd);
            if (obpp == 4) d[3] = alpha_from_in ? src[(size_t)xx * 4 + 3] : 255;
        }
    }
    free(tmp);
    return CARTOON_OK;
}
