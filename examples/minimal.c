/* The README's example as a program: cartoonize one picture at longest side 1024.
 *   minimal [MODEL] INPUT OUTPUT      (no MODEL: the one cartoon_model_find_default() finds) */
#include <stdio.h>
#include <stdlib.h>
#include <cartoon.h>
#include <cartoon_io.h>

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) return fprintf(stderr, "usage: minimal [MODEL] INPUT OUTPUT\n"), 2;
    char path[4096], looked[24576];
    if (argc == 3 && cartoon_model_find_default(path, sizeof path, looked, sizeof looked))
        return fprintf(stderr, "no MODEL given and none found; looked at:\n%s\n", looked), 2;
    if (argc == 4) snprintf(path, sizeof path, "%s", argv[1]);
    const char *input = argv[argc - 2], *output = argv[argc - 1];
    fprintf(stderr, "model %s\n", path);
    char err[256];
    cartoon_model *model;                       /* immutable: share it between threads */
    if (cartoon_model_load(path, NULL, &model, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 1;
    cartoon_context *ctx;                       /* one per thread: scratch, backend, last error */
    if (cartoon_context_create(model, NULL, &ctx, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 1;

    cartoon_image in, out;
    if (cartoon_image_read(input, 0, &in, err, sizeof err))   /* RGB or RGBA, upright */
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
    } else if (cartoon_image_write(output, &out, CARTOON_FILE_AUTO, NULL, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        rc = 1;
    }
    free(out.data);
    cartoon_image_free(&in);
    cartoon_context_free(ctx);
    cartoon_model_free(model);
    return rc;
}
