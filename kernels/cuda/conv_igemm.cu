/* Convolution as an implicit GEMM on tensor cores (WMMA 16x16x16, fp16 operands, fp32
 * accumulation), for precision FP16. The element type is a template parameter (a bf16
 * instantiation would need only its store helpers and a dispatch; it is left out to keep the
 * build time down).
 *
 * GEMM view: M = output pixels (oh*ow), N = output channels, K = k*k*cin with
 * kk = (ky*k + kx)*cin + ci, the order of the OHWI weights. A block computes a BM x BN tile of
 * the output with 8 warps; K advances in chunks of 32: the A chunk (BM pixels x 32 taps) is
 * gathered straight from the fp32 NHWC input (the im2col happens in registers, converted to
 * 16 bits on the way to shared memory), the B chunk (BN channels x 32) is read from weights
 * prepared once per backend. Two shared-memory stages with register prefetch: the global loads
 * of chunk i+1 are in flight while the tensor cores work on chunk i. The epilogue (bias,
 * activation, residual add and its activation) runs on the accumulators, which are staged
 * through shared memory one 16x16 fragment per warp, and the fp32 result is stored NHWC.
 *
 * Two A gathers: VEC when cin % 32 == 0 (a 32-wide chunk is 32 consecutive channels of one
 * tap: four float4 loads per thread, their pixel coordinates computed once) or when the
 * kernel is 1x1 and cin % 4 == 0 (one tap: the chunk past cin is zeros, a float4 lies wholly
 * inside or outside; the student model's 40- and 80-channel pointwise layers), else a scalar
 * gather for any cin (the 3-channel first layer, concatenations). */
#include <cuda_fp16.h>
#include <mma.h>
#include "cuda_common.cuh"

using namespace nvcuda;

namespace {

constexpr int BK = 32;
constexpr int LDS = BK + 8; /* padded row of a shared tile, in 16-bit elements */
constexpr int THREADS = 256;

__device__ __forceinline__ void store4(__half *d, float4 v)
{
    reinterpret_cast<__half2 *>(d)[0] = __floats2half2_rn(v.x, v.y);
    reinterpret_cast<__half2 *>(d)[1] = __floats2half2_rn(v.z, v.w);
}
__device__ __forceinline__ void store1(__half *d, float v) { *d = __float2half_rn(v); }

template <typename T, int WARPS_M, int FM, int FN, bool VEC>
__global__ void __launch_bounds__(THREADS) conv_igemm_kernel(ct_cu_conv c, const T *__restrict__ wt, int kpad)
{
    constexpr int WARPS_N = 8 / WARPS_M;
    constexpr int WM = FM * 16, WN = FN * 16;
    constexpr int BM = WARPS_M * WM, BN = WARPS_N * WN;
    constexpr int A_STAGE = BM * LDS, B_STAGE = BN * LDS; /* elements */
    constexpr int A_VEC = BM * BK / 4 / THREADS;         /* float4 per thread (VEC) */
    constexpr int A_SCALAR = BM * BK / THREADS;          /* floats per thread (scalar) */
    constexpr int B_LOADS = (BN * BK / 8 + THREADS - 1) / THREADS; /* uint4 per thread */
    static_assert(BM * BK % (4 * THREADS) == 0, "A tile split");
    static_assert(THREADS / 8 * A_VEC == BM, "VEC rows");
    static_assert(A_STAGE * sizeof(T) >= 8 * 256 * sizeof(float), "epilogue staging fits in A stage 0");

    __shared__ __align__(128) unsigned char smem[2 * (A_STAGE + B_STAGE) * sizeof(T)];
    T *sA = reinterpret_cast<T *>(smem);
    T *sB = sA + 2 * A_STAGE;

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int wm = warp % WARPS_M, wn = warp / WARPS_M;
    const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
    const int P = c.oh * c.ow, K = c.k * c.k * c.cin, nk = kpad / BK;
    const float *__restrict__ in = c.in;

    /* VEC: rows (pixels) this thread loads; their top-left input coordinates */
    int vy[VEC ? A_VEC : 1], vx[VEC ? A_VEC : 1];
    const int col4 = tid & 7;
    if constexpr (VEC) {
#pragma unroll
        for (int j = 0; j < A_VEC; j++) {
            int m = m0 + (tid >> 3) + (THREADS / 8) * j;
            if (m < P) {
                int oy = m / c.ow, ox = m - oy * c.ow;
                vy[j] = oy * c.stride - c.pad_top;
                vx[j] = ox * c.stride - c.pad_left;
            } else {
                vy[j] = -(1 << 28); /* never in the image */
                vx[j] = 0;
            }
        }
    }

    float4 ra[VEC ? A_VEC : 1];
    float rs[VEC ? 1 : A_SCALAR];
    uint4 rb[B_LOADS];

    auto load_global = [&](int kc) {
        const int k0 = kc * BK;
        if constexpr (VEC) {
            const int tap = k0 / c.cin, ci0 = k0 - tap * c.cin;
            const int ky = tap / c.k, kx = tap - ky * c.k;
            const bool cok = ci0 + col4 * 4 < c.cin; /* false only past cin of a 1x1 kernel */
#pragma unroll
            for (int j = 0; j < A_VEC; j++) {
                int iy = vy[j] + ky, ix = vx[j] + kx;
                if (cok && (unsigned)iy < (unsigned)c.h && (unsigned)ix < (unsigned)c.w)
                    ra[j] = __ldg(reinterpret_cast<const float4 *>(
                        in + ((size_t)iy * c.w + ix) * c.cin + ci0 + col4 * 4));
                else
                    ra[j] = make_float4(0.f, 0.f, 0.f, 0.f);
            }
        } else {
            const int kk = k0 + lane; /* the column this thread gathers: fixed per chunk */
            int ky = 0, kx = 0, ci = 0;
            const bool kok = kk < K;
            if (kok) {
                int tap = kk / c.cin;
                ci = kk - tap * c.cin;
                ky = tap / c.k;
                kx = tap - ky * c.k;
            }
#pragma unroll
            for (int j = 0; j < A_SCALAR; j++) {
                int m = m0 + warp + 8 * j;
                float v = 0.f;
                if (kok && m < P) {
                    int oy = m / c.ow, ox = m - oy * c.ow;
                    int iy = oy * c.stride - c.pad_top + ky, ix = ox * c.stride - c.pad_left + kx;
                    if ((unsigned)iy < (unsigned)c.h && (unsigned)ix < (unsigned)c.w)
                        v = __ldg(in + ((size_t)iy * c.w + ix) * c.cin + ci);
                }
                rs[j] = v;
            }
        }
#pragma unroll
        for (int j = 0; j < B_LOADS; j++) {
            int idx = tid + THREADS * j;
            if (idx < BN * BK / 8) {
                int n = idx >> 2, q = idx & 3;
                rb[j] = __ldg(reinterpret_cast<const uint4 *>(wt + (size_t)(n0 + n) * kpad + k0 + q * 8));
            }
        }
    };

    auto store_shared = [&](int stage) {
        T *a = sA + stage * A_STAGE;
        T *b = sB + stage * B_STAGE;
        if constexpr (VEC) {
#pragma unroll
            for (int j = 0; j < A_VEC; j++) store4(a + ((tid >> 3) + (THREADS / 8) * j) * LDS + col4 * 4, ra[j]);
        } else {
#pragma unroll
            for (int j = 0; j < A_SCALAR; j++) store1(a + (warp + 8 * j) * LDS + lane, rs[j]);
        }
#pragma unroll
        for (int j = 0; j < B_LOADS; j++) {
            int idx = tid + THREADS * j;
            if (idx < BN * BK / 8) {
                int n = idx >> 2, q = idx & 3;
                *reinterpret_cast<uint4 *>(b + n * LDS + q * 8) = rb[j];
            }
        }
    };

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++) wmma::fill_fragment(acc[i][j], 0.f);

    load_global(0);
    store_shared(0);
    __syncthreads();
    for (int kc = 0; kc < nk; kc++) {
        const int cur = kc & 1;
        if (kc + 1 < nk) load_global(kc + 1);
        const T *a = sA + cur * A_STAGE + wm * WM * LDS;
        const T *b = sB + cur * B_STAGE + wn * WN * LDS;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa[FM];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb[FN];
#pragma unroll
            for (int i = 0; i < FM; i++) wmma::load_matrix_sync(fa[i], a + i * 16 * LDS + kk, LDS);
#pragma unroll
            for (int j = 0; j < FN; j++) wmma::load_matrix_sync(fb[j], b + j * 16 * LDS + kk, LDS);
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < FN; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        if (kc + 1 < nk) store_shared(cur ^ 1);
        __syncthreads();
    }

    /* Epilogue: each warp stages one fragment at a time in its own 16x16 floats. The loop
     * above ended with a barrier, so stage 0 of A is free. */
    float *stage = reinterpret_cast<float *>(smem) + warp * 256;
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++) {
            wmma::store_matrix_sync(stage, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
#pragma unroll
            for (int t = 0; t < 8; t++) {
                int e = lane + 32 * t, r = e >> 4, cc = e & 15;
                int m = m0 + wm * WM + i * 16 + r, n = n0 + wn * WN + j * 16 + cc;
                if (m < P && n < c.cout) {
                    size_t o = (size_t)m * c.cout + n;
                    c.out[o] = ct_cu_epi(c, stage[e], n, o);
                }
            }
            __syncwarp();
        }
}

template <typename T, int WARPS_M, int FM, int FN>
cudaError_t launch(const ct_cu_conv *c, const void *wt, int kpad, cudaStream_t s)
{
    constexpr int WARPS_N = 8 / WARPS_M;
    constexpr int BM = WARPS_M * FM * 16, BN = WARPS_N * FN * 16;
    static_assert(CT_CU_COUT_PAD % BN == 0, "weights are padded for every BN");
    size_t P = (size_t)c->oh * c->ow;
    dim3 grid((unsigned)((P + BM - 1) / BM), (unsigned)((c->cout + BN - 1) / BN));
    const T *w = static_cast<const T *>(wt);
    if (c->cin % BK == 0 || (c->k == 1 && c->cin % 4 == 0))
        conv_igemm_kernel<T, WARPS_M, FM, FN, true><<<grid, THREADS, 0, s>>>(*c, w, kpad);
    else
        conv_igemm_kernel<T, WARPS_M, FM, FN, false><<<grid, THREADS, 0, s>>>(*c, w, kpad);
    return cudaGetLastError();
}

template <typename T>
cudaError_t dispatch(const ct_cu_conv *c, const void *wt, int kpad, cudaStream_t s)
{
    /* BN follows cout so few tensor-core columns are wasted; BM is 128 in every shape. */
    if (c->cout <= 16) return launch<T, 8, 1, 1>(c, wt, kpad, s);   /* 128 x 16 */
    if (c->cout <= 32) return launch<T, 4, 2, 1>(c, wt, kpad, s);   /* 128 x 32 */
    if (c->cout <= 64) return launch<T, 4, 2, 2>(c, wt, kpad, s);   /* 128 x 64 */
    return launch<T, 2, 4, 2>(c, wt, kpad, s);                      /* 128 x 128 */
}

} // namespace

cudaError_t ct_cu_conv_igemm(const ct_cu_conv *c, const void *wt, int kpad, cudaStream_t s)
{
    if ((size_t)c->oh * c->ow == 0) return cudaSuccess;
    return dispatch<__half>(c, wt, kpad, s);
}
