/*
 * cli.h - how `patron`'s commands are organized: one file per command
 * family (cli_data.c, cli_train.c, cli_serve.c, cli_customers.c,
 * cli_coupons.c, cli_experiments.c), each exporting a cli_family_t that
 * cli.c lists for dispatch and `patron --help`. A command takes its own argv
 * (argv[0] is the command name), parses it with cli_parse (cliopt.h) and
 * returns the exit status CLI_OK, CLI_FAIL or CLI_USAGE.
 *
 * To add a command: add it to its family's table (or add a family file and
 * one line to the list in cli.c).
 */
#ifndef PATRON_SERVER_CLI_H
#define PATRON_SERVER_CLI_H

#include <protobuf-c/protobuf-c.h>

#include "client.h"
#include "cliopt.h"
#include "clitime.h"
#include "patron/v1/profiles.pb-c.h"

typedef struct store store_t;
typedef struct profile_config profile_config_t;

typedef struct cli_command {
    const char *name;    /* "import" */
    const char *summary; /* one line for `patron --help` */
    int (*run)(int argc, char **argv);
} cli_command_t;

typedef struct cli_family {
    const char *title;   /* heading in `patron --help` */
    const cli_command_t *commands;
    size_t n;
} cli_family_t;

extern const cli_family_t cli_store_family;       /* init, backup, restore */
extern const cli_family_t cli_data_family;        /* import, compact, vacuum */
extern const cli_family_t cli_train_family;       /* train, eval, tune, export-ncf,
                                                     import-model */
extern const cli_family_t cli_serve_family;       /* recommend, recommend-batch, health,
                                                     model-info, stats */
extern const cli_family_t cli_customers_family;   /* profile, audience, segments,
                                                     export-customer */
extern const cli_family_t cli_coupons_family;     /* train-uplift, eval-uplift */
extern const cli_family_t cli_experiments_family; /* experiment, simulate-experiment */
extern const cli_family_t cli_loyalty_family;     /* eval-clv, report */
extern const cli_family_t cli_coupon_cmds_family; /* coupon upsert|target|audience|
                                                     redeem|budget */

/* `patron help formats` (cli_formats.c): the import CSV layouts, the
 * profile settings file and the token file; README.md copies it. */
extern const char cli_formats_text[];

/* Prints the JSON value o (pretty, stable key order as built) to stdout
 * and releases it (json_object_put); every `--json` report ends with it.
 * Returns 0, or -EIO / -ENOMEM after printing why. */
struct json_object;
int cli_json_print(struct json_object *o);

/* `patron export-customer` (cli_export.c), in the customers family. */
int cli_export_customer(int argc, char **argv);
/* `patron points` (cli_points.c). */
int cli_points(int argc, char **argv);
/* One line per GetProfile mission status ("mission NAME sentence (reward
 * P, completed N times)"), each after indent; `patron points` and `patron
 * profile` print them (cli_points.c). */
void cli_print_missions(const Patron__V1__Profile *p, const char *indent);

/* `patron recommend-batch` (cli_batch.c), in the serving family. */
int cli_recommend_batch(int argc, char **argv);

/* The short name of a patron.v1.Reason ("personalized", "popular", ...). */
const char *cli_reason_name(int reason);

/* `patron import-model` (cli_import_model.c), in the training family. */
int cli_import_model(int argc, char **argv);

/* Prints "patron: WHAT: why" to stderr for the error rc (a negative errno)
 * of a call that reads or writes the store, WHAT formatted from fmt. The
 * reason is store_strerror(rc): for a record that cannot be decoded
 * (-EBADMSG) it names the table and key, for a store of another format
 * (-EPROTONOSUPPORT) the versions, else strerror(-rc). Call it on the
 * thread that got rc, before the next store call (the record message is
 * kept per thread, like errno). Every command reports errors through it. */
void cli_error(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the store in dir for a command, its map limited to map_bytes (0:
 * store_open's default). A directory without a store is refused ("no
 * Patron store in DIR; create one with `patron init --data DIR`", -ENOENT)
 * unless flags has CLI_STORE_CREATE (patron init, patron import). Prints
 * "patron: cannot open DIR: why" (cli_error) and returns the error on
 * failure. */
#define CLI_STORE_CREATE 1u
int cli_store_open(const char *dir, uint64_t map_bytes, unsigned flags, store_t **out);


/* The profile settings from path (a profile file), or the built-in
 * defaults when path is NULL; prints the problem and returns -1 when the
 * file is bad. */
int cli_profile_config(const char *path, profile_config_t *pc);

/* Packs msg, calls method on c and unpacks the answer as resp_desc. Prints
 * the failure (status name and details) and returns NULL; the caller frees
 * the answer with protobuf_c_message_free_unpacked. */
ProtobufCMessage *cli_rpc(client_t *c, const char *method, const ProtobufCMessage *msg,
                          const ProtobufCMessageDescriptor *resp_desc);

/* cli_rpc on a connection opened to addr for this one call. */
ProtobufCMessage *cli_call(const char *addr, const char *method,
                           const ProtobufCMessage *msg,
                           const ProtobufCMessageDescriptor *resp_desc);

#endif
