/* cartoon_resolve_options(): CARTOON_RESOLUTION_AUTO, the article's device-aware resolution
 * done with the cost model's numbers instead of GPU names. The prediction grows with the
 * working size, so a binary search over the longest side finds the largest that fits. */
#include <math.h>
#include <stdio.h>
#include "tiling.h"

/* The untiled prediction at longest side `side` (0 = native). */
static cartoon_status predict(cartoon_context *ctx, int in_w, int in_h, const cartoon_options *o, int side,
                              cartoon_estimate *e)
{
    cartoon_options x = *o;
    x.resolution = side;
    x.tile = 0;
    x.memory_budget = 0;
    ct_tiling t;
    return ct_estimate(ctx, in_w, in_h, &x, e, &t, 1);
}

static int fits(const cartoon_estimate *e, double tb, uint64_t mb)
{
    return e->seconds <= tb && e->host_bytes <= mb && e->device_bytes <= mb;
}

cartoon_status cartoon_resolve_options(cartoon_context *ctx, int in_w, int in_h, const cartoon_options *in,
                                       cartoon_options *out, char *why, size_t why_size)
{
    if (!ctx) return CARTOON_E_INVALID_ARGUMENT;
    ctx->err[0] = 0;
    if (why && why_size) why[0] = 0;
    if (!in || !out) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "options are NULL");
    if (in_w < 1 || in_h < 1) return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "input size %dx%d is empty", in_w, in_h);
    cartoon_options o = *in;
    if (!(o.time_budget >= 0) || !isfinite(o.time_budget))
        return ct_ctx_fail(ctx, CARTOON_E_INVALID_ARGUMENT, "time budget %g is not a non-negative number of seconds",
                           o.time_budget);
    if (o.resolution != CARTOON_RESOLUTION_AUTO) { *out = o; return CARTOON_OK; }
    double tb = o.time_budget > 0 ? o.time_budget : CARTOON_AUTO_DEFAULT_TIME_BUDGET;
    uint64_t mb = o.memory_budget ? o.memory_budget : CARTOON_AUTO_DEFAULT_MEMORY_BUDGET;
    int native = in_w > in_h ? in_w : in_h;
    cartoon_estimate e;
    cartoon_status st;
    int chosen = -1;
    if ((st = predict(ctx, in_w, in_h, &o, 0, &e))) return st;
    if (fits(&e, tb, mb)) {
        chosen = native;
    } else {
        int lo = CARTOON_AUTO_MIN_RESOLUTION < native ? CARTOON_AUTO_MIN_RESOLUTION : native, hi = native - 1;
        if ((st = predict(ctx, in_w, in_h, &o, lo, &e))) return st;
        if (!fits(&e, tb, mb))
            return ct_ctx_fail(ctx, CARTOON_E_LIMIT,
                               "no resolution fits the budgets: even %d pixels on the longest side needs %.3g s "
                               "and %llu bytes (budgets %.3g s, %llu bytes)",
                               lo, e.seconds, (unsigned long long)e.host_bytes, tb, (unsigned long long)mb);
        while (lo < hi) {
            int mid = lo + (hi - lo + 1) / 2;
            if ((st = predict(ctx, in_w, in_h, &o, mid, &e))) return st;
            if (fits(&e, tb, mb)) lo = mid;
            else hi = mid - 1;
        }
        chosen = lo;
    }
    o.resolution = chosen == native ? 0 : chosen;
    if ((st = predict(ctx, in_w, in_h, &o, o.resolution, &e))) return st;
    if (why && why_size) {
        const char *bound = chosen == native ? "native fits both budgets" : "the next size up would exceed ";
        const char *which = "";
        if (chosen != native) {
            cartoon_estimate up;
            if (!predict(ctx, in_w, in_h, &o, chosen + 1, &up))
                which = up.seconds > tb ? (up.host_bytes > mb || up.device_bytes > mb ? "both budgets" : "the time budget")
                                        : "the memory budget";
        }
        snprintf(why, why_size,
                 "resolution auto: %dx%d -> %dx%d (longest side %d of %d): predicted %.3g s, %.1f MB; "
                 "budgets %.3g s%s, %.1f MB%s; %s%s (%s time model)",
                 in_w, in_h, e.width, e.height, chosen, native, e.seconds, e.host_bytes / 1048576.0, tb,
                 o.time_budget > 0 ? "" : " (default)", mb / 1048576.0, in->memory_budget ? "" : " (default)", bound,
                 which, e.calibrated == CARTOON_CALIBRATION_NONE ? "uncalibrated" : "calibrated");
    }
    *out = o;
    return CARTOON_OK;
}
