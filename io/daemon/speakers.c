/* speakers.c: the daemon's glue to the speakers (io/audio/audio.c): announce events, audio
 * faults, calls spoken once durable and shown, and the announce command. */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "core/log.h"
#include "io/base/clock.h"

static void audio_publish(daemon_t *d, bool started, const char *text, const char *zone, const char *priority,
                          bool truncated)
{
    if (!d->hb) return;
    hk_out out;
    hk_out_init(&out);
    hall_announce(d->hall, &out, started, text, zone, priority, truncated, hk_clock_now());
    hub_publish(d->hb, &out);
    hk_out_clear(&out);
}

static void on_audio_started(void *arg, const char *text, const char *zone, const char *priority)
{
    audio_publish(arg, true, text, zone, priority, false);
}

static void on_audio_finished(void *arg, const char *text, const char *zone, const char *priority, bool truncated)
{
    audio_publish(arg, false, text, zone, priority, truncated);
}

static void on_audio_fault(void *arg, const char *msg)
{
    daemon_t *d = arg;
    log_err("audio: %s (calling goes on on the screens)", msg);
    if (!d->hb) return;
    hk_out out;
    hk_out_init(&out);
    if (!d->audio_fault_since) d->audio_fault_since = hk_clock_now().ms;
    hall_fault(d->hall, "audio", true, d->audio_fault_since, msg, hk_clock_now(), &out);
    hub_publish(d->hb, &out);
    hk_out_clear(&out);
}

/* A call is spoken once it is durable and on the screens (hub_set_delivered). */
void daemon_on_delivered(void *arg, const hv *ev)
{
    daemon_t *d = arg;
    int64_t window = 0;
    const char *name = hv_get_str(ev, "ev"), *code = hv_get_str(ev, "code");
    if (!name || strcmp(name, "ticket.called") != 0) return;   /* the calls only */
    if (!d->speakers || !code || hv_get_int(ev, "window", &window) < 0) return;
    int rc = audio_call(d->speakers, code, (int)window);
    if (rc == AUDIO_EFROZEN) log_info("audio: call %s not announced: the speakers belong to an emergency", code);
    else if (rc < 0) log_warn("audio: call %s not announced (%d)", code, rc);
}

void daemon_announce(void *arg, const hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    daemon_t *d = arg;
    (void)s;
    (void)now;
    const char *text = hv_get_str(req, "text");
    const hv *zv = hv_get(req, "zones");
    const char *zones[16];
    size_t nz = 0;
    if (!text || !*text || strlen(text) > 300) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "text (1 to 300 bytes) is required");
        return;
    }
    if (zv && (zv->t != HV_ARR || zv->u.a.n > 16)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "zones must be a list of at most 16 zone names");
        return;
    }
    for (size_t i = 0; zv && i < zv->u.a.n; i++) {
        if (zv->u.a.v[i]->t != HV_STR) {
            hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "zones must be a list of zone names");
            return;
        }
        zones[nz++] = zv->u.a.v[i]->u.s.p;
    }
    if (!d->speakers) {
        hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "this hall has no speakers (audio.sink: none)");
        return;
    }
    int rc = audio_notice(d->speakers, text, zones, nz);
    if (rc == AUDIO_EFROZEN) hall_reply_err(out, req, HK_ERR_FROZEN, "an evacuation owns every speaker");
    else if (rc == AUDIO_EINVAL) hall_reply_err(out, req, HK_ERR_NOT_FOUND, "unknown zone");
    else if (rc < 0) hall_reply_err(out, req, HK_ERR_UNAVAILABLE, "too many announcements are waiting");
    if (rc < 0) return;
    hall_reply_ok(out, req);
    hv *a = hv_map();
    hv_set(a, "text", hv_str(text));
    hv_set(a, "zones", zv ? hv_dup(zv) : hv_arr());
    hv_set(out->reply, "announce", a);
}


void daemon_speakers_open(daemon_t *d)
{
    if (!d->cfg.audio.sink || !strcmp(d->cfg.audio.sink, "none")) return;
    char err[256];
    static audio_callbacks cbs;
    cbs = (audio_callbacks){on_audio_started, on_audio_finished, on_audio_fault, d};
    d->speakers = audio_new(&d->loop, &d->cfg, d->data_dir, &cbs, err, sizeof err);
    if (!d->speakers) log_err("audio: %s: calls are shown on the screens only", err);
}
