/* Builds without CUDA (CUDA=0 or no nvcc): the CUDA backend reports itself unavailable. */
#ifndef CARTOON_HAVE_CUDA
#include <stdio.h>
#include "backend.h"

int ct_cuda_available(char *why, size_t why_size)
{
    if (why && why_size) snprintf(why, why_size, "libcartoon was built without CUDA");
    return 0;
}

cartoon_status ct_backend_cuda_create(const ct_backend_config *cfg, ct_backend **out, ct_err *e)
{
    (void)cfg;
    *out = NULL;
    return ct_fail(e, CARTOON_E_DEVICE, "CUDA requested, but libcartoon was built without CUDA (rebuild with nvcc on PATH)");
}
#else
typedef int ct_backend_cuda_none_unused;
#endif
