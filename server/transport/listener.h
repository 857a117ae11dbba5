/*
 * listener.h - Patron's own TCP listener for plaintext gRPC.
 *
 * gRPC core 1.51 stops accepting for good after one accept4() fails with
 * EMFILE ("Failed accept4: Too many open files": the listener is never
 * re-armed), and it has no channel argument capping incoming connections
 * (GRPC_ARG_MAX_ALLOWED_INCOMING_CONNECTIONS came later). So for plaintext
 * ports Patron accepts itself and hands each connection to the server with
 * grpc_server_add_channel_from_fd (which 1.51 supports for insecure
 * credentials only; TLS ports stay on gRPC's listener).
 *
 * The cap is on descriptors: accept4() returns the lowest free descriptor,
 * so a connection whose descriptor is >= max_fd means at least max_fd are
 * open; it is closed at once (the client sees the connection refused and
 * retries), leaving the rest of the limit to gRPC's own descriptors. Should
 * accept4() still fail with EMFILE, a reserved descriptor is released to
 * accept and close the waiting connection, and the listener keeps going.
 */
#ifndef PATRON_SERVER_LISTENER_H
#define PATRON_SERVER_LISTENER_H

#include <grpc/grpc.h>

typedef struct listener listener_t;

/* Binds and listens on addr ("host:port", "[v6]:port"; port 0 = ephemeral)
 * and starts the accept thread, which adds connections to srv (started,
 * and outliving the listener). Connections whose descriptor would be
 * >= max_fd are refused. *port gets the bound port. Returns 0, or a
 * negative errno (-EINVAL bad address, -EADDRNOTAVAIL could not bind,
 * -ENOMEM). */
int listener_start(grpc_server *srv, const char *addr, int max_fd, listener_t **out,
                   int *port);

/* Binds and listens on addr as listener_start does, without a thread:
 * returns the listening socket (non-blocking, close-on-exec; the caller
 * owns it) with *port the bound port, or -EINVAL (bad address) or
 * -EADDRNOTAVAIL (could not bind). Also used by the admin HTTP listener
 * (server/admin/admin_http.h). */
int listener_bind(const char *addr, int *port);

/* Connections refused so far (descriptor cap or EMFILE). Thread-safe. */
unsigned long listener_refused(const listener_t *l);

/* Stops accepting (joins the thread) and closes the socket. NULL is a no-op.
 * Call before grpc_server_shutdown_and_notify. */
void listener_stop(listener_t *l);

/* The descriptor cap for a process whose RLIMIT_NOFILE soft limit is
 * limit: an eighth of it (at least 32, at most 1024) stays for gRPC's own
 * descriptors, LMDB and logs. */
int listener_fd_cap(long limit);

#endif
