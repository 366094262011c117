/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - syslog or stderr logging (see log.h)
 *
 * Thread-safe: syslog(3) is, and stderr lines are written with one
 * fprintf under flockfile so lines from libmilter's threads never
 * interleave. Control characters in messages are not filtered here;
 * callers that log peer-supplied text use log-safe copies.
 */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "sendgate";
static enum log_dest log_dest = LOG_DEST_STDERR;
static int log_level = LOG_INFO;
static bool log_journal; /* stderr is systemd's journal stream */

static const struct {
    const char *name;
    int value;
} log_facilities[] = {
        {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static const struct {
    const char *name;
    int value;
} log_levels[] = {
        {"error", LOG_ERR}, {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
        {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

/*
 * log_stderr_is_journal - systemd connects stderr to journald and says so in
 * $JOURNAL_STREAM ("device:inode" of that stream, systemd.exec(5)); a
 * descriptor redirected since (a shell, a test) no longer matches.
 */
static bool log_stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char end;

    if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* log_open - choose destination; ident is kept by reference */
void log_open(const char *ident, enum log_dest dest, int facility)
{
    log_ident = ident;
    log_dest = dest;
    log_journal = dest == LOG_DEST_STDERR && log_stderr_is_journal();
    if (dest == LOG_DEST_SYSLOG)
        openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_close(void)
{
    if (log_dest == LOG_DEST_SYSLOG)
        closelog();
}

/* log_set_level - lines less important than prio are dropped */
void log_set_level(int prio)
{
    log_level = prio;
}

bool log_enabled(int prio)
{
    return prio <= log_level;
}

/* log_facility_parse - "mail", "local3", ... to LOG_*; -1 if unknown */
int log_facility_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
        if (strcasecmp(name, log_facilities[i].name) == 0)
            return log_facilities[i].value;
    return -1;
}

/* log_level_parse - "info", "debug", ... to LOG_*; -1 if unknown */
int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
        if (strcasecmp(name, log_levels[i].name) == 0)
            return log_levels[i].value;
    return -1;
}

static const char *log_prio_name(int prio)
{
    switch (prio) {
    case LOG_EMERG:
    case LOG_ALERT:
    case LOG_CRIT:
        return "fatal: ";
    case LOG_ERR:
        return "error: ";
    case LOG_WARNING:
        return "warning: ";
    default:
        return "";
    }
}

/* log_vemit - the one place that writes */
__attribute__((format(printf, 3, 0))) static void log_vemit(int prio, const char *qid,
                                                            const char *fmt, va_list ap)
{
    char text[2048];

    if (!log_enabled(prio))
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    if (log_dest == LOG_DEST_SYSLOG) {
        if (qid)
            syslog(prio, "%s: %s%s", qid, log_prio_name(prio), text);
        else
            syslog(prio, "%s%s", log_prio_name(prio), text);
        return;
    }
    flockfile(stderr);
    if (log_journal) /* journald adds the identifier and pid itself */
        fprintf(stderr, "<%d>%s%s%s%s\n", LOG_PRI(prio), qid ? qid : "", qid ? ": " : "",
                log_prio_name(prio), text);
    else if (qid)
        fprintf(stderr, "%s[%ld]: %s: %s%s\n", log_ident, (long)getpid(), qid, log_prio_name(prio),
                text);
    else
        fprintf(stderr, "%s[%ld]: %s%s\n", log_ident, (long)getpid(), log_prio_name(prio), text);
    funlockfile(stderr);
}

void log_msg(int prio, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vemit(prio, NULL, fmt, ap);
    va_end(ap);
}

void log_qid(int prio, const char *qid, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vemit(prio, qid && *qid ? qid : "NOQUEUE", fmt, ap);
    va_end(ap);
}
