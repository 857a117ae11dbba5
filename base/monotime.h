/*
 * monotime.h - the monotonic clock in seconds, for measuring durations
 * (training time, benchmark throughput, tuning budgets). Not the wall clock:
 * it never jumps with NTP or settimeofday, and its zero is arbitrary.
 */
#ifndef PATRON_BASE_MONOTIME_H
#define PATRON_BASE_MONOTIME_H

/* Seconds on CLOCK_MONOTONIC (nanosecond resolution). */
double monotime_seconds(void);

#endif
