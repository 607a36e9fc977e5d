/* Facts about the graph that every backend and the executor share: op names, FLOP counts
 * and convolution geometry. */
#include "model.h"

const char *const ct_op_names[OP_COUNT] = {
    [OP_INPUT] = "input", [OP_CONV2D] = "conv2d", [OP_DEPTHWISE_CONV2D] = "depthwise_conv2d",
    [OP_ADD] = "add", [OP_CONCAT] = "concat", [OP_UPSAMPLE] = "upsample",
    [OP_GUIDED_FILTER] = "guided_filter",
};

double ct_node_flops(const cartoon_model *m, int i, int ph, int pw)
{
    const ct_node *n = &m->nodes[i];
    double px = (double)(ph >> n->level) * (double)(pw >> n->level);
    switch (n->op) {
    case OP_CONV2D: return 2.0 * px * n->kernel * n->kernel * n->cin * n->channels;
    case OP_DEPTHWISE_CONV2D: return 2.0 * px * n->kernel * n->kernel * n->channels;
    case OP_ADD: return px * n->channels;
    case OP_UPSAMPLE: return 4.0 * px * n->channels;
    case OP_GUIDED_FILTER: return 40.0 * px * n->channels;
    default: return 0;
    }
}

void ct_conv_shape_init(ct_conv_shape *s, int h, int w, int cin, int cout, int k, int stride)
{
    s->h = h; s->w = w; s->cin = cin; s->cout = cout; s->k = k; s->stride = stride;
    s->oh = (h + stride - 1) / stride;
    s->ow = (w + stride - 1) / stride;
    int th = (s->oh - 1) * stride + k - h, tw = (s->ow - 1) * stride + k - w;
    s->pad_top = th > 0 ? th / 2 : 0;
    s->pad_left = tw > 0 ? tw / 2 : 0;
}
