/* Exact tiling on the CUDA backend (issue 9, item 5): the same mechanism as on the CPU
 * (lib/core/tiling.c), driven there by cartoon_options.tile / memory_budget and by the
 * context's device_memory_budget. Needs a GPU; without one every case is skipped with the
 * reason (the CPU's tiling is tests/test_tiling.c).
 *
 * Each case runs unet_cartoonize() on the real model tiled and untiled on the same device and
 * compares the 8-bit results. The CUDA kernels have no position-dependent rounding (no
 * Winograd blocks), so a kept centre computes every value from the same inputs as the untiled
 * run; what can differ is the summation order of a GEMM whose size changed with the tile
 * (cuBLAS may pick another algorithm), about 1e-6 in model space in fp32: a byte then moves
 * only where the float sits within that of a level boundary. So, fp32: at least 99.9% of
 * bytes identical and none off by more than one level; fp16 (each run about 83 dB from the
 * exact result, docs/precision-notes.md): PSNR(tiled, untiled) >= 70 dB and no byte off by more
 * than 3 levels. A tile that missed part of its receptive field gives tens of levels along
 * the tile seams, far outside both bounds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "cartoon.h"
#include "check.h"

static cartoon_model *model;
static char why[256];

static cartoon_context *gpu_ctx(cartoon_precision prec, uint64_t device_budget)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CUDA;
    o.precision = prec;
    o.device_memory_budget = device_budget;
    o.max_pixels = 64ull << 20;
    cartoon_context *ctx = NULL;
    char err[256] = "";
    CHECKF(cartoon_context_create(model, &o, &ctx, err, sizeof err) == CARTOON_OK, "%s", err);
    return ctx;
}

static void picture(uint8_t *p, int w, int h, unsigned seed)
{
    rng_seed(seed);
    /* smooth gradients with noise: edges and flat areas, like a photo */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) {
                double v = 127.5 + 90 * sin(0.013 * x * (k + 1) + 0.021 * y) + rng_uniform(-25, 25);
                p[((size_t)y * w + x) * 3 + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
}

/* Runs in through tiled (ctx_t, opt_t) and untiled (ctx_u, default options) and compares. */
static void compare(cartoon_context *ctx_t, const cartoon_options *opt_t, cartoon_context *ctx_u, int w, int h,
                    int fp16, const char *label)
{
    size_t n = (size_t)w * h * 3;
    uint8_t *in = malloc(n), *a = malloc(n), *b = malloc(n);
    CHECK(in && a && b);
    if (!in || !a || !b) { free(in); free(a); free(b); return; }
    picture(in, w, h, (unsigned)(w * 31 + h));
    cartoon_image src = {in, w, h, (size_t)w * 3, CARTOON_PIXEL_RGB};
    cartoon_image ot = {a, w, h, (size_t)w * 3, CARTOON_PIXEL_RGB}, ou = {b, w, h, (size_t)w * 3, CARTOON_PIXEL_RGB};
    cartoon_estimate e;
    CHECKF(cartoon_estimate_cost(ctx_t, w, h, opt_t, &e) == CARTOON_OK, "%s", cartoon_context_last_error(ctx_t));
    CHECKF(unet_cartoonize(ctx_t, &src, &ot, opt_t) == CARTOON_OK, "%s tiled: %s", label,
           cartoon_context_last_error(ctx_t));
    uint64_t tiled_arena = cartoon_context_arena_bytes(ctx_t);
    CHECKF(unet_cartoonize(ctx_u, &src, &ou, NULL) == CARTOON_OK, "%s untiled: %s", label,
           cartoon_context_last_error(ctx_u));
    uint64_t untiled_arena = cartoon_context_arena_bytes(ctx_u);
    size_t same = 0;
    int maxd = 0;
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        same += d == 0;
        if (d > maxd) maxd = d;
        se += (double)d * d;
    }
    double psnr = se > 0 ? 10 * log10(255.0 * 255.0 * n / se) : INFINITY;
    printf("    %-26s %5dx%-5d arena %.1f MiB tiled, %.1f MiB untiled: %.4f%% bytes equal, max diff %d, "
           "PSNR %.1f dB\n", label, w, h, tiled_arena / 1048576.0, untiled_arena / 1048576.0, 100.0 * same / n,
           maxd, psnr);
    /* the tiled run really tiled: its arena holds a tile, less than the whole image's */
    CHECKF(tiled_arena < untiled_arena, "%s: tiled arena %llu not below untiled %llu", label,
           (unsigned long long)tiled_arena, (unsigned long long)untiled_arena);
    if (fp16) CHECKF(psnr >= 70 && maxd <= 3, "%s: PSNR %.1f dB, max diff %d", label, psnr, maxd);
    else CHECKF(same * 1000 >= n * 999 && maxd <= 1, "%s: %zu of %zu bytes equal, max diff %d", label, same, n, maxd);
    free(in); free(a); free(b);
}

/* cartoon_options.tile on odd sizes, a 1-pixel-wide and a 1-pixel-high image: tiles at every
 * border, centres of one pad_multiple. */
static void tiles_by_option(cartoon_precision prec)
{
    static const int sizes[][3] = {{203, 181, 64}, {1, 300, 64}, {300, 1, 64}, {1024, 768, 256}, {97, 513, 4}};
    cartoon_context *t = gpu_ctx(prec, 0), *u = gpu_ctx(prec, 0);
    for (size_t i = 0; t && u && i < sizeof sizes / sizeof sizes[0]; i++) {
        cartoon_options o;
        cartoon_options_default(&o);
        o.tile = sizes[i][2];
        char label[64];
        snprintf(label, sizeof label, "%s tile %d", prec == CARTOON_PRECISION_FP16 ? "fp16" : "fp32", o.tile);
        compare(t, &o, u, sizes[i][0], sizes[i][1], prec == CARTOON_PRECISION_FP16, label);
    }
    cartoon_context_free(t);
    cartoon_context_free(u);
}
static void test_tile_option_fp32(void) { tiles_by_option(CARTOON_PRECISION_FP32); }
static void test_tile_option_fp16(void) { tiles_by_option(CARTOON_PRECISION_FP16); }

/* A small card: device_memory_budget alone makes a 2048 x 2048 run tile (256 MiB) and a
 * 48-megapixel photo run at all (4 GiB, the article's card), the same result as untiled on a
 * context with no limit. */
static void test_device_budget(void)
{
    static const struct { int w, h; uint64_t budget; } cases[] = {{2048, 2048, 256ull << 20},
                                                                  {8000, 6000, 4ull << 30}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cartoon_context *t = gpu_ctx(CARTOON_PRECISION_FP32, cases[i].budget), *u = gpu_ctx(CARTOON_PRECISION_FP32, 0);
        if (t && u) {
            char label[64];
            snprintf(label, sizeof label, "fp32 device budget %llu MiB",
                     (unsigned long long)(cases[i].budget >> 20));
            cartoon_estimate e;
            CHECK(cartoon_estimate_cost(t, cases[i].w, cases[i].h, NULL, &e) == CARTOON_OK);
            CHECKF(e.device_bytes <= cases[i].budget, "%s: estimated device arena %llu over the budget", label,
                   (unsigned long long)e.device_bytes);
            compare(t, NULL, u, cases[i].w, cases[i].h, 0, label);
            CHECKF(cartoon_context_arena_bytes(t) <= cases[i].budget, "%s: arena %llu over the budget", label,
                   (unsigned long long)cartoon_context_arena_bytes(t));
        }
        cartoon_context_free(t);
        cartoon_context_free(u);
    }
}

int main(void)
{
    static const char *const cases[] = {"cuda_tile_option_fp32", "cuda_tile_option_fp16", "cuda_device_budget"};
    if (!ct_backend_cuda.available(why, sizeof why)) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) skip_case(cases[i], why);
        return check_summary();
    }
    const char *path = test_model_path();
    char err[512] = "";
    if (!path || cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        /* with a GPU the model must be there: the GPU run checks tiling, it does not skip it */
        printf("no model (%s): %s\n", path ? path : "../shared/models not found", err);
        return 1;
    }
    run_case(cases[0], test_tile_option_fp32);
    run_case(cases[1], test_tile_option_fp16);
    run_case(cases[2], test_device_budget);
    cartoon_model_free(model);
    return check_summary();
}
