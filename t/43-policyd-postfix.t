#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# A real Postfix on loopback, configured with the shipped
# conf/postfix/main.cf.sendgate section, uses sendgate-policyd:
# check_policy_service rejects a blocked sender at RCPT TO with the
# provider's reason, relay_domains / transport_maps / virtual_alias_maps are
# socketmap tables, so mail to an inbound domain is relayed to the domain's
# SMTP server or rewritten to the forwarding rule's destination, and mail
# to an address without an active, verified rule is refused at RCPT TO.
import os
import pwd
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import IN_CI, TOP, T, bin_path, run, tmpdir, wait_for, write_conf

t = T()
missing = [p for p in ("postfix", "swaks", "smtp-sink", "postmap") if not shutil.which(p)]
if missing or os.geteuid() != 0:
    if IN_CI:
        t.bail("needs root and %s" % (", ".join(missing) or "root"))
    print("1..0 # SKIP needs root and postfix, swaks (run make check as root)")
    sys.exit(0)
from pfharness import Postfix, free_port  # noqa: E402

d = tmpdir()
sink2_port = free_port()
sink2_dir = os.path.join(d, "sink2")
os.makedirs(sink2_dir)
nobody = pwd.getpwnam("nobody")
os.chown(sink2_dir, nobody.pw_uid, nobody.pw_gid)
with open(os.path.join(d, "domains.conf"), "w") as f:
    f.write("""
[outbound shop.example]
status = compliant

[outbound unverified.example]
status = unverified_dns

[inbound shop.example]
status = active
delivery = forward
forward = support -> team@helpdesk.example
          sales -> alice@crm.example, bob@crm.example
          old -> gone@example.org inactive
          new -> pending@example.org unverified
forward_dns_verified = yes

[inbound mx.example]
status = active
delivery = smtp
smtp_servers = 127.0.0.1:%d:10, 127.0.0.1:9:20
""" % sink2_port)

psock = os.path.join(d, "policy.sock")
msock = os.path.join(d, "socketmap.sock")
conf = write_conf(os.path.join(d, "sendgate.conf"), {
    "general": {"cache_path": os.path.join(d, "cache"), "log_level": "debug"},
    "static": {"enabled": "yes", "file": os.path.join(d, "domains.conf")},
    "policyd": {"policy_socket": "unix:" + psock, "socketmap_socket": "unix:" + msock,
                "socket_group": "postfix", "socket_mode": "0660"}})
t.is_(run([bin_path("sendgatectl"), "-c", conf, "cache", "load"]).returncode, 0, "cache loaded")

logpath = os.path.join(d, "policyd.log")
logf = open(logpath, "w")
policyd = subprocess.Popen([bin_path("sendgate-policyd"), "-f", "-c", conf], stdout=logf,
                           stderr=subprocess.STDOUT)
sink2 = subprocess.Popen(["smtp-sink", "-u", "nobody", "-4", "-h", "sink2.harness.invalid", "-d",
                          os.path.join(sink2_dir, "%Y%m%d%H%M%S."), "127.0.0.1:%d" % sink2_port,
                          "64"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def shipped_snippet():
    """The policy and socketmap section of conf/postfix/main.cf.sendgate, as parameters."""
    params, key, inside = {}, None, False
    with open(os.path.join(TOP, "conf", "postfix", "main.cf.sendgate")) as f:
        for line in f:
            if line.startswith("# --- policy and socketmap ---"):
                inside = True
            elif line.startswith("# --- end of policy and socketmap"):
                break
            elif not inside or line.startswith("#") or not line.strip():
                continue
            elif line[0] in " \t" and key:
                params[key] += " " + line.strip()
            else:
                key, _, val = line.partition("=")
                key = key.strip()
                params[key] = val.strip()
    return {k: v.replace("unix:sendgate/policy.sock", "unix:" + psock)
            .replace("/var/spool/postfix/sendgate/socketmap.sock", msock) for k, v in params.items()}


snippet = shipped_snippet()
t.ok(all(k in snippet for k in ("smtpd_recipient_restrictions", "relay_domains", "transport_maps",
                                 "virtual_alias_maps")), "the shipped main.cf snippet parses")
smap = snippet["relay_domains"].rsplit(":", 1)[0] + ":"
extra = dict(snippet)
del extra["smtpd_recipient_restrictions"]
# mail from 127.0.0.1 counts as from the Internet here: relay control matters
extra["mynetworks"] = "127.0.0.2/32"


class DedupPostfix(Postfix):
    """The harness appends main_extra after its own main.cf, so every process
    would log "overriding earlier entry" warnings at start. Enough of them at
    once fill the postlog datagram queue (net.unix.max_dgram_qlen is 10) while
    postlogd itself sends such a warning to its own socket: Postfix hangs.
    Keep only the last setting of each parameter."""

    def write_config(self):
        super().write_config()
        path = os.path.join(self.run, "etc", "main.cf")
        with open(path) as f:
            lines = f.read().splitlines()
        last = {}
        for i, line in enumerate(lines):
            last[line.split("=", 1)[0].strip()] = i
        with open(path, "w") as f:
            f.write("".join(line + "\n" for i, line in enumerate(lines)
                            if last[line.split("=", 1)[0].strip()] == i))


pf = DedupPostfix(d, recipient_restrictions=snippet["smtpd_recipient_restrictions"],
                  main_extra=extra)


def policyd_log():
    with open(logpath, errors="replace") as f:
        return f.read()


try:
    t.ok(wait_for(lambda: "ready" in policyd_log() or policyd.poll() is not None, 20),
         "sendgate-policyd ready")
    pf.start()

    r = pf.swaks("--from", "news@unverified.example", "--to", "someone@mx.example")
    t.is_(r.returncode, 24, "a blocked sender fails at RCPT TO (swaks 24)")
    t.like(r.stdout, "550 5.7.1 <someone@mx.example>: Recipient address rejected: domain "
           "unverified.example is not allowed to send: DNS records not verified",
           "Postfix replies 550 5.7.1 with the provider's reason")

    r = pf.swaks("--from", "news@shop.example", "--to", "someone@mx.example",
                 "--header", "Subject: to the smtp domain")
    t.is_(r.returncode, 0, "an allowed sender to an smtp inbound domain is accepted")
    got = []
    wait_for(lambda: os.listdir(sink2_dir), 20)
    for name in os.listdir(sink2_dir):
        with open(os.path.join(sink2_dir, name), "rb") as f:
            got.append(f.read())
    t.ok(any(b"someone@mx.example" in m and b"to the smtp domain" in m for m in got),
         "transport_maps sent it to the domain's preferred SMTP server")

    r = pf.swaks("--from", "a@customer.example", "--to", "support+urgent@shop.example",
                 "--header", "Subject: forwarded")
    t.is_(r.returncode, 0, "mail to a forwarded address is accepted")
    r = pf.swaks("--from", "a@customer.example", "--to", "sales@shop.example",
                 "--header", "Subject: fan-out")
    t.is_(r.returncode, 0, "mail to a fan-out address is accepted")
    msgs = pf.wait_sink(2)
    rcpts = sorted(rc for m in msgs for rc in m.rcpts)
    t.is_(rcpts, ["alice@crm.example", "bob@crm.example", "team@helpdesk.example"],
          "virtual_alias_maps rewrote them to the rules' destinations")

    r = pf.swaks("--from", "a@customer.example", "--to", "old@shop.example")
    t.is_(r.returncode, 24, "an inactive rule's address is refused at RCPT TO")
    t.like(r.stdout, "550 5.1.1 <old@shop.example>: Recipient address rejected: no such "
           "recipient", "with 550 5.1.1")
    r = pf.swaks("--from", "a@customer.example", "--to", "new@shop.example")
    t.is_(r.returncode, 24, "an unverified destination's address is refused too")

    r = pf.swaks("--from", "a@customer.example", "--to", "b@elsewhere.example")
    t.is_(r.returncode, 24, "a domain the relay map does not know is not relayed")
    t.like(r.stdout, "Relay access denied", "Postfix: Relay access denied")

    for key, table, want in [("shop.example", "relay", "shop.example"),
                             ("mx.example", "transport", "smtp:[127.0.0.1]:%d" % sink2_port),
                             ("support@shop.example", "forward", "team@helpdesk.example")]:
        r = run(["postmap", "-c", os.path.join(pf.run, "etc"), "-q", key, smap + table])
        t.is_(r.stdout.strip(), want, "postmap -q %s %s (through proxymap)" % (key, table))
        r = run(["postmap", "-c", os.path.join(pf.run, "etc"), "-q", key,
                 "socketmap:unix:%s:%s" % (msock, table)])
        t.is_(r.stdout.strip(), want, "postmap -q %s socketmap:unix:...:%s" % (key, table))
    t.is_(pf.fatal_lines(), [], "no fatal errors in the Postfix log")
    t.ok(policyd.poll() is None, "sendgate-policyd still running")
finally:
    pf.stop()
    for proc in (policyd, sink2):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    logf.close()
t.done()
