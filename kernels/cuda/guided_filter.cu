/* Guided filter (He, Sun, Tang) on the GPU, per channel, box means over the (2r+1)^2 window
 * clipped to the image (zero-padded sums divided by the in-image count), in two kernels:
 *   1. coef: box sums of x, y, x*y, x*x -> A = cov / (var + eps), b = my - A*mx (2 planes)
 *   2. out:  box sums of A, b -> out = mean(A) * x + mean(b)
 * Each block owns a 32 x 8 tile of one channel: it loads the tile with its r-wide halo into
 * shared memory (zeros outside the image), sums each row's window (horizontal pass, in shared
 * memory), then each column's (vertical pass). The sums run in the order lib/guided_filter.c
 * uses (left to right, then top to bottom, the zeros outside the image adding nothing) with
 * rounded operations and IEEE division, so the fp32 result matches the CPU's. Large radii,
 * whose halo would not fit in shared memory, take a direct kernel with the same order. */
#include "cuda_common.cuh"

namespace {

constexpr int TX = 32, TY = 8;
constexpr int MAX_TILED_R = 8;

__device__ __forceinline__ int clip_count(int g, int r, int n)
{
    int lo = g - r < 0 ? 0 : g - r, hi = g + r >= n ? n - 1 : g + r;
    return hi - lo + 1;
}

/* MODE 0: p0 = x, p1 = y -> o0 = A, o1 = b.  MODE 1: p0 = A, p1 = b, gx = x -> o0 = out. */
template <int MODE>
__global__ void __launch_bounds__(TX *TY) gf_tile_kernel(const float *__restrict__ p0, const float *__restrict__ p1,
                                                        const float *__restrict__ gx, int h, int w, int c, int r,
                                                        float eps, float *__restrict__ o0, float *__restrict__ o1)
{
    constexpr int NH = MODE == 0 ? 4 : 2; /* horizontal sums kept */
    extern __shared__ float sm[];
    const int HW = TX + 2 * r, HH = TY + 2 * r;
    float *s0 = sm, *s1 = s0 + HH * HW, *hs = s1 + HH * HW; /* hs: NH planes of HH x TX */
    const int ch = blockIdx.z, x0 = blockIdx.x * TX, y0 = blockIdx.y * TY;
    const int tid = threadIdx.y * TX + threadIdx.x, nt = TX * TY;

    for (int i = tid; i < HH * HW; i += nt) {
        int ty = i / HW, tx = i - ty * HW, yy = y0 - r + ty, xx = x0 - r + tx;
        float a = 0.f, b = 0.f;
        if ((unsigned)yy < (unsigned)h && (unsigned)xx < (unsigned)w) {
            size_t q = ((size_t)yy * w + xx) * c + ch;
            a = p0[q];
            b = p1[q];
        }
        s0[i] = a;
        s1[i] = b;
    }
    __syncthreads();
    for (int i = tid; i < HH * TX; i += nt) {
        int row = i / TX, col = i - row * TX;
        const float *a = s0 + row * HW + col, *b = s1 + row * HW + col;
        float h0 = 0.f, h1 = 0.f, h2 = 0.f, h3 = 0.f;
        for (int k = 0; k <= 2 * r; k++) {
            float u = a[k], v = b[k];
            h0 = __fadd_rn(h0, u);
            h1 = __fadd_rn(h1, v);
            if (MODE == 0) {
                h2 = __fadd_rn(h2, __fmul_rn(u, v));
                h3 = __fadd_rn(h3, __fmul_rn(u, u));
            }
        }
        hs[i] = h0;
        hs[HH * TX + i] = h1;
        if (MODE == 0) {
            hs[2 * HH * TX + i] = h2;
            hs[3 * HH * TX + i] = h3;
        }
    }
    __syncthreads();
    const int xx = x0 + threadIdx.x, yy = y0 + threadIdx.y;
    if (xx >= w || yy >= h) return;
    float S[NH];
#pragma unroll
    for (int j = 0; j < NH; j++) S[j] = 0.f;
    for (int k = 0; k <= 2 * r; k++) {
        int i = (threadIdx.y + k) * TX + threadIdx.x;
#pragma unroll
        for (int j = 0; j < NH; j++) S[j] = __fadd_rn(S[j], hs[j * HH * TX + i]);
    }
    const float cnt = (float)(clip_count(yy, r, h) * clip_count(xx, r, w));
    const size_t q = ((size_t)yy * w + xx) * c + ch;
    if (MODE == 0) {
        float mx = S[0] / cnt, my = S[1] / cnt, mxy = S[NH - 2] / cnt, mxx = S[NH - 1] / cnt;
        float cov = __fsub_rn(mxy, __fmul_rn(mx, my));
        float var = __fsub_rn(mxx, __fmul_rn(mx, mx));
        float A = cov / __fadd_rn(var, eps);
        o0[q] = A;
        o1[q] = __fsub_rn(my, __fmul_rn(A, mx));
    } else {
        o0[q] = __fadd_rn(__fmul_rn(S[0] / cnt, gx[q]), S[1] / cnt);
    }
}

/* The same sums straight from global memory, one thread per value, for large radii. */
template <int MODE>
__global__ void gf_direct_kernel(const float *__restrict__ p0, const float *__restrict__ p1,
                                 const float *__restrict__ gx, int h, int w, int c, int r, float eps,
                                 float *__restrict__ o0, float *__restrict__ o1, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t p = i / (size_t)c;
        int ch = (int)(i - p * (size_t)c);
        int yy = (int)(p / (size_t)w), xx = (int)(p % (size_t)w);
        int ylo = yy - r < 0 ? 0 : yy - r, yhi = yy + r >= h ? h - 1 : yy + r;
        int xlo = xx - r < 0 ? 0 : xx - r, xhi = xx + r >= w ? w - 1 : xx + r;
        float S0 = 0.f, S1 = 0.f, S2 = 0.f, S3 = 0.f;
        for (int y = ylo; y <= yhi; y++) {
            float h0 = 0.f, h1 = 0.f, h2 = 0.f, h3 = 0.f;
            for (int x = xlo; x <= xhi; x++) {
                size_t q = ((size_t)y * w + x) * c + ch;
                float u = p0[q], v = p1[q];
                h0 = __fadd_rn(h0, u);
                h1 = __fadd_rn(h1, v);
                if (MODE == 0) {
                    h2 = __fadd_rn(h2, __fmul_rn(u, v));
                    h3 = __fadd_rn(h3, __fmul_rn(u, u));
                }
            }
            S0 = __fadd_rn(S0, h0);
            S1 = __fadd_rn(S1, h1);
            S2 = __fadd_rn(S2, h2);
            S3 = __fadd_rn(S3, h3);
        }
        const float cnt = (float)((yhi - ylo + 1) * (xhi - xlo + 1));
        if (MODE == 0) {
            float mx = S0 / cnt, my = S1 / cnt, mxy = S2 / cnt, mxx = S3 / cnt;
            float cov = __fsub_rn(mxy, __fmul_rn(mx, my));
            float var = __fsub_rn(mxx, __fmul_rn(mx, mx));
            float A = cov / __fadd_rn(var, eps);
            o0[i] = A;
            o1[i] = __fsub_rn(my, __fmul_rn(A, mx));
        } else {
            o0[i] = __fadd_rn(__fmul_rn(S0 / cnt, gx[i]), S1 / cnt);
        }
    }
}

size_t tile_smem(int mode, int r)
{
    size_t hh = TY + 2 * (size_t)r, hw = TX + 2 * (size_t)r;
    return (2 * hh * hw + (mode == 0 ? 4 : 2) * hh * TX) * sizeof(float);
}

} // namespace

size_t ct_cu_guided_filter_scratch(int h, int w, int c) { return 2 * (size_t)h * w * c * sizeof(float); }

cudaError_t ct_cu_guided_filter(const float *x, const float *y, int h, int w, int c, int r, float eps, float *out,
                                float *scratch, cudaStream_t s)
{
    size_t n = (size_t)h * w * c;
    if (!n) return cudaSuccess;
    float *A = scratch, *B = scratch + n;
    if (r <= MAX_TILED_R && (h + TY - 1) / TY <= 65535 && c <= 65535) {
        dim3 block(TX, TY), grid((unsigned)((w + TX - 1) / TX), (unsigned)((h + TY - 1) / TY), (unsigned)c);
        gf_tile_kernel<0><<<grid, block, tile_smem(0, r), s>>>(x, y, nullptr, h, w, c, r, eps, A, B);
        cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
        gf_tile_kernel<1><<<grid, block, tile_smem(1, r), s>>>(A, B, x, h, w, c, r, eps, out, nullptr);
        return cudaGetLastError();
    }
    gf_direct_kernel<0><<<ct_cu_blocks(n), 256, 0, s>>>(x, y, nullptr, h, w, c, r, eps, A, B, n);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return err;
    gf_direct_kernel<1><<<ct_cu_blocks(n), 256, 0, s>>>(A, B, x, h, w, c, r, eps, out, nullptr, n);
    return cudaGetLastError();
}
