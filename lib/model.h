/* The loaded network: a validated graph whose nodes reference only earlier nodes, with
 * weights widened to float32 in the layouts the kernels use. Immutable after load, so any
 * number of contexts may share it. */
#ifndef CARTOON_MODEL_H
#define CARTOON_MODEL_H
#include <stdint.h>
#include "cartoon.h"
#include "conv.h"

#define CT_MAX_INPUTS 8
#define CT_NAME_MAX 64
#define CT_MAX_KERNEL 15
#define CT_MAX_CHANNELS 4096

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
    void *fast;            /* conv2d 3x3 stride 1: ct_winograd* prepared at load, or NULL */
    void *direct;          /* other conv2d but 1x1 stride 1: ct_direct* prepared at load */

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
    int pad_multiple;
    int max_level;
    uint32_t format_version;
    uint64_t parameters;
    char name[128];
};

/* FLOPs (2 per multiply-add) of node i for a padded input of ph x pw. */
double ct_node_flops(const cartoon_model *m, int i, int ph, int pw);
#endif
