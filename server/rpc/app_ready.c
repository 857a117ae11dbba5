/*
 * app_ready.c - whether the process is ready to serve (app.h): the rule
 * grpc.health.v1 and /readyz share, and whether the store takes writes.
 */
#include "app.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

const char *app_unready(app_t *a, int flags)
{
    model_t *m;

    if (atomic_load(&a->draining))
        return "draining";
    if ((flags & RPC_SVC_NEEDS_EXPERIMENTS) && atomic_load(&a->experiments_unloaded))
        return "stored experiment definitions not loaded";
    if (!(flags & RPC_SVC_NEEDS_MODEL))
        return NULL;
    m = model_slot_get(&a->models);
    model_unref(m);
    return m ? NULL : "no model loaded";
}

int app_store_writable(app_t *a, char *why, size_t cap)
{
    struct statvfs fs;

    if (!a->data_dir)
        return 1;
    if (access(a->data_dir, W_OK) != 0) {
        snprintf(why, cap, "data directory %s not writable: %s", a->data_dir,
                 strerror(errno));
        return 0;
    }
    if (statvfs(a->data_dir, &fs) != 0) {
        snprintf(why, cap, "data directory %s: %s", a->data_dir, strerror(errno));
        return 0;
    }
    if (fs.f_flag & ST_RDONLY) {
        snprintf(why, cap, "data directory %s is on a read-only file system", a->data_dir);
        return 0;
    }
    if (fs.f_bavail == 0) {
        snprintf(why, cap, "data directory %s: file system full", a->data_dir);
        return 0;
    }
    return 1;
}
