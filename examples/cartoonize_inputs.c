/* cartoonize's input enumeration and up-front checks (see cartoonize_inputs.h). */
#define _GNU_SOURCE /* qsort_r */
#include "cartoonize_inputs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *dupf(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static int push(struct cli_work *w, char *in, char *out, int want_out)
{
    if (!in || (want_out && !out)) {
        free(in);
        free(out);
        return -1;
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct cli_pair *v = realloc(w->v, cap * sizeof *v);
        if (!v) {
            free(in);
            free(out);
            return -1;
        }
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n].input = in;
    w->v[w->n].output = out;
    w->n++;
    return 0;
}

/* DIR/REL with REL's extension replaced by FMT; REL may contain '/'. */
static char *output_for(const char *dir, const char *rel, const char *fmt)
{
    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    const char *dot = strrchr(base, '.');
    size_t keep = dot && dot != base ? (size_t)(dot - rel) : strlen(rel);
    size_t dl = strlen(dir);
    const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
    size_t n = dl + 1 + keep + 1 + strlen(fmt) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%.*s.%s", dir, sep, (int)keep, rel, fmt);
    return s;
}

static int skip_dots(const struct dirent *e)
{
    return e->d_name[0] != '.'; /* ".", "..", and hidden files (temporary files among them) */
}

/* Adds the images under root/rel (rel "" at the top), in name order. */
static int walk(const struct cli_config *cfg, const char *root, const char *rel, struct cli_work *w, FILE *err)
{
    char *path = rel[0] ? dupf(root, "/", rel) : dupf(root, "", "");
    if (!path) return -1;
    struct dirent **names = NULL;
    int n = scandir(path, &names, skip_dots, alphasort);
    if (n < 0) {
        fprintf(err, "cartoonize: %s: cannot read the directory: %s\n", path, strerror(errno));
        w->problems++;
        free(path);
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char *file = dupf(path, "/", name);
        char *sub = rel[0] ? dupf(rel, "/", name) : dupf(name, "", "");
        if (!file || !sub) rc = -1;
        else if (is_dir(file)) {
            if (cfg->recursive) rc = walk(cfg, root, sub, w, err);
            else fprintf(err, "cartoonize: %s: skipped, a directory (-R walks into directories)\n", file);
        } else if (cartoon_file_format_from_path(name) == CARTOON_FILE_AUTO) {
            fprintf(err, "cartoonize: %s: skipped, not an image (.png, .jpg, .jpeg, .webp)\n", file);
            w->skipped++;
        } else if (access(file, R_OK) != 0) {
            fprintf(err, "cartoonize: %s: cannot read: %s\n", file, strerror(errno));
            w->problems++;
        } else {
            rc = push(w, file, output_for(cfg->output, sub, cfg->dir_format), 1);
            file = NULL;
        }
        free(file);
        free(sub);
        free(names[i]);
        if (rc) {
            for (i++; i < n; i++) free(names[i]);
            break;
        }
    }
    free(names);
    free(path);
    return rc;
}

/* Absolute form of p, which need not exist yet (its parent must, for a useful answer). */
static int absolute(const char *p, char *out)
{
    if (realpath(p, out)) return 1;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", p);
    size_t l = strlen(tmp);
    while (l > 1 && tmp[l - 1] == '/') tmp[--l] = 0;
    char *slash = strrchr(tmp, '/');
    const char *base = slash ? slash + 1 : tmp;
    char parent[PATH_MAX];
    if (slash == tmp) strcpy(parent, "/");
    else if (slash) { *slash = 0; snprintf(parent, sizeof parent, "%s", tmp); }
    else strcpy(parent, ".");
    char rp[PATH_MAX];
    if (!realpath(parent, rp)) return 0;
    int n = snprintf(out, PATH_MAX, "%s%s%s", rp, strcmp(rp, "/") ? "/" : "", base);
    return n > 0 && n < PATH_MAX;
}

static int by_output(const void *a, const void *b, void *v)
{
    const struct cli_pair *p = v;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(p[i].output, p[j].output);
    return c ? c : (i > j) - (i < j);
}

int cli_collect_inputs(const struct cli_config *cfg, char **argv, struct cli_work *w, FILE *err)
{
    memset(w, 0, sizeof *w);
    const char *output = cfg->output;
    size_t ol = strlen(output);
    int n_in = cfg->n_inputs, dirs = 0, stdins = 0;
    for (int i = 0; i < n_in; i++) {
        const char *in = argv[cfg->first_input + i];
        if (!strcmp(in, "-")) stdins++;
        else if (is_dir(in)) dirs++;
    }
    w->to_stdout = !strcmp(output, "-");
    w->uses_stdin = stdins > 0;
    if (stdins > 1) {
        fprintf(err, "cartoonize: '-' (standard input) given more than once\n");
        return 2;
    }
    if (w->to_stdout) {
        if (n_in > 1 || dirs) {
            fprintf(err, "cartoonize: -o - (standard output) takes one image, not %s\n", dirs ? "a directory" : "several inputs");
            return 2;
        }
    } else {
        w->to_dir = n_in > 1 || dirs > 0 || is_dir(output) || (ol && output[ol - 1] == '/');
        if (!w->to_dir && cartoon_file_format_from_path(output) == CARTOON_FILE_AUTO) {
            fprintf(err, "cartoonize: '%s': unknown output extension (use .png, .jpg, .jpeg or .webp)\n", output);
            return 2;
        }
        struct stat st;
        if (w->to_dir && stat(output, &st) == 0 && !S_ISDIR(st.st_mode)) {
            fprintf(err, "cartoonize: -o %s: exists and is not a directory (several inputs go into a directory)\n", output);
            return 2;
        }
    }
    /* an output directory at or under an input directory would read its own results (and a
     * rerun would cartoonize cartoons): refused before anything is done */
    if (w->to_dir && dirs) {
        char out_abs[PATH_MAX];
        if (absolute(output, out_abs)) {
            for (int i = 0; i < n_in; i++) {
                const char *in = argv[cfg->first_input + i];
                char in_abs[PATH_MAX];
                if (strcmp(in, "-") && is_dir(in) && realpath(in, in_abs)) {
                    size_t l = strlen(in_abs);
                    if (!strncmp(out_abs, in_abs, l) && (out_abs[l] == 0 || out_abs[l] == '/' || l == 1)) {
                        fprintf(err, "cartoonize: -o %s is inside the input directory %s: its results would be read "
                                     "as inputs; choose an output outside it\n", output, in);
                        return 2;
                    }
                }
            }
        }
    }

    for (int i = 0; i < n_in; i++) {
        const char *in = argv[cfg->first_input + i];
        int rc = 0;
        if (!strcmp(in, "-")) {
            rc = push(w, dupf("-", "", ""), w->to_stdout ? NULL : w->to_dir ? output_for(output, "stdin", cfg->dir_format)
                                                                             : dupf(output, "", ""), !w->to_stdout);
        } else if (is_dir(in)) {
            rc = walk(cfg, in, "", w, err);
        } else if (access(in, R_OK) != 0) {
            fprintf(err, "cartoonize: %s: cannot read: %s\n", in, strerror(errno));
            w->problems++;
        } else {
            const char *slash = strrchr(in, '/');
            rc = push(w, dupf(in, "", ""), w->to_stdout ? NULL : w->to_dir ? output_for(output, slash ? slash + 1 : in, cfg->dir_format)
                                                                           : dupf(output, "", ""), !w->to_stdout);
        }
        if (rc) {
            fprintf(err, "cartoonize: out of memory listing the inputs\n");
            return 2;
        }
    }

    /* two inputs mapping to one output (a.png and a.jpg both give a.png): the first keeps it,
     * the later ones are refused, so that no output of this run overwrites another */
    if (w->n > 1 && !w->to_stdout) {
        size_t *ix = malloc(w->n * sizeof *ix);
        char *drop = calloc(w->n, 1);
        if (!ix || !drop) {
            free(ix);
            free(drop);
            fprintf(err, "cartoonize: out of memory listing the inputs\n");
            return 2;
        }
        for (size_t i = 0; i < w->n; i++) ix[i] = i;
        qsort_r(ix, w->n, sizeof *ix, by_output, w->v);
        /* within each run of equal outputs (sorted by index inside the run), keep the first */
        for (size_t k = 0; k < w->n;) {
            size_t e = k + 1;
            while (e < w->n && !strcmp(w->v[ix[e]].output, w->v[ix[k]].output)) e++;
            for (size_t m = k + 1; m < e; m++) {
                drop[ix[m]] = 1;
                fprintf(err, "cartoonize: %s: skipped, its output %s is that of %s\n", w->v[ix[m]].input,
                        w->v[ix[m]].output, w->v[ix[k]].input);
                w->problems++;
            }
            k = e;
        }
        size_t o = 0;
        for (size_t i = 0; i < w->n; i++) {
            if (drop[i]) {
                free(w->v[i].input);
                free(w->v[i].output);
            } else w->v[o++] = w->v[i];
        }
        w->n = o;
        free(ix);
        free(drop);
    }
    return 0;
}

int cli_make_output_dirs(const struct cli_work *w, const char *outdir, FILE *err)
{
    if (!w->to_dir) return 0;
    if (!is_dir(outdir) && mkdir(outdir, 0777) != 0) {
        fprintf(err, "cartoonize: cannot create directory '%s': %s\n", outdir, strerror(errno));
        return 2;
    }
    /* the mirrored subfolders: every prefix of each output's directory, below outdir */
    size_t base = strlen(outdir);
    for (size_t i = 0; i < w->n; i++) {
        char *p = w->v[i].output;
        if (!p) continue;
        for (char *s = p + base + 1; (s = strchr(s, '/')); s++) {
            *s = 0;
            int bad = !is_dir(p) && mkdir(p, 0777) != 0 && errno != EEXIST;
            if (bad) fprintf(err, "cartoonize: cannot create directory '%s': %s\n", p, strerror(errno));
            *s = '/';
            if (bad) return 2;
        }
    }
    return 0;
}

void cli_work_free(struct cli_work *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].input);
        free(w->v[i].output);
    }
    free(w->v);
    memset(w, 0, sizeof *w);
}
