/*
 * shopsim - a deterministic shop simulator that writes test data for Patron.
 *
 *   shopsim --out DIR [--customers N=2000] [--items M=500] [--days D=365]
 *           [--seed S=42] [--complement-rate R=0]
 *
 * writes, for one simulated shop starting 2024-01-01 UTC:
 *   DIR/items.csv          item_id,title,category,price,unit_cost,in_stock
 *   DIR/events.csv         event_id,customer_id,item_id,type,timestamp,
 *                          quantity,unit_price   (patron format)
 *   DIR/online_retail.csv  the UCI Online Retail layout: purchases grouped
 *                          into one invoice per purchasing session, refunds
 *                          as 'C' invoices with negative Quantity
 *   DIR/programme_events.csv  loyalty-programme events of the same customers
 *                          (signup, check_in, review, share; patron format;
 *                          shopsim_programme.c)
 * and prints a one-line summary to stderr. Same arguments, same bytes.
 *
 * What the data is meant to teach a recommender (and so what the model is):
 *  - 15 categories, each with its own price range, margin and season
 *    (Christmas peaks in Nov/Dec, Garden in spring/summer); every item also
 *    has one of SIM_STYLES "styles" (say, rustic vs. modern).
 *  - Item popularity is Zipf-skewed over a random ranking; some items launch
 *    mid-year, some go out of stock before the end (in_stock 0; they are
 *    still viewed but no longer bought).
 *  - Customer activity is lognormal (a few heavy buyers, a long tail of light
 *    ones); a third exist on day 0, the rest arrive over the period, and some
 *    churn. Each customer has 2-3 favourite categories with weights and a
 *    preferred style, so a customer x item matrix has low-rank structure:
 *    category x style, plus popularity.
 *  - Bought together, with --complement-rate R (off by default, so the
 *    default shop is unchanged): every item has 3 partner items in a
 *    complementary category (Kitchen -> Party, Lighting -> Christmas, ...);
 *    a bought item brings one into the basket with probability R
 *    (shopsim_complements.c): complements that tastes do not predict but
 *    baskets do.
 *  - Sessions: views -> some carts -> some purchases (quantity mostly 1-3),
 *    about 3% of purchase lines refunded 1-30 days later; weekly and yearly
 *    seasonality with a December peak and a post-Christmas lull; a January
 *    sale at 20% off.
 *  - online_retail.csv adds what the real file has: a few guest invoices and
 *    stock adjustments with an empty CustomerID. Its StockCode for item
 *    i<k> is 21000+k (every 9th with a letter suffix, like "85123A"), its
 *    CustomerID for c<k> is 12347+k, and Description is the upper-cased title.
 *
 * The parts: shopsim_model.c (the simulation), shopsim_write.c (the files),
 * shopsim_programme.c (the programme events), this file (the command line).
 *
 * Randomness comes from xoshiro256** seeded through splitmix64 (Blackman &
 * Vigna, https://prng.di.unimi.it/), never rand(), so output depends only on
 * the arguments (and on libm's exp/log, identical on one platform).
 */
#include "shopsim.h"
#include "monotime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- command line --------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A probability 0..1. */
static int parse_rate(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !(v >= 0 && v <= 1))
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, sim_config_t *cfg)
{
    *cfg = (sim_config_t){.customers = 2000, .items = 500, .days = 365, .seed = 42};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v = 0;
        if (strcmp(opt, "--out") == 0 && val) {
            cfg->out = val;
        } else if (strcmp(opt, "--seed") == 0 && parse_u64(val, UINT64_MAX, &v) == 0) {
            cfg->seed = v;
        } else if (strcmp(opt, "--customers") == 0 && parse_u64(val, 10000000, &v) == 0 && v) {
            cfg->customers = (uint32_t)v;
        } else if (strcmp(opt, "--items") == 0 && parse_u64(val, 1000000, &v) == 0 && v) {
            cfg->items = (uint32_t)v;
        } else if (strcmp(opt, "--complement-rate") == 0 &&
                   parse_rate(val, &cfg->complement_rate) == 0) {
        } else if (strcmp(opt, "--days") == 0 && parse_u64(val, 3650, &v) == 0 && v) {
            cfg->days = (uint32_t)v;
        } else {
            fprintf(stderr, "shopsim: bad argument '%s'\n", opt);
            return -1;
        }
        i++;
    }
    if (!cfg->out) {
        fprintf(stderr, "usage: shopsim --out DIR [--customers N=2000] [--items M=500]"
                        " [--days D=365] [--seed S=42] [--complement-rate R=0]\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    sim_t s = {0};
    if (parse_args(argc, argv, &s.cfg) < 0)
        return 2;
    if (mkdir(s.cfg.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "shopsim: %s: %s\n", s.cfg.out, strerror(errno));
        return 1;
    }
    double t0 = monotime_seconds();
    uint64_t counts[5] = {0}, prog[4] = {0};
    int rc = sim_run(&s);
    if (rc == 0)
        rc = sim_write_items(&s);
    if (rc == 0)
        rc = sim_write_events(&s, counts);
    if (rc == 0)
        rc = sim_write_retail(&s);
    if (rc == 0)
        rc = sim_write_programme(&s, prog);
    double secs = monotime_seconds() - t0;
    if (rc == 0)
        fprintf(stderr,
                "shopsim: %u customers (%llu churned), %u items, %llu events "
                "(view %llu, cart %llu, purchase %llu, refund %llu), %llu invoices, "
                "%llu cancellations; programme events: signup %llu, check_in %llu, "
                "review %llu, share %llu -> %s in %.2fs\n",
                s.cfg.customers, (unsigned long long)s.churned, s.cfg.items,
                (unsigned long long)(counts[1] + counts[2] + counts[3] + counts[4]),
                (unsigned long long)counts[1], (unsigned long long)counts[2],
                (unsigned long long)counts[3], (unsigned long long)counts[4],
                (unsigned long long)s.invoices, (unsigned long long)s.cancellations,
                (unsigned long long)prog[0], (unsigned long long)prog[1],
                (unsigned long long)prog[2], (unsigned long long)prog[3], s.cfg.out,
                secs);
    else if (rc == -ENOMEM)
        fprintf(stderr, "shopsim: out of memory\n");
    sim_free(&s);
    return rc == 0 ? 0 : 1;
}
