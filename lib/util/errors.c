/* The internal message buffer (errors.h). */
#include "errors.h"
#include <stdarg.h>
#include <stdio.h>

cartoon_status ct_fail(ct_err *e, cartoon_status status, const char *fmt, ...)
{
    if (e && e->buf && e->size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->size, fmt, ap);
        va_end(ap);
    }
    return status;
}
