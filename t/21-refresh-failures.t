#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# A provider API that fails never costs the cache its data: every failure
# the providers document (401, 403, 404, 429, 500, success=false) and every
# broken answer (slow, truncated, malformed, oversized, connection closed)
# leaves the domains exactly as they were and is recorded in meta with a
# readable reason. A 429 with Retry-After: N means no request at all before
# N seconds, whatever runs the refresh; ordinary failures back off
# exponentially. A JetEmail domain whose own settings call fails keeps its
# previous settings while the rest refreshes.
import copy
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
from sgtest import T, bin_path, run, tmpdir, wait_for  # noqa: E402
from fakeapi import FakeAPI, provider_conf  # noqa: E402

EX_UNAVAILABLE, EX_TEMPFAIL = 69, 75
t = T()
api = FakeAPI("basic.json")


def ctl(cfg, *args):
    return run([bin_path("sendgatectl"), "-c", cfg] + list(args))


def dump(cfg):
    r = ctl(cfg, "cache", "dump")
    return json.loads(r.stdout) if r.returncode == 0 else {}


def domains(d):
    return {"outbound": d.get("outbound"), "inbound": d.get("inbound")}


def meta(cfg, prov):
    return dump(cfg).get("meta", {}).get(prov, {})


def sent_since(n, prefix=""):
    return [q for q in api.requests()[n:] if q["path"].startswith(prefix)]


try:
    d = tmpdir()
    cfg = provider_conf(d, api, {"refresh": {"max_response_size": "64k"}})
    t.is_(ctl(cfg, "refresh").returncode, 0, "a good refresh first")
    good = domains(dump(cfg))
    t.ok(len(good["outbound"]) == 10 and len(good["inbound"]) == 4, "the cache is filled")

    # ---- every failure mode: data intact, error in meta ---------------------------
    cases = [
        ("jetemail", dict(method="GET", path="^/outbound/domains$", status=401),
         "HTTP 401: User information not found", "401 (bad token)"),
        ("jetemail", dict(method="GET", path="^/outbound/domains$", status=403),
         "HTTP 403: Forbidden", "403"),
        ("jetemail", dict(method="GET", path="^/inbound/domains$", status=404),
         "GET /inbound/domains: HTTP 404: domain not found", "404 on the inbound list"),
        ("jetemail", dict(method="GET", path="^/outbound/domains$", status=500),
         "HTTP 500: Internal server error", "500"),
        ("jetemail", dict(method="GET", path="^/outbound/domains$", status=200,
                          body={"success": False, "error": "maintenance window"}),
         "success=false: maintenance window", "200 with success=false"),
        ("jetemail", dict(method="GET", path="^/outbound/domains$", mode="malformed"),
         "malformed JSON", "malformed JSON"),
        ("jetemail", dict(method="GET", path="^/outbound/domains$", mode="truncjson"),
         "JSON answer", "JSON cut half way (complete HTTP answer)"),
        ("jetemail", dict(method="GET", path="^/inbound/settings/", mode="truncate"),
         "truncated", "a body shorter than its Content-Length (on a settings call)"),
        ("jetemail", dict(method="GET", path="^/outbound/domains$", mode="close"),
         "GET /outbound/domains: ", "connection closed without an answer"),
        ("jetemail", dict(method="GET", path="^/outbound/domains$", mode="oversize",
                          size=200000), "larger than 65536 bytes", "an answer over max_response_size"),
        ("jetemail", dict(method="GET", path="^/outbound/domains/[^/]+/settings$",
                          mode="malformed", times=1),
         "malformed JSON", "malformed JSON on one domain's settings"),
        ("mailtrap", dict(method="GET", path="^/api/domains$", status=401),
         "HTTP 401: Incorrect API token", "Mailtrap 401"),
        ("mailtrap", dict(method="GET", path="^/api/domains$", status=403),
         "HTTP 403: Account access forbidden", "Mailtrap 403 (errors as a string)"),
        ("mailtrap", dict(method="GET", path="^/api/domains$", status=500),
         "HTTP 500: Internal Server Error", "Mailtrap 500"),
        ("mailtrap", dict(method="GET", path="^/api/domains$", mode="malformed"),
         "malformed JSON", "Mailtrap malformed JSON"),
        ("mailtrap", dict(method="GET", path="^/api/domains$", status=200, body={"nope": 1}),
         "no \"data\" list", "Mailtrap 200 without a data list"),
    ]
    for prov, rule, want, what in cases:
        api.reset()
        before = meta(cfg, prov).get("consecutive_failures", 0)
        api.fail(**rule)
        r = ctl(cfg, "refresh", prov, "--force")
        m = meta(cfg, prov)
        t.is_(r.returncode, EX_UNAVAILABLE, "%s %s: the refresh fails (exit 69)" % (prov, what))
        t.is_(domains(dump(cfg)), good, "%s %s: every domain exactly as before" % (prov, what))
        t.ok(want in (m.get("last_error") or "") and m.get("consecutive_failures") == before + 1,
             "%s %s: meta says '%s'" % (prov, what, m.get("last_error")))
        t.like(r.stderr, want, "%s %s: so does sendgatectl" % (prov, what))

    # a slow API: the request times out
    api.reset()
    slow = provider_conf(d, api, {"refresh": {"timeout": "1s", "connect_timeout": "1s"}},
                         name="slow.conf")
    api.fail("GET", "^/outbound/domains$", mode="slow", delay=3)
    r = ctl(slow, "refresh", "jetemail", "--force")
    t.is_(r.returncode, EX_UNAVAILABLE, "a slow answer: timed out")
    t.like(meta(cfg, "jetemail").get("last_error"), "imed out", "meta says it timed out")
    t.is_(domains(dump(cfg)), good, "and the data is as before")

    # ---- exponential backoff, honoured without --force -------------------------------
    api.reset()
    d2 = tmpdir()
    bcfg = provider_conf(d2, api, {"refresh": {"backoff_min": "30s", "backoff_max": "100s"}})
    api.fail("GET", "^/api/domains$", status=500)
    waits = []
    for _ in range(4):
        ctl(bcfg, "refresh", "mailtrap", "--force")
        m = meta(bcfg, "mailtrap")
        waits.append(m["next_attempt"] - m["last_attempt"])
    t.is_(waits, [30, 60, 100, 100], "backoff doubles from backoff_min up to backoff_max")
    n = len(api.requests())
    r = ctl(bcfg, "refresh", "mailtrap")
    t.is_(r.returncode, EX_TEMPFAIL, "without --force a refresh inside the backoff is deferred")
    t.like(r.stderr, "backing off", "and says why")
    t.is_(sent_since(n), [], "no request was sent")

    # ---- 429 with Retry-After: nothing before it, --force or not ------------------------
    api.reset()
    n = len(api.requests())
    api.fail("GET", "^/outbound/domains$", status=429, retry_after="120", times=1)
    r = ctl(cfg, "refresh", "jetemail", "--force")
    reqs = sent_since(n)
    m = meta(cfg, "jetemail")
    t.is_((r.returncode, len(reqs)), (EX_UNAVAILABLE, 1),
          "429 on the first request: the refresh stops there (no further request)")
    t.ok(m.get("next_attempt", 0) >= int(reqs[0]["t"]) + 120 - 1,
         "meta.next_attempt is at least the 429's time + Retry-After")
    n = len(api.requests())
    r1 = ctl(cfg, "refresh", "jetemail")
    r2 = ctl(cfg, "refresh", "jetemail", "--force")
    r3 = ctl(cfg, "refresh", "--force")
    t.is_((r1.returncode, r2.returncode), (EX_TEMPFAIL, EX_TEMPFAIL),
          "inside Retry-After: deferred, with and without --force")
    t.like(r2.stderr, "rate limited", "the reason says rate limited")
    t.is_(sent_since(n, "/outbound") + sent_since(n, "/inbound"), [],
          "no JetEmail request before Retry-After has passed (restarts and --force included)")
    t.like(r3.stdout + r3.stderr, "mailtrap: ok", "the other provider is not held back")
    t.like(r3.stdout + r3.stderr, "jetemail: deferred", "refresh --force of all: JetEmail waits")
    t.is_(domains(dump(cfg))["inbound"], good["inbound"], "the data is as before")

    # JetEmail 429 without Retry-After: its 5-minute lockout
    api.reset()
    d3 = tmpdir()
    lcfg = provider_conf(d3, api)
    api.fail("GET", "^/outbound/domains$", status=429, times=1)
    ctl(lcfg, "refresh", "jetemail")
    m = meta(lcfg, "jetemail")
    t.is_(m["next_attempt"] - m["last_attempt"], 300,
          "JetEmail 429 without Retry-After: no request for retry_after_default (5m)")
    api.fail("GET", "^/api/domains$", status=429, times=1)
    ctl(lcfg, "refresh", "mailtrap")
    m = meta(lcfg, "mailtrap")
    t.ok(m["last_error"].endswith("HTTP 429: Rate limit exceeded")
         and m["next_attempt"] - m["last_attempt"] >= 30,
         "Mailtrap 429: its error body read, no request before the backoff (%s)"
         % m["last_error"])

    # a 429 on one domain's settings call fails the whole refresh: nothing is written
    api.reset()
    ctl(lcfg, "refresh", "jetemail", "--force")  # still locked out: deferred
    d4 = tmpdir()
    ccfg = provider_conf(d4, api, {"refresh": {"backoff_min": "1s"}})
    t.is_(ctl(ccfg, "refresh", "jetemail").returncode, 0, "fresh cache for the next checks")
    before = domains(dump(ccfg))
    n = len(api.requests())
    api.fail("GET", "^/outbound/domains/[^/]+/settings$", status=429, retry_after="2", times=1)
    r = ctl(ccfg, "refresh", "jetemail")
    reqs = sent_since(n)
    t.is_((r.returncode, len(reqs)), (EX_UNAVAILABLE, 2),
          "429 on a settings call: the refresh stops at once")
    t.is_(domains(dump(ccfg)), before, "and writes nothing")
    n = len(api.requests())
    t.is_(ctl(ccfg, "refresh", "jetemail").returncode, EX_TEMPFAIL, "deferred right after")
    t.is_(sent_since(n), [], "without a request")
    nxt = meta(ccfg, "jetemail")["next_attempt"]
    wait_for(lambda: time.time() > nxt + 0.2, timeout=10)
    r = ctl(ccfg, "refresh", "jetemail")
    t.is_(r.returncode, 0, "once Retry-After has passed, the refresh goes through")
    t.is_(meta(ccfg, "jetemail").get("consecutive_failures"), 0, "and meta is clean again")

    # ---- a domain whose settings call fails keeps its previous settings ------------------
    before = domains(dump(ccfg))
    state = api.state()
    changed = copy.deepcopy(state)
    for x in changed["jetemail"]["outbound"]:
        if x["domain"] in ("shop.example", "nodmarc.example"):
            x["settings"] = {"bccEmails": [], "openTracking": False, "clickTracking": False}
    changed["jetemail"]["outbound"].append(
        {"uuid": "5c2f7c14-1234-4abc-8def-0123456789ab", "domain": "brandnew.example",
         "status": "active", "dns": {"dmarc": {"verified": True}},
         "settings": {"openTracking": True}})
    changed["jetemail"]["inbound"].append(
        {"uuid": "950e8400-e29b-41d4-a716-446655440000", "domain": "in-new.example",
         "delivery_type": "smtp", "status": "active",
         "settings": {"smtp_servers": ["mx.in-new.example:25"]}})
    path = os.path.join(d4, "changed.json")
    with open(path, "w") as f:
        json.dump(changed, f)
    api.reset(load=path)
    api.fail("GET", "^/outbound/domains/b814c25d-b18c-4044-ae31-49e22ce908b5/settings$",
             status=500)
    api.fail("GET", "^/outbound/domains/5c2f7c14-1234-4abc-8def-0123456789ab/settings$",
             status=404)
    api.fail("GET", "^/inbound/settings/550e8400-e29b-41d4-a716-446655440000$", status=500)
    api.fail("GET", "^/inbound/settings/950e8400-e29b-41d4-a716-446655440000$", status=500)
    r = ctl(ccfg, "refresh", "jetemail")
    after = dump(ccfg)
    out = after["outbound"]
    t.is_(r.returncode, 0, "per-domain settings failures do not fail the refresh")
    t.like(r.stdout, "kept from before", "the report says domains were kept")
    t.is_((out["shop.example"]["jetemail"]["bcc"], out["shop.example"]["jetemail"]["tracking_host"]),
          (before["outbound"]["shop.example"]["jetemail"]["bcc"], "links.shop.example"),
          "shop.example (settings 500): previous BCC and tracking host kept")
    t.is_(out["nodmarc.example"]["jetemail"]["click_tracking"], False,
          "nodmarc.example (settings fine): its new settings applied")
    t.is_((out["brandnew.example"]["jetemail"]["send_status"],
           out["brandnew.example"]["jetemail"]["open_tracking"]), ("allowed", False),
          "a new domain whose settings fail: the list's send status, tracking off")
    t.is_(after["inbound"]["in-smtp.example"], before["inbound"]["in-smtp.example"],
          "an inbound domain whose settings fail keeps its previous record")
    t.ok("in-new.example" not in after["inbound"],
         "a new inbound domain whose settings fail is not guessed at")
    m = after["meta"]["jetemail"]
    t.ok(m["consecutive_failures"] == 0 and "kept from before" in (m["last_error"] or ""),
         "meta: a success, with a note naming the problem")
finally:
    api.stop()
t.done()
