/* Format 2 refuses what it cannot run exactly, each with its own status:
 * one good file (encoder_gat_skip_ln_mlp) is edited one key at a time and
 * must fail to load with the status docs/model-format.md gives; then
 * gk_infer_named is fed wrong names, dtypes, shapes, sizes and values. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_case.h"
#include "model.h"
#include "safetensors.h"

static uint8_t *file_bytes;
static size_t file_size;

/* The file with its graphkern metadata replaced by `doc`. */
static gk_status load_with(json_t *doc, gk_error *err) {
    uint64_t hlen = 0;
    memcpy(&hlen, file_bytes, 8);
    json_t *header = json_loadb((const char *)file_bytes + 8, (size_t)hlen, 0, NULL);
    char *meta = json_dumps(doc, JSON_COMPACT);
    json_object_set_new(json_object_get(header, "__metadata__"), "graphkern",
                        json_string(meta));
    char *text = json_dumps(header, JSON_COMPACT);
    size_t tlen = strlen(text), pad = (8 - tlen % 8) % 8, data = file_size - 8 - hlen;
    size_t size = 8 + tlen + pad + data;
    uint8_t *buf = malloc(size);
    uint64_t newlen = tlen + pad;
    memcpy(buf, &newlen, 8);
    memcpy(buf + 8, text, tlen);
    memset(buf + 8 + tlen, ' ', pad);
    memcpy(buf + 8 + tlen + pad, file_bytes + 8 + hlen, data);
    gk_model *m = NULL;
    gk_status st = gk_model_load_buffer(buf, size, &m, err);
    gk_model_free(m);
    free(buf);
    free(text);
    free(meta);
    json_decref(header);
    return st;
}

static json_t *original(void) {
    uint64_t hlen = 0;
    memcpy(&hlen, file_bytes, 8);
    json_t *header = json_loadb((const char *)file_bytes + 8, (size_t)hlen, 0, NULL);
    const char *meta = json_string_value(
        json_object_get(json_object_get(header, "__metadata__"), "graphkern"));
    json_t *doc = json_loads(meta, 0, NULL);
    json_decref(header);
    return doc;
}

static json_t *op(json_t *doc, size_t i) {
    return json_array_get(json_object_get(doc, "ops"), i);
}

typedef void (*edit_fn)(json_t *doc);

static void unknown_top_key(json_t *d) { json_object_set_new(d, "opps", json_array()); }
static void unknown_op_key(json_t *d) { json_object_set_new(op(d, 1), "alhpa", json_real(1)); }
static void unknown_op(json_t *d) { json_object_set_new(op(d, 1), "op", json_string("relu7")); }
static void dangling(json_t *d) {
    json_array_set_new(json_object_get(op(d, 1), "inputs"), 0, json_string("nowhere"));
}
static void cycle(json_t *d) {  /* op 1 reads op 3's output */
    json_array_set_new(json_object_get(op(d, 1), "inputs"), 0, json_string("v3"));
}
static void declared_shape(json_t *d) {
    json_t *s = json_array_get(json_object_get(op(d, 0), "shapes"), 0);
    json_array_set_new(s, 1, json_integer(31));
}
static void missing_tensor(json_t *d) {
    json_object_set_new(op(d, 0), "weight", json_string("encoder.weigth"));
}
static void bad_output(json_t *d) {
    json_object_set_new(json_array_get(json_object_get(d, "outputs"), 0), "value",
                        json_string("v99"));
}
static void twice_defined(json_t *d) {
    json_array_set_new(json_object_get(op(d, 1), "outputs"), 0, json_string("v0"));
}
static void version3(json_t *d) { json_object_set_new(d, "version", json_integer(3)); }
static void broadcast(json_t *d) {  /* [N, 32] + [N, 16]: reads the head's hidden layer */
    json_t *ops = json_object_get(d, "ops");
    json_array_set_new(json_object_get(op(d, 3), "inputs"), 1,
                       json_string("x"));
    (void)ops;
}
static void conv_edges(json_t *d) {
    json_object_set_new(op(d, 2), "edge_index", json_string("x"));
}
static void conv_misspelled(json_t *d) {
    json_object_set_new(op(d, 2), "add_self_loop", json_false());
}
static void input_kind(json_t *d) {
    json_object_set_new(json_array_get(json_object_get(d, "inputs"), 0), "kind",
                        json_string("node"));
}
static void wrong_arity(json_t *d) {
    json_array_append_new(json_object_get(op(d, 1), "inputs"), json_string("x"));
}
static void linear_width(json_t *d) { json_object_set_new(op(d, 0), "in_features", json_integer(15)); }

static const struct {
    const char *what;
    edit_fn edit;
    gk_status want;
} cases[] = {
    {"unknown top-level key", unknown_top_key, GK_EFORMAT},
    {"unknown op key", unknown_op_key, GK_EFORMAT},
    {"unknown op", unknown_op, GK_EUNSUPPORTED},
    {"dangling input", dangling, GK_EMETADATA},
    {"cycle (a later value)", cycle, GK_EMETADATA},
    {"declared shape differs", declared_shape, GK_ESHAPE},
    {"missing weight tensor", missing_tensor, GK_EMISSING},
    {"output of no value", bad_output, GK_EMETADATA},
    {"value defined twice", twice_defined, GK_EMETADATA},
    {"version 3", version3, GK_EUNSUPPORTED},
    {"broadcast mismatch", broadcast, GK_ESHAPE},
    {"conv on a node input as edges", conv_edges, GK_EMETADATA},
    {"misspelled conv key", conv_misspelled, GK_EFORMAT},
    {"unknown input kind", input_kind, GK_EMETADATA},
    {"op with too many inputs", wrong_arity, GK_EMETADATA},
    {"linear width vs its weight", linear_width, GK_ESHAPE},
};

static int load_checks(void) {
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *doc = original();
        cases[i].edit(doc);
        gk_error err = {0};
        gk_status st = load_with(doc, &err);
        int ok = st == cases[i].want;
        printf("%s %-30s -> %s: %s\n", ok ? "ok  " : "FAIL", cases[i].what,
               gk_strerror(st), st ? err.message : "(loaded)");
        failures += !ok;
        json_decref(doc);
    }
    return failures;
}

/* ---- calls ---------------------------------------------------------------- */

static int expect(const char *what, gk_status st, gk_status want, const gk_error *err) {
    int ok = st == want;
    printf("%s %-30s -> %s: %s\n", ok ? "ok  " : "FAIL", what, gk_strerror(st),
           st ? err->message : "");
    return !ok;
}

static int call_checks(const char *dir) {
    model_case mc;
    if (model_case_load(dir, "encoder_gat_skip_ln_mlp", &mc)) return 1;
    gk_plan *plan = NULL;
    gk_error err;
    int failures = 0;
    if (gk_plan_create(mc.model, mc.nodes, mc.max_edges, NULL, &plan, &err) != GK_OK) {
        printf("FAIL plan: %s\n", err.message);
        model_case_free(&mc);
        return 1;
    }
    float *y = calloc(mc.y_count, sizeof *y);
    gk_tensor out = {.name = "y", .data = y, .capacity = mc.y_count};
    gk_tensor in[3];
    memcpy(in, mc.inputs, 2 * sizeof *in);
    failures += expect("good call", gk_infer_named(plan, in, 2, &out, 1, &err), GK_OK, &err);
    failures += expect("missing input", gk_infer_named(plan, in, 1, &out, 1, &err),
                       GK_EINVAL, &err);
    in[2] = in[0];
    failures += expect("input given twice", gk_infer_named(plan, in, 3, &out, 1, &err),
                       GK_EINVAL, &err);
    in[2].name = "z";
    failures += expect("unknown input name", gk_infer_named(plan, in, 3, &out, 1, &err),
                       GK_EINVAL, &err);
    gk_tensor bad = in[0];
    bad.dtype = GK_TENSOR_I64;
    gk_tensor with_bad[2] = {bad, in[1]};
    failures += expect("x as int64", gk_infer_named(plan, with_bad, 2, &out, 1, &err),
                       GK_EDTYPE, &err);
    with_bad[0] = in[0];
    with_bad[0].shape[1] = 15;
    failures += expect("x of 15 features", gk_infer_named(plan, with_bad, 2, &out, 1, &err),
                       GK_ESHAPE, &err);
    with_bad[0] = in[0];
    with_bad[0].shape[0] = (int64_t)mc.nodes + 1;
    failures += expect("more nodes than the plan", gk_infer_named(plan, with_bad, 2, &out, 1,
                                                                  &err), GK_ELIMIT, &err);
    int64_t *ei = in[1].data;
    int64_t saved = ei[3];
    ei[3] = (int64_t)mc.nodes;
    failures += expect("edge index out of range", gk_infer_named(plan, in, 2, &out, 1, &err),
                       GK_EINDEX, &err);
    ei[3] = saved;
    float *x = in[0].data, keep = x[5];
    x[5] = NAN;
    failures += expect("NaN in x", gk_infer_named(plan, in, 2, &out, 1, &err), GK_ENONFINITE,
                       &err);
    x[5] = keep;
    gk_tensor small = out;
    small.capacity = mc.y_count - 1;
    failures += expect("output buffer too small", gk_infer_named(plan, in, 2, &small, 1, &err),
                       GK_ELIMIT, &err);
    gk_tensor other = out;
    other.name = "logits";
    failures += expect("unknown output name", gk_infer_named(plan, in, 2, &other, 1, &err),
                       GK_EINVAL, &err);
    failures += expect("good call again", gk_infer_named(plan, in, 2, &out, 1, &err), GK_OK,
                       &err);
    double e = model_case_error(y, mc.y_ref, mc.y_count);
    if (!(e <= 1e-5)) {
        printf("FAIL after the refusals: error %.2e\n", e);
        failures++;
    }
    free(y);
    gk_plan_free(plan);
    model_case_free(&mc);
    return failures;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    char path[512];
    gk_error err;
    snprintf(path, sizeof path, "%s/models/encoder_gat_skip_ln_mlp.model.safetensors", dir);
    if (gk_read_file(path, &file_bytes, &file_size, &err) != GK_OK) {
        printf("FAIL %s\n", err.message);
        return 1;
    }
    int failures = load_checks() + call_checks(dir);
    gk_free(file_bytes);
    printf(failures ? "FAILED (%d)\n" : "all format-2 refusals checked\n", failures);
    return failures ? 1 : 0;
}
