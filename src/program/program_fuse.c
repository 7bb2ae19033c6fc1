/* Fusion at load time: a residual add whose one operand is a linear op's
 * output, and an elementwise activation of a linear op's output, run inside
 * that linear op's pass over y (ops_linear.c's epilogue) instead of as ops
 * of their own. The fused op stays in the list, its output stored as the
 * linear's (an alias), so names, shapes and liveness are unchanged.
 *
 * Conditions, so that the result is the same computation: the linear's
 * output feeds only the fused op and is not a model output; an add's other
 * operand has exactly the output's shape (no broadcast) and exists before
 * the linear runs. Rounding: y = (x·W + b) + r in float, as PyTorch. */
#include "program.h"

static int uses_of(const gk_program *prog, int v) {
    int n = 0;
    for (int i = 0; i < prog->num_ops; i++)
        for (int k = 0; k < prog->ops[i].num_inputs; k++) n += prog->ops[i].inputs[k] == v;
    for (int o = 0; o < prog->num_outputs; o++) n += prog->outputs[o].value == v;
    return n;
}

static int same_shape(const gk_shape *a, const gk_shape *b) {
    if (a->ndim != b->ndim || a->node_dims != b->node_dims) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* The linear op whose output reaches v through fused ops, used once each. */
static gk_op *linear_behind(gk_program *prog, int v) {
    for (;;) {
        int p = prog->values[v].producer;
        if (p < 0 || uses_of(prog, v) != 1) return NULL;
        gk_op *op = &prog->ops[p];
        if (op->kind == GK_OP_LINEAR) return op;
        if (op->alias_of < 0) return NULL;
        v = op->inputs[op->alias_of];
    }
}

static int is_activation(gk_op_kind k) { return k >= GK_OP_RELU && k <= GK_OP_NOT; }

/* Can `op` (reading linear output chain v) run in lin's epilogue? */
static int fusable(const gk_program *prog, const gk_op *lin, const gk_op *op, int slot) {
    const gk_shape *out = &prog->values[op->outputs[0]].shape;
    const gk_shape *y = &prog->values[lin->outputs[0]].shape;
    if (lin->num_fused == GK_MAX_FUSED || !same_shape(out, y)) return 0;
    if (is_activation(op->kind)) return 1;
    if (op->kind == GK_OP_SCALE_SHIFT) return op->dim == y->ndim - 1;  /* channels last */
    if (op->kind != GK_OP_ADD) return 0;
    int r = op->inputs[1 - slot];
    return op->inputs[slot] != r && same_shape(out, &prog->values[r].shape) &&
           prog->values[r].producer < (int)(lin - prog->ops);  /* ready before lin */
}

void gk_program_fuse(gk_program *prog) {
    for (int i = 0; i < prog->num_ops; i++) {
        gk_op *op = &prog->ops[i];
        int slots = op->kind == GK_OP_ADD ? 2 : 1;
        if (op->kind != GK_OP_ADD && op->kind != GK_OP_SCALE_SHIFT && !is_activation(op->kind))
            continue;
        for (int slot = 0; slot < slots; slot++) {
            gk_op *lin = linear_behind(prog, op->inputs[slot]);
            if (!lin || !fusable(prog, lin, op, slot)) continue;
            lin->fused[lin->num_fused++] = i;
            op->alias_of = slot;
            break;
        }
    }
}
