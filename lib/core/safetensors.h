/* The safetensors container (docs/model-format.md): u64 header length, JSON header, data. */
#ifndef CARTOON_SAFETENSORS_H
#define CARTOON_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "cartoon.h"
#include "errors.h"

typedef enum { ST_F32 = 0, ST_F16 = 1, ST_BF16 = 2 } st_dtype;

#define ST_MAX_DIMS 8

/* One tensor of a parsed file: views into the caller's buffer. */
typedef struct st_tensor {
    char name[128];
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t count;         /* product of shape */
    const uint8_t *data;  /* count * ct_st_dtype_size(dtype) bytes inside the file buffer */
} st_tensor;

typedef struct st_file {
    st_tensor *tensors;   /* n_tensors, malloc'd */
    int n_tensors;
    void *metadata;       /* json_t* of __metadata__ (object of strings), owned */
    void *root;           /* json_t* of the whole header, owned */
} st_file;

size_t ct_st_dtype_size(st_dtype t);
const char *ct_st_dtype_name(st_dtype t);

/* Parses buf[0..size): checks the header length, JSON, every tensor's dtype, shape, offsets
 * (inside the data section, consistent with the shape, not overlapping), and the limits.
 * The tensors point into buf, which must outlive *f. */
cartoon_status ct_st_parse(const uint8_t *buf, size_t size, const cartoon_limits *limits,
                           st_file *f, ct_err *e);
void ct_st_free(st_file *f);
const st_tensor *ct_st_find(const st_file *f, const char *name);
/* Metadata string value, or NULL when missing or not a string. */
const char *ct_st_meta(const st_file *f, const char *key);

#endif
