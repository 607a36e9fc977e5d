/* Which instruction-set level the CPU kernels may use, decided at run time so one build runs
 * on any x86-64. */
#ifndef CARTOON_CPU_FEATURES_H
#define CARTOON_CPU_FEATURES_H

/* Ordered: a level implies every level below it. Each level means "every flag the files of
 * that suffix are compiled with is usable": *_avx2.c get -mavx2 -mfma -mf16c, *_avx512.c
 * also AVX-512 F/BW/VL/DQ (Skylake-SP, Cascade Lake, Ice Lake, Zen 4 and later), and
 * *_avx512bf16.c AVX512_BF16 on top (Cooper Lake, Sapphire Rapids, Zen 4 and later): the fp32
 * kernels need CT_ISA_AVX512, only the bf16 precision needs CT_ISA_AVX512_BF16. */
typedef enum { CT_ISA_GENERIC = 0, CT_ISA_AVX2 = 1, CT_ISA_AVX512 = 2, CT_ISA_AVX512_BF16 = 3 } ct_isa;

/* The level to use: what the CPU (and OS) supports, lowered by the environment variable
 * CARTOON_ISA=generic|avx2|avx512|avx512-bf16 when set (never raised above what the CPU has; an unknown
 * value is ignored). The environment is read at each call, so tests may setenv between
 * calls. Thread-safe. */
int ct_cpu_isa(void);

/* What the CPU supports, ignoring CARTOON_ISA. */
int ct_cpu_isa_native(void);

/* "generic", "avx2", "avx512" or "avx512-bf16". */
const char *ct_isa_name(int isa);
#endif
