#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# sendgate-policyd behaves like a well-kept mail daemon: SIGHUP reloads and
# keeps the running configuration when the new one is bad, systemd hears
# READY/RELOADING/STOPPING without libsystemd, it detaches with a pid file
# and reports a failed start through its exit status, replaces a stale
# socket but never a live one, sets the socket mode and group, drops
# privileges after opening sockets and cache, and stops cleanly on SIGTERM.
import grp
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sgtest import T, bin_path, run, tmpdir, wait_for, write_conf

DOMAINS = """
[outbound unverified.example]
status = unverified_dns

[outbound shop.example]
status = compliant

[inbound shop.example]
status = active
delivery = smtp
smtp_servers = mx.shop.example:25
"""
BLOCKED = ("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@unverified.example\n"
           "recipient=b@c.example\n\n").encode()

t = T()
d = tmpdir()
with open(os.path.join(d, "domains.conf"), "w") as f:
    f.write(DOMAINS)


def conf(path, sock, extra=None, handling=None, general=None):
    g = {"cache_path": os.path.join(d, "cache")}
    g.update(general or {})
    p = {"policy_socket": "unix:" + sock, "socketmap_socket": ""}
    p.update(extra or {})
    secs = {"general": g, "static": {"enabled": "yes", "file": os.path.join(d, "domains.conf")},
            "policyd": p}
    if handling:
        secs["handling"] = handling
    return write_conf(path, secs)


def ask(sock, data=BLOCKED):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.connect(sock)
        s.sendall(data)
        out = b""
        while not out.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        return " ".join(out.decode().strip().split(" ")[:2])
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()


def start(cfg, env=None, args=("-f",)):
    logpath = cfg + ".log"
    logf = open(logpath, "w")
    e = dict(os.environ)
    e.update(env or {})
    proc = subprocess.Popen([bin_path("sendgate-policyd")] + list(args) + ["-c", cfg],
                            stdout=logf, stderr=subprocess.STDOUT, env=e)
    proc.logpath = logpath
    proc.logf = logf
    return proc


def log(proc):
    with open(proc.logpath, errors="replace") as f:
        return f.read()


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.logf.close()
    return proc.returncode


sock = os.path.join(d, "policy.sock")
cfg = conf(os.path.join(d, "a.conf"), sock)
t.is_(run([bin_path("sendgatectl"), "-c", cfg, "cache", "load"]).returncode, 0, "cache loaded")

# ---- systemd notification, reload, rollback, stop --------------------------
nsock_path = os.path.join(d, "notify.sock")
nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
nsock.bind(nsock_path)
nsock.settimeout(20)


def notes(n):
    got = []
    for _ in range(n):
        try:
            got.append(nsock.recv(4096).decode())
        except socket.timeout:
            break
    return got


p = start(cfg, env={"NOTIFY_SOCKET": nsock_path})
try:
    t.is_(notes(1), ["READY=1"], "READY=1 sent to $NOTIFY_SOCKET once serving")
    t.is_(ask(sock), "action=550 5.7.1", "blocked sender rejected (handling.blocked = reject)")

    conf(cfg, sock, handling={"blocked": "tempfail"})
    p.send_signal(signal.SIGHUP)
    n = notes(2)
    t.ok(len(n) == 2 and n[0].startswith("RELOADING=1\nMONOTONIC_USEC=") and n[1] == "READY=1",
         "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1")
    t.is_(ask(sock), "action=451 4.7.1", "the reloaded configuration applies (blocked = tempfail)")

    with open(cfg, "w") as f:
        f.write("[handling]\nblocked = reject\nthis line is broken\n[nosuchsection]\nx = 1\n")
    p.send_signal(signal.SIGHUP)
    notes(2)
    t.is_(ask(sock), "action=451 4.7.1", "SIGHUP with a bad file: the old configuration stays")
    t.like(log(p), "has errors; keeping the running configuration", "and the daemon says why")
    t.ok(p.poll() is None, "still running")

    sock2 = os.path.join(d, "policy2.sock")
    conf(cfg, sock2, handling={"blocked": "tempfail"})
    p.send_signal(signal.SIGHUP)
    notes(2)
    t.is_(ask(sock2), "action=451 4.7.1", "SIGHUP with a new policy_socket: served there")
    t.ok(not os.path.exists(sock), "and the old socket is gone")

    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    conf(cfg, sock2, extra={"socketmap_socket": "inet:127.0.0.1:%d" % busy.getsockname()[1]},
         handling={"blocked": "reject"})
    p.send_signal(signal.SIGHUP)
    notes(2)
    t.is_(ask(sock2), "action=451 4.7.1",
          "SIGHUP with a socket that cannot be opened: everything rolled back")
    t.like(log(p), "keeping the running configuration", "logged")
    busy.close()

    # one write: an answered request and the start of the next, so the daemon
    # holds half a request once the first answer is back
    partial = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    partial.connect(sock2)
    partial.settimeout(20)
    partial.sendall(BLOCKED + BLOCKED[:30])
    first = b""
    while not first.endswith(b"\n\n"):
        first += partial.recv(4096)
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle.connect(sock2)
    idle.settimeout(20)
    idle.sendall(BLOCKED)
    while not idle.recv(4096).endswith(b"\n\n"):
        pass
    p.send_signal(signal.SIGTERM)
    t.is_(notes(1), ["STOPPING=1"], "SIGTERM: STOPPING=1")
    t.is_(idle.recv(10), b"", "an idle connection is closed at once")
    partial.sendall(BLOCKED[30:])
    partial.settimeout(20)
    t.ok(partial.recv(4096).startswith(b"action=451"),
         "a request in progress at SIGTERM is still answered")
    t.is_(p.wait(20), 0, "then the daemon exits 0")
    t.ok(not os.path.exists(sock2), "and removes its socket")
finally:
    stop(p)

# ---- detach, pid file, failed start -------------------------------------------
pidfile = os.path.join(d, "policyd.pid")
cfg = conf(os.path.join(d, "b.conf"), sock, {"pid_file": pidfile})
r = run([bin_path("sendgate-policyd"), "-c", cfg], timeout=30)
t.is_(r.returncode, 0, "without -f the daemon detaches; the command returns 0 once serving")
pid = int(open(pidfile).read()) if os.path.exists(pidfile) else 0
t.ok(pid > 0 and os.path.exists("/proc/%d" % pid), "the pid file names the running daemon")
t.is_(ask(sock), "action=550 5.7.1", "the detached daemon answers")
t.ok(all(os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "/dev/null" for fd in ("0", "1", "2")),
     "fds 0-2 of the detached daemon are /dev/null")
r = run([bin_path("sendgate-policyd"), "-c", cfg], timeout=30)
t.ok(r.returncode != 0, "a second instance on the same socket fails to start (exit %d)"
     % r.returncode)
t.ok(os.path.exists("/proc/%d" % pid) and ask(sock) == "action=550 5.7.1",
     "and the running one is untouched")
os.kill(pid, signal.SIGTERM)
t.ok(wait_for(lambda: not os.path.exists(pidfile), 20), "SIGTERM removes the pid file")
wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
         open("/proc/%d/stat" % pid).read().split(")")[1].split()[0] == "Z", 20)

# a socket left behind by a crash is replaced; a file that is no socket is not
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock)
s.close()
cfg = conf(os.path.join(d, "c.conf"), sock, {"socket_mode": "0666", "socket_group": "nogroup"})
p = start(cfg)
try:
    t.ok(wait_for(lambda: "ready" in log(p), 20), "a stale socket is replaced at start")
    st = os.stat(sock)
    t.is_(oct(stat.S_IMODE(st.st_mode)), "0o666", "socket_mode applies")
    t.is_(grp.getgrgid(st.st_gid).gr_name, "nogroup", "socket_group applies")
finally:
    stop(p)
with open(sock, "w") as f:
    f.write("not a socket")
r = run([bin_path("sendgate-policyd"), "-f", "-c", cfg], timeout=30)
t.ok(r.returncode != 0 and "not a stale socket" in r.stderr,
     "a file that is not a socket is never removed (exit %d)" % r.returncode)
os.unlink(sock)

# ---- privilege drop --------------------------------------------------------
if os.geteuid() == 0:
    cfg = conf(os.path.join(d, "e.conf"), sock, {"socket_mode": "0666"},
               general={"user": "nobody", "cache_path": os.path.join(d, "cache-nobody")})
    run([bin_path("sendgatectl"), "-c", cfg, "cache", "load"])
    p = start(cfg)
    try:
        t.ok(wait_for(lambda: "ready" in log(p), 20), "starts as root with general.user = nobody")
        status = open("/proc/%d/status" % p.pid).read()
        uid = [l.split()[1:] for l in status.splitlines() if l.startswith("Uid:")][0]
        t.is_(set(uid), {str(pwd.getpwnam("nobody").pw_uid)}, "runs as nobody (real, effective, saved)")
        t.is_(ask(sock), "action=550 5.7.1", "and still answers from the cache it opened as root")
        t.is_(pwd.getpwuid(os.stat(os.path.join(d, "cache-nobody", "data.mdb")).st_uid).pw_name,
              "nobody", "the cache belongs to the user the refresher writes as")
    finally:
        stop(p)
t.done()
