/* cartoonize: the command-line front end of libcartoon.
 *
 *   cartoonize [-m MODEL] [options] INPUT... -o OUTPUT
 *
 * INPUTs are image files, directories (-R: recursively; cartoonize_inputs.c lists and checks
 * them before any work), '-' (standard input), or one video file (cartoonize_video.c). The
 * images go through libcartoon-io's pipelined batch runner (cartoon_batch_run); progress is
 * reported by cartoonize_progress.c; results are cached unless --no-cache.
 *
 * Without -m it runs the model cartoon_model_find() finds ($CARTOON_MODEL, else the exact
 * White-box model in the user's data directory or the installed one, else the built-in student;
 * the preview and low-end presets prefer the student); when there is none it lists where it
 * looked and how to get one, and exits 2. It always says which model it runs, by the name in
 * the file and its path, on one line of stderr.
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
#include <unistd.h>
#include "cartoon.h"
#include "cartoon_io.h"
#include "cartoon_batch.h"
#include "cartoonize_args.h"
#include "cartoonize_estimate.h"
#include "cartoonize_inputs.h"
#include "cartoonize_progress.h"
#include "cartoonize_video.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1; /* finish the image in hand, then stop */
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
            "then pass -m weights/whitebox.safetensors, set CARTOON_MODEL to its path, or `make install`.\n"
            "The source tree's built-in student, weights/student/cartoon-student.safetensors, works too.\n");
}

/* What the pipeline's callbacks share with main(). */
struct run_state {
    struct cli_progress progress;
    const struct cli_work *work;
    size_t *not_done; /* indices of items never started (interrupted), in order */
    size_t n_not_done;
    int stdout_failed;
};

/* Called by the pipeline once per item, in item order. */
static void on_item(void *user, const cartoon_batch_event *ev)
{
    struct run_state *rs = user;
    const char *out = rs->work->v[ev->index].output;
    if (ev->outcome == CARTOON_BATCH_NOT_DONE) rs->not_done[rs->n_not_done++] = ev->index;
    if (ev->outcome == CARTOON_BATCH_DONE && ev->data) {
        /* -o -: the one result goes to standard output */
        if (fwrite(ev->data, 1, ev->size, stdout) != ev->size || fflush(stdout) != 0) rs->stdout_failed = 1;
    }
    progress_item(&rs->progress, ev, out ? out : "(standard output)");
}

static int should_stop(void *user)
{
    (void)user;
    return interrupted != 0;
}

/* Standard input to memory (an image piped in); NULL after reporting a failure. */
static unsigned char *read_stdin(size_t *size)
{
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, stdin);
        n += r;
        if (r == 0) break;
        if (n == cap) {
            if (cap >= ((size_t)1 << 30)) {
                fprintf(stderr, "cartoonize: standard input: over 1 GiB, not an image this program reads\n");
                free(b);
                return NULL;
            }
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) free(b);
            b = nb;
            cap *= 2;
        }
    }
    if (!b) fprintf(stderr, "cartoonize: out of memory reading standard input\n");
    else if (ferror(stdin)) {
        fprintf(stderr, "cartoonize: cannot read standard input: %s\n", strerror(errno));
        free(b);
        return NULL;
    }
    *size = n;
    return b;
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
    if (cli.estimate) return cli_estimate(&cli, argv, stdout, stderr); /* predictions only */
    const char *model_path = cli.model_path;
    cartoon_context_options copt = cli.copt;
    /* a video (by its extension) is a run of its own: checked here, before any work */
    const char *video_in = cli.n_inputs >= 1 && cli_is_video_path(argv[cli.first_input]) ? argv[cli.first_input] : NULL;
    if (video_in && cli_video_check(&cli, video_in, stderr)) return 2;
    /* every input listed and checked before any work: unreadable paths, non-images, clashes */
    struct cli_work work;
    memset(&work, 0, sizeof work);
    int crc = video_in ? 0 : cli_collect_inputs(&cli, argv, &work, stderr);
    if (crc) {
        cli_work_free(&work);
        return crc;
    }
    if (work.n == 0 && !video_in) {
        int problems = work.problems;
        fprintf(stderr, "cartoonize: no image to do\n");
        cli_work_free(&work);
        return problems ? 1 : 0;
    }

    char found[4096], searched[24576];
    if (!model_path) {
        cartoon_status fs = cartoon_model_find(cli.prefer_student ? CARTOON_MODEL_PREFER_STUDENT : CARTOON_MODEL_PREFER_WHITEBOX,
                                               found, sizeof found, searched, sizeof searched);
        if (fs) {
            no_model("cartoonize", fs, searched);
            cli_work_free(&work);
            return 2;
        }
        model_path = found;
    }

    char err[512];
    cartoon_model *model = NULL;
    cartoon_status st = cartoon_model_load(model_path, NULL, &model, err, sizeof err);
    if (st) {
        fprintf(stderr, "cartoonize: %s: %s (%s)\n", model_path, err, cartoon_status_name(st));
        cli_work_free(&work);
        return 2;
    }
    cli_say_model(model, model_path, stderr);
    /* -j L:P:S: P contexts, each on its share of the cores unless -t says otherwise */
    int n_ctx = cli.jobs[1] ? cli.jobs[1] : 1;
    if (n_ctx > 1 && copt.threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        copt.threads = cores > n_ctx ? (int)(cores / n_ctx) : 1;
    }
    cartoon_context *ctxs[64] = {0};
    for (int k = 0; k < n_ctx; k++) {
        st = cartoon_context_create(model, &copt, &ctxs[k], err, sizeof err);
        if (st) {
            fprintf(stderr, "cartoonize: cannot start: %s (%s)\n", err, cartoon_status_name(st));
            for (int m = 0; m < k; m++) cartoon_context_free(ctxs[m]);
            cartoon_model_free(model);
            cli_work_free(&work);
            return 2;
        }
    }
    if (copt.verbose)
        fprintf(stderr, "cartoonize: running on %s\n", cartoon_context_device(ctxs[0]) == CARTOON_DEVICE_CUDA ? "CUDA" : "CPU");
    uint64_t asked = cli.opt.memory_budget; /* the engine gets what the program leaves */
    if ((asked && !(cli.opt.memory_budget = cli_engine_budget(asked, stderr))) ||
        cli_check_budgets(ctxs[0], &cli.opt, stderr)) { /* a bad budget: nothing is written */
        for (int k = 0; k < n_ctx; k++) cartoon_context_free(ctxs[k]);
        cartoon_model_free(model);
        cli_work_free(&work);
        return 2;
    }

    if (video_in) {
        struct sigaction vsa;
        memset(&vsa, 0, sizeof vsa);
        vsa.sa_handler = on_signal;
        sigaction(SIGINT, &vsa, NULL);
        sigaction(SIGTERM, &vsa, NULL);
        int vrc = cli_run_video(&cli, video_in, ctxs, n_ctx, should_stop, stderr);
        for (int k = 0; k < n_ctx; k++) cartoon_context_free(ctxs[k]);
        cartoon_model_free(model);
        return vrc;
    }

    int failed = work.problems > 0;
    unsigned char *stdin_data = NULL;
    size_t stdin_size = 0;
    cartoon_batch_item *items = calloc(work.n, sizeof *items);
    struct run_state rs;
    memset(&rs, 0, sizeof rs);
    rs.work = &work;
    rs.not_done = calloc(work.n, sizeof *rs.not_done);
    if (!items || !rs.not_done) {
        fprintf(stderr, "cartoonize: out of memory\n");
        failed = 2;
        goto out;
    }
    if (work.uses_stdin && !(stdin_data = read_stdin(&stdin_size))) {
        failed = 1;
        goto out;
    }
    if (cli_make_output_dirs(&work, cli.output, stderr)) {
        failed = 2;
        goto out;
    }
    char ext[16]; /* -o -: the format -f names (default png) */
    snprintf(ext, sizeof ext, "x.%s", cli.dir_format);
    cartoon_file_format stream_fmt = cartoon_file_format_from_path(ext);
    for (size_t i = 0; i < work.n; i++) {
        items[i].input = work.v[i].input;
        items[i].output = work.v[i].output;
        items[i].format = work.v[i].output ? CARTOON_FILE_AUTO : stream_fmt;
        if (!strcmp(work.v[i].input, "-")) {
            items[i].input = "(standard input)";
            items[i].input_data = stdin_data;
            items[i].input_size = stdin_size;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.load_threads = cli.jobs[0];
    bo.save_threads = cli.jobs[2];
    bo.max_pixels = CARTOON_DEFAULT_MAX_PIXELS;
    bo.opt = cli.opt;
    bo.wopt = cli.wopt;
    bo.on_item = on_item;
    bo.should_stop = should_stop;
    bo.user = &rs;
    /* the result cache (on unless --no-cache); a cache that cannot be opened only costs time */
    cartoon_result_cache *cache = NULL;
    char tag[128];
    if (!cli.no_cache) {
        char cerr[512];
        cartoon_status cs = cartoon_result_cache_open(NULL, model_path, 0, cli.cache_similar, &cache, cerr, sizeof cerr);
        if (cs) fprintf(stderr, "cartoonize: result cache off: %s\n", cerr);
        /* what changes the output besides the options the cache hashes itself */
        snprintf(tag, sizeof tag, "device=%d precision=%d conv=%d", (int)cartoon_context_device(ctxs[0]),
                 (int)copt.precision, (int)copt.conv);
        bo.cache = cache;
        bo.cache_tag = tag;
    }
    progress_start(&rs.progress, cli.progress, stderr, work.n, "images");
    size_t sum[3];
    st = cartoon_batch_run(ctxs, n_ctx, items, work.n, &bo, sum, err, sizeof err);
    progress_end(&rs.progress, rs.n_not_done);
    if (cache && copt.verbose) {
        uint64_t cst[6];
        cartoon_result_cache_stats(cache, cst);
        fprintf(stderr, "cartoonize: result cache: %llu hits, %llu similar hits, %llu misses, %llu stored\n",
                (unsigned long long)cst[0], (unsigned long long)cst[1], (unsigned long long)cst[2],
                (unsigned long long)cst[3]);
    }
    cartoon_result_cache_close(cache);
    if (st) {
        fprintf(stderr, "cartoonize: %s (%s)\n", err, cartoon_status_name(st));
        failed = 1;
        goto out;
    }
    if (rs.stdout_failed) {
        fprintf(stderr, "cartoonize: cannot write standard output: %s\n", strerror(errno));
        failed = 1;
    }
    if (sum[1] || sum[2]) failed = 1;
    if (rs.n_not_done) {
        fprintf(stderr, "cartoonize: interrupted; %zu input(s) not done:\n", rs.n_not_done);
        for (size_t k = 0; k < rs.n_not_done; k++) fprintf(stderr, "  %s\n", work.v[rs.not_done[k]].input);
    }
    if ((work.n > 1 || work.problems) && rs.progress.mode != PROGRESS_JSON) fprintf(stderr, "cartoonize: %zu done, %zu failed%s\n", sum[0],
                                             sum[1] + work.problems, sum[2] ? ", the rest not done" : "");
out:
    free(items);
    free(rs.not_done);
    free(stdin_data);
    for (int k = 0; k < n_ctx; k++) cartoon_context_free(ctxs[k]);
    cartoon_model_free(model);
    cli_work_free(&work);
    return failed;
}
