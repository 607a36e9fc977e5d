/* Exact tiling (cartoon_options.memory_budget / .tile): the padded working image is cut into
 * overlapping tiles whose origins and sizes are multiples of the model's pad_multiple, so every
 * stride-2 convolution samples the same grid as in the untiled run and no tile is padded again.
 * A tile's own border gets SAME zero padding (and clamped upsampling and box windows) where the
 * untiled run has real neighbours; the halo, at least the receptive field's radius, keeps those
 * wrong values out of the kept centre. At the image's border a tile's edge is the image's edge,
 * so it sees exactly what the untiled run sees there: no halo is needed on that side. */
#include <stdlib.h>
#include "tiling.h"

/* How far (input pixels at level 0) one output position of node i reaches into its inputs,
 * beyond the footprint of the position itself (2^level pixels). A k x k convolution with
 * stride s on a size that is a multiple of s (tiles are) has SAME padding k - s, split
 * before/after: it reaches the larger part, ceil((k - s) / 2) input pixels, either way; an
 * upsample reaches the next source pixel (the one before it is inside the footprint; at even
 * outputs its weight is an exact 0); the guided filter's box of boxes, two radii. */
static double node_reach(const cartoon_model *m, int i)
{
    const ct_node *n = &m->nodes[i];
    if (n->n_in < 1) return 0;
    double unit = (double)(1 << m->nodes[n->in[0]].level); /* one pixel of the input's level */
    switch (n->op) {
    case OP_CONV2D:
    case OP_DEPTHWISE_CONV2D: {
        int pad = n->kernel - n->stride;
        return (pad > 0 ? (pad + 1) / 2 : 0) * unit;
    }
    case OP_UPSAMPLE: return unit;                          /* the next source pixel */
    case OP_GUIDED_FILTER: return 2.0 * n->radius * unit;  /* box(A), A from boxes */
    default: return 0;                                      /* add, concat: pointwise */
    }
}

int ct_receptive_halo(const cartoon_model *m)
{
    double *r = calloc((size_t)m->n_nodes, sizeof *r);
    double out = 0;
    if (!r) return -1;
    for (int i = 1; i < m->n_nodes; i++) {
        double base = 0;
        for (int k = 0; k < m->nodes[i].n_in; k++)
            if (r[m->nodes[i].in[k]] > base) base = r[m->nodes[i].in[k]];
        r[i] = base + node_reach(m, i);
    }
    out = r[m->output];
    free(r);
    int pm = m->pad_multiple, h = (int)out + ((double)(int)out < out);
    return (h + pm - 1) / pm * pm;
}

/* Tiles along one axis of length len for tiles of at most tmax with halo halo: the first keeps
 * t - halo, the inner ones t - 2 halo, the last the rest; t is then the smallest multiple of
 * pm for which n tiles still cover len. */
static void axis_count(int len, int tmax, int halo, int pm, int *n, int *t)
{
    if (len <= tmax) { *n = 1; *t = len; return; }
    long long inner = tmax - 2LL * halo, rest = len - 2LL * (tmax - halo);
    *n = 2 + (rest > 0 ? (int)((rest + inner - 1) / inner) : 0);
    long long need = ((long long)len + 2LL * halo * (*n - 1) + *n - 1) / *n;
    *t = (int)((need + pm - 1) / pm * pm);
    if (*t > tmax) *t = tmax;
}

/* The smallest tile (multiple of pm) with which n tiles cover len with halo halo, or 0 when
 * n tiles that small would keep less than pm each. */
static int even_size(int len, int n, int halo, int pm)
{
    if (n == 1) return len;
    long long need = ((long long)len + 2LL * halo * (n - 1) + n - 1) / n;
    long long t = (need + pm - 1) / pm * pm;
    if (t > len || t - halo < pm || (n > 2 && t - 2LL * halo < pm)) return 0;
    return (int)t;
}

void ct_tile_axis(int len, int t, int n, int halo, int i, int *r0, int *c0, int *c1)
{
    if (n <= 1) { *r0 = 0; *c0 = 0; *c1 = len; return; }
    long long c = i == 0 ? 0 : (t - halo) + (long long)(i - 1) * (t - 2 * halo);
    long long next = i + 1 >= n ? len : (t - halo) + (long long)i * (t - 2 * halo);
    if (c > len) c = len;
    if (next > len) next = len;
    long long r = i == 0 ? 0 : c - halo;
    if (r > len - t) r = len - t; /* the last tiles end at the border: same size, more overlap */
    *r0 = (int)r; *c0 = (int)c; *c1 = (int)next;
}

static size_t node_scratch(void *user, const cartoon_model *m, const ct_plan *p, int i)
{
    ct_backend *be = user;
    return be->ops->scratch(be, m, p, i);
}

cartoon_status ct_tile_cost(cartoon_context *ctx, int th, int tw, uint64_t *host, uint64_t *device)
{
    const cartoon_model *m = ctx->model;
    const ct_backend_ops *ops = ctx->be->ops;
    ct_plan p = {0};
    ct_err e = {ctx->err, sizeof ctx->err};
    p.t = calloc((size_t)m->n_nodes, sizeof *p.t);
    if (!p.t) return ct_ctx_fail(ctx, CARTOON_E_OUT_OF_MEMORY, "no memory to plan a tile");
    ct_fusion_caps caps = ctx->observer_data ? (ct_fusion_caps){0, 0, 0} : ops->fusion;
    cartoon_status st = ct_plan_build(m, th, tw, caps, ops->scratch ? node_scratch : NULL, ctx->be, &p, &e);
    if (st) { free(p.t); return st; }
    uint64_t px = (uint64_t)th * (uint64_t)tw, f = sizeof(float), c = (uint64_t)m->in_channels;
    *host = px * 3 * f; /* the tile buffer */
    if (ops->host) {
        *host += p.arena_bytes;
        *device = 0;
    } else { /* cartoon_forward's stage and the CUDA backend's pinned copy of input or output */
        const ct_tensor_plan *to = &p.t[m->output];
        uint64_t out = (uint64_t)to->h * to->w * to->c * f, in = px * c * f;
        *host += px * c * f + (in > out ? in : out);
        /* On top of the arena: the weights (fp32, and an fp16 copy at most) and the largest
         * scratch the backend cannot shrink, the guided filter's (2 planes of the output; the
         * CUDA backend's size). It fits its im2col bands and cuDNN workspaces into what the
         * budget leaves. */
        *device = p.arena_bytes + 6 * m->parameters + 2 * (uint64_t)to->h * to->w * to->c * f;
    }
    free(p.t);
    return CARTOON_OK;
}

cartoon_status ct_tiling_plan(cartoon_context *ctx, int mh, int mw, int tile, uint64_t fixed_host,
                              uint64_t host_budget, uint64_t device_budget, ct_tiling *t)
{
    const cartoon_model *m = ctx->model;
    const int pm = m->pad_multiple;
    t->tiled = 1;
    t->ph = (mh + pm - 1) / pm * pm;
    t->pw = (mw + pm - 1) / pm * pm;
    t->halo = ct_receptive_halo(m);
    if (t->halo < 0) return ct_ctx_fail(ctx, CARTOON_E_OUT_OF_MEMORY, "no memory to walk the graph");
    int big = t->ph > t->pw ? t->ph : t->pw;
    int tmin = 2 * t->halo + pm, tmax;
    cartoon_status st;
    uint64_t host = 0, dev = 0;
    if (tile > 0) {
        long long want = ((long long)tile + pm - 1) / pm * pm + 2LL * t->halo;
        tmax = want > big ? big : (int)want;
    } else {
        /* the tile cost grows with the tile: binary search for the largest square that fits */
        int lo = tmin < big ? tmin : big, hi = big;
        int th = lo < t->ph ? lo : t->ph, tw = lo < t->pw ? lo : t->pw;
        if ((st = ct_tile_cost(ctx, th, tw, &host, &dev))) return st;
        if ((host_budget && fixed_host + host > host_budget) || (device_budget && dev > device_budget))
            return ct_ctx_fail(ctx, CARTOON_E_LIMIT,
                               "memory budget too small: the smallest tile (%dx%d working pixels, halo %d) "
                               "needs %llu bytes of host memory (budget %llu)%s%.0llu%s",
                               tw, th, t->halo, (unsigned long long)(fixed_host + host),
                               (unsigned long long)host_budget, device_budget ? " and " : "",
                               device_budget ? (unsigned long long)dev : 0ull,
                               device_budget ? " of device memory" : "");
        lo /= pm; hi /= pm; /* in units of pm; lo fits */
        while (lo < hi) {
            int mid = lo + (hi - lo + 1) / 2, s = mid * pm;
            th = s < t->ph ? s : t->ph; tw = s < t->pw ? s : t->pw;
            if ((st = ct_tile_cost(ctx, th, tw, &host, &dev))) return st;
            if ((host_budget && fixed_host + host > host_budget) || (device_budget && dev > device_budget)) hi = mid - 1;
            else lo = mid;
        }
        tmax = lo * pm;
    }
    if (tmax < tmin && tmax < big) tmax = tmin;
    axis_count(t->ph, tmax, t->halo, pm, &t->ny, &t->th);
    axis_count(t->pw, tmax, t->halo, pm, &t->nx, &t->tw);
    if (tile <= 0 && t->ny * t->nx > 1) {
        /* The square is only a start: fewer tiles on one axis and more on the other (e.g.
         * wide strips) may fit the budget with less overlap. Try every count up to the
         * square's and keep the layout with the fewest pixels computed. */
        double best = (double)t->ny * t->th * t->nx * t->tw;
        int ny0 = t->ny, nx0 = t->nx;
        for (int ny = 1; ny <= ny0; ny++) {
            int th = even_size(t->ph, ny, t->halo, pm);
            if (!th) continue;
            for (int nx = 1; nx <= nx0; nx++) {
                int tw = even_size(t->pw, nx, t->halo, pm);
                double work = (double)ny * th * nx * tw;
                if (!tw || work >= best) continue;
                if ((st = ct_tile_cost(ctx, th, tw, &host, &dev))) return st;
                if ((host_budget && fixed_host + host > host_budget) || (device_budget && dev > device_budget)) continue;
                best = work;
                t->ny = ny; t->th = th; t->nx = nx; t->tw = tw;
            }
        }
    }
    if (t->ny == 1 && t->nx == 1) t->tiled = 0; /* one tile is the untiled run */
    return CARTOON_OK;
}

cartoon_status ct_tiles_run(cartoon_context *ctx, const ct_tiling *t, int h, int w, ct_tile_fetch fetch,
                            ct_tile_store store, void *user)
{
    cartoon_status st = ct_ctx_grow(ctx, &ctx->tile_buf, &ctx->tile_cap, (size_t)t->th * t->tw * 3);
    if (st) return st;
    float *buf = ctx->tile_buf;
    for (int iy = 0; iy < t->ny; iy++) {
        int ry, cy0, cy1;
        ct_tile_axis(t->ph, t->th, t->ny, t->halo, iy, &ry, &cy0, &cy1);
        if (cy1 > h) cy1 = h; /* rows of the padding are not kept */
        if (cy0 >= cy1) continue;
        for (int ix = 0; ix < t->nx; ix++) {
            int rx, cx0, cx1;
            ct_tile_axis(t->pw, t->tw, t->nx, t->halo, ix, &rx, &cx0, &cx1);
            if (cx1 > w) cx1 = w;
            if (cx0 >= cx1) continue;
            fetch(user, ry, rx, t->th, t->tw, buf);
            if ((st = cartoon_forward(ctx, buf, t->th, t->tw, buf))) return st;
            store(user, cy0, cx0, cy1 - cy0, cx1 - cx0, buf + ((size_t)(cy0 - ry) * t->tw + (cx0 - rx)) * 3, t->tw);
        }
    }
    return CARTOON_OK;
}
