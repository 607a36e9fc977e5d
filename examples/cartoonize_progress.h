/* cartoonize's progress report on stderr: on a terminal one updating line (done/total, rate,
 * ETA); with --progress json one JSON object per event; otherwise one line per finished input
 * ("[k/n] IN -> OUT (t s)"), as before. Failures are always reported, with the input's path. */
#ifndef CARTOONIZE_PROGRESS_H
#define CARTOONIZE_PROGRESS_H
#include <stdio.h>
#include "cartoon_batch.h"

struct cli_progress {
    int mode;        /* PROGRESS_LINES, _TTY, _JSON, _QUIET */
    FILE *f;
    const char *unit; /* "images" or "frames" */
    size_t total, done, failed;
    double t0;
};
enum { PROGRESS_LINES, PROGRESS_TTY, PROGRESS_JSON, PROGRESS_QUIET };

/* cli_mode is CLI_PROGRESS_*; the terminal is detected on f. */
void progress_start(struct cli_progress *p, int cli_mode, FILE *f, size_t total, const char *unit);
/* One finished (or failed, or not started) item; out_name is what to call its output. */
void progress_item(struct cli_progress *p, const cartoon_batch_event *ev, const char *out_name);
void progress_end(struct cli_progress *p, size_t not_done);
#endif
