/* Builds without CUDA (CUDA=0 or no nvcc): the CUDA backend is in the table but reports
 * itself unavailable, so AUTO runs on the CPU and an explicit request gets a reason. */
#ifndef CARTOON_HAVE_CUDA
#include <stdio.h>
#include "backend.h"

static int none_available(char *why, size_t why_size)
{
    if (why && why_size) snprintf(why, why_size, "libcartoon was built without CUDA (rebuild with nvcc on PATH)");
    return 0;
}

static int none_supports(const ct_node *n)
{
    (void)n;
    return 0;
}

static cartoon_status none_create(const cartoon_model *m, const ct_backend_config *cfg, ct_backend **out,
                                  ct_err *e)
{
    (void)m;
    (void)cfg;
    *out = NULL;
    return ct_fail(e, CARTOON_E_DEVICE, "CUDA requested, but libcartoon was built without CUDA (rebuild with nvcc on PATH)");
}

const ct_backend_desc ct_backend_cuda = {
    .name = "cuda",
    .label = "CUDA",
    .device = CARTOON_DEVICE_CUDA,
    .precisions = CT_PRECISION_BIT(CARTOON_PRECISION_FP32) | CT_PRECISION_BIT(CARTOON_PRECISION_FP16),
    .supports = none_supports,
    .available = none_available,
    .create = none_create,
};
#else
typedef int ct_backend_cuda_none_unused;
#endif
