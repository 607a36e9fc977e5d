#include "plan.h"
#include <stdlib.h>
#include <string.h>

static int consumers(const cartoon_model *m, int i, int *only)
{
    int count = 0;
    for (int j = i + 1; j < m->n_nodes; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++)
            if (m->nodes[j].in[k] == i) { count++; *only = j; }
    return count;
}

static int can_fuse(const cartoon_model *m, int i, ct_fusion_caps caps)
{
    if (i + 1 >= m->n_nodes || i == m->output) return 0;
    const ct_node *n = &m->nodes[i], *a = &m->nodes[i + 1];
    int only = -1;
    if (a->op != OP_ADD || consumers(m, i, &only) != 1 || only != i + 1) return 0;
    if (a->in[0] == a->in[1]) return 0; /* x + x: both operands are this node */
    if (n->op == OP_CONV2D) return caps.conv_add;
    if (n->op == OP_UPSAMPLE) return caps.upsample_add && a->act == ACT_NONE;
    return 0;
}

typedef struct { size_t bytes; int idx; } by_size;
static int cmp_size(const void *a, const void *b)
{
    const by_size *x = a, *y = b;
    return x->bytes > y->bytes ? -1 : x->bytes < y->bytes ? 1 : x->idx - y->idx;
}

cartoon_status ct_plan_build(const cartoon_model *m, int ph, int pw, ct_fusion_caps caps, ct_plan *p,
                             ct_err *e)
{
    int n = m->n_nodes;
    p->ph = ph; p->pw = pw; p->n = n; p->arena_bytes = 0;
    ct_tensor_plan *t = p->t;
    for (int i = 0; i < n; i++) {
        const ct_node *nd = &m->nodes[i];
        ct_tensor_plan *tp = &t[i];
        memset(tp, 0, sizeof *tp);
        tp->h = ph >> nd->level;
        tp->w = pw >> nd->level;
        tp->c = nd->channels;
        size_t px, el;
        if (!ct_mul_size((size_t)tp->h, (size_t)tp->w, &px) || !ct_mul_size(px, (size_t)tp->c, &el) ||
            !ct_mul_size(el, sizeof(float), &tp->bytes))
            return ct_fail(e, CARTOON_E_LIMIT, "node '%s': tensor size overflows", nd->name);
        tp->def = tp->last = i;
        tp->store = i;
    }
    for (int i = 0; i < n; i++) {
        if (i > 0 && t[i - 1].fused) continue; /* a fused add is not fused further */
        if (can_fuse(m, i, caps)) { t[i].fused = 1; t[i].store = i + 1; }
    }
    /* A buffer lives from the step that writes it to the last step that reads it. A fused
     * pair runs at the producer's step, one earlier than its add, so counting the add's own
     * index as the read is conservative. */
    for (int j = 0; j < n; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++) {
            int src = m->nodes[j].in[k];
            if (j > t[src].last) t[src].last = j;
        }
    t[m->output].last = n; /* read back after the last node */
    for (int i = 0; i < n; i++)
        if (t[i].fused) { t[i + 1].def = i; t[i].bytes = 0; }

    by_size *order = malloc((size_t)n * sizeof *order);
    if (!order) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory to plan");
    for (int i = 0; i < n; i++) order[i] = (by_size){t[i].bytes, i};
    qsort(order, (size_t)n, sizeof *order, cmp_size);
    /* Greedy placement, largest first: each buffer goes at the lowest offset where it does
     * not overlap, in address and lifetime, any buffer already placed. */
    for (int a = 0; a < n; a++) {
        int i = order[a].idx;
        if (!t[i].bytes) continue;
        size_t sz;
        if (!ct_add_size(t[i].bytes, CT_ARENA_ALIGN - 1, &sz)) {
            free(order);
            return ct_fail(e, CARTOON_E_LIMIT, "node '%s': tensor size overflows", m->nodes[i].name);
        }
        sz = sz / CT_ARENA_ALIGN * CT_ARENA_ALIGN;
        size_t off = 0;
        for (int moved = 1; moved;) {
            moved = 0;
            for (int b = 0; b < a; b++) {
                int j = order[b].idx;
                if (!t[j].bytes || t[j].last < t[i].def || t[i].last < t[j].def) continue;
                /* offsets and sizes were checked when placed: every end fits in size_t
                 * with the alignment slack (checked below) */
                if (off < t[j].offset + t[j].bytes && t[j].offset < off + sz) {
                    off = (t[j].offset + t[j].bytes + CT_ARENA_ALIGN - 1) / CT_ARENA_ALIGN * CT_ARENA_ALIGN;
                    moved = 1;
                }
            }
        }
        size_t end;
        if (!ct_add_size(off, sz, &end) || !ct_add_size(end, CT_ARENA_ALIGN, &end)) {
            free(order);
            return ct_fail(e, CARTOON_E_LIMIT, "node '%s': arena size overflows", m->nodes[i].name);
        }
        end -= CT_ARENA_ALIGN;
        t[i].offset = off;
        if (end > p->arena_bytes) p->arena_bytes = end;
    }
    free(order);
    return CARTOON_OK;
}
