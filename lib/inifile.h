/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inifile.h - INI files through libinih, with line numbers
 *
 * SYNOPSIS
 *	inifile_parse(path, key_fn, user, &report);
 *	inifile_parse_sections(path, key_fn, section_fn, user, &report);
 *	inifile_parse_file(path, "static domains file", max_bytes, key_fn, section_fn, user, &rep);
 *
 * DESCRIPTION
 *	libinih as Debian builds it does not pass line numbers to the handler,
 *	silently truncates lines longer than INI_MAX_LINE and section and key
 *	names longer than 49 octets ("[outbound <a long domain>]" would name
 *	another domain), and never tells the handler about a section that
 *	holds no keys. inifile feeds inih through its own line reader, so:
 *
 *	- the handler learns the line of every value and whether it continues
 *	  the previous key's value (an indented line after a key);
 *	- section headers are parsed here: the handler gets the full name
 *	  (white space around it trimmed), and section_fn, when given, is
 *	  called for every header, also for a section without keys;
 *	- over-long lines, names inih would truncate, control characters
 *	  (a CR is allowed only before the line's end), unterminated section
 *	  headers, text after "]" and lines that are neither a section, a key,
 *	  a continuation nor a comment are reported as "file:line: problem"
 *	  in the conf_report, and the line is otherwise ignored.
 *
 *	The file is read whole by rfile_read (lib/rfile.h) before parsing:
 *	a regular file of at most INIFILE_MAX bytes (inifile_parse_file sets
 *	another limit), so a directory, a FIFO, /dev/zero or a huge file is
 *	refused at once with "file: problem; fix: ..." and the parser's
 *	memory is bounded by the limit. NUL bytes are control characters
 *	(reported at their line).
 *
 *	'#' and ';' start comment lines; " ;" starts a comment after a value
 *	(libinih's inline comments).
 */
#ifndef SG_INIFILE_H
#define SG_INIFILE_H

#include <stdbool.h>

#include "lib/conf.h"

#define INIFILE_SECTION_MAX 300           /* "outbound " + a 253-octet domain, with room */
#define INIFILE_NAME_MAX    48            /* longest key name libinih keeps whole */
#define INIFILE_MAX         (1024 * 1024) /* bytes in a file, by default */

typedef void (*inifile_fn)(void *user, const char *section, const char *name, const char *value,
                           int line, bool continuation);
typedef void (*inifile_section_fn)(void *user, const char *section, int line);

bool inifile_parse(const char *path, inifile_fn fn, void *user, conf_report *rep);
bool inifile_parse_sections(const char *path, inifile_fn fn, inifile_section_fn section_fn,
                            void *user, conf_report *rep);
bool inifile_parse_file(const char *path, const char *what, size_t max, inifile_fn fn,
                        inifile_section_fn section_fn, void *user, conf_report *rep);

#endif
