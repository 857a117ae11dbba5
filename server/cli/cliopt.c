/*
 * cliopt.c - table-driven option parsing over getopt_long (contract in
 * cliopt.h).
 */
#include "cliopt.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* getopt_long values: the table index + OPT_BASE; 'h' is --help. */
#define OPT_BASE 256
#define MAX_OPTS 64

static size_t count_opts(const cli_opt_t *opts)
{
    size_t n = 0;
    while (opts[n].name)
        n++;
    return n;
}

const cli_opt_t *cli_opt_find(const cli_opt_t *opts, const char *name)
{
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

static int bad_value(const cli_cmd_t *cmd, const cli_opt_t *o, const char *value)
{
    if (o->kind == CLI_KIND_U32 || o->kind == CLI_KIND_I64)
        fprintf(stderr, "patron %s: --%s: expected an integer in %.17g..%.17g, got \"%s\"\n",
                cmd->name, o->name, o->lo, o->hi, value);
    else
        fprintf(stderr, "patron %s: --%s: expected a number in %g..%g, got \"%s\"\n",
                cmd->name, o->name, o->lo, o->hi, value);
    return -1;
}

static int set_u64(const cli_cmd_t *cmd, const cli_opt_t *o, const char *value)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-') {
        fprintf(stderr, "patron %s: --%s: expected an unsigned integer, got \"%s\"\n",
                cmd->name, o->name, value);
        return -1;
    }
    *(uint64_t *)o->dest = (uint64_t)v;
    return 0;
}

/* Stores value into o->dest according to o->kind; 0 or -1 (printed). */
static int set_value(const cli_cmd_t *cmd, const cli_opt_t *o, const char *value)
{
    char *end;
    double v;

    switch (o->kind) {
    case CLI_KIND_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case CLI_KIND_STR:
        *(const char **)o->dest = value;
        return 0;
    case CLI_KIND_CALL:
        return o->parse(o->dest, value);
    case CLI_KIND_U64:
        return set_u64(cmd, o, value);
    default:
        break;
    }
    errno = 0;
    v = strtod(value, &end);
    if (errno || end == value || *end || !(v >= o->lo && v <= o->hi))
        return bad_value(cmd, o, value);
    if ((o->kind == CLI_KIND_U32 || o->kind == CLI_KIND_I64) && v != floor(v))
        return bad_value(cmd, o, value);
    switch (o->kind) {
    case CLI_KIND_DOUBLE: *(double *)o->dest = v; break;
    case CLI_KIND_FLOAT: *(float *)o->dest = (float)v; break;
    case CLI_KIND_U32: *(uint32_t *)o->dest = (uint32_t)v; break;
    case CLI_KIND_I64: *(long long *)o->dest = (long long)v; break;
    default: break;
    }
    return 0;
}

/* The getopt_long tables for opts: long options and the short string. */
static int build_getopt(const cli_opt_t *opts, size_t n, struct option *lo, char *shorts)
{
    size_t s = 0;
    if (n + 2 > MAX_OPTS)
        return -1;
    shorts[s++] = ':'; /* missing values come back as ':' */
    shorts[s++] = 'h';
    for (size_t i = 0; i < n; i++) {
        int has_arg = opts[i].kind == CLI_KIND_FLAG ? no_argument : required_argument;
        lo[i] = (struct option){ opts[i].name, has_arg, NULL, OPT_BASE + (int)i };
        if (opts[i].short_name) {
            shorts[s++] = opts[i].short_name;
            if (has_arg == required_argument)
                shorts[s++] = ':';
        }
    }
    lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
    lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
    shorts[s] = '\0';
    return 0;
}

static int short_index(const cli_opt_t *opts, size_t n, int c)
{
    for (size_t i = 0; i < n; i++)
        if (opts[i].short_name && opts[i].short_name == c)
            return (int)i;
    return -1;
}

static int usage_hint(const cli_cmd_t *cmd)
{
    fprintf(stderr, "patron %s: see patron %s --help\n", cmd->name, cmd->name);
    return CLI_USAGE;
}

static int check_required(const cli_cmd_t *cmd, const cli_opt_t *opts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((opts[i].flags & CLI_REQUIRED) && !opts[i].given) {
            fprintf(stderr, "patron %s: --%s is required\n", cmd->name, opts[i].name);
            return -1;
        }
    return 0;
}

int cli_parse(int argc, char **argv, int first, const cli_cmd_t *cmd, cli_opt_t *opts)
{
    struct option lo[MAX_OPTS];
    char shorts[2 * MAX_OPTS + 3];
    size_t n = count_opts(opts);
    int c, idx;

    if (build_getopt(opts, n, lo, shorts) != 0)
        return CLI_USAGE;
    for (size_t i = 0; i < n; i++)
        opts[i].given = 0;
    optind = 0; /* full reset, so a second parse of the same argv works */
    opterr = 0;
    /* getopt sees argv from the word before the first flag. */
    argc -= first - 1;
    argv += first - 1;
    while ((c = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
        int i = c >= OPT_BASE ? c - OPT_BASE : short_index(opts, n, c);
        if (c == 'h' && i < 0) {
            cli_help(cmd, opts);
            return CLI_OK;
        }
        if (c == ':') {
            fprintf(stderr, "patron %s: %s needs a value\n", cmd->name, argv[optind - 1]);
            return usage_hint(cmd);
        }
        if (i < 0) {
            fprintf(stderr, "patron %s: unknown option \"%s\"\n", cmd->name, argv[optind - 1]);
            return usage_hint(cmd);
        }
        if (set_value(cmd, &opts[i], optarg) != 0)
            return CLI_USAGE;
        opts[i].given = 1;
    }
    if (optind != argc) {
        fprintf(stderr, "patron %s: unexpected argument \"%s\"\n", cmd->name, argv[optind]);
        return usage_hint(cmd);
    }
    if (check_required(cmd, opts, n) != 0)
        return usage_hint(cmd);
    return CLI_PARSED;
}

/* "--name ARG" or "-k, --name ARG" into buf. */
static void option_label(const cli_opt_t *o, char *buf, size_t cap)
{
    int len = 0;
    if (o->short_name && o->name[0] == o->short_name && !o->name[1]) {
        snprintf(buf, cap, "-%c%s%s", o->short_name, o->arg ? " " : "", o->arg ? o->arg : "");
        return;
    }
    if (o->short_name)
        len = snprintf(buf, cap, "-%c, ", o->short_name);
    snprintf(buf + len, cap - (size_t)len, "--%s%s%s", o->name, o->arg ? " " : "",
             o->arg ? o->arg : "");
}

void cli_help(const cli_cmd_t *cmd, const cli_opt_t *opts)
{
    char label[96];
    printf("usage: patron %s %s\n", cmd->name, cmd->synopsis ? cmd->synopsis : "");
    if (cmd->about)
        printf("\n%s\n", cmd->about);
    printf("\noptions:\n");
    for (const cli_opt_t *o = opts; o->name; o++) {
        option_label(o, label, sizeof label);
        printf("  %-32s %s%s", label, o->help ? o->help : "",
               o->flags & CLI_REQUIRED ? " (required)" : "");
        if (o->kind != CLI_KIND_FLAG && o->kind != CLI_KIND_STR && o->kind != CLI_KIND_CALL &&
            o->kind != CLI_KIND_U64)
            printf(" [%g..%g]", o->lo, o->hi);
        printf("\n");
    }
    printf("  %-32s %s\n", "-h, --help", "this help");
}
