#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# `sendgatectl check-config` fails (exit 78, EX_CONFIG) for every file a
# daemon would refuse at start, naming the file, the line of the key that
# names it, and the fix; it says "configuration OK" (exit 0) only for what
# the daemons accept. The configuration file itself and every file read at
# start are read with a size limit, regular files only: /dev/zero, a FIFO,
# a directory or a huge file is a prompt error with bounded memory, never a
# hang. Where a daemon is cheap to start, the test starts it on the same
# configuration and sees it refuse too: check-config calls the daemons' own
# loaders, so the two cannot disagree. Run as root (CI is): the mode rules
# are about who else may read or change a file, and hold for root too.
import os
import pwd
import re
import resource
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import BUILD, IN_CI, T, bin_path, free_port, tmpdir, write_conf  # noqa: E402

t = T()
if os.geteuid() != 0:
    if IN_CI:
        t.bail("needs root (the unreadable-file case runs sendgatectl as nobody)")
    print("1..0 # SKIP needs root")
    sys.exit(0)

CTL = bin_path("sendgatectl")
d = tmpdir()
LIMIT = 30  # seconds: every case answers in well under one; a hang fails, never blocks

# check-config asks postconf(1) about Postfix; a Postfix configuration of our
# own (MAIL_CONFIG) keeps the answers the same on every machine, and quick
pfconf = os.path.join(d, "pfconf")
os.makedirs(pfconf)
with open(os.path.join(pfconf, "main.cf"), "w") as f:
    f.write("compatibility_level = 3.6\nqueue_directory = %s\n" % d)
with open(os.path.join(pfconf, "master.cf"), "w") as f:
    f.write("smtp      inet  n       -       y       -       -       smtpd\n")
ENV = dict(os.environ, MAIL_CONFIG=pfconf)


def ctl(conf, *args, preexec=None):
    """sendgatectl -c conf ARGS: (exit status, stdout + stderr); status None when it hung."""
    try:
        r = subprocess.run([CTL, "-c", conf] + list(args), capture_output=True, text=True,
                           timeout=LIMIT, preexec_fn=preexec, errors="replace", env=ENV)
    except subprocess.TimeoutExpired:
        return None, "(no answer in %d s)" % LIMIT
    return r.returncode, r.stdout + r.stderr


def check(conf, **kw):
    return ctl(conf, "check-config", **kw)


def conf(name, sections):
    """A configuration in d whose state stays in d (fewer unrelated warnings)."""
    base = {"general": {"cache_path": os.path.join(d, "cache")},
            "trackd": {"stats_path": os.path.join(d, "stats")}}
    for sec, keys in sections.items():
        base.setdefault(sec, {}).update(keys)
    return write_conf(os.path.join(d, name), base)


def line_of(path, key):
    """The line of 'key = ...' in a configuration file (1-based)."""
    with open(path) as f:
        for n, text in enumerate(f, 1):
            if text.split("=")[0].strip() == key:
                return n
    return 0


def refused(rc, out, want, desc):
    """exit 78, every wanted text in the output, and no 'configuration OK'"""
    good = rc == 78 and all(w in out for w in want) and "configuration OK" not in out
    t.ok(good, desc)
    if not good:
        t.diag("exit %r, wanted %r in:\n%s" % (rc, want, out))


def accepted(rc, out, path, desc):
    good = rc == 0 and "%s: configuration OK" % path in out
    t.ok(good, desc)
    if not good:
        t.diag("exit %r:\n%s" % (rc, out))


# ---- the configuration file itself ---------------------------------------------------
rc, out = check("/dev/zero")  # first child: its peak memory is measured below
refused(rc, out, ["/dev/zero is a character device, not a regular file",
                  "fix: name the configuration file itself"],
        "-c /dev/zero: an error at once (it used to read forever)")
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
t.ok(peak_kb < 256 * 1024, "-c /dev/zero: bounded memory (peak %d MiB, was over 1 GiB)" %
     (peak_kb // 1024))
rc, out = check("/dev/urandom")
refused(rc, out, ["/dev/urandom is a character device, not a regular file"], "-c /dev/urandom")
fifo = os.path.join(d, "conf.fifo")
os.mkfifo(fifo)
rc, out = check(fifo)
refused(rc, out, ["%s is a FIFO, not a regular file" % fifo], "-c FIFO: an error, not a hang")
rc, out = check(d)
refused(rc, out, ["%s is a directory, not a regular file" % d],
        "-c DIRECTORY: an error (it used to pass as an empty file)")
huge = os.path.join(d, "huge.conf")
with open(huge, "w") as f:
    f.truncate(4 << 30)  # 4 GiB, sparse
rc, out = check(huge)
refused(rc, out, ["%s is 4294967296 bytes, over the 1048576-byte limit" % huge],
        "a 4 GiB file: refused on its size, nothing read")
nul = os.path.join(d, "nul.conf")
with open(nul, "wb") as f:
    f.write(b"[general]\nlog_level = info\0debug\n")
rc, out = check(nul)
refused(rc, out, ["%s:2: control character in line" % nul], "a NUL byte: file:line")
longl = os.path.join(d, "long.conf")
with open(longl, "w") as f:
    f.write("[refresh]\nuser_agent = %s\n" % ("x" * 100000))
rc, out = check(longl)
refused(rc, out, ["%s:2: line longer than" % longl], "an over-long line: file:line")
rc, out = check(os.path.join(d, "missing.conf"))
refused(rc, out, ["%s: cannot open: No such file or directory" % os.path.join(d, "missing.conf")],
        "a missing file named with -c")
secret_conf = conf("root-only.conf", {"general": {"log_level": "info"}})
os.chmod(secret_conf, 0o600)
nobody = pwd.getpwnam("nobody")


def as_nobody():
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


rc, out = check(secret_conf, preexec=as_nobody)
refused(rc, out, ["%s: cannot open: Permission denied" % secret_conf],
        "a file the caller cannot read: an error naming it")

# ---- token key files (tracking.key_files), current and old ---------------------------
keys = os.path.join(d, "keys")
os.makedirs(keys)


def genkey(name, kid):
    path = os.path.join(keys, name)
    if os.path.exists(path):
        os.unlink(path)
    r = subprocess.run([CTL, "-c", "/dev/null", "token", "genkey", "--id", str(kid), path],
                       capture_output=True, text=True)
    return path if r.returncode == 0 else None


k1, k2 = genkey("k1.key", 1), genkey("k2.key", 2)
t.ok(k1 and k2, "token genkey writes two key files")
kconf = conf("keys.conf", {"tracking": {"key_files": "%s, %s" % (k1, k2)}})
kline = line_of(kconf, "key_files")
os.chmod(k1, 0o640)
os.chmod(k2, 0o600)
rc, out = check(kconf)
accepted(rc, out, kconf, "key files at 0640 and 0600: configuration OK, exit 0")

at = "%s:%d: tracking.key_files: " % (kconf, kline)
for mode, why, fix in ((0o644, "others may read it", "0640"),
                       (0o660, "the group may change it", "0640"),
                       (0o602, "others may change it", "0600")):
    os.chmod(k1, mode)
    rc, out = check(kconf)
    refused(rc, out, [at + "%s has mode %04o: %s" % (k1, mode, why), "fix: chmod %s %s" % (fix, k1)],
            "a key file at %04o: error at the key's line, with the chmod that fixes it" % mode)
os.chmod(k1, 0o640)
os.chmod(k2, 0o644)
rc, out = check(kconf)
refused(rc, out, [at + "%s has mode 0644" % k2],
        "the old (second, verify-only) key file is checked as well")
os.chmod(k2, 0o600)

link = os.path.join(keys, "current.key")
os.symlink(k1, link)
lconf = conf("link.conf", {"tracking": {"key_files": link}})
rc, out = check(lconf)
refused(rc, out, ["%s:%d: tracking.key_files: %s is a symbolic link" % (lconf, line_of(lconf, "key_files"), link),
                  "fix: name %s itself" % k1],
        "a symbolic link to a key file: error (the daemons open keys with O_NOFOLLOW)")

kfifo = os.path.join(keys, "fifo.key")
os.mkfifo(kfifo, 0o600)
big = os.path.join(keys, "big.key")
with open(big, "w") as f:
    f.write("# padding\n" * 500)
os.chmod(big, 0o600)
dup = genkey("dup.key", 1)
os.chmod(dup, 0o600)
bad = os.path.join(keys, "bad.key")
with open(bad, "w") as f:
    f.write("1 this-is-not-a-secret!\n")
os.chmod(bad, 0o600)
for path, want, desc in ((kfifo, "is a FIFO, not a regular file", "a FIFO key file: error, no hang"),
                         (keys, "is a directory, not a regular file", "a directory as key file"),
                         ("/dev/zero", "is a character device, not a regular file",
                          "/dev/zero as key file"),
                         (big, "over the 4096-byte limit", "a key file over 4096 bytes"),
                         (os.path.join(keys, "none.key"), "No such file or directory",
                          "a missing key file"),
                         (bad, "neither hex nor base64", "a key file that holds no key")):
    c = conf("k.conf", {"tracking": {"key_files": "%s, %s" % (k1, path)}})
    rc, out = check(c)
    refused(rc, out, ["%s:%d: tracking.key_files: %s" % (c, line_of(c, "key_files"), path), want],
            desc)
c = conf("k.conf", {"tracking": {"key_files": "%s, %s" % (k1, dup)}})
rc, out = check(c)
refused(rc, out, ["tracking.key_files: %s: key id 1 configured twice" % dup],
        "two key files with one id")

# the daemon refuses the same files: sendgate-trackd on the same configuration
def trackd_refuses(cfg):
    """sendgate-trackd -f on cfg: (exit status, log). Its listen port is taken
    first; should another program have taken the free port meanwhile (exit
    69), the start is tried again on another one."""
    with open(cfg) as f:
        text = f.read()
    for _ in range(5):
        with open(cfg, "w") as f:
            f.write(re.sub(r"(?m)^listen = inet:127\.0\.0\.1:\d+$",
                           "listen = inet:127.0.0.1:%d" % free_port(), text))
        try:
            r = subprocess.run([bin_path("sendgate-trackd"), "-f", "-c", cfg], capture_output=True,
                               text=True, timeout=LIMIT)
        except subprocess.TimeoutExpired:
            return None, "(sendgate-trackd did not stop)"
        if not (r.returncode == 69 and "Address already in use" in r.stderr):
            break
    return r.returncode, r.stderr


for mode in (0o644, 0o660, 0o602):
    os.chmod(k1, mode)
    c = conf("td.conf", {"trackd": {"listen": "inet:127.0.0.1:8025"},
                         "tracking": {"key_files": k1}})
    rc, err = trackd_refuses(c)
    t.ok(rc == 78 and "has mode %04o" % mode in err,
         "sendgate-trackd refuses the %04o key file too (exit 78)" % mode)
os.chmod(k1, 0o640)
c = conf("td.conf", {"trackd": {"listen": "inet:127.0.0.1:8025"},
                     "tracking": {"key_files": link}})
rc, err = trackd_refuses(c)
t.ok(rc == 78 and "is a symbolic link" in err, "sendgate-trackd refuses the symbolic link too")

# ---- API token files --------------------------------------------------------------------
tok = os.path.join(d, "mailtrap.token")
with open(tok, "w") as f:
    f.write("0123456789abcdef\n")
os.chmod(tok, 0o640)
tconf = conf("tok.conf", {"mailtrap": {"api_token_file": tok}})
rc, out = check(tconf)
accepted(rc, out, tconf, "an API token file at 0640: configuration OK")
tat = "%s:%d: mailtrap.api_token_file: " % (tconf, line_of(tconf, "api_token_file"))
os.chmod(tok, 0o644)
rc, out = check(tconf)
refused(rc, out, [tat + "%s has mode 0644: others may read it" % tok, "fix: chmod 0640 %s" % tok],
        "an API token file others may read")
tfifo = os.path.join(d, "token.fifo")
os.mkfifo(tfifo, 0o600)
empty = os.path.join(d, "empty.token")
open(empty, "w").close()
os.chmod(empty, 0o600)
for path, want, desc in ((tfifo, "is a FIFO, not a regular file", "a FIFO token file: no hang"),
                         (d, "is a directory, not a regular file", "a directory token file"),
                         ("/dev/zero", "is a character device", "/dev/zero as token file"),
                         (empty, "file is empty", "an empty token file")):
    c = conf("t.conf", {"mailtrap": {"api_token_file": path}})
    rc, out = check(c)
    refused(rc, out, ["%s:%d: mailtrap.api_token_file: %s" % (c, line_of(c, "api_token_file"), path),
                      want], desc)

# ---- sendgate-trackd's TLS certificate and key -------------------------------------------
selfsigned = os.path.join(BUILD, "t", "tools", "selfsigned")
cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
cert2, key2 = os.path.join(d, "cert2.pem"), os.path.join(d, "key2.pem")
t.ok(subprocess.run([selfsigned, cert, key]).returncode == 0 and
     subprocess.run([selfsigned, cert2, key2]).returncode == 0, "two self-signed pairs")
tls = {"tls_cert_file": cert, "tls_key_file": key, "listen": "inet:127.0.0.1:8025"}
c = conf("tls.conf", {"trackd": tls, "tracking": {"key_files": k1}})
rc, out = check(c)
accepted(rc, out, c, "a certificate and its key: configuration OK")
os.chmod(key, 0o644)
rc, out = check(c)
refused(rc, out, ["%s:%d: trackd.tls_key_file: %s has mode 0644: others may read it" %
                  (c, line_of(c, "tls_key_file"), key)], "a TLS key others may read")
os.chmod(key, 0o600)
c = conf("tls.conf", {"trackd": dict(tls, tls_key_file=key2), "tracking": {"key_files": k1}})
rc, out = check(c)
refused(rc, out, ["%s:%d: trackd.tls_key_file: %s: GnuTLS cannot use it with the certificate" %
                  (c, line_of(c, "tls_key_file"), key2)],
        "a key that is not the certificate's: error at tls_key_file")
rc, err = trackd_refuses(c)
t.ok(rc == 78 and "GnuTLS cannot use it" in err,
     "sendgate-trackd refuses the mismatched pair too, with the same reason")
garbage = os.path.join(d, "garbage.pem")
with open(garbage, "w") as f:
    f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
cut = os.path.join(d, "cut.pem")
with open(cert) as f:
    lines = f.read().splitlines()
with open(cut, "w") as f:
    f.write("\n".join(lines[:2] + lines[-1:]) + "\n")
for path, want, desc in ((garbage, "not a certificate chain GnuTLS can use", "a broken certificate"),
                         (cut, "not a certificate chain GnuTLS can use", "a truncated certificate"),
                         (key, "not a certificate chain GnuTLS can use",
                          "the key named as the certificate"),
                         (d, "is a directory, not a regular file", "a directory as certificate")):
    c = conf("tls.conf", {"trackd": dict(tls, tls_cert_file=path), "tracking": {"key_files": k1}})
    rc, out = check(c)
    refused(rc, out, ["%s:%d: trackd.tls_cert_file: %s" % (c, line_of(c, "tls_cert_file"), path),
                      want], desc)
c = conf("tls.conf", {"trackd": dict(tls, tls_cert_file=garbage), "tracking": {"key_files": k1}})
rc, err = trackd_refuses(c)
t.ok(rc == 78 and "not a certificate chain GnuTLS can use" in err,
     "sendgate-trackd refuses the broken certificate too, with the same reason")

# ---- the static domains file ------------------------------------------------------------
dom = os.path.join(d, "domains.conf")
with open(dom, "w") as f:
    f.write("[outbound shop.example]\nstatus = compliant\n")
c = conf("static.conf", {"static": {"enabled": "yes", "file": dom}})
rc, out = check(c)
accepted(rc, out, c, "a good static domains file: configuration OK")
with open(dom, "a") as f:
    f.write("[outbound other.example]\nstatus = sideways\n")
rc, out = check(c)
refused(rc, out, ["%s:4: " % dom], "a static domains file with an error: its file:line")
sfifo = os.path.join(d, "domains.fifo")
os.mkfifo(sfifo)
for path, want in ((sfifo, "is a FIFO, not a regular file"),
                   ("/dev/zero", "is a character device, not a regular file")):
    c = conf("static.conf", {"static": {"enabled": "yes", "file": path}})
    rc, out = check(c)
    refused(rc, out, [path + " " + want], "static.file = %s: an error, no hang" % path)

# ---- what the daemons create: of the right kind where it exists -------------------------
plain = os.path.join(d, "plain-file")
open(plain, "w").close()
sub = os.path.join(d, "a-directory")
os.makedirs(sub)
for sec, key, value, want in (
        ("general", "cache_path", plain, "is a regular file, but the provider cache"),
        ("trackd", "stats_path", plain, "is a regular file, but the statistics store"),
        ("policyd", "pid_file", sub, "is a directory, but the pid file must be a regular file"),
        ("milter", "pid_file", sub, "is a directory, but the pid file must be a regular file"),
        ("trackd", "pid_file", sub, "is a directory, but the pid file must be a regular file"),
        ("milter", "temp_dir", plain, "is a regular file, but the directory for spilled bodies"),
        ("milter", "socket", "unix:" + plain, "is a regular file, but the listening socket"),
        ("policyd", "policy_socket", "unix:" + plain, "is a regular file, but the listening socket"),
        ("trackd", "events_file", sub, "is a directory; sendgate-trackd appends events"),
        ("refresh", "ca_file", sub, "is a directory, but the CA file must be a regular file")):
    c = conf("kind.conf", {sec: {key: value}})
    rc, out = check(c)
    refused(rc, out, ["%s:%d: %s.%s: " % (c, line_of(c, key), sec, key), want, "fix: "],
            "%s.%s = %s: an error with the fix" % (sec, key, value))
c = conf("kind.conf", {"policyd": {"pid_file": sub + "/policyd.pid"}})
rc, out = check(c)
accepted(rc, out, c, "a pid file not written yet is fine")
try:
    r = subprocess.run([bin_path("sendgate-policyd"), "-f", "-c",
                        conf("pd.conf", {"policyd": {"pid_file": sub,
                                                     "policy_socket": "unix:%s/p.sock" % d,
                                                     "socketmap_socket": ""}})],
                       capture_output=True, text=True, timeout=LIMIT)
    t.ok(r.returncode != 0 and "is a directory, but the pid file" in r.stderr,
         "sendgate-policyd refuses the same pid file, with the same words")
except subprocess.TimeoutExpired:
    t.ok(False, "sendgate-policyd refuses the same pid file, with the same words")
t.done()
