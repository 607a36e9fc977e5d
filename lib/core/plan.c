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
    if (consumers(m, i, &only) != 1 || only != i + 1) return 0;
    if (n->op == OP_DEPTHWISE_CONV2D)
        return caps.dw_pw && a->op == OP_CONV2D && a->kernel == 1 && a->stride == 1;
    if (n->op == OP_CONCAT) return caps.concat_dw && a->op == OP_DEPTHWISE_CONV2D && can_fuse(m, i + 1, caps);
    if (n->op == OP_UPSAMPLE && a->op == OP_CONCAT) return caps.upsample_concat && can_fuse(m, i + 1, caps);
    if (a->op != OP_ADD) return 0;
    if (a->in[0] == a->in[1]) return 0; /* x + x: both operands are this node */
    if (n->op == OP_CONV2D) return caps.conv_add;
    if (n->op == OP_UPSAMPLE) return caps.upsample_add && a->act == ACT_NONE;
    return 0;
}

/* A block to place in the arena: a node's output or a node's scratch. */
typedef struct {
    size_t bytes;
    int def, last;
    size_t *offset;
    int node;
} block;

static int cmp_size(const void *a, const void *b)
{
    const block *x = a, *y = b;
    return x->bytes > y->bytes ? -1 : x->bytes < y->bytes ? 1 : x->node - y->node;
}

cartoon_status ct_plan_build(const cartoon_model *m, int ph, int pw, ct_fusion_caps caps,
                             ct_scratch_fn scratch, void *scratch_user, ct_plan *p, ct_err *e)
{
    int n = m->n_nodes;
    p->ph = ph; p->pw = pw; p->n = n; p->arena_bytes = 0;
    p->sides = p->before = p->after = 0;
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
        tp->ry1 = tp->h; /* the whole tensor: no regions until ct_plan_regions */
        tp->rx1 = tp->w;
    }
    for (int i = 0; i < n; i++) {
        if (i > 0 && t[i - 1].fused && m->nodes[i].op == OP_ADD) continue; /* a fused add is not fused further */
        if (can_fuse(m, i, caps)) t[i].fused = 1;
    }
    for (int i = n - 2; i >= 0; i--) /* a chain's result is in its last node's buffer */
        if (t[i].fused) t[i].store = t[i + 1].store;
    /* A buffer lives from the step that writes it to the last step that reads it. A fused
     * chain runs at its first node's step, earlier than its later nodes, so counting their
     * own indices as the reads is conservative. */
    for (int j = 0; j < n; j++)
        for (int k = 0; k < m->nodes[j].n_in; k++) {
            int src = m->nodes[j].in[k];
            if (j > t[src].last) t[src].last = j;
        }
    t[m->output].last = n; /* read back after the last node */
    for (int i = 0; i < n; i++)
        if (t[i].fused) { t[i + 1].def = t[i].def; t[i].bytes = 0; }

    /* A fused upsample + skip add may write its sum over the skip operand when that dies
     * there: each element of the skip is read just before the same element is written. At
     * full resolution this saves the largest buffer of the network (32 channels). */
    for (int i = 0; caps.inplace_skip && i + 1 < n; i++) {
        if (!t[i].fused || m->nodes[i].op != OP_UPSAMPLE || m->nodes[i + 1].op != OP_ADD) continue;
        const ct_node *add = &m->nodes[i + 1];
        int skip = add->in[0] == i ? add->in[1] : add->in[0];
        if (skip == 0 || t[skip].store != skip || t[skip].last != i + 1 || t[skip].bytes != t[i + 1].bytes ||
            i + 1 == m->output)
            continue;
        t[skip].last = t[i + 1].last;
        t[i + 1].bytes = 0;
        t[i + 1].store = t[i].store = skip;
    }

    /* Likewise a conv2d fused with its add may write the sum over its residual operand when
     * that dies there (through a chain of such adds: the residual blocks then hold two
     * tensors of their size, not three). Only a conv that starts its step: the kernels that
     * run a longer chain are not asked for it. */
    for (int i = 0; caps.inplace_residual && i + 1 < n; i++) {
        if (!t[i].fused || m->nodes[i].op != OP_CONV2D || m->nodes[i + 1].op != OP_ADD || (i > 0 && t[i - 1].fused))
            continue;
        const ct_node *add = &m->nodes[i + 1];
        int res = add->in[0] == i ? add->in[1] : add->in[0], buf = t[res].store;
        /* the conv must not read the buffer it would write over: conv(x) + x stays apart */
        if (buf == 0 || t[res].last != i + 1 || t[buf].last != i + 1 || t[buf].bytes != t[i + 1].bytes ||
            i + 1 == m->output || t[m->nodes[i].in[0]].store == buf)
            continue;
        t[buf].last = t[i + 1].last;
        t[i + 1].bytes = 0;
        t[i + 1].store = t[i].store = buf;
    }

    /* Scratch lives at the step its node runs: a fused chain runs at its first node's step. */
    for (int i = 1; i < n && scratch; i++)
        if (!(t[i - 1].fused)) t[i].scratch_bytes = scratch(scratch_user, m, p, i);

    block *order = malloc((size_t)2 * n * sizeof *order);
    if (!order) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory to plan");
    int nb = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].bytes) order[nb++] = (block){t[i].bytes, t[i].def, t[i].last, &t[i].offset, i};
        if (t[i].scratch_bytes) order[nb++] = (block){t[i].scratch_bytes, i, i, &t[i].scratch_offset, i};
    }
    qsort(order, (size_t)nb, sizeof *order, cmp_size);
    /* Greedy placement, largest first: each block goes at the lowest offset where it does
     * not overlap, in address and lifetime, any block already placed. */
    for (int a = 0; a < nb; a++) {
        block *bi = &order[a];
        size_t sz;
        if (!ct_add_size(bi->bytes, CT_ARENA_ALIGN - 1, &sz)) {
            const char *name = m->nodes[bi->node].name; /* bi points into order */
            free(order);
            return ct_fail(e, CARTOON_E_LIMIT, "node '%s': tensor size overflows", name);
        }
        sz = sz / CT_ARENA_ALIGN * CT_ARENA_ALIGN;
        size_t off = 0;
        for (int moved = 1; moved;) {
            moved = 0;
            for (int b = 0; b < a; b++) {
                const block *bj = &order[b];
                if (bj->last < bi->def || bi->last < bj->def) continue;
                /* offsets and sizes were checked when placed: every end fits in size_t
                 * with the alignment slack (checked below) */
                if (off < *bj->offset + bj->bytes && *bj->offset < off + sz) {
                    off = (*bj->offset + bj->bytes + CT_ARENA_ALIGN - 1) / CT_ARENA_ALIGN * CT_ARENA_ALIGN;
                    moved = 1;
                }
            }
        }
        size_t end;
        if (!ct_add_size(off, sz, &end) || !ct_add_size(end, CT_ARENA_ALIGN, &end)) {
            const char *name = m->nodes[bi->node].name;
            free(order);
            return ct_fail(e, CARTOON_E_LIMIT, "node '%s': arena size overflows", name);
        }
        end -= CT_ARENA_ALIGN;
        *bi->offset = off;
        if (end > p->arena_bytes) p->arena_bytes = end;
    }
    free(order);
    return CARTOON_OK;
}
