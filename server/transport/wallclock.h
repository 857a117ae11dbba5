/*
 * wallclock.h - the wall clock in Unix milliseconds, the time unit of the
 * API's *_unix_ms fields (events, exposures, decisions, "now" for profiles).
 * Deadlines use the monotonic clock instead (transport.c).
 */
#ifndef PATRON_SERVER_WALLCLOCK_H
#define PATRON_SERVER_WALLCLOCK_H

#include <stdint.h>

int64_t wall_ms(void);

#endif
