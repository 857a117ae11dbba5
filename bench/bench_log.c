/*
 * bench_log.c - what one access-log line costs (access.h, log.h): the line
 * of a Recommend call formatted as text and as JSON (log_format_line), and
 * written through plog_fields to /dev/null (formatting, the stdio lock and
 * the write(2) of an unbuffered stderr), in ns per line. bench/access_log.sh
 * measures the same cost end to end under load.
 *
 * Usage: bench_log [lines]   (default 500000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "monotime.h"

static const log_field_t fields[] = {
    LOG_STR("method", "/patron.v1.Recommender/Recommend"),
    LOG_STR("status", "OK"),
    LOG_REAL("ms", "1.234"),
    LOG_STR("peer", "ipv4:127.0.0.1:57670"),
    LOG_STR("request_id", "859b530c74e3534f2318f7d051804ffc"),
    LOG_NUM("model_version", 1),
    LOG_STR("experiment", "homepage-ranking"),
    LOG_STR("arm", "treatment"),
    LOG_STR("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

static double format_ns(log_format_t f, long n)
{
    struct timespec when;
    char buf[2048];
    double t0;
    long bytes = 0;

    clock_gettime(CLOCK_REALTIME, &when);
    t0 = monotime_seconds();
    for (long i = 0; i < n; i++)
        bytes += log_format_line(f, &when, LOG_INFO, "access", fields, N_FIELDS, buf,
                                 sizeof buf);
    if (bytes <= 0)
        fprintf(stdout, "no output\n");
    return (monotime_seconds() - t0) * 1e9 / (double)n;
}

static double write_ns(log_format_t f, long n)
{
    double t0;
    log_set_format(f);
    t0 = monotime_seconds();
    for (long i = 0; i < n; i++)
        plog_fields(LOG_INFO, "access", fields, N_FIELDS);
    return (monotime_seconds() - t0) * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 500000;
    if (n <= 0 || !freopen("/dev/null", "w", stderr))
        return 2;
    printf("access line, %ld lines each:\n", n);
    printf("  format text  %7.0f ns/line\n", format_ns(LOG_FORMAT_TEXT, n));
    printf("  format json  %7.0f ns/line\n", format_ns(LOG_FORMAT_JSON, n));
    printf("  write  text  %7.0f ns/line (to /dev/null)\n", write_ns(LOG_FORMAT_TEXT, n));
    printf("  write  json  %7.0f ns/line (to /dev/null)\n", write_ns(LOG_FORMAT_JSON, n));
    return 0;
}
