/*
 * audience_match.c - matching a customer row against a parsed segment
 * expression, and printing the tree back in canonical form (contract in
 * audience.h). The tree was type-checked at parse time, so this is a walk
 * with no string parsing.
 */
#include "audience_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- matching -------------------------------------------------------------------- */

static int cmp_number(double x, cmp_op_t op, const value_t *v, size_t n)
{
    switch (op) {
    case OP_EQ: return x == v[0].num;
    case OP_NE: return x != v[0].num;
    case OP_LT: return x < v[0].num;
    case OP_LE: return x <= v[0].num;
    case OP_GT: return x > v[0].num;
    case OP_GE: return x >= v[0].num;
    case OP_IN:
    case OP_NOT_IN:
        for (size_t i = 0; i < n; i++)
            if (x == v[i].num)
                return op == OP_IN;
        return op == OP_NOT_IN;
    }
    return 0;
}

static int cmp_index(int x, cmp_op_t op, const value_t *v, size_t n)
{
    switch (op) {
    case OP_EQ: return x == v[0].idx;
    case OP_NE: return x != v[0].idx;
    case OP_LT: return x < v[0].idx;
    case OP_LE: return x <= v[0].idx;
    case OP_GT: return x > v[0].idx;
    case OP_GE: return x >= v[0].idx;
    case OP_IN:
    case OP_NOT_IN:
        for (size_t i = 0; i < n; i++)
            if (x == v[i].idx)
                return op == OP_IN;
        return op == OP_NOT_IN;
    }
    return 0;
}

/* Whether any of the n values equals s (case-insensitively). */
static int text_in(const char *s, const value_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(s, v[i].text) == 0)
            return 1;
    return 0;
}

/* = and IN ask "is one of the values among the row's texts", != and NOT IN
 * the opposite; an empty set is known (category != X is true). */
static int cmp_textset(const char *const *s, size_t ns, cmp_op_t op,
                       const value_t *v, size_t n)
{
    int any = 0;
    for (size_t i = 0; i < ns && !any; i++)
        any = s[i] && text_in(s[i], v, n);
    return (op == OP_EQ || op == OP_IN) ? any : !any;
}

/* The row's value of a number field; 0 if unknown. */
static int number_of(const audience_row_t *row, field_id_t id, double *x)
{
    switch (id) {
    case F_R: *x = row->r; return 1;
    case F_F: *x = row->f; return 1;
    case F_M: *x = row->m; return 1;
    case F_MONETARY: *x = row->monetary; return 1;
    case F_ORDERS: *x = row->orders; return 1;
    case F_POINTS: *x = (double)row->points; return 1;
    case F_RECENCY: *x = row->recency_days; return row->orders > 0;
    case F_BASKET: *x = row->average_basket; return row->orders > 0;
    case F_GAP: *x = row->typical_gap_days; return row->orders > 1;
    case F_VIEWS: *x = row->views; return 1;
    case F_CARTS: *x = row->carts; return 1;
    case F_SIGNUP_MONTH: *x = row->signup_month; return row->signup_month > 0;
    case F_BIRTHDAY_MONTH:
        *x = row->birthday_month;
        return row->birthday_month > 0;
    case F_CLV: *x = row->clv; return row->has_clv;
    case F_CHURN_P: *x = row->churn_p; return row->has_clv;
    default: return 0;
    }
}

static int match_cmp(const node_t *n, const audience_row_t *row)
{
    double x;
    size_t nc;

    switch (n->field->type) {
    case FT_NUMBER:
        return number_of(row, n->field->id, &x) &&
               cmp_number(x, n->op, n->vals, n->nvals);
    case FT_TIER: return cmp_index(row->tier, n->op, n->vals, n->nvals);
    case FT_STAGE: return cmp_index(row->stage, n->op, n->vals, n->nvals);
    case FT_SEGMENT: return cmp_index(row->segment, n->op, n->vals, n->nvals);
    case FT_TEXT:
        if (!row->region || !row->region[0])
            return 0;
        return cmp_textset(&row->region, 1, n->op, n->vals, n->nvals);
    case FT_TEXTSET:
        nc = row->n_categories < PROFILE_TOP_CATEGORIES ? row->n_categories
                                                        : PROFILE_TOP_CATEGORIES;
        return cmp_textset(row->categories, nc, n->op, n->vals, n->nvals);
    }
    return 0;
}

static int match_node(const node_t *n, const audience_row_t *row)
{
    switch (n->kind) {
    case N_AND:
        for (size_t i = 0; i < n->nkids; i++)
            if (!match_node(n->kids[i], row))
                return 0;
        return 1;
    case N_OR:
        for (size_t i = 0; i < n->nkids; i++)
            if (match_node(n->kids[i], row))
                return 1;
        return 0;
    case N_NOT: return !match_node(n->kids[0], row);
    case N_CMP: return match_cmp(n, row);
    }
    return 0;
}

int audience_match(const audience_t *a, const audience_row_t *row)
{
    if (!a || !a->root || !row)
        return 0;
    return match_node(a->root, row);
}

/* ---- printing -------------------------------------------------------------------- */

typedef struct outbuf {
    char *buf;
    size_t cap, len;
} outbuf_t;

static void out_printf(outbuf_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = o->len < o->cap ? o->buf + o->len : NULL;
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int w = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (w > 0)
        o->len += (size_t)w;
}

static void format_value(outbuf_t *o, const audience_t *a,
                         const field_def_t *f, const value_t *v)
{
    switch (f->type) {
    case FT_NUMBER: out_printf(o, "%.17g", v->num); return;
    case FT_TIER:
        out_printf(o, "%s", v->idx < 0 ? "none"
                                       : profile_tier_name(&a->cfg, v->idx));
        return;
    case FT_SEGMENT:
        out_printf(o, "%s", v->idx < 0 ? "none"
                                       : profile_segment_name(&a->cfg, v->idx));
        return;
    case FT_STAGE:
        out_printf(o, "%s", profile_stage_name((profile_stage_t)v->idx));
        return;
    case FT_TEXT:
    case FT_TEXTSET:
        out_printf(o, "\"");
        for (const char *s = v->text; *s; s++)
            out_printf(o, (*s == '"' || *s == '\\') ? "\\%c" : "%c", *s);
        out_printf(o, "\"");
        return;
    }
}

static void format_node(outbuf_t *o, const audience_t *a, const node_t *n)
{
    switch (n->kind) {
    case N_AND:
    case N_OR:
        out_printf(o, "(");
        for (size_t i = 0; i < n->nkids; i++) {
            if (i)
                out_printf(o, n->kind == N_AND ? " AND " : " OR ");
            format_node(o, a, n->kids[i]);
        }
        out_printf(o, ")");
        return;
    case N_NOT:
        out_printf(o, "NOT ");
        format_node(o, a, n->kids[0]);
        return;
    case N_CMP:
        out_printf(o, "%s %s ", n->field->name, audience_op_text[n->op]);
        if (n->op == OP_IN || n->op == OP_NOT_IN)
            out_printf(o, "(");
        for (size_t i = 0; i < n->nvals; i++) {
            if (i)
                out_printf(o, ", ");
            format_value(o, a, n->field, &n->vals[i]);
        }
        if (n->op == OP_IN || n->op == OP_NOT_IN)
            out_printf(o, ")");
        return;
    }
}

size_t audience_format(const audience_t *a, char *buf, size_t cap)
{
    outbuf_t o = { buf, cap, 0 };
    if (cap > 0)
        buf[0] = '\0';
    if (a && a->root)
        format_node(&o, a, a->root);
    return o.len;
}
