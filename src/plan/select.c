/* The runtime selector: CPU detection once per plan, then per layer a
 * registry lookup by shape key, falling back ISA by ISA to the portable
 * kernels and finally to the generic path, with a one-line reason. */
#include "select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "error.h"
#include "registry.h"

const char *gk_isa_name(gk_isa isa) {
    switch (isa) {
    case GK_ISA_AUTO: return "auto";
    case GK_ISA_AVX512: return "avx512";
    case GK_ISA_AVX2: return "avx2";
    case GK_ISA_SCALAR: return "scalar";
    case GK_ISA_GENERIC: return "generic";
    case GK_ISA_NEON: return "neon";
    }
    return "?";
}

#if defined(__x86_64__) || defined(__i386__)
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* The ISA the selector tries after `isa` (same architecture, down to
 * portable C), GK_ISA_GENERIC after SCALAR: AVX512 -> AVX2 -> SCALAR,
 * NEON -> SCALAR. */
gk_isa gk_isa_next(gk_isa isa) {
    switch (isa) {
    case GK_ISA_AVX512: return GK_ISA_AVX2;
    case GK_ISA_AVX2: return GK_ISA_SCALAR;
    case GK_ISA_NEON: return GK_ISA_SCALAR;
    default: return GK_ISA_GENERIC;
    }
}

/* AVX2+FMA: CPU bits plus OS-enabled XMM/YMM state; AVX-512 (F, VL, DQ,
 * BW) additionally opmask/ZMM state. NEON: Advanced SIMD is part of every
 * AArch64 CPU (no detection). */
int gk_cpu_supports(gk_isa isa) {
    if (isa == GK_ISA_SCALAR || isa == GK_ISA_GENERIC) return 1;
#if defined(__aarch64__)
    if (isa == GK_ISA_NEON) return 1;
#endif
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx || !fma) return 0;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    if (isa == GK_ISA_AVX2) return avx2;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (isa == GK_ISA_AVX512) return avx2 && f && dq && bw && vl && (xcr0 & 0xe0) == 0xe0;
#endif
    return 0;
}

static gk_isa best_isa(void) {
    if (gk_cpu_supports(GK_ISA_AVX512)) return GK_ISA_AVX512;
    if (gk_cpu_supports(GK_ISA_AVX2)) return GK_ISA_AVX2;
    if (gk_cpu_supports(GK_ISA_NEON)) return GK_ISA_NEON;
    return GK_ISA_SCALAR;
}

gk_status gk_resolve_isa(gk_isa requested, gk_isa *resolved, gk_error *err) {
    if ((unsigned)requested > GK_ISA_NEON)
        return gk_fail(err, GK_EINVAL, "unknown ISA value %d", (int)requested);
    gk_isa isa = requested;
    if (isa == GK_ISA_AUTO) {
        const char *env = getenv("GRAPHKERN_ISA");
        if (env && *env && strcmp(env, "auto") != 0) {
            for (gk_isa i = GK_ISA_AVX512; i <= GK_ISA_NEON; i++)
                if (strcmp(env, gk_isa_name(i)) == 0) isa = i;
            if (isa == GK_ISA_AUTO)
                return gk_fail(err, GK_EINVAL,
                               "GRAPHKERN_ISA=%s: expected avx512, avx2, neon, scalar or generic",
                               env);
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
    int ts = (int)gk_t_stride(L);
    const gk_reg_transform *tr = NULL;
    const gk_reg_gatv2 *ag = NULL;
    for (gk_isa i = isa; i != GK_ISA_GENERIC; i = gk_isa_next(i)) {
        if (!tr) tr = gk_reg_find_transform(i, ts);
        if (!ag) ag = gk_reg_find_gatv2(i, in->heads, in->out_channels, in->edge_dim, in->concat);
    }
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
        out->aggregate = ag->aggregate;
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
    int ts = (int)gk_t_stride(L);
    const gk_reg_transform *tr = NULL;
    const gk_reg_agg *ag = NULL;
    const gk_reg_complete *co = NULL;
    /* The requested ISA first, then each lower one down to portable C; the
     * transform by its output width t_stride alone (any F_in). */
    for (gk_isa i = isa; i != GK_ISA_GENERIC; i = gk_isa_next(i)) {
        if (!tr) tr = gk_reg_find_transform(i, ts);
        if (!ag) ag = gk_reg_find_agg(i, in->heads, in->out_channels, in->edge_dim, in->concat);
        if (!co && in->edge_dim == 0)
            co = gk_reg_find_complete(i, in->heads, in->out_channels, in->concat);
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
        out->prepare = ag->prepare;
        out->aggregate = ag->aggregate;
    }
    if (co && ag) {
        out->complete_name = co->name;
        out->complete_prepare = co->prepare;
        out->complete_aggregate = co->aggregate;
    }
    snprintf(reason, reason_size, "%s: transform %s, aggregate %s%s (requested %s%s)",
             ag ? gk_isa_name(ag->isa) : "generic",
             tr ? gk_isa_name(tr->isa) : "generic BLIS",
             ag ? (in->edge_dim ? "edge-feature exp" : "factorized")
                : "generic (no key)",
             co && ag ? ", complete graphs by sorted prefix sums" : "",
             gk_isa_name(isa),
             ag && ag->isa != isa ? "; SIMD needs channels % 4 == 0" : "");
}
