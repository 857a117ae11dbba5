/*
 * cliopt.h - the one option parser of `patron`: each command describes its
 * flags in a table (name, kind, where the value goes, range, help line) and
 * cli_parse turns the table into getopt_long options, checks every value
 * (numbers in range, required flags present, no stray arguments), and
 * answers --help / -h with help generated from the same table, so the help
 * cannot drift from what is parsed.
 *
 *     const char *data = NULL; double days = 0;
 *     cli_opt_t opts[] = {
 *         CLI_STR("data", "DIR", "the store directory", CLI_REQUIRED, &data),
 *         CLI_NUM("older-than-days", "D", "age of views to aggregate", 0, 36500, &days),
 *         CLI_END,
 *     };
 *     int rc = cli_parse(argc, argv, &cmd, opts);
 *     if (rc != CLI_PARSED) return rc;   (CLI_OK after --help, CLI_USAGE)
 *
 * Messages go to stderr and name the flag ("patron compact: --older-than-days:
 * expected a number in 0..36500, got "x""); help goes to stdout.
 *
 * A whole program (patrond) parses with cli_parse_env instead: the same
 * table, and every flag not on the command line is also read from the
 * environment (--admin-listen from PATRON_ADMIN_LISTEN), for containers and
 * systemd EnvironmentFile=.
 */
#ifndef PATRON_SERVER_CLIOPT_H
#define PATRON_SERVER_CLIOPT_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses of every command. */
#define CLI_OK 0     /* success (also after --help) */
#define CLI_FAIL 1   /* storage, RPC or data error; not serving */
#define CLI_USAGE 2  /* bad usage */
/* cli_parse: the flags are parsed, run the command. */
#define CLI_PARSED (-1)

typedef enum cli_kind {
    CLI_KIND_FLAG,   /* int: set to 1 when given */
    CLI_KIND_STR,    /* const char *: points into argv */
    CLI_KIND_DOUBLE, /* double in lo..hi */
    CLI_KIND_FLOAT,  /* float in lo..hi */
    CLI_KIND_U32,    /* uint32_t, an integer in lo..hi */
    CLI_KIND_INT,    /* int, an integer in lo..hi */
    CLI_KIND_I64,    /* long long, an integer in lo..hi */
    CLI_KIND_U64,    /* uint64_t, any unsigned decimal integer (seeds) */
    CLI_KIND_CALL,   /* parse(dest, value): 0, or -1 after printing why */
} cli_kind_t;

#define CLI_REQUIRED 1u
/* cli_parse_env: never read from the environment. */
#define CLI_NOENV 2u
/* An action such as --version: when given, the other flags' checks (required
 * flags, the environment) are skipped and the caller acts on it and exits. */
#define CLI_ACTION 4u

typedef struct cli_opt {
    const char *name;  /* long name without "--"; NULL ends the table */
    char short_name;   /* e.g. 'k' for -k, or 0 */
    cli_kind_t kind;
    void *dest;
    double lo, hi;     /* numeric range, inclusive */
    const char *arg;   /* the value's name in help ("DIR"); NULL for flags */
    const char *help;  /* one line */
    unsigned flags;    /* CLI_REQUIRED, CLI_NOENV */
    int (*parse)(void *dest, const char *value);
    int given;         /* set by parsing: CLI_GIVEN_ARGV or CLI_GIVEN_ENV, else 0 */
} cli_opt_t;

/* Where a given option's value came from. */
#define CLI_GIVEN_ARGV 1
#define CLI_GIVEN_ENV 2

/* What a command is, for its --help and messages. */
typedef struct cli_cmd {
    const char *name;     /* "compact", or "experiment create" */
    const char *synopsis; /* what follows the name in the usage line */
    const char *about;    /* a few lines on what it does, or NULL */
} cli_cmd_t;

#define CLI_FLAG(n, h, d) { (n), 0, CLI_KIND_FLAG, (d), 0, 0, NULL, (h), 0, NULL, 0 }
#define CLI_DO(n, h, d) { (n), 0, CLI_KIND_FLAG, (d), 0, 0, NULL, (h), CLI_NOENV | CLI_ACTION, NULL, 0 }
#define CLI_STR(n, a, h, f, d) { (n), 0, CLI_KIND_STR, (d), 0, 0, (a), (h), (f), NULL, 0 }
#define CLI_NUM(n, a, h, lo, hi, d) { (n), 0, CLI_KIND_DOUBLE, (d), (lo), (hi), (a), (h), 0, NULL, 0 }
#define CLI_FLT(n, a, h, lo, hi, d) { (n), 0, CLI_KIND_FLOAT, (d), (lo), (hi), (a), (h), 0, NULL, 0 }
#define CLI_U32(n, a, h, lo, hi, d) { (n), 0, CLI_KIND_U32, (d), (lo), (hi), (a), (h), 0, NULL, 0 }
#define CLI_INT(n, a, h, lo, hi, d) { (n), 0, CLI_KIND_INT, (d), (lo), (hi), (a), (h), 0, NULL, 0 }
#define CLI_I64(n, a, h, lo, hi, d) { (n), 0, CLI_KIND_I64, (d), (lo), (hi), (a), (h), 0, NULL, 0 }
#define CLI_U64(n, a, h, d) { (n), 0, CLI_KIND_U64, (d), 0, 0, (a), (h), 0, NULL, 0 }
#define CLI_CALL(n, a, h, fn, d) { (n), 0, CLI_KIND_CALL, (d), 0, 0, (a), (h), 0, (fn), 0 }
#define CLI_END { NULL, 0, CLI_KIND_FLAG, NULL, 0, 0, NULL, NULL, 0, NULL, 0 }

/* Parses argv[first..argc) against opts (argv[0] is the command name; first
 * is 1, or 2 after a sub-command word). Sets each option's given. Returns
 * CLI_PARSED, CLI_OK after printing --help, or CLI_USAGE after a message.
 * May be called again on the same argv (it resets getopt). */
int cli_parse(int argc, char **argv, int first, const cli_cmd_t *cmd, cli_opt_t *opts);

/* cli_parse for a whole program such as patrond (argv[0] is the program;
 * cmd->name is its name, "patrond", used alone in messages and help). Then
 * every option that is not on the command line and not CLI_NOENV is read
 * from the environment variable env_prefix + its name in upper case with
 * dashes as underscores (env_prefix "PATRON_": --drain-ms from
 * PATRON_DRAIN_MS), so the command line wins. An empty variable counts as
 * unset; a flag's variable takes 1/true/yes/on or 0/false/no/off. A bad
 * value is CLI_USAGE with a message naming the variable. The variable's
 * value is used in place (a CLI_KIND_STR dest points into the environment).
 * Help lists each option's variable. Returns as cli_parse. Not thread-safe
 * (getopt, getenv): call it before starting threads. */
int cli_parse_env(int argc, char **argv, const cli_cmd_t *cmd, cli_opt_t *opts,
                  const char *env_prefix);

/* The environment variable of option o under env_prefix into buf ("PATRON_"
 * and "drain-ms": "PATRON_DRAIN_MS"); buf is always terminated. */
void cli_env_name(const char *env_prefix, const cli_opt_t *o, char *buf, size_t cap);

/* Prints the help of cmd and opts to stdout. */
void cli_help(const cli_cmd_t *cmd, const cli_opt_t *opts);

/* The option named name in opts (NULL if none): for .given after parsing. */
const cli_opt_t *cli_opt_find(const cli_opt_t *opts, const char *name);

/* --map-size BYTES for patrond and every command that opens a store: a
 * size with a K, M, G or T suffix (bytesize.h) into the uint64_t at d. */
int cli_parse_map_size(void *dest, const char *value);
#define CLI_MAP_SIZE(d)                                                                 \
    CLI_CALL("map-size", "BYTES", "the store's size limit, e.g. 64G (default 64G)",      \
             cli_parse_map_size, (d))

#endif
