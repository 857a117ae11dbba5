/*
 * audience_impl.h - what the parts of the segment expression language share
 * (private to recsys/customers/): the field table's types, the tree, and
 * the lexer's interface to the parser. audience.c parses, audience_lex.c
 * tokenizes, audience_match.c matches rows and prints trees.
 */
#ifndef PATRON_RECSYS_AUDIENCE_IMPL_H
#define PATRON_RECSYS_AUDIENCE_IMPL_H

#include "audience.h"

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
    F_GAP, F_VIEWS, F_CARTS, F_SIGNUP_MONTH, F_BIRTHDAY_MONTH, F_CLV, F_CHURN_P,
    F_TIER, F_STAGE, F_SEGMENT, F_CATEGORY, F_REGION,
} field_id_t;

typedef struct field_def {
    const char *name;
    field_id_t id;
    field_type_t type;
} field_def_t;

/* The stage names in profile_stage_t order. */
#define N_STAGES 6

/* ---- tree ------------------------------------------------------------------------ */

typedef enum node_kind { N_AND, N_OR, N_NOT, N_CMP } node_kind_t;

typedef enum cmp_op {
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOT_IN,
} cmp_op_t;

/* The operators as written, by cmp_op_t. */
extern const char *const audience_op_text[];

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

/* Records the first error, "col N: message", and returns p->rc (the first
 * error's code) for tail calls. */
int audience_fail(parser_t *p, int rc, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* audience_fail at the lookahead token: "<what>, got <token>". */
int audience_fail_at_token(parser_t *p, int rc, const char *what);

/* Reads the next token into p->tok; 0, or the error recorded. */
int audience_lex(parser_t *p);

#endif
