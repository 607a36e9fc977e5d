/* Whole-file reads and atomic writes, used by the model loader, the image codecs, the
 * converter and the programs, so every file is read and written one way. */
#include "file_io.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ct_errno_text(int errnum, char *buf, size_t size)
{
#if defined(_GNU_SOURCE)
    return strerror_r(errnum, buf, size);
#else
    if (strerror_r(errnum, buf, size) != 0) snprintf(buf, size, "error %d", errnum);
    return buf;
#endif
}

cartoon_status ct_read_file(const char *path, uint64_t max_bytes, unsigned char **out,
                            size_t *out_size, ct_err *e)
{
    char ebuf[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ct_fail(e, CARTOON_E_IO, "cannot open %s: %s", path,
                       ct_errno_text(errno, ebuf, sizeof ebuf));

    struct stat st;
    size_t cap = 64 * 1024;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
        if ((uint64_t)st.st_size > max_bytes) {
            close(fd);
            return ct_fail(e, CARTOON_E_LIMIT, "%s: file of %lld bytes is over the limit of %llu bytes", path, (long long)st.st_size,
                           (unsigned long long)max_bytes);
        }
        if ((uint64_t)st.st_size < SIZE_MAX) cap = (size_t)st.st_size + 1; /* +1 sees EOF at once */
    }
    unsigned char *buf = malloc(cap);
    size_t n = 0;
    cartoon_status status = CARTOON_OK;
    if (!buf) status = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", path, cap);
    while (status == CARTOON_OK) {
        if (n == cap) {
            size_t ncap;
            unsigned char *p = NULL;
            if (ct_mul_size(cap, 2, &ncap)) p = realloc(buf, ncap);
            if (!p) { status = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: file too large for memory", path); break; }
            buf = p;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            status = ct_fail(e, CARTOON_E_IO, "cannot read %s: %s", path,
                             ct_errno_text(errno, ebuf, sizeof ebuf));
            break;
        }
        if (r == 0) break;
        n += (size_t)r;
        if ((uint64_t)n > max_bytes)
            status = ct_fail(e, CARTOON_E_LIMIT, "%s: file is over the limit of %llu bytes", path,
                             (unsigned long long)max_bytes);
    }
    close(fd);
    if (status != CARTOON_OK) { free(buf); return status; }
    *out = buf;
    *out_size = n;
    return CARTOON_OK;
}

/* Mode for a new file as open(..., 0666) would give it. umask() cannot be read without
 * setting it (racy across threads), so Linux's /proc view is used, 0644 failing that. */
static mode_t new_file_mode(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            unsigned m;
            if (sscanf(line, "Umask: %o", &m) == 1) { mask = (mode_t)(m & 0777); break; }
        }
        fclose(f);
    }
    return (mode_t)(0666 & ~mask);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* "DIR/.NAME.XXXXXX" next to path, so that rename() stays within one file system. */
static char *temp_template(const char *path, char **dir_out)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dir_len = slash ? (size_t)(slash - path) : 0;
    size_t base_len = strlen(base), n;
    if (!ct_add_size(dir_len, base_len, &n) || !ct_add_size(n, 16, &n)) return NULL;
    char *tmpl = malloc(n), *dir = malloc(dir_len + 2);
    if (!tmpl || !dir) { free(tmpl); free(dir); return NULL; }
    if (slash) {
        memcpy(dir, path, dir_len);
        dir[dir_len] = '\0';
        if (dir_len == 0) strcpy(dir, "/");
        snprintf(tmpl, n, "%.*s/.%s.XXXXXX", (int)dir_len, path, base);
    } else {
        strcpy(dir, ".");
        snprintf(tmpl, n, ".%s.XXXXXX", base);
    }
    *dir_out = dir;
    return tmpl;
}

/* Makes the rename itself durable; failure here does not undo a completed write. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

cartoon_status ct_write_file_atomic(const char *path, const void *data, size_t size, ct_err *e)
{
    char ebuf[128];
    char *dir = NULL;
    char *tmp = temp_template(path, &dir);
    if (!tmp) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: cannot build a temporary name", path);

    /* Keep an existing file's permissions; otherwise behave like a plain create. */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (st.st_mode & 07777)
                                                               : new_file_mode();
    cartoon_status status = CARTOON_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        status = ct_fail(e, CARTOON_E_IO, "%s: cannot create a temporary file: %s", path,
                         ct_errno_text(errno, ebuf, sizeof ebuf));
        goto done;
    }
    const char *step = NULL;
    if (write_all(fd, (const unsigned char *)data, size) != 0) step = "write";
    else if (fchmod(fd, mode) != 0) step = "chmod";
    else if (fsync(fd) != 0) step = "fsync";
    int saved = errno;
    if (close(fd) != 0 && !step) { step = "close"; saved = errno; }
    if (!step && rename(tmp, path) != 0) { step = "rename"; saved = errno; }
    if (step) {
        unlink(tmp);
        status = ct_fail(e, CARTOON_E_IO, "%s: %s failed: %s", path, step,
                         ct_errno_text(saved, ebuf, sizeof ebuf));
        goto done;
    }
    sync_dir(dir);
done:
    free(tmp);
    free(dir);
    return status;
}
