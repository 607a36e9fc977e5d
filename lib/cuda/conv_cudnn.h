/* The CUDA backend's optional cuDNN convolution path (CARTOON_CUDA_CONV=cudnn). Built with
 * cuDNN when CARTOON_HAVE_CUDNN is defined (the Makefile defines it when it finds cudnn.h and
 * libcudnn.so, or CUDNN=1); otherwise every function below exists but ct_cudnn_create fails
 * with CARTOON_E_UNSUPPORTED, so nothing else in the backend depends on cuDNN. */
#ifndef CARTOON_CONV_CUDNN_H
#define CARTOON_CONV_CUDNN_H
#include <cuda_runtime.h>
#include <stddef.h>

extern "C" {
#include "backend.h"
}

struct ct_cudnn;

/* 1 when this build has cuDNN. */
int ct_cudnn_built(void);

/* A cuDNN handle and descriptors working on stream s; *out NULL on failure (DEVICE, or
 * UNSUPPORTED in a build without cuDNN). */
cartoon_status ct_cudnn_create(cudaStream_t s, ct_cudnn **out, ct_err *e);
void ct_cudnn_destroy(ct_cudnn *c);

/* The algorithm for convolution s (NHWC fp32; lowp: tensor-op math with conversion, else FMA
 * math first) whose workspace fits limit bytes: *algo and *workspace. */
cartoon_status ct_cudnn_plan(ct_cudnn *c, const ct_conv_shape *s, int lowp, size_t limit, int *algo,
                             size_t *workspace, const char *name, ct_err *e);
/* out = conv(in, w) with that algorithm (no bias or epilogue); ws of workspace bytes. */
cartoon_status ct_cudnn_run(ct_cudnn *c, const ct_conv_shape *s, int lowp, int algo, const float *in,
                            const float *w, float *out, void *ws, size_t workspace, const char *where,
                            ct_err *e);
#endif
