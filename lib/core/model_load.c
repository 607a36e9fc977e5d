/* Loading a model file: container, metadata, graph and weights are all validated here, so
 * the executor can trust every shape and reference it finds in a cartoon_model. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "errors.h"
#include "model.h"
#include "file_io.h"
#include "half.h"
#include "safetensors.h"

#define CT_FORMAT_VERSION 1u

void cartoon_limits_default(cartoon_limits *l)
{
    if (!l) return;
    l->max_pixels = CARTOON_DEFAULT_MAX_PIXELS;
    l->max_model_bytes = CARTOON_DEFAULT_MAX_MODEL_BYTES;
    l->max_tensors = CARTOON_DEFAULT_MAX_TENSORS;
    l->max_nodes = CARTOON_DEFAULT_MAX_NODES;
}

static void fill_limits(const cartoon_limits *in, cartoon_limits *out)
{
    cartoon_limits_default(out);
    if (!in) return;
    if (in->max_pixels) out->max_pixels = in->max_pixels;
    if (in->max_model_bytes) out->max_model_bytes = in->max_model_bytes;
    if (in->max_tensors) out->max_tensors = in->max_tensors;
    if (in->max_nodes) out->max_nodes = in->max_nodes;
}

/* ---- small JSON accessors that fail with the node's name in the message */

static cartoon_status get_int(json_t *o, const char *key, int lo, int hi, int dflt, int *out,
                              const char *node, ct_err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (dflt == INT32_MIN)
            return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': missing field '%s'", node, key);
        *out = dflt;
        return CARTOON_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': '%s' must be an integer in [%d, %d]",
                       node, key, lo, hi);
    *out = (int)json_integer_value(v);
    return CARTOON_OK;
}

static cartoon_status get_num(json_t *o, const char *key, double lo, double hi, double dflt,
                              float *out, const char *node, ct_err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (dflt != dflt)
            return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': missing field '%s'", node, key);
        *out = (float)dflt;
        return CARTOON_OK;
    }
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= lo && d <= hi))
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': '%s' must be a number in [%g, %g]", node,
                       key, lo, hi);
    *out = (float)d;
    return CARTOON_OK;
}

static int find_node(const cartoon_model *m, int before, const char *name)
{
    for (int i = 0; i < before; i++)
        if (!strcmp(m->nodes[i].name, name)) return i;
    return -1;
}

/* Copies a tensor into a new float array, widening f16/bf16, after checking its shape. */
static cartoon_status load_tensor(const st_file *f, const char *tname, int ndim,
                                  const int64_t *want, float **out, const char *node, ct_err *e)
{
    const st_tensor *t = ct_st_find(f, tname);
    if (!t) return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': tensor '%s' is not in the file", node, tname);
    int ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == want[d];
    if (!ok) {
        char got[96] = "", exp[96] = "";
        for (int d = 0; d < t->ndim && d < 6; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "", (long long)t->shape[d]);
        for (int d = 0; d < ndim; d++)
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%lld", d ? "," : "", (long long)want[d]);
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': tensor '%s' has shape [%s], expected [%s]",
                       node, tname, got, exp);
    }
    float *w = malloc((t->count ? t->count : 1) * sizeof *w);
    if (!w) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for tensor '%s'", tname);
    for (size_t i = 0; i < t->count; i++) {
        const uint8_t *p = t->data + i * ct_st_dtype_size(t->dtype);
        if (t->dtype == ST_F32) {
            uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            memcpy(&w[i], &u, 4);
        } else {
            uint16_t h = (uint16_t)(p[0] | p[1] << 8);
            w[i] = t->dtype == ST_F16 ? ct_half_to_float(h) : ct_bf16_to_float(h);
        }
        if (!(w[i] - w[i] == 0.f)) { /* NaN or inf would poison every output */
            free(w);
            return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': tensor '%s' holds a non-finite value at %zu",
                           node, tname, i);
        }
    }
    *out = w;
    return CARTOON_OK;
}

static cartoon_status parse_activation(json_t *o, ct_node *n, ct_err *e)
{
    json_t *a = json_object_get(o, "activation");
    const char *s = a ? json_string_value(a) : "none";
    if (!s) return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': 'activation' is not a string", n->name);
    if (!strcmp(s, "none")) n->act = ACT_NONE;
    else if (!strcmp(s, "relu")) n->act = ACT_RELU;
    else if (!strcmp(s, "leaky_relu")) n->act = ACT_LEAKY_RELU;
    else return ct_fail(e, CARTOON_E_UNSUPPORTED, "node '%s': unknown activation '%.32s'", n->name, s);
    return get_num(o, "alpha", 0.0, 0.999999, 0.2, &n->alpha, n->name, e);
}

static cartoon_status parse_conv(json_t *o, ct_node *n, const ct_node *src, const st_file *f,
                                 int depthwise, ct_err *e)
{
    cartoon_status st;
    if ((st = get_int(o, "kernel", 1, CT_MAX_KERNEL, INT32_MIN, &n->kernel, n->name, e)) ||
        (st = get_int(o, "stride", 1, 2, 1, &n->stride, n->name, e)))
        return st;
    if (n->kernel % 2 == 0)
        return ct_fail(e, CARTOON_E_UNSUPPORTED, "node '%s': even kernel %d (only odd kernels)", n->name, n->kernel);
    if (depthwise) {
        if ((st = get_int(o, "channels", 1, CT_MAX_CHANNELS, INT32_MIN, &n->channels, n->name, e))) return st;
        n->cin = n->channels;
    } else if ((st = get_int(o, "in_channels", 1, CT_MAX_CHANNELS, INT32_MIN, &n->cin, n->name, e)) ||
               (st = get_int(o, "out_channels", 1, CT_MAX_CHANNELS, INT32_MIN, &n->channels, n->name, e)))
        return st;
    if (n->cin != src->channels)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': expects %d input channels but '%s' has %d",
                       n->name, n->cin, src->name, src->channels);
    if ((st = parse_activation(o, n, e))) return st;
    const char *wn = json_string_value(json_object_get(o, "weight"));
    if (!wn) return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': missing 'weight' tensor name", n->name);
    int64_t k = n->kernel;
    if (depthwise) {
        int64_t shp[3] = {k, k, n->channels};
        st = load_tensor(f, wn, 3, shp, &n->weight, n->name, e);
    } else {
        int64_t shp[4] = {n->channels, k, k, n->cin};
        st = load_tensor(f, wn, 4, shp, &n->weight, n->name, e);
    }
    if (st) return st;
    json_t *jb = json_object_get(o, "bias");
    if (jb && !json_is_null(jb)) {
        if (!json_is_string(jb))
            return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': 'bias' is not a tensor name", n->name);
        int64_t shp[1] = {n->channels};
        return load_tensor(f, json_string_value(jb), 1, shp, &n->bias, n->name, e);
    }
    n->bias = calloc((size_t)n->channels, sizeof *n->bias);
    return n->bias ? CARTOON_OK : ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for a bias");
}

static cartoon_status parse_node(cartoon_model *m, int idx, json_t *o, const st_file *f, ct_err *e)
{
    ct_node *n = &m->nodes[idx];
    if (!json_is_object(o)) return ct_fail(e, CARTOON_E_BAD_MODEL, "graph node %d is not an object", idx);
    const char *name = json_string_value(json_object_get(o, "name"));
    if (!name || !*name || strlen(name) >= CT_NAME_MAX)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "graph node %d: 'name' missing, empty or over %d bytes",
                       idx, CT_NAME_MAX - 1);
    strcpy(n->name, name);
    if (find_node(m, idx, name) >= 0)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': name used twice", name);
    const char *op = json_string_value(json_object_get(o, "op"));
    if (!op) return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': missing 'op'", name);
    n->op = OP_COUNT;
    for (int k = 1; k < OP_COUNT; k++)
        if (!strcmp(op, ct_op_names[k])) n->op = (ct_op)k;
    if (n->op == OP_COUNT)
        return ct_fail(e, CARTOON_E_UNSUPPORTED, "node '%s': unknown op '%.32s'", name, op);

    json_t *ins = json_object_get(o, "inputs");
    if (!json_is_array(ins) || json_array_size(ins) < 1 || json_array_size(ins) > CT_MAX_INPUTS)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': 'inputs' must list 1..%d names", name, CT_MAX_INPUTS);
    n->n_in = (int)json_array_size(ins);
    for (int k = 0; k < n->n_in; k++) {
        const char *in = json_string_value(json_array_get(ins, (size_t)k));
        if (!in) return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': input %d is not a name", name, k);
        int j = find_node(m, idx, in);
        if (j < 0)
            return ct_fail(e, CARTOON_E_BAD_MODEL,
                           "node '%s': input '%.63s' is not the graph input or an earlier node", name, in);
        n->in[k] = j;
    }
    static const int arity_min[OP_COUNT] = {0, 1, 1, 2, 2, 1, 2}, arity_max[OP_COUNT] = {0, 1, 1, 2, 8, 1, 2};
    if (n->n_in < arity_min[n->op] || n->n_in > arity_max[n->op])
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': %s takes %d..%d inputs, not %d", name, op,
                       arity_min[n->op], arity_max[n->op], n->n_in);
    const ct_node *a = &m->nodes[n->in[0]];
    cartoon_status st = CARTOON_OK;
    switch (n->op) {
    case OP_CONV2D:
    case OP_DEPTHWISE_CONV2D:
        if ((st = parse_conv(o, n, a, f, n->op == OP_DEPTHWISE_CONV2D, e))) return st;
        n->level = a->level + (n->stride == 2);
        m->parameters += (uint64_t)n->kernel * n->kernel * (n->op == OP_CONV2D ? (uint64_t)n->cin : 1) *
                             n->channels + n->channels;
        break;
    case OP_ADD: {
        const ct_node *b = &m->nodes[n->in[1]];
        if (a->channels != b->channels || a->level != b->level)
            return ct_fail(e, CARTOON_E_BAD_MODEL,
                           "node '%s': adds '%s' (%d ch, 1/%d res) and '%s' (%d ch, 1/%d res)", name,
                           a->name, a->channels, 1 << a->level, b->name, b->channels, 1 << b->level);
        n->channels = a->channels;
        n->level = a->level;
        if ((st = parse_activation(o, n, e))) return st;
        break;
    }
    case OP_CONCAT:
        n->level = a->level;
        for (int k = 0; k < n->n_in; k++) {
            const ct_node *b = &m->nodes[n->in[k]];
            if (b->level != a->level)
                return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': concatenates tensors of different sizes ('%s', '%s')",
                               name, a->name, b->name);
            n->channels += b->channels;
        }
        if (n->channels > CT_MAX_CHANNELS)
            return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': %d channels over the limit of %d", name,
                           n->channels, CT_MAX_CHANNELS);
        break;
    case OP_UPSAMPLE: {
        if ((st = get_int(o, "factor", 2, 2, 2, &n->factor, name, e))) return st;
        const char *mode = json_string_value(json_object_get(o, "mode"));
        if (!mode || !strcmp(mode, "bilinear_tf1")) n->upmode = UP_BILINEAR_TF1;
        else if (!strcmp(mode, "nearest")) n->upmode = UP_NEAREST;
        else return ct_fail(e, CARTOON_E_UNSUPPORTED, "node '%s': unknown upsample mode '%.32s'", name, mode);
        if (a->level < 1)
            return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': upsamples '%s' above the input resolution",
                           name, a->name);
        n->channels = a->channels;
        n->level = a->level - 1;
        break;
    }
    case OP_GUIDED_FILTER: {
        const ct_node *b = &m->nodes[n->in[1]];
        if (a->channels != b->channels || a->level != b->level)
            return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': guide '%s' and source '%s' differ in shape",
                           name, a->name, b->name);
        if ((st = get_int(o, "radius", 1, 64, INT32_MIN, &n->radius, name, e)) ||
            (st = get_num(o, "eps", 1e-12, 1e6, 0.0 / 0.0, &n->eps, name, e)))
            return st;
        n->channels = a->channels;
        n->level = a->level;
        break;
    }
    default:
        return ct_fail(e, CARTOON_E_INTERNAL, "node '%s': unhandled op", name);
    }
    if (n->level > 12)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "node '%s': downsampled more than 12 times", name);
    if (n->level > m->max_level) m->max_level = n->level;
    return CARTOON_OK;
}

static cartoon_status parse_graph(cartoon_model *m, const char *text, const st_file *f,
                                  const cartoon_limits *lim, ct_err *e)
{
    json_error_t je;
    json_t *g = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!g) return ct_fail(e, CARTOON_E_BAD_MODEL, "graph is not valid JSON (line %d: %s)", je.line, je.text);
    cartoon_status st = CARTOON_OK;
    json_t *in = json_object_get(g, "input"), *nodes = json_object_get(g, "nodes");
    const char *outname = json_string_value(json_object_get(g, "output"));
    if (!json_is_object(in) || !json_is_array(nodes) || !outname) {
        st = ct_fail(e, CARTOON_E_BAD_MODEL, "graph needs 'input' (object), 'nodes' (array) and 'output' (name)");
        goto out;
    }
    size_t count = json_array_size(nodes) + 1;
    if (count > lim->max_nodes) {
        st = ct_fail(e, CARTOON_E_LIMIT, "graph has %zu nodes, over the limit of %u", count, lim->max_nodes);
        goto out;
    }
    m->nodes = calloc(count, sizeof *m->nodes);
    if (!m->nodes) { st = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for %zu nodes", count); goto out; }
    m->n_alloc = (int)count;
    m->n_nodes = 1;
    ct_node *n0 = &m->nodes[0];
    const char *iname = json_string_value(json_object_get(in, "name"));
    if (!iname || !*iname || strlen(iname) >= CT_NAME_MAX) {
        st = ct_fail(e, CARTOON_E_BAD_MODEL, "graph input needs a name of 1..%d bytes", CT_NAME_MAX - 1);
        goto out;
    }
    strcpy(n0->name, iname);
    n0->op = OP_INPUT;
    if ((st = get_int(in, "channels", 3, 3, INT32_MIN, &n0->channels, iname, e))) goto out;
    m->in_channels = 3;
    const char *order = json_string_value(json_object_get(in, "color_order"));
    if (!order || (strcmp(order, "BGR") && strcmp(order, "RGB"))) {
        st = ct_fail(e, CARTOON_E_BAD_MODEL, "graph input: color_order must be \"BGR\" or \"RGB\"");
        goto out;
    }
    m->bgr = !strcmp(order, "BGR");
    if ((st = get_num(in, "scale", 1e-6, 1e6, 0.0 / 0.0, &m->scale, iname, e)) ||
        (st = get_num(in, "offset", -1e6, 1e6, 0.0 / 0.0, &m->offset, iname, e)) ||
        (st = get_int(g, "pad_multiple", 1, 4096, 1, &m->pad_multiple, "graph", e)))
        goto out;
    /* from the double: (float)(1 / 0.00784313725490196) is exactly 127.5, 1 / (float)scale not */
    m->inv_scale = (float)(1.0 / json_number_value(json_object_get(in, "scale")));
    for (size_t i = 0; i + 1 < count; i++) {
        if ((st = parse_node(m, m->n_nodes, json_array_get(nodes, i), f, e))) goto out;
        m->n_nodes++;
    }
    m->output = find_node(m, m->n_nodes, outname);
    if (m->output < 0) { st = ct_fail(e, CARTOON_E_BAD_MODEL, "graph output '%.63s' is not a node", outname); goto out; }
    const ct_node *o = &m->nodes[m->output];
    if (o->channels != m->in_channels || o->level != 0) {
        st = ct_fail(e, CARTOON_E_BAD_MODEL, "graph output '%s' must have %d channels at full resolution",
                     o->name, m->in_channels);
        goto out;
    }
    if (m->pad_multiple % (1 << m->max_level)) {
        st = ct_fail(e, CARTOON_E_BAD_MODEL, "pad_multiple %d is not a multiple of 2^%d (the deepest level)",
                     m->pad_multiple, m->max_level);
        goto out;
    }
out:
    json_decref(g);
    return st;
}

static void model_destroy(cartoon_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_alloc; i++) {
        free(m->nodes[i].weight);
        free(m->nodes[i].bias);
    }
    for (int s = 0; s < CT_BACKEND_SLOTS; s++)
        if (m->backend_data[s]) m->backend_free[s](m->backend_data[s]);
    pthread_mutex_destroy(&m->data_lock);
    free(m->nodes);
    free(m);
}

void cartoon_model_free(cartoon_model *m) { model_destroy(m); }

cartoon_status cartoon_model_load_memory(const void *data, size_t size, const cartoon_limits *limits,
                                         cartoon_model **out, char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    if (err && err_size) err[0] = 0;
    if (!out) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    if (!data) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "data is NULL");
    cartoon_limits lim;
    fill_limits(limits, &lim);
    if (size > lim.max_model_bytes)
        return ct_fail(&e, CARTOON_E_LIMIT, "model of %zu bytes is over the %llu-byte limit", size,
                       (unsigned long long)lim.max_model_bytes);
    st_file f;
    cartoon_status st = ct_st_parse(data, size, &lim, &f, &e);
    if (st) return st;
    cartoon_model *m = calloc(1, sizeof *m);
    if (!m) { ct_st_free(&f); return ct_fail(&e, CARTOON_E_OUT_OF_MEMORY, "no memory for the model"); }
    pthread_mutex_init(&m->data_lock, NULL);
    const char *fmt = ct_st_meta(&f, "format"), *ver = ct_st_meta(&f, "format_version"),
               *graph = ct_st_meta(&f, "graph"), *name = ct_st_meta(&f, "name");
    if (!fmt || strcmp(fmt, "libcartoon")) {
        st = ct_fail(&e, CARTOON_E_BAD_MODEL, "__metadata__.format is not \"libcartoon\" (a bare safetensors file? convert it with cartoon-convert)");
        goto fail;
    }
    char *end = NULL;
    unsigned long v = ver ? strtoul(ver, &end, 10) : 0;
    if (!ver || !*ver || *end || v == 0) {
        st = ct_fail(&e, CARTOON_E_BAD_MODEL, "__metadata__.format_version is missing or not a positive integer");
        goto fail;
    }
    if (v > CT_FORMAT_VERSION) {
        st = ct_fail(&e, CARTOON_E_UNSUPPORTED, "format_version %lu is newer than this library reads (%u)", v,
                     CT_FORMAT_VERSION);
        goto fail;
    }
    m->format_version = (uint32_t)v;
    snprintf(m->name, sizeof m->name, "%s", name ? name : "");
    if (!graph) { st = ct_fail(&e, CARTOON_E_BAD_MODEL, "__metadata__.graph is missing"); goto fail; }
    if ((st = parse_graph(m, graph, &f, &lim, &e))) goto fail;
    ct_st_free(&f);
    *out = m;
    return CARTOON_OK;
fail:
    ct_st_free(&f);
    model_destroy(m);
    return st;
}

cartoon_status cartoon_model_load(const char *path, const cartoon_limits *limits, cartoon_model **out,
                                  char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    if (err && err_size) err[0] = 0;
    if (out) *out = NULL;
    if (!path || !out) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "path or out is NULL");
    cartoon_limits lim;
    fill_limits(limits, &lim);
    unsigned char *buf = NULL;
    size_t size = 0;
    cartoon_status st = ct_read_file(path, lim.max_model_bytes, &buf, &size, &e);
    if (st) return st;
    st = cartoon_model_load_memory(buf, size, &lim, out, err, err_size);
    free(buf);
    return st;
}

cartoon_status cartoon_model_get_info(const cartoon_model *m, cartoon_model_info *info)
{
    if (!m || !info) return CARTOON_E_INVALID_ARGUMENT;
    info->format_version = m->format_version;
    info->nodes = (uint32_t)m->n_nodes;
    info->parameters = m->parameters;
    info->input_channels = m->in_channels;
    info->bgr = m->bgr;
    info->pad_multiple = m->pad_multiple;
    info->name = m->name;
    return CARTOON_OK;
}
