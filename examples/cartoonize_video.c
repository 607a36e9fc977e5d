/* cartoonize's video mode (see cartoonize_video.h). */
#include "cartoonize_video.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "cartoonize_progress.h"

int cli_is_video_path(const char *path)
{
    static const char *ext[] = {"mp4", "mkv", "mov", "webm", "avi", "m4v", "mpg", "mpeg", "ts", "flv", "ogv"};
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return 0;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot + 1, ext[i])) return 1;
    return 0;
}

static const char *averr(int e, char *b, size_t n)
{
    av_strerror(e, b, n);
    return b;
}

static const AVCodec *find_encoder(const struct cli_config *cfg)
{
    if (cfg->video_codec) return avcodec_find_encoder_by_name(cfg->video_codec);
    const AVCodec *c = avcodec_find_encoder_by_name("libx264");
    return c ? c : avcodec_find_encoder(AV_CODEC_ID_MPEG4);
}

/* Opens the input and finds its video stream and decoder; 0 or an exit status after a message. */
static int open_input(const char *in, AVFormatContext **ic, int *vidx, const AVCodec **dec, FILE *err)
{
    char b[128];
    int e = avformat_open_input(ic, in, NULL, NULL);
    if (e < 0) {
        fprintf(err, "cartoonize: %s: cannot open as a video: %s\n", in, averr(e, b, sizeof b));
        return 2;
    }
    if ((e = avformat_find_stream_info(*ic, NULL)) < 0) {
        fprintf(err, "cartoonize: %s: cannot read its streams: %s\n", in, averr(e, b, sizeof b));
        return 2;
    }
    *vidx = av_find_best_stream(*ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (*vidx < 0) {
        fprintf(err, "cartoonize: %s: has no video stream\n", in);
        return 2;
    }
    AVCodecParameters *par = (*ic)->streams[*vidx]->codecpar;
    *dec = avcodec_find_decoder(par->codec_id);
    if (!*dec) {
        fprintf(err, "cartoonize: %s: its video codec (%s) cannot be decoded by this FFmpeg\n", in,
                avcodec_get_name(par->codec_id));
        return 2;
    }
    return 0;
}

int cli_video_check(const struct cli_config *cfg, const char *in, FILE *err)
{
    const char *out = cfg->output;
    struct stat st;
    if (cfg->n_inputs != 1) {
        fprintf(err, "cartoonize: a video is cartoonized on its own: give one input with -o OUT.mp4\n");
        return 2;
    }
    if (!strcmp(out, "-") || (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) || out[strlen(out) - 1] == '/') {
        fprintf(err, "cartoonize: -o %s: a video needs an output video file (e.g. -o out.mp4), not %s\n", out,
                !strcmp(out, "-") ? "standard output" : "a directory");
        return 2;
    }
    if (!av_guess_format(NULL, out, NULL)) {
        fprintf(err, "cartoonize: -o %s: no container format for this extension (use .mp4, .mkv, ...)\n", out);
        return 2;
    }
    if (!find_encoder(cfg)) {
        fprintf(err, "cartoonize: no video encoder '%s' in this FFmpeg\n", cfg->video_codec ? cfg->video_codec : "libx264/mpeg4");
        return 2;
    }
    AVFormatContext *ic = NULL;
    int vidx;
    const AVCodec *dec;
    int rc = open_input(in, &ic, &vidx, &dec, err);
    avformat_close_input(&ic);
    return rc;
}

/* ---- the run */

typedef struct frame_item {
    cartoon_image im; /* RGB, malloc'd */
    int64_t pts;
} frame_item;

typedef struct video {
    const struct cli_config *cfg;
    const char *in;
    FILE *err;
    AVFormatContext *ic, *oc;
    AVCodecContext *dec, *enc;
    int vidx, *map; /* input stream -> output stream, -1 = dropped */
    AVStream *ost;
    struct SwsContext *to_rgb, *from_rgb;
    AVPacket *pkt, *opkt;
    AVFrame *frame, *eframe;
    int in_eof, dec_eof;
    int failed;               /* a frame failed or a write did: the output is dropped */
    pthread_mutex_t mux;      /* the source (audio packets) and on_item (video packets) both write */
    struct cli_progress progress;
    size_t frames_in, frames_out;
    char msg[512];
} video;

static void fail(video *v, const char *fmt, const char *detail)
{
    if (!v->failed) {
        snprintf(v->msg, sizeof v->msg, fmt, detail);
        v->failed = 1;
    }
}

static int write_packet(video *v, AVPacket *p)
{
    pthread_mutex_lock(&v->mux);
    int e = av_interleaved_write_frame(v->oc, p);
    pthread_mutex_unlock(&v->mux);
    if (e < 0) {
        char b[128];
        fail(v, "cannot write the output: %s", averr(e, b, sizeof b));
    }
    return e;
}

/* Sends a frame (NULL: flush) to the encoder and writes what comes out. Called from one thread
 * at a time (on_item, then main after the run). */
static void encode(video *v, AVFrame *f)
{
    char b[128];
    int e = avcodec_send_frame(v->enc, f);
    if (e < 0) {
        fail(v, "the encoder refused a frame: %s", averr(e, b, sizeof b));
        return;
    }
    while ((e = avcodec_receive_packet(v->enc, v->opkt)) >= 0) {
        av_packet_rescale_ts(v->opkt, v->enc->time_base, v->ost->time_base);
        v->opkt->stream_index = v->ost->index;
        write_packet(v, v->opkt);
        av_packet_unref(v->opkt);
    }
    if (e != AVERROR(EAGAIN) && e != AVERROR_EOF) fail(v, "the encoder failed: %s", averr(e, b, sizeof b));
}

/* The pipeline's source: the next decoded frame as RGB; copies other streams' packets on the
 * way. 0 at the end of the input (or on a failure, recorded in v). */
static int next_frame(void *user, cartoon_batch_item *item)
{
    video *v = user;
    char b[128];
    for (;;) {
        int e = avcodec_receive_frame(v->dec, v->frame);
        if (e >= 0) {
            frame_item *fi = calloc(1, sizeof *fi);
            int w = v->frame->width, h = v->frame->height;
            if (fi) fi->im.data = malloc((size_t)w * h * 3);
            if (!fi || !fi->im.data) {
                free(fi);
                fail(v, "%s", "out of memory for a frame");
                return 0;
            }
            fi->im.width = w;
            fi->im.height = h;
            fi->im.stride = (size_t)w * 3;
            fi->im.format = CARTOON_PIXEL_RGB;
            v->to_rgb = sws_getCachedContext(v->to_rgb, w, h, v->frame->format, w, h, AV_PIX_FMT_RGB24,
                                             SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
            uint8_t *dst[4] = {fi->im.data};
            int ls[4] = {(int)fi->im.stride};
            if (!v->to_rgb || sws_scale(v->to_rgb, (const uint8_t *const *)v->frame->data, v->frame->linesize, 0, h,
                                        dst, ls) != h) {
                free(fi->im.data);
                free(fi);
                fail(v, "%s", "cannot convert a frame to RGB");
                return 0;
            }
            fi->pts = v->frame->best_effort_timestamp;
            av_frame_unref(v->frame);
            item->input = v->in;
            item->image = &fi->im;
            item->raw_output = 1;
            item->user_item = fi;
            v->frames_in++;
            return 1;
        }
        if (e == AVERROR_EOF) return 0;
        if (e != AVERROR(EAGAIN)) {
            fail(v, "cannot decode the video: %s", averr(e, b, sizeof b));
            return 0;
        }
        if (v->in_eof) { /* everything sent: drain */
            if (!v->dec_eof) {
                avcodec_send_packet(v->dec, NULL);
                v->dec_eof = 1;
                continue;
            }
            return 0;
        }
        e = av_read_frame(v->ic, v->pkt);
        if (e == AVERROR_EOF) {
            v->in_eof = 1;
            continue;
        }
        if (e < 0) {
            fail(v, "cannot read the input: %s", averr(e, b, sizeof b));
            return 0;
        }
        int si = v->pkt->stream_index;
        if (si == v->vidx) {
            e = avcodec_send_packet(v->dec, v->pkt);
            av_packet_unref(v->pkt);
            if (e < 0 && e != AVERROR(EAGAIN)) {
                fail(v, "cannot decode the video: %s", averr(e, b, sizeof b));
                return 0;
            }
        } else if (v->map[si] >= 0) {
            /* audio, subtitles: copied untouched, only their timestamps rescaled */
            AVStream *os = v->oc->streams[v->map[si]];
            av_packet_rescale_ts(v->pkt, v->ic->streams[si]->time_base, os->time_base);
            v->pkt->stream_index = os->index;
            v->pkt->pos = -1;
            write_packet(v, v->pkt);
            av_packet_unref(v->pkt);
        } else {
            av_packet_unref(v->pkt);
        }
    }
}

/* Each cartoonized frame, in order: to the encoder's pixel format, encoded with its pts. */
static void on_frame(void *user, const cartoon_batch_event *ev)
{
    video *v = user;
    frame_item *fi = ev->item->user_item;
    if (ev->outcome != CARTOON_BATCH_DONE) fail(v, "a frame failed: %s", ev->message);
    else if (!v->failed) {
        const cartoon_image *r = ev->image;
        v->from_rgb = sws_getCachedContext(v->from_rgb, r->width, r->height, AV_PIX_FMT_RGB24, v->enc->width,
                                           v->enc->height, v->enc->pix_fmt, SWS_BICUBIC | SWS_ACCURATE_RND, NULL,
                                           NULL, NULL);
        const uint8_t *src[4] = {r->data};
        int ls[4] = {(int)r->stride};
        if (!v->from_rgb || av_frame_make_writable(v->eframe) < 0 ||
            sws_scale(v->from_rgb, src, ls, 0, r->height, v->eframe->data, v->eframe->linesize) != v->enc->height)
            fail(v, "%s", "cannot convert a frame for the encoder");
        else {
            v->eframe->pts = fi->pts;
            encode(v, v->eframe);
            v->frames_out++;
        }
    }
    progress_item(&v->progress, ev, v->cfg->output);
    free(fi->im.data);
    free(fi);
}

static int setup_output(video *v, const char *tmp)
{
    char b[128];
    const struct cli_config *cfg = v->cfg;
    AVStream *is = v->ic->streams[v->vidx];
    const AVOutputFormat *of = av_guess_format(NULL, cfg->output, NULL);
    if (avformat_alloc_output_context2(&v->oc, of, NULL, tmp) < 0 || !v->oc) return -1;
    /* the decoder */
    const AVCodec *dc = avcodec_find_decoder(is->codecpar->codec_id);
    v->dec = avcodec_alloc_context3(dc);
    if (!v->dec || avcodec_parameters_to_context(v->dec, is->codecpar) < 0) return -1;
    v->dec->pkt_timebase = is->time_base;
    int e = avcodec_open2(v->dec, dc, NULL);
    if (e < 0) {
        fprintf(v->err, "cartoonize: %s: cannot open the decoder: %s\n", v->in, averr(e, b, sizeof b));
        return -1;
    }
    /* the encoder, at the size the options give */
    const AVCodec *ec = find_encoder(cfg);
    int ow, oh;
    if (cartoon_output_size(&cfg->opt, v->dec->width, v->dec->height, &ow, &oh) != CARTOON_OK) return -1;
    v->enc = avcodec_alloc_context3(ec);
    if (!v->enc) return -1;
    v->enc->width = ow;
    v->enc->height = oh;
    v->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    if (ec->pix_fmts) {
        v->enc->pix_fmt = ec->pix_fmts[0];
        for (const enum AVPixelFormat *p = ec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
            if (*p == AV_PIX_FMT_YUV420P) v->enc->pix_fmt = *p;
    }
    v->enc->time_base = is->time_base; /* every frame keeps its own timestamp */
    v->enc->framerate = av_guess_frame_rate(v->ic, is, NULL);
    v->enc->sample_aspect_ratio = is->codecpar->sample_aspect_ratio;
    if (v->oc->oformat->flags & AVFMT_GLOBALHEADER) v->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *eo = NULL;
    char crf[16];
    if (cfg->crf >= 0) {
        snprintf(crf, sizeof crf, "%d", cfg->crf);
        av_dict_set(&eo, "crf", crf, 0);
        if (strcmp(ec->name, "libx264") && strcmp(ec->name, "libx265")) { /* qscale-like fallback */
            v->enc->flags |= AV_CODEC_FLAG_QSCALE;
            v->enc->global_quality = FF_QP2LAMBDA * (cfg->crf * 31 / 63 + 1);
        }
    }
    if (cfg->encoder_preset) av_dict_set(&eo, "preset", cfg->encoder_preset, 0);
    e = avcodec_open2(v->enc, ec, &eo);
    av_dict_free(&eo);
    if (e < 0) {
        fprintf(v->err, "cartoonize: cannot open the %s encoder at %dx%d: %s\n", ec->name, ow, oh, averr(e, b, sizeof b));
        return -1;
    }
    v->ost = avformat_new_stream(v->oc, NULL);
    if (!v->ost || avcodec_parameters_from_context(v->ost->codecpar, v->enc) < 0) return -1;
    v->ost->time_base = v->enc->time_base;
    v->ost->avg_frame_rate = v->enc->framerate;
    v->ost->r_frame_rate = is->r_frame_rate;
    /* the other streams, copied */
    v->map = malloc(v->ic->nb_streams * sizeof *v->map);
    if (!v->map) return -1;
    for (unsigned i = 0; i < v->ic->nb_streams; i++) {
        AVStream *s = v->ic->streams[i];
        v->map[i] = -1;
        if ((int)i == v->vidx) continue;
        if (s->codecpar->codec_type != AVMEDIA_TYPE_AUDIO && s->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE) continue;
        if (avformat_query_codec(v->oc->oformat, s->codecpar->codec_id, FF_COMPLIANCE_NORMAL) != 1) {
            fprintf(v->err, "cartoonize: %s: stream %u (%s) cannot go into this container; left out\n", v->in, i,
                    avcodec_get_name(s->codecpar->codec_id));
            continue;
        }
        AVStream *os = avformat_new_stream(v->oc, NULL);
        if (!os || avcodec_parameters_copy(os->codecpar, s->codecpar) < 0) return -1;
        os->codecpar->codec_tag = 0;
        os->time_base = s->time_base;
        av_dict_copy(&os->metadata, s->metadata, 0);
        os->disposition = s->disposition;
        v->map[i] = os->index;
    }
    av_dict_copy(&v->oc->metadata, v->ic->metadata, 0);
    if (!(v->oc->oformat->flags & AVFMT_NOFILE) && (e = avio_open(&v->oc->pb, tmp, AVIO_FLAG_WRITE)) < 0) {
        fprintf(v->err, "cartoonize: cannot write %s: %s\n", tmp, averr(e, b, sizeof b));
        return -1;
    }
    if ((e = avformat_write_header(v->oc, NULL)) < 0) {
        fprintf(v->err, "cartoonize: cannot start %s: %s\n", cfg->output, averr(e, b, sizeof b));
        return -1;
    }
    v->pkt = av_packet_alloc();
    v->opkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    v->eframe = av_frame_alloc();
    if (!v->pkt || !v->opkt || !v->frame || !v->eframe) return -1;
    v->eframe->format = v->enc->pix_fmt;
    v->eframe->width = ow;
    v->eframe->height = oh;
    return av_frame_get_buffer(v->eframe, 0) < 0 ? -1 : 0;
}

int cli_run_video(const struct cli_config *cfg, const char *in, cartoon_context *const *ctxs, int n_ctx,
                  int (*should_stop)(void *), FILE *err)
{
    video v;
    memset(&v, 0, sizeof v);
    v.cfg = cfg;
    v.in = in;
    v.err = err;
    pthread_mutex_init(&v.mux, NULL);
    /* FFmpeg's own chatter (encoder statistics) only with -v; errors come back as codes */
    av_log_set_level(cfg->copt.verbose ? AV_LOG_INFO : AV_LOG_ERROR);
    /* the temporary output beside the final one, with its extension (the muxer is chosen from
     * the final name; the extension keeps tools that look at it happy) */
    char tmp[4200];
    const char *slash = strrchr(cfg->output, '/');
    int dl = slash ? (int)(slash - cfg->output + 1) : 0;
    snprintf(tmp, sizeof tmp, "%.*s.%s.part-%ld%s", dl, cfg->output, slash ? slash + 1 : cfg->output, (long)getpid(),
             strrchr(cfg->output, '.'));
    const AVCodec *dc;
    int rc = open_input(in, &v.ic, &v.vidx, &dc, err);
    if (rc == 0 && setup_output(&v, tmp) != 0) {
        fprintf(err, "cartoonize: %s: cannot set up the output %s\n", in, cfg->output);
        rc = 1;
    }
    if (rc == 0) {
        AVStream *is = v.ic->streams[v.vidx];
        double secs = v.ic->duration > 0 ? v.ic->duration / (double)AV_TIME_BASE : 0;
        AVRational fr = av_guess_frame_rate(v.ic, is, NULL);
        size_t total = is->nb_frames > 0 ? (size_t)is->nb_frames
                       : fr.den && secs > 0 ? (size_t)(secs * fr.num / fr.den + 0.5) : 0;
        /* a line per frame is too many when stderr is not a terminal: only the summary then */
        progress_start(&v.progress, cfg->progress == CLI_PROGRESS_AUTO && !isatty(fileno(err)) ? CLI_PROGRESS_NONE
                                                                                               : cfg->progress,
                       err, total, "frames");
        cartoon_batch_options bo;
        cartoon_batch_options_default(&bo);
        bo.opt = cfg->opt;
        bo.save_threads = 1;
        bo.on_item = on_frame;
        bo.should_stop = should_stop;
        bo.user = &v;
        size_t sum[3];
        char e2[256];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cartoon_status st = cartoon_batch_run_stream(ctxs, n_ctx, next_frame, &v, &bo, sum, e2, sizeof e2);
        if (st) fail(&v, "%s", e2);
        if (should_stop(NULL)) fail(&v, "%s", "interrupted");
        if (!v.failed) encode(&v, NULL);
        if (!v.failed) {
            int e = av_write_trailer(v.oc);
            if (e < 0) fail(&v, "cannot finish the output: %s", averr(e, e2, sizeof e2));
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        progress_end(&v.progress, 0);
        double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (v.failed) {
            fprintf(err, "cartoonize: %s: %s; no output written (%zu of the frames done)\n", in, v.msg, v.frames_out);
            rc = 1;
        } else {
            if (cfg->progress != CLI_PROGRESS_JSON)
                fprintf(err, "cartoonize: %s -> %s: %zu frames in %.2f s (%.2f frames/s)\n", in, cfg->output,
                        v.frames_out, el, el > 0 ? v.frames_out / el : 0);
        }
    }
    if (v.oc && !(v.oc->oformat->flags & AVFMT_NOFILE)) avio_closep(&v.oc->pb);
    if (rc == 0) { /* on disk before it takes the final name */
        int fd = open(tmp, O_RDONLY);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    if (rc == 0 && rename(tmp, cfg->output) != 0) {
        fprintf(err, "cartoonize: cannot rename %s to %s: %s\n", tmp, cfg->output, strerror(errno));
        rc = 1;
    }
    if (rc != 0) unlink(tmp); /* a failed or interrupted run leaves no partial file */
    avformat_free_context(v.oc);
    avformat_close_input(&v.ic);
    avcodec_free_context(&v.dec);
    avcodec_free_context(&v.enc);
    sws_freeContext(v.to_rgb);
    sws_freeContext(v.from_rgb);
    av_packet_free(&v.pkt);
    av_packet_free(&v.opkt);
    av_frame_free(&v.frame);
    av_frame_free(&v.eframe);
    free(v.map);
    pthread_mutex_destroy(&v.mux);
    return rc;
}
