/* The student model's fast CPU kernels (kernels/cpu/dwpw*.c) and their plan:
 *   - the fused depthwise + pointwise and the plain pointwise against the naive kernels
 *     (ct_depthwise_conv2d, ct_conv2d_naive, a concat written here), on every kernel-table row
 *     this CPU runs (the 16-lane generic-vector row included): odd and even sizes, strides 1
 *     and 2, kernels 3 and 5, channel counts that are not multiples of 8 or 16, one to three
 *     concatenated sources, some of them upsampled on the fly, with and without residual,
 *     outputs small enough to stay in cache and large enough to be streamed past it;
 *   - the plan of the student graph: upsamples, concats and depthwise outputs are not
 *     allocated when the backend fuses them, are when it does not, and the arena invariants
 *     hold for every combination of fusion flags (no live overlap, inputs live at the step
 *     that reads them);
 *   - the whole student graph (built here with random weights, and
 *     /tmp/student/student-random.safetensors when it exists): the fast path on every row,
 *     fused and unfused, against the exact im2col path, max abs diff <= 1e-4 in model space. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend_cpu.h"
#include "cartoon.h"
#include "check.h"
#include "context.h"
#include "cpu_kernels.h"
#include "dwpw.h"
#include "model.h"
#include "ops.h"
#include "plan.h"
#include "student_model.h"

static ct_pool *pool;

static float *rnd(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(lo, hi);
    return p;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

/* ---- the kernels against the naive ones */

typedef struct {
    int h, w, k, stride, cout;
    int n_src, c[3];
    int up[3]; /* 1: that source is the 2x bilinear upsampling of a half-size tensor, 2: nearest */
} dwpw_case;

/* The sources of a case, stored: half size where upsampled; and the full-size tensors the
 * depthwise sees, made with the naive upsampling (ct_upsample2x). */
static void make_sources(const dwpw_case *x, float **stored, float **full, ct_dwpw_src *src)
{
    size_t px = (size_t)x->h * x->w;
    for (int q = 0; q < x->n_src; q++) {
        if (x->up[q]) {
            stored[q] = rnd(px / 4 * x->c[q], -1, 1);
            full[q] = malloc(px * x->c[q] * sizeof(float));
            ct_upsample2x(stored[q], x->h / 2, x->w / 2, x->c[q], x->up[q] == 1, NULL, full[q], NULL);
        } else {
            stored[q] = rnd(px * x->c[q], -1, 1);
            full[q] = stored[q];
        }
        src[q] = (ct_dwpw_src){stored[q], x->c[q], x->up[q] == 1 ? CT_DWPW_UP_BILINEAR : x->up[q] == 2 ? CT_DWPW_UP_NEAREST : CT_DWPW_PLAIN};
    }
}

static void free_sources(const dwpw_case *x, float **stored, float **full)
{
    for (int q = 0; q < x->n_src; q++) {
        if (full[q] != stored[q]) free(full[q]);
        free(stored[q]);
    }
}

static void one_dwpw(const dwpw_case *x, int epi, const ct_cpu_kernels *kern)
{
    int cin = 0;
    for (int q = 0; q < x->n_src; q++) cin += x->c[q];
    ct_conv_shape s;
    ct_conv_shape_init(&s, x->h, x->w, cin, cin, x->k, x->stride);
    size_t px = (size_t)x->h * x->w, opx = (size_t)s.oh * s.ow, no = opx * x->cout;
    float *stored[3], *full[3];
    ct_dwpw_src src[3];
    make_sources(x, stored, full, src);
    float *dw_w = rnd((size_t)x->k * x->k * cin, -0.4f, 0.4f), *dw_b = rnd((size_t)cin, -0.3f, 0.3f);
    float *pw_w = rnd((size_t)x->cout * cin, -0.3f, 0.3f), *pw_b = rnd((size_t)x->cout, -0.5f, 0.5f);
    float *res = rnd(no, -1, 1);
    /* the reference: concat, naive depthwise with its bias and activation, naive 1x1 conv */
    float *cat = malloc(px * cin * sizeof *cat), *mid = malloc(opx * cin * sizeof *mid);
    float *ref = malloc(no * sizeof *ref);
    /* 64-byte aligned as the engine's arena is, so that whole vectors may be streamed */
    float *got = aligned_alloc(64, (no * sizeof *got + 63) / 64 * 64);
    const float *fulls[3] = {full[0], full[1], full[2]};
    ct_concat(fulls, x->c, x->n_src, px, cat);
    const ct_act dw_act = epi & 1 ? ACT_RELU : ACT_NONE;
    ct_epilogue dep = {dw_b, dw_act, 0.f, NULL, ACT_NONE, 0};
    ct_depthwise_conv2d(&s, cat, dw_w, &dep, mid, NULL);
    /* the first four are the kernels' specialised epilogues (bias; leaky ReLU or none;
       residual or none), the others take the general one */
    ct_epilogue eps[6] = {
        {pw_b, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0},
        {pw_b, ACT_NONE, 0, res, ACT_NONE, 0},
        {pw_b, ACT_RELU, 0, res, ACT_LEAKY_RELU, 0.1f},
        {pw_b, ACT_LEAKY_RELU, 0.3f, res, ACT_NONE, 0},
        {pw_b, ACT_NONE, 0, NULL, ACT_NONE, 0},
        {NULL, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0},
    };
    const ct_epilogue *ep = &eps[epi < 6 ? epi % 3 : epi - 3];
    ct_conv_shape ps;
    ct_conv_shape_init(&ps, s.oh, s.ow, cin, x->cout, 1, 1);
    ct_conv2d_naive(&ps, mid, pw_w, ep, ref);

    ct_pointwise *pw = NULL;
    CHECK(ct_pointwise_create(pw_w, cin, x->cout, &pw) == CARTOON_OK);
    size_t sb = ct_dwpw_scratch_bytes(src, x->n_src, &s, ct_pool_size(pool));
    void *scratch = aligned_alloc(64, (sb + 63) / 64 * 64);
    for (size_t i = 0; i < no; i++) got[i] = NAN;
    CHECK(ct_dwpw_run(src, x->n_src, &s, dw_w, dw_b, dw_act, 0.f, pw, ep, got, scratch, pool, kern->dwpw_tile) ==
          CARTOON_OK);
    double d = max_abs_diff(ref, got, no), m = fmax(1, max_abs(ref, no));
    CHECKF(d <= 1e-5 * m, "dwpw %dx%d k%d s%d c[%d %d %d] up[%d %d %d] -> %d epi %d %s: max diff %g (scale %g)", x->h,
           x->w, x->k, x->stride, x->c[0], x->c[1], x->c[2], x->up[0], x->up[1], x->up[2], x->cout, epi, kern->name, d, m);

    /* the plain pointwise on the depthwise output */
    for (size_t i = 0; i < no; i++) got[i] = NAN;
    CHECK(ct_pointwise_run(pw, mid, opx, ep, got, pool, kern->pw_chunk) == CARTOON_OK);
    d = max_abs_diff(ref, got, no);
    CHECKF(d <= 1e-5 * m, "pointwise %zu px %d -> %d epi %d %s: max diff %g", opx, cin, x->cout, epi, kern->name, d);

    ct_pointwise_free(pw);
    free(scratch);
    free_sources(x, stored, full);
    free(dw_w); free(dw_b); free(pw_w); free(pw_b); free(res); free(cat); free(mid); free(ref); free(got);
}

static const dwpw_case cases[] = {
    /* h, w, k, stride, cout, n_src, channels of each source */
    {13, 17, 3, 1, 16, 1, {8}, {0}},        {12, 16, 3, 2, 40, 1, {40}, {0}},       {9, 31, 3, 1, 33, 1, {13}, {0}},
    {7, 50, 3, 1, 160, 1, {160}, {0}},      {16, 57, 3, 2, 80, 1, {80}, {0}},       {15, 15, 3, 2, 17, 1, {5}, {0}},
    {1, 1, 3, 1, 7, 1, {3}, {0}},           {2, 3, 3, 2, 9, 1, {21}, {0}},          {1, 40, 3, 1, 24, 1, {48}, {0}},
    {11, 26, 3, 1, 80, 2, {80, 80}, {0}},   {10, 29, 3, 1, 40, 2, {40, 40}, {0}},   {6, 19, 3, 1, 12, 2, {7, 9}, {0}},
    {8, 13, 3, 2, 31, 3, {3, 5, 17}, {0}},  {9, 11, 5, 1, 20, 1, {19}, {0}},        {8, 9, 5, 2, 16, 2, {16, 8}, {0}},
    {5, 100, 3, 1, 3, 1, {40}, {0}},        {33, 4, 3, 1, 64, 2, {24, 16}, {0}},    {4, 37, 3, 2, 48, 1, {160}, {0}},
    /* upsampled sources (even sizes), as the decoder's upsample -> concat -> dw -> pw */
    {12, 22, 3, 1, 40, 2, {40, 40}, {1, 0}},   {18, 64, 3, 1, 80, 2, {80, 80}, {1, 0}},
    {10, 14, 3, 1, 9, 2, {5, 11}, {0, 1}},     {8, 6, 3, 2, 17, 3, {3, 16, 9}, {2, 0, 1}},
    {2, 2, 3, 1, 8, 1, {13}, {1}},             {14, 10, 5, 1, 12, 2, {7, 8}, {1, 2}},
    /* outputs of CT_STREAM_MIN_BYTES or more, written with streaming stores (u2's shape) */
    {232, 226, 3, 1, 24, 2, {24, 24}, {1, 0}},  {150, 151, 3, 2, 48, 1, {24}, {0}},
};

static void test_kernels(void)
{
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int epi = 0; epi < 9; epi++)
            for (size_t i = 0; i < nk; i++)
                if (ks[i].isa <= ct_cpu_isa_native()) one_dwpw(&cases[c], epi, &ks[i]);
}

/* The on-the-fly upsampling copies even rows and columns exactly, as ct_upsample2x does: an
 * infinite source pixel reaches the even outputs as that infinity (a + 0 x (b - a) would make
 * it NaN). Seen through a 1 x 1 depthwise of weight 1 and a pointwise of weights 1, whose
 * outputs are the channels' sums in channel order, which the test adds up the same way.
 * Every kernel-table row; 19 channels: whole vectors and a scalar tail. */
static void test_upsample_copies(void)
{
    enum { H = 6, W = 8, C = 19, CO = 2 };
    float *in = malloc((size_t)H / 2 * W / 2 * C * 4), dw_w[C], pw_w[CO * C], *out = malloc((size_t)H * W * CO * 4);
    for (int i = 0; i < H / 2 * W / 2 * C; i++) in[i] = rng_uniform(-1.5f, 1.5f);
    for (int k = 0; k < C; k++) {
        in[(0 * W / 2 + 1) * C + k] = INFINITY; /* source (0, 1) */
        in[(2 * W / 2 + 3) * C + k] = NAN;      /* source (2, 3) */
        dw_w[k] = 1;
        for (int o = 0; o < CO; o++) pw_w[o * C + k] = 1;
    }
    ct_pointwise *pw = NULL;
    CHECK(ct_pointwise_create(pw_w, C, CO, &pw) == CARTOON_OK);
    ct_conv_shape s;
    ct_conv_shape_init(&s, H, W, C, C, 1, 1);
    ct_dwpw_src src[1] = {{in, C, CT_DWPW_UP_BILINEAR}};
    void *scratch = aligned_alloc(64, (ct_dwpw_scratch_bytes(src, 1, &s, ct_pool_size(pool)) + 63) / 64 * 64);
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    for (size_t r = 0; r < nk; r++) {
        if (ks[r].isa > ct_cpu_isa_native()) continue;
        CHECK(ct_dwpw_run(src, 1, &s, dw_w, NULL, ACT_NONE, 0, pw, NULL, out, scratch, pool, ks[r].dwpw_tile) == CARTOON_OK);
        int bad = 0, infs = 0;
        for (int oy = 0; oy < H; oy += 2)
            for (int ox = 0; ox < W; ox += 2) {
                float want = 0;
                for (int k = 0; k < C; k++) want += in[(oy / 2 * W / 2 + ox / 2) * C + k];
                for (int o = 0; o < CO; o++) {
                    const float v = out[(oy * W + ox) * CO + o];
                    if (isnan(want) ? !isnan(v) : v != want) bad++;
                    infs += isinf(v) != 0;
                }
            }
        CHECKF(!bad && infs == CO, "%s: %d even outputs are not the source's sums (%d infinities, want %d)", ks[r].name,
               bad, infs, CO);
    }
    ct_pointwise_free(pw);
    free(scratch); free(in); free(out);
}

static void test_bad_args(void)
{
    float w[64] = {0}, in[64] = {0}, out[64];
    ct_pointwise *pw = NULL;
    CHECK(ct_pointwise_create(NULL, 2, 2, &pw) == CARTOON_E_INVALID_ARGUMENT && !pw);
    CHECK(ct_pointwise_create(w, 0, 2, &pw) == CARTOON_E_INVALID_ARGUMENT && !pw);
    CHECK(ct_pointwise_create(w, 4, 3, &pw) == CARTOON_OK && pw);
    ct_conv_shape s;
    ct_conv_shape_init(&s, 2, 2, 5, 5, 3, 1); /* 5 channels, the pointwise takes 4 */
    ct_dwpw_src src[1] = {{in, 5, CT_DWPW_PLAIN}};
    static float scratch[1 << 16];
    ct_dwpw_fn row = ct_cpu_kernels_for(CT_ISA_GENERIC)->dwpw_tile;
    CHECK(ct_dwpw_run(src, 1, &s, w, NULL, ACT_NONE, 0, pw, NULL, out, scratch, NULL, row) == CARTOON_E_INVALID_ARGUMENT);
    ct_conv_shape_init(&s, 2, 2, 4, 4, 3, 1);
    src[0].c = 3; /* the sources' channels do not add up to the depthwise's */
    CHECK(ct_dwpw_run(src, 1, &s, w, NULL, ACT_NONE, 0, pw, NULL, out, scratch, NULL, row) == CARTOON_E_INVALID_ARGUMENT);
    src[0].c = 4;
    CHECK(ct_dwpw_scratch_bytes(src, 1, &s, 1) <= sizeof scratch);
    CHECK(ct_dwpw_run(src, 1, &s, w, NULL, ACT_NONE, 0, pw, NULL, out, scratch, NULL, row) == CARTOON_OK);
    ct_conv_shape_init(&s, 3, 2, 4, 4, 3, 1);
    src[0].up = CT_DWPW_UP_BILINEAR; /* an upsampled source needs an even size */
    CHECK(ct_dwpw_run(src, 1, &s, w, NULL, ACT_NONE, 0, pw, NULL, out, scratch, NULL, row) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_pointwise_run(pw, in, 4, NULL, out, NULL, NULL) == CARTOON_E_INVALID_ARGUMENT);
    ct_pointwise_free(pw);
    ct_pointwise_free(NULL);
}

/* On a CPU with AVX-512, the native 16-lane kernels and their generic-vector build do the
 * same operations in the same order: bit-identical outputs. */
static void test_v16_matches_avx512(void)
{
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const dwpw_case *x = &cases[c];
        int cin = 0;
        for (int q = 0; q < x->n_src; q++) cin += x->c[q];
        ct_conv_shape s;
        ct_conv_shape_init(&s, x->h, x->w, cin, cin, x->k, x->stride);
        size_t px = (size_t)x->h * x->w, no = (size_t)s.oh * s.ow * x->cout;
        size_t ppx = px * x->c[0] / cin; /* the first source read as pixels of cin channels */
        /* the pointwise run writes ppx * cout floats, more than the dwpw output when stride 2 */
        size_t nab = ppx * x->cout > no ? ppx * x->cout : no;
        float *stored[3], *full[3];
        ct_dwpw_src src[3];
        make_sources(x, stored, full, src);
        float *dw_w = rnd((size_t)x->k * x->k * cin, -0.4f, 0.4f), *dw_b = rnd((size_t)cin, -0.3f, 0.3f);
        float *pw_w = rnd((size_t)x->cout * cin, -0.3f, 0.3f), *pw_b = rnd((size_t)x->cout, -0.5f, 0.5f);
        float *res = rnd(nab, -1, 1), *a = malloc(nab * 4), *b = malloc(nab * 4);
        ct_epilogue ep = {pw_b, ACT_LEAKY_RELU, 0.2f, res, ACT_NONE, 0};
        ct_pointwise *pw = NULL;
        CHECK(ct_pointwise_create(pw_w, cin, x->cout, &pw) == CARTOON_OK);
        void *scratch = aligned_alloc(64, (ct_dwpw_scratch_bytes(src, x->n_src, &s, ct_pool_size(pool)) + 63) / 64 * 64);
        CHECK(ct_dwpw_run(src, x->n_src, &s, dw_w, dw_b, ACT_NONE, 0, pw, &ep, a, scratch, pool, ct_dwpw_tile_avx512) == CARTOON_OK);
        CHECK(ct_dwpw_run(src, x->n_src, &s, dw_w, dw_b, ACT_NONE, 0, pw, &ep, b, scratch, pool, ct_dwpw_tile_v16_avx2) == CARTOON_OK);
        CHECKF(!memcmp(a, b, no * 4), "dwpw case %zu: avx512 and v16-avx2 differ (max %g)", c, max_abs_diff(a, b, no));
        CHECK(ct_pointwise_run(pw, full[0], ppx, &ep, a, pool, ct_pw_chunk_avx512) == CARTOON_OK);
        CHECK(ct_pointwise_run(pw, full[0], ppx, &ep, b, pool, ct_pw_chunk_v16_avx2) == CARTOON_OK);
        CHECKF(!memcmp(a, b, ppx * x->cout * 4), "pointwise case %zu: avx512 and v16-avx2 differ", c);
        ct_pointwise_free(pw);
        free(scratch);
        free_sources(x, stored, full);
        free(dw_w); free(dw_b); free(pw_w); free(pw_b); free(res); free(a); free(b);
    }
}

/* ---- the plan */

static cartoon_model *student, *student_odd, *student_file;

/* the step at which node j runs: the first node of the fused chain it belongs to */
static int step_of(const ct_plan *p, int j)
{
    while (j > 0 && p->t[j - 1].fused) j--;
    return j;
}

typedef struct { size_t off, bytes; int def, last; int node; } blk;

static int plan_violations(const cartoon_model *m, const ct_plan *p)
{
    blk b[512];
    int nb = 0, bad = 0;
    for (int i = 0; i < p->n && nb < 510; i++) {
        const ct_tensor_plan *t = &p->t[i];
        if (t->bytes) b[nb++] = (blk){t->offset, t->bytes, t->def, t->last, i};
        if (t->scratch_bytes) b[nb++] = (blk){t->scratch_offset, t->scratch_bytes, i, i, i};
    }
    for (int a = 0; a < nb; a++) {
        if (b[a].off % CT_ARENA_ALIGN || b[a].off + b[a].bytes > p->arena_bytes) bad++;
        for (int c = a + 1; c < nb; c++) {
            int live = !(b[a].last < b[c].def || b[c].last < b[a].def);
            if (live && b[a].off < b[c].off + b[c].bytes && b[c].off < b[a].off + b[a].bytes) {
                bad++;
                fprintf(stderr, "  blocks of nodes %d and %d overlap\n", b[a].node, b[c].node);
            }
        }
    }
    for (int j = 1; j < p->n; j++) {
        int s = step_of(p, j);
        const ct_tensor_plan *own = &p->t[p->t[j].store];
        if (!own->bytes || own->def > s || own->last < s) {
            bad++;
            fprintf(stderr, "  node %d's buffer is not live at its step %d\n", j, s);
        }
        for (int k = 0; k < m->nodes[j].n_in; k++) {
            int src = m->nodes[j].in[k];
            if (src == j - 1 && p->t[src].fused) continue; /* computed in the same pass */
            const ct_tensor_plan *buf = &p->t[p->t[src].store];
            if (!buf->bytes || buf->def > s || buf->last < s) {
                bad++;
                fprintf(stderr, "  node %d reads node %d, whose buffer is not live at step %d\n", j, src, s);
            }
            /* reading and writing the same buffer: only an in-place skip or residual add (its
             * other operand, never a conv's own input) */
            if (p->t[src].store == p->t[j].store &&
                !(p->t[j - 1].fused && m->nodes[j].op == OP_ADD &&
                  (m->nodes[j - 1].op == OP_UPSAMPLE || m->nodes[j - 1].op == OP_CONV2D)))
                bad++;
        }
        const int conv_in = m->nodes[j - 1].n_in ? m->nodes[j - 1].in[0] : 0;
        if (p->t[j - 1].fused && m->nodes[j - 1].op == OP_CONV2D && m->nodes[j].op == OP_ADD && !p->t[conv_in].fused &&
            p->t[conv_in].store == p->t[j].store)
            bad++; /* a conv never writes over its own input */
    }
    if (p->t[p->t[m->output].store].last < p->n) bad++;
    return bad;
}

static size_t fake_scratch(void *user, const cartoon_model *m, const ct_plan *p, int i)
{
    return (size_t)((i * 7919) % 5) * (p->t[i].bytes + 4096) / 3;
}

static void test_plan(void)
{
    const cartoon_model *m = student;
    ct_plan p;
    p.t = calloc((size_t)m->n_nodes, sizeof *p.t);
    char err[256];
    ct_err e = {err, sizeof err};
    int sizes[][2] = {{4, 4}, {64, 96}, {300, 452}, {1024, 1024}};
    for (int k = 0; k < 4; k++)
        for (int f = 0; f < 128; f++)
            for (int sc = 0; sc < 2; sc++) {
                ct_fusion_caps caps = {.conv_add = f & 1, .upsample_add = f >> 1 & 1, .inplace_skip = f >> 2 & 1,
                                       .dw_pw = f >> 3 & 1, .concat_dw = f >> 4 & 1, .upsample_concat = f >> 5 & 1,
                                       .inplace_residual = f >> 6 & 1};
                CHECK(ct_plan_build(m, sizes[k][0], sizes[k][1], caps, sc ? fake_scratch : NULL, NULL, &p, &e) == CARTOON_OK);
                int bad = plan_violations(m, &p);
                CHECKF(bad == 0, "%dx%d fusion %d scratch %d: %d violations", sizes[k][0], sizes[k][1], f, sc, bad);
                /* what is fused, and therefore not allocated */
                for (int i = 1; i < m->n_nodes; i++) {
                    const ct_node *n = &m->nodes[i];
                    int want = n->op == OP_DEPTHWISE_CONV2D ? caps.dw_pw
                               : n->op == OP_CONCAT        ? caps.dw_pw && caps.concat_dw
                               : n->op == OP_UPSAMPLE      ? caps.dw_pw && caps.concat_dw && caps.upsample_concat
                               : n->op == OP_CONV2D        ? caps.conv_add && i + 1 < m->n_nodes && m->nodes[i + 1].op == OP_ADD
                                                           : 0;
                    CHECKF(p.t[i].fused == want, "fusion %d: node %s fused %d, want %d", f, n->name, p.t[i].fused, want);
                    if (p.t[i].fused) CHECKF(p.t[i].bytes == 0, "node %s is fused but allocated", n->name);
                }
            }
    /* the CPU fast path's own plan at 1024 x 1024: no concat and no depthwise output in the
     * arena, and a smaller arena than the same plan without those fusions */
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.conv = CARTOON_CONV_FAST;
    o.threads = 2;
    cartoon_context *ctx = NULL;
    CHECK(cartoon_context_create(m, &o, &ctx, err, sizeof err) == CARTOON_OK);
    if (ctx) {
        ct_fusion_caps caps = ctx->be->ops->fusion;
        CHECK(caps.dw_pw && caps.concat_dw && caps.upsample_concat);
        CHECK(ct_plan_build(m, 1024, 1024, caps, NULL, NULL, &p, &e) == CARTOON_OK);
        size_t fused_arena = p.arena_bytes;
        int elided = 0;
        for (int i = 0; i < m->n_nodes; i++)
            if (m->nodes[i].op == OP_CONCAT || m->nodes[i].op == OP_UPSAMPLE) {
                elided++;
                CHECKF(p.t[i].bytes == 0 && p.t[i].fused, "%s is allocated", m->nodes[i].name);
            }
        CHECK(elided == 4);
        caps.dw_pw = caps.concat_dw = caps.upsample_concat = 0;
        CHECK(ct_plan_build(m, 1024, 1024, caps, NULL, NULL, &p, &e) == CARTOON_OK);
        for (int i = 0; i < m->n_nodes; i++)
            if (m->nodes[i].op == OP_CONCAT || m->nodes[i].op == OP_UPSAMPLE) CHECK(p.t[i].bytes > 0 && !p.t[i].fused);
        printf("    student S40 at 1024x1024: arena %.0f MiB fused, %.0f MiB without the upsample/concat/dw fusions\n",
               fused_arena / 1048576.0, p.arena_bytes / 1048576.0);
        CHECK(fused_arena < p.arena_bytes);
        cartoon_context_free(ctx);
    }
    /* the exact path plans every node apart */
    o.conv = CARTOON_CONV_IM2COL;
    CHECK(cartoon_context_create(m, &o, &ctx, err, sizeof err) == CARTOON_OK);
    if (ctx) {
        CHECK(!ctx->be->ops->fusion.dw_pw && !ctx->be->ops->fusion.concat_dw && !ctx->be->ops->fusion.upsample_concat);
        cartoon_context_free(ctx);
    }
    free(p.t);
}

/* ---- the whole graph */

/* A CPU context on m with conv path `conv` and 2 threads, fp32. */
static cartoon_context *cpu_ctx(const cartoon_model *m, cartoon_conv_algo conv)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.conv = conv;
    o.threads = 2;
    cartoon_context *ctx = NULL;
    char err[256];
    CHECKF(cartoon_context_create(m, &o, &ctx, err, sizeof err) == CARTOON_OK, "%s", err);
    return ctx;
}

/* A fast-path context on kernel row k (NULL: the row the library chooses), fp32. */
static cartoon_context *fast_ctx(const cartoon_model *m, const ct_cpu_kernels *k)
{
    cartoon_context *ctx = cpu_ctx(m, CARTOON_CONV_FAST);
    if (!ctx || !k) return ctx;
    char err[256];
    ct_backend_config cfg = {CARTOON_CONV_FAST, CARTOON_PRECISION_FP32, ctx->pool, 0};
    ct_backend *be = NULL;
    ct_err e = {err, sizeof err};
    cartoon_status st = ct_cpu_backend_create_with(m, &cfg, k, &be, &e);
    CHECKF(st == CARTOON_OK, "%s", err);
    if (st) { cartoon_context_free(ctx); return NULL; }
    ctx->be->ops->destroy(ctx->be);
    ctx->be = be; /* before any run, so the plan is made for this backend */
    return ctx;
}

static void no_op_observer(void *user, const cartoon_layer_info *info) {}

static void graph_vs_exact(const cartoon_model *m, const char *label)
{
    int sizes[][2] = {{37, 53}, {64, 64}, {8, 4}, {150, 212}};
    cartoon_context *exact = cpu_ctx(m, CARTOON_CONV_IM2COL);
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    for (int z = 0; exact && z < 4; z++) {
        int h = sizes[z][0], w = sizes[z][1];
        size_t n = (size_t)h * w * 3;
        float *x = rnd(n, -1, 1), *want = malloc(n * 4), *got = malloc(n * 4);
        CHECK(cartoon_forward(exact, x, h, w, want) == CARTOON_OK);
        /* every row, fused; and the chosen row unfused (an observer that wants data) */
        for (size_t r = 0; r <= nk; r++) {
            if (r < nk && ks[r].isa > ct_cpu_isa_native()) continue;
            cartoon_context *ctx = fast_ctx(m, r < nk ? &ks[r] : NULL);
            if (!ctx) continue;
            if (r == nk) CHECK(cartoon_context_set_observer(ctx, no_op_observer, NULL, 1) == CARTOON_OK);
            CHECK(cartoon_forward(ctx, x, h, w, got) == CARTOON_OK);
            double d = max_abs_diff(want, got, n);
            CHECKF(d <= 1e-4, "%s %dx%d %s: fast vs exact max diff %g", label, w, h, r < nk ? ks[r].name : "unfused", d);
            if (z == 3) printf("    %s %dx%d, %s: fast vs exact max abs diff %.2g\n", label, w, h, r < nk ? ks[r].name : "unfused (chosen row)", d);
            cartoon_context_free(ctx);
        }
        free(x); free(want); free(got);
    }
    cartoon_context_free(exact);
}

static void test_graph(void)
{
    graph_vs_exact(student, "S40");
    graph_vs_exact(student_odd, "S6");
}

static void test_graph_file(void) { graph_vs_exact(student_file, "student-random file"); }

static cartoon_model *load_built(int width)
{
    size_t size;
    uint8_t *buf = student_model_build(width, &size);
    cartoon_model *m = NULL;
    char err[256];
    if (!buf || cartoon_model_load_memory(buf, size, NULL, &m, err, sizeof err) != CARTOON_OK) {
        printf("cannot build the S%d student: %s\n", width, buf ? err : "out of memory");
        m = NULL;
    }
    free(buf);
    return m;
}

int main(int argc, char **argv)
{
    rng_seed(14);
    /* --write PATH W: only write the random S<W> student model file (for cartoon-bench) */
    if (argc == 4 && !strcmp(argv[1], "--write")) {
        size_t size;
        uint8_t *buf = student_model_build(atoi(argv[3]), &size);
        int ok = buf && write_file_bytes(argv[2], buf, size) == 0;
        free(buf);
        return ok ? 0 : 1;
    }
    ct_pool_create(3, &pool);
    student = load_built(40);
    student_odd = load_built(6); /* 6, 12, 24 channels: every vector tail */
    if (!student || !student_odd) return 1;
    run_case("dwpw_pointwise_vs_naive_all_rows", test_kernels);
    run_case("dwpw_bad_args", test_bad_args);
    run_case("dwpw_upsample_copies_exactly", test_upsample_copies);
    if (ct_cpu_isa_native() >= CT_ISA_AVX512) run_case("dwpw_v16_matches_avx512", test_v16_matches_avx512);
    else skip_case("dwpw_v16_matches_avx512", "no AVX-512 F/BW/VL/DQ on this CPU: the 16-lane "
                   "template ran as v16-avx2 (generic vectors) instead of natively");
    run_case("student_plan_fuses_concat_and_depthwise", test_plan);
    run_case("student_graph_fast_vs_exact", test_graph);
    const char *path = "/tmp/student/student-random.safetensors";
    char err[256];
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    if (f && cartoon_model_load(path, NULL, &student_file, err, sizeof err) == CARTOON_OK)
        run_case("student_file_fast_vs_exact", test_graph_file);
    else skip_case("student_file_fast_vs_exact", f ? err : "/tmp/student/student-random.safetensors is absent");
    cartoon_model_free(student_file);
    cartoon_model_free(student);
    cartoon_model_free(student_odd);
    ct_pool_free(pool);
    return check_summary();
}
