/* The per-instruction-set kernel table (cpu_kernels.h). */
#include "cpu_kernels.h"

/* Ascending by isa; the portable row first, so every level has an entry. */
static const ct_cpu_kernels table[] = {
    {CT_ISA_GENERIC, "generic", ct_wg_task_generic, ct_direct_row_generic},
#if defined(__x86_64__)
    {CT_ISA_AVX2, "avx2", ct_wg_task_avx2, ct_direct_row_avx2},
#endif
};

const ct_cpu_kernels *ct_cpu_kernels_for(int isa)
{
    const ct_cpu_kernels *best = &table[0];
    for (size_t i = 1; i < sizeof table / sizeof table[0]; i++)
        if (table[i].isa <= isa) best = &table[i];
    return best;
}
