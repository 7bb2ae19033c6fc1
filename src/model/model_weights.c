/* A layer's state_dict tensors -> its packed, folded arrays (model.h).
 *
 * Every tensor is fetched by its PyG name, checked (GK_EMISSING, GK_EDTYPE
 * for a non-float dtype, GK_ESHAPE with expected and actual shapes), turned
 * into float32 and scanned for NaN/Inf (GK_ENONFINITE) before anything is
 * folded. Folding (att_src into lin.weight, att_edge into lin_edge.weight)
 * is done in float64 so that the folded column is as close as float32 gets
 * to what PyG computes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "layout.h"
#include "model_load.h"

/* The layer's tensors as float32, in PyG's layouts. NULL when absent. */
typedef struct raw_weights {
    float *lin;          /* GAT lin.weight / GATv2 lin_l.weight [HC, F]    */
    float *lin_r;        /* GATv2 lin_r.weight [HC, F]                     */
    float *lin_l_bias;   /* GATv2 [HC]                                     */
    float *lin_r_bias;   /* GATv2 [HC]                                     */
    float *att_src;      /* GAT [1, H, C]                                  */
    float *att_dst;      /* GAT [1, H, C]                                  */
    float *att;          /* GATv2 [1, H, C]                                */
    float *lin_edge;     /* [HC, D]                                        */
    float *att_edge;     /* GAT [1, H, C]                                  */
    float *res;          /* [out_width, F]                                 */
    float *bias;         /* [out_width]                                    */
} raw_weights;

static void raw_free(raw_weights *raw) {
    float *all[] = {raw->lin,     raw->lin_r,    raw->lin_l_bias,
                    raw->lin_r_bias, raw->att_src, raw->att_dst,
                    raw->att,     raw->lin_edge, raw->att_edge,
                    raw->res,     raw->bias};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) gk_free(all[i]);
    memset(raw, 0, sizeof *raw);
}

/* ---- fetching one tensor ----------------------------------------------- */

typedef struct tensor_spec {
    const char *suffix;          /* after "<layer name>."                   */
    int ndim;
    int64_t dims[3];
    int required;
    float **dst;
} tensor_spec;

static void format_shape(char *buf, size_t size, int ndim,
                         const int64_t *dims) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld",
                                 d ? ", " : "", (long long)dims[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

static gk_status check_tensor(const gk_st_tensor *t, const tensor_spec *spec,
                              gk_error *err) {
    if (t->dtype != GK_DT_F32 && t->dtype != GK_DT_F16 &&
        t->dtype != GK_DT_BF16 && t->dtype != GK_DT_F64)
        return gk_fail(err, GK_EDTYPE,
                       "tensor '%s' has dtype %s, expected F32 (or F16, "
                       "BF16, F64)", t->name, t->dtype_name);
    int same = t->ndim == spec->ndim;
    for (int d = 0; same && d < spec->ndim; d++)
        same = t->shape[d] == spec->dims[d];
    if (same) return GK_OK;
    char want[64], got[128];
    format_shape(want, sizeof want, spec->ndim, spec->dims);
    format_shape(got, sizeof got, t->ndim, t->shape);
    return gk_fail(err, GK_ESHAPE, "tensor '%s' has shape %s, expected %s",
                   t->name, got, want);
}

static gk_status check_finite(const gk_st_tensor *t, const float *v,
                              gk_error *err) {
    for (size_t i = 0; i < t->numel; i++)
        if (!isfinite(v[i]))
            return gk_fail(err, GK_ENONFINITE,
                           "tensor '%s' element %zu is %s", t->name, i,
                           isnan(v[i]) ? "NaN" : "Inf");
    return GK_OK;
}

/* Fetch prefix.suffix into a new float32 array *spec->dst (NULL if absent
 * and optional). */
static gk_status fetch(const gk_st_file *file, const char *prefix,
                       const tensor_spec *spec, gk_error *err) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", prefix, spec->suffix);
    const gk_st_tensor *t = gk_st_find(file, name);
    if (!t)
        return spec->required
                   ? gk_fail(err, GK_EMISSING, "tensor '%s' is missing", name)
                   : GK_OK;
    gk_status st = check_tensor(t, spec, err);
    if (st != GK_OK) return st;
    float *v = gk_calloc_array(t->numel, sizeof *v);
    if (!v) return gk_fail(err, GK_ENOMEM, "no memory for tensor '%s'", name);
    st = gk_st_to_f32(t, v, err);
    if (st == GK_OK) st = check_finite(t, v, err);
    if (st != GK_OK) {
        gk_free(v);
        return st;
    }
    *spec->dst = v;
    return GK_OK;
}

/* ---- which tensors a layer needs --------------------------------------- */

static tensor_spec matrix(const char *suffix, int rows, int cols, int required,
                          float **dst) {
    return (tensor_spec){suffix, 2, {rows, cols, 0}, required, dst};
}

static tensor_spec vector(const char *suffix, int n, int required,
                          float **dst) {
    return (tensor_spec){suffix, 1, {n, 0, 0}, required, dst};
}

static tensor_spec per_head(const char *suffix, const gk_layer_info *info,
                            float **dst) {
    return (tensor_spec){suffix, 3, {1, info->heads, info->out_channels}, 1,
                         dst};
}

/* Everything but GATConv's lin.weight, which has two spellings. */
static int list_specs(const gk_layer_info *info, raw_weights *raw,
                      tensor_spec *specs) {
    int hc = info->heads * info->out_channels, f = info->in_channels;
    int n = 0;
    if (info->type == GK_LAYER_GAT) {
        specs[n++] = per_head("att_src", info, &raw->att_src);
        specs[n++] = per_head("att_dst", info, &raw->att_dst);
        if (info->edge_dim)
            specs[n++] = per_head("att_edge", info, &raw->att_edge);
    } else {
        specs[n++] = matrix("lin_l.weight", hc, f, 1, &raw->lin);
        /* PyG's bias=False also drops lin_l/lin_r's biases */
        specs[n++] = vector("lin_l.bias", hc, 0, &raw->lin_l_bias);
        if (!info->share_weights) {
            specs[n++] = matrix("lin_r.weight", hc, f, 1, &raw->lin_r);
            specs[n++] = vector("lin_r.bias", hc, 0, &raw->lin_r_bias);
        }
        specs[n++] = per_head("att", info, &raw->att);
    }
    if (info->edge_dim)
        specs[n++] = matrix("lin_edge.weight", hc, info->edge_dim, 1,
                            &raw->lin_edge);
    if (info->residual)
        specs[n++] = matrix("res.weight", info->out_width, f, 1, &raw->res);
    if (info->bias) specs[n++] = vector("bias", info->out_width, 1, &raw->bias);
    return n;
}

/* GATConv's weight: lin.weight (PyG >= 2.5) or lin_src.weight and
 * lin_dst.weight (PyG <= 2.4), which must be equal: a bipartite layer has
 * two node sets, which this library does not model. */
static gk_status fetch_gat_lin(const gk_st_file *file, const gk_layer *layer,
                               raw_weights *raw, gk_error *err) {
    const gk_layer_info *info = &layer->info;
    int hc = info->heads * info->out_channels, f = info->in_channels;
    tensor_spec spec = matrix("lin.weight", hc, f, 0, &raw->lin);
    gk_status st = fetch(file, layer->name, &spec, err);
    if (st != GK_OK || raw->lin) return st;
    spec = matrix("lin_src.weight", hc, f, 0, &raw->lin);
    st = fetch(file, layer->name, &spec, err);
    if (st != GK_OK) return st;
    if (!raw->lin)
        return gk_fail(err, GK_EMISSING,
                       "tensor '%s.lin.weight' (or '%s.lin_src.weight') is "
                       "missing", layer->name, layer->name);
    float *dst_weight = NULL;
    spec = matrix("lin_dst.weight", hc, f, 0, &dst_weight);
    st = fetch(file, layer->name, &spec, err);
    if (st == GK_OK && dst_weight &&
        memcmp(dst_weight, raw->lin, (size_t)hc * f * sizeof(float)) != 0)
        st = gk_fail(err, GK_EUNSUPPORTED,
                     "layer '%s': lin_src.weight != lin_dst.weight (a "
                     "bipartite layer; not supported)", layer->name);
    gk_free(dst_weight);
    return st;
}

static gk_status fetch_all(const gk_st_file *file, const gk_layer *layer,
                           raw_weights *raw, gk_error *err) {
    tensor_spec specs[12];
    int n = list_specs(&layer->info, raw, specs);
    gk_status st = layer->info.type == GK_LAYER_GAT
                       ? fetch_gat_lin(file, layer, raw, err)
                       : GK_OK;
    for (int i = 0; st == GK_OK && i < n; i++)
        st = fetch(file, layer->name, &specs[i], err);
    return st;
}

/* ---- packing and folding ----------------------------------------------- */

/* Column col of w_fused (length F, stride t_stride) = row `row` of a
 * [rows, F] PyG weight, i.e. w_fused = weightᵀ. */
static void put_rows(float *w, size_t stride, int col, const float *weight,
                     int rows, int f) {
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < f; i++)
            w[(size_t)i * stride + col + r] = weight[(size_t)r * f + i];
}

/* Column col+h = Σ_c weight[h*C + c, :] · att[h, c]: the attention score
 * folded into the transform, accumulated in double. */
static void put_scores(float *w, size_t stride, int col, const float *weight,
                       const float *att, const gk_layer_info *info) {
    int heads = info->heads, c_per = info->out_channels, f = info->in_channels;
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < f; i++) {
            double sum = 0.0;
            for (int c = 0; c < c_per; c++) {
                size_t k = (size_t)h * c_per + c;
                sum += (double)weight[k * f + i] * (double)att[k];
            }
            w[(size_t)i * stride + col + h] = (float)sum;
        }
}

/* GAT edge_w [D, H]: lin_edge folded with att_edge; GATv2 [D, HC]:
 * lin_edge transposed. */
static void put_edge(float *edge_w, const raw_weights *raw,
                     const gk_layer_info *info) {
    int d_dim = info->edge_dim, heads = info->heads, c_per = info->out_channels;
    int hc = heads * c_per;
    for (int d = 0; d < d_dim; d++) {
        if (info->type == GK_LAYER_GATV2) {
            for (int k = 0; k < hc; k++)
                edge_w[(size_t)d * hc + k] =
                    raw->lin_edge[(size_t)k * d_dim + d];
            continue;
        }
        for (int h = 0; h < heads; h++) {
            double sum = 0.0;
            for (int c = 0; c < c_per; c++) {
                size_t k = (size_t)h * c_per + c;
                sum += (double)raw->lin_edge[k * d_dim + d] *
                       (double)raw->att_edge[k];
            }
            edge_w[(size_t)d * heads + h] = (float)sum;
        }
    }
}

/* Columns of edge_w: one per head (GAT, folded) or per channel (GATv2). */
static size_t edge_cols(const gk_layer_info *info) {
    size_t hc = (size_t)info->heads * info->out_channels;
    return info->type == GK_LAYER_GAT ? (size_t)info->heads : hc;
}

static float *copy_floats(const float *src, size_t n) {
    float *dst = gk_calloc_array(n, sizeof *dst);
    if (dst) memcpy(dst, src, n * sizeof *dst);
    return dst;
}

static void fill_w_fused(gk_layer *layer, const raw_weights *raw) {
    const gk_layer_info *info = &layer->info;
    size_t stride = gk_t_stride(layer);
    int hc = info->heads * info->out_channels, f = info->in_channels;
    put_rows(layer->w_fused, stride, layer->col_h, raw->lin, hc, f);
    if (info->type == GK_LAYER_GAT) {
        put_scores(layer->w_fused, stride, layer->col_src, raw->lin,
                   raw->att_src, info);
        put_scores(layer->w_fused, stride, layer->col_dst, raw->lin,
                   raw->att_dst, info);
    } else if (!info->share_weights) {
        put_rows(layer->w_fused, stride, layer->col_xr, raw->lin_r, hc, f);
    }
    if (raw->res)
        put_rows(layer->w_fused, stride, layer->col_res, raw->res,
                 info->out_width, f);
}

/* GATv2's lin_l/lin_r biases as a bias of the fused transform; NULL when
 * the layer has none (GATConv's lin has no bias). */
static int fill_b_fused(gk_layer *layer, const raw_weights *raw) {
    if (!raw->lin_l_bias && !raw->lin_r_bias) return 1;
    int hc = layer->info.heads * layer->info.out_channels;
    layer->b_fused = gk_calloc_array(gk_t_stride(layer), sizeof(float));
    if (!layer->b_fused) return 0;
    if (raw->lin_l_bias)
        memcpy(layer->b_fused + layer->col_h, raw->lin_l_bias,
               (size_t)hc * sizeof(float));
    if (raw->lin_r_bias)
        memcpy(layer->b_fused + layer->col_xr, raw->lin_r_bias,
               (size_t)hc * sizeof(float));
    return 1;
}

static gk_status pack(gk_layer *layer, const raw_weights *raw,
                      gk_error *err) {
    const gk_layer_info *info = &layer->info;
    size_t hc = (size_t)info->heads * info->out_channels;
    layer->w_fused =
        gk_calloc_array((size_t)info->in_channels * gk_t_stride(layer),
                        sizeof(float));
    int ok = layer->w_fused != NULL && fill_b_fused(layer, raw);
    if (ok && raw->att) ok = (layer->att = copy_floats(raw->att, hc)) != 0;
    if (ok && raw->bias)
        ok = (layer->bias = copy_floats(raw->bias, info->out_width)) != 0;
    if (ok && info->edge_dim)
        ok = (layer->edge_w = gk_calloc_array(
                  (size_t)info->edge_dim * edge_cols(info), sizeof(float)))
             != 0;
    if (!ok)
        return gk_fail(err, GK_ENOMEM, "no memory for layer '%s'",
                       layer->name);
    fill_w_fused(layer, raw);
    if (info->edge_dim) put_edge(layer->edge_w, raw, info);
    return GK_OK;
}

/* Folded sums of finite float32 values can still exceed float32's range. */
static gk_status check_folded(const gk_layer *layer, gk_error *err) {
    size_t n = (size_t)layer->info.in_channels * gk_t_stride(layer);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(layer->w_fused[i]))
            return gk_fail(err, GK_ENONFINITE,
                           "layer '%s': folded attention weights overflow "
                           "float32", layer->name);
    n = layer->edge_w ? (size_t)layer->info.edge_dim * edge_cols(&layer->info)
                      : 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(layer->edge_w[i]))
            return gk_fail(err, GK_ENONFINITE,
                           "layer '%s': folded edge attention overflows "
                           "float32", layer->name);
    return GK_OK;
}

gk_status gk_layer_load_weights(const gk_st_file *file, gk_layer *layer,
                                gk_error *err) {
    raw_weights raw;
    memset(&raw, 0, sizeof raw);
    gk_status st = fetch_all(file, layer, &raw, err);
    if (st == GK_OK) st = pack(layer, &raw, err);
    if (st == GK_OK) st = check_folded(layer, err);
    raw_free(&raw);
    if (st != GK_OK) gk_layer_release(layer);
    return st;
}

void gk_layer_release(gk_layer *layer) {
    gk_free(layer->w_fused);
    gk_free(layer->b_fused);
    gk_free(layer->att);
    gk_free(layer->edge_w);
    gk_free(layer->bias);
    layer->w_fused = layer->b_fused = layer->att = NULL;
    layer->edge_w = layer->bias = NULL;
}
