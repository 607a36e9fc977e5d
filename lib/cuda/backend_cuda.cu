/* The CUDA backend: the same graph and plan as the CPU backend, run on one GPU.
 *
 * Memory (all per backend, that is per context): one device arena of plan->arena_bytes for
 * the activations (fp32 NHWC, the CPU's layout, so write/read are plain copies) and the
 * outputs of fused depthwise convolutions, one device scratch buffer for the hungriest node
 * (im2col bands, the cuDNN workspace, the guided filter's coefficient planes), the model's
 * weights uploaded once on the first reserve (fp32 copies always; fp16 copies padded for the
 * tensor-core kernel when the precision is FP16), and a pinned host buffer through which
 * write/read stage with cudaMemcpyAsync. Each
 * grows only when a plan needs more. A device_memory_budget bounds arena + scratch + weights:
 * im2col bands shrink to fit it, and a plan that cannot fit fails with CARTOON_E_LIMIT.
 *
 * Work is queued on the backend's own stream; run() does not wait. read() and sync() wait,
 * and report a fault of any earlier kernel.
 *
 * Convolution paths (per conv2d node, chosen in reserve):
 *   precision FP32, any conv option       im2col + cublasSgemm (fp32 FMA math, no TF32),
 *                                         then the epilogue kernel (bias, act, residual)
 *   precision FP16, conv AUTO / FAST      implicit GEMM on tensor cores (conv_igemm.cu), fp16
 *                                         operands, fp32 accumulation, fused epilogue
 *   precision FP16, conv IM2COL           the exact fp32 cuBLAS path (IM2COL is "the exact
 *                                         reference path" in cartoon.h)
 *   CARTOON_CUDA_CONV=cudnn (environment) cudnnConvolutionForward (conv_cudnn.cu), NHWC fp32
 *                                         tensors, FMA math for FP32, tensor-op math with
 *                                         conversion for FP16, then the epilogue kernel; only
 *                                         for convolutions whose SAME padding is symmetric
 *                                         (cuDNN has no asymmetric padding): the stride-2 convs
 *                                         on even sizes take the precision's default path. In a
 *                                         build without cuDNN this request is UNSUPPORTED.
 *   CARTOON_CUDA_CONV=cublas              the cuBLAS path whatever the precision
 * A 1x1 stride-1 conv (pointwise) skips im2col: one cublasSgemm over the NHWC input, then the
 * epilogue kernel (float4 when cout % 4 == 0); the FP16 kernel reads its input with float4 loads.
 * Precision BF16 is a CPU option: creating the backend with it fails with CARTOON_E_UNSUPPORTED
 * (device AUTO then falls back to the CPU).
 * Depthwise conv (depthwise.cu: its own kernel for 3x3 stride 1 and 2), add, concat, upsample
 * (+ fused skip) and the guided filter are fp32 kernels (elementwise.cu, guided_filter.cu) that
 * compute what the CPU computes.
 *
 * Fusion (ct_fusion_caps, plan.h): a conv with the add that follows it (residual epilogue), an
 * upsample with its skip add (written over the skip), and the depthwise-separable chains of the
 * student model: a depthwise fused into the pointwise that reads it writes its output, a band
 * of rows at a time, to the chain's scratch in the arena (cuda_scratch: planned with the
 * tensors' lifetimes, so it reuses dead tensors' memory and the cost model counts it), and the
 * pointwise GEMM (cuBLAS, or the FP16 kernel; never cuDNN) reads each band from there; when the
 * depthwise reads a concat, the concat is never stored: the depthwise convolves each of its
 * inputs, where its producer left it, into that input's channel range of the band. */
#include <cublas_v2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conv_cudnn.h"
#include "cuda_common.cuh"

extern "C" {
#include "half.h"
}

namespace {

enum conv_path { PATH_NONE = 0, PATH_CUBLAS, PATH_IGEMM, PATH_CUDNN };
enum conv_pref { PREF_DEFAULT = 0, PREF_CUBLAS, PREF_CUDNN };

constexpr size_t DEFAULT_TILE = 256u << 20;     /* im2col band cap */
constexpr size_t CUDNN_WORKSPACE_CAP = 512u << 20;
constexpr size_t WALIGN = 256;

struct node_weights {
    float *w32, *b32; /* conv2d [cout][k][k][cin]; depthwise [k][k][c]; bias [cout] */
    void *w16;        /* conv2d, FP16: [round_up(cout, CT_CU_COUT_PAD)][kpad] */
    int kpad;
};

struct node_conf {
    int path;
    int algo; /* cuDNN's */
    size_t workspace;
};

struct cuda_backend {
    ct_backend base;
    ct_backend_config cfg;
    int device;
    int lowp; /* 0 fp32, 1 fp16 */
    int pref;
    cudaStream_t stream;
    cudaEvent_t staged; /* the last host-to-device copy out of the pinned buffer is done */
    cublasHandle_t cublas;
    ct_cudnn *cudnn; /* only with CARTOON_CUDA_CONV=cudnn */

    const cartoon_model *wmodel; /* the model whose weights are uploaded */
    unsigned char *wmem;
    size_t wbytes;
    node_weights *nw;
    node_conf *conf;
    int n_nodes;

    unsigned char *arena;
    size_t arena_cap;
    unsigned char *scratch;
    size_t scratch_cap;
    size_t tile_bytes;
    float *pinned;
    size_t pinned_cap;
};

size_t round_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

cartoon_status cu_fail(ct_err *e, cudaError_t err, const char *where, const char *what)
{
    cartoon_status st = err == cudaErrorMemoryAllocation ? CARTOON_E_OUT_OF_MEMORY : CARTOON_E_DEVICE;
    cudaGetLastError(); /* clear a non-sticky error so the context stays usable */
    return ct_fail(e, st, "CUDA %s: %s failed: %s (%s)", where, what, cudaGetErrorString(err), cudaGetErrorName(err));
}

#define CU(call, what)                                                                  \
    do {                                                                                \
        cudaError_t err_ = (call);                                                      \
        if (err_ != cudaSuccess) return cu_fail(e, err_, where, what);                  \
    } while (0)
#define CUBLAS(call, what)                                                              \
    do {                                                                                \
        cublasStatus_t st_ = (call);                                                    \
        if (st_ != CUBLAS_STATUS_SUCCESS)                                               \
            return ct_fail(e, CARTOON_E_DEVICE, "CUDA %s: %s failed: %s", where, what,   \
                           cublasGetStatusString(st_));                                 \
    } while (0)

unsigned char *tensor(cuda_backend *b, const ct_plan *p, int i) { return b->arena + p->t[p->t[i].store].offset; }
float *ftensor(cuda_backend *b, const ct_plan *p, int i) { return reinterpret_cast<float *>(tensor(b, p, i)); }

size_t tensor_bytes(const ct_tensor_plan *t) { return (size_t)t->h * t->w * t->c * sizeof(float); }

/* ------------------------------------------------------------------ weights */

cartoon_status upload_weights(cuda_backend *b, const cartoon_model *m, ct_err *e)
{
    const char *where = "weights";
    if (b->wmodel == m) return CARTOON_OK;
    if (b->wmem) { cudaFree(b->wmem); b->wmem = NULL; }
    free(b->nw);
    b->wmodel = NULL;
    b->wbytes = 0;
    b->nw = static_cast<node_weights *>(calloc((size_t)m->n_nodes, sizeof *b->nw));
    if (!b->nw) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the CUDA weight table");

    /* offsets first (stored as offsets in the pointers' places), then one allocation */
    size_t off = 0;
    size_t *o32 = static_cast<size_t *>(calloc((size_t)m->n_nodes * 3, sizeof(size_t)));
    if (!o32) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the CUDA weight table");
    for (int i = 0; i < m->n_nodes; i++) {
        const ct_node *n = &m->nodes[i];
        size_t wn, bn = (size_t)n->channels;
        if (n->op == OP_CONV2D) wn = (size_t)n->channels * n->kernel * n->kernel * n->cin;
        else if (n->op == OP_DEPTHWISE_CONV2D) wn = (size_t)n->kernel * n->kernel * n->channels;
        else continue;
        o32[3 * i] = off;
        off = round_up(off + wn * sizeof(float), WALIGN);
        o32[3 * i + 1] = off;
        off = round_up(off + bn * sizeof(float), WALIGN);
        if (n->op == OP_CONV2D && b->lowp) {
            int kpad = (int)round_up((size_t)n->kernel * n->kernel * n->cin, CT_CU_KPAD);
            b->nw[i].kpad = kpad;
            o32[3 * i + 2] = off;
            off = round_up(off + round_up((size_t)n->channels, CT_CU_COUT_PAD) * kpad * sizeof(uint16_t), WALIGN);
        }
    }
    if (b->cfg.memory_budget && off > b->cfg.memory_budget) {
        free(o32);
        return ct_fail(e, CARTOON_E_LIMIT, "the model's weights need %zu bytes of GPU memory, over the device_memory_budget of %llu",
                       off, (unsigned long long)b->cfg.memory_budget);
    }
    unsigned char *host = static_cast<unsigned char *>(calloc(off ? off : 1, 1));
    if (!host) { free(o32); return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory to stage %zu bytes of weights", off); }
    for (int i = 0; i < m->n_nodes; i++) {
        const ct_node *n = &m->nodes[i];
        if (n->op != OP_CONV2D && n->op != OP_DEPTHWISE_CONV2D) continue;
        size_t K = (size_t)n->kernel * n->kernel * (n->op == OP_CONV2D ? n->cin : 1);
        size_t wn = (size_t)n->channels * K;
        memcpy(host + o32[3 * i], n->weight, wn * sizeof(float));
        if (n->bias) memcpy(host + o32[3 * i + 1], n->bias, (size_t)n->channels * sizeof(float));
        if (n->op == OP_CONV2D && b->lowp) {
            uint16_t *d = reinterpret_cast<uint16_t *>(host + o32[3 * i + 2]);
            size_t kpad = (size_t)b->nw[i].kpad;
            for (int co = 0; co < n->channels; co++)
                for (size_t kk = 0; kk < K; kk++) {
                    float v = n->weight[co * K + kk];
                    d[co * kpad + kk] = ct_float_to_half(v);
                }
        }
    }
    cudaError_t err = cudaMalloc(reinterpret_cast<void **>(&b->wmem), off ? off : 1);
    /* On the backend's own stream, then waited for: a plain cudaMemcpy from pageable memory
     * runs on the legacy default stream, which the non-blocking stream the kernels use does
     * not wait for, and may return before the DMA has read all of host. */
    if (err == cudaSuccess) err = cudaMemcpyAsync(b->wmem, host, off, cudaMemcpyHostToDevice, b->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(b->stream);
    free(host);
    if (err != cudaSuccess) {
        free(o32);
        if (b->wmem) { cudaFree(b->wmem); b->wmem = NULL; }
        return cu_fail(e, err, where, "uploading the weights");
    }
    for (int i = 0; i < m->n_nodes; i++) {
        const ct_node *n = &m->nodes[i];
        if (n->op != OP_CONV2D && n->op != OP_DEPTHWISE_CONV2D) continue;
        b->nw[i].w32 = reinterpret_cast<float *>(b->wmem + o32[3 * i]);
        b->nw[i].b32 = n->bias ? reinterpret_cast<float *>(b->wmem + o32[3 * i + 1]) : NULL;
        b->nw[i].w16 = n->op == OP_CONV2D && b->lowp ? b->wmem + o32[3 * i + 2] : NULL;
    }
    free(o32);
    b->wbytes = off;
    b->wmodel = m;
    return CARTOON_OK;
}

/* ------------------------------------------------------------------ planning */

void conv_geometry(const ct_node *n, const ct_tensor_plan *src, ct_conv_shape *s)
{
    int cin = n->op == OP_CONV2D ? n->cin : src->c;
    ct_conv_shape_init(s, src->h, src->w, cin, n->channels, n->kernel, n->stride);
}

int symmetric_padding(const ct_conv_shape *s)
{
    int th = (s->oh - 1) * s->stride + s->k - s->h, tw = (s->ow - 1) * s->stride + s->k - s->w;
    if (th < 0) th = 0;
    if (tw < 0) tw = 0;
    return th == 2 * s->pad_top && tw == 2 * s->pad_left;
}

size_t im2col_rows(const ct_conv_shape *s, size_t tile)
{
    size_t row = (size_t)s->ow * s->k * s->k * s->cin * sizeof(float);
    size_t rows = row ? tile / row : 1;
    if (rows < 1) rows = 1;
    if (rows > (size_t)s->oh) rows = (size_t)s->oh;
    return rows;
}

int conv_is_pointwise(const ct_conv_shape *s) { return s->k == 1 && s->stride == 1; }

cartoon_status cuda_reserve(ct_backend *be, const cartoon_model *m, const ct_plan *p, ct_err *e)
{
    cuda_backend *b = reinterpret_cast<cuda_backend *>(be);
    const char *where = "reserve";
    CU(cudaSetDevice(b->device), "cudaSetDevice");
    cartoon_status st = upload_weights(b, m, e);
    if (st) return st;
    if (b->n_nodes != m->n_nodes) {
        free(b->conf);
        b->conf = static_cast<node_conf *>(calloc((size_t)m->n_nodes, sizeof *b->conf));
        b->n_nodes = b->conf ? m->n_nodes : 0;
        if (!b->conf) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the CUDA plan");
    }
    const uint64_t budget = b->cfg.memory_budget;
    const size_t fixed = p->arena_bytes + b->wbytes;
    if (budget && fixed > budget)
        return ct_fail(e, CARTOON_E_LIMIT,
                       "a %dx%d input needs %zu bytes of GPU memory for its activations plus %zu for the weights, over the device_memory_budget of %llu",
                       p->pw, p->ph, p->arena_bytes, b->wbytes, (unsigned long long)budget);
    const size_t avail = budget ? (size_t)(budget - fixed) : SIZE_MAX;
    const size_t tile = avail < DEFAULT_TILE ? avail : DEFAULT_TILE;
    size_t need = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const ct_node *n = &m->nodes[i];
        node_conf *nc = &b->conf[i];
        memset(nc, 0, sizeof *nc);
        if (n->op == OP_CONV2D) {
            ct_conv_shape s;
            conv_geometry(n, &p->t[n->in[0]], &s);
            /* a pointwise reading a fused depthwise's band takes a GEMM (run_dw_pw) */
            const int after_dw = i > 0 && p->t[i - 1].fused && m->nodes[i - 1].op == OP_DEPTHWISE_CONV2D;
            if (b->pref == PREF_CUDNN && symmetric_padding(&s) && !after_dw) {
                size_t lim = avail < CUDNN_WORKSPACE_CAP ? avail : CUDNN_WORKSPACE_CAP;
                if ((st = ct_cudnn_plan(b->cudnn, &s, b->lowp, lim, &nc->algo, &nc->workspace, n->name, e))) return st;
                nc->path = PATH_CUDNN;
                if (nc->workspace > need) need = nc->workspace;
            } else if (b->lowp && b->pref != PREF_CUBLAS && b->cfg.conv != CARTOON_CONV_IM2COL) {
                nc->path = PATH_IGEMM;
            } else {
                nc->path = PATH_CUBLAS;
                if (!conv_is_pointwise(&s)) {
                    size_t row = (size_t)s.ow * s.k * s.k * s.cin * sizeof(float);
                    if (row > avail)
                        return ct_fail(e, CARTOON_E_LIMIT,
                                       "node '%s': one im2col row of %zu bytes does not fit the device_memory_budget of %llu (%zu left after activations and weights)",
                                       n->name, row, (unsigned long long)budget, avail);
                    size_t bytes = im2col_rows(&s, tile) * row;
                    if (bytes > need) need = bytes;
                }
            }
        } else if (n->op == OP_GUIDED_FILTER) {
            const ct_tensor_plan *t = &p->t[i];
            size_t g = ct_cu_guided_filter_scratch(t->h, t->w, t->c);
            if (g > avail)
                return ct_fail(e, CARTOON_E_LIMIT,
                               "node '%s': the guided filter's %zu bytes of scratch do not fit the device_memory_budget of %llu (%zu left after activations and weights)",
                               n->name, g, (unsigned long long)budget, avail);
            if (g > need) need = g;
        }
    }
    b->tile_bytes = tile;
    /* Under a budget, memory kept from a larger earlier plan is given back when keeping it
     * would exceed the budget with this plan's needs. */
    if (budget) {
        size_t keep_a = b->arena_cap > p->arena_bytes ? b->arena_cap : p->arena_bytes;
        size_t keep_s = b->scratch_cap > need ? b->scratch_cap : need;
        if (keep_a + keep_s + b->wbytes > budget) {
            CU(cudaStreamSynchronize(b->stream), "waiting for queued work");
            if (b->arena) cudaFree(b->arena);
            if (b->scratch) cudaFree(b->scratch);
            b->arena = b->scratch = NULL;
            b->arena_cap = b->scratch_cap = 0;
        }
    }
    if (p->arena_bytes > b->arena_cap) {
        CU(cudaStreamSynchronize(b->stream), "waiting for queued work");
        if (b->arena) cudaFree(b->arena);
        b->arena = NULL;
        b->arena_cap = 0;
        cudaError_t err = cudaMalloc(reinterpret_cast<void **>(&b->arena), p->arena_bytes);
        if (err != cudaSuccess) {
            b->arena = NULL;
            cudaGetLastError();
            return ct_fail(e, err == cudaErrorMemoryAllocation ? CARTOON_E_OUT_OF_MEMORY : CARTOON_E_DEVICE,
                           "CUDA: no GPU memory for a %zu-byte activation arena (%dx%d input): %s", p->arena_bytes,
                           p->pw, p->ph, cudaGetErrorString(err));
        }
        b->arena_cap = p->arena_bytes;
    }
    if (need > b->scratch_cap) {
        CU(cudaStreamSynchronize(b->stream), "waiting for queued work");
        if (b->scratch) cudaFree(b->scratch);
        b->scratch = NULL;
        b->scratch_cap = 0;
        cudaError_t err = cudaMalloc(reinterpret_cast<void **>(&b->scratch), need);
        if (err != cudaSuccess) {
            b->scratch = NULL;
            cudaGetLastError();
            return ct_fail(e, err == cudaErrorMemoryAllocation ? CARTOON_E_OUT_OF_MEMORY : CARTOON_E_DEVICE,
                           "CUDA: no GPU memory for %zu bytes of scratch: %s", need, cudaGetErrorString(err));
        }
        b->scratch_cap = need;
    }
    return CARTOON_OK;
}

/* ------------------------------------------------------------------ transfers */

cartoon_status ensure_pinned(cuda_backend *b, size_t bytes, ct_err *e)
{
    const char *where = "staging";
    if (bytes <= b->pinned_cap) return CARTOON_OK;
    CU(cudaStreamSynchronize(b->stream), "waiting for queued copies");
    if (b->pinned) cudaFreeHost(b->pinned);
    b->pinned = NULL;
    b->pinned_cap = 0;
    cudaError_t err = cudaHostAlloc(reinterpret_cast<void **>(&b->pinned), bytes, cudaHostAllocDefault);
    if (err != cudaSuccess) {
        b->pinned = NULL;
        cudaGetLastError();
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "CUDA: no pinned host memory for %zu bytes: %s", bytes,
                       cudaGetErrorString(err));
    }
    b->pinned_cap = bytes;
    return CARTOON_OK;
}

cartoon_status cuda_write(ct_backend *be, const ct_plan *p, int i, const float *host, ct_err *e)
{
    cuda_backend *b = reinterpret_cast<cuda_backend *>(be);
    const char *where = "write";
    size_t bytes = tensor_bytes(&p->t[i]);
    CU(cudaSetDevice(b->device), "cudaSetDevice");
    cartoon_status st = ensure_pinned(b, bytes, e);
    if (st) return st;
    CU(cudaEventSynchronize(b->staged), "waiting for the previous upload");
    memcpy(b->pinned, host, bytes);
    CU(cudaMemcpyAsync(tensor(b, p, i), b->pinned, bytes, cudaMemcpyHostToDevice, b->stream), "cudaMemcpyAsync to the GPU");
    CU(cudaEventRecord(b->staged, b->stream), "cudaEventRecord");
    return CARTOON_OK;
}

cartoon_status cuda_read(ct_backend *be, const ct_plan *p, int i, float *host, ct_err *e)
{
    cuda_backend *b = reinterpret_cast<cuda_backend *>(be);
    const char *where = "read";
    size_t bytes = tensor_bytes(&p->t[i]);
    CU(cudaSetDevice(b->device), "cudaSetDevice");
    cartoon_status st = ensure_pinned(b, bytes, e);
    if (st) return st;
    CU(cudaMemcpyAsync(b->pinned, tensor(b, p, i), bytes, cudaMemcpyDeviceToHost, b->stream), "cudaMemcpyAsync from the GPU");
    CU(cudaStreamSynchronize(b->stream), "running the graph");
    memcpy(host, b->pinned, bytes);
    return CARTOON_OK;
}

cartoon_status cuda_sync(ct_backend *be, ct_err *e)
{
    cuda_backend *b = reinterpret_cast<cuda_backend *>(be);
    const char *where = "sync";
    CU(cudaStreamSynchronize(b->stream), "running the graph");
    return CARTOON_OK;
}

/* ------------------------------------------------------------------ nodes */

cartoon_status run_conv_cublas(cuda_backend *b, const ct_conv_shape &s, const ct_cu_conv &cc, const node_weights &w,
                               const char *where, ct_err *e)
{
    const float one = 1.f, zero = 0.f;
    const int K = s.k * s.k * s.cin;
    if (conv_is_pointwise(&s)) {
        /* out (cout x P, column-major) = W^T (cout x K) * in (K x P) */
        CUBLAS(cublasSgemm(b->cublas, CUBLAS_OP_T, CUBLAS_OP_N, s.cout, s.oh * s.ow, K, &one, w.w32, K, cc.in, K, &zero,
                           cc.out, s.cout), "cublasSgemm");
    } else {
        const int rows = (int)im2col_rows(&s, b->tile_bytes);
        float *col = reinterpret_cast<float *>(b->scratch);
        for (int oy0 = 0; oy0 < s.oh; oy0 += rows) {
            int r = s.oh - oy0 < rows ? s.oh - oy0 : rows;
            CU(ct_cu_im2col(&cc, oy0, r, col, b->stream), "im2col kernel");
            CUBLAS(cublasSgemm(b->cublas, CUBLAS_OP_T, CUBLAS_OP_N, s.cout, r * s.ow, K, &one, w.w32, K, col, K, &zero,
                               cc.out + (size_t)oy0 * s.ow * s.cout, s.cout), "cublasSgemm");
        }
    }
    CU(ct_cu_epilogue(&cc, b->stream), "epilogue kernel");
    return CARTOON_OK;
}

cartoon_status run_conv_cudnn(cuda_backend *b, const ct_conv_shape &s, const ct_cu_conv &cc, const node_weights &w,
                              const node_conf &nc, const char *where, ct_err *e)
{
    cartoon_status st = ct_cudnn_run(b->cudnn, &s, b->lowp, nc.algo, cc.in, w.w32, cc.out, b->scratch, nc.workspace,
                                     where, e);
    if (st) return st;
    CU(ct_cu_epilogue(&cc, b->stream), "epilogue kernel");
    return CARTOON_OK;
}

/* Node i's convolution reading `in` and writing its (chain's) buffer, with the add fused
 * into it, if any, as the residual epilogue. */
ct_cu_conv conv_args(cuda_backend *b, const cartoon_model *m, const ct_plan *p, int i, const float *in, ct_conv_shape *s)
{
    const ct_node *n = &m->nodes[i];
    const ct_node *add = p->t[i].fused && m->nodes[i + 1].op == OP_ADD ? &m->nodes[i + 1] : NULL;
    conv_geometry(n, &p->t[n->in[0]], s);
    ct_cu_conv cc;
    cc.in = in;
    cc.out = ftensor(b, p, i);
    cc.bias = b->nw[i].b32;
    cc.res = add ? ftensor(b, p, add->in[0] == i ? add->in[1] : add->in[0]) : NULL;
    cc.h = s->h; cc.w = s->w; cc.cin = s->cin;
    cc.oh = s->oh; cc.ow = s->ow; cc.cout = s->cout;
    cc.k = s->k; cc.stride = s->stride; cc.pad_top = s->pad_top; cc.pad_left = s->pad_left;
    cc.act = n->act;
    cc.alpha = n->alpha;
    cc.post_act = add ? add->act : ACT_NONE;
    cc.post_alpha = add ? add->alpha : 0.f;
    return cc;
}

cartoon_status run_conv(cuda_backend *b, const cartoon_model *m, const ct_plan *p, int i, const float *in,
                        const char *where, ct_err *e)
{
    ct_conv_shape s;
    ct_cu_conv cc = conv_args(b, m, p, i, in, &s);
    const node_weights &w = b->nw[i];
    switch (b->conf[i].path) {
    case PATH_IGEMM:
        CU(ct_cu_conv_igemm(&cc, w.w16, w.kpad, b->stream), "implicit-GEMM conv kernel");
        return CARTOON_OK;
    case PATH_CUBLAS: return run_conv_cublas(b, s, cc, w, where, e);
    case PATH_CUDNN: return run_conv_cudnn(b, s, cc, w, b->conf[i], where, e);
    default: return ct_fail(e, CARTOON_E_INTERNAL, "CUDA %s: no convolution path planned", where);
    }
}

/* Output rows [oy0, oy0 + rows) of depthwise node i into out (from its row 0: its own
 * buffer, or the band a fused pointwise reads). When its input is a concatenation the plan
 * elided, each of the concatenation's inputs is convolved into its channel range of the
 * output where its producer left it. */
cartoon_status run_depthwise(cuda_backend *b, const cartoon_model *m, const ct_plan *p, int i, float *out, int oy0,
                             int rows, const char *where, ct_err *e)
{
    const ct_node *n = &m->nodes[i];
    const int src = n->in[0];
    ct_conv_shape s;
    ct_cu_conv cc = conv_args(b, m, p, i, ftensor(b, p, src), &s);
    cc.out = out;
    const float *w = b->nw[i].w32;
    const ct_node *cat = &m->nodes[src];
    if (cat->op != OP_CONCAT || !p->t[src].fused) {
        CU(ct_cu_depthwise_part(&cc, w, cc.in, cc.cin, 0, oy0, rows, b->stream), "depthwise kernel");
        return CARTOON_OK;
    }
    for (int k = 0, c0 = 0; k < cat->n_in; k++) {
        const int c = p->t[cat->in[k]].c;
        CU(ct_cu_depthwise_part(&cc, w, ftensor(b, p, cat->in[k]), c, c0, oy0, rows, b->stream),
           "depthwise kernel (concat input)");
        c0 += c;
    }
    return CARTOON_OK;
}

/* Rows of a fused depthwise's output computed per band (dw_band_rows of them): the band is
 * the chain's arena scratch, the pointwise GEMM reads it at once. Bands keep the scratch small
 * beside the chain's inputs and output, which are all live at its step; DW_BAND_BYTES is large
 * enough that only the biggest chains at 1024x1024 and up take more than one. */
constexpr size_t DW_BAND_BYTES = 128u << 20;

int dw_band_rows(const ct_tensor_plan *t)
{
    const size_t row = (size_t)t->w * t->c * sizeof(float);
    size_t r = row ? DW_BAND_BYTES / row : 1;
    if (r < 1) r = 1;
    if (r > (size_t)t->h) r = (size_t)t->h;
    return (int)r;
}

/* The chain depthwise i -> pointwise i + 1 (-> the add fused into it), band by band: the
 * depthwise's rows into the band, then the pointwise on those rows (a 1x1 stride-1 conv: the
 * band of its input is the band of its output). */
cartoon_status run_dw_pw(cuda_backend *b, const cartoon_model *m, const ct_plan *p, int i, float *band, ct_err *e)
{
    const ct_tensor_plan *t = &p->t[i];
    const int rows = dw_band_rows(t);
    const int j = i + 1;
    char where[CT_NAME_MAX + 16];
    for (int y0 = 0; y0 < t->h; y0 += rows) {
        const int r = t->h - y0 < rows ? t->h - y0 : rows;
        snprintf(where, sizeof where, "node '%s'", m->nodes[i].name);
        cartoon_status st = run_depthwise(b, m, p, i, band, y0, r, where, e);
        if (st) return st;
        snprintf(where, sizeof where, "node '%s'", m->nodes[j].name);
        ct_conv_shape s;
        ct_cu_conv cc = conv_args(b, m, p, j, band, &s);
        const size_t skip = (size_t)y0 * s.ow * s.cout;
        cc.out += skip;
        if (cc.res) cc.res += skip;
        cc.h = cc.oh = s.h = s.oh = r;
        switch (b->conf[j].path) {
        case PATH_IGEMM:
            CU(ct_cu_conv_igemm(&cc, b->nw[j].w16, b->nw[j].kpad, b->stream), "implicit-GEMM conv kernel");
            break;
        case PATH_CUBLAS:
            if ((st = run_conv_cublas(b, s, cc, b->nw[j], where, e))) return st;
            break;
        default: return ct_fail(e, CARTOON_E_INTERNAL, "CUDA %s: no path planned for a pointwise conv after a depthwise", where);
        }
    }
    return CARTOON_OK;
}

cartoon_status cuda_run(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i, ct_err *e)
{
    cuda_backend *b = reinterpret_cast<cuda_backend *>(be);
    const ct_node *n = &m->nodes[i];
    char where[CT_NAME_MAX + 16];
    if (n->op == OP_INPUT) return CARTOON_OK;
    CU(cudaSetDevice(b->device), "cudaSetDevice");
    const int step = i; /* the first node of a fused chain: its arena scratch is the chain's */
    /* An elided concat runs as part of the depthwise that reads it (run_depthwise). */
    if (n->op == OP_CONCAT && p->t[i].fused) n = &m->nodes[++i];
    snprintf(where, sizeof where, "node '%s'", n->name);
    const ct_tensor_plan *o = &p->t[i];
    float *out = ftensor(b, p, i);
    const float *a = n->n_in ? ftensor(b, p, n->in[0]) : NULL;
    const ct_tensor_plan *ta = n->n_in ? &p->t[n->in[0]] : NULL;

    switch (n->op) {
    case OP_CONV2D: return run_conv(b, m, p, i, a, where, e);
    case OP_DEPTHWISE_CONV2D:
        if (!o->fused) return run_depthwise(b, m, p, i, out, 0, o->h, where, e);
        /* fused into its pointwise: band by band through the chain's arena scratch */
        return run_dw_pw(b, m, p, i, reinterpret_cast<float *>(b->arena + p->t[step].scratch_offset), e);
    case OP_ADD:
        CU(ct_cu_add(a, ftensor(b, p, n->in[1]), out, (size_t)o->h * o->w * o->c, n->act, n->alpha, b->stream), "add kernel");
        return CARTOON_OK;
    case OP_CONCAT: {
        const float *ins[CT_MAX_INPUTS];
        int cs[CT_MAX_INPUTS];
        for (int k = 0; k < n->n_in; k++) { ins[k] = ftensor(b, p, n->in[k]); cs[k] = p->t[n->in[k]].c; }
        CU(ct_cu_concat(ins, cs, n->n_in, (size_t)o->h * o->w, out, b->stream), "concat kernel");
        return CARTOON_OK;
    }
    case OP_UPSAMPLE: {
        if (n->factor != 2) return ct_fail(e, CARTOON_E_UNSUPPORTED, "CUDA %s: upsampling by %d (only 2)", where, n->factor);
        const ct_node *add = o->fused ? &m->nodes[i + 1] : NULL; /* the skip add fused into it */
        const float *skip = add ? ftensor(b, p, add->in[0] == i ? add->in[1] : add->in[0]) : NULL;
        CU(ct_cu_upsample2x(a, ta->h, ta->w, ta->c, n->upmode == UP_BILINEAR_TF1, skip, out, b->stream), "upsample kernel");
        return CARTOON_OK;
    }
    case OP_GUIDED_FILTER:
        CU(ct_cu_guided_filter(a, ftensor(b, p, n->in[1]), o->h, o->w, o->c, n->radius, n->eps, out,
                               reinterpret_cast<float *>(b->scratch), b->stream), "guided filter kernels");
        return CARTOON_OK;
    default:
        return ct_fail(e, CARTOON_E_INTERNAL, "node '%s': op %d has no CUDA kernel", n->name, (int)n->op);
    }
}

/* Arena scratch (planned with the tensors' lifetimes, so counted in plan->arena_bytes and
 * the cost model): the band of a depthwise's output fused into its pointwise (run_dw_pw), at
 * the step of the chain's first node (the depthwise, or the elided concat before it).
 * Everything else the kernels need is in the backend's own scratch. */
size_t cuda_scratch(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i)
{
    (void)be;
    if (m->nodes[i].op == OP_CONCAT && p->t[i].fused && i + 1 < m->n_nodes) i++;
    if (m->nodes[i].op != OP_DEPTHWISE_CONV2D || !p->t[i].fused) return 0;
    const ct_tensor_plan *t = &p->t[i];
    return (size_t)dw_band_rows(t) * t->w * t->c * sizeof(float);
}

uint64_t cuda_memory(const ct_backend *be)
{
    const cuda_backend *b = reinterpret_cast<const cuda_backend *>(be);
    return b->arena_cap + b->scratch_cap + b->wbytes;
}

void cuda_destroy(ct_backend *be)
{
    cuda_backend *b = reinterpret_cast<cuda_backend *>(be);
    if (!b) return;
    cudaSetDevice(b->device);
    if (b->stream) cudaStreamSynchronize(b->stream);
    if (b->arena) cudaFree(b->arena);
    if (b->scratch) cudaFree(b->scratch);
    if (b->wmem) cudaFree(b->wmem);
    if (b->pinned) cudaFreeHost(b->pinned);
    ct_cudnn_destroy(b->cudnn);
    if (b->cublas) cublasDestroy(b->cublas);
    if (b->staged) cudaEventDestroy(b->staged);
    if (b->stream) cudaStreamDestroy(b->stream);
    cudaGetLastError();
    free(b->nw);
    free(b->conf);
    free(b);
}

const ct_backend_ops cuda_ops = {
    "cuda",
    /* conv + add (residual epilogue), upsample + add (skip), written over the skip; depthwise +
     * pointwise (the depthwise output in bands in the arena scratch), reading an elided concat's
     * inputs. Not: a conv written over its residual (cuBLAS writes the raw sums before the
     * epilogue reads the residual), an upsample read on the fly by a depthwise. */
    {1, 1, 1, 1, 1, 0, 0},
    cuda_scratch, /* a fused depthwise's output; other scratch is the backend's own */
    cuda_reserve,
    NULL,      /* host: activations live in device memory */
    cuda_write,
    cuda_read,
    cuda_run,
    cuda_sync,
    cuda_memory,
    cuda_destroy,
};

cartoon_status create(cuda_backend *b, ct_err *e)
{
    const char *where = "setup";
    CU(cudaGetDevice(&b->device), "cudaGetDevice");
    CU(cudaSetDevice(b->device), "cudaSetDevice");
    CU(cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    CU(cudaEventCreateWithFlags(&b->staged, cudaEventDisableTiming), "cudaEventCreate");
    CUBLAS(cublasCreate(&b->cublas), "cublasCreate");
    CUBLAS(cublasSetStream(b->cublas, b->stream), "cublasSetStream");
    CUBLAS(cublasSetMathMode(b->cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"); /* fp32 FMA, no TF32 */
    if (b->pref == PREF_CUDNN) return ct_cudnn_create(b->stream, &b->cudnn, e);
    return CARTOON_OK;
}

} // namespace

static int cuda_available(char *why, size_t why_size)
{
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        cudaGetLastError();
        if (why && why_size) snprintf(why, why_size, "no usable CUDA driver or GPU (cudaGetDeviceCount: %s)", cudaGetErrorString(err));
        return 0;
    }
    if (n < 1) {
        if (why && why_size) snprintf(why, why_size, "no CUDA GPU found");
        return 0;
    }
    int dev = 0, major = 0, minor = 0;
    if ((err = cudaGetDevice(&dev)) != cudaSuccess ||
        (err = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev)) != cudaSuccess ||
        (err = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev)) != cudaSuccess) {
        cudaGetLastError();
        if (why && why_size) snprintf(why, why_size, "cannot query CUDA device: %s", cudaGetErrorString(err));
        return 0;
    }
    if (major < 8) {
        if (why && why_size) snprintf(why, why_size, "GPU %d is sm_%d%d; the CUDA backend needs sm_80 or newer", dev, major, minor);
        return 0;
    }
    if ((err = ct_cu_probe_kernels()) != cudaSuccess) {
        cudaGetLastError();
        if (why && why_size)
            snprintf(why, why_size, "GPU %d (sm_%d%d) cannot run this build's kernels: %s (rebuild with CUDA_ARCHS including %d%d)",
                     dev, major, minor, cudaGetErrorString(err), major, minor);
        return 0;
    }
    return 1;
}

static cartoon_status cuda_create(const cartoon_model *m, const ct_backend_config *cfg, ct_backend **out, ct_err *e)
{
    (void)m; /* weights are uploaded on the first reserve, per context */
    *out = NULL;
    char why[256] = "";
    if (!cuda_available(why, sizeof why)) return ct_fail(e, CARTOON_E_DEVICE, "CUDA requested, but %s", why);
    int pref = PREF_DEFAULT;
    const char *env = getenv("CARTOON_CUDA_CONV");
    if (env && *env) {
        if (!strcmp(env, "cudnn")) pref = PREF_CUDNN;
        else if (!strcmp(env, "cublas")) pref = PREF_CUBLAS;
        else if (strcmp(env, "auto") != 0)
            return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "CARTOON_CUDA_CONV='%.32s': expected auto, cublas or cudnn", env);
    }
    if (pref == PREF_CUDNN && !ct_cudnn_built())
        return ct_fail(e, CARTOON_E_UNSUPPORTED,
                       "CARTOON_CUDA_CONV=cudnn, but libcartoon was built without cuDNN (rebuild with cudnn.h and libcudnn.so found, or CUDNN=1)");
    cuda_backend *b = static_cast<cuda_backend *>(calloc(1, sizeof *b));
    if (!b) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the CUDA backend");
    b->base.ops = &cuda_ops;
    b->cfg = *cfg;
    b->pref = pref;
    b->lowp = cfg->precision == CARTOON_PRECISION_FP16;
    cartoon_status st = create(b, e);
    if (st) {
        cuda_destroy(&b->base);
        return st;
    }
    *out = &b->base;
    return CARTOON_OK;
}

static int cuda_supports(const ct_node *n)
{
    return n->op > OP_INPUT && n->op < OP_COUNT;
}

extern "C" const ct_backend_desc ct_backend_cuda = {
    "cuda", "CUDA", CARTOON_DEVICE_CUDA,
    CT_PRECISION_BIT(CARTOON_PRECISION_FP32) | CT_PRECISION_BIT(CARTOON_PRECISION_FP16),
    cuda_supports, cuda_available, cuda_create,
};
