/* The shared reference cases (../shared/reference/index.json) loaded for a test: the picture,
 * its model-space input and the reference network's float output, so each test holds only
 * what it compares. */
#ifndef CARTOON_TEST_REFERENCE_CASES_H
#define CARTOON_TEST_REFERENCE_CASES_H
#include <stddef.h>
#include "cartoon.h"

typedef struct ref_case {
    const char *name;     /* the index's name of the case */
    int w, h;
    cartoon_image image;  /* the input picture as read (8-bit RGB) */
    const float *x;       /* image in model space (rgb_to_model_space), h * w * 3 */
    const float *want;    /* the reference's network output in model space, h * w * 3 */
    const char *json;     /* the case's index entry (JSON text), for fields a test needs */
} ref_case;

/* Calls fn on each case of the index, in order. CHECKs that the index reads and holds at
 * least 5 cases, and that each case's input and float output read and have the indexed size;
 * a case that does not is skipped (its CHECK failed). Everything fn sees is freed after it
 * returns. Returns the number of cases fn saw. */
int for_each_reference_case(void (*fn)(const ref_case *c, void *user), void *user);

/* The path under the shared reference folder of a file the case's index entry names in field
 * key ("output_png", ...), in a static rotating buffer; NULL when the entry has no such key. */
const char *reference_case_file(const ref_case *c, const char *key);
#endif
