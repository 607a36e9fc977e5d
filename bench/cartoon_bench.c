/* cartoon-bench: layer-by-layer and end-to-end timings of the libcartoon engine.
 *
 * For each size N it runs cartoon_forward() on a deterministic N x N input (uniform random in
 * [-1, 1], or --image resized to N x N), W warm-up runs then R timed runs:
 *   - R runs with an observer set: per-layer wall time (median over the runs), GFLOP/s, the
 *     share of the machine's sgemm peak (measured once at start with cblas_sgemm), of its
 *     FMA peak (CPU: a register-only FMA loop at the kernels' vector width, fma_peak.c) and
 *     of the total;
 *   - R runs without the observer (the observer makes the backend sync after every node):
 *     end-to-end median / min / max;
 *   - R runs of the whole file path: cartoon_image_read() of an N x N PNG, unet_cartoonize(),
 *     cartoon_image_write() of a PNG (files in /tmp, removed at exit);
 *   - memory: the context's engine memory (cartoon_context_arena_bytes: arena + scratch) and
 *     the process peak RSS (getrusage ru_maxrss, cumulative over the sizes run so far).
 * --json prints one JSON object per size per line on stdout (progress goes to stderr).
 * --estimate-check is a mode of its own: it calibrates the cost model and compares
 * cartoon_estimate_cost() with measured time and memory per size (docs/performance.md,
 * "Cost model").
 * See docs/performance.md. */
#include <cblas.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include "fma_peak.h"
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cartoon.h"
#include "cartoon_io.h"

#define MAX_SIZES 32
#define MAX_LAYERS 1024

/* ------------------------------------------------------------------ options */

typedef struct bench_opts {
    const char *model;
    const char *image;
    int sizes[MAX_SIZES];
    int n_sizes;
    int threads; /* 0 = online cores */
    int reps, warmup;
    cartoon_device device;
    cartoon_conv_algo conv;
    cartoon_precision precision;
    int json;
    int no_io;
    int verbose;
    int estimate_check; /* --estimate-check: the cost model against measurements */
    int big;            /* --big: 4096 among the default --estimate-check sizes */
    int reps_set;
    uint64_t tiling_budget; /* --tiling-check BYTES: untiled against tiled under this budget */
    const char *versus;     /* --versus MODEL: end to end against this model, alternating */
} bench_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cartoon-bench [-m MODEL] [options]\n"
            "Times the libcartoon engine layer by layer and end to end (docs/performance.md).\n"
            "  -m, --model PATH      model file (.safetensors from cartoon-convert); default:\n"
            "                        $CARTOON_MODEL, else whitebox.safetensors in\n"
            "                        ~/.local/share/libcartoon ($XDG_DATA_HOME/libcartoon),\n"
            "                        else in PREFIX/share/libcartoon, else the built-in\n"
            "                        student cartoon-student.safetensors (as cartoonize)\n"
            "  --size N [N ...]      square input sizes (default 512 768 1024 2048)\n"
            "  --threads T           engine threads and OpenBLAS threads (default: online cores)\n"
            "  --reps R              timed runs per measurement (default 5)\n"
            "  --warmup W            untimed runs first (default 1)\n"
            "  --device D            cpu | cuda | auto (default auto)\n"
            "  --conv C              im2col | fast | auto (default auto)\n"
            "  --precision P         fp32 | bf16 | fp16 (default fp32)\n"
            "  --image PATH          use this picture, resized to N x N, instead of random input\n"
            "  --no-io               skip the decode + cartoonize + encode measurement\n"
            "  --estimate-check      calibrate the cost model (cartoon_context_calibrate), then for\n"
            "                        each size compare cartoon_estimate_cost() with unet_cartoonize()\n"
            "                        on a fresh context: time (median of --reps, default 3) and\n"
            "                        memory (default sizes 256 512 1024 2048)\n"
            "  --big                 with --estimate-check: 4096 too\n"
            "  --recalibrate         with --estimate-check: measure even if the cache has an entry\n"
            "  --tiling-check B      for each size (default 1024 2048) time unet_cartoonize()\n"
            "                        untiled and with memory_budget B bytes (suffix K/M/G; exact\n"
            "                        tiling): the overhead, the tiles, the estimated peaks and the\n"
            "                        bytes that differ (median of --reps, default 1; untiled and\n"
            "                        tiled run in turn)\n"
            "  --versus MODEL2       time unet_cartoonize() with the model and with MODEL2 in turn,\n"
            "                        run by run in one process (same machine state for both;\n"
            "                        A B, then B A, ...): min and median of each, their ratios,\n"
            "                        and the A/B ratio of each pair of neighbouring runs (median\n"
            "                        and quartiles: what a noisy machine changes slowly cancels)\n"
            "                        (default sizes 1024; --reps, default 5, runs each)\n"
            "  --json                one JSON object per size per line on stdout\n"
            "  -v, --verbose         library decisions (device fallback...) on stderr\n"
            "  -h, --help            this text\n"
            "Exit status: 0 done, 1 a run failed, 2 usage error or no model found.\n");
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

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "cartoon-bench: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n(try cartoon-bench --help)\n");
    return 2;
}

/* Returns 0 on success, 2 on a usage error, -1 for --help. */
static int parse_args(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reps = 5;
    o->warmup = 1;
    o->device = CARTOON_DEVICE_AUTO;
    o->conv = CARTOON_CONV_AUTO;
    o->precision = CARTOON_PRECISION_FP32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (!val) return usage_error("%s needs a value", a); i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return -1;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            NEED_VALUE();
            o->model = val;
        } else if (!strcmp(a, "--image")) {
            NEED_VALUE();
            o->image = val;
        } else if (!strcmp(a, "--size") || !strcmp(a, "--sizes")) {
            NEED_VALUE();
            int n = 0;
            for (; i < argc && argv[i][0] != '-'; i++) {
                int v;
                if (!parse_int(argv[i], 1, 1 << 16, &v)) return usage_error("bad size '%s'", argv[i]);
                if (n == MAX_SIZES) return usage_error("too many sizes (at most 32)%s", NULL);
                o->sizes[n++] = v;
            }
            i--;
            if (!n) return usage_error("--size needs at least one size%s", NULL);
            o->n_sizes = n;
        } else if (!strcmp(a, "--threads")) {
            NEED_VALUE();
            if (!parse_int(val, 1, 1024, &o->threads)) return usage_error("bad thread count '%s'", val);
        } else if (!strcmp(a, "--reps")) {
            NEED_VALUE();
            if (!parse_int(val, 1, 100000, &o->reps)) return usage_error("bad --reps '%s'", val);
            o->reps_set = 1;
        } else if (!strcmp(a, "--warmup")) {
            NEED_VALUE();
            if (!parse_int(val, 0, 100000, &o->warmup)) return usage_error("bad --warmup '%s'", val);
        } else if (!strcmp(a, "--device")) {
            NEED_VALUE();
            if (!strcmp(val, "cpu")) o->device = CARTOON_DEVICE_CPU;
            else if (!strcmp(val, "cuda")) o->device = CARTOON_DEVICE_CUDA;
            else if (!strcmp(val, "auto")) o->device = CARTOON_DEVICE_AUTO;
            else return usage_error("unknown device '%s' (cpu, cuda, auto)", val);
        } else if (!strcmp(a, "--conv")) {
            NEED_VALUE();
            if (!strcmp(val, "im2col")) o->conv = CARTOON_CONV_IM2COL;
            else if (!strcmp(val, "fast")) o->conv = CARTOON_CONV_FAST;
            else if (!strcmp(val, "auto")) o->conv = CARTOON_CONV_AUTO;
            else return usage_error("unknown conv '%s' (im2col, fast, auto)", val);
        } else if (!strcmp(a, "--precision")) {
            NEED_VALUE();
            if (!strcmp(val, "fp32")) o->precision = CARTOON_PRECISION_FP32;
            else if (!strcmp(val, "bf16")) o->precision = CARTOON_PRECISION_BF16;
            else if (!strcmp(val, "fp16")) o->precision = CARTOON_PRECISION_FP16;
            else return usage_error("unknown precision '%s' (fp32, bf16, fp16)", val);
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--no-io")) {
            o->no_io = 1;
        } else if (!strcmp(a, "--estimate-check")) {
            o->estimate_check |= 1;
        } else if (!strcmp(a, "--recalibrate")) {
            o->estimate_check |= 2;
        } else if (!strcmp(a, "--tiling-check")) {
            NEED_VALUE();
            char *end;
            double v = strtod(val, &end);
            double mult = *end == 'K' ? 1024.0 : *end == 'M' ? 1048576.0 : *end == 'G' ? 1073741824.0 : 1;
            if (mult > 1) end++;
            if (end == val || *end || !(v * mult >= 1) || v * mult > 1e18) return usage_error("bad --tiling-check budget '%s'", val);
            o->tiling_budget = (uint64_t)(v * mult);
        } else if (!strcmp(a, "--versus")) {
            NEED_VALUE();
            o->versus = val;
        } else if (!strcmp(a, "--big")) {
            o->big = 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = 1;
        } else {
            return usage_error("unknown argument '%s'", a);
        }
#undef NEED_VALUE
    }
    if (o->estimate_check && !o->n_sizes) {
        static const int def[] = {256, 512, 1024, 2048, 4096};
        o->n_sizes = o->big ? 5 : 4;
        memcpy(o->sizes, def, sizeof def);
    }
    if (o->estimate_check && !o->reps_set) o->reps = 3;
    if (o->tiling_budget && !o->n_sizes) {
        o->n_sizes = 2;
        o->sizes[0] = 1024;
        o->sizes[1] = 2048;
    }
    if (o->tiling_budget && !o->reps_set) o->reps = 1;
    if (o->versus && !o->n_sizes) {
        o->n_sizes = 1;
        o->sizes[0] = 1024;
    }
    if (!o->n_sizes) {
        static const int def[] = {512, 768, 1024, 2048};
        o->n_sizes = 4;
        memcpy(o->sizes, def, sizeof def);
    }
    return 0;
}

static const char *device_name(cartoon_device d)
{
    return d == CARTOON_DEVICE_CUDA ? "cuda" : d == CARTOON_DEVICE_CPU ? "cpu" : "auto";
}
static const char *conv_name(cartoon_conv_algo c)
{
    return c == CARTOON_CONV_IM2COL ? "im2col" : c == CARTOON_CONV_FAST ? "fast" : "auto";
}
static const char *precision_name(cartoon_precision p)
{
    return p == CARTOON_PRECISION_BF16 ? "bf16" : p == CARTOON_PRECISION_FP16 ? "fp16" : "fp32";
}

/* ------------------------------------------------------------------ helpers */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of n values (sorts a copy into tmp). */
static double median(const double *v, int n, double *tmp)
{
    if (n <= 0) return 0;
    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

static double min_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++) if (v[i] < m) m = v[i];
    return m;
}
static double max_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++) if (v[i] > m) m = v[i];
    return m;
}

static uint64_t rss_peak_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return (uint64_t)ru.ru_maxrss * 1024u; /* Linux: kilobytes */
}

static double round3(double v) { return round(v * 1000.0) / 1000.0; }

/* Deterministic xorshift64* generator: the same input on every run and machine. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double rng_uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Bilinear resample (half-pixel centres) of an RGB/RGBA 8-bit image to n x n RGB. */
static void resize_rgb8(const cartoon_image *src, int n, uint8_t *dst)
{
    int ps = cartoon_pixel_size(src->format);
    for (int y = 0; y < n; y++) {
        double sy = (y + 0.5) * src->height / n - 0.5;
        if (sy < 0) sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < src->height ? y0 + 1 : y0;
        double fy = sy - y0;
        for (int x = 0; x < n; x++) {
            double sx = (x + 0.5) * src->width / n - 0.5;
            if (sx < 0) sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < src->width ? x0 + 1 : x0;
            double fx = sx - x0;
            const uint8_t *r0 = src->data + (size_t)y0 * src->stride, *r1 = src->data + (size_t)y1 * src->stride;
            for (int c = 0; c < 3; c++) {
                double v = (1 - fy) * ((1 - fx) * r0[x0 * ps + c] + fx * r0[x1 * ps + c]) +
                           fy * ((1 - fx) * r1[x0 * ps + c] + fx * r1[x1 * ps + c]);
                dst[((size_t)y * n + x) * 3 + c] = (uint8_t)(v + 0.5);
            }
        }
    }
}

/* A smooth, photo-like synthetic RGB picture (gradients, discs, mild noise) for the file
 * path: pure noise would make PNG decode/encode unrepresentatively slow. */
static void synth_picture(int n, uint8_t *rgb)
{
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double u = (double)x / n, v = (double)y / n;
            double d1 = hypot(u - 0.5, v - 0.42), d2 = hypot(u - 0.25, v - 0.75);
            double r = 200 * u + 30 * (d1 < 0.22), g = 180 * v + 40 * (d2 < 0.12);
            double b = 120 + 100 * sin(6.283 * (u + v)) * (d1 >= 0.22);
            double noise = 6 * (rng_uniform() - 0.5);
            double px[3] = {r + noise, g + noise, b + noise};
            for (int c = 0; c < 3; c++)
                rgb[((size_t)y * n + x) * 3 + c] = (uint8_t)(px[c] < 0 ? 0 : px[c] > 255 ? 255 : px[c]);
        }
}

/* ------------------------------------------------------------------ sgemm peak */

/* Best GFLOP/s of cblas_sgemm over a few shapes: a square 2048^3 and the model's dominant
 * im2col shape (a 1/4-resolution 128-channel 3x3 conv at 1024: M = 65536, N = 128, K = 1152). */
static double sgemm_peak(int verbose_table)
{
    static const int shapes[][3] = {{2048, 2048, 2048}, {65536, 128, 1152}};
    double best = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = malloc((size_t)M * K * sizeof *A), *B = malloc((size_t)K * N * sizeof *B),
              *C = malloc((size_t)M * N * sizeof *C);
        if (!A || !B || !C) { free(A); free(B); free(C); continue; }
        for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(rng_uniform() - 0.5);
        for (size_t i = 0; i < (size_t)K * N; i++) B[i] = (float)(rng_uniform() - 0.5);
        double flops = 2.0 * M * N * K, shape_best = 0;
        for (int r = 0; r < 4; r++) { /* the first is a warm-up in effect: best of 4 */
            double t0 = now_ms();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
            double g = flops / ((now_ms() - t0) * 1e6);
            if (g > shape_best) shape_best = g;
        }
        if (verbose_table)
            fprintf(verbose_table == 2 ? stderr : stdout, "  sgemm %dx%dx%d: %.1f GFLOP/s\n", M, N, K,
                    shape_best);
        if (shape_best > best) best = shape_best;
        free(A); free(B); free(C);
    }
    return best;
}

/* Runs sgemm_peak() in a child process, so that its matrices (300 MB) do not count in this
 * process's peak RSS, which the benchmark reports. Falls back to running it here. */
static double sgemm_peak_isolated(int verbose_table, int threads)
{
    int fd[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(fd)) return sgemm_peak(verbose_table);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return sgemm_peak(verbose_table);
    }
    if (pid == 0) {
        close(fd[0]);
        openblas_set_num_threads(threads);
        double g = sgemm_peak(verbose_table);
        fflush(stdout);
        fflush(stderr);
        ssize_t w = write(fd[1], &g, sizeof g);
        _exit(w == (ssize_t)sizeof g ? 0 : 1);
    }
    close(fd[1]);
    double g = 0;
    ssize_t got = 0;
    for (;;) {
        got = read(fd[0], &g, sizeof g);
        if (got >= 0 || errno != EINTR) break;
    }
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return got == (ssize_t)sizeof g ? g : 0;
}

/* ------------------------------------------------------------------ observer */

typedef struct layer_rec {
    char name[64];
    char op[24];
    int in_h, in_w, in_c, out_h, out_w, out_c, kernel, stride;
    double flops;
    int fused; /* ran with the previous node (reported 0 ms) */
    double *ms; /* one per timed run */
} layer_rec;

typedef struct obs_state {
    layer_rec *layers;
    int n_layers;
    int run;    /* index of the current timed run */
    int reps;
    int seen;   /* nodes reported in the current run */
    int error;
} obs_state;

static void observer(void *user, const cartoon_layer_info *info)
{
    obs_state *s = user;
    int i = s->seen++;
    if (i >= MAX_LAYERS) { s->error = 1; return; }
    if (s->run == 0) {
        if (i >= s->n_layers) {
            layer_rec *l = &s->layers[i];
            memset(l, 0, sizeof *l);
            snprintf(l->name, sizeof l->name, "%s", info->name ? info->name : "?");
            snprintf(l->op, sizeof l->op, "%s", info->op ? info->op : "?");
            l->in_h = info->in_h; l->in_w = info->in_w; l->in_c = info->in_c;
            l->out_h = info->out_h; l->out_w = info->out_w; l->out_c = info->out_c;
            l->kernel = info->kernel; l->stride = info->stride;
            l->flops = info->flops;
            l->fused = info->ms == 0 && strcmp(l->op, "input") != 0;
            l->ms = calloc((size_t)s->reps, sizeof *l->ms);
            if (!l->ms) { s->error = 1; return; }
            s->n_layers = i + 1;
        }
    } else if (i >= s->n_layers) {
        s->error = 1; /* the graph changed between runs: should not happen */
        return;
    }
    s->layers[i].ms[s->run] = info->ms;
}

static void free_layers(obs_state *s)
{
    for (int i = 0; i < s->n_layers; i++) free(s->layers[i].ms);
    s->n_layers = 0;
}

/* ------------------------------------------------------------------ one size */

typedef struct size_result {
    int size;
    double total_ms, min_ms, max_ms;     /* cartoon_forward, no observer */
    double observed_ms;                  /* median wall time of the observed runs */
    double layer_sum_ms;                 /* median over runs of the sum of per-layer ms */
    double e2e_io_ms;                    /* read + cartoonize + write; < 0 if skipped */
    uint64_t arena_bytes, rss_bytes;
    double *layer_ms, *layer_gflops;     /* per layer: median ms, GFLOP/s (fused flops added) */
} size_result;

static int fail_ctx(const char *what, cartoon_status st, const cartoon_context *ctx)
{
    const char *detail = ctx ? cartoon_context_last_error(ctx) : "";
    fprintf(stderr, "cartoon-bench: %s: %s (%s)%s%s\n", what, cartoon_strerror(st), cartoon_status_name(st),
            detail[0] ? ": " : "", detail);
    return 1;
}

/* Model-space BGR input for size n: random in [-1, 1], or the picture resized. */
static float *make_input(const cartoon_image *pic, int n)
{
    size_t count = (size_t)n * n * 3;
    float *x = malloc(count * sizeof *x);
    if (!x) return NULL;
    if (pic) {
        uint8_t *rgb = malloc(count);
        if (!rgb) { free(x); return NULL; }
        resize_rgb8(pic, n, rgb);
        for (size_t p = 0; p < (size_t)n * n; p++)
            for (int c = 0; c < 3; c++) /* RGB -> BGR, v / 127.5 - 1 */
                x[p * 3 + c] = rgb[p * 3 + 2 - c] / 127.5f - 1.0f;
        free(rgb);
    } else {
        rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
        for (size_t i = 0; i < count; i++) x[i] = (float)(rng_uniform() * 2.0 - 1.0);
    }
    return x;
}

/* Writes the N x N PNG the file-path measurement reads. */
static int make_png(const char *path, const cartoon_image *pic, int n)
{
    cartoon_image img = {malloc((size_t)n * n * 3), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB};
    if (!img.data) { fprintf(stderr, "cartoon-bench: out of memory\n"); return 1; }
    if (pic) resize_rgb8(pic, n, img.data);
    else synth_picture(n, img.data);
    char err[256] = "";
    cartoon_status st = cartoon_image_write(path, &img, CARTOON_FILE_PNG, NULL, err, sizeof err);
    free(img.data);
    if (st) {
        fprintf(stderr, "cartoon-bench: writing %s: %s: %s\n", path, cartoon_strerror(st), err);
        return 1;
    }
    return 0;
}

static int time_file_path(cartoon_context *ctx, const char *in_path, const char *out_path, double *ms)
{
    char err[256] = "";
    double t0 = now_ms();
    cartoon_image in;
    cartoon_status st = cartoon_image_read(in_path, 0, &in, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoon-bench: reading %s: %s: %s\n", in_path, cartoon_strerror(st), err);
        return 1;
    }
    int ow, oh;
    st = cartoon_output_size(NULL, in.width, in.height, &ow, &oh);
    if (st) { cartoon_image_free(&in); return fail_ctx("cartoon_output_size", st, NULL); }
    cartoon_image out = {malloc((size_t)ow * oh * 3), ow, oh, (size_t)ow * 3, CARTOON_PIXEL_RGB};
    if (!out.data) { cartoon_image_free(&in); fprintf(stderr, "cartoon-bench: out of memory\n"); return 1; }
    st = unet_cartoonize(ctx, &in, &out, NULL);
    cartoon_image_free(&in);
    if (st) { free(out.data); return fail_ctx("unet_cartoonize", st, ctx); }
    st = cartoon_image_write(out_path, &out, CARTOON_FILE_PNG, NULL, err, sizeof err);
    free(out.data);
    if (st) {
        fprintf(stderr, "cartoon-bench: writing %s: %s: %s\n", out_path, cartoon_strerror(st), err);
        return 1;
    }
    *ms = now_ms() - t0;
    return 0;
}

static int bench_size(const bench_opts *o, cartoon_context *ctx, const cartoon_image *pic, int n,
                      obs_state *obs, size_result *r)
{
    memset(r, 0, sizeof *r);
    r->size = n;
    r->e2e_io_ms = -1;
    int R = o->reps, rc = 1;
    float *x = make_input(pic, n), *y = malloc((size_t)n * n * 3 * sizeof *y);
    double *wall = calloc((size_t)R, sizeof *wall), *tmp = calloc((size_t)R, sizeof *tmp);
    double *sums = calloc((size_t)R, sizeof *sums);
    if (!x || !y || !wall || !tmp || !sums) { fprintf(stderr, "cartoon-bench: out of memory\n"); goto done; }
    cartoon_status st;

    for (int i = 0; i < o->warmup; i++)
        if ((st = cartoon_forward(ctx, x, n, n, y))) { fail_ctx("cartoon_forward (warm-up)", st, ctx); goto done; }

    /* Per-layer: runs with the observer. */
    free_layers(obs);
    obs->reps = R;
    cartoon_context_set_observer(ctx, observer, obs, 0);
    for (int run = 0; run < R; run++) {
        obs->run = run;
        obs->seen = 0;
        double t0 = now_ms();
        st = cartoon_forward(ctx, x, n, n, y);
        wall[run] = now_ms() - t0;
        if (st) {
            cartoon_context_set_observer(ctx, NULL, NULL, 0);
            fail_ctx("cartoon_forward (observed)", st, ctx);
            goto done;
        }
        if (obs->error) {
            cartoon_context_set_observer(ctx, NULL, NULL, 0);
            fprintf(stderr, "cartoon-bench: observer: inconsistent node reports\n");
            goto done;
        }
    }
    cartoon_context_set_observer(ctx, NULL, NULL, 0);
    r->observed_ms = median(wall, R, tmp);
    for (int run = 0; run < R; run++) {
        sums[run] = 0;
        for (int l = 0; l < obs->n_layers; l++) sums[run] += obs->layers[l].ms[run];
    }
    r->layer_sum_ms = median(sums, R, tmp);
    r->layer_ms = calloc((size_t)obs->n_layers + 1, sizeof *r->layer_ms);
    r->layer_gflops = calloc((size_t)obs->n_layers + 1, sizeof *r->layer_gflops);
    if (!r->layer_ms || !r->layer_gflops) { fprintf(stderr, "cartoon-bench: out of memory\n"); goto done; }
    for (int l = 0; l < obs->n_layers; l++) r->layer_ms[l] = median(obs->layers[l].ms, R, tmp);
    for (int l = 0; l < obs->n_layers; l++) {
        double fl = obs->layers[l].flops;
        for (int k = l + 1; k < obs->n_layers && obs->layers[k].fused; k++) fl += obs->layers[k].flops;
        r->layer_gflops[l] = r->layer_ms[l] > 0 ? fl / (r->layer_ms[l] * 1e6) : 0;
    }

    /* End to end: no observer. */
    for (int run = 0; run < R; run++) {
        double t0 = now_ms();
        st = cartoon_forward(ctx, x, n, n, y);
        wall[run] = now_ms() - t0;
        if (st) { fail_ctx("cartoon_forward", st, ctx); goto done; }
    }
    r->total_ms = median(wall, R, tmp);
    r->min_ms = min_of(wall, R);
    r->max_ms = max_of(wall, R);
    r->arena_bytes = cartoon_context_arena_bytes(ctx);

    /* Whole file path. */
    if (!o->no_io) {
        char in_path[128], out_path[128];
        snprintf(in_path, sizeof in_path, "/tmp/cartoon-bench-%ld-%d.png", (long)getpid(), n);
        snprintf(out_path, sizeof out_path, "/tmp/cartoon-bench-%ld-%d.out.png", (long)getpid(), n);
        int bad = make_png(in_path, pic, n);
        double ms = 0;
        if (!bad) bad = time_file_path(ctx, in_path, out_path, &ms); /* warm-up (plans the size) */
        for (int run = 0; run < R && !bad; run++) {
            bad = time_file_path(ctx, in_path, out_path, &ms);
            wall[run] = ms;
        }
        unlink(in_path);
        unlink(out_path);
        if (bad) goto done;
        r->e2e_io_ms = median(wall, R, tmp);
    }
    r->rss_bytes = rss_peak_bytes();
    rc = 0;
done:
    free(x); free(y); free(wall); free(tmp); free(sums);
    return rc;
}

/* ------------------------------------------------------------------ output */

static void print_table(const bench_opts *o, const obs_state *obs, const size_result *r, double peak, double fma)
{
    printf("\n== %d x %d  (%d timed runs after %d warm-up; per-layer times with the observer) ==\n", r->size,
           r->size, o->reps, o->warmup);
    printf("%3s  %-22s %-16s %-32s %5s %10s %9s %6s %5s %7s\n", "#", "layer", "op", "input -> output (h,w,c)",
           "k/s", "ms", "GFLOP/s", "%peak", "%fma", "%total");
    double total_flops = 0;
    for (int l = 0; l < obs->n_layers; l++) {
        const layer_rec *L = &obs->layers[l];
        total_flops += L->flops;
        char shapes[64], ks[16], ms[16], gf[16], pk[16], pf[16], pt[16];
        snprintf(shapes, sizeof shapes, "%dx%dx%d -> %dx%dx%d", L->in_h, L->in_w, L->in_c, L->out_h, L->out_w,
                 L->out_c);
        if (L->kernel) snprintf(ks, sizeof ks, "%d/%d", L->kernel, L->stride);
        else snprintf(ks, sizeof ks, "-");
        if (L->fused) {
            snprintf(ms, sizeof ms, "(fused)");
            gf[0] = pk[0] = pf[0] = pt[0] = 0;
        } else if (!strcmp(L->op, "input")) {
            snprintf(ms, sizeof ms, "-");
            gf[0] = pk[0] = pf[0] = pt[0] = 0;
        } else {
            snprintf(ms, sizeof ms, "%.2f", r->layer_ms[l]);
            if (L->kernel) { /* GFLOP/s only where the FLOPs are the work: convolutions */
                snprintf(gf, sizeof gf, "%.1f", r->layer_gflops[l]);
                if (peak > 0) snprintf(pk, sizeof pk, "%.0f%%", 100.0 * r->layer_gflops[l] / peak);
                else pk[0] = 0;
                if (fma > 0) snprintf(pf, sizeof pf, "%.0f%%", 100.0 * r->layer_gflops[l] / fma);
                else pf[0] = 0;
            } else {
                gf[0] = pk[0] = pf[0] = 0;
            }
            snprintf(pt, sizeof pt, "%.1f%%", r->layer_sum_ms > 0 ? 100.0 * r->layer_ms[l] / r->layer_sum_ms : 0);
        }
        printf("%3d  %-22.22s %-16.16s %-32s %5s %10s %9s %6s %5s %7s\n", l, L->name, L->op, shapes, ks, ms, gf, pk,
               pf, pt);
    }
    double sum_gf = r->layer_sum_ms > 0 ? total_flops / (r->layer_sum_ms * 1e6) : 0;
    printf("     %-22s %-16s %-32s %5s %10.2f %9.1f %6s %5s %7s\n", "sum of layers", "", "", "", r->layer_sum_ms,
           sum_gf, "", "", "100%");
    printf("\n  model FLOPs (multiply-add = 2):    %.1f GFLOP\n", total_flops / 1e9);
    printf("  observed run wall time (median):    %.2f ms   (sum of layers / observed wall = %.3f)\n",
           r->observed_ms, r->observed_ms > 0 ? r->layer_sum_ms / r->observed_ms : 0);
    printf("  end to end, cartoon_forward, no observer:  median %.2f ms  min %.2f  max %.2f  (%.1f GFLOP/s)\n",
           r->total_ms, r->min_ms, r->max_ms, r->total_ms > 0 ? total_flops / (r->total_ms * 1e6) : 0);
    double ratio = r->total_ms > 0 ? r->layer_sum_ms / r->total_ms : 0;
    printf("  check: sum of layers / end-to-end median = %.3f%s\n", ratio,
           fabs(ratio - 1) <= 0.05 ? " (within 5%)" : " (NOT within 5%: noise, observer syncs or untimed work)");
    if (r->e2e_io_ms >= 0)
        printf("  end to end with files (PNG read + unet_cartoonize + PNG write), median: %.2f ms\n", r->e2e_io_ms);
    printf("  engine memory (cartoon_context_arena_bytes: arena + scratch): %.1f MiB\n",
           r->arena_bytes / 1048576.0);
    printf("  process peak RSS so far (getrusage ru_maxrss):                %.1f MiB\n",
           r->rss_bytes / 1048576.0);
}

static int print_json(const bench_opts *o, int threads, cartoon_device dev, const obs_state *obs,
                      const size_result *r, double peak, double fma)
{
    json_t *j = json_object(), *layers = json_array();
    if (!j || !layers) { json_decref(j); json_decref(layers); return 1; }
    json_object_set_new(j, "size", json_integer(r->size));
    json_object_set_new(j, "threads", json_integer(threads));
    json_object_set_new(j, "device", json_string(device_name(dev)));
    json_object_set_new(j, "conv", json_string(conv_name(o->conv)));
    json_object_set_new(j, "precision", json_string(precision_name(o->precision)));
    json_object_set_new(j, "cpu_isa", json_string(cartoon_cpu_isa()));
    json_object_set_new(j, "reps", json_integer(o->reps));
    json_object_set_new(j, "total_ms", json_real(round3(r->total_ms)));
    json_object_set_new(j, "min_ms", json_real(round3(r->min_ms)));
    json_object_set_new(j, "max_ms", json_real(round3(r->max_ms)));
    json_object_set_new(j, "observed_ms", json_real(round3(r->observed_ms)));
    json_object_set_new(j, "layer_sum_ms", json_real(round3(r->layer_sum_ms)));
    json_object_set_new(j, "layer_sum_ratio", json_real(round3(r->total_ms > 0 ? r->layer_sum_ms / r->total_ms : 0)));
    json_object_set_new(j, "e2e_io_ms", r->e2e_io_ms >= 0 ? json_real(round3(r->e2e_io_ms)) : json_null());
    json_object_set_new(j, "peak_bytes", json_integer((json_int_t)r->arena_bytes));
    json_object_set_new(j, "rss_peak_bytes", json_integer((json_int_t)r->rss_bytes));
    json_object_set_new(j, "sgemm_peak_gflops", peak > 0 ? json_real(round3(peak)) : json_null());
    json_object_set_new(j, "fma_peak_gflops", fma > 0 ? json_real(round3(fma)) : json_null());
    for (int l = 0; l < obs->n_layers; l++) {
        const layer_rec *L = &obs->layers[l];
        json_t *e = json_pack("{s:s, s:s, s:[i,i,i], s:[i,i,i], s:i, s:i, s:o, s:f, s:f, s:b}", "name", L->name,
                              "op", L->op, "in", L->in_h, L->in_w, L->in_c, "out", L->out_h, L->out_w, L->out_c,
                              "k", L->kernel, "s", L->stride, "ms",
                              L->fused ? json_real(0) : json_real(round3(r->layer_ms[l])), "gflops",
                              round3(r->layer_gflops[l]), "flops", L->flops, "fused", L->fused);
        if (!e) { json_decref(j); json_decref(layers); return 1; }
        json_array_append_new(layers, e);
    }
    json_object_set_new(j, "layers", layers);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(j);
    if (!s) return 1;
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    return 0;
}

/* ------------------------------------------------------------------ --estimate-check */

/* Linux: resets this process's peak RSS to its current RSS (/proc/self/clear_refs "5"). */
static int reset_rss_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* A "VmRSS:" / "VmHWM:" line of /proc/self/status in bytes, 0 if unknown. */
static uint64_t proc_status_bytes(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && sscanf(line + kl, " %llu", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024u;
}

static const char *calibration_name(cartoon_calibration c)
{
    return c == CARTOON_CALIBRATION_MEASURED ? "measured" : c == CARTOON_CALIBRATION_CACHED ? "cached" : "none";
}

/* Calibrates `cal`, then for each size: the estimate from `cal`, and on a fresh context one
 * unet_cartoonize() (memory: cartoon_context_arena_bytes and the peak RSS over the call, from
 * a reset high-water mark) and o->reps timed ones (median). */
/* --tiling-check: the same picture untiled and tiled under the budget, on two contexts. */
static int tiling_check(const bench_opts *o, const cartoon_model *model, const cartoon_context_options *copt)
{
    FILE *info = o->json ? stderr : stdout;
    fprintf(info, "tiling: memory_budget %.1f MiB; median of %d run(s) each, untiled and tiled in turn, after %d "
                  "warm-up; estimates from cartoon_estimate_cost()\n", o->tiling_budget / 1048576.0, o->reps, o->warmup);
    if (!o->json)
        printf("%6s %11s %11s %9s %9s %12s %12s %14s\n", "size", "untiled ms", "tiled ms", "overhead", "tiles",
               "host est", "tiled est", "bytes differ");
    double *wall = calloc(2 * (size_t)o->reps, sizeof *wall), *tmp = calloc((size_t)o->reps, sizeof *tmp);
    int rc = 0;
    for (int s = 0; s < o->n_sizes && !rc && wall && tmp; s++) {
        int n = o->sizes[s];
        size_t bytes = (size_t)n * n * 3;
        cartoon_image in = {malloc(bytes), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB};
        cartoon_image out[2] = {{malloc(bytes), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB},
                                {malloc(bytes), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB}};
        double ms[2] = {0, 0};
        cartoon_estimate est[2];
        int tiles = 0;
        if (!in.data || !out[0].data || !out[1].data) { fprintf(stderr, "cartoon-bench: out of memory\n"); rc = 1; }
        if (!rc) synth_picture(n, in.data);
        /* untiled and tiled on two contexts, run in turn (U, T, U, T, ...) so that a machine
         * whose speed drifts slows both alike; the medians' ratio is the overhead */
        cartoon_options opt[2];
        cartoon_context *ctx[2] = {NULL, NULL};
        for (int k = 0; k < 2 && !rc; k++) {
            cartoon_options_default(&opt[k]);
            opt[k].memory_budget = k ? o->tiling_budget : 0;
            cartoon_status st = cartoon_context_create(model, copt, &ctx[k], NULL, 0);
            if (st) { rc = fail_ctx("creating a context", st, NULL); break; }
            if ((st = cartoon_estimate_cost(ctx[k], n, n, &opt[k], &est[k]))) rc = fail_ctx("cartoon_estimate_cost", st, ctx[k]);
            for (int r = 0; r < o->warmup && !rc; r++)
                if ((st = unet_cartoonize(ctx[k], &in, &out[k], &opt[k]))) rc = fail_ctx("unet_cartoonize", st, ctx[k]);
        }
        if (!rc) tiles = est[1].arena_bytes < est[0].arena_bytes; /* a tile's arena is smaller */
        for (int r = 0; r < o->reps && !rc; r++)
            for (int q = 0; q < 2 && !rc; q++) {
                const int k = r % 2 ? 1 - q : q;
                double t0 = now_ms();
                cartoon_status st = unet_cartoonize(ctx[k], &in, &out[k], &opt[k]);
                if (st) rc = fail_ctx("unet_cartoonize", st, ctx[k]);
                wall[k * o->reps + r] = now_ms() - t0;
            }
        for (int k = 0; k < 2 && !rc; k++) ms[k] = median(wall + k * o->reps, o->reps, tmp);
        cartoon_context_free(ctx[0]);
        cartoon_context_free(ctx[1]);
        if (!rc) {
            size_t diff = 0;
            for (size_t i = 0; i < bytes; i++) diff += out[0].data[i] != out[1].data[i];
            double over = ms[0] > 0 ? (ms[1] / ms[0] - 1) * 100 : 0;
            if (o->json)
                printf("{\"size\": %d, \"untiled_ms\": %.1f, \"tiled_ms\": %.1f, \"overhead_pct\": %.1f, "
                       "\"tiled\": %d, \"host_est\": %llu, \"tiled_host_est\": %llu, \"bytes_differ\": %zu}\n",
                       n, ms[0], ms[1], over, tiles, (unsigned long long)est[0].host_bytes,
                       (unsigned long long)est[1].host_bytes, diff);
            else
                printf("%6d %11.1f %11.1f %8.1f%% %9s %8.1f MiB %8.1f MiB %8zu of %zu\n", n, ms[0], ms[1], over,
                       tiles ? "yes" : "no (fits)", est[0].host_bytes / 1048576.0, est[1].host_bytes / 1048576.0,
                       diff, bytes);
        }
        free(in.data); free(out[0].data); free(out[1].data);
    }
    if (!wall || !tmp) { fprintf(stderr, "cartoon-bench: out of memory\n"); rc = 1; }
    free(wall); free(tmp);
    return rc;
}

static int estimate_check(const bench_opts *o, const cartoon_model *model, const cartoon_context_options *copt,
                          cartoon_context *cal)
{
    FILE *info = o->json ? stderr : stdout;
    double t0 = now_ms();
    cartoon_status st = cartoon_context_calibrate(cal, (o->estimate_check & 2) ? CARTOON_CALIBRATE_FORCE : 0);
    double cal_s = (now_ms() - t0) / 1e3;
    if (st) return fail_ctx("cartoon_context_calibrate", st, cal);
    cartoon_estimate e0;
    if ((st = cartoon_estimate_cost(cal, 256, 256, NULL, &e0))) return fail_ctx("cartoon_estimate_cost", st, cal);
    fprintf(info, "calibration: %s, %.2f s%s\n", calibration_name(e0.calibrated), cal_s,
            e0.calibrated == CARTOON_CALIBRATION_CACHED ? " (read from the cache; --recalibrate to measure)" : "");
    fprintf(info, "time: predicted vs median of %d unet_cartoonize() runs after one; memory: estimate vs a fresh "
                  "context after one run\n", o->reps);
    if (!o->json)
        printf("%6s %10s %10s %7s %10s %7s %12s %12s %7s %12s %12s %7s\n", "size", "pred ms", "median ms", "ratio",
               "min ms", "ratio", "arena est", "arena meas", "ratio", "host est", "RSS delta", "ratio");
    double *wall = calloc((size_t)o->reps, sizeof *wall), *tmp = calloc((size_t)o->reps, sizeof *tmp);
    if (!wall || !tmp) { free(wall); free(tmp); fprintf(stderr, "cartoon-bench: out of memory\n"); return 1; }
    int rc = 0;
    for (int s = 0; s < o->n_sizes && !rc; s++) {
        int n = o->sizes[s];
        cartoon_estimate e;
        if ((st = cartoon_estimate_cost(cal, n, n, NULL, &e))) { rc = fail_ctx("cartoon_estimate_cost", st, cal); break; }
        cartoon_context *ctx = NULL;
        if ((st = cartoon_context_create(model, copt, &ctx, NULL, 0))) { rc = fail_ctx("creating a context", st, NULL); break; }
        cartoon_image in = {malloc((size_t)n * n * 3), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB};
        cartoon_image out = {malloc((size_t)n * n * 3), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB};
        if (!in.data || !out.data) {
            fprintf(stderr, "cartoon-bench: out of memory\n");
            rc = 1;
        } else {
            synth_picture(n, in.data);
            memset(out.data, 0, (size_t)n * n * 3);
            int rss_ok = reset_rss_peak() == 0;
            uint64_t rss0 = proc_status_bytes("VmRSS:");
            st = unet_cartoonize(ctx, &in, &out, NULL);
            uint64_t hwm = proc_status_bytes("VmHWM:");
            double rss_delta = rss_ok && rss0 && hwm >= rss0 ? (double)(hwm - rss0) : -1;
            uint64_t arena = cartoon_context_arena_bytes(ctx);
            for (int r = 0; r < o->reps && !st; r++) {
                double t1 = now_ms();
                st = unet_cartoonize(ctx, &in, &out, NULL);
                wall[r] = now_ms() - t1;
            }
            if (st) rc = fail_ctx("unet_cartoonize", st, ctx);
            double meas = st ? 0 : median(wall, o->reps, tmp), pred = e.seconds * 1e3;
            double least = st ? 0 : min_of(wall, o->reps);
            if (!rc && o->json) {
                printf("{\"size\": %d, \"predicted_ms\": %.3f, \"measured_ms\": %.3f, \"time_ratio\": %.4f, "
                       "\"min_ms\": %.3f, "
                       "\"calibration\": \"%s\", \"arena_est\": %llu, \"arena\": %llu, \"host_est\": %llu, "
                       "\"transient_est\": %llu, \"rss_delta\": %.0f}\n",
                       n, pred, meas, meas > 0 ? pred / meas : 0, least, calibration_name(e.calibrated),
                       (unsigned long long)e.arena_bytes, (unsigned long long)arena,
                       (unsigned long long)e.host_bytes, (unsigned long long)e.transient_bytes, rss_delta);
            } else if (!rc) {
                char rss[32], rr[16];
                if (rss_delta >= 0) {
                    snprintf(rss, sizeof rss, "%.1f MiB", rss_delta / 1048576.0);
                    snprintf(rr, sizeof rr, "%.3f", rss_delta > 0 ? (double)e.host_bytes / rss_delta : 0);
                } else {
                    snprintf(rss, sizeof rss, "-");
                    snprintf(rr, sizeof rr, "-");
                }
                printf("%6d %10.1f %10.1f %7.3f %10.1f %7.3f %8.1f MiB %8.1f MiB %7.4f %8.1f MiB %12s %7s\n", n, pred,
                       meas, meas > 0 ? pred / meas : 0, least, least > 0 ? pred / least : 0,
                       e.arena_bytes / 1048576.0, arena / 1048576.0,
                       arena ? (double)e.arena_bytes / arena : 0, e.host_bytes / 1048576.0, rss, rr);
            }
            fflush(stdout);
        }
        free(in.data);
        free(out.data);
        cartoon_context_free(ctx);
    }
    if (!o->json && !rc)
        printf("ratios are estimate / measured; host est = arena + the context's buffers + the largest temporary;\n"
               "RSS delta = the process's peak RSS during the first call minus its RSS before it (pages the\n"
               "allocator already held are not counted there)\n");
    free(wall);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ main */

/* --versus: two models end to end, alternating run by run so that a busy machine slows both
 * alike; the ratio of their times is the figure, not either time alone. Pairs run A B, B A,
 * A B, ... so that neither model always runs second (after the other's memory traffic), and
 * each pair's own ratio is kept: on a virtual machine whose speed drifts over seconds (other
 * tenants), the median of those ratios moves far less than either time does. */
static int versus_check(const bench_opts *o, const cartoon_model *ma, const char *na, const cartoon_context_options *copt)
{
    char err[512] = "";
    cartoon_model *mb = NULL;
    cartoon_status st = cartoon_model_load(o->versus, NULL, &mb, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoon-bench: loading %s: %s (%s)%s%s\n", o->versus, cartoon_strerror(st),
                cartoon_status_name(st), err[0] ? ": " : "", err);
        return 1;
    }
    cartoon_model_info mi;
    const char *nb = cartoon_model_get_info(mb, &mi) == CARTOON_OK && mi.name && *mi.name ? mi.name : "unnamed";
    FILE *info = o->json ? stderr : stdout;
    fprintf(info, "versus: A = %s (%s), B = %s (%s)\n  unet_cartoonize, 8-bit RGB at native size, synthetic "
                  "picture; %d warm-up then %d runs each in pairs A B, B A, ...; CPU kernels %s\n",
            na, o->model, nb, o->versus, o->warmup, o->reps, cartoon_cpu_isa());
    if (!o->json)
        printf("%6s %10s %10s %10s %10s %9s %9s %15s\n", "size", "A min ms", "A median", "B min ms", "B median",
               "A/B min", "A/B med", "A/B paired");
    const cartoon_model *models[2] = {ma, mb};
    double *t[2] = {calloc((size_t)o->reps, sizeof(double)), calloc((size_t)o->reps, sizeof(double))};
    double *tmp = calloc((size_t)o->reps, sizeof *tmp), *pair = calloc((size_t)o->reps, sizeof *pair);
    int rc = !t[0] || !t[1] || !tmp || !pair;
    if (rc) fprintf(stderr, "cartoon-bench: out of memory\n");
    for (int s = 0; s < o->n_sizes && !rc; s++) {
        int n = o->sizes[s];
        size_t bytes = (size_t)n * n * 3;
        cartoon_image in = {malloc(bytes), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB};
        cartoon_image out = {malloc(bytes), n, n, (size_t)n * 3, CARTOON_PIXEL_RGB};
        cartoon_context *ctx[2] = {NULL, NULL};
        if (!in.data || !out.data) { fprintf(stderr, "cartoon-bench: out of memory\n"); rc = 1; }
        if (!rc) synth_picture(n, in.data);
        for (int k = 0; k < 2 && !rc; k++) {
            if ((st = cartoon_context_create(models[k], copt, &ctx[k], NULL, 0))) rc = fail_ctx("creating a context", st, NULL);
            for (int r = 0; r < o->warmup && !rc; r++)
                if ((st = unet_cartoonize(ctx[k], &in, &out, NULL))) rc = fail_ctx("unet_cartoonize", st, ctx[k]);
        }
        for (int r = 0; r < o->reps && !rc; r++)
            for (int k = 0; k < 2 && !rc; k++) {
                double t0 = now_ms();
                if ((st = unet_cartoonize(ctx[k], &in, &out, NULL))) rc = fail_ctx("unet_cartoonize", st, ctx[k]);
                t[k][r] = now_ms() - t0;
            }
        if (!rc) {
            double amin = min_of(t[0], o->reps), bmin = min_of(t[1], o->reps);
            double amed = median(t[0], o->reps, tmp), bmed = median(t[1], o->reps, tmp);
            for (int r = 0; r < o->reps; r++) pair[r] = t[0][r] / t[1][r];
            double pmed = median(pair, o->reps, tmp); /* leaves tmp sorted: the quartiles */
            double q1 = tmp[(o->reps - 1) / 4], q3 = tmp[o->reps - 1 - (o->reps - 1) / 4];
            if (o->json)
                printf("{\"size\": %d, \"a\": \"%s\", \"b\": \"%s\", \"a_min_ms\": %.1f, \"a_median_ms\": %.1f, "
                       "\"b_min_ms\": %.1f, \"b_median_ms\": %.1f, \"ratio_min\": %.3f, \"ratio_median\": %.3f, "
                       "\"ratio_paired_median\": %.3f, \"ratio_paired_q1\": %.3f, \"ratio_paired_q3\": %.3f}\n",
                       n, na, nb, amin, amed, bmin, bmed, amin / bmin, amed / bmed, pmed, q1, q3);
            else
                printf("%6d %10.1f %10.1f %10.1f %10.1f %8.2fx %8.2fx %6.2fx (%.2f-%.2f)\n", n, amin, amed, bmin, bmed,
                       amin / bmin, amed / bmed, pmed, q1, q3);
        }
        cartoon_context_free(ctx[0]);
        cartoon_context_free(ctx[1]);
        free(in.data);
        free(out.data);
    }
    free(t[0]); free(t[1]); free(tmp); free(pair);
    cartoon_model_free(mb);
    return rc;
}

int main(int argc, char **argv)
{
    bench_opts o;
    int pr = parse_args(argc, argv, &o);
    if (pr < 0) { usage(stdout); return 0; }
    if (pr) return pr;

    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = o.threads ? o.threads : (online < 1 ? 1 : online > 1024 ? 1024 : (int)online);
    openblas_set_num_threads(threads);

    char found[4096], searched[24576];
    if (!o.model) { /* no -m: the model cartoonize would use */
        cartoon_status fs = cartoon_model_find_default(found, sizeof found, searched, sizeof searched);
        if (fs) {
            if (fs != CARTOON_E_IO) {
                fprintf(stderr, "cartoon-bench: cannot look for the model: %s\n", cartoon_status_name(fs));
                return 2;
            }
            fprintf(stderr, "cartoon-bench: no model: no -m MODEL, and none found; looked at:\n  ");
            for (const char *c = searched; *c; c++) {
                fputc(*c, stderr);
                if (*c == '\n') fputs("  ", stderr);
            }
            fprintf(stderr, "\nGet one with `make model` in the source tree (weights/whitebox.safetensors; it runs\n"
                            "scripts/fetch-model.sh when needed), then pass -m or set CARTOON_MODEL.\n");
            return 2;
        }
        o.model = found;
    }

    char err[512] = "";
    cartoon_model *model = NULL;
    cartoon_status st = cartoon_model_load(o.model, NULL, &model, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoon-bench: loading %s: %s (%s)%s%s\n", o.model, cartoon_strerror(st),
                cartoon_status_name(st), err[0] ? ": " : "", err);
        return 1;
    }
    cartoon_image pic = {0};
    if (o.image) {
        st = cartoon_image_read(o.image, 0, &pic, err, sizeof err);
        if (st) {
            fprintf(stderr, "cartoon-bench: reading %s: %s: %s\n", o.image, cartoon_strerror(st), err);
            cartoon_model_free(model);
            return 1;
        }
    }
    cartoon_context_options copt;
    cartoon_context_options_default(&copt);
    copt.device = o.device;
    copt.conv = o.conv;
    copt.precision = o.precision;
    copt.threads = threads;
    copt.verbose = o.verbose;
    cartoon_context *ctx = NULL;
    char why[512] = "";
    st = cartoon_context_create(model, &copt, &ctx, why, sizeof why);
    if (st) {
        fail_ctx("creating the context", st, ctx);
        if (why[0]) fprintf(stderr, "cartoon-bench: %s\n", why); /* e.g. why bf16 is refused */
        if (st == CARTOON_E_DEVICE)
            fprintf(stderr, "cartoon-bench: --device %s: this build has no CUDA backend or no usable GPU was found\n",
                    device_name(o.device));
        cartoon_image_free(&pic);
        cartoon_model_free(model);
        return 1;
    }
    cartoon_device dev = cartoon_context_device(ctx);
    /* which model runs, by its name in the file: the header says it, and so do the check modes */
    cartoon_model_info mi;
    const char *mname = cartoon_model_get_info(model, &mi) == CARTOON_OK && mi.name && *mi.name ? mi.name : "unnamed";
    if (o.tiling_budget || o.estimate_check)
        fprintf(o.json ? stderr : stdout, "cartoon-bench: model: %s (%s)\n", mname, o.model);
    if (o.tiling_budget) { /* its own mode too */
        int trc = tiling_check(&o, model, &copt);
        cartoon_context_free(ctx);
        cartoon_image_free(&pic);
        cartoon_model_free(model);
        return trc;
    }
    if (o.versus) { /* its own mode too */
        int vrc = versus_check(&o, model, mname, &copt);
        cartoon_context_free(ctx);
        cartoon_image_free(&pic);
        cartoon_model_free(model);
        return vrc;
    }
    if (o.estimate_check) { /* its own mode: no sgemm peak, no per-layer tables */
        int erc = estimate_check(&o, model, &copt, ctx);
        cartoon_context_free(ctx);
        cartoon_image_free(&pic);
        cartoon_model_free(model);
        return erc;
    }

    FILE *info = o.json ? stderr : stdout;
    fprintf(info, "cartoon-bench: libcartoon %s, model: %s (%s)\n", cartoon_version_string(), mname, o.model);
    fprintf(info, "  device %s, conv %s, precision %s, threads %d (engine and OpenBLAS), reps %d, warm-up %d\n",
            device_name(dev), conv_name(o.conv), precision_name(o.precision), threads, o.reps, o.warmup);
    fprintf(info, "  CPU kernels: %s (CARTOON_ISA=generic|avx2|avx512|avx512-bf16 lowers them)\n", cartoon_cpu_isa());
    fprintf(info, "  input: %s\n", o.image ? o.image : "synthetic, uniform random in [-1, 1]");
    fprintf(info, "measuring the sgemm peak (cblas_sgemm, best of 4, %d threads):\n", threads);
    double peak = sgemm_peak_isolated(o.json ? 2 : 1, threads);
    if (peak > 0) fprintf(info, "  sgemm peak: %.1f GFLOP/s\n", peak);
    else fprintf(info, "  sgemm peak: could not be measured (%%peak left blank)\n");
    /* the ceiling of every fp32 kernel: what %fma in the tables divides by */
    double fma = dev == CARTOON_DEVICE_CUDA ? 0 : fma_peak_gflops(cartoon_cpu_isa(), threads);
    if (fma > 0)
        fprintf(info, "  FMA peak (register-only fp32 FMA loop, %s width, %d threads): %.1f GFLOP/s; sgemm reaches %.0f%%\n",
                cartoon_cpu_isa(), threads, fma, 100.0 * peak / fma);

    obs_state obs = {0};
    obs.layers = calloc(MAX_LAYERS, sizeof *obs.layers);
    int rc = obs.layers ? 0 : 1;
    for (int s = 0; s < o.n_sizes && !rc; s++) {
        size_result r;
        if (o.json) fprintf(stderr, "cartoon-bench: size %d...\n", o.sizes[s]);
        rc = bench_size(&o, ctx, o.image ? &pic : NULL, o.sizes[s], &obs, &r);
        if (!rc) {
            if (o.json) {
                rc = print_json(&o, threads, dev, &obs, &r, peak, fma);
                if (rc) fprintf(stderr, "cartoon-bench: could not format JSON\n");
                double ratio = r.total_ms > 0 ? r.layer_sum_ms / r.total_ms : 0;
                fprintf(stderr, "cartoon-bench: size %d: %.2f ms; sum of layers / end-to-end = %.3f\n",
                        r.size, r.total_ms, ratio);
            } else {
                print_table(&o, &obs, &r, peak, fma);
                fflush(stdout);
            }
        }
        free(r.layer_ms);
        free(r.layer_gflops);
    }
    free_layers(&obs);
    free(obs.layers);
    cartoon_context_free(ctx);
    cartoon_image_free(&pic);
    cartoon_model_free(model);
    return rc;
}
