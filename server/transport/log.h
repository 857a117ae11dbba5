/*
 * log.h - the one place server programs write diagnostics: one line per
 * event to stderr, "2026-11-25T18:00:00.123Z patrond LEVEL message".
 * Never pass customer data (ids, events) to it.
 */
#ifndef PATRON_SERVER_LOG_H
#define PATRON_SERVER_LOG_H

#define LOG_INFO "info"
#define LOG_WARN "warn"
#define LOG_ERROR "error"

void plog(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
