/* The cartoonize program as a user runs it: every reference case at --resolution native,
 * batches into a directory, output formats, and the documented exit codes. */
#include <jansson.h>
#include <stdarg.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"
#include "shell.h"

static const char *model;
static char tmp[256];


static const char *bin(void)
{
    static char b[512];
    snprintf(b, sizeof b, "%s/cartoonize", build_dir());
    return b;
}

/* Bytes of a pixel the original's way: np.clip((y + 1) * 127.5, 0, 255).astype(np.uint8) in
 * float32 (truncation), or rounded to nearest for --round. */
static int original_u8(float y, int round_nearest)
{
    float v = (y + 1.0f) * 127.5f;
    if (!(v > 0.f)) return 0;
    if (v >= 255.f) return 255;
    return (int)(round_nearest ? floorf(v + 0.5f) : v);
}

/* Percentage of pixels of `im` identical to the reference .npy (B, G, R in model space)
 * converted as above, and the largest difference of a byte. */
static double match_npy(const cartoon_image *im, const float *ref, int round_nearest, int *maxd)
{
    size_t px = (size_t)im->width * im->height, same = 0;
    *maxd = 0;
    for (size_t p = 0; p < px; p++) {
        int eq = 1;
        for (int k = 0; k < 3; k++) {
            int d = abs((int)im->data[p * 3 + k] - original_u8(ref[p * 3 + (2 - k)], round_nearest));
            eq &= d == 0;
            if (d > *maxd) *maxd = d;
        }
        same += eq;
    }
    return 100.0 * same / px;
}

static void test_reference_cases(void)
{
    size_t n;
    char *idx = (char *)read_file_bytes(shared_path("reference/index.json"), &n);
    json_t *root = idx ? json_loadb(idx, n, 0, NULL) : NULL;
    free(idx);
    json_t *cases = json_object_get(root, "cases");
    CHECK(json_array_size(cases) >= 5);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        char in[512], out[512], npy[512], png[512];
        snprintf(in, sizeof in, "reference/%s", json_string_value(json_object_get(c, "input")));
        snprintf(npy, sizeof npy, "reference/%s", json_string_value(json_object_get(c, "output_float")));
        snprintf(png, sizeof png, "reference/%s", json_string_value(json_object_get(c, "output_png")));
        int nd;
        size_t dims[8];
        float *ref = npy_read_f32(shared_path(npy), &nd, dims);
        cartoon_image refpng = {0};
        char err[256];
        CHECKF(ref && nd == 3 && dims[2] == 3, "%s", npy);
        CHECKF(cartoon_image_read(shared_path(png), 0, &refpng, err, sizeof err) == CARTOON_OK, "%s: %s", png, err);
        /* default (truncation, like the original program), then --round */
        for (int rnd = 0; rnd < 2; rnd++) {
            snprintf(out, sizeof out, "%s/%s%s.png", tmp, name, rnd ? "_round" : "");
            CHECK(sh("%s -m %s --resolution native%s %s -o %s 2>/dev/null", bin(), model, rnd ? " --round" : "",
                     shared_path(in), out) == 0);
            cartoon_image im;
            CHECKF(cartoon_image_read(out, 0, &im, err, sizeof err) == CARTOON_OK, "%s: %s", out, err);
            if (!ref || im.data == NULL) continue;
            CHECK((int)dims[0] == im.height && (int)dims[1] == im.width && im.format == CARTOON_PIXEL_RGB);
            if ((int)dims[0] != im.height || (int)dims[1] != im.width || im.format != CARTOON_PIXEL_RGB) {
                cartoon_image_free(&im);
                continue;
            }
            int maxd, maxd_png = -1;
            double f = match_npy(&im, ref, rnd, &maxd), fp = -1;
            if (!rnd && refpng.data && refpng.width == im.width && refpng.height == im.height &&
                refpng.format == CARTOON_PIXEL_RGB) {
                size_t px = (size_t)im.width * im.height, same = 0;
                maxd_png = 0;
                for (size_t p = 0; p < px; p++) {
                    int eq = 1;
                    for (int k = 0; k < 3; k++) {
                        int d = abs((int)im.data[p * 3 + k] - refpng.data[p * 3 + k]);
                        eq &= d == 0;
                        if (d > maxd_png) maxd_png = d;
                    }
                    same += eq;
                }
                fp = 100.0 * same / px;
            }
            if (rnd)
                printf("    %-22s cartoonize --round PNG: %.4f%% of pixels identical to the rounded float "
                       "reference (max diff %d)\n", name, f, maxd);
            else
                printf("    %-22s cartoonize PNG: %.4f%% of pixels identical to the float reference truncated "
                       "(max diff %d), %.4f%% to the reference PNG (max diff %d)\n", name, f, maxd, fp, maxd_png);
            CHECKF(f >= 99.9 && maxd <= 1, "%s%s: %.4f%% identical, max diff %d", name, rnd ? " --round" : "", f, maxd);
            if (!rnd) CHECKF(fp >= 99.9 && maxd_png <= 1, "%s: %.4f%% identical to the reference PNG, max diff %d", name, fp, maxd_png);
            cartoon_image_free(&im);
        }
        free(ref);
        cartoon_image_free(&refpng);
    }
    json_decref(root);
}

static void test_batch_and_formats(void)
{
    char dir[512], a[512], b[512];
    snprintf(dir, sizeof dir, "%s/batch", tmp);
    snprintf(a, sizeof a, "%s/a.png", tmp);
    snprintf(b, sizeof b, "%s/b.jpg", tmp);
    /* two small inputs of our own: a crop written as PNG and as JPEG */
    cartoon_image im;
    char err[256];
    CHECK(cartoon_image_read(shared_path("reference/astronaut_64x96_crop.in.png"), 0, &im, err, sizeof err) == CARTOON_OK);
    CHECK(cartoon_image_write(a, &im, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_OK);
    CHECK(cartoon_image_write(b, &im, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_OK);
    CHECK(sh("%s -m %s %s %s -o %s -f webp -q 80 2>/dev/null", bin(), model, a, b, dir) == 0);
    const char *outs[] = {"a.webp", "b.webp"};
    for (int i = 0; i < 2; i++) {
        char p[600];
        cartoon_image o;
        snprintf(p, sizeof p, "%s/%s", dir, outs[i]);
        CHECKF(cartoon_image_read(p, 0, &o, err, sizeof err) == CARTOON_OK && o.width == 96 && o.height == 64, "%s", p);
        cartoon_image_free(&o);
    }
    /* a.png and a.jpg map to the same output: the second is refused, the first kept */
    char a_jpg[512];
    snprintf(a_jpg, sizeof a_jpg, "%s/a.jpg", tmp);
    CHECK(cartoon_image_write(a_jpg, &im, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_OK);
    CHECK(sh("%s -m %s %s %s -o %s 2>/dev/null", bin(), model, a, a_jpg, dir) == 1);
    /* one missing input: the rest are done, exit status 1 */
    CHECK(sh("%s -m %s %s /nonexistent.png -o %s 2>/dev/null", bin(), model, a, dir) == 1);
    /* resolution and strength through the CLI; JPEG output */
    char j[512];
    snprintf(j, sizeof j, "%s/half.jpg", tmp);
    CHECK(sh("%s -m %s -r 48 -s 0.5 -q 95 %s -o %s 2>/dev/null", bin(), model, a, j) == 0);
    cartoon_image o;
    CHECK(cartoon_image_read(j, 0, &o, err, sizeof err) == CARTOON_OK && o.width == 96 && o.height == 64);
    cartoon_image_free(&o);
    snprintf(j, sizeof j, "%s/keep.png", tmp);
    CHECK(sh("%s -m %s -r 48 --keep-size %s -o %s 2>/dev/null", bin(), model, a, j) == 0);
    CHECK(cartoon_image_read(j, 0, &o, err, sizeof err) == CARTOON_OK && o.width == 48 && o.height == 32);
    cartoon_image_free(&o);
    cartoon_image_free(&im);
}

static void test_exit_codes(void)
{
    char a[512], o[512];
    snprintf(a, sizeof a, "%s/a.png", tmp);
    snprintf(o, sizeof o, "%s/x.png", tmp);
    CHECK(sh("%s --help >/dev/null", bin()) == 0);
    CHECK(sh("%s --version >/dev/null", bin()) == 0);
    CHECK(sh("%s 2>/dev/null", bin()) == 2);
    CHECK(sh("%s -m %s %s 2>/dev/null", bin(), model, a) == 2);                 /* no -o */
    CHECK(sh("%s -m %s %s -o %s --bogus 2>/dev/null", bin(), model, a, o) == 2);
    CHECK(sh("%s -m %s %s -o %s -s 2 2>/dev/null", bin(), model, a, o) == 2);
    CHECK(sh("%s -m %s %s -o %s -r abc 2>/dev/null", bin(), model, a, o) == 2);
    CHECK(sh("%s -m %s %s -o %s.bmp 2>/dev/null", bin(), model, a, o) == 2);     /* unknown format */
    CHECK(sh("%s -m /nonexistent.safetensors %s -o %s 2>/dev/null", bin(), a, o) == 2);
    CHECK(sh("%s -m %s /nonexistent.png -o %s 2>/dev/null", bin(), model, o) == 1);
    /* this machine has no GPU: an explicit CUDA request fails cleanly, auto falls back */
    char why[256];
    int have_gpu = 0;
    cartoon_model *m = NULL;
    if (cartoon_model_load(model, NULL, &m, why, sizeof why) == CARTOON_OK) {
        cartoon_context_options co;
        cartoon_context_options_default(&co);
        co.device = CARTOON_DEVICE_CUDA;
        cartoon_context *c = NULL;
        have_gpu = cartoon_context_create(m, &co, &c, NULL, 0) == CARTOON_OK;
        cartoon_context_free(c);
        cartoon_model_free(m);
    }
    if (!have_gpu) {
        char errf[512];
        snprintf(errf, sizeof errf, "%s/cuda.err", tmp);
        CHECK(sh("%s -m %s %s -o %s --device cuda 2>%s", bin(), model, a, o, errf) == 2);
        size_t n;
        char *msg = (char *)read_file_bytes(errf, &n);
        CHECK(msg && strstr(msg, "CUDA"));
        free(msg);
        CHECK(sh("%s -m %s %s -o %s --device auto 2>/dev/null", bin(), model, a, o) == 0);
    }
}

/* The line every run prints: "cartoonize: model: NAME (PATH)". */
static int names_model(const char *msg, const char *name, const char *path)
{
    char want[4200];
    snprintf(want, sizeof want, "cartoonize: model: %s (%s)\n", name, path);
    return msg && strstr(msg, want) != NULL;
}

/* Without -m: the file $CARTOON_MODEL names is run and named on stderr (by the name in the file
 * and its path); -m still wins; a $CARTOON_MODEL naming no file is exit 2 naming it; the exact
 * White-box model wins over the student, but --preset preview and low-end take the student;
 * with nothing to find, exit 2 and a message listing every place looked at and how to get a
 * model (when this tree has no committed student; else that one runs). */
static void test_default_model(void)
{
    char a[512], o[512], errf[512], none[512];
    snprintf(a, sizeof a, "%s/a.png", tmp);
    snprintf(o, sizeof o, "%s/default.png", tmp);
    snprintf(errf, sizeof errf, "%s/default.err", tmp);
    snprintf(none, sizeof none, "%s/no-such-dir", tmp);
    CHECK(sh("CARTOON_MODEL='%s' %s %s -o %s 2>%s", model, bin(), a, o, errf) == 0);
    char *msg = slurp(errf);
    CHECKF(names_model(msg, "whitebox-unet-cartoonizer", model), "stderr does not name the model: %s", msg ? msg : "");
    free(msg);
    /* -m: the same line */
    CHECK(sh("%s -m '%s' %s -o %s 2>%s", bin(), model, a, o, errf) == 0);
    msg = slurp(errf);
    CHECKF(names_model(msg, "whitebox-unet-cartoonizer", model), "%s", msg ? msg : "");
    free(msg);
    CHECK(access(o, F_OK) == 0);
    unlink(o);
    CHECK(sh("CARTOON_MODEL=%s/missing.safetensors %s -m %s %s -o %s 2>/dev/null", tmp, bin(), model, a, o) == 0);
    unlink(o);
    CHECK(sh("CARTOON_MODEL=%s/missing.safetensors %s %s -o %s 2>%s", tmp, bin(), a, o, errf) == 2);
    msg = slurp(errf);
    CHECKF(msg && strstr(msg, "CARTOON_MODEL") && strstr(msg, "missing.safetensors"), "%s", msg ? msg : "");
    free(msg);
    CHECK(access(o, F_OK) != 0);
    /* not even with a preset that prefers the student: $CARTOON_MODEL decides */
    CHECK(sh("CARTOON_MODEL=%s/missing.safetensors %s --preset preview -r 64 %s -o %s 2>/dev/null", tmp, bin(), a, o) == 2);
    CHECK(access(o, F_OK) != 0);

    /* both models in the user's data directory (the suite's model under both names: the path
     * says which ran): the White-box one by default, the student with preview and low-end */
    char udata[600], wb[700], st[700], cmd[4096];
    snprintf(udata, sizeof udata, "%s/udata", tmp);
    snprintf(wb, sizeof wb, "%s/libcartoon/whitebox.safetensors", udata);
    snprintf(st, sizeof st, "%s/libcartoon/cartoon-student.safetensors", udata);
    char absmodel[4096];
    CHECK(realpath(model, absmodel) != NULL);
    CHECK(sh("mkdir -p %s/libcartoon && ln -sf '%s' %s && ln -sf '%s' %s", udata, absmodel, wb, absmodel, st) == 0);
    static const struct { const char *opts; int student; } runs[] = {
        {"", 0}, {"--preset social -r 64", 0}, {"--preset print -r 64", 0},
        {"--preset preview -r 64", 1}, {"--preset low-end -r 64", 1},
        {"--estimate --preset preview", 1}, {"--estimate", 0}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        snprintf(cmd, sizeof cmd, "env -u CARTOON_MODEL XDG_DATA_HOME=%s %s %s %s -o %s/pref%zu.png 2>%s >/dev/null", udata,
                 bin(), runs[i].opts, a, tmp, i, errf);
        CHECKF(sh("%s", cmd) == 0, "%s", cmd);
        msg = slurp(errf);
        CHECKF(names_model(msg, "whitebox-unet-cartoonizer", runs[i].student ? st : wb), "%s: %s", runs[i].opts,
               msg ? msg : "");
        free(msg);
    }
    /* without the White-box model there, the student even by default -- unless the library finds
     * one in a later White-box place (installed, or this tree's weights/ after `make model`) */
    unlink(wb);
    char later_wb[4096];
    unsetenv("CARTOON_MODEL");
    setenv("XDG_DATA_HOME", udata, 1);
    int later = cartoon_model_find_default(later_wb, sizeof later_wb, NULL, 0) == CARTOON_OK &&
                strstr(later_wb, "/whitebox.safetensors") && strcmp(later_wb, st) != 0;
    CHECK(sh("env -u CARTOON_MODEL XDG_DATA_HOME=%s %s %s -o %s 2>%s", udata, bin(), a, o, errf) == 0);
    msg = slurp(errf);
    CHECKF(names_model(msg, "whitebox-unet-cartoonizer", later ? later_wb : st), "%s", msg ? msg : "");
    free(msg);
    unlink(o);

    /* nothing anywhere (unless this machine has an installed model: then only that is run) */
    char found[4096], searched[24576];
    unsetenv("CARTOON_MODEL");
    setenv("XDG_DATA_HOME", none, 1);
    setenv("HOME", none, 1);
    int installed = cartoon_model_find_default(found, sizeof found, searched, sizeof searched) == CARTOON_OK;
    int rc = sh("env -u CARTOON_MODEL XDG_DATA_HOME=%s HOME=%s %s %s -o %s 2>%s", none, none, bin(), a, o, errf);
    msg = slurp(errf);
    if (installed) { /* an installed model, or this tree's committed student */
        char tail[4200];
        snprintf(tail, sizeof tail, " (%s)\n", found);
        CHECKF(rc == 0 && msg && strstr(msg, "cartoonize: model: ") && strstr(msg, tail), "%s", msg ? msg : "");
    } else {
        char xdg[600];
        snprintf(xdg, sizeof xdg, "%s/libcartoon/whitebox.safetensors", none);
        CHECKF(rc == 2, "exit status %d", rc);
        CHECKF(msg && strstr(msg, "$CARTOON_MODEL (not set)") && strstr(msg, xdg) &&
                   strstr(msg, "/share/libcartoon/whitebox.safetensors (not found)") &&
                   strstr(msg, "/share/libcartoon/cartoon-student.safetensors (not found)") && strstr(msg, "make model") &&
                   strstr(msg, "fetch-model.sh") && strstr(msg, "-m"),
               "%s", msg ? msg : "");
        CHECK(access(o, F_OK) != 0);
    }
    free(msg);
}

/* Issue 9: --estimate writes nothing and prints one prediction per input (as JSON with
 * --json); a bad budget is a usage error (exit 2) and nothing is written; presets are listed in
 * --help with their values; --tile and --memory-budget give the untiled image but for rare
 * one-level flips. */
static void test_estimate_budgets_presets(void)
{
    char in[512], o[512], o2[512], txt[512];
    snprintf(in, sizeof in, "%s/est.png", tmp);
    snprintf(o, sizeof o, "%s/est_out.png", tmp);
    snprintf(o2, sizeof o2, "%s/est_tiled.png", tmp);
    snprintf(txt, sizeof txt, "%s/est.txt", tmp);
    cartoon_image im = {malloc(150 * 100 * 3), 150, 100, 450, CARTOON_PIXEL_RGB};
    for (int i = 0; i < 150 * 100 * 3; i++) im.data[i] = (uint8_t)(128 + 100 * sin(i * 0.001) + (i * 7 % 23));
    cartoon_write_options wo;
    cartoon_write_options_default(&wo);
    char err[256];
    CHECK(cartoon_image_write(in, &im, CARTOON_FILE_AUTO, &wo, err, sizeof err) == CARTOON_OK);
    free(im.data);

    CHECK(sh("%s -m %s --estimate %s -o %s >%s 2>/dev/null", bin(), model, in, o, txt) == 0);
    CHECK(access(o, F_OK) != 0); /* nothing written */
    char *t = slurp(txt);
    CHECKF(t && strstr(t, "150x100 -> working 150x100") && strstr(t, " s, peak ") && strstr(t, " MB"), "%s", t ? t : "");
    free(t);
    CHECK(sh("%s -m %s --estimate --json --preset preview %s %s >%s 2>/dev/null", bin(), model, in, in, txt) == 0);
    json_error_t je;
    json_t *root = json_load_file(txt, 0, &je);
    CHECKF(json_is_array(root) && json_array_size(root) == 2, "%s", je.text);
    json_t *e0 = json_array_get(root, 0);
    /* preview runs at 512 on the longest side: 512 x 341 */
    CHECK(json_integer_value(json_object_get(e0, "working_width")) == 512 &&
          json_integer_value(json_object_get(e0, "working_height")) == 341 &&
          json_integer_value(json_object_get(e0, "output_width")) == 150 &&
          json_real_value(json_object_get(e0, "seconds")) > 0 &&
          json_integer_value(json_object_get(e0, "host_bytes")) > 0);
    json_decref(root);

    /* bad budgets: usage errors, exit 2, nothing written */
    static const char *bad[] = {"--memory-budget 0", "--memory-budget -5M", "--memory-budget lots", "--memory-budget 12Q",
                                "--memory-budget 1K", "--time-budget 0 -r auto", "--time-budget x -r auto",
                                "--tile 0", "--preset huge", "--time-budget 2"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc = sh("%s -m %s %s %s -o %s 2>/dev/null", bin(), model, bad[k], in, o);
        CHECKF(rc == 2, "%s: exit status %d", bad[k], rc);
        CHECKF(access(o, F_OK) != 0, "%s: wrote %s", bad[k], o);
    }
    CHECK(sh("%s -m %s --estimate --memory-budget 1K %s >/dev/null 2>&1", bin(), model, in) == 2);

    /* --help lists every preset with its values */
    CHECK(sh("%s --help >%s", bin(), txt) == 0);
    t = slurp(txt);
    CHECK(t && strstr(t, "preview  resolution 512, strength 0.5, jpg") && strstr(t, "social   resolution 1024, strength 0.7, webp") &&
          strstr(t, "print    resolution 2048, strength 0.9, png") && strstr(t, "low-end  resolution 512, strength 0.6, jpg"));
    free(t);

    /* tiled runs give the untiled bytes (but for rare one-level flips) */
    CHECK(sh("%s -m %s --no-cache %s -o %s 2>/dev/null", bin(), model, in, o) == 0);
    CHECK(sh("%s -m %s --no-cache --tile 16 %s -o %s 2>/dev/null", bin(), model, in, o2) == 0);
    cartoon_image a = {0}, b = {0};
    CHECK(cartoon_image_read(o, 0, &a, err, sizeof err) == CARTOON_OK);
    CHECK(cartoon_image_read(o2, 0, &b, err, sizeof err) == CARTOON_OK);
    if (a.data && b.data && a.width == b.width && a.height == b.height) {
        size_t n = (size_t)a.height * a.stride, diff = 0;
        int worst = 0;
        for (size_t i = 0; i < n; i++) {
            int d = abs((int)a.data[i] - (int)b.data[i]);
            diff += d != 0;
            if (d > worst) worst = d;
        }
        CHECKF(worst <= 1 && diff * 1000 <= n, "%zu of %zu bytes differ, by up to %d", diff, n, worst);
    } else {
        CHECK(0);
    }
    cartoon_image_free(&a);
    cartoon_image_free(&b);
}

/* The committed student (weights/student; needs no shared data): -m runs it at the input's
 * size and names it; with nothing named, --preset preview runs the student the library finds
 * (this tree's, or an installed one). Checks no pixel values: the weights get retrained. */
#define STUDENT "weights/student/cartoon-student.safetensors"
static void test_student(void)
{
    char in[512], o[512], errf[512], none[512], name[256] = "", found[4096];
    snprintf(in, sizeof in, "%s/student_in.png", tmp);
    snprintf(o, sizeof o, "%s/student_out.png", tmp);
    snprintf(errf, sizeof errf, "%s/student.err", tmp);
    snprintf(none, sizeof none, "%s/no-such-dir", tmp);
    cartoon_model *m = NULL;
    cartoon_model_info mi;
    CHECK(cartoon_model_load(STUDENT, NULL, &m, NULL, 0) == CARTOON_OK && cartoon_model_get_info(m, &mi) == CARTOON_OK);
    if (m) snprintf(name, sizeof name, "%s", mi.name && *mi.name ? mi.name : "unnamed");
    cartoon_model_free(m);
    cartoon_image im = {malloc(37 * 23 * 3), 37, 23, 37 * 3, CARTOON_PIXEL_RGB};
    for (int i = 0; i < 37 * 23 * 3; i++) im.data[i] = (uint8_t)(i * 13 % 251);
    char err[256];
    CHECK(cartoon_image_write(in, &im, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_OK);
    free(im.data);
    CHECK(sh("%s -m %s --no-cache %s -o %s 2>%s", bin(), STUDENT, in, o, errf) == 0);
    char *msg = slurp(errf);
    CHECKF(names_model(msg, name, STUDENT), "%s", msg ? msg : "");
    free(msg);
    cartoon_image out = {0};
    CHECK(cartoon_image_read(o, 0, &out, err, sizeof err) == CARTOON_OK && out.width == 37 && out.height == 23);
    cartoon_image_free(&out);
    /* no -m, no $CARTOON_MODEL, empty user directories: what the library finds for preview */
    unsetenv("CARTOON_MODEL");
    setenv("XDG_DATA_HOME", none, 1);
    setenv("HOME", none, 1);
    CHECK(cartoon_model_find(CARTOON_MODEL_PREFER_STUDENT, found, sizeof found, NULL, 0) == CARTOON_OK);
    CHECK(sh("env -u CARTOON_MODEL XDG_DATA_HOME=%s HOME=%s %s --preset preview -r 32 --no-cache %s -o %s 2>%s", none,
             none, bin(), in, o, errf) == 0);
    msg = slurp(errf);
    CHECKF(msg && strstr(msg, "cartoonize: model: ") && strstr(msg, found), "want %s: %s", found, msg ? msg : "");
    free(msg);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/cartoon-cli-XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    if (access(STUDENT, R_OK) == 0) run_case("cli_student_model", test_student);
    else skip_case("cli_student_model", "no " STUDENT " in this tree");
    model = test_model_path();
    if (!model) {
        skip_case("cli", "the shared model is not available");
        sh("rm -rf %s", tmp);
        return check_summary();
    }
    run_case("cli_reference_cases_native", test_reference_cases);
    run_case("cli_batch_formats_options", test_batch_and_formats);
    run_case("cli_exit_codes", test_exit_codes);
    run_case("cli_default_model", test_default_model);
    run_case("cli_estimate_budgets_presets", test_estimate_budgets_presets);
    sh("rm -rf %s", tmp);
    return check_summary();
}
