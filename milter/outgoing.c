/*
 * outgoing.c - is this connection's mail outgoing? (the milter acts on nothing else)
 *
 * Outgoing means: the client authenticated (Postfix macro {auth_authen}),
 * or connected from [milter] internal_networks, or reached a Postfix
 * service whose {daemon_name} (milter_macro_daemon_name, e.g.
 * ORIGINATING on the submission service) is in [milter] outbound_daemons.
 * Everything else (mail arriving from the Internet) is accepted
 * untouched at connect time.
 */
#include <string.h>
#include <strings.h>

#include "milter/milter.h"

/* milter_list_has - case-insensitive membership */
bool milter_list_has(const conf_list *l, const char *word)
{
    return word && *word && conf_list_has(l, word, true);
}

/*
 * milter_is_outgoing - decide from what the MTA told us; why says which rule matched
 *
 * The connect stage knows the client address and {daemon_name}; the
 * authentication is only known at MAIL FROM, so callers ask again there
 * with auth_authen set.
 */
bool milter_is_outgoing(const milter_config *mc, const char *client_addr, const char *daemon_name,
                        const char *auth_authen, const char **why)
{
    if (auth_authen && *auth_authen) {
        *why = "authenticated";
        return true;
    }
    if (client_addr && *client_addr && netlist_match(&mc->internal, client_addr)) {
        *why = "internal network";
        return true;
    }
    if (milter_list_has(&mc->cfg->milter.outbound_daemons, daemon_name)) {
        *why = "outbound daemon";
        return true;
    }
    *why = "inbound";
    return false;
}
