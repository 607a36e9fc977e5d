/* The White-box cartoonizer's TFLite export -> libcartoon model file (docs/model-format.md). */
#ifndef CARTOON_CONVERT_WHITEBOX_H
#define CARTOON_CONVERT_WHITEBOX_H
#include <stddef.h>
#include <stdint.h>
#include "cartoon.h"
#include "errors.h"
#include "safetensors_write.h"
#include "half.h"

#define CT_WHITEBOX_CONVS 18
#define CT_WHITEBOX_PARAMETERS 1467075ull
/* The original model's guided-filter eps; the TFLite file holds it rounded to fp16. */
#define CT_WHITEBOX_EPS 0.005

typedef struct ct_convert_report {
    int convs;               /* CONV_2D ops recognised (18) */
    uint64_t parameters;     /* weights + biases written */
    int leaky_relus;         /* 13 */
    int resizes;             /* 2 */
    int depthwise;           /* box filters of the guided filter (7) */
    int radius;              /* guided filter radius recovered from the box kernel (1) */
    float eps_found;         /* eps constant as stored in the TFLite file, decoded */
    double eps_written;      /* CT_WHITEBOX_EPS */
    int tflite_operators, tflite_tensors;
} ct_convert_report;

/* Recognises the White-box UNet generator + guided filter in buf[0..size) (a TFLite file),
 * checks every conv's shape and the structural ops, and adds the weights ("convN.weight"
 * [out,kh,kw,in], "convN.bias" [out]) and the metadata (format, format_version, name, source,
 * graph) to w. dtype ST_F16 writes the stored fp16 bits exactly, ST_F32 widens them, ST_BF16
 * rounds to bfloat16. report may be NULL.
 * Errors: BAD_MODEL (malformed TFLite), UNSUPPORTED (a valid TFLite that is not this model),
 * INVALID_ARGUMENT, OUT_OF_MEMORY; e gets a message naming the operator or tensor. On failure
 * w may hold some tensors already: discard it. */
cartoon_status ct_convert_tflite(const uint8_t *buf, size_t size, st_dtype dtype, st_writer *w,
                                 ct_convert_report *report, ct_err *e);
#endif
