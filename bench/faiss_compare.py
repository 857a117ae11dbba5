#!/usr/bin/python3
"""faiss_compare.py - FAISS (Debian python3-faiss) on the vectors bench_index
wrote, printed in bench_index's units so the two runs sit side by side.

    bench_index -o /tmp/patron_vec           # writes /tmp/patron_vec_<catalog>.bin
    python3 bench/faiss_compare.py /tmp/patron_vec_factors.bin [...]

File layout (little endian): uint32 n, dim, nq, k; float32 items (n x dim);
float32 queries (nq x dim); uint32 exact top-k ids (nq x k, from Patron's exact
search, which equals topk_mips). One thread, one query at a time (the way the
service calls it), and one batched call for IndexFlatIP. Recall@k is against
the exact ids in the file.
"""
import sys
import time

import numpy as np
import faiss


def load(path):
    with open(path, "rb") as f:
        n, dim, nq, k = np.frombuffer(f.read(16), dtype=np.uint32)
        items = np.frombuffer(f.read(4 * n * dim), dtype=np.float32).reshape(n, dim)
        queries = np.frombuffer(f.read(4 * nq * dim), dtype=np.float32).reshape(nq, dim)
        exact = np.frombuffer(f.read(4 * nq * k), dtype=np.uint32).reshape(nq, k)
    return items, queries, exact, int(k)


def recall(ids, exact):
    hit = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(ids, exact))
    return hit / exact.size


def one_by_one(index, queries, k):
    ids = np.empty((len(queries), k), dtype=np.int64)
    t0 = time.perf_counter()
    for i in range(len(queries)):
        _, ids[i] = index.search(queries[i:i + 1], k)
    return (time.perf_counter() - t0) * 1e3 / len(queries), ids


def row(name, ms, extra):
    print(f"  faiss {name:<16} {ms:9.3f} ms/q {1e3 / ms:9.1f} QPS  {extra}")


def main(paths):
    faiss.omp_set_num_threads(1)
    for path in paths:
        items, queries, exact, k = load(path)
        n, dim = items.shape
        print(f"{path}: {n} x {dim}, {len(queries)} queries, k={k}, faiss {faiss.__version__}")
        flat = faiss.IndexFlatIP(dim)
        flat.add(items)
        ms, ids = one_by_one(flat, queries, k)
        row("IndexFlatIP", ms, f"recall@{k} {recall(ids, exact):.3f}")
        t0 = time.perf_counter()
        _, ids = flat.search(queries, k)
        ms = (time.perf_counter() - t0) * 1e3 / len(queries)
        row("IndexFlatIP batch", ms, f"recall@{k} {recall(ids, exact):.3f}")

        nlist = int(np.sqrt(n))
        faiss.omp_set_num_threads(2)
        quant = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quant, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        t0 = time.perf_counter()
        rng = np.random.default_rng(0)
        ivf.train(items[rng.choice(n, min(n, 64 * nlist), replace=False)])
        ivf.add(items)
        print(f"  faiss IVFFlat build {time.perf_counter() - t0:.2f} s (2 threads), nlist {nlist}")
        faiss.omp_set_num_threads(1)
        for nprobe in (4, 8, 16, 32, 64, 128):
            ivf.nprobe = nprobe
            ms, ids = one_by_one(ivf, queries, k)
            row(f"IVFFlat/{nprobe}", ms, f"recall@{k} {recall(ids, exact):.3f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
