/* The registry of generated kernels: one row per kernel, one form for every
 * kind (generated/gk_registry.inc, written by codegen/gen.py), keyed by
 * (op, ISA, shape key). Read by the selector, the kernel testers and the
 * benchmarks. A new kernel kind is a new op here and in gen.py's OPS. */
#ifndef GK_REGISTRY_H
#define GK_REGISTRY_H

#include "kernels.h"

typedef enum gk_kernel_op {
    GK_KERNEL_TRANSFORM,            /* (t_stride): t = x·W (+ b), any F_in  */
    GK_KERNEL_GAT_PREPARE,          /* (heads, channels, edge_dim)          */
    GK_KERNEL_GAT_AGG,              /* (heads, channels, edge_dim, concat)  */
    GK_KERNEL_GAT_COMPLETE_PREPARE, /* (heads, channels)                    */
    GK_KERNEL_GAT_COMPLETE,         /* (heads, channels, concat)            */
    GK_KERNEL_GATV2_AGG,            /* (heads, channels, edge_dim, concat)  */
    GK_KERNEL_VEXP,                 /* (): y = exp(x) over an array         */
    GK_KERNEL_VEXPM1_NEG            /* (): y = expm1(x), x <= 0, an array   */
} gk_kernel_op;

/* The functions of the array ops (VEXP, VEXPM1_NEG): the ISA's vector
 * polynomial, for tests/test_kernels_exp.c. */
typedef void (*gk_array_fn)(const float *x, float *y, size_t n);

/* A shape key: the op's fields in the order above, unused ones 0. */
typedef struct gk_kernel_key {
    int v[4];
} gk_kernel_key;

typedef struct gk_kernel_row {
    gk_kernel_op op;
    gk_isa isa;
    gk_kernel_key key;
    const char *name;
    gk_phase_fn fn;        /* every op but the array ones */
    gk_array_fn array_fn;  /* VEXP, VEXPM1_NEG            */
} gk_kernel_row;

extern const gk_kernel_row gk_kernel_rows[];
extern const size_t gk_num_kernel_rows;

/* The row of (op, isa, key); NULL if the registry has none. */
const gk_kernel_row *gk_reg_find(gk_kernel_op op, gk_isa isa, gk_kernel_key key);

/* The first row of op for key on isa or an ISA after it in the fallback
 * chain (gk_isa_parent), down to portable C; NULL if none. */
const gk_kernel_row *gk_reg_find_chain(gk_kernel_op op, gk_isa isa, gk_kernel_key key);

/* The transform for a t of width ts of which only columns [0, cols) can be
 * non-zero: a narrow kernel (key (ts, n), cols <= n: dot products per
 * column) on isa or down its chain, else the width's kernel (ts, 0). */
const gk_kernel_row *gk_reg_find_transform(gk_isa isa, int ts, int cols);

/* Keys of each op, in the field order above. */
static inline gk_kernel_key gk_key(int a, int b, int c, int d) {
    gk_kernel_key k = {{a, b, c, d}};
    return k;
}

const char *gk_kernel_op_name(gk_kernel_op op);

#endif
