/* The graph executor: pads the input, plans the arena for the size, runs the nodes in
 * order on the context's backend, reports each to the observer, and crops the output. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "context.h"
#include "pad_crop.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t node_scratch(void *user, const cartoon_model *m, const ct_plan *p, int i)
{
    ct_backend *be = user;
    return be->ops->scratch(be, m, p, i);
}

static cartoon_status ensure_plan(cartoon_context *ctx, int ph, int pw)
{
    const cartoon_model *m = ctx->model;
    int fuse = !ctx->observer_data;
    if (ctx->planned && ctx->plan.ph == ph && ctx->plan.pw == pw && ctx->planned_fused == fuse)
        return CARTOON_OK;
    ctx->planned = 0;
    ct_err e = {ctx->err, sizeof ctx->err};
    ct_fusion_caps caps = fuse ? ctx->be->ops->fusion : (ct_fusion_caps){0};
    cartoon_status st = ct_plan_build(m, ph, pw, caps, ctx->be->ops->scratch ? node_scratch : NULL, ctx->be,
                                      &ctx->plan, &e);
    if (!st) st = ctx->be->ops->reserve(ctx->be, m, &ctx->plan, &e);
    if (st) return st;
    ctx->planned = 1;
    ctx->planned_fused = fuse;
    return CARTOON_OK;
}

static cartoon_status report(cartoon_context *ctx, int i, double ms)
{
    const cartoon_model *m = ctx->model;
    const ct_node *n = &m->nodes[i];
    const ct_tensor_plan *t = &ctx->plan.t[i];
    const ct_tensor_plan *src = n->n_in ? &ctx->plan.t[n->in[0]] : t;
    cartoon_layer_info info = {
        .index = i, .name = n->name, .op = ct_op_names[n->op],
        .in_h = src->h, .in_w = src->w, .in_c = src->c,
        .out_h = t->h, .out_w = t->w, .out_c = t->c,
        .kernel = (n->op == OP_CONV2D || n->op == OP_DEPTHWISE_CONV2D) ? n->kernel : 0,
        .stride = (n->op == OP_CONV2D || n->op == OP_DEPTHWISE_CONV2D) ? n->stride : 0,
        .flops = ct_node_flops(m, i, ctx->plan.ph, ctx->plan.pw), .ms = ms, .data = NULL,
    };
    if (ctx->observer_data) {
        size_t count = (size_t)t->h * t->w * t->c;
        cartoon_status st = ct_ctx_grow(ctx, &ctx->obs_buf, &ctx->obs_cap, count);
        ct_err e = {ctx->err, sizeof ctx->err};
        if (!st) st = ctx->be->ops->read(ctx->be, &ctx->plan, i, ctx->obs_buf, &e);
        if (st) return st;
        info.data = ctx->obs_buf;
    }
    ctx->observer(ctx->observer_user, &info);
    return CARTOON_OK;
}

cartoon_status cartoon_forward(cartoon_context *ctx, const float *in, int h, int w, float *out)
{
    return ct_forward_tile(ctx, in, h, w, out, 0, 0, 0, 0, 0, NULL);
}

cartoon_status ct_forward_at(cartoon_context *ctx, const float *in, int h, int w, float *out, int oy, int ox)
{
    return ct_forward_tile(ctx, in, h, w, out, oy, ox, 0, 0, 0, NULL);
}

/* Crops tensor t (at data, in the buffer of node `buf`) to cut (rows cut[0]..cut[1], columns
 * cut[2]..cut[3] of the tile, a part of its current region) in place: dropped rows only move
 * the tensor's start (buf->shift); narrower rows are moved toward it one by one, where a
 * moved row never overtakes the rows still to move. */
static void crop_in_place(float *data, ct_tensor_plan *t, ct_tensor_plan *buf, const int *cut)
{
    const int nh = cut[1] - cut[0], nw = cut[3] - cut[2], dy = cut[0] - t->y0, dx = cut[2] - t->x0;
    const size_t c = (size_t)t->c, row = (size_t)nw * c;
    const size_t first = ((size_t)dy * t->w + dx) * c;
    if (nw != t->w)
        for (int r = 1; r < nh; r++)
            memmove(data + first + (size_t)r * row, data + first + (size_t)r * t->w * c, row * sizeof *data);
    buf->shift += first;
    t->y0 = cut[0]; t->x0 = cut[2]; t->h = nh; t->w = nw;
}

/* Before the step at node i: the crops of the inputs its chain reads (ct_plan_regions). */
static void crop_inputs(cartoon_context *ctx, int i)
{
    const cartoon_model *m = ctx->model;
    ct_plan *p = &ctx->plan;
    for (int q = i; q < m->n_nodes; q++) {
        for (int k = 0; k < m->nodes[q].n_in; k++) {
            const int *cut = p->t[q].cut[k];
            ct_tensor_plan *s = &p->t[m->nodes[q].in[k]];
            if (cut[1] && (cut[0] != s->y0 || cut[1] != s->y0 + s->h || cut[2] != s->x0 || cut[3] != s->x0 + s->w))
                crop_in_place(ctx->be->ops->host(ctx->be, p, m->nodes[q].in[k]), s, &p->t[s->store], cut);
        }
        if (!p->t[q].fused) break;
    }
}

cartoon_status ct_forward_buffers(cartoon_context *ctx, int h, int w, float **in, float **out)
{
    const cartoon_model *m = ctx->model;
    *in = NULL;
    if (out) *out = NULL;
    if (!ctx->be->ops->host || h % m->pad_multiple || w % m->pad_multiple) return CARTOON_OK;
    cartoon_status st = ensure_plan(ctx, h, w);
    if (st) { ctx->planned = 0; return st; }
    for (int i = 0; i < m->n_nodes; i++) ctx->plan.t[i].shift = 0; /* (a failed run may leave them moved) */
    *in = ctx->be->ops->host(ctx->be, &ctx->plan, 0);
    if (out) *out = ctx->be->ops->host(ctx->be, &ctx->plan, m->output);
    return CARTOON_OK;
}

cartoon_status ct_forward_tile(cartoon_context *ctx, const float *in, int h, int w, float *out, int oy, int ox,
                               int sides, int before, int after, int region[4])
{
    if (!ctx) return CARTOON_E_INVALID_ARGUMENT;
    ctx->err[0] = 0;
    if (!in || !out) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "input or output is NULL");
    if (h < 1 || w < 1) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "image size %dx%d is empty", w, h);
    const cartoon_model *m = ctx->model;
    int pm = m->pad_multiple;
    if (h > (1 << 30) || w > (1 << 30) || (uint64_t)h * (uint64_t)w > ctx->opt.max_pixels)
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "%dx%d = %llu pixels exceeds the limit of %llu", w, h,
                           (unsigned long long)h * (unsigned long long)w,
                           (unsigned long long)ctx->opt.max_pixels);
    int ph = (h + pm - 1) / pm * pm, pw = (w + pm - 1) / pm * pm;
    int c = m->in_channels;
    cartoon_status st = ensure_plan(ctx, ph, pw);
    if (st) { ctx->planned = 0; return st; }
    ctx->plan.oy = oy;
    ctx->plan.ox = ox;
    ct_err e = {ctx->err, sizeof ctx->err};
    const ct_backend_ops *ops = ctx->be->ops;
    /* host-memory backends are padded into and cropped from in place; others stage */
    float *in_host = ops->host ? ops->host(ctx->be, &ctx->plan, 0) : NULL;
    float *out_host = ops->host ? ops->host(ctx->be, &ctx->plan, m->output) : NULL;
    if ((!in_host || !out_host) && (st = ct_ctx_grow(ctx, &ctx->stage, &ctx->stage_cap, (size_t)ph * pw * c)))
        return st;
    if (in != in_host) ct_pad_edge(in, h, w, c, in_host ? in_host : ctx->stage, ph, pw); /* else in place */
    if (!in_host && (st = ops->write(ctx->be, &ctx->plan, 0, ctx->stage, &e))) return st;
    /* Regions: only a tile whose input and output are the backend's own host tensors (they
     * are cropped in place), with the backend's fusion (an observer that wants data sees
     * whole tensors) */
    ct_plan *p = &ctx->plan;
    int crop = sides && ops->fusion.crop && !ctx->observer_data && in == in_host && out == out_host && ph == h &&
               pw == w;
    if (crop ? p->sides != sides || p->before != before || p->after != after : p->sides != 0)
        ct_plan_regions(m, p, crop ? sides : 0, before, after, 0);
    for (int i = 0; i < m->n_nodes; i++) { /* each node's region when its step runs */
        ct_tensor_plan *t = &p->t[i];
        t->y0 = t->ry0; t->x0 = t->rx0;
        t->h = t->ry1 - t->ry0; t->w = t->rx1 - t->rx0;
        t->shift = 0;
    }
    int timed = ctx->observer != NULL;
    if (timed && (st = report(ctx, 0, 0))) return st;
    for (int i = 1; i < m->n_nodes; i++) {
        if (ctx->plan.t[i - 1].fused) { /* ran with node i - 1 */
            if (timed && (st = report(ctx, i, 0))) return st;
            continue;
        }
        double t0 = timed ? now_ms() : 0;
        if (p->sides) crop_inputs(ctx, i);
        if ((st = ops->run(ctx->be, m, &ctx->plan, i, &e))) return st;
        if (timed && ops->sync && (st = ops->sync(ctx->be, &e))) return st;
        if (timed && (st = report(ctx, i, now_ms() - t0))) return st;
    }
    if (!out_host && (st = ops->read(ctx->be, &ctx->plan, m->output, ctx->stage, &e))) return st;
    if (out != out_host) ct_crop(out_host ? out_host : ctx->stage, pw, c, out, h, w);
    if (p->sides) {
        /* the output where ct_forward_buffers said it is: at its buffer's start */
        ct_tensor_plan *t = &p->t[m->output], *buf = &p->t[t->store];
        if (buf->shift) {
            float *data = ops->host(ctx->be, p, m->output);
            memmove(data - buf->shift, data, (size_t)t->h * t->w * t->c * sizeof *data);
        }
        for (int i = 0; i < m->n_nodes; i++) p->t[i].shift = 0; /* and the input at its own */
    }
    if (region) {
        const ct_tensor_plan *t = &p->t[m->output];
        region[0] = t->y0; region[1] = t->x0; region[2] = t->h; region[3] = t->w;
    }
    return CARTOON_OK;
}
