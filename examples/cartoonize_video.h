/* cartoonize's video mode (FFmpeg's libavformat/libavcodec/libswscale, linked only into the
 * program): every frame of the input's video stream goes through the batch pipeline
 * (cartoon_batch_run_stream), is encoded again (libx264 by default) with its own timestamp,
 * and the audio and subtitle streams are copied packet for packet. The output is written to a
 * temporary file beside it and renamed at the end: an interrupted or failed run leaves none. */
#ifndef CARTOONIZE_VIDEO_H
#define CARTOONIZE_VIDEO_H
#include <stdio.h>
#include "cartoon_batch.h"
#include "cartoonize_args.h"

/* 1 when path names a video file by its extension (.mp4 .mkv .mov .webm .avi .m4v .mpg .mpeg
 * .ts .flv .ogv). */
int cli_is_video_path(const char *path);

/* The checks made before any work: one input, -o a video file path (not a directory, not -),
 * the input readable with a video stream whose codec this FFmpeg decodes, the encoder there.
 * Returns 0 or 2 (reported on err). */
int cli_video_check(const struct cli_config *cfg, const char *in, FILE *err);

/* Runs the video; returns the exit status (0, or 1 after reporting on err: failed or
 * interrupted, no output left). should_stop is polled between frames. */
int cli_run_video(const struct cli_config *cfg, const char *in, cartoon_context *const *ctxs, int n_ctx,
                  int (*should_stop)(void *), FILE *err);
#endif
