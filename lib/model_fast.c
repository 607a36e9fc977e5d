/* Weights for the fast CPU path are transformed once at load: every 3x3 stride-1 conv2d
 * gets its Winograd form (lib/conv_winograd.h), shared read-only by all contexts. */
#include "conv_winograd.h"
#include "model_fast.h"

cartoon_status ct_fast_prepare(cartoon_model *m, ct_err *e)
{
    for (int i = 0; i < m->n_nodes; i++) {
        ct_node *n = &m->nodes[i];
        if (n->op != OP_CONV2D || n->kernel != 3 || n->stride != 1) continue;
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
    n->fast = NULL;
}
