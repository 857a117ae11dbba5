/*
 * procstat.h - this process's resource use as Prometheus' standard process_*
 * metrics report it, read from Linux's /proc/self (no library).
 */
#ifndef PATRON_SERVER_PROCSTAT_H
#define PATRON_SERVER_PROCSTAT_H

#include <stdint.h>

typedef struct procstat {
    double cpu_seconds;         /* user + system time */
    double start_time_seconds;  /* since the Unix epoch */
    uint64_t resident_bytes, virtual_bytes;
    uint64_t open_fds, max_fds; /* descriptors open; RLIMIT_NOFILE soft limit */
} procstat_t;

/* Fills out from /proc/self/stat, /proc/stat (boot time) and
 * /proc/self/fd. Returns 0, or a negative errno when /proc cannot be read
 * or parsed (then out is zeroed). Thread-safe. */
int procstat_read(procstat_t *out);

#endif
