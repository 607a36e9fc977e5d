/* safetensors writer (docs/model-format.md). */
#include "safetensors_write.h"
#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ writer */

typedef struct st_wtensor {
    char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    void *data;
    size_t bytes;
} st_wtensor;

typedef struct st_wmeta {
    char *key, *value;
} st_wmeta;

struct st_writer {
    st_wtensor *t;
    int n, cap;
    st_wmeta *m;
    int nm, capm;
};

st_writer *ct_st_writer_new(void) { return calloc(1, sizeof(st_writer)); }

void ct_st_writer_free(st_writer *w)
{
    if (!w) return;
    for (int i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    for (int i = 0; i < w->nm; i++) {
        free(w->m[i].key);
        free(w->m[i].value);
    }
    free(w->t);
    free(w->m);
    free(w);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

cartoon_status ct_st_writer_add(st_writer *w, const char *name, st_dtype dtype, int ndim,
                                const int64_t *shape, const void *data)
{
    if (!w || !name || !*name || strlen(name) >= sizeof(((st_tensor *)0)->name) ||
        strcmp(name, "__metadata__") == 0 || ndim < 0 || ndim > ST_MAX_DIMS ||
        (ndim > 0 && !shape) || ct_st_dtype_size(dtype) == 0)
        return CARTOON_E_INVALID_ARGUMENT;
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0) return CARTOON_E_INVALID_ARGUMENT;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return CARTOON_E_INVALID_ARGUMENT;
        if (!ct_mul_size(count, (size_t)shape[i], &count)) return CARTOON_E_INVALID_ARGUMENT;
    }
    size_t bytes;
    if (!ct_mul_size(count, ct_st_dtype_size(dtype), &bytes)) return CARTOON_E_INVALID_ARGUMENT;
    if (bytes && !data) return CARTOON_E_INVALID_ARGUMENT;
    if (w->n == w->cap) {
        int nc = w->cap ? w->cap * 2 : 16;
        st_wtensor *nt = realloc(w->t, (size_t)nc * sizeof *nt);
        if (!nt) return CARTOON_E_OUT_OF_MEMORY;
        w->t = nt;
        w->cap = nc;
    }
    st_wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->name = dup_str(name);
    t->data = malloc(bytes ? bytes : 1); /* malloc(0) may return NULL: not an error here */
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return CARTOON_E_OUT_OF_MEMORY;
    }
    if (bytes) memcpy(t->data, data, bytes);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->bytes = bytes;
    w->n++;
    return CARTOON_OK;
}

cartoon_status ct_st_writer_meta(st_writer *w, const char *key, const char *value)
{
    if (!w || !key || !value) return CARTOON_E_INVALID_ARGUMENT;
    char *v = dup_str(value);
    if (!v) return CARTOON_E_OUT_OF_MEMORY;
    for (int i = 0; i < w->nm; i++) {
        if (strcmp(w->m[i].key, key) == 0) { /* replace: metadata keys are unique in JSON */
            free(w->m[i].value);
            w->m[i].value = v;
            return CARTOON_OK;
        }
    }
    if (w->nm == w->capm) {
        int nc = w->capm ? w->capm * 2 : 8;
        st_wmeta *nm = realloc(w->m, (size_t)nc * sizeof *nm);
        if (!nm) { free(v); return CARTOON_E_OUT_OF_MEMORY; }
        w->m = nm;
        w->capm = nc;
    }
    char *k = dup_str(key);
    if (!k) { free(v); return CARTOON_E_OUT_OF_MEMORY; }
    w->m[w->nm].key = k;
    w->m[w->nm].value = v;
    w->nm++;
    return CARTOON_OK;
}

/* json_object_set_new steals the value even on failure, so one status check suffices. */
static int set_new(json_t *obj, const char *key, json_t *val)
{
    return val && json_object_set_new(obj, key, val) == 0;
}

static json_t *build_header(const st_writer *w)
{
    json_t *root = json_object();
    if (!root) return NULL;
    if (w->nm) {
        json_t *meta = json_object();
        if (!set_new(root, "__metadata__", meta)) goto fail;
        for (int i = 0; i < w->nm; i++)
            if (!set_new(meta, w->m[i].key, json_string(w->m[i].value))) goto fail;
    }
    size_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const st_wtensor *t = &w->t[i];
        json_t *o = json_object(), *shape = json_array(), *offs = json_array();
        if (!set_new(root, t->name, o)) { json_decref(shape); json_decref(offs); goto fail; }
        if (!set_new(o, "dtype", json_string(ct_st_dtype_name(t->dtype)))) {
            json_decref(shape); json_decref(offs); goto fail;
        }
        if (!set_new(o, "shape", shape)) { json_decref(offs); goto fail; }
        for (int d = 0; d < t->ndim; d++)
            if (json_array_append_new(shape, json_integer((json_int_t)t->shape[d])) != 0) {
                json_decref(offs);
                goto fail;
            }
        if (!set_new(o, "data_offsets", offs)) goto fail;
        size_t end;
        if (!ct_add_size(off, t->bytes, &end) || end > (size_t)INT64_MAX) goto fail;
        if (json_array_append_new(offs, json_integer((json_int_t)off)) != 0 ||
            json_array_append_new(offs, json_integer((json_int_t)end)) != 0)
            goto fail;
        off = end;
    }
    return root;
fail:
    json_decref(root);
    return NULL;
}

cartoon_status ct_st_writer_serialize(const st_writer *w, uint8_t **out, size_t *out_size)
{
    if (!w || !out || !out_size) return CARTOON_E_INVALID_ARGUMENT;
    *out = NULL;
    *out_size = 0;
    json_t *root = build_header(w);
    if (!root) return CARTOON_E_OUT_OF_MEMORY;
    char *js = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!js) return CARTOON_E_OUT_OF_MEMORY;
    size_t jlen = strlen(js);
    /* Pad with spaces so the data section starts 8-byte aligned (8 + N is a multiple of 8). */
    size_t hlen;
    if (!ct_add_size(jlen, (8 - jlen % 8) % 8, &hlen)) { free(js); return CARTOON_E_INVALID_ARGUMENT; }
    size_t total;
    if (!ct_add_size(8, hlen, &total)) { free(js); return CARTOON_E_INVALID_ARGUMENT; }
    for (int i = 0; i < w->n; i++)
        if (!ct_add_size(total, w->t[i].bytes, &total)) { free(js); return CARTOON_E_INVALID_ARGUMENT; }
    uint8_t *b = malloc(total);
    if (!b) { free(js); return CARTOON_E_OUT_OF_MEMORY; }
    uint64_t n64 = hlen;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(n64 >> (8 * i));
    memcpy(b + 8, js, jlen);
    memset(b + 8 + jlen, ' ', hlen - jlen);
    free(js);
    size_t pos = 8 + hlen;
    for (int i = 0; i < w->n; i++) {
        if (w->t[i].bytes) memcpy(b + pos, w->t[i].data, w->t[i].bytes);
        pos += w->t[i].bytes;
    }
    *out = b;
    *out_size = total;
    return CARTOON_OK;
}

cartoon_status ct_st_writer_save(const st_writer *w, const char *path, ct_err *e)
{
    if (!w || !path || !*path) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "ct_st_writer_save: no path");
    uint8_t *buf;
    size_t size;
    cartoon_status s = ct_st_writer_serialize(w, &buf, &size);
    if (s != CARTOON_OK) return ct_fail(e, s, "%s: cannot serialise the model", path);
    s = ct_write_file_atomic(path, buf, size, e);
    free(buf);
    return s;
}
