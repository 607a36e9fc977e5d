/* Exact tiling (cartoon_options.memory_budget / .tile): the padded working image is cut into
 * overlapping tiles whose origins and sizes are multiples of the model's pad_multiple, so every
 * stride-2 convolution samples the same grid as in the untiled run and no tile is padded again.
 * A tile's own border gets SAME zero padding (and clamped upsampling and box windows) where the
 * untiled run has real neighbours; the halo keeps those wrong values out of the kept centre: it
 * is the exact receptive field, walked over the graph per side and per pixel phase (a pixel's
 * reach depends on where it sits in the stride-2 grids), so a kept pixel reads nothing its
 * tile does not hold. At the image's border a tile's edge is the image's edge, so it sees
 * exactly what the untiled run sees there: no halo is needed on that side. Each tile runs at
 * its origin (ct_forward_at), so kernels whose rounding depends on position (Winograd blocks)
 * keep the untiled run's grid: away from a tile's edges the result is the untiled one bit for
 * bit, and near them it differs only by rounding (a Winograd block cut by the tile's edge;
 * docs/performance.md, "Exact tiling"). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "tiling.h"

/* A bound on the receptive field's radius in input pixels, walked over the graph: each node
 * adds what its op reaches (a convolution its kernel, an upsample one source pixel, the
 * guided filter two box radii) scaled by its input's level, on top of its farthest-reaching
 * input. Only sizes the 1-D axis the exact walk below runs on. */
static double node_reach(const cartoon_model *m, int i)
{
    const ct_node *n = &m->nodes[i];
    if (n->n_in < 1) return 0;
    double unit = (double)(1 << m->nodes[n->in[0]].level);
    switch (n->op) {
    case OP_CONV2D:
    case OP_DEPTHWISE_CONV2D: return n->kernel * unit;
    case OP_UPSAMPLE: return unit;
    case OP_GUIDED_FILTER: return 2.0 * n->radius * unit;
    default: return 0;
    }
}

static int reach_bound(const cartoon_model *m)
{
    double *r = calloc((size_t)m->n_nodes, sizeof *r), out;
    if (!r) return -1;
    for (int i = 1; i < m->n_nodes; i++) {
        double base = 0;
        for (int k = 0; k < m->nodes[i].n_in; k++)
            if (r[m->nodes[i].in[k]] > base) base = r[m->nodes[i].in[k]];
        r[i] = base + node_reach(m, i);
    }
    out = r[m->output];
    free(r);
    return out > 1 << 24 ? -1 : (int)out + 1;
}

/* The exact dependency of every output position along one axis of n input positions: node i
 * at position j (of n >> level) reads input positions [lo, hi]. The graph is the same along
 * both axes (square kernels, separable upsampling and boxes), so one axis stands for both.
 * What each op reads, with n a multiple of every stride (tiles are multiples of
 * pad_multiple): a k x k convolution with stride s the window [j s - before, + k) clipped to
 * its input, before = SAME padding's leading part; an upsample x2 the source pixel j / 2, and
 * at odd j also the next (clamped), the only reads the kernel makes (an even output copies);
 * the guided filter its inputs over [j - 2r, j + 2r] (box of A, A of boxes); add and concat
 * their inputs at j. Intervals stay exact: every position reads its own footprint, so the
 * reads of neighbours touch. */
static int axis_walk(const cartoon_model *m, int n, int *lo, int *hi)
{
    int **L = calloc((size_t)m->n_nodes, sizeof *L), **H = calloc((size_t)m->n_nodes, sizeof *H), ok = L && H;
    for (int i = 0; ok && i < m->n_nodes; i++) {
        const ct_node *nd = &m->nodes[i];
        int len = n >> nd->level;
        L[i] = malloc((size_t)len * sizeof **L);
        H[i] = malloc((size_t)len * sizeof **H);
        if (!(ok = L[i] && H[i])) break;
        for (int j = 0; j < len; j++) {
            int a = j, b = j; /* the window read in every input, in its positions */
            int lo_v = nd->n_in ? INT_MAX : j, hi_v = nd->n_in ? INT_MIN : j;
            switch (nd->op) {
            case OP_INPUT: break;
            case OP_CONV2D:
            case OP_DEPTHWISE_CONV2D: {
                int nin = n >> m->nodes[nd->in[0]].level, s = nd->stride, total = (len - 1) * s + nd->kernel - nin;
                a = j * s - (total > 0 ? total / 2 : 0);
                b = a + nd->kernel - 1;
                break;
            }
            case OP_UPSAMPLE: {
                int nin = n >> m->nodes[nd->in[0]].level;
                a = j / 2;
                b = (j & 1) && a + 1 < nin ? a + 1 : a;
                break;
            }
            case OP_GUIDED_FILTER: a = j - 2 * nd->radius; b = j + 2 * nd->radius; break;
            default: break; /* add, concat: pointwise */
            }
            for (int k = 0; k < nd->n_in; k++) {
                int src = nd->in[k], nin = n >> m->nodes[src].level;
                int a1 = a < 0 ? 0 : a, b1 = b >= nin ? nin - 1 : b;
                for (int q = a1; q <= b1; q++) {
                    if (L[src][q] < lo_v) lo_v = L[src][q];
                    if (H[src][q] > hi_v) hi_v = H[src][q];
                }
            }
            L[i][j] = lo_v;
            H[i][j] = hi_v;
        }
    }
    if (ok) {
        memcpy(lo, L[m->output], (size_t)n * sizeof *lo);
        memcpy(hi, H[m->output], (size_t)n * sizeof *hi);
    }
    for (int i = 0; i < m->n_nodes && L && H; i++) { free(L[i]); free(H[i]); }
    free(L);
    free(H);
    return ok ? 0 : -1;
}

int ct_receptive_reach(const cartoon_model *m, int *left, int *right, int period)
{
    const int pm = m->pad_multiple;
    if (m->nodes[m->output].level != 0 || period < 1 || pm % period) return -1;
    int bound = reach_bound(m);
    if (bound < 0) return -1;
    /* an axis whose middle is farther than the bound from both ends */
    long long nl = ((4LL * bound + 4LL * pm) + pm - 1) / pm * pm;
    if (nl > (1 << 26)) return -1;
    int n = (int)nl, *lo = malloc((size_t)n * sizeof *lo), *hi = malloc((size_t)n * sizeof *hi), rc = -1;
    if (lo && hi && !axis_walk(m, n, lo, hi)) {
        int mid = n / 2 / pm * pm;
        for (int f = 0; f < period; f++) {
            left[f] = mid + f - lo[mid + f];
            right[f] = hi[mid + f] - (mid + f);
        }
        rc = 0;
    }
    free(lo);
    free(hi);
    return rc;
}

int ct_tile_halo(const cartoon_model *m, int *before, int *after)
{
    const int pm = m->pad_multiple;
    int *left = malloc((size_t)pm * sizeof *left), *right = malloc((size_t)pm * sizeof *right);
    int rc = left && right ? ct_receptive_reach(m, left, right, pm) : -1;
    long long best = -1;
    for (int f = 0; !rc && f < pm; f++) {
        /* a kept centre starting at c = f (mod pm) needs, before c, the farthest left reach of
         * the pixels from c on, and after its end (also f) the farthest right reach of the
         * pixels before it; a region edge is a multiple of pm, so each side rounds up to its
         * residue: before = f, after = -f (mod pm) */
        int need_b = 0, need_a = 0;
        for (int d = 0; d < pm; d++) {
            /* pixel c + d (phase f + d) and pixel c - 1 - d (phase f - 1 - d) */
            int pb = (f + d) % pm, pa = ((f - 1 - d) % pm + pm) % pm;
            if (left[pb] - d > need_b) need_b = left[pb] - d;
            if (right[pa] - d > need_a) need_a = right[pa] - d;
        }
        /* farther pixels reach less far past c: the reach is periodic with period pm, so one
         * period on each side covers every pixel's excess */
        int b = need_b + ((f - need_b) % pm + pm) % pm;
        int a = need_a + ((pm - f - need_a) % pm + pm) % pm;
        long long cost = (long long)(a + b) * 4096 * 4096 + (a > b ? a : b);
        if (best < 0 || cost < best) { best = cost; *before = b; *after = a; }
    }
    free(left);
    free(right);
    return rc;
}

/* Tiles along one axis of length len for tiles of at most tmax, each keeping its centre
 * `before` pixels after its region's start and `after` before its end (o = before + after):
 * the first keeps t - after, the inner ones t - o, the last t - before; t is then the smallest
 * multiple of pm for which n tiles still cover len. */
static void axis_count(int len, int tmax, int before, int after, int pm, int *n, int *t)
{
    if (len <= tmax) { *n = 1; *t = len; return; }
    long long o = (long long)before + after, inner = tmax - o, rest = len - (2LL * tmax - o);
    *n = 2 + (rest > 0 ? (int)((rest + inner - 1) / inner) : 0);
    long long need = ((long long)len + o * (*n - 1) + *n - 1) / *n;
    *t = (int)((need + pm - 1) / pm * pm);
    if (*t > tmax) *t = tmax;
}

/* The smallest tile (multiple of pm) with which n tiles cover len, or 0 when n tiles that
 * small would keep less than pm each. */
static int even_size(int len, int n, int before, int after, int pm)
{
    if (n == 1) return len;
    long long o = (long long)before + after, need = ((long long)len + o * (n - 1) + n - 1) / n;
    long long t = (need + pm - 1) / pm * pm;
    if (t > len || t - before < pm || t - after < pm || (n > 2 && t - o < pm)) return 0;
    return (int)t;
}

void ct_tile_axis(int len, int t, int n, int before, int after, int i, int *r0, int *c0, int *c1)
{
    if (n <= 1) { *r0 = 0; *c0 = 0; *c1 = len; return; }
    long long step = (long long)t - before - after;
    long long c = i == 0 ? 0 : (t - after) + (long long)(i - 1) * step;
    long long next = i + 1 >= n ? len : (t - after) + (long long)i * step;
    if (c > len) c = len;
    if (next > len) next = len;
    long long r = i == 0 ? 0 : c - before;
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
    ct_fusion_caps caps = ctx->observer_data ? (ct_fusion_caps){0} : ops->fusion;
    cartoon_status st = ct_plan_build(m, th, tw, caps, ops->scratch ? node_scratch : NULL, ctx->be, &p, &e);
    if (st) { free(p.t); return st; }
    uint64_t px = (uint64_t)th * (uint64_t)tw, f = sizeof(float), c = (uint64_t)m->in_channels;
    *host = px * 3 * f; /* the tile buffer */
    if (ops->host) { /* the tile goes straight into the arena's input (ct_tiles_run) */
        *host = p.arena_bytes;
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
    if (ct_tile_halo(m, &t->before, &t->after))
        return ct_ctx_fail(ctx, CARTOON_E_UNSUPPORTED, "no receptive field for this graph (no memory, or an "
                                                       "output not at full resolution)");
    const int before = t->before, after = t->after;
    int big = t->ph > t->pw ? t->ph : t->pw;
    int tmin = before + after + pm, tmax;
    cartoon_status st;
    uint64_t host = 0, dev = 0;
    if (tile > 0) {
        long long want = ((long long)tile + pm - 1) / pm * pm + before + after;
        tmax = want > big ? big : (int)want;
    } else {
        /* the tile cost grows with the tile: binary search for the largest square that fits */
        int lo = tmin < big ? tmin : big, hi = big;
        int th = lo < t->ph ? lo : t->ph, tw = lo < t->pw ? lo : t->pw;
        if ((st = ct_tile_cost(ctx, th, tw, &host, &dev))) return st;
        if ((host_budget && fixed_host + host > host_budget) || (device_budget && dev > device_budget))
            return ct_ctx_fail(ctx, CARTOON_E_LIMIT,
                               "memory budget too small: the smallest tile (%dx%d working pixels, halo %d+%d) "
                               "needs %llu bytes of host memory (budget %llu)%s%.0llu%s",
                               tw, th, before, after, (unsigned long long)(fixed_host + host),
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
    axis_count(t->ph, tmax, before, after, pm, &t->ny, &t->th);
    axis_count(t->pw, tmax, before, after, pm, &t->nx, &t->tw);
    if (tile <= 0 && t->ny * t->nx > 1) {
        /* The square is only a start: fewer tiles on one axis and more on the other (e.g.
         * wide strips) may fit the budget with less overlap. Try every count up to the
         * square's and keep the layout with the fewest pixels computed. */
        double best = (double)t->ny * t->th * t->nx * t->tw;
        int ny0 = t->ny, nx0 = t->nx;
        /* Between layouts of equal work, a backend that crops (plan_regions.c) prefers more
         * tiles down than across: it drops rows for free and columns by copying the rows. */
        const int rows_first = ctx->be->ops->fusion.crop && !ctx->observer_data;
        for (int ny = 1; ny <= ny0; ny++) {
            int th = even_size(t->ph, ny, before, after, pm);
            if (!th) continue;
            for (int nx = 1; nx <= nx0; nx++) {
                int tw = even_size(t->pw, nx, before, after, pm);
                double work = (double)ny * th * nx * tw;
                if (!tw || work > best || (work == best && !(rows_first && ny > nx && t->ny < t->nx))) continue;
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
    /* A host-memory backend's own input and output tensors take the tile: no tile buffer */
    float *buf = NULL, *obuf = NULL;
    cartoon_status st = ct_forward_buffers(ctx, t->th, t->tw, &buf, &obuf);
    if (!st && !buf) {
        st = ct_ctx_grow(ctx, &ctx->tile_buf, &ctx->tile_cap, (size_t)t->th * t->tw * 3);
        buf = obuf = ctx->tile_buf;
    }
    if (st) return st;
    for (int iy = 0; iy < t->ny; iy++) {
        int ry, cy0, cy1;
        ct_tile_axis(t->ph, t->th, t->ny, t->before, t->after, iy, &ry, &cy0, &cy1);
        if (cy1 > h) cy1 = h; /* rows of the padding are not kept */
        if (cy0 >= cy1) continue;
        for (int ix = 0; ix < t->nx; ix++) {
            int rx, cx0, cx1;
            ct_tile_axis(t->pw, t->tw, t->nx, t->before, t->after, ix, &rx, &cx0, &cx1);
            if (cx1 > w) cx1 = w;
            if (cx0 >= cx1) continue;
            fetch(user, ry, rx, t->th, t->tw, buf);
            /* the edges inside the image, where the tile computes only what its centre needs */
            int sides = (ry > 0) | (ry + t->th < t->ph) << 1 | (rx > 0) << 2 | (rx + t->tw < t->pw) << 3, r[4];
            if ((st = ct_forward_tile(ctx, buf, t->th, t->tw, obuf, ry, rx, sides, t->before, t->after, r))) return st;
            if (cy0 - ry < r[0] || cy1 - ry > r[0] + r[2] || cx0 - rx < r[1] || cx1 - rx > r[1] + r[3])
                return ct_ctx_fail(ctx, CARTOON_E_INTERNAL, "tile at %d,%d computed rows %d..%d, columns %d..%d "
                                   "of its kept %d..%d, %d..%d", ry, rx, r[0], r[0] + r[2], r[1], r[1] + r[3],
                                   cy0 - ry, cy1 - ry, cx0 - rx, cx1 - rx);
            store(user, cy0, cx0, cy1 - cy0, cx1 - cx0,
                  obuf + ((size_t)(cy0 - ry - r[0]) * r[3] + (cx0 - rx - r[1])) * 3, r[3]);
        }
    }
    return CARTOON_OK;
}
