/* The loaded network: a validated graph whose nodes reference only earlier nodes, and its
 * canonical weights (float32, OHWI as in the file). It knows no backend: each backend keeps
 * the layouts its kernels want in a per-model slot (ct_model_backend_data), built on first
 * use. Otherwise immutable after load, so any number of contexts may share it. */
#ifndef CARTOON_MODEL_H
#define CARTOON_MODEL_H
#include <pthread.h>
#include <stdint.h>
#include "cartoon.h"
#include "errors.h"
#include "op_types.h"

#define CT_MAX_INPUTS 8
#define CT_NAME_MAX 64
#define CT_MAX_KERNEL 15
#define CT_MAX_CHANNELS 4096

/* Slots of per-model backend data. */
enum { CT_SLOT_CPU = 0, CT_SLOT_CUDA = 1, CT_SLOT_CPU_BF16 = 2, CT_BACKEND_SLOTS = 4 };

typedef enum {
    OP_INPUT = 0,
    OP_CONV2D,
    OP_DEPTHWISE_CONV2D,
    OP_ADD,
    OP_CONCAT,
    OP_UPSAMPLE,
    OP_GUIDED_FILTER,
    OP_COUNT
} ct_op;

typedef enum { UP_BILINEAR_TF1 = 0, UP_NEAREST = 1 } ct_upmode;

extern const char *const ct_op_names[OP_COUNT];

typedef struct ct_node {
    char name[CT_NAME_MAX];
    ct_op op;
    int n_in;
    int in[CT_MAX_INPUTS]; /* indices of earlier nodes (0 is the graph input) */
    int channels;          /* output channels */
    int level;             /* output is (padded H >> level) x (padded W >> level) */

    /* conv2d, depthwise_conv2d */
    int kernel, stride, cin;
    ct_act act;            /* also for add */
    float alpha;
    float *weight;         /* conv2d: [cout][k][k][cin] (OHWI, as sgemm's transposed B);
                              depthwise: [k][k][c] */
    float *bias;           /* [channels]; zeros when the file has none */

    /* upsample */
    int factor;
    ct_upmode upmode;

    /* guided_filter: in[0] guide x, in[1] source y */
    int radius;
    float eps;
} ct_node;

struct cartoon_model {
    ct_node *nodes;        /* n_nodes, nodes[0] is the input */
    int n_nodes;
    int n_alloc;           /* nodes allocated (freed on a failed load too) */
    int output;            /* index of the output node */
    int in_channels;
    int bgr;
    float scale, offset;   /* model space = v * scale + offset */
    float inv_scale;       /* 1 / scale from the file's double (127.5 for 1/127.5): pixels go
                              in as v / inv_scale + offset and come back as
                              (y - offset) * inv_scale, the original's float arithmetic */
    int pad_multiple;
    int max_level;
    uint32_t format_version;
    uint64_t parameters;
    char name[128];

    /* Per-backend prepared weights (ct_model_backend_data): the one mutable part, guarded
     * by data_lock, written once per slot and read-only afterwards. */
    pthread_mutex_t data_lock;
    void *backend_data[CT_BACKEND_SLOTS];
    void (*backend_free[CT_BACKEND_SLOTS])(void *data);
};

/* Returns in *out the data the backend of `slot` keeps for model m, calling
 * build(m, &data, e) the first time any context asks; later calls return the same pointer.
 * Thread-safe: concurrent first calls build once. A failed build leaves the slot empty, so
 * the next call tries again. free_fn releases the data with the model. */
cartoon_status ct_model_backend_data(const cartoon_model *m, int slot,
                                     cartoon_status (*build)(const cartoon_model *m, void **data,
                                                             ct_err *e),
                                     void (*free_fn)(void *data), void **out, ct_err *e);

/* FLOPs (2 per multiply-add) of node i for a padded input of ph x pw (graph.c). */
double ct_node_flops(const cartoon_model *m, int i, int ph, int pw);
#endif
