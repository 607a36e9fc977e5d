/* Winograd F(4x4,3x3) / F(6x6,3x3): weight transform, scratch sizing and the driver that
 * runs one instruction set's block kernel (conv_winograd_<isa>.c) over the image. */
#include "conv_winograd_impl.h"
#include <stdlib.h>
#include "errors.h"

/* The default tile. F(6x6) does 21% fewer multiplies than F(4x4) per output and measured
 * faster here (bench/winograd_micro.c); its error stays ~1e-5 (docs/precision-notes.md). */
#ifndef CT_WINOGRAD_DEFAULT_M
#define CT_WINOGRAD_DEFAULT_M 6
#endif

/* Bytes of transformed input per block a thread keeps: about a quarter of a 1 MiB L2,
 * so V, the 16-wide product block M and the streamed weight panels all stay in L2. */
#ifndef CT_WINOGRAD_V_BUDGET
#define CT_WINOGRAD_V_BUDGET (256 * 1024)
#endif

#define WG_TMUL 6 /* block sizes are multiples of the AVX2 micro-kernel's rows */

/* G (alpha x 3) of the Cook-Toom construction, exact rationals. */
static const double G4[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};
static const double G6[8][3] = {
    {1, 0, 0},
    {-2.0 / 9, -2.0 / 9, -2.0 / 9},
    {-2.0 / 9, 2.0 / 9, -2.0 / 9},
    {1.0 / 90, 1.0 / 45, 2.0 / 45},
    {1.0 / 90, -1.0 / 45, 2.0 / 45},
    {32.0 / 45, 16.0 / 45, 8.0 / 45},
    {32.0 / 45, -16.0 / 45, 8.0 / 45},
    {0, 0, 1},
};

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

cartoon_status ct_winograd_create_tile(const float *w, int cin, int cout, int m,
                                       ct_winograd **out)
{
    if (!out) return CARTOON_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!w || cin < 1 || cout < 1 || (m != 4 && m != 6)) return CARTOON_E_INVALID_ARGUMENT;
    const int A = m + 2, AA = A * A;
    ct_winograd *wg = calloc(1, sizeof *wg);
    if (!wg) return CARTOON_E_OUT_OF_MEMORY;
    wg->m = m;
    wg->alpha = A;
    wg->cin = cin;
    wg->cout = cout;
    wg->cin_pad = round_up(cin, 16); /* whole groups of the widest vector (AVX-512) */
    wg->nblk = (cout + WG_NR - 1) / WG_NR;
    int t = CT_WINOGRAD_V_BUDGET / (int)sizeof(float) / (AA * wg->cin_pad);
    t = t / WG_TMUL * WG_TMUL;
    wg->tmax = t < WG_TMUL ? WG_TMUL : t > 96 ? 96 : t;

    size_t n, bytes;
    if (!ct_mul_size((size_t)wg->nblk * AA * WG_NR, (size_t)cin, &n) ||
        !ct_mul_size(n, sizeof(float), &bytes) || !ct_add_size(bytes, 63, &bytes)) {
        free(wg);
        return CARTOON_E_OUT_OF_MEMORY;
    }
    wg->u = aligned_alloc(64, bytes / 64 * 64);
    if (!wg->u) { free(wg); return CARTOON_E_OUT_OF_MEMORY; }
    memset(wg->u, 0, bytes / 64 * 64);

    const double (*G)[3] = m == 4 ? G4 : G6;
    for (int co = 0; co < cout; co++) {
        float *ub = wg->u + (size_t)(co / WG_NR) * AA * cin * WG_NR + co % WG_NR;
        for (int ci = 0; ci < cin; ci++) {
            double g[3][3], gt[8][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    g[ky][kx] = w[(((size_t)co * 3 + ky) * 3 + kx) * cin + ci];
            for (int a = 0; a < A; a++) /* G g */
                for (int kx = 0; kx < 3; kx++)
                    gt[a][kx] = G[a][0] * g[0][kx] + G[a][1] * g[1][kx] + G[a][2] * g[2][kx];
            for (int a = 0; a < A; a++) /* (G g) G^T */
                for (int b = 0; b < A; b++) {
                    double v = gt[a][0] * G[b][0] + gt[a][1] * G[b][1] + gt[a][2] * G[b][2];
                    ub[((size_t)(a * A + b) * cin + ci) * WG_NR] = (float)v;
                }
        }
    }
    *out = wg;
    return CARTOON_OK;
}

cartoon_status ct_winograd_create(const float *w, int cin, int cout, ct_winograd **out)
{
    return ct_winograd_create_tile(w, cin, cout, CT_WINOGRAD_DEFAULT_M, out);
}

void ct_winograd_free(ct_winograd *wg)
{
    if (!wg) return;
    free(wg->u);
    free(wg->ub);
    free(wg);
}

int ct_winograd_tile(const ct_winograd *wg) { return wg->m; }

static int count_tiles(const ct_winograd *wg, int h, int w)
{
    return ((h + wg->m - 1) / wg->m) * ((w + wg->m - 1) / wg->m);
}

/* The largest block any thread count may pick for this image, so the per-thread stride of
 * the scratch does not depend on the pool. */
static int block_bound(const ct_winograd *wg, int ntiles)
{
    int cap = round_up(ntiles, WG_TMUL);
    return cap < wg->tmax ? cap : wg->tmax;
}

static size_t per_thread_bytes(const ct_winograd *wg, int T)
{
    size_t AA = (size_t)wg->alpha * wg->alpha;
    size_t floats = AA * T * wg->cin_pad + AA * T * WG_NR;
    return (floats * sizeof(float) + 63) / 64 * 64;
}

size_t ct_winograd_scratch_bytes(const ct_winograd *wg, int h, int w, int nthreads)
{
    if (!wg || h < 1 || w < 1) return 0;
    if (nthreads < 1) nthreads = 1;
    /* the most tiles any grid phase (ct_winograd_conv_at) gives */
    return per_thread_bytes(wg, block_bound(wg, count_tiles(wg, h + wg->m - 1, w + wg->m - 1))) * (size_t)nthreads;
}

cartoon_status ct_winograd_conv(const ct_winograd *wg, const ct_conv_shape *s, const float *in,
                                const ct_epilogue *ep, float *out, void *scratch,
                                ct_pool *pool, ct_winograd_task_fn task)
{
    return ct_winograd_conv_at(wg, s, in, ep, out, scratch, pool, task, 0, 0);
}

cartoon_status ct_winograd_conv_at(const ct_winograd *wg, const ct_conv_shape *s, const float *in,
                                   const ct_epilogue *ep, float *out, void *scratch,
                                   ct_pool *pool, ct_winograd_task_fn task, int py, int px)
{
    if (!task || !wg || !s || !in || !out || !scratch || s->k != 3 || s->stride != 1 ||
        s->cin != wg->cin || s->cout != wg->cout || s->h < 1 || s->w < 1 ||
        s->oh != s->h || s->ow != s->w || s->pad_top != 1 || s->pad_left != 1 ||
        ((uintptr_t)scratch & (CT_WINOGRAD_SCRATCH_ALIGN - 1)) || py < 0 || px < 0 || py >= wg->m ||
        px >= wg->m)
        return CARTOON_E_INVALID_ARGUMENT;
    wg_job jb;
    memset(&jb, 0, sizeof jb);
    jb.wg = wg;
    jb.in = in;
    jb.out = out;
    if (ep) {
        jb.bias = ep->bias;
        jb.residual = ep->residual;
        jb.act = ep->act;
        jb.alpha = ep->alpha;
        jb.post_act = ep->post_act;
        jb.post_alpha = ep->post_alpha;
    }
    jb.h = s->h;
    jb.w = s->w;
    jb.py = py;
    jb.px = px;
    jb.tiles_x = (s->w + px + wg->m - 1) / wg->m;
    jb.ntiles = count_tiles(wg, s->h + py, s->w + px);
    int bound = block_bound(wg, jb.ntiles), nth = ct_pool_size(pool);
    /* Enough blocks that the pool's shared counter can even out the last ones. */
    int T = bound;
    if (nth > 1) {
        int want = round_up((jb.ntiles + 4 * nth - 1) / (4 * nth), WG_TMUL);
        if (want < T) T = want;
    }
    jb.T = T;
    jb.scratch = scratch;
    jb.per_thread = per_thread_bytes(wg, bound);
    jb.v_floats = (size_t)wg->alpha * wg->alpha * T * wg->cin_pad;
    int ntasks = (jb.ntiles + T - 1) / T;
    ct_pool_run(pool, ntasks, task, &jb);
    return CARTOON_OK;
}
