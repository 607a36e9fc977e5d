/* cartoon_context_calibrate(): measures the context's time model on this machine and keeps it
 * in the context and in the cache file.
 *
 * The model: every node i costs a_i * pixels_i + b_i milliseconds, pixels_i being its output's
 * pixels at the padded working size (every node's FLOPs are proportional to them, so this is
 * scaling by FLOPs); a node fused into its producer reports 0 ms and its work is in the
 * producer's fit. The work outside the nodes (8-bit conversion, normalisation, padding and
 * cropping, the final quantisation) costs a_o * u + b_o with u = (input + 4 x padded working +
 * output pixels) / 6 (one pass over the input, four over the working image, one over the
 * output; u is the pixel count at native size), and resampling costs a_r per ct_resample_work() unit. a and b come from
 * two sizes, S1 x S1 and S2 x S2 (128 and 256), each run once to warm up (plan, arena, page
 * faults) and then R = 5 times with an observer (want_data 0, so fused as in real calls); the
 * per-node minimum of the R runs is used: another process taking the CPU only ever adds time,
 * so the minimum is the best view of an otherwise idle machine. A fit whose intercept comes out negative, or whose
 * slope is not positive (noise: the larger size was not slower), is replaced by the line
 * through the origin and the larger size's point.
 *
 * The cache file is JSON:
 *   {"format": "libcartoon-calibration", "version": 1,
 *    "entries": [{"key": {...}, "created": unix seconds, "sizes": [128, 256], "seconds": s,
 *                 "nodes": [[a_i, b_i], ...], "overhead": [a_o, b_o], "resample": a_r}, ...]}
 * with a in ms per pixel (per unit), b in ms; the newest entry first, at most
 * CT_CALIB_MAX_ENTRIES. Anything that does not parse as such is treated as no file. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "calibrate.h"
#include "context.h"
#include "file_io.h"
#include "resample.h"

#define CACHE_FORMAT "libcartoon-calibration"
#define CACHE_VERSION 1
#define CACHE_FILE "calibration.json"
#define CACHE_MAX_BYTES (1u << 20)
#define CALIB_RUNS 5 /* timed runs per size, after one warm-up */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static ct_calibration *calib_new(int n)
{
    ct_calibration *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->n = n;
    c->node_a = calloc((size_t)n, sizeof *c->node_a);
    c->node_b = calloc((size_t)n, sizeof *c->node_b);
    if (!c->node_a || !c->node_b) { ct_calibration_free(c); return NULL; }
    return c;
}

void ct_calibration_free(ct_calibration *c)
{
    if (!c) return;
    free(c->node_a);
    free(c->node_b);
    free(c);
}

/* ------------------------------------------------------------------ the key */

/* The first "model name" of /proc/cpuinfo (x86), else "Hardware"/"CPU part" lines (ARM),
 * else "unknown". */
static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f) return;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        static const char *const keys[] = {"model name", "Hardware", "CPU part", "cpu model"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !found; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(line, keys[k], kl) != 0) continue;
            const char *v = strchr(line + kl, ':');
            if (!v) continue;
            for (v++; *v == ' ' || *v == '\t'; v++) {}
            size_t len = strcspn(v, "\n");
            snprintf(buf, size, "%.*s", (int)len, v);
            found = 1;
        }
    }
    fclose(f);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The NVIDIA GPUs of the machine ("Model:" of /proc/driver/nvidia/gpus/<bus>/information, in
 * bus order, joined by "; ") and CUDA_VISIBLE_DEVICES: the CUDA backend does not say which
 * GPU it runs on, so the key names the set. */
static void gpu_names(char *buf, size_t size)
{
    buf[0] = 0;
    const char *base = "/proc/driver/nvidia/gpus";
    DIR *d = opendir(base);
    char *names[64];
    int n = 0;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) && n < 64)
            if (de->d_name[0] != '.' && (names[n] = strdup(de->d_name))) n++;
        closedir(d);
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char path[512], line[256];
        snprintf(path, sizeof path, "%s/%s/information", base, names[i]);
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof line, f)) {
            if (strncmp(line, "Model:", 6) != 0) continue;
            const char *v = line + 6;
            while (*v == ' ' || *v == '\t') v++;
            size_t used = strlen(buf);
            snprintf(buf + used, size - used, "%s%.*s", used ? "; " : "", (int)strcspn(v, "\n"), v);
            break;
        }
        if (f) fclose(f);
        free(names[i]);
    }
    if (!buf[0]) snprintf(buf, size, "unknown GPU");
    const char *vis = getenv("CUDA_VISIBLE_DEVICES");
    if (vis) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, " (CUDA_VISIBLE_DEVICES=%.64s)", vis);
    }
}

static const char *conv_name(cartoon_conv_algo c)
{
    return c == CARTOON_CONV_IM2COL ? "im2col" : c == CARTOON_CONV_FAST ? "fast" : "auto";
}
static const char *precision_name(cartoon_precision p)
{
    return p == CARTOON_PRECISION_BF16 ? "bf16" : p == CARTOON_PRECISION_FP16 ? "fp16" : "fp32";
}

static json_t *key_json(const cartoon_context *ctx)
{
    char cpu[256], gpu[512] = "";
    cpu_model(cpu, sizeof cpu);
    int cuda = ctx->device == CARTOON_DEVICE_CUDA;
    if (cuda) gpu_names(gpu, sizeof gpu);
    const cartoon_model *m = ctx->model;
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:{s:s, s:I, s:i}, s:s, s:i}",
                     "cpu", cpu, "isa", ct_backend_cpu.isa ? ct_backend_cpu.isa() : "", "gpu", gpu,
                     "threads", ct_pool_size(ctx->pool), "device", cuda ? "cuda" : "cpu",
                     "precision", precision_name(ctx->opt.precision), "conv", conv_name(ctx->opt.conv),
                     "model", "name", m->name, "parameters", (json_int_t)m->parameters, "nodes", m->n_nodes,
                     "library", cartoon_version_string(), "method", CT_CALIB_METHOD);
}

int ct_calibration_key(const cartoon_context *ctx, char *buf, size_t size)
{
    json_t *k = key_json(ctx);
    if (!k) return -1;
    char *s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(k);
    if (!s) return -1;
    int r = strlen(s) < size ? 0 : -1;
    if (!r) memcpy(buf, s, strlen(s) + 1);
    free(s);
    return r;
}

/* ------------------------------------------------------------------ the file */

/* The cache directory: $CARTOON_CACHE_DIR, $XDG_CACHE_HOME/libcartoon, $HOME/.cache/libcartoon. */
static int cache_dir(char *buf, size_t size)
{
    const char *dir = getenv("CARTOON_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (dir && *dir) n = snprintf(buf, size, "%s", dir);
    else if (xdg && xdg[0] == '/') n = snprintf(buf, size, "%s/libcartoon", xdg);
    else if (home && *home) n = snprintf(buf, size, "%s/.cache/libcartoon", home);
    else return -1;
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int ct_calibration_cache_path(char *buf, size_t size)
{
    char dir[4096];
    if (cache_dir(dir, sizeof dir)) return -1;
    int n = snprintf(buf, size, "%s/%s", dir, CACHE_FILE);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* mkdir -p. 0 when the directory exists afterwards. */
static int make_dirs(const char *dir)
{
    char p[4096];
    int n = snprintf(p, sizeof p, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof p) return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) && errno != EEXIST) return -1;
        *s = '/';
    }
    if (mkdir(p, 0777) && errno != EEXIST) return -1;
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* The cache file's entries array (new reference), or NULL when there is no usable file. */
static json_t *read_entries(const char *path)
{
    unsigned char *data = NULL;
    size_t size = 0;
    if (ct_read_file(path, CACHE_MAX_BYTES, &data, &size, NULL)) return NULL;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    free(data);
    json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    json_t *entries = json_object_get(root, "entries");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), CACHE_FORMAT) != 0 || !json_is_integer(ver) ||
        json_integer_value(ver) != CACHE_VERSION || !json_is_array(entries)) {
        json_decref(root);
        return NULL;
    }
    json_incref(entries);
    json_decref(root);
    return entries;
}

static int finite_nonneg(json_t *v, double *out)
{
    if (!json_is_number(v)) return 0;
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0) return 0;
    *out = d;
    return 1;
}

/* A calibration from a cache entry for a graph of n nodes; NULL when malformed. */
static ct_calibration *from_entry(json_t *entry, int n)
{
    json_t *nodes = json_object_get(entry, "nodes"), *over = json_object_get(entry, "overhead");
    if (!json_is_array(nodes) || json_array_size(nodes) != (size_t)n || !json_is_array(over) ||
        json_array_size(over) != 2)
        return NULL;
    ct_calibration *c = calib_new(n);
    if (!c) return NULL;
    int ok = finite_nonneg(json_array_get(over, 0), &c->over_a) && finite_nonneg(json_array_get(over, 1), &c->over_b) &&
             finite_nonneg(json_object_get(entry, "resample"), &c->resample_a);
    for (int i = 0; i < n && ok; i++) {
        json_t *ab = json_array_get(nodes, (size_t)i);
        ok = json_is_array(ab) && json_array_size(ab) == 2 && finite_nonneg(json_array_get(ab, 0), &c->node_a[i]) &&
             finite_nonneg(json_array_get(ab, 1), &c->node_b[i]);
    }
    if (!ok) { ct_calibration_free(c); return NULL; }
    c->source = CARTOON_CALIBRATION_CACHED;
    return c;
}

int ct_calibration_load(cartoon_context *ctx)
{
    ctx->calib_looked = 1;
    char path[4200];
    if (ct_calibration_cache_path(path, sizeof path)) return 0;
    json_t *entries = read_entries(path);
    if (!entries) return 0;
    json_t *key = key_json(ctx);
    ct_calibration *c = NULL;
    size_t i;
    json_t *entry;
    json_array_foreach(entries, i, entry) {
        if (!key || !json_equal(json_object_get(entry, "key"), key)) continue;
        c = from_entry(entry, ctx->model->n_nodes);
        break;
    }
    json_decref(key);
    json_decref(entries);
    if (!c) return 0;
    ct_calibration_free(ctx->calib);
    ctx->calib = c;
    return 1;
}

/* Writes ctx->calib as the newest entry of the cache file, keeping the other keys' entries
 * of a valid file (up to CT_CALIB_MAX_ENTRIES in all). 0 on success. */
static int save(cartoon_context *ctx, const int sizes[2], char *why, size_t why_size)
{
    char dir[4096], path[4200];
    if (cache_dir(dir, sizeof dir) || ct_calibration_cache_path(path, sizeof path)) {
        snprintf(why, why_size, "no cache directory (set CARTOON_CACHE_DIR, XDG_CACHE_HOME or HOME)");
        return -1;
    }
    if (make_dirs(dir)) {
        snprintf(why, why_size, "cannot create %.400s", dir);
        return -1;
    }
    const ct_calibration *c = ctx->calib;
    json_t *key = key_json(ctx), *nodes = json_array(), *root = json_object(), *entries = json_array();
    int ok = key && nodes && root && entries;
    for (int i = 0; ok && i < c->n; i++)
        ok = !json_array_append_new(nodes, json_pack("[f, f]", c->node_a[i], c->node_b[i]));
    json_t *entry = ok ? json_pack("{s:O, s:I, s:[i, i], s:f, s:O, s:[f, f], s:f}", "key", key, "created",
                                   (json_int_t)time(NULL), "sizes", sizes[0], sizes[1], "seconds", c->seconds,
                                   "nodes", nodes, "overhead", c->over_a, c->over_b, "resample", c->resample_a)
                       : NULL;
    json_decref(nodes); /* the entry holds its own reference ("O") */
    ok = entry && !json_array_append_new(entries, entry);
    json_t *old = ok ? read_entries(path) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(old, i, e) {
        if (json_array_size(entries) >= CT_CALIB_MAX_ENTRIES) break;
        if (json_is_object(e) && json_is_object(json_object_get(e, "key")) && !json_equal(json_object_get(e, "key"), key))
            json_array_append(entries, e);
    }
    json_decref(old);
    ok = ok && !json_object_set_new(root, "format", json_string(CACHE_FORMAT)) &&
         !json_object_set_new(root, "version", json_integer(CACHE_VERSION)) &&
         !json_object_set(root, "entries", entries);
    char *text = ok ? json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(key);
    json_decref(entries);
    json_decref(root);
    if (!text) {
        snprintf(why, why_size, "no memory to format the cache");
        return -1;
    }
    char msg[512] = "";
    ct_err err = {msg, sizeof msg};
    cartoon_status st = ct_write_file_atomic(path, text, strlen(text), &err);
    free(text);
    if (st) snprintf(why, why_size, "%s", msg);
    return st ? -1 : 0;
}

/* ------------------------------------------------------------------ measuring */

typedef struct {
    double *ms; /* this run's node times */
    int n;
} calib_obs;

static void observe(void *user, const cartoon_layer_info *info)
{
    calib_obs *o = user;
    if (info->index >= 0 && info->index < o->n) o->ms[info->index] = info->ms;
}

static double minimum(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++) if (v[i] < m) m = v[i];
    return m;
}

/* A smooth synthetic RGB picture with mild deterministic noise (the network's time does not
 * depend on the pixels, but a flat picture would be an unusual input). */
static void synth(uint8_t *px, int s)
{
    uint32_t r = 12345;
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++, px += 3) {
            r = r * 1664525u + 1013904223u;
            int n = (int)(r >> 28) - 8;
            int v[3] = {x * 255 / s + n, y * 255 / s + n, (x + y) * 127 / s + n};
            for (int k = 0; k < 3; k++) px[k] = (uint8_t)(v[k] < 0 ? 0 : v[k] > 255 ? 255 : v[k]);
        }
}

/* Per-node minimum times (ms[n]) and minimum time outside the nodes (*over) of R runs of
 * unet_cartoonize() on an s x s picture, after one warm-up run. */
static cartoon_status measure_size(cartoon_context *ctx, int s, double *ms, double *over)
{
    const int n = ctx->model->n_nodes;
    cartoon_status st = CARTOON_E_OUT_OF_MEMORY;
    uint8_t *a = malloc((size_t)s * s * 3), *b = malloc((size_t)s * s * 3);
    double *runs = malloc((size_t)(n + 1) * CALIB_RUNS * sizeof *runs);
    double *cur = calloc((size_t)n, sizeof *cur);
    if (!a || !b || !runs || !cur) {
        ct_ctx_fail(ctx, st, "no memory to calibrate");
        goto done;
    }
    synth(a, s);
    cartoon_image in = {a, s, s, (size_t)s * 3, CARTOON_PIXEL_RGB}, out = {b, s, s, (size_t)s * 3, CARTOON_PIXEL_RGB};
    cartoon_context_set_observer(ctx, NULL, NULL, 0);
    if ((st = unet_cartoonize(ctx, &in, &out, NULL))) goto done;
    calib_obs o = {cur, n};
    cartoon_context_set_observer(ctx, observe, &o, 0);
    for (int r = 0; r < CALIB_RUNS; r++) {
        memset(cur, 0, (size_t)n * sizeof *cur);
        double t0 = now_ms();
        st = unet_cartoonize(ctx, &in, &out, NULL);
        double wall = now_ms() - t0, sum = 0;
        if (st) goto done;
        for (int i = 0; i < n; i++) { runs[(size_t)i * CALIB_RUNS + r] = cur[i]; sum += cur[i]; }
        runs[(size_t)n * CALIB_RUNS + r] = wall > sum ? wall - sum : 0;
    }
    for (int i = 0; i < n; i++) ms[i] = minimum(runs + (size_t)i * CALIB_RUNS, CALIB_RUNS);
    *over = minimum(runs + (size_t)n * CALIB_RUNS, CALIB_RUNS);
    st = CARTOON_OK;
done:
    cartoon_context_set_observer(ctx, NULL, NULL, 0);
    free(a); free(b); free(runs); free(cur);
    return st;
}

/* t = a * x + b through (x1, t1), (x2, t2), x1 < x2; the line through the origin and
 * (x2, t2) when that would give b < 0 or a <= 0. */
static void fit(double x1, double t1, double x2, double t2, double *a, double *b)
{
    *a = (t2 - t1) / (x2 - x1);
    *b = t1 - *a * x1;
    if (!(*a > 0) || *b < 0 || !isfinite(*a) || !isfinite(*b)) {
        *a = t2 > 0 && x2 > 0 ? t2 / x2 : 0;
        *b = 0;
    }
}

/* Milliseconds per ct_resample_work() unit: best of 2 of a shrink and an enlargement between
 * 384 x 384 and 256 x 256. */
static cartoon_status measure_resample(cartoon_context *ctx, double *a)
{
    const int big = 384, small = 256;
    float *x = malloc((size_t)big * big * 3 * sizeof *x), *y = malloc((size_t)big * big * 3 * sizeof *y);
    if (!x || !y) {
        free(x); free(y);
        return ct_ctx_fail(ctx, CARTOON_E_OUT_OF_MEMORY, "no memory to calibrate");
    }
    for (size_t i = 0; i < (size_t)big * big * 3; i++) x[i] = (float)(i % 251);
    double best_d = 1e300, best_u = 1e300;
    for (int r = 0; r < 2; r++) {
        double t0 = now_ms();
        cartoon_status st = ct_resample(x, big, big, 3, y, small, small);
        double t1 = now_ms();
        if (!st) st = ct_resample(y, small, small, 3, x, big, big);
        double t2 = now_ms();
        if (st) {
            free(x); free(y);
            return ct_ctx_fail(ctx, st, "no memory to calibrate resampling");
        }
        if (t1 - t0 < best_d) best_d = t1 - t0;
        if (t2 - t1 < best_u) best_u = t2 - t1;
    }
    free(x); free(y);
    double w = ct_resample_work(big, big, small, small, 3) + ct_resample_work(small, small, big, big, 3);
    *a = (best_d + best_u) / w;
    return CARTOON_OK;
}

static cartoon_status measure(cartoon_context *ctx, int sizes[2], ct_calibration **out)
{
    const cartoon_model *m = ctx->model;
    const int n = m->n_nodes, pm = m->pad_multiple;
    /* 128 and 256, or what max_pixels allows, multiples of the pad multiple (no padding) */
    int s2 = 256;
    while ((uint64_t)s2 * s2 > ctx->opt.max_pixels) s2--;
    s2 = s2 / pm * pm;
    int s1 = s2 / 2 / pm * pm;
    if (s1 < 16 || s1 >= s2)
        return ct_ctx_fail(ctx, CARTOON_E_LIMIT, "max_pixels %llu is too small to calibrate (needs 32 x 32)",
                           (unsigned long long)ctx->opt.max_pixels);
    sizes[0] = s1;
    sizes[1] = s2;
    ct_calibration *c = calib_new(n);
    double *t1 = calloc((size_t)n, sizeof *t1), *t2 = calloc((size_t)n, sizeof *t2);
    if (!c || !t1 || !t2) {
        ct_calibration_free(c); free(t1); free(t2);
        return ct_ctx_fail(ctx, CARTOON_E_OUT_OF_MEMORY, "no memory to calibrate");
    }
    double t0 = now_ms(), o1 = 0, o2 = 0;
    cartoon_status st = measure_size(ctx, s1, t1, &o1);
    if (!st) st = measure_size(ctx, s2, t2, &o2);
    if (!st) st = measure_resample(ctx, &c->resample_a);
    if (st) {
        ct_calibration_free(c); free(t1); free(t2);
        return st;
    }
    for (int i = 0; i < n; i++) {
        int lv = m->nodes[i].level;
        double x1 = (double)(s1 >> lv) * (s1 >> lv), x2 = (double)(s2 >> lv) * (s2 >> lv);
        fit(x1, t1[i], x2, t2[i], &c->node_a[i], &c->node_b[i]);
    }
    fit((double)s1 * s1, o1, (double)s2 * s2, o2, &c->over_a, &c->over_b);
    c->seconds = (now_ms() - t0) / 1e3;
    c->source = CARTOON_CALIBRATION_MEASURED;
    free(t1); free(t2);
    *out = c;
    return CARTOON_OK;
}

cartoon_status cartoon_context_calibrate(cartoon_context *ctx, unsigned flags)
{
    if (!ctx) return CARTOON_E_INVALID_ARGUMENT;
    ctx->err[0] = 0;
    if (flags & ~(CARTOON_CALIBRATE_FORCE | CARTOON_CALIBRATE_NO_CACHE))
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "unknown calibration flags 0x%x", flags);
    int force = (flags & CARTOON_CALIBRATE_FORCE) != 0, use_cache = !(flags & CARTOON_CALIBRATE_NO_CACHE);
    if (!force && ctx->calib) return CARTOON_OK;
    if (!force && use_cache && ct_calibration_load(ctx)) return CARTOON_OK;

    /* the runs need the observer: the caller's is put back afterwards */
    cartoon_observer fn = ctx->observer;
    void *user = ctx->observer_user;
    int want = ctx->observer_data;
    ct_calibration *c = NULL;
    int sizes[2];
    cartoon_status st = measure(ctx, sizes, &c);
    cartoon_context_set_observer(ctx, fn, user, want);
    if (st) return st;
    ct_calibration_free(ctx->calib);
    ctx->calib = c;
    ctx->calib_looked = 1;
    char why[600] = "";
    if (use_cache && save(ctx, sizes, why, sizeof why) && ctx->opt.verbose)
        fprintf(stderr, "libcartoon: calibration not cached: %s\n", why);
    ctx->err[0] = 0;
    return CARTOON_OK;
}
