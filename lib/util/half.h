/* fp16 and bf16 <-> fp32: exact widening, round-to-nearest-even narrowing (NaN stays NaN).
 * Header-only so the loader, the converter, the CUDA backend and the tests share one
 * definition without linking each other. */
#ifndef CARTOON_HALF_H
#define CARTOON_HALF_H
#include <stdint.h>
#include <string.h>


static inline uint32_t ct_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float ct_f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float ct_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) /* inf / nan: keep the payload so NaNs stay NaNs */
        return ct_f32_from_bits(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (man == 0) return ct_f32_from_bits(sign);
        /* Subnormal: man * 2^-24 is exact in float. */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return ct_f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
}

static inline uint16_t ct_float_to_half(float f)
{
    uint32_t x = ct_f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) /* NaN: keep the top payload bits, force quiet so it cannot become inf */
        return (uint16_t)(sign | 0x7e00u | ((x >> 13) & 0x3ffu));
    if (x >= 0x477ff000u) /* >= 65520 (the midpoint above 65504, ties to even go up) or inf */
        return (uint16_t)(sign | 0x7c00u);
    if (x < 0x38800000u) { /* below 2^-14: half subnormal or zero */
        if (x <= 0x33000000u) /* <= 2^-25: half of the smallest subnormal, tie goes to even 0 */
            return sign;
        uint32_t exp = x >> 23;
        uint32_t mant = (x & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - exp; /* 14..24 here */
        uint32_t r = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++; /* may carry into the smallest normal */
        return (uint16_t)(sign | r);
    }
    uint32_t h = (x - 0x38000000u) >> 13;
    uint32_t rem = x & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static inline float ct_bf16_to_float(uint16_t h) { return ct_f32_from_bits((uint32_t)h << 16); }

static inline uint16_t ct_float_to_bf16(float f)
{
    uint32_t x = ct_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: truncation could clear the payload into inf */
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}
#endif
