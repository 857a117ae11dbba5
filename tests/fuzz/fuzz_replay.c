/*
 * fuzz_replay.c - a plain main() for the fuzz drivers, linked with each of
 * them (fuzz_*_replay): runs a seed corpus through the driver's
 * LLVMFuzzerTestOneInput without libFuzzer, so the normal and sanitizer
 * builds (gcc) exercise every entry point with every seed and regression
 * input, and writes the corpus in the form libFuzzer reads.
 *
 *   fuzz_<driver>_replay DIR            run every DIR/<target>/<file>
 *   fuzz_<driver>_replay --emit OUT DIR write each as OUT/<hash>, prefixed
 *                                       with its target's index byte
 *   fuzz_<driver>_replay --list         print the targets' names
 *
 * DIR holds one folder per target, named as fuzz_targets names it (a
 * method "patron.v1.Recommender.Recommend", a record kind "coupon"), each
 * with raw inputs: a request's bytes, a stream's frames, a record's bytes.
 * Keeping seeds by name keeps them valid when methods are added or
 * reordered. A folder naming no target is an error (stale seeds); a target
 * without seeds is reported.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#define REPLAY_MAX_INPUT (1u << 20)

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = malloc(REPLAY_MAX_INPUT + 1);
    if (!f || !b) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
    *len = fread(b + 1, 1, REPLAY_MAX_INPUT, f);
    fclose(f);
    return b;
}

static void emit(const char *out, const uint8_t *b, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    char path[1024];
    FILE *f;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    snprintf(path, sizeof path, "%s/%016llx", out, (unsigned long long)h);
    if (!(f = fopen(path, "wb")) || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(2);
    }
}

/* Runs (or emits) every file of dir/name as target index; returns the count. */
static size_t one_target(const char *dir, const char *name, long index, const char *out)
{
    char sub[1024], path[2048];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    if (!(d = opendir(sub)))
        return 0;
    while ((e = readdir(d))) {
        uint8_t *b;
        size_t len;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
        b = read_file(path, &len);
        b[0] = (uint8_t)index;
        if (out)
            emit(out, b, len + 1);
        else
            LLVMFuzzerTestOneInput(b, len + 1);
        free(b);
        n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *dir;
    size_t n_targets, total = 0;
    const char *const *names;
    struct dirent *e;
    DIR *d;
    int rc = 0;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        names = fuzz_targets(&n_targets);
        for (size_t i = 0; i < n_targets; i++)
            printf("%s\n", names[i]);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--emit") == 0) {
        out = argv[2];
        dir = argv[3];
        mkdir(out, 0700);
    } else if (argc == 2) {
        dir = argv[1];
    } else {
        fprintf(stderr, "usage: %s [--emit OUT] CORPUS_DIR | --list\n", argv[0]);
        return 2;
    }
    if (!(d = opendir(dir))) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return 2;
    }
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && fuzz_target_index(e->d_name) < 0) {
            fprintf(stderr, "%s/%s: names no target of this driver\n", dir, e->d_name);
            rc = 1;
        }
    closedir(d);
    if (!out)
        LLVMFuzzerInitialize(&argc, &argv);
    names = fuzz_targets(&n_targets);
    for (size_t i = 0; i < n_targets; i++) {
        size_t n = one_target(dir, names[i], (long)i, out);
        if (n == 0)
            fprintf(stderr, "note: no seeds for %s\n", names[i]);
        total += n;
    }
    printf("%s %zu inputs from %s\n", out ? "emitted" : "replayed", total, dir);
    return rc;
}
