/* Shared pieces of the graphkern command-line tool. */
#ifndef GK_CLI_H
#define GK_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "graphkern.h"

/* One subcommand: `graphkern <name> ...`; returns the process exit code. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command;

int cmd_demo(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Value of `--name value` in argv, or NULL. */
const char *cli_option(int argc, char **argv, const char *name);
/* 1 if the flag `--name` is present. */
int cli_flag(int argc, char **argv, const char *name);
/* Print "graphkern: <what>: <message>" to stderr and return 1. */
int cli_error(const char *what, const gk_error *err);

/* Inputs of one inference read from a .io safetensors file. */
typedef struct cli_input {
    uint8_t *file;               /* the whole file; tensors point into it */
    size_t num_nodes, num_features, num_edges, edge_dim;
    float *x;                    /* [N, F] (aligned copy)                 */
    void *edge_index;            /* [2, E]                                */
    gk_index_type index_type;
    float *edge_attr;            /* [E, D] or NULL                        */
    double *y_ref;               /* y_pyg_f64 [N, out] or NULL            */
    size_t y_ref_cols;
} cli_input;

/* Read and check a .io file. On failure (1) *in holds nothing to free. */
int cli_read_input(const char *path, cli_input *in, gk_error *err);
/* The same from bytes already in memory: takes ownership of `file` (a
 * gk_read_file/malloc buffer), freed by cli_free_input or on failure. `name`
 * is used in messages. Returns 0 on success. */
int cli_parse_input(uint8_t *file, size_t size, const char *name, cli_input *in,
                    gk_error *err);
void cli_free_input(cli_input *in);

/* A format-2 model's inputs read by name from a .io file (cli_named.c). */
typedef struct cli_named {
    int count;
    gk_tensor inputs[64];        /* in the model's input order, own copies */
    size_t nodes, max_edges;     /* N of the node inputs, the largest E    */
    double *y_ref;               /* y_ref_f64 when present                 */
    size_t y_ref_count;
} cli_named;

int cli_read_named(const char *path, const gk_model *model, cli_named *in,
                   gk_error *err);
void cli_free_named(cli_named *in);
/* Buffers for every output of the model at `nodes` nodes (calloc'd; the
 * caller frees each .data); returns the count, -1 without memory. */
int cli_named_outputs(const gk_model *model, size_t nodes, gk_tensor *out);

/* graphkern infer / bench on a format-2 model (cmd_named.c). */
int cmd_infer_named(const char *model_path, gk_model *model, const char *input_path,
                    const char *output_path, int repeat, const gk_plan_options *opt);
int cmd_bench_model(int argc, char **argv);

/* Allocations made by this process so far (alloc_count.c), or -1 where a
 * sanitizer owns malloc. */
long cli_allocations(void);

/* Monotonic time in nanoseconds. */
uint64_t cli_now_ns(void);

#endif
