#include "student_model.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
#include "safetensors_write.h"

typedef struct {
    char *s;
    size_t n, cap;
    int bad;
    int nodes; /* nodes written so far, for the commas between them */
} text;

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { t->bad = 1; return; }
        if (t->s && t->n + (size_t)k < t->cap) { t->n += (size_t)k; return; }
        size_t cap = (t->cap + (size_t)k + 1) * 2;
        char *s = realloc(t->s, cap);
        if (!s) { t->bad = 1; return; }
        t->s = s;
        t->cap = cap;
    }
}

static int add_tensor(st_writer *wr, const char *node, const char *what, int ndim, const int64_t *shape, double fan_in)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
    float *v = malloc(n * sizeof *v);
    if (!v) return 0;
    float a = (float)sqrt(3.0 / fan_in);
    for (size_t i = 0; i < n; i++) v[i] = rng_uniform(-a, a);
    char name[96];
    snprintf(name, sizeof name, "%s.%s", node, what);
    int ok = ct_st_writer_add(wr, name, ST_F32, ndim, shape, v) == CARTOON_OK;
    free(v);
    return ok;
}

static void node_head(text *g)
{
    if (g->nodes++) put(g, ",");
}

/* conv2d (depthwise 0) or depthwise_conv2d (depthwise 1) named `name` reading `in` */
static int conv(text *g, st_writer *wr, const char *name, const char *in, int cin, int cout, int k, int stride,
                int depthwise, int leaky)
{
    node_head(g);
    if (depthwise)
        put(g, "{\"name\":\"%s\",\"op\":\"depthwise_conv2d\",\"inputs\":[\"%s\"],\"kernel\":%d,\"stride\":%d,"
               "\"channels\":%d,", name, in, k, stride, cin);
    else
        put(g, "{\"name\":\"%s\",\"op\":\"conv2d\",\"inputs\":[\"%s\"],\"kernel\":%d,\"stride\":%d,"
               "\"in_channels\":%d,\"out_channels\":%d,", name, in, k, stride, cin, cout);
    put(g, "\"weight\":\"%s.weight\",\"bias\":\"%s.bias\",\"activation\":\"%s\"%s}", name, name,
        leaky ? "leaky_relu" : "none", leaky ? ",\"alpha\":0.2" : "");
    int64_t ws[4] = {cout, k, k, cin}, dws[3] = {k, k, cin}, bs[1] = {depthwise ? cin : cout};
    int ok = depthwise ? add_tensor(wr, name, "weight", 3, dws, (double)k * k)
                       : add_tensor(wr, name, "weight", 4, ws, (double)k * k * cin);
    return ok && add_tensor(wr, name, "bias", 1, bs, 3.0 / 0.01); /* biases within +-0.1 */
}

/* a depthwise-separable block: prefix_dw then prefix_pw */
static int ds(text *g, st_writer *wr, const char *prefix, const char *in, int cin, int cout, int stride, int leaky)
{
    char dw[32], pw[32];
    snprintf(dw, sizeof dw, "%s_dw", prefix);
    snprintf(pw, sizeof pw, "%s_pw", prefix);
    return conv(g, wr, dw, in, cin, cin, 3, stride, 1, 0) && conv(g, wr, pw, dw, cin, cout, 1, 1, 0, leaky);
}

static void op2(text *g, const char *name, const char *op, const char *a, const char *b)
{
    node_head(g);
    put(g, "{\"name\":\"%s\",\"op\":\"%s\",\"inputs\":[\"%s\",\"%s\"]}", name, op, a, b);
}

static void up(text *g, const char *name, const char *in)
{
    node_head(g);
    put(g, "{\"name\":\"%s\",\"op\":\"upsample\",\"inputs\":[\"%s\"],\"factor\":2,\"mode\":\"bilinear_tf1\"}", name, in);
}

uint8_t *student_model_build(int w, size_t *size)
{
    int w1 = w, w2 = 2 * w, w3 = 4 * w;
    text g = {0};
    st_writer *wr = ct_st_writer_new();
    if (!wr) return NULL;
    put(&g, "{\"input\":{\"name\":\"input\",\"channels\":3,\"color_order\":\"BGR\",\"scale\":0.00784313725490196,"
            "\"offset\":-1.0},\"pad_multiple\":4,\"output\":\"final\",\"nodes\":[");
    int ok = conv(&g, wr, "stem", "input", 3, w1, 3, 1, 0, 1);
    ok = ok && ds(&g, wr, "d1", "stem", w1, w2, 2, 1) && ds(&g, wr, "b1", "d1_pw", w2, w2, 1, 1);
    ok = ok && ds(&g, wr, "d2", "b1_pw", w2, w3, 2, 1) && ds(&g, wr, "b2", "d2_pw", w3, w3, 1, 1);
    char h[32] = "b2_pw";
    for (int r = 0; ok && r < 4; r++) {
        char dw1[24], pw1[24], dw2[24], pw2[24], add[24]; /* room for any int r */
        snprintf(dw1, sizeof dw1, "r%d_dw1", r);
        snprintf(pw1, sizeof pw1, "r%d_pw1", r);
        snprintf(dw2, sizeof dw2, "r%d_dw2", r);
        snprintf(pw2, sizeof pw2, "r%d_pw2", r);
        snprintf(add, sizeof add, "r%d_add", r);
        ok = conv(&g, wr, dw1, h, w3, w3, 3, 1, 1, 0) && conv(&g, wr, pw1, dw1, w3, w3, 1, 1, 0, 1) &&
             conv(&g, wr, dw2, pw1, w3, w3, 3, 1, 1, 0) && conv(&g, wr, pw2, dw2, w3, w3, 1, 1, 0, 0);
        op2(&g, add, "add", pw2, h);
        snprintf(h, sizeof h, "%s", add);
    }
    ok = ok && conv(&g, wr, "u1_pw", h, w3, w2, 1, 1, 0, 1);
    up(&g, "u1_up", "u1_pw");
    op2(&g, "u1_cat", "concat", "u1_up", "b1_pw");
    ok = ok && ds(&g, wr, "u1a", "u1_cat", 2 * w2, w2, 1, 1) && ds(&g, wr, "u1b", "u1a_pw", w2, w1, 1, 1);
    up(&g, "u2_up", "u1b_pw");
    op2(&g, "u2_cat", "concat", "u2_up", "stem");
    ok = ok && ds(&g, wr, "u2", "u2_cat", 2 * w1, w1, 1, 1);
    ok = ok && conv(&g, wr, "out_conv", "u2_pw", w1, 3, 3, 1, 0, 0);
    op2(&g, "gen", "add", "out_conv", "input");
    node_head(&g);
    put(&g, "{\"name\":\"final\",\"op\":\"guided_filter\",\"inputs\":[\"input\",\"gen\"],\"radius\":1,\"eps\":0.005}]}");
    char name[32];
    snprintf(name, sizeof name, "test-student-s%d", w);
    uint8_t *buf = NULL;
    ok = ok && !g.bad && ct_st_writer_meta(wr, "format", "libcartoon") == CARTOON_OK &&
         ct_st_writer_meta(wr, "format_version", "1") == CARTOON_OK && ct_st_writer_meta(wr, "name", name) == CARTOON_OK &&
         ct_st_writer_meta(wr, "graph", g.s) == CARTOON_OK && ct_st_writer_serialize(wr, &buf, size) == CARTOON_OK;
    ct_st_writer_free(wr);
    free(g.s);
    if (!ok) { free(buf); return NULL; }
    return buf;
}
