#include "reference_cases.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cartoon_io.h"
#include "check.h"

const char *reference_case_file(const ref_case *c, const char *key)
{
    json_t *j = json_loads(c->json, 0, NULL);
    const char *v = json_string_value(json_object_get(j, key));
    char rel[512];
    if (v) snprintf(rel, sizeof rel, "reference/%s", v);
    json_decref(j);
    return v ? shared_path(rel) : NULL;
}

int for_each_reference_case(void (*fn)(const ref_case *c, void *user), void *user)
{
    size_t n;
    char *idx = (char *)read_file_bytes(shared_path("reference/index.json"), &n);
    CHECKF(idx != NULL, "%s: unreadable", shared_path("reference/index.json"));
    if (!idx) return 0;
    json_t *root = json_loadb(idx, n, 0, NULL);
    free(idx);
    json_t *cases = json_object_get(root, "cases");
    CHECK(json_array_size(cases) >= 5);
    int seen = 0;
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *jc = json_array_get(cases, i);
        ref_case c = {0};
        c.name = json_string_value(json_object_get(jc, "name"));
        c.h = (int)json_integer_value(json_object_get(jc, "height"));
        c.w = (int)json_integer_value(json_object_get(jc, "width"));
        char *text = json_dumps(jc, JSON_COMPACT);
        c.json = text;
        const char *in = reference_case_file(&c, "input"), *out = reference_case_file(&c, "output_float");
        char err[256] = "";
        int ok = c.name && text && in && out && c.w > 0 && c.h > 0;
        CHECKF(ok, "case %zu: incomplete index entry", i);
        if (ok) {
            ok = cartoon_image_read(in, 0, &c.image, err, sizeof err) == CARTOON_OK;
            CHECKF(ok, "%s: %s", in, err);
        }
        if (ok) {
            ok = c.image.width == c.w && c.image.height == c.h && c.image.format == CARTOON_PIXEL_RGB;
            CHECKF(ok, "%s: %dx%d, the index says %dx%d", c.name, c.image.width, c.image.height, c.w, c.h);
        }
        float *x = ok ? rgb_to_model_space(&c.image) : NULL, *want = NULL;
        if (ok) {
            int nd;
            size_t dims[8];
            want = npy_read_f32(out, &nd, dims);
            ok = x && want && nd == 3 && (int)dims[0] == c.h && (int)dims[1] == c.w && dims[2] == 3;
            CHECKF(ok, "%s: %s missing or of another shape", c.name, out);
        }
        if (ok) {
            c.x = x;
            c.want = want;
            fn(&c, user);
            seen++;
        }
        free(x);
        free(want);
        if (c.image.data) cartoon_image_free(&c.image);
        free(text);
    }
    json_decref(root);
    return seen;
}
