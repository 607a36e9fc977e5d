/* cartoonize: the command-line front end of libcartoon.
 *
 *   cartoonize [-m MODEL] [options] INPUT... -o OUTPUT
 *
 * Without -m it runs the model cartoon_model_find_default() finds ($CARTOON_MODEL, the user's
 * data directory, the installed one) and says which; when there is none it lists where it
 * looked and how to get one, and exits 2.
 *
 * Exit status: 0 every input done, 1 some input failed (or the run was interrupted before
 * all were done), 2 usage error or the model could not be loaded. Outputs are written to a
 * temporary file and renamed, so an output path never holds a partial file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cartoon.h"
#include "cartoon_io.h"
#include "cartoonize_args.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1; /* finish the image in hand, then stop */
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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

/* No -m and no default model: where the program looked, and what to do. */
static void no_model(const char *prog, cartoon_status st, const char *searched)
{
    const char *env = getenv("CARTOON_MODEL");
    if (st == CARTOON_E_IO && env && *env) {
        fprintf(stderr, "%s: no model: %s\n(point CARTOON_MODEL at a model file, unset it, or pass -m MODEL)\n", prog, searched);
        return;
    }
    if (st != CARTOON_E_IO) {
        fprintf(stderr, "%s: cannot look for the model: %s (%s)\n", prog, cartoon_strerror(st), cartoon_status_name(st));
        return;
    }
    fprintf(stderr, "%s: no model: no -m MODEL, and no model file where one is looked for:\n  ", prog);
    for (const char *c = searched; *c; c++) {
        fputc(*c, stderr);
        if (*c == '\n') fputs("  ", stderr);
    }
    fprintf(stderr,
            "\nTo get one: in the libcartoon source tree, `make model` writes weights/whitebox.safetensors\n"
            "(converted from the published model, which scripts/fetch-model.sh downloads and checks);\n"
            "then pass -m weights/whitebox.safetensors, set CARTOON_MODEL to its path, or `make install`.\n");
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
    struct cli_config cli;
    switch (cartoonize_parse_args(argc, argv, &cli, stderr)) {
    case CLI_PARSE_RUN: break;
    case CLI_PARSE_HELP: cartoonize_usage(stdout); return 0;
    case CLI_PARSE_VERSION: printf("cartoonize (libcartoon) %s\n", cartoon_version_string()); return 0;
    default: return 2;
    }
    const char *model_path = cli.model_path, *output = cli.output, *dir_format = cli.dir_format;
    cartoon_context_options copt = cli.copt;
    job j = {0};
    j.opt = cli.opt;
    j.wopt = cli.wopt;
    int first = cli.first_input, n_in = cli.n_inputs;
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

    char found[4096], searched[16384];
    if (!model_path) {
        cartoon_status fs = cartoon_model_find_default(found, sizeof found, searched, sizeof searched);
        if (fs) {
            no_model("cartoonize", fs, searched);
            return 2;
        }
        model_path = found;
    }
    fprintf(stderr, "cartoonize: model %s\n", model_path);

    char err[512];
    cartoon_model *model = NULL;
    cartoon_status st = cartoon_model_load(model_path, NULL, &model, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoonize: %s: %s (%s)\n", model_path, err, cartoon_status_name(st));
        return 2;
    }
    st = cartoon_context_create(model, &copt, &j.ctx, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoonize: cannot start: %s (%s)\n", err, cartoon_status_name(st));
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
        const char *in_path = argv[first + i];
        char out_path[4096];
        if (to_dir && !output_name(output, in_path, dir_format, out_path, sizeof out_path)) {
            fprintf(stderr, "cartoonize: %s: output path too long\n", in_path);
            failed++;
            continue;
        }
        const char *dst = to_dir ? out_path : output;
        /* a.png and a.jpg would both become DIR/a.png: never overwrite an output of this run */
        int clash = -1;
        for (int k = 0; to_dir && k < i && clash < 0; k++) {
            char prev[4096];
            if (output_name(output, argv[first + k], dir_format, prev, sizeof prev) && !strcmp(prev, dst)) clash = k;
        }
        if (clash >= 0) {
            fprintf(stderr, "cartoonize: %s: skipped, its output %s is that of %s\n", in_path, dst, argv[first + clash]);
            failed++;
            continue;
        }
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
        for (; i < n_in; i++) fprintf(stderr, "  %s\n", argv[first + i]);
        failed = 1;
    }
    if (n_in > 1) fprintf(stderr, "cartoonize: %d done, %d failed\n", done, n_in - done);
    cartoon_context_free(j.ctx);
    cartoon_model_free(model);
    return failed ? 1 : 0;
}
