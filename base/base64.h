/*
 * base64.h - RFC 4648 base64, as the proto3 JSON mapping writes bytes
 * fields: encoding with the standard alphabet and padding; decoding either
 * alphabet (standard "+/" or URL-safe "-_"), padding optional.
 */
#ifndef PATRON_BASE_BASE64_H
#define PATRON_BASE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode writes for n bytes (without the NUL). */
size_t base64_encoded_len(size_t n);

/* Writes the encoding of in[0..n) and a NUL to out, which holds
 * base64_encoded_len(n) + 1 bytes. */
void base64_encode(const uint8_t *in, size_t n, char *out);

/* Decodes s[0..n) into out (which holds at least n * 3 / 4 + 3 bytes),
 * *outlen the bytes written. Returns 0, or -1 when s is not base64 (a
 * character outside both alphabets, padding anywhere but the end, a length
 * no encoding has); *bad then gets the offending offset. */
int base64_decode(const char *s, size_t n, uint8_t *out, size_t *outlen, size_t *bad);

#endif
