#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tu_open(const char *path, tu_file *f)
{
    gk_error err;
    memset(f, 0, sizeof *f);
    if (gk_read_file(path, &f->buf, &f->size, &err) != GK_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return -1;
    }
    if (gk_st_parse(f->buf, f->size, &f->st, &err) != GK_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        free(f->buf);
        f->buf = NULL;
        return -1;
    }
    return 0;
}

void tu_close(tu_file *f)
{
    gk_st_free(&f->st);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

double *tu_tensor_f64(const gk_st_file *st, const char *name, size_t *numel)
{
    const gk_st_tensor *t = gk_st_find(st, name);
    if (!t || (t->dtype != GK_DT_F32 && t->dtype != GK_DT_F64))
        return NULL;
    double *out = malloc((t->numel ? t->numel : 1) * sizeof(double));
    if (!out)
        return NULL;
    for (size_t i = 0; i < t->numel; i++) {
        if (t->dtype == GK_DT_F32) {
            float v;
            memcpy(&v, t->data + i * 4, 4);
            out[i] = v;
        } else {
            memcpy(&out[i], t->data + i * 8, 8);
        }
    }
    if (numel)
        *numel = t->numel;
    return out;
}

int tu_edge_index(const gk_st_file *st, size_t *E, int64_t **src,
                  int64_t **dst)
{
    const gk_st_tensor *t = gk_st_find(st, "edge_index");
    if (!t || t->ndim != 2 || t->shape[0] != 2 ||
        (t->dtype != GK_DT_I64 && t->dtype != GK_DT_I32))
        return -1;
    size_t e = (size_t)t->shape[1];
    *src = malloc((e ? e : 1) * sizeof(int64_t));
    *dst = malloc((e ? e : 1) * sizeof(int64_t));
    if (!*src || !*dst)
        return -1;
    for (size_t k = 0; k < 2 * e; k++) {
        int64_t v;
        if (t->dtype == GK_DT_I64) {
            memcpy(&v, t->data + k * 8, 8);
        } else {
            int32_t w;
            memcpy(&w, t->data + k * 4, 4);
            v = w;
        }
        (k < e ? *src : *dst)[k % e] = v;
    }
    *E = e;
    return 0;
}

static int json_bool(const json_t *o, const char *key, int dflt)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_boolean(v))
        return json_is_true(v);
    return dflt;
}

static int json_int(const json_t *o, const char *key, int dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? (int)json_number_value(v) : dflt;
}

static int parse_layer(const json_t *o, ref_layer *L)
{
    const json_t *type = json_object_get(o, "type");
    const json_t *fill = json_object_get(o, "fill_value");
    const json_t *act = json_object_get(o, "activation");
    const json_t *slope = json_object_get(o, "negative_slope");
    memset(L, 0, sizeof *L);
    if (!json_is_string(type))
        return -1;
    if (strcmp(json_string_value(type), "GATConv") == 0)
        L->type = GK_LAYER_GAT;
    else if (strcmp(json_string_value(type), "GATv2Conv") == 0)
        L->type = GK_LAYER_GATV2;
    else
        return -1;
    L->in_channels = json_int(o, "in_channels", -1);
    L->out_channels = json_int(o, "out_channels", -1);
    L->heads = json_int(o, "heads", 1);
    L->concat = json_bool(o, "concat", 1);
    L->negative_slope = json_is_number(slope) ? json_number_value(slope) : 0.2;
    L->add_self_loops = json_bool(o, "add_self_loops", 1);
    L->edge_dim = json_int(o, "edge_dim", 0);
    L->bias = json_bool(o, "bias", 1);
    L->residual = json_bool(o, "residual", 0);
    L->share_weights = json_bool(o, "share_weights", 0);
    L->fill = GK_FILL_MEAN;
    if (json_is_number(fill)) {
        L->fill = GK_FILL_CONSTANT;
        L->fill_constant = json_number_value(fill);
    } else if (json_is_string(fill)) {
        static const char *names[] = {"mean", "add", "max", "min", "mul"};
        int found = 0;
        for (int k = 0; k < 5; k++)
            if (strcmp(json_string_value(fill), names[k]) == 0) {
                L->fill = (gk_fill)k;
                found = 1;
            }
        if (!found)
            return -1;
    }
    L->activation = GK_ACT_NONE;
    if (json_is_string(act)) {
        if (strcmp(json_string_value(act), "elu") == 0)
            L->activation = GK_ACT_ELU;
        else if (strcmp(json_string_value(act), "relu") == 0)
            L->activation = GK_ACT_RELU;
        else if (strcmp(json_string_value(act), "leaky_relu") == 0)
            L->activation = GK_ACT_LEAKY_RELU;
        else if (strcmp(json_string_value(act), "none") != 0)
            return -1;
    }
    if (L->in_channels <= 0 || L->out_channels <= 0 || L->heads <= 0)
        return -1;
    L->out_width = ref_layer_out_width(L);
    return 0;
}

int tu_parse_layers(const char *json, int *num_layers, ref_layer **layers,
                    char ***names)
{
    json_t *root = json_loads(json, 0, NULL);
    const json_t *arr = json_object_get(root, "layers");
    int n = (int)json_array_size(arr);
    int rc = -1;
    *layers = NULL;
    *names = NULL;
    if (!json_is_array(arr) || n <= 0)
        goto out;
    *layers = calloc((size_t)n, sizeof(ref_layer));
    *names = calloc((size_t)n, sizeof(char *));
    if (!*layers || !*names)
        goto out;
    *num_layers = n;
    for (int i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        const json_t *name = json_object_get(o, "name");
        if (!json_is_string(name) || parse_layer(o, &(*layers)[i]) != 0)
            goto out;
        (*names)[i] = strdup(json_string_value(name));
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* Copy tensor prefix.suffix into dst[expect] (NULL dst: not needed). */
static int load_tensor(const gk_st_file *st, const char *prefix,
                       const char *suffix, double *dst, size_t expect)
{
    char name[256];
    size_t n = 0;
    if (!dst)
        return 0;
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    double *v = tu_tensor_f64(st, name, &n);
    if (!v || n != expect) {
        fprintf(stderr, "reference: tensor %s missing or %zu != %zu\n", name,
                n, expect);
        free(v);
        return -1;
    }
    memcpy(dst, v, n * sizeof(double));
    free(v);
    return 0;
}

static int load_layer_weights(const gk_st_file *st, const char *p,
                              ref_layer *L)
{
    size_t hc = (size_t)L->heads * L->out_channels;
    size_t f = (size_t)L->in_channels, d = (size_t)L->edge_dim;
    size_t ow = (size_t)L->out_width;
    int rc = 0;
    if (L->type == GK_LAYER_GAT) {
        char name[256];
        snprintf(name, sizeof name, "%s.lin.weight", p);
        rc |= load_tensor(st, p, gk_st_find(st, name) ? "lin.weight"
                                                      : "lin_src.weight",
                          L->lin_w, hc * f);
        rc |= load_tensor(st, p, "att_src", L->att_src, hc);
        rc |= load_tensor(st, p, "att_dst", L->att_dst, hc);
        rc |= load_tensor(st, p, "att_edge", L->att_edge, hc);
    } else {
        rc |= load_tensor(st, p, "lin_l.weight", L->lin_l_w, hc * f);
        rc |= load_tensor(st, p, "lin_l.bias", L->lin_l_b, hc);
        rc |= load_tensor(st, p, "lin_r.weight", L->lin_r_w, hc * f);
        rc |= load_tensor(st, p, "lin_r.bias", L->lin_r_b, hc);
        rc |= load_tensor(st, p, "att", L->att, hc);
    }
    rc |= load_tensor(st, p, "lin_edge.weight", L->lin_edge_w, hc * d);
    rc |= load_tensor(st, p, "bias", L->bias_v, ow);
    rc |= load_tensor(st, p, "res.weight", L->res_w, ow * f);
    return rc;
}

int tu_model_from_st(const gk_st_file *st, tu_model *m)
{
    char **names = NULL;
    int rc = -1;
    memset(m, 0, sizeof *m);
    if (!st->graphkern_metadata ||
        tu_parse_layers(st->graphkern_metadata, &m->num_layers, &m->layers,
                        &names) != 0)
        goto out;
    for (int i = 0; i < m->num_layers; i++)
        if (ref_layer_alloc(&m->layers[i]) != 0 ||
            load_layer_weights(st, names[i], &m->layers[i]) != 0)
            goto out;
    rc = 0;
out:
    for (int i = 0; names && i < m->num_layers; i++)
        free(names[i]);
    free(names);
    if (rc != 0)
        tu_model_free(m);
    return rc;
}

void tu_model_free(tu_model *m)
{
    for (int i = 0; m->layers && i < m->num_layers; i++)
        ref_layer_free(&m->layers[i]);
    free(m->layers);
    memset(m, 0, sizeof *m);
}
