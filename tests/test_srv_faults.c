/*
 * test_srv_faults.c - fault injection on the store's writes: a full disk
 * (ENOSPC), an exceeded quota (EDQUOT) and a failing disk (EIO on the sync).
 *
 * The shim: this program defines pwrite, write, writev, fdatasync and fsync
 * itself and is linked with its symbols exported (tests/CMakeLists.txt), so
 * liblmdb's calls land here; they fail as configured below for the store's
 * data file only and otherwise forward to the C library. No root, no tmpfs.
 *
 * What must hold: the failed write is refused with the real cause (the RPC
 * status RESOURCE_EXHAUSTED saying the disk is full, not INTERNAL
 * "Input/output error"), nothing of it is stored, every acknowledged write
 * is intact, and once space returns writes succeed again on the same open
 * store, and everything is there after a reopen. Erasure on a store whose
 * file cannot grow succeeds when LMDB has free pages to reuse.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "codec.h"
#include "customers_erase.h"
#include "store.h"
#include "store_custdata.h"
#include "testutil.h"

/* ---- the shim ---------------------------------------------------------------- */

typedef enum fault_mode {
    FAULT_NONE,
    FAULT_WRITE,   /* every write to data.mdb fails with fault_errno */
    FAULT_GROW,    /* writes past data.mdb's end fail (the disk is full, the
                    * blocks the file already has are still writable) */
    FAULT_SYNC,    /* fdatasync / fsync of data.mdb fail with fault_errno */
} fault_mode_t;

static fault_mode_t fault_mode;
static int fault_errno;
static unsigned faults_injected;

static int is_store_file(int fd)
{
    char link[64], path[512];
    ssize_t n;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    return strstr(path, "patron-faults") && strstr(path, "/data.mdb");
}

/* Nonzero (errno set) when a write of len bytes at off (-1: the current
 * position) must fail. */
static int inject_write(int fd, off_t off, size_t len)
{
    struct stat st;
    if (fault_mode == FAULT_NONE || fault_mode == FAULT_SYNC || !is_store_file(fd))
        return 0;
    if (fault_mode == FAULT_GROW) {
        if (off < 0)
            off = lseek(fd, 0, SEEK_CUR);
        if (fstat(fd, &st) != 0 || off + (off_t)len <= st.st_size)
            return 0;
    }
    faults_injected++;
    errno = fault_errno;
    return 1;
}

static int inject_sync(int fd)
{
    if (fault_mode != FAULT_SYNC || !is_store_file(fd))
        return 0;
    faults_injected++;
    errno = fault_errno;
    return 1;
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (inject_write(fd, off, n))
        return -1;
    return REAL("pwrite", ssize_t (*)(int, const void *, size_t, off_t))(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    if (inject_write(fd, -1, n))
        return -1;
    return REAL("write", ssize_t (*)(int, const void *, size_t))(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    size_t n = 0;
    for (int i = 0; i < cnt; i++)
        n += iov[i].iov_len;
    if (inject_write(fd, -1, n))
        return -1;
    return REAL("writev", ssize_t (*)(int, const struct iovec *, int))(fd, iov, cnt);
}

int fdatasync(int fd)
{
    if (inject_sync(fd))
        return -1;
    return REAL("fdatasync", int (*)(int))(fd);
}

int fsync(int fd)
{
    if (inject_sync(fd))
        return -1;
    return REAL("fsync", int (*)(int))(fd);
}

static void set_fault(fault_mode_t mode, int err)
{
    fault_mode = mode;
    fault_errno = err;
    faults_injected = 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static store_t *open_store(const char *dir)
{
    store_t *s = NULL;
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    if (!s)
        exit(1);
    return s;
}

enum { BATCH = 50, T0_MS = 1700000000000LL };

/* Records BATCH purchases by customer cust with ids "<tag>-<i>"; returns the
 * store's result and how many were accepted. */
static int record_batch(store_t *s, const char *tag, const char *cust, size_t *accepted)
{
    static char ids[BATCH][32];
    store_event_t ev[BATCH];
    uint8_t out[BATCH];
    const char *why[BATCH];
    int rc;
    for (int i = 0; i < BATCH; i++) {
        snprintf(ids[i], sizeof ids[i], "%s-%d", tag, i);
        ev[i] = (store_event_t){ ids[i], cust, i % 2 ? "i1" : "i2",
                                 STORE_EVENT_PURCHASE, T0_MS + i, 1, 9.5, NULL };
    }
    rc = store_record_events(s, ev, BATCH, out, why);
    *accepted = 0;
    for (int i = 0; rc == 0 && i < BATCH; i++)
        *accepted += out[i] == STORE_ACCEPTED;
    return rc;
}

static int count_one(void *ctx, const store_event_rec_t *ev)
{
    (void)ev;
    ++*(size_t *)ctx;
    return 0;
}

static size_t count_events(store_t *s)
{
    size_t n = 0;
    CHECK_EQ_INT(store_scan_events(s, count_one, &n), 0);
    return n;
}

static int erase(store_t *s, const char *customer_id)
{
    custdata_owner_t owner = store_custdata_owner();
    custdata_erased_t erased;
    return customers_erase(s, &owner, 1, customer_id, &erased, NULL);
}

/* ---- tests -------------------------------------------------------------------- */

/* A full disk or quota: refused with the cause, nothing half-stored,
 * acknowledged data intact, writes work again once space returns. */
static void test_disk_full(const char *dir)
{
    store_t *s = open_store(dir);
    store_item_t items[] = { { .item_id = "i1", .title = "Mug", .category = "kitchen",
                               .price = 9.5, .unit_cost = 3.0, .in_stock = 1 },
                             { .item_id = "i2", .title = "Cup", .category = "kitchen",
                               .price = 4.5, .unit_cost = 1.0, .in_stock = 1 } };
    size_t ins, upd, acc;
    rpc_reply_t reply;
    CHECK_EQ_INT(store_upsert_items(s, items, 2, &ins, &upd, NULL, NULL), 0);
    CHECK_EQ_INT(record_batch(s, "a", "alice", &acc), 0);
    CHECK_EQ_INT(acc, BATCH);

    static const int errs[] = { ENOSPC, EDQUOT };
    for (size_t k = 0; k < sizeof errs / sizeof errs[0]; k++) {
        set_fault(FAULT_WRITE, errs[k]);
        int rc = record_batch(s, "b", "bob", &acc);
        CHECK_EQ_INT(rc, -errs[k]);
        CHECK(faults_injected > 0);
        memset(&reply, 0, sizeof reply);
        fail_errno(&reply, rc, "recording events");
        CHECK_EQ_INT(reply.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
        CHECK(strstr(reply.message, "recording events: disk full") != NULL);
        /* Erasure on a disk where nothing can be written fails the same
         * clear way (LMDB copies on write: a delete writes pages too). */
        rc = erase(s, "alice");
        CHECK_EQ_INT(rc, -errs[k]);
        fail_errno(&reply, rc, "erasing the customer (store)");
        CHECK_EQ_INT(reply.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
        set_fault(FAULT_NONE, 0);
        CHECK_EQ_INT(count_events(s), BATCH);
    }

    /* A failing disk: the sync fails, the commit with it; EIO, INTERNAL. */
    set_fault(FAULT_SYNC, EIO);
    int rc = record_batch(s, "b", "bob", &acc);
    CHECK_EQ_INT(rc, -EIO);
    CHECK(faults_injected > 0);
    memset(&reply, 0, sizeof reply);
    fail_errno(&reply, rc, "recording events");
    CHECK_EQ_INT(reply.code, GRPC_STATUS_INTERNAL);
    CHECK(strstr(reply.message, "Input/output error") != NULL);
    set_fault(FAULT_NONE, 0);

    /* Space is back: the same open store takes the batch, all of it new
     * (nothing of the failed attempts was stored). */
    CHECK_EQ_INT(record_batch(s, "b", "bob", &acc), 0);
    CHECK_EQ_INT(acc, BATCH);
    CHECK_EQ_INT(count_events(s), 2 * BATCH);
    store_close(s);

    s = open_store(dir);
    CHECK_EQ_INT(count_events(s), 2 * BATCH);
    store_close(s);
}

/* A nearly full disk: the data file cannot grow, but LMDB reuses the pages
 * earlier transactions freed, so an erasure still commits. (With no free
 * pages it fails with -ENOSPC as above and the operator frees disk space:
 * nothing was deleted, the request can be retried.) */
static void test_erase_when_file_cannot_grow(const char *dir)
{
    store_t *s = open_store(dir);
    store_item_t items[] = { { .item_id = "i1", .title = "Mug", .category = "kitchen",
                               .price = 9.5, .unit_cost = 3.0, .in_stock = 1 },
                             { .item_id = "i2", .title = "Cup", .category = "kitchen",
                               .price = 4.5, .unit_cost = 1.0, .in_stock = 1 } };
    size_t ins, upd, acc;
    uint32_t idx;
    CHECK_EQ_INT(store_upsert_items(s, items, 2, &ins, &upd, NULL, NULL), 0);
    CHECK_EQ_INT(record_batch(s, "a", "alice", &acc), 0);
    CHECK_EQ_INT(record_batch(s, "c", "carol", &acc), 0);
    /* Churn, so earlier versions of the pages are free for reuse. */
    for (int i = 0; i < 4; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "x%d", i);
        CHECK_EQ_INT(record_batch(s, tag, "dave", &acc), 0);
    }

    set_fault(FAULT_GROW, ENOSPC);
    CHECK_EQ_INT(erase(s, "alice"), 0);
    /* The shim bites: writing on, the file must grow and cannot. */
    int rc = 0;
    for (int i = 0; i < 400 && rc == 0; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "g%d", i);
        rc = record_batch(s, tag, "erin", &acc);
    }
    CHECK_EQ_INT(rc, -ENOSPC);
    CHECK(faults_injected > 0);
    set_fault(FAULT_NONE, 0);
    CHECK_EQ_INT(store_customer_index(s, "alice", &idx), -ENOENT);
    CHECK_EQ_INT(store_customer_index(s, "carol", &idx), 0);
    store_close(s);

    s = open_store(dir);
    CHECK_EQ_INT(store_customer_index(s, "alice", &idx), -ENOENT);
    CHECK_EQ_INT(store_customer_index(s, "carol", &idx), 0);
    store_close(s);
}

int main(void)
{
    test_disk_full(test_tmpdir("faults"));
    test_erase_when_file_cannot_grow(test_tmpdir("faults"));
    TEST_MAIN_END();
}
