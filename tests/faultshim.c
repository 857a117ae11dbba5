/*
 * faultshim.c - a test-only LD_PRELOAD library for the integration tests
 * (tests/integration/test_faults.py): while the file named by
 * $PATRON_FAULT_TRIGGER exists, every write to a file named data.mdb fails
 * with ENOSPC (as on a full disk); otherwise every call goes to the C
 * library. The unit test test_srv_faults.c does the same in-process.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int disk_full(int fd)
{
    const char *trigger = getenv("PATRON_FAULT_TRIGGER");
    char link[64], path[4096];
    ssize_t n;
    size_t len;

    if (!trigger || access(trigger, F_OK) != 0)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    len = (size_t)n;
    if (len < 9 || strcmp(path + len - 9, "/data.mdb") != 0)
        return 0;
    errno = ENOSPC;
    return 1;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t (*real)(int, const void *, size_t, off_t) =
        (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    return disk_full(fd) ? -1 : real(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    ssize_t (*real)(int, const void *, size_t) =
        (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    return disk_full(fd) ? -1 : real(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    ssize_t (*real)(int, const struct iovec *, int) =
        (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    return disk_full(fd) ? -1 : real(fd, iov, cnt);
}
