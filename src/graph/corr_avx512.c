/* The correlation builder's per-tick kernels for AVX-512 (x86-64 only):
 * the fused rho / candidate pass and the top-k selection, with the same
 * results, bit for bit, as the portable C in corr.c (same operations in
 * the same order, no fused multiply-add). Compiled for AVX-512 by a target
 * attribute, called only where the CPU has it (choose_kernels in corr.c). */
#include "corr_state.h"

#ifdef GK_CORR_HAVE_AVX512

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define GK_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

/* Lanes [0, len) of 16, len >= 0. */
GK_AVX512 static __mmask16 first_lanes(size_t len) {
    return len >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << len) - 1u);
}

/* The pending push's update of 8 values of row i of C (gk_corr_slide_row,
 * operation for operation): x + (a_i a_j - b_i b_j), stored back. */
GK_AVX512 static __m512d slide8(double *row, const double *a, const double *b, __m512d ai,
                                __m512d bi, __mmask8 live) {
    __m512d x = _mm512_maskz_loadu_pd(live, row);
    __m512d d = _mm512_sub_pd(_mm512_mul_pd(ai, _mm512_maskz_loadu_pd(live, a)),
                              _mm512_mul_pd(bi, _mm512_maskz_loadu_pd(live, b)));
    x = _mm512_add_pd(x, d);
    _mm512_mask_storeu_pd(row, live, x);
    return x;
}

/* 16 rho_ij (j = j0..j0+15, lanes past `live` 0) as pair_rho computes them:
 * float((C_ij - s_i S_j) d_i w_j), clamped to [-1, 1], NaN kept; C_ij from
 * x0, x1. */
GK_AVX512 static __m512 rho16(__m512d x0, __m512d x1, const double *sum, const double *w,
                              __m512d si, __m512d di, __mmask16 live) {
    const __m512 one = _mm512_set1_ps(1.0f), minus_one = _mm512_set1_ps(-1.0f);
    __mmask8 lo = (__mmask8)live, hi = (__mmask8)(live >> 8);
    __m512d s0 = _mm512_maskz_loadu_pd(lo, sum), s1 = _mm512_maskz_loadu_pd(hi, sum + 8);
    __m512d w0 = _mm512_maskz_loadu_pd(lo, w), w1 = _mm512_maskz_loadu_pd(hi, w + 8);
    __m512d v0 = _mm512_mul_pd(_mm512_mul_pd(_mm512_sub_pd(x0, _mm512_mul_pd(si, s0)), di), w0);
    __m512d v1 = _mm512_mul_pd(_mm512_mul_pd(_mm512_sub_pd(x1, _mm512_mul_pd(si, s1)), di), w1);
    __m512 v = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(v0)),
                                  _mm512_cvtpd_ps(v1), 1);
    /* min/max return their second operand when either is NaN: NaN stays */
    return _mm512_max_ps(minus_one, _mm512_min_ps(one, v));
}

/* The lanes of `mask` of j and r to the end of a row buffer (which has 16
 * slots of room): no branch, whatever the mask. */
GK_AVX512 static size_t gather_lanes(int32_t *buf_j, float *buf_r, size_t at, __mmask16 mask,
                                     __m512i j, __m512 r) {
    _mm512_storeu_si512(buf_j + at, _mm512_maskz_compress_epi32(mask, j));
    _mm512_storeu_ps(buf_r + at, _mm512_maskz_compress_ps(mask, r));
    return at + (size_t)__builtin_popcount(mask);
}

/* fused_rows of corr.c. A row's passes are gathered without a branch into
 * two buffers, its own candidates and those it offers to the rows j below;
 * the lists are written once per row. */
GK_AVX512 void gk_corr_fused_rows_avx512(gk_corr *c, int worker, size_t first, size_t last) {
    enum { BLOCK = 16, STRIDE = GK_CORR_CAP + 1 };
    size_t n = c->n;
    double inv_n = 1.0 / (double)c->count;
    int32_t *cnt = c->cand_n + (size_t)worker * n;
    int32_t *cj = c->cand_j + (size_t)worker * n * STRIDE;
    float *cr = c->cand_r + (size_t)worker * n * STRIDE;
    int32_t *own_j = c->scan_j + (size_t)worker * 2 * (n + 16), *out_j = own_j + n + 16;
    float *own_r = c->scan_r + (size_t)worker * 2 * (n + 16), *out_r = own_r + n + 16;
    const double *sum = c->sum, *w = c->w;
    const float *cut = c->cut;
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    memset(cnt, 0, n * sizeof *cnt);
    const double *pa = c->pending, *pb = c->dropped;
    for (size_t i = first; i < last; i++) {
        if (!(c->inv_sd[i] > 0.0)) {  /* invalid: no pair at all */
            if (pa) gk_corr_slide_row(c, i);
            continue;
        }
        /* the pending update block by block, its loads and stores
         * overlapping the arithmetic below */
        const __m512d ai = _mm512_set1_pd(pa ? pa[i] : 0.0), bi = _mm512_set1_pd(pa ? pb[i] : 0.0);
        __m512d si = _mm512_set1_pd(sum[i] * inv_n), di = _mm512_set1_pd(c->inv_sd[i]);
        __m512 ci = _mm512_set1_ps(cut[i]);
        double *row = c->cross + i * n;
        size_t owns = 0, offers = 0;
        for (size_t j0 = i + 1; j0 < n; j0 += BLOCK) {
            __mmask16 live = first_lanes(n - j0);
            __mmask8 lo = (__mmask8)live, hi = (__mmask8)(live >> 8);
            __m512d x0, x1;
            if (pa) {
                x0 = slide8(row + j0, pa + j0, pb + j0, ai, bi, lo);
                x1 = slide8(row + j0 + 8, pa + j0 + 8, pb + j0 + 8, ai, bi, hi);
            } else {
                x0 = _mm512_maskz_loadu_pd(lo, row + j0);
                x1 = _mm512_maskz_loadu_pd(hi, row + j0 + 8);
            }
            __m512 r = rho16(x0, x1, sum + j0, w + j0, si, di, live);
            __m512 a = _mm512_abs_ps(r);
            __mmask16 to_i = _mm512_mask_cmp_ps_mask(live, a, ci, _CMP_GE_OQ);  /* NaN: no */
            __mmask16 to_j = _mm512_mask_cmp_ps_mask(live, a, _mm512_maskz_loadu_ps(live, cut + j0),
                                                     _CMP_GE_OQ);
            __m512i vj = _mm512_add_epi32(iota, _mm512_set1_epi32((int32_t)j0));
            owns = gather_lanes(own_j, own_r, owns, to_i, vj, r);
            offers = gather_lanes(out_j, out_r, offers, to_j, vj, r);
        }
        /* after the offers of rows < i, ascending; past CAP only the count
         * matters (the row is recomputed in full) */
        int32_t mine = cnt[i];
        if ((size_t)mine + owns <= GK_CORR_CAP)  /* masked copies: memcpy's calls cost more */
            for (size_t q = 0; q < owns; q += 16) {
                const __mmask16 live = first_lanes(owns - q);
                _mm512_mask_storeu_epi32(cj + i * STRIDE + (size_t)mine + q, live,
                                         _mm512_maskz_loadu_epi32(live, own_j + q));
                _mm512_mask_storeu_ps(cr + i * STRIDE + (size_t)mine + q, live,
                                      _mm512_maskz_loadu_ps(live, own_r + q));
            }
        cnt[i] = mine + (int32_t)owns;
        for (size_t q = 0; q < offers; q++) {
            size_t j = (size_t)out_j[q];
            int32_t at = cnt[j]++;
            size_t slot = at < GK_CORR_CAP ? (size_t)at : GK_CORR_CAP;
            cj[j * STRIDE + slot] = (int32_t)i;
            cr[j * STRIDE + slot] = out_r[q];
        }
    }
}

/* ---- selection over a[], |rho| padded with -1 to 16-lane vectors ---------- */

GK_AVX512 static size_t count_at_least(const float *a, size_t vectors, __m512 t) {
    size_t got = 0;
    for (size_t v = 0; v < vectors; v++)
        got += (size_t)__builtin_popcount(_mm512_cmp_ps_mask(_mm512_loadu_ps(a + 16 * v), t, _CMP_GE_OQ));
    return got;
}

GK_AVX512 static size_t count_equal(const float *a, size_t vectors, __m512 t) {
    size_t got = 0;
    for (size_t v = 0; v < vectors; v++)
        got += (size_t)__builtin_popcount(_mm512_cmp_ps_mask(_mm512_loadu_ps(a + 16 * v), t, _CMP_EQ_OQ));
    return got;
}

/* Smallest a >= t, INFINITY if none. */
GK_AVX512 static float min_at_least(const float *a, size_t vectors, __m512 t) {
    __m512 low = _mm512_set1_ps(INFINITY);
    for (size_t v = 0; v < vectors; v++) {
        __m512 x = _mm512_loadu_ps(a + 16 * v);
        low = _mm512_mask_min_ps(low, _mm512_cmp_ps_mask(x, t, _CMP_GE_OQ), x, low);
    }
    return _mm512_reduce_min_ps(low);
}

/* Largest a < t, -1 if none (the pads are -1). */
GK_AVX512 static float max_below(const float *a, size_t vectors, __m512 t) {
    __m512 high = _mm512_set1_ps(-1.0f);
    for (size_t v = 0; v < vectors; v++) {
        __m512 x = _mm512_loadu_ps(a + 16 * v);
        high = _mm512_mask_max_ps(high, _mm512_cmp_ps_mask(x, t, _CMP_LT_OQ), x, high);
    }
    return _mm512_reduce_max_ps(high);
}

/* select_split of corr.c, vector for vector: the same walk, the same
 * result. */
GK_AVX512 size_t gk_corr_select_split_avx512(const int32_t *j, const float *r, float *a,
                                             size_t m, size_t k, float split, int32_t *out_j,
                                             float *out_r, float *kth, float *next) {
    size_t vectors = (m + 15) / 16;
    for (size_t v = 0; v < vectors; v++) {
        __mmask16 live = first_lanes(m - 16 * v);
        __m512 x = _mm512_abs_ps(_mm512_maskz_loadu_ps(live, r + 16 * v));
        _mm512_storeu_ps(a + 16 * v, _mm512_mask_blend_ps(live, _mm512_set1_ps(-1.0f), x));
    }
    *kth = *next = -1.0f;
    if (m <= k) {
        memcpy(out_j, j, m * sizeof *j);
        memcpy(out_r, r, m * sizeof *r);
        if (m == k) *kth = min_at_least(a, vectors, _mm512_set1_ps(-0.5f));
        return m;
    }
    if (!(split < INFINITY)) return GK_CORR_UNDECIDED;
    float t = split;
    size_t above = count_at_least(a, vectors, _mm512_set1_ps(t));
    for (int steps = 0; above != k && steps < 8; steps++) {
        if (above > k) {
            float low = min_at_least(a, vectors, _mm512_set1_ps(t));
            size_t at_low = count_equal(a, vectors, _mm512_set1_ps(low));
            if (above - at_low < k) break;
            t = nextafterf(low, INFINITY);
            above -= at_low;
        } else {
            float high = max_below(a, vectors, _mm512_set1_ps(t));
            size_t at_high = count_equal(a, vectors, _mm512_set1_ps(high));
            if (above + at_high > k) break;
            t = high;
            above += at_high;
        }
    }
    if (above != k) return GK_CORR_UNDECIDED;
    __m512 vt = _mm512_set1_ps(t);
    size_t kept = 0;
    for (size_t v = 0; v < vectors; v++) {  /* in order: the picks stay in j order */
        __mmask16 live = first_lanes(m - 16 * v);
        __mmask16 pick = _mm512_mask_cmp_ps_mask(live, _mm512_loadu_ps(a + 16 * v), vt, _CMP_GE_OQ);
        __m512i jv = _mm512_maskz_loadu_epi32(live, j + 16 * v);
        __m512 rv = _mm512_maskz_loadu_ps(live, r + 16 * v);
        size_t got = (size_t)__builtin_popcount(pick);
        __mmask16 dense = first_lanes(got);
        _mm512_mask_storeu_epi32(out_j + kept, dense, _mm512_maskz_compress_epi32(pick, jv));
        _mm512_mask_storeu_ps(out_r + kept, dense, _mm512_maskz_compress_ps(pick, rv));
        kept += got;
    }
    *kth = min_at_least(a, vectors, vt);
    *next = max_below(a, vectors, vt);
    return kept;
}

/* Whether row i picked j, for the lanes kth cannot decide (below): 16 of
 * its picks per compare (a scalar scan cost a misprediction each). */
GK_AVX512 static int row_picked(const gk_corr *c, size_t i, int32_t j) {
    const int32_t *pi = c->pick_j + i * PICK_STRIDE;
    const size_t m = (size_t)c->pick_n[i];
    __mmask16 hit = 0;
    for (size_t p = 0; p < m; p += 16) {
        const __mmask16 live = first_lanes(m - p);
        hit |= _mm512_mask_cmpeq_epi32_mask(live, _mm512_maskz_loadu_epi32(live, pi + p),
                                            _mm512_set1_epi32(j));
    }
    return hit != 0;
}

/* R(i) less picks(i), for every i, from the one-sided picks alone. A pick
 * j -> i with |rho| above kth[i] (the k-th best |rho| of row i, this
 * build's; set when row i picked k) is mutual, one below it is one-sided:
 * i's picks are its k largest. Only ties and rows of fewer than k picks
 * look through i's picks. The one-sided picks (14 % of a top-16 N = 100
 * build's, 32 % at N = 1000) are listed in row order, then counted and
 * placed by target: rev_first[i] ends R(i) less picks(i) in rev. */
GK_AVX512 static void one_sided_lists(gk_corr *c) {
    const size_t n = c->n;
    int32_t *one_t = c->one_target, *one_s = c->one_source;
    float *one_r = c->one_rho;
    size_t ones = 0;
    for (size_t j = 0; j < n; j++) {
        const int32_t *pj = c->pick_j + j * PICK_STRIDE;
        const float *pr = c->pick_r + j * PICK_STRIDE;
        const size_t m = (size_t)c->pick_n[j];
        for (size_t p = 0; p < m; p += 16) {
            const __mmask16 live = first_lanes(m - p);
            const __m512i vi = _mm512_maskz_loadu_epi32(live, pj + p);
            const __m512 vr = _mm512_maskz_loadu_ps(live, pr + p);
            const __m512 kth = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, vi, c->kth, 4);
            const __m512 a = _mm512_abs_ps(vr);
            const __mmask16 full = _mm512_mask_cmp_ps_mask(live, kth, _mm512_setzero_ps(), _CMP_GE_OQ);
            __mmask16 one = _mm512_mask_cmp_ps_mask(full, a, kth, _CMP_LT_OQ);
            __mmask16 unsure = live & (__mmask16)~(one | _mm512_mask_cmp_ps_mask(full, a, kth, _CMP_GT_OQ));
            while (unsure) {  /* a tie with kth, or fewer than k picks */
                const int q = __builtin_ctz(unsure);
                unsure &= (__mmask16)(unsure - 1);
                if (!row_picked(c, (size_t)pj[p + (size_t)q], (int32_t)j)) one |= (__mmask16)(1u << q);
            }
            const __mmask16 dense = first_lanes((size_t)__builtin_popcount(one));
            _mm512_mask_storeu_epi32(one_t + ones, dense, _mm512_maskz_compress_epi32(one, vi));
            _mm512_mask_storeu_epi32(one_s + ones, dense, _mm512_set1_epi32((int32_t)j));
            _mm512_mask_storeu_ps(one_r + ones, dense, _mm512_maskz_compress_ps(one, vr));
            ones += (size_t)__builtin_popcount(one);
        }
    }
    int32_t *first = c->rev_first;
    gk_corr_rev *rev = c->rev;
    memset(first, 0, (n + 1) * sizeof *first);
    for (size_t q = 0; q < ones; q++) first[one_t[q] + 1]++;
    for (size_t i = 0; i < n; i++) first[i + 1] += first[i];
    for (size_t q = 0; q < ones; q++) {  /* sources ascending: lists ascending */
        const gk_corr_rev entry = {one_s[q], one_r[q]};
        uint64_t bits;  /* one 8-byte store */
        memcpy(&bits, &entry, sizeof bits);
        memcpy(&rev[first[one_t[q]]++], &bits, sizeof bits);
    }
}

/* assemble of corr.c: the same edges in the same order and layout. Row i
 * is its picks, then (symmetric) R(i) less picks(i) as one_sided_lists
 * leaves it, split into sources and rhos 16 entries at a time. */
GK_AVX512 size_t gk_corr_assemble_avx512(gk_corr *c, int symmetric) {
    const size_t n = c->n;
    int32_t *src = c->edges, *row_end = c->row_end;
    float *attr = c->attr;
    const int32_t *first = c->rev_first;
    const gk_corr_rev *rev = c->rev;
    /* the entries' rows (even 32-bit lanes) and rhos (odd) of two vectors */
    const __m512i rows_of = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i rhos_of = _mm512_add_epi32(rows_of, _mm512_set1_epi32(1));
    if (symmetric) one_sided_lists(c);
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        const int32_t *pj = c->pick_j + i * PICK_STRIDE;
        const float *pr = c->pick_r + i * PICK_STRIDE;
        const size_t m = (size_t)c->pick_n[i];
        for (size_t p = 0; p < m; p += 16) {
            __mmask16 live = first_lanes(m - p);
            _mm512_mask_storeu_epi32(src + e + p, live, _mm512_maskz_loadu_epi32(live, pj + p));
            _mm512_mask_storeu_ps(attr + e + p, live, _mm512_maskz_loadu_ps(live, pr + p));
        }
        e += m;
        const size_t q0 = symmetric && i ? (size_t)first[i - 1] : 0;
        const size_t qe = symmetric ? (size_t)first[i] : 0;
        for (size_t q = q0; q < qe; q += 16) {
            const __mmask16 live = first_lanes(qe - q);
            __m512i lo = _mm512_maskz_loadu_epi64((__mmask8)live, rev + q);
            __m512i hi = _mm512_maskz_loadu_epi64((__mmask8)(live >> 8), rev + q + 8);
            _mm512_mask_storeu_epi32(src + e + (q - q0), live, _mm512_permutex2var_epi32(lo, rows_of, hi));
            _mm512_mask_storeu_epi32(attr + e + (q - q0), live, _mm512_permutex2var_epi32(lo, rhos_of, hi));
        }
        e += qe - q0;
        row_end[i] = (int32_t)e;
        src[e] = (int32_t)i;  /* gk_graph_set_rows' free slot */
        attr[e++] = 0.0f;
    }
    return e - n;
}

#endif
