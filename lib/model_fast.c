/* Weights for the fast CPU path are transformed once at load and shared read-only by all
 * contexts: every 3x3 stride-1 conv2d gets its Winograd form (lib/conv_winograd.h), every
 * other conv2d but the pointwise ones (a plain sgemm) a packed direct kernel
 * (lib/conv_direct.h). */
#include "conv_direct.h"
#include "conv_winograd.h"
#include "model_fast.h"

cartoon_status ct_fast_prepare(cartoon_model *m, ct_err *e)
{
    for (int i = 0; i < m->n_nodes; i++) {
        ct_node *n = &m->nodes[i];
        if (n->op != OP_CONV2D) continue;
        if (n->kernel != 3 || n->stride != 1) {
            if (n->kernel == 1 && n->stride == 1) continue;
            ct_direct *d = NULL;
            cartoon_status st = ct_direct_create(n->weight, n->cin, n->channels, n->kernel, &d);
            if (st) return ct_fail(e, st, "node '%s': cannot pack direct-convolution weights", n->name);
            n->direct = d;
            continue;
        }
        ct_winograd *wg = NULL;
        cartoon_status st = ct_winograd_create(n->weight, n->cin, n->channels, &wg);
        if (st) return ct_fail(e, st, "node '%s': cannot prepare Winograd weights", n->name);
        n->fast = wg;
    }
    return CARTOON_OK;
}

void ct_fast_release(ct_node *n)
{
    if (n->fast) ct_winograd_free(n->fast);
    if (n->direct) ct_direct_free(n->direct);
    n->fast = n->direct = NULL;
}
