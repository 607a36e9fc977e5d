/* The CPU backend's operators. Tensors are NHWC float32 of one image; every op is split over
 * output rows on the context's thread pool. */
#ifndef CARTOON_OPS_H
#define CARTOON_OPS_H
#include <stddef.h>
#include "conv.h"
#include "threadpool.h"

/* im2col + OpenBLAS sgemm, the exact path for any odd kernel and stride. The im2col matrix
 * is built for a band of output rows at a time so its size stays under tile_bytes (one
 * output row at least): scratch must hold ct_im2col_scratch_floats() floats. */
size_t ct_im2col_scratch_floats(const ct_conv_shape *s, size_t tile_bytes);
void ct_conv2d_im2col(const ct_conv_shape *s, const float *in, const float *w_ohwi,
                      const ct_epilogue *ep, float *out, float *scratch, size_t tile_bytes,
                      ct_pool *pool);

/* Depthwise convolution, SAME padding; w is [k][k][c]. */
void ct_depthwise_conv2d(const ct_conv_shape *s, const float *in, const float *w,
                         const ct_epilogue *ep, float *out, ct_pool *pool);

/* out = act(a + b), n elements. */
void ct_add(const float *a, const float *b, float *out, size_t n, ct_act act, float alpha,
            ct_pool *pool);

/* Channel concatenation of k tensors of h*w pixels with c[i] channels each. */
void ct_concat(const float *const *ins, const int *c, int k, size_t pixels, float *out);

/* 2x upsampling of an h x w x c tensor to 2h x 2w; TF1 bilinear (asymmetric: source index
 * d/2, the last odd row/column copies the edge) or nearest. If skip is not NULL it is added
 * to the result (the UNet's skip connection, fused to save a pass over memory). */
void ct_upsample2x(const float *in, int h, int w, int c, int bilinear, const float *skip,
                   float *out, ct_pool *pool);

/* Guided filter (He et al.), per channel, box means over the (2r+1)^2 window clipped to the
 * image: x guide, y source, both h x w x c; scratch of ct_guided_filter_scratch_floats() for
 * a pool of nthreads (ct_pool_size): rows of the image's width, not planes. */
size_t ct_guided_filter_scratch_floats(int h, int w, int c, int r, int nthreads);
void ct_guided_filter(const float *x, const float *y, int h, int w, int c, int r, float eps,
                      float *out, float *scratch, ct_pool *pool);

#endif
