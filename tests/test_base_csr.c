/*
 * test_base_csr.c - compressed sparse rows (base/csr.h): building from
 * triplets sums duplicates in input order and drops non-positive sums,
 * transposing twice gives the matrix back, malformed input is refused.
 */
#include "testutil.h"

#include <errno.h>
#include <math.h>

#include "csr.h"

static void test_from_triplets(void)
{
    /* 3 x 4; (0,2) twice, (1,1) summing to 0 (dropped), row 2 empty */
    uint32_t r[] = { 1, 0, 0, 1, 0, 1 };
    uint32_t c[] = { 3, 2, 0, 1, 2, 1 };
    float v[] = { 4.0f, 1.5f, 2.0f, 1.0f, 0.5f, -1.0f };
    csr_t m = { 0 };
    CHECK_EQ_INT(csr_from_triplets(3, 4, 6, r, c, v, &m), 0);
    CHECK(m.n_rows == 3 && m.n_cols == 4);
    CHECK(m.indptr[0] == 0 && m.indptr[1] == 2 && m.indptr[2] == 3 && m.indptr[3] == 3);
    CHECK(m.indices[0] == 0 && m.values[0] == 2.0f);
    CHECK(m.indices[1] == 2 && m.values[1] == 2.0f);   /* 1.5 + 0.5 */
    CHECK(m.indices[2] == 3 && m.values[2] == 4.0f);
    CHECK(csr_valid(&m));
    uint32_t *cc = csr_column_counts(&m);
    CHECK(cc && cc[0] == 1 && cc[1] == 0 && cc[2] == 1 && cc[3] == 1);
    free(cc);

    csr_t t = { 0 }, back = { 0 };
    CHECK_EQ_INT(csr_transpose(&m, &t), 0);
    CHECK(t.n_rows == 4 && t.n_cols == 3 && t.indptr[4] == 3);
    CHECK(t.indptr[2] - t.indptr[1] == 0);               /* column 1 emptied */
    CHECK(t.indices[t.indptr[3]] == 1 && t.values[t.indptr[3]] == 4.0f);
    CHECK(csr_valid(&t));
    CHECK_EQ_INT(csr_transpose(&t, &back), 0);
    CHECK(back.indptr[3] == m.indptr[3] &&
          memcmp(back.indptr, m.indptr, 4 * sizeof *m.indptr) == 0 &&
          memcmp(back.indices, m.indices, 3 * sizeof *m.indices) == 0 &&
          memcmp(back.values, m.values, 3 * sizeof *m.values) == 0);
    csr_free(&m);
    csr_free(&t);
    csr_free(&back);
    CHECK(m.indptr == NULL);
    csr_free(NULL);
}

static void test_refusals(void)
{
    uint32_t r[] = { 0, 2 }, c[] = { 0, 0 };
    float v[] = { 1.0f, 1.0f }, nan_v[] = { 1.0f, NAN };
    csr_t m = { 0 };
    CHECK_EQ_INT(csr_from_triplets(2, 1, 2, r, c, v, &m), -EINVAL);  /* row 2 of 2 */
    uint32_t r_ok[] = { 0, 1 };
    CHECK_EQ_INT(csr_from_triplets(2, 1, 2, r_ok, c, nan_v, &m), -EINVAL);
    CHECK_EQ_INT(csr_from_triplets(2, 1, 2, NULL, c, v, &m), -EINVAL);
    CHECK_EQ_INT(csr_transpose(NULL, &m), -EINVAL);
    /* empty matrices are fine */
    CHECK_EQ_INT(csr_from_triplets(0, 0, 0, NULL, NULL, NULL, &m), 0);
    CHECK(csr_valid(&m) && m.indptr[0] == 0);
    csr_free(&m);

    /* csr_valid: unsorted columns, negative values, out of range */
    uint64_t ip[] = { 0, 2 };
    uint32_t idx[] = { 1, 0 };
    float val[] = { 1.0f, 1.0f };
    csr_t bad = { 1, 2, ip, idx, val };
    CHECK(!csr_valid(&bad));
    idx[0] = 0, idx[1] = 1, val[1] = -1.0f;
    CHECK(!csr_valid(&bad));
    val[1] = 1.0f, idx[1] = 2;
    CHECK(!csr_valid(&bad));
    idx[1] = 1;
    CHECK(csr_valid(&bad));
    CHECK(!csr_valid(NULL));
}

int main(void)
{
    test_from_triplets();
    test_refusals();
    return test_failures ? 1 : 0;
}
