/* cartoon-convert: the White-box TFLite export -> libcartoon model file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_whitebox.h"
#include "file_io.h"
#include "half.h"
#include "safetensors_write.h"

#define MAX_INPUT_BYTES (1ull << 30)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cartoon-convert INPUT.tflite OUTPUT.safetensors [--dtype f16|f32]\n"
            "Converts the White-box cartoonizer TFLite model (whitebox_cartoon_gan_fp16.tflite)\n"
            "into a libcartoon model file (docs/model-format.md).\n"
            "  --dtype f16   store weights as the original fp16 bits (default)\n"
            "  --dtype f32   store weights widened to float32\n"
            "  -h, --help    this text\n"
            "Exit status: 0 converted, 1 conversion failed, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *dt = "f16";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "--dtype")) {
            if (i + 1 >= argc) { fprintf(stderr, "cartoon-convert: --dtype needs a value\n"); usage(stderr); return 2; }
            dt = argv[++i];
        } else if (!strncmp(argv[i], "--dtype=", 8)) {
            dt = argv[i] + 8;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "cartoon-convert: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!in) {
            in = argv[i];
        } else if (!out) {
            out = argv[i];
        } else {
            fprintf(stderr, "cartoon-convert: unexpected argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    st_dtype dtype;
    if (!strcmp(dt, "f16")) dtype = ST_F16;
    else if (!strcmp(dt, "f32")) dtype = ST_F32;
    else { fprintf(stderr, "cartoon-convert: --dtype must be f16 or f32, not %s\n", dt); return 2; }
    if (!in || !out) { usage(stderr); return 2; }

    char msg[512] = "";
    ct_err e = {msg, sizeof msg};
    size_t n = 0;
    unsigned char *buf = NULL;
    /* A bound, so that a wrong path (a device, a huge file) cannot exhaust memory. */
    if (ct_read_file(in, MAX_INPUT_BYTES, &buf, &n, &e) != CARTOON_OK) {
        fprintf(stderr, "cartoon-convert: %s\n", msg);
        return 1;
    }

    st_writer *w = ct_st_writer_new();
    if (!w) { fprintf(stderr, "cartoon-convert: out of memory\n"); free(buf); return 1; }
    ct_convert_report rep;
    cartoon_status s = ct_convert_tflite(buf, n, dtype, w, &rep, &e);
    free(buf);
    if (s == CARTOON_OK) s = ct_st_writer_save(w, out, &e);
    if (s != CARTOON_OK) {
        fprintf(stderr, "cartoon-convert: %s: %s: %s\n", in, cartoon_status_name(s), msg);
        ct_st_writer_free(w);
        return 1;
    }
    ct_st_writer_free(w);

    FILE *f = fopen(out, "rb");
    long bytes = -1;
    if (f) { if (fseek(f, 0, SEEK_END) == 0) bytes = ftell(f); fclose(f); }
    printf("input:      %s (%zu bytes, %d TFLite operators, %d tensors)\n", in, n,
           rep.tflite_operators, rep.tflite_tensors);
    printf("convs:      %d (%d leaky relu, %d x2 upsamples)\n", rep.convs, rep.leaky_relus, rep.resizes);
    printf("parameters: %llu (%s)\n", (unsigned long long)rep.parameters, dtype == ST_F16 ? "F16" : "F32");
    printf("guided filter: radius %d; eps stored in the TFLite file %.7g (fp16), written %g "
           "(the original model's value)\n", rep.radius, (double)rep.eps_found, rep.eps_written);
    printf("output:     %s (%ld bytes)\n", out, bytes);
    return 0;
}
