/* Fuzz the model loader: gk_model_load_buffer on the bytes, and
 * gk_model_load_file on the same bytes written to a file, which must give
 * the same status. An accepted model is run end to end. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "fuzz_common.h"

static char file_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_file(void) { unlink(file_path); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* tmpfs: on ext4, truncating and rewriting a file per input forces a
     * flush on close (auto_da_alloc), which cut executions tenfold */
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(file_path, sizeof file_path, "%s/gk_fuzz_model_XXXXXX", dir);
    int fd = mkstemp(file_path);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    atexit(remove_file);
    return 0;
}

static gk_status load_via_file(const uint8_t *data, size_t size) {
    FILE *f = fopen(file_path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
    gk_model *m = NULL;
    gk_error err;
    gk_status st = gk_model_load_file(file_path, &m, &err);
    if (st != GK_OK) {
        fuzz_check_failure(st, &err);
        FUZZ_CHECK(m == NULL);
    }
    gk_model_free(m);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gk_model *m = NULL;
    gk_error err;
    gk_status st = gk_model_load_buffer(data, size, &m, &err);
    if (st != GK_OK) {
        fuzz_check_failure(st, &err);
        FUZZ_CHECK(m == NULL);
    } else {
        FUZZ_CHECK(m != NULL && err.status == GK_OK);
        fuzz_exercise_model(m);
        gk_model_free(m);
    }
    FUZZ_CHECK(load_via_file(data, size) == st);
    return 0;
}
