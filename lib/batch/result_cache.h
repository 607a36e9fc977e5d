/* The result cache's internal side (the public one is in include/cartoon_batch.h): keys of a
 * decoded input and lookups/stores of encoded results, for the batch runner's threads. */
#ifndef CARTOON_RESULT_CACHE_H
#define CARTOON_RESULT_CACHE_H
#include "cartoon_batch.h"

typedef struct ct_cache_keys {
    unsigned char exact[16];
    unsigned char similar[16]; /* valid when the cache is in similar mode */
} ct_cache_keys;

/* The keys of input `in` for the options o and the output format fmt. */
void ct_cache_keys_of(const cartoon_result_cache *c, const cartoon_image *in, const cartoon_batch_options *o,
                      cartoon_file_format fmt, ct_cache_keys *keys);
/* 1 and a malloc'd copy of the entry's bytes on a hit (exact key first, then the similar one);
 * 0 on a miss (a damaged entry counts as one). *similar_hit says which key hit. */
int ct_cache_get(cartoon_result_cache *c, const ct_cache_keys *keys, unsigned char **data, size_t *size,
                 int *similar_hit);
/* Stores the bytes under the keys (atomically); failures are ignored: a cache is optional. */
void ct_cache_put(cartoon_result_cache *c, const ct_cache_keys *keys, const unsigned char *data, size_t size);
#endif
