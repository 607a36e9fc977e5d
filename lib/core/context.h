/* A context: the per-thread execution state over a shared model. */
#ifndef CARTOON_CONTEXT_H
#define CARTOON_CONTEXT_H
#include "backend.h"
#include "model.h"
#include "plan.h"
#include "threadpool.h"

/* The layout of exact tiles over a ph x pw padded working image (tiling.c). */
typedef struct ct_tiling {
    int tiled;     /* 0: one run over the whole image (the fields below then describe it) */
    int before;    /* working pixels between a region's start and its kept centre (ct_tile_halo) */
    int after;     /* and between the centre's end and the region's end */
    int th, tw;    /* the size every tile runs at (multiples of pad_multiple, <= ph, pw) */
    int ny, nx;    /* tiles down and across */
    int ph, pw;    /* the padded working image */
} ct_tiling;

struct cartoon_context {
    const cartoon_model *model;
    cartoon_context_options opt;
    cartoon_device device;      /* resolved: CPU or CUDA */
    ct_pool *pool;
    ct_backend *be;

    ct_plan plan;               /* for the size of the last run; plan.t has model->n_nodes */
    int planned;                /* plan is valid for plan.ph x plan.pw and fusion below */
    int planned_fused;

    float *stage;               /* host staging: padded input / output, grows to the largest */
    size_t stage_cap;           /* floats */
    float *img;                 /* unet_cartoonize's model-space image and result */
    size_t img_cap;             /* floats */
    float *tile_buf;            /* tiling.c: one tile's model-space input and output */
    size_t tile_cap;            /* floats */
    /* unet_cartoonize's last tiling decision and what it was made for, so that a repeated
     * call plans nothing (and allocates nothing) again */
    ct_tiling tiling;
    cartoon_options tiling_opt;
    int tiling_w, tiling_h, tiling_obs, tiling_valid;

    cartoon_observer observer;
    void *observer_user;
    int observer_data;
    float *obs_buf;             /* host copy of a node output for device backends */
    size_t obs_cap;

    struct ct_calibration *calib; /* the cost model's time calibration (calibrate.h), or NULL */
    int calib_looked;           /* the cache file was searched for this context's entry */

    char err[512];
};

/* Records a failure message in ctx->err and returns status. */
cartoon_status ct_ctx_fail(cartoon_context *ctx, cartoon_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* cartoon_forward() of a tile whose input starts at row oy, column ox (multiples of the
 * model's pad_multiple) of a larger padded image: the same result, computed on the larger
 * image's grid where rounding depends on position (ct_plan.oy). */
cartoon_status ct_forward_at(cartoon_context *ctx, const float *in, int h, int w, float *out, int oy, int ox);
/* ct_forward_at of a tile with the sides (ct_plan_regions: bit 0 top, 1 bottom, 2 left, 3
 * right) inside the image and the halo before / after: where the backend crops (fusion caps
 * `crop`) and in and out are ct_forward_buffers' tensors, only the region the kept centre
 * needs is computed and out holds the output's region, which region (when not NULL) gets as
 * {first row, first column, rows, columns} of the tile (rows region[3] floats x channels
 * apart); otherwise the whole tile, region {0, 0, h, w}. */
cartoon_status ct_forward_tile(cartoon_context *ctx, const float *in, int h, int w, float *out, int oy, int ox,
                               int sides, int before, int after, int region[4]);
/* On a backend whose tensors are host memory, for an h x w run with h and w multiples of
 * pad_multiple: plans it and sets *in (and *out when not NULL) to the input and output
 * tensors themselves, h x w x channels floats. Filling *in and passing *in and *out to
 * ct_forward_at / cartoon_forward runs without copying either (until the next plan of
 * another size). Otherwise *in = *out = NULL and nothing is planned. Errors: the plan's. */
cartoon_status ct_forward_buffers(cartoon_context *ctx, int h, int w, float **in, float **out);

/* Grows *buf to hold n floats (keeps it when large enough). */
cartoon_status ct_ctx_grow(cartoon_context *ctx, float **buf, size_t *cap, size_t n);
#endif
