#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-trackd against curl: a signed click link redirects to exactly its
# original URL with no-store/no-referrer/noindex headers; any changed character,
# a wrong purpose or a revoked message gives 404 and never a redirect; the pixel
# is a real 43-byte GIF for good and bad tokens; HEAD records nothing; a rotated
# key keeps old links working after SIGHUP; the events file holds exactly the
# recorded events, one JSON object per line; /metrics is Prometheus text that
# counts what happened and is refused to other addresses; sendgatectl stats
# reports the counters.
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T
from trackdtest import Trackd

GIF = bytes.fromhex("474946383961010001008000000000" "00ffffff21f90401000000002c00000000"
                    "010001000002024401003b")
ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

t = T()
td = Trackd(t)
sent = str(int(time.time()) - 3600)
url = "https://shop.example.net/p/(EU)?a=1&b=%20x#frag"

click = td.make("click", "--domain", "example.com", "--msgref", "MSG1", "--link", "3",
                "--url", url, "--issued", sent)
code, h, _ = td.curl(click, "-A", FIREFOX)
t.is_(code, 302, "a valid click token redirects")
t.is_(h.get("location"), url, "to its original URL, byte for byte")
t.like(h.get("cache-control", ""), "no-store", "Cache-Control: no-store")
t.is_(h.get("referrer-policy"), "no-referrer", "Referrer-Policy: no-referrer")
t.like(h.get("x-robots-tag", ""), "noindex", "X-Robots-Tag: noindex")

idn = td.make("click", "--domain", "example.com", "--msgref", "MSG1", "--link", "4",
              "--url", "https://b\u00fccher.example/caf\u00e9 x", "--issued", sent)
code, h, _ = td.curl(idn, "-A", FIREFOX)
t.is_((code, h.get("location")), (302, "https://xn--bcher-kva.example/caf%C3%A9%20x"),
      "non-ASCII destination: IDNA host, percent-encoded path")

# every single changed character of the token: 404, never a redirect
tok = click[3:]
variants = []
for i, ch in enumerate(tok):
    other = ALPHA[(ALPHA.index(ch) + 1 + i % 63) % 64]
    variants.append("/c/" + tok[:i] + other + tok[i + 1:])
variants += ["/c/" + tok[:-1], "/c/" + tok[:-2], "/c/" + tok + "A", "/c/" + tok[1:]]
res = td.curl_many(variants, "-A", FIREFOX)
t.is_(len(res), len(variants), "%d tampered and truncated tokens tried" % len(variants))
t.ok(all(code == 404 and not loc for code, loc in res),
     "every tampered or truncated token: 404 and no Location")

opentok = td.make("open", "--domain", "example.com", "--msgref", "MSG1", "--issued", sent)
code, h, body = td.curl("/o/" + tok, "-A", FIREFOX, binary=True)
t.is_((code, body), (200, GIF), "a click token used as an open token: still the GIF, not recorded")
code, h, _ = td.curl("/c/" + opentok[3:], "-A", FIREFOX)
t.is_((code, h.get("location")), (404, None), "an open token used as a click token: 404")

for name, path in (("valid", opentok), ("garbage", "/o/garbage"), ("tampered", opentok[:-3] + "xyz")):
    code, h, body = td.curl(path, "-A", FIREFOX, binary=True)
    t.ok(code == 200 and body == GIF and len(body) == 43 and h.get("content-type") == "image/gif"
         and "no-store" in h.get("cache-control", ""),
         "pixel for a %s token: 200, the 43-byte transparent GIF89a, no-store" % name)

code, h, _ = td.curl(click, "-I", "-A", FIREFOX)
t.is_((code, h.get("location")), (302, url), "HEAD answers like GET")

# key rotation: a new key signs, the old one still verifies
td.genkey("k2", 2)
td.write_conf(["k2", "k1"])
t.ok(td.reload(), "SIGHUP with a new first key: RELOADING=1, READY=1")
code, h, _ = td.curl(click, "-A", FIREFOX)
t.is_((code, h.get("location")), (302, url), "a link signed with the rotated-out key still redirects")
newclick = td.make("click", "--domain", "example.com", "--msgref", "MSG2", "--link", "1",
                   "--url", "https://example.org/new", "--issued", sent)
r = td.ctl("token", "decode", newclick)
t.like(r.stdout, "key id:   2", "new links are signed with the new key")
code, h, _ = td.curl(newclick, "-A", FIREFOX)
t.is_(code, 302, "and redirect")
td.write_conf(["k2"])
t.ok(td.reload(), "SIGHUP without the old key")
code, h, _ = td.curl(click, "-A", FIREFOX)
t.is_((code, h.get("location")), (404, None), "a link of a removed key: 404")
td.write_conf(["k2", "k1"])
t.ok(td.reload(), "SIGHUP with both keys again")

# revocation: effective at once, without a restart
r = td.ctl("token", "revoke", "MSG2", "--note", "abuse ticket 1")
t.is_(r.returncode, 0, "sendgatectl token revoke MSG2")
code, h, _ = td.curl(newclick, "-A", FIREFOX)
t.is_((code, h.get("location")), (404, None), "every link of the revoked message: 404")
t.like(td.ctl("token", "revoked").stdout, "MSG2", "sendgatectl token revoked lists it")
code, _, _ = td.curl(click, "-A", FIREFOX)
t.is_(code, 302, "other messages are unaffected")

# a proxy in front: bot labels and truncated client addresses
code, _, _ = td.curl(opentok, "-A", "Mozilla/5.0 (via ggpht.com GoogleImageProxy)",
                     "-H", "X-Forwarded-For: 198.51.100.77")
t.is_(code, 200, "open through Gmail's image proxy")

# a trusted proxy's X-Forwarded-For that cannot be read: 400, never the proxy's own address
# (which would pass metrics_allow and be recorded as the client)
xclick = td.make("click", "--domain", "example.com", "--msgref", "XFF1", "--url",
                 "https://x.example/", "--issued", sent)
longxff = ", ".join(["198.51.100.%d" % (i % 250) for i in range(90)])  # about 1,200 bytes
t.ok(len(longxff) > 1024, "an X-Forwarded-For of %d bytes" % len(longxff))
for what, hdrs in (("over 1,024 bytes", ["-H", "X-Forwarded-For: " + longxff]),
                   ("over 1,024 bytes in two headers",
                    ["-H", "X-Forwarded-For: " + longxff[:600], "-H",
                     "X-Forwarded-For: " + longxff[600:]]),
                   ("not an address", ["-H", "X-Forwarded-For: 198.51.100.7, unknown"]),
                   ("an empty element", ["-H", "X-Forwarded-For: 198.51.100.7,"]),
                   ("an unterminated IPv6 literal", ["-H", "X-Forwarded-For: [2001:db8::1"])):
    code, _, _ = td.curl("/metrics", *hdrs)
    t.is_(code, 400, "/metrics with an X-Forwarded-For %s from the trusted proxy: 400" % what)
    code, h, _ = td.curl(xclick, "-A", FIREFOX, *hdrs)
    t.is_((code, h.get("location")), (400, None),
          "a click with an X-Forwarded-For %s: 400, no redirect" % what)
code, _, _ = td.curl("/metrics", "-H", "X-Forwarded-For: garbage, 198.51.100.7")
t.is_(code, 403, "what the client wrote left of its address is not read: the client is refused "
      "/metrics")

# recorded: the clicks answered 302 to GET (first, IDN, after rotation, new key, unaffected);
# HEAD, tampered, wrong purpose, removed key and revoked are not; opens: valid and proxied
ev = td.events(expect=7)
t.is_(len(ev), 7, "the events file holds exactly the 7 recorded events, one JSON object a line")
t.is_(sorted(e["kind"] for e in ev).count("click"), 5, "5 clicks")
t.is_(sorted(e["kind"] for e in ev).count("open"), 2, "2 opens")
first = ev[0]
t.is_((first["msgref"], first["link"], first["domain"], first["issued"]),
      ("MSG1", 3, "example.com", int(sent)), "an event names message, link, domain, issue time")
t.is_(first["client"], "127.0.0.0", "client address truncated to its /24 (privacy = truncate)")
t.is_(first["ua"], FIREFOX, "user agent kept")
t.is_(first["bot"], None, "a browser long after sending: no bot label")
t.is_([e for e in ev if e["msgref"] == "XFF1"], [],
      "no event for the refused clicks (none attributed to the proxy)")
proxied = [e for e in ev if e["kind"] == "open" and e["client"] == "198.51.100.0"]
t.ok(len(proxied) == 1 and proxied[0]["bot"] == "image_proxy",
     "X-Forwarded-For from the trusted local proxy is the client; Gmail's proxy labelled")

m = td.metrics()
t.ok(m is not None, "/metrics parses as Prometheus text")
m = m or {}
t.is_(m.get("sendgate_trackd_clicks_total"), 5, "metrics count the clicks")
t.is_(m.get("sendgate_trackd_opens_total"), 2, "and the opens")
t.is_(m.get('sendgate_trackd_bad_tokens_total{endpoint="click",reason="bad_mac"}', 0)
      + m.get('sendgate_trackd_bad_tokens_total{endpoint="click",reason="malformed"}', 0)
      + m.get('sendgate_trackd_bad_tokens_total{endpoint="click",reason="unknown_key"}', 0)
      + m.get('sendgate_trackd_bad_tokens_total{endpoint="click",reason="version"}', 0),
      len(variants) + 1, "bad click tokens counted by reason (tampered + removed key)")
t.is_(m.get('sendgate_trackd_bad_tokens_total{endpoint="click",reason="wrong_purpose"}'), 1,
      "wrong purpose counted")
t.is_(m.get('sendgate_trackd_bad_tokens_total{endpoint="click",reason="revoked"}'), 1,
      "revoked counted")
t.is_(m.get('sendgate_trackd_requests_total{endpoint="click",method="HEAD"}'), 1,
      "HEAD requests counted as requests")
t.is_(m.get('sendgate_trackd_bot_events_total{label="image_proxy"}'), 1, "bot labels counted")

code, _, _ = td.curl("/metrics", "-H", "X-Forwarded-For: 203.0.113.5")
t.is_(code, 403, "/metrics refused to an address outside metrics_allow")
code, _, _ = td.curl("/healthz", "-H", "X-Forwarded-For: 203.0.113.5")
t.is_(code, 403, "so is /healthz")
code, _, body = td.curl("/healthz")
t.is_((code, body), (200, "ok\n"), "/healthz from loopback")

r = td.ctl("--json", "stats", "example.com")
t.is_(r.returncode, 0, "sendgatectl stats example.com --json")
try:
    import json
    s = json.loads(r.stdout)["domains"]["example.com"]
except (ValueError, KeyError) as e:
    t.diag("%s: %s %s" % (e, r.stdout, r.stderr))
    s = {}
t.is_((s.get("clicks"), s.get("opens"), s.get("bot_opens")), (5, 4, 1),
      "stats: 5 clicks; 4 opens (2 recorded, 2 implied by first clicks), 1 by a bot")
t.is_((s.get("clicks_unique"), s.get("opens_unique")), (2, 2),
      "stats: unique per message (MSG1, MSG2)")
r = td.ctl("stats", "--since", "1d")
t.ok(r.returncode == 0 and "example.com" in r.stdout, "sendgatectl stats prints a table")
r = td.ctl("stats", "--until", "2000-01-01")
t.like(r.stdout, "nothing recorded", "an empty window says so")

t.ok(td.stop(), "SIGTERM: clean exit, no sanitizer report")
t.done()
