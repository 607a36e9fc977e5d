/* Data safety of the cartoonize CLI, run as a child process ($CARTOON_BUILD/cartoonize, no
 * shell): (a) a failed run leaves an existing output byte-identical and no temporary file
 * behind; (b) a batch interrupted with SIGINT after its first "[1/" progress line exits 1,
 * lists the inputs not done, and leaves only complete, decodable images in the output
 * directory. Uses the real model (skipped when absent) and small inputs written here. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"

static char cli[1024];
static const char *model;
static char tmp[] = "/tmp/cartoon-cli-safety-XXXXXX";

/* Starts cli with args; returns the pid, stderr's read end in *err_fd. */
static pid_t spawn(char *const *args, int *err_fd)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv(cli, args);
        _exit(127);
    }
    close(p[1]);
    *err_fd = p[0];
    return pid;
}

/* Reads fd until EOF (or until `until` appears, when given) into buf. */
static size_t read_until(int fd, char *buf, size_t cap, size_t have, const char *until)
{
    while (have + 1 < cap) {
        ssize_t r = read(fd, buf + have, cap - 1 - have);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = 0;
        if (until && strstr(buf, until)) break;
    }
    buf[have] = 0;
    return have;
}

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_input(const char *path, int w, int h, int seed)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (uint8_t)((i * 7 + seed * 131 + (i / (w * 3)) * 3) & 0xff);
    cartoon_image img = {px, w, h, (size_t)w * 3, CARTOON_PIXEL_RGB};
    CHECK(cartoon_image_write(path, &img, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_OK);
    free(px);
}

/* Names in dir (hidden ones included), newline-separated; count returned. */
static int list_dir(const char *dir, char *names, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int k = 0;
    names[0] = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        k++;
        size_t l = strlen(names);
        snprintf(names + l, cap - l, "%s\n", e->d_name);
    }
    closedir(d);
    return k;
}

static void test_failed_run_keeps_output(void)
{
    char in_dir[1200], out_dir[1200], bad[1300], out[1300];
    snprintf(in_dir, sizeof in_dir, "%s/a_in", tmp);
    snprintf(out_dir, sizeof out_dir, "%s/a_out", tmp);
    mkdir(in_dir, 0777);
    mkdir(out_dir, 0777);
    snprintf(bad, sizeof bad, "%s/corrupt.png", in_dir);
    snprintf(out, sizeof out, "%s/result.png", out_dir);
    /* a PNG signature and IHDR, then garbage */
    static const unsigned char corrupt[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0garbage-garbage";
    CHECK(write_file_bytes(bad, corrupt, sizeof corrupt - 1) == 0);
    write_input(out, 12, 9, 1);
    size_t n0, n1;
    unsigned char *before = read_file_bytes(out, &n0);
    char *args[] = {cli, "-m", (char *)model, "-t", "1", bad, "-o", out, NULL};
    int fd;
    pid_t pid = spawn(args, &fd);
    CHECK(pid > 0);
    if (pid <= 0) { free(before); return; }
    char err[8192];
    read_until(fd, err, sizeof err, 0, NULL);
    close(fd);
    int rc = wait_status(pid);
    CHECKF(rc == 1, "exit status %d, stderr: %s", rc, err);
    CHECKF(strstr(err, "corrupt.png") != NULL, "stderr does not name the input: %s", err);
    unsigned char *after = read_file_bytes(out, &n1);
    CHECK(before && after && n0 == n1 && !memcmp(before, after, n0));
    char names[4096];
    CHECKF(list_dir(out_dir, names, sizeof names) == 1, "output directory holds:\n%s", names);
    free(before);
    free(after);
    unlink(out);
    unlink(bad);
    rmdir(out_dir);
    rmdir(in_dir);
}

#define N_BATCH 8

static void test_interrupted_batch(void)
{
    char in_dir[1200], out_dir[1200], inputs[N_BATCH][1300];
    snprintf(in_dir, sizeof in_dir, "%s/b_in", tmp);
    snprintf(out_dir, sizeof out_dir, "%s/b_out", tmp);
    mkdir(in_dir, 0777);
    char *args[8 + N_BATCH + 1];
    int a = 0;
    args[a++] = cli;
    args[a++] = "-m";
    args[a++] = (char *)model;
    args[a++] = "-t";
    args[a++] = "1";
    for (int i = 0; i < N_BATCH; i++) {
        snprintf(inputs[i], sizeof inputs[i], "%s/img%d.png", in_dir, i);
        write_input(inputs[i], 320, 288, i + 2); /* a few tenths of a second each */
        args[a++] = inputs[i];
    }
    args[a++] = "-o";
    args[a++] = out_dir;
    args[a] = NULL;
    int fd;
    pid_t pid = spawn(args, &fd);
    CHECK(pid > 0);
    if (pid <= 0) return;
    static char err[65536];
    size_t n = read_until(fd, err, sizeof err, 0, "[1/");
    int saw_first = strstr(err, "[1/") != NULL;
    CHECKF(saw_first, "no progress line; stderr: %s", err);
    if (saw_first) kill(pid, SIGINT);
    read_until(fd, err, sizeof err, n, NULL);
    close(fd);
    int rc = wait_status(pid);
    CHECKF(rc == 1, "exit status %d after SIGINT, stderr:\n%s", rc, err);
    const char *intr = strstr(err, "interrupted");
    CHECKF(intr != NULL, "no 'interrupted' report:\n%s", err);

    /* every file in the directory is a complete image of an input that was reported done;
     * every input without an output is listed after the interruption notice */
    int done = 0;
    for (int i = 0; i < N_BATCH; i++) {
        char outp[1400];
        snprintf(outp, sizeof outp, "%s/img%d.png", out_dir, i);
        cartoon_image img;
        char e[256];
        if (access(outp, F_OK) == 0) {
            done++;
            CHECKF(cartoon_image_read(outp, 0, &img, e, sizeof e) == CARTOON_OK && img.width == 320 &&
                   img.height == 288, "%s: %s", outp, e);
            cartoon_image_free(&img);
            CHECKF(strstr(err, outp) != NULL, "%s exists but was not reported done", outp);
            unlink(outp);
        } else {
            CHECKF(intr && strstr(intr, inputs[i]) != NULL, "input %s neither done nor listed as not done:\n%s",
                   inputs[i], err);
        }
        unlink(inputs[i]);
    }
    CHECKF(done >= 1 && done < N_BATCH, "%d of %d done: the interruption was not exercised", done, N_BATCH);
    char names[4096];
    int left = list_dir(out_dir, names, sizeof names);
    CHECKF(left == 0, "files left in the output directory besides the results:\n%s", names);
    rmdir(out_dir);
    rmdir(in_dir);
}

int main(void)
{
    snprintf(cli, sizeof cli, "%s/cartoonize", build_dir());
    model = test_model_path();
    if (!model) {
        skip_case("cli_safety", "shared model not found");
        return check_summary();
    }
    if (access(cli, X_OK) != 0) {
        skip_case("cli_safety", "cartoonize not built");
        return check_summary();
    }
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    run_case("cli_failed_run_keeps_output", test_failed_run_keeps_output);
    run_case("cli_interrupted_batch", test_interrupted_batch);
    rmdir(tmp);
    return check_summary();
}
