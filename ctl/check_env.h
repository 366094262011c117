/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_env.h - sendgatectl check-config: the configuration against the machine
 *
 * SYNOPSIS
 *	conf *cfg = conf_load(path, &rep);
 *	if (cfg)
 *		check_env(cfg, &rep);
 *
 * DESCRIPTION
 *	conf_load checks the file itself; check_env checks what the file
 *	names on this machine, the way the daemons will meet it:
 *
 *	  * secret and key files (CT_SECRET_FILE keys, tracking.key_files,
 *	    trackd.tls_key_file): not writable by group or others where the
 *	    daemons' loader lets that pass (what the loaders refuse,
 *	    check_files.h reports as errors), readable by the user the
 *	    daemons run as;
 *	  * other files the daemons read (*_file keys): readable by that user;
 *	    files and directories they write (pid and events files, the cache
 *	    and statistics environments): writable by it;
 *	  * every unix socket Postfix uses (the [milter] and [policyd]
 *	    endpoints): inside Postfix's queue directory when Postfix runs
 *	    smtpd or cleanup chrooted, every directory on the way searchable
 *	    by the postfix user, the socket writable by it (its current owner,
 *	    group and mode, or those the daemon will give it), the directory
 *	    writable by the daemons' user. With [milter] mta = sendmail the
 *	    milter socket is judged by Sendmail's rules instead (its MTA runs
 *	    as root, needs no group and no chroot, but refuses a socket below
 *	    a group- or world-writable directory), and a policy or socketmap
 *	    socket is reported as unused;
 *	  * milter.max_rewrite_size below Postfix's message_size_limit with
 *	    room for the header (a rewritten body may grow up to it).
 *
 *	  * the cache and the statistics environments themselves: damaged
 *	    files (cache/envcheck.h), and a cache without the data of an
 *	    enabled provider (never refreshed, or lost with a damaged file).
 *
 *	The user the daemons run as is general.user, else sendgate when
 *	that account exists (the systemd units' User=), else no user checks.
 *	Every finding is a warning in rep, naming the key, the file and line
 *	where the key was set, the path and the command that fixes it.
 *
 *	Postfix's queue directory, master.cf and message_size_limit come
 *	from postconf(1), so MAIL_CONFIG selects another Postfix instance,
 *	as for postconf itself. Without postconf the Debian defaults are
 *	assumed (/var/spool/postfix, smtpd chrooted) and the size is not
 *	checked.
 */
#ifndef SG_CTL_CHECK_ENV_H
#define SG_CTL_CHECK_ENV_H

#include "lib/conf.h"

int check_env(const conf *cfg, conf_report *rep);

#endif
