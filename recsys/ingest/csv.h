/*
 * csv.h - a small streaming CSV reader (RFC 4180) and strict field parsers.
 *
 * The reader pulls one record at a time from a FILE*: fields may be quoted
 * ("a,b", doubled quotes "" inside, line breaks inside quotes), records end
 * with LF, CRLF or a lone CR, and lines have no length limit (the buffer
 * grows). A UTF-8 byte order mark at the start of the file is skipped, and so
 * are completely empty lines (they carry no record; line numbers still count
 * them). A quote inside an unquoted field (12" stand) is kept literally; text
 * after a closing quote ("a"b) is an error.
 *
 * Errors are negative errno values: -EBADMSG malformed input (csv_errmsg()
 * says what, csv_line() says where), -ENOMEM, -EIO read error. After
 * -EBADMSG the reader has skipped to the end of the offending record (an
 * unterminated quote runs to the end of the file), so the caller may count
 * the problem and keep reading.
 */
#ifndef PATRON_RECSYS_CSV_H
#define PATRON_RECSYS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct csv_reader csv_reader_t;

/* Creates a reader over f, which stays owned by the caller (the reader never
 * closes it). Returns NULL if out of memory. */
csv_reader_t *csv_reader_new(FILE *f);
void csv_reader_free(csv_reader_t *r); /* NULL-safe */

/* Reads the next record. Returns 1 and sets *fields (an array of *nfields
 * NUL-terminated strings) on success, 0 at end of input, or a negative errno
 * (see above). The array and the strings point into the reader's buffer and
 * stay valid only until the next csv_next or csv_reader_free: copy what you
 * keep. Fields may be modified in place but not freed. */
int csv_next(csv_reader_t *r, char ***fields, size_t *nfields);

/* 1-based line number where the last record (or the last error) started. */
uint64_t csv_line(const csv_reader_t *r);

/* Static description of the last -EBADMSG error, e.g. "unterminated quote";
 * "" if none. */
const char *csv_errmsg(const csv_reader_t *r);

/* Writes s to f as one field, quoted per RFC 4180 (quotes doubled) when it
 * holds a comma, quote or line break, so csv_next reads it back unchanged. */
void csv_write_field(FILE *f, const char *s);

/* ---- strict field parsers -------------------------------------------------
 * Each returns 0 and sets *out, or -EINVAL (leaving *out unchanged) if the
 * whole field is not one well-formed value: no surrounding spaces, no
 * trailing garbage, no empty field. */

/* Decimal floating point, finite (rejects inf, nan and hex floats). Uses
 * strtod, so the decimal point is the C locale's '.' unless the program
 * called setlocale. */
int csv_parse_double(const char *s, double *out);

/* Decimal integer with optional sign, within int64 range. */
int csv_parse_i64(const char *s, int64_t *out);

/* A point in time as unix milliseconds (UTC). Accepted forms:
 *  - unix seconds: all digits, e.g. "1740824531";
 *  - ISO 8601: "YYYY-MM-DDTHH:MM:SS" or with a space instead of 'T',
 *    optionally with fractional seconds ".fff" (up to 9 digits, truncated to
 *    ms) and a zone "Z" or "+HH:MM"/"-HH:MM" (no zone means UTC);
 *  - UCI Online Retail: "M/D/YYYY H:MM" (1 or 2 digit month, day and hour;
 *    optionally ":SS"), read as UTC.
 * Calendar fields are range-checked (Feb 29 only in leap years, hour < 24,
 * minute and second < 60); years 1970..9999. */
int csv_parse_time_ms(const char *s, int64_t *out);

#endif
