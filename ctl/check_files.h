/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_files.h - sendgatectl check-config: the files the daemons would refuse
 *
 * SYNOPSIS
 *	conf *cfg = conf_read(path, &rep);
 *	if (cfg)
 *		check_files(cfg, &rep);
 *
 * DESCRIPTION
 *	A daemon that meets a bad file at start refuses to start (the
 *	milter, for its key files, runs without tracking). check_files loads
 *	each file the configuration names with the function the daemon uses,
 *	so what check-config accepts is what the daemons accept, and reports
 *	every refusal as an error at the line of the key that names the file
 *	("file:line: section.key: problem; fix: ..."):
 *
 *	  tracking.key_files	token_keys_add_file (lib/token.c), every
 *				file into one key set, as sendgate-trackd
 *				and the milter load them
 *	  trackd.tls_cert_file,	tlsfile_load (lib/tlsfile.c)
 *	  trackd.tls_key_file
 *	  static.file		static_parse (providers/static.c), when
 *				static.enabled: the refresher refuses a file
 *				with any error
 *
 *	(sendgate.conf itself and the API token files are read by conf_read,
 *	with lib/inifile.c and lib/rfile.h, as the daemons read them.)
 *
 *	What the daemons create or write must be of the right kind where it
 *	exists already (rfile_check_kind): general.cache_path and
 *	trackd.stats_path directories (LMDB environments), the milter's and
 *	policyd's unix sockets sockets (endpoint_listen replaces nothing
 *	else), pid files regular files, milter.temp_dir a directory,
 *	trackd.events_file neither a directory nor a socket. A path that does
 *	not exist yet is no error here: systemd and tmpfiles.d create the
 *	directories at start, and check_env warns when they are missing.
 *
 *	Returns the number of errors added.
 */
#ifndef SG_CTL_CHECK_FILES_H
#define SG_CTL_CHECK_FILES_H

#include "lib/conf.h"

int check_files(const conf *cfg, conf_report *rep);

#endif
