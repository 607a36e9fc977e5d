/* A backend executes the graph's nodes on one device. The executor (executor.c) owns the
 * order of work, planning, timing and the observer; a backend owns memory on its device, the
 * kernels, and the layouts its kernels want the weights in (kept per model, see
 * ct_model_backend_data). The CPU backend (lib/cpu/) and the CUDA backend (lib/cuda/) are the
 * two implementations of this interface, running the same graph; the context picks one from
 * the table in backends.c by what each declares it can run. */
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
    /* Runs node i, and with it node i+1 when p->t[i].fused, node i+2 when p->t[i+1].fused
     * too, and so on (a fused chain, plan.h). */
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

#define CT_PRECISION_BIT(p) (1u << (unsigned)(p))

/* What a backend is and can do, declared by the backend itself. */
typedef struct ct_backend_desc {
    const char *name;          /* "cpu", "cuda" */
    const char *label;         /* "CPU", "CUDA": for messages */
    cartoon_device device;
    unsigned precisions;       /* CT_PRECISION_BIT() of each precision it runs */
    /* 1 when node n (its op and attributes) has a kernel here. */
    int (*supports)(const ct_node *n);
    /* 1 when the device is usable on this machine; otherwise 0 and why. */
    int (*available)(char *why, size_t why_size);
    /* A backend for one context on model m (which outlives it). Errors: DEVICE,
     * OUT_OF_MEMORY, and what preparing the model's weights for this backend can fail with. */
    cartoon_status (*create)(const cartoon_model *m, const ct_backend_config *cfg,
                             ct_backend **out, ct_err *e);
    /* Optional (NULL: every precision in `precisions` runs wherever the backend is
     * available): 1 when precision p, one of `precisions`, runs on this machine now (the CPU
     * needs AVX512_BF16 for bf16); otherwise 0 and why. Last, so descriptors initialised by
     * position (backend_cuda.cu) leave it NULL. */
    int (*precision_usable)(cartoon_precision p, char *why, size_t why_size);
    /* Optional (NULL: none): the instruction set its kernels run with on this machine now
     * ("avx2", "avx512", ...), a static string; part of the calibration cache's key, so
     * timings measured with other kernels are not reused. After precision_usable for the
     * same reason. */
    const char *(*isa)(void);
} ct_backend_desc;

/* Every backend of this build in the order CARTOON_DEVICE_AUTO prefers them (backends.c). */
extern const ct_backend_desc *const ct_backends[];
extern const int ct_backend_count;

/* The backends themselves (lib/cpu/backend_cpu.c; lib/cuda/backend_cuda.cu, or
 * lib/cuda/backend_cuda_none.c in a build without CUDA, whose available() says so). */
extern const ct_backend_desc ct_backend_cpu;
extern const ct_backend_desc ct_backend_cuda;

/* 1 when every node of m has a kernel on d; otherwise 0 and the first node that has none. */
int ct_backend_runs_model(const ct_backend_desc *d, const cartoon_model *m, char *why,
                          size_t why_size);
#endif
