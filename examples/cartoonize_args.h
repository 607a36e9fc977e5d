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
};

enum {
    CLI_PARSE_RUN = -1,     /* options valid: go on and cartoonize */
    CLI_PARSE_HELP = -2,    /* --help: the caller prints cartoonize_usage(stdout), exit 0 */
    CLI_PARSE_VERSION = -3, /* --version: the caller prints the version, exit 0 */
    CLI_PARSE_USAGE = 2     /* a usage error, already reported on err: exit status 2 */
};

/* Parses argv (getopt_long permutes it, so it must be writable and NULL-terminated). Resets
 * getopt's state first, so it may be called repeatedly. Returns one of the CLI_PARSE_ codes. */
int cartoonize_parse_args(int argc, char **argv, struct cli_config *out, FILE *err);

/* The --help text. */
void cartoonize_usage(FILE *f);
#endif
