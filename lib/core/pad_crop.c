/* Edge padding to the model's multiple and cropping back: part of the graph's contract
 * with the caller, the same for every backend (done on host memory). */
#include <string.h>
#include "pad_crop.h"

void ct_pad_edge(const float *in, int h, int w, int c, float *out, int ph, int pw)
{
    for (int y = 0; y < ph; y++) {
        const float *src = in + (size_t)(y < h ? y : h - 1) * w * c;
        float *dst = out + (size_t)y * pw * c;
        memcpy(dst, src, (size_t)w * c * sizeof *dst);
        for (int x = w; x < pw; x++) memcpy(dst + (size_t)x * c, src + (size_t)(w - 1) * c, (size_t)c * sizeof *dst);
    }
}

void ct_crop(const float *in, int pw, int c, float *out, int h, int w)
{
    for (int y = 0; y < h; y++)
        memcpy(out + (size_t)y * w * c, in + (size_t)y * pw * c, (size_t)w * c * sizeof *out);
}
