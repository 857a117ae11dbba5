/*
 * store_backup.h - online backup of a store and its restore.
 *
 * A backup is a directory holding two files:
 *   data.mdb   LMDB's compacting copy of one read transaction of the store
 *              (mdb_env_copyfd2 with MDB_CP_COMPACT): a consistent snapshot
 *              taken while writers go on, free pages left out;
 *   MANIFEST   text, one "key value" per line, first line "patron-backup 1":
 *                store_format_version N   record format of the copy (store.h)
 *                data_bytes N             size of data.mdb
 *                data_siphash24 HEX       SipHash-2-4 of data.mdb under the
 *                                         all-zero key, 16 hex digits
 *                created_unix_ms N        when the copy was taken
 *                events N                 events in the copy
 *                event_seq N              every event in the copy has a
 *                                         smaller arrival seq (store_event_seq)
 * It is written under OUT.tmp, every file and the directory fsynced, then
 * renamed to OUT in one step (never replacing anything): OUT either does
 * not exist or is a whole backup.
 *
 * Thread safety: store_backup runs beside any other use of s (a read
 * transaction; it never blocks writers). store_restore takes the store
 * directory's lock exclusively (storelock.h), so no process may have it
 * open meanwhile.
 */
#ifndef PATRON_RECSYS_STORE_BACKUP_H
#define PATRON_RECSYS_STORE_BACKUP_H

#include <stdint.h>

#include "store.h"

#define STORE_BACKUP_VERSION 1 /* MANIFEST's first line: "patron-backup 1" */

typedef struct store_backup_info {
    uint32_t format_version; /* the copy's STORE_FORMAT_VERSION */
    uint64_t bytes;          /* data.mdb */
    uint64_t checksum;       /* data_siphash24 */
    int64_t created_ms;
    uint64_t events;
    uint64_t event_seq;
} store_backup_info_t;

/* Writes a backup of s into the directory out (which must not exist;
 * -EEXIST otherwise) and fills *info (may be NULL). Returns 0 once the
 * backup is durable, or a negative errno (-ENOSPC, -EDQUOT from the file
 * system, -EIO); on failure nothing is left at out. */
int store_backup(store_t *s, const char *out, store_backup_info_t *info);

/*
 * Restores the backup directory from into the store directory dir (created
 * 0700, with any missing parents): checks MANIFEST (its version, the format version: a
 * newer store format than this build reads is refused, an older one is
 * converted by the next store_open), copies data.mdb while hashing it and
 * installs it with one rename only if size and checksum match. Refuses
 * -EBUSY when any process has the store in dir open, and -EEXIST when dir
 * already holds a store unless force is nonzero (then that store is
 * replaced). Errors about the backup itself are -EBADMSG with a message for
 * store_strerror ("backup B: data.mdb checksum ... does not match the
 * manifest's ..."); -EPROTONOSUPPORT for a newer version. *info (may be
 * NULL) gets the manifest.
 */
int store_restore(const char *from, const char *dir, int force, store_backup_info_t *info);

#endif
