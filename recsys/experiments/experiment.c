/*
 * experiment.c - experiment definitions, their validation, and the stateless
 * assignment of customers to arms (contract in experiment.h).
 *
 * A set is built once per change of definitions and then only read. Building
 * does the work requests should not: it copies the definitions, sorts each
 * forced list for binary search, lays the experiments of each layer out on
 * their bucket ranges, turns arm weights into cumulative boundaries, and
 * absorbs each hash's fixed prefix (domain, layer name or salt) into a saved
 * SipHash state. Assigning a customer then costs, per layer, one binary
 * search per experiment's forced list, and the hashing of the customer id
 * twice (layer position, arm), resumed from the saved states.
 *
 * SipHash-2-4 because it is well mixed (a keyed PRF), so buckets are uniform
 * and the layer and arm hashes are independent of each other and of hashes in
 * other layers; the domain strings "layer" and "arm" keep them independent
 * even when a salt equals a layer name. The key is fixed forever: changing it
 * would reshuffle every customer of every experiment.
 */
#include "experiment.h"

#include "hash.h"
#include "id.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "patron-exp-key-1": never change (see above). */
static const uint8_t assign_key[16] = {
    'p', 'a', 't', 'r', 'o', 'n', '-', 'e', 'x', 'p', '-', 'k', 'e', 'y', '-', '1'
};

static const char layer_domain[] = "layer";
static const char arm_domain[] = "arm";

/* The state after absorbing domain '\0' key '\0'. */
static siphash_t prefix_state(const char *domain, const char *key)
{
    siphash_t s;
    siphash_init(&s, assign_key);
    siphash_update(&s, domain, strlen(domain) + 1);
    siphash_update(&s, key, strlen(key) + 1);
    return s;
}

static uint64_t hash_from(siphash_t prefix, const char *customer_id, size_t len)
{
    siphash_update(&prefix, customer_id, len);
    return siphash_final(&prefix);
}

uint64_t experiment_hash(const char *domain, const char *key,
                         const char *customer_id)
{
    return hash_from(prefix_state(domain, key), customer_id,
                     strlen(customer_id));
}

uint32_t experiment_bucket(uint64_t hash)
{
    return (uint32_t)(((hash >> 32) * (uint64_t)EXPERIMENT_BUCKETS) >> 32);
}

double experiment_unit(uint64_t hash)
{
    return (double)(hash >> 11) * 0x1.0p-53;
}

/* ---- validation ------------------------------------------------------------------ */

static int fail(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* 1..EXPERIMENT_MAX_ID bytes of [A-Za-z0-9_.-] within a buffer of
 * EXPERIMENT_MAX_ID + 1 bytes (so it must be terminated inside it). */
static int id_ok(const char *s)
{
    return id_check(s, EXPERIMENT_MAX_ID, ID_TOKEN) != 0;
}

/* Length of a valid customer id, or 0 if it is empty, too long or holds a
 * control character. */
static size_t customer_len(const char *s)
{
    return id_check(s, EXPERIMENT_MAX_CUSTOMER, ID_PRINTABLE);
}

#define ID_RULE "must be 1..128 bytes of [A-Za-z0-9_.-]"

static int arm_index(const experiment_t *e, const char *arm_id)
{
    for (size_t i = 0; i < e->n_arms; i++)
        if (strcmp(e->arms[i].id, arm_id) == 0)
            return (int)i;
    return -1;
}

static int arms_invalid(const experiment_t *e, char *err, size_t cap)
{
    if (e->n_arms < EXPERIMENT_MIN_ARMS || e->n_arms > EXPERIMENT_MAX_ARMS)
        return fail(err, cap, "experiment '%s': arms: need %d..%d arms (got %zu)",
                    e->id, EXPERIMENT_MIN_ARMS, EXPERIMENT_MAX_ARMS, e->n_arms);
    double sum = 0;
    for (size_t i = 0; i < e->n_arms; i++) {
        const experiment_arm_t *a = &e->arms[i];
        if (!id_ok(a->id))
            return fail(err, cap, "experiment '%s': arms[%zu].id: " ID_RULE,
                        e->id, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->arms[j].id, a->id) == 0)
                return fail(err, cap,
                            "experiment '%s': arms[%zu].id: '%s' repeats arms[%zu]",
                            e->id, i, a->id, j);
        if (!(a->weight > 0) || !isfinite(a->weight))
            return fail(err, cap, "experiment '%s': arms[%zu].weight: must be > 0 (got %g)",
                        e->id, i, a->weight);
        if (!(a->popularity_blend >= 0 && a->popularity_blend <= 1))
            return fail(err, cap,
                        "experiment '%s': arms[%zu].popularity_blend: must be in [0, 1] (got %g)",
                        e->id, i, a->popularity_blend);
        if (!a->coupons_off && !(a->coupon_lambda >= 0 && isfinite(a->coupon_lambda)))
            return fail(err, cap,
                        "experiment '%s': arms[%zu].coupon_lambda: must be finite and >= 0 (got %g)",
                        e->id, i, a->coupon_lambda);
        if (!(a->diversity >= 0 && a->diversity <= 1))
            return fail(err, cap,
                        "experiment '%s': arms[%zu].diversity: must be in [0, 1] (got %g)",
                        e->id, i, a->diversity);
        sum += a->weight;
    }
    if (fabs(sum - 1.0) > EXPERIMENT_WEIGHT_TOLERANCE)
        return fail(err, cap, "experiment '%s': arms: weights must sum to 1 (got %.12g)",
                    e->id, sum);
    return 0;
}

static int forced_invalid(const experiment_t *e, char *err, size_t cap)
{
    if (e->n_forced > 0 && !e->forced)
        return fail(err, cap, "experiment '%s': forced: NULL list of %zu",
                    e->id, e->n_forced);
    for (size_t i = 0; i < e->n_forced; i++) {
        const experiment_forced_t *f = &e->forced[i];
        if (customer_len(f->customer_id) == 0)
            return fail(err, cap,
                        "experiment '%s': forced[%zu].customer_id: must be 1..%d bytes without control characters",
                        e->id, i, EXPERIMENT_MAX_CUSTOMER);
        if (strnlen(f->arm_id, EXPERIMENT_MAX_ID + 1) > EXPERIMENT_MAX_ID ||
            arm_index(e, f->arm_id) < 0)
            return fail(err, cap, "experiment '%s': forced[%zu].arm_id: no arm '%.*s'",
                        e->id, i, EXPERIMENT_MAX_ID, f->arm_id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->forced[j].customer_id, f->customer_id) == 0)
                return fail(err, cap,
                            "experiment '%s': forced[%zu].customer_id: '%s' already forced in forced[%zu]",
                            e->id, i, f->customer_id, j);
    }
    return 0;
}

static uint32_t traffic_buckets(double fraction)
{
    return (uint32_t)llround(fraction * EXPERIMENT_BUCKETS);
}

int experiment_invalid(const experiment_t *e, char *err, size_t cap)
{
    if (!e)
        return fail(err, cap, "experiment: NULL definition");
    if (!id_ok(e->id))
        return fail(err, cap, "experiment id: " ID_RULE);
    if (!id_ok(e->salt))
        return fail(err, cap, "experiment '%s': salt: " ID_RULE, e->id);
    if (!id_ok(e->layer))
        return fail(err, cap, "experiment '%s': layer: " ID_RULE, e->id);
    if (!(e->traffic_fraction > 0 && e->traffic_fraction <= 1))
        return fail(err, cap, "experiment '%s': traffic_fraction: must be in (0, 1] (got %g)",
                    e->id, e->traffic_fraction);
    if (traffic_buckets(e->traffic_fraction) == 0)
        return fail(err, cap,
                    "experiment '%s': traffic_fraction: %g is below the resolution 1/%d",
                    e->id, e->traffic_fraction, EXPERIMENT_BUCKETS);
    if (e->start_ms < 0)
        return fail(err, cap, "experiment '%s': start_ms: must be >= 0 (got %lld)",
                    e->id, (long long)e->start_ms);
    if (e->stop_ms != 0 && e->stop_ms <= e->start_ms)
        return fail(err, cap,
                    "experiment '%s': stop_ms: must be after start_ms %lld (got %lld)",
                    e->id, (long long)e->start_ms, (long long)e->stop_ms);
    int rc = arms_invalid(e, err, cap);
    if (rc)
        return rc;
    return forced_invalid(e, err, cap);
}

int experiment_models_invalid(const experiment_t *e, const uint64_t *versions,
                              size_t n, char *err, size_t cap)
{
    if (!e || (n > 0 && !versions))
        return fail(err, cap, "experiment: NULL argument");
    for (size_t i = 0; i < e->n_arms && i < EXPERIMENT_MAX_ARMS; i++) {
        uint64_t v = e->arms[i].model_version;
        if (v == 0)
            continue;
        size_t j = 0;
        while (j < n && versions[j] != v)
            j++;
        if (j == n)
            return fail(err, cap,
                        "experiment '%s': arms[%zu].model_version: model version %llu is not loaded",
                        e->id, i, (unsigned long long)v);
    }
    return 0;
}

/* ---- the set: layout ------------------------------------------------------------- */

typedef struct entry {
    experiment_t def;              /* def.forced points at forced */
    experiment_forced_t *forced;   /* owned, sorted by customer id */
    size_t *forced_arm;            /* arm index of forced[i] */
    double cum[EXPERIMENT_MAX_ARMS]; /* cumulative weights, last exactly 1 */
    uint32_t lo, hi;               /* layer bucket range */
    siphash_t arm_prefix;
} entry_t;

typedef struct layer {
    const char *name;              /* an entry's def.layer */
    size_t n;
    size_t *members;               /* entry indices in layout order */
    siphash_t prefix;
} layer_t;

struct experiment_set {
    size_t n;
    entry_t *entries;
    size_t n_layers;
    layer_t *layers;               /* sorted by name */
    size_t *member_store;          /* n indices, sliced by the layers */
};

/* Layout order: layer, then start time, then id. */
static int cmp_layout(const experiment_t *a, const experiment_t *b)
{
    int c = strcmp(a->layer, b->layer);
    if (c)
        return c;
    if (a->start_ms != b->start_ms)
        return a->start_ms < b->start_ms ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int cmp_layout_ptr(const void *a, const void *b)
{
    return cmp_layout(*(const experiment_t *const *)a,
                      *(const experiment_t *const *)b);
}

static int cmp_id_ptr(const void *a, const void *b)
{
    return strcmp((*(const experiment_t *const *)a)->id,
                  (*(const experiment_t *const *)b)->id);
}

/* A forced customer and the experiment that forces them. */
typedef struct forced_ref {
    const char *customer_id;
    const char *experiment_id;
} forced_ref_t;

static int cmp_forced_ref(const void *a, const void *b)
{
    return strcmp(((const forced_ref_t *)a)->customer_id,
                  ((const forced_ref_t *)b)->customer_id);
}

/* Checks the experiments sorted[lo..hi) of one layer: traffic fits, nobody is
 * forced twice. */
static int layer_invalid(const experiment_t *const *sorted, size_t lo,
                         size_t hi, char *err, size_t cap)
{
    uint64_t buckets = 0;
    double fractions = 0;
    size_t n_forced = 0;
    for (size_t i = lo; i < hi; i++) {
        buckets += traffic_buckets(sorted[i]->traffic_fraction);
        fractions += sorted[i]->traffic_fraction;
        n_forced += sorted[i]->n_forced;
    }
    if (buckets > EXPERIMENT_BUCKETS)
        return fail(err, cap,
                    "layer '%s': traffic_fraction of its %zu experiments sums to %g, more than 1",
                    sorted[lo]->layer, hi - lo, fractions);
    if (n_forced == 0 || hi - lo == 1)
        return 0;
    forced_ref_t *refs = malloc(n_forced * sizeof *refs);
    if (!refs)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = lo; i < hi; i++)
        for (size_t j = 0; j < sorted[i]->n_forced; j++)
            refs[k++] = (forced_ref_t){ sorted[i]->forced[j].customer_id,
                                        sorted[i]->id };
    qsort(refs, n_forced, sizeof *refs, cmp_forced_ref);
    int rc = 0;
    for (size_t i = 1; i < n_forced && !rc; i++)
        if (strcmp(refs[i - 1].customer_id, refs[i].customer_id) == 0)
            rc = fail(err, cap,
                      "layer '%s': forced customer '%s' is in both '%s' and '%s'",
                      sorted[lo]->layer, refs[i].customer_id,
                      refs[i - 1].experiment_id, refs[i].experiment_id);
    free(refs);
    return rc;
}

static int duplicates_invalid(const experiment_t **sorted, size_t n, char *err,
                              size_t cap)
{
    qsort(sorted, n, sizeof *sorted, cmp_id_ptr);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0)
            return fail(err, cap, "experiment '%s': id: defined twice",
                        sorted[i]->id);
    return 0;
}

static int layers_invalid(const experiment_t **sorted, size_t n, char *err,
                          size_t cap)
{
    qsort(sorted, n, sizeof *sorted, cmp_layout_ptr);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && strcmp(sorted[hi]->layer, sorted[lo]->layer) == 0)
            hi++;
        int rc = layer_invalid(sorted, lo, hi, err, cap);
        if (rc)
            return rc;
        lo = hi;
    }
    return 0;
}

int experiment_set_invalid(const experiment_t *defs, size_t n, char *err,
                           size_t cap)
{
    if (n > 0 && !defs)
        return fail(err, cap, "experiments: NULL list of %zu", n);
    for (size_t i = 0; i < n; i++) {
        int rc = experiment_invalid(&defs[i], err, cap);
        if (rc)
            return rc;
    }
    if (n < 2) /* one experiment fits its layer: experiment_invalid said so */
        return 0;
    const experiment_t **sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &defs[i];
    int rc = duplicates_invalid(sorted, n, err, cap);
    if (!rc)
        rc = layers_invalid(sorted, n, err, cap);
    free(sorted);
    return rc;
}

/* ---- the set: building ------------------------------------------------------------ */

static int cmp_forced(const void *a, const void *b)
{
    return strcmp(((const experiment_forced_t *)a)->customer_id,
                  ((const experiment_forced_t *)b)->customer_id);
}

static void entry_fill_cumulative(entry_t *en)
{
    const experiment_t *e = &en->def;
    double total = 0, run = 0;
    for (size_t i = 0; i < e->n_arms; i++)
        total += e->arms[i].weight;
    for (size_t i = 0; i < e->n_arms; i++) {
        run += e->arms[i].weight;
        en->cum[i] = run / total;
    }
    en->cum[e->n_arms - 1] = 1.0;
}

static int entry_init(entry_t *en, const experiment_t *def)
{
    en->def = *def;
    en->def.forced = NULL;
    if (def->n_forced > 0) {
        en->forced = malloc(def->n_forced * sizeof *en->forced);
        en->forced_arm = malloc(def->n_forced * sizeof *en->forced_arm);
        if (!en->forced || !en->forced_arm)
            return -ENOMEM;
        memcpy(en->forced, def->forced, def->n_forced * sizeof *en->forced);
        qsort(en->forced, def->n_forced, sizeof *en->forced, cmp_forced);
        for (size_t i = 0; i < def->n_forced; i++)
            en->forced_arm[i] = (size_t)arm_index(def, en->forced[i].arm_id);
        en->def.forced = en->forced;
    }
    entry_fill_cumulative(en);
    en->arm_prefix = prefix_state(arm_domain, en->def.salt);
    return 0;
}

void experiment_set_free(experiment_set_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n && set->entries; i++) {
        free(set->entries[i].forced);
        free(set->entries[i].forced_arm);
    }
    free(set->entries);
    free(set->layers);
    free(set->member_store);
    free(set);
}

static int cmp_entry_layout(const void *a, const void *b, void *ctx)
{
    const entry_t *entries = ctx;
    return cmp_layout(&entries[*(const size_t *)a].def,
                      &entries[*(const size_t *)b].def);
}

/* Sorts indices 0..n-1 by the layout order of their entries (insertion sort:
 * sets hold tens of experiments, and qsort has no context argument). */
static void sort_by_layout(size_t *idx, size_t n, const entry_t *entries)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && cmp_entry_layout(&idx[j - 1], &v, (void *)entries) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

/* Groups the layout-sorted member_store into layers and gives each member its
 * bucket range. */
static int build_layers(experiment_set_t *set)
{
    size_t n = set->n;
    set->layers = calloc(n, sizeof *set->layers);
    if (!set->layers)
        return -ENOMEM;
    for (size_t lo = 0; lo < n;) {
        const char *name = set->entries[set->member_store[lo]].def.layer;
        size_t hi = lo + 1;
        while (hi < n &&
               strcmp(set->entries[set->member_store[hi]].def.layer, name) == 0)
            hi++;
        layer_t *l = &set->layers[set->n_layers++];
        l->name = name;
        l->n = hi - lo;
        l->members = &set->member_store[lo];
        l->prefix = prefix_state(layer_domain, name);
        uint32_t at = 0;
        for (size_t i = 0; i < l->n; i++) {
            entry_t *en = &set->entries[l->members[i]];
            en->lo = at;
            at += traffic_buckets(en->def.traffic_fraction);
            en->hi = at;
        }
        lo = hi;
    }
    return 0;
}

int experiment_set_new(const experiment_t *defs, size_t n,
                       experiment_set_t **out, char *err, size_t cap)
{
    if (!out)
        return fail(err, cap, "experiments: NULL output");
    *out = NULL;
    int rc = experiment_set_invalid(defs, n, err, cap);
    if (rc)
        return rc;
    experiment_set_t *set = calloc(1, sizeof *set);
    if (!set)
        return -ENOMEM;
    set->n = n;
    if (n > 0) {
        set->entries = calloc(n, sizeof *set->entries);
        set->member_store = malloc(n * sizeof *set->member_store);
        if (!set->entries || !set->member_store) {
            experiment_set_free(set);
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        rc = entry_init(&set->entries[i], &defs[i]);
        if (rc) {
            experiment_set_free(set);
            return rc;
        }
        set->member_store[i] = i;
    }
    sort_by_layout(set->member_store, n, set->entries);
    rc = build_layers(set);
    if (rc) {
        experiment_set_free(set);
        return rc;
    }
    *out = set;
    return 0;
}

size_t experiment_set_count(const experiment_set_t *set)
{
    return set ? set->n : 0;
}

size_t experiment_set_layers(const experiment_set_t *set)
{
    return set ? set->n_layers : 0;
}

const experiment_t *experiment_set_at(const experiment_set_t *set, size_t i)
{
    return set && i < set->n ? &set->entries[i].def : NULL;
}

static const entry_t *find_entry(const experiment_set_t *set, const char *id)
{
    if (!set || !id)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->entries[i].def.id, id) == 0)
            return &set->entries[i];
    return NULL;
}

const experiment_t *experiment_set_find(const experiment_set_t *set,
                                        const char *id)
{
    const entry_t *en = find_entry(set, id);
    return en ? &en->def : NULL;
}

int experiment_set_range(const experiment_set_t *set, const char *id,
                         uint32_t *lo, uint32_t *hi)
{
    const entry_t *en = find_entry(set, id);
    if (!en || !lo || !hi)
        return -EINVAL;
    *lo = en->lo;
    *hi = en->hi;
    return 0;
}

/* ---- updates ----------------------------------------------------------------------- */

/* Would replacing a started experiment's definition by next (same id) move
 * any of its customers? */
static int started_update_invalid(const entry_t *a, const entry_t *b,
                                  char *err, size_t cap)
{
    const experiment_t *p = &a->def, *q = &b->def;
    if (strcmp(p->salt, q->salt) != 0)
        return fail(err, cap, "experiment '%s': salt: cannot change after the start",
                    p->id);
    if (strcmp(p->layer, q->layer) != 0)
        return fail(err, cap, "experiment '%s': layer: cannot change after the start",
                    p->id);
    if (p->start_ms != q->start_ms)
        return fail(err, cap, "experiment '%s': start_ms: cannot change after the start",
                    p->id);
    if (p->n_arms != q->n_arms)
        return fail(err, cap, "experiment '%s': arms: cannot add or remove arms after the start",
                    p->id);
    for (size_t i = 0; i < p->n_arms; i++) {
        if (strcmp(p->arms[i].id, q->arms[i].id) != 0)
            return fail(err, cap,
                        "experiment '%s': arms[%zu].id: cannot change after the start",
                        p->id, i);
        if (a->cum[i] != b->cum[i])
            return fail(err, cap,
                        "experiment '%s': arms[%zu].weight: cannot change after the start (it would move customers between arms)",
                        p->id, i);
    }
    if (a->lo != b->lo)
        return fail(err, cap,
                    "experiment '%s': layer '%s' range would move from bucket %u to %u, reassigning its customers (ramp or remove only the experiment laid out last in a layer)",
                    p->id, p->layer, a->lo, b->lo);
    return 0;
}

int experiment_set_update_invalid(const experiment_set_t *prev,
                                  const experiment_set_t *next, int64_t now_ms,
                                  char *err, size_t cap)
{
    if (!prev || !next)
        return fail(err, cap, "experiments: NULL set");
    for (size_t i = 0; i < prev->n; i++) {
        const entry_t *a = &prev->entries[i];
        if (a->def.start_ms > now_ms)
            continue;
        const entry_t *b = find_entry(next, a->def.id);
        if (!b)
            continue;
        int rc = started_update_invalid(a, b, err, cap);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- assignment -------------------------------------------------------------------- */

static int in_window(const experiment_t *e, int64_t now_ms)
{
    return now_ms >= e->start_ms && (e->stop_ms == 0 || now_ms < e->stop_ms);
}

/* Index into en->forced of the customer, or -1. */
static long forced_find(const entry_t *en, const char *customer_id)
{
    size_t lo = 0, hi = en->def.n_forced;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(en->forced[mid].customer_id, customer_id);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static size_t arm_for(const entry_t *en, const char *customer_id, size_t len)
{
    double u = experiment_unit(hash_from(en->arm_prefix, customer_id, len));
    size_t k = 0;
    while (k + 1 < en->def.n_arms && u >= en->cum[k])
        k++;
    return k;
}

static void fill(experiment_assignment_t *out, const entry_t *en, size_t arm,
                 int forced)
{
    out->experiment = &en->def;
    out->arm = &en->def.arms[arm];
    out->arm_index = arm;
    out->forced = forced;
}

/* The customer's assignment in one layer; returns 1 if in an experiment. */
static int assign_layer(const experiment_set_t *set, const layer_t *l,
                        const char *customer_id, size_t len, int64_t now_ms,
                        experiment_assignment_t *out)
{
    for (size_t i = 0; i < l->n; i++) {
        const entry_t *en = &set->entries[l->members[i]];
        if (en->def.n_forced == 0 || !in_window(&en->def, now_ms))
            continue;
        long f = forced_find(en, customer_id);
        if (f >= 0) {
            fill(out, en, en->forced_arm[f], 1);
            return 1;
        }
    }
    uint32_t b = experiment_bucket(hash_from(l->prefix, customer_id, len));
    for (size_t i = 0; i < l->n; i++) {
        const entry_t *en = &set->entries[l->members[i]];
        if (b < en->lo || b >= en->hi)
            continue;
        if (!in_window(&en->def, now_ms))
            return 0;
        fill(out, en, arm_for(en, customer_id, len), 0);
        return 1;
    }
    return 0;
}

int experiment_assign(const experiment_set_t *set, const char *customer_id,
                      int64_t now_ms, experiment_assignment_t *out, size_t cap,
                      size_t *n)
{
    if (!set || !customer_id || !n || (cap > 0 && !out))
        return -EINVAL;
    *n = 0;
    size_t len = customer_len(customer_id);
    if (len == 0)
        return -EINVAL;
    size_t found = 0;
    for (size_t i = 0; i < set->n_layers; i++) {
        experiment_assignment_t a;
        if (!assign_layer(set, &set->layers[i], customer_id, len, now_ms, &a))
            continue;
        if (found < cap)
            out[found] = a;
        found++;
    }
    *n = found;
    return found > cap ? -ENOBUFS : 0;
}

int experiment_assign_one(const experiment_set_t *set, const char *experiment_id,
                          const char *customer_id, int64_t now_ms,
                          experiment_assignment_t *out, int *in)
{
    if (!set || !customer_id || !out || !in)
        return -EINVAL;
    *in = 0;
    const entry_t *en = find_entry(set, experiment_id);
    size_t len = customer_len(customer_id);
    if (!en || len == 0)
        return -EINVAL;
    for (size_t i = 0; i < set->n_layers; i++) {
        const layer_t *l = &set->layers[i];
        if (strcmp(l->name, en->def.layer) != 0)
            continue;
        experiment_assignment_t a;
        if (assign_layer(set, l, customer_id, len, now_ms, &a) &&
            a.experiment == &en->def) {
            *out = a;
            *in = 1;
        }
        break;
    }
    return 0;
}

const char *experiment_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -EINVAL: return "invalid experiment definition or argument";
    case -ENOMEM: return "out of memory";
    case -ENOBUFS: return "more assignments than the output array holds";
    default: return "unknown experiment error";
    }
}
