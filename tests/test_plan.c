/* The arena planner's invariants on the real model at several sizes and with every fusion
 * choice: no two blocks (tensors or kernel scratch) that are live at the same step share
 * bytes, every block lies inside the arena and is aligned, and every input a node reads is
 * live when the node runs. A planner bug would silently corrupt outputs at some sizes only. */
#include <string.h>
#include "cartoon.h"
#include "check.h"
#include "model.h"
#include "plan.h"

static cartoon_model *model;

typedef struct { size_t off, bytes; int def, last; const char *what; int node; } blk;

static size_t fake_scratch(void *user, const cartoon_model *m, const ct_plan *p, int i)
{
    /* uneven sizes, some zero, some larger than the tensors around them */
    return (size_t)((i * 7919) % 5) * p->t[i].bytes / 3;
}

/* the step at which node j runs: a node fused into its add runs at its own index, and the
 * add (j) then runs with it at j - 1 */
static int step_of(const ct_plan *p, int j) { return j > 0 && p->t[j - 1].fused ? j - 1 : j; }

static void check_plan(const ct_plan *p, const char *label)
{
    const cartoon_model *m = model;
    blk b[2048];
    int nb = 0;
    for (int i = 0; i < p->n; i++) {
        const ct_tensor_plan *t = &p->t[i];
        if (t->bytes) b[nb++] = (blk){t->offset, t->bytes, t->def, t->last, "tensor", i};
        if (t->scratch_bytes) b[nb++] = (blk){t->scratch_offset, t->scratch_bytes, i, i, "scratch", i};
    }
    int bad = 0;
    for (int a = 0; a < nb; a++) {
        if (b[a].off % CT_ARENA_ALIGN || b[a].off + b[a].bytes > p->arena_bytes) bad++;
        for (int c = a + 1; c < nb; c++) {
            int live_together = !(b[a].last < b[c].def || b[c].last < b[a].def);
            int share = b[a].off < b[c].off + b[c].bytes && b[c].off < b[a].off + b[a].bytes;
            if (live_together && share) {
                bad++;
                fprintf(stderr, "  %s: %s of node %d and %s of node %d overlap\n", label, b[a].what, b[a].node,
                        b[c].what, b[c].node);
            }
        }
    }
    /* every result a node reads sits in a buffer that is live at the step the node runs, and
     * every node's result is in a buffer live from its step */
    for (int j = 1; j < p->n; j++) {
        int s = step_of(p, j);
        const ct_tensor_plan *own = &p->t[p->t[j].store];
        if (!own->bytes || own->def > s || own->last < s) { bad++; fprintf(stderr, "  %s: node %d's buffer not live at %d\n", label, j, s); }
        for (int k = 0; k < m->nodes[j].n_in; k++) {
            int src = m->nodes[j].in[k];
            if (p->t[src].fused && src == j - 1) continue; /* computed in the same pass */
            const ct_tensor_plan *buf = &p->t[p->t[src].store];
            if (!buf->bytes || buf->def > s || buf->last < s) {
                bad++;
                fprintf(stderr, "  %s: node %d reads node %d, whose buffer is not live at step %d\n", label, j, src, s);
            }
            /* reading and writing the same buffer is only planned for the in-place skip add
             * and the in-place residual add (its other operand, never its conv's input) */
            if (p->t[src].store == p->t[j].store &&
                !(j > 0 && p->t[j - 1].fused && m->nodes[j].op == OP_ADD &&
                  (m->nodes[j - 1].op == OP_UPSAMPLE || m->nodes[j - 1].op == OP_CONV2D)))
                bad++;
            if (j > 1 && p->t[j - 1].fused && m->nodes[j - 1].op == OP_CONV2D && m->nodes[j - 1].n_in &&
                p->t[m->nodes[j - 1].in[0]].store == p->t[j].store)
                bad++; /* a conv never writes over its own input */
        }
    }
    const ct_tensor_plan *out = &p->t[p->t[m->output].store];
    if (out->last < p->n) bad++;
    CHECKF(bad == 0, "%s: %d violations", label, bad);
}

static void test_invariants(void)
{
    int sizes[][2] = {{4, 4}, {64, 96}, {300, 452}, {8, 2048}, {2048, 2048}};
    ct_plan p;
    p.t = calloc((size_t)model->n_nodes, sizeof *p.t);
    char err[256];
    ct_err e = {err, sizeof err};
    for (int k = 0; k < 5; k++)
        for (int f = 0; f < 16; f++) {
            ct_fusion_caps caps = {.conv_add = f & 1, .upsample_add = (f >> 1) & 1, .inplace_skip = (f >> 2) & 1,
                                   .inplace_residual = (f >> 3) & 1};
            for (int sc = 0; sc < 2; sc++) {
                char label[96];
                snprintf(label, sizeof label, "%dx%d fusion %d scratch %d", sizes[k][0], sizes[k][1], f, sc);
                CHECK(ct_plan_build(model, sizes[k][0], sizes[k][1], caps, sc ? fake_scratch : NULL, NULL, &p, &e) == CARTOON_OK);
                check_plan(&p, label);
            }
        }
    /* the plan shares memory: at 2048 x 2048 the arena is under half the sum of the tensors */
    ct_fusion_caps all = {.conv_add = 1, .upsample_add = 1, .inplace_skip = 1, .dw_pw = 1, .concat_dw = 1};
    CHECK(ct_plan_build(model, 2048, 2048, all, NULL, NULL, &p, &e) == CARTOON_OK);
    size_t sum = 0;
    for (int i = 0; i < p.n; i++) sum += p.t[i].bytes;
    printf("    2048x2048: arena %.0f MiB for %.0f MiB of tensors\n", p.arena_bytes / 1048576.0, sum / 1048576.0);
    CHECK(p.arena_bytes < sum / 2);
    /* the residual adds in place: the blocks hold two tensors of their size, not three, and
     * the peak is no longer there (the 8 MiB of a 128-channel 1/4-size tensor per 1024^2) */
    size_t without = p.arena_bytes;
    all.inplace_residual = 1;
    CHECK(ct_plan_build(model, 2048, 2048, all, NULL, NULL, &p, &e) == CARTOON_OK);
    printf("    2048x2048: arena %.0f MiB with the residual adds in place\n", p.arena_bytes / 1048576.0);
    CHECK(p.arena_bytes + 2048 / 4 * 2048 / 4 * 128 * sizeof(float) <= without);
    free(p.t);
}

int main(void)
{
    const char *path = test_model_path();
    char err[256];
    if (!path) {
        skip_case("plan", "the shared model is not available");
        return check_summary();
    }
    if (cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        printf("cannot load %s: %s\n", path, err);
        return 1;
    }
    run_case("arena_plan_invariants", test_invariants);
    cartoon_model_free(model);
    return check_summary();
}
