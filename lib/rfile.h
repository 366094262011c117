/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rfile.h - read a file sendgate depends on: bounded, regular files only
 *
 * SYNOPSIS
 *	static const rfile_policy keys = {"token key file", 4096, 0026, true};
 *	char *text = rfile_read(path, &keys, &len, err, sizeof(err));
 *	...
 *	rfile_free(text, len);
 *
 * DESCRIPTION
 *	Every file the daemons read at start goes through rfile_read:
 *	sendgate.conf and the static domains file (lib/inifile.c), API token
 *	files (lib/conf.c), token key files (lib/token.c), trackd's TLS
 *	certificate and key (lib/tlsfile.c). sendgatectl check-config
 *	calls those same loaders, so what it accepts is what the daemons
 *	accept.
 *
 *	The file is opened with O_NONBLOCK, so a FIFO cannot hang the
 *	reader, and with O_NOFOLLOW when the policy refuses symbolic links.
 *	It must be a regular file: a directory, a FIFO, /dev/zero or any
 *	other device is refused before a byte is read. /dev/null alone reads
 *	as an empty file, as operators and tests use it ("-c /dev/null":
 *	the embedded defaults). A file larger than
 *	the policy's max is refused on its size and again while reading (a
 *	file that grows cannot make the reader allocate more than max + 1
 *	bytes). Permission bits in refuse_mode make the file refused, for
 *	root as for anybody: they are about who else may read or change the
 *	file, not about who reads it now.
 *
 *	rfile_check_kind is the other half, for the paths the daemons create
 *	or write (pid files, LMDB directories, sockets): there may be
 *	nothing there yet, but what is there must be of the right kind.
 *
 *	The text is NUL-terminated (it may hold NUL bytes of its own: len
 *	says where it ends). The error text names the file, the problem and
 *	the fix: "PATH: problem; fix: command".
 */
#ifndef SG_RFILE_H
#define SG_RFILE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rfile_policy {
    const char *what;     /* the file's role, for messages: "token key file" */
    size_t max;           /* larger files are refused */
    unsigned refuse_mode; /* any of these permission bits set: refused */
    bool nofollow;        /* a symbolic link is refused (O_NOFOLLOW) */
} rfile_policy;

char *rfile_read(const char *path, const rfile_policy *p, size_t *len, char *err, size_t errlen);
void rfile_free(char *text, size_t len);
bool rfile_check_kind(const char *path, unsigned want, const char *what, char *err, size_t errlen);
const char *rfile_type_name(unsigned mode);

#endif
