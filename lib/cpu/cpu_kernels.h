/* The one table of CPU kernels per instruction set. Every kernel that has instruction-set
 * variants is reached through an entry of this table, never through an `if (isa ...)` at
 * the call site: adding AVX-512 is one more row. */
#ifndef CARTOON_CPU_KERNELS_H
#define CARTOON_CPU_KERNELS_H
#include "conv_direct.h"
#include "conv_winograd.h"
#include "cpu_features.h"

typedef struct ct_cpu_kernels {
    int isa;                           /* ct_isa level the entry needs */
    const char *name;                  /* "generic", "avx2" */
    ct_winograd_task_fn winograd_task; /* kernels/cpu/conv_winograd_<isa>.c */
    ct_direct_row_fn direct_row;       /* kernels/cpu/conv_direct_<isa>.c */
} ct_cpu_kernels;

/* The best entry this build has at or below isa (a ct_isa level); never NULL. */
const ct_cpu_kernels *ct_cpu_kernels_for(int isa);
#endif
