/* Elementwise add and channel concatenation: memory-bound loops. */
#include <string.h>
#include "ops.h"

typedef struct {
    const float *a, *b;
    float *out;
    size_t n, chunk;
    ct_act act;
    float alpha;
} add_job;

static void add_chunk(void *arg, int i, int tid)
{
    const add_job *j = arg;
    size_t lo = (size_t)i * j->chunk, hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
    for (size_t k = lo; k < hi; k++) j->out[k] = ct_activate(j->a[k] + j->b[k], j->act, j->alpha);
}

void ct_add(const float *a, const float *b, float *out, size_t n, ct_act act, float alpha, ct_pool *pool)
{
    add_job j = {a, b, out, n, 1 << 16, act, alpha};
    ct_pool_run(pool, (int)((n + j.chunk - 1) / j.chunk), add_chunk, &j);
}

void ct_concat(const float *const *ins, const int *c, int k, size_t pixels, float *out)
{
    int total = 0;
    for (int i = 0; i < k; i++) total += c[i];
    for (size_t p = 0; p < pixels; p++) {
        float *o = out + p * total;
        for (int i = 0; i < k; i++) {
            memcpy(o, ins[i] + p * c[i], (size_t)c[i] * sizeof *o);
            o += c[i];
        }
    }
}
