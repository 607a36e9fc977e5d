/* The table of backends a context chooses from, in order of preference for
 * CARTOON_DEVICE_AUTO: a usable GPU first, the CPU always last. A new backend is one more
 * entry here and a descriptor of its own. */
#include <stdio.h>
#include "backend.h"

const ct_backend_desc *const ct_backends[] = {&ct_backend_cuda, &ct_backend_cpu};
const int ct_backend_count = (int)(sizeof ct_backends / sizeof ct_backends[0]);

int ct_backend_runs_model(const ct_backend_desc *d, const cartoon_model *m, char *why,
                          size_t why_size)
{
    for (int i = 1; i < m->n_nodes; i++)
        if (!d->supports(&m->nodes[i])) {
            if (why && why_size)
                snprintf(why, why_size, "the %s backend has no kernel for node '%s' (%s)", d->name,
                         m->nodes[i].name, ct_op_names[m->nodes[i].op]);
            return 0;
        }
    return 1;
}
