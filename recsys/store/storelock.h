/*
 * storelock.h - the advisory lock that keeps store_vacuum from replacing the
 * data file under a process that has the store open. Every store_open holds
 * it shared for the life of the store; store_vacuum holds it exclusively.
 * Also the file helpers vacuum and backup share. Internal to recsys/store.
 */
#ifndef PATRON_RECSYS_STORELOCK_H
#define PATRON_RECSYS_STORELOCK_H

#define STORE_LOCK_FILE "patron.lock"

/* Locks dir/patron.lock (created if missing) without waiting. Returns the
 * descriptor holding the lock, -EBUSY when the other kind is held (by any
 * process), or another negative errno. */
int store_lock_take(const char *dir, int exclusive);

/* Releases a lock store_lock_take returned (closing its descriptor). */
void store_lock_release(int fd);

/* The store holds customer data: its directory is 0700 and its files 0600.
 * Clears the group and other bits of path if it has any (a store made by
 * an older release, or under a loose umask). Returns 0 (also when path does
 * not exist) or a negative errno (chmod failed: not the owner). */
int store_keep_private(const char *path);

/* Opens path with flags (O_RDONLY for a file, O_RDONLY | O_DIRECTORY for a
 * directory, so a rename in it is durable), fsyncs and closes it. Returns 0
 * or a negative errno. */
int store_fsync_path(const char *path, int flags);

#endif
