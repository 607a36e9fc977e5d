/*
 * libcartoon batch runner (part of libcartoon-io): many images through decode, network and
 * encode/write stages running on their own threads, in the style of the ncnn-vulkan tools'
 * `-j load:proc:save`. While one image is in the network the next ones are being decoded and
 * the previous ones encoded and written, so over a folder the wall time approaches the
 * network time alone.
 *
 * Memory is bounded: at most `window` items are between "decode started" and "reported", so
 * at most `window` decoded inputs and results are held at once, whatever the number of items.
 * Order is deterministic: the results are reported (on_item) in the order of the items,
 * whatever order the stages finish them in; outputs go to the paths the caller names, each
 * written atomically (temporary file, fsync, rename: a path never holds a partial file).
 * Nothing here prints or exits.
 */
#ifndef CARTOON_BATCH_H
#define CARTOON_BATCH_H

#include "cartoon.h"
#include "cartoon_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One unit of work. The runner reads these and never keeps pointers past cartoon_batch_run. */
typedef struct cartoon_batch_item {
    const char *input;       /* path to decode; also the name used in reports */
    const void *input_data;  /* when not NULL: decode these bytes instead of reading input
                                (e.g. standard input read by the caller) */
    size_t input_size;
    const char *output;      /* path to write atomically; NULL: the encoded bytes are handed to
                                on_item (event.data/size) and nothing is written */
    cartoon_file_format format; /* output format; AUTO = from output's extension */
    const cartoon_image *image; /* when not NULL: these pixels, already decoded (input_data and
                                   reading are skipped; input only names it). Not copied: must
                                   stay valid until the item's on_item returns */
    int raw_output;             /* 1: no encoding; the result's pixels are handed to on_item
                                   (event.image) and nothing is written (output, format unused) */
    void *user_item;            /* the caller's, untouched (e.g. a video frame's timestamp) */
} cartoon_batch_item;

typedef enum cartoon_batch_outcome {
    CARTOON_BATCH_DONE = 0,    /* written (or handed over) */
    CARTOON_BATCH_FAILED = 1,  /* status/message say why (unreadable, corrupt, write error) */
    CARTOON_BATCH_NOT_DONE = 2 /* never started: the run was stopped (should_stop) first */
} cartoon_batch_outcome;

/* What on_item receives for each item, in item order. Pointers are valid during the call. */
typedef struct cartoon_batch_event {
    size_t index;                 /* into the items array */
    const cartoon_batch_item *item;
    cartoon_batch_outcome outcome;
    cartoon_status status;        /* CARTOON_OK when DONE */
    const char *message;          /* "" when DONE; the reason otherwise */
    const unsigned char *data;    /* encoded result when item->output is NULL, else NULL */
    size_t size;
    int width, height;            /* of the result (0 when not DONE) */
    double seconds;               /* from decode start to written, this item alone */
    int cached;                   /* 1: the result came from the result cache */
    const cartoon_image *image;   /* raw_output items: the result, owned by the runner and valid
                                     during the call (RGB/RGBA as the input); else NULL */
} cartoon_batch_event;

/*
 * Result cache: content-addressed encoded results on disk. An entry's key is a hash (XXH3-128)
 * of the decoded pixels (size, pixel format, bytes), the model file's hash, the library
 * version, every cartoon_options and cartoon_write_options field, the output format and the
 * caller's tag (cartoon_batch_options.cache_tag: what else changes the output, such as the
 * device and precision). A hit gives back exactly the bytes a fresh run would write. Items
 * with opt.resolution = CARTOON_RESOLUTION_AUTO (whose working size depends on this machine's
 * timings) and items with raw_output are neither looked up nor stored.
 * Entries are files written atomically (temporary file + rename), so any number of processes
 * may share a directory: two that store one key write the same bytes, and a reader sees a whole
 * entry or none. Each entry carries its length and a checksum; a damaged one is ignored (a
 * miss) and replaced by the next store. Reading an entry refreshes its time; when the
 * directory grows past max_bytes, the least recently used entries are deleted down to 90%.
 *
 * Similar mode (opt-in, `similar` = 1): a result is also filed under a perceptual key, the
 * average hash of a 128 x 128 grey thumbnail of the input (one bit per thumbnail pixel: above
 * or below the mean) with the input's size and the options. An exact miss then falls back to
 * it, so a re-encoded or slightly changed copy of a picture gets the earlier cartoon at once.
 * RISK: that result is of the earlier picture, not of this one: a different picture whose
 * thumbnail thresholds the same way (small edits, retouches, near-duplicates) silently gets
 * the other picture's cartoon. Use it only where that is acceptable (previews).
 */
typedef struct cartoon_result_cache cartoon_result_cache;

/*
 * Opens (creating it when missing) the cache directory for results of the model in the file
 * model_path (read once and hashed here).
 *   dir        NULL = $XDG_CACHE_HOME/libcartoon/results, or ~/.cache/libcartoon/results when
 *              XDG_CACHE_HOME is unset or not absolute.
 *   max_bytes  size cap of the directory; 0 = 1 GiB.
 *   out        receives the cache (free with cartoon_result_cache_close); NULL on failure.
 * Cost: reading the model file, scanning the directory once (for its size). A cache handle may
 * be used by several threads at once (cartoon_batch_run's threads do).
 * Errors: INVALID_ARGUMENT, IO (directory cannot be created, model unreadable), OUT_OF_MEMORY.
 */
CARTOON_API cartoon_status cartoon_result_cache_open(const char *dir, const char *model_path, uint64_t max_bytes,
                                                     int similar, cartoon_result_cache **out, char *err,
                                                     size_t err_size);
/* Closes a cache handle (the entries stay on disk). NULL is a no-op. */
CARTOON_API void cartoon_result_cache_close(cartoon_result_cache *cache);
/* Counters since open: out[0] exact hits, out[1] similar hits, out[2] misses, out[3] stores,
 * out[4] damaged entries ignored, out[5] entries evicted. */
CARTOON_API void cartoon_result_cache_stats(const cartoon_result_cache *cache, uint64_t out[6]);

typedef struct cartoon_batch_options {
    int load_threads;    /* decoding threads; 0 = chosen from the core count (1, or 2 on >= 8) */
    int save_threads;    /* encoding/writing threads; 0 = as load_threads */
    int window;          /* items in flight at most; 0 = load + contexts + save + 2 */
    uint64_t max_pixels; /* per decoded image; 0 = CARTOON_DEFAULT_MAX_PIXELS */
    cartoon_options opt;          /* passed to unet_cartoonize for every item */
    cartoon_write_options wopt;   /* passed to the encoder */
    /* Called once per item, in item order, from one of the runner's threads (never two at a
     * time). Its return value is ignored. May be NULL. */
    void (*on_item)(void *user, const cartoon_batch_event *event);
    /* Polled before each item is started; nonzero stops starting new items (items already
     * started are finished and reported; the rest are reported NOT_DONE). May be NULL. */
    int (*should_stop)(void *user);
    void *user;
    cartoon_result_cache *cache; /* NULL = no cache; else looked up after decode, filled after encode */
    const char *cache_tag;       /* hashed into every key: what else changes the output (device,
                                    precision, ...); NULL = "" */
} cartoon_batch_options;

/*
 * Where cartoon_batch_run_stream takes its items: fills *item with the next one (zeroed before
 * the call) and returns 1, or returns 0 when there are no more (a negative value too: the
 * source reports its own failure). Called from one thread at a time, in item order, outside
 * the runner's locks; the item's pointers must stay valid until its on_item returns.
 */
typedef int (*cartoon_batch_source)(void *user, cartoon_batch_item *item);

/* Defaults: threads and window chosen at run time, cartoon_options_default,
 * cartoon_write_options_default, no callbacks. */
CARTOON_API void cartoon_batch_options_default(cartoon_batch_options *options);

/*
 * Runs items[0..n_items) through the pipeline. Each context runs the network in its own thread
 * (the `proc` count is n_contexts); contexts are the caller's, used by no one else during the
 * call, and may be on different devices.
 *   summary  optional: out[0] = items done, out[1] = failed, out[2] = not done.
 * Per-item failures (unreadable or corrupt input, write error) are reported through on_item and
 * do not stop the run; the call itself returns CARTOON_OK then.
 * Cost: the work of the items; threads: load + n_contexts + save, created and joined here.
 * Memory: about window x (decoded input + result + encoded result).
 * Errors: INVALID_ARGUMENT (NULL items with n_items > 0, no context, negative counts),
 *         OUT_OF_MEMORY or INTERNAL when the bookkeeping or a thread cannot be set up (then no
 *         item was started). Thread-safe for distinct contexts.
 */
CARTOON_API cartoon_status cartoon_batch_run(cartoon_context *const *contexts, int n_contexts,
                                             const cartoon_batch_item *items, size_t n_items,
                                             const cartoon_batch_options *options, size_t summary[3],
                                             char *err, size_t err_size);

/*
 * As cartoon_batch_run, with the items pulled one at a time from `source` (e.g. the frames of
 * a video as they are decoded) instead of an array; the number of items need not be known.
 * The source is the load stage (one thread: options->load_threads is ignored); at most
 * `window` items exist at once. When should_stop stops the run, the source is not called again
 * and no NOT_DONE events are made (the items were never pulled).
 * Errors: as cartoon_batch_run (INVALID_ARGUMENT for a NULL source).
 */
CARTOON_API cartoon_status cartoon_batch_run_stream(cartoon_context *const *contexts, int n_contexts,
                                                    cartoon_batch_source source, void *source_user,
                                                    const cartoon_batch_options *options, size_t summary[3],
                                                    char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif /* CARTOON_BATCH_H */
