/*
 * reflection.h - gRPC server reflection, so grpcurl and other tools can list
 * patrond's services and call them without the .proto files.
 *
 * Serves grpc.reflection.v1 and v1alpha (the same messages under two package
 * names, hence one handler) from the API's FileDescriptorSet, which the
 * build generates from proto/ and embeds (proto/CMakeLists.txt). Requests:
 * list_services (the services of app_t.api), file_by_filename and
 * file_containing_symbol (the file with every file it imports, so a client
 * can build the types at once), all_extension_numbers_of_type (none: the
 * API declares no extensions) and file_containing_extension (NOT_FOUND).
 *
 * The embedded set is parsed once, by the first stream to open, and then
 * shared read-only by every stream on every thread for the life of the
 * process (it is never freed); nothing else is shared between calls.
 */
#ifndef PATRON_SERVER_REFLECTION_H
#define PATRON_SERVER_REFLECTION_H

#include "transport.h"

/* Stream callbacks for RPC_BIDI_STREAM; `app` is an app_t, whose api
 * lists the services. */
extern const rpc_stream_ops_t reflection_stream_ops;

#endif
