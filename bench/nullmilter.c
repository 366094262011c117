/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nullmilter.c - bench/smtp's floor: a libmilter milter that does no work
 *
 * SYNOPSIS
 *	nullmilter unix:/path | inet:port@host
 *
 * DESCRIPTION
 *	The same negotiation as sendgate-milter (no HELO or unknown-command
 *	events, SKIP, and over a unix: socket no replies to DATA, header
 *	fields and end of headers; the same macro lists), every callback
 *	answers "continue", the body is skipped at its first chunk, and at
 *	end of message one recipient is added with NOTIFY=NEVER: what
 *	sendgate-milter does for a domain with one verified BCC address,
 *	without any of sendgate's code. Whatever this costs end to end, every
 *	milter built on libmilter costs; bench/smtp prints it beside
 *	sendgate-milter.
 */
#include <libmilter/mfapi.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool noreply;    /* unix: socket: the MTA may skip waiting for some answers */
static bool nr_granted; /* set at every negotiation, to the same value: Postfix offers alike */

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    (void)f2;
    (void)f3;
    *pf0 = f0 & (SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST);
    *pf1 = f1 & (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_SKIP |
                 (noreply ? SMFIP_NR_HDR | SMFIP_NR_DATA | SMFIP_NR_EOH : 0));
    *pf2 = *pf3 = 0;
    nr_granted = (*pf1 & SMFIP_NR_HDR) != 0;
    if (f0 & SMFIF_SETSYMLIST) {
        smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} {client_addr}");
        smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
        smfi_setsymlist(ctx, SMFIM_DATA, "i");
        smfi_setsymlist(ctx, SMFIM_EOH, "i");
        smfi_setsymlist(ctx, SMFIM_EOM, "i");
    }
    return SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)ctx;
    (void)host;
    (void)sa;
    return SMFIS_CONTINUE;
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat nm_data(SMFICTX *ctx)
{
    (void)ctx;
    return nr_granted ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
    (void)ctx;
    (void)name;
    (void)value;
    return nr_granted ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_eoh(SMFICTX *ctx)
{
    (void)ctx;
    return nr_granted ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return SMFIS_SKIP;
}

static sfsistat nm_eom(SMFICTX *ctx)
{
    if (smfi_addrcpt_par(ctx, "<archive@shop.example>", "NOTIFY=NEVER") != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
    struct smfiDesc d = {
            .xxfi_name = "nullmilter",
            .xxfi_version = SMFI_VERSION,
            .xxfi_flags = SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR,
            .xxfi_connect = nm_connect,
            .xxfi_envfrom = nm_envfrom,
            .xxfi_envrcpt = nm_envrcpt,
            .xxfi_header = nm_header,
            .xxfi_eoh = nm_eoh,
            .xxfi_body = nm_body,
            .xxfi_eom = nm_eom,
            .xxfi_data = nm_data,
            .xxfi_negotiate = nm_negotiate,
    };

    if (argc != 2) {
        fprintf(stderr, "usage: nullmilter unix:/path | inet:port@host\n");
        return 64;
    }
    noreply = strncmp(argv[1], "unix:", 5) == 0 || strncmp(argv[1], "local:", 6) == 0;
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(d) != MI_SUCCESS ||
        smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
