/* Plans: every decision and every allocation, made once.
 *
 * A plan picks the kernels per layer (through the selector), allocates every
 * buffer inference needs for its maximum sizes, touches them, and runs the
 * transforms once so that BLIS's own buffers exist before the first call. */
#include "plan.h"
#include "program_plan.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "select.h"

gk_plan_options gk_plan_default_options(void) {
    gk_plan_options o;
    memset(&o, 0, sizeof o);
    o.threads = 1;
    o.isa = GK_ISA_AUTO;
    o.keep_attention = 0;
    o.validate_inputs = 1;
    o.pin_first_cpu = -1;
    o.spin_us = 200;
    return o;
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* Sizes in floats; 0 on overflow (caller reports it). */
static size_t checked_mul(size_t a, size_t b) {
    if (a != 0 && b > SIZE_MAX / a / sizeof(float)) return 0;
    return a * b;
}

static gk_status allocate_workspace(gk_workspace *w, size_t t_floats,
                                   size_t act_floats, size_t node_f, size_t node_i,
                                   size_t row_f, size_t pack_f, gk_error *err) {
    w->t = gk_calloc_array(t_floats, sizeof(float));
    w->act[0] = gk_calloc_array(act_floats, sizeof(float));
    w->act[1] = gk_calloc_array(act_floats, sizeof(float));
    w->node_scratch = gk_calloc_array(node_f, sizeof(float));
    w->node_iscratch = gk_calloc_array(node_i, sizeof(int32_t));
    w->row_scratch = gk_calloc_array(row_f, sizeof(float));
    w->pack_scratch = gk_calloc_array(pack_f, sizeof(float));
    if (!w->t || !w->act[0] || !w->act[1] || !w->node_scratch || !w->node_iscratch ||
        !w->row_scratch || !w->pack_scratch)
        return gk_fail(err, GK_ENOMEM, "plan: cannot allocate work buffers");
    return GK_OK;
}

static void free_workspace(gk_workspace *w) {
    gk_free(w->t);
    gk_free(w->act[0]);
    gk_free(w->act[1]);
    gk_free(w->node_scratch);
    gk_free(w->node_iscratch);
    gk_free(w->row_scratch);
    gk_free(w->pack_scratch);
}

/* Everything about the arguments that can be wrong, checked before the
 * first allocation: a bad option must cost nothing (threads = 100000 used
 * to build 100000 workspaces first). */
static gk_status check_arguments(const gk_model *model, size_t max_nodes,
                                 size_t max_edges, const gk_plan_options *opt,
                                 gk_error *err) {
    if (max_nodes == 0)
        return gk_fail(err, GK_EINVAL, "gk_plan_create: max_nodes must be >= 1");
    if (max_nodes > INT32_MAX - 1 || max_edges > (size_t)INT32_MAX - max_nodes)
        return gk_fail(err, GK_EOVERFLOW,
                       "gk_plan_create: %zu nodes + %zu edges exceed int32 indexing "
                       "(nodes + edges <= %d)", max_nodes, max_edges, INT32_MAX);
    if (opt->threads < 0 || opt->threads > GK_MAX_THREADS)
        return gk_fail(err, GK_EINVAL, "gk_plan_create: threads = %d, need 0..%d "
                       "(GK_MAX_THREADS; 0 or 1: no workers)", opt->threads,
                       GK_MAX_THREADS);
    if (!model->program &&  /* format 2 sizes its values in program_plan.c */
        (!checked_mul(max_nodes, (size_t)model->max_cols) ||
         !checked_mul(max_nodes, (size_t)model->max_width)))
        return gk_fail(err, GK_EOVERFLOW, "plan: %zu nodes overflow buffer sizes",
                       max_nodes);
    for (int l = 0; opt->keep_attention && l < model->num_layers; l++)
        if (!checked_mul(max_edges + max_nodes, (size_t)model->layers[l].info.heads))
            return gk_fail(err, GK_EOVERFLOW, "plan: attention buffer overflows");
    return GK_OK;
}

static gk_status allocate_buffers(gk_plan *p, gk_error *err) {
    const gk_model *m = p->model;
    size_t node_f = 0, node_i = 0, row_f = 0, pack_f = 0;
    p->packed = gk_calloc_array((size_t)m->num_layers, sizeof *p->packed);
    if (!p->packed) return gk_fail(err, GK_ENOMEM, "plan: out of memory");
    for (int l = 0; l < m->num_layers; l++) {
        const gk_layer *L = &m->layers[l];
        if (gk_blis_pack_weights(&p->blis, L, &p->packed[l]) != 0)
            return gk_fail(err, GK_ENOMEM, "plan: cannot pack layer %d's weights", l);
        pack_f = max_size(pack_f, gk_blis_pack_floats(&p->blis, (size_t)L->info.in_channels));
        node_f = max_size(node_f, gk_node_scratch_floats(L, p->max_nodes));
        node_i = max_size(node_i, gk_node_scratch_ints(L, p->max_nodes));
        row_f = max_size(row_f, gk_row_scratch_floats(L, p->max_nodes, p->max_edges));
    }
    /* check_arguments made sure that these products fit. One line more than
     * the rows: an aggregation loads a row's per-head scores as a whole
     * vector (v4 at col_dst), which may run past a row that ends there, and
     * past the last row into this padding (a layer whose cols are a multiple
     * of 16, e.g. 2 heads x 6 channels; found by ASan) */
    size_t t_floats = checked_mul(p->max_nodes, (size_t)m->max_cols) + 16;
    size_t act_floats = checked_mul(p->max_nodes, (size_t)m->max_width);
    p->ws = gk_calloc_array((size_t)p->threads, sizeof *p->ws);
    if (!p->ws) return gk_fail(err, GK_ENOMEM, "plan: out of memory");
    for (int w = 0; w < p->threads; w++) {
        gk_status st = allocate_workspace(&p->ws[w], t_floats, act_floats, node_f,
                                          node_i, row_f, pack_f, err);
        if (st != GK_OK) return st;
    }
    if (!p->options.keep_attention) return GK_OK;
    p->alpha = gk_calloc_array((size_t)m->num_layers, sizeof(float *));
    p->alpha_edges = gk_calloc_array((size_t)m->num_layers, sizeof(size_t));
    if (!p->alpha || !p->alpha_edges) return gk_fail(err, GK_ENOMEM, "plan: out of memory");
    size_t edges = p->max_edges + p->max_nodes;  /* loops included */
    for (int l = 0; l < m->num_layers; l++) {
        size_t n = checked_mul(edges, (size_t)m->layers[l].info.heads);
        p->alpha[l] = gk_calloc_array(n, sizeof(float));
        if (!p->alpha[l]) return gk_fail(err, GK_ENOMEM, "plan: out of memory");
    }
    return GK_OK;
}

static void select_kernels(gk_plan *p) {
    for (int l = 0; l < p->model->num_layers; l++)
        gk_select_kernels(p->model, l, p->isa, &p->kernels[l], p->reasons[l],
                          sizeof p->reasons[l]);
}

/* Run each transform once over max_nodes rows of zeros, so that every page
 * inference writes is touched here, not inside gk_infer. With threads,
 * every worker does it on its own workspace at the same time (a pool job). */
static void warm_up_workspace(gk_plan *p, gk_workspace *w) {
    for (int l = 0; l < p->model->num_layers; l++) {
        gk_layer_run run;
        memset(&run, 0, sizeof run);
        run.layer = &p->model->layers[l];
        run.num_nodes = p->max_nodes;
        run.x = w->act[0];
        run.t = w->t;
        run.t_stride = gk_t_stride(run.layer);
        run.blis = &p->blis;
        run.packed = &p->packed[l];
        run.pack_scratch = w->pack_scratch;
        p->kernels[l].transform(&run, 0, p->max_nodes);
        if (p->kernels[l].transform != gk_generic_transform)
            gk_generic_transform(&run, 0, p->max_nodes);
    }
    memset(w->t, 0, p->max_nodes * (size_t)p->model->max_cols * sizeof(float));
}

static void warm_up_job(void *ctx, int worker, int workers) {
    gk_plan *p = ctx;
    (void)workers;
    gk_pool_barrier(p->pool);  /* all workers inside BLIS together */
    warm_up_workspace(p, &p->ws[worker]);
}

static void warm_up(gk_plan *p) {
    if (!p->pool) {
        warm_up_workspace(p, &p->ws[0]);
        return;
    }
    for (int k = 0; k < 3; k++) gk_pool_run(p->pool, warm_up_job, p);
}

/* A format-2 model: the schedule and one layer plan per conv group, each
 * with the options given (the ISA resolved once here). */
static gk_status create_program_plan(const gk_model *model, size_t max_nodes,
                                     size_t max_edges, const gk_plan_options *opt,
                                     gk_isa isa, gk_plan **out, gk_error *err) {
    gk_plan *p = gk_alloc(sizeof *p);
    if (!p) return gk_fail(err, GK_ENOMEM, "gk_plan_create: out of memory");
    p->model = model;
    p->max_nodes = max_nodes;
    p->max_edges = max_edges;
    p->options = *opt;
    p->options.isa = isa;
    p->isa = isa;
    p->threads = opt->threads > 1 ? opt->threads : 1;
    gk_status st = gk_program_plan_create(model->program, max_nodes, max_edges, &p->options,
                                          &p->program, err);
    if (st != GK_OK) {
        gk_free(p);
        return st;
    }
    *out = p;
    gk_ok(err);
    return GK_OK;
}

gk_status gk_plan_create(const gk_model *model, size_t max_nodes,
                         size_t max_edges, const gk_plan_options *options,
                         gk_plan **out, gk_error *err) {
    if (!model || !out) return gk_fail(err, GK_EINVAL, "gk_plan_create: NULL argument");
    *out = NULL;
    gk_plan_options opt = options ? *options : gk_plan_default_options();
    gk_status st = check_arguments(model, max_nodes, max_edges, &opt, err);
    if (st != GK_OK) return st;
    gk_isa isa;
    st = gk_resolve_isa(opt.isa, &isa, err);
    if (st != GK_OK) return st;

    if (model->program) return create_program_plan(model, max_nodes, max_edges, &opt,
                                                   isa, out, err);
    gk_plan *p = gk_alloc(sizeof *p);
    if (!p) return gk_fail(err, GK_ENOMEM, "gk_plan_create: out of memory");
    p->model = model;
    p->layout = gk_layout_signature(model);
    p->max_nodes = max_nodes;
    p->max_edges = max_edges;
    p->options = opt;
    p->isa = isa;
    gk_blis_kernel_init(&p->blis);
    p->threads = opt.threads > 1 ? opt.threads : 1;
    p->kernels = gk_calloc_array((size_t)model->num_layers, sizeof *p->kernels);
    p->reasons = gk_calloc_array((size_t)model->num_layers, sizeof *p->reasons);
    st = (p->kernels && p->reasons)
             ? allocate_buffers(p, err)
             : gk_fail(err, GK_ENOMEM, "gk_plan_create: out of memory");
    if (st != GK_OK) {
        gk_plan_free(p);
        return st;
    }
    select_kernels(p);
    if (p->threads > 1 &&
        (st = gk_pool_create(p->threads, opt.pin_first_cpu, opt.spin_us, &p->pool,
                             err)) != GK_OK) {
        gk_plan_free(p);
        return st;
    }
    warm_up(p);
    *out = p;
    gk_ok(err);
    return GK_OK;
}

void gk_plan_free(gk_plan *p) {
    if (!p) return;
    if (p->program) {
        gk_program_plan_free(p->program);
        gk_free(p);
        return;
    }
    if (p->alpha)
        for (int l = 0; l < p->model->num_layers; l++) gk_free(p->alpha[l]);
    gk_free(p->alpha);
    gk_free(p->alpha_edges);
    gk_pool_free(p->pool);  /* joins the workers first */
    for (int w = 0; p->ws && w < p->threads; w++) free_workspace(&p->ws[w]);
    gk_free(p->ws);
    for (int l = 0; p->packed && l < p->model->num_layers; l++)
        gk_blis_free_weights(&p->packed[l]);
    gk_free(p->packed);
    gk_free(p->kernels);
    gk_free(p->reasons);
    gk_free(p);
}

static const char *layer_type_name(gk_layer_type t) {
    return t == GK_LAYER_GATV2 ? "GATv2Conv" : "GATConv";
}

static const char *activation_name(gk_activation a) {
    static const char *const names[] = {"none", "elu", "relu", "leaky_relu"};
    return (unsigned)a < 4 ? names[a] : "?";
}

size_t gk_plan_describe(const gk_plan *p, char *buf, size_t size) {
    if (!p) return 0;
    if (p->program) return gk_program_plan_describe(p->program, p->isa, buf, size);
    size_t len = 0;
    char line[512];
#define APPEND(...)                                                         \
    do {                                                                    \
        int k_ = snprintf(line, sizeof line, __VA_ARGS__);                  \
        if (k_ > 0) {                                                       \
            if (buf && len < size) snprintf(buf + len, size - len, "%s", line); \
            len += (size_t)k_;                                              \
        }                                                                   \
    } while (0)
    APPEND("plan: %d layers, isa %s, up to %zu nodes and %zu edges, %d thread(s)\n",
           p->model->num_layers, gk_isa_name(p->isa), p->max_nodes, p->max_edges,
           p->threads);
    for (int l = 0; l < p->model->num_layers; l++) {
        const gk_layer_info *in = &p->model->layers[l].info;
        APPEND("  layer %d %-8s %-9s %d->%dx%d %s edge_dim=%d %s: %s",
               l, in->name, layer_type_name(in->type), in->in_channels,
               in->out_channels, in->heads, in->concat ? "concat" : "mean",
               in->edge_dim, activation_name(in->activation), p->kernels[l].name);
        if (p->kernels[l].complete_name)
            APPEND(" (complete graphs: %s)", p->kernels[l].complete_name);
        APPEND("\n      why: %s\n", p->reasons[l]);
    }
#undef APPEND
    if (buf && size && len >= size) buf[size - 1] = '\0';
    return len;
}

const char *gk_plan_layer_kernel(const gk_plan *p, int layer) {
    if (p && p->program) return NULL;
    if (!p || layer < 0 || layer >= p->model->num_layers) return NULL;
    return p->kernels[layer].name;
}

const float *gk_plan_attention(const gk_plan *p, int layer, size_t *num_edges,
                               int *heads) {
    if (!p || !p->alpha || layer < 0 || layer >= p->model->num_layers) return NULL;
    if (num_edges) *num_edges = p->alpha_edges[layer];
    if (heads) *heads = p->model->layers[layer].info.heads;
    return p->alpha[layer];
}
