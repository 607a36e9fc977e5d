/* cartoon-serve's result cache (--cache DIR): content-addressed files, so a repeated request
 * (same upload bytes, same options, same model) is answered without running the network.
 * key = XXH3-128 of the model file's hash, the canonical options text and the upload bytes.
 * Results only: uploads are never written to disk. Entries are written atomically (temporary
 * file + rename), so replicas may share a directory. No eviction: size the disk or clean it
 * with a cron job (docs/serving.md). */
#ifndef SERVE_CACHE_H
#define SERVE_CACHE_H
#include <stddef.h>
#include <stdint.h>

struct serve_cache {
    char dir[3072];
    uint64_t model_id; /* XXH3-64 of the model file */
};

/* Creates dir when missing. Returns 0, or -1 with a message. */
int serve_cache_open(struct serve_cache *c, const char *dir, uint64_t model_id,
                     char *err, size_t err_size);
/* key: 32 hex digits + NUL. */
void serve_cache_key(const struct serve_cache *c, const void *upload, size_t size,
                     const char *options, char key[33]);
/* 0 and a malloc'd *data on a hit; -1 on a miss. */
int serve_cache_get(const struct serve_cache *c, const char *key, const char *ext,
                    unsigned char **data, size_t *size);
/* Best effort: a failed write only costs a later miss. */
void serve_cache_put(const struct serve_cache *c, const char *key, const char *ext,
                     const void *data, size_t size);
/* XXH3-64 of a file's bytes (the model identity); 0 when unreadable. */
uint64_t serve_file_hash(const char *path);
#endif
