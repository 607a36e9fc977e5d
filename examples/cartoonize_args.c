/* cartoonize's option parsing (see cartoonize_args.h). */
#include "cartoonize_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage_presets(FILE *f);

void cartoonize_usage(FILE *f)
{
    fprintf(f,
        "usage: cartoonize [-m MODEL] [options] INPUT... -o OUTPUT\n"
        "Cartoonizes portraits with the White-box UNet (libcartoon %s).\n\n"
        "  -m, --model FILE        model file from cartoon-convert (.safetensors). Default:\n"
        "                          $CARTOON_MODEL, else whitebox.safetensors in\n"
        "                          $XDG_DATA_HOME/libcartoon (~/.local/share/libcartoon), else\n"
        "                          in PREFIX/share/libcartoon (put there by make install), else\n"
        "                          the built-in student cartoon-student.safetensors (same\n"
        "                          places, then the source tree's weights/student)\n"
        "  -o, --output PATH       output file (one input), or a directory (several inputs,\n"
        "                          or a path ending in '/'); format from the extension\n"
        "  -r, --resolution R      'native' (default), N: run the model with the longest\n"
        "                          side N, then bring the result back to the input size, or\n"
        "                          'auto': the largest N up to native whose predicted time\n"
        "                          and (untiled) memory fit --time-budget and --memory-budget\n"
        "                          (defaults 2 s and 1G when not given); -v says why\n"
        "      --time-budget S     seconds per image for -r auto\n"
        "      --memory-budget B   bytes (suffix K, M, G) the engine may hold per image, the\n"
        "                          decoded input and output images not counted; when a run\n"
        "                          would need more it runs in exact tiles (same result)\n"
        "      --tile N            run the network in tiles whose kept centres are N pixels\n"
        "      --estimate          print each input's working size, predicted time and peak\n"
        "                          memory, and exit without writing anything (--json: as JSON)\n"
        "      --preset NAME       a preset's resolution, strength, format and quality; the\n"
        "                          options given explicitly win; without -m, preview and\n"
        "                          low-end run the student model when there is one. Presets:\n",
        cartoon_version_string());
    usage_presets(f);
    fprintf(f,
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
        "  -R, --recursive         walk directories given as inputs recursively (the output\n"
        "                          tree mirrors the input tree)\n"
        "  -j, --jobs L:P:S        decode, network and encode/write threads of the pipeline\n"
        "                          (P contexts share the cores; default from the core count)\n"
        "      --progress MODE     auto (an updating line on a terminal), json (one JSON\n"
        "                          object per event on stderr) or none\n"
        "      --no-cache          neither read nor fill the result cache (by default results\n"
        "                          are kept in $XDG_CACHE_HOME/libcartoon/results, ~/.cache/...\n"
        "                          when unset, 1 GiB at most, and an input seen before with the\n"
        "                          same model and options is answered from there)\n"
        "      --cache-similar     also answer an input whose 128x128 grey thumbnail hashes like an\n"
        "                          earlier one's with that one's result; RISK: a similar but\n"
        "                          different picture then gets another picture's cartoon\n"
        "  Video (INPUT a .mp4 .mkv .mov .webm .avi .m4v .mpg .ts file, -o a video file): every\n"
        "  frame cartoonized, audio and subtitles copied untouched, timestamps kept.\n"
        "      --codec NAME        video encoder (default libx264, else mpeg4)\n"
        "      --crf N             constant quality 0..63 (x264 default 23; lower is better)\n"
        "      --encoder-preset P  encoder speed preset (x264: ultrafast..veryslow, default\n"
        "                          medium)\n"
        "  INPUT may be a file, a directory, or - (standard input); -o - writes standard\n"
        "  output in the format of -f.\n"
        "  -v, --verbose           say which device runs and why\n"
        "  -h, --help              this text\n"
        "      --version           print the version\n\n"
        "Exit status: 0 all done, 1 some input failed or was not done, 2 usage or model error.\n");
}

/* The presets' lines of the --help text, from the library's table. */
static void usage_presets(FILE *f)
{
    int n;
    const cartoon_preset *p = cartoon_presets(&n);
    for (int i = 0; i < n; i++)
        fprintf(f, "                            %-8s resolution %d, strength %.1f, %s q%d%s: %s\n", p[i].name,
                p[i].resolution, (double)p[i].strength, p[i].format, p[i].quality,
                p[i].prefer_student ? ", student" : "", p[i].use);
}

uint64_t cartoonize_parse_bytes(const char *s)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return 0; /* no sign, no space */
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0)) return 0;
    double mult = 1;
    if (*end == 'K' || *end == 'k') mult = 1024.0, end++;
    else if (*end == 'M' || *end == 'm') mult = 1024.0 * 1024, end++;
    else if (*end == 'G' || *end == 'g') mult = 1024.0 * 1024 * 1024, end++;
    else if (*end == 'T' || *end == 't') mult = 1024.0 * 1024 * 1024 * 1024, end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return 0;
    v *= mult;
    if (!(v >= 1) || v >= 18446744073709551615.0) return 0;
    return (uint64_t)v;
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
    cfg->crf = -1; /* the encoder's default */
    cfg->dir_format = "png";
    cartoon_context_options_default(&cfg->copt);
    cartoon_options_default(&cfg->opt);
    cartoon_write_options_default(&cfg->wopt);
    enum { OPT_VERSION = 256, OPT_CONV, OPT_PRECISION, OPT_LOSSLESS, OPT_KEEP, OPT_ROUND, OPT_PROGRESS,
           OPT_TIME_BUDGET, OPT_MEMORY_BUDGET, OPT_TILE, OPT_ESTIMATE, OPT_JSON, OPT_PRESET,
           OPT_NO_CACHE, OPT_CACHE_SIMILAR, OPT_CODEC, OPT_CRF, OPT_ENCODER_PRESET };
    /* what was given explicitly, so that a preset fills only the rest */
    int set_res = 0, set_strength = 0, set_format = 0, set_quality = 0;
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},     {"output", required_argument, 0, 'o'},
        {"resolution", required_argument, 0, 'r'}, {"strength", required_argument, 0, 's'},
        {"quality", required_argument, 0, 'q'},   {"format", required_argument, 0, 'f'},
        {"device", required_argument, 0, 'd'},    {"threads", required_argument, 0, 't'},
        {"verbose", no_argument, 0, 'v'},         {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION}, {"conv", required_argument, 0, OPT_CONV},
        {"precision", required_argument, 0, OPT_PRECISION}, {"lossless", no_argument, 0, OPT_LOSSLESS},
        {"keep-size", no_argument, 0, OPT_KEEP},  {"round", no_argument, 0, OPT_ROUND},
        {"recursive", no_argument, 0, 'R'},       {"jobs", required_argument, 0, 'j'},
        {"progress", required_argument, 0, OPT_PROGRESS},
        {"no-cache", no_argument, 0, OPT_NO_CACHE}, {"cache-similar", no_argument, 0, OPT_CACHE_SIMILAR},
        {"codec", required_argument, 0, OPT_CODEC}, {"crf", required_argument, 0, OPT_CRF},
        {"encoder-preset", required_argument, 0, OPT_ENCODER_PRESET},
        {"time-budget", required_argument, 0, OPT_TIME_BUDGET}, {"memory-budget", required_argument, 0, OPT_MEMORY_BUDGET},
        {"tile", required_argument, 0, OPT_TILE}, {"estimate", no_argument, 0, OPT_ESTIMATE},
        {"json", no_argument, 0, OPT_JSON},       {"preset", required_argument, 0, OPT_PRESET},
        {0, 0, 0, 0}};
    int c;
    opterr = 0;
    optind = 0; /* glibc: 0 re-initialises getopt completely (a fresh scan of a new argv) */
    while ((c = getopt_long(argc, argv, ":m:o:r:s:q:f:d:t:vhRj:", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': cfg->model_path = optarg; break;
        case 'o': cfg->output = optarg; break;
        case 'r':
            set_res = 1;
            if (!strcmp(optarg, "native")) cfg->opt.resolution = 0;
            else if (!strcmp(optarg, "auto")) cfg->opt.resolution = CARTOON_RESOLUTION_AUTO;
            else if (!parse_int(optarg, 1, 65536, &cfg->opt.resolution)) {
                fprintf(err, "cartoonize: --resolution takes 'native', 'auto' or 1..65536, not '%s'\n", optarg);
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
            set_strength = 1;
            break;
        }
        case 'q':
            if (!parse_int(optarg, 1, 100, &cfg->wopt.quality)) {
                fprintf(err, "cartoonize: --quality takes 1..100, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            set_quality = 1;
            break;
        case 'f':
            if (strcmp(optarg, "png") && strcmp(optarg, "jpg") && strcmp(optarg, "jpeg") && strcmp(optarg, "webp")) {
                fprintf(err, "cartoonize: --format takes png, jpg or webp, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            cfg->dir_format = optarg;
            set_format = 1;
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
        case 'R': cfg->recursive = 1; break;
        case OPT_NO_CACHE: cfg->no_cache = 1; break;
        case OPT_CACHE_SIMILAR: cfg->cache_similar = 1; break;
        case OPT_CODEC: cfg->video_codec = optarg; break;
        case OPT_ENCODER_PRESET: cfg->encoder_preset = optarg; break;
        case OPT_CRF:
            if (!parse_int(optarg, 0, 63, &cfg->crf)) {
                fprintf(err, "cartoonize: --crf takes 0..63, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            break;
        case 'j': {
            /* L:P:S as the ncnn-vulkan tools take it; each 1..64 */
            char a[3][16];
            int n = 0;
            const char *p = optarg;
            for (; n < 3; n++) {
                size_t l = strcspn(p, ":");
                if (l == 0 || l >= sizeof a[n]) break;
                memcpy(a[n], p, l);
                a[n][l] = 0;
                if (!parse_int(a[n], 1, 64, &cfg->jobs[n])) break;
                p += l;
                if (*p == ':') p++;
                else { n++; break; }
            }
            if (n != 3 || *p) {
                fprintf(err, "cartoonize: --jobs takes LOAD:PROC:SAVE, each 1..64, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            break;
        }
        case OPT_PROGRESS:
            if (!strcmp(optarg, "auto")) cfg->progress = CLI_PROGRESS_AUTO;
            else if (!strcmp(optarg, "json")) cfg->progress = CLI_PROGRESS_JSON;
            else if (!strcmp(optarg, "none")) cfg->progress = CLI_PROGRESS_NONE;
            else { fprintf(err, "cartoonize: --progress takes auto, json or none, not '%s'\n", optarg); return CLI_PARSE_USAGE; }
            break;
        case OPT_TIME_BUDGET: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(v > 0 && v <= 1e9)) {
                fprintf(err, "cartoonize: --time-budget takes seconds > 0, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            cfg->opt.time_budget = v;
            break;
        }
        case OPT_MEMORY_BUDGET:
            if (!(cfg->opt.memory_budget = cartoonize_parse_bytes(optarg))) {
                fprintf(err, "cartoonize: --memory-budget takes a size in bytes > 0 (suffix K, M or G), not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            break;
        case OPT_TILE:
            if (!parse_int(optarg, 1, 65536, &cfg->opt.tile)) {
                fprintf(err, "cartoonize: --tile takes 1..65536 pixels, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            break;
        case OPT_ESTIMATE: cfg->estimate = 1; break;
        case OPT_JSON: cfg->json = 1; break;
        case OPT_PRESET: {
            const cartoon_preset *p = cartoon_preset_find(optarg);
            if (!p) {
                fprintf(err, "cartoonize: --preset takes preview, social, print or low-end, not '%s'\n", optarg);
                return CLI_PARSE_USAGE;
            }
            cfg->preset = p->name;
            break;
        }
        case ':': fprintf(err, "cartoonize: option %s needs a value\n", argv[optind - 1]); return CLI_PARSE_USAGE;
        default: fprintf(err, "cartoonize: unknown option '%s' (see --help)\n", argv[optind - 1]); return CLI_PARSE_USAGE;
        }
    }
    if (cfg->preset) { /* after the loop: explicit options win whatever their order */
        const cartoon_preset *p = cartoon_preset_find(cfg->preset);
        if (!set_res) cfg->opt.resolution = p->resolution;
        if (!set_strength) cfg->opt.strength = p->strength;
        if (!set_format) cfg->dir_format = p->format;
        if (!set_quality) cfg->wopt.quality = p->quality;
        cfg->prefer_student = p->prefer_student; /* -m and $CARTOON_MODEL still decide */
    }
    if (cfg->opt.keep_model_size && cfg->opt.resolution == CARTOON_RESOLUTION_AUTO) {
        /* the output size would depend on each image's choice: not supported */
        fprintf(err, "cartoonize: --keep-size goes with --resolution N, not auto\n");
        return CLI_PARSE_USAGE;
    }
    if (cfg->json && !cfg->estimate) {
        fprintf(err, "cartoonize: --json goes with --estimate\n");
        return CLI_PARSE_USAGE;
    }
    if (cfg->opt.time_budget > 0 && cfg->opt.resolution != CARTOON_RESOLUTION_AUTO) {
        fprintf(err, "cartoonize: --time-budget goes with --resolution auto\n");
        return CLI_PARSE_USAGE;
    }
    cfg->first_input = optind;
    cfg->n_inputs = argc - optind;
    /* no -m is not an error: main() then looks for the default model */
    if ((!cfg->output && !cfg->estimate) || cfg->n_inputs < 1) {
        fprintf(err, "cartoonize: %s\n", !cfg->output ? "no output (-o OUTPUT)" : "no input image");
        cartoonize_usage(err);
        return CLI_PARSE_USAGE;
    }
    return CLI_PARSE_RUN;
}
