/*
 * store_internal.h - what the store_*.c files share: the store_t layout,
 * key layouts, small codec helpers, transaction runners. Private to
 * recsys/store/; nothing outside this folder includes it.
 */
#ifndef PATRON_RECSYS_STORE_INTERNAL_H
#define PATRON_RECSYS_STORE_INTERNAL_H

#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#define STORE_ERROR_MAX 512   /* a store error message, with its NUL */

/* Committer threads for asynchronous writes: two, so one completes the
 * callers of a round (their replies) while the other commits the next;
 * the commit mostly waits for the disk, not the CPU. */
#define STORE_COMMITTERS 2

#include "bigendian.h"
#include "id.h"
#include "utf8.h"

/* One write waiting for a group commit (store_commit.c): fn runs inside
 * the round's transaction, in a nested transaction of its own unless the
 * round runs flat (every write rerunnable: see below), so its failure undoes
 * only its own writes. */
typedef struct pending pending_t;
struct pending {
    int (*fn)(store_t *s, MDB_txn *txn, void *ctx);
    void *ctx;
    int rc, done;
    /* fn may run again whole (it sets its outputs afresh): the round may
     * first run every write in the top-level transaction, and an
     * asynchronous write that met a full map runs again once it grew. */
    int rerunnable;
    /* NULL: a caller waits in store_group_write. Else an asynchronous
     * write (store_group_submit): called once, on the committing thread,
     * outside the queue's lock, with the write's result; it owns p then. */
    void (*complete)(pending_t *p, int rc);
    pending_t *next;
    /* fn ran on the committing thread: the record error message it left
     * there (store_record.h) comes back to the caller's thread with rc. */
    char error[STORE_ERROR_MAX];
};

struct store {
    MDB_env *env;
    MDB_dbi meta, item_idx, items, customer_idx, customer_ids, events,
        event_ids, models, attrs, points, blobs, tables;
    /* Group commit (store_commit.c): writes queue here and one thread
     * commits everything queued in one transaction (one fsync): a waiting
     * caller, or one of the committer threads started by the first
     * asynchronous write. All fields under gc_mu. */
    pthread_mutex_t gc_mu;
    pthread_cond_t gc_cv;
    pending_t *queue, **queue_tail;
    int committing;
    pthread_t committers[STORE_COMMITTERS];
    unsigned n_committers;   /* running */
    int gc_stop;             /* store_close: finish the queue, then exit */
    uint64_t gc_rounds, gc_writes; /* store_commit_stats */
    /* The map (store_capacity.c): it starts small and doubles up to
     * map_limit. LMDB lets a process resize its map only while it has no
     * transaction open, so every top-level transaction passes a gate:
     * map_active counts the open ones, map_resizing holds new ones back
     * while a resize waits for map_active to reach 0. */
    size_t map_limit;    /* store_open's map_bytes: the map's ceiling */
    size_t map_now;      /* the map size in use */
    pthread_mutex_t map_mu;
    pthread_cond_t map_cv;
    unsigned map_active;
    int map_resizing;
    int lock_fd;         /* shared hold on dir/patron.lock (storelock.h) */
    uint64_t migrated_from, migrated; /* store_migration */
    store_model_keep_fn keep_model;   /* store_set_model_keep */
    void *keep_model_ctx;
};

enum { EVENT_KEY_LEN = 20 };
enum { MODEL_PART_HDR = 0, MODEL_PART_USER = 1, MODEL_PART_ITEM = 2,
       MODEL_PART_POP = 3, MODEL_PARTS = 4,
       /* optional, after the required parts: store_publish_model_extra */
       MODEL_PART_EXTRA = 4 };

/* Event record: u32 item | u8 type | i32 quantity | f64 unit_price | event id
 * [| NUL | category name]. The category part is there only when item is
 * STORE_NO_ITEM (a not_interested in a whole category); event ids contain
 * no NUL, so the id is the tail up to the first NUL. */
enum { EVENT_REC_FIXED = 4 + 1 + 4 + 8 };

/* The event id's length in an events value (v->mv_size >= EVENT_REC_FIXED). */
size_t store_event_id_len(const MDB_val *v);

/* The category name of a category event's value and its length (0 and
 * NULL for an item event); points into v. */
const char *store_event_category(const MDB_val *v, size_t *len);

struct store_tx {
    store_t *s;
    MDB_txn *txn;
};

/* ---- small helpers ---------------------------------------------------------- */

/* LMDB result -> -errno. A system error (a positive errno, e.g. ENOSPC,
 * EDQUOT or EIO from a write or fsync in the commit) is passed through, so
 * callers can tell a full disk from a failing one; LMDB's own codes other
 * than those below are -EIO. */
static inline int map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return -ENOENT;
    case MDB_MAP_FULL: return -EFBIG; /* store_full_check names the limit */
    case ENOMEM: return -ENOMEM;
    case EINVAL: return -EINVAL;
    default: return rc > 0 ? -rc : -EIO;
    }
}

static inline MDB_val val_str(const char *s)
{
    MDB_val v = { strlen(s), (void *)s };
    return v;
}

static inline MDB_val val_mem(const void *p, size_t n)
{
    MDB_val v = { n, (void *)p };
    return v;
}

static inline int id_invalid(const char *id)
{
    return id_check(id, STORE_MAX_ID, 0) == 0;
}

/* Ids written from now on: also printable, valid UTF-8 (base/id.h). Reads
 * and erasure keep id_invalid, so rows stored before stay reachable. */
static inline int id_write_invalid(const char *id)
{
    return id_check(id, STORE_MAX_ID, ID_PRINTABLE) == 0;
}

/* Text fields (titles, categories): at most STORE_MAX_TEXT bytes of valid
 * UTF-8 (base/utf8.h). */
static inline int text_invalid(const char *s)
{
    return s && (strlen(s) > STORE_MAX_TEXT || !utf8_valid(s, strlen(s)));
}

static inline int money_invalid(double v)
{
    return !isfinite(v) || v < 0 || v > STORE_MAX_PRICE;
}

/* The only way the store_*.c files open and end a top-level transaction
 * (nested ones use mdb_txn_begin with a parent): the gate that lets the map
 * be resized. begin also grows the map ahead of a write when the data file
 * passed half of it, and adopts a map another process grew
 * (MDB_MAP_RESIZED). They return LMDB's codes, like the mdb_ calls. */
int store_txn_begin(store_t *s, unsigned flags, MDB_txn **txn);
int store_txn_commit(store_t *s, MDB_txn *txn);
void store_txn_abort(store_t *s, MDB_txn *txn);

/* For work that runs its own transaction inside LMDB (mdb_env_copyfd2):
 * counts as one open transaction between enter and leave. */
void store_gate_enter(store_t *s);
void store_gate_leave(store_t *s);

/* After a write failed with -EFBIG: doubles the map (up to map_limit) when
 * the failed write saw map size seen, or another thread grew it since.
 * Returns 0 when the write should be retried, -EFBIG at the limit (or when
 * the map cannot be resized now). Call it with no transaction open. */
int store_map_grow(store_t *s, size_t seen);

/* The map size now (it changes only while no transaction is open). */
size_t store_map_size(store_t *s);

/* The retry of a write that can run again whole:
 *     do { seen = store_map_size(s); rc = write_once(...); }
 *     while (store_map_grown(s, rc, seen));
 * 1 when rc is -EFBIG and the map grew since seen (by this call or another
 * thread's), so the write may fit now. */
static inline int store_map_grown(store_t *s, int rc, size_t seen)
{
    return rc == -EFBIG && store_map_grow(s, seen) == 0;
}

/* The map size to open dir's store with, under limit (store_open). */
size_t store_map_start(const char *dir, size_t limit);

/* Returns rc; when it is -EFBIG (the map is full) first grows the map if it
 * is under the limit (the caller may retry: the message says so), else sets
 * this thread's store error to "store full: USED of LIMIT map; raise
 * --map-size" (store_strerror). Every public write path passes its result
 * through it. */
int store_full_check(store_t *s, int rc);

/* mkdir -p: creates dir and any missing parents, 0700, and makes dir
 * private if it was not (the store holds customer data). 0 or -errno. */
int store_make_dirs(const char *dir);

/* meta counters: a missing key reads as 0. */
int store_meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out);
int store_meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value);

/* Decodes an events row (key and EVENT_REC_FIXED-byte record) into *r;
 * -EIO when it is not one. The event id is the rest of the value. */
int store_event_decode(const MDB_val *k, const MDB_val *v, store_event_rec_t *r);

/* Runs fn inside a read-only (write = 0) or write transaction; commits a
 * write transaction when fn returns 0, aborts otherwise. A write's fn runs
 * again, in a new transaction, when the map was full and grew: it must
 * leave nothing in ctx that a rerun would count twice. */
int store_with_txn(store_t *s, int write, int (*fn)(store_t *, MDB_txn *, void *),
                   void *ctx);

/* Queues fn for the next group commit (store_commit.c) and waits for it.
 * rerunnable: fn may run again whole (pending_t.rerunnable). */
int store_group_write(store_t *s, int (*fn)(store_t *, MDB_txn *, void *), void *ctx,
                      int rerunnable);

/* Queues p (fn, ctx, rerunnable and complete set; complete non-NULL) for
 * the next group commit and returns at once: p->complete(p, rc) is called
 * exactly once, on a committer thread, after the round holding p was
 * committed (rc 0) or failed; p must stay untouched until then. A -EFBIG
 * has passed store_full_check on that thread (store_strerror there names
 * it), and a rerunnable p ran again after the map grew. Returns 0, or
 * -EAGAIN when no committer thread could be started (complete is then
 * never called). */
int store_group_submit(store_t *s, pending_t *p);

/* store_close: lets the committer threads commit what is queued, then
 * joins them. */
void store_commit_stop(store_t *s);

/* Finds id's index in an id->u32 table, or assigns the next one from the
 * meta counter `counter` and records it in both directions. */
int store_intern_id(MDB_txn *txn, MDB_dbi by_id, MDB_dbi by_idx, MDB_dbi meta,
                    const char *counter, const char *id, uint32_t *idx,
                    int *created);

/* Points ledger key: customer id, NUL, redemption id (none: the prefix of
 * the customer's entries) into key (2 * STORE_MAX_ID + 1 bytes); returns
 * its length. */
size_t store_points_key(unsigned char *key, const char *customer, const char *redemption);
/* Copies this thread's store error message into buf[STORE_ERROR_MAX]. */
void store_get_error(char *buf);

/* Sets this thread's store error message (store_record_error). */
void store_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* models key: version BE u64 | part u8 (in key[9]). */
MDB_val store_model_key(unsigned char key[9], uint64_t version, int part);

/* The model header record (patron.store.v1.ModelHeader). decode: k and v
 * as read from models, -EBADMSG naming the key. */
int store_model_hdr_encode(const store_model_hdr_t *h, void **buf, size_t *len);
int store_model_hdr_decode(const MDB_val *k, const MDB_val *v, store_model_hdr_t *h);

/* An attrs value (patron.store.v1.CustomerAttributes); -EBADMSG naming
 * the key. */
int store_attrs_decode(const void *key, size_t klen, const void *val, size_t vlen,
                       store_attrs_t *a);

/* An items record (patron.store.v1.Item). encode: packs a valid item
 * (store_item_invalid) into buf and returns the length. decode: fills *it,
 * pointing into str (from store_item_strings_new, freed with free();
 * valid until the next decode with it); -EBADMSG naming the key when v is
 * no Item this build can hold (too large, more member prices than
 * STORE_MAX_MEMBER_PRICES, an invalid field). */
#define STORE_ITEM_REC_MAX                                                              \
    (STORE_MAX_ID + 2 * STORE_MAX_TEXT + STORE_MAX_TIER_NAME +                          \
     STORE_MAX_MEMBER_PRICES * (STORE_MAX_TIER_NAME + 16) + 96)
typedef struct store_item_strings store_item_strings_t;
store_item_strings_t *store_item_strings_new(void);
size_t store_item_encode(const store_item_t *it, unsigned char buf[STORE_ITEM_REC_MAX]);
int store_item_decode(const MDB_val *k, const MDB_val *v, store_item_t *it,
                      store_item_strings_t *str);

/* Checks meta "format_version" at store_open: writes it into a new store,
 * refuses a newer one (-EPROTONOSUPPORT), converts an older one in one
 * transaction (store_migrate.c). */
int store_format_open(store_t *s);

/* A points ledger entry (patron.store.v1.PointsRedemption): encode into
 * buf (a redemption with a reward or an adjustment with its reason fits);
 * decode -EBADMSG naming the key. */
#define STORE_POINTS_REC_MAX 1024
size_t store_points_encode(const store_points_entry_t *e,
                           unsigned char buf[STORE_POINTS_REC_MAX]);
int store_points_decode(const MDB_val *k, const MDB_val *v, store_points_entry_t *e);

#endif
