/* The CPU backend: one malloc'd arena holding the activations and every node's scratch
 * (both planned from lifetimes by lib/plan.c), and the kernels of lib/ops.h (Winograd for 3x3 stride-1 convs on the fast
 * path, im2col + OpenBLAS otherwise). */
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "conv_direct.h"
#include "conv_winograd.h"
#include "cpu_features.h"
#include "ops.h"

/* im2col bands are kept under this size (one output row at least). */
#define IM2COL_TILE_BYTES (8u << 20)

typedef struct cpu_backend {
    ct_backend base;
    ct_backend_config cfg;
    unsigned char *arena;
    size_t arena_cap;
    int isa;
} cpu_backend;

static float *tensor(cpu_backend *b, const ct_plan *p, int i)
{
    return (float *)(b->arena + p->t[p->t[i].store].offset);
}

static int use_winograd(const cpu_backend *b, const ct_node *n)
{
    return n->fast && b->cfg.conv != CARTOON_CONV_IM2COL;
}

static size_t cpu_scratch(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i)
{
    const cpu_backend *b = (const cpu_backend *)be;
    const ct_node *n = &m->nodes[i];
    const ct_tensor_plan *src = &p->t[n->n_in ? n->in[0] : 0];
    if (n->op == OP_CONV2D) {
        if (use_winograd(b, n))
            return ct_winograd_scratch_bytes(n->fast, src->h, src->w, ct_pool_size(b->cfg.pool));
        if (n->direct && b->cfg.conv != CARTOON_CONV_IM2COL) return 0;
        ct_conv_shape s;
        ct_conv_shape_init(&s, src->h, src->w, n->cin, n->channels, n->kernel, n->stride);
        return ct_im2col_scratch_floats(&s, IM2COL_TILE_BYTES) * sizeof(float);
    }
    if (n->op == OP_GUIDED_FILTER) return ct_guided_filter_scratch_floats(src->h, src->w, ct_pool_size(b->cfg.pool)) * sizeof(float);
    return 0;
}

static cartoon_status cpu_reserve(ct_backend *be, const cartoon_model *m, const ct_plan *p, ct_err *e)
{
    cpu_backend *b = (cpu_backend *)be;
    if (p->arena_bytes > b->arena_cap) {
        free(b->arena);
        b->arena_cap = 0;
        b->arena = aligned_alloc(CT_ARENA_ALIGN, p->arena_bytes);
        if (!b->arena) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for a %zu-byte arena", p->arena_bytes);
        b->arena_cap = p->arena_bytes;
    }
    return CARTOON_OK;
}

static float *cpu_host(ct_backend *be, const ct_plan *p, int i) { return tensor((cpu_backend *)be, p, i); }

static cartoon_status cpu_write(ct_backend *be, const ct_plan *p, int i, const float *host, ct_err *e)
{
    memcpy(tensor((cpu_backend *)be, p, i), host, p->t[i].bytes);
    return CARTOON_OK;
}

static cartoon_status cpu_read(ct_backend *be, const ct_plan *p, int i, float *host, ct_err *e)
{
    const ct_tensor_plan *t = &p->t[i];
    memcpy(host, tensor((cpu_backend *)be, p, i), (size_t)t->h * t->w * t->c * sizeof(float));
    return CARTOON_OK;
}

static cartoon_status cpu_run(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i, ct_err *e)
{
    cpu_backend *b = (cpu_backend *)be;
    const ct_node *n = &m->nodes[i];
    const ct_tensor_plan *o = &p->t[i];
    float *out = tensor(b, p, i);
    const float *a = n->n_in ? tensor(b, p, n->in[0]) : NULL;
    const ct_tensor_plan *ta = n->n_in ? &p->t[n->in[0]] : NULL;
    ct_pool *pool = b->cfg.pool;
    void *scratch = b->arena + o->scratch_offset; /* planned with the tensors, 64-byte aligned */

    /* A node fused with its add: the add's other operand joins the epilogue. */
    const float *residual = NULL;
    const ct_node *add = NULL;
    if (o->fused) {
        add = &m->nodes[i + 1];
        residual = tensor(b, p, add->in[0] == i ? add->in[1] : add->in[0]);
    }
    switch (n->op) {
    case OP_INPUT:
        return CARTOON_OK;
    case OP_CONV2D:
    case OP_DEPTHWISE_CONV2D: {
        ct_conv_shape s;
        ct_conv_shape_init(&s, ta->h, ta->w, n->cin, n->channels, n->kernel, n->stride);
        ct_epilogue ep = {n->bias, n->act, n->alpha, residual, add ? add->act : ACT_NONE,
                          add ? add->alpha : 0.f};
        if (n->op == OP_DEPTHWISE_CONV2D) ct_depthwise_conv2d(&s, a, n->weight, &ep, out, pool);
        else if (use_winograd(b, n)) return ct_winograd_conv(n->fast, &s, a, &ep, out, scratch, pool, b->isa);
        else if (n->direct && b->cfg.conv != CARTOON_CONV_IM2COL) return ct_direct_conv(n->direct, &s, a, &ep, out, pool, b->isa);
        else ct_conv2d_im2col(&s, a, n->weight, &ep, out, scratch, IM2COL_TILE_BYTES, pool);
        return CARTOON_OK;
    }
    case OP_ADD:
        ct_add(a, tensor(b, p, n->in[1]), out, (size_t)o->h * o->w * o->c, n->act, n->alpha, pool);
        return CARTOON_OK;
    case OP_CONCAT: {
        const float *ins[CT_MAX_INPUTS];
        int cs[CT_MAX_INPUTS];
        for (int k = 0; k < n->n_in; k++) { ins[k] = tensor(b, p, n->in[k]); cs[k] = p->t[n->in[k]].c; }
        ct_concat(ins, cs, n->n_in, (size_t)o->h * o->w, out);
        return CARTOON_OK;
    }
    case OP_UPSAMPLE:
        ct_upsample2x(a, ta->h, ta->w, ta->c, n->upmode == UP_BILINEAR_TF1, residual, out, pool);
        return CARTOON_OK;
    case OP_GUIDED_FILTER:
        ct_guided_filter(a, tensor(b, p, n->in[1]), o->h, o->w, o->c, n->radius, n->eps, out, scratch, pool);
        return CARTOON_OK;
    default:
        return ct_fail(e, CARTOON_E_INTERNAL, "node '%s': op %d has no CPU kernel", n->name, n->op);
    }
}

static uint64_t cpu_memory(const ct_backend *be)
{
    return ((const cpu_backend *)be)->arena_cap;
}

static void cpu_destroy(ct_backend *be)
{
    cpu_backend *b = (cpu_backend *)be;
    if (!b) return;
    free(b->arena);
    free(b);
}

static const ct_backend_ops cpu_ops = {
    .name = "cpu",
    .fusion = {.conv_add = 1, .upsample_add = 1, .inplace_skip = 1},
    .scratch = cpu_scratch,
    .reserve = cpu_reserve,
    .host = cpu_host,
    .write = cpu_write,
    .read = cpu_read,
    .run = cpu_run,
    .sync = NULL,
    .memory = cpu_memory,
    .destroy = cpu_destroy,
};

cartoon_status ct_backend_cpu_create(const ct_backend_config *cfg, ct_backend **out, ct_err *e)
{
    cpu_backend *b = calloc(1, sizeof *b);
    if (!b) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the CPU backend");
    b->base.ops = &cpu_ops;
    b->cfg = *cfg;
    b->isa = ct_cpu_isa();
    *out = &b->base;
    return CARTOON_OK;
}
