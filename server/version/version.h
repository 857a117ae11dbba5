/*
 * version.h - which Patron this is: the release (CMake's project VERSION,
 * the one place it is set) and the source commit it was built from (`git
 * describe --always --dirty` at build time, "unknown" outside a git checkout;
 * cmake/buildinfo.cmake). For --version of patrond and patron and for the
 * patron_build_info{version,commit} metric.
 *
 * The strings are static and constant: never freed, safe from any thread.
 */
#ifndef PATRON_SERVER_VERSION_H
#define PATRON_SERVER_VERSION_H

#include <stdio.h>

/* The release, "MAJOR.MINOR.PATCH". */
const char *patron_version(void);

/* The commit: a describe string such as "a9177b3" or "a9177b3-dirty", or
 * "unknown". Only [A-Za-z0-9._+-], so it can go into a label or a header
 * unquoted. */
const char *patron_commit(void);

/* Prints "PROGRAM VERSION (commit COMMIT)\n" to f: the --version line. */
void patron_print_version(FILE *f, const char *program);

#endif
