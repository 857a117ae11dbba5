/* pemfile.c - see pemfile.h. */
#include "pemfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int pemfile_read(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    size_t got;

    if (!f)
        return -errno;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > PEMFILE_MAX ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -EINVAL;
    }
    if (!(buf = malloc((size_t)n + 1))) {
        fclose(f);
        return -ENOMEM;
    }
    got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    *out = buf;
    return 0;
}

int pemfile_private(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    return st.st_mode & (S_IRWXG | S_IRWXO) ? -EPERM : 0;
}
