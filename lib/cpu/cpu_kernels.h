/* The one table of CPU kernels per instruction set. Every kernel that has instruction-set
 * variants is reached through an entry of this table, never through an `if (isa ...)` at
 * the call site: adding AVX-512 is one more row. */
#ifndef CARTOON_CPU_KERNELS_H
#define CARTOON_CPU_KERNELS_H
#include <stddef.h>
#include "conv_direct.h"
#include "conv_winograd.h"
#include "cpu_features.h"
#include "dwpw.h"
#include "guided_filter_rows.h"
#include "upsample_rows.h"

typedef struct ct_cpu_kernels {
    int isa;                           /* ct_isa level the entry needs to run */
    const char *name;                  /* "generic", "avx2", "avx512", "avx512-bf16", "v16-avx2" */
    int lanes;                         /* floats per vector of the kernels' template */
    int chosen;                        /* 0: never picked at run time (a test-only build) */
    ct_winograd_task_fn winograd_task; /* kernels/cpu/conv_winograd_<isa>.c */
    ct_direct_row_fn direct_row;       /* kernels/cpu/conv_direct_<isa>.c */
    /* bf16 operands, for ct_winograd_create_bf16 weights; NULL where the entry has none
     * (the bf16 precision needs it: AVX512_BF16, or its emulation in the test-only row) */
    ct_winograd_task_fn winograd_task_bf16;
    /* bf16 operands, for ct_direct_create_bf16 weights (ct_direct_conv_bf16); NULL exactly
     * where winograd_task_bf16 is */
    ct_direct_row_fn direct_rows_bf16;
    ct_upsample_row_fn upsample_row;   /* kernels/cpu/upsample_<isa>.c */
    ct_dwpw_fn dwpw_tile;              /* kernels/cpu/dwpw_<isa>.c: depthwise + pointwise */
    ct_dwpw_fn pw_chunk;               /* the same file: a plain pointwise (1x1) convolution */
    ct_gf_band_fn gf_band;             /* kernels/cpu/guided_filter_<isa>.c */
} ct_cpu_kernels;

/* The best entry with chosen = 1 this build has at or below isa (a ct_isa level); never
 * NULL. */
const ct_cpu_kernels *ct_cpu_kernels_for(int isa);

/* Every entry this build has, the test-only ones included, so that tests can run each one
 * (those with isa <= ct_cpu_isa_native()); *n receives the count. Static storage. */
const ct_cpu_kernels *ct_cpu_kernels_list(size_t *n);
#endif
