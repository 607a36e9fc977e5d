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

static const char *model;
static char tmp[256];

/* Runs a shell command line; returns the exit status (or -1). */
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static const char *bin(void)
{
    static char b[512];
    snprintf(b, sizeof b, "%s/cartoonize", build_dir());
    return b;
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
        char in[512], out[512], npy[512];
        snprintf(in, sizeof in, "reference/%s", json_string_value(json_object_get(c, "input")));
        snprintf(npy, sizeof npy, "reference/%s", json_string_value(json_object_get(c, "output_float")));
        snprintf(out, sizeof out, "%s/%s.png", tmp, name);
        CHECK(sh("%s -m %s --resolution native %s -o %s 2>/dev/null", bin(), model, shared_path(in), out) == 0);
        cartoon_image im;
        char err[256];
        CHECKF(cartoon_image_read(out, 0, &im, err, sizeof err) == CARTOON_OK, "%s: %s", out, err);
        int nd;
        size_t dims[8];
        float *ref = npy_read_f32(shared_path(npy), &nd, dims);
        if (!ref || im.data == NULL) { free(ref); continue; }
        CHECK((int)dims[0] == im.height && (int)dims[1] == im.width);
        /* PSNR of the 8-bit file against the float reference, both on the 0..255 scale */
        double se = 0;
        size_t px = (size_t)im.width * im.height;
        for (size_t p = 0; p < px; p++)
            for (int k = 0; k < 3; k++) {
                double v = (ref[p * 3 + (2 - k)] + 1.0) * 127.5;
                v = v < 0 ? 0 : v > 255 ? 255 : v;
                double d = im.data[p * 3 + k] - v;
                se += d * d;
            }
        double psnr = 10 * log10(255.0 * 255.0 / (se / (px * 3)));
        printf("    %-22s cartoonize PNG vs float reference: %.1f dB\n", name, psnr);
        CHECKF(psnr >= 50, "%s: %.1f dB", name, psnr);
        free(ref);
        cartoon_image_free(&im);
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

int main(void)
{
    model = test_model_path();
    if (!model) {
        skip_case("cli", "the shared model is not available");
        return check_summary();
    }
    snprintf(tmp, sizeof tmp, "/tmp/cartoon-cli-XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    run_case("cli_reference_cases_native", test_reference_cases);
    run_case("cli_batch_formats_options", test_batch_and_formats);
    run_case("cli_exit_codes", test_exit_codes);
    sh("rm -rf %s", tmp);
    return check_summary();
}
