/* Minimal test harness: each test program runs its cases and prints one line per check
 * failure plus a summary line "TESTS <passed> <failed>" that tests/run_tests.sh adds up. */
#ifndef CARTOON_TEST_CHECK_H
#define CARTOON_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>

extern int check_failures_in_case; /* failures in the running case */

/* Records a failed expectation; the enclosing case fails but goes on. */
#define CHECK(cond) do { if (!(cond)) { check_failures_in_case++; \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { if (!(cond)) { check_failures_in_case++; \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* Runs one case: prints "ok NAME" or "FAIL NAME". */
void run_case(const char *name, void (*fn)(void));
/* Prints "skip NAME: reason"; a skip counts as neither pass nor fail. */
void skip_case(const char *name, const char *reason);
/* Prints the summary line; returns the exit status (0 when nothing failed). */
int check_summary(void);

/* Environment for data files: $CARTOON_SHARED (default ../shared), $CARTOON_BUILD. */
const char *shared_dir(void);
const char *build_dir(void);
/* snprintf into a static rotating buffer: "%s/%s" of shared_dir() and rel. */
const char *shared_path(const char *rel);
/* The model converted once for the suite (build/test-model.safetensors), or NULL if the
 * shared TFLite model is absent. Created by the converter test or on first use. */
const char *test_model_path(void);

/* Deterministic random numbers (xorshift) for reproducible tests. */
void rng_seed(uint64_t s);
float rng_uniform(float lo, float hi);
uint32_t rng_u32(void);

/* Reads a little-endian float32 .npy (C order). Returns malloc'd data, shape in dims. */
float *npy_read_f32(const char *path, int *ndim, size_t dims[8]);

/* An 8-bit RGB cartoon_image (declared in cartoon.h) into the model's input space as the
 * spec defines it: B, G, R order, v / 127.5 - 1. malloc'd, H x W x 3. */
struct cartoon_image;
float *rgb_to_model_space(const struct cartoon_image *im);

/* Comparison helpers. */
double max_abs_diff(const float *a, const float *b, size_t n);
/* PSNR on 0..255 of 8-bit images made from model-space floats (clip((y+1)*127.5)). */
double psnr_model_space(const float *a, const float *b, size_t n);
double psnr_u8(const uint8_t *a, const uint8_t *b, size_t n);

/* Reads a whole file; malloc'd, size in *n. NULL on failure. */
unsigned char *read_file_bytes(const char *path, size_t *n);
int write_file_bytes(const char *path, const void *data, size_t n);
#endif
