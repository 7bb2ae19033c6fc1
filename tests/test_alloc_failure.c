/* Fault injection: fail the n-th allocation for n = 1, 2, ... until a load
 * succeeds. Every failure must come back as GK_ENOMEM with nothing leaked
 * (run under ASan or valgrind to see leaks; jansson's own mallocs cannot be
 * failed, but they must be freed on every path, which the leak check sees). */
#include <string.h>

#include "alloc_testing.h"
#include "loader_check.h"
#include "model.h"
#include "safetensors.h"

/* Far above what any fixture needs; stops a loop that never succeeds. */
#define MAX_ALLOCATIONS 10000

static const char *fixtures;

static void fail_every_allocation(const char *fixture) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.model.safetensors", fixtures, fixture);
    uint8_t *buf = NULL;
    size_t size = 0;
    gk_error err;
    CHECK_STATUS(gk_read_file(path, &buf, &size, &err), GK_OK, &err);
    if (!buf) return;
    int succeeded = 0;
    long n;
    for (n = 1; n < MAX_ALLOCATIONS && !succeeded; n++) {
        gk_model *model = NULL;
        gk_test_fail_alloc_after(n);
        gk_status st = gk_model_load_buffer(buf, size, &model, &err);
        if (st == GK_OK) {
            succeeded = 1;
            CHECK(model != NULL);
            gk_model_free(model);
        } else {
            if (st != GK_ENOMEM)
                fprintf(stderr, "%s, allocation %ld failed: %s (%s)\n",
                        fixture, n, gk_strerror(st), err.message);
            CHECK(st == GK_ENOMEM);
            CHECK(model == NULL);
        }
    }
    gk_test_fail_alloc_after(0);
    CHECK(succeeded);
    CHECK(n > 3);  /* at least a few allocations were really exercised */
    printf("%s: %ld allocations, each failure handled\n", fixture, n - 2);
    gk_free(buf);
}

/* Serializing and parsing on their own, with the same treatment. */
static void fail_serialize_and_parse(void) {
    const float w[4] = {1, 2, 3, 4};
    const gk_st_out outs[2] = {{"a", GK_DT_F32, 1, {4}, w},
                               {"b", GK_DT_F32, 2, {2, 2}, w}};
    int succeeded = 0;
    for (long n = 1; n < 100 && !succeeded; n++) {
        uint8_t *buf = NULL;
        size_t size = 0;
        gk_error err;
        gk_test_fail_alloc_after(n);
        gk_status st = gk_st_serialize(outs, 2, "{}", &buf, &size, &err);
        if (st == GK_OK) {
            gk_st_file file;
            for (long m = 1; m < 100; m++) {
                gk_test_fail_alloc_after(m);
                st = gk_st_parse(buf, size, &file, &err);
                if (st == GK_OK) break;
                CHECK(st == GK_ENOMEM);
            }
            gk_test_fail_alloc_after(0);
            CHECK(st == GK_OK);
            if (st == GK_OK) gk_st_free(&file);
            gk_free(buf);
            succeeded = 1;
        } else {
            CHECK(st == GK_ENOMEM && buf == NULL);
        }
    }
    gk_test_fail_alloc_after(0);
    CHECK(succeeded);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    /* GATConv plain, with edge features, with residual; GATv2Conv */
    fail_every_allocation("ref_dense_n100");
    fail_every_allocation("fill_add_n24_edge3");
    fail_every_allocation("residual_n30");
    fail_every_allocation("gatv2_quirky_n16_edge1");
    fail_serialize_and_parse();
    return check_report("test_alloc_failure");
}
