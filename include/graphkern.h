/* graphkern — Graph Attention Network inference in microseconds.
 *
 * One header, opaque handles created and freed in pairs, status codes with
 * messages, no global mutable state, never prints, exits or aborts.
 *
 *   gk_model  immutable weights + layer configs, loaded from a PyG state_dict
 *             saved as safetensors; shareable by any number of threads.
 *   gk_graph  a graph in CSR-by-target form with self loops already handled
 *             for the model's layers; rebuildable in place without allocation.
 *   gk_plan   every buffer and every kernel decision for one model and a
 *             maximum node/edge count; one plan per concurrent caller.
 *   gk_infer  plan + graph + x -> y: allocates nothing, takes no lock and
 *             makes no system call.
 *
 * Semantics are PyTorch Geometric's GATConv / GATv2Conv (PyG 2.5-2.8).
 */
#ifndef GRAPHKERN_H
#define GRAPHKERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRAPHKERN_VERSION_MAJOR 0
#define GRAPHKERN_VERSION_MINOR 1
#define GRAPHKERN_VERSION_PATCH 0

/* ---- status ------------------------------------------------------------ */

typedef enum gk_status {
    GK_OK = 0,
    GK_EINVAL,       /* bad argument: NULL pointer, zero size, bad option   */
    GK_ENOMEM,       /* an allocation failed                                */
    GK_EIO,          /* a file could not be opened or read                  */
    GK_EFORMAT,      /* breaks the format: short, bad header, unknown key  */
    GK_EJSON,        /* header or metadata JSON malformed                   */
    GK_EMETADATA,    /* metadata present but missing/invalid fields         */
    GK_EUNSUPPORTED, /* unknown layer type, activation, fill value, dtype   */
    GK_EMISSING,     /* a tensor the layer config needs is absent           */
    GK_EDTYPE,       /* a tensor has the wrong dtype                        */
    GK_ESHAPE,       /* a tensor or an input has the wrong shape            */
    GK_EOFFSET,      /* tensor data offsets out of range or overlapping     */
    GK_ECHANNELS,    /* layer i's output width != layer i+1's input width   */
    GK_EINDEX,       /* an edge index is negative or >= number of nodes     */
    GK_ELIMIT,       /* nodes or edges above the plan's/graph's capacity    */
    GK_EOVERFLOW,    /* a size computation would overflow                   */
    GK_ENONFINITE,   /* NaN or Inf in weights or inputs                     */
    GK_EMISMATCH,    /* graph built for another model / layer layout        */
    GK_EISA,         /* a forced ISA is not available on this CPU           */
    GK_ETHREAD,      /* worker threads could not be started                 */
    GK_STATUS_COUNT
} gk_status;

/* Static name of a status, e.g. "GK_ESHAPE: wrong tensor shape". */
const char *gk_strerror(gk_status status);

/* Per-call error detail. Every function that can fail takes an optional
 * gk_error*: on failure it holds the status and one line naming what was
 * wrong (which tensor, which index). Pass NULL if you only want the code. */
typedef struct gk_error {
    gk_status status;
    char message[256];
} gk_error;

/* ---- model ------------------------------------------------------------- */

typedef struct gk_model gk_model;

typedef enum gk_layer_type { GK_LAYER_GAT = 0, GK_LAYER_GATV2 = 1 } gk_layer_type;

typedef enum gk_activation {
    GK_ACT_NONE = 0, GK_ACT_ELU, GK_ACT_RELU, GK_ACT_LEAKY_RELU
} gk_activation;

/* How a self loop's edge features are filled (PyG's fill_value). */
typedef enum gk_fill {
    GK_FILL_MEAN = 0, GK_FILL_ADD, GK_FILL_MAX, GK_FILL_MIN, GK_FILL_MUL,
    GK_FILL_CONSTANT
} gk_fill;

typedef struct gk_layer_info {
    const char *name;         /* tensor prefix, e.g. "conv1"; owned by model */
    gk_layer_type type;
    int in_channels;
    int out_channels;         /* per head */
    int heads;
    int concat;               /* 1: output heads*out_channels, 0: mean     */
    float negative_slope;
    int add_self_loops;
    gk_fill fill;
    float fill_constant;      /* when fill == GK_FILL_CONSTANT             */
    int edge_dim;             /* 0: no edge features                       */
    int bias;
    int residual;
    int share_weights;        /* GATv2Conv only                            */
    gk_activation activation;
    int out_width;            /* heads*out_channels if concat else out_ch. */
} gk_layer_info;

/* Load a model from a safetensors file whose __metadata__["graphkern"]
 * describes the layers (docs/model-format.md). Accepts PyG >= 2.5 and <= 2.4 key
 * spellings. On success *out owns a copy of everything it needs. */
gk_status gk_model_load_file(const char *path, gk_model **out, gk_error *err);

/* Same, from a buffer in memory (e.g. weights embedded in a binary).
 * The buffer is not referenced after the call returns. */
gk_status gk_model_load_buffer(const void *data, size_t size, gk_model **out,
                               gk_error *err);

void gk_model_free(gk_model *model);

int gk_model_num_layers(const gk_model *model);
int gk_model_in_features(const gk_model *model);   /* F of x            */
int gk_model_out_features(const gk_model *model);  /* width of y        */
int gk_model_edge_dim(const gk_model *model);      /* D of edge_attr, 0 */

/* Layer i's configuration; GK_EINVAL if i is out of range. */
gk_status gk_model_layer(const gk_model *model, int i, gk_layer_info *out);

/* ---- graph ------------------------------------------------------------- */

typedef struct gk_graph gk_graph;

typedef enum gk_index_type { GK_INDEX_I32 = 0, GK_INDEX_I64 = 1 } gk_index_type;

/* Create an empty graph with room for max_nodes and max_edges input edges,
 * laid out for `model`'s layers (self-loop policy, edge features). All its
 * memory is allocated and touched here. */
gk_status gk_graph_create(const gk_model *model, size_t max_nodes,
                          size_t max_edges, gk_graph **out, gk_error *err);

/* Fill the graph from COO in PyG's direction: edge_index[0] = source j,
 * edge_index[1] = target i, stored as two rows of num_edges indices
 * (a [2, E] C-contiguous array). edge_attr is [E, D] float32 or NULL; it is
 * required when the model has edge_dim > 0. Validates every index and every
 * feature (finite), then builds CSR by target once. Allocates nothing.
 * A COO that lists the complete graph in the order gk_graph_set_complete
 * describes (target by target, sources ascending), or source by source
 * (adj.nonzero()'s order, as dense_to_sparse gives it), is recognised in
 * one read and built as gk_graph_set_complete builds it (edge_attr in the
 * COO's order either way). */
gk_status gk_graph_set_coo(gk_graph *graph, size_t num_nodes, size_t num_edges,
                           const void *edge_index, gk_index_type index_type,
                           const float *edge_attr, gk_error *err);

/* Fill the graph with the complete graph on num_nodes nodes without reading
 * an edge list: every ordered pair (j, i) with j != i, and also (i, i) when
 * self_loops is nonzero. It equals gk_graph_set_coo on those edges listed
 * target by target, sources ascending (edge k of a loop-free graph is
 * (j, i) with i = k / (n - 1)); edge_attr, [E, D] in that order, is
 * required when the model has edge_dim > 0 (E = n(n-1), or n^2 with
 * self_loops). The edges must fit the graph's max_edges. A call with the
 * same num_nodes and self_loops as the last one rewrites no index: O(1)
 * without edge features, one pass over edge_attr with them. */
gk_status gk_graph_set_complete(gk_graph *graph, size_t num_nodes, int self_loops,
                                const float *edge_attr, gk_error *err);

/* Convenience: create a graph sized exactly for this COO and fill it. */
gk_status gk_graph_from_coo(const gk_model *model, size_t num_nodes,
                            size_t num_edges, const void *edge_index,
                            gk_index_type index_type, const float *edge_attr,
                            gk_graph **out, gk_error *err);

void gk_graph_free(gk_graph *graph);

size_t gk_graph_num_nodes(const gk_graph *graph);
size_t gk_graph_num_edges(const gk_graph *graph);  /* input edges */

/* Layer `layer`'s edges after self-loop handling, in the order the
 * attention weights of gk_plan_attention() use (CSR by target). src/dst may
 * each be NULL; returns the count, or 0 if layer is out of range. */
size_t gk_graph_layer_edges(const gk_graph *graph, int layer, int64_t *src,
                            int64_t *dst, size_t capacity);

/* ---- plan -------------------------------------------------------------- */

typedef struct gk_plan gk_plan;

typedef enum gk_isa {
    GK_ISA_AUTO = 0,   /* best the CPU runs; GRAPHKERN_ISA env overrides */
    GK_ISA_AVX512,     /* specialized kernels, AVX-512                     */
    GK_ISA_AVX2,       /* specialized kernels, AVX2+FMA                    */
    GK_ISA_SCALAR,     /* specialized kernels, portable C                  */
    GK_ISA_GENERIC,    /* the generic BLIS path for every layer            */
    GK_ISA_NEON        /* specialized kernels, AArch64 Advanced SIMD       */
} gk_isa;
/* The ISAs with kernels are the rows of codegen/isas.toml (docs/codegen.md);
 * their names: */

/* "auto", "generic", or the ISA's name in codegen/isas.toml ("avx512",
 * "avx2", "neon", "scalar"); "?" for a value that is none of them. */
const char *gk_isa_name(gk_isa isa);

/* The gk_isa of a name gk_isa_name gives; GK_EINVAL (the message lists
 * the names) if none. */
gk_status gk_isa_from_name(const char *name, gk_isa *isa, gk_error *err);

/* The most threads a plan may have (gk_plan_options.threads). */
#define GK_MAX_THREADS 1024

typedef struct gk_plan_options {
    int threads;            /* worker threads incl. the caller; 0 or 1: none */
                            /* at most GK_MAX_THREADS                         */
    gk_isa isa;             /* force an ISA or the generic path              */
    int keep_attention;     /* 1: keep each layer's attention weights        */
    int validate_inputs;    /* 1: also reject NaN/Inf in x (O(N·F) scan)     */
    int pin_first_cpu;      /* >= 0: pin worker k to CPU pin_first_cpu + k   */
                            /* modulo the CPU count (k >= 1; worker 0 is the  */
                            /* calling thread, which the library does not     */
                            /* pin); -1: no pinning                           */
    int spin_us;            /* threads > 1: an idle worker polls this long   */
                            /* for the next call before it sleeps (waking a  */
                            /* sleeping one costs a system call); 0: sleep   */
                            /* at once. See docs/threads.md.                 */
} gk_plan_options;

/* Defaults: 1 thread, auto ISA, no attention kept, validation on, no pin,
 * spin_us 200. */
gk_plan_options gk_plan_default_options(void);

/* Create a plan for graphs of up to max_nodes nodes and max_edges input
 * edges. Checks every argument first, then selects a kernel per layer,
 * allocates and touches every buffer. options may be NULL for the
 * defaults. */
gk_status gk_plan_create(const gk_model *model, size_t max_nodes,
                         size_t max_edges, const gk_plan_options *options,
                         gk_plan **out, gk_error *err);

void gk_plan_free(gk_plan *plan);

/* Write a human-readable description of the plan (per layer: the kernel
 * chosen and why) into buf (always NUL-terminated if size > 0). Returns the
 * length the full text needs, like snprintf. */
size_t gk_plan_describe(const gk_plan *plan, char *buf, size_t size);

/* Kernel chosen for layer i as a short name ("generic" or the generated
 * kernel's name), or NULL if i is out of range. */
const char *gk_plan_layer_kernel(const gk_plan *plan, int layer);

/* ---- inference --------------------------------------------------------- */

/* y[N, out] = model(graph, x[N, F]). x and y are C-contiguous float32.
 * Allocates nothing, takes no lock, makes no system call. Errors: a graph
 * larger than the plan (GK_ELIMIT), a graph built for another model
 * (GK_EMISMATCH), NaN/Inf in x when validate_inputs (GK_ENONFINITE).
 * With threads > 1 see "threads & batches" below. */
gk_status gk_infer(gk_plan *plan, const gk_graph *graph, const float *x,
                   float *y, gk_error *err);

/* Attention weights of layer `layer` from the last gk_infer, as
 * [edges, heads] in the order of gk_graph_layer_edges(). Requires
 * keep_attention; returns NULL otherwise. *num_edges and *heads receive the
 * shape when not NULL. Valid until the next gk_infer on this plan. */
const float *gk_plan_attention(const gk_plan *plan, int layer,
                               size_t *num_edges, int *heads);

/* ---- correlation graphs ------------------------------------------------ */

/* A rolling window of the last T returns of N assets and their Pearson
 * correlations, updated in O(N^2) per tick, turned into a gk_graph by a
 * rule (threshold and/or top-k by |rho|) without allocation.
 *
 * Numerics: window sums S_i = sum r_i and cross sums C_ij = sum r_i r_j
 * are kept in float64 and updated per tick (add the new row's outer
 * product, subtract the dropped row's). Every `recompute_every` ticks they
 * are recomputed from the window (plain float64 sums), which bounds rounding
 * drift. rho_ij = (C_ij - S_i S_j / n) / sqrt(var_i var_j) with n the rows
 * in the window; inputs are returns (|mean| << std), for which this
 * formula loses nothing measurable in float64.
 *
 * Invalid series (defined behaviour, never NaN in a graph):
 *  - a non-finite return (NaN or +-Inf: a halted stock, missing data) is
 *    "no data": it enters the window as 0 and marks the asset invalid until
 *    that row has left the window (T ticks later);
 *  - a series with (numerically) zero variance in the window is invalid;
 *  - fewer than 2 rows in the window: every asset is invalid.
 * An invalid asset has rho = 0 with every other asset and gets no edge in
 * either direction; it stays a node of the graph (self loops per the
 * model). */

typedef struct gk_corr gk_corr;

typedef struct gk_corr_options {
    int recompute_every;    /* full recompute every K pushes; 0: never     */
    gk_plan *threads_of;    /* NULL: push and build_graph run on the caller's
                               thread. A plan with threads > 1: they split
                               their O(N^2) work over that plan's threads
                               (from 128 assets on; fewer run on the caller's),
                               so they must not run at the same time as a
                               gk_infer on that plan (call them from the
                               thread that calls gk_infer), and the plan
                               must outlive the corr object. Results are
                               bitwise the same for any thread count.     */
} gk_corr_options;

/* Defaults: recompute_every = 1024, threads_of = NULL. */
gk_corr_options gk_corr_default_options(void);

/* Create a builder for num_assets series and a window of `window` rows
 * (both >= 2). Allocates and touches every buffer it will ever use,
 * including room for the densest graph (N·(N-1) edges). options may be
 * NULL. The window starts empty. */
gk_status gk_corr_create(size_t num_assets, size_t window,
                         const gk_corr_options *options, gk_corr **out,
                         gk_error *err);

void gk_corr_free(gk_corr *corr);

/* Add one tick: returns[num_assets] (read, not kept). Drops the oldest row
 * once the window is full. O(N), plus the previous push's O(N^2) update of
 * the cross sums when no graph build has done it since (a top-k build does
 * it inside its own pass over them), or one O(N^2·T) recompute every K-th
 * push. Allocates nothing. Non-finite values are allowed (see above). */
gk_status gk_corr_push(gk_corr *corr, const float *returns, gk_error *err);

/* Recompute the sums from the window now (O(N^2·T), on threads_of's
 * threads when given; no lock, no allocation). */
void gk_corr_recompute(gk_corr *corr);

size_t gk_corr_num_assets(const gk_corr *corr);
size_t gk_corr_count(const gk_corr *corr);      /* rows in the window, <= T */
uint64_t gk_corr_ticks(const gk_corr *corr);    /* pushes since creation    */

/* 1 if asset i currently has valid correlations (see above), else 0. */
int gk_corr_valid(const gk_corr *corr, size_t asset);

/* Write the correlation matrix into rho[N·N] (row-major, caller-owned):
 * rho_ii = 1 for a valid asset, and 0 wherever an asset is invalid. */
void gk_corr_matrix(gk_corr *corr, float *rho);

/* Which edges a graph gets. threshold and top_k may be combined: then the
 * top_k are chosen among the pairs with |rho| >= threshold. */
typedef struct gk_corr_rule {
    float threshold;    /* keep pairs with |rho| >= threshold; <= 0: all   */
    int top_k;          /* per target i: the k sources j with the largest
                           |rho_ij| (ties: smaller j first); 0: no limit   */
    int symmetric;      /* 1: also add j <- i for every i <- j kept (union,
                           no duplicates); only matters with top_k        */
} gk_corr_rule;

/* Rebuild `graph` (created with gk_graph_create for a model whose edge_dim
 * is 0 or 1, with max_nodes >= N and max_edges >= the edges the rule can
 * give, N·(N-1) at most) from the current correlations: edges j -> i by
 * the rule, never a self loop, edge_attr = rho_ij (signed) when the model
 * has edge_dim 1. Allocates nothing. *num_edges (may be NULL) receives the
 * edge count. The corr object's internal edge list is overwritten. */
gk_status gk_corr_build_graph(gk_corr *corr, const gk_corr_rule *rule,
                              gk_graph *graph, size_t *num_edges,
                              gk_error *err);

/* ---- publication ------------------------------------------------------- */

/* One writer thread builds graphs, any number of reader threads take the
 * latest complete one, with no lock and no allocation on either side.
 *
 * The publisher owns `slots` graphs (and as many user buffers, e.g. for the
 * node features that go with a graph), all allocated at creation. `latest`
 * is an atomic slot index; each slot has an atomic reader count. The writer
 * fills a slot that is neither the latest nor held by a reader, then makes
 * it the latest; a reader pins the latest slot by incrementing its count
 * and re-checking that it is still the latest (else it unpins and retries;
 * this only happens when a publication raced it). A pinned slot is never
 * rewritten, so a reader never sees a half-written graph, and the writer
 * never waits for a reader. With slots >= readers + 2 the writer always
 * finds a free slot; with fewer, gk_publisher_begin may return NULL. */

typedef struct gk_publisher gk_publisher;

/* What a reader holds between acquire and release. */
typedef struct gk_snapshot {
    const gk_graph *graph;   /* owned by the publisher; read-only          */
    const void *user;        /* the slot's user buffer (user_bytes)        */
    uint64_t version;        /* 1 for the first publication, then +1 each  */
    int slot;
} gk_snapshot;

/* Create a publisher of `slots` (>= 3) graphs sized like gk_graph_create
 * (model, max_nodes, max_edges), each with a zeroed, 64-byte aligned user
 * buffer of user_bytes (may be 0). The model must outlive the publisher. */
gk_status gk_publisher_create(const gk_model *model, size_t max_nodes,
                              size_t max_edges, int slots, size_t user_bytes,
                              gk_publisher **out, gk_error *err);

/* Free the publisher; no reader may hold a snapshot. */
void gk_publisher_free(gk_publisher *pub);

/* Writer (one thread): a graph to rebuild (e.g. gk_corr_build_graph) and
 * its user buffer in *user (may be NULL). NULL if every slot but the latest
 * is held by a reader. Call gk_publisher_commit to publish it. */
gk_graph *gk_publisher_begin(gk_publisher *pub, void **user);

/* Writer: publish the slot from the last gk_publisher_begin; returns its
 * version. Readers that acquire from now on get it. */
uint64_t gk_publisher_commit(gk_publisher *pub);

/* Reader (any thread): pin the latest published graph into *snap. Returns
 * 1, or 0 when nothing has been published yet. Never blocks the writer;
 * retries only when a publication raced it. */
int gk_publisher_acquire(gk_publisher *pub, gk_snapshot *snap);

/* Reader: unpin a snapshot from gk_publisher_acquire. */
void gk_publisher_release(gk_publisher *pub, const gk_snapshot *snap);

/* Number of publications so far (the latest version). */
uint64_t gk_publisher_version(const gk_publisher *pub);

/* ---- threads & batches ------------------------------------------------- */

/* With gk_plan_options.threads = T > 1 a plan starts T-1 persistent worker
 * threads at gk_plan_create (joined by gk_plan_free); the thread calling
 * gk_infer is worker 0. gk_infer then splits each layer's transform by rows
 * and its aggregation by target nodes (balanced by edges) across the T
 * workers, with a barrier between phases; every output row is computed by
 * exactly one worker with the same code, so y is bitwise identical for any
 * T. Between calls workers spin for spin_us, then sleep: a call that finds
 * them asleep pays one system call (futex wake) to start them; with T = 1
 * gk_infer makes no system call at all. See docs/threads.md. */

/* Run `count` independent inferences with one model: ys[b] = model(
 * graphs[b], xs[b]) for b < count. Graph b runs whole on worker b mod T
 * (own buffers per worker), so each y is bitwise identical to gk_infer with
 * one thread. Every graph is checked before any runs (errors as gk_infer,
 * naming the batch item). Attention weights are not recorded. Allocates
 * nothing. With T = 1 the graphs simply run one after the other. */
gk_status gk_infer_batch(gk_plan *plan, size_t count,
                         const gk_graph *const *graphs, const float *const *xs,
                         float *const *ys, gk_error *err);

/* ---- whole models: format version 2, inputs and outputs by name ------- */

/* A version-2 model file (graphkern.export) is a graph of operations over
 * named tensors: the forward's inputs, intermediate values and outputs (see
 * docs/model-format.md). Such a model runs with gk_infer_named; gk_infer
 * also runs it when it has one node-feature input, one edge set and one
 * output (the graph then comes from gk_graph_create on the model). Version-1
 * files (a GAT layer stack) run with gk_infer only. */

typedef enum gk_tensor_dtype {
    GK_TENSOR_F32 = 0, GK_TENSOR_I64, GK_TENSOR_I32
} gk_tensor_dtype;

#define GK_MAX_RANK 4

/* One named input or output of gk_infer_named. Inputs: name, dtype, ndim,
 * shape and data (read, not kept; C-contiguous). Outputs: name, data and
 * capacity (floats data can hold) from the caller; ndim and shape are
 * written. */
typedef struct gk_tensor {
    const char *name;
    gk_tensor_dtype dtype;
    int ndim;
    int64_t shape[GK_MAX_RANK];
    void *data;
    size_t capacity;             /* outputs only: room in data, in floats  */
} gk_tensor;

typedef enum gk_io_kind {
    GK_IO_NODES = 0,   /* float32 [N, ...]: one row per node              */
    GK_IO_EDGE_INDEX,  /* int64/int32 [2, E]: row 0 source, row 1 target  */
    GK_IO_EDGES,       /* float32 [E] or [E, D]: one row per edge         */
    GK_IO_FIXED        /* float32 of a fixed shape                        */
} gk_io_kind;

#define GK_DIM_NODES (-1)   /* a shape entry that is the node count N     */
#define GK_DIM_EDGES (-2)   /* a shape entry that is the edge count E     */

typedef struct gk_io_info {
    const char *name;            /* owned by the model                    */
    gk_io_kind kind;
    int ndim;
    int64_t shape[GK_MAX_RANK];  /* GK_DIM_NODES / GK_DIM_EDGES or a size */
    const char *edge_index;      /* GK_IO_EDGES: its edge_index input     */
    int integer;                 /* 1: integer data (edge_index; indices  */
                                 /* into an embedding), int64 or int32    */
} gk_io_info;

/* 1 or 2: the model file's format version. */
int gk_model_version(const gk_model *model);

/* A version-2 model's inputs and outputs (0 for version 1). */
int gk_model_num_inputs(const gk_model *model);
int gk_model_num_outputs(const gk_model *model);
gk_status gk_model_input(const gk_model *model, int i, gk_io_info *out);
gk_status gk_model_output(const gk_model *model, int i, gk_io_info *out);

/* Run a version-2 model: every input by name (each exactly once; node count
 * N from the node inputs, edge sets built from the edge_index inputs), every
 * requested output by name (any subset, in any order). Validates names,
 * dtypes, shapes, indices and (with validate_inputs) NaN/Inf first, then
 * runs the plan's schedule. Allocates nothing, takes no lock, makes no
 * system call (threads > 1: see "threads & batches"). */
gk_status gk_infer_named(gk_plan *plan, const gk_tensor *inputs,
                         size_t num_inputs, gk_tensor *outputs,
                         size_t num_outputs, gk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* GRAPHKERN_H */
