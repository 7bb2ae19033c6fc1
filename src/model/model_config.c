/* The model's architecture: __metadata__["graphkern"] (docs/model-format.md).
 *
 * Keys follow PyG's constructor arguments, with PyG's defaults when absent.
 * Status codes:
 *   GK_EJSON        the string is not JSON
 *   GK_EFORMAT      a key the format does not have (a typo must not load
 *                   with the default), or a key given twice
 *   GK_EMETADATA    not an object, no "layers", a key of the wrong JSON
 *                   type, a non-positive or non-integer size, a name that is
 *                   empty, 64+ bytes or repeated, layers whose edge_dim
 *                   differ, share_weights: true on a GATConv
 *   GK_EUNSUPPORTED version != 1, unknown type, activation or fill_value
 *   GK_EOVERFLOW    a size above INT_MAX, or a weight matrix with more than
 *                   INT_MAX elements (kernels index with int arithmetic)
 *   GK_ECHANNELS    in_channels != the previous layer's output width */
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "did_you_mean.h"
#include "error.h"
#include "json_parse.h"
#include "model_load.h"

/* Reads one layer object, keeping the first error so that the caller can
 * read every field in a row and check once. */
typedef struct reader {
    const json_t *object;
    int index;
    const char *name;            /* for messages; "?" until read          */
    const char *const *extra_keys; /* the caller's own keys, NULL-ended    */
    gk_error *err;
    gk_status status;
} reader;

/* Like gk_fail, prefixed with the layer; only the first error counts. */
static void reader_fail(reader *r, gk_status status, const char *fmt, ...)
    GK_PRINTF(3, 4);

static void reader_fail(reader *r, gk_status status, const char *fmt, ...) {
    if (r->status != GK_OK) return;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    r->status = gk_fail(r->err, status, "layer %d ('%s'): %s", r->index,
                        r->name, what);
}

/* The item for key, or NULL when absent or JSON null (= use the default). */
static const json_t *field(reader *r, const char *key) {
    if (r->status != GK_OK) return NULL;
    const json_t *item = json_object_get(r->object, key);
    return json_is_null(item) ? NULL : item;
}

static void read_int(reader *r, const char *key, int required, int fallback,
                     int *out) {
    const json_t *item = field(r, key);
    if (r->status != GK_OK) return;
    if (!item) {
        if (required) reader_fail(r, GK_EMETADATA, "missing '%s'", key);
        *out = fallback;
        return;
    }
    /* jansson reads 4 as an integer and 4.0 as a real: take both */
    double v = json_is_number(item) ? json_number_value(item) : NAN;
    if (!(v >= 1.0) || v != floor(v))
        reader_fail(r, GK_EMETADATA, "'%s' must be a positive integer", key);
    else if (v > INT_MAX)
        reader_fail(r, GK_EOVERFLOW, "'%s' = %g is above INT_MAX", key, v);
    else
        *out = (int)v;
}

static void read_bool(reader *r, const char *key, int fallback, int *out) {
    const json_t *item = field(r, key);
    if (r->status != GK_OK) return;
    if (!item)
        *out = fallback;
    else if (!json_is_boolean(item))
        reader_fail(r, GK_EMETADATA, "'%s' must be true or false", key);
    else
        *out = json_is_true(item);
}

static void read_float(reader *r, const char *key, float fallback,
                       float *out) {
    const json_t *item = field(r, key);
    if (r->status != GK_OK) return;
    double v = json_is_number(item) ? json_number_value(item) : NAN;
    if (!item)
        *out = fallback;
    else if (!(fabs(v) <= FLT_MAX))  /* also NaN; the float cast is UB above */
        reader_fail(r, GK_EMETADATA, "'%s' must be a finite number", key);
    else
        *out = (float)v;
}

/* A string from `names`; its index in *out. */
static void read_choice(reader *r, const char *key, const char *const *names,
                        int count, int required, int fallback, int *out) {
    const json_t *item = field(r, key);
    if (r->status != GK_OK) return;
    *out = fallback;
    if (!item) {
        if (required) reader_fail(r, GK_EMETADATA, "missing '%s'", key);
        return;
    }
    if (!json_is_string(item)) {
        reader_fail(r, GK_EMETADATA, "'%s' must be a string", key);
        return;
    }
    for (int i = 0; i < count; i++)
        if (strcmp(json_string_value(item), names[i]) == 0) {
            *out = i;
            return;
        }
    const char *near = gk_closest_name(json_string_value(item), names,
                                       (size_t)count);
    reader_fail(r, GK_EUNSUPPORTED, "unsupported %s '%s'%s%s%s", key,
                json_string_value(item), near ? " (did you mean '" : "",
                near ? near : "", near ? "'?)" : "");
}

/* ---- keys ---------------------------------------------------------------- */

static int key_listed(const char *key, const char *const *list, size_t count) {
    for (size_t i = 0; list && i < count && list[i]; i++)
        if (strcmp(key, list[i]) == 0) return 1;
    return 0;
}

/* " (did you mean 'x'?)" for a key close to a known one, else "". */
static const char *suggestion(const char *key, const char *const *known,
                              size_t count, char *buf, size_t size) {
    const char *near = gk_closest_name(key, known, count);
    if (!near) return "";
    snprintf(buf, size, " (did you mean '%s'?)", near);
    return buf;
}

/* ---- one layer --------------------------------------------------------- */

/* Every key a layer object may have (docs/model-format.md). */
static const char *const layer_keys[] = {
    "name", "type", "in_channels", "out_channels", "heads", "concat",
    "negative_slope", "add_self_loops", "fill_value", "edge_dim", "bias",
    "residual", "share_weights", "activation"};
#define LAYER_KEY_COUNT (sizeof layer_keys / sizeof layer_keys[0])

/* A key the format does not know is an error, not ignored: a misspelled
 * "add_self_loop": false would otherwise load with self loops on. */
static void check_layer_keys(reader *r) {
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)r->object, key, value) {
        if (key_listed(key, layer_keys, LAYER_KEY_COUNT) ||
            key_listed(key, r->extra_keys, (size_t)-1))
            continue;
        char hint[96];
        reader_fail(r, GK_EFORMAT, "unknown key '%s'%s", key,
                    suggestion(key, layer_keys, LAYER_KEY_COUNT, hint,
                               sizeof hint));
        return;
    }
}

static const char *const type_names[] = {"GATConv", "GATv2Conv"};
static const char *const activation_names[] = {"none", "elu", "relu",
                                               "leaky_relu"};
static const char *const fill_names[] = {"mean", "add", "max", "min", "mul"};

/* fill_value is a name or a number (PyG's constant fill). */
static void read_fill(reader *r, gk_layer_info *info) {
    const json_t *item = field(r, "fill_value");
    if (item && json_is_number(item)) {
        info->fill = GK_FILL_CONSTANT;
        read_float(r, "fill_value", 0.0f, &info->fill_constant);
        return;
    }
    if (item && !json_is_string(item)) {
        reader_fail(r, GK_EMETADATA, "'fill_value' must be a name or a "
                    "number");
        return;
    }
    int fill = GK_FILL_MEAN;
    read_choice(r, "fill_value", fill_names, 5, 0, GK_FILL_MEAN, &fill);
    info->fill = (gk_fill)fill;
}

static void read_name(reader *r, gk_layer *layer) {
    const json_t *item = field(r, "name");
    if (!item || !json_is_string(item)) {
        reader_fail(r, GK_EMETADATA, "'name' must be a string");
        return;
    }
    size_t len = json_string_length(item);
    if (len == 0 || len >= sizeof layer->name) {
        reader_fail(r, GK_EMETADATA, "'name' must have 1 to 63 bytes");
        return;
    }
    memcpy(layer->name, json_string_value(item), len + 1);
    layer->info.name = layer->name;
    r->name = layer->name;
}

/* Sizes whose products the kernels compute in int must fit in int. */
static int product_fits(long long a, long long b) {
    return a <= INT_MAX / b;
}

static void check_sizes(reader *r, gk_layer_info *info) {
    if (r->status != GK_OK) return;
    long long hc = (long long)info->heads * info->out_channels;
    if (!product_fits(info->heads, info->out_channels)) {
        reader_fail(r, GK_EOVERFLOW, "heads * out_channels = %lld is above "
                    "INT_MAX", hc);
        return;
    }
    int wide = info->in_channels > info->edge_dim ? info->in_channels
                                                  : info->edge_dim;
    if (!product_fits(hc, wide))
        reader_fail(r, GK_EOVERFLOW, "weight matrix [%lld, %d] has more than "
                    "INT_MAX elements", hc, wide);
    info->out_width = info->concat ? (int)hc : info->out_channels;
}

gk_status gk_model_read_layer(const json_t *object, int index,
                              gk_layer *layer, const char *const *extra_keys,
                              gk_error *err) {
    reader r = {object, index, "?", extra_keys, err, GK_OK};
    if (!json_is_object(object))
        return gk_fail(err, GK_EMETADATA, "layer %d is not an object", index);
    gk_layer_info *info = &layer->info;
    int type = 0, activation = 0;
    /* the name, when it is one, for the messages about the keys */
    const json_t *name = json_object_get(object, "name");
    if (json_is_string(name)) r.name = json_string_value(name);
    check_layer_keys(&r);
    read_name(&r, layer);
    read_choice(&r, "type", type_names, 2, 1, 0, &type);
    read_int(&r, "in_channels", 1, 0, &info->in_channels);
    read_int(&r, "out_channels", 1, 0, &info->out_channels);
    read_int(&r, "heads", 0, 1, &info->heads);
    read_bool(&r, "concat", 1, &info->concat);
    read_float(&r, "negative_slope", 0.2f, &info->negative_slope);
    read_bool(&r, "add_self_loops", 1, &info->add_self_loops);
    read_fill(&r, info);
    read_int(&r, "edge_dim", 0, 0, &info->edge_dim);
    read_bool(&r, "bias", 1, &info->bias);
    read_bool(&r, "residual", 0, &info->residual);
    read_choice(&r, "activation", activation_names, 4, 0, 0, &activation);
    info->type = (gk_layer_type)type;
    info->activation = (gk_activation)activation;
    /* GATConv has no share_weights: false (or null) is harmless there,
     * true asks for something the layer cannot do */
    read_bool(&r, "share_weights", 0, &info->share_weights);
    if (r.status == GK_OK && info->type == GK_LAYER_GAT &&
        info->share_weights)
        reader_fail(&r, GK_EMETADATA, "'share_weights' is for GATv2Conv "
                    "only");
    check_sizes(&r, info);
    return r.status;
}

/* ---- the layer list ---------------------------------------------------- */

static gk_status check_between_layers(const gk_layer *layers, int count,
                                      gk_error *err) {
    int edge_dim = 0;
    for (int i = 0; i < count; i++) {
        const gk_layer_info *info = &layers[i].info;
        if (i > 0 && info->in_channels != layers[i - 1].info.out_width)
            return gk_fail(err, GK_ECHANNELS,
                           "layer %d ('%s'): in_channels %d, but layer %d "
                           "outputs %d", i, info->name, info->in_channels,
                           i - 1, layers[i - 1].info.out_width);
        for (int j = 0; j < i; j++)
            if (strcmp(layers[j].name, layers[i].name) == 0)
                return gk_fail(err, GK_EMETADATA,
                               "layers %d and %d are both named '%s'", j, i,
                               info->name);
        if (info->edge_dim && edge_dim && info->edge_dim != edge_dim)
            return gk_fail(err, GK_EMETADATA,
                           "layer %d ('%s'): edge_dim %d, another layer has "
                           "%d; all layers share one edge_attr", i,
                           info->name, info->edge_dim, edge_dim);
        if (info->edge_dim) edge_dim = info->edge_dim;
    }
    return GK_OK;
}

static gk_status check_version(const json_t *root, gk_error *err) {
    const json_t *version = json_object_get(root, "version");
    if (!version) return GK_OK;  /* files before the key existed */
    if (!json_is_number(version))
        return gk_fail(err, GK_EMETADATA, "metadata version is not a number");
    if (json_number_value(version) != 1.0)
        return gk_fail(err, GK_EUNSUPPORTED, "metadata version %g, expected 1",
                       json_number_value(version));
    return GK_OK;
}

/* The top level of a version 1 document. */
static const char *const top_keys[] = {"version", "layers"};
#define TOP_KEY_COUNT (sizeof top_keys / sizeof top_keys[0])

static gk_status check_top_keys(const json_t *root, gk_error *err) {
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)root, key, value) {
        if (key_listed(key, top_keys, TOP_KEY_COUNT)) continue;
        char hint[96];
        return gk_fail(err, GK_EFORMAT, "metadata: unknown key '%s'%s", key,
                       suggestion(key, top_keys, TOP_KEY_COUNT, hint,
                                  sizeof hint));
    }
    return GK_OK;
}

static gk_status read_layers(const json_t *root, gk_layer **out, int *count,
                             gk_error *err) {
    const json_t *list = json_object_get(root, "layers");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return gk_fail(err, GK_EMETADATA,
                       "metadata needs a non-empty \"layers\" array");
    if (json_array_size(list) > INT_MAX)
        return gk_fail(err, GK_EOVERFLOW, "%zu layers, above INT_MAX",
                       json_array_size(list));
    int n = (int)json_array_size(list);
    gk_layer *layers = gk_calloc_array((size_t)n, sizeof *layers);
    if (!layers) return gk_fail(err, GK_ENOMEM, "no memory for %d layers", n);
    gk_status st = GK_OK;
    for (int i = 0; i < n && st == GK_OK; i++)
        st = gk_model_read_layer(json_array_get(list, (size_t)i), i,
                                 &layers[i], NULL, err);
    if (st == GK_OK) st = check_between_layers(layers, n, err);
    if (st != GK_OK) {
        gk_free(layers);
        return st;
    }
    *out = layers;
    *count = n;
    return GK_OK;
}

gk_status gk_model_parse_config(const char *json, gk_layer **layers,
                                int *num_layers, gk_error *err) {
    *layers = NULL;
    *num_layers = 0;
    json_t *root = NULL;
    gk_status st = gk_json_parse(json, strlen(json),
                                 "__metadata__[\"graphkern\"]", &root, err);
    if (st != GK_OK) return st;
    /* the version first: it says which keys the document may have */
    st = json_is_object(root)
             ? check_version(root, err)
             : gk_fail(err, GK_EMETADATA,
                       "graphkern metadata is not a JSON object");
    if (st == GK_OK) st = check_top_keys(root, err);
    if (st == GK_OK) st = read_layers(root, layers, num_layers, err);
    json_decref(root);
    return st;
}

int gk_metadata_version(const char *json) {
    json_t *root = NULL;
    if (gk_json_parse(json, strlen(json), "metadata", &root, NULL) != GK_OK) return 0;
    const json_t *v = json_is_object(root) ? json_object_get(root, "version") : NULL;
    int version = !v ? 1 : json_is_integer(v) ? (int)json_integer_value(v) : 0;
    json_decref(root);
    return version;
}
