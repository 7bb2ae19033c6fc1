/* Option parsing, errors, timing and input files for the CLI. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "safetensors.h"

const char *cli_option(int argc, char **argv, const char *name) {
    for (int k = 1; k + 1 < argc; k++)
        if (!strcmp(argv[k], name)) return argv[k + 1];
    return NULL;
}

int cli_flag(int argc, char **argv, const char *name) {
    for (int k = 1; k < argc; k++)
        if (!strcmp(argv[k], name)) return 1;
    return 0;
}

int cli_error(const char *what, const gk_error *err) {
    fprintf(stderr, "graphkern: %s: %s (%s)\n", what,
            err->message[0] ? err->message : "failed", gk_strerror(err->status));
    return 1;
}

uint64_t cli_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fail(gk_error *err, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message only: cli_error prefixes the file's path. */
static int fail(gk_error *err, gk_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    err->status = st;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return 1;
}

/* "[2, 5]" */
static const char *shape_text(const gk_st_tensor *t, char *buf, size_t size) {
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, d ? ", %lld" : "%lld",
                                (long long)t->shape[d]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

/* Dtype first (a float64 x is a dtype problem, whatever its shape), then
 * the shape; each message says what was found and what is expected. */
static int check_inputs(const gk_st_tensor *x, const gk_st_tensor *ei,
                        const gk_st_tensor *ea, gk_error *err) {
    char shape[128];
    if (!x || !ei)
        return fail(err, GK_EMISSING, "the input needs tensors x and edge_index "
                    "(%s missing)", !x ? "x" : "edge_index");
    if (x->dtype != GK_DT_F32)
        return fail(err, GK_EDTYPE, "x is %s, expected F32", x->dtype_name);
    if (x->ndim != 2)
        return fail(err, GK_ESHAPE, "x has shape %s, expected [N, F]",
                    shape_text(x, shape, sizeof shape));
    if (ei->dtype != GK_DT_I64 && ei->dtype != GK_DT_I32)
        return fail(err, GK_EDTYPE, "edge_index is %s, expected I64 or I32",
                    ei->dtype_name);
    if (ei->ndim != 2 || ei->shape[0] != 2)
        return fail(err, GK_ESHAPE, "edge_index has shape %s, expected [2, E]",
                    shape_text(ei, shape, sizeof shape));
    if (ea && ea->dtype != GK_DT_F32)
        return fail(err, GK_EDTYPE, "edge_attr is %s, expected F32", ea->dtype_name);
    if (ea && (ea->ndim != 2 || ea->shape[0] != ei->shape[1]))
        return fail(err, GK_ESHAPE, "edge_attr has shape %s, expected [E, D] with "
                    "E = %lld (edge_index's)", shape_text(ea, shape, sizeof shape),
                    (long long)ei->shape[1]);
    return 0;
}

/* Copy a tensor's raw bytes into a fresh aligned buffer. */
static void *copy_out(const gk_st_tensor *t) {
    void *p = aligned_alloc(64, (t->nbytes + 63) / 64 * 64 + 64);
    if (p) memcpy(p, t->data, t->nbytes);
    return p;
}

int cli_read_input(const char *path, cli_input *in, gk_error *err) {
    memset(in, 0, sizeof *in);
    uint8_t *file = NULL;
    size_t size = 0;
    if (gk_read_file(path, &file, &size, err) != GK_OK) return 1;
    return cli_parse_input(file, size, path, in, err);
}

int cli_parse_input(uint8_t *file, size_t size, const char *name, cli_input *in,
                    gk_error *err) {
    memset(in, 0, sizeof *in);
    in->file = file;
    gk_st_file st;
    if (gk_st_parse(in->file, size, &st, err) != GK_OK) {
        cli_free_input(in);
        return 1;
    }
    const gk_st_tensor *x = gk_st_find(&st, "x");
    const gk_st_tensor *ei = gk_st_find(&st, "edge_index");
    const gk_st_tensor *ea = gk_st_find(&st, "edge_attr");
    const gk_st_tensor *yr = gk_st_find(&st, "y_pyg_f64");
    int rc = check_inputs(x, ei, ea, err);
    if (!rc) {
        in->num_nodes = (size_t)x->shape[0];
        in->num_features = (size_t)x->shape[1];
        in->num_edges = (size_t)ei->shape[1];
        in->index_type = ei->dtype == GK_DT_I64 ? GK_INDEX_I64 : GK_INDEX_I32;
        in->x = copy_out(x);
        in->edge_index = copy_out(ei);
        if (ea) {
            in->edge_dim = (size_t)ea->shape[1];
            in->edge_attr = copy_out(ea);
        }
        if (yr && yr->dtype == GK_DT_F64 && yr->ndim == 2 &&
            (size_t)yr->shape[0] == in->num_nodes) {
            in->y_ref = copy_out(yr);
            in->y_ref_cols = (size_t)yr->shape[1];
        }
        if (!in->x || !in->edge_index || (ea && !in->edge_attr))
            rc = fail(err, GK_ENOMEM, "out of memory reading %s", name);
    }
    gk_st_free(&st);
    if (rc) cli_free_input(in);  /* nothing is left for the caller to free */
    return rc;
}

void cli_free_input(cli_input *in) {
    free(in->file);
    free(in->x);
    free(in->edge_index);
    free(in->edge_attr);
    free(in->y_ref);
    memset(in, 0, sizeof *in);
}
