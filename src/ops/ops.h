/* The op kinds of a version-2 model: one row per kind in one table.
 *
 * A row says how the kind is spelled in the file, which keys and how many
 * inputs it takes, how it reads its attributes and weights, the shape rule,
 * the scratch it needs and the function that runs it. A new op is a new row
 * (ops_table.c) and a run function; nothing else switches on the kind but
 * the conv, which runs through its group's layer plan (program_run.c). */
#ifndef GK_OPS_H
#define GK_OPS_H

#include <jansson.h>

#include "kernels.h"
#include "program.h"
#include "safetensors.h"

/* What a run function gets: concrete shapes and buffers for one call. */
typedef struct gk_op_ctx {
    const gk_op *op;
    int num_inputs;
    const float *in[GK_OP_MAX_INPUTS];
    int in_ndim[GK_OP_MAX_INPUTS];
    int64_t in_dims[GK_OP_MAX_INPUTS][GK_MAX_RANK];
    float *out[GK_OP_MAX_OUTPUTS];       /* NULL: output not needed       */
    int out_ndim[GK_OP_MAX_OUTPUTS];
    int64_t out_dims[GK_OP_MAX_OUTPUTS][GK_MAX_RANK];
    float *scratch;                      /* the op's scratch floats       */
    int in_int32;                        /* embedding: indices are int32  */
    /* RNNs: the generated transform kernel of width gates·hidden for the
     * gate products x·W_ih^T and h·W_hh^T (any F_in); NULL: gk_gemm_rows */
    gk_phase_fn gemm;
    int num_fused;                       /* linear: fused ops, in order    */
    const gk_op *fused[GK_MAX_FUSED];
    const float *fused_operand[GK_MAX_FUSED];  /* an add's other input    */
} gk_op_ctx;

typedef struct gk_op_parse {
    const json_t *object;
    const gk_st_file *file;
    gk_op *op;
    const gk_shape *in;                  /* shapes of the op's inputs      */
    int index;                           /* op index, for messages         */
    gk_error *err;
    gk_status status;                    /* first error                    */
} gk_op_parse;

typedef struct gk_op_def {
    const char *name;                    /* "op" value in the file         */
    gk_op_kind kind;
    int min_inputs, max_inputs, num_outputs;
    const char *const *keys;             /* its keys beyond the common ones */
    void (*parse)(gk_op_parse *ps);      /* attributes and weights         */
    /* output shapes from input shapes; GK_ESHAPE with a message if none  */
    gk_status (*shape)(const gk_op *op, const gk_shape *in, gk_shape *out,
                       gk_error *err);
    size_t (*scratch)(const gk_op *op, const gk_shape *in, size_t max_nodes);
    void (*run)(const gk_op_ctx *ctx);
} gk_op_def;

const gk_op_def *gk_op_find(const char *name);
const gk_op_def *gk_op_def_of(gk_op_kind kind);
/* The op name closest to a misspelled one, or NULL. */
const char *gk_op_closest(const char *name);

/* Attribute readers for parse functions: each keeps the first error. */
void gk_op_fail(gk_op_parse *ps, gk_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int gk_op_int(gk_op_parse *ps, const char *key, int required, int fallback);
float gk_op_float(gk_op_parse *ps, const char *key, int required, float fallback);
int gk_op_bool(gk_op_parse *ps, const char *key, int fallback);
/* A float that may also be the string "inf" or "-inf" (masks fill with
 * -inf before a softmax; JSON has no infinity). */
float gk_op_float_or_inf(gk_op_parse *ps, const char *key, float fallback);
/* Optional float: 1 and *out when given and not null, else 0. */
int gk_op_opt_float(gk_op_parse *ps, const char *key, float *out);
const char *gk_op_string(gk_op_parse *ps, const char *key, int required);
/* An integer in [1, 2^24] (sizes). */
int gk_op_positive(gk_op_parse *ps, const char *key);
/* Replace slot's [rows, cols] matrix by its transpose. */
void gk_op_transpose(gk_op_parse *ps, int slot, int rows, int cols);
/* Load tensor `name` (checked shape: ndim dims, GK_ESHAPE otherwise) into
 * op slot `slot` as float32; NULL name with !required leaves it NULL. */
void gk_op_tensor(gk_op_parse *ps, int slot, const char *name, int required,
                  int ndim, const int64_t *dims);

/* Run functions, by file. */
void gk_run_unary(const gk_op_ctx *ctx);
void gk_run_binary(const gk_op_ctx *ctx);
void gk_run_masked_fill(const gk_op_ctx *ctx);
void gk_run_where(const gk_op_ctx *ctx);
void gk_run_constant(const gk_op_ctx *ctx);
void gk_run_embedding(const gk_op_ctx *ctx);
void gk_run_copy(const gk_op_ctx *ctx);
void gk_run_slice(const gk_op_ctx *ctx);
void gk_run_concat(const gk_op_ctx *ctx);
void gk_run_permute(const gk_op_ctx *ctx);
void gk_run_expand(const gk_op_ctx *ctx);
void gk_run_reduce(const gk_op_ctx *ctx);
void gk_run_softmax(const gk_op_ctx *ctx);
void gk_run_layer_norm(const gk_op_ctx *ctx);
void gk_run_graph_layer_norm(const gk_op_ctx *ctx);
void gk_run_scale_shift(const gk_op_ctx *ctx);
void gk_run_linear(const gk_op_ctx *ctx);
void gk_run_rnn(const gk_op_ctx *ctx);
void gk_run_rnn_cell(const gk_op_ctx *ctx);

/* Loops written to vectorize are built once per ISA (GCC's target_clones;
 * not under clang or a sanitizer, whose runtime is not up when the ifunc
 * resolver runs). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define GK_OPS_PER_ISA \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GK_OPS_PER_ISA
#endif

/* The ops fused into a linear op, applied to its output y[rows, width]. */
void gk_linear_epilogue(const gk_op_ctx *ctx, size_t rows, size_t width);

/* y[rows, out] = x[rows, in] · w^T + b with w stored transposed [in, out]
 * (linear and the RNN gate products). b may be NULL. */
void gk_gemm_rows(const float *x, size_t rows, int in, const float *wt,
                  const float *b, int out, float *y);

#endif
