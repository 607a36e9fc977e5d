/* cartoonize's option parsing (see cartoonize_args.h). */
#include "cartoonize_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void cartoonize_usage(FILE *f)
{
    fprintf(f,
        "usage: cartoonize [-m MODEL] [options] INPUT... -o OUTPUT\n"
        "Cartoonizes portraits with the White-box UNet (libcartoon %s).\n\n"
        "  -m, --model FILE        model file from cartoon-convert (.safetensors). Default:\n"
        "                          $CARTOON_MODEL, else whitebox.safetensors in\n"
        "                          $XDG_DATA_HOME/libcartoon (~/.local/share/libcartoon), else\n"
        "                          in PREFIX/share/libcartoon (put there by make install)\n"
        "  -o, --output PATH       output file (one input), or a directory (several inputs,\n"
        "                          or a path ending in '/'); format from the extension\n"
        "  -r, --resolution R      'native' (default) or N: run the model with the longest\n"
        "                          side N, then bring the result back to the input size\n"
        "      --keep-size         with --resolution N: keep the model-size result\n"
        "  -s, --strength S        0..1, blend of cartoon over the original (default 1)\n"
        "      --round             8-bit output rounded to nearest (default: truncated, as the\n"
        "                          original White-box program writes it)\n"
        "  -q, --quality Q         JPEG / WebP quality 1..100 (default 90)\n"
        "      --lossless          lossless WebP\n"
        "  -f, --format FMT        png|jpg|webp for outputs into a directory (default png)\n"
        "  -d, --device DEV        auto|cpu|cuda (default auto)\n"
        "  -t, --threads N         engine threads (default: online cores)\n"
        "      --conv ALGO         auto|fast|im2col (default auto)\n"
        "      --precision P       fp32|bf16|fp16 (default fp32)\n"
        "  -v, --verbose           say which device runs and why\n"
        "  -h, --help              this text\n"
        "      --version           print the version\n\n"
        "Exit status: 0 all done, 1 some input failed or was not done, 2 usage or model error.\n",
        cartoon_version_string());
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

int cartoonize_parse_args(int argc, char **argv, struct cli_config *cfg, FILE *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dir_format = "png";
    cartoon_context_options_default(&cfg->copt);
    cartoon_options_default(&cfg->opt);
    cartoon_write_options_default(&cfg->wopt);
    enum { OPT_VERSION = 256, OPT_CONV, OPT_PRECISION, OPT_LOSSLESS, OPT_KEEP, OPT_ROUND };
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},     {"output", required_argument, 0, 'o'},
        {"resolution", required_argument, 0, 'r'}, {"strength", required_argument, 0, 's'},
        {"quality", required_argument, 0, 'q'},   {"format", required_argument, 0, 'f'},
        {"device", required_argument, 0, 'd'},    {"threads", required_argument, 0, 't'},
        {"verbose", no_argument, 0, 'v'},         {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION}, {"conv", required_argument, 0, OPT_CONV},
        {"precision", required_argument, 0, OPT_PRECISION}, {"lossless", no_argument, 0, OPT_LOSSLESS},
        {"keep-size", no_argument, 0, OPT_KEEP},  {"round", no_argument, 0, OPT_ROUND},
        {0, 0, 0, 0}};
    int c;
    opterr = 0;
    optind = 0; /* glibc: 0 re-initialises getopt completely (a fresh scan of a new argv) */
    while ((c = getopt_long(argc, argv, ":m:o:r:s:q:f:d:t:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': cfg->model_path = optarg; break;
        case 'o': cfg->output = optarg; break;
        case 'r':
            if (!strcmp(optarg, "native")) cfg->opt.resolution = 0;
            else if (!parse_int(optarg, 1, 65536, &cfg->opt.resolution)) {
                fprintf(err, "cartoonize: --resolution takes 'native' or 1..65536, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            break;
        case 's': {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v >= 0 && v <= 1)) {
                fprintf(err, "cartoonize: --strength takes a number in 0..1, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            cfg->opt.strength = (float)v;
            break;
        }
        case 'q':
            if (!parse_int(optarg, 1, 100, &cfg->wopt.quality)) {
                fprintf(err, "cartoonize: --quality takes 1..100, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            break;
        case 'f':
            if (strcmp(optarg, "png") && strcmp(optarg, "jpg") && strcmp(optarg, "jpeg") && strcmp(optarg, "webp")) {
                fprintf(err, "cartoonize: --format takes png, jpg or webp, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            cfg->dir_format = optarg;
            break;
        case 'd':
            if (!strcmp(optarg, "auto")) cfg->copt.device = CARTOON_DEVICE_AUTO;
            else if (!strcmp(optarg, "cpu")) cfg->copt.device = CARTOON_DEVICE_CPU;
            else if (!strcmp(optarg, "cuda")) cfg->copt.device = CARTOON_DEVICE_CUDA;
            else { fprintf(err, "cartoonize: --device takes auto, cpu or cuda, not '%s'\n", optarg); return CLI_PARSE_USAGE; }
            break;
        case 't':
            if (!parse_int(optarg, 1, 1024, &cfg->copt.threads)) {
                fprintf(err, "cartoonize: --threads takes 1..1024, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            break;
        case 'v': cfg->copt.verbose = 1; break;
        case 'h': return CLI_PARSE_HELP;
        case OPT_VERSION: return CLI_PARSE_VERSION;
        case OPT_CONV:
            if (!strcmp(optarg, "auto")) cfg->copt.conv = CARTOON_CONV_AUTO;
            else if (!strcmp(optarg, "fast")) cfg->copt.conv = CARTOON_CONV_FAST;
            else if (!strcmp(optarg, "im2col")) cfg->copt.conv = CARTOON_CONV_IM2COL;
            else { fprintf(err, "cartoonize: --conv takes auto, fast or im2col, not '%s'\n", optarg); return CLI_PARSE_USAGE; }
            break;
        case OPT_PRECISION:
            if (!strcmp(optarg, "fp32")) cfg->copt.precision = CARTOON_PRECISION_FP32;
            else if (!strcmp(optarg, "bf16")) cfg->copt.precision = CARTOON_PRECISION_BF16;
            else if (!strcmp(optarg, "fp16")) cfg->copt.precision = CARTOON_PRECISION_FP16;
            else { fprintf(err, "cartoonize: --precision takes fp32, bf16 or fp16, not '%s'\n", optarg); return CLI_PARSE_USAGE; }
            break;
        case OPT_LOSSLESS: cfg->wopt.lossless = 1; break;
        case OPT_KEEP: cfg->opt.keep_model_size = 1; break;
        case OPT_ROUND: cfg->opt.quantize = CARTOON_QUANTIZE_ROUND; break;
        case ':': fprintf(err, "cartoonize: option %s needs a value\n", argv[optind - 1]); return CLI_PARSE_USAGE;
        default: fprintf(err, "cartoonize: unknown option '%s' (see --help)\n", argv[optind - 1]); return CLI_PARSE_USAGE;
        }
    }
    cfg->first_input = optind;
    cfg->n_inputs = argc - optind;
    /* no -m is not an error: main() then looks for the default model */
    if (!cfg->output || cfg->n_inputs < 1) {
        fprintf(err, "cartoonize: %s\n", !cfg->output ? "no output (-o OUTPUT)" : "no input image");
        cartoonize_usage(err);
        return CLI_PARSE_USAGE;
    }
    return CLI_PARSE_RUN;
}
