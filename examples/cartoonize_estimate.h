/* cartoonize --estimate, and the budget check made before any work: predictions from the
 * library's cost model (cartoon_estimate_cost), nothing written. */
#ifndef CARTOONIZE_ESTIMATE_H
#define CARTOONIZE_ESTIMATE_H
#include <stdio.h>
#include "cartoon.h"
#include "cartoonize_args.h"

/* --estimate: loads the model (-m or the default one), and for each input file prints its
 * working size, predicted time and peak memory (JSON with --json) on out. Writes no file.
 * Returns the exit status: 0, 1 (an input could not be read), 2 (model or budget error). */
int cli_estimate(const struct cli_config *cfg, char **argv, FILE *out, FILE *err);

/* Before any work: a memory budget below the smallest tile, or budgets with which
 * --resolution auto fits nothing, are refused (reported on err). Returns 0 or 2. */
int cli_check_budgets(cartoon_context *ctx, const cartoon_options *opt, FILE *err);
/* The part of --memory-budget the engine may use: the budget minus what the process holds
 * before the first image (its code, libraries, the model: VmRSS), so that the budget bounds
 * the process's memory above the decoded input and output images. Reports on err and returns
 * 0 when nothing is left; budget 0 (none) is returned unchanged. */
uint64_t cli_engine_budget(uint64_t budget, FILE *err);
/* "cartoonize: model: NAME (PATH)" on err: which model a run (or an estimate) uses, by the
 * name in the file's metadata ("unnamed" when it has none) and the path it was loaded from. */
void cli_say_model(const cartoon_model *model, const char *path, FILE *err);
#endif
