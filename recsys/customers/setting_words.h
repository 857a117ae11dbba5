/*
 * setting_words.h - the words of a settings line's value, for the lines
 * that take a name and options (points_rule, mission): split at blanks
 * with "..." keeping blanks inside one word, numbers in a range, names of
 * a restricted alphabet. Pure; no state.
 */
#ifndef PATRON_RECSYS_SETTING_WORDS_H
#define PATRON_RECSYS_SETTING_WORDS_H

#include <stddef.h>

#define WORDS_MAX 48

typedef struct words {
    char buf[1024];
    char *tok[WORDS_MAX];   /* into buf */
    size_t n;
} words_t;

/* Splits s into t. NULL, or what is wrong (a static string: "too many
 * words", "unterminated \"", "line too long"). */
const char *words_split(const char *s, words_t *t);

/* s is a whole number (when whole) or a finite number in [lo, hi]: 0 with
 * *out set, else -1. */
int words_number(const char *s, double lo, double hi, int whole, double *out);

/* 1 if s is 1..cap-1 bytes of A-Z a-z 0-9 _ . -, else 0. */
int words_name_ok(const char *s, size_t cap);

#endif
