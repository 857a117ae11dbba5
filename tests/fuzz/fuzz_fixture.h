/*
 * fuzz_fixture.h - the store the handler driver serves from: a small shop
 * (the integration tests' ids: categories books, garden, kitchen, toys with
 * items "books-00".."toys-14", customers "cust-00".."cust-39"), its
 * purchases and views, a trained model (version 1), three coupons (one
 * granted to "dora"), customer attributes and a two-arm experiment
 * "blend-test" forcing one customer (in its own layer, "fuzz", so the
 * integration tests' experiments seeded in layer "default" can be created
 * beside it): ids the seeds use, so requests reach the code past "unknown
 * customer", "no such experiment" and "no model".
 */
#ifndef PATRON_TESTS_FUZZ_FIXTURE_H
#define PATRON_TESTS_FUZZ_FIXTURE_H

/* Builds the store in the empty directory dir (and closes it). Returns 0,
 * or a negative errno with a message on stderr. */
int fuzz_fixture_build(const char *dir);

#endif
