/* Error messages: every failing internal call fills a caller-provided message buffer. */
#ifndef CARTOON_ERRORS_H
#define CARTOON_ERRORS_H
#include <stddef.h>
#include "cartoon.h"

/* A message buffer; buf may be NULL (size 0), then messages are dropped. */
typedef struct ct_err {
    char *buf;
    size_t size;
} ct_err;

/* Formats the message into e (if any) and returns status, so that failures read
 * `return ct_fail(e, CARTOON_E_BAD_MODEL, "tensor %s: ...", name);`. */
cartoon_status ct_fail(ct_err *e, cartoon_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Checked size arithmetic: return 0 on overflow, else store the result. */
static inline int ct_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline int ct_add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
#endif
