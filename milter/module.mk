# milter/: sendgate-milter (the rewrite engine lives in milter/rewrite/)
PROGS += sendgate-milter
sendgate-milter_SRCS := milter/main.c milter/listener.c milter/testmode.c milter/callbacks.c \
        milter/mlt.c milter/outgoing.c milter/reply.c milter/body.c milter/apply.c \
        milter/tracking.c policyd/daemon.c
sendgate-milter_PKGS := milter
