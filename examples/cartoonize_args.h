/* cartoonize's command line: parsed apart from main() so that a fuzzer and the tests can call
 * the parser without running anything. Touches no file; prints only to `err`. */
#ifndef CARTOONIZE_ARGS_H
#define CARTOONIZE_ARGS_H
#include <stdio.h>
#include "cartoon.h"
#include "cartoon_io.h"

struct cli_config {
    const char *model_path;       /* -m (points into argv); NULL: find the default model */
    const char *output;           /* -o (points into argv) */
    const char *dir_format;       /* -f, default "png" */
    cartoon_context_options copt; /* -d -t --conv --precision -v */
    cartoon_options opt;          /* -r -s --keep-size --round */
    cartoon_write_options wopt;   /* -q --lossless */
    int first_input;              /* argv index of the first input (after getopt's permutation) */
    int n_inputs;                 /* >= 1 when CLI_PARSE_RUN is returned */
    /* batch runs (issue 10) */
    int recursive;                /* -R: directories are walked recursively */
    int jobs[3];                  /* -j LOAD:PROC:SAVE; 0 = chosen from the core count */
    int progress;                 /* --progress: CLI_PROGRESS_* */
    int no_cache;                 /* --no-cache: neither read nor fill the result cache */
    int cache_similar;            /* --cache-similar: perceptual lookups too (see --help) */
    const char *video_codec;      /* --codec: video encoder name (NULL: libx264, else mpeg4) */
    int crf;                      /* --crf 0..63; -1: the encoder's default (23 for x264) */
    const char *encoder_preset;   /* --encoder-preset: e.g. x264's ultrafast..veryslow */
    /* cost model, budgets, presets (issue 9): opt.memory_budget, opt.tile, opt.time_budget and
     * opt.resolution = CARTOON_RESOLUTION_AUTO come from --memory-budget, --tile,
     * --time-budget and -r auto; --preset fills opt, dir_format and wopt where no explicit
     * option did */
    int estimate;                 /* --estimate: print the predictions, write nothing */
    int json;                     /* --json: --estimate prints JSON */
    const char *preset;           /* --preset NAME (points into the static preset table) */
    int prefer_student;           /* the preset prefers the built-in student model when no
                                     -m names one (cartoon_model_find's preference) */
};

enum { CLI_PROGRESS_AUTO = 0, CLI_PROGRESS_NONE = 1, CLI_PROGRESS_JSON = 2 };

enum {
    CLI_PARSE_RUN = -1,     /* options valid: go on and cartoonize */
    CLI_PARSE_HELP = -2,    /* --help: the caller prints cartoonize_usage(stdout), exit 0 */
    CLI_PARSE_VERSION = -3, /* --version: the caller prints the version, exit 0 */
    CLI_PARSE_USAGE = 2     /* a usage error, already reported on err: exit status 2 */
};

/* Parses argv (getopt_long permutes it, so it must be writable and NULL-terminated). Resets
 * getopt's state first, so it may be called repeatedly. Returns one of the CLI_PARSE_ codes. */
int cartoonize_parse_args(int argc, char **argv, struct cli_config *out, FILE *err);

/* "512M", "2G", "1048576", "64K" (binary multiples) into bytes; 0 when it is not a positive
 * size that fits 64 bits. */
uint64_t cartoonize_parse_bytes(const char *s);

/* The --help text. */
void cartoonize_usage(FILE *f);
#endif
