/* The validation contract of docs/errors.md, one check per documented row:
 * each public function's argument checks and the status it returns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_testing.h"
#include "finite.h"
#include "loader_check.h"

static const char *fixtures;

static gk_model *load(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.model.safetensors", fixtures, name);
    gk_model *m = NULL;
    gk_error err;
    CHECK_STATUS(gk_model_load_file(path, &m, &err), GK_OK, &err);
    return m;
}

static void model_contract(void) {
    gk_model *m = (gk_model *)&m;
    gk_error err;
    const char bytes[16] = {0};
    CHECK_STATUS(gk_model_load_buffer(NULL, 16, &m, &err), GK_EINVAL, &err);
    CHECK(m == NULL);
    CHECK_STATUS(gk_model_load_buffer(bytes, 16, NULL, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_model_load_buffer(bytes, 0, &m, &err), GK_EFORMAT, &err);
    CHECK_STATUS(gk_model_load_file(NULL, &m, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_model_load_file(fixtures, &m, &err), GK_EIO, &err);  /* a dir */
    CHECK_STATUS(gk_model_load_file("/nonexistent/m.safetensors", &m, &err), GK_EIO,
                 &err);
    CHECK(m == NULL);
    /* NULL handles: accessors answer 0, free does nothing */
    gk_model_free(NULL);
    CHECK(gk_model_num_layers(NULL) == 0 && gk_model_in_features(NULL) == 0);
    CHECK(gk_model_out_features(NULL) == 0 && gk_model_edge_dim(NULL) == 0);
    gk_layer_info info;
    CHECK(gk_model_layer(NULL, 0, &info) == GK_EINVAL);
    m = load("quirky_n12");
    if (!m) return;
    CHECK(gk_model_layer(m, -1, &info) == GK_EINVAL);
    CHECK(gk_model_layer(m, gk_model_num_layers(m), &info) == GK_EINVAL);
    CHECK(gk_model_layer(m, 0, NULL) == GK_EINVAL);
    CHECK(gk_model_layer(m, 0, &info) == GK_OK);
    gk_model_free(m);
}

static void graph_contract(void) {
    gk_model *m = load("fill_add_n24_edge3");  /* edge_dim 3 */
    if (!m) return;
    gk_error err;
    gk_graph *g = (gk_graph *)&g;
    CHECK_STATUS(gk_graph_create(NULL, 4, 4, &g, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_create(m, 4, 4, NULL, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_create(m, 0, 4, &g, &err), GK_EINVAL, &err);
    CHECK(g == NULL);
    CHECK_STATUS(gk_graph_create(m, (size_t)1 << 31, 0, &g, &err), GK_EOVERFLOW, &err);
    CHECK_STATUS(gk_graph_create(m, 4, SIZE_MAX, &g, &err), GK_EOVERFLOW, &err);

    const int64_t ei[2 * 3] = {0, 1, 2, 1, 2, 0};
    const int32_t ei32[2 * 3] = {0, 1, 2, 1, 2, 3};  /* 3 is out of range */
    float ea[3 * 3] = {0};
    CHECK_STATUS(gk_graph_create(m, 4, 3, &g, &err), GK_OK, &err);
    CHECK_STATUS(gk_graph_set_coo(NULL, 3, 3, ei, GK_INDEX_I64, ea, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 0, 3, ei, GK_INDEX_I64, ea, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, ei, (gk_index_type)7, ea, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, NULL, GK_INDEX_I64, ea, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, ei, GK_INDEX_I64, NULL, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 5, 3, ei, GK_INDEX_I64, ea, &err), GK_ELIMIT, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 3, 4, ei, GK_INDEX_I64, ea, &err), GK_ELIMIT, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, ei32, GK_INDEX_I32, ea, &err), GK_EINDEX, &err);
    ea[4] = NAN;
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, ei, GK_INDEX_I64, ea, &err), GK_ENONFINITE, &err);
    ea[4] = INFINITY;
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, ei, GK_INDEX_I64, ea, &err), GK_ENONFINITE, &err);
    ea[4] = 0.0f;
    CHECK_STATUS(gk_graph_set_coo(g, 3, 0, NULL, GK_INDEX_I64, NULL, &err), GK_OK, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, ei, GK_INDEX_I64, ea, &err), GK_OK, &err);
    CHECK(gk_graph_num_nodes(g) == 3 && gk_graph_num_edges(g) == 3);
    CHECK(gk_graph_layer_edges(g, -1, NULL, NULL, 0) == 0);
    CHECK(gk_graph_layer_edges(NULL, 0, NULL, NULL, 0) == 0);
    CHECK(gk_graph_num_nodes(NULL) == 0 && gk_graph_num_edges(NULL) == 0);

    /* Regression: a failed set_coo used to leave the previous graph in place
     * when the failure was an argument or capacity error (only EINDEX and
     * ENONFINITE cleared it), so an unchecked ELIMIT let gk_infer run on
     * stale edges. Now every failure empties the graph. */
    gk_plan *p = NULL;
    CHECK_STATUS(gk_plan_create(m, 4, 3, NULL, &p, &err), GK_OK, &err);
    float x[4 * 8] = {0}, y[4 * 64];
    CHECK(gk_model_in_features(m) <= 8 && gk_model_out_features(m) <= 64);
    if (p) CHECK_STATUS(gk_infer(p, g, x, y, &err), GK_OK, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 5, 3, ei, GK_INDEX_I64, ea, &err), GK_ELIMIT, &err);
    CHECK(gk_graph_num_nodes(g) == 0);
    if (p) CHECK_STATUS(gk_infer(p, g, x, y, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 3, 3, ei, GK_INDEX_I64, ea, &err), GK_OK, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 0, 3, ei, GK_INDEX_I64, ea, &err), GK_EINVAL, &err);
    if (p) CHECK_STATUS(gk_infer(p, g, x, y, &err), GK_EINVAL, &err);

    gk_graph *g2 = (gk_graph *)&g2;
    CHECK_STATUS(gk_graph_from_coo(m, 3, 3, ei, GK_INDEX_I64, ea, NULL, &err), GK_EINVAL,
                 &err);
    CHECK_STATUS(gk_graph_from_coo(m, 3, 3, ei32, GK_INDEX_I32, ea, &g2, &err), GK_EINDEX,
                 &err);
    CHECK(g2 == NULL);
    gk_plan_free(p);
    gk_graph_free(g);
    gk_graph_free(NULL);
    gk_model_free(m);
}

static void plan_contract(void) {
    gk_model *m = load("quirky_n12");
    gk_model *other = load("noselfloops_n10");
    if (!m || !other) return;
    gk_error err;
    gk_plan *p = (gk_plan *)&p;
    gk_plan_options opt = gk_plan_default_options();
    CHECK(opt.threads == 1 && opt.isa == GK_ISA_AUTO && opt.validate_inputs == 1 &&
          opt.keep_attention == 0 && opt.pin_first_cpu == -1);
    CHECK_STATUS(gk_plan_create(NULL, 4, 4, NULL, &p, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_plan_create(m, 4, 4, NULL, NULL, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_plan_create(m, 0, 4, NULL, &p, &err), GK_EINVAL, &err);
    CHECK(p == NULL);
    CHECK_STATUS(gk_plan_create(m, (size_t)1 << 31, 4, NULL, &p, &err), GK_EOVERFLOW,
                 &err);
    opt.threads = -1;
    CHECK_STATUS(gk_plan_create(m, 4, 4, &opt, &p, &err), GK_EINVAL, &err);
    opt = gk_plan_default_options();
    opt.isa = (gk_isa)42;
    CHECK_STATUS(gk_plan_create(m, 4, 4, &opt, &p, &err), GK_EINVAL, &err);
    opt.isa = GK_ISA_NEON;  /* a valid value: runs on AArch64 only */
#if defined(__aarch64__)
    CHECK_STATUS(gk_plan_create(m, 4, 4, &opt, &p, &err), GK_OK, &err);
    gk_plan_free(p);
    p = NULL;
#else
    CHECK_STATUS(gk_plan_create(m, 4, 4, &opt, &p, &err), GK_EISA, &err);
#endif
    gk_plan_free(NULL);
    CHECK(gk_plan_describe(NULL, NULL, 0) == 0);
    CHECK(gk_plan_layer_kernel(NULL, 0) == NULL);
    CHECK(gk_plan_attention(NULL, 0, NULL, NULL) == NULL);

    CHECK_STATUS(gk_plan_create(m, 4, 4, NULL, &p, &err), GK_OK, &err);
    if (!p) return;
    size_t need = gk_plan_describe(p, NULL, 0);
    char small[8];
    CHECK(gk_plan_describe(p, small, sizeof small) == need && strlen(small) == 7);
    CHECK(gk_plan_layer_kernel(p, -1) == NULL);
    CHECK(gk_plan_layer_kernel(p, gk_model_num_layers(m)) == NULL);
    CHECK(gk_plan_attention(p, 0, NULL, NULL) == NULL);  /* keep_attention off */

    /* gk_infer: NULLs, empty graph, capacity, another model's layout, NaN */
    const int64_t ei[2 * 5] = {0, 1, 2, 3, 4, 1, 2, 3, 4, 0};  /* 5 nodes */
    const int64_t ei4[2 * 3] = {0, 1, 2, 1, 2, 3};               /* 4 nodes */
    size_t f = (size_t)gk_model_in_features(m), w = (size_t)gk_model_out_features(m);
    float *x = calloc(5 * f, sizeof *x), *y = calloc(5 * w, sizeof *y);
    gk_graph *g = NULL, *big = NULL, *mismatch = NULL;
    CHECK_STATUS(gk_graph_create(m, 4, 4, &g, &err), GK_OK, &err);
    CHECK_STATUS(gk_graph_from_coo(m, 5, 5, ei, GK_INDEX_I64, NULL, &big, &err), GK_OK,
                 &err);
    CHECK_STATUS(gk_graph_from_coo(other, 4, 3, ei4, GK_INDEX_I64, NULL, &mismatch, &err),
                 GK_OK, &err);
    CHECK_STATUS(gk_infer(NULL, g, x, y, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_infer(p, NULL, x, y, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_infer(p, g, NULL, y, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_infer(p, g, x, NULL, &err), GK_EINVAL, &err);
    CHECK_STATUS(gk_infer(p, g, x, y, &err), GK_EINVAL, &err);  /* never set */
    CHECK_STATUS(gk_infer(p, big, x, y, &err), GK_ELIMIT, &err);
    CHECK_STATUS(gk_infer(p, mismatch, x, y, &err), GK_EMISMATCH, &err);
    CHECK_STATUS(gk_graph_set_coo(g, 4, 3, ei4, GK_INDEX_I64, NULL, &err), GK_OK, &err);
    CHECK_STATUS(gk_infer(p, g, x, y, &err), GK_OK, &err);
    x[2 * f + 1] = NAN;
    CHECK_STATUS(gk_infer(p, g, x, y, &err), GK_ENONFINITE, &err);
    x[2 * f + 1] = -INFINITY;
    CHECK_STATUS(gk_infer(p, g, x, y, &err), GK_ENONFINITE, &err);
    /* validate_inputs = 0: x is trusted, NaN flows through (no error) */
    gk_plan *fast = NULL;
    opt = gk_plan_default_options();
    opt.validate_inputs = 0;
    CHECK_STATUS(gk_plan_create(m, 4, 4, &opt, &fast, &err), GK_OK, &err);
    if (fast) CHECK_STATUS(gk_infer(fast, g, x, y, &err), GK_OK, &err);
    gk_plan_free(fast);
    gk_graph_free(g);
    gk_graph_free(big);
    gk_graph_free(mismatch);
    gk_plan_free(p);
    free(x);
    free(y);
    gk_model_free(m);
    gk_model_free(other);
}

/* Issue 11: every *_create refuses a bad argument before it allocates (a
 * plan with threads = 100000 used to build 100000 workspaces, 15 GB, then
 * fail), with a message that names the limit. The next allocation is set to
 * fail: a create that allocated first would answer GK_ENOMEM instead. */
static void arm_allocation_trap(void) { gk_test_fail_alloc_after(1); }

static void expect_refused_first(gk_status st, gk_status expected, const gk_error *err,
                                 const char *limit, int line) {
    long untouched = gk_test_alloc_countdown();
    gk_test_fail_alloc_after(0);
    if (st != expected || untouched != 1 || !strstr(err->message, limit)) {
        fprintf(stderr, "line %d: %s (%s), expected %s naming '%s', before any "
                "allocation (%s)\n", line, gk_strerror(st), err->message,
                gk_strerror(expected), limit, untouched == 1 ? "none made" : "one made");
        check_failures++;
    }
}

#define EXPECT_REFUSED_FIRST(call, expected, limit) \
    do {                                                                 \
        arm_allocation_trap();                                           \
        gk_status st_ = (call);                                          \
        expect_refused_first(st_, expected, &err, limit, __LINE__);      \
    } while (0)

static void validate_before_allocate_contract(void) {
    gk_model *m = load("quirky_n12");
    if (!m) return;
    gk_error err;
    gk_plan *p = NULL;
    gk_graph *g = NULL;
    gk_corr *c = NULL;
    gk_publisher *pub = NULL;
    gk_plan_options opt = gk_plan_default_options();
    opt.threads = 100000;
    EXPECT_REFUSED_FIRST(gk_plan_create(m, 100, 1000, &opt, &p, &err), GK_EINVAL,
                         "need 0..1024");
    opt.threads = GK_MAX_THREADS + 1;
    EXPECT_REFUSED_FIRST(gk_plan_create(m, 100, 1000, &opt, &p, &err), GK_EINVAL,
                         "GK_MAX_THREADS");
    opt.threads = -1;
    EXPECT_REFUSED_FIRST(gk_plan_create(m, 100, 1000, &opt, &p, &err), GK_EINVAL,
                         "need 0..1024");
    EXPECT_REFUSED_FIRST(gk_plan_create(m, (size_t)1 << 31, 0, NULL, &p, &err),
                         GK_EOVERFLOW, "<= 2147483647");
    EXPECT_REFUSED_FIRST(gk_graph_create(m, 1000, (size_t)1 << 31, &g, &err),
                         GK_EOVERFLOW, "<= 2147483647");
    EXPECT_REFUSED_FIRST(gk_publisher_create(m, 0, 10, 4, 0, &pub, &err), GK_EINVAL,
                         ">= 1");
    EXPECT_REFUSED_FIRST(gk_publisher_create(m, 10, (size_t)1 << 31, 4, 0, &pub, &err),
                         GK_EOVERFLOW, "<= 2147483647");
    EXPECT_REFUSED_FIRST(gk_publisher_create(m, 10, 10, 2, 0, &pub, &err), GK_EINVAL,
                         "3..1024");
    EXPECT_REFUSED_FIRST(gk_corr_create(50000, 10, NULL, &c, &err), GK_EOVERFLOW,
                         "at most 46340");
    CHECK(p == NULL && g == NULL && c == NULL && pub == NULL);
    /* and a valid thread count still makes a plan */
    opt.threads = 2;
    CHECK_STATUS(gk_plan_create(m, 4, 4, &opt, &p, &err), GK_OK, &err);
    gk_plan_free(p);
    gk_model_free(m);
}

/* The NaN/Inf scan behind GK_ENONFINITE (x, edge_attr, named inputs): the
 * first bad element at every position of arrays around the vector widths
 * (the per-ISA builds' main loop and tail), and finite extremes (FLT_MAX,
 * the smallest denormal, -0) never flagged. */
static void nonfinite_scan_contract(void) {
    const float bad[] = {NAN, INFINITY, -INFINITY};
    float a[70] = {0};
    for (size_t n = 0; n <= 70; n++) {
        for (size_t q = 0; q < n; q++) a[q] = (q % 3 == 0) ? 3.4028235e38f : (q % 3 == 1) ? 1e-45f : -0.0f;
        CHECK(gk_first_nonfinite(a, n) == n);
        for (size_t at = 0; at < n; at++) {
            a[at] = bad[at % 3];
            if (at + 1 < n) a[n - 1] = NAN;  /* a later one too: the first counts */
            CHECK(gk_first_nonfinite(a, n) == at);
            a[at] = 1.0f;
            if (at + 1 < n) a[n - 1] = 1.0f;
        }
    }
}

static void strerror_contract(void) {
    for (int s = 0; s < GK_STATUS_COUNT; s++)
        CHECK(gk_strerror((gk_status)s) && strncmp(gk_strerror((gk_status)s), "GK_", 3) == 0);
    CHECK(gk_strerror((gk_status)-1) != NULL);
    CHECK(gk_strerror(GK_STATUS_COUNT) != NULL);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    model_contract();
    graph_contract();
    plan_contract();
    validate_before_allocate_contract();
    nonfinite_scan_contract();
    strerror_contract();
    return check_report("test_validation");
}
