/*
 * strcheck.c - strcheck.h over the request walk of prescan.h: one wire
 * walker serves the limits and the string check.
 */
#include "strcheck.h"

#include <errno.h>
#include <stdint.h>

#include "prescan.h"

int strcheck(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
             char *path, size_t cap)
{
    static const prescan_limits_t no_limits = { SIZE_MAX, SIZE_MAX };
    const char *field;
    size_t count;
    char none[1];
    int rc = prescan_request(d, buf, len, &no_limits, &field, &count,
                             cap ? path : none, cap ? cap : sizeof none);

    /* Malformed bytes are not this check's to report: unpacking does. */
    return rc == -EILSEQ || (rc != 0 && (cap ? path[0] : none[0])) ? -EILSEQ : 0;
}
