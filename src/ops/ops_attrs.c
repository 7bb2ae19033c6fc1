/* Reading an op's attributes and weights from its JSON object (ops.h):
 * each reader keeps the first error, prefixed with the op's index, kind
 * and name, so a parse function reads every key in a row and checks once. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ops.h"

void gk_op_fail(gk_op_parse *ps, gk_status st, const char *fmt, ...) {
    if (ps->status != GK_OK) return;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *kind = json_string_value(json_object_get(ps->object, "op"));
    ps->status = gk_fail(ps->err, st, "op %d (%s%s%s%s): %s", ps->index,
                         kind ? kind : "?", ps->op->name[0] ? " '" : "",
                         ps->op->name, ps->op->name[0] ? "'" : "", what);
}

static const json_t *attr(gk_op_parse *ps, const char *key) {
    const json_t *v = json_object_get(ps->object, key);
    return json_is_null(v) ? NULL : v;
}

int gk_op_int(gk_op_parse *ps, const char *key, int required, int fallback) {
    const json_t *v = attr(ps, key);
    if (!v) {
        if (required) gk_op_fail(ps, GK_EMETADATA, "missing '%s'", key);
        return fallback;
    }
    if (!json_is_integer(v) || json_integer_value(v) < INT_MIN ||
        json_integer_value(v) > INT_MAX) {
        gk_op_fail(ps, GK_EMETADATA, "'%s' must be an integer", key);
        return fallback;
    }
    return (int)json_integer_value(v);
}

float gk_op_float(gk_op_parse *ps, const char *key, int required, float fallback) {
    const json_t *v = attr(ps, key);
    if (!v) {
        if (required) gk_op_fail(ps, GK_EMETADATA, "missing '%s'", key);
        return fallback;
    }
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if (!isfinite((float)d)) {
        gk_op_fail(ps, GK_EMETADATA, "'%s' must be a finite number", key);
        return fallback;
    }
    return (float)d;
}

float gk_op_float_or_inf(gk_op_parse *ps, const char *key, float fallback) {
    const json_t *v = attr(ps, key);
    const char *str = json_string_value(v);
    if (str && strcmp(str, "inf") == 0) return INFINITY;
    if (str && strcmp(str, "-inf") == 0) return -INFINITY;
    return gk_op_float(ps, key, 1, fallback);
}

int gk_op_opt_float(gk_op_parse *ps, const char *key, float *out) {
    if (!attr(ps, key)) return 0;
    *out = gk_op_float(ps, key, 1, 0.0f);
    return 1;
}

int gk_op_bool(gk_op_parse *ps, const char *key, int fallback) {
    const json_t *v = attr(ps, key);
    if (!v) return fallback;
    if (!json_is_boolean(v)) {
        gk_op_fail(ps, GK_EMETADATA, "'%s' must be true or false", key);
        return fallback;
    }
    return json_is_true(v);
}

const char *gk_op_string(gk_op_parse *ps, const char *key, int required) {
    const json_t *v = attr(ps, key);
    if (!v) {
        if (required) gk_op_fail(ps, GK_EMETADATA, "missing '%s'", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        gk_op_fail(ps, GK_EMETADATA, "'%s' must be a string", key);
        return NULL;
    }
    return json_string_value(v);
}

static size_t numel_of(int ndim, const int64_t *dims) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)dims[d];
    return n;
}

void gk_op_tensor(gk_op_parse *ps, int slot, const char *name, int required,
                  int ndim, const int64_t *dims) {
    if (ps->status != GK_OK) return;
    if (!name) {
        if (required) gk_op_fail(ps, GK_EMETADATA, "needs a weight tensor");
        return;
    }
    const gk_st_tensor *t = gk_st_find(ps->file, name);
    if (!t) {
        gk_op_fail(ps, GK_EMISSING, "tensor '%s' is not in the file", name);
        return;
    }
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == dims[d];
    if (!same) {
        char want[96] = "[", got[96] = "[";
        for (int d = 0; d < ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld",
                     d ? ", " : "", (long long)dims[d]);
        for (int d = 0; d < t->ndim && d < GK_ST_MAX_DIMS; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld",
                     d ? ", " : "", (long long)t->shape[d]);
        gk_op_fail(ps, GK_ESHAPE, "tensor '%s' has shape %s], expected %s]",
                   name, got, want);
        return;
    }
    size_t n = numel_of(ndim, dims);
    float *dst = gk_calloc_array(n ? n : 1, sizeof *dst);
    if (!dst) {
        gk_op_fail(ps, GK_ENOMEM, "no memory for tensor '%s'", name);
        return;
    }
    gk_error e;
    if (gk_st_to_f32(t, dst, &e) != GK_OK) {
        gk_free(dst);
        gk_op_fail(ps, e.status, "%s", e.message);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i])) {
            gk_free(dst);
            gk_op_fail(ps, GK_ENONFINITE, "tensor '%s'[%zu] is not finite", name, i);
            return;
        }
    ps->op->tensors[slot] = dst;
    ps->op->tensor_len[slot] = n;
    if (slot + 1 > ps->op->num_tensors) ps->op->num_tensors = slot + 1;
}

/* Transpose slot's [rows, cols] matrix in place into [cols, rows]. */
void gk_op_transpose(gk_op_parse *ps, int slot, int rows, int cols) {
    float *w = ps->op->tensors[slot];
    if (ps->status != GK_OK || !w) return;
    float *t = gk_calloc_array((size_t)rows * (size_t)cols, sizeof *t);
    if (!t) {
        gk_op_fail(ps, GK_ENOMEM, "no memory for a transposed weight");
        return;
    }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) t[(size_t)c * rows + r] = w[(size_t)r * cols + c];
    gk_free(w);
    ps->op->tensors[slot] = t;
}

int gk_op_positive(gk_op_parse *ps, const char *key) {
    int v = gk_op_int(ps, key, 1, 1);
    if (ps->status == GK_OK && (v < 1 || v > (1 << 24)))
        gk_op_fail(ps, GK_EMETADATA, "'%s' = %d must be in [1, 2^24]", key, v);
    return v;
}

