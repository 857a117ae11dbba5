/*
 * testcli.h - for tests that run the real `patron` binary: its path comes
 * from $PATRON_BIN (tests/CMakeLists.txt sets it), run() runs one command
 * and captures what it printed.
 */
#ifndef PATRON_TESTS_TESTCLI_H
#define PATRON_TESTS_TESTCLI_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *patron_bin;

/* Sets patron_bin from $PATRON_BIN, or exits 2. */
static inline void test_patron_bin(void)
{
    if (!(patron_bin = getenv("PATRON_BIN"))) {
        fprintf(stderr, "PATRON_BIN (the patron binary) is not set\n");
        exit(2);
    }
}

/* Runs `patron ARGS` (ARGS a shell-quoted string) and returns its exit
 * status; out (cap bytes) gets stdout and stderr. */
static inline int run(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    size_t n = 0;
    FILE *p;
    int st;

    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", patron_bin, args);
    if (!(p = popen(cmd, "r"))) {
        perror("popen");
        exit(2);
    }
    while (n + 1 < cap && fgets(out + n, (int)(cap - n), p))
        n += strlen(out + n);
    out[n] = '\0';
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes text to path, or exits 2. */
static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

#endif
