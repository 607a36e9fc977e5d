/* The bf16 form of the Winograd weights (conv_winograd.h): the fp32 transform, rounded and
 * repacked into the input-channel pairs VDPBF16PS multiplies. */
#include <stdlib.h>
#include "bf16_emul.h"
#include "conv_winograd_impl.h"

cartoon_status ct_winograd_create_bf16(const float *w, int cin, int cout, ct_winograd **out)
{
    ct_winograd *wg = NULL;
    cartoon_status st = ct_winograd_create_tile(w, cin, cout, 4, &wg);
    if (st) return st;
    const size_t AA = 36, kp = ((size_t)cin + 1) / 2, n = (size_t)wg->nblk * AA * kp * 2 * WG_NR;
    wg->ub = aligned_alloc(64, (n * sizeof *wg->ub + 63) / 64 * 64);
    if (!wg->ub) { ct_winograd_free(wg); return CARTOON_E_OUT_OF_MEMORY; }
    for (size_t bp = 0; bp < (size_t)wg->nblk * AA; bp++) /* (block, point) pairs */
        for (size_t k = 0; k < 2 * kp; k++)
            for (int j = 0; j < WG_NR; j++) {
                float v = k < (size_t)cin ? wg->u[(bp * cin + k) * WG_NR + j] : 0.f;
                wg->ub[((bp * kp + k / 2) * WG_NR + j) * 2 + k % 2] = ct_bf16_round(v);
            }
    free(wg->u); /* the bf16 kernels never read the fp32 weights */
    wg->u = NULL;
    *out = wg;
    return CARTOON_OK;
}

int ct_winograd_is_bf16(const ct_winograd *wg) { return wg && wg->ub; }
