#include "check.h"
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cartoon.h"

int check_failures_in_case;
static int n_pass, n_fail, n_skip;

void run_case(const char *name, void (*fn)(void))
{
    check_failures_in_case = 0;
    fn();
    if (check_failures_in_case) { n_fail++; printf("FAIL %s\n", name); }
    else { n_pass++; printf("ok   %s\n", name); }
    fflush(stdout);
}

void skip_case(const char *name, const char *reason)
{
    n_skip++;
    printf("skip %s: %s\n", name, reason);
}

int check_summary(void)
{
    printf("TESTS %d %d %d\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}

const char *shared_dir(void)
{
    const char *s = getenv("CARTOON_SHARED");
    return s && *s ? s : "../shared";
}

const char *build_dir(void)
{
    const char *s = getenv("CARTOON_BUILD");
    return s && *s ? s : "build";
}

const char *shared_path(const char *rel)
{
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", shared_dir(), rel);
    return b;
}

const char *test_model_path(void)
{
    static char path[1024];
    static int state; /* 0 unknown, 1 ready, -1 missing */
    if (state == 1) return path;
    if (state == -1) return NULL;
    snprintf(path, sizeof path, "%s/test-model.safetensors", build_dir());
    const char *tfl = shared_path("models/whitebox_cartoon_gan_fp16.tflite");
    struct stat st;
    if (stat(tfl, &st) != 0) { state = -1; return NULL; }
    struct stat ms;
    if (stat(path, &ms) != 0 || ms.st_mtime < st.st_mtime) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s/cartoon-convert '%s' '%s' >/dev/null", build_dir(), tfl, path);
        if (system(cmd) != 0) { state = -1; return NULL; }
    }
    state = 1;
    return path;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
uint32_t rng_u32(void)
{
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
float rng_uniform(float lo, float hi) { return lo + (hi - lo) * (float)(rng_u32() / 4294967296.0); }

unsigned char *read_file_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long sz = ftell(f);
    if (sz < 0) { fclose(f); return NULL; }
    rewind(f);
    unsigned char *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) { free(b); b = NULL; }
    fclose(f);
    if (b && n) *n = (size_t)sz;
    return b;
}

int write_file_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

float *npy_read_f32(const char *path, int *ndim, size_t dims[8])
{
    size_t n;
    unsigned char *b = read_file_bytes(path, &n);
    if (!b) return NULL;
    float *out = NULL;
    if (n < 10 || memcmp(b, "\x93NUMPY", 6) != 0) goto done;
    size_t hl, ho;
    if (b[6] == 1) { hl = b[8] | (size_t)b[9] << 8; ho = 10; }
    else { if (n < 12) goto done; hl = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24; ho = 12; }
    if (ho + hl > n) goto done;
    char hdr[4096];
    if (hl >= sizeof hdr) goto done;
    memcpy(hdr, b + ho, hl); hdr[hl] = 0;
    if (!strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True")) goto done;
    char *sp = strstr(hdr, "'shape': (");
    if (!sp) goto done;
    sp += 10;
    int nd = 0; size_t total = 1;
    while (*sp && *sp != ')' && nd < 8) {
        char *end;
        unsigned long v = strtoul(sp, &end, 10);
        if (end == sp) break;
        dims[nd++] = v; total *= v;
        sp = end;
        while (*sp == ',' || *sp == ' ') sp++;
    }
    *ndim = nd;
    if (ho + hl + total * 4 > n) goto done;
    out = malloc(total * 4 + 1);
    if (out) memcpy(out, b + ho + hl, total * 4);
done:
    free(b);
    return out;
}

double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

static double to_pix(float y)
{
    double v = ((double)y + 1.0) * 127.5;
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

double psnr_model_space(const float *a, const float *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) { double d = to_pix(a[i]) - to_pix(b[i]); se += d * d; }
    if (se == 0) return INFINITY;
    return 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

double psnr_u8(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) { double d = (double)a[i] - b[i]; se += d * d; }
    if (se == 0) return INFINITY;
    return 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

float *rgb_to_model_space(const cartoon_image *im)
{
    size_t n = (size_t)im->width * im->height;
    float *x = malloc(n * 3 * sizeof *x);
    if (!x) return NULL;
    for (int y = 0; y < im->height; y++)
        for (int xx = 0; xx < im->width; xx++) {
            const uint8_t *p = im->data + (size_t)y * im->stride + (size_t)xx * 3;
            float *d = x + ((size_t)y * im->width + xx) * 3;
            for (int c = 0; c < 3; c++) d[c] = p[2 - c] / 127.5f - 1.f;
        }
    return x;
}
