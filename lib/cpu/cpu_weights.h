/* The CPU backend's prepared weights for one model: Winograd-transformed 3x3 stride-1
 * convolutions and packed direct-kernel weights for the other non-pointwise ones. Built once
 * per model on the first fast-path context (ct_model_backend_data slot CT_SLOT_CPU), then
 * shared read-only by every context on that model; an im2col or CUDA context never builds
 * them. */
#ifndef CARTOON_CPU_WEIGHTS_H
#define CARTOON_CPU_WEIGHTS_H
#include "conv_direct.h"
#include "conv_winograd.h"
#include "errors.h"
#include "model.h"

typedef struct ct_cpu_node_weights {
    ct_winograd *winograd; /* conv2d 3x3 stride 1, else NULL */
    ct_direct *direct;     /* any other conv2d but 1x1 stride 1 (a plain sgemm), else NULL */
} ct_cpu_node_weights;

typedef struct ct_cpu_weights {
    int n;                      /* the model's node count */
    ct_cpu_node_weights *node;  /* n entries */
} ct_cpu_weights;

/* The prepared weights of m, built on the first call (thread-safe), owned by the model.
 * Errors: OUT_OF_MEMORY, with the node named in e. */
cartoon_status ct_cpu_weights_get(const cartoon_model *m, const ct_cpu_weights **out, ct_err *e);
#endif
