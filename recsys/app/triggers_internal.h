/*
 * triggers_internal.h - the records of the trigger tables (triggers.h:
 * tlog, tstate, tdrop; proto/patron/store/v1/triggers.proto) as C values,
 * and the log's counter, for triggers.c (evaluation), triggers_log.c
 * (reading, retention, erasure, export) and the stored-record fuzzer
 * (tests/fuzz/fuzz_records.c).
 * Not for other modules: they go through triggers.h.
 *
 * Every decoder reads bytes from the store, which a disk error or a
 * foreign backup may have damaged: it returns 0 with *out filled, or
 * -EBADMSG with store_strerror naming the table and key (a record that
 * does not parse, or whose values this build cannot hold), or -ENOMEM.
 * key (klen bytes) is the row's key, for that message only. Encoders
 * write a malloc'd buffer (*buf, the caller frees) that their decoder
 * reads back unchanged. The dedup marks (tmark) are only ever tested for
 * existence, so they have no decoder here.
 *
 * Threads: pure functions of their arguments (the error message is the
 * calling thread's, store_record.h).
 */
#ifndef PATRON_RECSYS_TRIGGERS_INTERNAL_H
#define PATRON_RECSYS_TRIGGERS_INTERNAL_H

#include <stddef.h>

#include "triggers.h"

/* The tables, for error messages and the fuzzer's checks. */
#define TRIGGERS_T_LOG "tlog"
#define TRIGGERS_T_MARK "tmark"
#define TRIGGERS_T_STATE "tstate"
#define TRIGGERS_T_DROP "tdrop"

/* Inside tx: the sequence the next logged trigger gets (tmeta "next"; 1
 * when none was logged), and setting it. 0, -EBADMSG or a store error. */
int triggers_next_seq_tx(store_tx_t *tx, uint64_t *next);
int triggers_set_next_seq_tx(store_tx_t *tx, uint64_t next);

/* A logged trigger (tlog): every string must fit triggers_record_t; items
 * and recommended items beyond the build's limits are dropped; a channel
 * out of range reads as -1 (none). */
int triggers_log_decode(const void *key, size_t klen, const void *val, size_t vlen,
                        triggers_record_t *out);

/* What the last evaluation saw of a customer (tstate): tier -1 (none) or
 * a tier index below PROFILE_MAX_TIERS. */
int triggers_state_decode(const void *key, size_t klen, const void *val, size_t vlen,
                          trigger_state_t *out);
int triggers_state_encode(const trigger_state_t *st, void **buf, size_t *len);

/* An item's latest price decrease (tdrop): finite prices, the new one
 * lower, a time after 1970. */
int triggers_drop_decode(const void *key, size_t klen, const void *val, size_t vlen,
                         trigger_price_drop_t *out);
int triggers_drop_encode(const trigger_price_drop_t *d, void **buf, size_t *len);

#endif
