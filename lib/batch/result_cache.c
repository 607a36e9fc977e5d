/* The result cache (include/cartoon_batch.h): entries are files DIR/xx/<32 hex>.ctr holding
 * a 40-byte header (magic, key, payload length, XXH64 of the payload) and the encoded result.
 * Written with ct_write_file_atomic, so concurrent processes never see half an entry; the
 * header lets a reader reject a damaged one. Recency is the file's mtime, refreshed on a hit;
 * eviction sorts the entries by it. */
#define _GNU_SOURCE /* utimensat, st_mtim */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "errors.h"
#include "file_io.h"
#include "result_cache.h"

#define MAGIC "CTRC\x01\0\0\0"
#define HEADER 40
#define DEFAULT_CAP ((uint64_t)1 << 30)

struct cartoon_result_cache {
    char dir[PATH_MAX];
    unsigned char model_hash[16];
    uint64_t max_bytes;
    int similar;
    pthread_mutex_t mu;   /* guards bytes and the counters */
    uint64_t bytes;       /* size of the entries, as last scanned plus what was stored since */
    uint64_t stats[6];
};

static int mkdirs(char *p)
{
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        int bad = mkdir(p, 0777) != 0 && errno != EEXIST;
        *s = '/';
        if (bad) return -1;
    }
    return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- the directory scan (size at open; eviction) */
typedef struct entry {
    char *path;
    uint64_t size;
    struct timespec t;
} entry;

typedef struct scan {
    entry *v;
    size_t n, cap;
    uint64_t bytes;
    int oom;
} scan;

static int is_entry_name(const char *p)
{
    size_t l = strlen(p);
    return l > 4 && !strcmp(p + l - 4, ".ctr");
}

static void scan_add(scan *s, const char *path, const struct stat *st)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        entry *v = realloc(s->v, cap * sizeof *v);
        if (!v) { s->oom = 1; return; }
        s->v = v;
        s->cap = cap;
    }
    char *p = strdup(path);
    if (!p) { s->oom = 1; return; }
    s->v[s->n++] = (entry){p, (uint64_t)st->st_size, st->st_mtim};
    s->bytes += (uint64_t)st->st_size;
}

/* The entries of DIR/xx/ (two levels, as entry_path() lays them out). */
static void scan_dir(const char *dir, scan *s)
{
    memset(s, 0, sizeof *s);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while (!s->oom && (e = readdir(d))) {
        if (strlen(e->d_name) != 2) continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        DIR *d2 = opendir(sub);
        if (!d2) continue;
        struct dirent *f;
        while (!s->oom && (f = readdir(d2))) {
            if (!is_entry_name(f->d_name)) continue;
            char path[PATH_MAX];
            struct stat st;
            if (snprintf(path, sizeof path, "%s/%s", sub, f->d_name) < (int)sizeof path && stat(path, &st) == 0 &&
                S_ISREG(st.st_mode))
                scan_add(s, path, &st);
        }
        closedir(d2);
    }
    closedir(d);
}

static void scan_free(scan *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i].path);
    free(s->v);
}

static int by_time(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->t.tv_sec != y->t.tv_sec) return x->t.tv_sec < y->t.tv_sec ? -1 : 1;
    return (x->t.tv_nsec > y->t.tv_nsec) - (x->t.tv_nsec < y->t.tv_nsec);
}

/* Deletes the least recently used entries until the directory is at 90% of the cap. Called
 * with the mutex held. Another process may be evicting too: a file already gone is fine. */
static void evict(cartoon_result_cache *c)
{
    scan s;
    scan_dir(c->dir, &s);
    uint64_t target = c->max_bytes / 10 * 9;
    if (!s.oom && s.bytes > target) {
        qsort(s.v, s.n, sizeof *s.v, by_time);
        for (size_t i = 0; i < s.n && s.bytes > target; i++) {
            if (unlink(s.v[i].path) == 0 || errno == ENOENT) {
                s.bytes -= s.v[i].size;
                c->stats[5]++;
            }
        }
    }
    c->bytes = s.bytes;
    scan_free(&s);
}

cartoon_status cartoon_result_cache_open(const char *dir, const char *model_path, uint64_t max_bytes, int similar,
                                         cartoon_result_cache **out, char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    if (err && err_size) err[0] = 0;
    if (out) *out = NULL;
    if (!out || !model_path) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_result_cache_open: NULL argument");
    cartoon_result_cache *c = calloc(1, sizeof *c);
    if (!c) return ct_fail(&e, CARTOON_E_OUT_OF_MEMORY, "cartoon_result_cache_open: no memory");
    int n;
    if (dir) n = snprintf(c->dir, sizeof c->dir, "%s", dir);
    else {
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (x && x[0] == '/') n = snprintf(c->dir, sizeof c->dir, "%s/libcartoon/results", x);
        else if (home && home[0]) n = snprintf(c->dir, sizeof c->dir, "%s/.cache/libcartoon/results", home);
        else {
            free(c);
            return ct_fail(&e, CARTOON_E_IO, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
        }
    }
    if (n <= 0 || (size_t)n >= sizeof c->dir - 64) {
        free(c);
        return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cache directory path too long");
    }
    if (mkdirs(c->dir) != 0) {
        char b[128];
        cartoon_status st = ct_fail(&e, CARTOON_E_IO, "cannot create the cache directory %s: %s", c->dir,
                                    ct_errno_text(errno, b, sizeof b));
        free(c);
        return st;
    }
    unsigned char *m = NULL;
    size_t ms = 0;
    cartoon_status st = ct_read_file(model_path, (uint64_t)1 << 34, &m, &ms, &e);
    if (st) {
        free(c);
        return st;
    }
    XXH128_canonical_t h;
    XXH128_canonicalFromHash(&h, XXH3_128bits(m, ms));
    memcpy(c->model_hash, h.digest, 16);
    free(m);
    c->max_bytes = max_bytes ? max_bytes : DEFAULT_CAP;
    c->similar = similar != 0;
    pthread_mutex_init(&c->mu, NULL);
    scan s;
    scan_dir(c->dir, &s);
    c->bytes = s.bytes;
    scan_free(&s);
    *out = c;
    return CARTOON_OK;
}

void cartoon_result_cache_close(cartoon_result_cache *c)
{
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void cartoon_result_cache_stats(const cartoon_result_cache *c, uint64_t out[6])
{
    if (!out) return;
    memset(out, 0, 6 * sizeof *out);
    if (!c) return;
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    memcpy(out, c->stats, sizeof c->stats);
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
}

/* ---- keys */

/* Everything but the pixels that decides the output bytes. The option structs are hashed
 * whole, so that a field added to them later is in the key without a change here; their
 * padding bytes (whatever the caller's copy holds) can only make keys differ, i.e. cause a
 * miss, never a wrong hit. */
static void feed_options(XXH3_state_t *st, const cartoon_result_cache *c, const cartoon_batch_options *o,
                         cartoon_file_format fmt)
{
    const char *v = cartoon_version_string(), *tag = o->cache_tag ? o->cache_tag : "";
    int32_t f = (int32_t)fmt;
    XXH3_128bits_update(st, c->model_hash, 16);
    XXH3_128bits_update(st, v, strlen(v) + 1);
    XXH3_128bits_update(st, &o->opt, sizeof o->opt);
    XXH3_128bits_update(st, &o->wopt, sizeof o->wopt);
    XXH3_128bits_update(st, &f, sizeof f);
    XXH3_128bits_update(st, tag, strlen(tag) + 1);
}

static void digest(XXH3_state_t *st, unsigned char out[16])
{
    XXH128_canonical_t h;
    XXH128_canonicalFromHash(&h, XXH3_128bits_digest(st));
    memcpy(out, h.digest, 16);
}

/* Grey level of pixel x of row r (any cartoon_pixel_format). */
static int grey(const uint8_t *r, int x, cartoon_pixel_format f)
{
    int bpp = cartoon_pixel_size(f);
    const uint8_t *p = r + (size_t)x * bpp;
    int R = p[0], B = p[2];
    if (f == CARTOON_PIXEL_BGR || f == CARTOON_PIXEL_BGRA) R = p[2], B = p[0];
    return (R * 299 + p[1] * 587 + B * 114) / 1000;
}

void ct_cache_keys_of(const cartoon_result_cache *c, const cartoon_image *in, const cartoon_batch_options *o,
                      cartoon_file_format fmt, ct_cache_keys *keys)
{
    XXH3_state_t st;
    int32_t geo[3] = {in->width, in->height, (int32_t)in->format};
    size_t row = (size_t)in->width * cartoon_pixel_size(in->format);
    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, "exact", 6);
    XXH3_128bits_update(&st, geo, sizeof geo);
    for (int y = 0; y < in->height; y++) XXH3_128bits_update(&st, in->data + (size_t)y * in->stride, row);
    feed_options(&st, c, o, fmt);
    digest(&st, keys->exact);
    if (!c->similar) return;

    /* average hash of a 128 x 128 grey thumbnail (box average of each cell) */
    enum { T = 128 };
    static const int cells = T * T;
    uint32_t *sum = calloc(cells, sizeof *sum), *cnt = calloc(cells, sizeof *cnt);
    unsigned char bits[T * T / 8];
    memset(bits, 0, sizeof bits);
    if (sum && cnt) {
        for (int y = 0; y < in->height; y++) {
            const uint8_t *r = in->data + (size_t)y * in->stride;
            int ty = (int)((int64_t)y * T / in->height);
            for (int x = 0; x < in->width; x++) {
                int k = ty * T + (int)((int64_t)x * T / in->width);
                sum[k] += (uint32_t)grey(r, x, in->format);
                cnt[k]++;
            }
        }
        /* cells no pixel fell in (pictures under 128 wide or high) take the nearest pixel's */
        uint64_t total = 0;
        uint32_t *g = sum; /* each cell's mean replaces its sum */
        for (int k = 0; k < cells; k++) {
            if (cnt[k]) g[k] = sum[k] / cnt[k];
            else {
                int y = (int)((int64_t)(k / T) * in->height / T), x = (int)((int64_t)(k % T) * in->width / T);
                g[k] = (uint32_t)grey(in->data + (size_t)y * in->stride, x, in->format);
            }
            total += g[k];
        }
        uint32_t mean = (uint32_t)(total / cells);
        for (int k = 0; k < cells; k++)
            if (g[k] > mean) bits[k / 8] |= (unsigned char)(1u << (k % 8));
    }
    free(sum);
    free(cnt);
    int32_t wh[2] = {in->width, in->height}; /* a result is only usable at its own size */
    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, "similar", 8);
    XXH3_128bits_update(&st, wh, sizeof wh);
    XXH3_128bits_update(&st, bits, sizeof bits);
    feed_options(&st, c, o, fmt);
    digest(&st, keys->similar);
}

/* ---- entries */

static void entry_path(const cartoon_result_cache *c, const unsigned char key[16], char *out, size_t n)
{
    char hex[33];
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
    /* c->dir leaves 64 bytes free (checked at open), so this always fits */
    if (snprintf(out, n, "%s/%c%c/%s.ctr", c->dir, hex[0], hex[1], hex) >= (int)n) out[0] = 0;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* 1: the entry at key is whole and its payload copied out; 0: missing or damaged. */
static int get_one(cartoon_result_cache *c, const unsigned char key[16], unsigned char **data, size_t *size,
                   int *damaged)
{
    char path[PATH_MAX];
    entry_path(c, key, path, sizeof path);
    unsigned char *b = NULL;
    size_t n = 0;
    ct_err quiet = {NULL, 0};
    if (ct_read_file(path, (uint64_t)1 << 32, &b, &n, &quiet) != CARTOON_OK) return 0;
    int ok = n >= HEADER && !memcmp(b, MAGIC, 8) && !memcmp(b + 8, key, 16) && get_u64(b + 24) == n - HEADER &&
             get_u64(b + 32) == XXH64(b + HEADER, n - HEADER, 0);
    if (!ok) {
        *damaged = 1;
        free(b);
        return 0;
    }
    memmove(b, b + HEADER, n - HEADER);
    *data = b;
    *size = n - HEADER;
    utimensat(AT_FDCWD, path, NULL, 0); /* used now: last to be evicted */
    return 1;
}

int ct_cache_get(cartoon_result_cache *c, const ct_cache_keys *keys, unsigned char **data, size_t *size,
                 int *similar_hit)
{
    int damaged = 0, hit = get_one(c, keys->exact, data, size, &damaged), sim = 0;
    if (!hit && c->similar) sim = hit = get_one(c, keys->similar, data, size, &damaged);
    pthread_mutex_lock(&c->mu);
    c->stats[hit ? (sim ? 1 : 0) : 2]++;
    c->stats[4] += (uint64_t)damaged;
    pthread_mutex_unlock(&c->mu);
    if (similar_hit) *similar_hit = sim;
    return hit;
}

static void put_one(cartoon_result_cache *c, const unsigned char key[16], const unsigned char *data, size_t size)
{
    char path[PATH_MAX];
    entry_path(c, key, path, sizeof path);
    unsigned char *b = malloc(HEADER + size);
    if (!b) return;
    memcpy(b, MAGIC, 8);
    memcpy(b + 8, key, 16);
    put_u64(b + 24, size);
    put_u64(b + 32, XXH64(data, size, 0));
    memcpy(b + HEADER, data, size);
    char *slash = strrchr(path, '/');
    *slash = 0;
    mkdir(path, 0777); /* the xx/ fan-out directory; EEXIST is the usual answer */
    *slash = '/';
    ct_err quiet = {NULL, 0};
    if (ct_write_file_atomic(path, b, HEADER + size, &quiet) == CARTOON_OK) {
        pthread_mutex_lock(&c->mu);
        c->stats[3]++;
        c->bytes += HEADER + size;
        if (c->bytes > c->max_bytes) evict(c);
        pthread_mutex_unlock(&c->mu);
    }
    free(b);
}

void ct_cache_put(cartoon_result_cache *c, const ct_cache_keys *keys, const unsigned char *data, size_t size)
{
    put_one(c, keys->exact, data, size);
    if (c->similar) put_one(c, keys->similar, data, size);
}
