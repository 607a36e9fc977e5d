/* Exact tiling (lib/core/tiling.c, cartoon_options.memory_budget / .tile).
 *
 * Independent expectations:
 *   - the tile layout is checked as arithmetic: the kept centres partition the padded image,
 *     every region lies inside it at a multiple of pad_multiple, and a centre keeps the halo
 *     from every region edge that is not the image's edge;
 *   - the receptive field the graph walk gives (per side and pixel phase) is checked against
 *     the one measured on the network itself: change one input pixel at each phase and see
 *     which outputs move (all inside the walked field, and as far as it on every side);
 *   - tiled runs are compared with the untiled run (cartoon_forward and unet_cartoonize on the
 *     whole image): model space within 1e-5, 8-bit output equal but for rare one-level flips,
 *     for odd sizes, 1-pixel-wide images, tiles at every border, both the streaming (native) and
 *     the resampling path, RGBA with strength < 1;
 *   - regions (plan_regions.c): every tile with an inside edge gets them, the work summed over
 *     the regions is below the whole tiles', the result stays within the tolerances above, and
 *     a need one pixel too small per convolution side moves the kept centres (> 1e-3);
 *   - budgets: the estimate with a budget reports tiled memory within it; a budget below the
 *     smallest tile is CARTOON_E_LIMIT with the output untouched. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cartoon.h"
#include "check.h"
#include "context.h"
#include "student_model.h"
#include "tiling.h"

static cartoon_model *model;

static cartoon_context *new_ctx_conv(cartoon_conv_algo conv)
{
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.device = CARTOON_DEVICE_CPU;
    co.conv = conv;
    co.threads = 2;
    cartoon_context *c = NULL;
    CHECK(cartoon_context_create(model, &co, &c, NULL, 0) == CARTOON_OK);
    return c;
}

static cartoon_context *new_ctx(void) { return new_ctx_conv(CARTOON_CONV_AUTO); }

static void test_layout(void)
{
    const int pm = 4;
    int bad = 0;
    /* halos as ct_tile_halo makes them: before = f, after = -f (mod pm) */
    static const int halos[][2] = {{0, 0}, {8, 8}, {58, 62}, {59, 61}, {61, 63}, {60, 64}, {5, 3}, {80, 80}};
    for (int len = pm; len <= 700 && !bad; len += pm)
        for (size_t hc = 0; hc < sizeof halos / sizeof halos[0] && !bad; hc++) {
            const int before = halos[hc][0], after = halos[hc][1], o = before + after;
            for (int tmax = o + pm; tmax <= len + 8 && !bad; tmax += 12 * pm) {
                /* the same per-axis rule as ct_tiling_plan, through its public effect */
                int n, t;
                if (len <= tmax) { n = 1; t = len; }
                else {
                    int inner = tmax - o, rest = len - (2 * tmax - o);
                    n = 2 + (rest > 0 ? (rest + inner - 1) / inner : 0);
                    t = (len + o * (n - 1) + n - 1) / n;
                    t = (t + pm - 1) / pm * pm;
                    if (t > tmax) t = tmax;
                }
                int covered = 0;
                for (int i = 0; i < n; i++) {
                    int r0, c0, c1;
                    ct_tile_axis(len, t, n, before, after, i, &r0, &c0, &c1);
                    if (c0 >= c1) continue;
                    if (c0 != covered || r0 < 0 || r0 + t > len || r0 % pm || c0 < r0 || c1 > r0 + t ||
                        (r0 > 0 && c0 - r0 < before) || (r0 + t < len && r0 + t - c1 < after)) {
                        CHECKF(0, "len %d tmax %d halo %d+%d: tile %d of %d (t %d) region %d, keeps %d..%d after %d",
                               len, tmax, before, after, i, n, t, r0, c0, c1, covered);
                        bad = 1;
                        break;
                    }
                    covered = c1;
                }
                if (!bad && covered != len) {
                    CHECKF(0, "len %d tmax %d halo %d+%d: covered %d", len, tmax, before, after, covered);
                    bad = 1;
                }
            }
        }
}

/* The network's receptive field, measured: change the input pixel (q, q) in the middle of a
 * 240 x 240 image, for q at every phase of pad_multiple, and see which outputs move. Every
 * output that moves must lie in the field the graph walk gives (ct_receptive_reach: output p
 * depends on inputs [p - left, p + right] for its phase), and the farthest ones come close to
 * its edges (the walk is exact, not a bound; the very last pixel of a side can be reached only
 * through a chain of corner taps whose product falls below one rounding step of the output,
 * so a measurement may stop one short). On the im2col path, whose every output is computed
 * from its own inputs alone in a fixed order (a Winograd output's rounding depends on its
 * whole block). */
static void test_reach_matches_measured_field(void)
{
    cartoon_context *c = new_ctx_conv(CARTOON_CONV_IM2COL);
    const int n = 240, pm = model->pad_multiple;
    int left[64], right[64];
    CHECK(pm <= 64 && ct_receptive_reach(model, left, right, pm) == 0);
    float *a = malloc(sizeof(float) * n * n * 3), *b = malloc(sizeof(float) * n * n * 3);
    float *ya = malloc(sizeof(float) * n * n * 3), *yb = malloc(sizeof(float) * n * n * 3);
    rng_seed(7);
    for (int i = 0; i < n * n * 3; i++) a[i] = rng_uniform(-1, 1);
    CHECK(cartoon_forward(c, a, n, n, ya) == CARTOON_OK);
    int far_l = 0, far_r = 0, walk_l = 0, walk_r = 0;
    for (int f = 0; f < pm; f++) {
        if (left[f] > walk_l) walk_l = left[f];
        if (right[f] > walk_r) walk_r = right[f];
    }
    for (int f = 0; f < pm; f++) {
        const int q = n / 2 / pm * pm + f;
        memcpy(b, a, sizeof(float) * n * n * 3);
        for (int k = 0; k < 3; k++) b[(q * n + q) * 3 + k] = -a[(q * n + q) * 3 + k];
        CHECK(cartoon_forward(c, b, n, n, yb) == CARTOON_OK);
        int outside = 0, lo = n, hi = -1;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                const float *p = ya + (y * n + x) * 3, *r = yb + (y * n + x) * 3;
                if (p[0] == r[0] && p[1] == r[1] && p[2] == r[2]) continue;
                int fy = y % pm, fx = x % pm;
                if (q < y - left[fy] || q > y + right[fy] || q < x - left[fx] || q > x + right[fx]) outside++;
                if (y == q) { /* the row through the pixel: how far each way */
                    if (x < lo) lo = x;
                    if (x > hi) hi = x;
                }
            }
        /* the walk's prediction along that row: outputs x with x - left <= q <= x + right */
        int plo = n, phi = -1;
        for (int x = 0; x < n; x++)
            if (q >= x - left[x % pm] && q <= x + right[x % pm]) {
                if (x < plo) plo = x;
                if (x > phi) phi = x;
            }
        printf("  input pixel at phase %d: outputs %d..%d move (walk: %d..%d)\n", f, lo - q, hi - q, plo - q, phi - q);
        CHECKF(!outside, "phase %d: %d outputs outside the walked field moved", f, outside);
        CHECK(lo >= plo && hi <= phi && lo > 0 && hi < n - 1); /* inside, and not clipped */
        if (q - lo > far_l) far_l = q - lo; /* outputs to the left reach right to q */
        if (hi - q > far_r) far_r = hi - q;
    }
    int before, after;
    CHECK(ct_tile_halo(model, &before, &after) == 0);
    printf("  receptive field: walked left %d right %d, measured %d %d; tile halo %d+%d\n", walk_l, walk_r, far_r,
           far_l, before, after);
    /* tight: the farthest outputs moved are (about) the farthest the walk allows */
    CHECKF(far_l <= walk_r && far_r <= walk_l && far_l >= walk_r - 2 && far_r >= walk_l - 2,
           "measured reach %d/%d, walked %d/%d", far_r, far_l, walk_l, walk_r);
    CHECK(before % pm + after % pm == 0 || before % pm + after % pm == pm);
    CHECK(before >= walk_l - pm && after >= walk_r - pm); /* the edge pixels' own reach, phase-rounded */
    free(a); free(b); free(ya); free(yb);
    cartoon_context_free(c);
}

/* Model space: the tiled run through ct_tiles_run against cartoon_forward on the whole image. */
typedef struct { const float *src; float *dst; int w, h; } fio;
static void fetch(void *user, int y0, int x0, int th, int tw, float *d)
{
    const fio *io = user;
    for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++, d += 3) {
            int sy = y0 + y < io->h ? y0 + y : io->h - 1, sx = x0 + x < io->w ? x0 + x : io->w - 1;
            memcpy(d, io->src + ((size_t)sy * io->w + sx) * 3, 3 * sizeof *d);
        }
}
static void store(void *user, int y0, int x0, int kh, int kw, const float *src, int src_w)
{
    const fio *io = user;
    for (int y = 0; y < kh; y++)
        memcpy(io->dst + ((size_t)(y0 + y) * io->w + x0) * 3, src + (size_t)y * src_w * 3, (size_t)kw * 3 * sizeof *src);
}

/* A photo-like input in model space: smooth shapes plus some noise. */
static void photo(float *x, int w, int h)
{
    rng_seed((uint64_t)w * 1000 + h);
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w * 3; i++)
            x[(size_t)y * w * 3 + i] = 0.6f * sinf(i * 0.02f + y * 0.035f) + rng_uniform(-0.2f, 0.2f);
}

static void tiled_vs_untiled(int w, int h, int tile, cartoon_conv_algo conv)
{
    cartoon_context *c = new_ctx_conv(conv);
    size_t n = (size_t)w * h * 3;
    float *x = malloc(n * sizeof *x), *ref = malloc(n * sizeof *x), *til = malloc(n * sizeof *x);
    photo(x, w, h);
    CHECK(cartoon_forward(c, x, h, w, ref) == CARTOON_OK);
    ct_tiling t;
    for (size_t i = 0; i < n; i++) til[i] = NAN;
    CHECK(ct_tiling_plan(c, h, w, tile, 0, 0, 0, &t) == CARTOON_OK);
    CHECKF(t.tiled, "%dx%d with tile %d is not tiled", w, h, tile);
    fio io = {x, til, w, h};
    CHECK(ct_tiles_run(c, &t, h, w, fetch, store, &io) == CARTOON_OK);
    double d = max_abs_diff(ref, til, n);
    int nan = 0;
    for (size_t i = 0; i < n; i++) nan += isnan(til[i]);
    /* The im2col path computes each output from its own inputs in a fixed order: tiling must
     * stay within 1e-5 there. The fast path's Winograd F(6x6) rounds each output with its
     * whole 6x6 block: tiles run on the untiled grid (ct_forward_at), but a block cut by a
     * tile's edge still rounds differently, and the next Winograd layers carry that up to a
     * block further per layer, past any halo the field needs (docs/performance.md, "Exact
     * tiling"). So the fast path is held to its own accuracy: the tiled result as close to
     * the exact one as the untiled run (within 25%, plus 2e-6: what reordering sums moves, as
     * the im2col case below shows), and within twice the untiled run's distance of it. */
    double bound = 1e-5, to_exact = 0, own = 0;
    if (conv != CARTOON_CONV_IM2COL) {
        cartoon_context *ci = new_ctx_conv(CARTOON_CONV_IM2COL);
        float *exact = malloc(n * sizeof *x);
        CHECK(cartoon_forward(ci, x, h, w, exact) == CARTOON_OK);
        own = max_abs_diff(ref, exact, n);
        to_exact = max_abs_diff(til, exact, n);
        if (2 * own > bound) bound = 2 * own;
        free(exact);
        cartoon_context_free(ci);
    }
    printf("  %s %dx%d, tile %d: %d x %d tiles of %dx%d, halo %d+%d: max abs diff %.3g (bound %.3g)",
           conv == CARTOON_CONV_IM2COL ? "im2col" : "auto", w, h, tile, t.nx, t.ny, t.tw,
           t.th, t.before, t.after, d, bound);
    if (conv != CARTOON_CONV_IM2COL) printf("; from the exact result: tiled %.3g, untiled %.3g", to_exact, own);
    printf("\n");
    CHECKF(!nan && d <= bound, "%dx%d tile %d: max abs diff %g, %d values not written", w, h, tile, d, nan);
    CHECKF(to_exact <= 1.25 * own + 2e-6, "%dx%d tile %d: tiled %g from the exact result, untiled %g", w, h, tile,
           to_exact, own);
    free(x); free(ref); free(til);
    cartoon_context_free(c);
}

static void test_model_space_sizes(void)
{
    tiled_vs_untiled(1, 333, 8, CARTOON_CONV_AUTO);    /* one pixel wide: tiles down only */
    tiled_vs_untiled(257, 3, 8, CARTOON_CONV_AUTO);    /* three rows */
    /* odd both ways: first, inner and last tiles on both axes */
    tiled_vs_untiled(203, 181, 24, CARTOON_CONV_AUTO);
    tiled_vs_untiled(203, 181, 24, CARTOON_CONV_IM2COL);
}

/* ct_tiles_run's loop written out, so that a test sees each tile's regions: runs the tiles of
 * t over x into til with the regions ct_plan_regions gives for shrink (0: the library's own;
 * 1: every convolution's read window one pixel narrower per side, a need walked too small).
 * Returns the number of tiles whose regions were set, and in *work the pixels (at full
 * resolution, times channels) all nodes computed over all tiles. */
static int run_tiles_regions(cartoon_context *c, const ct_tiling *t, const float *x, int h, int w, float *til,
                             int shrink, double *work)
{
    float *buf = NULL, *obuf = NULL;
    int with_regions = 0;
    fio io = {x, til, w, h};
    *work = 0;
    CHECK(ct_forward_buffers(c, t->th, t->tw, &buf, &obuf) == CARTOON_OK && buf && obuf);
    if (!buf || !obuf) return 0;
    for (int iy = 0; iy < t->ny; iy++)
        for (int ix = 0; ix < t->nx; ix++) {
            int ry, cy0, cy1, rx, cx0, cx1, r[4];
            ct_tile_axis(t->ph, t->th, t->ny, t->before, t->after, iy, &ry, &cy0, &cy1);
            ct_tile_axis(t->pw, t->tw, t->nx, t->before, t->after, ix, &rx, &cx0, &cx1);
            if (cy1 > h) cy1 = h;
            if (cx1 > w) cx1 = w;
            if (cy0 >= cy1 || cx0 >= cx1) continue;
            int sides = (ry > 0) | (ry + t->th < t->ph) << 1 | (rx > 0) << 2 | (rx + t->tw < t->pw) << 3;
            fetch(&io, ry, rx, t->th, t->tw, buf);
            /* set beforehand, the executor finds them made for this tile and keeps them */
            with_regions += ct_plan_regions(model, &c->plan, sides, t->before, t->after, shrink) == 0;
            CHECK(ct_forward_tile(c, buf, t->th, t->tw, obuf, ry, rx, sides, t->before, t->after, r) == CARTOON_OK);
            CHECKF(r[0] <= cy0 - ry && cy1 - ry <= r[0] + r[2] && r[1] <= cx0 - rx && cx1 - rx <= r[1] + r[3],
                   "tile %d,%d: output region %d+%d, %d+%d misses the kept centre", iy, ix, r[0], r[2], r[1], r[3]);
            for (int i = 0; i < model->n_nodes; i++) {
                const ct_tensor_plan *tp = &c->plan.t[i];
                *work += (double)(tp->ry1 - tp->ry0) * (tp->rx1 - tp->rx0) * tp->c * (1 << 2 * model->nodes[i].level);
            }
            store(&io, cy0, cx0, cy1 - cy0, cx1 - cx0, obuf + ((size_t)(cy0 - ry - r[0]) * r[3] + (cx0 - rx - r[1])) * 3,
                  r[3]);
        }
    return with_regions;
}

/* Regions (plan_regions.c): each tile computes each tensor only where its kept centre needs
 * it. Checked: regions are set on every tile that has an inside edge, the work over all
 * tiles drops below the whole-tile work, the result stays the untiled one (the tolerance of
 * tiled_vs_untiled: 1e-5 on the exact path), and a need one pixel too small per convolution
 * breaks it, so the walk is not larger than it has to be by accident. */
static void test_regions(void)
{
    const int w = 203, h = 181;
    size_t n = (size_t)w * h * 3;
    float *x = malloc(n * sizeof *x), *ref = malloc(n * sizeof *x), *til = malloc(n * sizeof *x);
    photo(x, w, h);
    for (int pass = 0; pass < 2; pass++) {
        cartoon_context *c = new_ctx_conv(pass ? CARTOON_CONV_AUTO : CARTOON_CONV_IM2COL);
        CHECK(cartoon_forward(c, x, h, w, ref) == CARTOON_OK);
        ct_tiling t;
        CHECK(ct_tiling_plan(c, h, w, 24, 0, 0, 0, &t) == CARTOON_OK && t.nx > 2 && t.ny > 2);
        double whole = 0, work, bad;
        for (int i = 0; i < model->n_nodes; i++)
            whole += (double)(t.th >> model->nodes[i].level) * (t.tw >> model->nodes[i].level) * model->nodes[i].channels *
                     (1 << 2 * model->nodes[i].level);
        whole *= t.nx * t.ny;
        int set = run_tiles_regions(c, &t, x, h, w, til, 0, &work);
        double d = max_abs_diff(ref, til, n);
        printf("  %s: %d x %d tiles, regions on %d; work %.3f of whole tiles; max abs diff %.3g\n",
               pass ? "auto" : "im2col", t.nx, t.ny, set, work / whole, d);
        CHECKF(set == t.nx * t.ny, "regions on %d of %d tiles", set, t.nx * t.ny);
        CHECKF(work < 0.9 * whole, "work %.3f of the whole tiles", work / whole);
        CHECKF(d <= (pass ? 2e-5 : 1e-5), "max abs diff %g", d);
        /* a need one pixel too small: regions still placed, the kept centres wrong */
        set = run_tiles_regions(c, &t, x, h, w, til, 1, &work);
        bad = max_abs_diff(ref, til, n);
        printf("  %s, every convolution's need one pixel smaller: regions on %d; max abs diff %.3g\n",
               pass ? "auto" : "im2col", set, bad);
        CHECKF(set > 0 && bad > 1e-3, "a too small need went unnoticed (diff %g, regions on %d tiles)", bad, set);
        cartoon_context_free(c);
    }
    free(x); free(ref); free(til);
}

static cartoon_image rgb(int w, int h, int bpp, uint64_t seed)
{
    cartoon_image im = {malloc((size_t)w * h * bpp), w, h, (size_t)w * bpp, bpp == 4 ? CARTOON_PIXEL_RGBA : CARTOON_PIXEL_RGB};
    rng_seed(seed);
    /* smooth content with noise: like a photo, so the network's output is not saturated */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * bpp; x++)
            im.data[(size_t)y * im.stride + x] = (uint8_t)(128 + 90 * sinf(x * 0.05f + y * 0.03f) + rng_uniform(-30, 30));
    return im;
}

static void compare_u8(const char *what, const cartoon_image *a, const cartoon_image *b)
{
    size_t n = (size_t)a->height * a->stride, diff = 0;
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a->data[i] - (int)b->data[i]);
        if (d) diff++;
        if (d > worst) worst = d;
    }
    printf("  %s: %zu of %zu bytes differ, by at most %d\n", what, diff, n, worst);
    CHECKF(worst <= 1 && diff * 1000 <= n, "%s: %zu bytes differ, max %d", what, diff, worst);
}

static void test_cartoonize_tiled(void)
{
    cartoon_context *c = new_ctx();
    /* native size, RGBA, strength 0.7: the streaming path (8-bit in and out tile by tile) */
    cartoon_image in = rgb(211, 150, 4, 1), ref = rgb(211, 150, 4, 2), til = rgb(211, 150, 4, 3);
    cartoon_options o;
    cartoon_options_default(&o);
    o.strength = 0.7f;
    CHECK(unet_cartoonize(c, &in, &ref, &o) == CARTOON_OK);
    o.tile = 16;
    CHECK(unet_cartoonize(c, &in, &til, &o) == CARTOON_OK);
    compare_u8("native 211x150 RGBA, strength 0.7, tile 16", &ref, &til);
    /* alpha passes through in both */
    CHECK(til.data[3] == in.data[3] && til.data[til.stride * 149 + 210 * 4 + 3] == in.data[in.stride * 149 + 210 * 4 + 3]);
    /* resampled (the float path) with a memory budget that forces tiles */
    cartoon_options_default(&o);
    o.resolution = 300;
    cartoon_estimate e0, e1;
    CHECK(cartoon_estimate_cost(c, 211, 150, &o, &e0) == CARTOON_OK);
    CHECK(unet_cartoonize(c, &in, &ref, &o) == CARTOON_OK);
    o.memory_budget = e0.host_bytes * 3 / 4;
    CHECK(cartoon_estimate_cost(c, 211, 150, &o, &e1) == CARTOON_OK);
    CHECKF(e1.host_bytes <= o.memory_budget && e1.arena_bytes < e0.arena_bytes,
           "budget %llu: estimate %llu (untiled %llu)", (unsigned long long)o.memory_budget,
           (unsigned long long)e1.host_bytes, (unsigned long long)e0.host_bytes);
    CHECK(unet_cartoonize(c, &in, &til, &o) == CARTOON_OK);
    compare_u8("resolution 300 with 3/4 of the untiled memory as budget", &ref, &til);
    free(in.data); free(ref.data); free(til.data);
    cartoon_context_free(c);
}

static void test_bad_budgets(void)
{
    cartoon_context *c = new_ctx();
    cartoon_image in = rgb(400, 300, 3, 4), out = rgb(400, 300, 3, 5), before = rgb(400, 300, 3, 5);
    cartoon_options o;
    cartoon_options_default(&o);
    o.memory_budget = 100000; /* below the smallest tile */
    CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_E_LIMIT);
    CHECK(strstr(cartoon_context_last_error(c), "budget") != NULL);
    CHECK(!memcmp(out.data, before.data, (size_t)out.height * out.stride));
    cartoon_estimate e;
    CHECK(cartoon_estimate_cost(c, 400, 300, &o, &e) == CARTOON_E_LIMIT);
    o.memory_budget = 0;
    o.tile = -1;
    CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_E_INVALID_ARGUMENT);
    o.tile = 0;
    o.resolution = CARTOON_RESOLUTION_AUTO;
    o.time_budget = -1;
    CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(!memcmp(out.data, before.data, (size_t)out.height * out.stride));
    free(in.data); free(out.data); free(before.data);
    cartoon_context_free(c);
}

static void test_auto_resolution(void)
{
    cartoon_context *c = new_ctx();
    cartoon_options o, r;
    cartoon_options_default(&o);
    o.resolution = CARTOON_RESOLUTION_AUTO;
    o.time_budget = 1e6;
    o.memory_budget = 1ull << 40;
    char why[512];
    CHECK(cartoon_resolve_options(c, 640, 480, &o, &r, why, sizeof why) == CARTOON_OK && r.resolution == 0);
    /* a memory budget between the predictions at two sizes picks a size in between */
    cartoon_options at = o;
    cartoon_estimate e300, e400;
    at.resolution = 300;
    CHECK(cartoon_estimate_cost(c, 640, 480, &at, &e300) == CARTOON_OK);
    at.resolution = 400;
    CHECK(cartoon_estimate_cost(c, 640, 480, &at, &e400) == CARTOON_OK);
    o.memory_budget = (e300.host_bytes + e400.host_bytes) / 2;
    CHECK(cartoon_resolve_options(c, 640, 480, &o, &r, why, sizeof why) == CARTOON_OK);
    printf("  %s\n", why);
    CHECKF(r.resolution > 300 && r.resolution < 400, "chose %d", r.resolution);
    cartoon_estimate got, next;
    CHECK(cartoon_estimate_cost(c, 640, 480, &r, &got) == CARTOON_OK && got.host_bytes <= o.memory_budget);
    at.resolution = r.resolution + 1;
    CHECK(cartoon_estimate_cost(c, 640, 480, &at, &next) == CARTOON_OK && next.host_bytes > o.memory_budget);
    CHECK(strstr(why, "memory budget") != NULL);
    /* nothing fits */
    o.memory_budget = 1000;
    CHECK(cartoon_resolve_options(c, 640, 480, &o, &r, NULL, 0) == CARTOON_E_LIMIT);
    cartoon_context_free(c);
}

/* The student graph (depthwise-separable blocks, concat skips: tests/support/student_model.c,
 * random weights, narrow widths): its field walked against the measured one, and tiles equal
 * to the untiled run on both paths (the fast one with its fused depthwise + pointwise). */
static void test_student(void)
{
    size_t size;
    rng_seed(3);
    uint8_t *buf = student_model_build(8, &size);
    cartoon_model *teacher = model, *student = NULL;
    char err[256];
    CHECK(buf && cartoon_model_load_memory(buf, size, NULL, &student, err, sizeof err) == CARTOON_OK);
    free(buf);
    if (!student) return;
    model = student;
    test_reach_matches_measured_field();
    tiled_vs_untiled(203, 181, 24, CARTOON_CONV_AUTO);
    tiled_vs_untiled(203, 181, 24, CARTOON_CONV_IM2COL);
    test_regions();
    model = teacher;
    cartoon_model_free(student);
}

int main(void)
{
    run_case("layout_partitions_with_halo", test_layout);
    run_case("student_graph_tiled_equals_untiled", test_student);
    const char *path = test_model_path();
    char err[256];
    if (!path) {
        skip_case("tiling_with_model", "the shared model is not available");
        return check_summary();
    }
    if (cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        printf("setup failed: %s\n", err);
        return 1;
    }
    run_case("reach_matches_measured_receptive_field", test_reach_matches_measured_field);
    run_case("model_space_tiled_equals_untiled", test_model_space_sizes);
    run_case("regions_cut_work_not_result", test_regions);
    run_case("cartoonize_tiled_equals_untiled", test_cartoonize_tiled);
    run_case("bad_budgets", test_bad_budgets);
    run_case("auto_resolution", test_auto_resolution);
    cartoon_model_free(model);
    return check_summary();
}
