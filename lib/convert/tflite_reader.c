/* Bounds-checked TFLite flatbuffer reader. The file is untrusted: every position is a
 * 64-bit quantity checked against the size before any read, and reads go through memcpy
 * so unaligned or hostile offsets never fault. */
#include "tflite_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fb {
    const uint8_t *b;
    uint64_t n;
    ct_err *e;
} fb;

/* A table: its position and its vtable's. */
typedef struct fbt {
    uint64_t pos, vt;
    uint32_t vtsize, tsize;
} fbt;

static uint32_t ld_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t ld_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static int in_bounds(const fb *f, uint64_t pos, uint64_t len)
{
    return pos <= f->n && len <= f->n - pos;
}

static cartoon_status bad(const fb *f, const char *what, uint64_t pos)
{
    return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: %s at byte %llu is out of bounds or invalid "
                   "(file has %llu bytes)", what, (unsigned long long)pos, (unsigned long long)f->n);
}

static cartoon_status table_at(const fb *f, uint64_t pos, fbt *t, const char *what)
{
    if (!in_bounds(f, pos, 4)) return bad(f, what, pos);
    int32_t soff = (int32_t)ld_u32(f->b + pos);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || !in_bounds(f, (uint64_t)vt, 4)) return bad(f, what, pos);
    uint32_t vtsize = ld_u16(f->b + vt), tsize = ld_u16(f->b + vt + 2);
    if (vtsize < 4 || (vtsize & 1) || !in_bounds(f, (uint64_t)vt, vtsize) || tsize < 4 ||
        !in_bounds(f, pos, tsize))
        return bad(f, what, pos);
    t->pos = pos;
    t->vt = (uint64_t)vt;
    t->vtsize = vtsize;
    t->tsize = tsize;
    return CARTOON_OK;
}

/* Position of field `slot` of `len` bytes, or 0 when absent. Sets *ok = 0 when the field
 * would lie outside its table. */
static uint64_t field(const fbt *t, const fb *f, int slot, uint32_t len, int *ok)
{
    uint32_t off = 4u + 2u * (uint32_t)slot;
    if (off + 2 > t->vtsize) return 0;
    uint32_t fo = ld_u16(f->b + t->vt + off);
    if (fo == 0) return 0;
    if (fo < 4 || (uint64_t)fo + len > t->tsize) { *ok = 0; return 0; }
    return t->pos + fo;
}

static cartoon_status field_int(const fb *f, const fbt *t, int slot, int size, int is_signed,
                                int64_t def, int64_t *out, const char *what)
{
    int ok = 1;
    uint64_t p = field(t, f, slot, (uint32_t)size, &ok);
    if (!ok) return bad(f, what, t->pos);
    if (!p) { *out = def; return CARTOON_OK; }
    const uint8_t *q = f->b + p;
    switch (size) {
    case 1: *out = is_signed ? (int64_t)(int8_t)q[0] : (int64_t)q[0]; break;
    case 2: *out = is_signed ? (int64_t)(int16_t)ld_u16(q) : (int64_t)ld_u16(q); break;
    default: *out = is_signed ? (int64_t)(int32_t)ld_u32(q) : (int64_t)ld_u32(q); break;
    }
    return CARTOON_OK;
}

static cartoon_status field_f32(const fb *f, const fbt *t, int slot, float def, float *out,
                                const char *what)
{
    int ok = 1;
    uint64_t p = field(t, f, slot, 4, &ok);
    if (!ok) return bad(f, what, t->pos);
    if (!p) { *out = def; return CARTOON_OK; }
    uint32_t u = ld_u32(f->b + p);
    memcpy(out, &u, 4);
    return CARTOON_OK;
}

static cartoon_status field_u64(const fb *f, const fbt *t, int slot, uint64_t *out, const char *what)
{
    int ok = 1;
    uint64_t p = field(t, f, slot, 8, &ok);
    if (!ok) return bad(f, what, t->pos);
    *out = 0;
    if (p) *out = (uint64_t)ld_u32(f->b + p) | (uint64_t)ld_u32(f->b + p + 4) << 32;
    return CARTOON_OK;
}

/* Follows a reference field to its target; *present = 0 when absent. */
static cartoon_status field_ref(const fb *f, const fbt *t, int slot, uint64_t *target,
                                int *present, const char *what)
{
    int ok = 1;
    uint64_t p = field(t, f, slot, 4, &ok);
    if (!ok) return bad(f, what, t->pos);
    *present = p != 0;
    if (!p) return CARTOON_OK;
    uint64_t tg = p + ld_u32(f->b + p);
    if (tg >= f->n) return bad(f, what, p);
    *target = tg;
    return CARTOON_OK;
}

/* A vector field: element start and count, checked for elem_size bytes each and the cap. */
static cartoon_status field_vec(const fb *f, const fbt *t, int slot, uint32_t elem_size,
                                uint32_t cap, uint64_t *start, uint32_t *count, const char *what)
{
    uint64_t tg = 0;
    int present;
    cartoon_status s = field_ref(f, t, slot, &tg, &present, what);
    if (s) return s;
    *count = 0;
    *start = 0;
    if (!present) return CARTOON_OK;
    if (!in_bounds(f, tg, 4)) return bad(f, what, tg);
    uint32_t n = ld_u32(f->b + tg);
    if (n > cap)
        return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: %s has %u elements (limit %u)", what,
                       n, cap);
    if (!in_bounds(f, tg + 4, (uint64_t)n * elem_size)) return bad(f, what, tg);
    *start = tg + 4;
    *count = n;
    return CARTOON_OK;
}

/* Element i of a vector of tables. */
static cartoon_status vec_table(const fb *f, uint64_t start, uint32_t i, fbt *t, const char *what)
{
    uint64_t p = start + 4ull * i;
    return table_at(f, p + ld_u32(f->b + p), t, what);
}

static cartoon_status field_string(const fb *f, const fbt *t, int slot, char **out, const char *what)
{
    uint64_t s;
    uint32_t n;
    cartoon_status st = field_vec(f, t, slot, 1, 1u << 20, &s, &n, what);
    if (st) return st;
    char *c = malloc((size_t)n + 1);
    if (!c) return ct_fail(f->e, CARTOON_E_OUT_OF_MEMORY, "TFLite: out of memory");
    if (n) memcpy(c, f->b + s, n);
    c[n] = 0;
    /* An embedded NUL would silently shorten the name in messages; it is harmless otherwise. */
    *out = c;
    return CARTOON_OK;
}

/* An [i32] vector copied out. */
static cartoon_status field_i32s(const fb *f, const fbt *t, int slot, uint32_t cap, int32_t **out,
                                 int *count, const char *what)
{
    uint64_t s;
    uint32_t n;
    cartoon_status st = field_vec(f, t, slot, 4, cap, &s, &n, what);
    if (st) return st;
    *out = malloc(n ? (size_t)n * 4 : 1);
    if (!*out) return ct_fail(f->e, CARTOON_E_OUT_OF_MEMORY, "TFLite: out of memory");
    for (uint32_t i = 0; i < n; i++) (*out)[i] = (int32_t)ld_u32(f->b + s + 4ull * i);
    *count = (int)n;
    return CARTOON_OK;
}

const char *ct_tfl_op_name(int code)
{
    switch (code) {
    case TFL_OP_ADD: return "ADD";
    case TFL_OP_CONV_2D: return "CONV_2D";
    case TFL_OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case TFL_OP_DEQUANTIZE: return "DEQUANTIZE";
    case TFL_OP_MUL: return "MUL";
    case TFL_OP_RESIZE_BILINEAR: return "RESIZE_BILINEAR";
    case TFL_OP_SUB: return "SUB";
    case TFL_OP_DIV: return "DIV";
    case TFL_OP_LEAKY_RELU: return "LEAKY_RELU";
    }
    return "op";
}

void ct_tfl_free(tfl_model *m)
{
    if (!m) return;
    if (m->tensors)
        for (int i = 0; i < m->n_tensors; i++) free(m->tensors[i].name);
    if (m->ops)
        for (int i = 0; i < m->n_ops; i++) {
            free(m->ops[i].inputs);
            free(m->ops[i].outputs);
        }
    free(m->tensors);
    free(m->ops);
    free(m->opcodes);
    free(m->inputs);
    free(m->outputs);
    memset(m, 0, sizeof *m);
}

typedef struct tfl_buf {
    const uint8_t *data;
    size_t size;
} tfl_buf;

static cartoon_status parse_buffers(const fb *f, const fbt *model, tfl_buf **out, uint32_t *nbuf)
{
    uint64_t s;
    uint32_t n;
    cartoon_status st = field_vec(f, model, 4, 4, TFL_MAX_COUNT, &s, &n, "Model.buffers");
    if (st) return st;
    tfl_buf *b = calloc(n ? n : 1, sizeof *b);
    if (!b) return ct_fail(f->e, CARTOON_E_OUT_OF_MEMORY, "TFLite: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        fbt t;
        char what[64];
        snprintf(what, sizeof what, "buffer %u", i);
        if ((st = table_at(f, s + 4ull * i + ld_u32(f->b + s + 4ull * i), &t, what))) goto fail;
        uint64_t ds;
        uint32_t dn;
        if ((st = field_vec(f, &t, 0, 1, UINT32_MAX, &ds, &dn, what))) goto fail;
        if (dn) {
            b[i].data = f->b + ds;
            b[i].size = dn;
            continue;
        }
        /* Models over 2 GB keep data after the flatbuffer, addressed by offset and size. */
        uint64_t off, sz;
        if ((st = field_u64(f, &t, 1, &off, what))) goto fail;
        if ((st = field_u64(f, &t, 2, &sz, what))) goto fail;
        if (off > 1 && sz > 0) {
            if (!in_bounds(f, off, sz)) {
                st = ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: buffer %u: data [%llu, +%llu) "
                             "outside the %llu-byte file", i, (unsigned long long)off,
                             (unsigned long long)sz, (unsigned long long)f->n);
                goto fail;
            }
            b[i].data = f->b + off;
            b[i].size = (size_t)sz;
        }
    }
    *out = b;
    *nbuf = n;
    return CARTOON_OK;
fail:
    free(b);
    return st;
}

static cartoon_status parse_tensor(const fb *f, const fbt *t, int idx, const tfl_buf *bufs,
                                   uint32_t nbuf, tfl_tensor *out)
{
    char what[64];
    snprintf(what, sizeof what, "tensor %d", idx);
    uint64_t s;
    uint32_t n;
    cartoon_status st = field_vec(f, t, 0, 4, 1u << 16, &s, &n, what);
    if (st) return st;
    if (n > TFL_MAX_DIMS)
        return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: tensor %d: rank %u over %d", idx, n,
                       TFL_MAX_DIMS);
    out->ndim = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        int32_t d = (int32_t)ld_u32(f->b + s + 4ull * i);
        if (d < 0)
            return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: tensor %d: negative dimension %d",
                           idx, (int)d);
        out->shape[i] = d;
    }
    int64_t v;
    if ((st = field_int(f, t, 1, 1, 1, 0, &v, what))) return st;
    out->type = (int)v;
    if ((st = field_int(f, t, 2, 4, 0, 0, &v, what))) return st;
    if ((uint64_t)v >= nbuf && !(v == 0 && nbuf == 0))
        return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: tensor %d: buffer index %lld out of "
                       "range (%u buffers)", idx, (long long)v, nbuf);
    out->buffer = (uint32_t)v;
    if (nbuf) {
        out->data = bufs[v].data;
        out->data_size = bufs[v].size;
    }
    if ((st = field_string(f, t, 3, &out->name, what))) return st;
    uint64_t tg = 0;
    int present;
    if ((st = field_ref(f, t, 6, &tg, &present, what))) return st;
    out->has_sparsity = present;
    return CARTOON_OK;
}

static cartoon_status parse_options(const fb *f, const fbt *opt, tfl_operator *o, int idx)
{
    char what[64];
    snprintf(what, sizeof what, "operator %d options", idx);
    int64_t v;
    cartoon_status st = CARTOON_OK;
#define GET(slot, size, sgn, def, dst) \
    do { if ((st = field_int(f, opt, slot, size, sgn, def, &v, what))) return st; dst = (int)v; } while (0)
    switch (o->options_type) {
    case TFL_OPT_CONV2D:
        GET(0, 1, 1, 0, o->padding);
        GET(1, 4, 1, 0, o->stride_w);
        GET(2, 4, 1, 0, o->stride_h);
        GET(3, 1, 1, 0, o->fused_activation);
        GET(4, 4, 1, 1, o->dilation_w);
        GET(5, 4, 1, 1, o->dilation_h);
        break;
    case TFL_OPT_DEPTHWISE:
        GET(0, 1, 1, 0, o->padding);
        GET(1, 4, 1, 0, o->stride_w);
        GET(2, 4, 1, 0, o->stride_h);
        GET(3, 4, 1, 0, o->depth_multiplier);
        GET(4, 1, 1, 0, o->fused_activation);
        GET(5, 4, 1, 1, o->dilation_w);
        GET(6, 4, 1, 1, o->dilation_h);
        break;
    case TFL_OPT_ADD:
    case TFL_OPT_MUL:
    case TFL_OPT_SUB:
    case TFL_OPT_DIV:
        GET(0, 1, 1, 0, o->fused_activation);
        break;
    case TFL_OPT_RESIZE_BILINEAR:
        GET(2, 1, 0, 0, o->align_corners);
        GET(3, 1, 0, 0, o->half_pixel_centers);
        break;
    case TFL_OPT_LEAKY_RELU:
        if ((st = field_f32(f, opt, 0, 0.0f, &o->alpha, what))) return st;
        break;
    default:
        break;
    }
#undef GET
    return st;
}

static cartoon_status parse_operator(const fb *f, const fbt *t, int idx, const tfl_model *m,
                                     tfl_operator *o)
{
    char what[64];
    snprintf(what, sizeof what, "operator %d", idx);
    int64_t v;
    cartoon_status st = field_int(f, t, 0, 4, 0, 0, &v, what);
    if (st) return st;
    if (v >= m->n_opcodes)
        return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: operator %d: opcode index %lld out of "
                       "range (%d operator codes)", idx, (long long)v, m->n_opcodes);
    o->opcode = m->opcodes[v];
    if ((st = field_i32s(f, t, 1, TFL_MAX_OP_IO, &o->inputs, &o->n_inputs, what))) return st;
    if ((st = field_i32s(f, t, 2, TFL_MAX_OP_IO, &o->outputs, &o->n_outputs, what))) return st;
    for (int i = 0; i < o->n_inputs; i++)
        if (o->inputs[i] < -1 || o->inputs[i] >= m->n_tensors)
            return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: operator %d: input tensor index %d "
                           "out of range (%d tensors)", idx, (int)o->inputs[i], m->n_tensors);
    for (int i = 0; i < o->n_outputs; i++)
        if (o->outputs[i] < 0 || o->outputs[i] >= m->n_tensors)
            return ct_fail(f->e, CARTOON_E_BAD_MODEL, "TFLite: operator %d: output tensor index %d "
                           "out of range (%d tensors)", idx, (int)o->outputs[i], m->n_tensors);
    if ((st = field_int(f, t, 3, 1, 0, 0, &v, what))) return st;
    o->options_type = (int)v;
    /* Schema defaults, used when the options table or a field is absent. */
    o->dilation_w = o->dilation_h = 1;
    uint64_t tg = 0;
    int present;
    if ((st = field_ref(f, t, 4, &tg, &present, what))) return st;
    o->has_options = present;
    if (present) {
        fbt opt;
        char w2[64];
        snprintf(w2, sizeof w2, "operator %d options", idx);
        if ((st = table_at(f, tg, &opt, w2))) return st;
        if ((st = parse_options(f, &opt, o, idx))) return st;
    }
    return CARTOON_OK;
}

cartoon_status ct_tfl_parse(const uint8_t *buf, size_t size, tfl_model *m, ct_err *e)
{
    if (!m) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "ct_tfl_parse: NULL model");
    memset(m, 0, sizeof *m);
    if (!buf && size) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "ct_tfl_parse: NULL buffer");
    fb f = {buf, size, e};
    if (size < 8) return ct_fail(e, CARTOON_E_BAD_MODEL, "TFLite: file of %zu bytes is too short", size);
    if (memcmp(buf + 4, "TFL3", 4) != 0)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "TFLite: no \"TFL3\" file identifier at byte 4 "
                       "(not a TFLite model)");
    tfl_buf *bufs = NULL;
    uint32_t nbuf = 0;
    fbt model;
    cartoon_status st = table_at(&f, ld_u32(buf), &model, "Model table");
    if (st) goto fail;
    int64_t v;
    if ((st = field_int(&f, &model, 0, 4, 0, 0, &v, "Model.version"))) goto fail;
    m->version = (uint32_t)v;
    if (m->version > 3) {
        st = ct_fail(e, CARTOON_E_UNSUPPORTED, "TFLite: schema version %u (this reader knows 3)",
                     m->version);
        goto fail;
    }

    uint64_t s;
    uint32_t n;
    if ((st = field_vec(&f, &model, 1, 4, TFL_MAX_COUNT, &s, &n, "Model.operator_codes"))) goto fail;
    m->opcodes = malloc(n ? (size_t)n * 4 : 1);
    if (!m->opcodes) { st = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "TFLite: out of memory"); goto fail; }
    m->n_opcodes = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        fbt t;
        char what[64];
        snprintf(what, sizeof what, "operator code %u", i);
        if ((st = vec_table(&f, s, i, &t, what))) goto fail;
        int64_t dep, code;
        if ((st = field_int(&f, &t, 0, 1, 1, 0, &dep, what))) goto fail;
        if ((st = field_int(&f, &t, 3, 4, 1, 0, &code, what))) goto fail;
        /* Newer converters write both fields; older ones only the deprecated i8. */
        m->opcodes[i] = (int32_t)(dep > code ? dep : code);
    }

    if ((st = parse_buffers(&f, &model, &bufs, &nbuf))) goto fail;

    uint64_t sgs;
    uint32_t nsg;
    if ((st = field_vec(&f, &model, 2, 4, TFL_MAX_COUNT, &sgs, &nsg, "Model.subgraphs"))) goto fail;
    m->n_subgraphs = (int)nsg;
    if (nsg == 0) {
        st = ct_fail(e, CARTOON_E_BAD_MODEL, "TFLite: the model has no subgraph");
        goto fail;
    }
    fbt sg;
    if ((st = vec_table(&f, sgs, 0, &sg, "subgraph 0"))) goto fail;

    if ((st = field_vec(&f, &sg, 0, 4, TFL_MAX_COUNT, &s, &n, "SubGraph.tensors"))) goto fail;
    m->tensors = calloc(n ? n : 1, sizeof *m->tensors);
    if (!m->tensors) { st = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "TFLite: out of memory"); goto fail; }
    m->n_tensors = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        fbt t;
        char what[64];
        snprintf(what, sizeof what, "tensor %u", i);
        if ((st = vec_table(&f, s, i, &t, what))) goto fail;
        if ((st = parse_tensor(&f, &t, (int)i, bufs, nbuf, &m->tensors[i]))) goto fail;
    }

    if ((st = field_i32s(&f, &sg, 1, TFL_MAX_OP_IO, &m->inputs, &m->n_inputs, "SubGraph.inputs")))
        goto fail;
    if ((st = field_i32s(&f, &sg, 2, TFL_MAX_OP_IO, &m->outputs, &m->n_outputs, "SubGraph.outputs")))
        goto fail;
    for (int i = 0; i < m->n_inputs; i++)
        if (m->inputs[i] < 0 || m->inputs[i] >= m->n_tensors) {
            st = ct_fail(e, CARTOON_E_BAD_MODEL, "TFLite: subgraph input tensor index %d out of "
                         "range (%d tensors)", (int)m->inputs[i], m->n_tensors);
            goto fail;
        }
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] < 0 || m->outputs[i] >= m->n_tensors) {
            st = ct_fail(e, CARTOON_E_BAD_MODEL, "TFLite: subgraph output tensor index %d out of "
                         "range (%d tensors)", (int)m->outputs[i], m->n_tensors);
            goto fail;
        }

    if ((st = field_vec(&f, &sg, 3, 4, TFL_MAX_COUNT, &s, &n, "SubGraph.operators"))) goto fail;
    m->ops = calloc(n ? n : 1, sizeof *m->ops);
    if (!m->ops) { st = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "TFLite: out of memory"); goto fail; }
    m->n_ops = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        fbt t;
        char what[64];
        snprintf(what, sizeof what, "operator %u", i);
        if ((st = vec_table(&f, s, i, &t, what))) goto fail;
        if ((st = parse_operator(&f, &t, (int)i, m, &m->ops[i]))) goto fail;
    }
    free(bufs);
    return CARTOON_OK;
fail:
    free(bufs);
    ct_tfl_free(m);
    return st;
}
