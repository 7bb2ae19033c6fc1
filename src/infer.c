/* gk_infer: the hot path. Checks that are O(1) (or O(N·F) when asked),
 * then each layer's three phases on buffers the plan owns. Allocates
 * nothing, takes no lock, makes no system call. */
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "plan.h"

/* Index of the first NaN/Inf in x, or count if none: exponent bits all set. */
static size_t first_nonfinite(const float *x, size_t count) {
    const uint32_t *bits = (const uint32_t *)(const void *)x;
    uint32_t any = 0;
    for (size_t k = 0; k < count; k++)  /* branch-free so it vectorizes */
        any |= ((bits[k] & 0x7f800000u) == 0x7f800000u);
    if (!any) return count;
    for (size_t k = 0; k < count; k++)
        if ((bits[k] & 0x7f800000u) == 0x7f800000u) return k;
    return count;
}

static gk_status check_call(const gk_plan *p, const gk_graph *g, const float *x,
                            const float *y, gk_error *err) {
    if (!p || !g || !x || !y) return gk_fail(err, GK_EINVAL, "gk_infer: NULL argument");
    if (g->layout != p->layout || g->num_layers != p->model->num_layers)
        return gk_fail(err, GK_EMISMATCH,
                       "gk_infer: the graph was built for a model with other "
                       "self-loop or edge-feature settings");
    if (g->num_nodes == 0)
        return gk_fail(err, GK_EINVAL, "gk_infer: the graph is empty (set_coo failed?)");
    if (g->num_nodes > p->max_nodes || g->num_edges > p->max_edges)
        return gk_fail(err, GK_ELIMIT,
                       "gk_infer: graph of %zu nodes/%zu edges exceeds the plan's "
                       "%zu/%zu", g->num_nodes, g->num_edges, p->max_nodes, p->max_edges);
    if (p->options.validate_inputs) {
        size_t f = (size_t)p->model->in_features;
        size_t bad = first_nonfinite(x, g->num_nodes * f);
        if (bad < g->num_nodes * f)
            return gk_fail(err, GK_ENONFINITE, "gk_infer: x[%zu][%zu] is not finite",
                           bad / f, bad % f);
    }
    return GK_OK;
}

static void run_layer(gk_plan *p, const gk_graph *g, int l, const float *in,
                      float *out) {
    const gk_layer_kernels *k = &p->kernels[l];
    gk_layer_run run;
    run.layer = &p->model->layers[l];
    run.view = &g->views[g->layer_view[l]];
    run.num_nodes = g->num_nodes;
    run.edge_dim = g->edge_dim;
    run.x = in;
    run.t = p->t;
    run.t_stride = gk_t_stride(run.layer);
    run.y = out;
    run.alpha = p->alpha ? p->alpha[l] : NULL;
    run.node_scratch = p->node_scratch;
    run.node_iscratch = p->node_iscratch;
    run.row_scratch = p->row_scratch;

    int complete = run.view->is_complete && k->complete_aggregate;
    gk_phase_fn prepare = complete ? k->complete_prepare : k->prepare;
    gk_phase_fn aggregate = complete ? k->complete_aggregate : k->aggregate;
    k->transform(&run, 0, run.num_nodes);
    if (prepare) prepare(&run, 0, run.num_nodes);
    aggregate(&run, 0, run.num_nodes);
    if (p->alpha_edges) p->alpha_edges[l] = run.view->num_edges;
}

gk_status gk_infer(gk_plan *p, const gk_graph *g, const float *x, float *y,
                   gk_error *err) {
    gk_status st = check_call(p, g, x, y, err);
    if (st != GK_OK) return st;
    int last = p->model->num_layers - 1;
    const float *in = x;
    for (int l = 0; l <= last; l++) {
        float *out = l == last ? y : p->act[l & 1];
        run_layer(p, g, l, in, out);
        in = out;
    }
    gk_ok(err);
    return GK_OK;
}
