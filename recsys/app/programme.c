/*
 * programme.c - programme snapshots and their slot (programme.h), the same
 * pattern as the model's (model.h): immutable once built, swapped under a
 * short mutex, freed by the last reference.
 */
#include "programme.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int programme_new(const settings_t *s, const char *text, size_t len, uint64_t version,
                  int64_t set_ms, const char *set_by, uint64_t rollback_of,
                  programme_t **out)
{
    programme_t *p = calloc(1, sizeof *p);

    *out = NULL;
    if (!p || !(p->text = malloc(len + 1))) {
        free(p);
        return -ENOMEM;
    }
    memcpy(p->text, text, len);
    p->text[len] = '\0';
    p->len = len;
    p->settings = *s;
    p->version = version;
    p->set_ms = set_ms;
    p->rollback_of = rollback_of;
    snprintf(p->set_by, sizeof p->set_by, "%s", set_by ? set_by : "");
    atomic_init(&p->refs, 1);
    *out = p;
    return 0;
}

programme_t *programme_ref(programme_t *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void programme_unref(programme_t *p)
{
    if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(p->text);
    free(p);
}

programme_t *programme_of_profile(const profile_config_t *cfg)
{
    return (programme_t *)(void *)((char *)(uintptr_t)cfg -
                                   offsetof(programme_t, settings.profile));
}

void programme_slot_init(programme_slot_t *slot)
{
    pthread_mutex_init(&slot->mu, NULL);
    slot->cur = NULL;
}

void programme_slot_destroy(programme_slot_t *slot)
{
    programme_unref(slot->cur);
    slot->cur = NULL;
    pthread_mutex_destroy(&slot->mu);
}

programme_t *programme_slot_get(programme_slot_t *slot)
{
    programme_t *p;
    pthread_mutex_lock(&slot->mu);
    p = slot->cur ? programme_ref(slot->cur) : NULL;
    pthread_mutex_unlock(&slot->mu);
    return p;
}

void programme_slot_set(programme_slot_t *slot, programme_t *p)
{
    programme_t *old;
    pthread_mutex_lock(&slot->mu);
    old = slot->cur;
    slot->cur = p;
    pthread_mutex_unlock(&slot->mu);
    programme_unref(old);
}
