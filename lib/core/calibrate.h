/* The cost model's time part: a per-context calibration (per-node linear fits of time
 * against pixels, measured by calibrate.c or read from the cache file) and the prediction
 * estimate.c makes from it. No global state: a calibration lives in its context
 * (ctx->calib) and in the cache file. */
#ifndef CARTOON_CALIBRATE_H
#define CARTOON_CALIBRATE_H
#include <stddef.h>
#include "cartoon.h"

struct cartoon_context;

/* Method version: part of the cache key, bumped when the fit changes meaning. */
#define CT_CALIB_METHOD 1
/* Entries kept in the cache file. */
#define CT_CALIB_MAX_ENTRIES 16

typedef struct ct_calibration {
    cartoon_calibration source; /* MEASURED or CACHED */
    int n;                      /* graph nodes */
    double *node_a;             /* ms per output pixel of node i (its level), n entries */
    double *node_b;             /* ms per call of node i */
    double over_a, over_b;      /* work outside the nodes: ms per unit (in + 4 working + out) / 6, ms */
    double resample_a;          /* ms per resampling work unit (resample_work()) */
    double seconds;             /* how long measuring took (0 when read from the cache) */
} ct_calibration;

void ct_calibration_free(ct_calibration *c);

/* The cache key of the context, as compact JSON (sorted keys) into buf. 0 on success, -1 when
 * it does not fit or jansson fails. Reads /proc/cpuinfo (and, for CUDA contexts,
 * /proc/driver/nvidia/gpus) once per call. */
int ct_calibration_key(const struct cartoon_context *ctx, char *buf, size_t size);

/* The cache file's path into buf: 0 on success, -1 when no directory is known (no
 * CARTOON_CACHE_DIR, XDG_CACHE_HOME or HOME) or the path does not fit. */
int ct_calibration_cache_path(char *buf, size_t size);

/* Looks for the context's entry in the cache file; on a match sets ctx->calib (source
 * CACHED) and returns 1; 0 otherwise (no file, damaged, foreign, no matching entry). */
int ct_calibration_load(struct cartoon_context *ctx);

/* Resampling work units of ct_resample() from iw x ih to ow x oh with c channels (taps
 * summed over both passes, roughly); 0 when the sizes are equal. */
double ct_resample_work(int iw, int ih, int ow, int oh, int c);
#endif
