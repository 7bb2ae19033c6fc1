/* The runtime selector: CPU detection once per plan, then per layer a
 * registry lookup by shape key, falling back ISA by ISA to the portable
 * kernels and finally to the generic path, with a one-line reason. */
#include "select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "error.h"
#include "registry.h"

/* The ISA table of codegen/isas.toml, best first. */
typedef struct isa_row {
    gk_isa id;
    const char *name;
    gk_isa parent;
    gk_arch arch;
    int lanes;
    unsigned cpu;
} isa_row;

static const isa_row ISA_TABLE[] = {
#define GK_ISA_ROW(id, name, parent, arch, lanes, cpu) \
    {GK_ISA_##id, name, GK_ISA_##parent, GK_ARCH_##arch, lanes, cpu},
#include "gk_isas.inc"
};
#define NUM_ISAS (sizeof ISA_TABLE / sizeof ISA_TABLE[0])

static const isa_row *isa_row_of(gk_isa isa) {
    for (size_t k = 0; k < NUM_ISAS; k++)
        if (ISA_TABLE[k].id == isa) return &ISA_TABLE[k];
    return NULL;
}

int gk_isa_count(void) { return (int)NUM_ISAS; }

gk_isa gk_isa_at(int k) {
    return k >= 0 && k < (int)NUM_ISAS ? ISA_TABLE[k].id : GK_ISA_GENERIC;
}

const char *gk_isa_name(gk_isa isa) {
    if (isa == GK_ISA_AUTO) return "auto";
    if (isa == GK_ISA_GENERIC) return "generic";
    const isa_row *r = isa_row_of(isa);
    return r ? r->name : "?";
}

gk_status gk_isa_from_name(const char *name, gk_isa *isa, gk_error *err) {
    if (name && !strcmp(name, "auto")) return *isa = GK_ISA_AUTO, GK_OK;
    if (name && !strcmp(name, "generic")) return *isa = GK_ISA_GENERIC, GK_OK;
    char names[256] = "auto, generic";
    for (size_t k = 0; k < NUM_ISAS; k++) {
        if (name && !strcmp(name, ISA_TABLE[k].name)) return *isa = ISA_TABLE[k].id, GK_OK;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, ", %s", ISA_TABLE[k].name);
    }
    return gk_fail(err, GK_EINVAL, "unknown ISA '%s': expected one of %s",
                   name ? name : "(null)", names);
}

/* The ISA the selector tries after `isa`: its parent in the table (avx512
 * -> avx2 -> scalar, neon -> scalar), GK_ISA_GENERIC after the last. */
gk_isa gk_isa_next(gk_isa isa) {
    const isa_row *r = isa_row_of(isa);
    return r ? r->parent : GK_ISA_GENERIC;
}

/* Its table row's architecture is this build's and the CPU has every
 * feature the row lists; portable C and the generic path run anywhere. */
int gk_cpu_supports(gk_isa isa) {
    if (isa == GK_ISA_GENERIC) return 1;
    const isa_row *r = isa_row_of(isa);
    if (!r) return 0;
    if (r->arch != GK_ARCH_ANY && r->arch != gk_build_arch()) return 0;
    return (gk_cpu_features() & r->cpu) == r->cpu;
}

static gk_isa best_isa(void) {
    for (size_t k = 0; k < NUM_ISAS; k++)
        if (gk_cpu_supports(ISA_TABLE[k].id)) return ISA_TABLE[k].id;
    return GK_ISA_GENERIC;
}

gk_status gk_resolve_isa(gk_isa requested, gk_isa *resolved, gk_error *err) {
    if (requested != GK_ISA_AUTO && requested != GK_ISA_GENERIC && !isa_row_of(requested))
        return gk_fail(err, GK_EINVAL, "unknown ISA value %d", (int)requested);
    gk_isa isa = requested;
    if (isa == GK_ISA_AUTO) {
        const char *env = getenv("GRAPHKERN_ISA");
        if (env && *env) {
            gk_status st = gk_isa_from_name(env, &isa, err);
            if (st != GK_OK)
                return gk_fail(err, st, "GRAPHKERN_ISA=%s: %s", env, err ? err->message : "");
        }
    }
    if (isa == GK_ISA_AUTO) isa = best_isa();
    if (!gk_cpu_supports(isa))
        return gk_fail(err, GK_EISA, "ISA %s is not available on this CPU/OS",
                       gk_isa_name(isa));
    *resolved = isa;
    return GK_OK;
}

/* Why a layer cannot use the generated kernels, or NULL if it can. The
 * GATv2 kernels read t = [xl | xr | res] (col_xr = 0 when share_weights)
 * and take leaky_relu as max(v, slope·v), which needs slope in [0, 1]. */
static const char *unsupported(const gk_layer *L) {
    const gk_layer_info *in = &L->info;
    int hc = in->heads * in->out_channels;
    if (!(in->negative_slope >= 0.0f && in->negative_slope <= 1.0f))
        return in->type == GK_LAYER_GATV2
                   ? "negative_slope outside [0, 1] (leaky_relu as a max needs it)"
                   : "negative_slope outside [0, 1] (factorization needs it)";
    if (in->type == GK_LAYER_GATV2) {
        if (L->col_h != 0 || (L->col_xr != 0 && L->col_xr != hc) || !L->att)
            return "non-standard fused column layout";
    } else if (L->col_h != 0 || L->col_src != hc || L->col_dst != hc + in->heads) {
        return "non-standard fused column layout";
    }
    if (in->edge_dim > 0 && !L->edge_w) return "edge_dim > 0 without edge weights";
    if (in->heads > 16) return "more than 16 heads";
    return NULL;
}

/* GATv2Conv: the transform by its output width t_stride (any F_in), the
 * aggregation by (H, C, D, concat); no complete-graph kernels (the per-edge
 * term sits inside leaky_relu of a sum over channels: nothing to sort by). */
static void select_gatv2(const gk_layer *L, gk_isa isa, gk_layer_kernels *out,
                         char *reason, size_t reason_size) {
    const gk_layer_info *in = &L->info;
    const gk_kernel_row *tr = gk_reg_find_transform(isa, (int)gk_t_stride(L), L->cols);
    const gk_kernel_row *ag = gk_reg_find_chain(
        GK_KERNEL_GATV2_AGG, isa, gk_key(in->heads, in->out_channels, in->edge_dim, in->concat));
    if (!tr && !ag) {
        snprintf(reason, reason_size,
                 "generic: no generated GATv2 kernel for F%d H%d C%d e%d %s "
                 "(add a [[gatv2]] key to codegen/shapes.toml)",
                 in->in_channels, in->heads, in->out_channels, in->edge_dim,
                 in->concat ? "concat" : "mean");
        return;
    }
    if (tr) out->transform = tr->fn;
    if (ag) {
        out->name = ag->name;
        out->aggregate = ag->fn;
    }
    snprintf(reason, reason_size, "%s: transform %s, aggregate %s (requested %s)",
             ag ? gk_isa_name(ag->isa) : "generic", tr ? gk_isa_name(tr->isa) : "generic BLIS",
             ag ? "GATv2 online softmax" : "generic (no key)", gk_isa_name(isa));
}

void gk_select_kernels(const gk_model *model, int layer, gk_isa isa,
                       gk_layer_kernels *out, char *reason,
                       size_t reason_size) {
    const gk_layer *L = &model->layers[layer];
    const gk_layer_info *in = &L->info;
    *out = gk_generic_kernels;
    if (isa == GK_ISA_GENERIC) {
        snprintf(reason, reason_size, "generic: forced (option or GRAPHKERN_ISA)");
        return;
    }
    const char *why = unsupported(L);
    if (why) {
        snprintf(reason, reason_size, "generic: %s", why);
        return;
    }
    if (in->type == GK_LAYER_GATV2) {
        select_gatv2(L, isa, out, reason, reason_size);
        return;
    }
    /* The requested ISA first, then each lower one down to portable C; the
     * transform by its output width t_stride alone (any F_in). An
     * aggregation and its prepare phase come from one ISA. */
    const gk_kernel_row *tr = gk_reg_find_transform(isa, (int)gk_t_stride(L), L->cols);
    const gk_kernel_key agg_key = gk_key(in->heads, in->out_channels, in->edge_dim, in->concat);
    const gk_kernel_row *ag = gk_reg_find_chain(GK_KERNEL_GAT_AGG, isa, agg_key);
    const gk_kernel_row *prep =
        ag ? gk_reg_find(GK_KERNEL_GAT_PREPARE, ag->isa,
                         gk_key(in->heads, in->out_channels, in->edge_dim, 0))
           : NULL;
    if (!prep) ag = NULL;  /* a registry without the prepare: not usable */
    /* complete graphs: sorted prefix sums without edge features; with them,
     * tiles of target rows sharing a pass over the sources (same prepare as
     * the CSR kernel) */
    const gk_kernel_row *co = NULL, *co_prep = NULL;
    if (ag) {
        co = gk_reg_find(GK_KERNEL_GAT_COMPLETE, ag->isa,
                         gk_key(in->heads, in->out_channels, in->concat, in->edge_dim));
        co_prep = in->edge_dim ? prep
                               : gk_reg_find(GK_KERNEL_GAT_COMPLETE_PREPARE, ag->isa,
                                             gk_key(in->heads, in->out_channels, 0, 0));
        if (!co_prep) co = NULL;
    }
    if (!tr && !ag) {
        snprintf(reason, reason_size,
                 "generic: no generated kernel for F%d H%d C%d e%d %s (add it to codegen/shapes.toml)",
                 in->in_channels, in->heads, in->out_channels, in->edge_dim,
                 in->concat ? "concat" : "mean");
        return;
    }
    if (tr) out->transform = tr->fn;
    if (ag) {
        out->name = ag->name;
        out->prepare = prep->fn;
        out->aggregate = ag->fn;
    }
    if (co) {
        out->complete_name = co->name;
        out->complete_prepare = co_prep->fn;
        out->complete_aggregate = co->fn;
    }
    snprintf(reason, reason_size, "%s: transform %s, aggregate %s%s (requested %s%s)",
             ag ? gk_isa_name(ag->isa) : "generic",
             tr ? gk_isa_name(tr->isa) : "generic BLIS",
             ag ? (in->edge_dim ? "edge-feature exp" : "factorized")
                : "generic (no key)",
             !co ? "" : in->edge_dim ? ", complete graphs in tiles of target rows"
                                     : ", complete graphs by sorted prefix sums",
             gk_isa_name(isa),
             ag && ag->isa != isa ? "; SIMD needs channels % 4 == 0" : "");
}
