/* The steps of loading a model, one file each:
 *   model_config.c   __metadata__["graphkern"] JSON -> gk_layer_info
 *   layout.c         fused-transform column layout (layout.h)
 *   model.c          the load itself: config, layout, weights, summary
 *   model_weights.c  state_dict tensors -> a gk_layer's packed arrays
 * model.c calls the others; model_weights.c needs only layout.c. */
#ifndef GK_MODEL_LOAD_H
#define GK_MODEL_LOAD_H

#include <jansson.h>

#include "model.h"
#include "safetensors.h"

/* Parse the layer list into a new zeroed array of *num_layers gk_layer
 * (free with gk_free) with info and name filled; columns and weights are
 * left to the later steps. Checks every value and the agreement between
 * layers (channels, edge_dim). */
gk_status gk_model_parse_config(const char *json, gk_layer **layers,
                                int *num_layers, gk_error *err);

/* Read one GATConv/GATv2Conv layer object (docs/model-format.md, "Metadata")
 * into *layer (zeroed by the caller): info and name, every value checked,
 * PyG's defaults for absent keys; index numbers the layer in messages.
 * extra_keys is NULL or a NULL-terminated list of further keys the caller's
 * format puts in a layer object (e.g. "op", "inputs", "output"); they are
 * neither read nor refused here. Does not check the layer against its
 * neighbours (channels, edge_dim, unique names): the caller does. Status
 * codes: those of gk_model_parse_config for one layer. */
gk_status gk_model_read_layer(const json_t *object, int index,
                              gk_layer *layer, const char *const *extra_keys,
                              gk_error *err);

/* Fill layer's weight arrays from the file's tensors. Needs info and the
 * column layout. On failure the layer holds no memory. */
gk_status gk_layer_load_weights(const gk_st_file *file, gk_layer *layer,
                                gk_error *err);

/* A model of `count` layers whose configs are read (format 1's reader):
 * column layout, weights from file, summary. Takes `layers` (freed on
 * failure). Format 2 builds one per conv group. */
gk_status gk_model_from_layers(const gk_st_file *file, gk_layer *layers, int count,
                               gk_model **out, gk_error *err);

/* The "version" of a metadata document: 1 when absent, 0 if unreadable. */
int gk_metadata_version(const char *json);

/* Free a layer's weight arrays (not the layer itself). */
void gk_layer_release(gk_layer *layer);

#endif
