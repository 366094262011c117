#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# One-click unsubscribe (RFC 8058) through sendgate-trackd: GET only shows a
# confirmation page and changes nothing; the one-click POST (urlencoded or
# multipart, or the page's button) puts (sending domain, recipient) into the
# cache's suppress database through suppress_add, exactly once however often
# it is repeated, and answers 200 without a redirect; a token naming no
# recipient explains itself and records nothing; HEAD records nothing.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T
from trackdtest import Trackd

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FORM = "application/x-www-form-urlencoded"

t = T()
td = Trackd(t)
sent = str(int(time.time()) - 3600)


def unsub(rcpt, msgref="U1"):
    args = ["--domain", "Example.COM", "--msgref", msgref, "--issued", sent]
    if rcpt:
        args += ["--rcpt", rcpt]
    return td.make("unsubscribe", *args)


u = unsub("Jane.Doe@Example.org")
code, h, body = td.curl(u, "-A", FIREFOX)
t.is_(code, 200, "GET shows a page")
t.ok('<form method="post">' in body and 'name="List-Unsubscribe" value="One-Click"' in body,
     "with a button that POSTs the one-click field")
t.like(body, "J***@Example.org", "the recipient is shown masked")
t.like(h.get("x-frame-options", ""), "DENY", "the page cannot be framed")
t.like(h.get("cache-control", ""), "no-store", "and is not cached")
code, _, _ = td.curl(u, "-I", "-A", FIREFOX)
t.is_(code, 200, "HEAD answers too")
t.is_(td.suppressed(), [], "GET and HEAD changed nothing")

code, h, body = td.curl(u, "-A", FIREFOX, "-H", "Content-Type: " + FORM,
                        "--data-raw", "List-Unsubscribe=One-Click")
t.is_(code, 200, "the RFC 8058 one-click POST: 200")
t.ok("location" not in h, "no redirect")
t.like(body, "is unsubscribed", "the page confirms")
t.is_(td.suppressed(), ["example.com jane.doe@example.org"],
      "suppress holds (sending domain, recipient), as suppress_add keys it")
for i in range(3):
    code, _, body = td.curl(u, "-A", FIREFOX, "--data-raw", "List-Unsubscribe=One-Click")
t.ok(code == 200 and "is unsubscribed" in body, "repeated POSTs: the same answer")
t.is_(len(td.suppressed()), 1, "still one entry")
code, _, body = td.curl(u, "-A", FIREFOX)
t.ok(code == 200 and "<form" not in body, "GET afterwards: already unsubscribed, no button")

u2 = unsub("bob@example.net", "U2")
code, _, body = td.curl(u2, "-A", FIREFOX, "-F", "List-Unsubscribe=One-Click")
t.ok(code == 200 and "is unsubscribed" in body, "multipart/form-data one-click POST")
t.ok("example.com bob@example.net" in td.suppressed(), "recorded")

u3 = unsub("carol@example.net", "U3")
code, _, _ = td.curl(u3, "-A", FIREFOX, "--data-raw", "something=else")
t.is_(code, 400, "a POST without List-Unsubscribe=One-Click: 400")
code, _, _ = td.curl(u3, "-A", FIREFOX, "-X", "POST")
t.is_(code, 400, "an empty POST: 400")
t.ok("example.com carol@example.net" not in td.suppressed(), "and nothing recorded")

nobody = unsub("", "U4")
code, _, body = td.curl(nobody, "-A", FIREFOX, "--data-raw", "List-Unsubscribe=One-Click")
t.ok(code == 200 and "several recipients" in body and "<form" not in body,
     "a token without recipient: the page says it cannot unsubscribe anyone")
t.is_(len(td.suppressed()), 2, "nothing recorded for it")

click = td.make("click", "--domain", "example.com", "--msgref", "U1", "--url", "https://x.example/")
code, _, _ = td.curl("/u/" + click[3:], "-A", FIREFOX, "--data-raw", "List-Unsubscribe=One-Click")
t.is_(code, 404, "a click token used as an unsubscribe token: 404")
code, _, _ = td.curl(u[:-4] + "AAAA", "-A", FIREFOX, "--data-raw", "List-Unsubscribe=One-Click")
t.is_(code, 404, "a tampered unsubscribe token: 404")

td.ctl("token", "revoke", "U1")
u5 = unsub("dave@example.net", "U1")
code, _, body = td.curl(u5, "-A", FIREFOX, "--data-raw", "List-Unsubscribe=One-Click")
t.ok(code == 200 and "is unsubscribed" in body,
     "unsubscribe links of a revoked message keep working")

ev = [e for e in td.events(expect=3) if e["kind"] == "unsubscribe"]
t.is_(sorted(e["rcpt"] for e in ev), ["Jane.Doe@Example.org", "bob@example.net", "dave@example.net"],
      "the events file has exactly one unsubscribe event per recipient")
t.is_(ev[0]["domain"], "example.com", "with the sending domain")
m = td.metrics() or {}
t.is_(m.get("sendgate_trackd_unsubscribes_total"), 3, "metrics: 3 unsubscribes")
t.is_(m.get("sendgate_trackd_unsubscribe_repeats_total"), 3, "metrics: 3 repeats")
t.is_(m.get("sendgate_trackd_unsubscribe_unpersonalised_total"), 1, "metrics: 1 unpersonalised")
r = td.ctl("--json", "stats")
t.like(r.stdout, '"unsubscribes":\t3', "sendgatectl stats counts them")
t.ok(td.stop(), "SIGTERM: clean exit")
t.done()
