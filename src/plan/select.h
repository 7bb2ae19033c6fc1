/* The runtime selector: per layer, the specialized kernel for the layer's
 * shape and the CPU's instruction set, else the generic path. Runs once, at
 * plan creation; nothing on the hot path tests the CPU. */
#ifndef GK_SELECT_H
#define GK_SELECT_H

#include <stddef.h>

#include "kernels.h"

/* The ISA to use for a plan: `requested` unless GK_ISA_AUTO, in which case
 * GRAPHKERN_ISA=<gk_isa_name> if set, else the best the CPU and
 * OS support. GK_EISA if a forced ISA cannot run here. */
gk_status gk_resolve_isa(gk_isa requested, gk_isa *resolved, gk_error *err);

/* The next ISA to try after `isa`: its parent in codegen/isas.toml
 * (AVX512 -> AVX2 -> SCALAR, NEON -> SCALAR), then GK_ISA_GENERIC (the end). */
gk_isa gk_isa_next(gk_isa isa);

/* The ISAs of codegen/isas.toml, best first: how many, and the k-th
 * (0 <= k < gk_isa_count()). Tests and benchmarks iterate them. */
int gk_isa_count(void);
gk_isa gk_isa_at(int k);

/* 1 if this build, CPU and OS can run kernels of `isa`: the ISA table's
 * architecture and CPU features (src/plan/cpu.c). */
int gk_cpu_supports(gk_isa isa);

/* Kernels for layer `layer` of `model` on ISA `isa`. Always succeeds (the
 * generic path serves every layer); writes one line saying what was chosen
 * and why into reason. */
void gk_select_kernels(const gk_model *model, int layer, gk_isa isa,
                       gk_layer_kernels *out, char *reason,
                       size_t reason_size);

#endif
