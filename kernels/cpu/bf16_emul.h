/* The AVX512_BF16 instructions the bf16 kernels use, as portable scalar code with the same
 * results bit for bit, so that machines without them can test the bf16 kernels (the 16-lane
 * generic-vector build conv_winograd_v16_avx2.c uses the vector form of the same rules).
 *
 * VCVTNEPS2BF16 (fp32 -> bf16): round to nearest even; input denormals are treated as zero
 * (the sign kept) and NaNs stay NaN (quiet). VDPBF16PS (per fp32 lane j of the accumulator):
 *   acc += bf16(a[2j+1]) * bf16(b[2j+1]);  acc += bf16(a[2j]) * bf16(b[2j])
 * each step one fused multiply-add rounded to nearest even (a product of two bf16 values is
 * exact in fp32), input denormals read as zero, a denormal result flushed to zero; MXCSR is
 * neither read nor written (Intel SDM, VDPBF16PS and VCVTNEPS2BF16). */
#ifndef CARTOON_BF16_EMUL_H
#define CARTOON_BF16_EMUL_H
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t ct_bf16e_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ct_bf16e_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* VCVTNEPS2BF16 on one value. */
static inline uint16_t ct_bf16_round(float f)
{
    uint32_t x = ct_bf16e_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    if ((x & 0x7f800000u) == 0) x &= 0x80000000u; /* denormal in: zero */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

static inline float ct_bf16_value(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    if ((x & 0x7f800000u) == 0) x &= 0x80000000u; /* denormal in: zero */
    return ct_bf16e_float(x);
}

/* A denormal fp32 result flushed to zero, its sign kept. */
static inline float ct_bf16_ftz(float f)
{
    uint32_t x = ct_bf16e_bits(f);
    return (x & 0x7f800000u) == 0 ? ct_bf16e_float(x & 0x80000000u) : f;
}

/* One lane of VDPBF16PS: a0, b0 the even (low) elements of the pairs, a1, b1 the odd. */
static inline float ct_dpbf16_lane(float acc, uint16_t a0, uint16_t a1, uint16_t b0, uint16_t b1)
{
    acc = ct_bf16_ftz(fmaf(ct_bf16_value(a1), ct_bf16_value(b1), acc));
    return ct_bf16_ftz(fmaf(ct_bf16_value(a0), ct_bf16_value(b0), acc));
}
#endif
