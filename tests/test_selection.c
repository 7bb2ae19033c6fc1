/* Every kernel the shapes file configured is the one the selector picks: for
 * each registry row (GATConv CSR aggregation, complete-graph kernel, GATv2Conv
 * aggregation) of an ISA this CPU runs, a layer of exactly that shape gets
 * that row's kernels and a generated transform, never the generic path. A
 * drift between the generator's keys or layout and the selector's lookup
 * would otherwise fall back to the generic path with every other test green.
 * ISAs the CPU lacks are named as skipped. */
#include "kernel_harness.h"
#include "model.h"
#include "select.h"

static int failures, checked;

static gk_layer_kernels select_for(gk_layer *L, gk_isa isa, char *reason, size_t size) {
    gk_model m;
    memset(&m, 0, sizeof m);
    m.num_layers = 1;
    m.layers = L;
    m.in_features = L->info.in_channels;
    m.out_features = L->info.out_width;
    m.edge_dim = L->info.edge_dim;
    m.max_cols = (int)gk_t_stride(L);
    gk_layer_kernels k;
    gk_select_kernels(&m, 0, isa, &k, reason, size);
    return k;
}

static void expect(int ok, const char *what, const char *name, const char *reason) {
    checked++;
    if (ok) return;
    failures++;
    printf("FAIL %s: %s not selected (%s)\n", what, name, reason);
}

int main(void) {
    char reason[512];
    for (size_t q = 0; q < gk_num_kernel_rows; q++) {
        kh_kernel kk, *r = &kk;
        if (kh_kernel_of(&gk_kernel_rows[q], GK_KERNEL_GAT_AGG, r) <= 0 ||
            !gk_cpu_supports(r->isa))
            continue;
        kh_case c;
        memset(&c, 0, sizeof c);  /* kh_free frees the buffers, never made here */
        kh_layer(&c, 37, r->heads, r->channels, r->edge_dim, r->concat, 0, GK_ACT_ELU, 0.2f,
                 1.0f);
        gk_layer_kernels k = select_for(&c.L, r->isa, reason, sizeof reason);
        expect(k.aggregate == r->aggregate && k.prepare == r->prepare, "GATConv", r->name,
               reason);
        expect(k.transform != gk_generic_transform, "transform of", r->name, reason);
        /* the complete-graph kernel of the same ISA and shape, if generated
         * (with edge features: the tile kernel, with the CSR kernel's prepare);
         * none generated: none selected */
        const gk_kernel_row *cr = gk_reg_find(GK_KERNEL_GAT_COMPLETE, r->isa,
                                              gk_key(r->heads, r->channels, r->concat, r->edge_dim));
        if (cr)
            expect(k.complete_aggregate == cr->fn &&
                       (r->edge_dim == 0 || k.complete_prepare == r->prepare),
                   "complete", cr->name, reason);
        else
            expect(k.complete_aggregate == NULL, "no complete-graph kernel for", r->name, reason);
        kh_free(&c);
    }
    for (size_t q = 0; q < gk_num_kernel_rows; q++) {
        kh_kernel kk, *r = &kk;
        if (kh_kernel_of(&gk_kernel_rows[q], GK_KERNEL_GATV2_AGG, r) <= 0 ||
            !gk_cpu_supports(r->isa))
            continue;
        /* the aggregation serves both weight layouts; the transform exists
         * for the configured one (its width: [xl | xr] or [xl]) */
        int transforms = 0;
        for (int share = 0; share <= 1; share++) {
            kh_case c;
            memset(&c, 0, sizeof c);
            kh_layer_v2(&c, 37, r->heads, r->channels, r->edge_dim, r->concat, share, 0,
                        GK_ACT_NONE, 0.2f, 1.0f);
            gk_layer_kernels k = select_for(&c.L, r->isa, reason, sizeof reason);
            expect(k.aggregate == r->aggregate, share ? "GATv2Conv shared" : "GATv2Conv",
                   r->name, reason);
            transforms += k.transform != gk_generic_transform;
            kh_free(&c);
        }
        expect(transforms > 0, "a transform for", r->name, "neither weight layout");
    }
    for (int q = 0; q < 32; q++) {
        gk_isa isa = (gk_isa)q;
        if (isa == GK_ISA_AUTO || isa == GK_ISA_GENERIC || !strcmp(gk_isa_name(isa), "?"))
            continue;
        if (!gk_cpu_supports(isa))
            printf("skipped: this CPU cannot run %s kernels\n", gk_isa_name(isa));
    }
    printf("%d selections checked, %d failed\n", checked, failures);
    return failures != 0 || checked == 0;
}
