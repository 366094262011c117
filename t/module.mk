# SPDX-License-Identifier: BSD-2-Clause
# t/tools/: test tools (built into $(BUILD)/<variant>/t/tools, never installed)
# selfsigned: a self-signed certificate and key for trackd's TLS mode
# (t/13-check-config.t, t/24-refresh-ctl.t, t/62-trackd-limits.t, t/65-trackd-flood.t)
TEST_PROGS += selfsigned
selfsigned_SRCS := t/tools/selfsigned.c
# static_httpd: bench/trackd's baseline, one file served by libmicrohttpd
TEST_PROGS += static_httpd
static_httpd_SRCS := t/tools/static_httpd.c
static_httpd_PKGS := libmicrohttpd
