/* Shared declarations of the CUDA backend (the .cu files of kernels/): the kernel launchers that
 * backend_cuda.cu drives. Every launcher enqueues work on the given stream and returns
 * cudaGetLastError() after its launches (so launch errors are reported at once;
 * asynchronous faults surface at the next synchronisation). Tensors are NHWC float32 of one
 * image in device memory, as in the CPU backend. */
#ifndef CARTOON_CUDA_COMMON_CUH
#define CARTOON_CUDA_COMMON_CUH
#include <cuda_runtime.h>
#include <stddef.h>

extern "C" {
#include "backend.h"
}

/* Geometry and epilogue of one convolution (conv2d or depthwise):
 *   v = act(acc + bias[c]); if (res) v = post_act(v + res[p * cout + c]); out[p * cout + c] = v */
struct ct_cu_conv {
    const float *in;
    float *out;
    const float *bias; /* [cout] or NULL */
    const float *res;  /* like out, or NULL */
    int h, w, cin;
    int oh, ow, cout;
    int k, stride, pad_top, pad_left;
    int act;
    float alpha;
    int post_act;
    float post_alpha;
};

/* Tensor-core implicit GEMM (WMMA, fp16 operands, fp32 accumulation) with the whole epilogue
 * fused. wt is [cout rounded up to CT_CU_COUT_PAD][kpad] fp16, kpad = k*k*cin rounded up to
 * CT_CU_KPAD, zero-filled. */
#define CT_CU_KPAD 32
#define CT_CU_COUT_PAD 128
cudaError_t ct_cu_conv_igemm(const ct_cu_conv *c, const void *wt, int kpad, cudaStream_t s);

/* im2col of output rows [oy0, oy0 + rows): col[(p - oy0*ow) * K + kk], kk = (ky*k + kx)*cin + ci,
 * zeros outside the image (TensorFlow SAME padding). */
cudaError_t ct_cu_im2col(const ct_cu_conv *c, int oy0, int rows, float *col, cudaStream_t s);
/* The epilogue in place on c->out (after a GEMM or cuDNN wrote the raw sums there). */
cudaError_t ct_cu_epilogue(const ct_cu_conv *c, cudaStream_t s);

/* Depthwise convolution (depthwise.cu), w is [k][k][c] float32 (cin == cout); 3x3 with stride
 * 1 or 2 has its own kernel. */
cudaError_t ct_cu_depthwise(const ct_cu_conv *c, const float *w, cudaStream_t s);
/* Part of the depthwise convolution c: output rows [oy0, oy0 + rows) and channels
 * [c0, c0 + in_c), from in, a tensor of in_c channels holding input channels [c0, c0 + in_c)
 * (c->in itself when in_c == c->cin; otherwise one input of a concatenation the convolution
 * reads, which is never stored). c->out has c->cout channels per pixel and its row 0 is
 * output row oy0; w and c->bias are the whole filter's. */
cudaError_t ct_cu_depthwise_part(const ct_cu_conv *c, const float *w, const float *in, int in_c, int c0, int oy0,
                                 int rows, cudaStream_t s);
/* out = act(a + b), n floats. */
cudaError_t ct_cu_add(const float *a, const float *b, float *out, size_t n, int act, float alpha,
                      cudaStream_t s);
/* Channel concatenation of k (<= CT_MAX_INPUTS) tensors of `pixels` pixels. */
cudaError_t ct_cu_concat(const float *const *ins, const int *cs, int k, size_t pixels, float *out,
                         cudaStream_t s);
/* 2x upsampling (TF1 bilinear or nearest) of h x w x c, plus skip (2h x 2w x c) when not NULL. */
cudaError_t ct_cu_upsample2x(const float *in, int h, int w, int c, int bilinear, const float *skip,
                             float *out, cudaStream_t s);
/* Guided filter, x guide, y source, h x w x c; scratch of ct_cu_guided_filter_scratch() bytes. */
size_t ct_cu_guided_filter_scratch(int h, int w, int c);
cudaError_t ct_cu_guided_filter(const float *x, const float *y, int h, int w, int c, int r, float eps,
                                float *out, float *scratch, cudaStream_t s);

/* Whether this build's kernels have an image the current device can run (cudaSuccess) or
 * the error saying why not (e.g. cudaErrorNoKernelImageForDevice). */
cudaError_t ct_cu_probe_kernels(void);

/* Grid for a grid-stride loop over n items with 256-thread blocks. */
static inline unsigned ct_cu_blocks(size_t n)
{
    size_t b = (n + 255) / 256;
    if (b < 1) b = 1;
    if (b > (1u << 20)) b = 1u << 20;
    return (unsigned)b;
}

__device__ __forceinline__ float ct_cu_act(float v, int act, float alpha)
{
    if (act == ACT_RELU) return v > 0.f ? v : 0.f;
    if (act == ACT_LEAKY_RELU) {
        float a = __fmul_rn(alpha, v);
        return v > a ? v : a;
    }
    return v;
}

/* The epilogue of one output value v of channel n at flat index o (= p * cout + n). Rounded
 * additions (no FMA contraction) as the CPU computes them. */
__device__ __forceinline__ float ct_cu_epi(const ct_cu_conv &c, float v, int n, size_t o)
{
    if (c.bias) v = __fadd_rn(v, c.bias[n]);
    v = ct_cu_act(v, c.act, c.alpha);
    if (c.res) v = ct_cu_act(__fadd_rn(v, c.res[o]), c.post_act, c.post_alpha);
    return v;
}
#endif
