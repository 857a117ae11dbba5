/*
 * evaluate.c - time-split evaluation and NCF-format export of the store's
 * data (see evaluate.h).
 *
 * Both read the event log twice: once here into a compact per-customer log
 * (to place each customer's cut and find the held-out purchases), and once
 * through train_build_matrix with a filter that keeps only events before the
 * customer's cut, so the training matrix is weighted by the very code
 * `patron train` uses.
 */
#include "evaluate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "topk.h"
#include "grow.h"
#include "rng.h"

#define EVAL_MAX_K 1000u
/* "No cut": every event of the customer is before it. */
#define NO_CUT INT64_MAX

/* ---------------------------------------------------------- event log --- */

/* Every event, grouped by customer (ptr) in time order. */
typedef struct evlog {
    uint32_t *cust, *item;
    int64_t *time;
    uint8_t *type;
    size_t n, cap;
    uint32_t n_users, n_items;
    int64_t newest_ms;
    uint64_t *ptr;          /* n_users + 1, after evlog_index */
} evlog_t;

static void evlog_free(evlog_t *l)
{
    free(l->cust);
    free(l->item);
    free(l->time);
    free(l->type);
    free(l->ptr);
}

static int evlog_grow(evlog_t *l)
{
    void *const cols[] = { &l->cust, &l->item, &l->time, &l->type };
    const size_t sizes[] = { sizeof *l->cust, sizeof *l->item, sizeof *l->time,
                             sizeof *l->type };
    return grow_parallel(&l->cap, l->cap + 1, 4, cols, sizes);
}

static int evlog_add(void *ctx, const store_event_rec_t *ev)
{
    evlog_t *l = ctx;
    /* Customers/items registered after the snapshot of the counts. */
    if (ev->customer >= l->n_users || ev->item >= l->n_items)
        return 0;
    if (l->n == l->cap && evlog_grow(l) != 0)
        return -ENOMEM;
    l->cust[l->n] = ev->customer;
    l->item[l->n] = ev->item;
    l->time[l->n] = ev->time_ms;
    l->type[l->n] = ev->type;
    l->n++;
    if (ev->time_ms > l->newest_ms)
        l->newest_ms = ev->time_ms;
    return 0;
}

/* store_scan_events yields each customer's events together, customers in
 * index order: the log is already grouped, and ptr is a prefix sum. */
static int evlog_read(store_t *s, evlog_t *l)
{
    int rc;

    memset(l, 0, sizeof *l);
    if ((rc = store_counts(s, &l->n_users, &l->n_items)) != 0 ||
        (rc = store_scan_events(s, evlog_add, l)) != 0)
        return rc;
    l->ptr = calloc((size_t)l->n_users + 1, sizeof *l->ptr);
    if (!l->ptr)
        return -ENOMEM;
    for (size_t e = 0; e < l->n; e++) {
        if (e > 0 && l->cust[e] < l->cust[e - 1])
            return -EIO; /* the store broke its ordering promise */
        l->ptr[l->cust[e] + 1]++;
    }
    for (uint32_t u = 0; u < l->n_users; u++)
        l->ptr[u + 1] += l->ptr[u];
    return 0;
}

/* ------------------------------------------------------------- cuts --- */

static int before_cut(void *ctx, const store_event_rec_t *ev)
{
    const int64_t *cut = ctx;
    return ev->time_ms < cut[ev->customer];
}

/* Time of customer u's Nth-last purchase (its first if fewer), or NO_CUT. */
static int64_t cut_last_n(const evlog_t *l, uint32_t u, uint32_t last_n)
{
    int64_t cut = NO_CUT;
    uint32_t seen = 0;
    for (uint64_t e = l->ptr[u + 1]; e > l->ptr[u] && seen < last_n; e--) {
        if (l->type[e - 1] != STORE_EVENT_PURCHASE)
            continue;
        cut = l->time[e - 1];
        seen++;
    }
    return cut;
}

static int64_t *cuts_new(const evlog_t *l, const eval_holdout_t *h)
{
    int64_t *cut = malloc(((size_t)l->n_users + 1) * sizeof *cut);
    if (!cut)
        return NULL;
    int64_t global = l->newest_ms - (int64_t)(h->days * CIVIL_DAY_MS);
    for (uint32_t u = 0; u < l->n_users; u++)
        cut[u] = h->last_n ? cut_last_n(l, u, h->last_n) : global;
    return cut;
}

/* ------------------------------------------------------------ split --- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts v[0..n) and drops duplicates; returns the new length. */
static size_t sort_unique(uint32_t *v, size_t n)
{
    size_t m = 0;
    qsort(v, n, sizeof *v, cmp_u32);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    return m;
}

static int contains(const uint32_t *sorted, size_t n, uint32_t x)
{
    return bsearch(&x, sorted, n, sizeof x, cmp_u32) != NULL;
}

/* Splits customer u's purchases at the cut into seen (before) and test (at
 * or after, less seen), both sorted and unique, written at the given
 * pointers (room: the customer's event count each). */
static void split_purchases(const evlog_t *l, uint32_t u, int64_t cut,
                            uint32_t *seen, size_t *n_seen, uint32_t *test,
                            size_t *n_test, uint64_t *held)
{
    size_t ns = 0, nt = 0, m = 0;
    for (uint64_t e = l->ptr[u]; e < l->ptr[u + 1]; e++) {
        if (l->type[e] != STORE_EVENT_PURCHASE)
            continue;
        if (l->time[e] < cut) {
            seen[ns++] = l->item[e];
        } else {
            test[nt++] = l->item[e];
            (*held)++;
        }
    }
    ns = sort_unique(seen, ns);
    nt = sort_unique(test, nt);
    for (size_t i = 0; i < nt; i++)
        if (!contains(seen, ns, test[i]))
            test[m++] = test[i];
    *n_seen = ns;
    *n_test = m;
}

static int split_alloc(eval_split_t *sp, const evlog_t *l)
{
    sp->users = malloc(((size_t)l->n_users + 1) * sizeof *sp->users);
    sp->test_ptr = calloc((size_t)l->n_users + 1, sizeof *sp->test_ptr);
    sp->seen_ptr = calloc((size_t)l->n_users + 1, sizeof *sp->seen_ptr);
    sp->test_items = malloc((l->n + 1) * sizeof *sp->test_items);
    sp->seen_items = malloc((l->n + 1) * sizeof *sp->seen_items);
    return sp->users && sp->test_ptr && sp->seen_ptr && sp->test_items &&
                   sp->seen_items
               ? 0
               : -ENOMEM;
}

/* Fills users/test/seen from the log, the cuts and the training matrix. */
static void split_fill(eval_split_t *sp, const evlog_t *l, const int64_t *cut)
{
    uint64_t nt = 0, ns = 0;
    for (uint32_t u = 0; u < l->n_users; u++) {
        size_t n_seen, n_test;
        if (cut[u] == NO_CUT)
            continue;
        split_purchases(l, u, cut[u], sp->seen_items + ns, &n_seen,
                        sp->test_items + nt, &n_test, &sp->held_purchases);
        if (n_test == 0 || sp->train.indptr[u + 1] == sp->train.indptr[u])
            continue;
        sp->users[sp->n_eval] = u;
        nt += n_test;
        ns += n_seen;
        sp->n_eval++;
        sp->test_ptr[sp->n_eval] = nt;
        sp->seen_ptr[sp->n_eval] = ns;
    }
}

void eval_split_free(eval_split_t *sp)
{
    if (!sp)
        return;
    csr_free(&sp->train);
    free(sp->users);
    free(sp->test_ptr);
    free(sp->test_items);
    free(sp->seen_ptr);
    free(sp->seen_items);
    memset(sp, 0, sizeof *sp);
}

static int holdout_valid(const eval_holdout_t *h)
{
    if (!h)
        return 0;
    if (h->last_n > 0)
        return h->days == 0.0;
    return isfinite(h->days) && h->days > 0.0;
}

int eval_split_make(store_t *s, const train_config_t *c,
                    const eval_holdout_t *h, eval_split_t *out)
{
    evlog_t l;
    int64_t *cut = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (!s || !c || !holdout_valid(h))
        return -EINVAL;
    if ((rc = evlog_read(s, &l)) != 0)
        goto out;
    if (!(cut = cuts_new(&l, h))) {
        rc = -ENOMEM;
        goto out;
    }
    rc = train_build_matrix(s, c, before_cut, cut, &out->train,
                            &out->train_events, NULL);
    if (rc == 0 && (out->train.n_rows != l.n_users ||
                    out->train.n_cols != l.n_items))
        rc = -EAGAIN; /* customers/items registered between the scans */
    if (rc == 0)
        rc = split_alloc(out, &l);
    if (rc)
        goto out;
    out->n_users = l.n_users;
    out->n_items = l.n_items;
    split_fill(out, &l, cut);
    if (out->n_eval == 0)
        rc = -ENOENT;
out:
    free(cut);
    evlog_free(&l);
    if (rc)
        eval_split_free(out);
    return rc;
}

/* ------------------------------------------------------------ ranking --- */

/* Adds customer k's ranking to the sums; marks its items in covered. */
static void rank_one(const eval_split_t *sp, uint32_t k, uint32_t row,
                     const topk_hit_t *hits, size_t n_hits, double *recall,
                     double *ndcg, uint8_t *covered)
{
    const uint32_t *test = sp->test_items + sp->test_ptr[row];
    size_t n_test = sp->test_ptr[row + 1] - sp->test_ptr[row];
    size_t ideal = n_test < k ? n_test : k;
    double dcg = 0.0, idcg = 0.0, hit = 0.0;

    for (size_t r = 0; r < n_hits; r++) {
        covered[hits[r].id] = 1;
        if (contains(test, n_test, hits[r].id)) {
            hit += 1.0;
            dcg += 1.0 / log2((double)r + 2.0);
        }
    }
    for (size_t r = 0; r < ideal; r++)
        idcg += 1.0 / log2((double)r + 2.0);
    *recall += hit / (double)ideal;
    *ndcg += dcg / idcg;
}

int eval_rank(const eval_split_t *sp, uint32_t k, eval_score_fn score,
              void *ctx, eval_metrics_t *out)
{
    if (!sp || !score || !out || k < 1 || k > EVAL_MAX_K)
        return -EINVAL;
    float *scores = malloc(((size_t)sp->n_items + 1) * sizeof *scores);
    uint64_t *deny = calloc(TOPK_BITSET_WORDS(sp->n_items) + 1, sizeof *deny);
    uint8_t *covered = calloc((size_t)sp->n_items + 1, 1);
    topk_hit_t *hits = malloc(k * sizeof *hits);
    double recall = 0.0, ndcg = 0.0;
    uint64_t n_cov = 0;

    memset(out, 0, sizeof *out);
    if (!scores || !deny || !covered || !hits) {
        free(scores);
        free(deny);
        free(covered);
        free(hits);
        return -ENOMEM;
    }
    for (uint32_t row = 0; row < sp->n_eval; row++) {
        const uint32_t *seen = sp->seen_items + sp->seen_ptr[row];
        size_t n_seen = sp->seen_ptr[row + 1] - sp->seen_ptr[row];
        score(ctx, sp->users[row], scores);
        for (size_t j = 0; j < n_seen; j++)
            topk_bitset_set(deny, seen[j]);
        size_t n_hits = topk_scores(scores, sp->n_items, deny, k, hits);
        for (size_t j = 0; j < n_seen; j++)
            deny[seen[j] >> 6] = 0;
        rank_one(sp, k, row, hits, n_hits, &recall, &ndcg, covered);
    }
    for (uint32_t i = 0; i < sp->n_items; i++)
        n_cov += covered[i];
    out->users = sp->n_eval;
    if (sp->n_eval) {
        out->recall = recall / sp->n_eval;
        out->ndcg = ndcg / sp->n_eval;
    }
    out->coverage = sp->n_items ? (double)n_cov / sp->n_items : 0.0;
    free(scores);
    free(deny);
    free(covered);
    free(hits);
    return 0;
}

void eval_score_factors(void *ctx, uint32_t user, float *scores)
{
    const eval_factors_t *m = ctx;
    const float *x = m->user_f + (size_t)user * m->factors;
    for (uint32_t i = 0; i < m->n_items; i++) {
        const float *y = m->item_f + (size_t)i * m->factors;
        float dot = 0.0f;
        for (uint32_t j = 0; j < m->factors; j++)
            dot += x[j] * y[j];
        scores[i] = dot;
    }
}

void eval_score_popularity(void *ctx, uint32_t user, float *scores)
{
    const eval_popularity_t *p = ctx;
    (void)user;
    memcpy(scores, p->pop, (size_t)p->n_items * sizeof *scores);
}

/* ------------------------------------------------------------- export --- */

/* Customer u's latest purchase (event index), or UINT64_MAX. */
static uint64_t latest_purchase(const evlog_t *l, uint32_t u)
{
    for (uint64_t e = l->ptr[u + 1]; e > l->ptr[u]; e--)
        if (l->type[e - 1] == STORE_EVENT_PURCHASE)
            return e - 1;
    return UINT64_MAX;
}

/* Per training pair, the time of its latest event before the cut (ms). */
static int64_t *pair_times(const evlog_t *l, const csr_t *ui,
                           const int64_t *cut)
{
    int64_t *t = calloc(ui->indptr[ui->n_rows] + 1, sizeof *t);
    if (!t)
        return NULL;
    for (uint32_t u = 0; u < l->n_users; u++) {
        const uint32_t *row = ui->indices + ui->indptr[u];
        size_t n = ui->indptr[u + 1] - ui->indptr[u];
        for (uint64_t e = l->ptr[u]; e < l->ptr[u + 1]; e++) {
            const uint32_t *hit;
            if (l->time[e] >= cut[u] ||
                !(hit = bsearch(&l->item[e], row, n, sizeof *row, cmp_u32)))
                continue; /* after the cut, or a pair with no strength */
            int64_t *slot = t + ui->indptr[u] + (uint64_t)(hit - row);
            if (l->time[e] > *slot)
                *slot = l->time[e];
        }
    }
    return t;
}

/* Training pairs of row u other than the test item. */
static uint64_t pairs_besides(const csr_t *ui, uint32_t u, uint32_t test)
{
    uint64_t n = ui->indptr[u + 1] - ui->indptr[u];
    const uint32_t *row = ui->indices + ui->indptr[u];
    return n - (uint64_t)contains(row, n, test);
}

typedef struct ncf_files {
    FILE *train, *test, *neg;
} ncf_files_t;

static int files_open(ncf_files_t *f, const char *prefix, char *err,
                      size_t errcap)
{
    static const char *suffix[3] = { ".train.rating", ".test.rating",
                                     ".test.negative" };
    FILE **fp[3] = { &f->train, &f->test, &f->neg };
    char path[4096];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", prefix, suffix[i]);
        if (!(*fp[i] = fopen(path, "w"))) {
            snprintf(err, errcap, "%s: %s", path, strerror(errno));
            return -EIO;
        }
    }
    return 0;
}

/* Closes all three; -EIO if any write failed. */
static int files_close(ncf_files_t *f, const char *prefix, char *err,
                       size_t errcap)
{
    FILE *fp[3] = { f->train, f->test, f->neg };
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        if (fp[i] && (ferror(fp[i]) | fclose(fp[i])) && rc == 0) {
            snprintf(err, errcap, "%s: write failed", prefix);
            rc = -EIO;
        }
    }
    return rc;
}

/* Everything the export needs, read once. */
typedef struct export_job {
    evlog_t log;
    int64_t *cut;           /* time of the latest purchase, or INT64_MIN */
    uint64_t *test_ev;      /* event index of that purchase */
    csr_t ui;
    int64_t *pair_ms;
    uint32_t *stamp;        /* n_items: last customer (+1) touching it */
} export_job_t;

static void job_free(export_job_t *j)
{
    evlog_free(&j->log);
    free(j->cut);
    free(j->test_ev);
    csr_free(&j->ui);
    free(j->pair_ms);
    free(j->stamp);
}

static int job_read(store_t *s, const train_config_t *c, export_job_t *j)
{
    const evlog_t *l = &j->log;
    int rc = evlog_read(s, &j->log);
    if (rc)
        return rc;
    j->cut = malloc(((size_t)l->n_users + 1) * sizeof *j->cut);
    j->test_ev = malloc(((size_t)l->n_users + 1) * sizeof *j->test_ev);
    j->stamp = calloc((size_t)l->n_items + 1, sizeof *j->stamp);
    if (!j->cut || !j->test_ev || !j->stamp)
        return -ENOMEM;
    for (uint32_t u = 0; u < l->n_users; u++) {
        j->test_ev[u] = latest_purchase(l, u);
        j->cut[u] = j->test_ev[u] == UINT64_MAX ? INT64_MIN
                                                : l->time[j->test_ev[u]];
    }
    rc = train_build_matrix(s, c, before_cut, j->cut, &j->ui, NULL, NULL);
    if (rc == 0 && (j->ui.n_rows != l->n_users || j->ui.n_cols != l->n_items))
        rc = -EAGAIN; /* customers/items registered between the scans */
    if (rc == 0 && !(j->pair_ms = pair_times(l, &j->ui, j->cut)))
        rc = -ENOMEM;
    return rc;
}

/* Writes customer u as dense id `id`; 0 or -ENOENT when every item was
 * touched (no negative to draw). */
static int write_customer(export_job_t *j, uint32_t u, uint32_t id,
                          uint32_t n_neg, uint64_t *rng, ncf_files_t *f,
                          uint64_t *pairs)
{
    const evlog_t *l = &j->log;
    const csr_t *ui = &j->ui;
    uint32_t test = l->item[j->test_ev[u]], touched = 0;

    for (uint64_t e = l->ptr[u]; e < l->ptr[u + 1]; e++)
        if (j->stamp[l->item[e]] != u + 1) {
            j->stamp[l->item[e]] = u + 1;
            touched++;
        }
    if (touched >= l->n_items)
        return -ENOENT;
    for (uint64_t x = ui->indptr[u]; x < ui->indptr[u + 1]; x++) {
        if (ui->indices[x] == test || ui->values[x] <= 0.0f)
            continue; /* the NCF format has no negative feedback */
        fprintf(f->train, "%u\t%u\t%.6g\t%lld\n", id, ui->indices[x],
                ui->values[x], (long long)(j->pair_ms[x] / 1000));
        (*pairs)++;
    }
    fprintf(f->test, "%u\t%u\t1\t%lld\n", id, test,
            (long long)(j->cut[u] / 1000));
    fprintf(f->neg, "(%u,%u)", id, test);
    for (uint32_t k = 0; k < n_neg; k++) {
        uint32_t cand;
        do /* rejection: at least one untouched item exists */
            cand = (uint32_t)(splitmix64(rng) % l->n_items);
        while (j->stamp[cand] == u + 1);
        fprintf(f->neg, "\t%u", cand);
    }
    fputc('\n', f->neg);
    return 0;
}

int eval_export_ncf(store_t *s, const train_config_t *c, const char *prefix,
                    uint32_t n_neg, uint64_t seed, eval_export_report_t *rep,
                    char *err, size_t errcap)
{
    export_job_t j = { 0 };
    ncf_files_t f = { 0 };
    uint64_t rng = seed;
    int rc, rc2;

    memset(rep, 0, sizeof *rep);
    snprintf(err, errcap, "%s", "");
    if (!s || !c || !prefix || n_neg < 1)
        return -EINVAL;
    if ((rc = job_read(s, c, &j)) != 0)
        goto out;
    if ((rc = files_open(&f, prefix, err, errcap)) != 0)
        goto out;
    for (uint32_t u = 0; u < j.log.n_users; u++) {
        if (j.test_ev[u] == UINT64_MAX ||
            pairs_besides(&j.ui, u, j.log.item[j.test_ev[u]]) == 0)
            continue;
        if (write_customer(&j, u, rep->users, n_neg, &rng, &f,
                           &rep->train_pairs) == 0)
            rep->users++;
    }
    rep->items = j.log.n_items;
    if (rep->users == 0)
        rc = -ENOENT;
out:
    rc2 = files_close(&f, prefix, err, errcap);
    job_free(&j);
    return rc ? rc : rc2;
}
