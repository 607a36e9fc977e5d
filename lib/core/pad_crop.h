/* Padding and cropping of host float images (pad_crop.c). */
#ifndef CARTOON_PAD_CROP_H
#define CARTOON_PAD_CROP_H

/* Copies an h x w x c image into a ph x pw x c buffer, replicating the last row and column
 * into the padding (ph >= h, pw >= w). */
void ct_pad_edge(const float *in, int h, int w, int c, float *out, int ph, int pw);
/* Copies the top-left h x w pixels of a tensor whose rows are pw pixels wide. */
void ct_crop(const float *in, int pw, int c, float *out, int h, int w);
#endif
