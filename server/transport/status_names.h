/*
 * status_names.h - the canonical names of gRPC status codes, for messages
 * people read (the CLI's errors, GetServerStats). Plain ints, no gRPC types.
 */
#ifndef PATRON_SERVER_STATUS_NAMES_H
#define PATRON_SERVER_STATUS_NAMES_H

#define STATUS_CODES 17 /* OK .. UNAUTHENTICATED */

/* "INVALID_ARGUMENT" for 3; "UNKNOWN" for anything out of range. */
const char *status_name(int code);

#endif
