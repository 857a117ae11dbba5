/*
 * fuzz_common.h - what the libFuzzer drivers in tests/fuzz/ share.
 *
 * Each driver multiplexes several targets (the methods of the API, the kinds
 * of stored record): the first input byte picks the target (modulo their
 * number), the rest is its input. A driver lists its targets by name
 * (fuzz_targets) so the seed corpus can be kept by name, in
 * tests/fuzz/corpus/<driver>/<target>/, and stays valid when the method list
 * is reordered: fuzz_replay turns it into the index-prefixed files libFuzzer
 * reads (--emit) or runs it through the driver itself.
 *
 * Every input is counted per target; at exit the driver prints one line per
 * target ("fuzz-stats <target> <inputs> <ok>") which bench/fuzz.sh reads.
 * PATRON_FUZZ_ONLY=<target> sends every input to that one target, so a run
 * can be spent on one method and its rate measured.
 */
#ifndef PATRON_TESTS_FUZZ_COMMON_H
#define PATRON_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Implemented by each driver: its targets' names (static strings). */
const char *const *fuzz_targets(size_t *n);

/* The libFuzzer entry points every driver defines. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Picks the target of an input: 0 with *target, *body, *len set, -1 for an
 * empty input. Counts the input for the target. */
int fuzz_pick(const uint8_t *data, size_t size, size_t *target, const uint8_t **body,
              size_t *len);

/* Counts one input of target that its code accepted (status OK, record
 * decoded): the share of inputs that got past validation. */
void fuzz_accepted(size_t target);

/* The index of target `name`, or -1. */
long fuzz_target_index(const char *name);

/* Splits a stream method's input into messages: each is a varint length and
 * that many bytes (the last takes what is left when the length runs past
 * the end). Returns the next message in *msg / *len and advances *p; 0 when
 * none is left. */
int fuzz_next_frame(const uint8_t **p, const uint8_t *end, const uint8_t **msg, size_t *len);

/* The process aborts with a message on stderr when cond is false: a broken
 * invariant is a finding, which libFuzzer reports as a crash. */
#define FUZZ_ASSERT(cond, ...) \
    ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__))
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

#endif
