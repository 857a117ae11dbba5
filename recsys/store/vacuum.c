/*
 * vacuum.c - rewrites the store's data file with live pages only (see
 * store_vacuum in store.h), and the advisory lock that makes it safe.
 */
#include "store.h"
#include "storelock.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define VACUUM_DIR "vacuum.tmp"

int store_lock_take(const char *dir, int exclusive)
{
    char path[4096];
    int fd, err;

    if (snprintf(path, sizeof path, "%s/%s", dir, STORE_LOCK_FILE) >= (int)sizeof path)
        return -ENAMETOOLONG;
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return -errno;
    if ((err = store_keep_private(path)) != 0) {
        close(fd);
        return err;
    }
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        err = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close(fd);
        return err;
    }
    return fd;
}

void store_lock_release(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the description drops the flock */
}

int store_keep_private(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
        return 0;
    return chmod(path, st.st_mode & S_IRWXU) == 0 ? 0 : -errno;
}

int store_fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC), rc = 0;
    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Removes what an interrupted vacuum left (the old data file is intact
 * until the rename, so leftovers are only ever the unfinished copy). */
static void remove_leftovers(const char *tmp)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", tmp);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", tmp);
    unlink(path);
    rmdir(tmp);
}

/* Compacting copy of dir's environment into tmp/data.mdb, fsynced. */
static int compact_copy(const char *dir, const char *tmp)
{
    MDB_env *env;
    char copy[4200];
    int rc = mdb_env_create(&env);

    if (rc)
        return rc == ENOMEM ? -ENOMEM : -EIO;
    mdb_env_set_maxdbs(env, 16);
    rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc == 0)
        rc = mdb_env_copy2(env, tmp, MDB_CP_COMPACT);
    mdb_env_close(env);
    if (rc)
        return rc > 0 ? -rc : -EIO; /* the file system's errno (ENOSPC, EDQUOT, ...) */
    snprintf(copy, sizeof copy, "%s/data.mdb", tmp);
    /* mdb_env_copy2 creates the copy 0666 less the umask: the file that
     * replaces data.mdb must be as private as the store. */
    if ((rc = store_keep_private(copy)) != 0)
        return rc;
    return store_fsync_path(copy, O_RDONLY);
}

int store_vacuum(const char *dir, uint64_t *bytes_before, uint64_t *bytes_after)
{
    char data[4096], tmp[4096], copy[4200];
    int lock, rc;

    if (!dir || !*dir)
        return -EINVAL;
    if (snprintf(data, sizeof data, "%s/data.mdb", dir) >= (int)sizeof data ||
        snprintf(tmp, sizeof tmp, "%s/%s", dir, VACUUM_DIR) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    snprintf(copy, sizeof copy, "%s/data.mdb", tmp);
    if (access(data, F_OK) != 0)
        return -ENOENT;
    if ((lock = store_lock_take(dir, 1)) < 0)
        return lock;
    remove_leftovers(tmp);
    if (mkdir(tmp, 0700) != 0) {
        rc = -errno;
        goto out;
    }
    if (bytes_before)
        *bytes_before = file_size(data);
    if ((rc = compact_copy(dir, tmp)) != 0)
        goto out;
    if (bytes_after)
        *bytes_after = file_size(copy);
    /* The one step that swaps: atomic, then made durable. */
    if (rename(copy, data) != 0) {
        rc = -errno;
        goto out;
    }
    rc = store_fsync_path(dir, O_RDONLY | O_DIRECTORY);
out:
    remove_leftovers(tmp);
    store_lock_release(lock);
    return rc;
}
