#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# Large tracked messages behind a real Postfix (smtpd_milters =
# sendgate-milter over a unix: socket, milter_default_action = tempfail),
# with sendgate's defaults (max_rewrite_size = 9M, max_links = 500) and
# Postfix's (message_size_limit = 10240000). HTML newsletters of 0.9, 1.0,
# 1.1, 2 and 9 MB and one whose body is 200 kB under max_rewrite_size are
# each accepted with 250 at the first attempt, delivered exactly once and
# rewritten (Postfix takes a new body only as one unbroken run of REPLBODY
# pieces: nothing may come between two of them); the delivered message
# parses as MIME with the same structure, its plain part and the rest of
# its HTML are intact to the last byte, and every rewritten link carries a
# token that verifies (HMAC-SHA256 with the key file, checked here
# independently, and by sendgatectl token decode) and names the original
# URL. Delivered byte for byte unchanged: a body of exactly
# max_rewrite_size (rewriting would take it over), one a byte over, a
# 10.15 MB message Postfix accepts as it is (rewritten, it would grow past
# Postfix's limit: 552), and, through a Postfix with message_size_limit =
# 64 MB, a 30 MB message. Postfix logs no deferral, no milter error; the
# milter logs no refused change; sendgatectl check-config warns, against
# that very Postfix, when max_rewrite_size leaves no room under
# message_size_limit. sendgate-milter -t passes a 2 MB rewrite through the
# checks libmilter and Postfix make (the unit test test_milter_cb shows
# them refusing what Postfix refuses).
import base64
import email
import hashlib
import hmac
import os
import re
import shutil
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, T, bin_path, run, tmpdir  # noqa: E402
from sgmilter import Milter, setup_cache  # noqa: E402

t = T()
missing = [p for p in ("postfix", "smtp-sink") if not shutil.which(p)]
if missing or os.geteuid() != 0:
    if IN_CI:
        t.bail("needs root and %s" % (", ".join(missing) or "root"))
    print("1..0 # SKIP needs root and postfix (run make check as root)")
    sys.exit(0)
from pfharness import Postfix  # noqa: E402

HOST = "links.shop.example"  # shop.example's tracking host in conf/demo/domains.conf
MAX_REWRITE = 9 * 1024 * 1024  # [milter] max_rewrite_size default (9M); checked below
MAX_LINKS = 500  # [tracking] max_links default; checked below
MB = 1000 * 1000
TEXT = "Our offers this week: see the HTML version.\r\n"


def html_lines(n_bytes):
    """HTML of exactly n_bytes: many short paragraphs, each with its own link."""
    head, tail = "<html><body>\r\n", "</body></html>\r\n"
    out, size, i = [head], len(head) + len(tail), 0
    while True:
        line = ('<p>Item %d: <a href="https://example.org/item/%d?ref=t33&amp;n=%d">offer %d</a> '
                "lorem ipsum dolor sit amet, consectetur adipiscing elit</p>\r\n" % (i, i, i, i))
        if size + len(line) > n_bytes:
            break
        out.append(line)
        size += len(line)
        i += 1
    pad = n_bytes - size  # the rest: a comment line (at least 9 bytes: "<!---->\r\n")
    if pad:
        out[-1] = out[-1] + "<!--" + "x" * max(pad - 9, 0) + "-->\r\n" if pad >= 9 else \
            out[-1][:-2] + " " * pad + "\r\n"
    out.append(tail)
    html = "".join(out)
    assert len(html) == n_bytes, (len(html), n_bytes)
    return html


def message(name, total=None, body=None):
    """A multipart/alternative newsletter: the whole message `total` bytes, or its body `body` bytes."""
    hdr = ("From: Shop News <news@shop.example>\r\nTo: customer@example.org\r\n"
           "Subject: t33 %s\r\nMessage-ID: <t33-%s@shop.example>\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n' % (name, name))
    pre = ("--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + TEXT +
           "--ALT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
    post = "--ALT--\r\n"
    want_body = body if body is not None else total - len(hdr)
    html = html_lines(want_body - len(pre) - len(post))
    data = (hdr + pre + html + post).encode()
    return data, html


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def token_claims(tok, keys):
    """Claims of a version-1 token whose MAC verifies with one of keys, else None (lib/token.h)."""
    try:
        b = b64url(tok)
    except ValueError:
        return None
    if len(b) < 3 + 16 or b[0] != 1 or b[1] not in keys:
        return None
    body, mac = b[:-16], b[-16:]
    if not hmac.compare_digest(hmac.new(keys[b[1]], body, hashlib.sha256).digest()[:16], mac):
        return None
    purpose = body[2]
    idx, i = varint(body, 3)
    issued, i = varint(body, i)
    ml = body[i]
    msgref = body[i + 1:i + 1 + ml].decode()
    i += 1 + ml
    dl = body[i]
    domain = body[i + 1:i + 1 + dl].decode()
    i += 1 + dl
    rl, i = varint(body, i)
    rcpt = body[i:i + rl].decode()
    url = body[i + rl:].decode()
    return {"purpose": purpose, "link": idx, "msgref": msgref, "domain": domain, "rcpt": rcpt,
            "url": url}


def read_keys(path):
    keys = {}
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                kid, sec = line.split()
                keys[int(kid)] = bytes.fromhex(sec)
    return keys


def send(pf, data):
    """One SMTP transaction; (code, text) of the answer to the final dot."""
    s = smtplib.SMTP("127.0.0.1", pf.smtpd_port, "client.harness.invalid", timeout=120)
    try:
        s.mail("news@shop.example")
        s.rcpt("customer@example.org")
        code, text = s.data(data)
    except smtplib.SMTPResponseException as e:
        code, text = e.smtp_code, e.smtp_error
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
    return code, text.decode(errors="replace") if isinstance(text, bytes) else text


def same(got, want, desc):
    """got == want; on failure the first difference, not megabytes of text."""
    if t.ok(got == want, desc):
        return
    i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    t.diag("lengths %d and %d, first difference at %d:" % (len(got), len(want), i))
    t.diag("     got: %r" % (got[max(i - 80, 0):i + 80],))
    t.diag("expected: %r" % (want[max(i - 80, 0):i + 80],))


def mime_body(raw):
    """The bytes after the header of a message (CRLF or LF)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return raw[i + len(sep):]
    return b""


def check_delivered(pf, m, cases):
    """Send every case through pf; each delivered once, rewritten or unchanged as it says."""
    qids = {}
    for name, data, html, rewritten in cases:
        code, text = send(pf, data)
        mq = re.search(r"queued as (\w+)", text)
        t.ok(code == 250 and mq, "%s (%d bytes): accepted with 250 at the first attempt (%d %s)"
             % (name, len(data), code, text.strip()[:120]))
        qids[name] = mq.group(1) if mq else None
    pf.wait_sink(len(cases), timeout=60)
    end = time.time() + 20
    while time.time() < end and pf.queue_ids():  # every delivery finished
        time.sleep(0.1)
    msgs = pf.sink_messages()
    t.is_(len(msgs), len(cases), "%d messages reached the next hop, no more" % len(cases))
    by_id = {}
    for sm in msgs:
        mid = re.search(rb"^Message-ID: <t33-([^@]+)@", sm.data, re.M)
        by_id.setdefault(mid.group(1).decode() if mid else "?", []).append(sm)
    log, mlog = pf.maillog(), m.logtext()
    for name, data, html, rewritten in cases:
        qid = qids[name]
        got = by_id.get(name, [])
        t.is_(len(got), 1, "%s: delivered exactly once" % name)
        sent = len(re.findall(r" %s: to=<customer@example\.org>.*status=sent" % qid, log)) if qid else 0
        deferred = len(re.findall(r" %s: .*status=deferred" % qid, log)) if qid else 0
        t.ok(sent == 1 and deferred == 0, "%s: the maillog has one status=sent and no deferral" % name)
        if not got:
            continue
        t.is_(sorted(got[0].rcpts), ["archive@shop.example", "customer@example.org"],
              "%s: with the verified BCC recipient added" % name)
        raw = got[0].data
        if raw.endswith(b"\n\n") and data.endswith(b"--ALT--\r\n"):
            raw = raw[:-1]  # smtp-sink ends each dump with an empty line
        src, dst = email.message_from_bytes(data), email.message_from_bytes(raw)
        t.is_([p.get_content_type() for p in dst.walk()], [p.get_content_type() for p in src.walk()],
              "%s: the delivered message parses as MIME with the same structure" % name)
        parts = [p for p in dst.walk() if not p.is_multipart()]
        if len(parts) != 2:
            continue
        plain = parts[0].get_payload(decode=True).decode().replace("\r\n", "\n")
        out = parts[1].get_payload(decode=True).decode().replace("\r\n", "\n")
        html = html.replace("\r\n", "\n")[:-1]  # the last line end belongs to the boundary
        summary = re.search(r"%s: from=.* body=(.*) size=" % qid, mlog)
        summary = summary.group(1) if summary else "(no summary line)"
        if not rewritten:
            same(mime_body(raw).replace(b"\r\n", b"\n"), mime_body(data).replace(b"\r\n", b"\n"),
                 "%s: the body is delivered byte for byte unchanged" % name)
            t.ok(not dst.get("X-Sendgate-Tracked") and not dst.get("List-Unsubscribe"),
                 "%s: and no tracking header is added" % name)
            t.ok("larger than max_rewrite_size" in summary,
                 "%s: the milter's summary line says why: %s" % (name, summary))
            continue
        # every tracked link: a valid token for this message naming the original URL
        seen, bad = [0], []
        originals = re.findall(r'href="(https://example\.org/item/[^"]*)"', html)

        def untrack(mo):
            k = seen[0]
            c = token_claims(mo.group(1), keys)
            want = originals[k].replace("&amp;", "&") if k < len(originals) else None
            # message-level tokens (no recipient): the BCC copy makes two recipients
            if (c is None or c["purpose"] != 1 or c["link"] != k or c["url"] != want or
                    c["msgref"] != qid or c["domain"] != "shop.example" or c["rcpt"] != ""):
                bad.append((k, c))
            seen[0] += 1
            return 'href="%s"' % (c["url"].replace("&", "&amp;") if c else "?")
        back = re.sub(r'href="https://%s/c/([A-Za-z0-9_-]+)"' % re.escape(HOST), untrack, out)
        want_links = min(MAX_LINKS, len(originals))
        t.is_((seen[0], bad[:3]), (want_links, []),
              "%s: %d links rewritten (max_links), each token verifying and naming its original URL"
              % (name, want_links))
        mo = re.search(r'href="(https://%s/c/[A-Za-z0-9_-]+)"' % re.escape(HOST), out)
        r = run([bin_path("sendgatectl"), "-c", conf, "token", "decode", mo.group(1) if mo else "none"])
        t.ok(r.returncode == 0 and "url:      %s\n" % originals[0].replace("&amp;", "&") in r.stdout,
             "%s: sendgatectl token decode agrees on the first link" % name)
        back = re.sub(r'<p style="font-size:12px;color:#666666;text-align:center"><a href="https://%s/u/'
                      r'[A-Za-z0-9_-]+">Unsubscribe</a></p>' % re.escape(HOST), "", back)
        back = re.sub(r'<img src="https://%s/o/[A-Za-z0-9_-]+" width="1" height="1" alt="" border="0" '
                      r'style="[^"]*" tabindex="-1">' % re.escape(HOST), "", back)
        same(back, html, "%s: the HTML is the original to the last byte but for link targets, pixel "
             "and footer" % name)
        t.ok(re.fullmatch(r"%s\n\nUnsubscribe: <https://%s/u/[A-Za-z0-9_-]+>\n?" %
                          (re.escape(TEXT.strip()), re.escape(HOST)), plain),
             "%s: the plain part is intact, with the unsubscribe footer" % name)
        t.like(dst.get("X-Sendgate-Tracked", ""), "links=%d" % want_links, "%s: the marker header" % name)
        t.like(dst.get("List-Unsubscribe", ""), "<https://%s/u/" % HOST, "%s: List-Unsubscribe" % name)
        t.ok(summary.startswith("rewritten links="), "%s: the milter's summary line: %s" % (name, summary))
    t.ok("451 4." not in log and "552 5." not in log and "body replacement requests can't" not in log
         and "size limit exceeded" not in log and
         "milter" not in "".join(l for l in log.splitlines(True) if "warning:" in l),
         "Postfix logged no 451 or 552, no milter warning, no size limit exceeded")
    t.ok("smfi_replacebody failed" not in mlog and "refused by the MTA" not in mlog,
         "the milter logged no refused change")
    t.is_(pf.fatal_lines(), [], "no fatal errors in Postfix's log")


def check_config(pf, max_rewrite):
    """sendgatectl check-config against pf's main.cf (MAIL_CONFIG): the max_rewrite_size warning."""
    c = os.path.join(d, "check-%s.conf" % max_rewrite)
    with open(conf) as f, open(c, "w") as g:
        g.write(f.read().replace("[milter]\n", "[milter]\nmax_rewrite_size = %s\n" % max_rewrite, 1))
    r = run([bin_path("sendgatectl"), "-c", c, "check-config"],
            env={"MAIL_CONFIG": os.path.join(pf.run, "etc")})
    return [l for l in r.stdout.splitlines() if "milter.max_rewrite_size" in l]


d = tmpdir()
sock = os.path.join(d, "milter.sock")
conf = setup_cache(d, extra={"milter": {"socket": "unix:" + sock, "socket_group": "postfix",
                                        "socket_mode": "0660"}})
keys = read_keys(os.path.join(d, "token-1.key"))
shown = run([bin_path("sendgatectl"), "-c", conf, "show-config", "milter.max_rewrite_size",
             "tracking.max_links"]).stdout
t.ok("milter.max_rewrite_size = 9M" in shown and "tracking.max_links = 500" in shown,
     "the defaults this test is about: max_rewrite_size = 9M, max_links = 500")

# name, message, HTML part, rewritten?
cases = []
for name, total in (("0.9MB", 9 * MB // 10), ("1.0MB", MB), ("1.1MB", 11 * MB // 10), ("2MB", 2 * MB),
                    ("9MB", 9 * MB)):
    data, html = message(name, total=total)
    cases.append((name, data, html, True))
for name, body, rewritten in (("body-near-max", MAX_REWRITE - 200000, True),
                              ("body-at-max", MAX_REWRITE, False),
                              ("body-over-max", MAX_REWRITE + 1, False)):
    data, html = message(name, body=body)
    cases.append((name, data, html, rewritten))
    t.is_(len(mime_body(data)), body, "%s: the body is %d bytes" % (name, body))
# Postfix (message_size_limit = 10240000) takes it as it is, but not rewritten
# (552 5.3.4 with max_rewrite_size = 10M, the former default)
data, html = message("10.15MB", total=10150000)
cases.append(("10.15MB", data, html, False))
data, html = message("30MB", total=30 * MB)
big = [("30MB", data, html, False)]

# sendgate-milter -t makes the same calls, checked as libmilter and Postfix check them
path = os.path.join(d, "2MB.eml")
with open(path, "wb") as f:
    f.write(cases[3][1])
r = subprocess.run([bin_path("sendgate-milter"), "-c", conf, "-t", path, "--from", "news@shop.example",
                    "--rcpt", "customer@example.org", "--auth", "alice"], capture_output=True, timeout=120)
err = r.stderr.decode(errors="replace")
mo = re.search(r"^REPLBODY (\d+)$", err, re.M)
t.ok(r.returncode == 0 and "REFUSED" not in err and "ACCEPT" in err and mo and int(mo.group(1)) > 2 * MB,
     "sendgate-milter -t: the 2 MB message's new body of %s bytes passes the wrapper's checks"
     % (mo.group(1) if mo else "?"))

with Milter(conf, "unix:" + sock) as m:
    # Postfix's defaults: message_size_limit = 10240000
    pf = Postfix(os.path.join(d, "default"), milters="unix:" + sock)
    os.makedirs(os.path.join(d, "default"))
    pf.start()
    try:
        t.is_(check_config(pf, "9M"), [], "check-config: max_rewrite_size = 9M fits Postfix's "
              "message_size_limit = 10240000")
        w = check_config(pf, "25M")
        t.ok(len(w) == 1 and "552 5.3.4" in w[0] and "max_rewrite_size = 9M or less" in w[0],
             "check-config: max_rewrite_size = 25M does not: a warning naming the 552 and the fix")
        check_delivered(pf, m, cases)
    finally:
        pf.stop()
    # a 30 MB message needs a larger message_size_limit; over max_rewrite_size it passes unchanged
    pf = Postfix(os.path.join(d, "big"), milters="unix:" + sock,
                 main_extra={"message_size_limit": 64 * MB})
    os.makedirs(os.path.join(d, "big"))
    pf.start()
    try:
        t.is_(check_config(pf, "25M"), [], "check-config: 25M fits message_size_limit = 64000000")
        check_delivered(pf, m, big)
    finally:
        pf.stop()
t.done()
