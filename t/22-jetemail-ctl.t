#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgatectl's JetEmail commands send exactly the documented requests
# (method, path, Authorization, JSON body), refuse invalid input before
# sending anything (exit 65), report the provider's errors readably with a
# sysexits code, write successful changes through to the cache, and show a
# new inbound domain's webhook secret once without ever storing it.
import json
import os
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
from sgtest import T, bin_path, run, tmpdir  # noqa: E402
from fakeapi import FakeAPI, provider_conf  # noqa: E402

EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_TEMPFAIL, EX_USAGE = 65, 66, 69, 75, 64
SHOP = "b814c25d-b18c-4044-ae31-49e22ce908b5"
t = T()
api = FakeAPI("basic.json")
d = tmpdir()
cfg = provider_conf(d, api)


def ctl(*args):
    return run([bin_path("sendgatectl"), "-c", cfg] + list(args))


def writes():
    """The requests that were not plain reads."""
    return [q for q in api.requests() if q["method"] != "GET"]


def cached(dom):
    r = ctl("cache", "get", dom)
    return json.loads(r.stdout) if r.stdout else {}


def refused(args, what):
    """Invalid input: exit 65 and not a single request."""
    api.clear()
    r = ctl(*args)
    t.ok(r.returncode == EX_DATAERR and api.requests() == [] and r.stderr.strip(),
         "%s: refused locally, nothing sent (%s)" % (what, (r.stderr.strip().splitlines() or [""])[-1]))


try:
    t.is_(ctl("refresh", "jetemail").returncode, 0, "the cache is filled first")

    # ---- outbound set: exactly the fields given ---------------------------------
    api.clear()
    r = ctl("jetemail", "outbound", "set", "Shop.Example", "--bcc", "archive@shop.example",
            "--bcc", "audit@shop.example", "--open-tracking", "off", "--click-tracking", "on",
            "--tracking-domain", "t.shop.example")
    w = writes()
    t.is_(r.returncode, 0, "outbound set: exit 0")
    t.is_([(q["method"], q["path"]) for q in api.requests()][:2],
          [("GET", "/outbound/domains"), ("POST", "/outbound/domains/%s/settings" % SHOP)],
          "the uuid is looked up by name, then POST .../settings")
    t.is_(w[0]["json"] if w else None,
          {"bccEmails": ["archive@shop.example", "audit@shop.example"], "openTracking": False,
           "clickTracking": True, "tracking_domain": "t.shop.example"},
          "the documented body, nothing more")
    t.is_((w[0]["headers"].get("authorization"), w[0]["headers"].get("content-type")),
          ("Bearer api_test", "application/json"), "Bearer token, JSON content type")
    t.like(r.stdout, "audit@shop.example (pending verification)",
           "the new address is reported pending")
    e = cached("shop.example")["outbound"]["jetemail"]
    t.is_((e["bcc"], e["open_tracking"], e["tracking_host"]),
          ([{"address": "archive@shop.example", "verified": True},
            {"address": "audit@shop.example", "verified": False}], False, "t.shop.example"),
          "written through to the cache: BCC with verification, tracking")

    api.clear()
    r = ctl("jetemail", "outbound", "set", "shop.example", "--no-bcc", "--tracking-domain", "")
    t.is_((r.returncode, writes()[0]["json"] if writes() else None),
          (0, {"bccEmails": None, "tracking_domain": None}),
          "--no-bcc and an empty tracking domain clear with null")
    t.is_(cached("shop.example")["outbound"]["jetemail"]["bcc"], [], "the cache has no BCC now")
    api.clear()
    r = ctl("--json", "jetemail", "outbound", "set", "shop.example", "--open-tracking", "on")
    t.is_(json.loads(r.stdout or "{}").get("message"), "Domain settings updated successfully",
          "--json prints the provider's answer")

    # ---- invalid input never reaches the API -----------------------------------
    refused(["jetemail", "outbound", "set", "shop.example"] +
            sum([["--bcc", "a%d@shop.example" % i] for i in range(6)], []), "six BCC addresses")
    refused(["jetemail", "outbound", "set", "shop.example", "--bcc", "nobody"], "a bad address")
    refused(["jetemail", "outbound", "set", "shop.example", "--bcc", "a@shop.example", "--bcc",
             "A@shop.example"], "the same address twice")
    refused(["jetemail", "outbound", "set", "shop.example", "--open-tracking", "maybe"],
            "on/off misspelt")
    refused(["jetemail", "outbound", "set", "shop.example", "--tracking-domain", "bad host"],
            "a bad tracking host")
    refused(["jetemail", "outbound", "set", "shop.example"], "nothing to change")
    refused(["jetemail", "outbound", "set", "not a domain", "--open-tracking", "on"],
            "a bad domain")
    refused(["jetemail", "outbound", "add", "localhost"], "add: a name without a dot")
    api.clear()
    r = ctl("jetemail", "outbound", "set", "shop.example", "--bcc", "a@x.example", "--no-bcc")
    t.ok(r.returncode == EX_USAGE and api.requests() == [], "--bcc with --no-bcc: usage error")
    api.clear()
    r = ctl("jetemail", "outbound", "set", "elsewhere.example", "--open-tracking", "on")
    t.ok(r.returncode == EX_NOINPUT and writes() == [] and "elsewhere.example" in r.stderr,
         "a domain the account does not have: exit 66, only the list was read")

    # ---- the provider's errors, readable --------------------------------------
    for status, body, code, want in (
            (400, {"success": False, "error": "Invalid UUID format"}, EX_UNAVAILABLE,
             "HTTP 400: Invalid UUID format"),
            (404, {"success": False, "error": "Domain not found or access denied"},
             EX_UNAVAILABLE, "HTTP 404: Domain not found or access denied"),
            (429, {"success": False, "error": "Too many verification attempts for "
                   "a@shop.example. Please try again later."}, EX_TEMPFAIL,
             "HTTP 429: Too many verification attempts"),
            (500, {"success": False, "error": "Failed to update domain settings"}, EX_TEMPFAIL,
             "HTTP 500: Failed to update domain settings")):
        api.reset()
        api.fail("POST", "/settings$", status=status, body=body)
        r = ctl("jetemail", "outbound", "set", "shop.example", "--open-tracking", "on")
        t.ok(r.returncode == code and want in r.stderr,
             "POST settings answering %d: exit %d, '%s'" % (status, code, r.stderr.strip()))
    api.reset()
    # a 429 with Retry-After is JetEmail's account lockout: recorded, honoured by everything
    api.fail("GET", "^/outbound/domains$", status=429, retry_after="300", times=1)
    r = ctl("jetemail", "outbound", "list")
    t.is_(r.returncode, EX_TEMPFAIL, "the lockout's 429: exit 75")
    api.clear()
    r1 = ctl("jetemail", "outbound", "set", "shop.example", "--open-tracking", "on")
    r2 = ctl("refresh", "jetemail", "--force")
    t.ok(r1.returncode == EX_TEMPFAIL and "rate limited" in r1.stderr and
         r2.returncode == EX_TEMPFAIL and api.requests() == [],
         "inside the lockout neither commands nor the refresher send a request")
    d2 = tmpdir()  # a cache without the lockout for the rest
    cfg = provider_conf(d2, api)
    t.is_(ctl("refresh", "jetemail").returncode, 0, "a fresh cache, refreshed")

    # ---- inbound create in each mode ------------------------------------------
    api.clear()
    r = ctl("jetemail", "inbound", "create", "New-Smtp.example", "--delivery", "smtp",
            "--server", "mx1.new-smtp.example:25", "--server", "mx2.new-smtp.example:2525:20:tls")
    w = writes()
    t.is_(r.returncode, 0, "inbound create smtp: exit 0")
    t.is_((w[0]["method"], w[0]["path"], w[0]["json"]) if w else None,
          ("POST", "/inbound/domains",
           {"domain": "new-smtp.example", "delivery_type": "smtp", "smtp_servers": [
               "mx1.new-smtp.example:25",
               {"url": "mx2.new-smtp.example:2525", "priority": 20, "tls_enabled": True}]}),
          "POST /inbound/domains with host:port strings and a {url, priority, tls_enabled} object")
    uuid = [x for x in api.state()["jetemail"]["inbound"] if x["domain"] == "new-smtp.example"]
    uuid = uuid[0]["uuid"] if uuid else "?"
    t.like(r.stdout, "uuid " + uuid, "prints the new uuid")
    c = cached("new-smtp.example").get("inbound", {}).get("jetemail", {})
    t.is_([(s["host"], s["port"], s["priority"], s["tls"]) for s in c.get("smtp_servers", [])],
          [("mx1.new-smtp.example", 25, 1, False), ("mx2.new-smtp.example", 2525, 20, True)],
          "written through: the inbound domain and its servers")

    api.clear()
    r = ctl("jetemail", "inbound", "create", "new-hook.example", "--delivery", "webhook",
            "--webhook-url", "https://hooks.new-hook.example/in", "--webhook-method", "PUT",
            "--webhook-header", "X-Team: mail", "--webhook-timeout", "5000",
            "--webhook-retries", "2", "--webhook-auth-header", "Bearer HOOK-TOKEN")
    w = writes()
    t.is_(w[0]["json"] if w else None,
          {"domain": "new-hook.example", "delivery_type": "webhook",
           "webhook_url": "https://hooks.new-hook.example/in", "webhook_method": "PUT",
           "webhook_headers": {"X-Team": "mail"}, "webhook_timeout": 5000,
           "webhook_retry_count": 2, "webhook_auth_header": "Bearer HOOK-TOKEN"},
          "webhook mode: every webhook field, typed as documented")
    secret = [x for x in api.state()["jetemail"]["inbound"] if x["domain"] == "new-hook.example"]
    secret = secret[0]["settings"]["webhook_secret"] if secret else "?"
    t.like(r.stdout, "webhook secret: " + secret, "the webhook secret is shown once")
    t.ok(secret not in r.stderr, "and never logged")
    dumped = run([bin_path("sendgatectl"), "-c", cfg, "cache", "dump"]).stdout
    t.ok(secret not in dumped and "HOOK-TOKEN" not in dumped and "new-hook.example" in dumped,
         "the cache has the domain but neither the secret nor the auth header")
    r = ctl("jetemail", "inbound", "show", "new-hook.example")
    t.ok(r.returncode == 0 and secret not in r.stdout and "https://hooks.new-hook.example/in"
         in r.stdout, "inbound show: the webhook, not its secret")

    api.clear()
    r = ctl("jetemail", "inbound", "create", "new-fwd.example", "--delivery", "forward")
    t.is_(writes()[0]["json"] if writes() else None,
          {"domain": "new-fwd.example", "delivery_type": "forward"},
          "forward mode: only domain and delivery_type")

    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "smtp"],
            "smtp without a server")
    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "smtp", "--server",
             "mx.x.example:25", "--webhook-url", "https://h.x.example/"],
            "smtp with a webhook field")
    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "forward", "--server",
             "mx.x.example:25"], "forward with a server")
    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "webhook"],
            "webhook without a URL")
    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "webhook",
             "--webhook-url", "https://h.x.example/", "--webhook-method", "GET"],
            "webhook method GET")
    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "webhook",
             "--webhook-url", "https://h.x.example/", "--webhook-timeout", "soon"],
            "a timeout that is not a number")
    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "smtp", "--server",
             "mx.x.example"], "a server without a port")
    refused(["jetemail", "inbound", "create", "x", "--delivery", "forward"],
            "a domain the API's pattern refuses")
    refused(["jetemail", "inbound", "create", "x.example", "--delivery", "mail"],
            "an unknown delivery type")

    # the fake follows the documented 400 for wrong-mode fields, too
    req = urllib.request.Request(api.url + "/inbound/domains", method="POST", data=json.dumps(
        {"domain": "raw.example", "delivery_type": "forward", "webhook_url": "https://x/"}).encode(),
        headers={"Authorization": "Bearer api_test", "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=10)
        code, body = 200, {}
    except urllib.error.HTTPError as e:
        code, body = e.code, json.loads(e.read())
    t.is_((code, body.get("success")), (400, False),
          "the fake API answers 400 to a wrong-mode field, as documented")

    api.fail("POST", "^/inbound/domains$", status=400,
             body={"success": False, "error": "Domain already exists"})
    r = ctl("jetemail", "inbound", "create", "in-smtp.example", "--delivery", "forward")
    t.ok(r.returncode == EX_UNAVAILABLE and "HTTP 400: Domain already exists" in r.stderr,
         "a provider refusal is reported with its text")
    api.reset()

    # ---- add and delete (DELETE with a JSON body) --------------------------------
    api.clear()
    r = ctl("jetemail", "outbound", "add", "Mail.Added.example")
    t.is_((r.returncode, writes()[0]["json"] if writes() else None),
          (0, {"domain": "mail.added.example"}), "outbound add: POST {\"domain\"}")
    t.is_(cached("mail.added.example").get("outbound", {}).get("jetemail", {}).get(
        "send_status"), "blocked", "the new domain is cached, not yet allowed to send")
    api.clear()
    r = ctl("jetemail", "outbound", "delete", "shop.example")
    w = writes()
    t.is_((r.returncode, w[0]["method"], w[0]["path"], w[0]["json"]) if w else None,
          (0, "DELETE", "/outbound/domains", {"uuid": SHOP}),
          "outbound delete: DELETE /outbound/domains with the uuid in the JSON body")
    t.is_(cached("shop.example").get("outbound"), None, "and the domain leaves the cache")
    api.clear()
    r = ctl("jetemail", "inbound", "delete", "in-fwd.example")
    w = writes()
    t.is_((r.returncode, w[0]["path"], w[0]["json"]) if w else None,
          (0, "/inbound/domains", {"uuid": "750e8400-e29b-41d4-a716-446655440000"}),
          "inbound delete: DELETE /inbound/domains {\"uuid\"}")
    t.is_(cached("in-fwd.example").get("inbound"), None, "and it leaves the cache")
    r = ctl("jetemail", "outbound", "delete", "shop.example")
    t.is_(r.returncode, EX_NOINPUT, "deleting it again: not found (66)")

    # ---- listing and reading -------------------------------------------------------
    r = ctl("jetemail", "outbound", "list")
    t.ok(r.returncode == 0 and "nodmarc.example" in r.stdout and "blocked" in r.stdout,
         "outbound list: a table with the derived send status")
    r = ctl("--json", "jetemail", "outbound", "list")
    t.ok(json.loads(r.stdout).get("success") is True, "outbound list --json: the provider's JSON")
    r = ctl("jetemail", "outbound", "show", "nodmarc.example")
    t.ok(r.returncode == 0 and "DMARC" in r.stdout and "click tracking:  on" in r.stdout,
         "outbound show: settings and the reason for the send status")
    r = ctl("--json", "jetemail", "outbound", "show", "nodmarc.example")
    t.ok(json.loads(r.stdout)["settings"]["settings"]["domain"] == "nodmarc.example",
         "outbound show --json: the list row and the settings answer")
    r = ctl("jetemail", "inbound", "list")
    t.ok(r.returncode == 0 and "in-hook.example" in r.stdout and "webhook" in r.stdout,
         "inbound list")
    r = ctl("--json", "jetemail", "inbound", "show", "in-smtp.example")
    t.ok(r.returncode == 0 and json.loads(r.stdout)["settings"]["result"]["smtp_servers"],
         "inbound show --json")

    # ---- a wrong token ----------------------------------------------------------
    bad = os.path.join(d, "bad.token")
    with open(bad, "w") as f:
        f.write("api_wrong\n")
    os.chmod(bad, 0o600)
    badcfg = provider_conf(d2, api, {"jetemail": {"api_token_file": bad}}, name="bad.conf")
    r = run([bin_path("sendgatectl"), "-c", badcfg, "jetemail", "outbound", "list"])
    t.ok(r.returncode == EX_UNAVAILABLE and "HTTP 401: User information not found" in r.stderr,
         "a wrong token: exit 69 with the provider's words")
    t.ok("api_wrong" not in r.stderr, "the token is not printed")

    for words in (["jetemail", "outbound", "set"], ["jetemail", "inbound", "create"],
                  ["jetemail", "outbound", "list"], ["jetemail", "inbound", "delete"]):
        r = ctl(*(words + ["--help"]))
        t.ok(r.returncode == 0 and "Example: sendgatectl " + " ".join(words) in r.stdout,
             "%s --help has an example" % " ".join(words))
finally:
    api.stop()
t.done()
