#include "cpu_features.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static int native_isa = CT_ISA_GENERIC;
static pthread_once_t native_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
/* clang's __builtin_cpu_supports does not know "f16c": CPUID.1:ECX bit 29. */
static int has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
#endif

static void detect(void)
{
#if defined(__x86_64__) || defined(__i386__)
    /* libgcc's checks include the OS side (XCR0), so a kernel that does not save the
     * AVX/AVX-512 state makes these report false. */
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    int avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                 __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512dq");
    int bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
    native_isa = bf16 ? CT_ISA_AVX512_BF16 : avx512 ? CT_ISA_AVX512 : avx2 ? CT_ISA_AVX2 : CT_ISA_GENERIC;
#else
    native_isa = CT_ISA_GENERIC;
#endif
}

int ct_cpu_isa_native(void)
{
    pthread_once(&native_once, detect);
    return native_isa;
}

int ct_cpu_isa(void)
{
    int isa = ct_cpu_isa_native();
    const char *e = getenv("CARTOON_ISA");
    if (e && *e) {
        int want = -1;
        if (!strcmp(e, "generic")) want = CT_ISA_GENERIC;
        else if (!strcmp(e, "avx2")) want = CT_ISA_AVX2;
        else if (!strcmp(e, "avx512")) want = CT_ISA_AVX512;
        else if (!strcmp(e, "avx512-bf16")) want = CT_ISA_AVX512_BF16;
        if (want >= 0 && want < isa) isa = want;
    }
    return isa;
}

const char *ct_isa_name(int isa)
{
    switch (isa) {
    case CT_ISA_AVX2: return "avx2";
    case CT_ISA_AVX512: return "avx512";
    case CT_ISA_AVX512_BF16: return "avx512-bf16";
    default: return "generic";
    }
}
