/* Portable instantiation of the upsample row kernel (upsample_impl.h): 4-float GCC vectors,
 * SSE on baseline x86-64. */
#include "vec_generic.h"
#define NAME(x) x##_generic
#include "upsample_impl.h"

void ct_upsample2x_rows(const float *in, int h, int w, int c, int bilinear, const float *skip,
                        float *out, ct_pool *pool, ct_upsample_row_fn row)
{
    ct_up_job j = {in, skip, out, h, w, c, bilinear};
    ct_pool_run(pool, 2 * h, row, &j);
}
