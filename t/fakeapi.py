#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""fakeapi - a fake JetEmail + Mailtrap account API for sendgate's tests.

Serves both providers' documented endpoints (PROVIDERS.md, the seed pages)
on one loopback port from a scenario file (JSON, t/fixtures/api/), with
switches for every documented failure and response variant, and records
every request so tests can assert exactly what was sent.

Run:   /usr/bin/python3 t/fakeapi.py [--scenario FILE] [--port N] [--tls CERT KEY]
       prints the port on the first line of standard output when listening.
Use from a test:
       from fakeapi import FakeAPI
       api = FakeAPI("basic.json")      # starts it on a free port
       api.url                          # http://127.0.0.1:PORT
       api.requests()                   # what was received (list of dicts)
       api.switch(jet_rows="results")   # response variants
       api.fail("GET", "^/outbound/domains$", status=429, retry_after="120")
       api.stop()

Control endpoints (no authentication, never recorded):
  GET    /_requests   every recorded request: method, path, query, headers
                      (names lowercased), body (text), json (parsed or null)
  DELETE /_requests   forget them
  POST   /_scenario   {"switches": {...}} merged into the switches;
                      {"fail": [rule, ...]} appended; {"reset": true} clears
                      switches and rules; {"load": "file.json"} reloads data
  GET    /_state      the current data (after the writes received)

Switches (response variants the documentation allows):
  jet_rows        result | results | data | bare   envelope of JetEmail lists
  jet_status      number | string  (inbound list status; default number)
  jet_out_status  string | number  (outbound list status; default as in the file)
  jet_settings    settings | result | data | top  (outbound settings envelope)
  jet_case        camel | snake   (outbound settings field names)
  jet_inbound     result | results  (GET /inbound/settings/{uuid} shape)
  mt_path         both | domains | account   (account: /api/domains* 404)
  mt_auth         any | bearer | api-token  (which header Mailtrap accepts)

Failure rules (first match wins; "times" limits how often a rule fires):
  {"method": "GET", "path": "<regex>", "status": 500, "body": ..., "headers": {},
   "retry_after": "120", "mode": "truncate|truncjson|malformed|oversize|close|slow",
   "delay": 2.0, "size": 3000000, "times": 1}
  Without "body", a status gets the provider's documented error body
  (JetEmail {"success": false, "error": ...}; Mailtrap {"error": ...},
  {"errors": "..."} for 403 and 429, {"errors": {field: [...]}} for 422).
"""
import copy
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "api")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DOMAIN_RE = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$")
EMAIL_RE = re.compile(r"^[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,}$")
MT_STATUSES = ["demo", "demo_exhausted", "unverified_dns", "missing_company_info", "under_review",
               "awaiting_questionnaire", "awaiting_card_verification", "non_compliant",
               "compliant", "suspended"]
COMPANY_FIELDS = ["name", "address", "city", "country", "zip_code", "website_url", "phone",
                  "privacy_policy_url", "terms_of_service_url", "info_level"]
COMPANY_REQUIRED = COMPANY_FIELDS[:6]
WEBHOOK_FIELDS = ["webhook_url", "webhook_method", "webhook_headers", "webhook_timeout",
                  "webhook_retry_count", "webhook_auth_header"]


class HTTPError(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def jet_error(status, msg):
    if status == 404 and msg is None:
        return HTTPError(404, {"error": "domain not found"})
    return HTTPError(status, {"success": False, "error": msg or "error"})


def mt_error(status, errors=None):
    bodies = {400: {"error": "Bad Request"}, 401: {"error": "Incorrect API token"},
              403: {"errors": "Account access forbidden"}, 404: {"error": "Not Found"},
              429: {"errors": "Rate limit exceeded"}, 500: {"error": "Internal Server Error"}}
    if status == 422:
        return HTTPError(422, {"errors": errors or {"base": ["Validation failed"]}})
    return HTTPError(status, bodies.get(status, {"error": "error"}))


def default_error_body(provider, status):
    if provider == "mailtrap":
        return mt_error(status).body
    texts = {400: "Bad Request", 401: "User information not found", 403: "Forbidden",
             404: None, 429: "Too many requests, please retry later",
             500: "Internal server error"}
    return jet_error(status, texts.get(status, "error")).body


class State:
    """The data the fake serves, the switches and the request log."""

    def __init__(self, scenario):
        self.lock = threading.Lock()
        self.log = []
        self.switches = {}
        self.rules = []
        self.load(scenario)

    def load(self, scenario):
        path = scenario if os.path.isabs(scenario or "") else os.path.join(FIXTURES, scenario or "")
        data = {}
        if scenario:
            with open(path) as f:
                data = json.load(f)
        data.setdefault("tokens", {"jetemail": "api_test", "mailtrap": "mt_test"})
        data.setdefault("jetemail", {}).setdefault("outbound", [])
        data["jetemail"].setdefault("inbound", [])
        mt = data.setdefault("mailtrap", {})
        mt.setdefault("accounts", [{"id": 26730, "name": "James", "access_levels": [1000]}])
        mt.setdefault("domains", [])
        mt.setdefault("company_info", {})
        self.data = data

    def sw(self, name, default=None):
        return self.switches.get(name, default)


def new_uuid():
    h = secrets.token_hex(16)
    return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) % 4], h[17:20],
                                 h[20:32])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # ---- plumbing -------------------------------------------------------
    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace") if n else ""

    def send(self, status, body, headers=None, raw=None):
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        if data or status not in (204, 304):
            self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    def handle_any(self, method):
        st = self.server.state
        path, _, query = self.path.partition("?")
        text = self.read_body()
        if path.startswith("/_"):
            return self.control(method, path, text)
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        with st.lock:
            st.log.append({"method": method, "path": path, "query": query,
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": text, "json": parsed, "t": time.time()})
            rule = self.match_rule(method, path)
        provider = "mailtrap" if path.startswith("/api/") else "jetemail"
        if rule and self.apply_rule(rule, provider, method, path, parsed, text):
            return
        try:
            with st.lock:
                self.check_auth(provider)
                status, body = self.route(provider, method, path, parsed, text)
            self.send(status, body)
        except HTTPError as e:
            self.send(e.status, e.body, e.headers)

    def control(self, method, path, text):
        st = self.server.state
        with st.lock:
            if path == "/_requests" and method == "GET":
                return self.send(200, st.log)
            if path == "/_requests" and method == "DELETE":
                st.log = []
                return self.send(200, {"ok": True})
            if path == "/_state" and method == "GET":
                return self.send(200, st.data)
            if path == "/_scenario" and method == "POST":
                req = json.loads(text or "{}")
                if req.get("reset"):
                    st.switches, st.rules = {}, []
                if req.get("load"):
                    st.load(req["load"])
                st.switches.update(req.get("switches", {}))
                st.rules.extend(req.get("fail", []))
                return self.send(200, {"switches": st.switches, "rules": st.rules})
        self.send(404, {"error": "no such control endpoint"})

    # ---- failure rules --------------------------------------------------
    def match_rule(self, method, path):
        st = self.server.state
        for r in st.rules:
            if r.get("method", method) != method or not re.search(r.get("path", ""), path):
                continue
            if r.get("times") is not None:
                if r["times"] <= 0:
                    continue
                r["times"] -= 1
            return dict(r)
        return None

    def apply_rule(self, r, provider, method, path, parsed, text):
        """True when the rule produced the whole answer."""
        mode = r.get("mode")
        if r.get("delay") or mode == "slow":
            time.sleep(float(r.get("delay", 3)))
        headers = dict(r.get("headers", {}))
        if r.get("retry_after") is not None:
            headers["Retry-After"] = r["retry_after"]
        if mode == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if mode in ("truncate", "truncjson"):
            with self.server.state.lock:
                try:
                    _, body = self.route(provider, method, path, parsed, text)
                except HTTPError as e:
                    body = e.body
            data = json.dumps(body).encode()
            cut = max(1, len(data) // 2)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if mode == "truncate":  # the connection ends before Content-Length bytes
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:  # a complete HTTP answer whose JSON stops half way
                self.send_header("Content-Length", str(cut))
                self.end_headers()
                self.wfile.write(data[:cut])
            return True
        if mode == "malformed":
            self.send(r.get("status", 200), None, headers, raw=b'{"success": true, "result": [oops}')
            return True
        if mode == "oversize":
            pad = "x" * int(r.get("size", 3 * 1024 * 1024))
            self.send(200, {"success": True, "result": [], "data": [], "pad": pad}, headers)
            return True
        if r.get("status"):
            body = r["body"] if "body" in r else default_error_body(provider, r["status"])
            if isinstance(body, str):
                self.send(r["status"], None, headers, raw=body.encode())
            else:
                self.send(r["status"], body, headers)
            return True
        return False  # a delay only: answer normally

    # ---- authentication -------------------------------------------------
    def check_auth(self, provider):
        st = self.server.state
        tok = st.data["tokens"][provider]
        auth = self.headers.get("Authorization", "")
        if provider == "jetemail":
            if auth != "Bearer " + tok:
                raise jet_error(401, "User information not found")
            return
        mode = st.sw("mt_auth", "any")
        bearer_ok = auth == "Bearer " + tok and mode in ("any", "bearer")
        header_ok = self.headers.get("Api-Token", "") == tok and mode in ("any", "api-token")
        if not (bearer_ok or header_ok):
            raise mt_error(401)

    def route(self, provider, method, path, body, text):
        if provider == "jetemail":
            return Jet(self.server.state).route(method, path, body, text)
        return Mailtrap(self.server.state).route(method, path, body)


class Jet:
    """JetEmail: /outbound/* and /inbound/* as PROVIDERS.md part 1 documents them."""

    def __init__(self, st):
        self.st = st
        self.d = st.data["jetemail"]

    def rows(self, rows):
        env = self.st.sw("jet_rows", "result")
        if env == "bare":
            return rows
        return {"success": True, env: rows}

    def find(self, kind, uuid):
        if not UUID_RE.match(uuid):
            raise jet_error(400, "Invalid UUID format")
        for x in self.d[kind]:
            if x["uuid"] == uuid:
                return x
        raise jet_error(404, "Domain not found or access denied")

    def route(self, method, path, body, text):
        p = path.rstrip("/")
        m = re.match(r"^/outbound/domains(?:/([^/]+)(?:/(settings|check))?)?$", p)
        if m:
            return self.outbound(method, m.group(1), m.group(2), body)
        m = re.match(r"^/inbound/domains(?:/([^/]+)(?:/(check|forward-rules)(?:/([^/]+))?)?)?$", p)
        if m:
            return self.inbound(method, m.group(1), m.group(2), m.group(3), body)
        m = re.match(r"^/inbound/settings/([^/]+)$", p)
        if m:
            return self.inbound_settings(method, m.group(1), body)
        raise jet_error(404, None)

    # -- outbound
    def out_row(self, x):
        row = {k: v for k, v in x.items() if k != "settings"}
        if self.st.sw("jet_out_status") == "number" and isinstance(row.get("status"), str):
            row["status"] = 1 if row["status"] == "active" else 0
        return row

    def outbound(self, method, uuid, sub, body):
        if uuid is None and method == "GET":
            return 200, self.rows([self.out_row(x) for x in self.d["outbound"]])
        if uuid is None and method == "POST":
            dom = (body or {}).get("domain") if isinstance(body, dict) else None
            if not isinstance(dom, str) or not DOMAIN_RE.match(dom):
                raise jet_error(400, "domain is required")
            if any(x["domain"] == dom for x in self.d["outbound"]):
                raise jet_error(400, "Domain already exists")
            x = {"uuid": new_uuid(), "domain": dom, "status": "pending",
                 "dns": {k: {"verified": False} for k in ("spf", "dkim", "dmarc", "tracking")},
                 "settings": {"bccEmails": [], "openTracking": False, "clickTracking": False,
                              "tracking_domain": None}}
            self.d["outbound"].append(x)
            return 200, {"success": True, "result": self.out_row(x)}
        if uuid is None and method == "DELETE":  # uuid in the JSON body
            u = (body or {}).get("uuid") if isinstance(body, dict) else None
            if not isinstance(u, str):
                raise jet_error(400, "uuid is required")
            for x in self.d["outbound"]:
                if x["uuid"] == u:
                    self.d["outbound"].remove(x)
                    return 200, {"success": True, "message": "Domain deleted successfully"}
            raise jet_error(404, None)
        if uuid and sub == "check" and method == "POST":
            x = self.find("outbound", uuid)
            return 200, {"success": True, "result": x.get("dns", {})}
        if uuid and sub == "settings" and method == "GET":
            x = self.find("outbound", uuid)
            return 200, self.settings_answer(x)
        if uuid and sub == "settings" and method == "POST":
            return self.update_settings(self.find("outbound", uuid), body)
        raise jet_error(405, "Method not allowed")

    def settings_answer(self, x):
        s = copy.deepcopy(x.get("settings", {}))
        if self.st.sw("jet_case") == "snake":
            ren = {"bccEmails": "bcc_emails", "openTracking": "open_tracking",
                   "clickTracking": "click_tracking"}
            s = {ren.get(k, k): v for k, v in s.items()}
        s = dict({"uuid": x["uuid"], "domain": x["domain"]}, **s)
        env = self.st.sw("jet_settings", "settings")
        if env == "top":
            return dict({"success": True}, **s)
        return {"success": True, env: s}

    def update_settings(self, x, body):
        if not isinstance(body, dict):
            raise jet_error(400, "Invalid JSON body")
        s = x.setdefault("settings", {})
        out = {"success": True, "message": "Domain settings updated successfully"}
        if "bccEmails" in body:
            b = body["bccEmails"]
            if b is None:
                s["bccEmails"] = []
            elif not isinstance(b, list) or len(b) > 5:
                raise jet_error(400, "bccEmails must be an array of at most 5 email addresses")
            else:
                old = {e["email"]: e["status"] for e in s.get("bccEmails", [])}
                for e in b:
                    if not isinstance(e, str) or not EMAIL_RE.match(e):
                        raise jet_error(400, "Invalid email address: %s" % e)
                s["bccEmails"] = [{"email": e, "status": old.get(e, 0)} for e in b]
            out["bccEmails"] = s["bccEmails"]
        for k in ("openTracking", "clickTracking"):
            if k in body:
                if not isinstance(body[k], bool):
                    raise jet_error(400, "%s must be a boolean" % k)
                s[k] = body[k]
        if "tracking_domain" in body:
            td = body["tracking_domain"]
            if td not in (None, "") and (not isinstance(td, str) or not DOMAIN_RE.match(td)):
                raise jet_error(400, "tracking_domain must be a hostname")
            s["tracking_domain"] = td or None
        return 200, out

    # -- inbound
    def in_row(self, x):
        row = {k: x[k] for k in ("uuid", "domain", "delivery_type", "status") if k in x}
        st = row.get("status")
        if self.st.sw("jet_status", "number") == "number":
            row["status"] = 1 if st in ("active", 1, True) else 0
        else:
            row["status"] = "active" if st in ("active", 1, True) else "disabled"
        return row

    def in_settings(self, x):
        s = {"uuid": x["uuid"], "domain": x["domain"], "delivery_type": x["delivery_type"],
             "status": "active" if x.get("status") in ("active", 1, True) else "disabled"}
        cfg = x.get("settings", {})
        if x["delivery_type"] == "smtp":
            s["smtp_servers"] = cfg.get("smtp_servers", [])
        if x["delivery_type"] == "webhook":
            for k in WEBHOOK_FIELDS:
                if k in cfg:
                    s[k] = cfg[k]
        if x["delivery_type"] == "forward":
            for k in ("mx", "dkim", "spf", "dmarc"):
                s["forward_%s_verified" % k] = cfg.get("forward_%s_verified" % k, 0)
        if self.st.sw("jet_inbound", "result") == "results":  # the older page's shape
            old = {"status": s["status"], "digestSettings": []}
            if s.get("smtp_servers"):
                first = s["smtp_servers"][0]
                old["nexthop"] = first if isinstance(first, str) else first["url"]
            old.update({k: v for k, v in s.items() if k not in ("smtp_servers",)})
            return {"success": True, "results": [old]}
        return {"success": True, "result": s}

    def inbound(self, method, uuid, sub, rule, body):
        if uuid is None and method == "GET":
            return 200, self.rows([self.in_row(x) for x in self.d["inbound"]])
        if uuid is None and method == "POST":
            return self.create_inbound(body)
        if uuid is None and method == "DELETE":
            u = (body or {}).get("uuid") if isinstance(body, dict) else None
            for x in self.d["inbound"]:
                if x["uuid"] == u:
                    self.d["inbound"].remove(x)
                    return 200, {"success": True, "message": "Domain deleted successfully"}
            raise jet_error(404, None)
        x = self.find("inbound", uuid)
        if sub == "check" and method == "POST":
            return 200, {"success": True, "result": {k: x.get("settings", {}).get(k, 0) for k in (
                "forward_mx_verified", "forward_dkim_verified", "forward_spf_verified",
                "forward_dmarc_verified")}}
        if sub == "forward-rules":
            return self.rules(method, x, rule, body)
        raise jet_error(405, "Method not allowed")

    def create_inbound(self, b):
        if not isinstance(b, dict):
            raise jet_error(400, "Invalid JSON body")
        dom, dt = b.get("domain"), b.get("delivery_type")
        if not isinstance(dom, str) or not DOMAIN_RE.match(dom):
            raise jet_error(400, "domain must be a valid domain name")
        if dt not in ("smtp", "webhook", "forward"):
            raise jet_error(400, "delivery_type must be smtp, webhook or forward")
        if dt != "smtp" and "smtp_servers" in b:
            raise jet_error(400, "smtp_servers is only allowed with delivery_type smtp")
        if dt != "webhook":
            for k in WEBHOOK_FIELDS:
                if k in b:
                    raise jet_error(400, "%s is only allowed with delivery_type webhook" % k)
        if dt == "smtp" and not b.get("smtp_servers"):
            raise jet_error(400, "smtp_servers is required for delivery_type smtp")
        if dt == "webhook" and not b.get("webhook_url"):
            raise jet_error(400, "webhook_url is required for delivery_type webhook")
        if any(x["domain"] == dom for x in self.d["inbound"]):
            raise jet_error(400, "Domain already exists")
        x = {"uuid": new_uuid(), "domain": dom, "delivery_type": dt, "status": "active",
             "settings": {k: v for k, v in b.items() if k not in ("domain", "delivery_type")},
             "forward_rules": []}
        secret = "whsec_" + secrets.token_hex(16)
        x["settings"]["webhook_secret"] = secret
        self.d["inbound"].append(x)
        return 200, {"success": True, "result": {
            "domain": dom, "delivery_type": dt, "status": "active", "uuid": x["uuid"],
            "webhook_secret": secret, "forward_mx_verified": 0, "forward_dkim_verified": 0,
            "forward_spf_verified": 0, "forward_dmarc_verified": 0}}

    def inbound_settings(self, method, uuid, body):
        x = self.find("inbound", uuid)
        if method == "GET":
            return 200, self.in_settings(x)
        if method == "PATCH":
            if not isinstance(body, dict) or not body:
                raise jet_error(400, "At least one field is required")
            dt = body.get("delivery_type", x["delivery_type"])
            if dt != "smtp" and "smtp_servers" in body:
                raise jet_error(400, "smtp_servers is only allowed with delivery_type smtp")
            if dt != "webhook" and any(k in body for k in WEBHOOK_FIELDS):
                raise jet_error(400, "webhook fields are only allowed with delivery_type webhook")
            if "status" in body:
                x["status"] = body["status"]
            x["delivery_type"] = dt
            x.setdefault("settings", {}).update(
                {k: v for k, v in body.items() if k not in ("status", "delivery_type")})
            return 200, {"success": True, "message": "Domain updated successfully"}
        raise jet_error(405, "Method not allowed")

    def rules(self, method, x, rule_uuid, body):
        rules = x.setdefault("forward_rules", [])
        if rule_uuid is None and method == "GET":
            return 200, {"success": True, "result": rules}
        if rule_uuid is None and method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("localpart"), str) \
                    or not isinstance(body.get("destination"), str) \
                    or not EMAIL_RE.match(body["destination"]):
                raise jet_error(400, "localpart and destination are required")
            now = int(time.time())
            r = {"uuid": new_uuid(), "localpart": body["localpart"].lower(),
                 "destination": body["destination"], "active": 1 if body.get("active", True) else 0,
                 "verified": 0, "last_modified": now, "created_at": now}
            rules.append(r)
            return 200, {"success": True, "result": r}
        if not UUID_RE.match(rule_uuid or ""):
            raise jet_error(400, "Invalid UUID format")
        for r in rules:
            if r["uuid"] == rule_uuid:
                if method == "GET":
                    return 200, {"success": True, "result": r}
                if method == "PATCH":
                    if "destination" in (body or {}):
                        r["destination"] = body["destination"]
                    if "active" in (body or {}):
                        r["active"] = 1 if body["active"] else 0
                    return 200, {"success": True, "result": r}
                if method == "DELETE":
                    rules.remove(r)
                    return 200, {"success": True, "message": "Forwarding rule deleted"}
        raise jet_error(404, "Forwarding rule not found")


class Mailtrap:
    """Mailtrap: /api/accounts, /api/domains and the account-scoped sending_domains."""

    def __init__(self, st):
        self.st = st
        self.d = st.data["mailtrap"]

    def route(self, method, path, body):
        p = path.rstrip("/")
        if p == "/api/accounts" and method == "GET":
            return 200, self.d["accounts"]
        style = self.st.sw("mt_path", "both")
        m = re.match(r"^/api/domains(?:/([^/]+)(?:/(send_setup_instructions|company_info))?)?$", p)
        if m:
            if style == "account":
                raise mt_error(404)
            return self.domains(method, m.group(1), m.group(2), body, "domain")
        m = re.match(r"^/api/accounts/([^/]+)/sending_domains(?:/([^/]+)"
                     r"(?:/(send_setup_instructions|company_info))?)?$", p)
        if m:
            if style == "domains":
                raise mt_error(404)
            if not any(str(a["id"]) == m.group(1) for a in self.d["accounts"]):
                raise mt_error(403)
            return self.domains(method, m.group(2), m.group(3), body, "sending_domain")
        raise mt_error(404)

    def find(self, ident):
        for x in self.d["domains"]:
            if str(x["id"]) == ident:
                return x
        raise mt_error(404)

    def domains(self, method, ident, sub, body, wrapper):
        if ident is None and method == "GET":
            return 200, {"data": self.d["domains"]}
        if ident is None and method == "POST":
            return self.create(body, wrapper)
        x = self.find(ident)
        if sub is None and method == "GET":
            return 200, x
        if sub is None and method == "PATCH":
            inner = body.get(wrapper) if isinstance(body, dict) else None
            if not isinstance(inner, dict):
                raise mt_error(422, {wrapper: ["is missing"]})
            errs = {}
            for k, v in inner.items():
                if k not in ("open_tracking_enabled", "click_tracking_enabled",
                             "auto_unsubscribe_link_enabled"):
                    errs[k] = ["is not allowed"]
                elif not isinstance(v, bool):
                    errs[k] = ["must be a boolean"]
            if errs:
                raise mt_error(422, errs)
            x.update(inner)
            return 200, x
        if sub is None and method == "DELETE":
            self.d["domains"].remove(x)
            return 204, None
        if sub == "send_setup_instructions" and method == "POST":
            email = body.get("email") if isinstance(body, dict) else None
            if not isinstance(email, str) or not EMAIL_RE.match(email):
                raise mt_error(422, {"email": ["is invalid"]})
            return 204, None
        if sub == "company_info":
            return self.company(method, x, body)
        raise mt_error(404)

    def create(self, body, wrapper):
        inner = body.get(wrapper) if isinstance(body, dict) else None
        name = inner.get("domain_name") if isinstance(inner, dict) else None
        if not isinstance(name, str) or not name:
            raise mt_error(422, {"domain_name": ["can't be blank"]})
        if not DOMAIN_RE.match(name):
            raise mt_error(422, {"domain_name": ["is invalid"]})
        if any(x["domain_name"] == name for x in self.d["domains"]):
            raise mt_error(422, {"domain_name": ["has already been taken"]})
        x = {"id": max([d["id"] for d in self.d["domains"]] + [1000]) + 1, "domain_name": name,
             "demo": False, "compliance_status": "unverified_dns", "dns_verified": False,
             "dns_verified_at": None, "dns_records": [
                 {"key": "link_verification", "domain": "mt-link." + name, "type": "CNAME",
                  "value": "t.mailtrap.live", "status": "unchecked", "name": "mt-link"}],
             "open_tracking_enabled": True, "click_tracking_enabled": True,
             "auto_unsubscribe_link_enabled": True, "custom_domain_tracking_enabled": False,
             "health_alerts_enabled": True, "critical_alerts_enabled": True,
             "alert_recipient_email": None,
             "permissions": {"can_read": True, "can_update": True, "can_destroy": True}}
        self.d["domains"].append(x)
        return 200, x

    def company(self, method, x, body):
        ci = self.d["company_info"]
        key = str(x["id"])
        if method == "GET":
            if key not in ci:
                raise mt_error(404)
            return 200, {"data": ci[key]}
        inner = body.get("company_info") if isinstance(body, dict) else None
        if not isinstance(inner, dict):
            raise mt_error(422, {"company_info": ["is missing"]})
        errs = {}
        for k, v in inner.items():
            if k not in COMPANY_FIELDS:
                errs[k] = ["is not allowed"]
            elif k == "info_level" and v not in ("business", "individual"):
                errs[k] = ["is not included in the list"]
        if method == "POST":
            for k in COMPANY_REQUIRED:
                if not inner.get(k):
                    errs[k] = ["can't be blank"]
        if errs:
            raise mt_error(422, errs)
        if method == "POST":
            ci[key] = {k: inner.get(k) for k in COMPANY_FIELDS}
        elif method == "PATCH":
            if key not in ci:
                raise mt_error(404)
            ci[key].update(inner)
        else:
            raise mt_error(404)
        return 200, {"data": ci[key]}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that gave up (timeout, size limit) is what some tests want
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(scenario, port, tls=None):
    srv = Server(("127.0.0.1", port), Handler)
    srv.state = State(scenario)
    if tls:  # HTTPS with the given certificate and key (PEM files)
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


class FakeAPI:
    """Start the fake on a free port from a test; control it over HTTP."""

    def __init__(self, scenario=None, tls=None):
        argv = ["/usr/bin/python3", os.path.abspath(__file__)]
        if scenario:
            argv += ["--scenario", scenario]
        if tls:
            argv += ["--tls", tls[0], tls[1]]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.proc.kill()
            raise RuntimeError("fakeapi did not start")
        self.port = int(line)
        self.url = "http://127.0.0.1:%d" % self.port
        if tls:  # control requests stay on the test's side: no verification
            import ssl
            self.url = "https://localhost:%d" % self.port
            self._ctx = ssl.create_default_context()
            self._ctx.check_hostname = False
            self._ctx.verify_mode = ssl.CERT_NONE
        else:
            self._ctx = None

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10, context=self._ctx) as r:
            return json.loads(r.read() or b"null")

    def requests(self):
        return self._call("GET", "/_requests")

    def clear(self):
        self._call("DELETE", "/_requests")

    def switch(self, **sw):
        return self._call("POST", "/_scenario", {"switches": sw})

    def fail(self, method, path, **rule):
        rule.update({"method": method, "path": path})
        return self._call("POST", "/_scenario", {"fail": [rule]})

    def reset(self, load=None):
        body = {"reset": True}
        if load:
            body["load"] = load
        return self._call("POST", "/_scenario", body)

    def state(self):
        return self._call("GET", "/_state")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def provider_conf(d, api, sections=None, name="sendgate.conf"):
    """A sendgate.conf in directory d with both providers on the fake.

    The tokens go into 0600 token files (as an operator should keep them);
    sections ({"section": {"key": "value"}}) are merged over the defaults.
    Returns the configuration's path.
    """
    conf = {"general": {"cache_path": os.path.join(d, "cache")},
            "jetemail": {"enabled": "yes", "base_url": api.url},
            "mailtrap": {"enabled": "yes", "base_url": api.url}}
    for prov, tok in (("jetemail", "api_test"), ("mailtrap", "mt_test")):
        path = os.path.join(d, prov + ".token")
        with open(path, "w") as f:
            f.write(tok + "\n")
        os.chmod(path, 0o600)
        conf[prov]["api_token_file"] = path
    for sec, keys in (sections or {}).items():
        conf.setdefault(sec, {}).update(keys)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        for sec, keys in conf.items():
            f.write("[%s]\n" % sec)
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
    return path


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="fake JetEmail + Mailtrap API")
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), default=None)
    a = ap.parse_args()
    try:
        serve(a.scenario, a.port, a.tls)
    except KeyboardInterrupt:
        pass
