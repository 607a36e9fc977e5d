/* CPU convolution kernels' shared definitions. Activations are NHWC float32 of one image
 * (batch 1). */
#ifndef CARTOON_CONV_H
#define CARTOON_CONV_H
#include <stddef.h>
#include "cartoon.h"
#include "op_types.h"
#include "threadpool.h"

/* Outputs of at least this many bytes are written with streaming (non-temporal) stores by the
 * kernels that can (direct convolution, depthwise + pointwise; where the instruction set has
 * them): such a tensor is read back by the next layer only after more than a core's caches'
 * worth of other traffic, so bringing each output line into the cache before overwriting it
 * (the read a normal store does first) is wasted memory bandwidth. Measured on the student at
 * 1024 x 1024 on a 2-core AVX2 VM: 6-12% less time end to end (docs/performance.md); below it,
 * the next layer finds the output in cache. */
#define CT_STREAM_MIN_BYTES ((size_t)4 << 20)
static inline int ct_stream_output(size_t elems) { return elems * sizeof(float) >= CT_STREAM_MIN_BYTES; }

/* Naive direct convolution: the independent reference the tests compare every kernel with.
 * w_ohwi is [cout][k][k][cin] as in the model file. */
void ct_conv2d_naive(const ct_conv_shape *s, const float *in, const float *w_ohwi,
                     const ct_epilogue *ep, float *out);
#endif
