/* Loading a model: safetensors file -> layer configs -> column layout of
 * each layer's fused transform (layout.c) -> packed weights
 * (model_weights.c). Also the accessors. */
#include <string.h>

#include "error.h"
#include "layout.h"
#include "model_load.h"
#include "program.h"

static void summarize(gk_model *model) {
    const gk_layer *first = &model->layers[0];
    const gk_layer *last = &model->layers[model->num_layers - 1];
    model->in_features = first->info.in_channels;
    model->out_features = last->info.out_width;
    for (int i = 0; i < model->num_layers; i++) {
        const gk_layer *layer = &model->layers[i];
        int stride = (int)gk_t_stride(layer);
        if (layer->info.edge_dim) model->edge_dim = layer->info.edge_dim;
        if (stride > model->max_cols) model->max_cols = stride;
        if (layer->info.in_channels > model->max_width)
            model->max_width = layer->info.in_channels;
        if (layer->info.out_width > model->max_width)
            model->max_width = layer->info.out_width;
    }
    model->layout = 0;  /* graph.c's gk_layout_signature owns this */
}

static gk_status build_layers(const gk_st_file *file, gk_model *model,
                              gk_error *err) {
    gk_status st = GK_OK;
    for (int i = 0; st == GK_OK && i < model->num_layers; i++)
        st = gk_layer_assign_columns(&model->layers[i], err);
    for (int i = 0; st == GK_OK && i < model->num_layers; i++)
        st = gk_layer_load_weights(file, &model->layers[i], err);
    if (st == GK_OK) summarize(model);
    return st;
}

gk_status gk_model_from_layers(const gk_st_file *file, gk_layer *layers, int count,
                               gk_model **out, gk_error *err) {
    *out = NULL;
    gk_model *model = gk_alloc(sizeof *model);
    if (!model) {
        gk_free(layers);
        return gk_fail(err, GK_ENOMEM, "no memory for the model");
    }
    model->layers = layers;
    model->num_layers = count;
    gk_status st = build_layers(file, model, err);
    if (st != GK_OK) {
        gk_model_free(model);
        return st;
    }
    *out = model;
    return GK_OK;
}

/* The summary a format-2 model gives the format-1 accessors: its one node
 * input's width and its first output's last dim. */
static void summarize_program(gk_model *model) {
    const gk_program *prog = model->program;
    for (int i = 0; i < prog->num_inputs; i++) {
        const gk_input *in = &prog->inputs[i];
        if (in->kind == GK_IO_NODES && in->shape.ndim == 2 && !model->in_features)
            model->in_features = (int)in->shape.dims[1];
        if (in->kind == GK_IO_EDGES)
            model->edge_dim = in->shape.ndim == 1 ? 1 : (int)in->shape.dims[1];
    }
    const gk_shape *y = &prog->values[prog->outputs[0].value].shape;
    model->out_features = y->ndim ? (int)y->dims[y->ndim - 1] : 1;
    if (y->ndim && ((y->node_dims >> (y->ndim - 1)) & 1u)) model->out_features = 1;
}

static gk_status build_model(const gk_st_file *file, gk_model *model,
                             gk_error *err) {
    if (!file->graphkern_metadata)
        return gk_fail(err, GK_EMETADATA,
                       "no __metadata__[\"graphkern\"] describing the layers");
    int version = gk_metadata_version(file->graphkern_metadata);
    if (version > 2)
        return gk_fail(err, GK_EUNSUPPORTED, "metadata version %d: this library reads "
                       "versions 1 (a layer stack) and 2 (a graph of ops)", version);
    if (version == 2) {
        gk_status st = gk_program_load(file->graphkern_metadata, file, &model->program, err);
        if (st == GK_OK) summarize_program(model);
        return st;
    }
    gk_status st = gk_model_parse_config(file->graphkern_metadata,
                                         &model->layers, &model->num_layers,
                                         err);
    if (st == GK_OK) st = build_layers(file, model, err);
    return st;
}

gk_status gk_model_load_buffer(const void *data, size_t size, gk_model **out,
                               gk_error *err) {
    if (!out) return gk_fail(err, GK_EINVAL, "gk_model_load: out is NULL");
    *out = NULL;
    if (!data) return gk_fail(err, GK_EINVAL, "gk_model_load: data is NULL");
    gk_st_file file;
    gk_status st = gk_st_parse(data, size, &file, err);
    if (st != GK_OK) return st;
    gk_model *model = gk_alloc(sizeof *model);
    st = model ? build_model(&file, model, err)
               : gk_fail(err, GK_ENOMEM, "no memory for the model");
    gk_st_free(&file);
    if (st != GK_OK) {
        gk_model_free(model);
        return st;
    }
    *out = model;
    gk_ok(err);
    return GK_OK;
}

gk_status gk_model_load_file(const char *path, gk_model **out,
                             gk_error *err) {
    if (out) *out = NULL;
    uint8_t *buf = NULL;
    size_t size = 0;
    gk_status st = gk_read_file(path, &buf, &size, err);
    if (st != GK_OK) return st;
    st = gk_model_load_buffer(buf, size, out, err);
    gk_free(buf);
    return st;
}

void gk_model_free(gk_model *model) {
    if (!model) return;
    gk_program_free(model->program);
    for (int i = 0; model->layers && i < model->num_layers; i++)
        gk_layer_release(&model->layers[i]);
    gk_free(model->layers);
    gk_free(model);
}

int gk_model_num_layers(const gk_model *model) {
    return model ? model->num_layers : 0;
}

int gk_model_in_features(const gk_model *model) {
    return model ? model->in_features : 0;
}

int gk_model_out_features(const gk_model *model) {
    return model ? model->out_features : 0;
}

int gk_model_edge_dim(const gk_model *model) {
    return model ? model->edge_dim : 0;
}

gk_status gk_model_layer(const gk_model *model, int i, gk_layer_info *out) {
    if (!model || !out || i < 0 || i >= model->num_layers) return GK_EINVAL;
    *out = model->layers[i].info;
    return GK_OK;
}

int gk_model_version(const gk_model *model) {
    return !model ? 0 : model->program ? 2 : 1;
}

int gk_model_num_inputs(const gk_model *model) {
    return model && model->program ? model->program->num_inputs : 0;
}

int gk_model_num_outputs(const gk_model *model) {
    return model && model->program ? model->program->num_outputs : 0;
}

static void io_shape(const gk_shape *s, int edges, gk_io_info *out) {
    out->ndim = s->ndim;
    for (int d = 0; d < s->ndim; d++)
        out->shape[d] = ((s->node_dims >> d) & 1u) ? GK_DIM_NODES
                        : (edges && d == 0)       ? GK_DIM_EDGES
                                                  : s->dims[d];
}

gk_status gk_model_input(const gk_model *model, int i, gk_io_info *out) {
    if (!out || i < 0 || i >= gk_model_num_inputs(model)) return GK_EINVAL;
    const gk_input *in = &model->program->inputs[i];
    memset(out, 0, sizeof *out);
    out->name = in->name;
    out->kind = in->kind;
    if (in->kind == GK_IO_EDGE_INDEX) {
        out->ndim = 2;
        out->shape[0] = 2;
        out->shape[1] = GK_DIM_EDGES;
    } else {
        io_shape(&in->shape, in->kind == GK_IO_EDGES, out);
    }
    if (in->kind == GK_IO_EDGES) out->edge_index = model->program->inputs[in->edge_index].name;
    out->integer = in->kind == GK_IO_EDGE_INDEX || in->integer;
    return GK_OK;
}

gk_status gk_model_output(const gk_model *model, int i, gk_io_info *out) {
    if (!out || i < 0 || i >= gk_model_num_outputs(model)) return GK_EINVAL;
    const gk_output *o = &model->program->outputs[i];
    memset(out, 0, sizeof *out);
    out->name = o->name;
    out->kind = GK_IO_FIXED;
    io_shape(&model->program->values[o->value].shape, 0, out);
    if (out->ndim && out->shape[0] == GK_DIM_NODES) out->kind = GK_IO_NODES;
    return GK_OK;
}
