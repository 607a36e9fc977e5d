/* Reading and writing whole files. Thread-safe: no shared state, errno text through
 * strerror_r. */
#ifndef CARTOON_FILE_IO_H
#define CARTOON_FILE_IO_H
#include <stddef.h>
#include <stdint.h>
#include "errors.h"

/* Reads the whole of path into a malloc'd buffer (*out, free() it; *out_size bytes).
 * Works on pipes and devices too (reads to EOF, never trusts st_size); fails with
 * CARTOON_E_LIMIT as soon as more than max_bytes arrive, CARTOON_E_IO when the file cannot
 * be opened or read, CARTOON_E_OUT_OF_MEMORY. */
cartoon_status ct_read_file(const char *path, uint64_t max_bytes, unsigned char **out,
                            size_t *out_size, ct_err *e);

/* Writes data to path so that a reader sees either the old file or the complete new one:
 * a temporary file beside path, fsync, rename, then fsync of the directory. An existing
 * file's permission bits are kept; a new file gets 0666 less the umask, as open() would.
 * On failure path is untouched and no temporary file remains. */
cartoon_status ct_write_file_atomic(const char *path, const void *data, size_t size, ct_err *e);

/* strerror_r's text for errnum, in buf or a static string; never NULL. */
const char *ct_errno_text(int errnum, char *buf, size_t size);
#endif
