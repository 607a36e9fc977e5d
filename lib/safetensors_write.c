/* safetensors writer and the fp16 / bf16 conversions (docs/model-format.md). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t st_dtype_size(st_dtype t)
{
    switch (t) {
    case ST_F32: return 4;
    case ST_F16: return 2;
    case ST_BF16: return 2;
    }
    return 0;
}

const char *st_dtype_name(st_dtype t)
{
    switch (t) {
    case ST_F32: return "F32";
    case ST_F16: return "F16";
    case ST_BF16: return "BF16";
    }
    return "?";
}

/* ------------------------------------------------------------------ fp16 / bf16 */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float ct_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) /* inf / nan: keep the payload so NaNs stay NaNs */
        return f32_from_bits(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (man == 0) return f32_from_bits(sign);
        /* Subnormal: man * 2^-24 is exact in float. */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t ct_float_to_half(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) /* NaN: keep the top payload bits, force quiet so it cannot become inf */
        return (uint16_t)(sign | 0x7e00u | ((x >> 13) & 0x3ffu));
    if (x >= 0x477ff000u) /* >= 65520 (the midpoint above 65504, ties to even go up) or inf */
        return (uint16_t)(sign | 0x7c00u);
    if (x < 0x38800000u) { /* below 2^-14: half subnormal or zero */
        if (x <= 0x33000000u) /* <= 2^-25: half of the smallest subnormal, tie goes to even 0 */
            return sign;
        uint32_t exp = x >> 23;
        uint32_t mant = (x & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - exp; /* 14..24 here */
        uint32_t r = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++; /* may carry into the smallest normal */
        return (uint16_t)(sign | r);
    }
    uint32_t h = (x - 0x38000000u) >> 13;
    uint32_t rem = x & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

float ct_bf16_to_float(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

uint16_t ct_float_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: truncation could clear the payload into inf */
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

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

st_writer *st_writer_new(void) { return calloc(1, sizeof(st_writer)); }

void st_writer_free(st_writer *w)
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

cartoon_status st_writer_add(st_writer *w, const char *name, st_dtype dtype, int ndim,
                             const int64_t *shape, const void *data)
{
    if (!w || !name || !*name || strlen(name) >= sizeof(((st_tensor *)0)->name) ||
        strcmp(name, "__metadata__") == 0 || ndim < 0 || ndim > ST_MAX_DIMS ||
        (ndim > 0 && !shape) || st_dtype_size(dtype) == 0)
        return CARTOON_E_INVALID_ARGUMENT;
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0) return CARTOON_E_INVALID_ARGUMENT;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return CARTOON_E_INVALID_ARGUMENT;
        if (!ct_mul_size(count, (size_t)shape[i], &count)) return CARTOON_E_INVALID_ARGUMENT;
    }
    size_t bytes;
    if (!ct_mul_size(count, st_dtype_size(dtype), &bytes)) return CARTOON_E_INVALID_ARGUMENT;
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

cartoon_status st_writer_meta(st_writer *w, const char *key, const char *value)
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
        if (!set_new(o, "dtype", json_string(st_dtype_name(t->dtype)))) {
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

cartoon_status st_writer_serialize(const st_writer *w, uint8_t **out, size_t *out_size)
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

cartoon_status st_writer_save(const st_writer *w, const char *path, ct_err *e)
{
    if (!w || !path || !*path) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "st_writer_save: no path");
    uint8_t *buf;
    size_t size;
    cartoon_status s = st_writer_serialize(w, &buf, &size);
    if (s != CARTOON_OK) return ct_fail(e, s, "%s: cannot serialise the model: %s", path, cartoon_strerror(s));

    /* The temporary file lives beside the target so rename() stays within one filesystem
     * and is atomic: a reader never sees a half-written model. */
    size_t plen = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t tlen = plen + 16;
    char *tmp = malloc(tlen);
    char *dir = malloc(dlen + 2);
    if (!tmp || !dir) {
        free(tmp); free(dir); free(buf);
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    snprintf(tmp, tlen, "%.*s.%s.XXXXXX", (int)dlen, path, slash ? slash + 1 : path);
    if (dlen) { memcpy(dir, path, dlen); dir[dlen] = 0; } else { dir[0] = '.'; dir[1] = 0; }

    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp); free(dir); free(buf);
        return ct_fail(e, CARTOON_E_IO, "%s: cannot create a temporary file: %s", path, strerror(err));
    }
    /* mkstemp makes 0600; a model file is meant to be shared like any data file. */
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int err = errno;
        close(fd); unlink(tmp);
        free(tmp); free(dir); free(buf);
        return ct_fail(e, CARTOON_E_IO, "%s: %s", path, strerror(err));
    }
    int ok = fwrite(buf, 1, size, f) == size;
    int err = ok ? 0 : errno;
    if (ok && fflush(f) != 0) { ok = 0; err = errno; }
    if (ok && fsync(fileno(f)) != 0) { ok = 0; err = errno; }
    if (fclose(f) != 0 && ok) { ok = 0; err = errno; }
    free(buf);
    if (ok && rename(tmp, path) != 0) { ok = 0; err = errno; }
    if (!ok) {
        unlink(tmp);
        free(tmp); free(dir);
        return ct_fail(e, CARTOON_E_IO, "%s: write failed: %s", path, strerror(err ? err : EIO));
    }
    /* Persist the rename itself; failure here leaves a correct file, so it is not an error. */
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) { (void)fsync(dfd); close(dfd); }
    free(tmp); free(dir);
    return CARTOON_OK;
}
