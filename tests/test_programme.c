/*
 * test_programme.c - the programme's versions (recsys/app/programme_store.c)
 * and snapshots (programme.c): compare-and-set refuses a stale version and
 * writes nothing, versions are numbered without gaps and listed newest
 * first in pages, a rollback names what it restores, everything survives
 * closing and reopening the store, a text is parsed exactly as the
 * settings file is (errors name the line), and snapshots pinned by readers
 * stay whole and valid while a writer swaps new ones in.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "programme_store.h"
#include "testutil.h"

static programme_write_t text_of(const char *text, const char *by)
{
    return (programme_write_t){ .text = text, .len = strlen(text), .now_ms = 1000,
                                .set_by = by };
}

static int collect(void *ctx, const programme_version_t *v)
{
    uint64_t *seen = ctx;
    CHECK(v->text == NULL);
    seen[seen[0] + 1] = v->version;
    seen[0]++;
    return 0;
}

static void test_cas_and_history(const char *dir)
{
    store_t *s = NULL;
    programme_version_t v;
    programme_write_t w;
    uint64_t head = 99, ver = 0, next = 0, seen[8] = { 0 };

    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    CHECK_EQ_INT(programme_store_head(s, &head), 0);
    CHECK(head == 0);
    CHECK_EQ_INT(programme_store_get(s, 1, &v), -ENOENT);

    w = text_of("tier = a 0 0 0\n", "admin");
    CHECK_EQ_INT(programme_store_put(s, 0, &w, &ver), 0);
    CHECK(ver == 1);
    /* A second writer that read version 0 too is stale: nothing written. */
    w = text_of("tier = b 0 0 0\n", "other");
    CHECK_EQ_INT(programme_store_put(s, 0, &w, &ver), -ESTALE);
    CHECK(ver == 1);
    CHECK_EQ_INT(programme_store_head(s, &head), 0);
    CHECK(head == 1);
    CHECK_EQ_INT(programme_store_put(s, 1, &w, &ver), 0);
    CHECK(ver == 2);
    /* A rollback: version 1's text again, as version 3. */
    CHECK_EQ_INT(programme_store_get(s, 1, &v), 0);
    w = text_of(v.text, "admin");
    w.rollback_of = 1;
    w.now_ms = 3000;
    CHECK_EQ_INT(programme_store_put(s, 2, &w, &ver), 0);
    CHECK(ver == 3);
    /* Refused: a future rollback, a NUL in the text. */
    w.rollback_of = 9;
    CHECK_EQ_INT(programme_store_put(s, 3, &w, &ver), -EINVAL);
    programme_version_clear(&v); /* w.text pointed into it */
    w = (programme_write_t){ .text = "a\0b", .len = 3 };
    CHECK_EQ_INT(programme_store_put(s, 3, &w, &ver), -EINVAL);

    /* Pages of two, newest first. */
    CHECK_EQ_INT(programme_store_list(s, 0, 2, collect, seen, &next), 0);
    CHECK(seen[0] == 2 && seen[1] == 3 && seen[2] == 2 && next == 1);
    CHECK_EQ_INT(programme_store_list(s, next, 2, collect, seen, &next), 0);
    CHECK(seen[0] == 3 && seen[3] == 1 && next == 0);
    store_close(s);

    /* Durable: reopened, every version is there as written. */
    CHECK_EQ_INT(store_open(dir, 64u << 20, &s), 0);
    CHECK_EQ_INT(programme_store_head(s, &head), 0);
    CHECK(head == 3);
    CHECK_EQ_INT(programme_store_get(s, 3, &v), 0);
    CHECK_STREQ(v.text, "tier = a 0 0 0\n");
    CHECK(v.version == 3 && v.rollback_of == 1 && v.set_ms == 3000 && v.len == 15);
    CHECK_STREQ(v.set_by, "admin");
    programme_version_clear(&v);
    CHECK_EQ_INT(programme_store_get(s, 2, &v), 0);
    CHECK_STREQ(v.text, "tier = b 0 0 0\n");
    CHECK_STREQ(v.set_by, "other");
    CHECK(v.rollback_of == 0);
    programme_version_clear(&v);
    CHECK_EQ_INT(programme_store_get(s, 4, &v), -ENOENT);
    store_close(s);
}

static void test_parse(const char *dir)
{
    settings_t st;
    profile_config_t file_pc;
    coupon_config_t file_cc;
    char err[512];
    const char *text = "tier = basic 0 0 0\n"
                       "tier = vip 500 3 0\n"
                       "coupon_weekly_cap = 1\n"
                       "points_per_unit = 2\n";

    /* The same text as a file and as a programme: the same settings. */
    CHECK_EQ_INT(settings_load(test_write_file(dir, "p.conf", text), &file_pc, &file_cc, err,
                               sizeof err), 0);
    CHECK_EQ_INT(settings_parse("programme", text, strlen(text), &st, err, sizeof err), 0);
    CHECK(memcmp(&st.profile, &file_pc, sizeof file_pc) == 0);
    CHECK(memcmp(&st.coupon, &file_cc, sizeof file_cc) == 0);
    CHECK(st.profile.n_tiers == 2 && st.profile.tiers[1].min_spend == 500);

    /* An error names the line. */
    text = "tier = basic 0 0 0\n\n# note\ntier = vip lots\n";
    CHECK_EQ_INT(settings_parse("programme", text, strlen(text), &st, err, sizeof err),
                 -EINVAL);
    CHECK(strstr(err, "programme:4: tier:") != NULL);
    text = "coupon_holdout_rate = 2\n";
    CHECK_EQ_INT(settings_parse("programme", text, strlen(text), &st, err, sizeof err),
                 -EINVAL);
    CHECK(strstr(err, "programme:1: coupon_holdout_rate") != NULL);
    CHECK_EQ_INT(settings_parse("programme", "a\0b", 3, &st, err, sizeof err), -EINVAL);
    /* Empty: the defaults. */
    CHECK_EQ_INT(settings_parse("programme", "", 0, &st, err, sizeof err), 0);
    CHECK(st.profile.n_tiers == 4);
}

static void test_snapshot(void)
{
    settings_t st;
    programme_slot_t slot;
    programme_t *p, *pinned;
    char err[256];

    CHECK_EQ_INT(settings_parse("p", "", 0, &st, err, sizeof err), 0);
    programme_slot_init(&slot);
    CHECK(programme_slot_get(&slot) == NULL);
    CHECK_EQ_INT(programme_new(&st, "x", 1, 1, 5, "me", 0, &p), 0);
    programme_slot_set(&slot, p);
    pinned = programme_slot_get(&slot);
    CHECK(pinned == p && programme_of_profile(&pinned->settings.profile) == p);
    st.profile.tier_window_days = 7;
    CHECK_EQ_INT(programme_new(&st, "y", 1, 2, 6, NULL, 0, &p), 0);
    programme_slot_set(&slot, p);
    /* The pinned one is unchanged and still readable after the swap. */
    CHECK(pinned->version == 1 && strcmp(pinned->text, "x") == 0);
    CHECK(pinned->settings.profile.tier_window_days != 7);
    programme_unref(pinned);
    pinned = programme_slot_get(&slot);
    CHECK(pinned->version == 2 && pinned->settings.profile.tier_window_days == 7);
    CHECK_STREQ(pinned->set_by, "");
    programme_unref(pinned);
    programme_slot_destroy(&slot);
}

/* Readers pinning while a writer swaps: every pinned snapshot is whole
 * (its settings are the ones of its version) and stays valid until
 * unpinned; under ASan a use after the last unref would fail the test. */
typedef struct race {
    programme_slot_t *slot;
    atomic_int stop;
    atomic_int bad;
} race_t;

static void *reader(void *arg)
{
    race_t *r = arg;
    while (!atomic_load(&r->stop)) {
        programme_t *p = programme_slot_get(r->slot);
        if (p->settings.profile.tier_window_days != 100 + p->version ||
            p->len != 1 || p->text[0] != (char)('a' + p->version % 26))
            atomic_fetch_add(&r->bad, 1);
        programme_unref(p);
    }
    return NULL;
}

static int swap_version(programme_slot_t *slot, settings_t *st, uint64_t v)
{
    char text = (char)('a' + v % 26);
    programme_t *p;
    st->profile.tier_window_days = (uint32_t)(100 + v);
    if (programme_new(st, &text, 1, v, 0, NULL, 0, &p) != 0)
        return -1;
    programme_slot_set(slot, p);
    return 0;
}

static void test_swaps_under_readers(void)
{
    settings_t st;
    programme_slot_t slot;
    race_t r = { .slot = &slot };
    pthread_t th[2];
    char err[256];

    CHECK_EQ_INT(settings_parse("p", "", 0, &st, err, sizeof err), 0);
    programme_slot_init(&slot);
    CHECK_EQ_INT(swap_version(&slot, &st, 0), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ_INT(pthread_create(&th[i], NULL, reader, &r), 0);
    for (uint64_t v = 1; v <= 2000; v++)
        CHECK_EQ_INT(swap_version(&slot, &st, v), 0);
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ_INT(atomic_load(&r.bad), 0);
    programme_slot_destroy(&slot);
}

int main(void)
{
    test_cas_and_history(test_tmpdir("programme"));
    test_parse(test_tmpdir("programme-parse"));
    test_snapshot();
    test_swaps_under_readers();
    TEST_MAIN_END();
}
