/* audio_sink_file.c: the file sink: each announcement becomes one WAV in the zone's directory,
 * written as it is "played" (paced by io/audio/audio.c's clock, so a cut announcement leaves a short
 * file), and one line of DIR/index.jsonl when it ends. For tests and for halls without speakers.
 * Writes are small and go to the page cache; nothing is fsync'd (recordings are not records). */
#include "audio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/json.h"
#include "io/base/fs.h"

typedef struct {
    audio_sink base;
    char *dir, *zone;
    FILE *wav;
    char name[160];
    size_t samples;
    unsigned seq;
} file_sink;

static void put_json_str(FILE *f, const char *s)
{
    char *j = json_str_dup(s ? s : "", s ? strlen(s) : 0);
    fputs(j, f);
    free(j);
}

static int file_begin(audio_sink *sk, const audio_ann *ann, char *err, size_t errlen)
{
    file_sink *s = (file_sink *)sk;
    if (s->wav) {
        fclose(s->wav);
        s->wav = NULL;
    }
    s->samples = 0;
    s->name[0] = 0;
    if (hk_mkdirs(s->dir, 0755)) {
        snprintf(err, errlen, "audio zone %s: cannot create %s: %s", s->zone, s->dir, strerror(errno));
        return -1;
    }
    char zone[40];
    size_t i = 0;
    for (; s->zone[i] && i < sizeof zone - 1; i++) {
        char c = s->zone[i];
        zone[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ? c : '_';
    }
    zone[i] = 0;
    snprintf(s->name, sizeof s->name, "%" PRId64 "-%04u-%s-%s.wav", ann->first_sample_at_ms, ++s->seq % 10000,
             zone, ann->priority);
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", s->dir, s->name);
    s->wav = fopen(path, "wbe");
    uint8_t hdr[44];
    audio_wav_header(hdr, 0);
    if (!s->wav || fwrite(hdr, 1, sizeof hdr, s->wav) != sizeof hdr) {
        snprintf(err, errlen, "audio zone %s: cannot write %s: %s", s->zone, path, strerror(errno));
        if (s->wav)
            fclose(s->wav);
        s->wav = NULL;
        return -1;
    }
    return 0;
}

static int file_write(audio_sink *sk, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
    file_sink *s = (file_sink *)sk;
    if (!s->wav)
        return 0;               /* its begin failed and said so */
    uint8_t buf[2048];
    while (n) {
        size_t k = n < sizeof buf / 2 ? n : sizeof buf / 2;
        for (size_t i = 0; i < k; i++) {   /* WAV is little-endian whatever the host */
            buf[2 * i] = (uint8_t)((uint16_t)pcm[i] & 255);
            buf[2 * i + 1] = (uint8_t)((uint16_t)pcm[i] >> 8);
        }
        if (fwrite(buf, 2, k, s->wav) != k) {
            snprintf(err, errlen, "audio zone %s: writing %s: %s", s->zone, s->name, strerror(errno));
            fclose(s->wav);
            s->wav = NULL;
            return -1;
        }
        s->samples += k;
        pcm += k;
        n -= k;
    }
    return 0;
}

static int file_end(audio_sink *sk, const audio_ann *ann, char *err, size_t errlen)
{
    file_sink *s = (file_sink *)sk;
    if (!s->wav)
        return 0;
    uint8_t hdr[44];
    audio_wav_header(hdr, s->samples);
    int bad = fseek(s->wav, 0, SEEK_SET) || fwrite(hdr, 1, sizeof hdr, s->wav) != sizeof hdr;
    bad |= fclose(s->wav) != 0;
    s->wav = NULL;
    char path[4300];
    snprintf(path, sizeof path, "%s/index.jsonl", s->dir);
    FILE *f = fopen(path, "ae");
    if (bad || !f) {
        snprintf(err, errlen, "audio zone %s: cannot finish %s: %s", s->zone, bad ? s->name : path,
                 strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fputs("{\"file\":", f);
    put_json_str(f, s->name);
    fputs(",\"text\":", f);
    put_json_str(f, ann->text);
    fputs(",\"zone\":", f);
    put_json_str(f, ann->zone);
    fputs(",\"priority\":", f);
    put_json_str(f, ann->priority);
    fprintf(f, ",\"started_at_ms\":%" PRId64 ",\"first_sample_at_ms\":%" PRId64 ",\"ended_at_ms\":%" PRId64
               ",\"truncated\":%s,\"samples\":%zu,\"rate\":%d",
            ann->started_at_ms, ann->first_sample_at_ms, ann->ended_at_ms, ann->truncated ? "true" : "false",
            s->samples, AUDIO_RATE);
    if (ann->parts_json)
        fprintf(f, ",\"parts\":%s", ann->parts_json);
    fputs("}\n", f);
    if (fclose(f)) {
        snprintf(err, errlen, "audio zone %s: cannot write %s: %s", s->zone, path, strerror(errno));
        return -1;
    }
    return 0;
}

static void file_free(audio_sink *sk)
{
    file_sink *s = (file_sink *)sk;
    if (s->wav)
        fclose(s->wav);
    free(s->dir);
    free(s->zone);
    free(s);
}

static const audio_sink_ops file_ops = { file_begin, file_write, file_end, NULL, file_free };

audio_sink *audio_sink_file_new(const char *dir, const char *zone, char *err, size_t errlen)
{
    file_sink *s = calloc(1, sizeof *s);
    if (s) {
        s->dir = strdup(dir);
        s->zone = strdup(zone);
    }
    if (!s || !s->dir || !s->zone) {
        if (s)
            file_free(&s->base);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &file_ops;
    return &s->base;
}
