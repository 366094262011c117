/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * botlabel.c - user-agent, timing and burst signals for trackd's bot label
 *
 * trackd's request handler asks botlabel_ua and botlabel_early; the event
 * writer thread keeps the burst tracker, since it sees every event in
 * order. The user-agent lists are deliberately short and
 * substring-based: they catch the proxies and tools named in TRACKING.md
 * section 5, and a label is only a label (see botlabel.h).
 */
#include "trackd/botlabel.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BOTLABEL_BURST_MS 1000

struct botlabel_slot {
    uint64_t key;
    int64_t start_ms;
    unsigned last_link;
    unsigned distinct;
};

struct botlabel_burst {
    size_t n;
    struct botlabel_slot *v;
};

struct botlabel_rule {
    const char *needle; /* case-insensitive substring */
    const char *label;
};

/* checked in order: the first match names the label */
static const struct botlabel_rule botlabel_rules[] = {
        {"GoogleImageProxy", "image_proxy"},
        {"ggpht.com", "image_proxy"},
        {"YahooMailProxy", "image_proxy"},
        {"Barracuda", "scanner"},
        {"Mimecast", "scanner"},
        {"Proofpoint", "scanner"},
        {"BingPreview", "scanner"},
        {"Zscaler", "scanner"},
        {"Forcepoint", "scanner"},
        {"IronPort", "scanner"},
        {"Sophos", "scanner"},
        {"FireEye", "scanner"},
        {"Fortinet", "scanner"},
        {"FortiGuard", "scanner"},
        {"Symantec", "scanner"},
        {"Trend Micro", "scanner"},
        {"urlscan", "scanner"},
        {"HeadlessChrome", "headless"},
        {"PhantomJS", "headless"},
        {"Puppeteer", "headless"},
        {"Playwright", "headless"},
        {"Selenium", "headless"},
        {"curl/", "script"},
        {"Wget", "script"},
        {"python-requests", "script"},
        {"python-urllib", "script"},
        {"python-httpx", "script"},
        {"aiohttp", "script"},
        {"Go-http-client", "script"},
        {"libwww-perl", "script"},
        {"Java/", "script"},
        {"okhttp", "script"},
        {"axios", "script"},
        {"node-fetch", "script"},
        {"undici", "script"},
        {"Apache-HttpClient", "script"},
        {"Scrapy", "script"},
        {"bot/", "crawler"},
        {"bot;", "crawler"},
        {"bot)", "crawler"},
        {"crawler", "crawler"},
        {"spider", "crawler"},
        {"facebookexternalhit", "crawler"},
        {"+http", "crawler"},
};

/* botlabel_ua - the label a user agent earns, NULL for an ordinary browser or mail client */
const char *botlabel_ua(const char *ua)
{
    size_t n;

    if (ua == NULL)
        return "empty_ua";
    ua += strspn(ua, " \t");
    n = strlen(ua);
    while (n && (ua[n - 1] == ' ' || ua[n - 1] == '\t'))
        n--;
    if (n == 0)
        return "empty_ua";
    /* Apple Mail Privacy Protection prefetches with exactly this */
    if (n == 11 && strncmp(ua, "Mozilla/5.0", 11) == 0)
        return "apple_proxy";
    for (size_t i = 0; i < sizeof(botlabel_rules) / sizeof(botlabel_rules[0]); i++)
        if (strcasestr(ua, botlabel_rules[i].needle))
            return botlabel_rules[i].label;
    return NULL;
}

/* botlabel_early - a hit within window seconds of the token's issue time (either side) */
bool botlabel_early(int64_t now, int64_t issued, long window)
{
    int64_t d = now - issued;

    return window > 0 && issued > 0 && d < window && d > -window;
}

/* botlabel_burst_new - a tracker with a fixed number of slots */
botlabel_burst *botlabel_burst_new(size_t slots)
{
    botlabel_burst *b = calloc(1, sizeof(*b));

    if (b == NULL || (b->v = calloc(slots ? slots : 1, sizeof(*b->v))) == NULL) {
        free(b);
        return NULL;
    }
    b->n = slots ? slots : 1;
    return b;
}

/* botlabel_burst_free - release a tracker */
void botlabel_burst_free(botlabel_burst *b)
{
    if (b) {
        free(b->v);
        free(b);
    }
}

/*
 * botlabel_burst_hit - true when this click is the second (or later) different link of
 * the same message from the same address within one second. A slot collision only
 * forgets an earlier click: the tracker is an approximation with bounded memory.
 */
bool botlabel_burst_hit(botlabel_burst *b, uint64_t key, unsigned link, int64_t now_ms)
{
    struct botlabel_slot *s = &b->v[key % b->n];

    if (s->key == key && s->distinct > 0 && now_ms - s->start_ms < BOTLABEL_BURST_MS &&
        now_ms >= s->start_ms) {
        if (link != s->last_link) {
            s->distinct++;
            s->last_link = link;
        }
        return s->distinct >= 2;
    }
    s->key = key;
    s->start_ms = now_ms;
    s->last_link = link;
    s->distinct = 1;
    return false;
}

/* botlabel_key - FNV-1a of message reference and client address */
uint64_t botlabel_key(const char *msgref, const char *client)
{
    uint64_t h = 1469598103934665603ULL;

    for (const char *p = msgref; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = client; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}
