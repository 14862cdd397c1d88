/* hall_emergency.c: the emergency commands and input edges of the hall. The state machine is
 * core/emergency.c; this file turns its changes into emergency.changed events, keeps the
 * outputs (hall_outputs) current, and holds the queue while an incident says so. */
#include "hall_int.h"
#include "checkpoint.h"

#include <stdio.h>
#include <string.h>

void hall_emergency_changed(hk_hall *h, hk_out *out, int64_t at)
{
    emergency_outputs(h->em, &h->eo);
    hv *full = emergency_to_hv(h->em);
    hv *ev = hall_event("emergency.changed");
    for (size_t i = 0; i < full->u.m.n; i++)
        hv_set(ev, full->u.m.v[i].key, hv_dup(full->u.m.v[i].val));
    hv_free(full);
    /* a change public screens would not see (it touched only silent incidents) is not sent to
     * them at all (core/audience.c) */
    hv *pub = hall_view_emergency(h, HK_ROLE_DISPLAY);
    hv_set(ev, "public", hv_bool(!hv_equal(pub, h->em_public)));
    hv_free(pub);
    hall_emit(h, out, ev, at);
}

int hall_apply_emergency(hk_hall *h, const hv *ev)
{
    int rc = emergency_restore_hv(h->em, ev);
    emergency_outputs(h->em, &h->eo);
    hv_free(h->em_public);
    h->em_public = hall_view_emergency(h, HK_ROLE_DISPLAY);
    return rc < 0 ? -1 : 0;
}

hv *hall_view_emergency(const hk_hall *h, int role)
{
    hv *full = emergency_to_hv(h->em);
    hv *v = emergency_hv_for_role(full, role);
    hv_free(full);
    return v;
}

const emergency_out *hall_outputs(const hk_hall *h) { return &h->eo; }

int hall_queue_blocked(const hk_hall *h, bool issuing, bool appointment, char *msg, size_t len)
{
    const emergency_out *o = &h->eo;
    if (o->frozen) {
        const hk_playbook_cfg *pb = emergency_playbook(h->em, (size_t)o->primary_public);
        snprintf(msg, len, "the queue is frozen by an emergency (%s%s)", pb ? pb->name : "?",
                 o->drill ? ", drill 演练" : "");
        return HK_ERR_FROZEN;
    }
    if (!issuing) return HK_OK;
    if (o->appointments_only && !appointment) {
        snprintf(msg, len, "only appointments (预约) are served now: occupancy limit in force");
        return HK_ERR_UNAVAILABLE;
    }
    if (o->occupancy_cap >= 0) {
        int waiting = 0;
        for (size_t c = 0; c < h->cfg->ncategories; c++) waiting += queue_waiting(&h->q, (int)c, false);
        if (waiting >= o->occupancy_cap) {
            snprintf(msg, len, "occupancy limit reached: %d people are already waiting (cap %d)", waiting,
                     o->occupancy_cap);
            return HK_ERR_UNAVAILABLE;
        }
    }
    return HK_OK;
}

static void who_of(const hk_session *s, char *who, size_t len)
{
    if (s->staff[0]) snprintf(who, len, "%s %s", hk_role_name(s->role), s->staff);
    else snprintf(who, len, "%s", hk_role_name(s->role));
}

static void reply_emergency(hk_hall *h, hk_session *s, const hv *req, hk_out *out)
{
    hv_free(out->reply);
    out->reply = hv_map();
    hv_set(out->reply, "t", hv_str("ok"));
    hv_set(out->reply, "id", hv_dup(hv_get(req, "id")));
    hv_set(out->reply, "emergency", hall_view_emergency(h, s->role));
}

static void reply_em_err(hk_out *out, const hv *req, int rc, const char *detail)
{
    const char *msg = NULL;
    int code = emergency_err(rc, &msg);
    char buf[256];
    if (detail) snprintf(buf, sizeof buf, "%s: %s", msg ? msg : hk_err_word(code), detail);
    else snprintf(buf, sizeof buf, "%s", msg ? msg : hk_err_word(code));
    hv_free(out->reply);
    out->reply = hall_err_reply(hv_get(req, "id"), code, buf);
}

void hall_cmd_emergency_trigger(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *pb = hv_get_str(req, "playbook");
    bool drill = false;
    if (!pb) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "playbook (a string) is required"); return; }
    if (hv_has(req, "drill") && hv_get_bool(req, "drill", &drill) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "drill must be true or false");
        return;
    }
    char who[64];
    who_of(s, who, sizeof who);
    int rc = emergency_trigger(h->em, pb, drill, s->role, who, now.ms);
    if (rc < 0) { reply_em_err(out, req, rc, pb); return; }
    hall_emergency_changed(h, out, now.ms);
    reply_emergency(h, s, req, out);
}

/* emergency.report {playbook, note?, duress?}: the first person to discover an incident reports it
 * from the counter or the entrance. duress: a silent call for help at a counter (public_security,
 * unless playbook says otherwise); the reporter's reply says only that it was received. */
void hall_cmd_emergency_report(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    bool duress = false;
    if (hv_has(req, "duress") && hv_get_bool(req, "duress", &duress) < 0) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "duress must be true or false");
        return;
    }
    const char *pb = hv_get_str(req, "playbook");
    if (!pb && duress) pb = "public_security";
    if (!pb) { hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "playbook (a string) is required"); return; }
    const char *note = hv_get_str(req, "note");      /* its length: core/text.c, before this runs */
    if (hv_has(req, "note") && !note) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "note must be a text");
        return;
    }
    char who[EMERGENCY_WHO_MAX];
    hk_win *w = s->window ? hall_window(h, s->window) : NULL;
    snprintf(who, sizeof who, "%s%s%s%s%s", hk_role_name(s->role), s->staff[0] ? " " : "", s->staff,
             w ? " " : "", w ? w->cfg->name : "");
    if (duress) snprintf(who + strlen(who), sizeof who - strlen(who), " 胁迫报警");
    int64_t id = 0;
    int rc = emergency_report(h->em, pb, who, note, now.ms, &id);
    if (rc < 0) { reply_em_err(out, req, rc, pb); return; }
    hall_emergency_changed(h, out, now.ms);
    hv *r = hall_reply_ok(out, req), *rep = hv_map();
    hv_set(rep, "playbook", hv_str(pb));
    hv_set(rep, "started", hv_bool(rc == 1));     /* false: waiting for security's confirmation */
    if (rc == 0) hv_set(rep, "id", hv_int(id));
    hv_set(r, "report", rep);
}

/* emergency.confirm {report, confirm, reason?}: security starts a reported incident, or dismisses
 * the report with a reason. */
void hall_cmd_emergency_confirm(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int64_t id;
    bool confirm = true;
    if (hv_get_int(req, "report", &id) < 0 || (hv_has(req, "confirm") && hv_get_bool(req, "confirm", &confirm) < 0)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "report (the id of a pending report) and confirm (bool) are required");
        return;
    }
    const char *reason = hv_get_str(req, "reason");
    if (!confirm && (!reason || !*reason)) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "dismissing a report needs a reason");
        return;
    }
    char who[64];
    who_of(s, who, sizeof who);
    const char *pb = NULL;
    int rc = emergency_report_resolve(h->em, id, confirm, s->role, who, now.ms, &pb);
    if (rc < 0) { reply_em_err(out, req, rc, NULL); return; }
    hall_emergency_changed(h, out, now.ms);
    hv *last = out->events[out->nevents - 1];
    hv *res = hv_map();
    hv_set(res, "id", hv_int(id));
    hv_set(res, "playbook", hv_str(pb));
    hv_set(res, "confirmed", hv_bool(confirm));
    hv_set(res, "by", hv_str(who));
    if (reason) hv_set(res, "reason", hv_str(reason));
    hv_set(last, "report_resolved", res);
    reply_emergency(h, s, req, out);
}

void hall_cmd_emergency_ack(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    int64_t step;
    if (hv_get_int(req, "step", &step) < 0 || step < 0 || step > 1000) {
        hall_reply_err(out, req, HK_ERR_BAD_REQUEST, "step (the index of a checklist step) is required");
        return;
    }
    char who[64];
    who_of(s, who, sizeof who);
    int rc = emergency_ack(h->em, hv_get_str(req, "playbook"), (int)step, s->role, who, now.ms);
    if (rc < 0) { reply_em_err(out, req, rc, NULL); return; }
    hall_emergency_changed(h, out, now.ms);
    reply_emergency(h, s, req, out);
}

void hall_cmd_emergency_clear(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    const char *reason = hv_get_str(req, "reason");
    const char *input = NULL;
    char who[64];
    who_of(s, who, sizeof who);
    int rc = emergency_clear(h->em, hv_get_str(req, "playbook"), s->role, who, reason ? reason : "", &input);
    if (rc < 0) { reply_em_err(out, req, rc, input); return; }
    hall_emergency_changed(h, out, now.ms);
    hv *last = out->events[out->nevents - 1];
    hv_set(last, "cleared_by", hv_str(who));
    hv_set(last, "reason", hv_str(reason));
    reply_emergency(h, s, req, out);
}

void hall_cmd_emergency_playbooks(hk_hall *h, hk_session *s, const hv *req, hk_time now, hk_out *out)
{
    (void)s; (void)now;
    hv_free(out->reply);
    out->reply = hv_map();
    hv_set(out->reply, "t", hv_str("ok"));
    hv_set(out->reply, "id", hv_dup(hv_get(req, "id")));
    hv_set(out->reply, "playbooks", emergency_playbooks_hv(h->em));
}

static void emit_gpio(hk_hall *h, hk_out *out, const char *line, int value, const char *dir, int64_t at)
{
    hv *ev = hall_event("gpio.changed");
    hv_set(ev, "line", hv_str(line));
    hv_set(ev, "value", hv_int(value));
    hv_set(ev, "dir", hv_str(dir));
    hall_emit(h, out, ev, at);
}

void hall_input(hk_hall *h, const char *line, int value, hk_time now, hk_out *out)
{
    bool changed = false;
    /* the state machine first: the caller sets outputs from it before anything is persisted */
    emergency_input(h->em, line, value, now.ms, &changed);
    if (changed) emergency_outputs(h->em, &h->eo);
    emit_gpio(h, out, line, value, "in", now.ms);
    if (changed) hall_emergency_changed(h, out, now.ms);
}

void hall_input_levels(hk_hall *h, const int *levels, size_t n, hk_time now, hk_out *out)
{
    bool changed = false;
    emergency_input_levels(h->em, levels, n, now.ms, &changed);
    if (changed) hall_emergency_changed(h, out, now.ms);
    else emergency_outputs(h->em, &h->eo);
}

void hall_output_changed(hk_hall *h, const char *line, int value, hk_time now, hk_out *out)
{
    emit_gpio(h, out, line, value, "out", now.ms);
}

void hall_output_result(hk_hall *h, const char *line, bool ok, const char *why, int64_t since_ms,
                        hk_time now, hk_out *out)
{
    bool changed = false;
    if (emergency_output_result(h->em, line, ok, why, now.ms, &changed) < 0) return;
    char kind[96], detail[192];
    snprintf(kind, sizeof kind, "output:%s", line);
    snprintf(detail, sizeof detail, "output %s: %s", line, why ? why : "failed");
    hall_fault(h, kind, !ok, since_ms, ok ? NULL : detail, now, out);
    if (changed) hall_emergency_changed(h, out, now.ms);
}

/* ---- checkpoint (checkpoint.h): the incidents, as emergency.changed carries them ------------- */

hv *hall_emergency_checkpoint(const hk_hall *h) { return emergency_to_hv(h->em); }

int hall_emergency_restore(hk_hall *h, const hv *m) { return hall_apply_emergency(h, m); }
