/* Weights prepared at load for the fast CPU kernels (Winograd), kept beside the graph. */
#ifndef CARTOON_MODEL_FAST_H
#define CARTOON_MODEL_FAST_H
#include "errors.h"
#include "model.h"

/* Prepares node->fast for every node a fast kernel can run; leaves others NULL. */
cartoon_status ct_fast_prepare(cartoon_model *m, ct_err *e);
/* Frees node->fast. */
void ct_fast_release(ct_node *n);
#endif
