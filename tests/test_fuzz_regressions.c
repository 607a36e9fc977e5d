/* Replays the fuzzers' regression files, tests/fuzz/regressions/<target>/, and their seed
 * corpora, tests/fuzz/corpus/<target>/, through the same entry points the libFuzzer targets
 * use (tests/fuzz/fuzz_entries.h): each must be refused or handled without a crash (and, in
 * make check-asan, without a sanitizer report). A file that once crashed a target is added
 * under regressions/ when the bug is fixed. Runs from the project root. */
#define _GNU_SOURCE
#include <dirent.h>
#include <string.h>

#include "check.h"
#include "fuzz/fuzz_entries.h"
#include "fuzz/fuzz_cli_entry.h"
/* The CLI's parser is not part of the library; compiled in here so that this test needs no
 * extra link rule. */
#include "../examples/cartoonize_args.c"

typedef int (*entry_fn)(const uint8_t *, size_t);

static const struct { const char *target; entry_fn fn; } TARGETS[] = {
    {"fuzz_model_load", fuzz_model_load_one}, {"fuzz_tflite", fuzz_tflite_one},
    {"fuzz_png", fuzz_image_one},             {"fuzz_jpeg", fuzz_image_one},
    {"fuzz_webp", fuzz_image_one},            {"fuzz_cli_args", fuzz_cli_args_one},
};

static int replay_dir(const char *dir, entry_fn fn)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size;
        unsigned char *b = read_file_bytes(path, &size);
        CHECKF(b != NULL, "cannot read %s", path);
        if (!b) continue;
        CHECKF(fn(b, size) == 0, "%s", path);
        free(b);
        n++;
    }
    closedir(d);
    return n;
}

static void test_replay(void)
{
    int total = 0;
    for (size_t i = 0; i < sizeof TARGETS / sizeof TARGETS[0]; i++) {
        char dir[256];
        snprintf(dir, sizeof dir, "tests/fuzz/regressions/%s", TARGETS[i].target);
        int r = replay_dir(dir, TARGETS[i].fn);
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", TARGETS[i].target);
        int s = replay_dir(dir, TARGETS[i].fn);
        printf("  %-16s %d regression files, %d seeds\n", TARGETS[i].target, r, s);
        total += r + s;
    }
    CHECKF(total > 0, "no files found: run from the project root");
}

int main(void)
{
    run_case("fuzz_regressions", test_replay);
    return check_summary();
}
