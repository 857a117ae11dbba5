/*
 * audience.c - the segment expression language (contract in audience.h).
 *
 * A hand-written lexer (audience_lex.c) and recursive-descent parser (here)
 * build a small tree:
 * AND / OR nodes hold any number of children (a chain of 500 ANDs is one
 * node, not 500 levels), NOT holds one, and leaves are comparisons whose
 * field and values were type-checked and resolved at parse time (tier and
 * segment names to indices), so matching a row is a walk with no string
 * parsing. Recursion depth in the parser, matcher, printer and free is
 * bounded by AUDIENCE_MAX_DEPTH. Matching and printing: audience_match.c.
 */
#include "audience_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grow.h"

/* ---- fields ---------------------------------------------------------------------- */

static const field_def_t fields[] = {
    { "r", F_R, FT_NUMBER },
    { "f", F_F, FT_NUMBER },
    { "m", F_M, FT_NUMBER },
    { "monetary", F_MONETARY, FT_NUMBER },
    { "orders", F_ORDERS, FT_NUMBER },
    { "points", F_POINTS, FT_NUMBER },
    { "recency_days", F_RECENCY, FT_NUMBER },
    { "average_basket", F_BASKET, FT_NUMBER },
    { "typical_gap_days", F_GAP, FT_NUMBER },
    { "views", F_VIEWS, FT_NUMBER },
    { "carts", F_CARTS, FT_NUMBER },
    { "signup_month", F_SIGNUP_MONTH, FT_NUMBER },
    { "birthday_month", F_BIRTHDAY_MONTH, FT_NUMBER },
    { "clv", F_CLV, FT_NUMBER },
    { "churn_p", F_CHURN_P, FT_NUMBER },
    { "tier", F_TIER, FT_TIER },
    { "stage", F_STAGE, FT_STAGE },
    { "segment", F_SEGMENT, FT_SEGMENT },
    { "category", F_CATEGORY, FT_TEXTSET },
    { "region", F_REGION, FT_TEXT },
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

const char *const audience_op_text[] = { "=", "!=", "<", "<=", ">", ">=",
                                         "IN", "NOT IN" };

/* ---- tree ------------------------------------------------------------------------ */

static void node_free(node_t *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    if (n->field && (n->field->type == FT_TEXT || n->field->type == FT_TEXTSET))
        for (size_t i = 0; i < n->nvals; i++)
            free(n->vals[i].text);
    free(n->vals);
    free(n);
}

void audience_free(audience_t *a)
{
    if (!a)
        return;
    node_free(a->root);
    free(a);
}

/* ---- parser ---------------------------------------------------------------------- */

static node_t *node_new(parser_t *p, node_kind_t kind)
{
    node_t *n = calloc(1, sizeof *n);
    if (!n)
        audience_fail(p, -ENOMEM, p->tok.pos, "out of memory");
    else
        n->kind = kind;
    return n;
}

static int node_add_kid(parser_t *p, node_t *n, node_t *kid, size_t *cap)
{
    if (GROW(n->kids, *cap, n->nkids + 1) != 0) {
        node_free(kid);
        return audience_fail(p, -ENOMEM, p->tok.pos, "out of memory");
    }
    n->kids[n->nkids++] = kid;
    return 0;
}

static node_t *parse_or(parser_t *p);

static const field_def_t *field_find(const char *name)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcasecmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

static int op_allowed(const field_def_t *f, cmp_op_t op)
{
    if (op == OP_EQ || op == OP_NE || op == OP_IN || op == OP_NOT_IN)
        return 1;
    return f->type == FT_NUMBER || f->type == FT_TIER;
}

/* "bronze, silver, ..., none" for error messages. */
static void names_list(const profile_config_t *cfg, field_type_t type,
                       char *buf, size_t cap)
{
    size_t o = 0, n = 0;
    buf[0] = '\0';
    if (type == FT_STAGE)
        n = N_STAGES;
    else if (type == FT_TIER)
        n = cfg->n_tiers;
    else
        n = cfg->n_segments;
    for (size_t i = 0; i <= n && o < cap; i++) {
        const char *name;
        if (type == FT_STAGE && i == n)
            break;
        if (type == FT_STAGE)
            name = profile_stage_name((profile_stage_t)i);
        else if (i == n)
            name = "none";
        else if (type == FT_TIER)
            name = cfg->tiers[i].name;
        else
            name = cfg->segments[i].name;
        int w = snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", name);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static const char *enum_kind_name(field_type_t type)
{
    return type == FT_TIER ? "tier" : type == FT_STAGE ? "stage" : "segment";
}

/* Resolves an enum name to its index (-1 for "none"); -2 if unknown. */
static int enum_lookup(const profile_config_t *cfg, field_type_t type,
                       const char *name)
{
    if (type == FT_STAGE) {
        for (int i = 0; i < N_STAGES; i++)
            if (strcasecmp(profile_stage_name((profile_stage_t)i), name) == 0)
                return i;
        return -2;
    }
    size_t n = type == FT_TIER ? cfg->n_tiers : cfg->n_segments;
    for (size_t i = 0; i < n; i++) {
        const char *known = type == FT_TIER ? cfg->tiers[i].name
                                            : cfg->segments[i].name;
        if (strcasecmp(known, name) == 0)
            return (int)i;
    }
    return strcasecmp(name, "none") == 0 ? -1 : -2;
}

/* Reads one value of the field's type at the current token into *v. */
static int parse_value(parser_t *p, const field_def_t *f, value_t *v)
{
    token_t *t = &p->tok;

    if (f->type == FT_NUMBER) {
        if (t->kind != T_NUMBER) {
            char what[96];
            snprintf(what, sizeof what, "expected a number for '%s'", f->name);
            return audience_fail_at_token(p, -EINVAL, what);
        }
        v->num = t->num;
        return audience_lex(p);
    }
    if (t->kind != T_IDENT && t->kind != T_STRING) {
        char what[96];
        snprintf(what, sizeof what, "expected a name or string for '%s'",
                 f->name);
        return audience_fail_at_token(p, -EINVAL, what);
    }
    if (f->type == FT_TEXT || f->type == FT_TEXTSET) {
        v->text = strdup(t->text);
        if (!v->text)
            return audience_fail(p, -ENOMEM, t->pos, "out of memory");
        return audience_lex(p);
    }
    v->idx = enum_lookup(p->cfg, f->type, t->text);
    if (v->idx == -2) {
        char known[600];
        names_list(p->cfg, f->type, known, sizeof known);
        return audience_fail(p, -EINVAL, t->pos, "unknown %s '%s' (expected one of: %s)",
                    enum_kind_name(f->type), t->text, known);
    }
    return audience_lex(p);
}

static int expect(parser_t *p, tok_kind_t kind, const char *what)
{
    if (p->tok.kind != kind)
        return audience_fail_at_token(p, -EINVAL, what);
    return audience_lex(p);
}

/* '(' value { ',' value } ')' after IN. */
static int parse_list(parser_t *p, node_t *n)
{
    size_t cap = 0;
    if (expect(p, T_LPAREN, "expected '(' after IN"))
        return p->rc;
    for (;;) {
        if (n->nvals == AUDIENCE_MAX_LIST)
            return audience_fail(p, -E2BIG, p->tok.pos, "more than %d values in IN",
                        AUDIENCE_MAX_LIST);
        if (GROW(n->vals, cap, n->nvals + 1) != 0)
            return audience_fail(p, -ENOMEM, p->tok.pos, "out of memory");
        memset(&n->vals[n->nvals], 0, sizeof n->vals[0]);
        n->nvals++; /* counted first so node_free sees a strdup'd text */
        if (parse_value(p, n->field, &n->vals[n->nvals - 1]))
            return p->rc;
        if (p->tok.kind == T_RPAREN)
            return audience_lex(p);
        if (expect(p, T_COMMA, "expected ',' or ')' in IN list"))
            return p->rc;
    }
}

static int parse_operator(parser_t *p, node_t *n)
{
    if (p->tok.kind == T_NOT) {
        if (audience_lex(p))
            return p->rc;
        if (p->tok.kind != T_IN)
            return audience_fail_at_token(p, -EINVAL, "expected IN after NOT");
        n->op = OP_NOT_IN;
    } else if (p->tok.kind == T_IN) {
        n->op = OP_IN;
    } else if (p->tok.kind == T_OP) {
        n->op = p->tok.op;
    } else {
        char what[96];
        snprintf(what, sizeof what, "expected an operator after '%s'",
                 n->field->name);
        return audience_fail_at_token(p, -EINVAL, what);
    }
    if (!op_allowed(n->field, n->op))
        return audience_fail(p, -EINVAL, p->tok.pos,
                    "operator '%s' does not apply to '%s' (use = != IN)",
                    audience_op_text[n->op], n->field->name);
    return audience_lex(p);
}

static node_t *parse_comparison(parser_t *p)
{
    const field_def_t *f = field_find(p->tok.text);
    if (!f) {
        audience_fail(p, -EINVAL, p->tok.pos, "unknown field '%s'", p->tok.text);
        return NULL;
    }
    node_t *n = node_new(p, N_CMP);
    if (!n)
        return NULL;
    n->field = f;
    if (audience_lex(p) || parse_operator(p, n))
        goto fail;
    if (n->op == OP_IN || n->op == OP_NOT_IN) {
        if (parse_list(p, n))
            goto fail;
        return n;
    }
    n->vals = calloc(1, sizeof *n->vals);
    if (!n->vals) {
        audience_fail(p, -ENOMEM, p->tok.pos, "out of memory");
        goto fail;
    }
    n->nvals = 1;
    if (parse_value(p, f, &n->vals[0]))
        goto fail;
    return n;
fail:
    node_free(n);
    return NULL;
}

static int depth_enter(parser_t *p)
{
    if (++p->depth > AUDIENCE_MAX_DEPTH)
        return audience_fail(p, -E2BIG, p->tok.pos, "nesting deeper than %d",
                    AUDIENCE_MAX_DEPTH);
    return 0;
}

static node_t *parse_group(parser_t *p)
{
    size_t open = p->tok.pos;
    if (depth_enter(p) || audience_lex(p))
        return NULL;
    node_t *n = parse_or(p);
    if (!n)
        return NULL;
    if (p->tok.kind != T_RPAREN) {
        char what[64];
        snprintf(what, sizeof what, "expected ')' to close '(' at col %zu",
                 open + 1);
        audience_fail_at_token(p, -EINVAL, what);
        node_free(n);
        return NULL;
    }
    p->depth--;
    if (audience_lex(p)) {
        node_free(n);
        return NULL;
    }
    return n;
}

static node_t *parse_unary(parser_t *p)
{
    if (p->tok.kind == T_NOT) {
        if (depth_enter(p) || audience_lex(p))
            return NULL;
        node_t *kid = parse_unary(p);
        if (!kid)
            return NULL;
        p->depth--;
        node_t *n = node_new(p, N_NOT);
        if (!n || node_add_kid(p, n, kid, &(size_t){ 0 })) {
            if (n)
                node_free(n);
            else
                node_free(kid);
            return NULL;
        }
        return n;
    }
    if (p->tok.kind == T_LPAREN)
        return parse_group(p);
    if (p->tok.kind == T_IDENT)
        return parse_comparison(p);
    audience_fail_at_token(p, -EINVAL, "expected a field, '(' or NOT");
    return NULL;
}

/* One level of a left-associative chain "sub { KW sub }" into one n-ary
 * node (or the lone operand). */
static node_t *parse_chain(parser_t *p, tok_kind_t kw, node_kind_t kind,
                           node_t *(*sub)(parser_t *))
{
    node_t *first = sub(p);
    if (!first || p->tok.kind != kw)
        return first;
    node_t *n = node_new(p, kind);
    size_t cap = 0;
    if (!n || node_add_kid(p, n, first, &cap)) {
        if (n)
            node_free(n);
        else
            node_free(first);
        return NULL;
    }
    while (p->tok.kind == kw) {
        node_t *kid = audience_lex(p) ? NULL : sub(p);
        if (!kid || node_add_kid(p, n, kid, &cap)) {
            node_free(n);
            return NULL;
        }
    }
    return n;
}

static node_t *parse_and(parser_t *p)
{
    return parse_chain(p, T_AND, N_AND, parse_unary);
}

static node_t *parse_or(parser_t *p)
{
    return parse_chain(p, T_OR, N_OR, parse_and);
}

static node_t *parse_all(parser_t *p)
{
    if (audience_lex(p))
        return NULL;
    if (p->tok.kind == T_END) {
        audience_fail(p, -EINVAL, 0, "empty expression");
        return NULL;
    }
    node_t *root = parse_or(p);
    if (root && p->tok.kind != T_END) {
        audience_fail_at_token(p, -EINVAL,
                      p->tok.kind == T_RPAREN ? "unmatched ')'"
                                              : "expected AND, OR or the end");
        node_free(root);
        return NULL;
    }
    return root;
}

int audience_parse(const char *expr, const profile_config_t *cfg,
                   audience_t **out, char *err, size_t errcap)
{
    parser_t p = { .err = err, .errcap = errcap };

    if (err && errcap)
        err[0] = '\0';
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!expr)
        return audience_fail(&p, -EINVAL, 0, "no expression");
    if (cfg && profile_config_invalid(cfg))
        return audience_fail(&p, -EINVAL, 0, "invalid config: %s",
                    profile_config_invalid(cfg));
    p.len = strnlen(expr, AUDIENCE_MAX_EXPR + 1);
    if (p.len > AUDIENCE_MAX_EXPR)
        return audience_fail(&p, -E2BIG, AUDIENCE_MAX_EXPR,
                    "expression longer than %d bytes", AUDIENCE_MAX_EXPR);
    audience_t *a = calloc(1, sizeof *a);
    if (!a)
        return audience_fail(&p, -ENOMEM, 0, "out of memory");
    if (cfg)
        a->cfg = *cfg;
    else
        profile_config_default(&a->cfg);
    p.src = expr;
    p.cfg = &a->cfg;
    a->root = parse_all(&p);
    if (!a->root) {
        audience_free(a);
        return p.rc ? p.rc : -EINVAL;
    }
    *out = a;
    return 0;
}
