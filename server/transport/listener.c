/*
 * listener.c - accept loop with a descriptor cap (see listener.h).
 *
 * One thread polls the listening socket and a stop pipe. Every accepted
 * socket is non-blocking and close-on-exec with TCP_NODELAY, as gRPC's own
 * listener makes them, and then belongs to gRPC core.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define BACKLOG 1024

struct listener {
    grpc_server *server;
    grpc_server_credentials *creds;
    int fd;                 /* listening socket */
    int stop_pipe[2];       /* a byte on [1] stops the thread */
    int reserve;            /* spare descriptor for EMFILE, or -1 */
    int max_fd;
    atomic_ulong refused;
    pthread_t thread;
};

int listener_fd_cap(long limit)
{
    long keep = limit / 8;
    if (keep < 32)
        keep = 32;
    if (keep > 1024)
        keep = 1024;
    return limit - keep < 1 ? 1 : (int)(limit - keep);
}

/* Splits "host:port" / "[v6]:port" into host (NULL for "" or "*") and port. */
static int split_addr(const char *addr, char *host, size_t cap, const char **port)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t n;

    if (!colon || !colon[1])
        return -EINVAL;
    n = (size_t)(colon - addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        h = addr + 1;
        n -= 2;
    }
    if (n >= cap)
        return -EINVAL;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = colon + 1;
    return 0;
}

int listener_bind(const char *addr, int *port)
{
    char host[256];
    const char *service;
    struct addrinfo hints, *res, *ai;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = -1, one = 1;

    if (split_addr(addr, host, sizeof host, &service) != 0)
        return -EINVAL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host[0] && strcmp(host, "*") ? host : NULL, service, &hints, &res) != 0)
        return -EINVAL;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, BACKLOG) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -EADDRNOTAVAIL;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -EADDRNOTAVAIL;
    }
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static void refuse(listener_t *l, int fd, const char *why)
{
    unsigned long n = atomic_fetch_add(&l->refused, 1) + 1;
    close(fd);
    if ((n & (n - 1)) == 0) /* 1, 2, 4, 8...: visible, never a flood of lines */
        plog(LOG_WARN, "refused a connection (%s); %lu refused so far", why, n);
}

/* Out of descriptors: accept the waiting connection with the reserved one
 * and close it, so the client is told at once instead of hanging in the
 * backlog and the listener does not spin. */
static void refuse_with_reserve(listener_t *l)
{
    int fd;
    if (l->reserve < 0) {
        poll(NULL, 0, 50);
        return;
    }
    close(l->reserve);
    fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        refuse(l, fd, "out of descriptors");
    l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Accepts until the backlog is empty. */
static void accept_all(listener_t *l)
{
    int one = 1;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                refuse_with_reserve(l);
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                plog(LOG_WARN, "accept4: %s", strerror(errno));
            return;
        }
        if (fd >= l->max_fd) {
            refuse(l, fd, "descriptor cap reached");
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        grpc_server_add_channel_from_fd(l->server, fd, l->creds);
    }
}

static void *accept_main(void *arg)
{
    listener_t *l = arg;
    struct pollfd p[2] = { { l->fd, POLLIN, 0 }, { l->stop_pipe[0], POLLIN, 0 } };

    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            plog(LOG_ERROR, "listener poll: %s", strerror(errno));
            return NULL;
        }
        if (p[1].revents)
            return NULL;
        if (p[0].revents)
            accept_all(l);
    }
}

int listener_start(grpc_server *srv, const char *addr, int max_fd, listener_t **out,
                   int *port)
{
    listener_t *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->server = srv;
    l->max_fd = max_fd;
    l->stop_pipe[0] = l->stop_pipe[1] = -1;
    if ((l->fd = listener_bind(addr, port)) < 0) {
        int rc = l->fd;
        free(l);
        return rc;
    }
    l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    l->creds = grpc_insecure_server_credentials_create();
    if (pipe2(l->stop_pipe, O_CLOEXEC) != 0 || !l->creds ||
        pthread_create(&l->thread, NULL, accept_main, l) != 0) {
        if (l->stop_pipe[0] >= 0) {
            close(l->stop_pipe[0]);
            close(l->stop_pipe[1]);
        }
        if (l->creds)
            grpc_server_credentials_release(l->creds);
        if (l->reserve >= 0)
            close(l->reserve);
        close(l->fd);
        free(l);
        return -ENOMEM;
    }
    *out = l;
    return 0;
}

unsigned long listener_refused(const listener_t *l)
{
    return atomic_load(&((listener_t *)l)->refused);
}

void listener_stop(listener_t *l)
{
    char b = 0;
    if (!l)
        return;
    while (write(l->stop_pipe[1], &b, 1) < 0 && errno == EINTR)
        ;
    pthread_join(l->thread, NULL);
    close(l->stop_pipe[0]);
    close(l->stop_pipe[1]);
    close(l->fd);
    if (l->reserve >= 0)
        close(l->reserve);
    grpc_server_credentials_release(l->creds);
    free(l);
}
