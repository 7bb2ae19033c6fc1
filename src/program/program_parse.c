/* Format version 2: __metadata__["graphkern"] JSON -> gk_program.
 *
 * Every key is checked against the format (an unknown one is GK_EFORMAT),
 * every value reference must name an input or an earlier op's output (a
 * dangling input or a cycle is GK_EMETADATA), every op's output shapes are
 * inferred from its inputs and must equal the shapes the file declares
 * (GK_ESHAPE), and every weight is loaded and checked (GK_EMISSING,
 * GK_ESHAPE, GK_EDTYPE, GK_ENONFINITE). Convs are read by the layer reader
 * of format 1 and grouped by edge set into layer models (program.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "did_you_mean.h"
#include "error.h"
#include "json_parse.h"
#include "model_load.h"
#include "ops.h"

size_t gk_shape_resolve(const gk_shape *s, size_t n, int64_t dims[GK_MAX_RANK]) {
    size_t count = 1;
    for (int d = 0; d < s->ndim; d++) {
        dims[d] = ((s->node_dims >> d) & 1u) ? (int64_t)n : s->dims[d];
        count = gk_sat_mul(count, (size_t)dims[d]);
    }
    return count;
}

typedef struct parser {
    const gk_st_file *file;
    gk_program *prog;
    gk_error *err;
} parser;

/* ---- keys ------------------------------------------------------------------ */

static gk_status check_keys(const json_t *obj, const char *const *a,
                            const char *const *b, const char *where, gk_error *err) {
    const char *known[64];
    size_t count = 0;
    for (const char *const *k = a; k && *k && count < 64; k++) known[count++] = *k;
    for (const char *const *k = b; k && *k && count < 64; k++) known[count++] = *k;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int found = 0;
        for (size_t i = 0; i < count && !found; i++) found = strcmp(known[i], key) == 0;
        if (found) continue;
        const char *near = gk_closest_name(key, known, count);
        return gk_fail(err, GK_EFORMAT, "%s: unknown key '%s'%s%s%s", where, key,
                       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    }
    return GK_OK;
}

static gk_status copy_name(char dst[GK_NAME_MAX], const json_t *v, const char *where,
                           gk_error *err) {
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) >= GK_NAME_MAX)
        return gk_fail(err, GK_EMETADATA, "%s: a name must be a string of 1 to %d bytes",
                       where, GK_NAME_MAX - 1);
    memcpy(dst, s, strlen(s) + 1);
    return GK_OK;
}

/* ---- shapes ---------------------------------------------------------------- */

/* A shape list: sizes, "N", and (edges inputs only) "E" as the first entry. */
static gk_status read_shape(const json_t *list, int allow_e, gk_shape *s,
                            const char *where, gk_error *err) {
    memset(s, 0, sizeof *s);
    if (!json_is_array(list) || json_array_size(list) > GK_MAX_RANK)
        return gk_fail(err, GK_EMETADATA, "%s: a shape is a list of at most %d entries",
                       where, GK_MAX_RANK);
    s->ndim = (int)json_array_size(list);
    for (int d = 0; d < s->ndim; d++) {
        const json_t *v = json_array_get(list, (size_t)d);
        const char *str = json_string_value(v);
        if (str && strcmp(str, "N") == 0) {
            s->dims[d] = 1;
            s->node_dims |= 1u << d;
        } else if (str && strcmp(str, "E") == 0 && allow_e && d == 0) {
            s->dims[d] = 1;
        } else if (json_is_integer(v) && json_integer_value(v) >= 1 &&
                   json_integer_value(v) <= (1 << 24)) {
            s->dims[d] = json_integer_value(v);
        } else {
            return gk_fail(err, GK_EMETADATA, "%s: shape entry %d must be \"N\" or a size "
                           "in [1, 2^24]", where, d);
        }
    }
    return GK_OK;
}

static void format_shape(const gk_shape *s, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < s->ndim && used < size; d++) {
        if ((s->node_dims >> d) & 1u)
            used += (size_t)snprintf(buf + used, size - used, "%sN", d ? ", " : "");
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "",
                                     (long long)s->dims[d]);
    }
    if (used < size) snprintf(buf + used, size - used, "]");
}

static int same_shape(const gk_shape *a, const gk_shape *b) {
    if (a->ndim != b->ndim || a->node_dims != b->node_dims) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* ---- inputs ---------------------------------------------------------------- */

static int find_input(const gk_program *prog, const char *name) {
    for (int i = 0; i < prog->num_inputs; i++)
        if (strcmp(prog->inputs[i].name, name) == 0) return i;
    return -1;
}

static int find_value(const gk_program *prog, const char *name) {
    for (int v = 0; v < prog->num_values; v++)
        if (strcmp(prog->values[v].name, name) == 0) return v;
    return -1;
}

static const char *const input_keys[] = {"name", "kind", "shape", "dtype", "edge_index",
                                         NULL};

static gk_status read_input(parser *p, const json_t *obj, int i) {
    gk_program *prog = p->prog;
    gk_input *in = &prog->inputs[i];
    char where[96];
    snprintf(where, sizeof where, "input %d", i);
    if (!json_is_object(obj)) return gk_fail(p->err, GK_EMETADATA, "%s is not an object", where);
    gk_status st = check_keys(obj, input_keys, NULL, where, p->err);
    if (st == GK_OK) st = copy_name(in->name, json_object_get(obj, "name"), where, p->err);
    if (st != GK_OK) return st;
    snprintf(where, sizeof where, "input '%s'", in->name);
    if (find_input(prog, in->name) >= 0 && find_input(prog, in->name) < i)
        return gk_fail(p->err, GK_EMETADATA, "%s is declared twice", where);
    static const char *const kinds[] = {"nodes", "edge_index", "edges", "fixed"};
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    in->kind = (gk_io_kind)-1;
    for (int k = 0; kind && k < 4; k++)
        if (strcmp(kind, kinds[k]) == 0) in->kind = (gk_io_kind)k;
    if ((int)in->kind < 0)
        return gk_fail(p->err, GK_EMETADATA, "%s: kind must be nodes, edge_index, edges "
                       "or fixed", where);
    in->edge_index = -1;
    in->value = -1;
    if (in->kind == GK_IO_EDGE_INDEX) {
        in->shape = (gk_shape){2, {2, 1}, 0};
        return GK_OK;
    }
    st = read_shape(json_object_get(obj, "shape"), in->kind == GK_IO_EDGES, &in->shape,
                    where, p->err);
    if (st != GK_OK) return st;
    /* F32 by default; I64 / I32 node or fixed inputs hold embedding indices */
    const char *dtype = json_string_value(json_object_get(obj, "dtype"));
    if (json_object_get(obj, "dtype") && !dtype)
        return gk_fail(p->err, GK_EMETADATA, "%s: 'dtype' must be a string", where);
    if (dtype && strcmp(dtype, "F32") != 0) {
        if (in->kind == GK_IO_EDGES || (strcmp(dtype, "I64") != 0 && strcmp(dtype, "I32") != 0))
            return gk_fail(p->err, GK_EUNSUPPORTED, "%s: dtype '%s' (F32%s)", where, dtype,
                           in->kind == GK_IO_EDGES ? "" : ", or I64/I32 for indices");
        in->integer = 1;
    }
    if (in->kind == GK_IO_EDGES) {  /* its edge_index: link_edges() */
        if (in->shape.node_dims || in->shape.ndim < 1 || in->shape.ndim > 2)
            return gk_fail(p->err, GK_ESHAPE, "%s: edge features are [E] or [E, D]", where);
        return GK_OK;
    }
    int nodes = in->shape.ndim >= 1 && (in->shape.node_dims == 1u);
    if (in->kind == GK_IO_NODES ? !nodes : in->shape.node_dims != 0)
        return gk_fail(p->err, GK_ESHAPE, "%s: %s", where, in->kind == GK_IO_NODES
                       ? "node features have the node axis first, and only there"
                       : "a fixed input has no node axis");
    gk_value *v = &prog->values[prog->num_values];
    memcpy(v->name, in->name, sizeof v->name);
    v->shape = in->shape;
    v->producer = -1;
    v->input = i;
    v->integer = in->integer;
    in->value = prog->num_values++;
    return GK_OK;
}

/* Each edges input names an edge_index input, in any place of the list. */
static gk_status link_edges(parser *p, const json_t *list) {
    gk_program *prog = p->prog;
    for (int i = 0; i < prog->num_inputs; i++) {
        gk_input *in = &prog->inputs[i];
        if (in->kind != GK_IO_EDGES) continue;
        const json_t *obj = json_array_get(list, (size_t)i);
        const char *ei = json_string_value(json_object_get(obj, "edge_index"));
        int e = ei ? find_input(prog, ei) : -1;
        if (e < 0 || prog->inputs[e].kind != GK_IO_EDGE_INDEX)
            return gk_fail(p->err, GK_EMETADATA, "input '%s': 'edge_index' must name an "
                           "edge_index input", in->name);
        in->edge_index = e;
    }
    return GK_OK;
}

/* ---- convs ----------------------------------------------------------------- */

static const char *const conv_v2_keys[] = {"op", "inputs", "outputs", "shapes",
                                           "edge_index", "edge_attr", NULL};

/* The conv's layer object in format 1's terms: "op" becomes "type", the
 * keys of format 2 go; then format 1's reader checks the rest. */
static gk_status read_conv_layer(parser *p, const json_t *obj, int index, gk_layer *layer) {
    json_t *copy = json_object();
    if (!copy) return gk_fail(p->err, GK_ENOMEM, "no memory");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int v2 = 0;
        for (const char *const *k = conv_v2_keys; *k && !v2; k++) v2 = strcmp(*k, key) == 0;
        if (!v2) json_object_set(copy, key, v);
    }
    json_object_set(copy, "type", json_object_get(obj, "op"));
    gk_status st = gk_model_read_layer(copy, index, layer, NULL, p->err);
    json_decref(copy);
    return st;
}

static gk_status group_for(parser *p, int edge_index, int edge_attr, int *group) {
    gk_program *prog = p->prog;
    for (int g = 0; g < prog->num_groups; g++)
        if (prog->groups[g].edge_index == edge_index && prog->groups[g].edge_attr == edge_attr) {
            *group = g;
            return GK_OK;
        }
    *group = prog->num_groups++;
    prog->groups[*group].edge_index = edge_index;
    prog->groups[*group].edge_attr = edge_attr;
    return GK_OK;
}

/* Edge inputs of a conv, its group, and its layer config in *layer. */
static gk_status read_conv(parser *p, const json_t *obj, gk_op *op, int index,
                           gk_layer *layer, const gk_shape *x, gk_shape *out) {
    gk_program *prog = p->prog;
    gk_status st = read_conv_layer(p, obj, index, layer);
    if (st != GK_OK) return st;
    memcpy(op->name, layer->name, sizeof op->name);
    const char *ei = json_string_value(json_object_get(obj, "edge_index"));
    const json_t *ea_item = json_object_get(obj, "edge_attr");
    const char *ea = json_string_value(ea_item);
    int e = ei ? find_input(prog, ei) : -1;
    if (e < 0 || prog->inputs[e].kind != GK_IO_EDGE_INDEX)
        return gk_fail(p->err, GK_EMETADATA, "op %d ('%s'): 'edge_index' must name an "
                       "edge_index input", index, op->name);
    int a = -1;
    if (ea) {
        a = find_input(prog, ea);
        if (a < 0 || prog->inputs[a].kind != GK_IO_EDGES || prog->inputs[a].edge_index != e)
            return gk_fail(p->err, GK_EMETADATA, "op %d ('%s'): 'edge_attr' must name an "
                           "edges input of '%s'", index, op->name, ei);
        const gk_shape *s = &prog->inputs[a].shape;
        int d = s->ndim == 1 ? 1 : (int)s->dims[1];
        if (d != layer->info.edge_dim)
            return gk_fail(p->err, GK_ESHAPE, "op %d ('%s'): edge_attr has %d features, "
                           "edge_dim is %d", index, op->name, d, layer->info.edge_dim);
    } else if (ea_item && !json_is_null(ea_item)) {
        return gk_fail(p->err, GK_EMETADATA, "op %d ('%s'): 'edge_attr' must be a name or "
                       "null", index, op->name);
    } else if (layer->info.edge_dim) {
        return gk_fail(p->err, GK_EMETADATA, "op %d ('%s'): edge_dim %d needs 'edge_attr'",
                       index, op->name, layer->info.edge_dim);
    }
    if (x->ndim != 2 || x->node_dims != 1u || x->dims[1] != layer->info.in_channels)
        return gk_fail(p->err, GK_ESHAPE, "op %d ('%s'): x must be [N, %d]", index, op->name,
                       layer->info.in_channels);
    *out = (gk_shape){2, {1, layer->info.out_width}, 1u};
    return group_for(p, e, a, &op->conv_group);
}

/* ---- ops ------------------------------------------------------------------- */

static const char *const common_keys[] = {"op", "name", "inputs", "outputs", "shapes", NULL};

static gk_status read_refs(parser *p, const json_t *obj, gk_op *op, int index,
                           const gk_op_def *def) {
    gk_program *prog = p->prog;
    const json_t *ins = json_object_get(obj, "inputs");
    const json_t *outs = json_object_get(obj, "outputs");
    if (!json_is_array(ins) || !json_is_array(outs))
        return gk_fail(p->err, GK_EMETADATA, "op %d (%s): 'inputs' and 'outputs' must be "
                       "lists of value names", index, def->name);
    size_t ni = json_array_size(ins), no = json_array_size(outs);
    if (ni < (size_t)def->min_inputs || ni > (size_t)def->max_inputs)
        return gk_fail(p->err, GK_EMETADATA, "op %d (%s): %zu inputs, expected %d to %d",
                       index, def->name, ni, def->min_inputs, def->max_inputs);
    if (no != (size_t)def->num_outputs)
        return gk_fail(p->err, GK_EMETADATA, "op %d (%s): %zu outputs, expected %d", index,
                       def->name, no, def->num_outputs);
    op->num_inputs = (int)ni;
    op->num_outputs = (int)no;
    for (size_t k = 0; k < ni; k++) {
        const char *name = json_string_value(json_array_get(ins, k));
        int v = name ? find_value(prog, name) : -1;
        if (v < 0)
            return gk_fail(p->err, GK_EMETADATA, "op %d (%s): input '%s' is not defined "
                           "before it (a dangling input, or a cycle)", index, def->name,
                           name ? name : "?");
        if (prog->values[v].integer != (def->kind == GK_OP_EMBEDDING))
            return gk_fail(p->err, GK_EMETADATA, "op %d (%s): input '%s' %s", index, def->name,
                           name, prog->values[v].integer ? "holds integers: only an embedding "
                           "reads them" : "must be an integer input (indices)");
        op->inputs[k] = v;
        prog->values[v].last_use = index;
    }
    return GK_OK;
}

static gk_status add_outputs(parser *p, const json_t *obj, gk_op *op, int index,
                             const gk_op_def *def, const gk_shape *inferred) {
    gk_program *prog = p->prog;
    const json_t *outs = json_object_get(obj, "outputs");
    const json_t *shapes = json_object_get(obj, "shapes");
    if (!json_is_array(shapes) || json_array_size(shapes) != (size_t)op->num_outputs)
        return gk_fail(p->err, GK_EMETADATA, "op %d (%s): 'shapes' must give one shape per "
                       "output", index, def->name);
    for (int k = 0; k < op->num_outputs; k++) {
        char where[96];
        snprintf(where, sizeof where, "op %d (%s) output %d", index, def->name, k);
        gk_shape declared;
        gk_status st = read_shape(json_array_get(shapes, (size_t)k), 0, &declared, where,
                                  p->err);
        if (st != GK_OK) return st;
        if (!same_shape(&declared, &inferred[k])) {
            char a[96], b[96];
            format_shape(&declared, a, sizeof a);
            format_shape(&inferred[k], b, sizeof b);
            return gk_fail(p->err, GK_ESHAPE, "%s: the file says %s, the inputs give %s",
                           where, a, b);
        }
        const char *name = json_string_value(json_array_get(outs, (size_t)k));
        gk_value *v = &prog->values[prog->num_values];
        st = copy_name(v->name, json_array_get(outs, (size_t)k), where, p->err);
        if (st != GK_OK) return st;
        if (find_value(prog, name) >= 0)
            return gk_fail(p->err, GK_EMETADATA, "%s: value '%s' is defined twice", where,
                           name);
        v->shape = declared;
        v->producer = index;
        v->input = -1;
        v->last_use = -1;
        op->outputs[k] = prog->num_values++;
    }
    return GK_OK;
}

static gk_status read_op(parser *p, const json_t *obj, int index, gk_layer *layers,
                         int *num_layers) {
    gk_program *prog = p->prog;
    gk_op *op = &prog->ops[index];
    if (!json_is_object(obj)) return gk_fail(p->err, GK_EMETADATA, "op %d is not an object", index);
    const char *kind = json_string_value(json_object_get(obj, "op"));
    const gk_op_def *def = kind ? gk_op_find(kind) : NULL;
    if (!def) {
        const char *near = kind ? gk_op_closest(kind) : NULL;
        return gk_fail(p->err, GK_EUNSUPPORTED, "op %d: unknown op '%s'%s%s%s", index,
                       kind ? kind : "(missing)", near ? " (did you mean '" : "",
                       near ? near : "", near ? "'?)" : "");
    }
    op->kind = def->kind;
    op->conv_group = op->conv_layer = -1;
    op->alias_of = -1;
    gk_status st = read_refs(p, obj, op, index, def);
    if (st != GK_OK) return st;
    gk_shape in[GK_OP_MAX_INPUTS], out[GK_OP_MAX_OUTPUTS];
    for (int k = 0; k < op->num_inputs; k++) in[k] = prog->values[op->inputs[k]].shape;
    if (def->kind == GK_OP_CONV) {
        st = read_conv(p, obj, op, index, &layers[*num_layers], &in[0], &out[0]);
        if (st != GK_OK) return st;
        op->conv_layer = (*num_layers)++;
        return add_outputs(p, obj, op, index, def, out);
    }
    char where[64];
    snprintf(where, sizeof where, "op %d (%s)", index, def->name);
    st = check_keys(obj, common_keys, def->keys, where, p->err);
    const json_t *name = json_object_get(obj, "name");
    if (st == GK_OK && name && !json_is_null(name))
        st = copy_name(op->name, name, where, p->err);
    if (st != GK_OK) return st;
    gk_op_parse ps = {obj, p->file, op, in, index, p->err, GK_OK};
    def->parse(&ps);
    if (ps.status != GK_OK) return ps.status;
    gk_error e;
    st = def->shape(op, in, out, &e);
    if (st != GK_OK)
        return gk_fail(p->err, st, "op %d (%s%s%s%s): %s", index, def->name,
                       op->name[0] ? " '" : "", op->name, op->name[0] ? "'" : "", e.message);
    return add_outputs(p, obj, op, index, def, out);
}

/* ---- outputs and the whole document ------------------------------------------ */

static const char *const output_keys[] = {"name", "value", "shape", NULL};

static gk_status read_output(parser *p, const json_t *obj, int i) {
    gk_program *prog = p->prog;
    gk_output *o = &prog->outputs[i];
    char where[64];
    snprintf(where, sizeof where, "output %d", i);
    if (!json_is_object(obj)) return gk_fail(p->err, GK_EMETADATA, "%s is not an object", where);
    gk_status st = check_keys(obj, output_keys, NULL, where, p->err);
    if (st == GK_OK) st = copy_name(o->name, json_object_get(obj, "name"), where, p->err);
    if (st != GK_OK) return st;
    for (int k = 0; k < i; k++)
        if (strcmp(prog->outputs[k].name, o->name) == 0)
            return gk_fail(p->err, GK_EMETADATA, "output '%s' is declared twice", o->name);
    const char *value = json_string_value(json_object_get(obj, "value"));
    o->value = value ? find_value(prog, value) : -1;
    if (o->value < 0)
        return gk_fail(p->err, GK_EMETADATA, "output '%s': value '%s' is not defined",
                       o->name, value ? value : "(missing)");
    prog->values[o->value].last_use = prog->num_ops;
    const json_t *shape = json_object_get(obj, "shape");
    if (shape) {
        gk_shape s;
        st = read_shape(shape, 0, &s, where, p->err);
        if (st != GK_OK) return st;
        if (!same_shape(&s, &prog->values[o->value].shape))
            return gk_fail(p->err, GK_ESHAPE, "output '%s': the declared shape differs from "
                           "its value's", o->name);
    }
    return GK_OK;
}

static gk_status alloc_program(gk_program *prog, size_t ni, size_t no, size_t nops,
                               gk_error *err) {
    size_t values = ni + nops * GK_OP_MAX_OUTPUTS;
    prog->inputs = gk_calloc_array(ni ? ni : 1, sizeof *prog->inputs);
    prog->outputs = gk_calloc_array(no, sizeof *prog->outputs);
    prog->values = gk_calloc_array(values, sizeof *prog->values);
    prog->ops = gk_calloc_array(nops ? nops : 1, sizeof *prog->ops);
    prog->groups = gk_calloc_array(nops ? nops : 1, sizeof *prog->groups);
    if (!prog->inputs || !prog->outputs || !prog->values || !prog->ops || !prog->groups)
        return gk_fail(err, GK_ENOMEM, "no memory for the model's ops");
    return GK_OK;
}

/* Each group's convs become the layers of one model. */
static gk_status build_groups(parser *p, gk_layer *layers, int num_layers) {
    gk_program *prog = p->prog;
    gk_status st = GK_OK;
    for (int g = 0; g < prog->num_groups && st == GK_OK; g++) {
        int count = 0;
        for (int i = 0; i < prog->num_ops; i++)
            if (prog->ops[i].kind == GK_OP_CONV && prog->ops[i].conv_group == g) count++;
        gk_layer *mine = gk_calloc_array((size_t)count, sizeof *mine);
        if (!mine) return gk_fail(p->err, GK_ENOMEM, "no memory for conv layers");
        int k = 0;
        for (int i = 0; i < prog->num_ops; i++) {
            gk_op *op = &prog->ops[i];
            if (op->kind != GK_OP_CONV || op->conv_group != g) continue;
            mine[k] = layers[op->conv_layer];
            mine[k].info.name = mine[k].name;
            op->conv_layer = k++;
        }
        st = gk_model_from_layers(p->file, mine, count, &prog->groups[g].model, p->err);
    }
    (void)num_layers;
    return st;
}

static const char *const top_keys[] = {"version", "inputs", "outputs", "ops", "forward",
                                       NULL};

static gk_status read_program(parser *p, const json_t *root) {
    gk_program *prog = p->prog;
    gk_status st = check_keys(root, top_keys, NULL, "graphkern metadata", p->err);
    if (st != GK_OK) return st;
    const json_t *ins = json_object_get(root, "inputs"), *outs = json_object_get(root, "outputs");
    const json_t *ops = json_object_get(root, "ops");
    if (!json_is_array(ins) || !json_is_array(outs) || !json_is_array(ops) ||
        json_array_size(outs) == 0)
        return gk_fail(p->err, GK_EMETADATA, "version 2 needs \"inputs\", \"ops\" and a "
                       "non-empty \"outputs\" list");
    if (json_array_size(ins) > 64 || json_array_size(outs) > 64 ||
        json_array_size(ops) > 100000)
        return gk_fail(p->err, GK_ELIMIT, "more than 64 inputs or outputs, or 100000 ops");
    st = alloc_program(prog, json_array_size(ins), json_array_size(outs),
                       json_array_size(ops), p->err);
    if (st != GK_OK) return st;
    prog->num_inputs = (int)json_array_size(ins);
    for (int i = 0; i < prog->num_inputs && st == GK_OK; i++)
        st = read_input(p, json_array_get(ins, (size_t)i), i);
    if (st == GK_OK) st = link_edges(p, ins);
    if (st != GK_OK) return st;
    gk_layer *layers = gk_calloc_array(json_array_size(ops) + 1, sizeof *layers);
    if (!layers) return gk_fail(p->err, GK_ENOMEM, "no memory for conv layers");
    int num_layers = 0;
    for (size_t i = 0; i < json_array_size(ops) && st == GK_OK; i++) {
        st = read_op(p, json_array_get(ops, i), (int)i, layers, &num_layers);
        prog->num_ops = (int)i + 1;
    }
    prog->num_outputs = (int)json_array_size(outs);
    for (int i = 0; i < prog->num_outputs && st == GK_OK; i++)
        st = read_output(p, json_array_get(outs, (size_t)i), i);
    if (st == GK_OK) st = build_groups(p, layers, num_layers);
    if (st == GK_OK) gk_program_fuse(prog);
    gk_free(layers);
    return st;
}

gk_status gk_program_load(const char *json, const gk_st_file *file, gk_program **out,
                          gk_error *err) {
    *out = NULL;
    json_t *root = NULL;
    gk_status st = gk_json_parse(json, strlen(json), "__metadata__[\"graphkern\"]", &root, err);
    if (st != GK_OK) return st;
    gk_program *prog = gk_alloc(sizeof *prog);
    parser p = {file, prog, err};
    st = prog ? read_program(&p, root) : gk_fail(err, GK_ENOMEM, "no memory for the model");
    json_decref(root);
    if (st != GK_OK) {
        gk_program_free(prog);
        return st;
    }
    *out = prog;
    return GK_OK;
}

void gk_program_free(gk_program *prog) {
    if (!prog) return;
    for (int i = 0; prog->ops && i < prog->num_ops; i++)
        for (int k = 0; k < GK_OP_MAX_TENSORS; k++) gk_free(prog->ops[i].tensors[k]);
    for (int g = 0; prog->groups && g < prog->num_groups; g++)
        gk_model_free(prog->groups[g].model);
    gk_free(prog->inputs);
    gk_free(prog->outputs);
    gk_free(prog->values);
    gk_free(prog->ops);
    gk_free(prog->groups);
    gk_free(prog);
}
