/* A version-2 model: a graph of operations over named float32 tensors.
 *
 * Loading (program_parse.c) checks every key, reference and shape and loads
 * each op's weights; the op kinds are rows of one table (ops_table.c): name,
 * keys, arity, shape rule, scratch size and run function. Convs are grouped
 * by their edge set (edge_index input + edge_attr input): each group is an
 * ordinary layer model (model.h) so that the GAT kernels, graphs and the
 * selector serve it unchanged. The plan (program_plan.c) turns the op list
 * into a schedule with buffers reused by liveness; program_run.c runs it. */
#ifndef GK_PROGRAM_H
#define GK_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "graphkern.h"
#include "model.h"

#define GK_NAME_MAX 64
#define GK_OP_MAX_INPUTS 16
#define GK_OP_MAX_OUTPUTS 3
#define GK_OP_MAX_TENSORS 64
#define GK_RNN_MAX_LAYERS 8
#define GK_MAX_FUSED 4

/* A shape whose entries are sizes or the node count: bit d of node_dims set
 * means dims[d] is N (dims[d] then holds 1). Edge-level shapes only occur on
 * inputs (kind GK_IO_EDGES, first dim E). */
typedef struct gk_shape {
    int ndim;
    int64_t dims[GK_MAX_RANK];
    unsigned node_dims;
} gk_shape;

/* a * b, or SIZE_MAX when it overflows (sizes that can never be allocated
 * stay that way through further products). */
static inline size_t gk_sat_mul(size_t a, size_t b) {
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* The most floats a plan puts in one buffer: larger is GK_EOVERFLOW. */
#define GK_MAX_VALUE_FLOATS ((size_t)1 << 36)

/* Concrete dims for n nodes; returns the element count (saturating). */
size_t gk_shape_resolve(const gk_shape *s, size_t n, int64_t dims[GK_MAX_RANK]);

typedef struct gk_value {
    char name[GK_NAME_MAX];
    gk_shape shape;
    int producer;                /* op index; -1 for an input             */
    int input;                   /* input index, or -1                    */
    int last_use;                /* last op reading it; num_ops if output */
    int integer;                 /* an integer input (embedding indices)  */
} gk_value;

typedef struct gk_input {
    char name[GK_NAME_MAX];
    gk_io_kind kind;
    gk_shape shape;              /* GK_IO_EDGES: dims[0] is E (stored 1)  */
    int edge_index;              /* GK_IO_EDGES: input index of its edges */
    int value;                   /* value index (nodes/fixed), or -1      */
    int integer;                 /* dtype I64/I32: indices for embeddings */
} gk_input;

typedef struct gk_output {
    char name[GK_NAME_MAX];
    int value;
} gk_output;

/* Op kinds, one row each in ops_table.c. */
typedef enum gk_op_kind {
    GK_OP_CONV, GK_OP_LINEAR, GK_OP_CONSTANT,
    GK_OP_RELU, GK_OP_ELU, GK_OP_LEAKY_RELU, GK_OP_GELU, GK_OP_SILU,
    GK_OP_SIGMOID, GK_OP_TANH, GK_OP_SOFTPLUS, GK_OP_EXP, GK_OP_LOG,
    GK_OP_ABS, GK_OP_SQRT, GK_OP_RSQRT, GK_OP_CLAMP, GK_OP_SCALAR, GK_OP_NOT,
    GK_OP_ADD, GK_OP_SUB, GK_OP_MUL, GK_OP_DIV, GK_OP_POW, GK_OP_MAXIMUM,
    GK_OP_MINIMUM, GK_OP_EQ, GK_OP_NE, GK_OP_LT, GK_OP_LE, GK_OP_GT, GK_OP_GE,
    GK_OP_MASKED_FILL, GK_OP_WHERE,
    GK_OP_RESHAPE, GK_OP_SLICE, GK_OP_CONCAT, GK_OP_PERMUTE, GK_OP_EXPAND,
    GK_OP_SOFTMAX, GK_OP_LOG_SOFTMAX, GK_OP_SUM, GK_OP_MEAN, GK_OP_MAX,
    GK_OP_MIN, GK_OP_VAR, GK_OP_STD,
    GK_OP_LAYER_NORM, GK_OP_GRAPH_LAYER_NORM, GK_OP_SCALE_SHIFT,
    GK_OP_LSTM, GK_OP_GRU, GK_OP_LSTM_CELL, GK_OP_GRU_CELL, GK_OP_EMBEDDING,
    GK_OP_KIND_COUNT
} gk_op_kind;

/* scalar op's function: x (op) value, or value (op) x for the r* ones;
 * comparisons give 1 or 0 (masks are float32 0/1 tensors) */
typedef enum gk_scalar_fn {
    GK_SC_ADD, GK_SC_SUB, GK_SC_RSUB, GK_SC_MUL, GK_SC_DIV, GK_SC_RDIV,
    GK_SC_POW, GK_SC_EQ, GK_SC_NE, GK_SC_LT, GK_SC_LE, GK_SC_GT, GK_SC_GE
} gk_scalar_fn;

typedef struct gk_op {
    gk_op_kind kind;
    char name[GK_NAME_MAX];      /* module name for messages, or ""       */
    int num_inputs, num_outputs;
    int inputs[GK_OP_MAX_INPUTS];   /* value indices                      */
    int outputs[GK_OP_MAX_OUTPUTS];
    /* attributes (which ones a kind reads: ops_table.c) */
    int dim;                     /* softmax, concat, slice, scale_shift   */
    unsigned reduce_dims;        /* sum/mean/max/min: bit per input dim   */
    int keepdim;
    int correction;              /* var/std: divide by count - correction */
    int perm[GK_MAX_RANK];
    int64_t start, stop, step;   /* slice; stop == INT64_MAX: to the end  */
    float alpha, beta, threshold, eps, value, lo, hi;
    int has_lo, has_hi;
    int approximate;             /* gelu: 1 = tanh                        */
    gk_scalar_fn fn;
    int in_features, out_features;  /* linear; rnn input/hidden size      */
    int rnn_layers, batch_first, has_bias, directions;  /* rnn: 2 = bidirectional */
    int norm_dims;               /* layer_norm: trailing dims normalized; */
                                 /* permute: rank                        */
    gk_shape target;             /* reshape, expand, constant: out shape  */
    int conv_group, conv_layer;  /* conv: group and layer in its model    */
    /* fusion (program_fuse.c): an op folded into its producer keeps its
     * place but runs nothing, its output stored as input alias_of's */
    int alias_of;                /* input slot it aliases, or -1          */
    int num_fused;               /* linear: ops applied to y, in order    */
    int fused[GK_MAX_FUSED];     /* (add, scale_shift, activations)       */
    /* weights, owned, float32; which slot holds what: ops_table.c */
    int num_tensors;
    float *tensors[GK_OP_MAX_TENSORS];
    size_t tensor_len[GK_OP_MAX_TENSORS];
} gk_op;

/* Convs that share an edge set: one layer model, one graph, one plan. */
typedef struct gk_conv_group {
    int edge_index;              /* input index                          */
    int edge_attr;               /* input index, or -1                   */
    gk_model *model;             /* its convs as layers, in op order      */
} gk_conv_group;

typedef struct gk_program {
    int num_inputs, num_outputs, num_values, num_ops, num_groups;
    gk_input *inputs;
    gk_output *outputs;
    gk_value *values;
    gk_op *ops;
    gk_conv_group *groups;
} gk_program;

/* Fold residual adds and elementwise activations into the linear op that
 * produces their input (program_fuse.c). */
void gk_program_fuse(gk_program *prog);

/* Parse a version-2 document (already known to say "version": 2) and load
 * its weights from file. */
struct gk_st_file;
gk_status gk_program_load(const char *json, const struct gk_st_file *file,
                          gk_program **out, gk_error *err);
void gk_program_free(gk_program *prog);

#endif
