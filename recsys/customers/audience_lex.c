/*
 * audience_lex.c - the tokenizer of the segment expression language and
 * its error messages ("col N: ..."), for the parser in audience.c.
 */
#include "audience_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Records the first error: "col N: message". Returns rc for tail calls. */
int audience_fail(parser_t *p, int rc, size_t pos, const char *fmt, ...)
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

int audience_fail_at_token(parser_t *p, int rc, const char *what)
{
    char found[64];
    tok_describe(p, found, sizeof found);
    return audience_fail(p, rc, p->tok.pos, "%s, found %s", what, found);
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
        return audience_fail(p, -E2BIG, t->pos, "identifier longer than %d bytes",
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
            return audience_fail(p, -E2BIG, t->pos, "string longer than %d bytes",
                        AUDIENCE_MAX_TOKEN);
        t->text[n++] = c;
        i++;
    }
    if (i >= p->len)
        return audience_fail(p, -EINVAL, t->pos, "unterminated string starting %c",
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
        return audience_fail_at_token(p, -EINVAL, "malformed number");
    }
    char buf[80];
    memcpy(buf, s + p->pos, t->len);
    buf[t->len] = '\0';
    t->num = strtod(buf, NULL);
    if (!isfinite(t->num))
        return audience_fail(p, -EINVAL, t->pos, "number out of range");
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
            return audience_fail_at_token(p, -EINVAL, "expected '!='");
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
int audience_lex(parser_t *p)
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
    return audience_fail_at_token(p, -EINVAL, "unexpected character");
}
