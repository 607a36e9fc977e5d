/* Which kernel each convolution of a model gets on the fast CPU path, and its weights in
 * that kernel's layout (cpu_weights.h). */
#include <stdlib.h>
#include "cpu_weights.h"

static void weights_free(void *data)
{
    ct_cpu_weights *w = data;
    if (!w) return;
    for (int i = 0; i < w->n; i++) {
        ct_winograd_free(w->node[i].winograd);
        ct_direct_free(w->node[i].direct);
        ct_pointwise_free(w->node[i].pointwise);
    }
    free(w->node);
    free(w);
}

static cartoon_status weights_build_as(const cartoon_model *m, int bf16, void **data, ct_err *e)
{
    ct_cpu_weights *w = calloc(1, sizeof *w);
    if (w) w->node = calloc((size_t)m->n_nodes, sizeof *w->node);
    if (!w || !w->node) {
        free(w);
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the CPU weight table");
    }
    w->n = m->n_nodes;
    for (int i = 0; i < m->n_nodes; i++) {
        const ct_node *n = &m->nodes[i];
        if (n->op != OP_CONV2D) continue;
        cartoon_status st;
        if (n->kernel == 1 && n->stride == 1) {
            st = ct_pointwise_create(n->weight, n->cin, n->channels, &w->node[i].pointwise);
            if (st) st = ct_fail(e, st, "node '%s': cannot pack pointwise weights", n->name);
        } else if (n->kernel == 3 && n->stride == 1 && n->cin >= 8 && n->channels >= 8) {
            /* with fewer than 8 input or output channels (an RGB stem or output layer) the
             * transforms cost more than the multiplications they save: direct is faster */
            st = bf16 ? ct_winograd_create_bf16(n->weight, n->cin, n->channels, &w->node[i].winograd)
                      : ct_winograd_create(n->weight, n->cin, n->channels, &w->node[i].winograd);
            if (st) st = ct_fail(e, st, "node '%s': cannot prepare Winograd weights", n->name);
        } else {
            st = bf16 && ct_direct_bf16_ok(n->cin, n->channels, n->kernel)
                     ? ct_direct_create_bf16(n->weight, n->cin, n->channels, n->kernel, &w->node[i].direct)
                     : ct_direct_create(n->weight, n->cin, n->channels, n->kernel, &w->node[i].direct);
            if (st) st = ct_fail(e, st, "node '%s': cannot pack direct-convolution weights", n->name);
        }
        if (st) {
            weights_free(w);
            return st;
        }
    }
    *data = w;
    return CARTOON_OK;
}

static cartoon_status weights_build(const cartoon_model *m, void **data, ct_err *e)
{
    return weights_build_as(m, 0, data, e);
}

static cartoon_status weights_build_bf16(const cartoon_model *m, void **data, ct_err *e)
{
    return weights_build_as(m, 1, data, e);
}

cartoon_status ct_cpu_weights_get_bf16(const cartoon_model *m, const ct_cpu_weights **out, ct_err *e)
{
    void *data = NULL;
    cartoon_status st = ct_model_backend_data(m, CT_SLOT_CPU_BF16, weights_build_bf16, weights_free, &data, e);
    *out = data;
    return st;
}

cartoon_status ct_cpu_weights_get(const cartoon_model *m, const ct_cpu_weights **out, ct_err *e)
{
    void *data = NULL;
    cartoon_status st = ct_model_backend_data(m, CT_SLOT_CPU, weights_build, weights_free, &data, e);
    *out = data;
    return st;
}
