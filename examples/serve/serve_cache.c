/* Content-addressed result cache for cartoon-serve: see serve_cache.h. */
#include "serve_cache.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

int serve_cache_open(struct serve_cache *c, const char *dir, uint64_t model_id,
                     char *err, size_t err_size)
{
    if (strlen(dir) + 64 > sizeof c->dir) {
        snprintf(err, err_size, "--cache: path too long");
        return -1;
    }
    if (mkdir(dir, 0755) && errno != EEXIST) {
        snprintf(err, err_size, "--cache %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    c->model_id = model_id;
    return 0;
}

void serve_cache_key(const struct serve_cache *c, const void *upload, size_t size,
                     const char *options, char key[33])
{
    XXH3_state_t *s = XXH3_createState();
    XXH128_hash_t h = {0, 0};
    if (s) {
        XXH3_128bits_reset(s);
        XXH3_128bits_update(s, &c->model_id, sizeof c->model_id);
        XXH3_128bits_update(s, options, strlen(options) + 1); /* the NUL ends the text */
        XXH3_128bits_update(s, upload, size);
        h = XXH3_128bits_digest(s);
        XXH3_freeState(s);
    } else {
        /* no memory for the state: hash in one go, the same function */
        h = XXH3_128bits(upload, size);
        h.low64 ^= XXH3_64bits(options, strlen(options)) ^ c->model_id;
    }
    snprintf(key, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

/* DIR/ab/cdef....ext: two-level so no directory gets millions of entries. */
static void entry_path(const struct serve_cache *c, const char *key, const char *ext,
                       char *path, size_t size, int make_dir)
{
    snprintf(path, size, "%s/%.2s", c->dir, key);
    if (make_dir) mkdir(path, 0755);
    snprintf(path, size, "%s/%.2s/%s.%s", c->dir, key, key + 2, ext);
}

int serve_cache_get(const struct serve_cache *c, const char *key, const char *ext,
                    unsigned char **data, size_t *size)
{
    char path[3200];
    entry_path(c, key, ext, path, sizeof path, 0);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) || st.st_size <= 0 || !(buf = malloc(st.st_size))) goto miss;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, st.st_size - got);
        if (n <= 0) goto miss;
        got += n;
    }
    close(fd);
    *data = buf;
    *size = got;
    return 0;
miss:
    free(buf);
    close(fd);
    return -1;
}

void serve_cache_put(const struct serve_cache *c, const char *key, const char *ext,
                     const void *data, size_t size)
{
    char path[3200], tmp[3300];
    entry_path(c, key, ext, path, sizeof path, 1);
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return;
    size_t put = 0;
    while (put < size) {
        ssize_t n = write(fd, (const char *)data + put, size - put);
        if (n <= 0) break;
        put += n;
    }
    if (close(fd) || put != size || chmod(tmp, 0644) || rename(tmp, path)) unlink(tmp);
}

uint64_t serve_file_hash(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    XXH3_state_t *s = XXH3_createState();
    if (!s) { fclose(f); return 0; }
    XXH3_64bits_reset(s);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) XXH3_64bits_update(s, buf, n);
    uint64_t h = ferror(f) ? 0 : XXH3_64bits_digest(s);
    XXH3_freeState(s);
    fclose(f);
    return h;
}
