/* cartoonize: the command-line front end of libcartoon.
 *
 *   cartoonize -m MODEL [options] INPUT... -o OUTPUT
 *
 * Exit status: 0 every input done, 1 some input failed (or the run was interrupted before
 * all were done), 2 usage error or the model could not be loaded. Outputs are written to a
 * temporary file and renamed, so an output path never holds a partial file. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cartoon.h"
#include "cartoon_io.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1; /* finish the image in hand, then stop */
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cartoonize -m MODEL [options] INPUT... -o OUTPUT\n"
        "Cartoonizes portraits with the White-box UNet (libcartoon %s).\n\n"
        "  -m, --model FILE        model file from cartoon-convert (.safetensors)\n"
        "  -o, --output PATH       output file (one input), or a directory (several inputs,\n"
        "                          or a path ending in '/'); format from the extension\n"
        "  -r, --resolution R      'native' (default) or N: run the model with the longest\n"
        "                          side N, then bring the result back to the input size\n"
        "      --keep-size         with --resolution N: keep the model-size result\n"
        "  -s, --strength S        0..1, blend of cartoon over the original (default 1)\n"
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* OUTDIR/BASENAME-without-extension.EXT */
static int output_name(const char *dir, const char *input, const char *ext, char *out, size_t n)
{
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    size_t dl = strlen(dir);
    int w = snprintf(out, n, "%s%s%.*s.%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", len, base, ext);
    return w > 0 && (size_t)w < n;
}

typedef struct {
    cartoon_context *ctx;
    cartoon_options opt;
    cartoon_write_options wopt;
    uint64_t max_pixels;
} job;

/* One image: read, cartoonize, write. Returns 0 on success, prints the reason otherwise. */
static int process(const job *j, const char *in_path, const char *out_path)
{
    char err[512];
    cartoon_image in = {0}, out = {0};
    cartoon_status st = cartoon_image_read(in_path, j->max_pixels, &in, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoonize: %s: %s (%s)\n", in_path, err, cartoon_status_name(st));
        return 1;
    }
    int ow, oh, rc = 1;
    cartoon_output_size(&j->opt, in.width, in.height, &ow, &oh);
    int bpp = cartoon_pixel_size(in.format);
    out.width = ow;
    out.height = oh;
    out.format = in.format;
    out.stride = (size_t)ow * bpp;
    out.data = malloc(out.stride * oh);
    if (!out.data) {
        fprintf(stderr, "cartoonize: %s: out of memory for a %dx%d result\n", in_path, ow, oh);
        goto done;
    }
    st = unet_cartoonize(j->ctx, &in, &out, &j->opt);
    if (st) {
        fprintf(stderr, "cartoonize: %s: %s: %s\n", in_path, cartoon_strerror(st), cartoon_context_last_error(j->ctx));
        goto done;
    }
    st = cartoon_image_write(out_path, &out, CARTOON_FILE_AUTO, &j->wopt, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoonize: %s: %s (%s)\n", out_path, err, cartoon_status_name(st));
        goto done;
    }
    rc = 0;
done:
    free(out.data);
    cartoon_image_free(&in);
    return rc;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *output = NULL, *dir_format = "png";
    cartoon_context_options copt;
    cartoon_context_options_default(&copt);
    job j = {0};
    cartoon_options_default(&j.opt);
    cartoon_write_options_default(&j.wopt);
    enum { OPT_VERSION = 256, OPT_CONV, OPT_PRECISION, OPT_LOSSLESS, OPT_KEEP };
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},     {"output", required_argument, 0, 'o'},
        {"resolution", required_argument, 0, 'r'}, {"strength", required_argument, 0, 's'},
        {"quality", required_argument, 0, 'q'},   {"format", required_argument, 0, 'f'},
        {"device", required_argument, 0, 'd'},    {"threads", required_argument, 0, 't'},
        {"verbose", no_argument, 0, 'v'},         {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION}, {"conv", required_argument, 0, OPT_CONV},
        {"precision", required_argument, 0, OPT_PRECISION}, {"lossless", no_argument, 0, OPT_LOSSLESS},
        {"keep-size", no_argument, 0, OPT_KEEP},  {0, 0, 0, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:o:r:s:q:f:d:t:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'o': output = optarg; break;
        case 'r':
            if (!strcmp(optarg, "native")) j.opt.resolution = 0;
            else if (!parse_int(optarg, 1, 65536, &j.opt.resolution)) {
                fprintf(stderr, "cartoonize: --resolution takes 'native' or 1..65536, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 's': {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v >= 0 && v <= 1)) {
                fprintf(stderr, "cartoonize: --strength takes a number in 0..1, not '%s'\n", optarg);
                return 2;
            }
            j.opt.strength = (float)v;
            break;
        }
        case 'q':
            if (!parse_int(optarg, 1, 100, &j.wopt.quality)) {
                fprintf(stderr, "cartoonize: --quality takes 1..100, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'f':
            if (strcmp(optarg, "png") && strcmp(optarg, "jpg") && strcmp(optarg, "jpeg") && strcmp(optarg, "webp")) {
                fprintf(stderr, "cartoonize: --format takes png, jpg or webp, not '%s'\n", optarg);
                return 2;
            }
            dir_format = optarg;
            break;
        case 'd':
            if (!strcmp(optarg, "auto")) copt.device = CARTOON_DEVICE_AUTO;
            else if (!strcmp(optarg, "cpu")) copt.device = CARTOON_DEVICE_CPU;
            else if (!strcmp(optarg, "cuda")) copt.device = CARTOON_DEVICE_CUDA;
            else { fprintf(stderr, "cartoonize: --device takes auto, cpu or cuda, not '%s'\n", optarg); return 2; }
            break;
        case 't':
            if (!parse_int(optarg, 1, 1024, &copt.threads)) {
                fprintf(stderr, "cartoonize: --threads takes 1..1024, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'v': copt.verbose = 1; break;
        case 'h': usage(stdout); return 0;
        case OPT_VERSION: printf("cartoonize (libcartoon) %s\n", cartoon_version_string()); return 0;
        case OPT_CONV:
            if (!strcmp(optarg, "auto")) copt.conv = CARTOON_CONV_AUTO;
            else if (!strcmp(optarg, "fast")) copt.conv = CARTOON_CONV_FAST;
            else if (!strcmp(optarg, "im2col")) copt.conv = CARTOON_CONV_IM2COL;
            else { fprintf(stderr, "cartoonize: --conv takes auto, fast or im2col, not '%s'\n", optarg); return 2; }
            break;
        case OPT_PRECISION:
            if (!strcmp(optarg, "fp32")) copt.precision = CARTOON_PRECISION_FP32;
            else if (!strcmp(optarg, "bf16")) copt.precision = CARTOON_PRECISION_BF16;
            else if (!strcmp(optarg, "fp16")) copt.precision = CARTOON_PRECISION_FP16;
            else { fprintf(stderr, "cartoonize: --precision takes fp32, bf16 or fp16, not '%s'\n", optarg); return 2; }
            break;
        case OPT_LOSSLESS: j.wopt.lossless = 1; break;
        case OPT_KEEP: j.opt.keep_model_size = 1; break;
        case ':': fprintf(stderr, "cartoonize: option %s needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "cartoonize: unknown option '%s' (see --help)\n", argv[optind - 1]); return 2;
        }
    }
    int n_in = argc - optind;
    if (!model_path || !output || n_in < 1) {
        fprintf(stderr, "cartoonize: %s\n", !model_path ? "no model (-m MODEL)" : !output ? "no output (-o OUTPUT)" : "no input image");
        usage(stderr);
        return 2;
    }
    size_t ol = strlen(output);
    int to_dir = n_in > 1 || is_dir(output) || (ol && output[ol - 1] == '/');
    if (to_dir && !is_dir(output) && mkdir(output, 0777) != 0) {
        fprintf(stderr, "cartoonize: cannot create directory '%s': %s\n", output, strerror(errno));
        return 2;
    }
    if (!to_dir && cartoon_file_format_from_path(output) == CARTOON_FILE_AUTO) {
        fprintf(stderr, "cartoonize: '%s': unknown output extension (use .png, .jpg, .jpeg or .webp)\n", output);
        return 2;
    }

    char err[512];
    cartoon_model *model = NULL;
    cartoon_status st = cartoon_model_load(model_path, NULL, &model, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoonize: %s: %s (%s)\n", model_path, err, cartoon_status_name(st));
        return 2;
    }
    st = cartoon_context_create(model, &copt, &j.ctx);
    if (st) {
        fprintf(stderr, "cartoonize: cannot start on the requested device: %s (%s)\n",
                j.ctx ? cartoon_context_last_error(j.ctx) : cartoon_strerror(st), cartoon_status_name(st));
        cartoon_model_free(model);
        return 2;
    }
    if (copt.verbose)
        fprintf(stderr, "cartoonize: running on %s\n", cartoon_context_device(j.ctx) == CARTOON_DEVICE_CUDA ? "CUDA" : "CPU");
    j.max_pixels = CARTOON_DEFAULT_MAX_PIXELS;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int failed = 0, done = 0, i;
    for (i = 0; i < n_in && !interrupted; i++) {
        const char *in_path = argv[optind + i];
        char out_path[4096];
        if (to_dir && !output_name(output, in_path, dir_format, out_path, sizeof out_path)) {
            fprintf(stderr, "cartoonize: %s: output path too long\n", in_path);
            failed++;
            continue;
        }
        const char *dst = to_dir ? out_path : output;
        double t0 = now_s();
        int rc = process(&j, in_path, dst);
        if (rc) failed++;
        else {
            done++;
            fprintf(stderr, "[%d/%d] %s -> %s (%.2f s)\n", i + 1, n_in, in_path, dst, now_s() - t0);
        }
    }
    if (i < n_in) {
        fprintf(stderr, "cartoonize: interrupted; %d input(s) not done:\n", n_in - i);
        for (; i < n_in; i++) fprintf(stderr, "  %s\n", argv[optind + i]);
        failed = 1;
    }
    if (n_in > 1) fprintf(stderr, "cartoonize: %d done, %d failed\n", done, n_in - done);
    cartoon_context_free(j.ctx);
    cartoon_model_free(model);
    return failed ? 1 : 0;
}
