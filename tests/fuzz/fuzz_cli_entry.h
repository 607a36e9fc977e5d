/* Body of the CLI-argument fuzz target (needs examples/cartoonize_args.c linked in). */
#ifndef CARTOON_FUZZ_CLI_ENTRY_H
#define CARTOON_FUZZ_CLI_ENTRY_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../examples/cartoonize_args.h"

#define FUZZ_MAX_ARGS 256

static inline int fuzz_cli_args_one(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    if (!devnull || size > 65536) return 0;
    char *text = malloc(size + 1);
    char **argv = malloc((FUZZ_MAX_ARGS + 2) * sizeof *argv);
    if (!text || !argv) { free(text); free(argv); return 0; }
    memcpy(text, data, size);
    text[size] = 0;
    int argc = 0;
    argv[argc++] = "cartoonize";
    for (size_t i = 0; argc <= FUZZ_MAX_ARGS;) {
        argv[argc++] = text + i;
        size_t l = strlen(text + i);
        if (i + l >= size) break;
        i += l + 1;
    }
    argv[argc] = NULL;
    struct cli_config cfg;
    int rc = cartoonize_parse_args(argc, argv, &cfg, devnull);
    if (rc == CLI_PARSE_RUN) {
        /* what the CLI relies on after a successful parse */
        /* --estimate writes nothing, so it is the one run without -o */
        if ((!cfg.output && !cfg.estimate) || cfg.n_inputs < 1 || cfg.first_input < 1 ||
            cfg.first_input + cfg.n_inputs != argc)
            abort();
        for (int i = 0; i < cfg.n_inputs; i++)
            if (!argv[cfg.first_input + i]) abort();
        int autores = cfg.opt.resolution == CARTOON_RESOLUTION_AUTO;
        if ((cfg.opt.resolution < 0 && !autores) || cfg.opt.resolution > 65536 ||
            !(cfg.opt.strength >= 0 && cfg.opt.strength <= 1) ||
            cfg.wopt.quality < 1 || cfg.wopt.quality > 100 || cfg.copt.threads < 0 || cfg.copt.threads > 1024)
            abort();
        int ow, oh;
        if (!autores && cartoon_output_size(&cfg.opt, 640, 480, &ow, &oh) != CARTOON_OK) abort();
    } else if (rc != CLI_PARSE_HELP && rc != CLI_PARSE_VERSION && rc != CLI_PARSE_USAGE) {
        abort();
    }
    free(argv);
    free(text);
    return 0;
}
#endif
