/* batch-bench: how close the pipelined batch runner (cartoon_batch_run) gets to the network's
 * own time over a folder of pictures. Reports, asserts nothing.
 *
 *   batch-bench [-m MODEL] [-n IMAGES] [-s SIDE] [-j L:P:S]
 *
 * Writes IMAGES synthetic SIDE x SIDE JPEGs (default 32 at 1024) into a temporary directory,
 * then times, on the same inputs:
 *   network only   unet_cartoonize on the decoded pictures (already in memory), one context
 *   one at a time  read, cartoonize, write PNG, image after image, on one thread
 *   pipelined      cartoon_batch_run with -j (default 1:1:1), PNG outputs
 * and prints images per second for each and pipelined / network-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cartoon.h"
#include "cartoon_batch.h"
#include "cartoon_io.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL;
    int n = 32, side = 1024, jobs[3] = {1, 1, 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) model_path = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) side = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-j") && i + 1 < argc && sscanf(argv[i + 1], "%d:%d:%d", &jobs[0], &jobs[1], &jobs[2]) == 3) i++;
        else {
            fprintf(stderr, "usage: batch-bench [-m MODEL] [-n IMAGES] [-s SIDE] [-j L:P:S]\n");
            return 2;
        }
    }
    if (n < 1 || side < 8 || jobs[0] < 1 || jobs[1] < 1 || jobs[1] > 16 || jobs[2] < 1) return 2;
    char found[4096], err[512];
    if (!model_path) {
        if (cartoon_model_find_default(found, sizeof found, NULL, 0)) {
            fprintf(stderr, "batch-bench: no model (-m MODEL)\n");
            return 2;
        }
        model_path = found;
    }
    cartoon_model *model = NULL;
    if (cartoon_model_load(model_path, NULL, &model, err, sizeof err)) {
        fprintf(stderr, "batch-bench: %s\n", err);
        return 2;
    }
    cartoon_model_info mi;
    printf("batch-bench: model: %s (%s)\n",
           cartoon_model_get_info(model, &mi) == CARTOON_OK && mi.name && *mi.name ? mi.name : "unnamed", model_path);
    fflush(stdout); /* before the long runs */
    char dir[] = "/tmp/cartoon-batch-bench-XXXXXX";
    if (!mkdtemp(dir)) return 2;
    char (*in)[300] = calloc((size_t)n, sizeof *in), (*out)[300] = calloc((size_t)n, sizeof *out);
    cartoon_image *dec = calloc((size_t)n, sizeof *dec);
    uint8_t *px = malloc((size_t)side * side * 3), *res = malloc((size_t)side * side * 3);
    if (!in || !out || !dec || !px || !res) return 2;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < (size_t)side * side * 3; k++)
            px[k] = (uint8_t)(((k % (side * 3)) / 3 * (i + 1) + (k / (side * 3)) * 3 + (k % 3) * 80) & 0xff);
        cartoon_image im = {px, side, side, (size_t)side * 3, CARTOON_PIXEL_RGB};
        snprintf(in[i], sizeof in[i], "%s/in%02d.jpg", dir, i);
        snprintf(out[i], sizeof out[i], "%s/out%02d.png", dir, i);
        if (cartoon_image_write(in[i], &im, CARTOON_FILE_AUTO, NULL, err, sizeof err)) return 2;
        if (cartoon_image_read(in[i], 0, &dec[i], err, sizeof err)) return 2;
    }
    cartoon_context *ctx[16] = {0};
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (int k = 0; k < jobs[1]; k++) {
        if (jobs[1] > 1) co.threads = cores > jobs[1] ? (int)(cores / jobs[1]) : 1;
        if (cartoon_context_create(model, &co, &ctx[k], err, sizeof err)) return 2;
    }
    cartoon_context *c0;
    cartoon_context_options_default(&co);
    if (cartoon_context_create(model, &co, &c0, err, sizeof err)) return 2;
    cartoon_image o = {res, side, side, (size_t)side * 3, CARTOON_PIXEL_RGB};
    unet_cartoonize(c0, &dec[0], &o, NULL); /* warm-up: plan and arena */
    for (int k = 0; k < jobs[1]; k++) unet_cartoonize(ctx[k], &dec[0], &o, NULL);

    double t0 = now_s();
    for (int i = 0; i < n; i++) unet_cartoonize(c0, &dec[i], &o, NULL);
    double t_net = now_s() - t0;

    t0 = now_s();
    for (int i = 0; i < n; i++) {
        cartoon_image a = {0};
        cartoon_image_read(in[i], 0, &a, NULL, 0);
        unet_cartoonize(c0, &a, &o, NULL);
        cartoon_image_write(out[i], &o, CARTOON_FILE_AUTO, NULL, NULL, 0);
        cartoon_image_free(&a);
    }
    double t_seq = now_s() - t0;

    cartoon_batch_item *items = calloc((size_t)n, sizeof *items);
    for (int i = 0; i < n; i++) items[i] = (cartoon_batch_item){.input = in[i], .output = out[i], .format = CARTOON_FILE_AUTO};
    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.load_threads = jobs[0];
    bo.save_threads = jobs[2];
    size_t sum[3];
    t0 = now_s();
    cartoon_status st = cartoon_batch_run(ctx, jobs[1], items, (size_t)n, &bo, sum, err, sizeof err);
    double t_pipe = now_s() - t0;
    if (st || sum[0] != (size_t)n) fprintf(stderr, "batch-bench: pipeline: %s (%zu done)\n", err, sum[0]);

    printf("%d images %dx%d (JPEG in, PNG out), %ld cores, -j %d:%d:%d\n", n, side, side, cores, jobs[0],
           jobs[1], jobs[2]);
    printf("  network only   %7.2f s  %6.3f img/s\n", t_net, n / t_net);
    printf("  one at a time  %7.2f s  %6.3f img/s  (%.0f%% over network only)\n", t_seq, n / t_seq,
           100 * (t_seq / t_net - 1));
    printf("  pipelined      %7.2f s  %6.3f img/s  (%.0f%% over network only, %.2fx one at a time)\n", t_pipe,
           n / t_pipe, 100 * (t_pipe / t_net - 1), t_seq / t_pipe);
    for (int i = 0; i < n; i++) {
        unlink(in[i]);
        unlink(out[i]);
        cartoon_image_free(&dec[i]);
    }
    rmdir(dir);
    for (int k = 0; k < jobs[1]; k++) cartoon_context_free(ctx[k]);
    cartoon_context_free(c0);
    cartoon_model_free(model);
    free(items);
    free(in);
    free(out);
    free(dec);
    free(px);
    free(res);
    return 0;
}
