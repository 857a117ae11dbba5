/*
 * shopsim.h - the shop simulator's model, shared by its parts (see shopsim.c
 * for what the data is meant to teach): shopsim_model.c simulates,
 * shopsim_write.c writes the CSV files, shopsim.c is the command line.
 */
#ifndef PATRON_BENCH_SHOPSIM_H
#define PATRON_BENCH_SHOPSIM_H

#include <stdint.h>
#include <stdio.h>

#include "rng.h"

#define SIM_STYLES 4
#define SIM_NO_CUSTOMER UINT32_MAX
#define SIM_START_YEAR 2024
#define SIM_DAY_S 86400
#define SIM_FIRST_INVOICE 536365   /* the real file's first invoice */
#define SIM_FIRST_CUSTOMER_NO 12347
#define SIM_FIRST_STOCK_CODE 21000

/* Behaviour knobs; tuned so the defaults give ~100k events. */
#define SIM_SESSIONS_PER_DAY 0.026  /* median customer's base rate */
#define SIM_ACTIVITY_SIGMA 1.1      /* lognormal spread of activity */
#define SIM_POPULARITY_ZIPF 0.9
#define SIM_INITIAL_SHARE 0.35      /* customers already there on day 0 */
#define SIM_CHURN_SHARE 0.30
#define SIM_CHURN_MEAN_DAYS 90.0
#define SIM_EXPLORE 0.15            /* sessions outside favourite categories */
#define SIM_STYLE_LOYALTY 0.65
#define SIM_VIEW_CONTINUE 0.70      /* geometric views per session */
#define SIM_MAX_VIEWS 30
#define SIM_CART_RATE 0.13
#define SIM_BUY_RATE 0.60           /* carted item bought at checkout */
#define SIM_REFUND_RATE 0.03
#define SIM_NEW_ITEM_SHARE 0.12
#define SIM_OUT_OF_STOCK_SHARE 0.08
#define SIM_GUEST_INVOICE_PER_DAY 0.08
#define SIM_ADJUSTMENT_PER_DAY 0.03
#define SIM_PARTNERS 3               /* complements per item */

/* ---- static shop description ---------------------------------------------- */

typedef enum sim_season { SEASON_FLAT, SEASON_XMAS, SEASON_SUMMER } sim_season_t;

typedef struct sim_category {
    const char *name;
    double weight;          /* share of the catalogue and of browsing */
    double price_lo, price_hi;
    double margin_lo, margin_hi;
    sim_season_t season;
    const char *nouns[6];
} sim_category_t;

#define SIM_NCAT 15
extern const sim_category_t sim_categories[SIM_NCAT];

/* ---- the simulated shop --------------------------------------------------- */

typedef struct sim_item {
    char title[96];
    uint8_t cat, style;
    double price, unit_cost;
    int launch_day, stockout_day; /* buyable in [launch, stockout) */
    double popularity;
} sim_item_t;

typedef struct sim_customer {
    int join_day, leave_day;   /* active in [join, leave) */
    double rate;               /* base sessions per day */
    uint8_t fav[3];
    double fav_w[3];
    uint8_t nfav, style;
    double budget;             /* willingness to pay relative to median */
    const char *country;
} sim_customer_t;

typedef enum sim_type {
    SIM_VIEW = 1, SIM_CART, SIM_PURCHASE, SIM_REFUND,
    SIM_ADJUST, /* retail-only stock adjustment */
} sim_type_t;

typedef struct sim_event {
    int64_t t;          /* unix seconds */
    uint32_t seq;       /* generation order: makes the time sort total */
    uint32_t customer;  /* SIM_NO_CUSTOMER: guest, retail file only */
    uint32_t item;
    uint32_t session;   /* checkout session, for invoice grouping */
    uint8_t type;
    int32_t qty;
    double price;
    const char *note;   /* SIM_ADJUST description */
} sim_event_t;

typedef struct sim_bucket {
    uint32_t *items;
    double *cum;
    uint32_t n;
    size_t cap;
} sim_bucket_t;

typedef struct sim_config {
    const char *out;
    uint32_t customers, items, days;
    uint64_t seed;
    double complement_rate; /* 0..1: a bought item brings a partner (0: never) */
} sim_config_t;

typedef struct sim {
    sim_config_t cfg;
    xoshiro_t rng;
    int64_t start;                      /* unix seconds of day 0 */
    sim_item_t *items;
    sim_customer_t *cust;
    /* items by category and by (category, style), popularity-weighted */
    sim_bucket_t all, by_cat[SIM_NCAT], by_style[SIM_NCAT][SIM_STYLES];
    double cat_cum[12][SIM_NCAT];       /* browsing weights per month */
    sim_event_t *ev;
    size_t nev, evcap;
    uint32_t sessions;
    uint64_t invoices, cancellations, churned;
    /* bought together (shopsim_complements.c), with a stream of its own */
    xoshiro_t crng;
    uint32_t (*partners)[SIM_PARTNERS]; /* per item; UINT32_MAX: none */
} sim_t;

/* Simulates the whole period into s->items, s->cust and s->ev (sorted by
 * time). 0 or -ENOMEM. */
int sim_run(sim_t *s);

/* shopsim_complements.c: draws every item's partners (after the
 * catalogue; 0 or -ENOMEM; nothing when cfg.complement_rate is 0), and adds
 * partners of the n_bought items bought at checkout time t to the basket
 * (0 or -ENOMEM). */
int sim_complements_init(sim_t *s);
int sim_complements_checkout(sim_t *s, uint32_t ci, int day, int64_t t,
                             const uint32_t *bought, int n_bought);

/* Appends one event of the current session (0 or -ENOMEM). */
int sim_emit_at(sim_t *s, int64_t t, uint32_t cust, uint32_t item, sim_type_t type,
                int32_t qty, double price);

/* Frees what sim_run allocated. */
void sim_free(sim_t *s);

/* Write DIR/items.csv, DIR/events.csv (counts per event type) and
 * DIR/online_retail.csv. 0, or -EIO after a message on stderr. */
int sim_write_items(const sim_t *s);
int sim_write_events(const sim_t *s, uint64_t counts[5]);
int sim_write_retail(sim_t *s);

/* shopsim_programme.c: DIR/programme_events.csv, the members' signups,
 * check-ins, reviews and shares (counts per type in that order). 0, -ENOMEM
 * or -EIO after a message on stderr. */
int sim_write_programme(const sim_t *s, uint64_t counts[4]);

/* shopsim_write.c: DIR/NAME opened for writing (NULL after a message on
 * stderr), and closed (0, or -EIO after a message if writing failed). */
FILE *sim_open(const char *dir, const char *name);
int sim_close(FILE *f, const char *name);

/* t (unix seconds) as 2024-01-31T12:00:00Z into buf. */
void sim_iso_time(int64_t t, char *buf, size_t n);

#endif
