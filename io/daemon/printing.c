/* printing.c: the daemon's glue for phones and the ticket printer (see the header). One
 * daemon per process, so the module keeps its state here rather than in daemon_t. */
#include "printing.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/printer/printer.h"
#include "io/printer/qr.h"
#include "io/printer/ticket_key.h"
#include "core/hall_mobile.h"
#include "io/base/clock.h"

static struct {
    uint8_t secret[TICKET_KEY_SECRET_LEN];
    printer *pr;
    int64_t fault_since;   /* ms, 0 = printing works */
    char base[256];        /* the link's base when mobile.public_url is not set */
} mob;

static bool verify_ticket(void *ctx, const char *hall_id, int32_t day, const char *code, const char *key)
{
    (void)ctx;
    return ticket_key_check(mob.secret, hall_id, day, code, key);
}

/* mobile.public_url, or http(s)://ADDRESS:PORT of this controller: the listen address, or when it
 * listens on every address, the first non-loopback IPv4 address (the hall's LAN, where the
 * visitors' phones are on the hall's Wi-Fi). */
static const char *base_url(daemon_t *d)
{
    if (d->cfg.mobile.public_url) return d->cfg.mobile.public_url;
    if (mob.base[0]) return mob.base;
    const char *listen = d->listen ? d->listen : "0.0.0.0:8080";
    const char *colon = strrchr(listen, ':');
    char host[64] = "";
    if (colon && (size_t)(colon - listen) < sizeof host) {
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = 0;
    }
    if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "[::]") || !strcmp(host, "*")) {
        snprintf(host, sizeof host, "127.0.0.1");
        struct ifaddrs *ifs = NULL;
        if (getifaddrs(&ifs) == 0) {
            for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
                    !(i->ifa_flags & IFF_UP))
                    continue;
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, host, sizeof host);
                break;
            }
            freeifaddrs(ifs);
        }
    }
    snprintf(mob.base, sizeof mob.base, "%s://%s:%s", d->cfg.tls_cert ? "https" : "http", host,
             colon ? colon + 1 : "8080");
    log_info("mobile: ticket links point at %s (set mobile.public_url to change it)", mob.base);
    return mob.base;
}

void daemon_mobile_link(daemon_t *d, const char *code, int32_t day, bool absolute, char *out, size_t len)
{
    char key[TICKET_KEY_HEX_LEN + 1];
    ticket_key_make(mob.secret, d->cfg.hall_id, day, code, key);
    snprintf(out, len, "%s/t/%s?k=%s", absolute ? base_url(d) : "", code, key);
}

static void on_printer_status(void *arg, bool active, const char *detail)
{
    daemon_t *d = arg;
    hk_time now = hk_clock_now();
    if (active && !mob.fault_since) mob.fault_since = now.ms;
    if (!active) mob.fault_since = 0;
    /* before the hub is up the fault is only remembered: the printer probes again and the next
     * report publishes it */
    if (!d->hb) return;
    hk_out out;
    hk_out_init(&out);
    hall_fault(d->hall, "printer", active, mob.fault_since, detail, now, &out);
    if (out.nevents) hub_publish(d->hb, &out);
    hk_out_clear(&out);
}

int daemon_mobile_open(daemon_t *d, char *err, size_t errlen)
{
    if (ticket_key_load(d->data_dir, mob.secret, err, errlen) < 0) return -1;
    hall_set_ticket_verifier(d->hall, verify_ticket, NULL);
    if (d->cfg.printer.width_mm) {
        mob.pr = printer_new(&d->loop, &d->cfg.printer, on_printer_status, d);
        if (!mob.pr) {
            snprintf(err, errlen, "printer: out of memory");
            return -1;
        }
        log_info("printer: %s, %d mm paper", d->cfg.printer.tcp ? d->cfg.printer.tcp : d->cfg.printer.device,
                 d->cfg.printer.width_mm);
    }
    return 0;
}

void daemon_mobile_close(daemon_t *d)
{
    (void)d;
    printer_close(mob.pr);
    mob.pr = NULL;
}

/* The ticket.issued event of the ticket a reply carries, if this change issued it. */
static const hv *issued_event(const hk_out *out, const char *code)
{
    for (size_t i = 0; i < out->nevents; i++) {
        const char *name = hv_get_str(out->events[i], "ev");
        const char *c = hv_get_str(out->events[i], "code");
        if (name && c && !strcmp(name, "ticket.issued") && !strcmp(c, code)) return out->events[i];
    }
    return NULL;
}

void daemon_mobile_outputs(daemon_t *d, hk_out *out)
{
    const char *t = out->reply ? hv_get_str(out->reply, "t") : NULL;
    hv *tk = t && !strcmp(t, "ok") ? hv_get(out->reply, "ticket") : NULL;
    const char *code = tk ? hv_get_str(tk, "code") : NULL;
    const hv *ev = code ? issued_event(out, code) : NULL;
    int64_t day = 0;
    if (!ev || hv_get_int(ev, "day", &day) < 0) return;
    char url[400], path[128];
    daemon_mobile_link(d, code, (int32_t)day, true, url, sizeof url);
    daemon_mobile_link(d, code, (int32_t)day, false, path, sizeof path);
    hv_set(tk, "url", hv_str(url));
    hv_set(tk, "path", hv_str(path));
    /* the QR code for a screen is drawn only when asked for (ticket.issue {qr: true}): encoding
     * it costs more than the rest of issuing a ticket */
    bool want = false;
    if (!out->req || hv_get_bool(out->req, "qr", &want) < 0 || !want) return;
    qr_matrix m;
    if (qr_encode(url, &m) < 0) return;
    char *svg = qr_svg(&m);
    qr_free(&m);
    if (svg) hv_set(tk, "qr_svg", hv_str(svg));
    free(svg);
}

static void print_ticket(daemon_t *d, const hv *ev)
{
    const char *by = hv_get_str(ev, "by");
    const char *code = hv_get_str(ev, "code");
    const char *cat = hv_get_str(ev, "category");
    int64_t day = 0, ahead = 0, at = 0;
    if (!mob.pr || !by || strcmp(by, "kiosk") != 0 || !code || hv_get_int(ev, "day", &day) < 0) return;
    hv_get_int(ev, "ahead", &ahead);
    hv_get_int(ev, "issued_at", &at);
    const hk_category_cfg *c = hk_config_category(&d->cfg, cat);
    char url[400];
    daemon_mobile_link(d, code, (int32_t)day, true, url, sizeof url);
    printer_ticket pt = {d->cfg.hall_name, code, c ? c->name : cat, (int)ahead, at, url, d->cfg.printer.width_mm};
    uint8_t *bytes;
    size_t len;
    if (printer_ticket_escpos(&pt, &bytes, &len) < 0) {
        log_err("printer: out of memory: ticket %s not printed", code);
        return;
    }
    if (printer_print(mob.pr, bytes, len) < 0) log_warn("printer: %d tickets are waiting already: %s not printed",
                                                       PRINTER_QUEUE_MAX, code);
    free(bytes);
}

void daemon_mobile_delivered(void *arg, const hv *ev)
{
    const char *name = hv_get_str(ev, "ev");
    if (name && !strcmp(name, "ticket.issued")) print_ticket(arg, ev);
}
