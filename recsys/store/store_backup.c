/*
 * store_backup.c - online backup and restore (see store_backup.h).
 *
 * The copy is LMDB's own: mdb_env_copyfd2 walks one read transaction, so it
 * is consistent however many writes commit meanwhile, and MDB_CP_COMPACT
 * leaves freed pages out (which also keeps erased customers' old bytes out
 * of backups). The manifest is read back from the copy, not from the live
 * store, so its counts describe exactly what the backup holds.
 */
#include "store_backup.h"
#include "store_internal.h"
#include "storelock.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "hash.h"

#define MANIFEST "MANIFEST"
#define DATA "data.mdb"
#define COPY_CHUNK (1u << 20)

static const uint8_t checksum_key[16]; /* all zero: a checksum, not a MAC */

static int join(char *buf, size_t cap, const char *dir, const char *name)
{
    return snprintf(buf, cap, "%s/%s", dir, name) < (int)cap ? 0 : -ENAMETOOLONG;
}

/* Hashes the file at path; *bytes gets its size. */
static int hash_file(const char *path, uint64_t *sum, uint64_t *bytes)
{
    unsigned char *buf = malloc(COPY_CHUNK);
    siphash_t h;
    ssize_t n;
    int fd, rc = 0;

    if (!buf)
        return -ENOMEM;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        free(buf);
        return -errno;
    }
    siphash_init(&h, checksum_key);
    *bytes = 0;
    while ((n = read(fd, buf, COPY_CHUNK)) > 0) {
        siphash_update(&h, buf, (size_t)n);
        *bytes += (uint64_t)n;
    }
    if (n < 0)
        rc = -errno;
    close(fd);
    free(buf);
    *sum = siphash_final(&h);
    return rc;
}

/* Reads the counts of the copy in dir (opened without a lock file: nobody
 * else knows it yet). */
static int describe_copy(const char *dir, store_backup_info_t *info)
{
    MDB_env *env;
    MDB_txn *txn = NULL;
    MDB_dbi meta, events;
    MDB_stat st;
    uint64_t version = 0;
    int rc = mdb_env_create(&env);

    if (rc)
        return map_err(rc);
    mdb_env_set_maxdbs(env, 16);
    rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600);
    if (rc == 0)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "events", 0, &events);
    if (rc == 0)
        rc = mdb_stat(txn, events, &st);
    rc = map_err(rc);
    if (rc == 0)
        rc = store_meta_get_u64(txn, meta, "format_version", &version);
    if (rc == 0)
        rc = store_meta_get_u64(txn, meta, "event_seq", &info->event_seq);
    if (rc == 0) {
        info->events = st.ms_entries;
        info->format_version = version ? (uint32_t)version : 1;
    }
    if (txn)
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc;
}

static int write_manifest(const char *path, const store_backup_info_t *in)
{
    FILE *f;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), rc = 0;

    if (fd < 0)
        return -errno;
    if (!(f = fdopen(fd, "w"))) {
        rc = -errno;
        close(fd);
        return rc;
    }
    fprintf(f, "patron-backup %d\nstore_format_version %u\ndata_bytes %" PRIu64 "\n"
            "data_siphash24 %016" PRIx64 "\ncreated_unix_ms %" PRId64 "\n"
            "events %" PRIu64 "\nevent_seq %" PRIu64 "\n", STORE_BACKUP_VERSION,
            in->format_version, in->bytes, in->checksum, in->created_ms, in->events,
            in->event_seq);
    if (fflush(f) != 0 || fsync(fd) != 0)
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* What an interrupted backup left in tmp (only ever our two files). */
static void remove_tmp(const char *tmp)
{
    char path[4200];
    if (join(path, sizeof path, tmp, DATA) == 0)
        unlink(path);
    if (join(path, sizeof path, tmp, MANIFEST) == 0)
        unlink(path);
    rmdir(tmp);
}

/* The directory holding path, for the fsync that makes a rename durable. */
static void parent_of(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, cap, ".");
    else if (slash == path)
        snprintf(buf, cap, "/");
    else
        snprintf(buf, cap, "%.*s", (int)(slash - path), path);
}

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int copy_into(store_t *s, const char *tmp, store_backup_info_t *info)
{
    char data[4200], manifest[4200];
    int fd, rc;

    if ((rc = join(data, sizeof data, tmp, DATA)) != 0 ||
        (rc = join(manifest, sizeof manifest, tmp, MANIFEST)) != 0)
        return rc;
    if ((fd = open(data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return -errno;
    info->created_ms = now_ms();
    store_gate_enter(s); /* the copy runs a read transaction of its own */
    rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
    store_gate_leave(s);
    rc = rc ? map_err(rc) : (fsync(fd) != 0 ? -errno : 0);
    close(fd);
    if (rc == 0)
        rc = describe_copy(tmp, info);
    if (rc == 0)
        rc = hash_file(data, &info->checksum, &info->bytes);
    if (rc == 0)
        rc = write_manifest(manifest, info);
    if (rc == 0)
        rc = store_fsync_path(tmp, O_RDONLY | O_DIRECTORY);
    return rc;
}

int store_backup(store_t *s, const char *out, store_backup_info_t *info)
{
    store_backup_info_t mine = { 0 };
    char tmp[4096], parent[4096];
    int rc;

    if (!s || !out || !*out)
        return -EINVAL;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    if (access(out, F_OK) == 0)
        return -EEXIST;
    remove_tmp(tmp);
    if (mkdir(tmp, 0700) != 0)
        return -errno;
    rc = copy_into(s, tmp, &mine);
    /* Never replaces: a backup that appeared meanwhile stays. */
    if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) != 0)
        rc = -errno;
    if (rc) {
        remove_tmp(tmp);
        return rc;
    }
    parent_of(out, parent, sizeof parent);
    rc = store_fsync_path(parent, O_RDONLY | O_DIRECTORY);
    if (info)
        *info = mine;
    return rc;
}

/* ---- restore ---------------------------------------------------------------- */

static int bad_backup(const char *from, const char *what)
{
    store_set_error("backup %s: %s", from, what);
    return -EBADMSG;
}

/* Parses from/MANIFEST into *m. */
static int read_manifest(const char *from, store_backup_info_t *m)
{
    char path[4200], line[256], key[64];
    unsigned long long v;
    unsigned version = 0, seen = 0;
    FILE *f;
    int rc;

    if ((rc = join(path, sizeof path, from, MANIFEST)) != 0)
        return rc;
    if (!(f = fopen(path, "re")))
        return errno == ENOENT ? bad_backup(from, "no MANIFEST: not a Patron backup")
                               : -errno;
    if (!fgets(line, sizeof line, f) || sscanf(line, "patron-backup %u", &version) != 1) {
        fclose(f);
        return bad_backup(from, "MANIFEST does not start with \"patron-backup\"");
    }
    while (fgets(line, sizeof line, f)) {
        int hex = strncmp(line, "data_siphash24 ", 15) == 0;
        if (sscanf(line, hex ? "%63s %llx" : "%63s %llu", key, &v) != 2)
            continue;
        if (!strcmp(key, "store_format_version")) m->format_version = (uint32_t)v, seen |= 1;
        else if (!strcmp(key, "data_bytes")) m->bytes = v, seen |= 2;
        else if (hex) m->checksum = v, seen |= 4;
        else if (!strcmp(key, "created_unix_ms")) m->created_ms = (int64_t)v;
        else if (!strcmp(key, "events")) m->events = v;
        else if (!strcmp(key, "event_seq")) m->event_seq = v;
    }
    fclose(f);
    if (version != STORE_BACKUP_VERSION) {
        store_set_error("backup %s: MANIFEST version %u; this build reads version %d",
                        from, version, STORE_BACKUP_VERSION);
        return -EPROTONOSUPPORT;
    }
    if (seen != 7)
        return bad_backup(from, "MANIFEST lacks store_format_version, data_bytes or "
                                "data_siphash24");
    if (m->format_version > STORE_FORMAT_VERSION) {
        store_set_error("backup %s: store format %u is newer than this build's %d; "
                        "restore it with a newer release", from, m->format_version,
                        STORE_FORMAT_VERSION);
        return -EPROTONOSUPPORT;
    }
    return 0;
}

/* Copies src to dst (created 0600), hashing what it reads; fsynced. */
static int copy_hashed(const char *src, const char *dst, uint64_t *sum, uint64_t *bytes)
{
    unsigned char *buf = malloc(COPY_CHUNK);
    siphash_t h;
    ssize_t n;
    int in, outfd, rc = 0;

    if (!buf)
        return -ENOMEM;
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = -errno;
        free(buf);
        return rc;
    }
    if ((outfd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        rc = -errno;
        close(in);
        free(buf);
        return rc;
    }
    siphash_init(&h, checksum_key);
    *bytes = 0;
    while (rc == 0 && (n = read(in, buf, COPY_CHUNK)) != 0) {
        if (n < 0) {
            rc = -errno;
            break;
        }
        siphash_update(&h, buf, (size_t)n);
        *bytes += (uint64_t)n;
        for (ssize_t off = 0; off < n && rc == 0;) {
            ssize_t w = write(outfd, buf + off, (size_t)(n - off));
            if (w < 0)
                rc = -errno;
            else
                off += w;
        }
    }
    if (rc == 0 && fsync(outfd) != 0)
        rc = -errno;
    close(outfd);
    close(in);
    free(buf);
    *sum = siphash_final(&h);
    return rc;
}

static int install(const char *from, const char *dir, const store_backup_info_t *m)
{
    char src[4200], dst[4200], tmp[4200], lockmdb[4200], why[160];
    uint64_t sum = 0, bytes = 0;
    int rc;

    if ((rc = join(src, sizeof src, from, DATA)) != 0 ||
        (rc = join(dst, sizeof dst, dir, DATA)) != 0 ||
        (rc = join(tmp, sizeof tmp, dir, DATA ".restore")) != 0 ||
        (rc = join(lockmdb, sizeof lockmdb, dir, "lock.mdb")) != 0)
        return rc;
    if (access(src, F_OK) != 0)
        return bad_backup(from, "no data.mdb");
    if ((rc = copy_hashed(src, tmp, &sum, &bytes)) != 0) {
        unlink(tmp);
        return rc;
    }
    if (bytes != m->bytes || sum != m->checksum) {
        unlink(tmp);
        if (bytes != m->bytes)
            snprintf(why, sizeof why, "data.mdb has %" PRIu64 " bytes, the manifest says "
                     "%" PRIu64 ": the backup is damaged", bytes, m->bytes);
        else
            snprintf(why, sizeof why, "data.mdb checksum %016" PRIx64 " does not match "
                     "the manifest's %016" PRIx64 ": the backup is damaged", sum, m->checksum);
        return bad_backup(from, why);
    }
    /* The lock file of a replaced store describes its old readers. */
    if (unlink(lockmdb) != 0 && errno != ENOENT)
        rc = -errno;
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return store_fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

int store_restore(const char *from, const char *dir, int force, store_backup_info_t *info)
{
    store_backup_info_t m = { 0 };
    int lock, rc, exists;

    if (!from || !dir || !*from || !*dir)
        return -EINVAL;
    if ((rc = read_manifest(from, &m)) != 0)
        return rc;
    if ((rc = store_make_dirs(dir)) != 0)
        return rc;
    if ((lock = store_lock_take(dir, 1)) < 0)
        return lock;
    if ((exists = store_exists(dir)) < 0)
        rc = exists;
    else if (exists && !force)
        rc = -EEXIST;
    else
        rc = install(from, dir, &m);
    store_lock_release(lock);
    if (rc == 0 && info)
        *info = m;
    return rc;
}
