/* Guided filter (He, Sun, Tang), as the White-box model applies it to its generator output:
 * per channel, with box means over the (2r+1)^2 window clipped to the image (the sum of the
 * in-image values divided by their count). The box sums are separable: horizontal sums of
 * x, y, x*y, x*x, vertical sums of those give the means, A = cov / (var + eps) and
 * b = my - A mx, whose horizontal then vertical sums give out = mean(A) x + mean(b).
 *
 * The rows stream through those stages in bands, one band per task, keeping 2r + 1 rows of
 * each stage in a per-thread ring (guided_filter_impl.h): the image is read once and the
 * output written once, where storing the stages as planes read and wrote about twenty planes
 * per channel. The band kernel is chosen per instruction set (lib/cpu/cpu_kernels.c). */
#include "guided_filter_rows.h"
#include "ops.h"

size_t ct_gf_thread_floats(int w, int c, int r)
{
    return (size_t)(2 * r + 1) * 6 * (size_t)c * w + 6 * (size_t)w;
}

size_t ct_guided_filter_scratch_floats(int h, int w, int c, int r, int nthreads)
{
    (void)h;
    return (size_t)w + (size_t)nthreads * ct_gf_thread_floats(w, c, r);
}

void ct_guided_filter_bands(const float *x, const float *y, int h, int w, int c, int r, float eps, float *out,
                            float *scratch, ct_pool *pool, ct_gf_band_fn band)
{
    const int nt = ct_pool_size(pool);
    float *cnt_x = scratch;
    for (int i = 0; i < w; i++) {
        int lo = i - r < 0 ? 0 : i - r, hi = i + r >= w ? w - 1 : i + r;
        cnt_x[i] = (float)(hi - lo + 1);
    }
    /* Two bands per thread balance the load; a band recomputes 3r rows its neighbour also
     * computes, so bands stay at least 16 (2r + 1) rows tall to keep that small. */
    int bands = 2 * nt, min_rows = 16 * (2 * r + 1);
    if (bands > h / min_rows) bands = h / min_rows;
    if (bands < 1) bands = 1;
    ct_gf_job j = {x, y, out, cnt_x, scratch + w, ct_gf_thread_floats(w, c, r), h, w, c, r,
                   (h + bands - 1) / bands, eps};
    bands = (h + j.band_rows - 1) / j.band_rows;
    ct_pool_run(pool, bands, band, &j);
}

void ct_guided_filter(const float *x, const float *y, int h, int w, int c, int r, float eps, float *out,
                      float *scratch, ct_pool *pool)
{
    ct_guided_filter_bands(x, y, h, w, c, r, eps, out, scratch, pool, ct_gf_band_generic);
}
