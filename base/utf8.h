/*
 * utf8.h - the one UTF-8 rule for text Patron stores or echoes (ids,
 * titles, categories, names): well-formed UTF-8 as proto3 requires (no
 * overlong forms, no surrogates, nothing above U+10FFFF) and no NUL byte,
 * which C strings would silently cut at ("c1\0evil" read as "c1").
 */
#ifndef PATRON_BASE_UTF8_H
#define PATRON_BASE_UTF8_H

#include <stddef.h>

/* Offset of the first byte of s[0..n) that breaks the rule (a NUL, or the
 * start of an ill-formed sequence); n when all of it is valid. s may be
 * NULL when n is 0. */
size_t utf8_check(const char *s, size_t n);

/* Whether s[0..n) is valid: utf8_check(s, n) == n. */
int utf8_valid(const char *s, size_t n);

#endif
