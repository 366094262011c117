#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgatectl refresh fills the cache from both provider APIs (the fake in
# t/fakeapi.py) with the records the milter and the policy daemon act on:
# JetEmail's send status from its status and DMARC verification, verified
# BCC only, tracking hosts, inbound servers, webhooks and forward rules;
# Mailtrap's compliance status, tracking flags, unsubscribe link and custom
# tracking host. Every documented response variant gives the same records,
# secrets never reach the cache, and what the API no longer lists leaves it.
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
from sgtest import T, bin_path, run, tmpdir  # noqa: E402
from fakeapi import FakeAPI, provider_conf  # noqa: E402

t = T()
api = FakeAPI("basic.json")


def ctl(cfg, *args):
    return run([bin_path("sendgatectl"), "-c", cfg] + list(args))


def dump(cfg):
    r = ctl(cfg, "cache", "dump")
    return json.loads(r.stdout) if r.returncode == 0 else {}


def strip_times(x):
    """A record without the times that differ between two refreshes."""
    if isinstance(x, dict):
        return {k: strip_times(v) for k, v in x.items() if not k.startswith("fetched_at")}
    if isinstance(x, list):
        return [strip_times(v) for v in x]
    return x


def out(d, dom, prov):
    return d.get("outbound", {}).get(dom, {}).get(prov, {})


try:
    d = tmpdir()
    cfg = provider_conf(d, api)
    r = ctl(cfg, "refresh")
    t.is_(r.returncode, 0, "sendgatectl refresh: both providers refreshed")
    t.like(r.stdout, "jetemail: ok: 5 outbound, 4 inbound", "the report counts JetEmail's domains")
    t.like(r.stdout, "mailtrap: ok: 5 outbound, 0 inbound", "and Mailtrap's")
    t.is_(r.stderr, "", "no warnings")
    full = dump(cfg)

    # ---- JetEmail outbound: the send-status table ------------------------------
    shop = out(full, "shop.example", "jetemail")
    t.is_((shop.get("send_status"), shop.get("provider_status")), ("allowed", "active"),
          "active with a verified DMARC record: allowed")
    t.is_(shop.get("bcc"), [{"address": "archive@shop.example", "verified": True},
                            {"address": "new@shop.example", "verified": False}],
          "BCC: status 1 verified, status 0 pending")
    t.is_((shop.get("open_tracking"), shop.get("click_tracking"), shop.get("unsubscribe")),
          (True, True, False), "open and click tracking; JetEmail has no unsubscribe setting")
    t.is_(shop.get("tracking_host"), "links.shop.example", "tracking host from tracking_domain")
    t.is_(shop.get("provider_id"), "b814c25d-b18c-4044-ae31-49e22ce908b5", "the uuid is kept")
    nod = out(full, "nodmarc.example", "jetemail")
    t.is_(nod.get("send_status"), "blocked", "active but DMARC not verified: blocked")
    t.like(nod.get("reason"), "DMARC", "and the reason says why")
    t.is_(nod.get("tracking_host"), "", "tracking DNS not verified: no tracking host")
    t.is_(out(full, "pending.example", "jetemail").get("send_status"), "pending",
          "pending with DMARC verified: pending")
    t.is_(out(full, "off.example", "jetemail").get("send_status"), "blocked", "disabled: blocked")
    weird = out(full, "weird.example", "jetemail")
    t.is_((weird.get("send_status"), weird.get("provider_status")), ("blocked", "frozen"),
          "an unknown status: blocked, the raw word kept (domain lowercased)")

    # ---- JetEmail inbound ------------------------------------------------------
    inb = full.get("inbound", {})
    smtp = inb.get("in-smtp.example", {}).get("jetemail", {})
    t.is_(smtp.get("smtp_servers"), [
        {"host": "mx1.in-smtp.example", "port": 25, "priority": 1, "tls": False},
        {"host": "mx2.in-smtp.example", "port": 2525, "priority": 20, "tls": True}],
        "SMTP servers from a host:port string and a {url, priority, tls_enabled} object")
    t.is_((smtp.get("status"), smtp.get("delivery_type")), ("active", "smtp"),
          "numeric list status 1: active")
    hook = inb.get("in-hook.example", {}).get("jetemail", {})
    t.is_((hook.get("webhook_url"), hook.get("webhook_method"), hook.get("webhook_timeout_ms"),
           hook.get("webhook_retry_count")),
          ("https://hooks.in-hook.example/mail", "PUT", 10000, 5), "webhook settings")
    fwd = inb.get("in-fwd.example", {}).get("jetemail", {})
    t.is_([(x["localpart"], x["destination"], x["active"], x["verified"])
           for x in fwd.get("forward_rules", [])],
          [("support", "team@theirinbox.example", True, True),
           ("*", "catchall@theirinbox.example", False, True),
           ("sales", "sales@theirinbox.example", True, False)],
          "forward rules with active and verified from 0/1, localparts lowercased")
    t.is_((fwd.get("forward_mx_verified"), fwd.get("forward_dkim_verified"),
           fwd.get("forward_spf_verified"), fwd.get("forward_dmarc_verified")),
          (True, True, True, False), "forward DNS verification flags")
    off = inb.get("in-off.example", {}).get("jetemail", {})
    t.is_((off.get("status"), off.get("smtp_servers")),
          ("disabled", [{"host": "2001:db8::25", "port": 2525, "priority": 1, "tls": False}]),
          "disabled domain; an IPv6 server")
    text = json.dumps(full)
    t.ok("whsec_FIXTURE_SECRET" not in text and "HOOK-AUTH-SECRET" not in text
         and "X-Team" not in text, "no webhook secret, auth header or headers in the cache")

    # ---- Mailtrap ----------------------------------------------------------------
    ok = out(full, "mt-ok.example", "mailtrap")
    t.is_((ok.get("send_status"), ok.get("provider_status"), ok.get("provider_id")),
          ("allowed", "compliant", "435"), "compliant: allowed, id kept")
    t.is_((ok.get("open_tracking"), ok.get("click_tracking"), ok.get("unsubscribe"),
           ok.get("tracking_host")), (True, True, True, "mt-link.mt-ok.example"),
          "tracking flags, unsubscribe link, mt-link host when its DNS record passes")
    t.is_(out(full, "mt-demo.example", "mailtrap").get("send_status"), "demo", "demo: demo")
    t.is_(out(full, "mt-review.example", "mailtrap").get("send_status"), "pending",
          "under_review: pending")
    dns = out(full, "mt-dns.example", "mailtrap")
    t.is_((dns.get("send_status"), dns.get("tracking_host")), ("blocked", ""),
          "unverified_dns: blocked; custom tracking whose record fails: no host")
    new = out(full, "mt-new.example", "mailtrap")
    t.is_((new.get("send_status"), new.get("provider_status")), ("blocked", "pending_approval"),
          "an unknown compliance status: blocked, raw status kept")
    t.like(new.get("reason"), "unknown", "with a reason saying so")

    meta = full.get("meta", {})
    t.is_((meta.get("jetemail", {}).get("consecutive_failures"),
           meta.get("jetemail", {}).get("outbound_domains"),
           meta.get("jetemail", {}).get("inbound_domains"),
           meta.get("jetemail", {}).get("last_error")), (0, 5, 4, None),
          "meta: JetEmail's counts, no failure, no error")
    t.ok(meta.get("mailtrap", {}).get("last_success", 0) > 0, "meta: Mailtrap's last success")

    # ---- what was sent ----------------------------------------------------------
    reqs = api.requests()
    jet = [q for q in reqs if not q["path"].startswith("/api/")]
    mt = [q for q in reqs if q["path"].startswith("/api/")]
    t.ok(all(q["method"] == "GET" for q in reqs), "a refresh only reads")
    t.ok(all(q["headers"].get("authorization") == "Bearer api_test" for q in jet),
         "JetEmail: Authorization: Bearer with the api_ token")
    t.ok(all(q["headers"].get("authorization") == "Bearer mt_test" and "api-token" not in
             q["headers"] for q in mt), "Mailtrap: Bearer by default, one header only")
    t.ok(all(q["headers"].get("user-agent", "").startswith("sendgate/") for q in reqs),
         "an explicit User-Agent: sendgate/VERSION")
    t.is_(len(jet), 2 + 5 + 4 + 1, "JetEmail: two lists, one settings call per domain, rules "
          "only for the forward domain")
    t.is_([q["path"] for q in mt], ["/api/domains"], "Mailtrap: one request")
    t.ok(any(q["path"] == "/outbound/domains/b814c25d-b18c-4044-ae31-49e22ce908b5/settings"
             for q in jet), "the settings call uses the uuid from the list")

    # ---- every documented variant gives the same records --------------------------
    for variant in ({"jet_rows": "results", "jet_status": "string", "jet_settings": "result",
                     "jet_case": "snake"},
                    {"jet_rows": "data", "jet_settings": "top"},
                    {"jet_rows": "bare", "jet_settings": "data"}):
        api.reset()
        api.switch(**variant)
        d2 = tmpdir()
        cfg2 = provider_conf(d2, api)
        r = ctl(cfg2, "refresh", "jetemail")
        got = dump(cfg2)
        same = strip_times(got.get("outbound")) == strip_times(
            {k: {"jetemail": v["jetemail"]} for k, v in full["outbound"].items() if "jetemail" in v})
        t.ok(r.returncode == 0 and same, "same outbound records with %s" % json.dumps(variant))
        t.is_(strip_times(got.get("inbound")), strip_times(full["inbound"]),
              "same inbound records with %s" % json.dumps(variant))
    # outbound status as a number (1 active, 0 disabled, as the inbound list has it)
    api.reset()
    api.switch(jet_out_status="number")
    dn = tmpdir()
    cfgn = provider_conf(dn, api)
    r = ctl(cfgn, "refresh", "jetemail")
    num = dump(cfgn)
    t.is_([(out(num, x, "jetemail").get("send_status"), out(num, x, "jetemail").get(
        "provider_status")) for x in ("shop.example", "nodmarc.example", "off.example")],
          [("allowed", "1"), ("blocked", "1"), ("blocked", "0")],
          "numeric status: 1 with DMARC allowed, 1 without DMARC blocked, 0 blocked")
    # the older inbound settings page: results[0] with a single nexthop
    api.reset()
    api.switch(jet_inbound="results")
    d3 = tmpdir()
    cfg3 = provider_conf(d3, api)
    r = ctl(cfg3, "refresh", "jetemail")
    old = dump(cfg3).get("inbound", {})
    t.is_(r.returncode, 0, "the older inbound settings shape (results[0]) is read")
    t.is_(old.get("in-smtp.example", {}).get("jetemail", {}).get("smtp_servers"),
          [{"host": "mx1.in-smtp.example", "port": 25, "priority": 1, "tls": False}],
          "its nexthop becomes the SMTP server")
    t.is_(old.get("in-off.example", {}).get("jetemail", {}).get("status"), "disabled",
          "its status word is read")

    # ---- Mailtrap: the older account-scoped path, found on 404 ----------------------
    api.reset()
    api.clear()
    api.switch(mt_path="account")
    d4 = tmpdir()
    cfg4 = provider_conf(d4, api)
    r = ctl(cfg4, "refresh", "mailtrap")
    t.is_(r.returncode, 0, "path_style auto: /api/domains answers 404, the account path works")
    t.is_([q["path"] for q in api.requests()],
          ["/api/domains", "/api/accounts", "/api/accounts/26730/sending_domains"],
          "404, then the account id from GET /api/accounts, then sending_domains")
    t.is_(strip_times(dump(cfg4).get("outbound")),
          strip_times({k: {"mailtrap": v["mailtrap"]} for k, v in full["outbound"].items()
                       if "mailtrap" in v}), "the same Mailtrap records")
    api.clear()
    cfg5 = provider_conf(d4, api, {"mailtrap": {"path_style": "account", "account_id": "26730",
                                                "auth_header": "api-token"}}, name="acct.conf")
    api.switch(mt_auth="api-token")
    r = ctl(cfg5, "refresh", "mailtrap")
    reqs = api.requests()
    t.is_((r.returncode, [q["path"] for q in reqs]),
          (0, ["/api/accounts/26730/sending_domains"]),
          "path_style account with account_id: straight to the account path")
    t.ok(reqs and reqs[0]["headers"].get("api-token") == "mt_test"
         and "authorization" not in reqs[0]["headers"],
         "auth_header = api-token: Api-Token header, no Authorization")

    # ---- what the provider no longer lists leaves the cache -------------------------
    api.reset()
    state = api.state()
    smaller = copy.deepcopy(state)
    smaller["jetemail"]["outbound"] = [x for x in smaller["jetemail"]["outbound"]
                                       if x["domain"] != "off.example"]
    smaller["jetemail"]["inbound"] = [x for x in smaller["jetemail"]["inbound"]
                                      if x["domain"] != "in-off.example"]
    smaller["mailtrap"]["domains"] = [x for x in smaller["mailtrap"]["domains"]
                                      if x["domain_name"] != "mt-new.example"]
    path = os.path.join(d, "smaller.json")
    with open(path, "w") as f:
        json.dump(smaller, f)
    api.reset(load=path)
    r = ctl(cfg, "refresh")
    after = dump(cfg)
    t.is_(r.returncode, 0, "refresh after domains were removed at the providers")
    t.ok("off.example" not in after["outbound"] and "in-off.example" not in after["inbound"]
         and "mt-new.example" not in after["outbound"],
         "removed domains are gone from the cache")
    t.is_(strip_times(after["outbound"]["shop.example"]),
          strip_times(full["outbound"]["shop.example"]), "the others are unchanged")
finally:
    api.stop()
t.done()
