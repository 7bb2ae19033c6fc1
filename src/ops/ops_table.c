/* The op table: one row per op kind (ops.h), with each kind's attribute
 * parser, shape rule and scratch size. Attribute readers: ops_attrs.c;
 * run functions: ops_*.c by family. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "did_you_mean.h"
#include "error.h"
#include "ops.h"

/* ---- shape helpers ------------------------------------------------------- */

static int is_node(const gk_shape *s, int d) { return (s->node_dims >> d) & 1u; }

static gk_status shape_fail(gk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static gk_status shape_fail(gk_error *err, const char *fmt, ...) {
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return gk_fail(err, GK_ESHAPE, "%s", what);
}

static gk_status same_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                            gk_error *err) {
    (void)op;
    (void)err;
    out[0] = in[0];
    return GK_OK;
}

static gk_status check_dim(int dim, int ndim, gk_error *err) {
    if (dim < 0 || dim >= ndim)
        return shape_fail(err, "dim %d out of range for rank %d", dim, ndim);
    return GK_OK;
}

/* ---- elementwise ------------------------------------------------------- */

static const char *const no_keys[] = {NULL};
static const char *const elu_keys[] = {"alpha", NULL};
static const char *const lrelu_keys[] = {"negative_slope", NULL};
static const char *const gelu_keys[] = {"approximate", NULL};
static const char *const softplus_keys[] = {"beta", "threshold", NULL};
static const char *const clamp_keys[] = {"min", "max", NULL};
static const char *const scalar_keys[] = {"fn", "value", NULL};

static void parse_none(gk_op_parse *ps) { (void)ps; }

static void parse_elu(gk_op_parse *ps) {
    ps->op->alpha = gk_op_float(ps, "alpha", 0, 1.0f);
}

static void parse_lrelu(gk_op_parse *ps) {
    ps->op->alpha = gk_op_float(ps, "negative_slope", 0, 0.01f);
}

static void parse_gelu(gk_op_parse *ps) {
    const char *a = gk_op_string(ps, "approximate", 0);
    if (!a || strcmp(a, "none") == 0) ps->op->approximate = 0;
    else if (strcmp(a, "tanh") == 0) ps->op->approximate = 1;
    else gk_op_fail(ps, GK_EUNSUPPORTED, "approximate '%s' (none or tanh)", a);
}

static void parse_softplus(gk_op_parse *ps) {
    ps->op->beta = gk_op_float(ps, "beta", 0, 1.0f);
    ps->op->threshold = gk_op_float(ps, "threshold", 0, 20.0f);
    if (ps->status == GK_OK && ps->op->beta == 0.0f)
        gk_op_fail(ps, GK_EMETADATA, "beta must not be 0");
}

static void parse_clamp(gk_op_parse *ps) {
    ps->op->has_lo = gk_op_opt_float(ps, "min", &ps->op->lo);
    ps->op->has_hi = gk_op_opt_float(ps, "max", &ps->op->hi);
}

static void parse_scalar(gk_op_parse *ps) {
    static const char *const fns[] = {"add", "sub", "rsub", "mul", "div", "rdiv", "pow",
                                      "eq",  "ne",  "lt",   "le",  "gt",  "ge"};
    const char *fn = gk_op_string(ps, "fn", 1);
    ps->op->value = gk_op_float_or_inf(ps, "value", 0.0f);
    if (!fn) return;
    for (int i = 0; i < 13; i++)
        if (strcmp(fn, fns[i]) == 0) {
            ps->op->fn = (gk_scalar_fn)i;
            return;
        }
    gk_op_fail(ps, GK_EUNSUPPORTED, "scalar fn '%s'", fn);
}

/* PyTorch's broadcasting, right-aligned; N only meets N or 1. */
static gk_status broadcast(const gk_op *op, const gk_shape *in, gk_shape *out,
                           gk_error *err) {
    (void)op;
    const gk_shape *a = &in[0], *b = &in[1];
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    gk_shape s = {nd, {0}, 0};
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t xa = da >= 0 ? a->dims[da] : 1, xb = db >= 0 ? b->dims[db] : 1;
        int na = da >= 0 && is_node(a, da), nb = db >= 0 && is_node(b, db);
        if (na || nb) {
            if ((na && !nb && xb != 1) || (nb && !na && xa != 1))
                return shape_fail(err, "cannot broadcast the node axis against a "
                                  "fixed size %lld", (long long)(na ? xb : xa));
            s.dims[d] = 1;
            s.node_dims |= 1u << d;
        } else if (xa == xb || xb == 1) {
            s.dims[d] = xa;
        } else if (xa == 1) {
            s.dims[d] = xb;
        } else {
            return shape_fail(err, "cannot broadcast sizes %lld and %lld",
                              (long long)xa, (long long)xb);
        }
    }
    out[0] = s;
    return GK_OK;
}

static const char *const fill_keys[] = {"value", NULL};

static void parse_fill(gk_op_parse *ps) { ps->op->value = gk_op_float_or_inf(ps, "value", 0.0f); }

/* Three-way broadcasting: cond, a, b. */
static gk_status broadcast3(const gk_op *op, const gk_shape *in, gk_shape *out,
                            gk_error *err) {
    gk_shape ab;
    gk_status st = broadcast(op, &in[1], &ab, err);
    if (st != GK_OK) return st;
    gk_shape pair[2] = {in[0], ab};
    return broadcast(op, pair, out, err);
}

/* ---- layout --------------------------------------------------------------- */

static const char *const slice_keys[] = {"dim", "start", "stop", "step", NULL};
static const char *const dim_keys[] = {"dim", NULL};
static const char *const perm_keys[] = {"dims", NULL};
static const char *const reduce_keys[] = {"dims", "keepdim", NULL};
static const char *const var_keys[] = {"dims", "keepdim", "correction", NULL};
static const char *const const_keys[] = {"tensor", NULL};

/* reshape / expand / constant: the target is the declared output shape,
 * which program_parse.c hands over in ps->op via the "shapes" key. */
static int declared_shape(gk_op_parse *ps, gk_shape *s);

static void parse_target(gk_op_parse *ps) {
    declared_shape(ps, &ps->op->target);
}

static void parse_constant(gk_op_parse *ps) {
    gk_shape *s = &ps->op->target;
    if (!declared_shape(ps, s)) return;
    if (s->node_dims) {
        gk_op_fail(ps, GK_ESHAPE, "a constant cannot have the node axis");
        return;
    }
    gk_op_tensor(ps, 0, gk_op_string(ps, "tensor", 1), 1, s->ndim, s->dims);
}

static gk_status target_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                              gk_error *err) {
    (void)in;
    (void)err;
    out[0] = op->target;
    return GK_OK;
}

/* Same element count for every N: as many node dims, same fixed product. */
static gk_status reshape_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                               gk_error *err) {
    gk_shape t = op->target;
    int na = __builtin_popcount(in[0].node_dims), nb = __builtin_popcount(t.node_dims);
    size_t pa = 1, pb = 1;
    for (int d = 0; d < in[0].ndim; d++) pa *= (size_t)in[0].dims[d];
    for (int d = 0; d < t.ndim; d++) pb *= (size_t)t.dims[d];
    if (na != nb || pa != pb)
        return shape_fail(err, "reshape changes the element count");
    out[0] = t;
    return GK_OK;
}

static gk_status expand_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                              gk_error *err) {
    gk_shape t = op->target;
    if (t.ndim < in[0].ndim) return shape_fail(err, "expand to a lower rank");
    for (int d = 0; d < in[0].ndim; d++) {
        int td = d + t.ndim - in[0].ndim;
        int n_in = is_node(&in[0], d), n_t = is_node(&t, td);
        if (n_in != n_t && !(in[0].dims[d] == 1 && !n_in))
            return shape_fail(err, "expand: dim %d does not match", d);
        if (!n_in && !n_t && in[0].dims[d] != 1 && in[0].dims[d] != t.dims[td])
            return shape_fail(err, "expand: size %lld to %lld",
                              (long long)in[0].dims[d], (long long)t.dims[td]);
    }
    out[0] = t;
    return GK_OK;
}

static void parse_slice(gk_op_parse *ps) {
    ps->op->dim = gk_op_int(ps, "dim", 1, 0);
    const json_t *start = json_object_get(ps->object, "start");
    const json_t *stop = json_object_get(ps->object, "stop");
    const json_t *step = json_object_get(ps->object, "step");
    if (!json_is_integer(start) || (stop && !json_is_null(stop) && !json_is_integer(stop)) ||
        (step && !json_is_integer(step))) {
        gk_op_fail(ps, GK_EMETADATA, "start, stop and step must be integers "
                   "(stop may be null)");
        return;
    }
    ps->op->start = json_integer_value(start);
    ps->op->stop = json_is_integer(stop) ? json_integer_value(stop) : INT64_MAX;
    ps->op->step = step ? json_integer_value(step) : 1;
    if (ps->op->step < 1) gk_op_fail(ps, GK_EMETADATA, "step must be >= 1");
}

static gk_status slice_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                             gk_error *err) {
    gk_status st = check_dim(op->dim, in[0].ndim, err);
    if (st != GK_OK) return st;
    gk_shape s = in[0];
    int d = op->dim;
    if (is_node(&s, d)) {
        /* one node, by index (negative: from the end, resolved per call) */
        int one = op->step == 1 && ((op->start >= 0 && op->stop == op->start + 1) ||
                                    (op->start == -1 && op->stop == INT64_MAX) ||
                                    (op->start < -1 && op->stop == op->start + 1));
        if (!one) return shape_fail(err, "only one node can be selected from the node axis");
        s.node_dims &= ~(1u << d);
        s.dims[d] = 1;
    } else {
        int64_t size = s.dims[d];
        int64_t a = op->start < 0 ? op->start + size : op->start;
        int64_t b = op->stop == INT64_MAX ? size : (op->stop < 0 ? op->stop + size : op->stop);
        if (a < 0) a = 0;
        if (b > size) b = size;
        if (a >= b) return shape_fail(err, "empty slice [%lld:%lld] of %lld",
                                      (long long)op->start, (long long)op->stop,
                                      (long long)size);
        s.dims[d] = (b - a + op->step - 1) / op->step;
    }
    out[0] = s;
    return GK_OK;
}

static void parse_dim(gk_op_parse *ps) { ps->op->dim = gk_op_int(ps, "dim", 1, 0); }

static gk_status concat_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                              gk_error *err) {
    gk_status st = check_dim(op->dim, in[0].ndim, err);
    if (st != GK_OK) return st;
    gk_shape s = in[0];
    if (is_node(&s, op->dim)) return shape_fail(err, "concat along the node axis");
    for (int i = 1; i < op->num_inputs; i++) {
        if (in[i].ndim != s.ndim || in[i].node_dims != s.node_dims)
            return shape_fail(err, "concat input %d has another rank or node axis", i);
        for (int d = 0; d < s.ndim; d++)
            if (d != op->dim && in[i].dims[d] != s.dims[d])
                return shape_fail(err, "concat input %d: size %lld at dim %d, expected %lld",
                                  i, (long long)in[i].dims[d], d, (long long)s.dims[d]);
        s.dims[op->dim] += in[i].dims[op->dim];
    }
    out[0] = s;
    return GK_OK;
}

static int read_dims(gk_op_parse *ps, int *dims, int max) {
    const json_t *list = json_object_get(ps->object, "dims");
    if (!json_is_array(list) || json_array_size(list) > (size_t)max) {
        gk_op_fail(ps, GK_EMETADATA, "'dims' must be a list of at most %d integers", max);
        return 0;
    }
    int n = (int)json_array_size(list);
    for (int i = 0; i < n; i++) {
        const json_t *v = json_array_get(list, (size_t)i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) >= GK_MAX_RANK) {
            gk_op_fail(ps, GK_EMETADATA, "'dims' entries must be in [0, %d)", GK_MAX_RANK);
            return 0;
        }
        dims[i] = (int)json_integer_value(v);
    }
    return n;
}

static void parse_permute(gk_op_parse *ps) {
    int n = read_dims(ps, ps->op->perm, GK_MAX_RANK);
    ps->op->norm_dims = n;
    unsigned seen = 0;
    for (int i = 0; i < n; i++) seen |= 1u << ps->op->perm[i];
    if (ps->status == GK_OK && seen != (1u << n) - 1)
        gk_op_fail(ps, GK_EMETADATA, "'dims' is not a permutation");
}

static gk_status permute_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                               gk_error *err) {
    if (op->norm_dims != in[0].ndim)
        return shape_fail(err, "permute of %d dims on a rank-%d tensor", op->norm_dims,
                          in[0].ndim);
    gk_shape s = {in[0].ndim, {0}, 0};
    for (int d = 0; d < s.ndim; d++) {
        s.dims[d] = in[0].dims[op->perm[d]];
        if (is_node(&in[0], op->perm[d])) s.node_dims |= 1u << d;
    }
    out[0] = s;
    return GK_OK;
}

static void parse_reduce(gk_op_parse *ps) {
    int dims[GK_MAX_RANK];
    int n = read_dims(ps, dims, GK_MAX_RANK);
    ps->op->reduce_dims = 0;
    for (int i = 0; i < n; i++) ps->op->reduce_dims |= 1u << dims[i];
    ps->op->keepdim = gk_op_bool(ps, "keepdim", 0);
    if (ps->status == GK_OK && !ps->op->reduce_dims)
        gk_op_fail(ps, GK_EMETADATA, "'dims' is empty");
    if (ps->op->kind == GK_OP_VAR || ps->op->kind == GK_OP_STD) {
        ps->op->correction = gk_op_int(ps, "correction", 0, 1);
        if (ps->status == GK_OK && (ps->op->correction < 0 || ps->op->correction > 1))
            gk_op_fail(ps, GK_EUNSUPPORTED, "correction %d (0 or 1)", ps->op->correction);
    }
}

static gk_status reduce_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                              gk_error *err) {
    if (op->reduce_dims >> in[0].ndim)
        return shape_fail(err, "reduces a dim beyond rank %d", in[0].ndim);
    gk_shape s = {0, {0}, 0};
    for (int d = 0; d < in[0].ndim; d++) {
        int reduced = (op->reduce_dims >> d) & 1u;
        if (reduced && !op->keepdim) continue;
        s.dims[s.ndim] = reduced ? 1 : in[0].dims[d];
        if (!reduced && is_node(&in[0], d)) s.node_dims |= 1u << s.ndim;
        s.ndim++;
    }
    out[0] = s;
    return GK_OK;
}

static gk_status softmax_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                               gk_error *err) {
    gk_status st = check_dim(op->dim, in[0].ndim, err);
    out[0] = in[0];
    return st;
}

/* ---- norms ------------------------------------------------------------ */

static const char *const ln_keys[] = {"name", "dims", "eps", "weight", "bias", NULL};
static const char *const gln_keys[] = {"name", "eps", "weight", "bias", NULL};
static const char *const ss_keys[] = {"name", "dim", "scale", "shift", NULL};

static void parse_layer_norm(gk_op_parse *ps) {
    gk_op *op = ps->op;
    op->norm_dims = gk_op_int(ps, "dims", 0, 1);
    op->eps = gk_op_float(ps, "eps", 0, 1e-5f);
    const gk_shape *x = &ps->in[0];
    if (ps->status != GK_OK) return;
    if (op->norm_dims < 1 || op->norm_dims > x->ndim) {
        gk_op_fail(ps, GK_ESHAPE, "normalizes %d dims of a rank-%d input", op->norm_dims,
                   x->ndim);
        return;
    }
    int first = x->ndim - op->norm_dims;
    if (x->node_dims >> first) {
        gk_op_fail(ps, GK_ESHAPE, "normalizes over the node axis (PyG's graph "
                   "LayerNorm is graph_layer_norm)");
        return;
    }
    gk_op_tensor(ps, 0, gk_op_string(ps, "weight", 0), 0, op->norm_dims, x->dims + first);
    gk_op_tensor(ps, 1, gk_op_string(ps, "bias", 0), 0, op->norm_dims, x->dims + first);
}

static void parse_graph_layer_norm(gk_op_parse *ps) {
    gk_op *op = ps->op;
    op->eps = gk_op_float(ps, "eps", 0, 1e-5f);
    const gk_shape *x = &ps->in[0];
    if (ps->status != GK_OK) return;
    if (x->node_dims >> (x->ndim - 1)) {
        gk_op_fail(ps, GK_ESHAPE, "the last dim is the node axis");
        return;
    }
    const int64_t *c = &x->dims[x->ndim - 1];
    gk_op_tensor(ps, 0, gk_op_string(ps, "weight", 0), 0, 1, c);
    gk_op_tensor(ps, 1, gk_op_string(ps, "bias", 0), 0, 1, c);
}

static void parse_scale_shift(gk_op_parse *ps) {
    gk_op *op = ps->op;
    op->dim = gk_op_int(ps, "dim", 1, 1);
    const gk_shape *x = &ps->in[0];
    if (ps->status != GK_OK) return;
    if (op->dim < 0 || op->dim >= x->ndim || is_node(x, op->dim)) {
        gk_op_fail(ps, GK_ESHAPE, "channel dim %d of a rank-%d input", op->dim, x->ndim);
        return;
    }
    gk_op_tensor(ps, 0, gk_op_string(ps, "scale", 1), 1, 1, &x->dims[op->dim]);
    gk_op_tensor(ps, 1, gk_op_string(ps, "shift", 1), 1, 1, &x->dims[op->dim]);
}

/* ---- linear and recurrent --------------------------------------------- */

static const char *const linear_keys[] = {"name", "in_features", "out_features",
                                          "weight", "bias", "folded", NULL};
static const char *const rnn_keys[] = {"name", "input_size", "hidden_size",
                                       "num_layers", "bias", "batch_first",
                                       "bidirectional", "tensors", NULL};
static const char *const cell_keys[] = {"name", "input_size", "hidden_size", "bias",
                                        "tensors", NULL};

static void parse_linear(gk_op_parse *ps) {
    gk_op *op = ps->op;
    op->in_features = gk_op_positive(ps, "in_features");
    op->out_features = gk_op_positive(ps, "out_features");
    if (ps->status != GK_OK) return;
    int64_t w[2] = {op->out_features, op->in_features}, b[1] = {op->out_features};
    gk_op_tensor(ps, 0, gk_op_string(ps, "weight", 1), 1, 2, w);
    gk_op_tensor(ps, 1, gk_op_string(ps, "bias", 0), 0, 1, b);
    gk_op_transpose(ps, 0, op->out_features, op->in_features);
}

static gk_status linear_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                              gk_error *err) {
    const gk_shape *x = &in[0];
    if (x->ndim < 1 || is_node(x, x->ndim - 1) || x->dims[x->ndim - 1] != op->in_features)
        return shape_fail(err, "input's last dim is not in_features = %d", op->in_features);
    out[0] = *x;
    out[0].dims[x->ndim - 1] = op->out_features;
    return GK_OK;
}

static int rnn_gates(gk_op_kind kind) {
    return kind == GK_OP_LSTM || kind == GK_OP_LSTM_CELL ? 4 : 3;
}

/* Tensors of layer l, direction dir: slots 4·(2l + dir) .. = weight_ih^T,
 * weight_hh^T, bias_ih, bias_hh (PyTorch's names, "_reverse" backwards). */
static void parse_rnn_layer(gk_op_parse *ps, const json_t *tensors, int l, int dir, int in) {
    gk_op *op = ps->op;
    int gh = rnn_gates(op->kind) * op->out_features, h = op->out_features;
    const char *parts[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    int64_t shapes[4][2] = {{gh, in}, {gh, h}, {gh, 0}, {gh, 0}};
    for (int k = 0; k < 4; k++) {
        char key[32];
        if (op->kind == GK_OP_LSTM || op->kind == GK_OP_GRU)
            snprintf(key, sizeof key, "%s_l%d%s", parts[k], l, dir ? "_reverse" : "");
        else
            snprintf(key, sizeof key, "%s", parts[k]);
        const json_t *name = json_object_get(tensors, key);
        int needed = k < 2 || op->has_bias;
        if (needed && !json_is_string(name)) {
            gk_op_fail(ps, GK_EMISSING, "tensors.%s is missing", key);
            return;
        }
        if (!needed) continue;
        int slot = 4 * (2 * l + dir) + k;
        gk_op_tensor(ps, slot, json_string_value(name), 1, k < 2 ? 2 : 1, shapes[k]);
        if (k < 2) gk_op_transpose(ps, slot, gh, k == 0 ? in : h);
    }
}

static void parse_rnn(gk_op_parse *ps) {
    gk_op *op = ps->op;
    int cell = op->kind == GK_OP_LSTM_CELL || op->kind == GK_OP_GRU_CELL;
    op->in_features = gk_op_positive(ps, "input_size");
    op->out_features = gk_op_positive(ps, "hidden_size");
    op->rnn_layers = cell ? 1 : gk_op_int(ps, "num_layers", 0, 1);
    op->has_bias = gk_op_bool(ps, "bias", 1);
    op->batch_first = cell ? 0 : gk_op_bool(ps, "batch_first", 0);
    op->directions = !cell && gk_op_bool(ps, "bidirectional", 0) ? 2 : 1;
    if (ps->status != GK_OK) return;
    if (op->rnn_layers < 1 || op->rnn_layers > GK_RNN_MAX_LAYERS) {
        gk_op_fail(ps, GK_EUNSUPPORTED, "num_layers = %d (1 to %d)", op->rnn_layers,
                   GK_RNN_MAX_LAYERS);
        return;
    }
    const json_t *tensors = json_object_get(ps->object, "tensors");
    if (!json_is_object(tensors)) {
        gk_op_fail(ps, GK_EMETADATA, "'tensors' must be an object of tensor names");
        return;
    }
    for (int l = 0; l < op->rnn_layers && ps->status == GK_OK; l++)
        for (int dir = 0; dir < op->directions && ps->status == GK_OK; dir++)
            parse_rnn_layer(ps, tensors, l, dir,
                            l ? op->directions * op->out_features : op->in_features);
}

static gk_status rnn_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                           gk_error *err) {
    const gk_shape *x = &in[0];
    if (x->ndim != 3 || is_node(x, 2) || x->dims[2] != op->in_features)
        return shape_fail(err, "input must be rank 3 with %d features", op->in_features);
    int b = op->batch_first ? 0 : 1, t = op->batch_first ? 1 : 0;
    if (is_node(x, t)) return shape_fail(err, "the time axis cannot be the node axis");
    gk_shape seq = *x, h = {3, {op->directions * op->rnn_layers, x->dims[b], op->out_features}, 0};
    seq.dims[2] = op->directions * op->out_features;
    if (is_node(x, b)) h.node_dims = 1u << 1;
    out[0] = seq;
    out[1] = h;
    if (op->kind == GK_OP_LSTM) out[2] = h;
    return GK_OK;
}

static gk_status cell_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                            gk_error *err) {
    const gk_shape *x = &in[0];
    if (x->ndim != 2 || is_node(x, 1) || x->dims[1] != op->in_features)
        return shape_fail(err, "input must be [B, %d]", op->in_features);
    gk_shape h = {2, {x->dims[0], op->out_features}, x->node_dims & 1u};
    int want = op->kind == GK_OP_LSTM_CELL ? 3 : 2;
    if (op->num_inputs != 1 && op->num_inputs != want)
        return shape_fail(err, "%d inputs: x, or x and the state", op->num_inputs);
    for (int i = 1; i < op->num_inputs; i++)
        if (in[i].ndim != 2 || in[i].node_dims != h.node_dims ||
            in[i].dims[0] != h.dims[0] || in[i].dims[1] != h.dims[1])
            return shape_fail(err, "state input %d must be [B, %d]", i, op->out_features);
    out[0] = h;
    if (op->kind == GK_OP_LSTM_CELL) out[1] = h;
    return GK_OK;
}

/* ---- embedding ---------------------------------------------------------- */

static const char *const emb_keys[] = {"name", "num_embeddings", "embedding_dim", "weight",
                                       NULL};

static void parse_embedding(gk_op_parse *ps) {
    gk_op *op = ps->op;
    op->in_features = gk_op_positive(ps, "num_embeddings");
    op->out_features = gk_op_positive(ps, "embedding_dim");
    if (ps->status != GK_OK) return;
    int64_t w[2] = {op->in_features, op->out_features};
    gk_op_tensor(ps, 0, gk_op_string(ps, "weight", 1), 1, 2, w);
}

static gk_status embedding_shape(const gk_op *op, const gk_shape *in, gk_shape *out,
                                 gk_error *err) {
    if (in[0].ndim >= GK_MAX_RANK)
        return shape_fail(err, "indices of rank %d (at most %d)", in[0].ndim, GK_MAX_RANK - 1);
    out[0] = in[0];
    out[0].dims[out[0].ndim++] = op->out_features;
    return GK_OK;
}

/* ---- scratch sizes ------------------------------------------------------ */

static size_t rows_of(const gk_shape *s, size_t max_nodes, int skip_last) {
    int64_t dims[GK_MAX_RANK];
    gk_shape t = *s;
    if (skip_last) t.ndim--;
    return gk_shape_resolve(&t, max_nodes, dims);
}

static size_t rnn_scratch(const gk_op *op, const gk_shape *in, size_t max_nodes) {
    size_t bt = rows_of(&in[0], max_nodes, 1);          /* B·T rows       */
    size_t b = op->kind == GK_OP_LSTM || op->kind == GK_OP_GRU
                   ? bt / (size_t)in[0].dims[op->batch_first ? 1 : 0] : bt;
    size_t h = (size_t)op->out_features, g = (size_t)rnn_gates(op->kind);
    /* gates for every step, two sequences, h, c and one step's h-gates */
    size_t gh = gk_sat_mul(g, h);
    size_t dirs = op->directions > 1 ? 2 : 1;  /* sequences hold both directions */
    size_t parts[4] = {gk_sat_mul(bt, gh), gk_sat_mul(gk_sat_mul(2 * bt, h), dirs),
                       gk_sat_mul(2 * b, h), gk_sat_mul(b, gh)};
    size_t total = 64;
    for (int i = 0; i < 4; i++) total = parts[i] > SIZE_MAX - total ? SIZE_MAX : total + parts[i];
    return total;
}

/* Pooling over the leading axis accumulates one double per output. */
static size_t reduce_scratch(const gk_op *op, const gk_shape *in, size_t max_nodes) {
    (void)op;
    return gk_sat_mul(2, rows_of(&in[0], max_nodes, 0));
}

static size_t no_scratch(const gk_op *op, const gk_shape *in, size_t max_nodes) {
    (void)op;
    (void)in;
    (void)max_nodes;
    return 0;
}

/* ---- the table -------------------------------------------------------- */

#define UNARY(nm, kind, keys, parse) \
    {nm, kind, 1, 1, 1, keys, parse, same_shape, no_scratch, gk_run_unary}
#define BINARY(nm, kind) \
    {nm, kind, 2, 2, 1, no_keys, parse_none, broadcast, no_scratch, gk_run_binary}
#define REDUCE(nm, kind) \
    {nm, kind, 1, 1, 1, reduce_keys, parse_reduce, reduce_shape, reduce_scratch, gk_run_reduce}

static const gk_op_def table[] = {
    {"GATConv", GK_OP_CONV, 1, 1, 1, NULL, NULL, NULL, no_scratch, NULL},
    {"GATv2Conv", GK_OP_CONV, 1, 1, 1, NULL, NULL, NULL, no_scratch, NULL},
    {"linear", GK_OP_LINEAR, 1, 1, 1, linear_keys, parse_linear, linear_shape, no_scratch,
     gk_run_linear},
    {"constant", GK_OP_CONSTANT, 0, 0, 1, const_keys, parse_constant, target_shape,
     no_scratch, gk_run_constant},
    UNARY("relu", GK_OP_RELU, no_keys, parse_none),
    UNARY("elu", GK_OP_ELU, elu_keys, parse_elu),
    UNARY("leaky_relu", GK_OP_LEAKY_RELU, lrelu_keys, parse_lrelu),
    UNARY("gelu", GK_OP_GELU, gelu_keys, parse_gelu),
    UNARY("silu", GK_OP_SILU, no_keys, parse_none),
    UNARY("sigmoid", GK_OP_SIGMOID, no_keys, parse_none),
    UNARY("tanh", GK_OP_TANH, no_keys, parse_none),
    UNARY("softplus", GK_OP_SOFTPLUS, softplus_keys, parse_softplus),
    UNARY("exp", GK_OP_EXP, no_keys, parse_none),
    UNARY("log", GK_OP_LOG, no_keys, parse_none),
    UNARY("abs", GK_OP_ABS, no_keys, parse_none),
    UNARY("sqrt", GK_OP_SQRT, no_keys, parse_none),
    UNARY("rsqrt", GK_OP_RSQRT, no_keys, parse_none),
    UNARY("clamp", GK_OP_CLAMP, clamp_keys, parse_clamp),
    UNARY("scalar", GK_OP_SCALAR, scalar_keys, parse_scalar),
    UNARY("logical_not", GK_OP_NOT, no_keys, parse_none),
    BINARY("add", GK_OP_ADD),
    BINARY("sub", GK_OP_SUB),
    BINARY("mul", GK_OP_MUL),
    BINARY("div", GK_OP_DIV),
    BINARY("pow", GK_OP_POW),
    BINARY("maximum", GK_OP_MAXIMUM),
    BINARY("minimum", GK_OP_MINIMUM),
    BINARY("eq", GK_OP_EQ),
    BINARY("ne", GK_OP_NE),
    BINARY("lt", GK_OP_LT),
    BINARY("le", GK_OP_LE),
    BINARY("gt", GK_OP_GT),
    BINARY("ge", GK_OP_GE),
    {"masked_fill", GK_OP_MASKED_FILL, 2, 2, 1, fill_keys, parse_fill, broadcast, no_scratch,
     gk_run_masked_fill},
    {"where", GK_OP_WHERE, 3, 3, 1, no_keys, parse_none, broadcast3, no_scratch,
     gk_run_where},
    {"reshape", GK_OP_RESHAPE, 1, 1, 1, no_keys, parse_target, reshape_shape, no_scratch,
     gk_run_copy},
    {"slice", GK_OP_SLICE, 1, 1, 1, slice_keys, parse_slice, slice_shape, no_scratch,
     gk_run_slice},
    {"concat", GK_OP_CONCAT, 1, GK_OP_MAX_INPUTS, 1, dim_keys, parse_dim, concat_shape,
     no_scratch, gk_run_concat},
    {"permute", GK_OP_PERMUTE, 1, 1, 1, perm_keys, parse_permute, permute_shape, no_scratch,
     gk_run_permute},
    {"expand", GK_OP_EXPAND, 1, 1, 1, no_keys, parse_target, expand_shape, no_scratch,
     gk_run_expand},
    {"softmax", GK_OP_SOFTMAX, 1, 1, 1, dim_keys, parse_dim, softmax_shape, no_scratch,
     gk_run_softmax},
    {"log_softmax", GK_OP_LOG_SOFTMAX, 1, 1, 1, dim_keys, parse_dim, softmax_shape,
     no_scratch, gk_run_softmax},
    REDUCE("sum", GK_OP_SUM),
    REDUCE("mean", GK_OP_MEAN),
    REDUCE("max", GK_OP_MAX),
    REDUCE("min", GK_OP_MIN),
    {"var", GK_OP_VAR, 1, 1, 1, var_keys, parse_reduce, reduce_shape, no_scratch,
     gk_run_reduce},
    {"std", GK_OP_STD, 1, 1, 1, var_keys, parse_reduce, reduce_shape, no_scratch,
     gk_run_reduce},
    {"layer_norm", GK_OP_LAYER_NORM, 1, 1, 1, ln_keys, parse_layer_norm, same_shape,
     no_scratch, gk_run_layer_norm},
    {"graph_layer_norm", GK_OP_GRAPH_LAYER_NORM, 1, 1, 1, gln_keys, parse_graph_layer_norm,
     same_shape, no_scratch, gk_run_graph_layer_norm},
    {"scale_shift", GK_OP_SCALE_SHIFT, 1, 1, 1, ss_keys, parse_scale_shift, same_shape,
     no_scratch, gk_run_scale_shift},
    {"lstm", GK_OP_LSTM, 1, 1, 3, rnn_keys, parse_rnn, rnn_shape, rnn_scratch, gk_run_rnn},
    {"gru", GK_OP_GRU, 1, 1, 2, rnn_keys, parse_rnn, rnn_shape, rnn_scratch, gk_run_rnn},
    {"lstm_cell", GK_OP_LSTM_CELL, 1, 3, 2, cell_keys, parse_rnn, cell_shape, rnn_scratch,
     gk_run_rnn_cell},
    {"gru_cell", GK_OP_GRU_CELL, 1, 2, 1, cell_keys, parse_rnn, cell_shape, rnn_scratch,
     gk_run_rnn_cell},
    {"embedding", GK_OP_EMBEDDING, 1, 1, 1, emb_keys, parse_embedding, embedding_shape,
     no_scratch, gk_run_embedding},
};

const gk_op_def *gk_op_find(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

const char *gk_op_closest(const char *name) {
    const char *names[sizeof table / sizeof table[0]];
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) names[i] = table[i].name;
    return gk_closest_name(name, names, sizeof table / sizeof table[0]);
}

const gk_op_def *gk_op_def_of(gk_op_kind kind) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].kind == kind) return &table[i];
    return NULL;
}

/* ---- the declared output shape (for reshape / expand / constant) ------- */

static int declared_shape(gk_op_parse *ps, gk_shape *s) {
    const json_t *shapes = json_object_get(ps->object, "shapes");
    const json_t *list = json_array_get(shapes, 0);
    memset(s, 0, sizeof *s);
    if (!json_is_array(list) || json_array_size(list) > GK_MAX_RANK) {
        gk_op_fail(ps, GK_EMETADATA, "'shapes' must hold the output shape (rank <= %d)",
                   GK_MAX_RANK);
        return 0;
    }
    s->ndim = (int)json_array_size(list);
    for (int d = 0; d < s->ndim; d++) {
        const json_t *v = json_array_get(list, (size_t)d);
        if (json_is_string(v) && strcmp(json_string_value(v), "N") == 0) {
            s->dims[d] = 1;
            s->node_dims |= 1u << d;
        } else if (json_is_integer(v) && json_integer_value(v) >= 1 &&
                   json_integer_value(v) <= (1 << 24)) {
            s->dims[d] = json_integer_value(v);
        } else {
            gk_op_fail(ps, GK_EMETADATA, "shape entries are \"N\" or sizes in [1, 2^24]");
            return 0;
        }
    }
    return 1;
}
