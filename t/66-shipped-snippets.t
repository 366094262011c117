#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# What we ship works as shipped: every Postfix and nginx snippet of conf/,
# taken from the shipped files themselves, applied whole to real servers on
# loopback, with mail sent through them. (conf/sendmail/sendgate.mc has its
# own test, t/36-milter-sendmail.t; conf/sendgate.conf is checked by
# t/10-conf-docs.t; conf/domains.conf is loaded here.)
#
#  * conf/postfix/main.cf.sendgate is appended whole to a main.cf that does
#    not set its parameters, conf/postfix/master.cf.sendgate whole to a
#    master.cf: `postfix check`, `postconf -n` and `postconf -M` say
#    nothing, and Postfix logs no configuration warning while it runs;
#  * Postfix is started, and later reloaded, with the command of the
#    walkthrough (doc/operations.md step 4) that works whether it runs or not;
#  * the daemons run as the packaged units run them (user sendgate,
#    socket_group empty) with their sockets in the queue directory, and
#    postfix joins group sendgate as the snippet says (adduser): the policy
#    service refuses a blocked sender at RCPT TO, the milter rewrites a
#    message submitted over SMTP and one submitted with sendmail(1)
#    (non_smtpd_milters), the socketmap tables forward an inbound address;
#  * the master.cf port for internal systems: with policy_scope = outgoing,
#    its mail is outgoing for both daemons (policy_context=relay,
#    ORIGINATING) while the same client's mail on port 25 is not;
#  * with the policy service down, the snippet's default_action answers 451;
#  * conf/nginx/sendgate-trackd.conf passes `nginx -t` and, in front of
#    sendgate-trackd, redirects the delivered message's tracked link over
#    HTTPS (IPv4 and IPv6), sends plain HTTP to HTTPS and keeps /metrics
#    from the outside.
#
# Substituted for the throw-away servers, and nothing else:
#  * main.cf.sendgate: /var/spool/postfix/ (the socketmap paths) becomes the
#    instance's queue directory; the relative unix:sendgate/... paths need
#    no change (the sockets are in the instance's queue directory);
#  * master.cf.sendgate: the service name 2525 becomes 127.0.0.1:PORT;
#  * sendgate-trackd.conf: listen 80 / [::]:80 / 443 / [::]:443 become
#    127.0.0.1 and [::1] on free ports, the upstream 127.0.0.1:8025 trackd's
#    port, /etc/letsencrypt/live/t.example.com/ a directory with a
#    self-signed certificate for t.example.com.
import atexit
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import TOP, T, bin_path, free_port, run, tmpdir, wait_for  # noqa: E402

t = T()
NEED = ("postfix", "postconf", "sendmail", "swaks", "smtp-sink", "nginx", "openssl", "curl",
        "setpriv", "adduser", "gpasswd", "systemd-sysusers")
missing = [p for p in NEED if not shutil.which(p)]
if missing or os.geteuid() != 0:
    t.bail("needs root and %s (scripts/deps)" % (", ".join(missing) or "root"))
import pfharness  # noqa: E402
from pfharness import Postfix  # noqa: E402

MAIN_SNIPPET = os.path.join(TOP, "conf", "postfix", "main.cf.sendgate")
MASTER_SNIPPET = os.path.join(TOP, "conf", "postfix", "master.cf.sendgate")
NGINX_SNIPPET = os.path.join(TOP, "conf", "nginx", "sendgate-trackd.conf")
HOST = "t.example.com"  # the nginx snippet's server_name, used as the tracking host
LINK = "https://shop.example/offer?id=7"
HTML = '<html><body><p>See <a href="%s">the offer</a></p></body></html>' % LINK


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def params_of(text):
    """The parameter names a main.cf text sets."""
    return {m.group(1) for m in re.finditer(r"^([a-z_0-9]+)\s*=", text, re.M)}


# --- the documentation quotes the snippet, it does not keep a copy of its own ---------
doc, block, inside = read(os.path.join(TOP, "doc", "policyd.md")).splitlines(), [], False
for line in doc:
    if "the shipped `conf/postfix/main.cf.sendgate` section" in line:
        inside = True
    elif inside and (line.startswith("    ") or (not line.strip() and not block)):
        if line.strip():
            block.append(line[4:])
    elif inside:
        break
snippet_lines = read(MAIN_SNIPPET).splitlines()
t.ok(block and all(l in snippet_lines for l in block),
     "doc/policyd.md's main.cf lines are the snippet's, verbatim")

# --- the sample static domains file (installed as /etc/sendgate/domains.conf) loads ---
sample = os.path.join(tmpdir("sgsample-"), "sendgate.conf")
with open(sample, "w") as f:
    f.write("[general]\ncache_path = %s/cache\n[static]\nenabled = yes\nfile = %s\n"
            % (os.path.dirname(sample), os.path.join(TOP, "conf", "domains.conf")))
r = run([bin_path("sendgatectl"), "-c", sample, "cache", "load"])
v = run([bin_path("sendgatectl"), "-c", sample, "verdict", "news@example.com", "you@example.org"])
t.ok(r.returncode == 0 and v.returncode == 0 and "accept" in v.stdout,
     "conf/domains.conf, the sample, loads into a cache (sendgatectl cache load, verdict)")

# --- the machine as the package leaves it: user sendgate, postfix in its group ---------
run(["systemd-sysusers", os.path.join(TOP, "packaging", "sysusers", "sendgate.conf")])
pw = pwd.getpwnam("sendgate")
if "postfix" not in grp.getgrnam("sendgate").gr_mem:
    # the snippet's own words: "by hand: adduser postfix sendgate"; undone at exit
    run(["adduser", "--quiet", "postfix", "sendgate"])
    atexit.register(run, ["gpasswd", "-d", "postfix", "sendgate"])
t.ok("postfix" in grp.getgrnam("sendgate").gr_mem, "postfix is in group sendgate (adduser)")

d = tmpdir("sgshipped-")
state = os.path.join(d, "state")
os.mkdir(state, 0o750)
os.chown(state, pw.pw_uid, pw.pw_gid)
key = os.path.join(d, "token-1.key")
run([bin_path("sendgatectl"), "token", "genkey", key])
os.chown(key, 0, pw.pw_gid)
os.chmod(key, 0o640)
with open(os.path.join(d, "domains.conf"), "w") as f:
    f.write("[outbound shop.example]\nstatus = compliant\nclick_tracking = yes\n"
            "open_tracking = yes\nbcc = archive@shop.example\n\n"
            "[outbound blocked.example]\nstatus = suspended\nreason = suspended by the provider\n\n"
            "[inbound shop.example]\nstatus = active\ndelivery = forward\n"
            "forward = support -> team@helpdesk.example\nforward_dns_verified = yes\n")


class ShippedPostfix(Postfix):
    """The harness's loopback Postfix, minus the parameters the snippets set,
    plus the shipped snippets appended whole."""

    def __init__(self, workdir, **kw):
        super().__init__(workdir, **kw)
        self.relay_port = free_port()
        self.sockdir = os.path.join(self.run, "spool", "sendgate")

    def write_config(self):
        main_snippet = read(MAIN_SNIPPET).replace("/var/spool/postfix/",
                                                  os.path.join(self.run, "spool") + "/")
        master_snippet = re.sub(r"^2525(\s)", r"127.0.0.1:%d\1" % self.relay_port,
                                read(MASTER_SNIPPET), count=1, flags=re.M)
        ours = params_of(main_snippet)
        base = pfharness.MAIN_CF
        pfharness.MAIN_CF = "".join(l + "\n" for l in base.splitlines()
                                    if l.split("=", 1)[0].strip() not in ours)
        try:
            super().write_config()
        finally:
            pfharness.MAIN_CF = base
        with open(os.path.join(self.run, "etc", "main.cf"), "a") as f:
            f.write("\n" + main_snippet)
        with open(os.path.join(self.run, "etc", "master.cf"), "a") as f:
            f.write(master_snippet)
        # the directory tmpfiles.d makes in the queue directory: sendgate:sendgate 0750
        os.mkdir(self.sockdir, 0o750)
        os.chown(self.sockdir, pw.pw_uid, pw.pw_gid)

    def start(self, timeout=15):
        """Started (configuration written before) with the walkthrough's command; True
        when it and smtp-sink listen."""
        self.start_sink()
        r = self.walkthrough()
        self.started = True
        if r.returncode != 0:
            t.diag("postfix start: %s%s\n%s" % (r.stdout, r.stderr, self.maillog()))
            return False
        return wait_for(lambda: pfharness.port_open(self.smtpd_port) and
                        pfharness.port_open(self.relay_port) and
                        pfharness.port_open(self.sink_port), timeout)

    def walkthrough(self):
        """doc/operations.md step 4 without systemd, for this instance (postfix -c DIR)."""
        pf = "postfix -c %s" % os.path.join(self.run, "etc")
        return run(["sh", "-c", "%s check && { %s status && %s reload || %s start; }"
                    % (pf, pf, pf, pf)])

    def postconf(self, *args):
        return run(["postconf", "-c", os.path.join(self.run, "etc")] + list(args))

    def swaks_relay(self, *args):
        argv = ["swaks", "--server", "127.0.0.1:%d" % self.relay_port, "--helo",
                "app.harness.invalid", "--timeout", "30"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)


pf = ShippedPostfix(d)
sockdir = pf.sockdir
trackd_port, http_port, https_port = free_port(), free_port(), free_port()
conf = os.path.join(d, "sendgate.conf")


def write_sendgate_conf(outgoing_only):
    """The defaults' socket paths moved into the instance's queue directory; phase two
    (outgoing_only) makes only outgoing mail subject to the checks."""
    with open(conf, "w") as f:
        f.write("[general]\nstate_dir = %s\nprovider_order = static\n\n"
                "[static]\nenabled = yes\nfile = %s\n\n[refresh]\ninterval = 1h\n\n"
                "[milter]\nsocket = unix:%s/milter.sock\n%s\n"
                "[policyd]\npolicy_socket = unix:%s/policy.sock\n"
                "socketmap_socket = unix:%s/socketmap.sock\n%s\n"
                "[tracking]\ndefault_host = %s\nkey_files = %s\n\n"
                "[trackd]\nlisten = inet:127.0.0.1:%d\nevents_file = %s\n"
                % (state, os.path.join(d, "domains.conf"), sockdir,
                   "internal_networks = 192.0.2.0/24\n" if outgoing_only else "",
                   sockdir, sockdir,
                   "policy_scope = outgoing\noutgoing_contexts = relay\n" if outgoing_only else "",
                   HOST, key, trackd_port, os.path.join(state, "events.log")))


class Daemon:
    """A sendgate daemon as its packaged unit runs it: user and group sendgate."""

    def __init__(self, name):
        self.name = name
        self.log_path = os.path.join(d, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["setpriv", "--reuid=sendgate", "--regid=sendgate",
                                      "--init-groups", "--", bin_path(name), "-f", "-c", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def text(self):
        return read(self.log_path)

    def hup(self, done):
        n = self.text().count(done)
        self.proc.send_signal(signal.SIGHUP)
        return wait_for(lambda: self.text().count(done) > n, 15)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def tracked(msg):
    m = re.search(r'href="https://%s(/c/[A-Za-z0-9_-]+)"' % re.escape(HOST),
                  msg.data.decode(errors="replace"))
    return m.group(1) if m else None


def sink_with(subject, n=1):
    """The sink's messages with this subject, once there are n (one per recipient when
    Postfix delivers the BCC copy with its own NOTIFY=NEVER in a transaction of its own)."""
    def got():
        return [m for m in pf.sink_messages() if ("Subject: %s\n" % subject).encode() in
                m.data.replace(b"\r\n", b"\n")]
    wait_for(lambda: len(got()) >= n, 20)
    time.sleep(0.1)
    return got()


write_sendgate_conf(False)
daemons = {}
nginx_conf = os.path.join(d, "nginx", "nginx.conf")
try:
    pf.write_config()  # the snippets in place, before anything runs
    etc = os.path.join(pf.run, "etc")
    r = run(["postfix", "-c", etc, "check"])
    t.is_((r.returncode, r.stdout + r.stderr), (0, ""), "postfix check: the snippets pass, silently")
    r = pf.postconf("-n")
    t.is_(r.stderr, "", "postconf -n: no warning (no overriding entry, no unused parameter)")
    t.like(r.stdout, "smtpd_milters = unix:sendgate/milter.sock\n",
           "smtpd_milters is the snippet's one line, the milter socket alone")
    r = pf.postconf("-M")
    t.ok(r.stderr == "" and re.search(r"^127\.0\.0\.1:%d +inet .* smtpd .*policy_context=relay"
                                      % pf.relay_port, r.stdout, re.M),
         "postconf -M: the master.cf service parses, no warning")

    daemons["sendgate-policyd"] = Daemon("sendgate-policyd")
    t.ok(wait_for(lambda: run([bin_path("sendgatectl"), "-c", conf, "cache", "get",
                               "shop.example"]).returncode == 0, 20),
         "the policy daemon's refresher filled the cache (state_dir)")
    for name in ("sendgate-milter", "sendgate-trackd"):
        daemons[name] = Daemon(name)
    t.ok(wait_for(lambda: all(os.path.exists(os.path.join(sockdir, s)) for s in
                              ("policy.sock", "socketmap.sock", "milter.sock")), 20),
         "the daemons, as user sendgate, create their sockets in the queue directory")
    socks = [os.stat(os.path.join(sockdir, s)) for s in ("policy.sock", "milter.sock")]
    t.ok(all(s.st_gid == pw.pw_gid and (s.st_mode & 0o777) == 0o660 for s in socks),
         "sockets sendgate:sendgate 0660 (socket_group empty)")
    r = run([bin_path("sendgatectl"), "-c", conf, "check-config"], env={"MAIL_CONFIG": etc})
    t.is_([l for l in r.stdout.splitlines() if "socket" in l and "warning" in l], [],
          "check-config: the postfix user can reach every socket")

    if not t.ok(pf.start(), "Postfix starts with the walkthrough's command (it was not running)"):
        t.bail("Postfix did not start:\n" + pf.maillog()[-3000:])

    # --- port 25: the policy service, the milter, sendmail(1), the socketmap tables -----
    r = pf.swaks("--from", "news@blocked.example", "--to", "you@customer.example")
    t.is_(r.returncode, 24, "policy service in use: a blocked sender fails at RCPT TO")
    t.like(r.stdout, "550 5.7.1 <you@customer.example>: Recipient address rejected: domain "
           "blocked.example is not allowed to send", "with 550 5.7.1 and the provider's reason")

    r = pf.swaks("--from", "news@shop.example", "--to", "you@customer.example",
                 "--header", "From: News <news@shop.example>", "--header", "Subject: smtp",
                 "--add-header", "MIME-Version: 1.0", "--add-header",
                 "Content-Type: text/html; charset=utf-8", "--body", HTML)
    t.is_(r.returncode, 0, "an allowed sender's message is accepted")
    msgs = sink_with("smtp", 2)
    path = tracked(msgs[0]) if msgs else None
    t.ok(path, "milter in use: the delivered message's link points at https://%s/c/..." % HOST)
    t.is_(sorted(r for m in msgs for r in m.rcpts), ["archive@shop.example", "you@customer.example"],
          "and the verified BCC was added")

    msg = ("From: News <news@shop.example>\nTo: you@customer.example\nSubject: pickup\n"
           "MIME-Version: 1.0\nContent-Type: text/html\n\n%s\n" % HTML)
    r = run(["sendmail", "-C", etc, "-f", "news@shop.example", "you@customer.example"], input=msg)
    t.is_(r.returncode, 0, "sendmail(1) takes a local submission")
    got = sink_with("pickup", 2)
    t.ok(got and tracked(got[0]), "non_smtpd_milters: the submitted message is rewritten too")

    r = pf.swaks("--from", "a@customer.example", "--to", "support@shop.example",
                 "--header", "Subject: forwarded")
    fwd = sink_with("forwarded") if r.returncode == 0 else []
    t.ok(fwd and fwd[0].rcpts == ["team@helpdesk.example"],
         "socketmap tables in use: the inbound address is forwarded to its rule's destination")

    # --- nginx in front of trackd, with the shipped file ---------------------------------
    tls = os.path.join(d, "nginx", "tls")
    os.makedirs(tls)
    os.makedirs(os.path.join(d, "nginx", "tmp"))
    r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "1", "-subj", "/CN=" + HOST, "-addext", "subjectAltName=DNS:" + HOST,
             "-keyout", os.path.join(tls, "privkey.pem"), "-out", os.path.join(tls, "fullchain.pem")])
    t.is_(r.returncode, 0, "a self-signed certificate for %s" % HOST)
    site = read(NGINX_SNIPPET)
    subs = [(r"^(\s*listen )80;", r"\g<1>127.0.0.1:%d;" % http_port),
            (r"^(\s*listen )\[::\]:80;", r"\g<1>[::1]:%d;" % http_port),
            (r"^(\s*listen )443 ", r"\g<1>127.0.0.1:%d " % https_port),
            (r"^(\s*listen )\[::\]:443 ", r"\g<1>[::1]:%d " % https_port),
            (r"^(\s*server )127\.0\.0\.1:8025;", r"\g<1>127.0.0.1:%d;" % trackd_port),
            (r"/etc/letsencrypt/live/t\.example\.com/", tls + "/")]
    for pat, rep in subs:
        site, n = re.subn(pat, rep, site, flags=re.M)
        t.ok(n >= 1, "nginx snippet: substituted %s" % pat)
    with open(os.path.join(d, "nginx", "sendgate-trackd.conf"), "w") as f:
        f.write(site)
    nd = os.path.join(d, "nginx")
    with open(nginx_conf, "w") as f:
        f.write("pid %s/nginx.pid;\nerror_log %s/error.log;\nworker_processes 1;\n"
                "events { worker_connections 64; }\nhttp {\n"
                "    client_body_temp_path %s/tmp/body;\n    proxy_temp_path %s/tmp/proxy;\n"
                "    fastcgi_temp_path %s/tmp/fcgi;\n    uwsgi_temp_path %s/tmp/uwsgi;\n"
                "    scgi_temp_path %s/tmp/scgi;\n    include %s/sendgate-trackd.conf;\n}\n"
                % ((nd,) * 8))
    nginx = ["nginx", "-p", nd, "-c", nginx_conf, "-e", os.path.join(nd, "error.log")]
    r = run(nginx + ["-t"])
    t.ok(r.returncode == 0 and "test is successful" in r.stderr and "[warn]" not in r.stderr,
         "nginx -t: the shipped file is valid, without warnings")
    if r.returncode:
        t.diag(r.stderr)
    r = run(nginx)
    t.ok(r.returncode == 0 and wait_for(lambda: pfharness.port_open(https_port), 10),
         "nginx runs the shipped file on loopback")

    def curl(url, *opts):
        r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                 "--max-time", "10", "--cacert", os.path.join(tls, "fullchain.pem"),
                 "--resolve", "%s:%d:127.0.0.1" % (HOST, https_port),
                 "--resolve", "%s:%d:127.0.0.1" % (HOST, http_port)] + list(opts) + [url])
        return r.stdout

    t.is_(curl("https://%s:%d%s" % (HOST, https_port, path or "/c/x")), "302 " + LINK,
          "the delivered link, clicked over HTTPS through nginx: trackd redirects to the offer")
    r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--max-time",
             "10", "--cacert", os.path.join(tls, "fullchain.pem"), "-g", "--resolve",
             "%s:%d:[::1]" % (HOST, https_port), "https://%s:%d%s" % (HOST, https_port, path)])
    t.is_(r.stdout, "302 " + LINK, "and over IPv6 ([::]:443 line)")
    t.is_(curl("http://%s:%d%s" % (HOST, http_port, path)),
          "301 https://%s%s" % (HOST, path), "plain HTTP is sent to HTTPS, path kept")
    t.is_(curl("https://%s:%d/metrics" % (HOST, https_port)).split()[0], "404",
          "/metrics is not served to the outside")
    t.ok(wait_for(lambda: '"kind":"click"' in read(os.path.join(state, "events.log"))
                  if os.path.exists(os.path.join(state, "events.log")) else False, 10),
         "trackd recorded the click")

    # --- the master.cf port for internal systems, with policy_scope = outgoing ---------------
    write_sendgate_conf(True)
    t.ok(daemons["sendgate-policyd"].hup("reloaded ") and
         daemons["sendgate-milter"].hup("configuration reloaded"),
         "sendgate reloaded: policy_scope = outgoing, outgoing_contexts = relay, "
         "milter internal_networks without 127.0.0.1")
    reloads = pf.maillog().count("reload -- version")
    r = pf.walkthrough()
    t.ok(r.returncode == 0 and wait_for(lambda: pf.maillog().count("reload -- version") > reloads,
                                        10), "the walkthrough's command reloads Postfix while it runs")
    r = pf.swaks_relay("--from", "news@blocked.example", "--to", "you@customer.example")
    t.is_(r.returncode, 24, "relay port: a blocked sender fails at RCPT TO (policy_context=relay)")
    r = pf.swaks("--from", "news@blocked.example", "--to", "you@customer.example",
                 "--header", "Subject: port 25 stranger")
    t.is_(r.returncode, 0, "port 25: the same client's mail is not outgoing, not checked")
    r = pf.swaks_relay("--from", "news@shop.example", "--to", "you@customer.example",
                       "--header", "From: News <news@shop.example>", "--header", "Subject: relay",
                       "--add-header", "MIME-Version: 1.0", "--add-header",
                       "Content-Type: text/html", "--body", HTML)
    got = sink_with("relay") if r.returncode == 0 else []
    t.ok(got and tracked(got[0]), "relay port: the milter rewrites it (ORIGINATING)")
    r = pf.swaks("--from", "news@shop.example", "--to", "you@customer.example",
                 "--header", "From: News <news@shop.example>", "--header", "Subject: port25",
                 "--add-header", "MIME-Version: 1.0", "--add-header", "Content-Type: text/html",
                 "--body", HTML)
    got = sink_with("port25") if r.returncode == 0 else []
    t.ok(got and not tracked(got[0]), "port 25: the milter leaves it alone")

    # --- the policy service down: the snippet's default_action ---------------------------------
    t.is_(daemons["sendgate-policyd"].stop(), 0, "sendgate-policyd stops with status 0")
    r = pf.swaks("--from", "news@shop.example", "--to", "you@customer.example")
    t.like(r.stdout, "451 4.3.5 <you@customer.example>: Recipient address rejected: sender policy "
           "check unavailable, try again later", "policy service down: 451 4.3.5 (default_action)")

    bad = [l for l in pf.maillog().splitlines()
           if re.search(r"fatal:|panic:|bad command startup|overriding earlier entry|unused "
                        r"parameter|main\.cf|master\.cf", l)]
    t.is_(bad, [], "Postfix logged no configuration problem while it ran")
finally:
    if os.path.exists(os.path.join(d, "nginx", "nginx.pid")):
        run(["nginx", "-p", os.path.join(d, "nginx"), "-c", nginx_conf, "-e",
             os.path.join(d, "nginx", "error.log"), "-s", "stop"])
    pf.stop()
    for dm in daemons.values():
        dm.stop()
for name, dm in daemons.items():
    text = dm.text()
    if "Sanitizer" in text or "runtime error" in text:
        t.ok(False, "%s: sanitizer report" % name)
        t.diag(text[-3000:])
t.done()
