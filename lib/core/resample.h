/* Image resampling for the `resolution` option: area averaging when shrinking (every source
 * pixel counts, no aliasing), bilinear with half-pixel centres when enlarging. */
#ifndef CARTOON_RESAMPLE_H
#define CARTOON_RESAMPLE_H
#include "cartoon.h"

/* Resamples an ih x iw x c float image into oh x ow x c. Allocates a temporary of
 * ih * ow * c floats plus the filter tables; CARTOON_E_OUT_OF_MEMORY if that fails. */
cartoon_status ct_resample(const float *in, int iw, int ih, int c, float *out, int ow, int oh);
#endif
