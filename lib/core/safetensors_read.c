/* Parser of the safetensors container: the file is untrusted, so every length, offset and
 * shape is checked before it is used, and tensors are views into the caller's buffer. */
#include "safetensors.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

size_t ct_st_dtype_size(st_dtype t)
{
    switch (t) {
    case ST_F32: return 4;
    case ST_F16: return 2;
    case ST_BF16: return 2;
    }
    return 0;
}

const char *ct_st_dtype_name(st_dtype t)
{
    switch (t) {
    case ST_F32: return "F32";
    case ST_F16: return "F16";
    case ST_BF16: return "BF16";
    }
    return "?";
}

static int parse_dtype(const char *s, st_dtype *t)
{
    if (!strcmp(s, "F32")) { *t = ST_F32; return 1; }
    if (!strcmp(s, "F16")) { *t = ST_F16; return 1; }
    if (!strcmp(s, "BF16")) { *t = ST_BF16; return 1; }
    return 0;
}

/* Checks one tensor entry of the header and fills *t. data_size is the data section size. */
static cartoon_status parse_tensor(const char *name, json_t *v, const uint8_t *data,
                                   size_t data_size, st_tensor *t, uint64_t *begin, uint64_t *end,
                                   ct_err *e)
{
    if (strlen(name) >= sizeof t->name)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor name '%.40s...' is longer than %zu bytes",
                       name, sizeof t->name - 1);
    strcpy(t->name, name);
    if (!json_is_object(v))
        return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor '%s': entry is not an object", name);
    json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
           *jo = json_object_get(v, "data_offsets");
    if (!json_is_string(jd))
        return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor '%s': missing dtype", name);
    if (!parse_dtype(json_string_value(jd), &t->dtype))
        return ct_fail(e, CARTOON_E_UNSUPPORTED, "tensor '%s': dtype '%.16s' is not F32, F16 or BF16",
                       name, json_string_value(jd));
    if (!json_is_array(js) || json_array_size(js) > ST_MAX_DIMS)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor '%s': shape is not an array of at most %d dims",
                       name, ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    size_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
        json_t *x = json_array_get(js, (size_t)d);
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor '%s': dim %d is not a non-negative integer",
                           name, d);
        t->shape[d] = json_integer_value(x);
        if ((uint64_t)t->shape[d] > SIZE_MAX || !ct_mul_size(count, (size_t)t->shape[d], &count))
            return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor '%s': shape overflows", name);
    }
    t->count = count;
    size_t bytes;
    if (!ct_mul_size(count, ct_st_dtype_size(t->dtype), &bytes))
        return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor '%s': byte size overflows", name);
    if (!json_is_array(jo) || json_array_size(jo) != 2 || !json_is_integer(json_array_get(jo, 0)) ||
        !json_is_integer(json_array_get(jo, 1)))
        return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor '%s': data_offsets is not [begin, end]", name);
    json_int_t b = json_integer_value(json_array_get(jo, 0)),
               en = json_integer_value(json_array_get(jo, 1));
    if (b < 0 || en < b || (uint64_t)en > data_size)
        return ct_fail(e, CARTOON_E_BAD_MODEL,
                       "tensor '%s': data_offsets [%lld, %lld] outside the %zu-byte data section",
                       name, (long long)b, (long long)en, data_size);
    if ((uint64_t)(en - b) != bytes)
        return ct_fail(e, CARTOON_E_BAD_MODEL,
                       "tensor '%s': %lld bytes stored but shape and dtype need %zu", name,
                       (long long)(en - b), bytes);
    t->data = data + b;
    *begin = (uint64_t)b;
    *end = (uint64_t)en;
    return CARTOON_OK;
}

typedef struct { uint64_t b, e; int idx; } span;
static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->b < y->b ? -1 : x->b > y->b ? 1 : (x->e < y->e ? -1 : x->e > y->e);
}

cartoon_status ct_st_parse(const uint8_t *buf, size_t size, const cartoon_limits *limits,
                           st_file *f, ct_err *e)
{
    memset(f, 0, sizeof *f);
    if (!buf) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "no model data");
    if (size < 8)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "file of %zu bytes is too short for a header length",
                       size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen < 2 || hlen > size - 8)
        return ct_fail(e, CARTOON_E_BAD_MODEL,
                       "header length %llu does not fit in the %zu-byte file (not a safetensors file?)",
                       (unsigned long long)hlen, size);
    if (hlen > (64u << 20))
        return ct_fail(e, CARTOON_E_LIMIT, "header of %llu bytes is over the 64 MiB limit",
                       (unsigned long long)hlen);
    json_error_t je;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return ct_fail(e, CARTOON_E_BAD_MODEL, "header is not valid JSON (byte %d: %s)",
                       je.position, je.text);
    f->root = root;
    if (!json_is_object(root)) {
        ct_st_free(f);
        return ct_fail(e, CARTOON_E_BAD_MODEL, "header is not a JSON object");
    }
    size_t n = json_object_size(root);
    json_t *meta = json_object_get(root, "__metadata__");
    if (meta) {
        n--;
        if (!json_is_object(meta)) {
            ct_st_free(f);
            return ct_fail(e, CARTOON_E_BAD_MODEL, "__metadata__ is not an object");
        }
        f->metadata = meta;
    }
    uint32_t max_t = limits && limits->max_tensors ? limits->max_tensors : CARTOON_DEFAULT_MAX_TENSORS;
    if (n > max_t) {
        ct_st_free(f);
        return ct_fail(e, CARTOON_E_LIMIT, "%zu tensors exceed the limit of %u", n, max_t);
    }
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    span *spans = calloc(n ? n : 1, sizeof *spans);
    if (!f->tensors || !spans) {
        free(spans);
        ct_st_free(f);
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "no memory for %zu tensor records", n);
    }
    const uint8_t *data = buf + 8 + hlen;
    size_t data_size = size - 8 - (size_t)hlen;
    const char *key;
    json_t *val;
    cartoon_status st = CARTOON_OK;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) continue;
        st_tensor *t = &f->tensors[f->n_tensors];
        span *sp = &spans[f->n_tensors];
        st = parse_tensor(key, val, data, data_size, t, &sp->b, &sp->e, e);
        if (st) break;
        sp->idx = f->n_tensors++;
    }
    if (!st) {
        qsort(spans, (size_t)f->n_tensors, sizeof *spans, cmp_span);
        /* sorted by begin: a tensor overlaps an earlier one iff it starts before the
         * furthest end seen so far (empty tensors occupy nothing) */
        uint64_t reach = 0;
        int reach_idx = -1;
        for (int i = 0; i < f->n_tensors; i++) {
            if (spans[i].e == spans[i].b) continue;
            if (reach_idx >= 0 && spans[i].b < reach) {
                st = ct_fail(e, CARTOON_E_BAD_MODEL, "tensors '%s' and '%s' overlap in the data section",
                             f->tensors[reach_idx].name, f->tensors[spans[i].idx].name);
                break;
            }
            reach = spans[i].e;
            reach_idx = spans[i].idx;
        }
    }
    free(spans);
    if (st) ct_st_free(f);
    return st;
}

void ct_st_free(st_file *f)
{
    if (!f) return;
    free(f->tensors);
    if (f->root) json_decref((json_t *)f->root);
    memset(f, 0, sizeof *f);
}

const st_tensor *ct_st_find(const st_file *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

const char *ct_st_meta(const st_file *f, const char *key)
{
    if (!f->metadata) return NULL;
    json_t *v = json_object_get((json_t *)f->metadata, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
