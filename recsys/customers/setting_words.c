/* setting_words.c - the words of a settings value (setting_words.h). */
#include "setting_words.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *words_split(const char *s, words_t *t)
{
    char *w = t->buf, *end = t->buf + sizeof t->buf - 1;
    t->n = 0;
    while (*s) {
        if (*s == ' ' || *s == '\t') {
            s++;
            continue;
        }
        if (t->n == WORDS_MAX)
            return "too many words";
        t->tok[t->n++] = w;
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++)
                if (w < end)
                    *w++ = *s;
            if (*s != '"')
                return "unterminated \"";
            s++;
        } else {
            for (; *s && *s != ' ' && *s != '\t'; s++)
                if (w < end)
                    *w++ = *s;
        }
        if (w >= end)
            return "line too long";
        *w++ = '\0';
    }
    return NULL;
}

int words_number(const char *s, double lo, double hi, int whole, double *out)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || *e || !isfinite(v) || v < lo || v > hi || (whole && v != floor(v)))
        return -1;
    *out = v;
    return 0;
}

int words_name_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap)
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || *s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
              (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return 0;
    return 1;
}
