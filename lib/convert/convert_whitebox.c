/* Converter from the published White-box cartoonizer TFLite export.
 *
 * The TFLite graph is matched against the known network (model-spec.md) rather than translated
 * op by op: the export folded the guided filter's sizes and normaliser for 224x224, so only
 * its structure (box radius, eps) can be carried over, and our graph is written from the
 * architecture table once every generator op has been found where it belongs. */
#include "convert_whitebox.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_reader.h"

enum { N_INPUT, N_CONV, N_ADD, N_UP, N_GF };

typedef struct exp_node {
    const char *name;
    int op;
    int in0, in1;  /* indices into the node table, -1 = none */
    int conv;      /* conv number for N_CONV */
    int leaky;     /* activation after the conv */
} exp_node;

/* Execution order of the generator as the TFLite export lists it. */
static const exp_node NODES[] = {
    {"input", N_INPUT, -1, -1, -1, 0},
    {"conv0", N_CONV, 0, -1, 0, 1},
    {"conv1", N_CONV, 1, -1, 1, 1},
    {"conv2", N_CONV, 2, -1, 2, 1},
    {"conv3", N_CONV, 3, -1, 3, 1},
    {"conv4", N_CONV, 4, -1, 4, 1},
    {"conv5", N_CONV, 5, -1, 5, 1},
    {"conv6", N_CONV, 6, -1, 6, 0},
    {"block0", N_ADD, 7, 5, -1, 0},
    {"conv7", N_CONV, 8, -1, 7, 1},
    {"conv8", N_CONV, 9, -1, 8, 0},
    {"block1", N_ADD, 10, 8, -1, 0},
    {"conv9", N_CONV, 11, -1, 9, 1},
    {"conv10", N_CONV, 12, -1, 10, 0},
    {"block2", N_ADD, 13, 11, -1, 0},
    {"conv11", N_CONV, 14, -1, 11, 1},
    {"conv12", N_CONV, 15, -1, 12, 0},
    {"block3", N_ADD, 16, 14, -1, 0},
    {"conv13", N_CONV, 17, -1, 13, 1},
    {"up0", N_UP, 18, -1, -1, 0},
    {"skip0", N_ADD, 19, 3, -1, 0},
    {"conv14", N_CONV, 20, -1, 14, 1},
    {"conv15", N_CONV, 21, -1, 15, 1},
    {"up1", N_UP, 22, -1, -1, 0},
    {"skip1", N_ADD, 23, 1, -1, 0},
    {"conv16", N_CONV, 24, -1, 16, 1},
    {"conv17", N_CONV, 25, -1, 17, 0},
    {"final", N_GF, 0, 26, -1, 0},
};
#define N_NODES ((int)(sizeof NODES / sizeof NODES[0]))
#define NODE_GEN_END (N_NODES - 1) /* nodes before "final" are matched op by op */
#define NODE_CONV17 26

static const struct { int k, stride, cin, cout; } CONVS[CT_WHITEBOX_CONVS] = {
    {7, 1, 3, 32},    {3, 2, 32, 32},   {3, 1, 32, 64},   {3, 2, 64, 64},   {3, 1, 64, 128},
    {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128},
    {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 64},  {3, 1, 64, 64},
    {3, 1, 64, 32},   {3, 1, 32, 32},   {7, 1, 32, 3},
};

#define LEAKY_ALPHA 0.2
#define GF_DEPTHWISE 7
#define GF_DIV 7
#define GF_MUL 6
#define GF_SUB 3
#define GF_ADD 2

/* A constant array (fp16 or fp32) behind a tensor, possibly through DEQUANTIZE. */
typedef struct cview {
    int tensor;
    int type;
    const uint8_t *data;
    size_t count;
    const tfl_tensor *t;
} cview;

typedef struct conv_found {
    cview w, b;
} conv_found;

typedef struct cctx {
    const tfl_model *m;
    int *producer;  /* op index per tensor, -1 = none */
    int *label;     /* node index per tensor, -1 = none */
    char *pre_act;  /* value is a conv output still waiting for its LEAKY_RELU */
    char *gf;       /* value computed by the guided filter's ops */
    ct_err *e;
} cctx;

static float rd_value(const cview *c, size_t i)
{
    const uint8_t *p = c->data + i * (c->type == TFL_FLOAT16 ? 2 : 4);
    if (c->type == TFL_FLOAT16) return ct_half_to_float((uint16_t)(p[0] | p[1] << 8));
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static cartoon_status tensor_count(const cctx *c, int ti, size_t *count)
{
    const tfl_tensor *t = &c->m->tensors[ti];
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        if (!ct_mul_size(n, (size_t)t->shape[d], &n))
            return ct_fail(c->e, CARTOON_E_BAD_MODEL, "tensor %d (%s): shape overflows", ti, t->name);
    *count = n;
    return CARTOON_OK;
}

/* Resolves a constant operand of operator `op`: the tensor itself when it has data, else the
 * fp16/fp32 constant feeding the DEQUANTIZE that produces it. */
static cartoon_status resolve_const(const cctx *c, int op, int ti, const char *what, cview *out)
{
    const tfl_model *m = c->m;
    if (ti < 0)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d: %s input is absent", op, what);
    int src = ti;
    if (!m->tensors[ti].data) {
        int p = c->producer[ti];
        if (p < 0 || m->ops[p].opcode != TFL_OP_DEQUANTIZE || m->ops[p].n_inputs < 1 ||
            m->ops[p].inputs[0] < 0 || !m->tensors[m->ops[p].inputs[0]].data)
            return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d: %s (tensor %d, %s) is not a "
                           "constant or a DEQUANTIZE of one", op, what, ti, m->tensors[ti].name);
        src = m->ops[p].inputs[0];
    }
    const tfl_tensor *t = &m->tensors[src];
    if (t->type != TFL_FLOAT16 && t->type != TFL_FLOAT32)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d: %s constant (tensor %d, %s) has "
                       "type %d, expected FLOAT16 or FLOAT32", op, what, src, t->name, t->type);
    if (t->has_sparsity)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d: %s constant (tensor %d) is sparse",
                       op, what, src);
    size_t count = 0, bytes;
    cartoon_status s = tensor_count(c, src, &count);
    if (s) return s;
    if (!ct_mul_size(count, t->type == TFL_FLOAT16 ? 2 : 4, &bytes) || bytes != t->data_size)
        return ct_fail(c->e, CARTOON_E_BAD_MODEL, "operator %d: %s constant (tensor %d, %s) holds "
                       "%zu bytes, its shape needs %zu", op, what, src, t->name, t->data_size,
                       count * (t->type == TFL_FLOAT16 ? 2 : 4));
    if (src != ti) { /* the DEQUANTIZE output must describe the same array */
        const tfl_tensor *o = &m->tensors[ti];
        int same = o->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = o->shape[d] == t->shape[d];
        if (!same)
            return ct_fail(c->e, CARTOON_E_BAD_MODEL, "operator %d: %s: DEQUANTIZE changes the "
                           "shape of tensor %d", op, what, src);
    }
    out->tensor = src;
    out->type = t->type;
    out->data = t->data;
    out->count = count;
    out->t = t;
    return CARTOON_OK;
}

static int shape_is(const tfl_tensor *t, int ndim, const int32_t *dims)
{
    if (t->ndim != ndim) return 0;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != dims[i]) return 0;
    return 1;
}

static void shape_str(const tfl_tensor *t, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? "," : "", (int)t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* Input `slot` of op must be the finished value of node `want`. */
static cartoon_status expect_value(const cctx *c, int op, int ti, int want, const char *what)
{
    if (ti < 0 || c->label[ti] != want || c->pre_act[ti])
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (%s): %s is tensor %d (%s), "
                       "expected the output of %s: not the White-box generator", op,
                       ct_tfl_op_name(c->m->ops[op].opcode), what, ti,
                       ti >= 0 ? c->m->tensors[ti].name : "absent", NODES[want].name);
    return CARTOON_OK;
}

static cartoon_status match_conv(cctx *c, int op, int node, conv_found *found)
{
    const tfl_operator *o = &c->m->ops[op];
    const exp_node *n = &NODES[node];
    int k = CONVS[n->conv].k, st = CONVS[n->conv].stride;
    int cin = CONVS[n->conv].cin, cout = CONVS[n->conv].cout;
    if (o->n_inputs != 3 || o->n_outputs != 1)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (CONV_2D, conv%d): %d inputs and "
                       "%d outputs, expected 3 and 1", op, n->conv, o->n_inputs, o->n_outputs);
    cartoon_status s = expect_value(c, op, o->inputs[0], n->in0, "data input");
    if (s) return s;
    if (o->options_type != TFL_OPT_CONV2D || !o->has_options)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (conv%d): no Conv2DOptions", op, n->conv);
    if (o->padding != 0 || o->stride_w != st || o->stride_h != st || o->dilation_w != 1 ||
        o->dilation_h != 1 || o->fused_activation != 0)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (conv%d): padding %d, stride %dx%d, "
                       "dilation %dx%d, fused activation %d; expected SAME, stride %d, no dilation, "
                       "no fused activation", op, n->conv, o->padding, o->stride_h, o->stride_w,
                       o->dilation_h, o->dilation_w, o->fused_activation, st);
    if ((s = resolve_const(c, op, o->inputs[1], "weight", &found->w))) return s;
    if ((s = resolve_const(c, op, o->inputs[2], "bias", &found->b))) return s;
    const int32_t wd[4] = {cout, k, k, cin}, bd[1] = {cout};
    char got[96];
    if (!shape_is(found->w.t, 4, wd)) {
        shape_str(found->w.t, got, sizeof got);
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (conv%d): weight shape %s, expected "
                       "[%d,%d,%d,%d] (OHWI)", op, n->conv, got, cout, k, k, cin);
    }
    if (!shape_is(found->b.t, 1, bd)) {
        shape_str(found->b.t, got, sizeof got);
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (conv%d): bias shape %s, expected [%d]",
                       op, n->conv, got, cout);
    }
    int out = o->outputs[0];
    c->label[out] = node;
    c->pre_act[out] = (char)n->leaky;
    return CARTOON_OK;
}

static cartoon_status match_resize(cctx *c, int op, int node)
{
    const tfl_operator *o = &c->m->ops[op];
    if (o->n_inputs != 2 || o->n_outputs != 1)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (RESIZE_BILINEAR): %d inputs, %d "
                       "outputs", op, o->n_inputs, o->n_outputs);
    cartoon_status s = expect_value(c, op, o->inputs[0], NODES[node].in0, "data input");
    if (s) return s;
    if (o->options_type != TFL_OPT_RESIZE_BILINEAR || o->align_corners || o->half_pixel_centers)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (RESIZE_BILINEAR): align_corners=%d "
                       "half_pixel_centers=%d; only the TF1 asymmetric mode (both false) is this "
                       "model", op, o->align_corners, o->half_pixel_centers);
    /* The size operand is folded for the 224x224 export; only its ratio (x2) is kept. */
    int si = o->inputs[1];
    const tfl_tensor *in = &c->m->tensors[o->inputs[0]];
    if (si < 0 || !c->m->tensors[si].data || c->m->tensors[si].type != TFL_INT32 ||
        c->m->tensors[si].data_size != 8 || in->ndim != 4)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (RESIZE_BILINEAR): the size "
                       "operand is not a constant int32 pair on a 4-D input", op);
    const uint8_t *p = c->m->tensors[si].data;
    int32_t hw[2];
    for (int i = 0; i < 2; i++)
        hw[i] = (int32_t)((uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                          (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24);
    if ((int64_t)hw[0] != 2 * (int64_t)in->shape[1] || (int64_t)hw[1] != 2 * (int64_t)in->shape[2])
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (RESIZE_BILINEAR): %dx%d -> %dx%d "
                       "is not x2 upsampling", op, (int)in->shape[1], (int)in->shape[2],
                       (int)hw[0], (int)hw[1]);
    c->label[o->outputs[0]] = node;
    return CARTOON_OK;
}

/* An ADD of two generator values matching the next expected add node. */
static int add_matches(const cctx *c, const tfl_operator *o, int node)
{
    if (node >= NODE_GEN_END || NODES[node].op != N_ADD || o->n_inputs != 2) return 0;
    int a = o->inputs[0], b = o->inputs[1];
    if (a < 0 || b < 0 || c->pre_act[a] || c->pre_act[b]) return 0;
    int la = c->label[a], lb = c->label[b];
    return (la == NODES[node].in0 && lb == NODES[node].in1) ||
           (la == NODES[node].in1 && lb == NODES[node].in0);
}

typedef struct gf_found {
    int depthwise, div, mul, sub, add;
    int kernel;
    int eps_op;
    float eps;
    int uses_input, uses_gen;
    int final_op;
} gf_found;

static cartoon_status check_box(cctx *c, int op, gf_found *g)
{
    const tfl_operator *o = &c->m->ops[op];
    if (o->n_inputs < 2 || o->n_outputs != 1 || o->options_type != TFL_OPT_DEPTHWISE)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEPTHWISE_CONV_2D): unexpected "
                       "operands or options", op);
    if (o->padding != 0 || o->stride_w != 1 || o->stride_h != 1 || o->dilation_w != 1 ||
        o->dilation_h != 1 || o->fused_activation != 0 || o->depth_multiplier != 1)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEPTHWISE_CONV_2D): not a SAME, "
                       "stride-1 box filter (padding %d, stride %dx%d, multiplier %d)", op,
                       o->padding, o->stride_h, o->stride_w, o->depth_multiplier);
    cview w, b;
    cartoon_status s = resolve_const(c, op, o->inputs[1], "box kernel", &w);
    if (s) return s;
    const tfl_tensor *wt = w.t;
    if (wt->ndim != 4 || wt->shape[0] != 1 || wt->shape[1] != wt->shape[2] || wt->shape[1] < 3 ||
        wt->shape[1] > 15 || !(wt->shape[1] & 1))
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEPTHWISE_CONV_2D): kernel is not "
                       "an odd square [1,k,k,C]", op);
    int k = wt->shape[1];
    /* The kernel holds 1/k^2 rounded to fp16; the box mean itself is exact, so only check
     * that every tap is the same normalised weight. */
    float v0 = rd_value(&w, 0);
    for (size_t i = 0; i < w.count; i++)
        if (rd_value(&w, i) != v0)
            return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEPTHWISE_CONV_2D): kernel taps "
                           "differ: not a box filter", op);
    if (!(fabs((double)v0 * k * k - 1.0) < 1e-2))
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEPTHWISE_CONV_2D): tap %g is not "
                       "1/%d", op, (double)v0, k * k);
    if (o->n_inputs >= 3 && o->inputs[2] >= 0) {
        if ((s = resolve_const(c, op, o->inputs[2], "box bias", &b))) return s;
        for (size_t i = 0; i < b.count; i++)
            if (rd_value(&b, i) != 0.0f)
                return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEPTHWISE_CONV_2D): "
                               "non-zero bias", op);
    }
    if (g->kernel && g->kernel != k)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEPTHWISE_CONV_2D): box of %d, "
                       "another is %d", op, k, g->kernel);
    g->kernel = k;
    return CARTOON_OK;
}

/* Inputs of a guided-filter op: guided-filter values, constants, the network input or the
 * generator's output; anything else means the graph is wired differently. */
static cartoon_status gf_inputs(cctx *c, int op, gf_found *g)
{
    const tfl_operator *o = &c->m->ops[op];
    for (int i = 0; i < o->n_inputs; i++) {
        int t = o->inputs[i];
        if (t < 0 || c->gf[t] || c->m->tensors[t].data) continue;
        int p = c->producer[t];
        if (p >= 0 && c->m->ops[p].opcode == TFL_OP_DEQUANTIZE) continue;
        if (c->label[t] == 0) { g->uses_input = 1; continue; }
        if (c->label[t] == NODE_CONV17 && !c->pre_act[t]) { g->uses_gen = 1; continue; }
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (%s): input tensor %d (%s) is "
                       "neither the network input, the generator output nor a guided-filter value",
                       op, ct_tfl_op_name(o->opcode), t, c->m->tensors[t].name);
    }
    for (int i = 0; i < o->n_outputs; i++) c->gf[o->outputs[i]] = 1;
    return CARTOON_OK;
}

static cartoon_status gf_op(cctx *c, int op, gf_found *g)
{
    const tfl_operator *o = &c->m->ops[op];
    cartoon_status s = gf_inputs(c, op, g);
    if (s) return s;
    if (o->n_outputs != 1)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (%s): %d outputs", op,
                       ct_tfl_op_name(o->opcode), o->n_outputs);
    if (o->opcode != TFL_OP_DEPTHWISE_CONV_2D && (o->n_inputs != 2 || o->fused_activation != 0))
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (%s): expected 2 inputs and no "
                       "fused activation", op, ct_tfl_op_name(o->opcode));
    switch (o->opcode) {
    case TFL_OP_DEPTHWISE_CONV_2D: g->depthwise++; return check_box(c, op, g);
    case TFL_OP_DIV: g->div++; return CARTOON_OK;
    case TFL_OP_MUL: g->mul++; return CARTOON_OK;
    case TFL_OP_SUB: g->sub++; return CARTOON_OK;
    default: break;
    }
    g->add++;
    /* eps is the scalar constant added to the variance, var = box(x*x)/N - mx*mx (a SUB). */
    for (int i = 0; i < 2; i++) {
        int t = o->inputs[i], other = o->inputs[1 - i];
        if (t < 0 || other < 0) continue;
        int p = c->producer[t];
        if (!c->m->tensors[t].data && !(p >= 0 && c->m->ops[p].opcode == TFL_OP_DEQUANTIZE)) continue;
        cview ev;
        if ((s = resolve_const(c, op, t, "eps", &ev))) return s;
        int po = c->producer[other];
        if (ev.count != 1 || po < 0 || c->m->ops[po].opcode != TFL_OP_SUB)
            return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (ADD): a constant added to "
                           "something other than the variance", op);
        if (g->eps_op >= 0)
            return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operators %d and %d: two eps constants",
                           g->eps_op, op);
        g->eps_op = op;
        g->eps = rd_value(&ev, 0);
        return CARTOON_OK;
    }
    g->final_op = op;
    return CARTOON_OK;
}

/* Pass 1: producers; every tensor made once, constants never, operands made before use. */
static cartoon_status check_order(cctx *c)
{
    const tfl_model *m = c->m;
    for (int i = 0; i < m->n_tensors; i++) c->producer[i] = -1;
    for (int i = 0; i < m->n_inputs; i++) c->producer[m->inputs[i]] = -2;
    for (int op = 0; op < m->n_ops; op++) {
        const tfl_operator *o = &m->ops[op];
        for (int i = 0; i < o->n_inputs; i++) {
            int t = o->inputs[i];
            if (t >= 0 && !m->tensors[t].data && c->producer[t] == -1)
                return ct_fail(c->e, CARTOON_E_BAD_MODEL, "operator %d (%s): input tensor %d (%s) is "
                               "not a constant, a graph input or made by an earlier operator", op,
                               ct_tfl_op_name(o->opcode), t, m->tensors[t].name);
        }
        for (int i = 0; i < o->n_outputs; i++) {
            int t = o->outputs[i];
            if (c->producer[t] != -1 || m->tensors[t].data)
                return ct_fail(c->e, CARTOON_E_BAD_MODEL, "operator %d (%s): output tensor %d (%s) "
                               "is a constant or already produced", op, ct_tfl_op_name(o->opcode), t,
                               m->tensors[t].name);
            c->producer[t] = op;
        }
    }
    for (int i = 0; i < m->n_inputs; i++) c->producer[m->inputs[i]] = -1;
    return CARTOON_OK;
}

static cartoon_status match_graph(cctx *c, conv_found *convs, gf_found *g, ct_convert_report *r)
{
    const tfl_model *m = c->m;
    if (m->n_subgraphs != 1)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "TFLite: %d subgraphs, the White-box export has 1",
                       m->n_subgraphs);
    if (m->n_inputs != 1 || m->n_outputs != 1)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "TFLite: %d inputs and %d outputs, expected 1 "
                       "and 1", m->n_inputs, m->n_outputs);
    const tfl_tensor *in = &m->tensors[m->inputs[0]];
    if (in->type != TFL_FLOAT32 || in->ndim != 4 || in->shape[0] != 1 || in->shape[3] != 3)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "TFLite: input tensor %s is not a float32 "
                       "[1,H,W,3] image", in->name);
    cartoon_status s = check_order(c);
    if (s) return s;
    c->label[m->inputs[0]] = 0;

    int next = 1; /* next generator node expected */
    int leaky_done[N_NODES] = {0};
    for (int op = 0; op < m->n_ops; op++) {
        const tfl_operator *o = &m->ops[op];
        switch (o->opcode) {
        case TFL_OP_DEQUANTIZE: {
            int t = o->n_inputs == 1 && o->n_outputs == 1 ? o->inputs[0] : -1;
            if (t < 0 || !m->tensors[t].data)
                return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEQUANTIZE): input is not "
                               "a constant", op);
            if (m->tensors[t].type != TFL_FLOAT16)
                return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (DEQUANTIZE): constant tensor "
                               "%d (%s) has type %d; only fp16 constants are supported (a quantized "
                               "model is not this one)", op, t, m->tensors[t].name, m->tensors[t].type);
            continue;
        }
        case TFL_OP_CONV_2D:
            if (next >= NODE_GEN_END || NODES[next].op != N_CONV)
                return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (CONV_2D): found where %s was "
                               "expected: not the White-box generator", op,
                               next < NODE_GEN_END ? NODES[next].name : "no further convolution");
            if ((s = match_conv(c, op, next, &convs[NODES[next].conv]))) return s;
            r->convs++;
            next++;
            continue;
        case TFL_OP_LEAKY_RELU: {
            int t = o->n_inputs == 1 && o->n_outputs == 1 ? o->inputs[0] : -1;
            int node = t >= 0 ? c->label[t] : -1;
            if (node < 0 || !c->pre_act[t] || leaky_done[node])
                return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (LEAKY_RELU): not applied to "
                               "a convolution the White-box generator activates", op);
            if (o->options_type != TFL_OPT_LEAKY_RELU || !(fabs((double)o->alpha - LEAKY_ALPHA) < 1e-6))
                return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (LEAKY_RELU): alpha %g, "
                               "expected 0.2", op, (double)o->alpha);
            leaky_done[node] = 1;
            c->label[o->outputs[0]] = node;
            r->leaky_relus++;
            continue;
        }
        case TFL_OP_RESIZE_BILINEAR:
            if (next >= NODE_GEN_END || NODES[next].op != N_UP)
                return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (RESIZE_BILINEAR): found where "
                               "%s was expected", op,
                               next < NODE_GEN_END ? NODES[next].name : "the guided filter");
            if ((s = match_resize(c, op, next))) return s;
            r->resizes++;
            next++;
            continue;
        case TFL_OP_ADD:
            if (add_matches(c, o, next)) {
                if (o->fused_activation != 0 || o->n_outputs != 1)
                    return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d (ADD, %s): fused "
                                   "activation %d", op, NODES[next].name, o->fused_activation);
                c->label[o->outputs[0]] = next;
                next++;
                continue;
            }
            /* fall through - an add of the guided filter */
        case TFL_OP_DEPTHWISE_CONV_2D:
        case TFL_OP_DIV:
        case TFL_OP_MUL:
        case TFL_OP_SUB:
            if ((s = gf_op(c, op, g))) return s;
            continue;
        default:
            return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "operator %d: builtin op %d is not part of "
                           "the White-box cartoonizer", op, o->opcode);
        }
    }
    for (int n = 1; n < NODE_GEN_END; n++)
        if (NODES[n].op == N_CONV && NODES[n].leaky && !leaky_done[n])
            return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "%s has no LEAKY_RELU", NODES[n].name);
    if (next != NODE_GEN_END)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "the graph ends before %s of the White-box "
                       "generator (%d of 18 convolutions found)", NODES[next].name, r->convs);
    if (g->depthwise != GF_DEPTHWISE || g->div != GF_DIV || g->mul != GF_MUL || g->sub != GF_SUB ||
        g->add != GF_ADD)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "guided filter: %d DEPTHWISE_CONV_2D, %d DIV, "
                       "%d MUL, %d SUB, %d ADD; the White-box export has %d, %d, %d, %d, %d",
                       g->depthwise, g->div, g->mul, g->sub, g->add, GF_DEPTHWISE, GF_DIV, GF_MUL,
                       GF_SUB, GF_ADD);
    if (g->eps_op < 0 || !(g->eps > 0.0f && g->eps < 1.0f))
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "guided filter: no eps constant in (0, 1) "
                       "added to the variance");
    if (!g->uses_input || !g->uses_gen)
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "guided filter: does not combine the network "
                       "input with the generator output");
    if (g->final_op < 0 || m->ops[g->final_op].outputs[0] != m->outputs[0])
        return ct_fail(c->e, CARTOON_E_UNSUPPORTED, "the network output is not the guided filter's "
                       "final ADD");
    r->depthwise = g->depthwise;
    r->radius = (g->kernel - 1) / 2;
    r->eps_found = g->eps;
    return CARTOON_OK;
}

/* ------------------------------------------------------------------ output */

static int jset(json_t *o, const char *k, json_t *v) { return v && json_object_set_new(o, k, v) == 0; }

static json_t *strs(const char *a, const char *b)
{
    json_t *arr = json_array();
    if (!arr) return NULL;
    if (json_array_append_new(arr, json_string(a)) != 0 ||
        (b && json_array_append_new(arr, json_string(b)) != 0)) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *node_json(const exp_node *n, int radius)
{
    json_t *o = json_object();
    if (!o) return NULL;
    int ok = jset(o, "name", json_string(n->name));
    const char *a = NODES[n->in0].name, *b = n->in1 >= 0 ? NODES[n->in1].name : NULL;
    char wname[32], bname[32];
    switch (n->op) {
    case N_CONV:
        snprintf(wname, sizeof wname, "%s.weight", n->name);
        snprintf(bname, sizeof bname, "%s.bias", n->name);
        ok = ok && jset(o, "op", json_string("conv2d")) && jset(o, "inputs", strs(a, NULL)) &&
             jset(o, "kernel", json_integer(CONVS[n->conv].k)) &&
             jset(o, "stride", json_integer(CONVS[n->conv].stride)) &&
             jset(o, "in_channels", json_integer(CONVS[n->conv].cin)) &&
             jset(o, "out_channels", json_integer(CONVS[n->conv].cout)) &&
             jset(o, "weight", json_string(wname)) && jset(o, "bias", json_string(bname)) &&
             jset(o, "activation", json_string(n->leaky ? "leaky_relu" : "none"));
        if (n->leaky) ok = ok && jset(o, "alpha", json_real(LEAKY_ALPHA));
        break;
    case N_ADD:
        ok = ok && jset(o, "op", json_string("add")) && jset(o, "inputs", strs(a, b)) &&
             jset(o, "activation", json_string("none"));
        break;
    case N_UP:
        ok = ok && jset(o, "op", json_string("upsample")) && jset(o, "inputs", strs(a, NULL)) &&
             jset(o, "factor", json_integer(2)) && jset(o, "mode", json_string("bilinear_tf1"));
        break;
    default:
        ok = ok && jset(o, "op", json_string("guided_filter")) && jset(o, "inputs", strs(a, b)) &&
             jset(o, "radius", json_integer(radius)) && jset(o, "eps", json_real(CT_WHITEBOX_EPS));
        break;
    }
    if (!ok) { json_decref(o); return NULL; }
    return o;
}

/* The graph document; 15 significant digits print every constant here in its shortest
 * round-trip form (1/127.5 as 0.00784313725490196, 0.2 as 0.2). */
static char *graph_json(int radius)
{
    json_t *root = json_object(), *input = json_object(), *nodes = json_array();
    int ok = root && jset(root, "input", input);
    ok = ok && jset(input, "name", json_string("input")) && jset(input, "channels", json_integer(3)) &&
         jset(input, "color_order", json_string("BGR")) && jset(input, "scale", json_real(1.0 / 127.5)) &&
         jset(input, "offset", json_real(-1.0)) && jset(root, "pad_multiple", json_integer(4)) &&
         jset(root, "output", json_string(NODES[N_NODES - 1].name)) && jset(root, "nodes", nodes);
    for (int i = 1; ok && i < N_NODES; i++) ok = json_array_append_new(nodes, node_json(&NODES[i], radius)) == 0;
    if (!root) { json_decref(input); json_decref(nodes); }
    char *s = ok ? json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(root);
    return s;
}

static cartoon_status write_tensor(st_writer *w, const char *name, const cview *v, st_dtype dtype,
                                   ct_err *e)
{
    int64_t shape[TFL_MAX_DIMS];
    for (int i = 0; i < v->t->ndim; i++) shape[i] = v->t->shape[i];
    size_t es = ct_st_dtype_size(dtype), bytes;
    if (!ct_mul_size(v->count, es, &bytes)) return ct_fail(e, CARTOON_E_BAD_MODEL, "%s: too large", name);
    uint8_t *out = malloc(bytes ? bytes : 1);
    if (!out) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: out of memory", name);
    if (v->type == TFL_FLOAT16 && dtype == ST_F16) {
        memcpy(out, v->data, bytes); /* the stored bits exactly, already little-endian */
    } else if (v->type == TFL_FLOAT32 && dtype == ST_F32) {
        memcpy(out, v->data, bytes);
    } else {
        for (size_t i = 0; i < v->count; i++) {
            float f = rd_value(v, i);
            uint32_t u;
            if (dtype == ST_F32) {
                memcpy(&u, &f, 4);
                for (int k = 0; k < 4; k++) out[4 * i + k] = (uint8_t)(u >> (8 * k));
            } else {
                u = dtype == ST_F16 ? ct_float_to_half(f) : ct_float_to_bf16(f);
                out[2 * i] = (uint8_t)u;
                out[2 * i + 1] = (uint8_t)(u >> 8);
            }
        }
    }
    cartoon_status s = ct_st_writer_add(w, name, dtype, v->t->ndim, shape, out);
    free(out);
    if (s) return ct_fail(e, s, "%s: cannot add the tensor: %s", name, cartoon_strerror(s));
    return CARTOON_OK;
}

static const char SOURCE[] =
    "White-box Cartoonization (Xinrui Wang and Jinze Yu, \"Learning to Cartoonize Using "
    "White-box Cartoon Representations\", CVPR 2020): unet_generator + guided filter (r=1, "
    "eps=5e-3, the original model's value; the TFLite file stores eps rounded to fp16). Converted "
    "by cartoon-convert from whitebox_cartoon_gan_fp16.tflite. Weights licensed CC BY-NC-SA 4.0 "
    "(non-commercial use only).";

cartoon_status ct_convert_tflite(const uint8_t *buf, size_t size, st_dtype dtype, st_writer *w,
                                 ct_convert_report *report, ct_err *e)
{
    ct_convert_report rep;
    memset(&rep, 0, sizeof rep);
    if (report) *report = rep;
    if (!w || (!buf && size)) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "ct_convert_tflite: NULL argument");
    if (dtype != ST_F16 && dtype != ST_F32 && dtype != ST_BF16)
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "ct_convert_tflite: unknown dtype %d", (int)dtype);
    tfl_model m;
    cartoon_status s = ct_tfl_parse(buf, size, &m, e);
    if (s) return s;
    cctx c = {&m, NULL, NULL, NULL, NULL, e};
    size_t nt = m.n_tensors ? (size_t)m.n_tensors : 1;
    c.producer = malloc(nt * sizeof *c.producer);
    c.label = malloc(nt * sizeof *c.label);
    c.pre_act = calloc(nt, 1);
    c.gf = calloc(nt, 1);
    conv_found convs[CT_WHITEBOX_CONVS];
    gf_found g;
    memset(convs, 0, sizeof convs);
    memset(&g, 0, sizeof g);
    g.eps_op = g.final_op = -1;
    char *graph = NULL;
    if (!c.producer || !c.label || !c.pre_act || !c.gf) {
        s = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nt; i++) c.label[i] = -1;
    rep.tflite_operators = m.n_ops;
    rep.tflite_tensors = m.n_tensors;
    if ((s = match_graph(&c, convs, &g, &rep))) goto done;

    for (int k = 0; k < CT_WHITEBOX_CONVS; k++) {
        char name[32];
        snprintf(name, sizeof name, "conv%d.weight", k);
        if ((s = write_tensor(w, name, &convs[k].w, dtype, e))) goto done;
        snprintf(name, sizeof name, "conv%d.bias", k);
        if ((s = write_tensor(w, name, &convs[k].b, dtype, e))) goto done;
        rep.parameters += convs[k].w.count + convs[k].b.count;
    }
    rep.eps_written = CT_WHITEBOX_EPS;
    graph = graph_json(rep.radius);
    if (!graph) { s = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "graph JSON: out of memory"); goto done; }
    if ((s = ct_st_writer_meta(w, "format", "libcartoon")) ||
        (s = ct_st_writer_meta(w, "format_version", "1")) ||
        (s = ct_st_writer_meta(w, "name", "whitebox-unet-cartoonizer")) ||
        (s = ct_st_writer_meta(w, "source", SOURCE)) || (s = ct_st_writer_meta(w, "graph", graph))) {
        s = ct_fail(e, s, "metadata: %s", cartoon_strerror(s));
        goto done;
    }
    if (report) *report = rep;
done:
    free(graph);
    free(c.producer);
    free(c.label);
    free(c.pre_act);
    free(c.gf);
    ct_tfl_free(&m);
    return s;
}
