/*
 * store_record.h - stored records as protobuf-c messages (the schemas are in
 * proto/patron/store/v1/ .proto files): one way to encode every record the store
 * and the modules above it keep, forward compatible (unknown fields are
 * skipped, missing ones read as zero) and readable with `protoc --decode`.
 *
 * A record that cannot be decoded is -EBADMSG, never a bare -EIO: the
 * function that met it also records a message naming the table and key
 * ("table cbudget, key \"spring\": not a patron.store.v1.Budget record"),
 * which store_strerror(-EBADMSG) returns. That message is kept per thread,
 * like errno: read it on the thread that got the error, before the next
 * store call.
 *
 * Errors: 0, -EBADMSG (undecodable or out-of-bounds record), -ENOMEM, or a
 * store error as in store.h.
 */
#ifndef PATRON_RECSYS_STORE_RECORD_H
#define PATRON_RECSYS_STORE_RECORD_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "store.h"

/* Unpacks val[0..vlen) as a d message into *out (free with
 * store_record_free). The table and key name the record in the message of
 * a failure (-EBADMSG). A field numbered 0 is refused too: protobuf-c
 * accepts one spelled with a padded tag (0x80 0x00) and keeps it as an
 * unknown field, but packs it as 0x00, which it then refuses, so such a
 * record would not survive being written back. */
int store_record_unpack(const ProtobufCMessageDescriptor *d, const char *table,
                        const void *key, size_t klen, const void *val, size_t vlen,
                        ProtobufCMessage **out);
void store_record_free(ProtobufCMessage *m); /* NULL-safe */

/* For a record that decoded but breaks a bound of this build (a string
 * longer than its field, too many entries): records "table T, key K: what"
 * and returns -EBADMSG. */
int store_record_bad(const char *table, const void *key, size_t klen, const char *what);

/* Copies a decoded string (NULL: "") into its fixed field dst[cap];
 * returns 0 when it does not fit (then the record is out of bounds). */
int store_record_copy_str(char *dst, size_t cap, const char *src);

/* Packs m into a malloc'd buffer (*buf, caller frees; *len its size). */
int store_record_pack(const ProtobufCMessage *m, void **buf, size_t *len);

/* store_tx_get / store_tx_put / store_table_get / store_table_put for
 * records: get unpacks (*out freed with store_record_free; -ENOENT when
 * absent), put packs. */
int store_tx_get_record(store_tx_t *tx, const char *table, const void *key, size_t klen,
                        const ProtobufCMessageDescriptor *d, ProtobufCMessage **out);
int store_tx_put_record(store_tx_t *tx, const char *table, const void *key, size_t klen,
                        const ProtobufCMessage *m);
int store_table_get_record(store_t *s, const char *table, const void *key, size_t klen,
                           const ProtobufCMessageDescriptor *d, ProtobufCMessage **out);
int store_table_put_record(store_t *s, const char *table, const void *key, size_t klen,
                           const ProtobufCMessage *m);

/* The message of this thread's last -EBADMSG or -EPROTONOSUPPORT from the
 * store ("" if none). */
const char *store_record_error(void);

/* Like strerror(-rc), but for -EBADMSG and -EPROTONOSUPPORT the message that
 * names the record or the format versions (see above). */
const char *store_strerror(int rc);

#endif
