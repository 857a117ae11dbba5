/*
 * audience.c - the segment expression language (contract in audience.h).
 *
 * A hand-written lexer and recursive-descent parser build a small tree:
 * AND / OR nodes hold any number of children (a chain of 500 ANDs is one
 * node, not 500 levels), NOT holds one, and leaves are comparisons whose
 * field and values were type-checked and resolved at parse time (tier and
 * segment names to indices), so matching a row is a walk with no string
 * parsing. Recursion depth in the parser, matcher, printer and free is
 * bounded by AUDIENCE_MAX_DEPTH.
 */
#include "audience.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grow.h"

/* ---- fields ---------------------------------------------------------------------- */

typedef enum field_type {
    FT_NUMBER, /* double, every operator */
    FT_TIER,   /* tier index, every operator (rank order) */
    FT_STAGE,  /* profile_stage_t, equality only */
    FT_SEGMENT,/* segment index, equality only */
    FT_TEXT,   /* one string, equality only */
    FT_TEXTSET,/* the favourite categories, equality only */
} field_type_t;

typedef enum field_id {
    F_R, F_F, F_M, F_MONETARY, F_ORDERS, F_POINTS, F_RECENCY, F_BASKET,
    F_GAP, F_VIEWS, F_CARTS, F_SIGNUP_MONTH, F_BIRTHDAY_MONTH,
    F_TIER, F_STAGE, F_SEGMENT, F_CATEGORY, F_REGION,
} field_id_t;

typedef struct field_def {
    const char *name;
    field_id_t id;
    field_type_t type;
} field_def_t;

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
    { "tier", F_TIER, FT_TIER },
    { "stage", F_STAGE, FT_STAGE },
    { "segment", F_SEGMENT, FT_SEGMENT },
    { "category", F_CATEGORY, FT_TEXTSET },
    { "region", F_REGION, FT_TEXT },
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

/* The stage names in profile_stage_t order. */
#define N_STAGES 6

/* ---- tree ------------------------------------------------------------------------ */

typedef enum node_kind { N_AND, N_OR, N_NOT, N_CMP } node_kind_t;

typedef enum cmp_op {
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOT_IN,
} cmp_op_t;

static const char *const op_text[] = { "=", "!=", "<", "<=", ">", ">=",
                                       "IN", "NOT IN" };

typedef union value {
    double num;  /* FT_NUMBER */
    int idx;     /* FT_TIER, FT_STAGE, FT_SEGMENT */
    char *text;  /* FT_TEXT, FT_TEXTSET: owned */
} value_t;

typedef struct node {
    node_kind_t kind;
    struct node **kids; /* AND / OR: nkids >= 2; NOT: 1 */
    size_t nkids;
    const field_def_t *field; /* N_CMP */
    cmp_op_t op;
    value_t *vals;
    size_t nvals;
} node_t;

struct audience {
    node_t *root;
    profile_config_t cfg; /* the names the tree's indices refer to */
};

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

/* ---- lexer ----------------------------------------------------------------------- */

typedef enum tok_kind {
    T_END, T_IDENT, T_STRING, T_NUMBER, T_LPAREN, T_RPAREN, T_COMMA, T_OP,
    T_AND, T_OR, T_NOT, T_IN,
} tok_kind_t;

typedef struct token {
    tok_kind_t kind;
    size_t pos, len;      /* where it is in the source */
    cmp_op_t op;          /* T_OP */
    double num;           /* T_NUMBER */
    char text[AUDIENCE_MAX_TOKEN + 1]; /* T_IDENT, T_STRING (unescaped) */
} token_t;

typedef struct parser {
    const char *src;
    size_t len, pos;
    token_t tok;          /* the lookahead */
    int depth;
    const profile_config_t *cfg;
    char *err;
    size_t errcap;
    int rc;               /* first error, 0 while none */
} parser_t;

/* Records the first error: "col N: message". Returns rc for tail calls. */
static int fail(parser_t *p, int rc, size_t pos, const char *fmt, ...)
{
    if (p->rc)
        return p->rc;
    p->rc = rc;
    if (p->err && p->errcap > 0) {
        int w = snprintf(p->err, p->errcap, "col %zu: ", pos + 1);
        if (w >= 0 && (size_t)w < p->errcap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + w, p->errcap - (size_t)w, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

/* A printable rendering of the current token for messages (static buffer
 * inside p is not needed: the source text is quoted, cut at 40 bytes). */
static void tok_describe(const parser_t *p, char *buf, size_t cap)
{
    const token_t *t = &p->tok;
    if (t->kind == T_END) {
        snprintf(buf, cap, "end of expression");
        return;
    }
    size_t n = t->len < 40 ? t->len : 40;
    size_t o = 0;
    buf[o++] = '\'';
    for (size_t i = 0; i < n && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)p->src[t->pos + i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
    }
    if (n < t->len && o + 4 < cap) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

static int fail_at_token(parser_t *p, int rc, const char *what)
{
    char found[64];
    tok_describe(p, found, sizeof found);
    return fail(p, rc, p->tok.pos, "%s, found %s", what, found);
}

static int is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_char(int c)
{
    return is_ident_start(c) || is_digit(c);
}

static int lex_ident(parser_t *p, token_t *t)
{
    size_t end = p->pos;
    while (end < p->len && is_ident_char((unsigned char)p->src[end]))
        end++;
    t->len = end - p->pos;
    if (t->len > AUDIENCE_MAX_TOKEN)
        return fail(p, -E2BIG, t->pos, "identifier longer than %d bytes",
                    AUDIENCE_MAX_TOKEN);
    memcpy(t->text, p->src + p->pos, t->len);
    t->text[t->len] = '\0';
    p->pos = end;
    static const struct { const char *word; tok_kind_t kind; } kw[] = {
        { "and", T_AND }, { "or", T_OR }, { "not", T_NOT }, { "in", T_IN },
    };
    t->kind = T_IDENT;
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strcasecmp(t->text, kw[i].word) == 0)
            t->kind = kw[i].kind;
    return 0;
}

static int lex_string(parser_t *p, token_t *t)
{
    char quote = p->src[p->pos];
    size_t i = p->pos + 1, n = 0;

    while (i < p->len && p->src[i] != quote) {
        char c = p->src[i];
        if (c == '\\' && i + 1 < p->len &&
            (p->src[i + 1] == '"' || p->src[i + 1] == '\'' ||
             p->src[i + 1] == '\\'))
            c = p->src[++i];
        if (n == AUDIENCE_MAX_TOKEN)
            return fail(p, -E2BIG, t->pos, "string longer than %d bytes",
                        AUDIENCE_MAX_TOKEN);
        t->text[n++] = c;
        i++;
    }
    if (i >= p->len)
        return fail(p, -EINVAL, t->pos, "unterminated string starting %c",
                    quote);
    t->text[n] = '\0';
    t->kind = T_STRING;
    t->len = i + 1 - p->pos;
    p->pos = i + 1;
    return 0;
}

static size_t skip_digits(const char *s, size_t i, size_t len)
{
    while (i < len && is_digit((unsigned char)s[i]))
        i++;
    return i;
}

/* [+-] digits [. digits] [e [+-] digits], at least one digit before the
 * exponent. strtod reads the copy (the C locale's '.' is assumed). */
static int lex_number(parser_t *p, token_t *t)
{
    const char *s = p->src;
    size_t i = p->pos, len = p->len;

    if (s[i] == '-' || s[i] == '+')
        i++;
    size_t mant = i;
    i = skip_digits(s, i, len);
    if (i < len && s[i] == '.')
        i = skip_digits(s, i + 1, len);
    int digits = i > mant && !(i == mant + 1 && s[mant] == '.');
    if (digits && i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = i + 1;
        if (e < len && (s[e] == '-' || s[e] == '+'))
            e++;
        if (e < len && is_digit((unsigned char)s[e]))
            i = skip_digits(s, e, len);
    }
    t->len = i - p->pos;
    if (!digits || (i < len && is_ident_char((unsigned char)s[i])) ||
        t->len > 64) {
        while (i < len && (is_ident_char((unsigned char)s[i]) || s[i] == '.'))
            i++;
        t->len = i - p->pos;
        return fail_at_token(p, -EINVAL, "malformed number");
    }
    char buf[80];
    memcpy(buf, s + p->pos, t->len);
    buf[t->len] = '\0';
    t->num = strtod(buf, NULL);
    if (!isfinite(t->num))
        return fail(p, -EINVAL, t->pos, "number out of range");
    t->kind = T_NUMBER;
    p->pos = i;
    return 0;
}

static int lex_operator(parser_t *p, token_t *t)
{
    const char *s = p->src + p->pos;
    int two = p->pos + 1 < p->len && s[1] == '=';

    t->kind = T_OP;
    switch (s[0]) {
    case '=': t->op = OP_EQ; two = 0; break;
    case '<': t->op = two ? OP_LE : OP_LT; break;
    case '>': t->op = two ? OP_GE : OP_GT; break;
    case '!':
        if (!two) {
            t->len = 1;
            return fail_at_token(p, -EINVAL, "expected '!='");
        }
        t->op = OP_NE;
        break;
    default:
        return -EINVAL; /* not reached: the caller checked s[0] */
    }
    t->len = two ? 2 : 1;
    p->pos += t->len;
    return 0;
}

/* Reads the next token into p->tok. */
static int lex(parser_t *p)
{
    token_t *t = &p->tok;

    while (p->pos < p->len && strchr(" \t\r\n", p->src[p->pos]))
        p->pos++;
    t->pos = p->pos;
    t->len = 0;
    t->text[0] = '\0';
    if (p->pos >= p->len) {
        t->kind = T_END;
        return 0;
    }
    unsigned char c = (unsigned char)p->src[p->pos];
    int next = p->pos + 1 < p->len ? (unsigned char)p->src[p->pos + 1] : 0;
    if (is_ident_start(c))
        return lex_ident(p, t);
    if (c == '"' || c == '\'')
        return lex_string(p, t);
    if (is_digit(c) || c == '.' ||
        ((c == '-' || c == '+') && (is_digit(next) || next == '.')))
        return lex_number(p, t);
    if (c == '=' || c == '<' || c == '>' || c == '!')
        return lex_operator(p, t);
    t->len = 1;
    p->pos++;
    switch (c) {
    case '(': t->kind = T_LPAREN; return 0;
    case ')': t->kind = T_RPAREN; return 0;
    case ',': t->kind = T_COMMA; return 0;
    }
    return fail_at_token(p, -EINVAL, "unexpected character");
}

/* ---- parser ---------------------------------------------------------------------- */

static node_t *node_new(parser_t *p, node_kind_t kind)
{
    node_t *n = calloc(1, sizeof *n);
    if (!n)
        fail(p, -ENOMEM, p->tok.pos, "out of memory");
    else
        n->kind = kind;
    return n;
}

static int node_add_kid(parser_t *p, node_t *n, node_t *kid, size_t *cap)
{
    if (GROW(n->kids, *cap, n->nkids + 1) != 0) {
        node_free(kid);
        return fail(p, -ENOMEM, p->tok.pos, "out of memory");
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
            return fail_at_token(p, -EINVAL, what);
        }
        v->num = t->num;
        return lex(p);
    }
    if (t->kind != T_IDENT && t->kind != T_STRING) {
        char what[96];
        snprintf(what, sizeof what, "expected a name or string for '%s'",
                 f->name);
        return fail_at_token(p, -EINVAL, what);
    }
    if (f->type == FT_TEXT || f->type == FT_TEXTSET) {
        v->text = strdup(t->text);
        if (!v->text)
            return fail(p, -ENOMEM, t->pos, "out of memory");
        return lex(p);
    }
    v->idx = enum_lookup(p->cfg, f->type, t->text);
    if (v->idx == -2) {
        char known[600];
        names_list(p->cfg, f->type, known, sizeof known);
        return fail(p, -EINVAL, t->pos, "unknown %s '%s' (expected one of: %s)",
                    enum_kind_name(f->type), t->text, known);
    }
    return lex(p);
}

static int expect(parser_t *p, tok_kind_t kind, const char *what)
{
    if (p->tok.kind != kind)
        return fail_at_token(p, -EINVAL, what);
    return lex(p);
}

/* '(' value { ',' value } ')' after IN. */
static int parse_list(parser_t *p, node_t *n)
{
    size_t cap = 0;
    if (expect(p, T_LPAREN, "expected '(' after IN"))
        return p->rc;
    for (;;) {
        if (n->nvals == AUDIENCE_MAX_LIST)
            return fail(p, -E2BIG, p->tok.pos, "more than %d values in IN",
                        AUDIENCE_MAX_LIST);
        if (GROW(n->vals, cap, n->nvals + 1) != 0)
            return fail(p, -ENOMEM, p->tok.pos, "out of memory");
        memset(&n->vals[n->nvals], 0, sizeof n->vals[0]);
        n->nvals++; /* counted first so node_free sees a strdup'd text */
        if (parse_value(p, n->field, &n->vals[n->nvals - 1]))
            return p->rc;
        if (p->tok.kind == T_RPAREN)
            return lex(p);
        if (expect(p, T_COMMA, "expected ',' or ')' in IN list"))
            return p->rc;
    }
}

static int parse_operator(parser_t *p, node_t *n)
{
    if (p->tok.kind == T_NOT) {
        if (lex(p))
            return p->rc;
        if (p->tok.kind != T_IN)
            return fail_at_token(p, -EINVAL, "expected IN after NOT");
        n->op = OP_NOT_IN;
    } else if (p->tok.kind == T_IN) {
        n->op = OP_IN;
    } else if (p->tok.kind == T_OP) {
        n->op = p->tok.op;
    } else {
        char what[96];
        snprintf(what, sizeof what, "expected an operator after '%s'",
                 n->field->name);
        return fail_at_token(p, -EINVAL, what);
    }
    if (!op_allowed(n->field, n->op))
        return fail(p, -EINVAL, p->tok.pos,
                    "operator '%s' does not apply to '%s' (use = != IN)",
                    op_text[n->op], n->field->name);
    return lex(p);
}

static node_t *parse_comparison(parser_t *p)
{
    const field_def_t *f = field_find(p->tok.text);
    if (!f) {
        fail(p, -EINVAL, p->tok.pos, "unknown field '%s'", p->tok.text);
        return NULL;
    }
    node_t *n = node_new(p, N_CMP);
    if (!n)
        return NULL;
    n->field = f;
    if (lex(p) || parse_operator(p, n))
        goto fail;
    if (n->op == OP_IN || n->op == OP_NOT_IN) {
        if (parse_list(p, n))
            goto fail;
        return n;
    }
    n->vals = calloc(1, sizeof *n->vals);
    if (!n->vals) {
        fail(p, -ENOMEM, p->tok.pos, "out of memory");
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
        return fail(p, -E2BIG, p->tok.pos, "nesting deeper than %d",
                    AUDIENCE_MAX_DEPTH);
    return 0;
}

static node_t *parse_group(parser_t *p)
{
    size_t open = p->tok.pos;
    if (depth_enter(p) || lex(p))
        return NULL;
    node_t *n = parse_or(p);
    if (!n)
        return NULL;
    if (p->tok.kind != T_RPAREN) {
        char what[64];
        snprintf(what, sizeof what, "expected ')' to close '(' at col %zu",
                 open + 1);
        fail_at_token(p, -EINVAL, what);
        node_free(n);
        return NULL;
    }
    p->depth--;
    if (lex(p)) {
        node_free(n);
        return NULL;
    }
    return n;
}

static node_t *parse_unary(parser_t *p)
{
    if (p->tok.kind == T_NOT) {
        if (depth_enter(p) || lex(p))
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
    fail_at_token(p, -EINVAL, "expected a field, '(' or NOT");
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
        node_t *kid = lex(p) ? NULL : sub(p);
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
    if (lex(p))
        return NULL;
    if (p->tok.kind == T_END) {
        fail(p, -EINVAL, 0, "empty expression");
        return NULL;
    }
    node_t *root = parse_or(p);
    if (root && p->tok.kind != T_END) {
        fail_at_token(p, -EINVAL,
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
        return fail(&p, -EINVAL, 0, "no expression");
    if (cfg && profile_config_invalid(cfg))
        return fail(&p, -EINVAL, 0, "invalid config: %s",
                    profile_config_invalid(cfg));
    p.len = strnlen(expr, AUDIENCE_MAX_EXPR + 1);
    if (p.len > AUDIENCE_MAX_EXPR)
        return fail(&p, -E2BIG, AUDIENCE_MAX_EXPR,
                    "expression longer than %d bytes", AUDIENCE_MAX_EXPR);
    audience_t *a = calloc(1, sizeof *a);
    if (!a)
        return fail(&p, -ENOMEM, 0, "out of memory");
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
        out_printf(o, "%s %s ", n->field->name, op_text[n->op]);
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
