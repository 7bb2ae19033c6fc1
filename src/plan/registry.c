/* The registry of generated kernels: generated/gk_registry.inc expanded
 * once into prototypes and once into the table. */
#include "registry.h"

#include "select.h"

/* Prototypes by op: phase kernels, or array functions. */
#define GK_PROTO_PHASE(fn) void fn(const gk_layer_run *run, size_t begin, size_t end);
#define GK_PROTO_ARRAY(fn) void fn(const float *x, float *y, size_t n);
#define GK_PROTO_TRANSFORM GK_PROTO_PHASE
#define GK_PROTO_GAT_PREPARE GK_PROTO_PHASE
#define GK_PROTO_GAT_AGG GK_PROTO_PHASE
#define GK_PROTO_GAT_COMPLETE_PREPARE GK_PROTO_PHASE
#define GK_PROTO_GAT_COMPLETE GK_PROTO_PHASE
#define GK_PROTO_GATV2_AGG GK_PROTO_PHASE
#define GK_PROTO_VEXP GK_PROTO_ARRAY
#define GK_PROTO_VEXPM1_NEG GK_PROTO_ARRAY
#define GK_KERNEL(op, isa, k0, k1, k2, k3, fn) GK_PROTO_##op(fn)
#include "gk_registry.inc"

/* The two function slots by op. */
#define GK_FNS_PHASE(fn) fn, NULL
#define GK_FNS_ARRAY(fn) NULL, fn
#define GK_FNS_TRANSFORM GK_FNS_PHASE
#define GK_FNS_GAT_PREPARE GK_FNS_PHASE
#define GK_FNS_GAT_AGG GK_FNS_PHASE
#define GK_FNS_GAT_COMPLETE_PREPARE GK_FNS_PHASE
#define GK_FNS_GAT_COMPLETE GK_FNS_PHASE
#define GK_FNS_GATV2_AGG GK_FNS_PHASE
#define GK_FNS_VEXP GK_FNS_ARRAY
#define GK_FNS_VEXPM1_NEG GK_FNS_ARRAY

const gk_kernel_row gk_kernel_rows[] = {
#define GK_KERNEL(op, isa, k0, k1, k2, k3, fn) \
    {GK_KERNEL_##op, GK_ISA_##isa, {{k0, k1, k2, k3}}, #fn, GK_FNS_##op(fn)},
#include "gk_registry.inc"
    {GK_KERNEL_TRANSFORM, GK_ISA_GENERIC, {{0, 0, 0, 0}}, NULL, NULL, NULL}};
const size_t gk_num_kernel_rows = sizeof gk_kernel_rows / sizeof gk_kernel_rows[0] - 1;

const gk_kernel_row *gk_reg_find(gk_kernel_op op, gk_isa isa, gk_kernel_key key) {
    for (size_t i = 0; i < gk_num_kernel_rows; i++) {
        const gk_kernel_row *r = &gk_kernel_rows[i];
        if (r->op == op && r->isa == isa && r->key.v[0] == key.v[0] &&
            r->key.v[1] == key.v[1] && r->key.v[2] == key.v[2] && r->key.v[3] == key.v[3])
            return r;
    }
    return NULL;
}

const gk_kernel_row *gk_reg_find_chain(gk_kernel_op op, gk_isa isa, gk_kernel_key key) {
    for (gk_isa i = isa; i != GK_ISA_GENERIC; i = gk_isa_next(i)) {
        const gk_kernel_row *r = gk_reg_find(op, i, key);
        if (r) return r;
    }
    return NULL;
}

const gk_kernel_row *gk_reg_find_transform(gk_isa isa, int ts, int cols) {
    for (gk_isa i = isa; i != GK_ISA_GENERIC; i = gk_isa_next(i))
        for (size_t r = 0; r < gk_num_kernel_rows; r++) {
            const gk_kernel_row *row = &gk_kernel_rows[r];
            if (row->op == GK_KERNEL_TRANSFORM && row->isa == i && row->key.v[0] == ts &&
                row->key.v[1] > 0 && cols <= row->key.v[1])
                return row;
        }
    return gk_reg_find_chain(GK_KERNEL_TRANSFORM, isa, gk_key(ts, 0, 0, 0));
}

const char *gk_kernel_op_name(gk_kernel_op op) {
    switch (op) {
    case GK_KERNEL_TRANSFORM: return "transform";
    case GK_KERNEL_GAT_PREPARE: return "gat_prepare";
    case GK_KERNEL_GAT_AGG: return "gat_agg";
    case GK_KERNEL_GAT_COMPLETE_PREPARE: return "gat_complete_prepare";
    case GK_KERNEL_GAT_COMPLETE: return "gat_complete";
    case GK_KERNEL_GATV2_AGG: return "gatv2_agg";
    case GK_KERNEL_VEXP: return "vexp";
    case GK_KERNEL_VEXPM1_NEG: return "vexpm1_neg";
    }
    return "?";
}
