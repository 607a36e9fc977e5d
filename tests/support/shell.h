/* For tests that run the shipped programs: a shell command line built printf-style, a file's
 * text, and paths under the test's temporary folder. */
#ifndef CARTOON_TEST_SHELL_H
#define CARTOON_TEST_SHELL_H

/* Runs the command line through system(); its exit status, or -1 when it did not exit. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A file's bytes NUL-terminated (malloc'd), or NULL when unreadable. */
char *slurp(const char *path);
/* "dir/rel" in a static rotating buffer of 8 (valid until 8 more calls). */
const char *tmp_path(const char *dir, const char *rel);
#endif
