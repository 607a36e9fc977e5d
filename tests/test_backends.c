/* The backend layer: the table a context chooses from, the per-instruction-set kernel table,
 * and the CPU backend's per-model weights (built once on first fast-path use, shared by every
 * context on the model, never built for the exact im2col path). */
#include <pthread.h>
#include <string.h>
#include "backend.h"
#include "cartoon.h"
#include "check.h"
#include "context.h"
#include "cpu_kernels.h"
#include "cpu_weights.h"

static cartoon_model *model;

static cartoon_context *make(cartoon_conv_algo conv)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.conv = conv;
    o.threads = 1;
    cartoon_context *c = NULL;
    char err[256];
    CHECKF(cartoon_context_create(model, &o, &c, err, sizeof err) == CARTOON_OK, "%s", err);
    return c;
}

static void test_table(void)
{
    CHECK(ct_backend_count >= 2);
    /* AUTO prefers a GPU and ends on the CPU, which runs every op of the model in fp32, and
     * in bf16 exactly where its chosen kernels have AVX512_BF16 (precision_usable) */
    CHECK(ct_backends[ct_backend_count - 1] == &ct_backend_cpu);
    CHECK(ct_backend_cpu.precisions ==
          (CT_PRECISION_BIT(CARTOON_PRECISION_FP32) | CT_PRECISION_BIT(CARTOON_PRECISION_BF16)));
    CHECK(ct_backend_cpu.precision_usable);
    if (ct_backend_cpu.precision_usable) {
        char w2[256] = "";
        CHECK(ct_backend_cpu.precision_usable(CARTOON_PRECISION_FP32, w2, sizeof w2) == 1);
        int bf16 = ct_backend_cpu.precision_usable(CARTOON_PRECISION_BF16, w2, sizeof w2);
        CHECK(bf16 == (ct_cpu_isa() >= CT_ISA_AVX512_BF16));
        CHECK(bf16 || strstr(w2, "AVX512_BF16"));
    }
    CHECK(ct_backend_cuda.precisions & CT_PRECISION_BIT(CARTOON_PRECISION_FP16));
    char why[256] = "";
    CHECK(ct_backend_cpu.available(why, sizeof why) == 1);
    CHECK(ct_backend_runs_model(&ct_backend_cpu, model, why, sizeof why) == 1);
    for (int k = 0; k < ct_backend_count; k++) CHECK(ct_backends[k]->name && ct_backends[k]->label);
}

static void test_kernel_table(void)
{
    const ct_cpu_kernels *g = ct_cpu_kernels_for(CT_ISA_GENERIC);
    CHECK(g->isa == CT_ISA_GENERIC && !strcmp(g->name, "generic"));
    CHECK(g->winograd_task == ct_wg_task_generic && g->direct_row == ct_direct_row_generic);
    for (int isa = CT_ISA_GENERIC; isa <= CT_ISA_AVX512_BF16; isa++) {
        const ct_cpu_kernels *k = ct_cpu_kernels_for(isa);
        CHECK(k && k->isa <= isa && k->winograd_task && k->direct_row);
    }
#if defined(__x86_64__)
    const ct_cpu_kernels *a = ct_cpu_kernels_for(CT_ISA_AVX2);
    CHECK(a->isa == CT_ISA_AVX2 && a->winograd_task == ct_wg_task_avx2 && a->direct_row == ct_direct_row_avx2);
    const ct_cpu_kernels *z = ct_cpu_kernels_for(CT_ISA_AVX512);
    CHECK(z->isa == CT_ISA_AVX512 && z->lanes == 16 && !strcmp(z->name, "avx512"));
    CHECK(z->winograd_task == ct_wg_task_avx512 && z->direct_row == ct_direct_row_avx512);
    CHECK(z->winograd_task_bf16 == NULL); /* AVX-512 without AVX512_BF16 (Skylake-SP to Ice Lake): fp32 */
    const ct_cpu_kernels *zb = ct_cpu_kernels_for(CT_ISA_AVX512_BF16);
    CHECK(zb->isa == CT_ISA_AVX512_BF16 && zb->lanes == 16 && !strcmp(zb->name, "avx512-bf16"));
    CHECK(zb->winograd_task == ct_wg_task_avx512 && zb->winograd_task_bf16 == ct_wg_task_bf16_avx512bf16);
#endif
    /* the list holds every entry; the test-only 16-lane generic-vector one is never chosen */
    size_t n = 0;
    const ct_cpu_kernels *all = ct_cpu_kernels_list(&n);
    int found_v16 = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(all[i].name && all[i].winograd_task && all[i].direct_row && all[i].lanes >= 4);
        if (!all[i].chosen) {
            found_v16 += all[i].winograd_task == ct_wg_task_v16_avx2;
            for (int isa = CT_ISA_GENERIC; isa <= CT_ISA_AVX512_BF16; isa++) CHECK(ct_cpu_kernels_for(isa) != &all[i]);
        } else CHECK(ct_cpu_kernels_for(all[i].isa) == &all[i]);
    }
#if defined(__x86_64__)
    CHECK(n == 5 && found_v16 == 1);
#else
    CHECK(n == 1);
#endif
}

/* Which kernel each conv gets, from the graph alone: the rule the CPU backend documents. */
static void check_weights(const ct_cpu_weights *w)
{
    CHECK(w->n == model->n_nodes);
    int wg = 0, direct = 0;
    for (int i = 0; i < model->n_nodes; i++) {
        const ct_node *n = &model->nodes[i];
        int conv = n->op == OP_CONV2D, pointwise = n->kernel == 1 && n->stride == 1;
        int want_wg = conv && n->kernel == 3 && n->stride == 1 && n->cin >= 8 && n->channels >= 8;
        int want_direct = conv && !want_wg && !pointwise;
        CHECKF(!!w->node[i].winograd == want_wg && !!w->node[i].direct == want_direct &&
               !!w->node[i].pointwise == (conv && pointwise), "node %s", n->name);
        wg += want_wg;
        direct += want_direct;
    }
    printf("    %d Winograd and %d direct convolutions prepared\n", wg, direct);
    CHECK(wg > 0 && direct > 0);
}

static void test_weights_built_once_and_shared(void)
{
    CHECK(model->backend_data[CT_SLOT_CPU] == NULL); /* loading builds no backend's weights */
    cartoon_context *exact = make(CARTOON_CONV_IM2COL);
    CHECK(model->backend_data[CT_SLOT_CPU] == NULL); /* nor does the exact path */
    cartoon_context *a = make(CARTOON_CONV_AUTO), *b = make(CARTOON_CONV_FAST);
    const void *shared = model->backend_data[CT_SLOT_CPU];
    CHECK(shared != NULL);
    const ct_cpu_weights *w = NULL;
    char msg[128];
    ct_err e = {msg, sizeof msg};
    CHECK(ct_cpu_weights_get(model, &w, &e) == CARTOON_OK && (const void *)w == shared);
    if (w) check_weights(w);
    /* both contexts run on the shared weights and agree */
    int h = 21, wd = 17;
    size_t n = (size_t)h * wd * 3;
    float *x = malloc(n * 4), *ya = malloc(n * 4), *yb = malloc(n * 4), *ye = malloc(n * 4);
    rng_seed(11);
    for (size_t i = 0; i < n; i++) x[i] = rng_uniform(-1, 1);
    CHECK(cartoon_forward(a, x, h, wd, ya) == CARTOON_OK);
    CHECK(cartoon_forward(b, x, h, wd, yb) == CARTOON_OK);
    CHECK(cartoon_forward(exact, x, h, wd, ye) == CARTOON_OK);
    CHECK(max_abs_diff(ya, yb, n) == 0);
    CHECK(max_abs_diff(ya, ye, n) < 1e-4);
    free(x); free(ya); free(yb); free(ye);
    cartoon_context_free(a);
    cartoon_context_free(b);
    cartoon_context_free(exact);
    CHECK(model->backend_data[CT_SLOT_CPU] == shared); /* owned by the model, not the contexts */
}

static cartoon_model *fresh;
static const void *seen[8];

static void *create_one(void *arg)
{
    int k = (int)(intptr_t)arg;
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.threads = 1;
    cartoon_context *c = NULL;
    if (cartoon_context_create(fresh, &o, &c, NULL, 0) == CARTOON_OK) seen[k] = fresh->backend_data[CT_SLOT_CPU];
    cartoon_context_free(c);
    return NULL;
}

/* Contexts created at the same moment on a new model build its weights once. */
static void test_concurrent_first_use(void)
{
    char err[256];
    CHECKF(cartoon_model_load(test_model_path(), NULL, &fresh, err, sizeof err) == CARTOON_OK, "%s", err);
    if (!fresh) return;
    pthread_t t[8];
    for (int k = 0; k < 8; k++) pthread_create(&t[k], NULL, create_one, (void *)(intptr_t)k);
    for (int k = 0; k < 8; k++) pthread_join(t[k], NULL);
    for (int k = 0; k < 8; k++) CHECK(seen[k] != NULL && seen[k] == fresh->backend_data[CT_SLOT_CPU]);
    cartoon_model_free(fresh);
}

int main(void)
{
    const char *path = test_model_path();
    char err[256];
    if (!path || cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        const char *cases[] = {"backend_table", "cpu_kernel_table", "cpu_weights_built_once_and_shared",
                               "cpu_weights_concurrent_first_use"};
        for (int i = 0; i < 4; i++) skip_case(cases[i], "no test model (the shared TFLite model is absent)");
        return check_summary();
    }
    run_case("backend_table", test_table);
    run_case("cpu_kernel_table", test_kernel_table);
    run_case("cpu_weights_built_once_and_shared", test_weights_built_once_and_shared);
    run_case("cpu_weights_concurrent_first_use", test_concurrent_first_use);
    cartoon_model_free(model);
    return check_summary();
}
