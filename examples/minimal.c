/* The README's example as a program: cartoonize one picture at longest side 1024.
 *   minimal MODEL INPUT OUTPUT */
#include <stdio.h>
#include <stdlib.h>
#include <cartoon.h>
#include <cartoon_io.h>

int main(int argc, char **argv)
{
    if (argc != 4) return fprintf(stderr, "usage: minimal MODEL INPUT OUTPUT\n"), 2;
    char err[256];
    cartoon_model *model;                       /* immutable: share it between threads */
    if (cartoon_model_load(argv[1], NULL, &model, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 1;
    cartoon_context *ctx;                       /* one per thread: scratch, backend, last error */
    if (cartoon_context_create(model, NULL, &ctx, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 1;

    cartoon_image in, out;
    if (cartoon_image_read(argv[2], 0, &in, err, sizeof err))   /* RGB or RGBA, upright */
        return fprintf(stderr, "%s\n", err), 1;
    cartoon_options opt;
    cartoon_options_default(&opt);              /* native resolution, strength 1 */
    opt.resolution = 1024;                      /* run at longest side 1024, result at input size */
    out = in;
    out.data = malloc(in.stride * in.height);
    int rc = 0;
    if (!out.data || unet_cartoonize(ctx, &in, &out, &opt)) {
        fprintf(stderr, "%s\n", cartoon_context_last_error(ctx));
        rc = 1;
    } else if (cartoon_image_write(argv[3], &out, CARTOON_FILE_AUTO, NULL, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        rc = 1;
    }
    free(out.data);
    cartoon_image_free(&in);
    cartoon_context_free(ctx);
    cartoon_model_free(model);
    return rc;
}
