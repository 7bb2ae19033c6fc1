/* Fuzz format 2: the first byte picks a whole-model fixture whose tensors
 * are kept; the rest is its __metadata__["graphkern"] JSON (the seeds are
 * the fixtures' own documents). A refusal must be a status in range with a
 * message; an accepted model must plan for 8 nodes and 24 edges and run
 * gk_infer_named on inputs made from its declared shapes (a ring graph,
 * tame features), returning OK or a status with a message, never a crash;
 * a second identical call must give identical outputs. */
#include "fuzz_common.h"
#include "model.h"
#include "model_case.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *tensor_files[16];
static size_t tensor_sizes[16];
static int num_files;

static void load_files(void) {
    if (tensor_files[0]) return;
    for (int c = 0; model_case_names[c] && c < 16; c++, num_files++) {
        char path[512];
        snprintf(path, sizeof path, "%s/models/%s.model.safetensors", GK_FIXTURES_DIR,
                 model_case_names[c]);
        gk_error err;
        FUZZ_CHECK(gk_read_file(path, &tensor_files[c], &tensor_sizes[c], &err) == GK_OK);
    }
}

/* The fixture file with its metadata replaced: header rebuilt by hand. */
static uint8_t *with_metadata(int c, const uint8_t *json, size_t len, size_t *out_size) {
    gk_st_file st;
    gk_error err;
    FUZZ_CHECK(gk_st_parse(tensor_files[c], tensor_sizes[c], &st, &err) == GK_OK);
    gk_st_out outs[64];
    size_t n = st.count < 64 ? st.count : 64;
    for (size_t i = 0; i < n; i++) {
        const gk_st_tensor *t = &st.tensors[i];
        outs[i] = (gk_st_out){t->name, t->dtype, t->ndim, {0}, t->data};
        memcpy(outs[i].shape, t->shape, sizeof t->shape);
    }
    char *meta = malloc(len + 1);
    FUZZ_CHECK(meta != NULL);
    memcpy(meta, json, len);
    meta[len] = '\0';
    uint8_t *buf = NULL;
    gk_status s = gk_st_serialize(outs, n, meta, &buf, out_size, &err);
    free(meta);
    gk_st_free(&st);
    return s == GK_OK ? buf : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    load_files();
    int c = data[0] % num_files;
    size_t file_size = 0;
    uint8_t *file = with_metadata(c, data + 1, size - 1, &file_size);
    if (!file) return 0;   /* not a string safetensors can hold (e.g. a NUL) */
    gk_model *m = NULL;
    gk_error err;
    gk_status st = gk_model_load_buffer(file, file_size, &m, &err);
    if (st != GK_OK) {
        fuzz_check_failure(st, &err);
        FUZZ_CHECK(m == NULL);
    } else if (gk_model_version(m) == 2) {
        fuzz_exercise_program(m);
    }
    gk_model_free(m);
    gk_free(file);
    return 0;
}
