/* cartoonize: from the command line's inputs (files, directories, "-") to the list of
 * (input, output) pairs the pipeline runs, with every check that can be made before any work:
 * unreadable inputs, non-image files, two inputs mapping to one output, an output directory
 * inside an input tree, "-o -" with more than one image. Prints only to `err`. */
#ifndef CARTOONIZE_INPUTS_H
#define CARTOONIZE_INPUTS_H
#include <stdio.h>
#include "cartoonize_args.h"

struct cli_pair {
    char *input;  /* path, or "-" for standard input */
    char *output; /* path; NULL = standard output */
};

struct cli_work {
    struct cli_pair *v;
    size_t n, cap;
    int to_dir;      /* outputs go into the directory cfg->output */
    int to_stdout;   /* -o - */
    int uses_stdin;  /* an input is "-" */
    int problems;    /* inputs refused (unreadable, clashing): reported, the run goes on, exit 1 */
    size_t skipped;  /* files in input directories that are not images: listed, not an error */
};

/* Builds the work list. Returns 0 to go on (w->problems may be > 0), or 2 for a usage error
 * that stops the run before any work (reported on err). Creates no file or directory. */
int cli_collect_inputs(const struct cli_config *cfg, char **argv, struct cli_work *w, FILE *err);

/* Creates the directories the outputs need (the -o directory and the mirrored subfolders).
 * Returns 0, or 2 after reporting on err. */
int cli_make_output_dirs(const struct cli_work *w, const char *outdir, FILE *err);

void cli_work_free(struct cli_work *w);
#endif
