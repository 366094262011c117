# SPDX-License-Identifier: BSD-2-Clause
# ctl/: sendgatectl, the operator's command-line tool
PROGS += sendgatectl
sendgatectl_SRCS := ctl/main.c ctl/cmd_cache.c ctl/cmd_config.c ctl/cmd_verdict.c ctl/cmd_token.c ctl/cmd_stats.c ctl/cmd_jetemail.c ctl/cmd_mailtrap.c ctl/provcmd.c ctl/cmd_refresh.c ctl/check_env.c ctl/check_files.c ctl/cmd_status.c
sendgatectl_PKGS := libcjson libcurl
# check-config loads trackd's TLS files as sendgate-trackd does (lib/tlsfile.c
# needs GnuTLS, so it is not in the core library)
sendgatectl_SRCS += lib/tlsfile.c
sendgatectl_PKGS += gnutls
