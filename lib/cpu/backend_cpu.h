/* The CPU backend (backend_cpu.c): the descriptor ct_backend_cpu (backend.h) is how the engine
 * reaches it; this header adds what the tests need beyond it. */
#ifndef CARTOON_BACKEND_CPU_H
#define CARTOON_BACKEND_CPU_H
#include "backend.h"
#include "cpu_kernels.h"

/* ct_backend_cpu.create with the kernel row k instead of the one the CPU chooses, for the
 * tests: the test-only 16-lane row (v16-avx2) runs bf16 contexts through the bit-exact
 * emulation of VDPBF16PS on machines without AVX512_BF16. k must be a row the CPU runs
 * (k->isa <= ct_cpu_isa_native()). Errors as ct_backend_cpu.create, and UNSUPPORTED for bf16
 * with a row that has no bf16 kernel or with the im2col path. */
cartoon_status ct_cpu_backend_create_with(const cartoon_model *m, const ct_backend_config *cfg,
                                          const ct_cpu_kernels *k, ct_backend **out, ct_err *e);
#endif
