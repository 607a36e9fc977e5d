/* Execution plan for one input size: every node's output shape, which nodes are fused into
 * the add that follows them, and where each live tensor sits in one arena, placed from
 * tensor lifetimes so the arena holds the peak of live activations rather than their sum. */
#ifndef CARTOON_PLAN_H
#define CARTOON_PLAN_H
#include <stddef.h>
#include "errors.h"
#include "model.h"

typedef struct ct_tensor_plan {
    int h, w, c;        /* output shape of the node */
    size_t bytes;       /* h * w * c * 4; 0 for a node fused into the next */
    size_t offset;      /* byte offset in the arena */
    int def, last;      /* first and last node index at which the buffer is live */
    int fused;          /* 1: computed by this node's consumer (node + 1) in one pass */
    int store;          /* index of the node whose buffer holds this result (itself, the last
                           node of the chain it is fused into, or the skip operand an add
                           overwrote) */
    size_t scratch_bytes;  /* the node's kernel scratch, planned in the arena like a tensor */
    size_t scratch_offset; /* that lives only while the node runs */
    /* Regions (tiled runs with ct_fusion_caps.crop, plan_regions.c): h, w above are the
     * tensor's current size and y0, x0 where it starts in the tile (in its own level's
     * pixels); the node's step computes it over [ry0, ry1) x [rx0, rx1), and before that
     * step input in[k] is cropped to [cut[k][0], cut[k][1]) x [cut[k][2], cut[k][3])
     * (cut[k][1] == 0: left as it is). Without crops the region is the whole tensor. */
    int y0, x0;
    int ry0, ry1, rx0, rx1;
    size_t shift;       /* floats from the buffer's start to its tensor's first element: a crop
                           that drops rows moves the start instead of the data (read on the
                           store node: tensor i is at offset + t[store].shift floats) */
    int cut[CT_MAX_INPUTS][4];
    /* ct_plan_regions' working space along one axis (here, so that a tile run allocates
     * nothing: the memory estimate counts every allocation of a call) */
    int need[2], cur[2], seen;
    int reads[CT_MAX_INPUTS][2];
} ct_tensor_plan;

typedef struct ct_plan {
    int ph, pw;             /* padded input size */
    int n;
    ct_tensor_plan *t;      /* n entries */
    size_t arena_bytes;     /* activations */
    int oy, ox;             /* where this run's input sits in a larger image it is a tile of
                               (multiples of pad_multiple; 0 untiled), set per run by the
                               executor: kernels whose rounding depends on position (Winograd
                               blocks) align to the larger image's grid (tiling.c) */
    int sides, before, after; /* what the regions are for (ct_plan_regions); sides 0: none */
} ct_plan;

#define CT_ARENA_ALIGN 64

/* Fusion a backend can do: a conv2d followed by the add that is its only consumer (the add
 * becomes the conv's residual epilogue), and an upsample followed by its add (skip).
 * Fusions chain: a depthwise fused into its pointwise (dw_pw) may itself start from an elided
 * concat (concat_dw), which may start from an elided upsample (upsample_concat), and end in
 * the pointwise's add (conv_add), so up to five nodes run as one step at the first one's
 * index; each fused node has fused = 1 and no buffer of its own. */
typedef struct ct_fusion_caps {
    int conv_add;
    int upsample_add;
    int inplace_skip;  /* the fused upsample + add may write over its skip operand */
    int dw_pw;         /* a depthwise_conv2d followed by its only consumer, a 1x1 stride-1
                          conv2d: the depthwise output is never stored */
    int concat_dw;     /* a concat whose only consumer is a depthwise fused by dw_pw: the
                          depthwise reads the concat's inputs, the concat is never stored */
    int inplace_residual; /* a conv2d fused with its add (conv_add) may write over its
                             residual operand: the kernel reads each residual value just
                             before it writes the same element (after the five
                             fields backend_cuda.cu sets by position, so it stays 0 there) */
    int upsample_concat; /* an upsample whose only consumer is a concat fused by concat_dw:
                            the depthwise upsamples what it reads, the upsample is never
                            stored */
    int crop;          /* tiled runs compute each tensor only over the region its consumers
                          need, cropping tensors in place between steps (plan_regions.c;
                          host-memory backends) */
} ct_fusion_caps;

/* Bytes of scratch node i's kernel needs under plan p (shapes already set); 0 for none. */
typedef size_t (*ct_scratch_fn)(void *user, const cartoon_model *m, const ct_plan *p, int i);

/* Builds the plan into p (p->t must hold m->n_nodes entries). ph, pw are multiples of
 * m->pad_multiple. scratch (may be NULL) sizes each node's scratch, which is then placed in
 * the arena too: a node's scratch reuses memory of tensors dead at its step. Fails only on
 * size overflow or no memory. */
cartoon_status ct_plan_build(const cartoon_model *m, int ph, int pw, ct_fusion_caps caps,
                             ct_scratch_fn scratch, void *scratch_user, ct_plan *p, ct_err *e);

/* Sets the regions of plan p (built by ct_plan_build) for one tile: sides says which edges
 * of the tile are inside the image (bit 0 top, 1 bottom, 2 left, 3 right); the output is
 * needed `before` pixels from an inside start edge and `after` from an inside end edge (the
 * tile's halo). Every tensor is then computed only over what its consumers need, walked
 * backward from the kept centre and rounded so that region edges stay on the untiled
 * grid. shrink (tests only, otherwise 0) narrows each convolution's read window by that
 * many pixels per side, to show that a too small need breaks the result. Returns 0 with
 * regions set, 1 when the graph or tile does not allow them (p then runs whole tensors, as
 * with sides 0). */
int ct_plan_regions(const cartoon_model *m, ct_plan *p, int sides, int before, int after, int shrink);
#endif
