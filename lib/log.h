/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - logging for every sendgate program
 *
 * Syslog with facility LOG_MAIL by default, as mail operators expect (their
 * mail.log then holds sendgate next to Postfix); standard error instead in
 * the foreground, in test mode and for command-line tools. Mail-path lines
 * carry the queue id first (log_qid), like Postfix's own "QUEUEID: text".
 * When standard error is systemd's journal stream ($JOURNAL_STREAM names it),
 * lines carry the "<N>" priority prefix of sd-daemon(3) instead of the program
 * name and pid, which journald records itself.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdbool.h>
#include <syslog.h>

enum log_dest {
    LOG_DEST_SYSLOG, /* syslog(3), the facility given to log_open */
    LOG_DEST_STDERR, /* "prog[pid]: level: text" on stderr ("<N>level: text" to journald) */
};

void log_open(const char *ident, enum log_dest dest, int facility);
void log_set_level(int prio);
bool log_enabled(int prio);
int log_facility_parse(const char *name);
int log_level_parse(const char *name);
void log_close(void);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_qid - one line prefixed with a queue/job id ("NOQUEUE" when qid is NULL or empty) */
void log_qid(int prio, const char *qid, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
