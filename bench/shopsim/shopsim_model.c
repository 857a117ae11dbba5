/*
 * shopsim_model.c - the simulated shop: catalogue, customers, seasonality
 * and sessions (model described in shopsim.c).
 */
#include "shopsim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "grow.h"

/* ---- PRNG (xoshiro256**, base/rng.h) -------------------------------------- */

/* Uniform integer in [0, n); n > 0. */
static uint32_t rng_below(xoshiro_t *r, uint32_t n) { return (uint32_t)(xoshiro_unit(r) * n); }

static int rng_chance(xoshiro_t *r, double p) { return xoshiro_unit(r) < p; }

static double rng_normal(xoshiro_t *r)
{
    double u1 = 1.0 - xoshiro_unit(r), u2 = xoshiro_unit(r); /* u1 in (0, 1] */
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double rng_exponential(xoshiro_t *r, double mean)
{
    return -mean * log(1.0 - xoshiro_unit(r));
}

/* Knuth's multiplication method; fine for the small rates used here. */
static int rng_poisson(xoshiro_t *r, double lambda)
{
    double limit = exp(-lambda), p = 1.0;
    int k = -1;
    do {
        k++;
        p *= xoshiro_unit(r);
    } while (p > limit && k < 100);
    return k;
}

/* Index drawn from cumulative weights cum[0..n-1] (cum[n-1] = total). */
static uint32_t rng_pick_cum(xoshiro_t *r, const double *cum, uint32_t n)
{
    double x = xoshiro_unit(r) * cum[n - 1];
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

const sim_category_t sim_categories[SIM_NCAT] = {
    {"Kitchen", 1.6, 1.5, 40, 0.35, 0.55, SEASON_FLAT,
     {"Mug", "Tea Towel", "Cake Tin", "8\" Cake Stand", "Jam Jar", "Lunch Box"}},
    {"Home Decor", 1.8, 2, 60, 0.40, 0.60, SEASON_FLAT,
     {"Heart T-Light Holder", "Photo Frame", "Cushion Cover", "Wall Clock",
      "Doorstop", "Vase"}},
    {"Garden", 0.9, 3, 80, 0.30, 0.50, SEASON_SUMMER,
     {"Plant Pot", "Watering Can", "Bird Feeder", "Garden Sign", "Seed Tin",
      "Trowel"}},
    {"Toys", 1.0, 2, 45, 0.35, 0.55, SEASON_XMAS,
     {"Spinning Top", "Skittles", "Jigsaw", "Rag Doll", "Tea Set", "Yo-Yo"}},
    {"Books", 0.7, 4, 30, 0.20, 0.35, SEASON_FLAT,
     {"Recipe Book", "Notebook Novel", "Colouring Book", "Atlas", "Diary",
      "Sketchbook"}},
    {"Electronics", 0.6, 12, 250, 0.10, 0.25, SEASON_XMAS,
     {"Radio", "Speaker", "Alarm Clock", "Torch", "Charger", "Headphones"}},
    {"Stationery", 1.2, 0.4, 12, 0.45, 0.65, SEASON_FLAT,
     {"Pencil Set", "Gift Tag", "Wrapping Paper", "Greeting Card", "Sticker Sheet",
      "Memo Pad"}},
    {"Lighting", 0.8, 4, 90, 0.35, 0.55, SEASON_XMAS,
     {"Lantern", "Fairy Lights", "Table Lamp", "Candle", "Night Light",
      "String Lights"}},
    {"Bags", 0.9, 3, 70, 0.40, 0.60, SEASON_FLAT,
     {"Jumbo Bag", "Shopping Bag", "Tote", "Wash Bag", "Purse", "Rucksack"}},
    {"Jewellery", 0.6, 3, 120, 0.50, 0.70, SEASON_XMAS,
     {"Necklace", "Bracelet", "Earrings", "Ring", "Brooch", "Jewellery Box"}},
    {"Party", 0.8, 0.8, 20, 0.45, 0.65, SEASON_FLAT,
     {"Paper Chain Kit", "Bunting", "Party Bag", "Napkins", "Cake Cases",
      "Balloon Set"}},
    {"Christmas", 0.9, 0.8, 35, 0.45, 0.65, SEASON_XMAS,
     {"Bauble", "Advent Calendar", "Tree Topper", "Stocking", "Wreath",
      "Nativity Set"}},
    {"Bath, Body & Beauty", 0.8, 2, 40, 0.50, 0.70, SEASON_FLAT,
     {"Soap", "Bath Salts", "Hand Cream", "Make-Up Bag", "Mirror",
      "Lip Balm"}},
    {"Sports", 0.5, 5, 150, 0.20, 0.40, SEASON_SUMMER,
     {"Water Bottle", "Yoga Mat", "Frisbee", "Skipping Rope", "Cricket Set",
      "Badminton Set"}},
    {"Pet Supplies", 0.6, 1.5, 50, 0.30, 0.50, SEASON_FLAT,
     {"Dog Bowl", "Cat Toy", "Pet Bed", "Lead", "Treat Tin", "Scratching Post"}},
};

static const char *const sim_adjectives[] = {
    "Vintage", "Rustic", "Retro", "Modern", "Floral", "Spotty", "Regency",
    "Scandi", "Woodland", "Pastel", "Antique", "Striped", "Enamel", "Glass",
};
static const char *const sim_colours[] = {
    "Red", "Blue", "Pink", "Ivory", "Green", "Black", "Gold", "Natural",
};
static const char *const sim_countries[] = {
    "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium",
    "Switzerland", "Portugal", "Australia", "Norway",
};
static const char *const sim_adjustment_notes[] = {"damaged", "?", "check", ""};

/* Session-start hour weights (UTC); online shopping peaks at lunch and in
 * the evening. */
static const double sim_hour_weight[24] = {
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.2, 1.5, 1.7, 1.8,
    2.0, 1.9, 1.7, 1.5, 1.4, 1.4, 1.6, 1.9, 2.0, 1.7, 1.1, 0.5,
};
/* Sunday first. */
static const double sim_weekday_factor[7] = {1.20, 1.00, 0.95, 0.95, 1.00, 0.90, 1.05};
static const double sim_month_factor[12] = {0.85, 0.80, 0.90, 0.90, 0.95, 0.90,
                                            0.90, 0.90, 1.05, 1.15, 1.45, 1.70};

/* ---- catalogue ------------------------------------------------------------ */

static double sim_round_price(double p)
{
    if (p < 10) {
        p = round(p * 20) / 20; /* 0.05 steps: 0.85, 2.55 */
        return p < 0.29 ? 0.29 : p;
    }
    return round(p) - 0.01; /* 12.99 */
}

/* "Mug" -> "Mugs", "Lunch Box" -> "Lunch Boxes", "Diary" -> "Diaries";
 * nouns already plural ("Fairy Lights") stay. */
static void sim_plural(const char *noun, char *buf, size_t n)
{
    size_t len = strlen(noun);
    char last = len ? noun[len - 1] : 0, prev = len > 1 ? noun[len - 2] : 0;
    if (last == 's')
        snprintf(buf, n, "%s", noun);
    else if (last == 'x' || (last == 'h' && (prev == 'c' || prev == 's')))
        snprintf(buf, n, "%ses", noun);
    else if (last == 'y' && !strchr("aeiou", prev))
        snprintf(buf, n, "%.*sies", (int)(len - 1), noun);
    else
        snprintf(buf, n, "%ss", noun);
}

static void sim_make_title(sim_t *s, sim_item_t *it)
{
    const sim_category_t *c = &sim_categories[it->cat];
    size_t nadj = sizeof sim_adjectives / sizeof *sim_adjectives;
    size_t ncol = sizeof sim_colours / sizeof *sim_colours;
    const char *adj = sim_adjectives[rng_below(&s->rng, (uint32_t)nadj)];
    const char *noun = c->nouns[rng_below(&s->rng, 6)];
    double u = xoshiro_unit(&s->rng);
    if (u < 0.25) { /* "Set of 3 Vintage Mugs, Blue": a comma to quote */
        char plural[64];
        sim_plural(noun, plural, sizeof plural);
        snprintf(it->title, sizeof it->title, "Set of %u %s %s, %s",
                 2 + rng_below(&s->rng, 5), adj, plural,
                 sim_colours[rng_below(&s->rng, (uint32_t)ncol)]);
    }
    else if (u < 0.55)
        snprintf(it->title, sizeof it->title, "%s %s %s", adj,
                 sim_colours[rng_below(&s->rng, (uint32_t)ncol)], noun);
    else
        snprintf(it->title, sizeof it->title, "%s %s", adj, noun);
}

static uint8_t sim_pick_category(sim_t *s)
{
    double cum[SIM_NCAT], acc = 0;
    for (int c = 0; c < SIM_NCAT; c++)
        cum[c] = acc += sim_categories[c].weight;
    return (uint8_t)rng_pick_cum(&s->rng, cum, SIM_NCAT);
}

static void sim_make_item(sim_t *s, sim_item_t *it, double popularity)
{
    int days = (int)s->cfg.days;
    it->cat = sim_pick_category(s);
    it->style = (uint8_t)rng_below(&s->rng, SIM_STYLES);
    const sim_category_t *c = &sim_categories[it->cat];
    double lp = log(c->price_lo) + xoshiro_unit(&s->rng) * log(c->price_hi / c->price_lo);
    it->price = sim_round_price(exp(lp));
    double margin = c->margin_lo + xoshiro_unit(&s->rng) * (c->margin_hi - c->margin_lo);
    double cost = round(it->price * (1 - margin) * 100) / 100;
    it->unit_cost = cost < 0.01 ? 0.01 : cost > it->price - 0.01 ? it->price - 0.01 : cost;
    it->launch_day = 0;
    if (days > 60 && rng_chance(&s->rng, SIM_NEW_ITEM_SHARE))
        it->launch_day = 30 + (int)rng_below(&s->rng, (uint32_t)days - 60);
    it->stockout_day = days;
    if (rng_chance(&s->rng, SIM_OUT_OF_STOCK_SHARE)) {
        int back = 5 + (int)rng_below(&s->rng, 56);
        it->stockout_day = days - back > it->launch_day ? days - back : it->launch_day;
    }
    it->popularity = popularity;
    sim_make_title(s, it);
}

static int sim_bucket_add(sim_bucket_t *b, uint32_t idx, double w)
{
    void *const cols[] = { &b->items, &b->cum };
    const size_t sizes[] = { sizeof *b->items, sizeof *b->cum };
    if (grow_parallel(&b->cap, (size_t)b->n + 1, 2, cols, sizes) != 0)
        return -ENOMEM;
    b->cum[b->n] = (b->n ? b->cum[b->n - 1] : 0) + w;
    b->items[b->n++] = idx;
    return 0;
}

static int sim_catalogue(sim_t *s)
{
    uint32_t m = s->cfg.items;
    uint32_t *rank = malloc(m * sizeof *rank);
    s->items = calloc(m, sizeof *s->items);
    if (!rank || !s->items) {
        free(rank);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < m; i++)
        rank[i] = i;
    for (uint32_t i = m; i > 1; i--) { /* Fisher-Yates: popularity ranks */
        uint32_t j = rng_below(&s->rng, i), t = rank[i - 1];
        rank[i - 1] = rank[j];
        rank[j] = t;
    }
    int rc = 0;
    for (uint32_t i = 0; i < m && rc == 0; i++) {
        sim_item_t *it = &s->items[i];
        sim_make_item(s, it, pow(rank[i] + 1.0, -SIM_POPULARITY_ZIPF));
        rc = sim_bucket_add(&s->all, i, it->popularity);
        if (rc == 0)
            rc = sim_bucket_add(&s->by_cat[it->cat], i, it->popularity);
        if (rc == 0)
            rc = sim_bucket_add(&s->by_style[it->cat][it->style], i, it->popularity);
    }
    free(rank);
    return rc;
}

/* ---- customers ------------------------------------------------------------ */

static void sim_make_tastes(sim_t *s, sim_customer_t *c)
{
    c->nfav = (uint8_t)(2 + rng_below(&s->rng, 2));
    double total = 0;
    for (int k = 0; k < c->nfav; k++) {
        uint8_t cat;
        int dup;
        do { /* distinct favourites */
            cat = sim_pick_category(s);
            dup = 0;
            for (int j = 0; j < k; j++)
                dup |= c->fav[j] == cat;
        } while (dup);
        c->fav[k] = cat;
        c->fav_w[k] = rng_exponential(&s->rng, 1.0) + 0.2;
        total += c->fav_w[k];
    }
    for (int k = 0; k < c->nfav; k++)
        c->fav_w[k] /= total;
    c->style = (uint8_t)rng_below(&s->rng, SIM_STYLES);
}

static int sim_customers(sim_t *s)
{
    int days = (int)s->cfg.days;
    size_t ncountries = sizeof sim_countries / sizeof *sim_countries;
    s->cust = calloc(s->cfg.customers, sizeof *s->cust);
    if (!s->cust)
        return -ENOMEM;
    for (uint32_t i = 0; i < s->cfg.customers; i++) {
        sim_customer_t *c = &s->cust[i];
        c->join_day = rng_chance(&s->rng, SIM_INITIAL_SHARE)
                          ? 0 : (int)rng_below(&s->rng, (uint32_t)days);
        c->leave_day = days;
        if (rng_chance(&s->rng, SIM_CHURN_SHARE)) {
            double stay = 7 + rng_exponential(&s->rng, SIM_CHURN_MEAN_DAYS);
            if (c->join_day + stay < days) {
                c->leave_day = c->join_day + (int)stay;
                s->churned++;
            }
        }
        c->rate = SIM_SESSIONS_PER_DAY * exp(SIM_ACTIVITY_SIGMA * rng_normal(&s->rng));
        c->budget = exp(0.4 * rng_normal(&s->rng));
        c->country = rng_chance(&s->rng, 0.85)
                         ? "United Kingdom"
                         : sim_countries[rng_below(&s->rng, (uint32_t)ncountries)];
        sim_make_tastes(s, c);
    }
    return 0;
}

/* ---- seasonality ---------------------------------------------------------- */

static void sim_day_civil(const sim_t *s, int day, unsigned *month, unsigned *mday,
                          int *weekday)
{
    int64_t days = s->start / SIM_DAY_S + day, y;
    civil_from_days(days, &y, month, mday);
    *weekday = (int)civil_weekday(days);
}

static double sim_category_season(sim_season_t kind, unsigned month)
{
    switch (kind) {
    case SEASON_XMAS:
        return month == 12 ? 3.0 : month == 11 ? 2.2 : month == 10 ? 1.2 : 0.6;
    case SEASON_SUMMER:
        return month >= 4 && month <= 7 ? 1.8 : month >= 11 || month <= 2 ? 0.4 : 1.0;
    default:
        return 1.0;
    }
}

static void sim_season_tables(sim_t *s)
{
    for (unsigned m = 1; m <= 12; m++) {
        double acc = 0;
        for (int c = 0; c < SIM_NCAT; c++) {
            acc += sim_categories[c].weight *
                   sim_category_season(sim_categories[c].season, m);
            s->cat_cum[m - 1][c] = acc;
        }
    }
}

static double sim_day_factor(const sim_t *s, int day)
{
    unsigned month, mday;
    int wd;
    sim_day_civil(s, day, &month, &mday, &wd);
    double f = sim_weekday_factor[wd] * sim_month_factor[month - 1];
    if (month == 12 && mday >= 24)
        f *= 0.4; /* the shop goes quiet after Christmas Eve */
    return f;
}

/* ---- sessions ------------------------------------------------------------- */

static int sim_emit(sim_t *s, int64_t t, uint32_t cust, uint32_t item,
                    sim_type_t type, int32_t qty, double price)
{
    if (GROW(s->ev, s->evcap, s->nev + 1) != 0)
        return -ENOMEM;
    s->ev[s->nev] = (sim_event_t){.t = t, .seq = (uint32_t)s->nev, .customer = cust,
                                  .item = item, .session = s->sessions,
                                  .type = (uint8_t)type, .qty = qty, .price = price};
    s->nev++;
    return 0;
}

int sim_emit_at(sim_t *s, int64_t t, uint32_t cust, uint32_t item, sim_type_t type,
                int32_t qty, double price)
{
    return sim_emit(s, t, cust, item, type, qty, price);
}

static uint8_t sim_session_category(sim_t *s, const sim_customer_t *c, unsigned month)
{
    if (rng_chance(&s->rng, SIM_EXPLORE))
        return (uint8_t)rng_pick_cum(&s->rng, s->cat_cum[month - 1], SIM_NCAT);
    double cum[3], acc = 0;
    for (int k = 0; k < c->nfav; k++)
        cum[k] = acc += c->fav_w[k] *
                        sim_category_season(sim_categories[c->fav[k]].season, month);
    return c->fav[rng_pick_cum(&s->rng, cum, c->nfav)];
}

/* An item of category cat (any item if the catalogue has none there)
 * already launched on day, or UINT32_MAX. */
static uint32_t sim_pick_item(sim_t *s, const sim_customer_t *c, uint8_t cat, int day)
{
    const sim_bucket_t *b = &s->by_style[cat][c->style];
    if (b->n == 0 || !rng_chance(&s->rng, SIM_STYLE_LOYALTY))
        b = &s->by_cat[cat];
    if (b->n == 0)
        b = &s->all;
    for (int tries = 0; tries < 8; tries++) {
        uint32_t i = b->items[rng_pick_cum(&s->rng, b->cum, b->n)];
        if (s->items[i].launch_day <= day)
            return i;
    }
    return UINT32_MAX;
}

static int32_t sim_quantity(sim_t *s, double price)
{
    double u = xoshiro_unit(&s->rng);
    int32_t q = u < 0.70 ? 1 : u < 0.88 ? 2 : u < 0.96 ? 3 : 4 + (int32_t)rng_below(&s->rng, 9);
    if (price < 2 && rng_chance(&s->rng, 0.3))
        q *= 6; /* cheap things go by the half dozen */
    return q;
}

static double sim_cart_probability(const sim_customer_t *c,
                                   const sim_item_t *it)
{
    const sim_category_t *cat = &sim_categories[it->cat];
    double median = sqrt(cat->price_lo * cat->price_hi);
    double afford = pow(c->budget * median / it->price, 0.4);
    double p = SIM_CART_RATE * (it->style == c->style ? 1.5 : 0.8) * afford;
    return p > 0.9 ? 0.9 : p;
}

/* Purchase price on `day`: 20% off in the January sale (first two weeks). */
static double sim_sale_price(const sim_t *s, const sim_item_t *it, int day)
{
    unsigned month, mday;
    int wd;
    sim_day_civil(s, day, &month, &mday, &wd);
    if (month == 1 && mday <= 14)
        return round(it->price * 80) / 100;
    return it->price;
}

/* buy is a copy: emitting may move the event array. */
static int sim_refund_maybe(sim_t *s, uint32_t ci, sim_event_t buy, int64_t end)
{
    if (!rng_chance(&s->rng, SIM_REFUND_RATE))
        return 0;
    int64_t t = buy.t + SIM_DAY_S * (1 + (int64_t)rng_below(&s->rng, 30)) +
                rng_below(&s->rng, SIM_DAY_S);
    if (t >= end)
        return 0;
    int32_t q = buy.qty;
    if (q > 1 && rng_chance(&s->rng, 0.2))
        q = 1 + (int32_t)rng_below(&s->rng, (uint32_t)q - 1);
    return sim_emit(s, t, ci, buy.item, SIM_REFUND, q, buy.price);
}

static int64_t sim_session_start(sim_t *s, int day)
{
    double cum[24], acc = 0;
    for (int h = 0; h < 24; h++)
        cum[h] = acc += sim_hour_weight[h];
    return s->start + (int64_t)day * SIM_DAY_S +
           3600 * rng_pick_cum(&s->rng, cum, 24) + rng_below(&s->rng, 3600);
}

/* One visit: views in one category (sometimes a second), carts, and a
 * checkout that buys some of the carted items at a single instant. */
static int sim_session(sim_t *s, uint32_t ci, int day)
{
    const sim_customer_t *c = &s->cust[ci];
    int64_t t = sim_session_start(s, day), end = s->start + (int64_t)s->cfg.days * SIM_DAY_S;
    unsigned month, mday;
    int wd;
    sim_day_civil(s, day, &month, &mday, &wd);
    uint8_t cat = sim_session_category(s, c, month);
    uint32_t carted[SIM_MAX_VIEWS];
    int ncart = 0, rc = 0;
    s->sessions++;
    for (int v = 0; v < SIM_MAX_VIEWS && rc == 0; v++) {
        if (v > 0 && rng_chance(&s->rng, 0.15))
            cat = sim_session_category(s, c, month);
        uint32_t i = sim_pick_item(s, c, cat, day);
        if (i != UINT32_MAX) {
            const sim_item_t *it = &s->items[i];
            rc = sim_emit(s, t, ci, i, SIM_VIEW, 1, it->price);
            t += 10 + rng_below(&s->rng, 170);
            if (rc == 0 && day < it->stockout_day &&
                rng_chance(&s->rng, sim_cart_probability(c, it))) {
                rc = sim_emit(s, t, ci, i, SIM_CART, 1, it->price);
                carted[ncart++] = i;
                t += 5 + rng_below(&s->rng, 60);
            }
        }
        if (!rng_chance(&s->rng, SIM_VIEW_CONTINUE))
            break;
    }
    t += 30 + rng_below(&s->rng, 240); /* checkout */
    uint32_t bought[SIM_MAX_VIEWS];
    int nbought = 0;
    for (int k = 0; k < ncart && rc == 0 && t < end; k++) {
        if (!rng_chance(&s->rng, SIM_BUY_RATE))
            continue;
        const sim_item_t *it = &s->items[carted[k]];
        rc = sim_emit(s, t, ci, carted[k], SIM_PURCHASE, sim_quantity(s, it->price),
                      sim_sale_price(s, it, day));
        bought[nbought++] = carted[k];
        if (rc == 0)
            rc = sim_refund_maybe(s, ci, s->ev[s->nev - 1], end);
    }
    if (rc == 0 && t < end)
        rc = sim_complements_checkout(s, ci, day, t, bought, nbought);
    return rc;
}

static int sim_customer_history(sim_t *s, uint32_t ci)
{
    const sim_customer_t *c = &s->cust[ci];
    int rc = 0;
    for (int day = c->join_day; day < c->leave_day && rc == 0; day++) {
        /* Newcomers visit on the day they join: that is how they joined
         * (day-0 customers were already there). */
        int n = rng_poisson(&s->rng, c->rate * sim_day_factor(s, day));
        if (day == c->join_day && day > 0 && n == 0)
            n = 1;
        for (int k = 0; k < n && rc == 0; k++)
            rc = sim_session(s, ci, day);
    }
    return rc;
}

/* Rows only the online-retail file has: guest checkouts and stock
 * adjustments, both without CustomerID, as in the real data. */
static int sim_retail_extras(sim_t *s)
{
    size_t nnotes = sizeof sim_adjustment_notes / sizeof *sim_adjustment_notes;
    int rc = 0;
    for (int day = 0; day < (int)s->cfg.days && rc == 0; day++) {
        if (rng_chance(&s->rng, SIM_GUEST_INVOICE_PER_DAY)) {
            int64_t t = sim_session_start(s, day);
            int lines = 1 + (int)rng_below(&s->rng, 4);
            s->sessions++;
            for (int k = 0; k < lines && rc == 0; k++) {
                uint32_t i = rng_below(&s->rng, s->cfg.items);
                rc = sim_emit(s, t, SIM_NO_CUSTOMER, i, SIM_PURCHASE,
                              sim_quantity(s, s->items[i].price), s->items[i].price);
            }
        }
        if (rc == 0 && rng_chance(&s->rng, SIM_ADJUSTMENT_PER_DAY)) {
            uint32_t i = rng_below(&s->rng, s->cfg.items);
            rc = sim_emit(s, sim_session_start(s, day), SIM_NO_CUSTOMER, i, SIM_ADJUST,
                          -(int32_t)(1 + rng_below(&s->rng, 24)), 0.0);
            if (rc == 0)
                s->ev[s->nev - 1].note = sim_adjustment_notes[rng_below(&s->rng, (uint32_t)nnotes)];
        }
    }
    return rc;
}

static int sim_event_cmp(const void *a, const void *b)
{
    const sim_event_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int sim_run(sim_t *s)
{
    s->start = civil_to_days(SIM_START_YEAR, 1, 1) * SIM_DAY_S;
    xoshiro_seed(&s->rng, s->cfg.seed);
    sim_season_tables(s);
    int rc = sim_catalogue(s);
    if (rc == 0)
        rc = sim_complements_init(s);
    if (rc == 0)
        rc = sim_customers(s);
    for (uint32_t ci = 0; ci < s->cfg.customers && rc == 0; ci++)
        rc = sim_customer_history(s, ci);
    if (rc == 0)
        rc = sim_retail_extras(s);
    if (rc == 0 && s->nev > 0)
        qsort(s->ev, s->nev, sizeof *s->ev, sim_event_cmp);
    return rc;
}

void sim_free(sim_t *s)
{
    free(s->all.items);
    free(s->all.cum);
    for (int c = 0; c < SIM_NCAT; c++) {
        free(s->by_cat[c].items);
        free(s->by_cat[c].cum);
        for (int st = 0; st < SIM_STYLES; st++) {
            free(s->by_style[c][st].items);
            free(s->by_style[c][st].cum);
        }
    }
    free(s->items);
    free(s->cust);
    free(s->ev);
    free(s->partners);
}
