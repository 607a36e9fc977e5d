/* Exact tiling: the network run over overlapping tiles of the padded working image, each
 * carrying a halo that covers the receptive field, so the kept centres equal the untiled
 * result. Backend-neutral: every tile goes through cartoon_forward(). */
#ifndef CARTOON_TILING_H
#define CARTOON_TILING_H
#include <stdint.h>
#include "context.h"

/* ct_tiling, the layout, is declared in context.h (the context keeps its last one). */

/* The exact receptive field, walked over the graph along one axis (the same along both):
 * an output pixel p with p % period == f depends on the input pixels [p - left[f],
 * p + right[f]] (away from the image's borders). period must divide pad_multiple (every
 * stride grid repeats with it). -1 when out of memory or the output is not at level 0. */
int ct_receptive_reach(const cartoon_model *m, int *left, int *right, int period);

/* The halo tiles need: a kept centre starts `before` pixels after its region's start and
 * ends `after` pixels before its region's end (where these are not the image's border).
 * Both are the receptive field of the pixels next to the edge, rounded so that regions start
 * at multiples of pad_multiple, for the phase of the centre's edges (mod pad_multiple) that
 * makes before + after least. -1 as ct_receptive_reach. */
int ct_tile_halo(const cartoon_model *m, int *before, int *after);

/* Tile i of n along an axis of length len (tiles of size t, halo before/after): the region
 * it runs on starts at *r0; it keeps [*c0, *c1) (empty when *c0 >= *c1). */
void ct_tile_axis(int len, int t, int n, int before, int after, int i, int *r0, int *c0, int *c1);

/* Host and device bytes one tile run of th x tw holds: the planned arena with kernel scratch
 * (host on the CPU, device on CUDA), the tile's float buffer, and the staging a device backend
 * uses (cartoon_forward's stage and the CUDA backend's pinned buffer). */
cartoon_status ct_tile_cost(cartoon_context *ctx, int th, int tw, uint64_t *host, uint64_t *device);

/* Lays out tiles for a working image of mh x mw. tile > 0: centres of that side (rounded up to
 * pad_multiple). Otherwise the largest square tiles whose ct_tile_cost plus fixed_host fits
 * host_budget (0 = none) and whose device bytes fit device_budget (0 = none); the per-axis
 * sizes are then evened out so that no tile is larger than needed. LIMIT when even the
 * smallest tile (a centre of pad_multiple) does not fit. */
cartoon_status ct_tiling_plan(cartoon_context *ctx, int mh, int mw, int tile, uint64_t fixed_host,
                              uint64_t host_budget, uint64_t device_budget, ct_tiling *t);

/* Fills dst (th x tw x 3, model space) with the padded image's rows y0.. and columns x0..
 * (edge-replicated past the image, as cartoon_forward pads). */
typedef void (*ct_tile_fetch)(void *user, int y0, int x0, int th, int tw, float *dst);
/* Takes the network output for rows y0..y0+kh, columns x0..x0+kw of the image (all inside
 * it) from src, whose rows are src_w pixels apart. */
typedef void (*ct_tile_store)(void *user, int y0, int x0, int kh, int kw, const float *src, int src_w);

/* Runs the network tile by tile over an h x w image laid out by t. Holds the tile buffer in
 * ctx->tile_buf. Errors: those of cartoon_forward(). */
cartoon_status ct_tiles_run(cartoon_context *ctx, const ct_tiling *t, int h, int w, ct_tile_fetch fetch,
                            ct_tile_store store, void *user);
/* cartoon_estimate_cost() (estimate.c) that also returns the tiling unet_cartoonize() uses with
 * these options (tiling->tiled = 0: none). want_time 0 skips the time (seconds stay 0) and the
 * calibration cache. */
cartoon_status ct_estimate(cartoon_context *ctx, int in_w, int in_h, const cartoon_options *opt,
                           cartoon_estimate *out, ct_tiling *tiling, int want_time);
#endif
