# trackd/: sendgate-trackd (click, open and unsubscribe endpoint) and the
# signed tokens it shares with the milter and sendgatectl.
# The MHD-free modules go into libsendgate.a so unit tests and sendgatectl
# (stats, token revoke) link them; only the HTTP layer is trackd's own.
CORE_SRCS += lib/token.c trackd/clientip.c trackd/botlabel.c \
             trackd/oneclick.c trackd/htmlpage.c trackd/trackstats.c trackd/evlog.c \
             trackd/tmetrics.c trackd/revoke.c trackd/trackreq.c trackd/connguard.c
CORE_PKGS += libcrypto
PROGS += sendgate-trackd
sendgate-trackd_SRCS := trackd/main.c trackd/httpd.c lib/tlsfile.c
sendgate-trackd_PKGS := libmicrohttpd gnutls
UNIT_TESTS += t/unit/test_token.c t/unit/test_trackd_parts.c t/unit/test_trackd_req.c \
              t/unit/test_connguard.c
# test tools (built into $(BUILD)/<variant>/t/tools, never installed)
TEST_PROGS += selfsigned
selfsigned_SRCS := trackd/tools/selfsigned.c
TEST_PROGS += static_httpd
static_httpd_SRCS := trackd/tools/static_httpd.c
static_httpd_PKGS := libmicrohttpd
BENCHES += bench/trackd
