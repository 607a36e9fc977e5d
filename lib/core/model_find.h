/* The model search of cartoon_model_find() with its compiled-in directories as arguments, so
 * that the tests can run every order and the not-found case against directories of their own
 * (the real ones may hold a model: the source tree always has the student). */
#ifndef CT_MODEL_FIND_H
#define CT_MODEL_FIND_H
#include <stddef.h>
#include "cartoon.h"

#define CT_WHITEBOX_FILE "whitebox.safetensors"
#define CT_STUDENT_FILE "cartoon-student.safetensors"

typedef struct ct_model_places {
    const char *datadir;     /* PREFIX/share/libcartoon: both models; NULL or "" = not looked at */
    const char *student_dir; /* the source tree's weights/student: the student only; NULL or "" = not looked at */
    const char *source_weights_dir; /* the source tree's weights (`make model` writes there): the White-box
                                       model only, its last place; NULL or "" = not looked at */
} ct_model_places;

/* cartoon_model_find() looking at `places` instead of the directories the library was built
 * with; the environment is read the same way. Same arguments, results and errors. */
cartoon_status ct_model_find(const ct_model_places *places, cartoon_model_preference prefer, char *path,
                             size_t path_size, char *searched, size_t searched_size);

/* The places the library was built with (CARTOON_DATADIR, CARTOON_STUDENT_DIR,
 * CARTOON_SOURCE_WEIGHTS_DIR). */
void ct_model_places_builtin(ct_model_places *places);
#endif
