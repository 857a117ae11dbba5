/*
 * procstat.c - process_* figures from /proc (procstat.h). Field numbers are
 * proc(5)'s for /proc/[pid]/stat: utime 14, stime 15, starttime 22 (clock
 * ticks since boot), vsize 23 (bytes), rss 24 (pages).
 */
#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define STAT_FIRST 3   /* the field right after "(comm)" */
#define STAT_LAST 24

/* Boot time in seconds since the epoch ("btime" in /proc/stat), or -1. */
static long long boot_time(void)
{
    char line[256];
    long long bt = -1;
    FILE *f = fopen("/proc/stat", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lld", &bt) == 1)
            break;
    fclose(f);
    return bt;
}

/* Fields STAT_FIRST..STAT_LAST of /proc/self/stat as numbers (state, a
 * letter, reads as 0). comm may hold spaces and parentheses: fields start
 * after its last ')'. */
static int read_stat(unsigned long long field[STAT_LAST + 1])
{
    char buf[1024], *p, *end;
    size_t n;
    FILE *f = fopen("/proc/self/stat", "r");

    if (!f)
        return -errno;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')')))
        return -EPROTO;
    p++;
    for (int i = STAT_FIRST; i <= STAT_LAST; i++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -EPROTO;
        field[i] = strtoull(p, &end, 10);
        p = end == p ? p + 1 : end; /* skip the state letter */
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

/* Entries in /proc/self/fd, less the one the listing itself holds. */
static int count_fds(uint64_t *n)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    uint64_t c = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            c++;
    closedir(d);
    *n = c ? c - 1 : 0;
    return 0;
}

int procstat_read(procstat_t *out)
{
    unsigned long long f[STAT_LAST + 1] = { 0 };
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    long long boot = boot_time();
    struct rlimit rl;
    int rc;

    memset(out, 0, sizeof *out);
    if (ticks <= 0 || page <= 0 || boot < 0)
        return -EPROTO;
    if ((rc = read_stat(f)) != 0 || (rc = count_fds(&out->open_fds)) != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->cpu_seconds = (double)(f[14] + f[15]) / (double)ticks;
    out->start_time_seconds = (double)boot + (double)f[22] / (double)ticks;
    out->virtual_bytes = f[23];
    out->resident_bytes = f[24] * (unsigned long long)page;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : rl.rlim_cur;
    return 0;
}
