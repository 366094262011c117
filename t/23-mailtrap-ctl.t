#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgatectl's Mailtrap commands cover every endpoint of the domains API
# (list, create, get, update, delete, setup instructions, company info get,
# create and update), send exactly the documented JSON with the configured
# header style and path style (wrapper "domain" or "sending_domain"),
# refuse invalid input before sending, report Mailtrap's error shapes
# readably and write domain changes through to the cache.
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
from sgtest import T, bin_path, run, tmpdir  # noqa: E402
from fakeapi import FakeAPI, provider_conf  # noqa: E402

EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_TEMPFAIL = 65, 66, 69, 75
t = T()
api = FakeAPI("basic.json")
d = tmpdir()
cfg = provider_conf(d, api)


def ctl(*args, conf=None):
    return run([bin_path("sendgatectl"), "-c", conf or cfg] + list(args))


def sent():
    return [(q["method"], q["path"], q["json"]) for q in api.requests()]


def cached(dom):
    r = ctl("cache", "get", dom)
    return json.loads(r.stdout).get("outbound") or {} if r.stdout else {}


def refused(args, what):
    api.clear()
    r = ctl(*args)
    t.ok(r.returncode == EX_DATAERR and api.requests() == [] and r.stderr.strip(),
         "%s: refused locally, nothing sent (%s)" % (what, (r.stderr.strip().splitlines() or [""])[-1]))


COMPANY = ["--name", "Shop Ltd", "--address", "1 Main St", "--city", "Springfield", "--country",
           "US", "--zip-code", "12345", "--website-url", "https://mt-review.example"]

try:
    t.is_(ctl("refresh", "mailtrap").returncode, 0, "the cache is filled first")

    # ---- domains --------------------------------------------------------------
    api.clear()
    r = ctl("mailtrap", "domains", "list")
    t.ok(r.returncode == 0 and "mt-ok.example" in r.stdout and "pending_approval" in r.stdout,
         "domains list: a table with compliance and send status")
    t.is_(sent(), [("GET", "/api/domains", None)], "GET /api/domains")
    q = api.requests()[0]
    t.is_((q["headers"].get("authorization"), q["headers"].get("user-agent", "")[:9]),
          ("Bearer mt_test", "sendgate/"), "Bearer token and User-Agent")

    api.clear()
    r = ctl("mailtrap", "domains", "create", "Mail.Shop.example")
    t.is_(sent(), [("POST", "/api/domains", {"domain": {"domain_name": "mail.shop.example"}})],
          "create: POST {\"domain\": {\"domain_name\"}}")
    t.ok(r.returncode == 0 and "mt-link.mail.shop.example" in r.stdout,
         "prints the DNS records to publish")
    c = cached("mail.shop.example").get("mailtrap", {})
    t.is_((c.get("send_status"), c.get("provider_status")), ("blocked", "unverified_dns"),
          "the new domain is in the cache, not yet allowed")
    api.clear()
    r = ctl("mailtrap", "domains", "create", "mt-ok.example")
    t.ok(r.returncode == EX_UNAVAILABLE and
         "HTTP 422: domain_name: has already been taken" in r.stderr,
         "a 422 with field errors is one readable line (%s)" % r.stderr.strip())

    api.clear()
    r = ctl("mailtrap", "domains", "get", "mt-dns.example")
    t.is_([x[:2] for x in sent()], [("GET", "/api/domains"), ("GET", "/api/domains/438")],
          "get by name: the id from the list, then GET /api/domains/438")
    t.ok(r.returncode == 0 and "unverified_dns" in r.stdout and "link_verification" in r.stdout,
         "shows compliance and DNS records")
    api.clear()
    r = ctl("--json", "mailtrap", "domains", "get", "435")
    t.is_((sent(), json.loads(r.stdout).get("domain_name")),
          ([("GET", "/api/domains/435", None)], "mt-ok.example"),
          "get by id: one request; --json prints the Domain object")
    r = ctl("mailtrap", "domains", "get", "999")
    t.ok(r.returncode == EX_UNAVAILABLE and "HTTP 404: Not Found" in r.stderr, "an unknown id: 404")
    r = ctl("mailtrap", "domains", "get", "nowhere.example")
    t.is_(r.returncode, EX_NOINPUT, "an unknown name: not found in the list (66)")

    api.clear()
    r = ctl("mailtrap", "domains", "update", "mt-ok.example", "--click-tracking", "off",
            "--unsubscribe-link", "off")
    t.is_(sent()[-1], ("PATCH", "/api/domains/435",
                       {"domain": {"click_tracking_enabled": False,
                                   "auto_unsubscribe_link_enabled": False}}),
          "update: PATCH with only the flags given")
    c = cached("mt-ok.example").get("mailtrap", {})
    t.is_((r.returncode, c.get("click_tracking"), c.get("unsubscribe"), c.get("open_tracking")),
          (0, False, False, True), "written through to the cache")
    refused(["mailtrap", "domains", "update", "mt-ok.example"], "update with no flag")
    refused(["mailtrap", "domains", "update", "mt-ok.example", "--open-tracking", "sometimes"],
            "update with a bad on/off")
    refused(["mailtrap", "domains", "create", "not a domain"], "create with a bad name")
    refused(["mailtrap", "domains", "get", "bad domain!"], "get with something neither id nor name")

    api.clear()
    r = ctl("mailtrap", "domains", "delete", "436")
    t.is_((r.returncode, sent()), (0, [("DELETE", "/api/domains/436", None)]),
          "delete by id: DELETE, 204")
    t.is_(cached("mt-demo.example"), {}, "the domain leaves the cache (found by its id)")
    r = ctl("mailtrap", "domains", "delete", "mt-new.example")
    t.is_((r.returncode, cached("mt-new.example")), (0, {}), "delete by name, cache too")

    # ---- setup instructions -----------------------------------------------------
    api.clear()
    r = ctl("mailtrap", "setup-instructions", "437", "dns@shop.example")
    t.is_((r.returncode, sent()),
          (0, [("POST", "/api/domains/437/send_setup_instructions", {"email": "dns@shop.example"})]),
          "setup-instructions: POST {\"email\"} (204)")
    refused(["mailtrap", "setup-instructions", "437", "dns-at-shop"], "an invalid address")

    # ---- company info -------------------------------------------------------------
    r = ctl("mailtrap", "company-info", "get", "435")
    t.ok(r.returncode == 0 and "Shop Ltd" in r.stdout, "company-info get")
    api.clear()
    r = ctl("mailtrap", "company-info", "create", "437", *(COMPANY + ["--info-level",
                                                                    "business"]))
    t.is_(sent(), [("POST", "/api/domains/437/company_info", {"company_info": {
        "name": "Shop Ltd", "address": "1 Main St", "city": "Springfield", "country": "US",
        "zip_code": "12345", "website_url": "https://mt-review.example",
        "info_level": "business"}})], "company-info create: every field given, as documented")
    t.like(r.stdout, "Springfield", "prints the stored company info")
    api.clear()
    r = ctl("mailtrap", "company-info", "update", "437", "--phone", "+1 555 0100")
    t.is_((r.returncode, sent()),
          (0, [("PATCH", "/api/domains/437/company_info", {"company_info": {"phone": "+1 555 0100"}})]),
          "company-info update: only the field given")
    refused(["mailtrap", "company-info", "create", "437", "--name", "X", "--city", "Y"],
            "create without the required fields")
    refused(["mailtrap", "company-info", "create", "437"] + COMPANY + ["--info-level", "company"],
            "info_level outside business|individual")
    refused(["mailtrap", "company-info", "create", "437", "--name", "X", "--address", "A",
             "--city", "C", "--country", "US", "--zip-code", "1", "--website-url", "example.com"],
            "a website URL without a scheme")
    refused(["mailtrap", "company-info", "update", "437"], "update with nothing")
    api.fail("POST", "/company_info$", status=422,
             body={"errors": {"zip_code": ["is invalid"], "base": ["Validation failed"]}})
    r = ctl("mailtrap", "company-info", "create", "437", *COMPANY)
    t.ok(r.returncode == EX_UNAVAILABLE and
         "HTTP 422: zip_code: is invalid; Validation failed" in r.stderr,
         "field errors and base errors in one line (%s)" % r.stderr.strip())
    api.reset()

    # ---- error shapes ---------------------------------------------------------------
    for status, code, want in ((403, EX_UNAVAILABLE, "HTTP 403: Account access forbidden"),
                               (500, EX_TEMPFAIL, "HTTP 500: Internal Server Error"),
                               (429, EX_TEMPFAIL, "HTTP 429: Rate limit exceeded")):
        api.fail("GET", "^/api/domains$", status=status, times=1)
        r = ctl("mailtrap", "domains", "list")
        t.ok(r.returncode == code and want in r.stderr,
             "%d: exit %d, '%s'" % (status, code, r.stderr.strip()))
    api.clear()
    r = ctl("mailtrap", "domains", "get", "435")
    t.ok(r.returncode == EX_TEMPFAIL and "rate limited" in r.stderr and api.requests() == [],
         "after a 429 the next command sends nothing until the wait is over")
    r = ctl("refresh", "mailtrap")
    t.ok(r.returncode == EX_TEMPFAIL and api.requests() == [],
         "and neither does the refresher: the 429 is recorded in meta")
    d = tmpdir()  # a fresh cache (no recorded wait) for the rest
    cfg = provider_conf(d, api)
    bad = os.path.join(d, "bad.token")
    with open(bad, "w") as f:
        f.write("wrong\n")
    os.chmod(bad, 0o600)
    badcfg = provider_conf(d, api, {"mailtrap": {"api_token_file": bad}}, name="bad.conf")
    r = ctl("mailtrap", "domains", "list", conf=badcfg)
    t.ok(r.returncode == EX_UNAVAILABLE and "HTTP 401: Incorrect API token" in r.stderr,
         "a wrong token: 401 Incorrect API token")

    # ---- header and path styles -------------------------------------------------------
    acfg = provider_conf(d, api, {"mailtrap": {"auth_header": "api-token",
                                               "path_style": "account"}}, name="acct.conf")
    api.reset()
    api.clear()
    api.switch(mt_auth="api-token")
    r = ctl("mailtrap", "domains", "update", "435", "--open-tracking", "off", conf=acfg)
    reqs = api.requests()
    t.is_([(q["method"], q["path"], q["json"]) for q in reqs],
          [("GET", "/api/accounts", None),
           ("PATCH", "/api/accounts/26730/sending_domains/435",
            {"sending_domain": {"open_tracking_enabled": False}})],
          "path_style account: the account id is looked up; the body is wrapped in "
          "sending_domain")
    t.ok(r.returncode == 0 and all(q["headers"].get("api-token") == "mt_test" and
                                   "authorization" not in q["headers"] for q in reqs),
         "auth_header api-token: Api-Token only")
    api.reset()
    api.clear()
    api.switch(mt_path="account")
    r = ctl("mailtrap", "domains", "create", "old.shop.example")
    t.is_([(q["method"], q["path"], q["json"]) for q in api.requests()],
          [("POST", "/api/domains", {"domain": {"domain_name": "old.shop.example"}}),
           ("GET", "/api/accounts", None),
           ("POST", "/api/accounts/26730/sending_domains",
            {"sending_domain": {"domain_name": "old.shop.example"}})],
          "path_style auto: a 404 on /api/domains repeats the call on the account path "
          "with its own wrapper")
    t.is_(r.returncode, 0, "and it succeeds")
    api.reset()
    multi = provider_conf(d, api, {"mailtrap": {"path_style": "account"}}, name="multi.conf")
    state = api.state()
    state["mailtrap"]["accounts"].append({"id": 1, "name": "Other", "access_levels": [100]})
    with open(os.path.join(d, "multi.json"), "w") as f:
        json.dump(state, f)
    api.reset(load=os.path.join(d, "multi.json"))
    r = ctl("mailtrap", "domains", "list", conf=multi)
    t.ok(r.returncode != 0 and "set mailtrap.account_id" in r.stderr,
         "a token that sees two accounts: asks for mailtrap.account_id (%s)"
         % r.stderr.strip().splitlines()[-1])

    for words in (["mailtrap", "domains", "update"], ["mailtrap", "company-info", "create"],
                  ["mailtrap", "setup-instructions"], ["mailtrap", "domains", "delete"]):
        r = ctl(*(words + ["--help"]))
        t.ok(r.returncode == 0 and "Example: sendgatectl " + " ".join(words) in r.stdout,
             "%s --help has an example" % " ".join(words))
finally:
    api.stop()
t.done()
