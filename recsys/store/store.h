/*
 * store.h - durable storage of Patron's data in one LMDB environment.
 *
 * What lives here: the item catalog, customers (string id -> dense index),
 * customer events, the event-id idempotency set, and published model
 * versions. Every write function commits (and fsyncs, LMDB's default) before
 * it returns 0, so anything acknowledged to a caller survives a crash.
 *
 * Dense indices: the first time a customer or item is seen it gets the next
 * index (0, 1, 2, ...). Indices are never reused; model factors are stored by
 * these indices.
 *
 * Thread safety: a store_t may be used from any number of threads at once.
 * LMDB serializes writers; readers never block.
 *
 * Errors: functions return 0 on success or a negative errno value:
 * -EINVAL bad argument, -ENOENT not found, -ENOMEM, -ENOSPC the disk is
 * full, -EDQUOT the disk quota is exceeded, -EFBIG the store is full: its
 * data reached the map size limit (store_open's map_bytes; store_strerror
 * says "store full: USED of LIMIT map; raise --map-size"), -EBADMSG a
 * stored record that cannot be decoded (store_strerror names the
 * table and key, see store_record.h), -EPROTONOSUPPORT a store written by a
 * newer release (store_open), another -errno from the file system (-EIO a
 * failing disk), or -EIO for any other LMDB failure. After a failed write
 * nothing of it is stored and the store stays usable: once space returns,
 * writes succeed again without reopening.
 * store_strerror(rc) describes it.
 */
#ifndef PATRON_RECSYS_STORE_H
#define PATRON_RECSYS_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* Longest customer, item or event id accepted, in bytes (they are LMDB keys). */
#define STORE_MAX_ID 256
#define STORE_MAX_TEXT 1024        /* title, category */
#define STORE_MAX_TIER_NAME 31     /* an item's member_tier or price list, bytes */
#define STORE_MAX_MEMBER_PRICES 8  /* member price lists per item */
#define STORE_MAX_TIME_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */
#define STORE_MAX_QUANTITY 1000000
#define STORE_MAX_PRICE 1e9

/* The record format this build writes (meta "format_version"): 2, every
 * record a patron.store.v1 message. The previous release wrote 1 (and no
 * version key). */
#define STORE_FORMAT_VERSION 2

/* Opens (creating if needed) the store in directory dir. The directory and
 * any missing parents are created. The store holds customer data, so the
 * directory is made 0700 and its files (data, LMDB lock, patron.lock) 0600,
 * existing ones included (a chmod that fails returns -EPERM). map_bytes
 * limits the store's size (LMDB's map; 0 picks 64 GiB): the map starts at
 * 64 MiB or twice the data file, whichever is larger, and doubles up to
 * map_bytes as the data grows (store_capacity.c); a write beyond it fails
 * with -EFBIG.
 * On success *out owns the environment; release it with store_close.
 * A new store gets STORE_FORMAT_VERSION. A store of format 1 (the previous
 * release) is converted: every record, in one write transaction, so a crash
 * leaves the old store intact (store_migration says what happened). Errors:
 * -EBUSY while store_vacuum runs on dir; -EPROTONOSUPPORT for a store
 * written by a newer release (store_strerror says which versions);
 * -EBADMSG when the migration meets a record it cannot read
 * (store_strerror names it; nothing was changed). */
int store_open(const char *dir, size_t map_bytes, store_t **out);

/* Whether dir holds a store (its data file): 1 if so, 0 if dir or the file
 * does not exist, else a negative errno. store_open creates a missing store;
 * callers that must not (patrond without --init) ask this first. */
int store_exists(const char *dir);

/* Whether this store_open converted the store: returns 1 and sets *from
 * (the old format) and *records (records rewritten), else 0. Either
 * pointer may be NULL. */
int store_migration(const store_t *s, uint32_t *from, uint64_t *records);
void store_close(store_t *s); /* NULL-safe */

/* ---- capacity --------------------------------------------------------------- */

/* How much of the store's space is in use. LMDB keeps everything in one
 * memory-mapped data file whose size is capped by the map size; freed pages
 * stay in the file and are reused by later writes. */
typedef struct store_usage {
    uint64_t used_bytes;  /* pages holding live data (the data file's
                             high-water mark minus the pages on LMDB's free
                             list, which writes reuse first) x page size:
                             what the store's data takes */
    uint64_t file_bytes;  /* high-water mark: pages the data file has ever
                             used x page size (the file's size on disk) */
    uint64_t map_bytes;   /* the LMDB map size mapped now */
    uint64_t limit_bytes; /* the most the map may grow to (store_open's
                             map_bytes, or the larger map another process
                             sharing the store grew it to): writes fail with
                             -EFBIG once used_bytes nears it */
    uint32_t page_bytes;  /* LMDB's page size */
} store_usage_t;

/* Fills *u from LMDB's environment info and free list (a read transaction:
 * safe from any thread, never blocks writers; it walks the free list, so
 * its cost grows with the number of freed pages, not with the data).
 * Returns 0, -EINVAL or a store error. */
int store_usage(store_t *s, store_usage_t *u);

/* ---- items ---------------------------------------------------------------- */

/* An item's price on one member price list (a tier benefit, tiers.h). */
typedef struct store_member_price {
    const char *price_list;  /* 1..31 of [A-Za-z0-9_.-] */
    double price;            /* finite, 0..1e9 */
} store_member_price_t;

typedef struct store_item {
    const char *item_id;
    const char *title;    /* may be NULL (empty) */
    const char *category; /* may be NULL (empty) */
    double price;
    double unit_cost;
    int in_stock;
    /* Members only: the lowest tier (an operator's tier name, 1..31 of
     * [A-Za-z0-9_.-]) a customer must hold to be shown it; NULL or "":
     * everyone. */
    const char *member_tier;
    /* Early access: shown from this instant (unix ms; 0 = already), earlier
     * to tiers with early_access_hours (recsys/serve/access.h). */
    int64_t release_ms;
    /* Member prices, at most STORE_MAX_MEMBER_PRICES, each list once. */
    const store_member_price_t *member_prices;
    size_t n_member_prices;
} store_item_t;

/* Checks one item. Returns NULL if valid, else a static message naming the
 * field (e.g. "price: must be finite and in 0..1e9"). */
const char *store_item_invalid(const store_item_t *it);

/* Inserts or replaces items in one transaction; all or nothing. If an item is
 * invalid nothing is written, -EINVAL is returned and *bad_index and *reason say
 * which and why (both may be NULL). inserted/updated may be NULL. */
int store_upsert_items(store_t *s, const store_item_t *items, size_t n,
                       size_t *inserted, size_t *updated,
                       size_t *bad_index, const char **reason);

/* Looks up an item's dense index. -ENOENT if unknown. */
int store_item_index(store_t *s, const char *item_id, uint32_t *idx);

/* The shop's id of item index idx, copied into buf (cap bytes, NUL
 * terminated). -ENOENT if unknown, -EINVAL if buf is too small. */
int store_item_id(store_t *s, uint32_t idx, char *buf, size_t cap);

/* Calls cb for every item in index order. The item's strings point into
 * LMDB memory valid only during the call: copy what you keep. A nonzero
 * return from cb stops the scan and is returned. */
typedef int (*store_item_cb)(void *ctx, uint32_t idx, const store_item_t *it);
int store_scan_items(store_t *s, store_item_cb cb, void *ctx);

/* ---- events --------------------------------------------------------------- */

typedef enum store_event_type {
    STORE_EVENT_VIEW = 1,
    STORE_EVENT_CART = 2,
    STORE_EVENT_PURCHASE = 3,
    STORE_EVENT_REFUND = 4,
    STORE_EVENT_NOT_INTERESTED = 5, /* negative feedback: an item, or every
                                       item of a category (category set) */
    /* Programme events: what a customer did for the loyalty programme (they
     * earn points by the operator's rules, points_def.h). item_id is
     * optional (a review names the item it is about). They are no
     * interactions: store_scan_events and store_customer_events skip them,
     * so training, recommendation and evaluation never see them. */
    STORE_EVENT_SIGNUP = 6,
    STORE_EVENT_REVIEW = 7,
    STORE_EVENT_CHECK_IN = 8,
    STORE_EVENT_SHARE = 9,
    STORE_EVENT_REFERRAL_SIGNUP = 10,
    STORE_EVENT_SURVEY = 11,
} store_event_type_t;

#define STORE_EVENT_TYPE_MAX STORE_EVENT_SURVEY
/* The last interaction type: later ones are programme events. */
#define STORE_EVENT_INTERACTION_MAX STORE_EVENT_NOT_INTERESTED

/* The lower-case name of an event type ("view", ..., "check_in",
 * "referral_signup"), NULL outside 1..STORE_EVENT_TYPE_MAX. Static. */
const char *store_event_type_name(int type);

/* The type named name (as store_event_type_name spells it), or -1. */
int store_event_type_parse(const char *name);

/* store_event_rec_t.item of a not_interested in a whole category. */
#define STORE_NO_ITEM UINT32_MAX

typedef struct store_event {
    const char *event_id;
    const char *customer_id;
    const char *item_id;
    int type;          /* store_event_type_t */
    int64_t time_ms;   /* unix milliseconds, > 0 */
    int32_t quantity;  /* 0 means 1; 1..STORE_MAX_QUANTITY */
    double unit_price; /* finite, 0..STORE_MAX_PRICE */
    const char *category; /* NULL or "": the event is about item_id; else
                             (not_interested only, item_id empty) about
                             every item of this category, <= 1024 bytes */
} store_event_t;

/* NULL if e is valid (item existence aside, and whether an item has the
 * category: the store keeps no index of categories, so callers with a
 * catalog check that), else a static message naming the field. */
const char *store_event_invalid(const store_event_t *e);

/* Earliest event time a caller may send: 2000-01-01T00:00:00Z. */
#define STORE_MIN_EVENT_MS 946684800000LL

/* How far past the wall clock an event time may be, by default: the one
 * definition of the window (patrond's --max-event-skew-seconds default,
 * `patron import`, training's horizon). */
#define STORE_DEFAULT_EVENT_SKEW_MS (86400LL * 1000)  /* one day */

/* NULL if an event time `t` (unix ms) is plausible at wall clock now_ms:
 * not before STORE_MIN_EVENT_MS and not after now_ms + max_skew_ms; else a
 * static message naming `time_unix_ms` (saying "looks like seconds" when t
 * read as seconds would be plausible). The write paths of the API and
 * `patron import` check this; store_record_events does not (tests keep
 * their times). */
const char *store_event_time_invalid(int64_t t, int64_t now_ms, int64_t max_skew_ms);

typedef enum store_outcome {
    STORE_ACCEPTED = 0,
    STORE_DUPLICATE = 1, /* event id seen before (or earlier in this batch) */
    STORE_REJECTED = 2,
} store_outcome_t;

/* Records a batch of events in one transaction. For each event i,
 * outcome[i] says what happened and, when rejected, reason[i] is a static
 * message naming the field. Valid events are stored even when others are
 * rejected. An event naming a customer id merged into another
 * (store_links.h) is stored as the survivor's, resolved inside the same
 * transaction. Returns 0 once everything accepted is durable; on a storage error
 * nothing of the batch is stored and the error is returned. */
int store_record_events(store_t *s, const store_event_t *ev, size_t n,
                        uint8_t *outcome, const char **reason);

/* A write's result, reported by the store (store_record_events_async). */
typedef void (*store_done_fn)(void *ctx, int rc);

/* store_record_events without waiting: queues the batch for the next group
 * commit and returns at once. done(ctx, rc) is called exactly once, on one
 * of the store's committer threads, after the round holding the batch was
 * committed and fsynced (rc 0: outcome and reason filled as
 * store_record_events fills them) or failed (rc a store error, nothing of
 * the batch stored; store_strerror(rc) names it on that thread). Every
 * batch waiting when a round starts goes into it: one fsync for all. ev
 * (and the strings it points to), outcome and reason must stay valid and
 * untouched until done is called. done may call any store function; it
 * delays the completions after it in the round, so it should be short.
 * Returns 0 when queued; -EINVAL, -ENOMEM, or -EAGAIN when no committer
 * thread could be started or the store is closing: done is then never
 * called. Thread-safe. store_close commits what is queued first. */
int store_record_events_async(store_t *s, const store_event_t *ev, size_t n,
                              uint8_t *outcome, const char **reason, store_done_fn done,
                              void *ctx);

/* Group commits since the store was opened (store_record_events, both
 * ways, and store_table_atomic): rounds committed (one fsync each) and the
 * writes they stored (a batch of events is one write). */
typedef struct store_commit_stats {
    uint64_t rounds, writes;
} store_commit_stats_t;
void store_commit_stats(store_t *s, store_commit_stats_t *out);

/* A stored event as the trainer and recommender read it. */
typedef struct store_event_rec {
    uint32_t customer;
    uint32_t item;
    uint8_t type;
    int32_t quantity;
    int64_t time_ms;
    double unit_price;
    uint64_t seq;      /* arrival order: larger = stored later */
    uint64_t category; /* item == STORE_NO_ITEM (a not_interested in a whole
                          category): store_category_key of its name; else 0 */
} store_event_rec_t;

/* The key a category's name is known by in store_event_rec_t: FNV-1a 64 of
 * its bytes (base/hash.h). Names differing in any byte practically never
 * share a key; readers map keys back to their catalog's categories. */
uint64_t store_category_key(const char *category);

/* Calls cb for every interaction event (type <= STORE_EVENT_INTERACTION_MAX;
 * programme events are skipped), grouped by customer index and in time order
 * within a customer. A nonzero return from cb stops and is returned. */
typedef int (*store_event_cb)(void *ctx, const store_event_rec_t *ev);
int store_scan_events(store_t *s, store_event_cb cb, void *ctx);

/* A growable list of events, e.g. one customer's history. Zero-initialize;
 * free with store_event_list_free. */
typedef struct store_event_list {
    store_event_rec_t *ev;
    size_t n, cap;
} store_event_list_t;

/* Appends ev to the list ctx points to: a store_event_cb, so a scan can
 * fill a list directly. Returns 0 or -ENOMEM. */
int store_event_list_push(void *ctx, const store_event_rec_t *ev);
void store_event_list_free(store_event_list_t *l); /* NULL-safe */

/* The same for one customer's interaction events only (time order). */
int store_customer_events(store_t *s, uint32_t customer, store_event_cb cb,
                          void *ctx);

/* One customer's events of every type, programme events included (time
 * order), each with its event id: id points into LMDB memory, valid during
 * the call only (copy what you keep). One read transaction. */
typedef int (*store_event_id_cb)(void *ctx, const store_event_rec_t *ev, const char *id,
                                 size_t id_len);
int store_customer_events_ids(store_t *s, uint32_t customer, store_event_id_cb cb,
                              void *ctx);

/* Looks up a customer's dense index. -ENOENT if the customer has no events. */
int store_customer_index(store_t *s, const char *customer_id, uint32_t *idx);

/* Number of customers and items ever registered (the next free indices). */
int store_counts(store_t *s, uint32_t *customers, uint32_t *items);

/* The sequence number the next stored event will get: every event stored
 * so far has a smaller seq. */
int store_event_seq(store_t *s, uint64_t *next);

/* The shop's id of customer index idx, copied into buf (cap bytes, NUL
 * terminated). -ENOENT if unknown or erased, -EINVAL if buf is too small. */
int store_customer_id(store_t *s, uint32_t idx, char *buf, size_t cap);

/*
 * The customers known by attributes alone (store_set_attrs, no events: no
 * dense index), a page at a time in id order: up to cap ids after `after`
 * ("" = from the first) into ids[0..*n). *n < cap: the last page. A walk
 * over every customer takes index order for those with events
 * (store_counts, store_customer_id), then these pages.
 */
int store_attr_only_customers(store_t *s, const char *after,
                              char (*ids)[STORE_MAX_ID + 1], size_t cap, size_t *n);

/* ---- customer attributes, points, erasure ---------------------------------- */

#define STORE_MAX_REGION 64

/* Optional attributes a shop provides for a customer. */
typedef struct store_attrs {
    int64_t signup_ms;        /* 0 = unknown */
    uint8_t birth_month;      /* 1..12, 0 = unknown */
    uint8_t birth_day;        /* 1..31, 0 = unknown */
    char region[STORE_MAX_REGION + 1];
} store_attrs_t;

/* NULL if valid, else a static message naming the field. */
const char *store_attrs_invalid(const store_attrs_t *a);

/* Sets (replaces) a customer's attributes; the customer need not have
 * events yet. An id merged away (store_links.h) sets the survivor's.
 * Returns 0, -EINVAL or a storage error. */
int store_set_attrs(store_t *s, const char *customer_id, const store_attrs_t *a);

/* -ENOENT if none were set. */
int store_get_attrs(store_t *s, const char *customer_id, store_attrs_t *a);

/* Points redeemed so far by a customer, net of manual adjustments: the
 * sum of points - adjust over the stored entries. */
int store_points_redeemed(store_t *s, const char *customer_id, int64_t *total);

#define STORE_POINTS_REASON_MAX 200  /* an adjustment's reason, bytes */
#define STORE_POINTS_NAME_MAX 64     /* reward, coupon and tier names, incl. NUL */

/* One stored entry of a customer's points ledger (the `points` table),
 * keyed by its id (redemption and adjustment ids share one namespace per
 * customer): a redemption (points > 0, adjust 0), or a manual adjustment
 * (adjust != 0, points 0). A redemption of a reward (reward_id set) keeps
 * what it issued, so a retry answers the same. */
typedef struct store_points_entry {
    int64_t points;          /* spent by a redemption */
    int64_t time_ms;         /* unix ms; 0: unknown (old redemptions) */
    int64_t adjust;          /* an adjustment's signed change */
    char reason[STORE_POINTS_REASON_MAX + 1]; /* an adjustment's reason */
    char operator_id[STORE_MAX_ID + 1];       /* who adjusted ("" unknown) */
    char reward_id[STORE_POINTS_NAME_MAX];    /* "": a plain redemption */
    char coupon_id[STORE_POINTS_NAME_MAX];    /* a coupon reward's coupon */
    double cash;                              /* a cash reward's money */
    char tier[STORE_POINTS_NAME_MAX];         /* a tier reward's tier */
    int64_t until_ms;        /* the coupon usable / the tier held until */
} store_points_entry_t;

/* NULL if e is one storable entry (exactly one of points > 0 and adjust
 * != 0, time_ms >= 0, strings within their bounds), else a static message
 * naming the field. */
const char *store_points_entry_invalid(const store_points_entry_t *e);

/*
 * Writes entry e under entry_id for customer_id, never overdrawing: what it
 * spends (points - adjust, when > 0) is written only if the customer's net
 * spent total (store_points_redeemed, read in the write transaction) plus
 * it stays <= limit, which the caller computes as that total plus the
 * available balance of the ledger it derived (so an entry stored meanwhile
 * counts); else -ERANGE and nothing is written. Writers are serialized, so
 * concurrent writes can never overdraw. An entry_id already stored for the
 * customer changes nothing: *duplicate = 1 and *stored (may be NULL) gets
 * the stored entry; -EEXIST when that entry is of the other kind
 * (redemption vs adjustment). *net_total gets the net spent total
 * afterwards. -ESTALE: customer_id was merged into another
 * (store_links.h); resolve and retry. -EINVAL: a bad id or entry.
 */
int store_points_write(store_t *s, const char *customer_id, const char *entry_id,
                       const store_points_entry_t *e, int64_t limit, int64_t *net_total,
                       int *duplicate, store_points_entry_t *stored);

typedef struct store_tx store_tx_t; /* store_table_atomic, below */

/* store_points_write inside the caller's store_table_atomic transaction, so
 * the entry commits together with what else the caller writes there (a
 * reward's coupon grant). On an error the caller must return it so the
 * transaction aborts. */
int store_tx_points_write(store_tx_t *tx, const char *customer_id, const char *entry_id,
                          const store_points_entry_t *e, int64_t limit, int64_t *net_total,
                          int *duplicate, store_points_entry_t *stored);

/* Inside a store_table_atomic transaction: the entry stored under entry_id
 * for customer_id into *out. 0, -ENOENT (none), -EINVAL, -EBADMSG. */
int store_tx_points_get(store_tx_t *tx, const char *customer_id, const char *entry_id,
                        store_points_entry_t *out);

/*
 * Redeems `points` (> 0) at time_ms (unix ms, >= 0; 0 = unknown, as
 * redemptions stored before times were kept) under an idempotency key: if
 * redemption_id was
 * already recorded for this customer nothing changes and *duplicate is 1.
 * Otherwise, in one transaction, the ledger total is read and the
 * redemption is written only if total + points <= earned (computed by the
 * caller from the customer's events); else -ERANGE and nothing is written.
 * Writers are serialized, so concurrent redemptions can never overdraw.
 * -ESTALE: customer_id was merged into another customer (store_links.h),
 * so `earned` was computed for the wrong history; resolve and retry.
 * *redeemed_total gets the ledger total afterwards.
 */
int store_points_redeem(store_t *s, const char *customer_id,
                        const char *redemption_id, int64_t points, int64_t time_ms,
                        int64_t earned, int64_t *redeemed_total, int *duplicate);

/* Right to erasure of what the store keeps about a customer:
 * store_tx_erase_customer (store_custdata.h), run with every other owner's
 * part by customers_erase (customers_erase.h). */

/*
 * Compaction: every customer's views older than before_ms become one view
 * event per (customer, item), with quantity = the number of views (so the
 * trainer counts them as 1 + ln n) and the time of the latest. Purchases,
 * refunds and carts are never touched. The idempotency keys of the removed
 * views are dropped too: re-sending an event older than the horizon is no
 * longer recognized as a duplicate. One transaction per customer, so a
 * crash leaves every customer either compacted or not.
 */
int store_compact_views(store_t *s, int64_t before_ms, uint64_t *removed,
                        uint64_t *added);

/*
 * Rewrites dir's data file with its live pages only (LMDB's compacting
 * copy), then swaps it in with one atomic rename. LMDB reuses freed pages
 * but never clears them, so this is what makes an erasure (or views removed
 * by compaction) leave no bytes behind, and it returns the space to the file
 * system. Offline: refused with -EBUSY while any process has the store open
 * (store_open holds a shared lock on dir/patron.lock; this takes it
 * exclusively), and store_open returns -EBUSY while this runs. A crash at
 * any point leaves either the old file or the new one, whole.
 * bytes_before/bytes_after (may be NULL) get the file sizes.
 * Returns 0, -EBUSY, -ENOENT (no store in dir), -ENOSPC or another -errno.
 */
int store_vacuum(const char *dir, uint64_t *bytes_before, uint64_t *bytes_after);

/* Small named values (e.g. RFM cut-points) kept beside the data. */
int store_put_blob(store_t *s, const char *key, const void *data, size_t len);
/* Copies the value into buf (cap bytes); *len gets its size. -ENOENT if
 * absent, -EINVAL if cap is too small. */
int store_get_blob(store_t *s, const char *key, void *buf, size_t cap, size_t *len);

/* ---- tables for modules above the store ------------------------------------ */

/*
 * Named key-value tables (coupons, budgets, experiments, exposures ...), so
 * modules keep their data beside the rest, in the same environment and
 * with the same durability, without knowing LMDB. Table names are 1..32
 * bytes without NUL; keys 1..400 bytes; values up to 16 MiB.
 */
#define STORE_MAX_TABLE_KEY 400

int store_table_put(store_t *s, const char *table, const void *key, size_t klen,
                    const void *val, size_t vlen);
/* Copies the value into a malloc'd buffer (*val, caller frees). -ENOENT if absent. */
int store_table_get(store_t *s, const char *table, const void *key, size_t klen,
                    void **val, size_t *vlen);
int store_table_del(store_t *s, const char *table, const void *key, size_t klen);

/* Calls visit for every key of table starting with prefix (plen may be 0),
 * in key order; key and val are valid during the call only. A nonzero
 * return stops and is returned. */
typedef int (*store_table_visit_fn)(void *ctx, const void *key, size_t klen,
                                    const void *val, size_t vlen);
int store_table_scan(store_t *s, const char *table, const void *prefix, size_t plen,
                     store_table_visit_fn visit, void *ctx);

/* Deletes every row of table for which doomed(ctx, key, klen, val, vlen)
 * returns nonzero (it is called during a read-only scan), in write
 * transactions of 1000 rows, so a crash leaves a prefix of them done.
 * Meant for offline retention (patron compact): the keys are gathered in
 * memory first. *removed gets the count. Returns 0, -ENOMEM or a store
 * error. */
typedef int (*store_table_doomed_fn)(void *ctx, const void *key, size_t klen,
                                     const void *val, size_t vlen);
int store_table_prune(store_t *s, const char *table, store_table_doomed_fn doomed,
                      void *ctx, uint64_t *removed);

/* Atomic read-modify-write over any tables: fn runs inside one write
 * transaction (writers are serialized, so checks made in fn still hold
 * when it commits); a nonzero return from fn aborts everything fn wrote
 * and is returned. Concurrent callers are group-committed (one fsync per
 * round), each in a nested transaction, so one failing fn affects no other. */
typedef struct store_tx store_tx_t;
int store_table_atomic(store_t *s, int (*fn)(store_tx_t *tx, void *ctx), void *ctx);
/* Inside fn: get copies into buf (cap bytes; *vlen gets the size, -EINVAL
 * when cap is too small, -ENOENT when absent); put and del as above. */
int store_tx_get(store_tx_t *tx, const char *table, const void *key, size_t klen,
                 void *buf, size_t cap, size_t *vlen);
int store_tx_put(store_tx_t *tx, const char *table, const void *key, size_t klen,
                 const void *val, size_t vlen);
int store_tx_del(store_tx_t *tx, const char *table, const void *key, size_t klen);
/* Inside fn: store_table_scan as of this transaction (seeing fn's own
 * writes). visit must not write to the table it scans: gather the keys,
 * then put or delete after the scan. */
int store_tx_scan(store_tx_t *tx, const char *table, const void *prefix, size_t plen,
                  store_table_visit_fn visit, void *ctx);
/* Inside fn: *val points at the stored value in LMDB's memory (unaligned),
 * valid only until fn returns; do not modify it. -ENOENT when absent. */
int store_tx_get_ref(store_tx_t *tx, const char *table, const void *key, size_t klen,
                     const void **val, size_t *vlen);

/* ---- models --------------------------------------------------------------- */

#define STORE_MODEL_SOURCE_MAX 512

typedef struct store_model_hdr {
    uint64_t version;       /* assigned by store_publish_model */
    int64_t trained_at_ms;
    uint32_t factors;
    uint32_t n_users;       /* rows of user_f: customer indices 0..n_users-1 */
    uint32_t n_items;       /* rows of item_f: item indices 0..n_items-1 */
    uint32_t iterations;
    float reg, alpha;
    double final_loss;
    /* What serving needs to fold new events in exactly as training did. */
    float alpha0, nu;       /* unobserved weight, regularization exponent */
    float w_view, w_cart, w_purchase, w_refund, half_life_days;
    float w_not_interested; /* 0 in models published before the event type
                               (the padding before newest_event_ms) */
    int64_t newest_event_ms;/* recency reference of the training data */
    uint64_t train_seq;     /* events with seq >= this arrived after training */
    /* Where the factors came from: "" trained here (patron train), else
     * e.g. "spark:/path" (patron import-model). */
    char source[STORE_MODEL_SOURCE_MAX];
} store_model_hdr_t;

/* Number of published versions kept; older ones are deleted on publish. */
#define STORE_MODELS_KEPT 3

/* Publishes a model: assigns hdr->version (previous newest + 1), writes the
 * header, user factors (n_users x factors), item factors (n_items x factors)
 * and item popularity (n_items) and makes it current, all in one transaction:
 * readers see either the old model or the whole new one. Versions older than
 * the STORE_MODELS_KEPT newest are deleted unless the keep function
 * (store_set_model_keep) keeps them. */
int store_publish_model(store_t *s, store_model_hdr_t *hdr,
                        const float *user_f, const float *item_f,
                        const float *item_pop);

/* The same, plus an opaque blob published with the version in the same
 * transaction (the co-purchase statistics, copurchase.h: they must swap
 * with the factors they were computed beside). extra may be NULL (none). */
int store_publish_model_extra(store_t *s, store_model_hdr_t *hdr,
                              const float *user_f, const float *item_f,
                              const float *item_pop, const void *extra,
                              size_t extra_len);

/* Reads the blob published with version `version` (0 = current) into a
 * malloc'd copy (*buf, the caller frees; not NUL terminated). Returns 0,
 * -ENOENT (no such version, or it was published without one), -ENOMEM or
 * a store error. */
int store_load_model_extra(store_t *s, uint64_t version, void **buf, size_t *len);

/* Decides, inside store_publish_model's transaction, whether a version
 * older than the STORE_MODELS_KEPT newest is still needed (e.g. pinned by a
 * stored experiment definition; the store knows no experiments): returns 1
 * to keep it, 0 to drop it, or a negative errno (the publish fails with it
 * and nothing changes). Deciding in the publishing transaction means a
 * definition stored before the publish is always seen. */
typedef int (*store_model_keep_fn)(store_tx_t *tx, void *ctx, uint64_t version);

/* Installs keep (NULL: drop every version beyond the newest
 * STORE_MODELS_KEPT) for later publishes on s. Call it before s is shared
 * between threads, right after store_open. */
void store_set_model_keep(store_t *s, store_model_keep_fn keep, void *ctx);

/* Inside a store_table_atomic fn: 1 if model version `version` is stored,
 * 0 if not (never published, or dropped), or a store error. */
int store_tx_model_exists(store_tx_t *tx, uint64_t version);

/* The current (newest) model version; -ENOENT if none was published. */
int store_current_model(store_t *s, uint64_t *version);

/* Reads model version `version` (0 = current). On success the three arrays
 * are malloc'd copies owned by the caller (free them). */
int store_load_model(store_t *s, uint64_t version, store_model_hdr_t *hdr,
                     float **user_f, float **item_f, float **item_pop);

#endif
