/*
 * libcartoon: the White-box / DCT-Net UNet portrait cartoonizer, exactly, in C.
 *
 * Objects
 *   cartoon_model    weights and graph loaded from a model file (docs/model-format.md).
 *                    Immutable after load: any number of contexts in any number of threads
 *                    may share one model. Free it after every context using it is freed.
 *   cartoon_context  one execution state (scratch arena, backend, last error message).
 *                    A context is used by one thread at a time; use one context per thread.
 *
 * Errors
 *   Every call that can fail returns a cartoon_status. CARTOON_OK is 0. cartoon_strerror()
 *   gives a static one-line description of a code, cartoon_status_name() its identifier,
 *   and cartoon_context_last_error() the detailed message of the context's last failure
 *   (which offset of the file, which argument, which limit). Nothing here calls exit() or
 *   prints, except where an option asks for verbose output on stderr.
 *
 * Memory
 *   The library allocates with malloc/free. A failed allocation returns
 *   CARTOON_E_OUT_OF_MEMORY and leaves the context usable for the next call.
 *   A context allocates its arena on the first call at a given size and reuses it for
 *   later calls at the same or a smaller size.
 *
 * Global state
 *   None of the library's own. OpenBLAS, used by the im2col path, keeps a process-wide
 *   thread count (OPENBLAS_NUM_THREADS); the library does not change it.
 */
#ifndef CARTOON_H
#define CARTOON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CARTOON_VERSION_MAJOR 0
#define CARTOON_VERSION_MINOR 1
#define CARTOON_VERSION_PATCH 0
#define CARTOON_VERSION_NUMBER \
    (CARTOON_VERSION_MAJOR * 10000 + CARTOON_VERSION_MINOR * 100 + CARTOON_VERSION_PATCH)
#define CARTOON_VERSION_STRING "0.1.0"

/* Marks the exported functions; everything else in the shared libraries is hidden. */
#if defined(__GNUC__) && __GNUC__ >= 4
#define CARTOON_API __attribute__((visibility("default")))
#else
#define CARTOON_API
#endif

/* Runtime version of the linked library: CARTOON_VERSION_NUMBER / _STRING at its build. */
CARTOON_API unsigned cartoon_version_number(void);
CARTOON_API const char *cartoon_version_string(void);

/* The instruction set the CPU kernels of this process use: "avx512-bf16" (AVX-512 F/BW/VL/DQ
 * with AVX512_BF16, which the bf16 precision needs), "avx512" (F/BW/VL/DQ: the same fp32
 * kernels, no bf16), "avx2" (with FMA) or "generic": the best the CPU has, lowered by the
 * environment variable CARTOON_ISA=generic|avx2|avx512|avx512-bf16 when set (read at each
 * call). For benchmarks and logs. Static string, never NULL; thread-safe; no
 * allocation. */
CARTOON_API const char *cartoon_cpu_isa(void);

/* ------------------------------------------------------------------ errors */

typedef enum cartoon_status {
    CARTOON_OK = 0,
    CARTOON_E_INVALID_ARGUMENT = 1, /* NULL pointer, bad enum, negative size, bad stride */
    CARTOON_E_OUT_OF_MEMORY = 2,    /* an allocation failed */
    CARTOON_E_IO = 3,               /* a file could not be opened, read or written */
    CARTOON_E_BAD_MODEL = 4,        /* the model file is malformed or inconsistent */
    CARTOON_E_UNSUPPORTED = 5,      /* well formed, but uses a version/op/dtype this build lacks */
    CARTOON_E_BAD_IMAGE = 6,        /* an image file is truncated, corrupt or of unknown type */
    CARTOON_E_LIMIT = 7,            /* exceeds a configured limit (pixels, file size, tensors) */
    CARTOON_E_DEVICE = 8,           /* the requested device (CUDA) is not available or failed */
    CARTOON_E_INTERNAL = 9          /* a bug: please report it */
} cartoon_status;

/* Static, never NULL, also for unknown codes. Thread-safe. */
CARTOON_API const char *cartoon_strerror(cartoon_status status);
/* "CARTOON_E_BAD_MODEL" etc.; "CARTOON_E_UNKNOWN" for unknown codes. Thread-safe. */
CARTOON_API const char *cartoon_status_name(cartoon_status status);

/* ------------------------------------------------------------------ limits */

/* Explicit limits on untrusted input. Zero in a field means "use the default". */
typedef struct cartoon_limits {
    uint64_t max_pixels;      /* width*height of an input or working image; default 100e6 */
    uint64_t max_model_bytes; /* size of a model file; default 1 GiB */
    uint32_t max_tensors;     /* tensors in a model file; default 4096 */
    uint32_t max_nodes;       /* nodes in a model graph (its depth bound); default 1024 */
} cartoon_limits;

#define CARTOON_DEFAULT_MAX_PIXELS 100000000ull
#define CARTOON_DEFAULT_MAX_MODEL_BYTES (1ull << 30)
#define CARTOON_DEFAULT_MAX_TENSORS 4096u
#define CARTOON_DEFAULT_MAX_NODES 1024u

/* Fills *limits with the defaults above. */
CARTOON_API void cartoon_limits_default(cartoon_limits *limits);

/* ------------------------------------------------------------------ model */

typedef struct cartoon_model cartoon_model;

/*
 * Loads and validates a model file. Every offset, size, dtype, shape and graph reference is
 * checked; a bad file is refused with CARTOON_E_BAD_MODEL (or _UNSUPPORTED for a newer format
 * version or unknown op) and a message naming what is wrong. Weights are converted once to the
 * layouts the kernels use (f16/bf16 widened to f32, packed).
 *   path    file to read; read fully into memory, then parsed.
 *   limits  NULL for the defaults.
 *   out     receives the model on success, NULL on failure. Free with cartoon_model_free().
 *   err     optional buffer (may be NULL) receiving the detailed message on failure.
 * Cost: one read of the file plus O(parameters) conversion. Thread-safe (no shared state).
 */
CARTOON_API cartoon_status cartoon_model_load(const char *path, const cartoon_limits *limits,
                                              cartoon_model **out, char *err, size_t err_size);

/* The same from a buffer the caller owns; the buffer is not referenced after the call. */
CARTOON_API cartoon_status cartoon_model_load_memory(const void *data, size_t size,
                                                     const cartoon_limits *limits,
                                                     cartoon_model **out, char *err,
                                                     size_t err_size);

/* NULL is a no-op. Every context created from the model must be freed first. */
CARTOON_API void cartoon_model_free(cartoon_model *model);

typedef struct cartoon_model_info {
    uint32_t format_version; /* of the model file */
    uint32_t nodes;          /* graph nodes, input included */
    uint64_t parameters;     /* weights and biases */
    int input_channels;      /* 3 */
    int bgr;                 /* 1 when the model wants B,G,R channel order */
    int pad_multiple;        /* inputs are edge-padded to a multiple of this */
    const char *name;        /* from the file's metadata; owned by the model */
} cartoon_model_info;

/* Fills *info; pointers inside stay valid while the model lives. */
CARTOON_API cartoon_status cartoon_model_get_info(const cartoon_model *model,
                                                  cartoon_model_info *info);

/* Which model cartoon_model_find() looks for first: the exact White-box model (whitebox.safetensors,
 * made by `make model`), or the built-in student (cartoon-student.safetensors: a small model
 * distilled from it, shipped in the source tree's weights/student; faster, less exact). */
typedef enum cartoon_model_preference {
    CARTOON_MODEL_PREFER_WHITEBOX = 0, /* the White-box model; the student only when there is none */
    CARTOON_MODEL_PREFER_STUDENT = 1   /* the student; the White-box model only when there is none */
} cartoon_model_preference;

/*
 * Finds the model file to use when the caller names none (the programs without -m). Looks, in
 * this order, at:
 *   1. $CARTOON_MODEL, a path (relative ones to the working directory). When it is set and not
 *      empty it decides, whatever the preference: a missing file is CARTOON_E_IO naming it,
 *      not a fall-through.
 *   2. the preferred model (FILE: whitebox.safetensors or cartoon-student.safetensors) in
 *      a. $XDG_DATA_HOME/libcartoon/FILE, or $HOME/.local/share/libcartoon/FILE when
 *         XDG_DATA_HOME is unset, empty or not an absolute path;
 *      b. PREFIX/share/libcartoon/FILE, PREFIX being the one the library was built for
 *         (`make install PREFIX=...` installs the models there);
 *      c. the source tree the library was built from, SRCDIR: for the White-box model
 *         SRCDIR/weights/whitebox.safetensors (where `make model` writes it), for the student
 *         SRCDIR/weights/student/cartoon-student.safetensors (the committed one), so that
 *         programs run from the build tree find them (`make SOURCE_WEIGHTS_DIR=` and
 *         `make STUDENT_DIR=` build without these places).
 *   3. the other model, in the same places.
 * So with PREFER_WHITEBOX the exact model wins whenever it is found anywhere. The first existing
 * regular file wins; it is not opened (cartoon_model_load() checks it; the model's name in
 * cartoon_model_get_info() says which it is).
 *   path      receives the file's path; "" on failure.
 *   searched  optional (NULL, searched_size 0): every place looked at, one per line ('\n'
 *             between lines, none at the end), with why it was passed over, e.g.
 *             "$CARTOON_MODEL (not set)" or "/usr/local/share/libcartoon/whitebox.safetensors
 *             (not found)"; after a success the last line is the file found. At most seven
 *             lines: 4096 bytes for path and 24576 for searched are enough for paths of up to
 *             4000 bytes.
 * Errors: IO (no file found, or $CARTOON_MODEL names none), LIMIT (path or searched too small
 *         for its text; searched then keeps the lines that fit), INVALID_ARGUMENT (path NULL,
 *         path_size 0, searched NULL with a size, prefer not one of the values above).
 * Cost: up to six stat() calls; allocates nothing; never prints. Thread-safe while no thread
 * changes the environment (setenv, putenv): it reads it with getenv only.
 */
CARTOON_API cartoon_status cartoon_model_find(cartoon_model_preference prefer, char *path, size_t path_size,
                                              char *searched, size_t searched_size);
/* cartoon_model_find(CARTOON_MODEL_PREFER_WHITEBOX, ...): the exact model when there is one. */
CARTOON_API cartoon_status cartoon_model_find_default(char *path, size_t path_size,
                                                      char *searched, size_t searched_size);

/* ------------------------------------------------------------------ context */

typedef enum cartoon_device {
    CARTOON_DEVICE_AUTO = 0, /* CUDA when built in and a GPU is present, else CPU */
    CARTOON_DEVICE_CPU = 1,
    CARTOON_DEVICE_CUDA = 2  /* fails with CARTOON_E_DEVICE when unavailable */
} cartoon_device;

typedef enum cartoon_precision {
    CARTOON_PRECISION_FP32 = 0, /* default: within 1e-4 of the reference in model space */
    CARTOON_PRECISION_BF16 = 1, /* CPU with AVX512_BF16 only (cartoon_cpu_isa() is
                                   "avx512-bf16"): bf16 operands, fp32 sums, in the 3x3
                                   convolutions (F(4x4,3x3) Winograd) and most others; >= 50 dB
                                   PSNR (53.2-59.9 on the reference cases). Elsewhere, and with
                                   CARTOON_CONV_IM2COL, context creation returns
                                   CARTOON_E_UNSUPPORTED */
    CARTOON_PRECISION_FP16 = 2  /* CUDA only; >= 50 dB PSNR */
} cartoon_precision;

typedef enum cartoon_conv_algo {
    CARTOON_CONV_AUTO = 0,   /* the fastest exact-enough path for the device */
    CARTOON_CONV_IM2COL = 1, /* im2col + sgemm: the exact reference path */
    CARTOON_CONV_FAST = 2    /* Winograd / vectorised kernels */
} cartoon_conv_algo;

typedef struct cartoon_context_options {
    cartoon_device device;       /* default AUTO */
    cartoon_precision precision; /* default FP32 */
    cartoon_conv_algo conv;      /* default AUTO */
    int threads;                 /* engine threads; 0 = online cores (default) */
    uint64_t max_pixels;         /* 0 = CARTOON_DEFAULT_MAX_PIXELS */
    uint64_t device_memory_budget; /* CUDA: bytes of device memory allowed; 0 = no limit.
                                      unet_cartoonize() runs in exact tiles (see
                                      cartoon_options.memory_budget) when the activations and
                                      weights would not fit; cartoon_forward() does not tile */
    int verbose;                 /* 1: one line per decision (device fallback...) on stderr */
} cartoon_context_options;

CARTOON_API void cartoon_context_options_default(cartoon_context_options *options);

typedef struct cartoon_context cartoon_context;

/*
 * Creates a context on a model. options NULL = defaults. The model must outlive the context.
 *   err  optional buffer (may be NULL) receiving the detailed message on failure, e.g. why
 *        CUDA is unavailable.
 * Cost: small; buffers are allocated on the first run. Thread-safe with respect to other
 * contexts on the same model.
 * Errors: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE (CUDA asked for and not available),
 *         UNSUPPORTED (a precision the device lacks, e.g. fp16 on the CPU).
 */
CARTOON_API cartoon_status cartoon_context_create(const cartoon_model *model,
                                                  const cartoon_context_options *options,
                                                  cartoon_context **out, char *err,
                                                  size_t err_size);

/* NULL is a no-op. Frees the arena and backend state. */
CARTOON_API void cartoon_context_free(cartoon_context *ctx);

/* Detailed message of the context's last failure ("" after a success). Valid until the next
 * call on the context. NULL ctx gives a static string. */
CARTOON_API const char *cartoon_context_last_error(const cartoon_context *ctx);

/* The device the context actually runs on (CPU or CUDA, never AUTO). */
CARTOON_API cartoon_device cartoon_context_device(const cartoon_context *ctx);

/* Bytes of scratch the last run's planned arena held (the peak of live activations). */
CARTOON_API uint64_t cartoon_context_arena_bytes(const cartoon_context *ctx);

/* ------------------------------------------------------------------ images */

typedef enum cartoon_pixel_format {
    CARTOON_PIXEL_RGB = 0,  /* 3 bytes per pixel */
    CARTOON_PIXEL_RGBA = 1, /* 4 bytes; alpha passes through unchanged */
    CARTOON_PIXEL_BGR = 2,  /* 3 bytes (OpenCV order) */
    CARTOON_PIXEL_BGRA = 3  /* 4 bytes */
} cartoon_pixel_format;

/* An 8-bit interleaved image the caller owns. stride is bytes per row (>= width*channels). */
typedef struct cartoon_image {
    uint8_t *data;
    int width, height;
    size_t stride;
    cartoon_pixel_format format;
} cartoon_image;

/* Bytes per pixel of a format (3 or 4), 0 for an invalid one. */
CARTOON_API int cartoon_pixel_size(cartoon_pixel_format format);

/*
 * How unet_cartoonize() turns its final float pixel value v (0..255 scale; the network output
 * y mapped back as (y + 1) * 127.5 for the shipped model, after any resampling and strength
 * blend, which stay in float) into 8 bits. Both clip to 0..255 first.
 */
typedef enum cartoon_quantize {
    CARTOON_QUANTIZE_TRUNCATE = 0, /* default: floor(v), as the original White-box and DCT-Net
                                      code do (np.clip(v, 0, 255).astype(np.uint8)): at native
                                      resolution and strength 1 the bytes equal what the
                                      original program writes for the same network output */
    CARTOON_QUANTIZE_ROUND = 1     /* nearest level (halves up): closer to the float result on
                                      average (half a level less bias) */
} cartoon_quantize;

/* cartoon_options.resolution: choose the working size from the budgets (see below). */
#define CARTOON_RESOLUTION_AUTO (-1)
/* What CARTOON_RESOLUTION_AUTO assumes for a budget left at 0. */
#define CARTOON_AUTO_DEFAULT_TIME_BUDGET 2.0                /* seconds */
#define CARTOON_AUTO_DEFAULT_MEMORY_BUDGET (1024ull << 20)  /* bytes: 1 GiB */
/* The smallest longest side CARTOON_RESOLUTION_AUTO considers. */
#define CARTOON_AUTO_MIN_RESOLUTION 64

typedef struct cartoon_options {
    int resolution;     /* 0 = native; N > 0 = resample so the longest side is N;
                           CARTOON_RESOLUTION_AUTO: the largest longest side, up to native, whose
                           predicted time (cartoon_estimate_cost) fits time_budget and whose
                           untiled host memory fits memory_budget (defaults above when 0); see
                           cartoon_resolve_options() */
    float strength;     /* 0..1: blend of cartoon over original; 1 = full cartoon (default) */
    int keep_model_size; /* 0 (default): output at the input size; 1: at the model resolution */
    cartoon_quantize quantize; /* float to 8 bits; default CARTOON_QUANTIZE_TRUNCATE */
    /* Exact tiling. When the call's host memory (cartoon_estimate_cost's host_bytes; on CUDA
     * also the device arena against the context's device_memory_budget) would exceed
     * memory_budget, or when tile > 0, the network runs over overlapping tiles of the working
     * image: each tile carries a halo of the network's receptive field (derived from the graph)
     * on every side that is not the image border, tiles start at multiples of the model's
     * pad_multiple, and only each tile's centre is kept. The result equals the untiled one (up
     * to float rounding, about 1e-6 in model space). At native resolution the 8-bit input is
     * converted and the 8-bit output written tile by tile, so the memory held depends on the
     * tile, not the image; with resampling the working image and result (floats) are held
     * whole. A budget below what the smallest tile needs is CARTOON_E_LIMIT. */
    uint64_t memory_budget; /* bytes; 0 = no limit (default) */
    int tile;               /* > 0: side of each tile's kept centre in working pixels (rounded
                               up to pad_multiple), tiling even when memory fits; 0 = by budget */
    double time_budget;     /* seconds, for CARTOON_RESOLUTION_AUTO only; 0 = default */
} cartoon_options;

CARTOON_API void cartoon_options_default(cartoon_options *options);

/*
 * Replaces CARTOON_RESOLUTION_AUTO in *in by the working resolution it picks for an in_w x in_h
 * input on this context: the largest longest side from native down to
 * CARTOON_AUTO_MIN_RESOLUTION whose cartoon_estimate_cost() (untiled, tile and memory_budget set
 * aside) predicts seconds <= time_budget and host_bytes <= memory_budget (device_bytes too on
 * CUDA), the budgets' defaults applying when they are 0. out->resolution is then 0 (native) or
 * that side; every other field is copied (memory_budget stays: tiling then never triggers,
 * since the untiled run fits it). Options without AUTO are copied unchanged.
 *   why  optional (may be NULL): one line saying what was chosen and why (the predictions at
 *        the chosen size, the budgets, which one bound it).
 * Cost: up to about 20 estimates (plans of the graph, microseconds each); the first on a context
 * reads the calibration cache as cartoon_estimate_cost() does. Not thread-safe on one context.
 * Errors: INVALID_ARGUMENT (NULL ctx, in or out, empty size, an option out of range, a negative
 *         budget), LIMIT (nothing from CARTOON_AUTO_MIN_RESOLUTION up fits the budgets; the
 *         message gives the smallest prediction).
 */
CARTOON_API cartoon_status cartoon_resolve_options(cartoon_context *ctx, int in_w, int in_h,
                                                   const cartoon_options *in, cartoon_options *out,
                                                   char *why, size_t why_size);

/* Size of the output unet_cartoonize() will write for an input of in_w x in_h. */
CARTOON_API cartoon_status cartoon_output_size(const cartoon_options *options, int in_w, int in_h,
                                               int *out_w, int *out_h);

/*
 * Cartoonizes an 8-bit image.
 *   in   the picture (any format above, any size within max_pixels).
 *   out  caller-owned, of the size cartoon_output_size() gives and any format above; may not
 *        overlap in. Alpha (when both have it) is copied from in; otherwise 255.
 *   opt  NULL = defaults.
 * Pixels go into model space as the original does (v / 127.5 - 1 for the shipped model, in
 * float) and come back as (y + 1) * 127.5; resampling and the strength blend work on those
 * floats, and opt->quantize turns the final value into 8 bits once, at the end.
 * Cost: about 250 MFLOP per 1000 pixels at the model resolution; see README for timings.
 * The first call at a size plans and allocates the arena; later calls allocate nothing.
 * CARTOON_RESOLUTION_AUTO is resolved first (cartoon_resolve_options(); with verbose, one line
 * on stderr says what and why); memory_budget / tile run the network in exact tiles (one line
 * on stderr with verbose).
 * Errors: INVALID_ARGUMENT (NULL, bad format, wrong out size, stride too small, an option out
 *         of range: resolution, strength, quantize, tile, time_budget),
 *         LIMIT (pixels; a memory budget below the smallest tile; AUTO with budgets nothing
 *         fits), OUT_OF_MEMORY, DEVICE. Details in cartoon_context_last_error(). On an error
 *         before the network runs (every argument and budget check) out is untouched.
 */
CARTOON_API cartoon_status unet_cartoonize(cartoon_context *ctx, const cartoon_image *in,
                                           cartoon_image *out, const cartoon_options *opt);

/* ------------------------------------------------------------------ presets */

/* A named set of output choices for one use case (the seed article's table). Programs apply
 * a preset first and then the options the user gave explicitly, so those win. */
typedef struct cartoon_preset {
    const char *name;        /* "preview", "social", "print", "low-end" */
    int resolution;          /* longest side the network runs at (cartoon_options.resolution) */
    float strength;          /* cartoon_options.strength */
    const char *format;      /* file format of the result: "jpg", "webp" or "png" */
    int quality;             /* JPEG / WebP quality 1..100 (ignored for PNG) */
    const char *use;         /* one line: what it is for */
    int prefer_student;      /* 1: a program that finds the model itself (no -m, no
                                $CARTOON_MODEL) runs the built-in student when there is one
                                (cartoon_model_find(CARTOON_MODEL_PREFER_STUDENT, ...)) */
} cartoon_preset;

/* The presets, in a static table of *count entries (count may be NULL). Thread-safe. */
CARTOON_API const cartoon_preset *cartoon_presets(int *count);
/* The preset of that name (case-sensitive), NULL when there is none. Thread-safe. */
CARTOON_API const cartoon_preset *cartoon_preset_find(const char *name);

/* ------------------------------------------------------------------ cost model */

/* Where an estimate's time comes from. */
typedef enum cartoon_calibration {
    CARTOON_CALIBRATION_NONE = 0,     /* no calibration for this context: a generic guess from
                                         the FLOPs (CPU: 25 GFLOP/s per thread; CUDA: 5 TFLOP/s),
                                         right to within a factor of a few */
    CARTOON_CALIBRATION_MEASURED = 1, /* measured by cartoon_context_calibrate() on this context */
    CARTOON_CALIBRATION_CACHED = 2    /* read from the calibration cache file (see below) */
} cartoon_calibration;

/* What one unet_cartoonize() call with an input of in_w x in_h would cost on a context. */
typedef struct cartoon_estimate {
    int width, height;               /* working size: where the network runs (resolution applied) */
    int padded_width, padded_height; /* the working size edge-padded to the model's multiple */
    int out_width, out_height;       /* the output size (cartoon_output_size()) */
    double flops;                    /* the network's FLOPs at the padded size (multiply-add = 2) */
    double seconds;                  /* predicted wall time of the call: network, 8-bit conversion,
                                        resampling; > 0 */
    cartoon_calibration calibrated;  /* how `seconds` was obtained */
    uint64_t host_bytes;             /* peak host memory the call holds: arena_bytes (CPU) +
                                        buffer_bytes + transient_bytes (+ the CUDA backend's
                                        pinned staging buffer). Exactly the peak of a call on a
                                        context that already ran at this size; a first call
                                        does not go higher (except with an observer that wants
                                        data: its copy buffer grows node by node) */
    uint64_t device_bytes;           /* CUDA: the activation arena on the GPU (the backend's weights
                                        and its scratch, up to 256 MiB of im2col bands, come on
                                        top and are not included); 0 on the CPU */
    uint64_t arena_bytes;            /* what cartoon_context_arena_bytes() reports after the call
                                        on a context that held less: the planned activation arena
                                        with every kernel's scratch (CPU: exact) */
    uint64_t buffer_bytes;           /* the context's own float buffers the call grows and keeps
                                        (the model-space image, the resampling source, host
                                        staging; an observer's copy when it wants data) */
    uint64_t transient_bytes;        /* the largest set of temporaries allocated and freed within
                                        the call (resampling to and from the working size) */
} cartoon_estimate;

/*
 * Predicts the time and memory of unet_cartoonize(ctx, in, out, opt) for an in_w x in_h input,
 * without running it or allocating the arena.
 *   opt  NULL = defaults; validated as unet_cartoonize() does.
 *   out  receives the estimate.
 * Memory is exact, from the same planner the call uses (same fusion, same kernel scratch):
 * arena_bytes, buffer_bytes and transient_bytes are the bytes the library requests (malloc
 * bookkeeping and the allocator's rounding not counted; OpenBLAS's own buffers, on the im2col
 * path, neither). They are what a context that has not run at a larger size allocates: a context
 * keeps its largest arena and buffers, so one that ran bigger inputs holds more.
 * With opt->memory_budget or opt->tile set, the figures are those of the run the call makes:
 * tiled (arena_bytes is then one tile's arena, buffer_bytes holds the tile's float buffer on
 * a device backend; the CPU backend takes each tile in its arena) when the
 * untiled host_bytes exceed the budget or tile > 0, and `seconds` counts every tile's work,
 * overlap included; a budget below the smallest tile is LIMIT. CARTOON_RESOLUTION_AUTO is
 * resolved first (cartoon_resolve_options()).
 * Time: from the context's calibration (cartoon_context_calibrate()). A context without one
 * looks once for a matching entry in the cache file (one small file read) and otherwise gives
 * the uncalibrated FLOP-based guess (calibrated = CARTOON_CALIBRATION_NONE); it never measures
 * on its own. Predictions are for a machine otherwise idle; they grow with the size.
 * Cost: planning the graph (microseconds) plus, the first time on a context, reading the cache.
 * Not thread-safe on one context (like every call on a context).
 * Errors: INVALID_ARGUMENT (NULL ctx or out, in_w or in_h < 1, an option out of range),
 *         LIMIT (input or working size over the context's max_pixels, or sizes that overflow),
 *         OUT_OF_MEMORY. Details in cartoon_context_last_error().
 */
CARTOON_API cartoon_status cartoon_estimate_cost(cartoon_context *ctx, int in_w, int in_h,
                                                 const cartoon_options *opt, cartoon_estimate *out);

/* Flags of cartoon_context_calibrate(). */
#define CARTOON_CALIBRATE_FORCE 1u    /* measure even when the cache holds a matching entry, and
                                         replace that entry */
#define CARTOON_CALIBRATE_NO_CACHE 2u /* neither read nor write the cache file */

/*
 * Calibrates the context's time model on this machine: runs unet_cartoonize() on synthetic
 * 128 x 128 and 256 x 256 pictures (one warm-up and five timed runs each, with an observer
 * timing every node; each node's fastest run counts) and a few resamplings, then fits, for every
 * node, time = a * pixels + b; and the same for the per-call work outside the nodes.
 * cartoon_estimate_cost() scales each node by its pixels (its FLOPs) at the size asked. Run it
 * on an otherwise idle machine: what other processes take during these runs is mistaken for
 * the engine's own cost (FORCE measures again).
 *
 * The cache: one JSON file, $CARTOON_CACHE_DIR/calibration.json when that variable is set and
 * not empty, else $XDG_CACHE_HOME/libcartoon/calibration.json (XDG_CACHE_HOME absolute), else
 * $HOME/.cache/libcartoon/calibration.json (directories created as needed). It holds up to 16
 * entries, each keyed by the CPU model name, the CPU kernels' instruction set, the GPUs
 * (CUDA contexts), the thread count, device, precision, conv option, the model (name,
 * parameters, nodes) and the library version; an entry is used only when every part of its key
 * matches. A damaged or foreign file is ignored and replaced; the file is replaced atomically,
 * so concurrent writers lose at most each other's new entry. Without FORCE a matching entry is
 * adopted instead of measuring (cartoon_estimate_cost() then reports CARTOON_CALIBRATION_CACHED).
 * Failing to write the cache is not an error (one line on stderr when verbose). Without FORCE,
 * a context that already has a calibration keeps it.
 *   flags  0 or CARTOON_CALIBRATE_* ORed.
 * Cost when it measures: 12 runs of the network at 128 x 128 and 256 x 256, about 0.7 s with 2
 * threads of a recent x86-64 core pair (about 1.2 s with 1); one file read when the cache
 * answers. A context with max_pixels below 256 x 256 calibrates at the largest square it allows
 * and half that. Afterwards the context holds the arena for 256 x 256 (about 20 MB) if it held
 * less. The context's observer is set aside during the runs and put back. Not thread-safe on
 * one context.
 * Errors: INVALID_ARGUMENT (NULL ctx, unknown flags), LIMIT (max_pixels below 32 x 32),
 *         OUT_OF_MEMORY, DEVICE, and what unet_cartoonize() returns.
 */
CARTOON_API cartoon_status cartoon_context_calibrate(cartoon_context *ctx, unsigned flags);

/* ------------------------------------------------------------------ lower level */

/* What an observer sees after each graph node (for tests, tracing and benchmarks). */
typedef struct cartoon_layer_info {
    int index;             /* node index in the graph */
    const char *name;      /* node name from the model file */
    const char *op;        /* "conv2d", "depthwise_conv2d", "add", "concat", "upsample",
                              "guided_filter", "input" */
    int in_h, in_w, in_c;  /* first input's shape */
    int out_h, out_w, out_c;
    int kernel, stride;    /* 0 where not a convolution */
    double flops;          /* multiply-adds counted as 2 */
    double ms;             /* wall time of the node (nodes fused into the next report 0) */
    const float *data;     /* output, NHWC float32 (host memory; NULL on a device backend) */
} cartoon_layer_info;

typedef void (*cartoon_observer)(void *user, const cartoon_layer_info *info);

/* Calls fn after every node of later runs (NULL removes it). Timing is collected only while
 * an observer is set. Fusion is disabled while the observer asks for data (want_data=1) so
 * every node's output exists. */
CARTOON_API cartoon_status cartoon_context_set_observer(cartoon_context *ctx, cartoon_observer fn,
                                                        void *user, int want_data);

/*
 * Runs the network on a float image already in model space: H x W x C interleaved, channel
 * order and normalisation as the model wants (BGR, v/127.5-1 for the shipped model). Any
 * H, W >= 1: the input is edge-padded to the model's multiple and the output cropped back.
 * out has the same shape and may be the same buffer as in. Errors as unet_cartoonize().
 */
CARTOON_API cartoon_status cartoon_forward(cartoon_context *ctx, const float *in, int h, int w,
                                           float *out);

#ifdef __cplusplus
}
#endif
#endif /* CARTOON_H */
