#include "threadpool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct ct_pool {
    int size;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    /* the job in flight; generation counts jobs so sleeping workers notice a new one */
    unsigned long generation;
    void (*fn)(void *, int, int);
    void *arg;
    int n;
    atomic_int next;
    int busy;   /* workers still inside the current job */
    int quit;
};

typedef struct { ct_pool *pool; int tid; } worker_arg;

static void drain(ct_pool *p, int tid)
{
    for (;;) {
        int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) break;
        p->fn(p->arg, i, tid);
    }
}

static void *worker(void *a)
{
    ct_pool *p = ((worker_arg *)a)->pool;
    int tid = ((worker_arg *)a)->tid;
    free(a);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p, tid);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

cartoon_status ct_pool_create(int nthreads, ct_pool **out)
{
    if (!out || nthreads < 1) return CARTOON_E_INVALID_ARGUMENT;
    *out = NULL;
    ct_pool *p = calloc(1, sizeof *p);
    if (!p) return CARTOON_E_OUT_OF_MEMORY;
    p->size = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (nthreads > 1) {
        p->threads = calloc((size_t)nthreads - 1, sizeof *p->threads);
        if (!p->threads) { ct_pool_free(p); return CARTOON_E_OUT_OF_MEMORY; }
        for (int t = 1; t < nthreads; t++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa) { ct_pool_free(p); return CARTOON_E_OUT_OF_MEMORY; }
            wa->pool = p; wa->tid = t;
            if (pthread_create(&p->threads[t - 1], NULL, worker, wa) != 0) {
                free(wa);
                ct_pool_free(p);
                return CARTOON_E_OUT_OF_MEMORY;
            }
            p->size++;
        }
    }
    *out = p;
    return CARTOON_OK;
}

void ct_pool_free(ct_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int t = 0; t < p->size - 1; t++) pthread_join(p->threads[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int ct_pool_size(const ct_pool *p) { return p ? p->size : 1; }

void ct_pool_run(ct_pool *p, int n, void (*fn)(void *, int, int), void *arg)
{
    if (n <= 0) return;
    if (!p || p->size == 1 || n == 1) {
        for (int i = 0; i < n; i++) fn(arg, i, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn; p->arg = arg; p->n = n;
    atomic_store(&p->next, 0);
    p->busy = p->size - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
