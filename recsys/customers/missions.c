/*
 * missions.c - missions completed by a history, and the progress now
 * (missions.h).
 *
 * Each mission keeps its own state through the pass: the period it is in
 * (rolled forward when an event falls past its end), whether it is done
 * in it, and its kind's counter. Refunds reach the counters through
 * refund_match, the matching the points ledger uses, so both agree on
 * which purchase a refund takes back.
 */
#include "missions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "refund_match.h"
#include "textbuf.h"

#define NO_DAY (INT64_MIN / 2)

typedef struct cat_count {
    uint32_t cat, n;     /* a category and its counted events (n > 0) */
} cat_count_t;

typedef struct mstate {
    int64_t ps, pe;      /* the period [ps, pe) */
    int done;
    int64_t done_ms;
    uint32_t count;      /* count: events counted in the period */
    cat_count_t cats[MISSION_MAX_CATEGORIES]; /* distinct: first counted first */
    size_t n_cats;
    int64_t last_day, run; /* streak: the last matching day, the run ending there */
    uint32_t completions;
} mstate_t;

typedef struct pass {
    const store_event_rec_t *ev;
    const uint32_t *item_category;
    size_t n_items;
    const missions_config_t *mc;
    mstate_t st[MISSIONS_MAX];
    int64_t *refunded;   /* [n] quantity of each purchase refunded so far */
    size_t refund_i;     /* the refund being matched */
    missions_result_t *out;
} pass_t;

/* The event's category; UINT32_MAX for none. */
static uint32_t category_of(const pass_t *p, const store_event_rec_t *e)
{
    if (!p->item_category || e->item == STORE_NO_ITEM || e->item >= p->n_items)
        return UINT32_MAX;
    return p->item_category[e->item];
}

/* Moves mission k's period forward to the one containing t. */
static void roll(pass_t *p, size_t k, int64_t t)
{
    mstate_t *s = &p->st[k];
    if (t < s->pe)
        return;
    civil_period_bounds(p->mc->m[k].period, t, &s->ps, &s->pe);
    s->done = 0;
    s->done_ms = 0;
    s->count = 0;
    s->n_cats = 0;
}

/* "once", "2026", "2026-02" or "2026-W06" (the ISO week of Monday ps). */
static void period_key(civil_period_t period, int64_t ps, char *buf, size_t cap)
{
    int64_t day = civil_day_of_ms(ps), y, thursday, y1;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    switch (period) {
    case CIVIL_PERIOD_YEAR:
        snprintf(buf, cap, "%04lld", (long long)y);
        return;
    case CIVIL_PERIOD_MONTH:
        snprintf(buf, cap, "%04lld-%02u", (long long)y, m);
        return;
    case CIVIL_PERIOD_WEEK:
        /* ISO 8601: the week belongs to the year of its Thursday. */
        thursday = day + 3;
        civil_from_days(thursday, &y1, &m, &d);
        snprintf(buf, cap, "%04lld-W%02u", (long long)y1,
                 (unsigned)((thursday - civil_to_days(y1, 1, 1)) / 7 + 1));
        return;
    case CIVIL_PERIOD_ONCE:
        break;
    }
    snprintf(buf, cap, "once");
}

static int complete(pass_t *p, size_t k, size_t i)
{
    const mission_def_t *m = &p->mc->m[k];
    mstate_t *s = &p->st[k];
    missions_result_t *r = p->out;
    mission_completion_t *c;
    char key[32];

    if (GROW(r->done, r->cap_done, r->n_done + 1))
        return -ENOMEM;
    c = &r->done[r->n_done++];
    period_key(m->period, s->ps, key, sizeof key);
    *c = (mission_completion_t){ .mission = (int)k, .ev = i, .time_ms = p->ev[i].time_ms,
                                 .points = m->reward_points };
    snprintf(c->source, sizeof c->source, "%s:%s", m->name, key);
    s->done = 1;
    s->done_ms = p->ev[i].time_ms;
    s->completions++;
    return 0;
}

static void streak_day(mstate_t *s, int64_t day)
{
    if (day == s->last_day)
        return;
    s->run = day == s->last_day + 1 ? s->run + 1 : 1;
    s->last_day = day;
}

static void count_category(mstate_t *s, uint32_t cat)
{
    for (size_t j = 0; j < s->n_cats; j++) {
        if (s->cats[j].cat == cat) {
            s->cats[j].n++;
            return;
        }
    }
    if (s->n_cats < MISSION_MAX_CATEGORIES)
        s->cats[s->n_cats++] = (cat_count_t){ cat, 1 };
}

static void uncount_category(mstate_t *s, uint32_t cat)
{
    for (size_t j = 0; j < s->n_cats; j++) {
        if (s->cats[j].cat != cat)
            continue;
        if (--s->cats[j].n == 0) {
            memmove(&s->cats[j], &s->cats[j + 1], (s->n_cats - j - 1) * sizeof s->cats[0]);
            s->n_cats--;
        }
        return;
    }
}

/* Event i for mission k (its type matches, the period is rolled). */
static int on_event(pass_t *p, size_t k, size_t i)
{
    const mission_def_t *m = &p->mc->m[k];
    mstate_t *s = &p->st[k];
    uint32_t cat, progress = 0;

    switch (m->kind) {
    case MISSION_STREAK_DAYS:
        streak_day(s, civil_day_of_ms(p->ev[i].time_ms));
        if (s->done)
            return 0;
        progress = s->run >= m->target ? m->target : 0;
        break;
    case MISSION_DISTINCT_CATEGORIES:
        if (s->done || (cat = category_of(p, &p->ev[i])) == UINT32_MAX)
            return 0;
        count_category(s, cat);
        progress = (uint32_t)s->n_cats;
        break;
    case MISSION_COUNT:
        if (s->done)
            return 0;
        progress = ++s->count;
        break;
    }
    if (progress < m->target)
        return 0;
    if (m->kind == MISSION_STREAK_DAYS)
        s->run = 0; /* the run is used up: the next starts tomorrow */
    return complete(p, k, i);
}

/* refund_match callback: purchase q refunded whole stops counting for the
 * missions over purchases not done in q's period. */
static int on_refunded(void *ctx, size_t q)
{
    pass_t *p = ctx;
    const store_event_rec_t *pe = &p->ev[q];
    if (p->refunded[q] < refund_quantity(pe))
        return 0;
    for (size_t k = 0; k < p->mc->n; k++) {
        const mission_def_t *m = &p->mc->m[k];
        mstate_t *s = &p->st[k];
        if (m->type != STORE_EVENT_PURCHASE || s->done || pe->time_ms < s->ps ||
            m->kind == MISSION_STREAK_DAYS)
            continue;
        if (m->kind == MISSION_COUNT && s->count > 0)
            s->count--;
        else if (m->kind == MISSION_DISTINCT_CATEGORIES)
            uncount_category(s, category_of(p, pe));
    }
    return 0;
}

static int step(pass_t *p, size_t i)
{
    const store_event_rec_t *e = &p->ev[i];
    int rc;
    for (size_t k = 0; k < p->mc->n; k++)
        roll(p, k, e->time_ms);
    if (e->type == STORE_EVENT_REFUND)
        return refund_match(p->ev, i, p->refunded, on_refunded, p);
    for (size_t k = 0; k < p->mc->n; k++)
        if (p->mc->m[k].type == e->type && (rc = on_event(p, k, i)) != 0)
            return rc;
    return 0;
}

static void progress_at(const pass_t *p, size_t k, int64_t now_ms, mission_progress_t *o)
{
    const mission_def_t *m = &p->mc->m[k];
    const mstate_t *s = &p->st[k];
    *o = (mission_progress_t){ .target = m->target, .completed = s->done,
                               .completed_ms = s->done_ms, .period_start_ms = s->ps,
                               .period_end_ms = s->pe, .completions = s->completions };
    switch (m->kind) {
    case MISSION_STREAK_DAYS:
        if (s->done)
            o->progress = m->target;
        else if (s->last_day >= civil_day_of_ms(now_ms) - 1)
            o->progress = s->run < m->target ? (uint32_t)s->run : m->target;
        break;
    case MISSION_DISTINCT_CATEGORIES:
        for (size_t j = 0; j < s->n_cats; j++)
            o->categories[j] = s->cats[j].cat;
        o->n_categories = s->n_cats;
        o->progress = (uint32_t)s->n_cats;
        break;
    case MISSION_COUNT:
        o->progress = s->count;
        break;
    }
}

int missions_compute(const store_event_rec_t *ev, size_t n, const uint32_t *item_category,
                     size_t n_items, const missions_config_t *mc, int64_t now_ms,
                     missions_result_t *out)
{
    pass_t *p;
    int64_t *refunded;
    int rc = 0;

    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!mc || (n && !ev))
        return -EINVAL;
    if (mc->n == 0)
        return 0;
    p = malloc(sizeof *p);
    refunded = calloc(n ? n : 1, sizeof *refunded);
    if (!p || !refunded) {
        free(p);
        free(refunded);
        return -ENOMEM;
    }
    *p = (pass_t){ .ev = ev, .item_category = item_category, .n_items = n_items, .mc = mc,
                   .refunded = refunded, .out = out };
    for (size_t k = 0; k < mc->n; k++)
        p->st[k] = (mstate_t){ .pe = INT64_MIN, .last_day = NO_DAY };
    for (size_t i = 0; i < n && ev[i].time_ms <= now_ms && rc == 0; i++)
        rc = step(p, i);
    for (size_t k = 0; k < mc->n && rc == 0; k++) {
        roll(p, k, now_ms);
        progress_at(p, k, now_ms, &out->progress[k]);
    }
    out->n = rc == 0 ? mc->n : 0;
    free(p->refunded);
    free(p);
    return rc;
}

void missions_result_free(missions_result_t *r)
{
    if (!r)
        return;
    free(r->done);
    memset(r, 0, sizeof *r);
}

/* ---- the sentence ---------------------------------------------------------------- */

static void put_period(textbuf_t *t, const mission_def_t *m, const mission_progress_t *p)
{
    if (m->period == CIVIL_PERIOD_ONCE)
        return;
    textbuf_put(t, " (this %s, through ", mission_period_name(m->period));
    textbuf_date(t, p->period_end_ms - 1);
    textbuf_put(t, ")");
}

char *missions_progress_text(const mission_def_t *m, const mission_progress_t *p,
                             const char *const *category_names, size_t n_names, char *buf,
                             size_t cap)
{
    textbuf_t t = { buf, cap, 0 };

    if (!buf || !cap)
        return buf;
    buf[0] = '\0';
    if (!m || !p)
        return buf;
    if (p->completed) {
        textbuf_put(&t, "completed on ");
        textbuf_date(&t, p->completed_ms);
        if (m->period != CIVIL_PERIOD_ONCE) {
            textbuf_put(&t, "; again from ");
            textbuf_date(&t, p->period_end_ms);
        }
        return buf;
    }
    switch (m->kind) {
    case MISSION_STREAK_DAYS:
        textbuf_put(&t, "%u/%u days in a row", p->progress, p->target);
        put_period(&t, m, p);
        break;
    case MISSION_DISTINCT_CATEGORIES:
        textbuf_put(&t, "%u/%u categories", p->progress, p->target);
        for (size_t j = 0; j < p->n_categories; j++)
            textbuf_put(&t, "%s%s", j ? ", " : ": ",
                        category_names && p->categories[j] < n_names
                            ? category_names[p->categories[j]] : "?");
        put_period(&t, m, p);
        break;
    case MISSION_COUNT:
        textbuf_put(&t, "%u/%u %s events", p->progress, p->target,
                    store_event_type_name(m->type));
        put_period(&t, m, p);
        break;
    }
    return buf;
}
