/* Depthwise convolution (NHWC float32) with the conv epilogue fused.
 *
 * 3x3, stride 1 or 2 (the depthwise-separable blocks of the student model): one thread
 * computes XT = 4 neighbouring output pixels of one row for V = 4 channels (float4; V = 1 when
 * a channel count or offset is not a multiple of 4). The input columns those outputs share
 * are loaded once per kernel row ((XT-1)*stride + 3 of them instead of 3*XT), the nine taps'
 * weights stay in registers, and consecutive threads take consecutive channel groups of the
 * same pixels so a warp's loads and stores are contiguous. Any other kernel size or stride
 * takes a plain one-output-per-thread loop.
 *
 * Every path adds the taps in the CPU kernel's order (kernels/cpu/conv_depthwise.c: ky outer,
 * kx inner, taps outside the image skipped, then the bias) with rounded operations, no FMA
 * contraction, so it gives the CPU's result bit for bit.
 *
 * Parts (ct_cu_depthwise_part): a band of output rows, written from the start of the output
 * buffer (the band a fused pointwise then reads), and a channel slice: a depthwise over a
 * concatenation reads each input where its producer left it and writes the output's channel
 * range, so the concatenation itself is never stored. */
#include "cuda_common.cuh"

namespace {

constexpr int XT = 4;
constexpr int THREADS = 256;

struct dw_args {
    const float *in;   /* in_cs floats per pixel, of which channels [0, c) are read */
    float *out;        /* out_cs floats per pixel, channels [c0, c0 + c) written */
    const float *w;    /* [k][k][w_cs]: channel c0 + j of the filter reads input channel j */
    const float *bias; /* [w_cs] or NULL */
    const float *res;  /* like out, or NULL */
    int h, w_, oh, ow, k, stride, pad_top, pad_left;
    int oy0;           /* output rows [oy0, oy0 + oh) are computed; out's row 0 is oy0 */
    int c, c0, in_cs, out_cs, w_cs;
    int act;
    float alpha;
    int post_act;
    float post_alpha;
};

template <int V> struct vec;
template <> struct vec<1> {
    typedef float t;
    static __device__ __forceinline__ t load(const float *p) { return __ldg(p); }
    static __device__ __forceinline__ void store(float *p, t v) { *p = v; }
    static __device__ __forceinline__ float &at(t &v, int) { return v; }
    static __device__ __forceinline__ t zero() { return 0.f; }
};
template <> struct vec<4> {
    typedef float4 t;
    static __device__ __forceinline__ t load(const float *p) { return __ldg(reinterpret_cast<const float4 *>(p)); }
    static __device__ __forceinline__ void store(float *p, t v) { *reinterpret_cast<float4 *>(p) = v; }
    static __device__ __forceinline__ float &at(t &v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }
    static __device__ __forceinline__ t zero() { return make_float4(0.f, 0.f, 0.f, 0.f); }
};

/* The epilogue of V channels starting at channel ch (of the filter) for output element o. */
template <int V>
__device__ __forceinline__ typename vec<V>::t epilogue(const dw_args &a, typename vec<V>::t acc, int ch, size_t o)
{
    typedef vec<V> X;
    typename X::t r = X::zero();
    if (a.res) r = X::load(a.res + o);
#pragma unroll
    for (int i = 0; i < V; i++) {
        float v = X::at(acc, i);
        if (a.bias) v = __fadd_rn(v, __ldg(a.bias + ch + i));
        v = ct_cu_act(v, a.act, a.alpha);
        if (a.res) v = ct_cu_act(__fadd_rn(v, X::at(r, i)), a.post_act, a.post_alpha);
        X::at(acc, i) = v;
    }
    return acc;
}

template <int S, int V>
__global__ void __launch_bounds__(THREADS) dw3x3_kernel(dw_args a, size_t total)
{
    typedef vec<V> X;
    typedef typename X::t T;
    constexpr int NCOL = (XT - 1) * S + 3;
    const int G = a.c / V;
    const int strips = (a.ow + XT - 1) / XT;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int g = (int)(i % (size_t)G);
        const size_t r = i / (size_t)G;
        const int strip = (int)(r % (size_t)strips), ly = (int)(r / (size_t)strips), oy = a.oy0 + ly;
        const int ch = g * V;          /* input channel */
        const int fch = a.c0 + ch;     /* filter / output channel */
        const int ox0 = strip * XT;
        const int ix0 = ox0 * S - a.pad_left;

        T wt[9];
#pragma unroll
        for (int t = 0; t < 9; t++) wt[t] = X::load(a.w + (size_t)t * a.w_cs + fch);

        T acc[XT];
#pragma unroll
        for (int j = 0; j < XT; j++) acc[j] = X::zero();

#pragma unroll
        for (int ky = 0; ky < 3; ky++) {
            const int iy = oy * S - a.pad_top + ky;
            if ((unsigned)iy >= (unsigned)a.h) continue;
            const float *row = a.in + (size_t)iy * a.w_ * a.in_cs + ch;
            T col[NCOL];
#pragma unroll
            for (int q = 0; q < NCOL; q++) {
                const int ix = ix0 + q;
                col[q] = (unsigned)ix < (unsigned)a.w_ ? X::load(row + (size_t)ix * a.in_cs) : X::zero();
            }
#pragma unroll
            for (int j = 0; j < XT; j++)
#pragma unroll
                for (int kx = 0; kx < 3; kx++) {
                    const int q = j * S + kx;
                    if ((unsigned)(ix0 + q) >= (unsigned)a.w_) continue; /* skipped, as the CPU does */
#pragma unroll
                    for (int e = 0; e < V; e++)
                        X::at(acc[j], e) = __fadd_rn(X::at(acc[j], e), __fmul_rn(X::at(col[q], e), X::at(wt[ky * 3 + kx], e)));
                }
        }
#pragma unroll
        for (int j = 0; j < XT; j++) {
            const int ox = ox0 + j;
            if (ox >= a.ow) break;
            const size_t o = ((size_t)ly * a.ow + ox) * a.out_cs + fch;
            X::store(a.out + o, epilogue<V>(a, acc[j], fch, o));
        }
    }
}

/* Any kernel size and stride: one output value per thread. */
__global__ void dw_generic_kernel(dw_args a, size_t total)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t p = i / (size_t)a.c;
        const int ch = (int)(i - p * (size_t)a.c), fch = a.c0 + ch;
        const int oy = a.oy0 + (int)(p / (size_t)a.ow), ox = (int)(p % (size_t)a.ow);
        float acc = 0.f;
        for (int ky = 0; ky < a.k; ky++) {
            const int iy = oy * a.stride + ky - a.pad_top;
            if ((unsigned)iy >= (unsigned)a.h) continue;
            for (int kx = 0; kx < a.k; kx++) {
                const int ix = ox * a.stride + kx - a.pad_left;
                if ((unsigned)ix >= (unsigned)a.w_) continue;
                acc = __fadd_rn(acc, __fmul_rn(__ldg(a.in + ((size_t)iy * a.w_ + ix) * a.in_cs + ch),
                                               __ldg(a.w + ((size_t)ky * a.k + kx) * a.w_cs + fch)));
            }
        }
        const size_t o = p * a.out_cs + fch;
        a.out[o] = epilogue<1>(a, acc, fch, o);
    }
}

bool aligned16(const void *p) { return (reinterpret_cast<size_t>(p) & 15) == 0; }

cudaError_t launch(const dw_args &a, cudaStream_t s)
{
    if ((size_t)a.oh * a.ow * a.c == 0) return cudaSuccess;
    if (a.k == 3 && (a.stride == 1 || a.stride == 2)) {
        const bool v4 = a.c % 4 == 0 && a.c0 % 4 == 0 && a.in_cs % 4 == 0 && a.out_cs % 4 == 0 && a.w_cs % 4 == 0 &&
                        aligned16(a.in) && aligned16(a.out) && aligned16(a.w) && (!a.res || aligned16(a.res));
        const size_t strips = (size_t)(a.ow + XT - 1) / XT;
        const size_t total = (size_t)a.oh * strips * (size_t)(v4 ? a.c / 4 : a.c);
        const unsigned blocks = ct_cu_blocks(total);
        if (a.stride == 1) {
            if (v4) dw3x3_kernel<1, 4><<<blocks, THREADS, 0, s>>>(a, total);
            else dw3x3_kernel<1, 1><<<blocks, THREADS, 0, s>>>(a, total);
        } else {
            if (v4) dw3x3_kernel<2, 4><<<blocks, THREADS, 0, s>>>(a, total);
            else dw3x3_kernel<2, 1><<<blocks, THREADS, 0, s>>>(a, total);
        }
    } else {
        const size_t total = (size_t)a.oh * a.ow * a.c;
        dw_generic_kernel<<<ct_cu_blocks(total), THREADS, 0, s>>>(a, total);
    }
    return cudaGetLastError();
}

dw_args args_of(const ct_cu_conv *c, const float *w)
{
    dw_args a;
    a.in = c->in;
    a.out = c->out;
    a.w = w;
    a.bias = c->bias;
    a.res = c->res;
    a.h = c->h; a.w_ = c->w; a.oh = c->oh; a.ow = c->ow; a.oy0 = 0;
    a.k = c->k; a.stride = c->stride; a.pad_top = c->pad_top; a.pad_left = c->pad_left;
    a.c = c->cout; a.c0 = 0; a.in_cs = c->cin; a.out_cs = c->cout; a.w_cs = c->cout;
    a.act = c->act; a.alpha = c->alpha; a.post_act = c->post_act; a.post_alpha = c->post_alpha;
    return a;
}

} // namespace

cudaError_t ct_cu_depthwise(const ct_cu_conv *c, const float *w, cudaStream_t s)
{
    if (c->cin != c->cout) return cudaErrorInvalidValue;
    return launch(args_of(c, w), s);
}

cudaError_t ct_cu_depthwise_part(const ct_cu_conv *c, const float *w, const float *in, int in_c, int c0, int oy0,
                                 int rows, cudaStream_t s)
{
    if (in_c < 1 || c0 < 0 || c0 + in_c > c->cout || oy0 < 0 || rows < 0 || oy0 + rows > c->oh)
        return cudaErrorInvalidValue;
    dw_args a = args_of(c, w);
    a.in = in;
    a.c = in_c;
    a.c0 = c0;
    a.in_cs = in_c;
    a.oy0 = oy0;
    a.oh = rows;
    return launch(a, s);
}
