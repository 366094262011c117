# SPDX-License-Identifier: BSD-2-Clause
# trackd/: sendgate-trackd (click, open and unsubscribe endpoint).
# Its modules are pure apart from the HTTP layer (httpd.c), so the unit
# tests link them beside the core library.
PROGS += sendgate-trackd
sendgate-trackd_SRCS := trackd/main.c trackd/httpd.c lib/tlsfile.c trackd/clientip.c \
        trackd/botlabel.c trackd/oneclick.c trackd/htmlpage.c trackd/evlog.c trackd/tmetrics.c \
        trackd/trackreq.c trackd/connguard.c
sendgate-trackd_PKGS := libmicrohttpd gnutls
UNIT_TESTS += t/unit/test_trackd_parts.c t/unit/test_trackd_req.c t/unit/test_connguard.c
test_trackd_parts_SRCS := trackd/clientip.c trackd/botlabel.c trackd/oneclick.c \
        trackd/htmlpage.c trackd/evlog.c trackd/tmetrics.c
test_trackd_req_SRCS := trackd/trackreq.c trackd/clientip.c trackd/botlabel.c trackd/oneclick.c \
        trackd/htmlpage.c trackd/evlog.c trackd/tmetrics.c
test_connguard_SRCS := trackd/connguard.c trackd/tmetrics.c
BENCHES += bench/trackd
