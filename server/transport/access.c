/*
 * access.c - one access-log line per finished call (see access.h), and the
 * W3C Trace Context `traceparent` header read for its trace id
 * (https://www.w3.org/TR/trace-context/#traceparent-header).
 */
#include "access.h"

#include <arpa/inet.h>
#include <grpc/support/alloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "status_names.h"

#define TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */

static void copy_tag(char dst[RPC_TAG_MAX], const char *src)
{
    if (src)
        snprintf(dst, RPC_TAG_MAX, "%s", src);
}

void rpc_tags_set(const rpc_call_info_t *ci, const char *request_id,
                  unsigned long long model_version, const char *experiment,
                  const char *arm)
{
    if (!ci || !ci->tags)
        return;
    copy_tag(ci->tags->request_id, request_id);
    ci->tags->model_version = model_version;
    copy_tag(ci->tags->experiment, experiment);
    copy_tag(ci->tags->arm, arm);
}

/* n lower-case hex digits; *nonzero set when one is not '0'. */
static int lower_hex(const char *s, size_t n, int *nonzero)
{
    *nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
        if (s[i] != '0')
            *nonzero = 1;
    }
    return 1;
}

int traceparent_trace_id(const char *v, size_t len, char out[33])
{
    int version_set, trace_set, parent_set, flags_set;

    out[0] = '\0';
    if (len < TRACEPARENT_LEN || v[2] != '-' || v[35] != '-' || v[52] != '-')
        return -1;
    if (!lower_hex(v, 2, &version_set) || !lower_hex(v + 3, 32, &trace_set) ||
        !lower_hex(v + 36, 16, &parent_set) || !lower_hex(v + 53, 2, &flags_set))
        return -1;
    (void)version_set;
    (void)flags_set;
    if (!trace_set || !parent_set || strncmp(v, "ff", 2) == 0)
        return -1;
    /* Version 00 is exactly this long; later versions may append fields. */
    if (len > TRACEPARENT_LEN && (strncmp(v, "00", 2) == 0 || v[TRACEPARENT_LEN] != '-'))
        return -1;
    memcpy(out, v + 3, 32);
    out[32] = '\0';
    return 0;
}

/* The trace id of the call's traceparent header, "" without a valid one. */
static void trace_id_of(const grpc_metadata_array *md, char out[33])
{
    out[0] = '\0';
    for (size_t i = 0; md && i < md->count; i++) {
        const grpc_metadata *m = &md->metadata[i];
        if (grpc_slice_str_cmp(m->key, "traceparent") == 0) {
            traceparent_trace_id((const char *)GRPC_SLICE_START_PTR(m->value),
                                 GRPC_SLICE_LENGTH(m->value), out);
            return;
        }
    }
}

/* "ipv4:a.b.c.d:port" / "ipv6:[addr]:port" of a connected socket, as gRPC
 * writes peers; -1 when it has none. */
static int socket_peer(int fd, char *out, size_t cap)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char host[INET6_ADDRSTRLEN];

    if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    if (sa.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, cap, "ipv4:%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, cap, "ipv6:[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        return -1;
    }
    return 0;
}

void access_peer(grpc_call *call, char *out, size_t cap)
{
    char *peer = grpc_call_get_peer(call);
    char *end;
    long fd;

    snprintf(out, cap, "%s", peer ? peer : "");
    if (peer && strncmp(peer, "fd:", 3) == 0) {
        fd = strtol(peer + 3, &end, 10);
        if (end != peer + 3 && *end == '\0' && fd >= 0 && fd <= INT32_MAX)
            socket_peer((int)fd, out, cap);
    }
    gpr_free(peer);
}

void access_log_call(const char *method, grpc_status_code code, int64_t us,
                     const char *peer, const grpc_metadata_array *md,
                     const rpc_call_tags_t *tags)
{
    static const rpc_call_tags_t none;
    const rpc_call_tags_t *t = tags ? tags : &none;
    char trace[33], ms[32];

    trace_id_of(md, trace);
    snprintf(ms, sizeof ms, "%.3f", (double)us / 1000.0);
    {
        log_field_t f[] = {
            LOG_STR("method", method),
            LOG_STR("status", status_name((int)code)),
            LOG_REAL("ms", ms),
            LOG_STR("peer", peer),
            LOG_STR("request_id", t->request_id),
            LOG_NUM("model_version", t->model_version),
            LOG_STR("experiment", t->experiment),
            LOG_STR("arm", t->arm),
            LOG_STR("trace_id", trace),
        };
        plog_fields(LOG_INFO, "access", f, sizeof f / sizeof f[0]);
    }
}
