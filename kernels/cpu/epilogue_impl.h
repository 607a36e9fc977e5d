/* The common output epilogues with their choices made once per block of outputs instead of
 * once per vector: a bias; no activation or leaky ReLU; optionally a residual added with no
 * activation after it; whole vectors, streamed only where every output vector is aligned.
 * The same operations in the same order as ct_epilogue's general form, so the same bits.
 * Included by the kernel templates (dwpw_impl.h, conv_direct_impl.h, conv_direct_bf16_impl.h)
 * after their vector vocabulary and NAME, with the per-vector activation and the one-value
 * epilogue they share. A block of stores is written once, as
 *     CT_EP_DISPATCH(fe, ...CT_EP_PUT(offset, acc, bias)...)
 * and compiled eight times, with L_ (leaky), R_ (residual) and S_ (stream) constants;
 * CT_EP_PUT stores one vector at o + offset (its residual from r + offset, alpha from va), o, r
 * and va being the block's locals. */
#include <stdint.h>

/* ct_activate on a vector, the same choice per lane (max(v, alpha v) for leaky ReLU). */
static inline vf NAME(act)(vf v, ct_act act, float alpha)
{
    if (act == ACT_RELU) return VMAX(v, VZERO);
    if (act == ACT_LEAKY_RELU) return VMAX(v, VMUL(v, VSET1(alpha)));
    return v;
}

/* One value's epilogue, exactly as ct_epilogue defines it (res: the pixel's residual row). */
static inline float NAME(epi)(const ct_epilogue *ep, float v, int c, const float *res)
{
    if (!ep) return v;
    if (ep->bias) v += ep->bias[c];
    v = ct_activate(v, ep->act, ep->alpha);
    if (ep->residual) v = ct_activate(v + res[c], ep->post_act, ep->post_alpha);
    return v;
}

typedef struct {
    int on; /* the fast path applies */
    int leaky, residual, stream;
} NAME(fast_ep);

/* Whether outputs of ep into out (rows of cout floats, streamed or not) take the fast path. */
static inline __attribute__((always_inline)) NAME(fast_ep)
    NAME(fast_of)(const ct_epilogue *ep, const float *out, int cout, int stream)
{
    NAME(fast_ep) f = {0, 0, 0, 0};
    if (!ep || !ep->bias || (ep->act != ACT_NONE && ep->act != ACT_LEAKY_RELU)) return f;
    if (ep->residual && ep->post_act != ACT_NONE) return f;
    /* streamed stores need every vector aligned: the rows keep out's alignment when cout is a
       whole number of vectors (and the kernels store whole vectors from channel 0) */
    if (stream && ((uintptr_t)out % (VL * sizeof(float)) || cout % VL)) return f;
    f.on = 1;
    f.leaky = ep->act == ACT_LEAKY_RELU;
    f.residual = ep->residual != NULL;
    f.stream = stream;
    return f;
}

/* x + b, then max(x, alpha x) when leaky, then + r when residual. */
static inline __attribute__((always_inline)) vf NAME(ep1)(vf x, vf b, vf va, const float *r, const int leaky,
                                                          const int residual)
{
    x = VADD(x, b);
    if (leaky) x = VMAX(x, VMUL(x, va));
    if (residual) x = VADD(x, VLOAD(r));
    return x;
}

static inline __attribute__((always_inline)) void NAME(put)(float *o, vf x, const int stream)
{
    if (stream) VSTREAM(o, x);
    else VSTORE(o, x);
}

#define CT_EP_PUT(off, x, b)                                                                                      \
    NAME(put)(o + (off), NAME(ep1)((x), (b), va, R_ ? r + (off) : NULL, L_, R_), S_);

#define CT_EP_CASE(n, BODY)                                                                                       \
    case n: {                                                                                                     \
        const int L_ = (n) & 1, R_ = (n) >> 1 & 1, S_ = (n) >> 2 & 1;                                             \
        (void)L_; (void)R_; (void)S_;                                                                             \
        BODY                                                                                                      \
    } break;
#define CT_EP_DISPATCH(fe, BODY)                                                                                  \
    switch ((fe).leaky | (fe).residual << 1 | (fe).stream << 2) {                                                 \
        CT_EP_CASE(0, BODY) CT_EP_CASE(1, BODY) CT_EP_CASE(2, BODY) CT_EP_CASE(3, BODY)                           \
        CT_EP_CASE(4, BODY) CT_EP_CASE(5, BODY) CT_EP_CASE(6, BODY) CT_EP_CASE(7, BODY)                           \
    }
