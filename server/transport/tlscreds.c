/*
 * tlscreds.c - the server's TLS credentials from PEM files (see tlscreds.h).
 */
#include "tlscreds.h"

#include <errno.h>
#include <grpc/grpc_security.h>
#include <stdlib.h>
#include <string.h>

#include "pemfile.h"

/* Whether and how clients present certificates (mutual TLS). */
static grpc_ssl_client_certificate_request_type client_cert_request(const char *client_ca,
                                                                      int require)
{
    if (!client_ca)
        return GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    return require ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                   : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
}

/* gRPC core 1.51's C API has no setter for the TLS versions; its TLS layer
 * (tsi) defaults to 1.2..1.3, so TLS 1.2 is the minimum
 * (tests/integration/test_admin_ops.py checks that a TLS 1.1 handshake is
 * refused). */
int tls_server_credentials(const char *cert_file, const char *key_file,
                           const char *client_ca_file, int require_client_cert,
                           grpc_server_credentials **out)
{
    grpc_ssl_pem_key_cert_pair pair;
    grpc_ssl_server_certificate_config *config;
    grpc_ssl_server_credentials_options *options;
    char *cert = NULL, *key = NULL, *ca = NULL;
    int rc;

    if (!cert_file || !key_file ||
        (require_client_cert && !client_ca_file))
        return -EINVAL;
    if ((rc = pemfile_read(cert_file, &cert)) != 0 ||
        (rc = pemfile_read(key_file, &key)) != 0 ||
        (client_ca_file && (rc = pemfile_read(client_ca_file, &ca)) != 0)) {
        if (key)
            memset(key, 0, strlen(key));
        free(key);
        free(cert);
        return rc;
    }
    pair.cert_chain = cert;
    pair.private_key = key;
    /* the config keeps its own copies */
    config = grpc_ssl_server_certificate_config_create(ca, &pair, 1);
    options = grpc_ssl_server_credentials_create_options_using_config(client_cert_request(client_ca_file, require_client_cert),
                                                                      config);
    *out = options ? grpc_ssl_server_credentials_create_with_options(options) : NULL;
    memset(key, 0, strlen(key));
    free(key);
    free(cert);
    free(ca);
    return *out ? 0 : -EINVAL;
}
