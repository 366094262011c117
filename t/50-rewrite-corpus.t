#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# The rewrite engine on whole messages, through `sendgate-milter -t` (the
# very callbacks Postfix drives), each output checked by an independent MIME
# parser (Python's email package): same structure, attachments and
# untouched parts byte-identical, the decoded HTML equal to the input except
# the rewritten link targets, the footer and the pixel; every rewritten link
# decodes (sendgatectl token decode, trackd's decoder) to its original URL;
# no line over 998 octets (QP parts within 76); a tampered token does not
# verify; and a second pass changes nothing.
import base64
import email
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, run, tmpdir  # noqa: E402
from sgmilter import setup_cache  # noqa: E402

t = T()
d = tmpdir()
conf = setup_cache(d)
HOST = "links.shop.example"  # shop.example's tracking host in conf/demo/domains.conf
HDR = ("From: Shop News <news@shop.example>\r\nTo: someone@customer.example\r\n"
       "Subject: corpus\r\nMIME-Version: 1.0\r\n")
LINKS = ["https://example.org/a?x=1&y=2", "http://example.net/b/(c)", "https://example.com/%C3%A9t%C3%A9"]
HTML = ("<html><head><style>a{color:red}</style></head><body>\r\n" +
        "".join('<p>Item <a href="%s">link %d</a></p>\r\n' % (u.replace("&", "&amp;"), i)
                for i, u in enumerate(LINKS)) +
        '<p><a href="mailto:help@shop.example">help</a> <a data-no-track href="https://example.org/keep">keep</a>'
        '</p>\r\n<!-- <a href="https://example.org/comment">c</a> -->\r\n</body></html>\r\n')
HTML_OUT_KEEP = '<a href="https://example.org/keep">keep</a>'  # marker stripped
PNG = bytes(range(256)) * 8


def qp(s):
    import quopri
    enc = quopri.encodestring(s.replace("\r\n", "\n").encode(), quotetabs=False)
    return enc.replace(b"\n", b"\r\n").decode()


def b64(data):
    e = base64.encodebytes(data).decode()
    return e.replace("\n", "\r\n")


corpus = {
    "html-qp": HDR + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: "
    "quoted-printable\r\n\r\n" + qp(HTML),
    "html-base64": HDR + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    b64(HTML.encode()),
    "html-8bit-one-line": HDR + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
    HTML.replace("\r\n", "") * 30 + "\r\n",
    "mixed-related-alternative": HDR + 'Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n'
    "This is a multi-part message in MIME format.\r\n--MIX\r\n"
    'Content-Type: multipart/related; boundary="REL"\r\n\r\n--REL\r\n'
    'Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\n'
    "Content-Type: text/plain; charset=utf-8\r\n\r\nSee https://example.org/a?x=1&y=2 now.\r\n--ALT\r\n"
    "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(HTML) +
    "\r\n--ALT--\r\n--REL\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    b64(PNG) + "--REL--\r\n--MIX\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    b64(PNG[:1000]) + "--MIX\r\nContent-Type: text/html; name=\"page.html\"\r\nContent-Disposition: attachment\r\n\r\n"
    '<a href="https://example.org/attached">attached</a>\r\n--MIX--\r\nepilogue\r\n',
    "nested-rfc822": HDR + 'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\n'
    "Content-Type: text/html\r\n\r\n" + HTML + "--M\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: a@b.example\r\nContent-Type: text/html\r\n\r\n"
    '<a href="https://example.org/forwarded">fwd</a>\r\n--M--\r\n',
    "signed": HDR + 'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
    'boundary="S"\r\n\r\n--S\r\nContent-Type: text/html\r\n\r\n' + HTML +
    "--S\r\nContent-Type: application/pkcs7-signature\r\n\r\nMIIB\r\n--S--\r\n",
    "iso-2022-jp": HDR + "Content-Type: text/html; charset=ISO-2022-JP\r\n\r\n" + HTML,
}
# bare LF input (a file written by a Unix tool): handled the same, delivered with LF
corpus["html-qp-bare-lf"] = corpus["html-qp"].replace("\r\n", "\n")
# broken HTML: a construct that never closes. The links before it are
# rewritten; every decoded byte from it on is delivered as it came (the link
# inside it included); the footer and pixel go before a </body> that comes
# before the break, and nowhere when there is none.
BROKEN = {  # name: (the HTML, the tail from the break on, footer and pixel expected)
    "broken-comment-qp": HTML.replace("</body></html>\r\n", "") +
    '<!-- never closed <a href="https://example.org/after">after</a>\r\n</body></html>\r\n',
    "broken-quote-8bit": HTML.replace("</body></html>\r\n", "") +
    '<img alt="it\'s <a href=\'https://example.org/after\'>after</a></body></html>\r\n',
    "broken-after-body-base64": HTML + '<style>a{} <a href="https://example.org/after">\r\n',
}
BROKEN_TAIL = {name: html[html.index(tail):] for name, html, tail in (
    ("broken-comment-qp", BROKEN["broken-comment-qp"], "<!-- never"),
    ("broken-quote-8bit", BROKEN["broken-quote-8bit"], "<img alt="),
    ("broken-after-body-base64", BROKEN["broken-after-body-base64"], "<style>a{} <a"))}
BROKEN_PIXEL = {"broken-comment-qp": False, "broken-quote-8bit": False, "broken-after-body-base64": True}
corpus["broken-comment-qp"] = (HDR + "Content-Type: text/html; charset=utf-8\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(BROKEN["broken-comment-qp"]))
corpus["broken-quote-8bit"] = (HDR + "Content-Type: text/html; charset=utf-8\r\n"
                               "Content-Transfer-Encoding: 8bit\r\n\r\n" + BROKEN["broken-quote-8bit"])
corpus["broken-after-body-base64"] = (HDR + "Content-Type: text/html; charset=utf-8\r\n"
                                      "Content-Transfer-Encoding: base64\r\n\r\n" +
                                      b64(BROKEN["broken-after-body-base64"].encode()))


def milter_bytes(path):
    import subprocess
    argv = [bin_path("sendgate-milter"), "-c", conf, "-t", path, "--from", "news@shop.example",
            "--rcpt", "someone@customer.example", "--auth", "alice"]
    p = subprocess.run(argv, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def decode_token(url):
    r = run([bin_path("sendgatectl"), "-c", conf, "token", "decode", url])
    fields = dict(re.findall(r"^(\w[\w ]*?):\s+(.*)$", r.stdout, re.M))
    return r.returncode, fields


def structure(msg):
    return [(p.get_content_type(), p.get("Content-Disposition", "")) for p in msg.walk()]


def html_parts(msg):
    return [p for p in msg.walk() if p.get_content_type() == "text/html" and
            not p.get("Content-Disposition", "").startswith("attachment")]


for name, text in corpus.items():
    path = os.path.join(d, name + ".eml")
    raw = text.encode()
    with open(path, "wb") as f:
        f.write(raw)
    rc, out, err = milter_bytes(path)
    if not t.is_(rc, 0, "%s: sendgate-milter -t delivers it" % name):
        t.diag(err)
        continue
    src, dst = email.message_from_bytes(raw), email.message_from_bytes(out)
    if name in BROKEN:
        t.like(err, "note=broken HTML: links rewritten up to a construct that never closes",
               "%s: the log line says the HTML is broken" % name)
    t.is_(structure(dst), structure(src), "%s: same MIME structure" % name)
    if name.endswith("bare-lf"):
        t.ok(b"\r" not in out, "%s: delivered with the input's bare LF line endings" % name)
    lines = out.split(b"\n")
    t.ok(max(len(l.rstrip(b"\r")) for l in lines) <= 998, "%s: no line over 998 octets" % name)
    # every non-candidate leaf is byte-identical once decoded
    same = True
    for a, b in zip(src.walk(), dst.walk()):
        if a.is_multipart():
            continue
        if a.get_content_type() != "text/html" or a.get("Content-Disposition", "").startswith("attachment"):
            if a.get_content_type() != "text/plain" and a.get_payload(decode=True) != b.get_payload(decode=True):
                same = False
    t.ok(same, "%s: attachments and other parts byte-identical" % name)
    untouched = name in ("signed", "iso-2022-jp")
    if untouched:
        t.is_(html_parts(dst)[0].get_payload(decode=True), html_parts(src)[0].get_payload(decode=True),
              "%s: the HTML is left alone" % name)
        continue
    # the HTML: the same except link targets, footer and pixel
    ok_links, originals = True, []
    for sp, dp in zip(html_parts(src), html_parts(dst)):
        before = sp.get_payload(decode=True).decode()
        after = dp.get_payload(decode=True).decode()
        if name in BROKEN_TAIL:
            t.ok(after.endswith(BROKEN_TAIL[name]) and "example.org/after" not in after[:-len(BROKEN_TAIL[name])],
                 "%s: every decoded byte from the break on delivered as it came" % name)
            placed = "/o/" in after[:-len(BROKEN_TAIL[name])] and "/u/" in after[:-len(BROKEN_TAIL[name])]
            t.is_(placed, BROKEN_PIXEL[name], "%s: footer and pixel %s" % (
                name, "before the </body> that precedes the break" if BROKEN_PIXEL[name] else "left out (no "
                "</body> before the break)"))
        if dp.get("Content-Transfer-Encoding", "").lower() == "quoted-printable":
            enc = dp.get_payload(decode=False)
            t.ok(all(len(l) <= 76 for l in enc.splitlines()), "%s: QP lines within 76" % name)
        for m in re.finditer(r'href="(https://%s/c/[A-Za-z0-9_-]+)"' % re.escape(HOST), after):
            rc, f = decode_token(m.group(1))
            if rc != 0 or f.get("verdict") != "valid" or f.get("purpose") != "click":
                ok_links = False
            originals.append(f.get("url", "").replace("&", "&amp;"))
            after = after.replace(m.group(0), 'href="%s"' % originals[-1], 1)
        after = re.sub(r'<p style="font-size:12px;color:#666666;text-align:center"><a href="https://%s/u/'
                       r'[A-Za-z0-9_-]+">Unsubscribe</a></p>' % re.escape(HOST), "", after)
        after = re.sub(r'<img src="https://%s/o/[A-Za-z0-9_-]+" width="1" height="1" alt="" border="0" '
                       r'style="[^"]*" tabindex="-1">' % re.escape(HOST), "", after)
        before = before.replace('<a data-no-track href="https://example.org/keep">', '<a href="https://example.org/keep">')
        if before != after:
            ok_links = False
            t.diag("%s: differs:\n%r\n%r" % (name, before[:600], after[:600]))
    t.ok(ok_links, "%s: decoded HTML equal to the input but for link targets, footer, pixel, marker" % name)
    t.ok(len(originals) >= 3 and "https://example.org/a?x=1&amp;y=2" in originals,
         "%s: %d links rewritten, each decoding to its original URL" % (name, len(originals)))
    t.ok("https://example.org/attached" in out.decode(errors="replace") or name != "mixed-related-alternative",
         "%s: the HTML attachment keeps its link" % name)
    t.is_(dst.get("X-Sendgate-Tracked", "")[:6], "links=", "%s: the processed marker header" % name)
    t.like(dst.get("List-Unsubscribe", ""), "<https://%s/u/" % HOST, "%s: List-Unsubscribe" % name)
    # a second pass (the output re-injected) changes nothing
    again = os.path.join(d, name + ".out.eml")
    with open(again, "wb") as f:
        f.write(out)
    rc, out2, err2 = milter_bytes(again)
    t.ok(rc == 0 and out2 == out, "%s: a second pass changes nothing" % name)

# a tampered token does not verify
rc, out, err = milter_bytes(os.path.join(d, "html-qp.eml"))
m = re.search(rb"https://links\.shop\.example/c/[A-Za-z0-9_=\r\n-]+", out)
tok = re.sub(rb"=\r\n", b"", m.group(0)).decode() if m else ""
tok = tok.split('"')[0]
tampered = tok[:-3] + ("A" if tok[-3] != "A" else "B") + tok[-2:]
rc, f = decode_token(tampered)
t.ok(f.get("verdict", "") != "valid", "a tampered token does not verify (%s)" % f.get("verdict"))
t.done()
