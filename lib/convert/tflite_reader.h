/* A bounds-checked reader of TFLite flatbuffers (schema v3): just the fields the model
 * converter needs (docs in shared/docs/tflite-notes.md). Every offset, vtable, vector length
 * and string is checked against the buffer before it is read; a malformed file gives
 * CARTOON_E_BAD_MODEL with a message naming the place. */
#ifndef CARTOON_TFLITE_READER_H
#define CARTOON_TFLITE_READER_H
#include <stddef.h>
#include <stdint.h>
#include "cartoon.h"
#include "errors.h"

/* Builtin operator codes this project knows by name. */
enum {
    TFL_OP_ADD = 0,
    TFL_OP_CONV_2D = 3,
    TFL_OP_DEPTHWISE_CONV_2D = 4,
    TFL_OP_DEQUANTIZE = 6,
    TFL_OP_MUL = 18,
    TFL_OP_RESIZE_BILINEAR = 23,
    TFL_OP_SUB = 41,
    TFL_OP_DIV = 42,
    TFL_OP_LEAKY_RELU = 98
};

/* TensorType values. */
enum { TFL_FLOAT32 = 0, TFL_FLOAT16 = 1, TFL_INT32 = 2 };

/* BuiltinOptions union tags of the option tables parsed. */
enum {
    TFL_OPT_CONV2D = 1,
    TFL_OPT_DEPTHWISE = 2,
    TFL_OPT_ADD = 11,
    TFL_OPT_RESIZE_BILINEAR = 15,
    TFL_OPT_MUL = 21,
    TFL_OPT_SUB = 28,
    TFL_OPT_DIV = 29,
    TFL_OPT_LEAKY_RELU = 75
};

#define TFL_MAX_DIMS 8
#define TFL_MAX_COUNT 100000     /* tensors, operators, buffers, operator codes */
#define TFL_MAX_OP_IO 64         /* inputs or outputs of one operator */

typedef struct tfl_tensor {
    int ndim;
    int32_t shape[TFL_MAX_DIMS];
    int type;                 /* TensorType */
    uint32_t buffer;          /* index into the model's buffers (validated) */
    const uint8_t *data;      /* constant data inside the file buffer, or NULL */
    size_t data_size;         /* bytes of data */
    char *name;               /* malloc'd, NUL-terminated ("" when absent) */
    int has_sparsity;         /* sparse constants are not dense arrays */
} tfl_tensor;

typedef struct tfl_operator {
    int opcode;               /* builtin operator code (max of the deprecated and new fields) */
    int n_inputs, n_outputs;
    int32_t *inputs;          /* tensor indices, -1 = optional input absent */
    int32_t *outputs;         /* tensor indices, all valid */
    int options_type;         /* BuiltinOptions tag, 0 = none */
    int has_options;          /* the options table is present */
    /* Parsed from the options table of options_type; schema defaults when absent. */
    int padding;              /* 0 SAME, 1 VALID */
    int stride_w, stride_h;
    int dilation_w, dilation_h;
    int depth_multiplier;
    int fused_activation;     /* 0 none */
    float alpha;              /* LeakyReluOptions */
    int align_corners, half_pixel_centers;
} tfl_operator;

typedef struct tfl_model {
    uint32_t version;
    int n_subgraphs;          /* only the first is parsed */
    int n_opcodes;
    int32_t *opcodes;         /* builtin code per operator code entry */
    int n_tensors;
    tfl_tensor *tensors;
    int n_ops;
    tfl_operator *ops;
    int n_inputs, n_outputs;
    int32_t *inputs, *outputs; /* subgraph inputs / outputs, validated tensor indices */
} tfl_model;

/* Parses buf[0..size). Tensors' data point into buf, which must outlive *m.
 * Errors: BAD_MODEL (malformed; message names the place), UNSUPPORTED (no subgraph, a newer
 * schema), OUT_OF_MEMORY. On failure *m is left empty (ct_tfl_free is still safe). */
cartoon_status ct_tfl_parse(const uint8_t *buf, size_t size, tfl_model *m, ct_err *e);
void ct_tfl_free(tfl_model *m);

/* Name of a builtin operator code ("CONV_2D"), or "op" for codes not listed above. */
const char *ct_tfl_op_name(int code);
#endif
