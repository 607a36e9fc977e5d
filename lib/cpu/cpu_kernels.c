/* The per-instruction-set kernel table (cpu_kernels.h). */
#include "cpu_kernels.h"

/* Ascending by isa among the chosen rows; the portable row first, so every level has an
 * entry. The 16-lane generic-vector row runs the AVX-512 template on AVX2 hardware: slower
 * than either native row, so never chosen, but it lets any AVX2 machine test the AVX-512
 * kernels' blocking, indexing and tails. */
static const ct_cpu_kernels table[] = {
    {CT_ISA_GENERIC, "generic", 4, 1, ct_wg_task_generic, ct_direct_row_generic, NULL, NULL,
     ct_upsample_row_generic, ct_dwpw_tile_generic, ct_pw_chunk_generic, ct_gf_band_generic},
#if defined(__x86_64__)
    {CT_ISA_AVX2, "avx2", 8, 1, ct_wg_task_avx2, ct_direct_row_avx2, NULL, NULL, ct_upsample_row_avx2,
     ct_dwpw_tile_avx2, ct_pw_chunk_avx2, ct_gf_band_avx2},
    {CT_ISA_AVX2, "v16-avx2", 16, 0, ct_wg_task_v16_avx2, ct_direct_row_v16_avx2, ct_wg_task_bf16_v16_avx2,
     ct_direct_rows_bf16_v16_avx2, ct_upsample_row_v16_avx2, ct_dwpw_tile_v16_avx2,
     ct_pw_chunk_v16_avx2, ct_gf_band_v16_avx2},
    /* AVX-512 F/BW/VL/DQ: every fp32 kernel at 16 lanes; bf16 needs the row below */
    {CT_ISA_AVX512, "avx512", 16, 1, ct_wg_task_avx512, ct_direct_row_avx512, NULL, NULL,
     ct_upsample_row_avx512, ct_dwpw_tile_avx512, ct_pw_chunk_avx512, ct_gf_band_avx512},
    /* the same kernels and, with AVX512_BF16, the bf16 Winograd and direct kernels */
    {CT_ISA_AVX512_BF16, "avx512-bf16", 16, 1, ct_wg_task_avx512, ct_direct_row_avx512, ct_wg_task_bf16_avx512bf16,
     ct_direct_rows_bf16_avx512bf16, ct_upsample_row_avx512, ct_dwpw_tile_avx512,
     ct_pw_chunk_avx512, ct_gf_band_avx512},
#endif
};

const ct_cpu_kernels *ct_cpu_kernels_for(int isa)
{
    const ct_cpu_kernels *best = &table[0];
    for (size_t i = 1; i < sizeof table / sizeof table[0]; i++)
        if (table[i].chosen && table[i].isa <= isa) best = &table[i];
    return best;
}

const char *cartoon_cpu_isa(void)
{
    return ct_cpu_kernels_for(ct_cpu_isa())->name;
}

const ct_cpu_kernels *ct_cpu_kernels_list(size_t *n)
{
    if (n) *n = sizeof table / sizeof table[0];
    return table;
}
