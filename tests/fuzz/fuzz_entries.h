/* The fuzz targets' bodies, shared by the libFuzzer entry points (tests/fuzz/fuzz_*.c) and
 * by the regression replayer (tests/test_fuzz_regressions.c), so that a file that once made a
 * target crash is replayed through exactly the same calls. Each returns 0 when the input
 * was refused or handled cleanly; a crash or sanitizer report is the failure. */
#ifndef CARTOON_FUZZ_ENTRIES_H
#define CARTOON_FUZZ_ENTRIES_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cartoon.h"
#include "cartoon_io.h"
#include "convert_whitebox.h"
#include "half.h"
#include "safetensors_write.h"

/* Image decoders: 4 megapixels is far above any seed and keeps a hostile header from
 * asking for gigabytes. */
#define FUZZ_MAX_PIXELS (4u << 20)

/* Largest pad_multiple for which the fuzzer runs the loaded model: cartoon_forward's pixel
 * limit applies to the caller's image, not to the padded working size, and a model may ask
 * for a multiple of up to 4096 (a 16.7 MP working image for a 3x5 input). */
#define FUZZ_MAX_PAD 64

static volatile unsigned fuzz_sink;

static inline int fuzz_model_load_one(const uint8_t *data, size_t size)
{
    char err[256];
    cartoon_model *m = NULL;
    cartoon_limits lim;
    cartoon_limits_default(&lim);
    lim.max_model_bytes = 16u << 20;
    cartoon_status st = cartoon_model_load_memory(data, size, &lim, &m, err, sizeof err);
    if (st != CARTOON_OK) {
        if (m) abort(); /* a failed load must not hand out a model */
        return 0;
    }
    cartoon_model_info info;
    if (cartoon_model_get_info(m, &info) != CARTOON_OK) abort();
    if (info.pad_multiple <= FUZZ_MAX_PAD) {
        cartoon_context_options o;
        cartoon_context_options_default(&o);
        o.device = CARTOON_DEVICE_CPU;
        o.threads = 1;
        o.max_pixels = 64;
        cartoon_context *ctx = NULL;
        if (cartoon_context_create(m, &o, &ctx, NULL, 0) == CARTOON_OK) {
            float in[3 * 5 * 3], out[3 * 5 * 3];
            for (int i = 0; i < 45; i++) in[i] = (float)(i % 7) / 3.5f - 1.f;
            (void)cartoon_forward(ctx, in, 3, 5, out);
            (void)cartoon_forward(ctx, in, 5, 3, out); /* a second size: replanning */
            cartoon_context_free(ctx);
        }
    }
    cartoon_model_free(m);
    return 0;
}

static inline int fuzz_tflite_one(const uint8_t *data, size_t size)
{
    char msg[256];
    ct_err e = {msg, sizeof msg};
    st_writer *w = ct_st_writer_new();
    if (!w) return 0;
    ct_convert_report rep;
    cartoon_status st = ct_convert_tflite(data, size, ST_F16, w, &rep, &e);
    if (st == CARTOON_OK) {
        uint8_t *out = NULL;
        size_t n = 0;
        if (ct_st_writer_serialize(w, &out, &n) == CARTOON_OK) {
            /* what the converter writes must load */
            cartoon_model *m = NULL;
            if (cartoon_model_load_memory(out, n, NULL, &m, NULL, 0) == CARTOON_OK) cartoon_model_free(m);
            free(out);
        }
    }
    ct_st_writer_free(w);
    return 0;
}

static inline int fuzz_image_one(const uint8_t *data, size_t size)
{
    char err[256];
    cartoon_image img;
    cartoon_status st = cartoon_image_decode(data, size, FUZZ_MAX_PIXELS, &img, err, sizeof err);
    if (st != CARTOON_OK) {
        if (img.data) abort(); /* zeroed on failure */
        return 0;
    }
    if (!img.data || img.width < 1 || img.height < 1 ||
        img.stride != (size_t)img.width * (size_t)cartoon_pixel_size(img.format))
        abort();
    /* touch every byte, so that an uninitialised or short buffer shows */
    unsigned sum = 0;
    for (size_t i = 0; i < img.stride * (size_t)img.height; i++) sum += img.data[i];
    fuzz_sink = sum;
    cartoon_image_free(&img);
    return 0;
}
#endif
