/* gk_infer_named: a version-2 model's inputs by name -> checks -> graphs
 * -> the schedule -> outputs by name. Everything it touches was allocated
 * at plan creation; it allocates nothing, takes no lock, makes no system
 * call (the conv layer plans run threaded as gk_infer does). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "finite.h"
#include "graph.h"
#include "ops.h"
#include "plan.h"
#include "program_plan.h"

/* What one call was given, input by input. */
typedef struct call {
    const gk_tensor *given[64];  /* by program input index               */
    size_t nodes;
    size_t edges[64];            /* edge_index inputs: E                 */
} call;

static const char *dtype_name(gk_tensor_dtype t) {
    return t == GK_TENSOR_F32 ? "float32" : t == GK_TENSOR_I64 ? "int64"
           : t == GK_TENSOR_I32 ? "int32" : "an unknown dtype";
}

static int find_input(const gk_program *prog, const char *name) {
    for (int i = 0; i < prog->num_inputs; i++)
        if (strcmp(prog->inputs[i].name, name) == 0) return i;
    return -1;
}

static void input_list(const gk_program *prog, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < prog->num_inputs && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                                 prog->inputs[i].name);
}

static gk_status match_inputs(const gk_program *prog, const gk_tensor *inputs, size_t count,
                              call *c, gk_error *err) {
    char names[160];
    for (size_t k = 0; k < count; k++) {
        const gk_tensor *t = &inputs[k];
        int i = t->name ? find_input(prog, t->name) : -1;
        if (i < 0) {
            input_list(prog, names, sizeof names);
            return gk_fail(err, GK_EINVAL, "gk_infer_named: no input named '%s' (the model "
                           "takes %s)", t->name ? t->name : "(null)", names);
        }
        if (c->given[i])
            return gk_fail(err, GK_EINVAL, "gk_infer_named: input '%s' given twice", t->name);
        if (!t->data)
            return gk_fail(err, GK_EINVAL, "gk_infer_named: input '%s' has no data", t->name);
        c->given[i] = t;
    }
    for (int i = 0; i < prog->num_inputs; i++)
        if (!c->given[i])
            return gk_fail(err, GK_EINVAL, "gk_infer_named: input '%s' is missing",
                           prog->inputs[i].name);
    return GK_OK;
}

static gk_status shape_error(const gk_input *in, const gk_tensor *t, size_t n, size_t e,
                             gk_error *err) {
    char want[96] = "[", got[96] = "[";
    for (int d = 0; d < in->shape.ndim; d++) {
        const char *sep = d ? ", " : "";
        if ((in->shape.node_dims >> d) & 1u)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%sN=%zu", sep, n);
        else if (in->kind == GK_IO_EDGES && d == 0)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%sE=%zu", sep, e);
        else
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", sep,
                     (long long)in->shape.dims[d]);
    }
    for (int d = 0; d < t->ndim && d < GK_MAX_RANK; d++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? ", " : "",
                 (long long)t->shape[d]);
    return gk_fail(err, GK_ESHAPE, "gk_infer_named: input '%s' has shape %s], expected %s]",
                   in->name, got, want);
}

/* N from the node inputs; E from each edge_index; then every shape. */
static gk_status check_shapes(const gk_program_plan *pp, call *c, gk_error *err) {
    const gk_program *prog = pp->prog;
    c->nodes = 0;
    int have_nodes = 0;
    for (int i = 0; i < prog->num_inputs; i++) {
        const gk_input *in = &prog->inputs[i];
        const gk_tensor *t = c->given[i];
        if (t->ndim < 1 || t->ndim > GK_MAX_RANK)
            return shape_error(in, t, c->nodes, 0, err);
        if (in->kind == GK_IO_EDGE_INDEX) {
            if (t->dtype != GK_TENSOR_I64 && t->dtype != GK_TENSOR_I32)
                return gk_fail(err, GK_EDTYPE, "gk_infer_named: input '%s' is %s, expected "
                               "int64 or int32", in->name, dtype_name(t->dtype));
            if (t->ndim != 2 || t->shape[0] != 2 || t->shape[1] < 0)
                return gk_fail(err, GK_ESHAPE, "gk_infer_named: input '%s' must be [2, E]",
                               in->name);
            c->edges[i] = (size_t)t->shape[1];
            if (c->edges[i] > pp->max_edges)
                return gk_fail(err, GK_ELIMIT, "gk_infer_named: '%s' has %zu edges, the plan "
                               "holds %zu", in->name, c->edges[i], pp->max_edges);
            continue;
        }
        if (in->integer ? t->dtype == GK_TENSOR_F32 : t->dtype != GK_TENSOR_F32)
            return gk_fail(err, GK_EDTYPE, "gk_infer_named: input '%s' is %s, expected %s",
                           in->name, dtype_name(t->dtype),
                           in->integer ? "int64 or int32 (indices)" : "float32");
        if (in->kind == GK_IO_NODES && !have_nodes) {
            have_nodes = 1;
            c->nodes = t->shape[0] > 0 ? (size_t)t->shape[0] : 0;
            if (t->shape[0] < 1)
                return gk_fail(err, GK_ESHAPE, "gk_infer_named: input '%s' has no nodes",
                               in->name);
            if (c->nodes > pp->max_nodes)
                return gk_fail(err, GK_ELIMIT, "gk_infer_named: %zu nodes, the plan holds %zu",
                               c->nodes, pp->max_nodes);
        }
    }
    if (!have_nodes) c->nodes = 1;
    for (int i = 0; i < prog->num_inputs; i++) {
        const gk_input *in = &prog->inputs[i];
        const gk_tensor *t = c->given[i];
        if (in->kind == GK_IO_EDGE_INDEX) continue;
        size_t e = in->kind == GK_IO_EDGES ? c->edges[in->edge_index] : 0;
        int ok = t->ndim == in->shape.ndim;
        for (int d = 0; ok && d < t->ndim; d++) {
            int64_t want = ((in->shape.node_dims >> d) & 1u) ? (int64_t)c->nodes
                           : (in->kind == GK_IO_EDGES && d == 0) ? (int64_t)e
                                                                 : in->shape.dims[d];
            ok = t->shape[d] == want;
        }
        /* PyG reads a 1-D edge weight as [E, 1] */
        if (!ok && in->kind == GK_IO_EDGES && in->shape.ndim == 2 && in->shape.dims[1] == 1 &&
            t->ndim == 1 && t->shape[0] == (int64_t)e)
            ok = 1;
        if (!ok) return shape_error(in, t, c->nodes, e, err);
    }
    return GK_OK;
}

static gk_status check_finite(const gk_program *prog, const call *c, gk_error *err) {
    for (int i = 0; i < prog->num_inputs; i++) {
        const gk_input *in = &prog->inputs[i];
        if (in->kind == GK_IO_EDGE_INDEX || in->integer) continue;
        const gk_tensor *t = c->given[i];
        size_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
        size_t k = gk_first_nonfinite(t->data, n);
        if (k < n)
            return gk_fail(err, GK_ENONFINITE, "gk_infer_named: input '%s' element %zu "
                           "is not finite", in->name, k);
    }
    return GK_OK;
}

/* Every index an embedding reads names a row of its table. */
static gk_status check_embeddings(const gk_program *prog, const call *c, gk_error *err) {
    for (int i = 0; i < prog->num_ops; i++) {
        const gk_op *op = &prog->ops[i];
        if (op->kind != GK_OP_EMBEDDING) continue;
        int k = prog->values[op->inputs[0]].input;
        const gk_tensor *t = c->given[k];
        size_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
        for (size_t j = 0; j < n; j++) {
            int64_t row = t->dtype == GK_TENSOR_I32 ? ((const int32_t *)t->data)[j]
                                                    : ((const int64_t *)t->data)[j];
            if (row < 0 || row >= op->in_features)
                return gk_fail(err, GK_EINDEX, "gk_infer_named: %s[%zu] = %lld is not a row "
                               "of embedding '%s' (0..%d)", t->name, j, (long long)row,
                               op->name, op->in_features - 1);
        }
    }
    return GK_OK;
}

/* Ops that pick one node by index need that node to exist. */
static gk_status check_node_picks(const gk_program *prog, size_t n, gk_error *err) {
    for (int i = 0; i < prog->num_ops; i++) {
        const gk_op *op = &prog->ops[i];
        if (op->kind != GK_OP_SLICE) continue;
        const gk_shape *s = &prog->values[op->inputs[0]].shape;
        if (!((s->node_dims >> op->dim) & 1u)) continue;
        int64_t at = op->start < 0 ? op->start + (int64_t)n : op->start;
        if (at < 0 || at >= (int64_t)n)
            return gk_fail(err, GK_EINDEX, "gk_infer_named: op %d%s%s picks node %lld of a "
                           "graph of %zu nodes", i, op->name[0] ? " " : "", op->name,
                           (long long)op->start, n);
    }
    return GK_OK;
}

static gk_status build_graphs(gk_program_plan *pp, const call *c, gk_error *err) {
    const gk_program *prog = pp->prog;
    for (int g = 0; g < prog->num_groups; g++) {
        const gk_conv_group *grp = &prog->groups[g];
        const gk_tensor *ei = c->given[grp->edge_index];
        const float *attr = grp->edge_attr >= 0 ? c->given[grp->edge_attr]->data : NULL;
        gk_status st = gk_graph_set_coo(pp->graphs[g], c->nodes, c->edges[grp->edge_index],
                                        ei->data, ei->dtype == GK_TENSOR_I64 ? GK_INDEX_I64
                                                                            : GK_INDEX_I32,
                                        attr, err);
        if (st != GK_OK) return st;
    }
    return GK_OK;
}

/* ---- the schedule ---------------------------------------------------------- */

static void bind_values(gk_program_plan *pp, const call *c, const float *const *inputs) {
    const gk_program *prog = pp->prog;
    for (int i = 0; i < prog->num_inputs; i++)
        if (prog->inputs[i].value >= 0)
            pp->ptr[prog->inputs[i].value] = inputs ? inputs[i] : c->given[i]->data;
    for (int v = 0; v < prog->num_values; v++)
        if (prog->values[v].producer >= 0 && pp->root[v] == v)
            pp->ptr[v] = pp->arena + pp->offset[v];
    for (int v = 0; v < prog->num_values; v++)
        if (pp->root[v] != v) pp->ptr[v] = pp->ptr[pp->root[v]];
}

/* A linear op on its generated kernel: rows of x -> y, through the scratch
 * when out is not a multiple of 16 (the kernel writes ts columns). */
static void run_dense(gk_program_plan *pp, const gk_dense *d, const gk_op_ctx *ctx) {
    size_t rows = 1, out = (size_t)ctx->op->out_features;
    for (int k = 0; k + 1 < ctx->in_ndim[0]; k++) rows *= (size_t)ctx->in_dims[0][k];
    gk_layer_run run;
    memset(&run, 0, sizeof run);
    run.layer = &d->layer;
    run.x = ctx->in[0];
    run.t = d->ts == out ? ctx->out[0] : pp->scratch;
    run.t_stride = d->ts;
    d->fn(&run, 0, rows);
    if (run.t != ctx->out[0])
        for (size_t r = 0; r < rows; r++)
            memcpy(ctx->out[0] + r * out, run.t + r * d->ts, out * sizeof(float));
    if (ctx->num_fused) gk_linear_epilogue(ctx, rows, out);
}

static void run_op(gk_program_plan *pp, const gk_op *op, size_t n, const gk_graph *graph0) {
    const gk_program *prog = pp->prog;
    if (op->kind == GK_OP_CONV) {
        const gk_graph *g = graph0 && op->conv_group == 0 ? graph0 : pp->graphs[op->conv_group];
        gk_plan_run_layers(pp->plans[op->conv_group], g, op->conv_layer, op->conv_layer,
                           pp->ptr[op->inputs[0]], (float *)pp->ptr[op->outputs[0]]);
        return;
    }
    if (op->num_outputs == 1 && pp->root[op->outputs[0]] != op->outputs[0]) return;
    gk_op_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.op = op;
    ctx.num_fused = op->num_fused;
    for (int k = 0; k < op->num_fused; k++) {
        const gk_op *f = &prog->ops[op->fused[k]];
        ctx.fused[k] = f;
        ctx.fused_operand[k] = f->kind == GK_OP_ADD ? pp->ptr[f->inputs[1 - f->alias_of]] : NULL;
    }
    ctx.num_inputs = op->num_inputs;
    ctx.scratch = pp->scratch;
    for (int k = 0; k < op->num_inputs; k++) {
        const gk_value *v = &prog->values[op->inputs[k]];
        ctx.in[k] = pp->ptr[op->inputs[k]];
        ctx.in_ndim[k] = v->shape.ndim;
        gk_shape_resolve(&v->shape, n, ctx.in_dims[k]);
    }
    for (int k = 0; k < op->num_outputs; k++) {
        const gk_value *v = &prog->values[op->outputs[k]];
        ctx.out[k] = v->last_use < 0 ? NULL : (float *)pp->ptr[op->outputs[k]];
        ctx.out_ndim[k] = v->shape.ndim;
        gk_shape_resolve(&v->shape, n, ctx.out_dims[k]);
    }
    if (op->num_outputs == 1) ctx.out[0] = (float *)pp->ptr[op->outputs[0]];
    const gk_dense *d = &pp->dense[op - prog->ops];
    if (op->kind == GK_OP_EMBEDDING)
        ctx.in_int32 = pp->int32_input[prog->values[op->inputs[0]].input];
    ctx.gemm = d->rnn_gates;
    if (d->fn) {
        run_dense(pp, d, &ctx);
        return;
    }
    gk_op_def_of(op->kind)->run(&ctx);
}

static void run_schedule(gk_program_plan *pp, size_t n, const gk_graph *graph0) {
    for (int i = 0; i < pp->prog->num_ops; i++) run_op(pp, &pp->prog->ops[i], n, graph0);
}

static gk_status write_outputs(const gk_program_plan *pp, size_t n, gk_tensor *outputs,
                               size_t count, gk_error *err) {
    const gk_program *prog = pp->prog;
    for (size_t k = 0; k < count; k++) {
        gk_tensor *t = &outputs[k];
        int o = -1;
        for (int i = 0; t->name && i < prog->num_outputs && o < 0; i++)
            if (strcmp(prog->outputs[i].name, t->name) == 0) o = i;
        if (o < 0)
            return gk_fail(err, GK_EINVAL, "gk_infer_named: no output named '%s' (the first "
                           "is '%s')", t->name ? t->name : "(null)", prog->outputs[0].name);
        const gk_value *v = &prog->values[prog->outputs[o].value];
        size_t numel = gk_shape_resolve(&v->shape, n, t->shape);
        if (!t->data || t->capacity < numel)
            return gk_fail(err, GK_ELIMIT, "gk_infer_named: output '%s' needs %zu floats, "
                           "its buffer holds %zu", t->name, numel, t->data ? t->capacity : 0);
        t->ndim = v->shape.ndim;
        t->dtype = GK_TENSOR_F32;
        memcpy(t->data, pp->ptr[prog->outputs[o].value], numel * sizeof(float));
    }
    return GK_OK;
}

gk_status gk_infer_named(gk_plan *p, const gk_tensor *inputs, size_t num_inputs,
                         gk_tensor *outputs, size_t num_outputs, gk_error *err) {
    if (!p || (num_inputs && !inputs) || (num_outputs && !outputs))
        return gk_fail(err, GK_EINVAL, "gk_infer_named: NULL argument");
    if (!p->program)
        return gk_fail(err, GK_EUNSUPPORTED, "gk_infer_named: the model is a format-1 layer "
                       "stack; run it with gk_infer");
    gk_program_plan *pp = p->program;
    if (num_inputs > 64) return gk_fail(err, GK_EINVAL, "gk_infer_named: %zu inputs", num_inputs);
    call c;
    memset(c.given, 0, sizeof c.given);
    gk_status st = match_inputs(pp->prog, inputs, num_inputs, &c, err);
    if (st == GK_OK) st = check_shapes(pp, &c, err);
    if (st == GK_OK && p->options.validate_inputs) st = check_finite(pp->prog, &c, err);
    if (st == GK_OK) st = check_node_picks(pp->prog, c.nodes, err);
    if (st == GK_OK) st = check_embeddings(pp->prog, &c, err);
    if (st == GK_OK) st = build_graphs(pp, &c, err);
    for (int i = 0; st == GK_OK && i < pp->prog->num_inputs; i++)
        pp->int32_input[i] = c.given[i]->dtype == GK_TENSOR_I32;
    if (st != GK_OK) return st;
    bind_values(pp, &c, NULL);
    run_schedule(pp, c.nodes, NULL);
    st = write_outputs(pp, c.nodes, outputs, num_outputs, err);
    if (st == GK_OK) gk_ok(err);
    return st;
}

gk_status gk_program_infer_graph(gk_plan *p, const gk_graph *g, const float *x, float *y,
                                 gk_error *err) {
    gk_program_plan *pp = p->program;
    const gk_program *prog = pp->prog;
    int node_input = -1, others = 0;
    for (int i = 0; i < prog->num_inputs; i++) {
        if (prog->inputs[i].kind == GK_IO_NODES && node_input < 0 && !prog->inputs[i].integer)
            node_input = i;
        else if (prog->inputs[i].kind == GK_IO_NODES || prog->inputs[i].kind == GK_IO_FIXED)
            others++;
    }
    if (prog->num_groups != 1 || node_input < 0 || others || prog->num_outputs != 1)
        return gk_fail(err, GK_EUNSUPPORTED, "gk_infer: this model has %d inputs and %d edge "
                       "sets; run it with gk_infer_named", prog->num_inputs, prog->num_groups);
    if (g->layout != pp->plans[0]->layout || g->num_layers != pp->plans[0]->model->num_layers)
        return gk_fail(err, GK_EMISMATCH, "gk_infer: the graph was not made by "
                       "gk_graph_create for this model");
    size_t n = g->num_nodes;
    if (n == 0) return gk_fail(err, GK_EINVAL, "gk_infer: the graph is empty (its last set_coo or set_complete failed?)");
    if (n > pp->max_nodes || g->num_edges > pp->max_edges)
        return gk_fail(err, GK_ELIMIT, "gk_infer: graph of %zu nodes/%zu edges exceeds the "
                       "plan's %zu/%zu", n, g->num_edges, pp->max_nodes, pp->max_edges);
    gk_status st = check_node_picks(prog, n, err);
    if (st != GK_OK) return st;
    const float *in[64] = {0};
    in[node_input] = x;
    call c;
    memset(&c, 0, sizeof c);
    bind_values(pp, &c, in);
    run_schedule(pp, n, g);
    const gk_value *v = &prog->values[prog->outputs[0].value];
    int64_t dims[GK_MAX_RANK];
    memcpy(y, pp->ptr[prog->outputs[0].value], gk_shape_resolve(&v->shape, n, dims) * sizeof *y);
    gk_ok(err);
    return GK_OK;
}
