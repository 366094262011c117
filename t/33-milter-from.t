#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The From: check behind a real Postfix: every address of every From: field
# is judged, wherever the field is, and what sendgate cannot judge in full is
# handling.unjudgeable_from, never a silent fallback.
#
# Each trick that once delivered a blocked From: (nine addresses, eight
# domains before the blocked one, 1,001 fields before From:, a second From:
# after 1,001 fields, an unterminated comment) and the rest of its class
# (routes, folding, groups, quoted local parts, comments, encoded-words,
# an unquoted '@' in a display name, IDN, address literals, "From :", no
# address at all, the null sender with a blocked From:) is refused at the end of DATA with the reply that says
# why, and nothing reaches the next hop; legitimate complex From: fields of
# an allowed domain are delivered. Changing handling.unjudgeable_from to
# tempfail or accept (SIGHUP) changes the outcome, and milter.from_fallback
# = envelope judges a message without a From: address by its envelope;
# sendgatectl verdict --from-header gives the same answers as the milter.
import json
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, TOP, T, bin_path, run, tmpdir  # noqa: E402
from sgmilter import Milter, setup_cache  # noqa: E402

t = T()
missing = [p for p in ("postfix", "swaks", "smtp-sink") if not shutil.which(p)]
if missing or os.geteuid() != 0:
    if IN_CI:
        t.bail("needs root and %s" % (", ".join(missing) or "root"))
    print("1..0 # SKIP needs root and postfix, swaks (run make check as root)")
    sys.exit(0)
from pfharness import Postfix  # noqa: E402

BLOCKED = "550 5.7.1 domain unverified.example is not allowed to send"
UNJUDGEABLE = "550 5.7.1 cannot judge the From: header: "
FILLER = ["X-Filler-%04d: %d" % (i, i) for i in range(1001)]

d = tmpdir()
domains = os.path.join(d, "domains.conf")
with open(os.path.join(TOP, "conf", "demo", "domains.conf"), encoding="utf-8") as f:
    demo = f.read()
with open(domains, "w", encoding="utf-8") as f:
    f.write(demo + "\n[outbound b\u00fccher.example]\nstatus = suspended\n")
sock = os.path.join(d, "milter.sock")
milter_keys = {"socket": "unix:" + sock, "socket_group": "postfix", "socket_mode": "0660"}
conf = setup_cache(d, domains=domains, extra={"milter": milter_keys})
conf_text = open(conf).read()
sent = {}  # subject -> expected to be delivered


def send(pf, tag, headers, sender="news@shop.example"):
    """One message with these header lines (CRLF joined) and a Subject: tag."""
    data = "\r\n".join(headers + ["Subject: %s" % tag, "", "body of %s" % tag, ""])
    path = os.path.join(d, tag + ".eml")
    with open(path, "wb") as f:
        f.write(data.encode("utf-8"))
    return pf.swaks("--from", sender, "--to", "customer@example.org", "--data", path)


def refused(pf, tag, headers, text, sender="news@shop.example", why=None):
    r = send(pf, tag, headers, sender)
    sent[tag] = False
    t.ok(r.returncode == 26 and text in r.stdout,
         "%s: refused after DATA with '%s'" % (why or tag, text.strip()))
    if r.returncode != 26 or text not in r.stdout:
        t.diag(r.stdout[-1500:])


def delivered(pf, tag, headers, sender="news@shop.example", why=None):
    r = send(pf, tag, headers, sender)
    sent[tag] = True
    t.is_(r.returncode, 0, "%s: accepted (250 after DATA)" % (why or tag))
    if r.returncode:
        t.diag(r.stdout[-1500:])


def reload_with(m, handling=None, milter=None):
    """Rewrite sendgate.conf with these keys and SIGHUP the milter; wait until it says so."""
    text = conf_text
    before = m.logtext().count("configuration reloaded")
    sections = {"handling": handling or {}, "milter": milter or {}}
    for sec, keys in sections.items():
        lines = "".join("%s = %s\n" % kv for kv in keys.items())
        text = text.replace("[%s]\n" % sec, "[%s]\n%s" % (sec, lines), 1) if "[%s]\n" % sec in text \
            else text + "[%s]\n%s" % (sec, lines)
    with open(conf, "w") as f:
        f.write(text)
    m.proc.send_signal(signal.SIGHUP)
    end = time.time() + 10
    while time.time() < end and m.logtext().count("configuration reloaded") == before:
        time.sleep(0.05)
    t.ok(m.logtext().count("configuration reloaded") > before,
         "the milter reloaded %s" % ", ".join("%s.%s" % (s, k) for s, ks in sections.items() for k in ks))


nine_shop = ", ".join("u%d@shop.example" % i for i in range(1, 9)) + ", bad@unverified.example"
eight_domains = ", ".join("u%d@d%d.example" % (i, i) for i in range(1, 9))
OK = None  # delivered
# (tag, header lines, reply expected or OK, what it is[, what a Postfix that rewrites
# the headers of local clients makes of it: it repairs some fields before any
# milter sees them, and the recipient gets the repaired field])
CASES = [
    # the five tricks of the report
    ("nine-addresses", ["From: " + nine_shop], BLOCKED, "nine From: addresses, the blocked one last"),
    ("eight-then-blocked", ["From: %s, bad@unverified.example" % eight_domains],
     UNJUDGEABLE + "more than 8 distinct domains", "eight unknown domains, then the blocked one"),
    ("eight-allowed-then-blocked",
     ["From: " + ", ".join(["a@shop.example", "b@newsletter.example"] +
                           ["u%d@d%d.example" % (i, i) for i in range(3, 9)] +
                           ["bad@unverified.example"])],
     UNJUDGEABLE + "more than 8 distinct domains", "allowed and unknown domains, then the blocked one"),
    ("eighth-is-blocked",
     ["From: " + ", ".join(["u%d@d%d.example" % (i, i) for i in range(1, 8)] + ["bad@unverified.example"])],
     BLOCKED, "the eighth domain is the blocked one"),
    ("after-1001-fields", FILLER + ["From: bad@unverified.example"], BLOCKED,
     "1,001 header fields before From:"),
    ("second-from-after-1001", ["From: news@shop.example"] + FILLER + ["From: bad@unverified.example"],
     BLOCKED, "a second From: after 1,001 fields"),
    ("unterminated-comment", ["From: (x bad@unverified.example"], UNJUDGEABLE + "unterminated comment",
     "From: (x bad@unverified.example"),
    # the rest of the class
    ("second-field-unreadable", ["From: news@shop.example", "X-A: 1", "From: \"bad@unverified.example"],
     UNJUDGEABLE + "unterminated quoted string (From: field 2)", "a second From: field that cannot be read",
     ("\"bad@unverified.example\"@mta.harness.invalid", "the relay's own domain")),
    ("second-field-blocked", ["From: news@shop.example", "From: bad@unverified.example"], BLOCKED,
     "two From: fields, the second blocked"),
    ("space-before-colon", ["X-A: 1", "From : bad@unverified.example"], BLOCKED,
     "'From :' (white space before the colon)"),
    ("lowercase-name", ["from: bad@unverified.example"], BLOCKED, "'from:' in lower case"),
    ("route", ["From: News <@relay.example,@r2.example:bad@unverified.example>"], BLOCKED,
     "a source route in the angle-addr"),
    ("folded", ["From: News <news@shop.example>,\r\n\tOther\r\n <bad@unverified.example>"], BLOCKED,
     "the blocked address on a folded line"),
    ("group-member", ["From: Team: news@shop.example, bad@unverified.example;"], BLOCKED,
     "a group with the blocked address"),
    ("quoted-local-part", ["From: \"news@shop.example\"@unverified.example"], BLOCKED,
     "a quoted local part with '@' does not change the domain"),
    ("comment-after-blocked", ["From: bad@unverified.example (news@shop.example)"], BLOCKED,
     "a comment naming an allowed address"),
    ("unquoted-at-name", ["From: bad@unverified.example <news@shop.example>"], BLOCKED,
     "an unquoted address as the display name is judged too"),
    ("idn", ["From: x@b\u00fccher.example"], "550 5.7.1 domain xn--bcher-kva.example is not allowed to send",
     "a UTF-8 (IDN) domain is judged as its A-label"),
    ("encoded-word-only", ["From: =?UTF-8?B?YmFkQHVudmVyaWZpZWQuZXhhbXBsZQ==?="],
     UNJUDGEABLE + "a name without an address", "an encoded-word cannot stand for the address",
     ("=?UTF-8?B?YmFkQHVudmVyaWZpZWQuZXhhbXBsZQ==?=@mta.harness.invalid", "the relay's own domain")),
    ("encoded-domain", ["From: x@=?utf-8?q?unverified.example?="], UNJUDGEABLE, "an encoded-word as the domain"),
    ("address-literal", ["From: x@[192.0.2.1]"], UNJUDGEABLE + "address literal, not a domain",
     "an address literal"),
    ("stray-bracket", ["From: News <news@shop.example> <bad@unverified.example>"],
     UNJUDGEABLE + "text after '>'", "two angle-addrs in one mailbox"),
    ("empty-from", ["From: "], UNJUDGEABLE + "no address in the From: field", "an empty From:"),
    ("empty-group", ["From: undisclosed-recipients:;"], UNJUDGEABLE + "no address in the From: field",
     "From: with only an empty group"),
    ("no-from", ["X-A: 1"], UNJUDGEABLE + "no From: field", "no From: field at all",
     ("news@shop.example", "the envelope sender, added by Postfix")),
    # legitimate complex From: fields of an allowed domain
    ("ok-encoded-words", ["From: =?UTF-8?B?SsO8cmdlbg==?= =?UTF-8?Q?M=C3=BCller?= <news@shop.example>"], OK,
     "encoded-word display name"),
    ("ok-encoded-at", ["From: =?UTF-8?Q?bad=40unverified.example?= <news@shop.example>"], OK,
     "an encoded '@' in the display name is a name"),
    ("ok-group", ["From: Shop team: news@shop.example, Sales <sales@shop.example>;"], OK,
     "a group of allowed addresses"),
    ("ok-folded", ["From: \"Shop, the News\"\r\n <news@shop.example>,\r\n\tletters@newsletter.example"], OK,
     "folded, two allowed domains"),
    ("ok-comments", ["From: news@shop.example (bad@unverified.example, <x@unverified.example>)"], OK,
     "comments holding addresses"),
    ("ok-quoted-name", ["From: \"bad@unverified.example\" <news@shop.example>"], OK,
     "a quoted display name with '@'"),
    ("ok-nine-addresses", ["From: " + ", ".join("u%d@shop.example" % i for i in range(1, 10))], OK,
     "nine addresses of one allowed domain"),
    ("ok-after-1001-fields", FILLER + ["From: news@shop.example"], OK, "1,001 fields, then an allowed From:"),
    # the null sender is no way around the From: check
    ("null-sender-blocked", ["From: bad@unverified.example"], BLOCKED,
     "MAIL FROM:<> with a blocked From: domain", None, "<>"),
    ("ok-null-sender", ["From: MAILER-DAEMON@shop.example"], OK,
     "MAIL FROM:<> with an allowed From: domain (a bounce)", None, "<>"),
]


def battery(pf, rewriting):
    """Every case through this Postfix; returns the subjects that must reach the sink."""
    who = "local client" if rewriting else "submission"
    for case in CASES:
        tag, headers, expect, why = case[:4]
        sender = case[5] if len(case) > 5 else "news@shop.example"
        tag = "%s-%s" % ("local" if rewriting else "sub", tag)
        if rewriting and len(case) > 4 and case[4]:
            repaired, judged = case[4]
            r = send(pf, tag, headers)
            sent[tag] = True
            t.ok(r.returncode == 0, "[%s] %s: Postfix makes it From: %s, %s, judged and delivered"
                 % (who, why, repaired, judged))
            continue
        if expect is OK:
            delivered(pf, tag, headers, sender, why="[%s] %s" % (who, why))
        else:
            refused(pf, tag, headers, expect, sender, why="[%s] %s" % (who, why))


def check_sink(pf, who):
    want = sorted(k for k, v in sent.items() if v)
    msgs = pf.wait_sink(len(want), timeout=20)
    time.sleep(1)  # anything refused but queued all the same would show up by now
    msgs = pf.sink_messages()
    got = sorted(s for mm in msgs for s in mm.header("Subject"))
    t.is_(got, want, "[%s] exactly the %d accepted messages reached the next hop, none of the %d refused"
          % (who, len(want), len(sent) - len(want)))
    t.is_(pf.fatal_lines(), [], "[%s] no fatal errors in Postfix's log" % who)
    return msgs


# sendgatectl verdict --from-header gives the milter's answer for the same From: fields
for case in CASES:
    tag, headers, expect, why = case[:4]
    values = [h.split(":", 1)[1].lstrip(" ") for h in headers
              if h.split(":", 1)[0].strip().lower() == "from"]
    if not values:
        continue
    argv = [bin_path("sendgatectl"), "-c", conf, "--json", "verdict"]
    for v in values:
        argv += ["--from-header", v]
    r = run(argv + [case[5] if len(case) > 5 else "news@shop.example", "customer@example.org"])
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {}
    if expect is OK:
        t.ok(r.returncode == 0 and out.get("action") == "accept",
             "sendgatectl verdict --from-header: %s: accept" % why)
    else:
        t.ok(r.returncode == 0 and expect in out.get("reply", ""),
             "sendgatectl verdict --from-header: %s: %s" % (why, expect.strip()))
    if r.returncode or not out:
        t.diag(r.stdout + r.stderr)
r = run([bin_path("sendgatectl"), "-c", conf, "verdict", "--from-header", "(x bad@unverified.example",
         "news@shop.example"])
t.like(r.stdout, "From: cannot be judged in full: unterminated comment",
       "sendgatectl verdict's text output says why the From: cannot be judged")

with Milter(conf, "unix:" + sock) as m:
    # a remote submission client: Postfix passes its header fields as they were sent
    pf = Postfix(os.path.join(d, "sub"), milters="unix:" + sock,
                 main_extra={"local_header_rewrite_clients": ""})
    os.makedirs(os.path.join(d, "sub"))
    pf.start()
    try:
        battery(pf, False)
        msgs = check_sink(pf, "submission")
        big = [mm for mm in msgs if mm.header("Subject") == ["sub-ok-after-1001-fields"]]
        t.ok(big and b"X-Filler-1000: 1000" in big[0].data and not big[0].header("List-Unsubscribe"),
             "a message with more fields than the milter keeps for rewriting is delivered unchanged")
    finally:
        pf.stop()

    # a local client: Postfix rewrites its header addresses (local_header_rewrite_clients)
    sent.clear()
    pf = Postfix(os.path.join(d, "local"), milters="unix:" + sock)
    os.makedirs(os.path.join(d, "local"))
    pf.start()
    try:
        battery(pf, True)
        msgs = check_sink(pf, "local client")
        repaired = sorted(f for mm in msgs for f in mm.header("From") if "mta.harness.invalid" in f)
        t.is_(repaired, ['"bad@unverified.example"@mta.harness.invalid',
                         "=?UTF-8?B?YmFkQHVudmVyaWZpZWQuZXhhbXBsZQ==?=@mta.harness.invalid"],
              "the fields Postfix repaired reached the recipient as the milter judged them")
        # --- handling.unjudgeable_from = tempfail, then accept -------------------------
        reload_with(m, handling={"unjudgeable_from": "tempfail"})
        r = send(pf, "tempfail-comment", ["From: (x bad@unverified.example"])
        sent["tempfail-comment"] = False
        t.ok(r.returncode == 26 and "451 4.7.1 cannot judge the From: header: unterminated comment"
             in r.stdout, "unjudgeable_from = tempfail: 451 4.7.1 with the same reason")
        refused(pf, "tempfail-blocked-wins", ["From: bad@unverified.example, (x"], BLOCKED,
                why="unjudgeable_from = tempfail: a blocked domain read before the error still rejects")
        reload_with(m, handling={"unjudgeable_from": "accept"})
        delivered(pf, "accept-comment", ["From: (x bad@unverified.example"],
                  why="unjudgeable_from = accept: delivered")
        refused(pf, "accept-blocked-still", ["From: %s, bad@unverified.example, x@d9.example" %
                                             ", ".join("u%d@d%d.example" % (i, i) for i in range(1, 8))],
                BLOCKED, why="unjudgeable_from = accept: the domains that were read still count")

        # --- milter.from_fallback = envelope: only for a From: with no address -----------
        reload_with(m, milter={"from_fallback": "envelope"})
        delivered(pf, "fallback-allowed", ["From: undisclosed-recipients:;"],
                  why="from_fallback = envelope: no From: address, allowed envelope sender")
        refused(pf, "fallback-blocked", ["From: "], BLOCKED, sender="bounce@unverified.example",
                why="from_fallback = envelope: no From: address, blocked envelope sender")
        refused(pf, "fallback-not-for-junk", ["From: (x bad@unverified.example"],
                UNJUDGEABLE + "unterminated comment",
                why="from_fallback = envelope: an unreadable From: is still unjudgeable")

        check_sink(pf, "local client, handling changed")
    finally:
        pf.stop()
    log = m.logtext()
    t.like(log, "cannot judge the From: header: unterminated comment (handling.unjudgeable_from = reject)",
           "the milter's log says why a From: could not be judged, and what applies")
    t.like(log, "reject at end of message: 550 5.7.1 cannot judge the From: header: more than 8 "
           "distinct domains [unjudgeable-from]", "and logs the refusal with its row")
    t.like(log, "domain=mta.harness.invalid (header) verdict=accept/unknown-domain",
           "a field Postfix repaired was judged by the domain Postfix gave it")
    t.like(log, "no address in the From: field; judging the envelope sender's domain unverified.example "
           "(milter.from_fallback = envelope)", "the envelope fallback is logged")
t.done()
