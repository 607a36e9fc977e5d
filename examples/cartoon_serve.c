/* cartoon-serve: the cartoonizer as a small HTTP server with one page (examples/web/index.html,
 * built into the binary). Loads the model once, runs a fixed pool of engine contexts on it
 * behind a bounded queue, and keeps no state between requests except the optional result cache,
 * so it scales by running replicas behind a load balancer (docs/serving.md).
 * The parts: serve/serve_http.c (routes), serve/serve_params.c (request parameters),
 * serve/serve_pool.c (workers and queue), serve/serve_cache.c (--cache). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "cartoon.h"
#include "serve/serve_cache.h"
#include "serve/serve_http.h"
#include "serve/serve_pool.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cartoon-serve [-m MODEL] [options]\n"
        "Serves the cartoonizer over HTTP: the page at /, POST /api/cartoonize,\n"
        "GET /api/estimate?w=&h=, GET /api/presets, GET /healthz.\n"
        "  -m, --model PATH        model file (default: cartoon_model_find_default(): the\n"
        "                          White-box model, else the built-in student)\n"
        "  -l, --listen ADDR:PORT  IPv4 address and port (default 127.0.0.1:8080; port 0 picks\n"
        "                          a free one). Loopback unless told otherwise.\n"
        "  -w, --workers N         engine contexts working in parallel (default 1)\n"
        "  -t, --threads N         engine threads per worker (default: cores / workers)\n"
        "  -d, --device D          auto, cpu or cuda (default auto)\n"
        "  -q, --queue N           requests waiting for a worker before 503 (default 8)\n"
        "      --max-upload BYTES  largest upload (default 20000000)\n"
        "      --max-pixels N      largest decoded picture (default 40000000)\n"
        "      --max-work-pixels N largest working size the network runs at (default 4194304)\n"
        "      --max-seconds S     refuse requests the cost model predicts slower (default 60)\n"
        "      --auto-seconds S    resolution=auto: largest size predicted under S (default 2)\n"
        "      --queue-timeout S   longest wait for a worker before 503 (default 30)\n"
        "      --upload-timeout S  longest time to receive one upload (default 60)\n"
        "      --connections N     simultaneous connections (default 64)\n"
        "      --cache DIR         content-addressed result cache (default: none)\n"
        "      --no-calibrate      skip timing the engine at start (estimates are FLOP guesses\n"
        "                          unless the calibration cache has this machine)\n"
        "  -h, --help\n"
        "Stops on SIGTERM or SIGINT after finishing the requests in flight.\n");
}

/* The write end of the pipe main() waits on; set once before the handlers are installed. */
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    ssize_t n = write(stop_pipe[1], &b, 1); /* async-signal-safe; a full pipe already woke main */
    (void)n;
}

static int parse_listen(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
    memcpy(host, s, colon - s);
    host[colon - s] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535) return -1;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static int listen_on(const struct sockaddr_in *a, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in got;
    socklen_t n = sizeof got;
    if (bind(fd, (const struct sockaddr *)a, sizeof *a) || listen(fd, 128) ||
        getsockname(fd, (struct sockaddr *)&got, &n)) {
        close(fd);
        return -1;
    }
    *port = ntohs(got.sin_port);
    return fd;
}

static int number(const char *opt, const char *s, double lo, double hi, double *v)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s || *end || !(*v >= lo && *v <= hi)) {
        fprintf(stderr, "cartoon-serve: %s takes %g..%g, not '%s'\n", opt, lo, hi, s);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *listen_addr = "127.0.0.1:8080", *cache_dir = NULL;
    int workers = 1, threads = 0, queue_len = 8, connections = 64, calibrate = 1;
    double max_upload = 20e6, upload_timeout = 60;
    cartoon_context_options copt;
    cartoon_context_options_default(&copt);
    struct serve_limits lim = {40000000ull, 4194304ull, 60, 30, 2};
    enum { O_UPLOAD = 256, O_PIXELS, O_WORK, O_SECONDS, O_AUTO, O_QTIME, O_UTIME, O_CONN,
           O_CACHE, O_NOCAL };
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"listen", 1, 0, 'l'}, {"workers", 1, 0, 'w'},
        {"threads", 1, 0, 't'}, {"device", 1, 0, 'd'}, {"queue", 1, 0, 'q'},
        {"max-upload", 1, 0, O_UPLOAD}, {"max-pixels", 1, 0, O_PIXELS},
        {"max-work-pixels", 1, 0, O_WORK}, {"max-seconds", 1, 0, O_SECONDS},
        {"auto-seconds", 1, 0, O_AUTO}, {"queue-timeout", 1, 0, O_QTIME},
        {"upload-timeout", 1, 0, O_UTIME}, {"connections", 1, 0, O_CONN},
        {"cache", 1, 0, O_CACHE}, {"no-calibrate", 0, 0, O_NOCAL}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "m:l:w:t:d:q:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'l': listen_addr = optarg; break;
        case 'w': if (number("--workers", optarg, 1, 256, &v)) return 2; workers = (int)v; break;
        case 't': if (number("--threads", optarg, 0, 1024, &v)) return 2; threads = (int)v; break;
        case 'q': if (number("--queue", optarg, 0, 100000, &v)) return 2; queue_len = (int)v; break;
        case 'd':
            if (!strcmp(optarg, "auto")) copt.device = CARTOON_DEVICE_AUTO;
            else if (!strcmp(optarg, "cpu")) copt.device = CARTOON_DEVICE_CPU;
            else if (!strcmp(optarg, "cuda")) copt.device = CARTOON_DEVICE_CUDA;
            else { fprintf(stderr, "cartoon-serve: --device takes auto, cpu or cuda\n"); return 2; }
            break;
        case O_UPLOAD: if (number("--max-upload", optarg, 1, 1e10, &max_upload)) return 2; break;
        case O_PIXELS: if (number("--max-pixels", optarg, 1, 1e10, &v)) return 2; lim.max_pixels = (unsigned long long)v; break;
        case O_WORK: if (number("--max-work-pixels", optarg, 1, 1e10, &v)) return 2; lim.max_work_pixels = (unsigned long long)v; break;
        case O_SECONDS: if (number("--max-seconds", optarg, 0, 1e6, &lim.max_seconds)) return 2; break;
        case O_AUTO: if (number("--auto-seconds", optarg, 0, 1e6, &lim.auto_seconds)) return 2; break;
        case O_QTIME: if (number("--queue-timeout", optarg, 0, 1e6, &lim.queue_timeout)) return 2; break;
        case O_UTIME: if (number("--upload-timeout", optarg, 0, 1e6, &upload_timeout)) return 2; break;
        case O_CONN: if (number("--connections", optarg, 1, 100000, &v)) return 2; connections = (int)v; break;
        case O_CACHE: cache_dir = optarg; break;
        case O_NOCAL: calibrate = 0; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "cartoon-serve: unexpected argument '%s'\n", argv[optind]); return 2; }
    struct sockaddr_in addr;
    if (parse_listen(listen_addr, &addr)) {
        fprintf(stderr, "cartoon-serve: --listen takes IPV4:PORT, not '%s'\n", listen_addr);
        return 2;
    }

    char found[4096], searched[24576], err[512];
    if (!model_path) {
        if (cartoon_model_find_default(found, sizeof found, searched, sizeof searched) != CARTOON_OK) {
            fprintf(stderr, "cartoon-serve: no model given (-m) and none found; looked at:\n%s\n", searched);
            return 2;
        }
        model_path = found;
    }
    cartoon_model *model = NULL;
    if (cartoon_model_load(model_path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        fprintf(stderr, "cartoon-serve: %s: %s\n", model_path, err);
        return 1;
    }
    cartoon_model_info info;
    cartoon_model_get_info(model, &info);

    /* SIGTERM/SIGINT write a byte to a pipe that main() waits on: a handler works whichever
     * thread the signal lands on (OpenBLAS starts threads before main, so a signal mask set
     * here could not cover them). A client that hangs up must not kill us: SIGPIPE ignored. */
    if (pipe(stop_pipe)) { perror("cartoon-serve: pipe"); return 1; }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > workers ? (int)(cores / workers) : 1;
    }
    copt.threads = threads;
    copt.max_pixels = lim.max_pixels;
    struct serve_app app;
    memset(&app, 0, sizeof app);
    app.model = model;
    app.model_name = info.name && *info.name ? info.name : "unnamed";
    const char *slash = strrchr(model_path, '/');
    app.model_file = slash ? slash + 1 : model_path;
    app.limits = lim;
    app.max_upload = (size_t)max_upload;
    app.upload_timeout = upload_timeout;
    app.workers = workers;
    app.queue_len = queue_len;
    app.retry_after = 2;
    pthread_mutex_init(&app.lock, NULL);
    pthread_mutex_init(&app.estimator_lock, NULL);
    int rc = 1;
    struct serve_cache cache;
    struct MHD_Daemon *daemon = NULL;
    if (cache_dir) {
        if (serve_cache_open(&cache, cache_dir, serve_file_hash(model_path), err, sizeof err)) {
            fprintf(stderr, "cartoon-serve: %s\n", err);
            goto out;
        }
        app.cache = &cache;
    }
    if (cartoon_context_create(model, &copt, &app.estimator, err, sizeof err) != CARTOON_OK) {
        fprintf(stderr, "cartoon-serve: %s\n", err);
        goto out;
    }
    /* Calibrate before the workers exist, so they find this machine in the calibration cache
     * and their auto resolution and time limit use measured costs. */
    if (calibrate && cartoon_context_calibrate(app.estimator, 0) != CARTOON_OK)
        fprintf(stderr, "cartoon-serve: calibration failed (%s); estimates are FLOP guesses\n",
                cartoon_context_last_error(app.estimator));
    if (serve_pool_create(model, &copt, workers, queue_len, &lim, &app.pool, err, sizeof err)) {
        fprintf(stderr, "cartoon-serve: %s\n", err);
        goto out;
    }
    int port = 0, fd = listen_on(&addr, &port);
    if (fd < 0) {
        fprintf(stderr, "cartoon-serve: cannot listen on %s: %s\n", listen_addr, strerror(errno));
        goto out;
    }
    daemon = serve_http_start(&app, fd, connections, (int)(upload_timeout + 0.5));
    if (!daemon) {
        close(fd);
        fprintf(stderr, "cartoon-serve: cannot start the HTTP server\n");
        goto out;
    }
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
    printf("cartoon-serve: model: %s (%s), %d worker(s) x %d thread(s), queue %d\n",
           app.model_name, model_path, workers, threads, queue_len);
    printf("cartoon-serve: listening on http://%s:%d/\n", host, port);
    fflush(stdout);

    unsigned char sig = 0;
    while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR) continue;
    printf("cartoon-serve: %s: finishing %d request(s) in flight\n",
           sig == SIGTERM ? "SIGTERM" : "SIGINT", serve_http_in_flight(&app));
    fflush(stdout);
    /* Stop accepting, let the requests in flight finish and be sent, then stop. */
    int lfd = MHD_quiesce_daemon(daemon);
    for (int i = 0; i < 6000 && serve_http_in_flight(&app) > 0; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(daemon);
    if (lfd >= 0) close(lfd);
    daemon = NULL;
    printf("cartoon-serve: stopped after %llu result(s), %llu refused (503)\n", app.served,
           app.refused);
    rc = 0;
out:
    serve_pool_free(app.pool);
    cartoon_context_free(app.estimator);
    cartoon_model_free(model);
    pthread_mutex_destroy(&app.lock);
    pthread_mutex_destroy(&app.estimator_lock);
    return rc;
}
