/*
 * tlscreds.h - the TLS credentials of the gRPC port (transport_opts_t):
 * a PEM certificate chain and private key, and optionally PEM roots client
 * certificates are verified against (mutual TLS).
 */
#ifndef PATRON_SERVER_TLSCREDS_H
#define PATRON_SERVER_TLSCREDS_H

#include <grpc/grpc_security.h>

/* *out gets server credentials (release with
 * grpc_server_credentials_release) from cert_file and key_file; with
 * client_ca_file, clients' certificates are requested and verified, and
 * with require_client_cert clients without one are refused. The key bytes
 * are wiped from memory once gRPC has its copy. Returns 0, -EINVAL (a
 * file missing from the arguments, require_client_cert without
 * client_ca_file, or not a valid PEM pair), or pemfile_read's error. */
int tls_server_credentials(const char *cert_file, const char *key_file,
                           const char *client_ca_file, int require_client_cert,
                           grpc_server_credentials **out);

#endif
