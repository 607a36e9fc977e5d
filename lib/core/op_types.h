/* What a kernel of any backend needs to know about an op: the activation, the epilogue
 * applied as outputs are stored, and convolution geometry with TensorFlow SAME padding.
 * The graph (model.h) and every backend's kernels share these definitions. */
#ifndef CARTOON_OP_TYPES_H
#define CARTOON_OP_TYPES_H
#include <stddef.h>

typedef enum { ACT_NONE = 0, ACT_RELU = 1, ACT_LEAKY_RELU = 2 } ct_act;

static inline float ct_activate(float v, ct_act act, float alpha)
{
    switch (act) {
    case ACT_RELU: return v > 0.f ? v : 0.f;
    case ACT_LEAKY_RELU: return v > alpha * v ? v : alpha * v; /* max(v, alpha v), alpha < 1 */
    default: return v;
    }
}

/* What happens to each accumulated output value v of channel c at pixel p:
 *   v = act(v + bias[c]); if (residual) v = post_act(v + residual[p*cout + c]) */
typedef struct ct_epilogue {
    const float *bias;     /* [cout] or NULL */
    ct_act act;
    float alpha;
    const float *residual; /* NHWC like the output, or NULL */
    ct_act post_act;
    float post_alpha;
} ct_epilogue;

/* Geometry of a 2-D convolution with TensorFlow SAME padding. */
typedef struct ct_conv_shape {
    int h, w, cin;       /* input */
    int oh, ow, cout;    /* output: oh = ceil(h / stride) */
    int k, stride;       /* square kernel, odd */
    int pad_top, pad_left; /* SAME: total = max((o-1)*s + k - in, 0), before = total/2 */
} ct_conv_shape;

/* Fills the output size and padding of *s from h, w, cin, cout, k, stride. */
void ct_conv_shape_init(ct_conv_shape *s, int h, int w, int cin, int cout, int k, int stride);
#endif
