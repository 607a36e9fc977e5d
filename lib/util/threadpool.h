/* The engine's own worker threads, for the ops OpenBLAS does not run: one pool per context. */
#ifndef CARTOON_THREADPOOL_H
#define CARTOON_THREADPOOL_H
#include "cartoon.h"

typedef struct ct_pool ct_pool;

/* nthreads >= 1 counts the calling thread: a pool of 1 starts no thread. */
cartoon_status ct_pool_create(int nthreads, ct_pool **out);
void ct_pool_free(ct_pool *pool);
int ct_pool_size(const ct_pool *pool);

/* Runs fn(arg, i, tid) for every i in [0, n), spread over the pool's threads (tid in
 * [0, size)), the caller included; returns when all are done. Items are handed out one at a
 * time from a shared counter, so uneven items balance. pool NULL runs serially. Not
 * reentrant: fn may not call ct_pool_run on the same pool. */
void ct_pool_run(ct_pool *pool, int n, void (*fn)(void *arg, int i, int tid), void *arg);
#endif
