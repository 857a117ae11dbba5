/*
 * id.h - the one check for the identifiers callers hand Patron (customer,
 * item, event, coupon, experiment ids): a length bound and, optionally, a
 * character class. Every module that stores or keys on an id validates it
 * here, so "valid id" means the same thing everywhere.
 */
#ifndef PATRON_BASE_ID_H
#define PATRON_BASE_ID_H

#include <stddef.h>

/* No control bytes (below 0x20, or 0x7f) and valid UTF-8 (utf8.h): ids
 * that print, log and encode in proto3 safely. */
#define ID_PRINTABLE 1u
/* Only [A-Za-z0-9_.-]: names chosen by operators (experiments, arms). */
#define ID_TOKEN 2u

/* The length of id if it is 1..max bytes (its NUL within the first max + 1
 * bytes, so a fixed buffer of max + 1 bytes need not be terminated for the
 * check to be safe) and every byte meets flags; 0 otherwise, also for NULL. */
size_t id_check(const char *id, size_t max, unsigned flags);

#endif
