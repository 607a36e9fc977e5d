/* cuDNN convolutions for the CUDA backend (conv_cudnn.h): NHWC fp32 tensors, OHWI fp32
 * filters, cross-correlation with the plan's SAME padding (symmetric only: the backend sends
 * asymmetric ones elsewhere). FP32 prefers algorithms in FMA math (no TF32); FP16 allows
 * tensor-op math with conversion. In a build without cuDNN this file only says so. */
#include <stdlib.h>
#include "conv_cudnn.h"

#ifdef CARTOON_HAVE_CUDNN
#include <cudnn.h>

struct ct_cudnn {
    cudnnHandle_t h;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
};

#define CUDNN(call, what)                                                               \
    do {                                                                                \
        cudnnStatus_t st_ = (call);                                                     \
        if (st_ != CUDNN_STATUS_SUCCESS)                                                \
            return ct_fail(e, CARTOON_E_DEVICE, "CUDA %s: %s failed: %s", where, what,   \
                           cudnnGetErrorString(st_));                                   \
    } while (0)

int ct_cudnn_built(void) { return 1; }

void ct_cudnn_destroy(ct_cudnn *c)
{
    if (!c) return;
    if (c->cd) cudnnDestroyConvolutionDescriptor(c->cd);
    if (c->wd) cudnnDestroyFilterDescriptor(c->wd);
    if (c->yd) cudnnDestroyTensorDescriptor(c->yd);
    if (c->xd) cudnnDestroyTensorDescriptor(c->xd);
    if (c->h) cudnnDestroy(c->h);
    free(c);
}

static cartoon_status setup(ct_cudnn *c, cudaStream_t s, ct_err *e)
{
    const char *where = "setup";
    CUDNN(cudnnCreate(&c->h), "cudnnCreate");
    CUDNN(cudnnSetStream(c->h, s), "cudnnSetStream");
    CUDNN(cudnnCreateTensorDescriptor(&c->xd), "cudnnCreateTensorDescriptor");
    CUDNN(cudnnCreateTensorDescriptor(&c->yd), "cudnnCreateTensorDescriptor");
    CUDNN(cudnnCreateFilterDescriptor(&c->wd), "cudnnCreateFilterDescriptor");
    CUDNN(cudnnCreateConvolutionDescriptor(&c->cd), "cudnnCreateConvolutionDescriptor");
    return CARTOON_OK;
}

cartoon_status ct_cudnn_create(cudaStream_t s, ct_cudnn **out, ct_err *e)
{
    *out = NULL;
    ct_cudnn *c = static_cast<ct_cudnn *>(calloc(1, sizeof *c));
    if (!c) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the cuDNN state");
    cartoon_status st = setup(c, s, e);
    if (st) {
        ct_cudnn_destroy(c);
        return st;
    }
    *out = c;
    return CARTOON_OK;
}

static cartoon_status describe(ct_cudnn *c, const ct_conv_shape *s, int lowp, ct_err *e)
{
    const char *where = "cuDNN";
    CUDNN(cudnnSetTensor4dDescriptor(c->xd, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, s->cin, s->h, s->w), "input descriptor");
    CUDNN(cudnnSetTensor4dDescriptor(c->yd, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, s->cout, s->oh, s->ow), "output descriptor");
    CUDNN(cudnnSetFilter4dDescriptor(c->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, s->cout, s->cin, s->k, s->k), "filter descriptor");
    CUDNN(cudnnSetConvolution2dDescriptor(c->cd, s->pad_top, s->pad_left, s->stride, s->stride, 1, 1,
                                          CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "convolution descriptor");
    CUDNN(cudnnSetConvolutionMathType(c->cd, lowp ? CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION : CUDNN_FMA_MATH), "math type");
    int n, ch, h, w;
    CUDNN(cudnnGetConvolution2dForwardOutputDim(c->cd, c->xd, c->wd, &n, &ch, &h, &w), "output size");
    if (n != 1 || ch != s->cout || h != s->oh || w != s->ow)
        return ct_fail(e, CARTOON_E_INTERNAL, "cuDNN output %dx%dx%d differs from the plan's %dx%dx%d", h, w, ch, s->oh, s->ow, s->cout);
    return CARTOON_OK;
}

cartoon_status ct_cudnn_plan(ct_cudnn *c, const ct_conv_shape *s, int lowp, size_t limit, int *algo,
                             size_t *workspace, const char *name, ct_err *e)
{
    const char *where = name;
    cartoon_status st = describe(c, s, lowp, e);
    if (st) return st;
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0;
    CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(c->h, c->xd, c->wd, c->cd, c->yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                 &got, perf), "algorithm heuristics");
    int pick = -1;
    for (int pass = 0; pass < 2 && pick < 0; pass++)
        for (int k = 0; k < got; k++) {
            if (perf[k].status != CUDNN_STATUS_SUCCESS || perf[k].memory > limit) continue;
            /* FP32: first pass only algorithms that run in FMA math (no TF32) */
            if (pass == 0 && !lowp && perf[k].mathType != CUDNN_FMA_MATH) continue;
            pick = k;
            break;
        }
    if (pick < 0)
        return ct_fail(e, CARTOON_E_DEVICE, "CUDA %s: cuDNN offers no convolution algorithm for %dx%dx%d -> %d (k%d s%d) within %zu bytes of workspace",
                       name, s->h, s->w, s->cin, s->cout, s->k, s->stride, limit);
    size_t ws = 0;
    CUDNN(cudnnGetConvolutionForwardWorkspaceSize(c->h, c->xd, c->wd, c->cd, c->yd, perf[pick].algo, &ws), "workspace size");
    *algo = (int)perf[pick].algo;
    *workspace = ws;
    return CARTOON_OK;
}

cartoon_status ct_cudnn_run(ct_cudnn *c, const ct_conv_shape *s, int lowp, int algo, const float *in,
                            const float *w, float *out, void *ws, size_t workspace, const char *where,
                            ct_err *e)
{
    const float one = 1.f, zero = 0.f;
    cartoon_status st = describe(c, s, lowp, e);
    if (st) return st;
    CUDNN(cudnnConvolutionForward(c->h, &one, c->xd, in, c->wd, w, c->cd, (cudnnConvolutionFwdAlgo_t)algo, ws,
                                  workspace, &zero, c->yd, out), "cudnnConvolutionForward");
    return CARTOON_OK;
}

#else /* built without cuDNN */

int ct_cudnn_built(void) { return 0; }

cartoon_status ct_cudnn_create(cudaStream_t s, ct_cudnn **out, ct_err *e)
{
    (void)s;
    *out = NULL;
    return ct_fail(e, CARTOON_E_UNSUPPORTED,
                   "CARTOON_CUDA_CONV=cudnn, but libcartoon was built without cuDNN (rebuild with cudnn.h and libcudnn.so found, or CUDNN=1)");
}

void ct_cudnn_destroy(ct_cudnn *c) { (void)c; }

cartoon_status ct_cudnn_plan(ct_cudnn *c, const ct_conv_shape *s, int lowp, size_t limit, int *algo,
                             size_t *workspace, const char *name, ct_err *e)
{
    (void)c; (void)s; (void)lowp; (void)limit; (void)algo; (void)workspace;
    return ct_fail(e, CARTOON_E_UNSUPPORTED, "CUDA %s: built without cuDNN", name);
}

cartoon_status ct_cudnn_run(ct_cudnn *c, const ct_conv_shape *s, int lowp, int algo, const float *in,
                            const float *w, float *out, void *ws, size_t workspace, const char *where,
                            ct_err *e)
{
    (void)c; (void)s; (void)lowp; (void)algo; (void)in; (void)w; (void)out; (void)ws; (void)workspace;
    return ct_fail(e, CARTOON_E_UNSUPPORTED, "CUDA %s: built without cuDNN", where);
}
#endif
