/* The student model's graph (issue 14: depthwise-separable blocks, concat skips, bilinear
 * upsampling, the guided filter), as weights/distill/student.py exports it, built here with
 * random weights so that tests do not depend on a trained file. */
#ifndef CARTOON_TEST_STUDENT_MODEL_H
#define CARTOON_TEST_STUDENT_MODEL_H
#include <stddef.h>
#include <stdint.h>

/* The model file (safetensors bytes, malloc'd, size in *size) of the student with widths
 * w, 2w, 4w (40 is the shipped "S40"), float32 weights drawn from rng_uniform() (seed it
 * first) scaled by 1/sqrt(fan-in), so activations stay near unit size. NULL on failure. */
uint8_t *student_model_build(int w, size_t *size);
#endif
