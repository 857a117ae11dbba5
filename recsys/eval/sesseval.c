/*
 * sesseval.c - the session protocol of `patron eval` (sesseval.h): the
 * split, a model and a V-SKNN index per set, the blend learned on the
 * validation cases and the three methods on the test cases.
 */
#include "sesseval.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foldin.h"
#include "monotime.h"

/* The validation grid: recency half-lives (events; the last is "no decay")
 * and blend weights 0, 0.1, .., 1. */
static const float half_lives[] = { 1, 2, 4, 8, SESSION_HALF_LIFE_NONE };
#define N_HALF (sizeof half_lives / sizeof *half_lives)
#define N_BLEND 11

void sesseval_config_default(sesseval_config_t *c)
{
    c->gap_ms = SESSION_GAP_MS_DEFAULT;
    c->test_share = 0.1;
    c->val_share = 0.1;
    c->k = 20;
    c->knn = (vsknn_params_t){ VSKNN_K_DEFAULT, VSKNN_SAMPLE_DEFAULT };
}

static const char *config_invalid(const sesseval_config_t *c)
{
    if (c->gap_ms <= 0 || !(c->test_share > 0) || !(c->val_share > 0) ||
        !(c->test_share + c->val_share < 1) || c->k < 1 || c->k > 1000 ||
        c->knn.k < 1 || c->knn.sample < 1)
        return "bad config";
    return NULL;
}

/* ---- split ----------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t cut_sessions(const store_event_rec_t *ev, size_t n, int64_t gap_ms,
                           sesseval_session_t *out)
{
    size_t ns = 0, hist = 0;
    for (size_t i = 0; i < n; i++) {
        int new_customer = i == 0 || ev[i].customer != ev[i - 1].customer;
        if (new_customer)
            hist = i;
        if (new_customer || ev[i].time_ms - ev[i - 1].time_ms > gap_ms) {
            if (ns)
                out[ns - 1].end = i;
            out[ns++] = (sesseval_session_t){ ev[i].customer, hist, i, n };
        }
    }
    return ns;
}

static int is_case(const store_event_rec_t *ev, const sesseval_session_t *s)
{
    return s->end - s->begin >= 2 && ev[s->end - 1].type == STORE_EVENT_PURCHASE;
}

int sesseval_split_make(const store_event_rec_t *ev, size_t n, const sesseval_config_t *c,
                        sesseval_split_t *out)
{
    int64_t *starts = NULL;
    size_t ns;

    memset(out, 0, sizeof *out);
    if (config_invalid(c))
        return -EINVAL;
    out->sess = malloc((n ? n : 1) * sizeof *out->sess);
    starts = malloc((n ? n : 1) * sizeof *starts);
    out->val = malloc((n ? n : 1) * sizeof *out->val);
    out->test = malloc((n ? n : 1) * sizeof *out->test);
    if (!out->sess || !starts || !out->val || !out->test) {
        free(starts);
        sesseval_split_free(out);
        return -ENOMEM;
    }
    ns = out->n_sess = cut_sessions(ev, n, c->gap_ms, out->sess);
    if (ns < 3) {
        free(starts);
        sesseval_split_free(out);
        return -ENOENT;
    }
    for (size_t i = 0; i < ns; i++)
        starts[i] = ev[out->sess[i].begin].time_ms;
    qsort(starts, ns, sizeof *starts, cmp_i64);
    out->test_from_ms = starts[(size_t)((double)ns * (1.0 - c->test_share))];
    out->val_from_ms = starts[(size_t)((double)ns * (1.0 - c->test_share - c->val_share))];
    free(starts);
    for (size_t i = 0; i < ns; i++) {
        int64_t t = ev[out->sess[i].begin].time_ms;
        if (!is_case(ev, &out->sess[i]) || t < out->val_from_ms)
            continue;
        if (t >= out->test_from_ms)
            out->test[out->n_test++] = (uint32_t)i;
        else
            out->val[out->n_val++] = (uint32_t)i;
    }
    return 0;
}

void sesseval_split_free(sesseval_split_t *sp)
{
    if (!sp)
        return;
    free(sp->sess);
    free(sp->val);
    free(sp->test);
    memset(sp, 0, sizeof *sp);
}

/* ---- one set: its model and V-SKNN index ------------------------------------- */

typedef struct phase {
    model_t m;          /* only what fold-in reads: hdr, item_f, gramian */
    float *pop;         /* training popularity: the tie-break */
    vsknn_t knn;
} phase_t;

static void phase_free(phase_t *p)
{
    free(p->m.item_f);
    free(p->m.gramian);
    free(p->pop);
    vsknn_free(&p->knn);
}

static int before_cut(void *ctx, const store_event_rec_t *ev)
{
    return ev->time_ms < *(const int64_t *)ctx;
}

/* The header fold-in needs, as train_run writes it. */
static void phase_hdr(const train_config_t *tc, const csr_t *ui, int64_t newest,
                      store_model_hdr_t *h)
{
    memset(h, 0, sizeof *h);
    h->factors = tc->als.factors;
    h->n_users = ui->n_rows;
    h->n_items = ui->n_cols;
    h->reg = tc->als.reg;
    h->alpha = tc->als.alpha;
    h->alpha0 = tc->als.alpha0;
    h->nu = tc->als.nu;
    h->w_view = tc->w_view;
    h->w_cart = tc->w_cart;
    h->w_purchase = tc->w_purchase;
    h->w_refund = tc->w_refund;
    h->w_not_interested = tc->w_not_interested;
    h->half_life_days = tc->half_life_days;
    h->newest_event_ms = newest;
}

static int phase_model(store_t *s, const train_config_t *tc, int64_t cut, phase_t *p)
{
    csr_t ui = { 0 };
    float *uf = NULL;
    int64_t newest = 0;
    uint32_t f = tc->als.factors;
    int rc = train_build_matrix(s, tc, before_cut, &cut, &ui, NULL, &newest);

    if (rc)
        return rc;
    phase_hdr(tc, &ui, newest, &p->m.hdr);
    uf = malloc((size_t)ui.n_rows * f * sizeof *uf + 1);
    p->m.item_f = malloc((size_t)ui.n_cols * f * sizeof *p->m.item_f + 1);
    p->m.gramian = calloc((size_t)f * f, sizeof *p->m.gramian);
    p->pop = malloc((size_t)ui.n_cols * sizeof *p->pop + 1);
    rc = uf && p->m.item_f && p->m.gramian && p->pop ? 0 : -ENOMEM;
    if (rc == 0)
        rc = ials_train(&ui, &tc->als, uf, p->m.item_f, NULL, NULL);
    if (rc == 0) {
        train_popularity(&ui, tc->w_purchase, p->pop);
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (blasint)f, (blasint)ui.n_cols,
                    1.0f, p->m.item_f, (blasint)f, 0.0f, p->m.gramian, (blasint)f);
        for (uint32_t i = 0; i < f; i++)
            for (uint32_t j = 0; j < i; j++)
                p->m.gramian[(size_t)i * f + j] = p->m.gramian[(size_t)j * f + i];
    }
    free(uf);
    csr_free(&ui);
    return rc;
}

/* V-SKNN over the sessions that ended before cut. */
static int phase_knn(const store_event_rec_t *ev, const sesseval_split_t *sp,
                     uint32_t n_items, int64_t cut, phase_t *p)
{
    uint64_t *ptr = malloc((sp->n_sess + 1) * sizeof *ptr);
    uint32_t *items = malloc((sp->sess[sp->n_sess - 1].end + 1) * sizeof *items);
    int64_t *time = malloc((sp->n_sess + 1) * sizeof *time);
    uint32_t n = 0;
    int rc = -ENOMEM;

    if (ptr && items && time) {
        ptr[0] = 0;
        for (size_t i = 0; i < sp->n_sess; i++) {
            const sesseval_session_t *se = &sp->sess[i];
            if (ev[se->end - 1].time_ms >= cut)
                continue;
            ptr[n + 1] = ptr[n];
            for (size_t e = se->begin; e < se->end; e++)
                if (ev[e].item < n_items)
                    items[ptr[n + 1]++] = ev[e].item;
            time[n++] = ev[se->begin].time_ms;
        }
        rc = vsknn_build(n_items, n, ptr, items, time, &p->knn);
    }
    free(ptr);
    free(items);
    free(time);
    return rc;
}

/* ---- scoring ----------------------------------------------------------------- */

/* 1-based rank of item t: ahead of it are higher scores, then equal scores
 * of more popular items, then equal ones with a lower index. */
static uint32_t rank_of(const float *sc, const float *pop, uint32_t n, uint32_t t)
{
    uint32_t r = 1;
    for (uint32_t j = 0; j < n; j++)
        if (sc[j] > sc[t] ||
            (sc[j] == sc[t] && (pop[j] > pop[t] || (pop[j] == pop[t] && j < t))))
            r++;
    return r;
}

static void add_hit(sesseval_metrics_t *m, uint32_t rank, uint32_t k)
{
    if (rank <= k) {
        m->recall += 1.0;
        m->ndcg += 1.0 / log2((double)rank + 1.0);
    }
}

/* A validation grid cell: the metrics and the sum of squared per-case
 * NDCG, for its standard error. */
typedef struct cell {
    sesseval_metrics_t m;
    double ndcg_sq;
} cell_t;

static void add_cell(cell_t *c, uint32_t rank, uint32_t k)
{
    double before = c->m.ndcg, g;
    add_hit(&c->m, rank, k);
    g = c->m.ndcg - before;
    c->ndcg_sq += g * g;
}

static void finish(sesseval_metrics_t *m, size_t n)
{
    if (n) {
        m->recall /= (double)n;
        m->ndcg /= (double)n;
    }
}

/* x gets the factors folded in from ev[0..n) (with the session weights of
 * sp, or plain when sp is NULL); zero when nothing there is known to the
 * model. */
static int fold_vector(const phase_t *p, const store_event_rec_t *ev, size_t n,
                       const session_params_t *sp, float *x)
{
    uint32_t f = p->m.hdr.factors;
    foldin_t fi;
    int rc = sp ? session_fold(&p->m, ev, n, sp, &fi) : foldin_solve(&p->m, ev, n, &fi);

    if (rc == -ENOENT) {
        memset(x, 0, f * sizeof *x);
        return 0;
    }
    if (rc)
        return rc;
    memcpy(x, fi.x, f * sizeof *x);
    foldin_free(&fi);
    return 0;
}

/* sc = Y x over every item. */
static void score(const phase_t *p, const float *x, float *sc)
{
    uint32_t f = p->m.hdr.factors;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)p->m.hdr.n_items, (blasint)f, 1.0f,
                p->m.item_f, (blasint)f, x, 1, 0.0f, sc, 1);
}

static uint32_t target_of(const store_event_rec_t *ev, const sesseval_session_t *s)
{
    return ev[s->end - 1].item;
}

/* Scratch of one scoring pass: the long-term, session and blended vectors
 * and a score vector. */
typedef struct scratch {
    float *xl, *xs, *xb, *sc;
} scratch_t;

static int scratch_new(const phase_t *p, scratch_t *w)
{
    uint32_t f = p->m.hdr.factors;
    w->xl = malloc(f * sizeof *w->xl);
    w->xs = malloc(f * sizeof *w->xs);
    w->xb = malloc(f * sizeof *w->xb);
    w->sc = malloc(p->m.hdr.n_items * sizeof *w->sc + 1);
    return w->xl && w->xs && w->xb && w->sc ? 0 : -ENOMEM;
}

static void scratch_free(scratch_t *w)
{
    free(w->xl);
    free(w->xs);
    free(w->xb);
    free(w->sc);
}

/* Rank of the target under the blend of w->xl and w->xs. */
static uint32_t blended_rank(const phase_t *p, scratch_t *w, float blend, uint32_t t)
{
    uint32_t ni = p->m.hdr.n_items;
    if (t >= ni)
        return UINT32_MAX; /* an item newer than the data: a miss for all */
    session_blend(w->xl, w->xs, blend, p->m.hdr.factors, w->xb);
    score(p, w->xb, w->sc);
    return rank_of(w->sc, p->pop, ni, t);
}

/* Validation: NDCG@k (and recall) of every (half-life, blend) pair. */
static int learn(const store_event_rec_t *ev, const sesseval_split_t *sp,
                 const sesseval_config_t *c, const phase_t *p,
                 cell_t grid[N_HALF][N_BLEND])
{
    scratch_t w;
    int rc = scratch_new(p, &w);

    memset(grid, 0, N_HALF * sizeof *grid);
    for (size_t i = 0; rc == 0 && i < sp->n_val; i++) {
        const sesseval_session_t *se = &sp->sess[sp->val[i]];
        uint32_t t = target_of(ev, se);
        if ((rc = fold_vector(p, ev + se->hist, se->end - 1 - se->hist, NULL, w.xl)) != 0)
            break;
        for (size_t h = 0; rc == 0 && h < N_HALF; h++) {
            session_params_t prm = { c->gap_ms, half_lives[h], 0 };
            if ((rc = fold_vector(p, ev + se->begin, se->end - 1 - se->begin, &prm, w.xs)))
                break;
            for (size_t b = 0; b < N_BLEND; b++)
                add_cell(&grid[h][b], blended_rank(p, &w, (float)b / (N_BLEND - 1), t), c->k);
        }
    }
    for (size_t h = 0; h < N_HALF; h++)
        for (size_t b = 0; b < N_BLEND; b++)
            finish(&grid[h][b].m, sp->n_val);
    scratch_free(&w);
    return rc;
}

/* The blend by the one-standard-error rule (Breiman et al., Classification
 * and Regression Trees, 1984, section 3.4.3): the smallest blend whose best
 * half-life comes within one standard error of the best validation NDCG
 * (on this protocol NDCG keeps creeping up towards blend 1, where the
 * history is ignored; the rule keeps the history unless the session is
 * clearly better alone). Ties: the shorter half-life. */
static void choose(cell_t grid[N_HALF][N_BLEND], size_t n, int64_t gap_ms,
                   sesseval_report_t *rep)
{
    size_t bh = 0, bb = 0;
    double se, var, mean;

    for (size_t b = 0; b < N_BLEND; b++)
        for (size_t h = 0; h < N_HALF; h++)
            if (grid[h][b].m.ndcg > grid[bh][bb].m.ndcg)
                bh = h, bb = b;
    mean = grid[bh][bb].m.ndcg;
    var = n > 1 ? (grid[bh][bb].ndcg_sq - (double)n * mean * mean) / (double)(n - 1) : 0;
    se = var > 0 ? sqrt(var / (double)n) : 0;
    for (size_t b = 0, found = 0; b < N_BLEND && !found; b++)
        for (size_t h = 0; h < N_HALF; h++)
            if (grid[h][b].m.ndcg >= mean - se &&
                (!found || grid[h][b].m.ndcg > grid[bh][bb].m.ndcg)) {
                bh = h, bb = b;
                found = 1;
            }
    rep->learned = (session_params_t){ gap_ms, half_lives[bh], (float)bb / (N_BLEND - 1) };
    rep->val_session = grid[bh][bb].m;
    rep->val_foldin = grid[0][0].m;
}

/* Test: the three methods on every test case. */
static int test(const store_event_rec_t *ev, const sesseval_split_t *sp,
                const sesseval_config_t *c, const phase_t *p, sesseval_report_t *rep)
{
    uint32_t ni = p->m.hdr.n_items;
    uint32_t *ctx = malloc((sp->sess[sp->n_sess - 1].end + 1) * sizeof *ctx);
    scratch_t w;
    int rc = scratch_new(p, &w);

    if (rc == 0 && !ctx)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < sp->n_test; i++) {
        const sesseval_session_t *se = &sp->sess[sp->test[i]];
        uint32_t t = target_of(ev, se);
        size_t nc = se->end - 1 - se->begin;
        for (size_t e = 0; e < nc; e++)
            ctx[e] = ev[se->begin + e].item;
        if ((rc = fold_vector(p, ev + se->hist, se->end - 1 - se->hist, NULL, w.xl)) ||
            (rc = fold_vector(p, ev + se->begin, nc, &rep->learned, w.xs)))
            break;
        add_hit(&rep->foldin, blended_rank(p, &w, 0.0f, t), c->k);
        add_hit(&rep->session, blended_rank(p, &w, rep->learned.blend, t), c->k);
        if ((rc = vsknn_score(&p->knn, &c->knn, ctx, nc, w.sc)) != 0)
            break;
        add_hit(&rep->vsknn, t < ni ? rank_of(w.sc, p->pop, ni, t) : UINT32_MAX, c->k);
    }
    finish(&rep->foldin, sp->n_test);
    finish(&rep->vsknn, sp->n_test);
    finish(&rep->session, sp->n_test);
    scratch_free(&w);
    free(ctx);
    return rc;
}

static int run_phase(store_t *s, const train_config_t *tc, const store_event_rec_t *ev,
                     const sesseval_split_t *sp, int64_t cut, phase_t *p,
                     double *secs)
{
    double t0 = monotime_seconds();
    int rc = phase_model(s, tc, cut, p);
    *secs += monotime_seconds() - t0;
    if (rc == 0)
        rc = phase_knn(ev, sp, p->m.hdr.n_items, cut, p);
    return rc;
}

int sesseval_run(store_t *s, const train_config_t *tc, const sesseval_config_t *c,
                 sesseval_report_t *rep)
{
    store_event_list_t l = { 0 };
    sesseval_split_t sp = { 0 };
    cell_t grid[N_HALF][N_BLEND];
    phase_t val = { 0 }, tst = { 0 };
    int rc;

    memset(rep, 0, sizeof *rep);
    if (config_invalid(c))
        return -EINVAL;
    if ((rc = store_scan_events(s, store_event_list_push, &l)) != 0)
        goto out;
    rep->events = l.n;
    if ((rc = sesseval_split_make(l.ev, l.n, c, &sp)) != 0)
        goto out;
    rep->sessions = sp.n_sess;
    rep->n_val = sp.n_val;
    rep->n_test = sp.n_test;
    rep->val_from_ms = sp.val_from_ms;
    rep->test_from_ms = sp.test_from_ms;
    if (!sp.n_val || !sp.n_test) {
        rc = -ENOENT;
        goto out;
    }
    if ((rc = run_phase(s, tc, l.ev, &sp, sp.val_from_ms, &val, &rep->train_seconds)) ||
        (rc = learn(l.ev, &sp, c, &val, grid)))
        goto out;
    choose(grid, sp.n_val, c->gap_ms, rep);
    if ((rc = run_phase(s, tc, l.ev, &sp, sp.test_from_ms, &tst, &rep->train_seconds)) == 0)
        rc = test(l.ev, &sp, c, &tst, rep);
out:
    phase_free(&val);
    phase_free(&tst);
    sesseval_split_free(&sp);
    store_event_list_free(&l);
    return rc;
}
