/* Model loading: every fixture loads with the layers index.json describes,
 * the packed arrays equal a float64 recomputation from the raw tensors, and
 * each kind of bad model gets its own status. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "loader_check.h"
#include "model.h"
#include "model_load.h"
#include "safetensors.h"

static const char *fixtures;

static int read_fixture(const char *name, uint8_t **buf, size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    gk_error err;
    gk_status st = gk_read_file(path, buf, size, &err);
    if (st != GK_OK) fprintf(stderr, "%s\n", err.message);
    return st == GK_OK;
}

/* ---- raw tensors, read independently of the loader --------------------- */

/* Tensor prefix.suffix as float64 (fixtures are F32), or NULL. */
static double *raw(const gk_st_file *file, const char *prefix,
                   const char *suffix) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    const gk_st_tensor *t = gk_st_find(file, name);
    if (!t || t->dtype != GK_DT_F32) return NULL;
    double *v = malloc((t->numel + 1) * sizeof *v);
    for (size_t i = 0; i < t->numel; i++) {
        float f;
        memcpy(&f, t->data + 4 * i, 4);
        v[i] = f;
    }
    return v;
}

/* A float64 sum rounded once to float32: anything accumulated in float32
 * instead would be off by a few ulps, so allow half an ulp and no more. */
static int close_to(float got, double want) {
    return fabs((double)got - want) <= 0.5 * ldexp(1.0, ilogb(want) - 23) ||
           got == (float)want;
}

/* w_fused column `col` against row r of a [rows, F] weight. */
static void check_rows(const gk_layer *l, int col, const double *w, int rows) {
    size_t ts = gk_t_stride(l);
    int f_dim = l->info.in_channels, bad = 0;
    for (int r = 0; r < rows; r++)
        for (int f = 0; f < f_dim; f++)
            bad += l->w_fused[f * ts + col + r] != (float)w[r * f_dim + f];
    CHECK(bad == 0);
}

/* s columns: Σ_c W[h*C+c, f] · att[h, c], recomputed here in double. */
static void check_scores(const gk_layer *l, int col, const double *w,
                         const double *att) {
    int heads = l->info.heads, c_dim = l->info.out_channels;
    int f_dim = l->info.in_channels, bad = 0;
    size_t ts = gk_t_stride(l);
    for (int h = 0; h < heads; h++)
        for (int f = 0; f < f_dim; f++) {
            double want = 0;
            for (int c = 0; c < c_dim; c++)
                want += w[(h * c_dim + c) * f_dim + f] * att[h * c_dim + c];
            bad += !close_to(l->w_fused[f * ts + col + h], want);
        }
    CHECK(bad == 0);
}

static void check_padding(const gk_layer *l) {
    size_t ts = gk_t_stride(l);
    int bad = 0;
    CHECK(ts % 16 == 0 && ts >= (size_t)l->cols && ts < (size_t)l->cols + 16);
    for (int f = 0; f < l->info.in_channels; f++)
        for (size_t c = (size_t)l->cols; c < ts; c++)
            bad += l->w_fused[f * ts + c] != 0.0f;
    CHECK(bad == 0);
}

static void check_edge(const gk_layer *l, const double *lin_edge,
                       const double *att_edge) {
    int heads = l->info.heads, c_dim = l->info.out_channels;
    int d_dim = l->info.edge_dim, hc = heads * c_dim, bad = 0;
    for (int d = 0; d < d_dim; d++) {
        if (l->info.type == GK_LAYER_GATV2) {
            for (int k = 0; k < hc; k++)
                bad += l->edge_w[d * hc + k] != (float)lin_edge[k * d_dim + d];
            continue;
        }
        for (int h = 0; h < heads; h++) {
            double want = 0;
            for (int c = 0; c < c_dim; c++)
                want += lin_edge[(h * c_dim + c) * d_dim + d] *
                        att_edge[h * c_dim + c];
            bad += !close_to(l->edge_w[d * heads + h], want);
        }
    }
    CHECK(bad == 0);
}

static void check_vector(const float *got, const double *want, int n) {
    CHECK((got == NULL) == (want == NULL));
    for (int i = 0; got && want && i < n; i++) CHECK(got[i] == (float)want[i]);
}

static void check_gat_layer(const gk_layer *l, const gk_st_file *file) {
    int hc = l->info.heads * l->info.out_channels;
    double *lin = raw(file, l->name, "lin.weight");
    double *att_src = raw(file, l->name, "att_src");
    double *att_dst = raw(file, l->name, "att_dst");
    double *res = raw(file, l->name, "res.weight");
    CHECK(lin && att_src && att_dst);
    CHECK(l->col_h == 0 && l->col_src == hc);
    CHECK(l->col_dst == hc + l->info.heads);
    check_rows(l, l->col_h, lin, hc);
    check_scores(l, l->col_src, lin, att_src);
    check_scores(l, l->col_dst, lin, att_dst);
    CHECK((res != NULL) == (l->col_res >= 0));
    if (res) check_rows(l, l->col_res, res, l->info.out_width);
    CHECK(l->cols == hc + 2 * l->info.heads + (res ? l->info.out_width : 0));
    CHECK(l->att == NULL && l->b_fused == NULL);
    if (l->info.edge_dim) {
        double *lin_edge = raw(file, l->name, "lin_edge.weight");
        double *att_edge = raw(file, l->name, "att_edge");
        check_edge(l, lin_edge, att_edge);
        free(lin_edge);
        free(att_edge);
    }
    free(lin);
    free(att_src);
    free(att_dst);
    free(res);
}

static void check_gatv2_layer(const gk_layer *l, const gk_st_file *file) {
    int hc = l->info.heads * l->info.out_channels;
    double *lin_l = raw(file, l->name, "lin_l.weight");
    double *lin_r = raw(file, l->name, "lin_r.weight");
    double *bias_l = raw(file, l->name, "lin_l.bias");
    double *bias_r = raw(file, l->name, "lin_r.bias");
    double *att = raw(file, l->name, "att");
    CHECK(l->col_src == -1 && l->col_dst == -1 && l->col_xr == hc);
    CHECK(l->b_fused != NULL);  /* the fixtures have lin_l/lin_r biases */
    if (!l->b_fused) return;
    check_rows(l, l->col_h, lin_l, hc);
    check_rows(l, l->col_xr, lin_r, hc);
    check_vector(l->b_fused + l->col_h, bias_l, hc);
    check_vector(l->b_fused + l->col_xr, bias_r, hc);
    check_vector(l->att, att, hc);
    if (l->info.edge_dim) {
        double *lin_edge = raw(file, l->name, "lin_edge.weight");
        check_edge(l, lin_edge, NULL);
        free(lin_edge);
    }
    free(lin_l);
    free(lin_r);
    free(bias_l);
    free(bias_r);
    free(att);
}

/* ---- every fixture against index.json ---------------------------------- */

static int json_int(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? (int)json_number_value(v) : 0;
}

static void check_info(const gk_layer_info *info, const json_t *want) {
    CHECK(!strcmp(info->name, json_string_value(json_object_get(want, "name"))));
    const char *type = json_string_value(json_object_get(want, "type"));
    CHECK(info->type == (!strcmp(type, "GATv2Conv") ? GK_LAYER_GATV2
                                                    : GK_LAYER_GAT));
    CHECK(info->in_channels == json_int(want, "in_channels"));
    CHECK(info->out_channels == json_int(want, "out_channels"));
    CHECK(info->heads == json_int(want, "heads"));
    CHECK(info->concat == json_is_true(json_object_get(want, "concat")));
    CHECK(info->add_self_loops ==
          json_is_true(json_object_get(want, "add_self_loops")));
    CHECK(info->residual ==
          json_is_true(json_object_get(want, "residual")));
    CHECK(info->edge_dim == json_int(want, "edge_dim"));
    CHECK(info->negative_slope == 0.2f && info->bias == 1);
    const char *fill = json_string_value(json_object_get(want, "fill_value"));
    static const char *const fills[] = {"mean", "add", "max", "min", "mul"};
    CHECK(!strcmp(fills[info->fill], fill));
    const char *act = json_string_value(json_object_get(want, "activation"));
    static const char *const acts[] = {"none", "elu", "relu", "leaky_relu"};
    CHECK(!strcmp(acts[info->activation], act));
    CHECK(info->out_width == (info->concat ? info->heads * info->out_channels
                                           : info->out_channels));
}

static void check_case(const json_t *c) {
    char name[256];
    snprintf(name, sizeof name, "%s.model.safetensors",
             json_string_value(json_object_get(c, "name")));
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    gk_model *model = NULL;
    gk_error err;
    CHECK_STATUS(gk_model_load_file(path, &model, &err), GK_OK, &err);
    if (!model) return;
    uint8_t *buf;
    size_t size;
    gk_st_file file;
    read_fixture(name, &buf, &size);
    gk_st_parse(buf, size, &file, &err);
    const json_t *layers = json_object_get(c, "layers");
    int n = (int)json_array_size(layers);
    CHECK(gk_model_num_layers(model) == n);
    int max_cols = 0, edge_dim = 0;
    for (int i = 0; i < n && i < model->num_layers; i++) {
        gk_layer_info info;
        CHECK_STATUS(gk_model_layer(model, i, &info), GK_OK, &err);
        check_info(&info, json_array_get(layers, i));
        const gk_layer *l = &model->layers[i];
        check_padding(l);
        if (l->info.type == GK_LAYER_GAT) check_gat_layer(l, &file);
        else check_gatv2_layer(l, &file);
        double *bias = raw(&file, l->name, "bias");
        check_vector(l->bias, bias, l->info.out_width);
        free(bias);
        CHECK(((uintptr_t)l->w_fused & 63) == 0);
        if ((int)gk_t_stride(l) > max_cols) max_cols = (int)gk_t_stride(l);
        if (l->info.edge_dim) edge_dim = l->info.edge_dim;
    }
    CHECK(model->max_cols == max_cols);
    CHECK(gk_model_edge_dim(model) == edge_dim);
    CHECK(gk_model_in_features(model) == model->layers[0].info.in_channels);
    CHECK(gk_model_out_features(model) ==
          model->layers[n - 1].info.out_width);
    gk_layer_info info;
    CHECK(gk_model_layer(model, n, &info) == GK_EINVAL);
    CHECK(gk_model_layer(model, -1, &info) == GK_EINVAL);
    gk_st_free(&file);
    gk_free(buf);
    gk_model_free(model);
}

static void test_fixtures(void) {
    uint8_t *buf;
    size_t size;
    if (!read_fixture("index.json", &buf, &size)) {
        CHECK(0);
        return;
    }
    json_t *index = json_loadb((const char *)buf, size, 0, NULL);
    gk_free(buf);
    const json_t *c;
    size_t c_i;
    int count = 0;
    json_array_foreach(json_object_get(index, "cases"), c_i, c) {
        check_case(c);
        count++;
    }
    CHECK(count >= 10);
    json_decref(index);
}

/* ---- bad models: a fixture, edited, re-serialized ---------------------- */

typedef struct edited {
    uint8_t *file_buf;           /* the fixture's bytes (tensors point in) */
    gk_st_file file;
    gk_st_out outs[64];
    size_t count;
    char metadata[4096];
    int has_metadata;
} edited;

static void edit_open(edited *e, const char *fixture) {
    memset(e, 0, sizeof *e);
    char name[256];
    snprintf(name, sizeof name, "%s.model.safetensors", fixture);
    size_t size;
    gk_error err;
    read_fixture(name, &e->file_buf, &size);
    gk_st_parse(e->file_buf, size, &e->file, &err);
    for (size_t i = 0; i < e->file.count && i < 64; i++) {
        const gk_st_tensor *t = &e->file.tensors[i];
        gk_st_out *o = &e->outs[e->count++];
        o->name = t->name;
        o->dtype = t->dtype;
        o->ndim = t->ndim;
        memcpy(o->shape, t->shape, sizeof t->shape);
        o->data = t->data;
    }
    snprintf(e->metadata, sizeof e->metadata, "%s",
             e->file.graphkern_metadata);
    e->has_metadata = 1;
}

static gk_st_out *edit_find(edited *e, const char *name) {
    for (size_t i = 0; i < e->count; i++)
        if (!strcmp(e->outs[i].name, name)) return &e->outs[i];
    fprintf(stderr, "no tensor %s in the fixture\n", name);
    exit(2);
}

static void edit_drop(edited *e, const char *name) {
    gk_st_out *o = edit_find(e, name);
    *o = e->outs[--e->count];
}

/* Replace the first occurrence of `from` in the metadata. */
static void edit_meta(edited *e, const char *from, const char *to) {
    char *at = strstr(e->metadata, from);
    if (!at) {
        fprintf(stderr, "no '%s' in the metadata\n", from);
        exit(2);
    }
    char rest[4096];
    snprintf(rest, sizeof rest, "%s", at + strlen(from));
    snprintf(at, sizeof e->metadata - (size_t)(at - e->metadata), "%s%s", to,
             rest);
}

static gk_status edit_load(edited *e, gk_model **model, gk_error *err) {
    uint8_t *buf;
    size_t size;
    gk_status st = gk_st_serialize(e->outs, e->count,
                                   e->has_metadata ? e->metadata : NULL, &buf,
                                   &size, err);
    if (st != GK_OK) return st;
    st = gk_model_load_buffer(buf, size, model, err);
    gk_free(buf);
    return st;
}

static void edit_close(edited *e) {
    gk_st_free(&e->file);
    gk_free(e->file_buf);
}

/* Load the edited model; expect `status` and `named` in the message. */
static void expect_load(edited *e, gk_status status, const char *named,
                        int line) {
    gk_model *model = NULL;
    gk_error err = {GK_OK, ""};
    gk_status st = edit_load(e, &model, &err);
    if (st != status) {
        fprintf(stderr, "line %d: got %s, expected %s (%s)\n", line,
                gk_strerror(st), gk_strerror(status), err.message);
        check_failures++;
    } else if (named && !strstr(err.message, named)) {
        fprintf(stderr, "line %d: message '%s' does not mention '%s'\n",
                line, err.message, named);
        check_failures++;
    }
    CHECK((st == GK_OK) == (model != NULL));
    gk_model_free(model);
    edit_close(e);
}

#define EXPECT_LOAD(e, status, named) expect_load(e, status, named, __LINE__)

static void test_bad_metadata(void) {
    edited e;
    edit_open(&e, "quirky_n12");
    EXPECT_LOAD(&e, GK_OK, NULL);
    edit_open(&e, "quirky_n12");
    e.has_metadata = 0;
    EXPECT_LOAD(&e, GK_EMETADATA, "graphkern");
    edit_open(&e, "quirky_n12");
    snprintf(e.metadata, sizeof e.metadata, "{\"layers\": [");
    EXPECT_LOAD(&e, GK_EJSON, NULL);
    edit_open(&e, "quirky_n12");
    snprintf(e.metadata, sizeof e.metadata, "[1, 2]");
    EXPECT_LOAD(&e, GK_EMETADATA, NULL);
    edit_open(&e, "quirky_n12");
    snprintf(e.metadata, sizeof e.metadata, "{\"version\": 1, \"layers\": []}");
    EXPECT_LOAD(&e, GK_EMETADATA, "layers");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"version\": 1", "\"version\": 3");
    EXPECT_LOAD(&e, GK_EUNSUPPORTED, "version");
    edit_open(&e, "quirky_n12");  /* a layer list is no format-2 document */
    edit_meta(&e, "\"version\": 1", "\"version\": 2");
    EXPECT_LOAD(&e, GK_EFORMAT, "layers");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"GATConv\"", "\"SAGEConv\"");
    EXPECT_LOAD(&e, GK_EUNSUPPORTED, "SAGEConv");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"elu\"", "\"gelu\"");
    EXPECT_LOAD(&e, GK_EUNSUPPORTED, "gelu");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"mean\"", "\"median\"");
    EXPECT_LOAD(&e, GK_EUNSUPPORTED, "median");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"in_channels\": 8, ", "");
    EXPECT_LOAD(&e, GK_EMETADATA, "in_channels");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"out_channels\": 4", "\"out_channels\": 0");
    EXPECT_LOAD(&e, GK_EMETADATA, "out_channels");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"heads\": 2", "\"heads\": 2.5");
    EXPECT_LOAD(&e, GK_EMETADATA, "heads");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"concat\": true", "\"concat\": 1");
    EXPECT_LOAD(&e, GK_EMETADATA, "concat");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"name\": \"conv2\"", "\"name\": \"conv1\"");
    EXPECT_LOAD(&e, GK_EMETADATA, "conv1");
}

static void test_bad_sizes(void) {
    edited e;
    /* layer 2 expects 9 inputs, layer 1 gives 8 */
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"in_channels\": 8, \"out_channels\": 3",
              "\"in_channels\": 9, \"out_channels\": 3");
    EXPECT_LOAD(&e, GK_ECHANNELS, "conv2");
    /* heads * out_channels above INT_MAX */
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"heads\": 2", "\"heads\": 1073741824");
    EXPECT_LOAD(&e, GK_EOVERFLOW, "conv1");
    /* heads * out_channels fits, times in_channels does not */
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"in_channels\": 8", "\"in_channels\": 1000000000");
    EXPECT_LOAD(&e, GK_EOVERFLOW, "conv1");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"out_channels\": 4", "\"out_channels\": 1e12");
    EXPECT_LOAD(&e, GK_EOVERFLOW, "out_channels");
    /* every layer that uses edges must share one edge_attr width */
    edit_open(&e, "fill_add_n24_edge3");
    edit_meta(&e, "\"edge_dim\": 3, \"bias\": true, \"residual\": false, "
                  "\"activation\": \"none\"",
              "\"edge_dim\": 2, \"bias\": true, \"residual\": false, "
              "\"activation\": \"none\"");
    EXPECT_LOAD(&e, GK_EMETADATA, "edge_dim");
}

static void test_bad_tensors(void) {
    edited e;
    edit_open(&e, "quirky_n12");
    edit_drop(&e, "conv2.att_src");
    EXPECT_LOAD(&e, GK_EMISSING, "conv2.att_src");
    edit_open(&e, "quirky_n12");
    edit_drop(&e, "conv1.lin.weight");
    EXPECT_LOAD(&e, GK_EMISSING, "conv1.lin.weight");
    edit_open(&e, "quirky_n12");
    edit_drop(&e, "conv1.bias");
    EXPECT_LOAD(&e, GK_EMISSING, "conv1.bias");
    /* an I64 bias of the right shape */
    static const int64_t ints[8] = {0};
    edit_open(&e, "quirky_n12");
    gk_st_out *bias = edit_find(&e, "conv1.bias");
    bias->dtype = GK_DT_I64;
    bias->data = ints;
    EXPECT_LOAD(&e, GK_EDTYPE, "conv1.bias");
    /* [8, 8] reshaped to [4, 16] */
    edit_open(&e, "quirky_n12");
    gk_st_out *lin = edit_find(&e, "conv1.lin.weight");
    lin->shape[0] = 4;
    lin->shape[1] = 16;
    EXPECT_LOAD(&e, GK_ESHAPE, "[4, 16], expected [8, 8]");
    edit_open(&e, "quirky_n12");
    gk_st_out *att = edit_find(&e, "conv1.att_src");
    att->ndim = 2;
    att->shape[0] = 2;
    att->shape[1] = 4;
    EXPECT_LOAD(&e, GK_ESHAPE, "conv1.att_src");
}

static void test_non_finite(void) {
    float weights[64];
    edited e;
    edit_open(&e, "quirky_n12");
    gk_st_out *lin = edit_find(&e, "conv1.lin.weight");
    memcpy(weights, lin->data, sizeof weights);
    weights[5] = NAN;
    lin->data = weights;
    EXPECT_LOAD(&e, GK_ENONFINITE, "'conv1.lin.weight' element 5 is NaN");
    float bias[3] = {0, INFINITY, 0};
    edit_open(&e, "quirky_n12");
    edit_find(&e, "conv2.bias")->data = bias;
    EXPECT_LOAD(&e, GK_ENONFINITE, "'conv2.bias' element 1 is Inf");
    /* finite weights whose folded score overflows float32 */
    for (int i = 0; i < 64; i++) weights[i] = 3e38f;
    float att_src[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    edit_open(&e, "quirky_n12");
    edit_find(&e, "conv1.lin.weight")->data = weights;
    edit_find(&e, "conv1.att_src")->data = att_src;
    EXPECT_LOAD(&e, GK_ENONFINITE, "conv1");
}

static void test_truncated(void) {
    uint8_t *buf;
    size_t size;
    gk_model *model;
    gk_error err;
    read_fixture("quirky_n12.model.safetensors", &buf, &size);
    CHECK_STATUS(gk_model_load_buffer(buf, size - 4, &model, &err),
                 GK_EOFFSET, &err);
    CHECK(model == NULL);
    CHECK_STATUS(gk_model_load_buffer(buf, 100, &model, &err), GK_EFORMAT,
                 &err);
    CHECK_STATUS(gk_model_load_buffer(buf, 4, &model, &err), GK_EFORMAT,
                 &err);
    CHECK_STATUS(gk_model_load_buffer(NULL, 4, &model, &err), GK_EINVAL,
                 &err);
    gk_free(buf);
    CHECK_STATUS(gk_model_load_file("/nonexistent/m.safetensors", &model,
                                    &err), GK_EIO, &err);
    CHECK(strstr(err.message, "/nonexistent/m.safetensors") != NULL);
}

/* w_fused of two models are identical. */
static int same_fused(const gk_model *a, const gk_model *b) {
    if (a->num_layers != b->num_layers) return 0;
    for (int i = 0; i < a->num_layers; i++) {
        const gk_layer *la = &a->layers[i], *lb = &b->layers[i];
        size_t n = (size_t)la->info.in_channels * gk_t_stride(la);
        if (la->cols != lb->cols || memcmp(la->w_fused, lb->w_fused, n * 4))
            return 0;
    }
    return 1;
}

static gk_model *load_fixture(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.model.safetensors", fixtures, name);
    gk_model *model = NULL;
    gk_model_load_file(path, &model, NULL);
    return model;
}

/* PyG <= 2.4 spelling, other float dtypes, optional tensors. */
static void test_variants(void) {
    gk_model *reference = load_fixture("quirky_n12"), *model = NULL;
    gk_error err;
    edited e;
    edit_open(&e, "quirky_n12");
    gk_st_out *lin = edit_find(&e, "conv1.lin.weight");
    lin->name = "conv1.lin_src.weight";
    e.outs[e.count] = *lin;
    e.outs[e.count++].name = "conv1.lin_dst.weight";
    CHECK_STATUS(edit_load(&e, &model, &err), GK_OK, &err);
    CHECK(model && same_fused(model, reference));
    gk_model_free(model);
    /* lin_dst differing from lin_src: a bipartite layer */
    float other[64] = {1};
    e.outs[e.count - 1].data = other;
    EXPECT_LOAD(&e, GK_EUNSUPPORTED, "bipartite");
    /* lin_src alone */
    edit_open(&e, "quirky_n12");
    edit_find(&e, "conv1.lin.weight")->name = "conv1.lin_src.weight";
    CHECK_STATUS(edit_load(&e, &model, &err), GK_OK, &err);
    CHECK(model && same_fused(model, reference));
    gk_model_free(model);
    edit_close(&e);
    /* F64 weights convert exactly */
    double wide[64];
    edit_open(&e, "quirky_n12");
    lin = edit_find(&e, "conv1.lin.weight");
    for (int i = 0; i < 64; i++) {
        float f;
        memcpy(&f, (const uint8_t *)lin->data + 4 * i, 4);
        wide[i] = f;
    }
    lin->dtype = GK_DT_F64;
    lin->data = wide;
    CHECK_STATUS(edit_load(&e, &model, &err), GK_OK, &err);
    CHECK(model && same_fused(model, reference));
    gk_model_free(model);
    edit_close(&e);
    /* bias=false: no bias tensor needed, none kept */
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"bias\": true", "\"bias\": false");
    edit_drop(&e, "conv1.bias");
    CHECK_STATUS(edit_load(&e, &model, &err), GK_OK, &err);
    CHECK(model && model->layers[0].bias == NULL && model->layers[1].bias);
    gk_model_free(model);
    edit_close(&e);
    gk_model_free(reference);
}

static void test_gatv2_variants(void) {
    gk_model *model = NULL;
    gk_error err;
    edited e;
    /* lin_l.bias absent (PyG bias=False): zero in the fused bias */
    edit_open(&e, "gatv2_quirky_n16_edge1");
    edit_drop(&e, "conv1.lin_l.bias");
    CHECK_STATUS(edit_load(&e, &model, &err), GK_OK, &err);
    if (model) {
        const gk_layer *l = &model->layers[0];
        CHECK(l->b_fused && l->b_fused[0] == 0.0f && l->b_fused[7] == 0.0f);
        CHECK(l->b_fused[l->col_xr] != 0.0f);
    }
    gk_model_free(model);
    edit_close(&e);
    /* share_weights: no lin_r, xr is xl */
    edit_open(&e, "gatv2_quirky_n16_edge1");
    edit_meta(&e, "\"bias\": true", "\"share_weights\": true, \"bias\": true");
    edit_drop(&e, "conv1.lin_r.weight");
    edit_drop(&e, "conv1.lin_r.bias");
    CHECK_STATUS(edit_load(&e, &model, &err), GK_OK, &err);
    if (model) {
        const gk_layer *l = &model->layers[0];
        CHECK(l->info.share_weights && l->col_xr == l->col_h);
        CHECK(l->cols == l->info.heads * l->info.out_channels);
        CHECK(!model->layers[1].info.share_weights);
    }
    gk_model_free(model);
    edit_close(&e);
    edit_open(&e, "gatv2_quirky_n16_edge1");
    edit_drop(&e, "conv2.att");
    EXPECT_LOAD(&e, GK_EMISSING, "conv2.att");
    edit_open(&e, "gatv2_quirky_n16_edge1");
    edit_drop(&e, "conv2.lin_edge.weight");
    EXPECT_LOAD(&e, GK_EMISSING, "conv2.lin_edge.weight");
}

/* Issue 11: a misspelled key used to load with the default (self loops
 * stayed on for "add_self_loop": false); every unknown key is refused,
 * named with its layer and the key it is probably a typo of. */
static void test_strict_keys(void) {
    edited e;
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"add_self_loops\": true", "\"add_self_loop\": false");
    EXPECT_LOAD(&e, GK_EFORMAT, "layer 0 ('conv1'): unknown key "
                "'add_self_loop' (did you mean 'add_self_loops'?)");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"name\": \"conv2\", ", "\"name\": \"conv2\", \"dropout\": 0.5, ");
    EXPECT_LOAD(&e, GK_EFORMAT, "layer 1 ('conv2'): unknown key 'dropout'");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"version\": 1", "\"version\": 1, \"layer\": []");
    EXPECT_LOAD(&e, GK_EFORMAT, "unknown key 'layer' (did you mean 'layers'?)");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"heads\": 2", "\"heads\": 2, \"heads\": 1");
    EXPECT_LOAD(&e, GK_EFORMAT, "'heads' appears twice");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"elu\"", "\"Elu\"");
    EXPECT_LOAD(&e, GK_EUNSUPPORTED, "'Elu' (did you mean 'elu'?)");
    edit_open(&e, "quirky_n12");
    edit_meta(&e, "\"bias\": true", "\"share_weights\": true, \"bias\": true");
    EXPECT_LOAD(&e, GK_EMETADATA, "share_weights");
    edit_open(&e, "quirky_n12");  /* false is what PyG would have: harmless */
    edit_meta(&e, "\"bias\": true", "\"share_weights\": false, \"bias\": true");
    EXPECT_LOAD(&e, GK_OK, NULL);
}

/* gk_model_read_layer: the caller's own keys (model format v2 puts "op",
 * "inputs" in a conv object) pass; others stay unknown. */
static void test_read_layer_extra_keys(void) {
    json_t *object = json_loads("{\"op\": \"conv\", \"name\": \"c\", "
                                "\"type\": \"GATv2Conv\", \"in_channels\": 3, "
                                "\"out_channels\": 2, \"heads\": 4}", 0, NULL);
    CHECK(object != NULL);
    static const char *const extra[] = {"op", "inputs", "output", NULL};
    gk_layer layer;
    gk_error err;
    memset(&layer, 0, sizeof layer);
    CHECK_STATUS(gk_model_read_layer(object, 3, &layer, extra, &err), GK_OK,
                 &err);
    CHECK(!strcmp(layer.name, "c") && layer.info.type == GK_LAYER_GATV2);
    CHECK(layer.info.out_width == 8 && layer.info.add_self_loops == 1);
    memset(&layer, 0, sizeof layer);
    CHECK_STATUS(gk_model_read_layer(object, 3, &layer, NULL, &err),
                 GK_EFORMAT, &err);
    CHECK(strstr(err.message, "layer 3 ('c'): unknown key 'op'") != NULL);
    json_decref(object);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    test_fixtures();
    test_bad_metadata();
    test_bad_sizes();
    test_bad_tensors();
    test_non_finite();
    test_truncated();
    test_variants();
    test_gatv2_variants();
    test_strict_keys();
    test_read_layer_extra_keys();
    return check_report("test_model_load");
}
