/*
 * version.c - the release and commit from the generated build header
 * (contract in version.h). The only file that includes patron_build.h, so a
 * new commit recompiles this file alone and relinks the programs.
 */
#include "version.h"

#include "patron_build.h"

const char *patron_version(void)
{
    return PATRON_BUILD_VERSION;
}

const char *patron_commit(void)
{
    return PATRON_BUILD_COMMIT;
}

void patron_print_version(FILE *f, const char *program)
{
    fprintf(f, "%s %s (commit %s)\n", program, PATRON_BUILD_VERSION, PATRON_BUILD_COMMIT);
}
