/* gk_infer: the hot path. Checks that are O(1) (or O(N·F) when asked),
 * then each layer's three phases on buffers the plan owns. Allocates
 * nothing, takes no lock, makes no system call. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "finite.h"
#include "plan.h"
#include "program_plan.h"

static gk_status check_call(const gk_plan *p, const gk_graph *g, const float *x,
                            const float *y, gk_error *err) {
    if (!p || !g || !x || !y) return gk_fail(err, GK_EINVAL, "gk_infer: NULL argument");
    if (g->layout != p->layout || g->num_layers != p->model->num_layers)
        return gk_fail(err, GK_EMISMATCH,
                       "gk_infer: the graph was built for a model with other "
                       "self-loop or edge-feature settings");
    if (g->num_nodes == 0)
        return gk_fail(err, GK_EINVAL, "gk_infer: the graph is empty (its last set_coo or set_complete failed?)");
    if (g->num_nodes > p->max_nodes || g->num_edges > p->max_edges)
        return gk_fail(err, GK_ELIMIT,
                       "gk_infer: graph of %zu nodes/%zu edges exceeds the plan's "
                       "%zu/%zu", g->num_nodes, g->num_edges, p->max_nodes, p->max_edges);
    if (p->options.validate_inputs) {
        size_t f = (size_t)p->model->in_features;
        size_t bad = gk_first_nonfinite(x, g->num_nodes * f);
        if (bad < g->num_nodes * f)
            return gk_fail(err, GK_ENONFINITE, "gk_infer: x[%zu][%zu] is not finite",
                           bad / f, bad % f);
    }
    return GK_OK;
}

/* The run of layer l on graph g with workspace w's buffers. */
static void layer_run(const gk_plan *p, const gk_workspace *w, const gk_graph *g,
                      int l, const float *in, float *out, float *alpha,
                      gk_layer_run *run) {
    run->layer = &p->model->layers[l];
    run->view = &g->views[g->layer_view[l]];
    run->num_nodes = g->num_nodes;
    run->edge_dim = g->edge_dim;
    run->x = in;
    run->t = w->t;
    run->t_stride = gk_t_stride(run->layer);
    run->y = out;
    run->alpha = alpha;
    run->node_scratch = w->node_scratch;
    run->node_iscratch = w->node_iscratch;
    run->row_scratch = w->row_scratch;
    run->blis = &p->blis;
    run->packed = &p->packed[l];
    run->pack_scratch = w->pack_scratch;
}

/* Phases of layer l: complete-graph kernels when the view allows them. */
static void layer_phases(const gk_layer_kernels *k, const gk_layer_run *run,
                         gk_phase_fn *prepare, gk_phase_fn *aggregate) {
    int complete = run->view->is_complete && k->complete_aggregate;
    *prepare = complete ? k->complete_prepare : k->prepare;
    *aggregate = complete ? k->complete_aggregate : k->aggregate;
}

/* Every layer of one graph on one thread, with workspace w. */
static void run_layers(gk_plan *p, const gk_workspace *w, const gk_graph *g,
                       int first, int last, const float *x, float *y,
                       int keep_attention) {
    const float *in = x;
    for (int l = first; l <= last; l++) {
        float *out = l == last ? y : w->act[l & 1];
        gk_layer_run run;
        gk_phase_fn prepare, aggregate;
        layer_run(p, w, g, l, in, out, keep_attention && p->alpha ? p->alpha[l] : NULL,
                  &run);
        layer_phases(&p->kernels[l], &run, &prepare, &aggregate);
        p->kernels[l].transform(&run, 0, run.num_nodes);
        if (prepare) prepare(&run, 0, run.num_nodes);
        aggregate(&run, 0, run.num_nodes);
        if (keep_attention && p->alpha_edges) p->alpha_edges[l] = run.view->num_edges;
        in = out;
    }
}

static void run_graph(gk_plan *p, const gk_workspace *w, const gk_graph *g,
                      const float *x, float *y, int keep_attention) {
    run_layers(p, w, g, 0, p->model->num_layers - 1, x, y, keep_attention);
}

/* ---- threads: one graph, rows split across the pool -------------------- */

typedef struct infer_job {
    gk_plan *plan;
    const gk_graph *graph;
    const float *x;
    float *y;
    size_t count;                        /* batch: graphs                   */
    const gk_graph *const *graphs;
    const float *const *xs;
    float *const *ys;
    int first, last;                     /* layers of a gk_infer job        */
} infer_job;

/* First row of worker w's share of a CSR view, balanced by edges: the rows
 * a worker gets depend only on the graph and the thread count. */
static size_t edge_split(const gk_graph_view *v, size_t n, int w, int workers) {
    size_t target = (size_t)v->row_ptr[n] * (size_t)w / (size_t)workers;
    size_t lo = 0, hi = n;  /* first i with row_ptr[i] >= target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((size_t)v->row_ptr[mid] < target) lo = mid + 1;
        else hi = mid;
    }
    return w == 0 ? 0 : lo;
}

/* Worker w of a threaded gk_infer: transform rows split evenly, prepare on
 * worker 0, aggregate targets split by edges, a barrier between phases.
 * Each output row is computed by one worker with the same code as with one
 * thread, so the result does not depend on the thread count. */
static void infer_worker(void *ctx, int w, int workers) {
    const infer_job *job = ctx;
    gk_plan *p = job->plan;
    const gk_graph *g = job->graph;
    size_t n = g->num_nodes;
    int last = job->last;
    const float *in = job->x;
    gk_workspace mine = p->ws[0];         /* shared buffers ...             */
    mine.row_scratch = p->ws[w].row_scratch;  /* ... but own scratch rows  */
    mine.pack_scratch = p->ws[w].pack_scratch;
    size_t rows_begin = n * (size_t)w / (size_t)workers;
    size_t rows_end = n * (size_t)(w + 1) / (size_t)workers;
    for (int l = job->first; l <= last; l++) {
        float *out = l == last ? job->y : p->ws[0].act[l & 1];
        gk_layer_run run;
        gk_phase_fn prepare, aggregate;
        layer_run(p, &mine, g, l, in, out, p->alpha ? p->alpha[l] : NULL, &run);
        layer_phases(&p->kernels[l], &run, &prepare, &aggregate);
        p->kernels[l].transform(&run, rows_begin, rows_end);
        gk_pool_barrier(p->pool);
        if (prepare) {
            if (w == 0) prepare(&run, 0, n);
            gk_pool_barrier(p->pool);
        }
        aggregate(&run, edge_split(run.view, n, w, workers),
                  w + 1 == workers ? n : edge_split(run.view, n, w + 1, workers));
        if (w == 0 && p->alpha_edges) p->alpha_edges[l] = run.view->num_edges;
        if (l < last) gk_pool_barrier(p->pool);  /* next layer reads all rows */
        in = out;
    }
}

/* Worker w of gk_infer_batch: graphs w, w + T, w + 2T, ... alone. */
static void batch_worker(void *ctx, int w, int workers) {
    const infer_job *job = ctx;
    for (size_t b = (size_t)w; b < job->count; b += (size_t)workers)
        run_graph(job->plan, &job->plan->ws[w], job->graphs[b], job->xs[b], job->ys[b], 0);
}

void gk_plan_run_layers(gk_plan *p, const gk_graph *g, int first, int last,
                        const float *x, float *y) {
    if (p->pool) {
        infer_job job = {p, g, x, y, 0, NULL, NULL, NULL, first, last};
        gk_pool_run(p->pool, infer_worker, &job);
    } else {
        run_layers(p, &p->ws[0], g, first, last, x, y, 1);
    }
}

gk_status gk_infer(gk_plan *p, const gk_graph *g, const float *x, float *y,
                   gk_error *err) {
    if (p && p->program && g && x && y) return gk_program_infer_graph(p, g, x, y, err);
    gk_status st = check_call(p, g, x, y, err);
    if (st != GK_OK) return st;
    if (p->pool) {
        infer_job job = {p, g, x, y, 0, NULL, NULL, NULL, 0, p->model->num_layers - 1};
        gk_pool_run(p->pool, infer_worker, &job);
    } else {
        run_graph(p, &p->ws[0], g, x, y, 1);
    }
    gk_ok(err);
    return GK_OK;
}

gk_status gk_infer_batch(gk_plan *p, size_t count, const gk_graph *const *graphs,
                         const float *const *xs, float *const *ys, gk_error *err) {
    if (!p || (count && (!graphs || !xs || !ys)))
        return gk_fail(err, GK_EINVAL, "gk_infer_batch: NULL argument");
    for (size_t b = 0; b < count; b++) {
        gk_status st = check_call(p, graphs[b], xs[b], ys[b], err);
        if (st != GK_OK) {
            size_t len = strlen(err ? err->message : "");
            if (err && len + 24 < sizeof err->message)
                snprintf(err->message + len, sizeof err->message - len,
                         " (batch item %zu)", b);
            return st;
        }
    }
    if (p->program)
        return gk_fail(err, GK_EUNSUPPORTED, "gk_infer_batch: format-2 models run with "
                       "gk_infer_named");
    infer_job job = {p, NULL, NULL, NULL, count, graphs, xs, ys, 0, 0};
    if (p->pool)
        gk_pool_run(p->pool, batch_worker, &job);
    else
        batch_worker(&job, 0, 1);
    gk_ok(err);
    return GK_OK;
}
