/*
 * bytesize.h - byte counts as people write them: "64G", "512M", "1.5T",
 * "4096" (binary multiples: K = 1024), and back ("1.0 GiB"). One place
 * for --map-size and for the messages that name it.
 */
#ifndef PATRON_BASE_BYTESIZE_H
#define PATRON_BASE_BYTESIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a positive size: a decimal number (a fraction allowed with a
 * suffix) followed by nothing (bytes) or K, M, G or T (powers of 1024),
 * optionally followed by "iB" or "B" ("64GiB", "64GB", "64g" alike).
 * Returns 0 and sets *out, or -1 when s is not one (empty, negative, zero,
 * junk after the suffix, or more than 2^63 bytes). */
int bytesize_parse(const char *s, uint64_t *out);

/* Writes n as "%.1f UNIT" with the largest binary unit not above it
 * ("512 B", "1.0 KiB", "64.0 GiB") into buf (cap bytes, NUL terminated;
 * 16 is always enough). Returns buf. */
char *bytesize_format(uint64_t n, char *buf, size_t cap);

#endif
