/* The CPU backend: one malloc'd arena holding the activations and every node's scratch
 * (both planned from lifetimes by lib/core/plan.c), and the kernels of kernels/cpu/: on the
 * fast path Winograd for 3x3 stride-1 convolutions, direct kernels for the other
 * non-pointwise ones, a packed GEMM for pointwise ones, and a depthwise fused with the
 * pointwise that consumes it, reading through the concat and upsample in front of it so
 * neither is stored (weights prepared once per model, cpu_weights.c; instruction set from the
 * table in cpu_kernels.c); im2col + OpenBLAS and the naive depthwise, concat and upsample for
 * the exact path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "backend_cpu.h"
#include "cpu_kernels.h"
#include "cpu_weights.h"
#include "ops.h"

/* im2col bands are kept under this size (one output row at least). */
#define IM2COL_TILE_BYTES (8u << 20)

typedef struct cpu_backend {
    ct_backend base;
    ct_backend_config cfg;
    unsigned char *arena;
    size_t arena_cap;
    const ct_cpu_kernels *kernels;
    const ct_cpu_weights *weights; /* the model's fast-path weights; NULL on the im2col path */
} cpu_backend;

static float *tensor(cpu_backend *b, const ct_plan *p, int i)
{
    const ct_tensor_plan *buf = &p->t[p->t[i].store];
    return (float *)(b->arena + buf->offset) + buf->shift;
}

static const ct_cpu_node_weights no_weights;

/* The prepared weights of node i: all NULL (so im2col runs) on the exact path. */
static const ct_cpu_node_weights *fast(const cpu_backend *b, int i)
{
    return b->weights ? &b->weights->node[i] : &no_weights;
}

/* A fused depthwise + pointwise chain starting at node `first` (plan.c: [upsample ->]
 * [concat ->] depthwise -> pointwise [-> add]), with the depthwise's sources: the inputs of
 * its concat, or its own input; an elided upsample's source is its half-size input. */
typedef struct {
    int dw, pw;
    int n_src;
    ct_dwpw_src src[CT_DWPW_MAX_SRC];
    ct_conv_shape s;
} dwpw_chain;

static int is_dwpw_start(const cartoon_model *m, const ct_plan *p, int i)
{
    const ct_node *n = &m->nodes[i];
    if (!p->t[i].fused) return 0;
    if (n->op == OP_DEPTHWISE_CONV2D || n->op == OP_CONCAT) return 1;
    return n->op == OP_UPSAMPLE && m->nodes[i + 1].op == OP_CONCAT; /* not the skip add fusion */
}

static int dwpw_chain_of(cpu_backend *b, const cartoon_model *m, const ct_plan *p, int first, dwpw_chain *c)
{
    const int up = m->nodes[first].op == OP_UPSAMPLE ? first : -1, next = up >= 0 ? first + 1 : first;
    const int cat = m->nodes[next].op == OP_CONCAT ? next : -1;
    c->dw = cat >= 0 ? cat + 1 : first;
    c->pw = c->dw + 1;
    const ct_node *in = &m->nodes[cat >= 0 ? cat : c->dw]; /* whose inputs the depthwise reads */
    if (in->n_in > CT_DWPW_MAX_SRC) return 0;
    c->n_src = in->n_in;
    for (int k = 0; k < in->n_in; k++) {
        const int id = in->in[k];
        ct_dwpw_src *q = &c->src[k];
        q->c = p->t[id].c;
        q->up = id != up                                 ? CT_DWPW_PLAIN
                : m->nodes[up].upmode == UP_BILINEAR_TF1 ? CT_DWPW_UP_BILINEAR
                                                         : CT_DWPW_UP_NEAREST;
        q->data = b ? tensor(b, p, id == up ? m->nodes[up].in[0] : id) : NULL; /* NULL: sizing only */
    }
    const ct_tensor_plan *ti = &p->t[in->in[0]];
    const ct_node *dw = &m->nodes[c->dw];
    ct_conv_shape_init(&c->s, ti->h, ti->w, dw->channels, dw->channels, dw->kernel, dw->stride);
    return 1;
}

static size_t cpu_scratch(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i)
{
    const cpu_backend *b = (const cpu_backend *)be;
    const ct_node *n = &m->nodes[i];
    const ct_tensor_plan *src = &p->t[n->n_in ? n->in[0] : 0];
    /* a fused depthwise + pointwise chain: the per-thread depthwise buffers (and upsampled
     * rows) */
    dwpw_chain c;
    if (is_dwpw_start(m, p, i))
        return dwpw_chain_of(NULL, m, p, i, &c) ? ct_dwpw_scratch_bytes(c.src, c.n_src, &c.s, ct_pool_size(b->cfg.pool))
                                                : 0;
    if (n->op == OP_CONV2D) {
        const ct_cpu_node_weights *f = fast(b, i);
        if (f->winograd) return ct_winograd_scratch_bytes(f->winograd, src->h, src->w, ct_pool_size(b->cfg.pool));
        if (f->direct) return ct_direct_bf16_scratch_bytes(f->direct, src->w, ct_pool_size(b->cfg.pool)); /* 0: fp32 */
        if (f->pointwise) return 0;
        ct_conv_shape s;
        ct_conv_shape_init(&s, src->h, src->w, n->cin, n->channels, n->kernel, n->stride);
        return ct_im2col_scratch_floats(&s, IM2COL_TILE_BYTES) * sizeof(float);
    }
    if (n->op == OP_GUIDED_FILTER)
        return ct_guided_filter_scratch_floats(src->h, src->w, src->c, n->radius, ct_pool_size(b->cfg.pool)) * sizeof(float);
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

/* The fused chain that starts at node `first`, one pass over the output rows. */
static cartoon_status run_dwpw(cpu_backend *b, const cartoon_model *m, const ct_plan *p, int first, ct_err *e)
{
    dwpw_chain c;
    if (!dwpw_chain_of(b, m, p, first, &c))
        return ct_fail(e, CARTOON_E_INTERNAL, "node '%s': more concat inputs than the kernel takes",
                       m->nodes[first].name);
    const ct_node *dw = &m->nodes[c.dw], *pw = &m->nodes[c.pw];
    const ct_cpu_node_weights *f = fast(b, c.pw);
    if (!f->pointwise)
        return ct_fail(e, CARTOON_E_INTERNAL, "node '%s': fused without packed pointwise weights", dw->name);
    /* the pointwise fused with its add: the add's other operand joins the epilogue */
    const ct_node *add = p->t[c.pw].fused ? &m->nodes[c.pw + 1] : NULL;
    const float *residual = add ? tensor(b, p, add->in[0] == c.pw ? add->in[1] : add->in[0]) : NULL;
    ct_epilogue ep = {pw->bias, pw->act, pw->alpha, residual, add ? add->act : ACT_NONE, add ? add->alpha : 0.f};
    cartoon_status st = ct_dwpw_run(c.src, c.n_src, &c.s, dw->weight, dw->bias, dw->act, dw->alpha, f->pointwise, &ep,
                                    tensor(b, p, c.pw), b->arena + p->t[first].scratch_offset, b->cfg.pool,
                                    b->kernels->dwpw_tile);
    return st ? ct_fail(e, st, "node '%s': kernel refused its shape", dw->name) : CARTOON_OK;
}

static cartoon_status cpu_run(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i, ct_err *e)
{
    cpu_backend *b = (cpu_backend *)be;
    const ct_node *n = &m->nodes[i];
    if (is_dwpw_start(m, p, i)) return run_dwpw(b, m, p, i, e);
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
        const ct_cpu_node_weights *f = fast(b, i);
        cartoon_status st = CARTOON_OK;
        if (n->op == OP_DEPTHWISE_CONV2D) ct_depthwise_conv2d(&s, a, n->weight, &ep, out, pool);
        else if (f->winograd)
            st = ct_winograd_conv_at(f->winograd, &s, a, &ep, out, scratch, pool,
                                     ct_winograd_is_bf16(f->winograd) ? b->kernels->winograd_task_bf16
                                                                      : b->kernels->winograd_task,
                                     ((p->oy >> n->level) + ta->y0) % ct_winograd_tile(f->winograd),
                                     ((p->ox >> n->level) + ta->x0) % ct_winograd_tile(f->winograd));
        else if (f->direct && ct_direct_is_bf16(f->direct))
            st = ct_direct_conv_bf16(f->direct, &s, a, &ep, out, scratch, pool, b->kernels->direct_rows_bf16);
        else if (f->direct) st = ct_direct_conv(f->direct, &s, a, &ep, out, pool, b->kernels->direct_row);
        else if (f->pointwise)
            st = ct_pointwise_run(f->pointwise, a, (size_t)ta->h * ta->w, &ep, out, pool, b->kernels->pw_chunk);
        else /* bands sized by the scratch planned for the whole tensor: a cropped region
              * (ct_plan_regions) has narrower rows, more of which would fit the tile budget */
            ct_conv2d_im2col(&s, a, n->weight, &ep, out, scratch, o->scratch_bytes ? o->scratch_bytes : IM2COL_TILE_BYTES,
                             pool);
        return st ? ct_fail(e, st, "node '%s': kernel refused its shape", n->name) : CARTOON_OK;
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
        ct_upsample2x_rows(a, ta->h, ta->w, ta->c, n->upmode == UP_BILINEAR_TF1, residual, out, pool,
                           b->kernels->upsample_row);
        return CARTOON_OK;
    case OP_GUIDED_FILTER:
        ct_guided_filter_bands(a, tensor(b, p, n->in[1]), o->h, o->w, o->c, n->radius, n->eps, out, scratch, pool,
                               b->kernels->gf_band);
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

/* The fast path fuses depthwise + pointwise chains; the exact (im2col) path runs every node
 * through its reference kernel, so it plans them apart. The fast path's conv kernels
 * (Winograd, direct, pointwise) read each residual value just before writing the same
 * element, so their residual adds may be planned in place; im2col's sgemm writes a band
 * before its epilogue reads the residual, so the exact path keeps them apart. */
#define CPU_OPS(dwpw)                                                                                  \
    {                                                                                                  \
        .name = "cpu",                                                                                 \
        .fusion = {.conv_add = 1, .upsample_add = 1, .inplace_skip = 1, .dw_pw = (dwpw), .concat_dw = (dwpw),  \
                   .inplace_residual = (dwpw), .upsample_concat = (dwpw), .crop = 1},                \
        .scratch = cpu_scratch, .reserve = cpu_reserve, .host = cpu_host, .write = cpu_write,         \
        .read = cpu_read, .run = cpu_run, .sync = NULL, .memory = cpu_memory, .destroy = cpu_destroy,  \
    }
static const ct_backend_ops cpu_ops = CPU_OPS(1);
static const ct_backend_ops cpu_ops_exact = CPU_OPS(0);

cartoon_status ct_cpu_backend_create_with(const cartoon_model *m, const ct_backend_config *cfg,
                                          const ct_cpu_kernels *kernels, ct_backend **out, ct_err *e)
{
    *out = NULL;
    const ct_cpu_weights *w = NULL;
    const int bf16 = cfg->precision == CARTOON_PRECISION_BF16;
    if (bf16 && !kernels->winograd_task_bf16) /* cpu_precision_usable refuses it first */
        return ct_fail(e, CARTOON_E_UNSUPPORTED, "bf16 needs AVX512_BF16 kernels (%s chosen)", kernels->name);
    if (bf16 && cfg->conv == CARTOON_CONV_IM2COL)
        return ct_fail(e, CARTOON_E_UNSUPPORTED, "bf16 runs the Winograd and direct kernels; the im2col path is fp32 only");
    if (cfg->conv != CARTOON_CONV_IM2COL) {
        cartoon_status st = bf16 ? ct_cpu_weights_get_bf16(m, &w, e) : ct_cpu_weights_get(m, &w, e);
        if (st) return st;
    }
    cpu_backend *b = calloc(1, sizeof *b);
    if (!b) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for the CPU backend");
    b->base.ops = w ? &cpu_ops : &cpu_ops_exact;
    b->cfg = *cfg;
    b->kernels = kernels;
    b->weights = w;
    *out = &b->base;
    return CARTOON_OK;
}

static cartoon_status cpu_create(const cartoon_model *m, const ct_backend_config *cfg, ct_backend **out,
                                 ct_err *e)
{
    return ct_cpu_backend_create_with(m, cfg, ct_cpu_kernels_for(ct_cpu_isa()), out, e);
}

static int cpu_supports(const ct_node *n)
{
    return n->op > OP_INPUT && n->op < OP_COUNT;
}

static int cpu_available(char *why, size_t why_size)
{
    return 1;
}

/* bf16 runs where the chosen kernels have a bf16 Winograd kernel: AVX512_BF16 (so
 * CARTOON_ISA=avx2 turns it off too). */
static int cpu_precision_usable(cartoon_precision p, char *why, size_t why_size)
{
    if (p != CARTOON_PRECISION_BF16) return 1;
    const ct_cpu_kernels *k = ct_cpu_kernels_for(ct_cpu_isa());
    if (k->winograd_task_bf16) return 1;
    snprintf(why, why_size, "bf16 needs AVX-512 with AVX512_BF16; this CPU runs the %s kernels%s", k->name,
             ct_cpu_isa() < ct_cpu_isa_native() ? " (lowered by CARTOON_ISA)" : "");
    return 0;
}

static const char *cpu_isa(void)
{
    return ct_isa_name(ct_cpu_isa());
}

const ct_backend_desc ct_backend_cpu = {
    .name = "cpu",
    .label = "CPU",
    .device = CARTOON_DEVICE_CPU,
    .precisions = CT_PRECISION_BIT(CARTOON_PRECISION_FP32) | CT_PRECISION_BIT(CARTOON_PRECISION_BF16),
    .precision_usable = cpu_precision_usable,
    .supports = cpu_supports,
    .available = cpu_available,
    .create = cpu_create,
    .isa = cpu_isa,
};
