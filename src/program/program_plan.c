/* The plan of a version-2 model: the op list becomes a schedule at creation.
 *
 *  - each conv group gets a graph and a layer plan of its own (kernels
 *    chosen by the selector as for a format-1 model);
 *  - every value gets a place in one arena, reused once the value is dead
 *    (first fit over freed blocks, by the liveness the parser recorded); a
 *    reshape shares its input's place;
 *  - the arena, the op scratch and every graph and layer plan are allocated
 *    and touched here, so that gk_infer_named touches no new page. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ops.h"
#include "plan.h"
#include "program_plan.h"
#include "registry.h"
#include "select.h"

#define GK_ALIGN_FLOATS 16

static size_t round_up(size_t n) {
    return (n + GK_ALIGN_FLOATS - 1) / GK_ALIGN_FLOATS * GK_ALIGN_FLOATS;
}

typedef struct block {
    size_t offset, size;
    int free;
} block;

/* The value whose storage v uses: itself, or through reshapes and fused
 * ops the input they alias. */
static int storage_root(const gk_program *prog, int v) {
    for (;;) {
        int p = prog->values[v].producer;
        if (p < 0) return v;
        const gk_op *op = &prog->ops[p];
        if (op->kind == GK_OP_RESHAPE) v = op->inputs[0];
        else if (op->alias_of >= 0) v = op->inputs[op->alias_of];
        else return v;
    }
}

/* Last op that reads v's storage (through aliases); num_ops if an output. */
static void storage_ends(const gk_program *prog, int *end) {
    for (int v = 0; v < prog->num_values; v++) end[v] = prog->values[v].last_use;
    for (int v = prog->num_values - 1; v >= 0; v--) {
        int r = storage_root(prog, v);
        if (r != v && end[v] > end[r]) end[r] = end[v];
    }
}

static gk_status place_values(gk_program_plan *pp, gk_error *err) {
    const gk_program *prog = pp->prog;
    int nv = prog->num_values;
    int *end = gk_calloc_array((size_t)nv, sizeof *end);
    block *blocks = gk_calloc_array((size_t)nv + 1, sizeof *blocks);
    int *block_of = gk_calloc_array((size_t)nv, sizeof *block_of);
    if (!end || !blocks || !block_of) {
        gk_free(end);
        gk_free(blocks);
        gk_free(block_of);
        return gk_fail(err, GK_ENOMEM, "gk_plan_create: out of memory");
    }
    storage_ends(prog, end);
    int nb = 0;
    size_t top = 0;
    for (int i = 0; i < prog->num_ops; i++) {
        const gk_op *op = &prog->ops[i];
        for (int k = 0; k < op->num_outputs; k++) {
            int v = op->outputs[k];
            pp->root[v] = storage_root(prog, v);
            if (pp->root[v] != v) continue;
            int64_t dims[GK_MAX_RANK];
            size_t numel = gk_shape_resolve(&prog->values[v].shape, pp->max_nodes, dims);
            if (numel > GK_MAX_VALUE_FLOATS || top > GK_MAX_VALUE_FLOATS) {
                gk_free(end);
                gk_free(blocks);
                gk_free(block_of);
                return gk_fail(err, GK_EOVERFLOW, "gk_plan_create: value '%s' needs %zu "
                               "floats for %zu nodes (at most %zu per plan)",
                               prog->values[v].name, numel, pp->max_nodes,
                               (size_t)GK_MAX_VALUE_FLOATS);
            }
            size_t need = round_up(numel);
            int found = -1;
            for (int b = 0; b < nb && found < 0; b++)
                if (blocks[b].free && blocks[b].size >= need) found = b;
            if (found < 0) {
                found = nb++;
                blocks[found] = (block){top, need, 0};
                top += need;
            }
            blocks[found].free = 0;
            block_of[v] = found;
            pp->offset[v] = blocks[found].offset;
        }
        /* storage dead after op i is free for the ops after it */
        for (int v = 0; v < nv; v++)
            if (prog->values[v].producer >= 0 && prog->values[v].producer <= i &&
                pp->root[v] == v && end[v] <= i && block_of[v] >= 0) {
                blocks[block_of[v]].free = 1;
                block_of[v] = -1;  /* freed once: the block may be reused */
            }
    }
    pp->arena_floats = top;
    gk_free(end);
    gk_free(blocks);
    gk_free(block_of);
    return GK_OK;
}

static size_t scratch_floats(const gk_program_plan *pp) {
    const gk_program *prog = pp->prog;
    size_t most = 0;
    for (int i = 0; i < prog->num_ops; i++) {
        const gk_op *op = &prog->ops[i];
        gk_shape in[GK_OP_MAX_INPUTS];
        for (int k = 0; k < op->num_inputs; k++) in[k] = prog->values[op->inputs[k]].shape;
        size_t s = gk_op_def_of(op->kind)->scratch(op, in, pp->max_nodes);
        if (op->kind == GK_OP_LINEAR) {  /* a padded kernel output: rows x ts */
            gk_shape rows = in[0];
            rows.ndim--;
            int64_t dims[GK_MAX_RANK];
            s = gk_sat_mul(gk_shape_resolve(&rows, pp->max_nodes, dims),
                           ((size_t)op->out_features + 15) / 16 * 16);
        }
        if (s > most) most = s;
    }
    return most;
}

/* Linear ops whose padded output width has a generated transform kernel
 * (any in_features: the kernels read F_in at run time) for the plan's ISA,
 * or a lower one down to portable C, run on it (the generic path keeps the
 * per-ISA loop). Its weights: padded copies, made here. */
static gk_phase_fn find_transform(gk_isa isa, int width, int cols, const char **name) {
    const gk_kernel_row *tr = gk_reg_find_transform(isa, width, cols);
    if (tr && name) *name = tr->name;
    return tr ? tr->fn : NULL;
}

/* An RNN's gate products have 3H or 4H columns: kernels when a multiple of
 * 16 (W_ih^T and W_hh^T are then laid out as the kernels read them); one
 * kernel serves the input products of every layer and the hidden ones. */
static void select_rnn(const gk_op *op, gk_isa isa, gk_dense *d) {
    int gates = op->kind == GK_OP_LSTM || op->kind == GK_OP_LSTM_CELL ? 4 : 3;
    int out = gates * op->out_features;
    if (out % 16) return;
    d->rnn_gates = find_transform(isa, out, out, &d->name);
}

static gk_status select_dense(gk_program_plan *pp, gk_isa isa, gk_error *err) {
    const gk_program *prog = pp->prog;
    for (int i = 0; i < prog->num_ops; i++) {
        const gk_op *op = &prog->ops[i];
        gk_dense *d = &pp->dense[i];
        if (isa == GK_ISA_GENERIC) continue;
        if (op->kind >= GK_OP_LSTM && op->kind <= GK_OP_GRU_CELL) select_rnn(op, isa, d);
        if (op->kind != GK_OP_LINEAR) continue;
        d->ts = ((size_t)op->out_features + 15) / 16 * 16;
        const char *name = NULL;
        gk_phase_fn fn = find_transform(isa, (int)d->ts, op->out_features, &name);
        if (!fn) continue;
        size_t in = (size_t)op->in_features, out = (size_t)op->out_features;
        float *w = gk_calloc_array(in * d->ts, sizeof *w);
        float *b = op->tensors[1] ? gk_calloc_array(d->ts, sizeof *b) : NULL;
        if (!w || (op->tensors[1] && !b)) {
            gk_free(w);
            gk_free(b);
            return gk_fail(err, GK_ENOMEM, "gk_plan_create: no memory for a linear kernel");
        }
        for (size_t r = 0; r < in; r++)
            memcpy(w + r * d->ts, op->tensors[0] + r * out, out * sizeof *w);
        if (b) memcpy(b, op->tensors[1], out * sizeof *b);
        d->layer.w_fused = w;
        d->layer.b_fused = b;
        d->layer.info.in_channels = op->in_features;  /* the kernel's F_in */
        d->fn = fn;
        d->name = name;
    }
    return GK_OK;
}

static gk_status create_groups(gk_program_plan *pp, const gk_plan_options *opt,
                               gk_error *err) {
    const gk_program *prog = pp->prog;
    gk_status st = GK_OK;
    for (int g = 0; g < prog->num_groups && st == GK_OK; g++) {
        const gk_model *m = prog->groups[g].model;
        st = gk_graph_create(m, pp->max_nodes, pp->max_edges, &pp->graphs[g], err);
        if (st == GK_OK)
            st = gk_plan_create(m, pp->max_nodes, pp->max_edges, opt, &pp->plans[g], err);
    }
    return st;
}

void gk_program_plan_free(gk_program_plan *pp) {
    if (!pp) return;
    for (int g = 0; g < pp->prog->num_groups; g++) {
        if (pp->plans) gk_plan_free(pp->plans[g]);
        if (pp->graphs) gk_graph_free(pp->graphs[g]);
    }
    for (int i = 0; pp->dense && i < pp->prog->num_ops; i++) {
        gk_free(pp->dense[i].layer.w_fused);
        gk_free(pp->dense[i].layer.b_fused);
    }
    gk_free(pp->dense);
    gk_free(pp->plans);
    gk_free(pp->graphs);
    gk_free(pp->arena);
    gk_free(pp->scratch);
    gk_free(pp->offset);
    gk_free(pp->root);
    gk_free(pp->ptr);
    gk_free(pp);
}

gk_status gk_program_plan_create(const gk_program *prog, size_t max_nodes,
                                 size_t max_edges, const gk_plan_options *opt,
                                 gk_program_plan **out, gk_error *err) {
    *out = NULL;
    gk_program_plan *pp = gk_alloc(sizeof *pp);
    if (!pp) return gk_fail(err, GK_ENOMEM, "gk_plan_create: out of memory");
    pp->prog = prog;
    pp->max_nodes = max_nodes;
    pp->max_edges = max_edges;
    size_t nv = (size_t)prog->num_values, ng = (size_t)(prog->num_groups ? prog->num_groups : 1);
    pp->offset = gk_calloc_array(nv, sizeof *pp->offset);
    pp->root = gk_calloc_array(nv, sizeof *pp->root);
    pp->ptr = gk_calloc_array(nv, sizeof *pp->ptr);
    pp->graphs = gk_calloc_array(ng, sizeof *pp->graphs);
    pp->plans = gk_calloc_array(ng, sizeof *pp->plans);
    pp->dense = gk_calloc_array((size_t)(prog->num_ops ? prog->num_ops : 1), sizeof *pp->dense);
    gk_status st = (pp->offset && pp->root && pp->ptr && pp->graphs && pp->plans && pp->dense)
                       ? GK_OK
                       : gk_fail(err, GK_ENOMEM, "gk_plan_create: out of memory");
    for (size_t v = 0; v < nv; v++) pp->root[v] = (int)v;
    if (st == GK_OK) st = place_values(pp, err);
    if (st == GK_OK) {
        pp->scratch_floats = scratch_floats(pp);
        if (pp->scratch_floats > GK_MAX_VALUE_FLOATS)
            st = gk_fail(err, GK_EOVERFLOW, "gk_plan_create: an op needs %zu floats of "
                         "scratch for %zu nodes", pp->scratch_floats, max_nodes);
    }
    if (st == GK_OK) {
        pp->arena = gk_calloc_array(pp->arena_floats + GK_ALIGN_FLOATS, sizeof(float));
        pp->scratch = gk_calloc_array(pp->scratch_floats + GK_ALIGN_FLOATS, sizeof(float));
        if (!pp->arena || !pp->scratch)
            st = gk_fail(err, GK_ENOMEM, "gk_plan_create: no memory for %zu floats of "
                         "values", pp->arena_floats + pp->scratch_floats);
    }
    if (st == GK_OK) st = select_dense(pp, opt->isa, err);
    if (st == GK_OK) st = create_groups(pp, opt, err);
    if (st != GK_OK) {
        gk_program_plan_free(pp);
        return st;
    }
    *out = pp;
    return GK_OK;
}

/* ---- describing the schedule ---------------------------------------------- */

static void shape_text(const gk_shape *s, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < s->ndim && used < size; d++)
        used += ((s->node_dims >> d) & 1u)
                    ? (size_t)snprintf(buf + used, size - used, "%sN", d ? "," : "")
                    : (size_t)snprintf(buf + used, size - used, "%s%lld", d ? "," : "",
                                       (long long)s->dims[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

/* How a non-conv op runs: no generated kernel serves these kinds yet. */
static const char *implementation(gk_op_kind kind) {
    switch (kind) {
    case GK_OP_LINEAR: return "4x16 register-tiled loop, built per ISA (ops_linear.c)";
    case GK_OP_LSTM: case GK_OP_GRU: case GK_OP_LSTM_CELL: case GK_OP_GRU_CELL:
        return "gate products tiled, steps vectorized, built per ISA (ops_rnn.c)";
    case GK_OP_LAYER_NORM: return "16-lane moments, built per ISA (ops_norm.c)";
    case GK_OP_RELU: case GK_OP_ELU: case GK_OP_LEAKY_RELU: case GK_OP_GELU:
    case GK_OP_SILU: case GK_OP_SIGMOID: case GK_OP_TANH: case GK_OP_SOFTPLUS:
    case GK_OP_EXP: case GK_OP_LOG: case GK_OP_ABS: case GK_OP_SQRT: case GK_OP_RSQRT:
    case GK_OP_CLAMP: case GK_OP_SCALAR: case GK_OP_NOT:
        return "elementwise loop, built per ISA (ops_elementwise.c)";
    case GK_OP_ADD: case GK_OP_SUB: case GK_OP_MUL: case GK_OP_DIV: case GK_OP_POW:
    case GK_OP_MAXIMUM: case GK_OP_MINIMUM: case GK_OP_EQ: case GK_OP_NE: case GK_OP_LT:
    case GK_OP_LE: case GK_OP_GT: case GK_OP_GE: case GK_OP_MASKED_FILL: case GK_OP_WHERE:
        return "broadcasting loop, portable C (ops_elementwise.c)";
    case GK_OP_SOFTMAX: case GK_OP_LOG_SOFTMAX:
        return "along rows in 16 lanes, built per ISA, when the axis is the last "
               "(ops_reduce.c)";
    case GK_OP_SUM: case GK_OP_MEAN: case GK_OP_MAX: case GK_OP_MIN:
        return "sums in double; over the leading axis along rows, built per ISA "
               "(ops_reduce.c)";
    case GK_OP_VAR: case GK_OP_STD:
        return "two passes in double, portable C (ops_reduce.c)";
    case GK_OP_GRAPH_LAYER_NORM: case GK_OP_SCALE_SHIFT:
        return "portable C (ops_norm.c)";
    case GK_OP_EMBEDDING: return "row lookup, portable C (ops_layout.c)";
    default: return "copy, portable C (ops_layout.c)";
    }
}

size_t gk_program_plan_describe(const gk_program_plan *pp, gk_isa isa, char *buf,
                                size_t size) {
    const gk_program *prog = pp->prog;
    size_t len = 0;
    char line[640];
#define APPEND(...)                                                             \
    do {                                                                        \
        int k_ = snprintf(line, sizeof line, __VA_ARGS__);                      \
        if (k_ > 0) {                                                           \
            if (buf && len < size) snprintf(buf + len, size - len, "%s", line); \
            len += (size_t)k_;                                                  \
        }                                                                       \
    } while (0)
    APPEND("plan: %d ops (format 2), %d edge set(s), isa %s, up to %zu nodes and %zu "
           "edges, %zu KiB of values\n", prog->num_ops, prog->num_groups, gk_isa_name(isa),
           pp->max_nodes, pp->max_edges, pp->arena_floats * sizeof(float) / 1024);
    for (int i = 0; i < prog->num_inputs; i++)
        APPEND("  input  %-18s %s\n", prog->inputs[i].name,
               (const char *[]){"nodes", "edge_index", "edges", "fixed"}[prog->inputs[i].kind]);
    for (int i = 0; i < prog->num_ops; i++) {
        const gk_op *op = &prog->ops[i];
        const gk_op_def *def = gk_op_def_of(op->kind);
        char shape[64];
        shape_text(&prog->values[op->outputs[0]].shape, shape, sizeof shape);
        const char *kind = def->name;
        if (op->kind == GK_OP_CONV) {
            const gk_plan *sub = pp->plans[op->conv_group];
            kind = sub->model->layers[op->conv_layer].info.type == GK_LAYER_GATV2
                       ? "GATv2Conv" : "GATConv";
            APPEND("  op %-3d %-10s %-14s -> %-10s %-12s kernel %s\n         why: %s\n", i,
                   kind, op->name, prog->values[op->outputs[0]].name, shape,
                   sub->kernels[op->conv_layer].name, sub->reasons[op->conv_layer]);
        } else if (pp->dense[i].rnn_gates) {
            APPEND("  op %-3d %-10s %-14s -> %-10s %-12s gate products on generated kernel "
                   "%s, steps vectorized per ISA\n", i, kind, op->name,
                   prog->values[op->outputs[0]].name, shape, pp->dense[i].name);
        } else if (pp->dense[i].fn) {
            APPEND("  op %-3d %-10s %-14s -> %-10s %-12s kernel %s%s\n", i, kind, op->name,
                   prog->values[op->outputs[0]].name, shape, pp->dense[i].name,
                   op->num_fused ? ", with the fused ops below" : "");
        } else {
            APPEND("  op %-3d %-10s %-14s -> %-10s %-12s %s\n", i, kind, op->name,
                   prog->values[op->outputs[0]].name, shape,
                   op->alias_of >= 0 ? "fused into the linear op that produces its input"
                   : pp->root[op->outputs[0]] != op->outputs[0] ? "alias of its input (no copy)"
                   : op->num_fused
                       ? "4x16 register-tiled loop, built per ISA, with the fused ops below"
                       : implementation(op->kind));
        }
    }
    for (int i = 0; i < prog->num_outputs; i++)
        APPEND("  output %-18s = %s\n", prog->outputs[i].name,
               prog->values[prog->outputs[i].value].name);
#undef APPEND
    if (buf && size && len >= size) buf[size - 1] = '\0';
    return len;
}
