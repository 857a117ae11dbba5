/*
 * fuzz_api.h - the methods patrond serves (methods.h, patron_api) with the
 * message types they read and answer, for the request drivers. The types
 * come from protoc-c's service descriptors, looked up by the method's path,
 * so a method added to methods.c is fuzzed without touching this harness
 * (and one whose service has no descriptor here stops the driver at start).
 */
#ifndef PATRON_TESTS_FUZZ_API_H
#define PATRON_TESTS_FUZZ_API_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "transport.h"

typedef struct fuzz_method {
    const rpc_method_t *m;                  /* in patron_api */
    const ProtobufCMessageDescriptor *in;   /* request message */
    const ProtobufCMessageDescriptor *out;  /* response message */
    char name[128];                         /* "patron.v1.Recommender.Recommend" */
} fuzz_method_t;

/* Every method of patron_api, in its order (built once; static). */
const fuzz_method_t *fuzz_methods(size_t *n);

/* The method names, for fuzz_targets. */
const char *const *fuzz_method_names(size_t *n);

#endif
