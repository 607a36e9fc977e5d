/* The per-model slots where backends keep their prepared weights (model.h). */
#include "model.h"

cartoon_status ct_model_backend_data(const cartoon_model *cm, int slot,
                                     cartoon_status (*build)(const cartoon_model *m, void **data,
                                                             ct_err *e),
                                     void (*free_fn)(void *data), void **out, ct_err *e)
{
    if (slot < 0 || slot >= CT_BACKEND_SLOTS)
        return ct_fail(e, CARTOON_E_INTERNAL, "backend data slot %d out of range", slot);
    /* The slot is the model's one mutable field: the lock makes the first build happen once
     * even when several contexts are created at the same moment. */
    cartoon_model *m = (cartoon_model *)cm;
    cartoon_status st = CARTOON_OK;
    pthread_mutex_lock(&m->data_lock);
    if (!m->backend_data[slot]) {
        void *data = NULL;
        st = build(cm, &data, e);
        if (st == CARTOON_OK) {
            m->backend_data[slot] = data;
            m->backend_free[slot] = free_fn;
        }
    }
    *out = m->backend_data[slot];
    pthread_mutex_unlock(&m->data_lock);
    return st;
}
