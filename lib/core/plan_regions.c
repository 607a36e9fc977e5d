/* Regions for tiled runs: a tile keeps only its centre, so late layers need far less than the
 * whole tile (the halo is the receptive field of the kept centre through the whole network,
 * a layer near the output only its own few pixels of it). Walking the graph backward from
 * the kept centre gives every tensor the interval its consumers read; walking it forward in
 * step order then crops each tensor to what its remaining consumers read just before a step
 * reads it (dropping rows costs nothing, dropping columns a copy, made only where it pays:
 * worth_moving), and each step computes over what its inputs then hold. Why the result is the
 * untiled one: a needed position reads only needed positions, all inside the regions, so
 * the zero padding (or clamping) a kernel applies at a cropped edge never reaches a needed
 * value; where a region edge is the tile's edge at the image border it is the untiled run's
 * own edge. Region edges are kept on multiples of pad_multiple >> level (the untiled grid),
 * so stride-2 convolutions sample the same pixels, SAME padding splits the same way and
 * upsampled positions keep their parity. The two axes are independent (square kernels,
 * separable upsampling and boxes), so each is walked on its own. Whatever the walk cannot
 * place (a tensor that would have to grow, operands that cannot share a region) leaves the
 * plan without regions: correct, only slower. */
#include <limits.h>
#include <string.h>
#include "plan.h"

typedef struct { int lo, hi; } span; /* [lo, hi) */

static span hull(span a, span b)
{
    return (span){a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
}

static int inside(span a, span b) { return b.lo <= a.lo && a.hi <= b.hi; } /* a in b */

/* Outward to the untiled grid at this level, inside [0, len). */
static span align(const cartoon_model *m, span s, int level, int len)
{
    int a = m->pad_multiple >> level;
    if (a < 1) a = 1;
    s.lo = s.lo < 0 ? 0 : s.lo / a * a;
    s.hi = (s.hi + a - 1) / a * a;
    if (s.hi > len) s.hi = len;
    return s;
}

/* What node q reads of its input k, in that input's pixels, for its output over `need`
 * (the same reads as tiling.c's axis_walk), clipped to the input. */
static span reads(const cartoon_model *m, int T, int q, int k, span need, int shrink)
{
    const ct_node *nd = &m->nodes[q];
    int len = T >> nd->level, nin = T >> m->nodes[nd->in[k]].level;
    span r = need;
    switch (nd->op) {
    case OP_CONV2D:
    case OP_DEPTHWISE_CONV2D: {
        int s = nd->stride, total = (len - 1) * s + nd->kernel - nin, before = total > 0 ? total / 2 : 0;
        if (nd->kernel <= 2 * shrink) shrink = 0; /* a window that would vanish */
        r.lo = need.lo * s - before + shrink;
        r.hi = (need.hi - 1) * s - before + nd->kernel - shrink;
        break;
    }
    case OP_UPSAMPLE: r.lo = need.lo / 2; r.hi = need.hi / 2 + 1; break; /* odd outputs read the next */
    case OP_GUIDED_FILTER: r.lo = need.lo - 2 * nd->radius; r.hi = need.hi + 2 * nd->radius; break;
    default: break; /* add, concat: pointwise */
    }
    if (r.lo < 0) r.lo = 0;
    if (r.hi > nin) r.hi = nin;
    return r;
}

static span get(const int *a) { return (span){a[0], a[1]}; }
static void put(int *a, span s) { a[0] = s.lo; a[1] = s.hi; }

/* Whether node q's input src is worth cropping along the columns from `was` to `to`.
 * Dropping rows is free (the tensor's start moves, the executor's crop_in_place), dropping
 * columns moves every row that is kept. A convolution's input: the copy (about 32
 * multiply-adds' time per float moved, on the CPU) against the multiply-adds the dropped
 * columns save. An upsample's input never: its narrower output would force its skip partner,
 * a tensor of twice the size, to be copied narrower too, and so on up the decoder (at
 * 2048 x 2048 in 2 x 3 tiles that moved 1.17 GB per image to save 4% of the FLOPs; without
 * it 0.10 GB for 3.7%). Operands of adds, concats and the guided filter are cropped to their
 * partner's region whatever this says. */
static int worth_moving(const cartoon_model *m, int q, int src, span to, span was)
{
    const ct_node *nd = &m->nodes[q];
    if (nd->op == OP_UPSAMPLE) return 0;
    if (nd->op != OP_CONV2D && nd->op != OP_DEPTHWISE_CONV2D) return 1;
    double drop = (double)(was.hi - was.lo) - (to.hi - to.lo), keep = (double)(to.hi - to.lo);
    double macs = (double)nd->kernel * nd->kernel * (nd->op == OP_CONV2D ? (double)nd->cin * nd->channels : nd->channels);
    return drop * macs >= 32.0 * keep * m->nodes[src].channels;
}

/* One axis (0: rows, 1: columns) of length T, the tile's; lo_in / hi_in: its start / end edge
 * is inside the image. Sets every node's region along it (ry0/ry1 or rx0/rx1) and the crops
 * of the stored inputs its step reads (cut[k][0..1] or [2..3]). 0, or -1 when the regions
 * cannot be placed. */
static int axis_regions(const cartoon_model *m, ct_plan *p, int axis, int T, int lo_in, int hi_in, int before,
                        int after, int shrink)
{
    const int n = m->n_nodes, out = m->output;
    ct_tensor_plan *t = p->t;
    for (int i = 0; i < n; i++) {
        put(t[i].need, (span){INT_MAX, INT_MIN});
        t[i].seen = -1;
    }
    span need_out = {lo_in ? before : 0, hi_in ? T - after : T};
    if (need_out.lo >= need_out.hi) return -1;
    put(t[out].need, need_out);
    for (int q = n - 1; q >= 0; q--) { /* consumers come after their inputs */
        const ct_node *nd = &m->nodes[q];
        span nq = get(t[q].need);
        if (nq.lo >= nq.hi) return -1; /* a node nothing needs: no regions */
        nq = align(m, nq, nd->level, T >> nd->level);
        put(t[q].need, nq);
        for (int k = 0; k < nd->n_in; k++) {
            span r = reads(m, T, q, k, nq, shrink);
            put(t[q].reads[k], r);
            put(t[nd->in[k]].need, hull(get(t[nd->in[k]].need), r));
        }
    }
    need_out = get(t[out].need);
    put(t[0].cur, (span){0, T});
    for (int i = 1; i < n; i++) {
        if (t[i - 1].fused) continue; /* ran in the step of the chain's first node */
        int j = i;
        while (t[j].fused) j++;
        for (int q = i; q <= j; q++) {
            const ct_node *nd = &m->nodes[q];
            span target[CT_MAX_INPUTS], was[CT_MAX_INPUTS];
            /* what the remaining consumers (this step's on) read of each stored input */
            for (int k = 0; k < nd->n_in; k++) {
                int src = nd->in[k];
                if (src >= i) continue; /* inside the chain: never stored, never cropped */
                span r = {INT_MAX, INT_MIN};
                for (int c = i; c < n; c++)
                    for (int kk = 0; kk < m->nodes[c].n_in; kk++)
                        if (m->nodes[c].in[kk] == src) r = hull(r, get(t[c].reads[kk]));
                if (src == out) r = hull(r, need_out); /* read back after the last step */
                target[k] = align(m, r, m->nodes[src].level, T >> m->nodes[src].level);
                was[k] = get(t[src].cur);
                if (!inside(target[k], was[k])) return -1;
                if (axis == 1 && !worth_moving(m, q, src, target[k], was[k])) target[k] = was[k];
            }
            span o;
            if (nd->op == OP_CONV2D || nd->op == OP_DEPTHWISE_CONV2D || nd->op == OP_UPSAMPLE) {
                int src = nd->in[0];
                if (src < i) put(t[src].cur, target[0]);
                span in = get(t[src].cur);
                if (nd->op == OP_UPSAMPLE) o = (span){2 * in.lo, 2 * in.hi};
                else if (in.lo % nd->stride || in.hi % nd->stride) return -1; /* off the stride grid */
                else o = (span){in.lo / nd->stride, in.hi / nd->stride};
            } else { /* add, concat, guided filter: every operand over the same region */
                int internal = -1;
                span r = {INT_MAX, INT_MIN};
                for (int k = 0; k < nd->n_in; k++) {
                    if (nd->in[k] >= i) internal = nd->in[k];
                    else r = hull(r, target[k]);
                }
                if (internal >= 0) {
                    if (r.lo < r.hi && !inside(r, get(t[internal].cur))) return -1;
                    r = get(t[internal].cur);
                }
                for (int k = 0; k < nd->n_in; k++) {
                    int src = nd->in[k];
                    span c = get(t[src].cur);
                    if (src >= i) {
                        if (c.lo != r.lo || c.hi != r.hi) return -1;
                    } else if (!inside(r, was[k])) return -1;
                    else put(t[src].cur, r);
                }
                o = r;
            }
            /* a tensor has one region for its whole step: the chain's kernels read it together */
            for (int k = 0; k < nd->n_in; k++) {
                int src = nd->in[k];
                if (src >= i) continue;
                span c = get(t[src].cur);
                if (t[src].seen >= i && t[src].seen != q && (c.lo != was[k].lo || c.hi != was[k].hi)) return -1;
                t[src].seen = q;
                put(&t[q].cut[k][2 * axis], c);
            }
            if (!inside(get(t[q].need), o)) return -1;
            put(t[q].cur, o);
            if (axis) { t[q].rx0 = o.lo; t[q].rx1 = o.hi; }
            else { t[q].ry0 = o.lo; t[q].ry1 = o.hi; }
        }
    }
    return inside(need_out, get(t[out].cur)) ? 0 : -1;
}

/* No regions: every node over its whole tensor, nothing cropped. */
static void whole(const cartoon_model *m, ct_plan *p)
{
    for (int i = 0; i < m->n_nodes; i++) {
        ct_tensor_plan *t = &p->t[i];
        t->ry0 = t->rx0 = 0;
        t->ry1 = p->ph >> m->nodes[i].level;
        t->rx1 = p->pw >> m->nodes[i].level;
        memset(t->cut, 0, sizeof t->cut);
    }
    p->sides = p->before = p->after = 0;
}

int ct_plan_regions(const cartoon_model *m, ct_plan *p, int sides, int before, int after, int shrink)
{
    whole(m, p);
    if (!sides) return 1;
    if (axis_regions(m, p, 0, p->ph, sides & 1, sides & 2, before, after, shrink) ||
        axis_regions(m, p, 1, p->pw, sides & 4, sides & 8, before, after, shrink)) {
        whole(m, p);
        return 1;
    }
    p->sides = sides; p->before = before; p->after = after;
    return 0;
}
