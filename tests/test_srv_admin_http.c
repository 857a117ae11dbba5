/*
 * test_srv_admin_http.c - the admin HTTP listener (server/admin/admin_http.h)
 * on loopback: routing, 404 for unknown paths, 405 with Allow for other
 * methods, HEAD without a body, address errors, and a stop that joins the
 * thread and releases the socket (the port can be bound again).
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "admin_http.h"
#include "testutil.h"

static void h_hello(void *ctx, admin_reply_t *out)
{
    (*(int *)ctx)++;
    admin_reply_text(out, 200, "hello\n");
}

static void h_busy(void *ctx, admin_reply_t *out)
{
    (void)ctx;
    out->content_type = "text/x-test";
    admin_reply_text(out, 503, "not ready: testing\n");
}

static const admin_route_t routes[] = { { "/hello", h_hello }, { "/busy", h_busy } };

/* Sends one raw request to 127.0.0.1:port and reads the whole answer
 * (the server closes the connection) into buf. Returns its length or -1. */
static long exchange(int port, const char *request, char *buf, size_t cap)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    size_t got = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
        close(fd);
        return -1;
    }
    while (got + 1 < cap && (n = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    return (long)got;
}

static const char *body(const char *response)
{
    const char *p = strstr(response, "\r\n\r\n");
    return p ? p + 4 : "";
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_routes(void)
{
    admin_http_t *h;
    char buf[4096];
    int port = 0, hits = 0, fds = open_fds(), again;

    CHECK_EQ_INT(admin_http_start("127.0.0.1:0", routes, 2, &hits, &h, &port), 0);
    CHECK(port > 0);

    CHECK(exchange(port, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                   buf, sizeof buf) > 0);
    CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    CHECK(strstr(buf, "Content-Type: text/plain; charset=utf-8\r\n") != NULL);
    CHECK_STREQ(body(buf), "hello\n");
    CHECK_EQ_INT(hits, 1);

    exchange(port, "GET /busy HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", buf,
             sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 503 ", 13) == 0);
    CHECK(strstr(buf, "Content-Type: text/x-test\r\n") != NULL);
    CHECK_STREQ(body(buf), "not ready: testing\n");

    exchange(port, "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", buf,
             sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 404 ", 13) == 0);

    exchange(port, "POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
                   "Connection: close\r\n\r\nhi", buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 405 ", 13) == 0);
    CHECK(strstr(buf, "Allow: GET, HEAD\r\n") != NULL);
    CHECK_EQ_INT(hits, 1);

    exchange(port, "HEAD /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", buf,
             sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    CHECK_STREQ(body(buf), "");
    CHECK_EQ_INT(hits, 2);

    /* Not HTTP at all: refused (libmicrohttpd's parser), the listener lives on. */
    exchange(port, "\x01\x02garbage\r\n\r\n", buf, sizeof buf);
    CHECK(strstr(buf, " 200 ") == NULL);
    CHECK_EQ_INT(hits, 2);
    CHECK(exchange(port, "GET /hello HTTP/1.0\r\n\r\n", buf, sizeof buf) > 0);
    CHECK_STREQ(body(buf), "hello\n");

    admin_http_stop(h);
    CHECK_EQ_INT(open_fds(), fds); /* socket, epoll and thread pipes released */
    CHECK_EQ_INT(exchange(port, "GET /hello HTTP/1.0\r\n\r\n", buf, sizeof buf), -1);
    /* The port is free again. */
    CHECK_EQ_INT(admin_http_start("127.0.0.1:0", routes, 2, &hits, &h, &again), 0);
    admin_http_stop(h);
}

static void test_bad_addresses(void)
{
    admin_http_t *h = (admin_http_t *)1, *first;
    int port = 0, hits = 0;
    char addr[64];

    CHECK_EQ_INT(admin_http_start("no-port", routes, 2, &hits, &h, &port), -EINVAL);
    CHECK(h == NULL);
    CHECK_EQ_INT(admin_http_start("127.0.0.1:notaport", routes, 2, &hits, &h, &port),
                 -EINVAL);
    CHECK_EQ_INT(admin_http_start("127.0.0.1:0", routes, 2, &hits, &first, &port), 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    CHECK_EQ_INT(admin_http_start(addr, routes, 2, &hits, &h, &port), -EADDRNOTAVAIL);
    admin_http_stop(first);
    admin_http_stop(NULL);
}

int main(void)
{
    test_routes();
    test_bad_addresses();
    if (test_failures) {
        fprintf(stderr, "%d check(s) failed\n", test_failures);
        return 1;
    }
    printf("test_srv_admin_http: ok\n");
    return 0;
}
