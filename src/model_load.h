/* The steps of loading a model, one file each:
 *   model_config.c   __metadata__["graphkern"] JSON -> gk_layer_info
 *   model.c          fused-transform column layout, the load itself
 *   model_weights.c  state_dict tensors -> a gk_layer's packed arrays */
#ifndef GK_MODEL_LOAD_H
#define GK_MODEL_LOAD_H

#include "model.h"
#include "safetensors.h"

/* Parse the layer list into a new zeroed array of *num_layers gk_layer
 * (free with gk_free) with info and name filled; columns and weights are
 * left to the later steps. Checks every value and the agreement between
 * layers (channels, edge_dim). */
gk_status gk_model_parse_config(const char *json, gk_layer **layers,
                                int *num_layers, gk_error *err);

/* Fill layer's weight arrays from the file's tensors. Needs info and the
 * column layout. On failure the layer holds no memory. */
gk_status gk_layer_load_weights(const gk_st_file *file, gk_layer *layer,
                                gk_error *err);

/* Free a layer's weight arrays (not the layer itself). */
void gk_layer_release(gk_layer *layer);

#endif
