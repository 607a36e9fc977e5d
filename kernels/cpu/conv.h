/* CPU convolution kernels' shared definitions. Activations are NHWC float32 of one image
 * (batch 1). */
#ifndef CARTOON_CONV_H
#define CARTOON_CONV_H
#include <stddef.h>
#include "cartoon.h"
#include "op_types.h"
#include "threadpool.h"

/* Naive direct convolution: the independent reference the tests compare every kernel with.
 * w_ohwi is [cout][k][k][cin] as in the model file. */
void ct_conv2d_naive(const ct_conv_shape *s, const float *in, const float *w_ohwi,
                     const ct_epilogue *ep, float *out);
#endif
