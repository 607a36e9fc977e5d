/* Writing the safetensors container: collect tensors and metadata, then serialise. Used by
 * cartoon-convert and the tests; not part of the runtime library. */
#ifndef CARTOON_SAFETENSORS_WRITE_H
#define CARTOON_SAFETENSORS_WRITE_H
#include "safetensors.h"

/* Writing: collect tensors and metadata, then serialise. */
typedef struct st_writer st_writer;
st_writer *ct_st_writer_new(void);
void ct_st_writer_free(st_writer *w);
/* Copies data (count elements of dtype, little-endian already) and shape. */
cartoon_status ct_st_writer_add(st_writer *w, const char *name, st_dtype dtype, int ndim,
                                const int64_t *shape, const void *data);
cartoon_status ct_st_writer_meta(st_writer *w, const char *key, const char *value);
/* Serialises into a malloc'd buffer: header padded so the data section is 8-byte aligned,
 * tensors in insertion order. */
cartoon_status ct_st_writer_serialize(const st_writer *w, uint8_t **out, size_t *out_size);
/* Serialises and writes atomically (temporary file in the same directory, fsync, rename). */
cartoon_status ct_st_writer_save(const st_writer *w, const char *path, ct_err *e);

#endif
