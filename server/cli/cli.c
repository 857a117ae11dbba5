/*
 * cli.c - `patron`, the operator's command line: the list of command
 * families and the dispatch (the commands live in cli_<family>.c, see
 * cli.h; every one parses its flags with cliopt.h).
 *
 *   patron --help            the commands, by family
 *   patron CMD --help        a command's flags (also: patron help CMD)
 *   patron help formats      the files an operator writes (cli_formats.c)
 *   patron --version         the release and source commit
 *
 * Exit status: 0 success, 1 failure (storage, RPC error, not serving),
 * 2 bad usage.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "expstore.h"
#include "store.h"
#include "store_record.h"
#include "version.h"

static const cli_family_t *const families[] = {
    &cli_store_family,    &cli_data_family,     &cli_train_family,   &cli_serve_family,
    &cli_customers_family, &cli_coupons_family, &cli_coupon_cmds_family,
    &cli_experiments_family, &cli_loyalty_family,
};

#define N_FAMILIES (sizeof families / sizeof families[0])

void cli_error(int rc, const char *fmt, ...)
{
    va_list ap;
    fputs("patron: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", store_strerror(rc));
}

int cli_store_open(const char *dir, uint64_t map_bytes, unsigned flags, store_t **out)
{
    uint32_t from;
    uint64_t records;
    int rc = store_exists(dir);

    if (rc == 0 && !(flags & CLI_STORE_CREATE)) {
        fprintf(stderr, "patron: no Patron store in %s; create one with `patron init "
                "--data %s` (or load data into a new one with `patron import`)\n", dir, dir);
        return -ENOENT;
    }
    rc = rc < 0 ? rc : store_open(dir, (size_t)map_bytes, out);
    if (rc) {
        cli_error(rc, "cannot open %s", dir);
        return rc;
    }
    /* patron train publishes: never drop a version an experiment pins. */
    store_set_model_keep(*out, expstore_model_pinned, NULL);
    if (store_migration(*out, &from, &records))
        fprintf(stderr, "patron: %s converted from record format %u to %d: %llu records "
                "rewritten\n", dir, from, STORE_FORMAT_VERSION, (unsigned long long)records);
    return rc;
}

static void overview(FILE *f)
{
    fprintf(f, "usage: patron COMMAND [flags]   (patron help COMMAND, or patron COMMAND "
               "--help, for its flags)\n"
               "       patron help formats      (the CSV, profile and token files)\n"
               "       patron --version\n");
    for (size_t i = 0; i < N_FAMILIES; i++) {
        fprintf(f, "\n%s:\n", families[i]->title);
        for (size_t j = 0; j < families[i]->n; j++)
            fprintf(f, "  %-22s %s\n", families[i]->commands[j].name,
                    families[i]->commands[j].summary);
    }
    fprintf(f, "\nexit status: 0 success, 1 failure, 2 bad usage\n");
}

static const cli_command_t *find(const char *name)
{
    for (size_t i = 0; i < N_FAMILIES; i++)
        for (size_t j = 0; j < families[i]->n; j++)
            if (strcmp(families[i]->commands[j].name, name) == 0)
                return &families[i]->commands[j];
    return NULL;
}

int main(int argc, char **argv)
{
    const cli_command_t *c;

    if (argc < 2) {
        overview(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (argc > 2 && !strcmp(argv[2], "formats")) {
            fputs(cli_formats_text, stdout);
            return CLI_OK;
        }
        if (argc > 2 && (c = find(argv[2])) != NULL) {
            char *help_argv[] = { argv[2], "--help", NULL };
            return c->run(2, help_argv);
        }
        if (argc > 2) {
            fprintf(stderr, "patron help: no command or topic \"%s\"\n", argv[2]);
            overview(stderr);
            return CLI_USAGE;
        }
        overview(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        patron_print_version(stdout, "patron");
        return CLI_OK;
    }
    if (!(c = find(argv[1]))) {
        fprintf(stderr, "patron: unknown command \"%s\"\n", argv[1]);
        overview(stderr);
        return CLI_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
