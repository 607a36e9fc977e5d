/* The CPU backend's prepared weights for one model: Winograd-transformed 3x3 stride-1
 * convolutions (those with 8 channels or more on both sides), packed direct-kernel weights
 * for the other non-pointwise ones and packed
 * GEMM panels for the pointwise (1x1 stride-1) ones, which run alone or fused after a
 * depthwise convolution (kernels/cpu/dwpw.h; the depthwise weights need no repacking: the
 * model's [k][k][c] already has the channels contiguous). Built once
 * per model on the first fast-path context (ct_model_backend_data slot CT_SLOT_CPU), then
 * shared read-only by every context on that model; an im2col or CUDA context never builds
 * them. */
#ifndef CARTOON_CPU_WEIGHTS_H
#define CARTOON_CPU_WEIGHTS_H
#include "conv_direct.h"
#include "conv_winograd.h"
#include "dwpw.h"
#include "errors.h"
#include "model.h"

typedef struct ct_cpu_node_weights {
    ct_winograd *winograd; /* conv2d 3x3 stride 1 with >= 8 input and output channels, else NULL */
    ct_direct *direct;     /* any other conv2d but 1x1 stride 1, else NULL */
    ct_pointwise *pointwise; /* conv2d 1x1 stride 1, else NULL */
} ct_cpu_node_weights;

typedef struct ct_cpu_weights {
    int n;                      /* the model's node count */
    ct_cpu_node_weights *node;  /* n entries */
} ct_cpu_weights;

/* The prepared weights of m, built on the first call (thread-safe), owned by the model.
 * Errors: OUT_OF_MEMORY, with the node named in e. */
cartoon_status ct_cpu_weights_get(const cartoon_model *m, const ct_cpu_weights **out, ct_err *e);

/* The same for bf16 contexts, in their own slot (CT_SLOT_CPU_BF16), built only when a bf16
 * context is created: 3x3 stride-1 convolutions get bf16 F(4x4,3x3) Winograd weights
 * (ct_winograd_create_bf16; F(6x6) would fall under 50 dB in bf16), the direct ones bf16
 * where ct_direct_bf16_ok (an even cin: the stride-2 layers and the RGB output; the 3-channel
 * stem stays fp32), the pointwise ones fp32. */
cartoon_status ct_cpu_weights_get_bf16(const cartoon_model *m, const ct_cpu_weights **out, ct_err *e);
#endif
