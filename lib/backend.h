/* A backend executes the graph's nodes on one device. The executor (lib/executor.c) owns
 * the order of work, planning, timing and the observer; a backend owns memory on its device
 * and the kernels. The CPU backend (backend_cpu.c) and the CUDA backend (kernels/) are the
 * two implementations of this interface, running the same graph. */
#ifndef CARTOON_BACKEND_H
#define CARTOON_BACKEND_H
#include "errors.h"
#include "model.h"
#include "plan.h"
#include "threadpool.h"

typedef struct ct_backend ct_backend;

typedef struct ct_backend_ops {
    const char *name;
    ct_fusion_caps fusion;
    /* Scratch node i's kernel needs under plan p, planned into the arena beside the tensors
     * (p->t[i].scratch_offset). NULL: the backend keeps its own scratch. */
    size_t (*scratch)(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i);
    /* Makes room for a plan: the arena (plan->arena_bytes) and any scratch of its own.
     * Called when the input size changes; keeps existing memory when it is large enough. */
    cartoon_status (*reserve)(ct_backend *be, const cartoon_model *m, const ct_plan *p, ct_err *e);
    /* Node i's buffer when it is host memory the executor may use in place (saves a staging
     * copy of the input and output); NULL for device memory. */
    float *(*host)(ct_backend *be, const ct_plan *p, int i);
    /* Copies a host float tensor into node i's buffer / out of it. */
    cartoon_status (*write)(ct_backend *be, const ct_plan *p, int i, const float *host, ct_err *e);
    cartoon_status (*read)(ct_backend *be, const ct_plan *p, int i, float *host, ct_err *e);
    /* Runs node i (and node i+1 with it when p->t[i].fused). */
    cartoon_status (*run)(ct_backend *be, const cartoon_model *m, const ct_plan *p, int i, ct_err *e);
    /* Waits for queued work (for timing); NULL when run() is synchronous. */
    cartoon_status (*sync)(ct_backend *be, ct_err *e);
    /* Bytes of device memory held (arena + scratch). */
    uint64_t (*memory)(const ct_backend *be);
    void (*destroy)(ct_backend *be);
} ct_backend_ops;

struct ct_backend {
    const ct_backend_ops *ops;
};

typedef struct ct_backend_config {
    cartoon_conv_algo conv;
    cartoon_precision precision;
    ct_pool *pool;          /* the context's threads */
    uint64_t memory_budget; /* device bytes allowed, 0 = unlimited */
} ct_backend_config;

cartoon_status ct_backend_cpu_create(const ct_backend_config *cfg, ct_backend **out, ct_err *e);

/* CUDA: available only when built with CARTOON_HAVE_CUDA; otherwise returns
 * CARTOON_E_DEVICE. ct_cuda_available() reports whether a usable GPU is present. */
int ct_cuda_available(char *why, size_t why_size);
cartoon_status ct_backend_cuda_create(const ct_backend_config *cfg, ct_backend **out, ct_err *e);
#endif
