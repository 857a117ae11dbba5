/*
 * pemfile.h - reads a PEM file (certificate chain, private key or trusted
 * roots) whole, for the server's and the client's TLS credentials.
 */
#ifndef PATRON_SERVER_PEMFILE_H
#define PATRON_SERVER_PEMFILE_H

#define PEMFILE_MAX (1 << 20) /* larger is not a PEM file we expect */

/* *out gets a malloc'd NUL-terminated copy of path's contents (caller
 * frees). Returns 0, -errno from opening, -EINVAL (unreadable or larger
 * than PEMFILE_MAX) or -ENOMEM. */
int pemfile_read(const char *path, char **out);

/* A private key must be readable by its owner only (mode 0600 or
 * stricter, like ssh keys). Returns 0, -EPERM when group or others have any
 * permission, or -errno from stat. */
int pemfile_private(const char *path);

#endif
