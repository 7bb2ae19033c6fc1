/* Helpers shared by the end-to-end tests: reading fixtures through the
 * library's safetensors parser, and building a reference model (raw PyG
 * weights in double) from a model file's tensors and its graphkern JSON,
 * parsed here independently of the library's model loader. */
#ifndef GK_TEST_UTIL_H
#define GK_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ref_gat.h"
#include "safetensors.h"
#include "select.h"

/* The ISAs a test runs every case on: auto, every row of codegen/isas.toml
 * (best first), then the generic path; a new ISA joins by its table row. */
typedef struct tu_isa {
    gk_isa isa;
    const char *name;
} tu_isa;
#define TU_MAX_ISAS 34
static inline size_t tu_all_isas(tu_isa *out) {
    size_t n = 0;
    out[n++] = (tu_isa){GK_ISA_AUTO, "auto"};
    for (int k = 0; k < gk_isa_count() && n < TU_MAX_ISAS - 1; k++)
        out[n++] = (tu_isa){gk_isa_at(k), gk_isa_name(gk_isa_at(k))};
    out[n++] = (tu_isa){GK_ISA_GENERIC, "generic"};
    return n;
}

/* A safetensors file read and parsed; buf owns the bytes. */
typedef struct tu_file {
    uint8_t *buf;
    size_t size;
    gk_st_file st;
} tu_file;

int tu_open(const char *path, tu_file *f);
void tu_close(tu_file *f);

/* Tensor `name` as doubles (F32/F64) in a malloc'd array, or NULL if
 * absent or of another dtype. *numel receives its size when not NULL. */
double *tu_tensor_f64(const gk_st_file *st, const char *name, size_t *numel);

/* edge_index [2, E] (I64 or I32) as two malloc'd int64 rows. */
int tu_edge_index(const gk_st_file *st, size_t *E, int64_t **src,
                  int64_t **dst);

/* A reference model from a model file: the layer configs from
 * __metadata__["graphkern"] and every raw tensor, shapes checked. */
typedef struct tu_model {
    int num_layers;
    ref_layer *layers;
} tu_model;

int tu_model_from_st(const gk_st_file *st, tu_model *m);
void tu_model_free(tu_model *m);

/* Parse a graphkern metadata JSON string into layer configs (weights not
 * allocated). names[i] receives a malloc'd copy of each layer's name. */
int tu_parse_layers(const char *json, int *num_layers, ref_layer **layers,
                    char ***names);

#endif
