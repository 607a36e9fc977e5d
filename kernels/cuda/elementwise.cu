/* Memory-bound kernels of the CUDA backend: im2col and the conv epilogue (for the cuBLAS
 * and cuDNN paths), add, concat, 2x upsampling with the fused skip add (depthwise
 * convolution is in depthwise.cu).
 * Grid-stride loops over NHWC float32; arithmetic written with explicitly rounded operations
 * (__fadd_rn, __fmul_rn) where the CPU backend's result should be matched bit for bit. */
#include "cuda_common.cuh"

namespace {

__global__ void im2col_kernel(ct_cu_conv c, int oy0, size_t total, int K, float *__restrict__ col)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t p = i / (size_t)K;
        int kk = (int)(i - p * (size_t)K);
        int tap = kk / c.cin, ci = kk - tap * c.cin;
        int ky = tap / c.k, kx = tap - ky * c.k;
        int oy = oy0 + (int)(p / (size_t)c.ow), ox = (int)(p % (size_t)c.ow);
        int iy = oy * c.stride - c.pad_top + ky, ix = ox * c.stride - c.pad_left + kx;
        float v = 0.f;
        if ((unsigned)iy < (unsigned)c.h && (unsigned)ix < (unsigned)c.w)
            v = __ldg(c.in + ((size_t)iy * c.w + ix) * c.cin + ci);
        col[i] = v;
    }
}

__global__ void epilogue_kernel(ct_cu_conv c, size_t total)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        int n = (int)(i % (size_t)c.cout);
        c.out[i] = ct_cu_epi(c, c.out[i], n, i);
    }
}

/* The same on four channels at a time (cout % 4 == 0, out and res 16-byte aligned): the
 * pointwise layers' GEMM output is streamed once with 16-byte loads and stores. */
__global__ void epilogue4_kernel(ct_cu_conv c, size_t total4)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total4; i += (size_t)gridDim.x * blockDim.x) {
        const size_t o = 4 * i;
        const int n = (int)(o % (size_t)c.cout);
        float4 v = reinterpret_cast<const float4 *>(c.out)[i];
        v.x = ct_cu_epi(c, v.x, n, o);
        v.y = ct_cu_epi(c, v.y, n + 1, o + 1);
        v.z = ct_cu_epi(c, v.z, n + 2, o + 2);
        v.w = ct_cu_epi(c, v.w, n + 3, o + 3);
        reinterpret_cast<float4 *>(c.out)[i] = v;
    }
}

__global__ void add_kernel(const float *__restrict__ a, const float *__restrict__ b, float *out, size_t n,
                           int act, float alpha)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = ct_cu_act(__fadd_rn(a[i], b[i]), act, alpha);
}

struct concat_args {
    const float *in[CT_MAX_INPUTS];
    int c[CT_MAX_INPUTS];
    int k, total;
};

__global__ void concat_kernel(concat_args a, size_t n, float *__restrict__ out)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t p = i / (size_t)a.total;
        int ch = (int)(i - p * (size_t)a.total);
        int j = 0;
        while (j < a.k - 1 && ch >= a.c[j]) { ch -= a.c[j]; j++; }
        out[i] = a.in[j][p * a.c[j] + ch];
    }
}

/* TF1 bilinear (asymmetric) or nearest, as kernels/cpu/upsample.c computes it. */
/* skip and out may be the same buffer (the plan's in-place skip add): no __restrict__ on them;
 * each thread reads skip[i] before it writes out[i]. */
__global__ void upsample_kernel(const float *__restrict__ in, int h, int w, int c, int bilinear,
                                const float *skip, float *out, size_t n)
{
    const int OW = 2 * w;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t p = i / (size_t)c;
        int k = (int)(i - p * (size_t)c);
        int oy = (int)(p / (size_t)OW), ox = (int)(p % (size_t)OW);
        int y0 = oy >> 1, y1 = (oy & 1) && y0 + 1 < h ? y0 + 1 : y0;
        int x0 = ox >> 1, x1 = (ox & 1) && x0 + 1 < w ? x0 + 1 : x0;
        const bool xo = (ox & 1) && bilinear, yo = (oy & 1) && bilinear;
        float a = __ldg(in + ((size_t)y0 * w + x0) * c + k);
        /* even rows and columns copy, as on the CPU (not a + 0 x (b - a): -0, inf and NaN) */
        float v = xo ? __fadd_rn(a, __fmul_rn(0.5f, __fsub_rn(__ldg(in + ((size_t)y0 * w + x1) * c + k), a))) : a;
        if (yo) {
            float cc = __ldg(in + ((size_t)y1 * w + x0) * c + k);
            float bot = xo ? __fadd_rn(cc, __fmul_rn(0.5f, __fsub_rn(__ldg(in + ((size_t)y1 * w + x1) * c + k), cc))) : cc;
            v = __fadd_rn(v, __fmul_rn(0.5f, __fsub_rn(bot, v)));
        }
        out[i] = skip ? __fadd_rn(v, skip[i]) : v;
    }
}

} // namespace

cudaError_t ct_cu_im2col(const ct_cu_conv *c, int oy0, int rows, float *col, cudaStream_t s)
{
    int K = c->k * c->k * c->cin;
    size_t total = (size_t)rows * c->ow * K;
    if (!total) return cudaSuccess;
    im2col_kernel<<<ct_cu_blocks(total), 256, 0, s>>>(*c, oy0, total, K, col);
    return cudaGetLastError();
}

cudaError_t ct_cu_epilogue(const ct_cu_conv *c, cudaStream_t s)
{
    size_t total = (size_t)c->oh * c->ow * c->cout;
    if (!total || (!c->bias && !c->res && c->act == ACT_NONE)) return cudaSuccess;
    if (c->cout % 4 == 0 && (reinterpret_cast<size_t>(c->out) & 15) == 0 && (reinterpret_cast<size_t>(c->res) & 15) == 0)
        epilogue4_kernel<<<ct_cu_blocks(total / 4), 256, 0, s>>>(*c, total / 4);
    else
        epilogue_kernel<<<ct_cu_blocks(total), 256, 0, s>>>(*c, total);
    return cudaGetLastError();
}

cudaError_t ct_cu_add(const float *a, const float *b, float *out, size_t n, int act, float alpha, cudaStream_t s)
{
    if (!n) return cudaSuccess;
    add_kernel<<<ct_cu_blocks(n), 256, 0, s>>>(a, b, out, n, act, alpha);
    return cudaGetLastError();
}

cudaError_t ct_cu_concat(const float *const *ins, const int *cs, int k, size_t pixels, float *out, cudaStream_t s)
{
    if (k < 1 || k > CT_MAX_INPUTS) return cudaErrorInvalidValue;
    concat_args a = {};
    a.k = k;
    for (int i = 0; i < k; i++) { a.in[i] = ins[i]; a.c[i] = cs[i]; a.total += cs[i]; }
    size_t n = pixels * (size_t)a.total;
    if (!n) return cudaSuccess;
    concat_kernel<<<ct_cu_blocks(n), 256, 0, s>>>(a, n, out);
    return cudaGetLastError();
}

cudaError_t ct_cu_upsample2x(const float *in, int h, int w, int c, int bilinear, const float *skip, float *out,
                             cudaStream_t s)
{
    size_t n = (size_t)4 * h * w * c;
    if (!n) return cudaSuccess;
    upsample_kernel<<<ct_cu_blocks(n), 256, 0, s>>>(in, h, w, c, bilinear, skip, out, n);
    return cudaGetLastError();
}

cudaError_t ct_cu_probe_kernels(void)
{
    cudaFuncAttributes attr;
    return cudaFuncGetAttributes(&attr, add_kernel);
}
