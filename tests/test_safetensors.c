/* safetensors parsing, conversion and writing: every fixture parses, files
 * round-trip, and each malformed header gets its own status. */
#define _POSIX_C_SOURCE 200809L  /* getpid */

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader_check.h"
#include "model.h"
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

/* ---- a hand-made file: 8-byte length, header text, data bytes ---------- */

static uint8_t *make_file(const char *header, size_t data_size,
                          size_t *size) {
    size_t len = strlen(header);
    *size = 8 + len + data_size;
    uint8_t *buf = calloc(1, *size);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)len >> (8 * i));
    memcpy(buf + 8, header, len);
    return buf;
}

/* Parse header + data_size zero bytes; return the status, keep err. */
static gk_status parse_header(const char *header, size_t data_size,
                              gk_error *err) {
    size_t size;
    uint8_t *buf = make_file(header, data_size, &size);
    gk_st_file file;
    gk_status st = gk_st_parse(buf, size, &file, err);
    if (st == GK_OK) gk_st_free(&file);
    free(buf);
    return st;
}

static void expect_header(const char *header, size_t data_size,
                          gk_status expected, const char *in_message,
                          int line) {
    gk_error err = {GK_OK, ""};
    gk_status st = parse_header(header, data_size, &err);
    if (st != expected) {
        fprintf(stderr, "line %d: header %s -> %s, expected %s (%s)\n", line,
                header, gk_strerror(st), gk_strerror(expected), err.message);
        check_failures++;
    } else if (in_message && !strstr(err.message, in_message)) {
        fprintf(stderr, "line %d: message '%s' does not name '%s'\n", line,
                err.message, in_message);
        check_failures++;
    }
}

#define EXPECT(header, data_size, status, named) \
    expect_header(header, data_size, status, named, __LINE__)

static void test_malformed_headers(void) {
    const char *w = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                    "\"data_offsets\":[0,8]}";
    char ok[256];
    snprintf(ok, sizeof ok, "{%s}", w);
    EXPECT(ok, 8, GK_OK, NULL);
    EXPECT("{}", 0, GK_OK, NULL);
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
           4, GK_OK, NULL);                                   /* scalar */
    EXPECT("{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}"
           ",\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
           4, GK_OK, NULL);             /* an empty tensor overlaps nothing */
    EXPECT("{\"w\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
           4, GK_OK, NULL);                     /* other dtypes parse */
    EXPECT("{abc", 0, GK_EJSON, NULL);
    EXPECT("{} trailing", 0, GK_EJSON, NULL);
    EXPECT("[1, 2]", 0, GK_EFORMAT, NULL);
    EXPECT("{\"w\": 5}", 0, GK_EFORMAT, "'w'");
    EXPECT("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, GK_EFORMAT,
           "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8,
           GK_EFORMAT, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, GK_EFORMAT, "'w'");
    EXPECT("{\"w\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
           GK_EFORMAT, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}",
           8, GK_EUNSUPPORTED, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}",
           8, GK_EFORMAT, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
           8, GK_ESHAPE, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}",
           8, GK_ESHAPE, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],"
           "\"data_offsets\":[0,8]}}", 8, GK_ESHAPE, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
           "\"data_offsets\":[0,4]}}", 4, GK_ESHAPE, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
           "\"data_offsets\":[0,8]}}", 8, GK_EOVERFLOW, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,536870912],"
           "\"data_offsets\":[0,8]}}", 8, GK_EOVERFLOW, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\"0\"}}",
           8, GK_EFORMAT, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}",
           8, GK_EOFFSET, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}",
           8, GK_EOFFSET, "'w'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}",
           8, GK_EOFFSET, "'w'");                  /* begin > end */
    EXPECT(ok, 7, GK_EOFFSET, "'w'");              /* end past the data */
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
           12, GK_EOFFSET, "'w'");                 /* shape needs 12 bytes */
    EXPECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
           12, GK_EOFFSET, "'a'");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
           "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
           8, GK_EFORMAT, "'w'");
    /* jansson quotes a repeated key only when it is short: long names too */
    EXPECT("{\"a_rather_long_tensor_name.weight\":{\"dtype\":\"F32\",\"shape\":[1],"
           "\"data_offsets\":[0,4]},\"a_rather_long_tensor_name.weight\":"
           "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
           GK_EFORMAT, "'a_rather_long_tensor_name.weight' appears twice");
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],"
           "\"data_offsets\":[0,4]}}", 4, GK_EFORMAT, "'dtype' appears twice");
    EXPECT("{\"w\\\"x\":1,\"w\\\"x\":2}", 0, GK_EFORMAT, "'w\\\"x'");
    /* exactly dtype, shape, data_offsets; the tensors cover the data */
    EXPECT("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
           "\"data_ofsets\":[0,8]}}", 8, GK_EFORMAT,
           "tensor 'w': unknown key 'data_ofsets' (did you mean 'data_offsets'?)");
    EXPECT("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
           12, GK_EOFFSET, "tensor 'b': hole in the data before it (4 bytes)");
    EXPECT(ok, 12, GK_EOFFSET, "4 trailing bytes after the last tensor");
    EXPECT("{}", 3, GK_EOFFSET, "3 trailing bytes");
    EXPECT("{\"__metadata__\": 3}", 0, GK_EFORMAT, "__metadata__");
    EXPECT("{\"__metadata__\": {\"graphkern\": {}}}", 0, GK_EFORMAT,
           "graphkern");
    EXPECT("{\"__metadata__\": {\"a\": \"b\"}, \"__metadata__\": {}}", 0,
           GK_EFORMAT, "__metadata__");
}

/* Byte-level damage: short files and header lengths that lie. */
static void test_broken_lengths(void) {
    gk_error err;
    gk_st_file file;
    uint8_t tiny[5] = {1, 0, 0, 0, 0};
    CHECK_STATUS(gk_st_parse(tiny, sizeof tiny, &file, &err), GK_EFORMAT,
                 &err);
    CHECK_STATUS(gk_st_parse(NULL, 0, &file, &err), GK_EFORMAT, &err);
    size_t size;
    uint8_t *buf = make_file("{}", 0, &size);
    buf[0] = 3;                                    /* length 3 > 2 bytes */
    CHECK_STATUS(gk_st_parse(buf, size, &file, &err), GK_EFORMAT, &err);
    buf[0] = 0;
    buf[5] = 1;                                    /* 2^40: absurd */
    CHECK_STATUS(gk_st_parse(buf, size, &file, &err), GK_EFORMAT, &err);
    buf[5] = 0;
    buf[7] = 0x80;                                 /* 2^63 */
    CHECK_STATUS(gk_st_parse(buf, size, &file, &err), GK_EFORMAT, &err);
    free(buf);
}

/* ---- fixtures ---------------------------------------------------------- */

/* Every file named in index.json, both halves of each case. */
static char **fixture_names(int *count) {
    uint8_t *buf;
    size_t size;
    *count = 0;
    if (!read_fixture("index.json", &buf, &size)) return NULL;
    json_t *index = json_loadb((const char *)buf, size, 0, NULL);
    gk_free(buf);
    const json_t *cases = json_object_get(index, "cases");
    int n = (int)json_array_size(cases);
    char **names = calloc(2 * (size_t)n + 1, sizeof *names);
    const json_t *c;
    size_t c_i;
    json_array_foreach(cases, c_i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        for (int half = 0; half < 2; half++) {
            names[*count] = malloc(strlen(name) + 32);
            sprintf(names[(*count)++], "%s.%s.safetensors", name,
                    half ? "io" : "model");
        }
    }
    json_decref(index);
    return names;
}

static int same_tensor(const gk_st_tensor *a, const gk_st_tensor *b) {
    if (strcmp(a->name, b->name) || a->dtype != b->dtype ||
        a->ndim != b->ndim || a->nbytes != b->nbytes)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0;
}

/* Serialize what was parsed, parse it again: same tensors, same metadata;
 * and the header is space-padded to a multiple of 8. */
static void check_round_trip(const gk_st_file *file) {
    gk_st_out *outs = calloc(file->count + 1, sizeof *outs);
    for (size_t i = 0; i < file->count; i++) {
        const gk_st_tensor *t = &file->tensors[i];
        outs[i].name = t->name;
        outs[i].dtype = t->dtype;
        outs[i].ndim = t->ndim;
        memcpy(outs[i].shape, t->shape, sizeof t->shape);
        outs[i].data = t->data;
    }
    gk_error err;
    uint8_t *buf = NULL;
    size_t size = 0;
    CHECK_STATUS(gk_st_serialize(outs, file->count, file->graphkern_metadata,
                                 &buf, &size, &err), GK_OK, &err);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | buf[i];
    CHECK(header_len % 8 == 0);
    CHECK(buf[8] == '{');
    gk_st_file again;
    CHECK_STATUS(gk_st_parse(buf, size, &again, &err), GK_OK, &err);
    if (err.status == GK_OK) {
        CHECK(again.count == file->count);
        for (size_t i = 0; i < file->count && i < again.count; i++)
            CHECK(same_tensor(&file->tensors[i],
                              gk_st_find(&again, file->tensors[i].name)));
        CHECK((!file->graphkern_metadata && !again.graphkern_metadata) ||
              (file->graphkern_metadata && again.graphkern_metadata &&
               !strcmp(file->graphkern_metadata, again.graphkern_metadata)));
        gk_st_free(&again);
    }
    gk_free(buf);
    free(outs);
}

static void test_fixtures(void) {
    int count;
    char **names = fixture_names(&count);
    CHECK(count >= 20);
    for (int i = 0; i < count; i++) {
        uint8_t *buf;
        size_t size;
        gk_error err;
        gk_st_file file;
        CHECK(read_fixture(names[i], &buf, &size));
        CHECK_STATUS(gk_st_parse(buf, size, &file, &err), GK_OK, &err);
        int is_model = strstr(names[i], ".model.") != NULL;
        if (err.status == GK_OK) {
            CHECK(file.count > 0);
            CHECK(is_model == (file.graphkern_metadata != NULL));
            if (!is_model) {
                const gk_st_tensor *x = gk_st_find(&file, "x");
                const gk_st_tensor *ei = gk_st_find(&file, "edge_index");
                CHECK(x && x->dtype == GK_DT_F32 && x->ndim == 2);
                CHECK(ei && ei->dtype == GK_DT_I64 && ei->shape[0] == 2);
            }
            check_round_trip(&file);
            gk_st_free(&file);
        }
        /* cut the last byte: the last tensor now runs past the end */
        CHECK_STATUS(gk_st_parse(buf, size - 1, &file, &err), GK_EOFFSET,
                     &err);
        /* cut inside the header */
        CHECK_STATUS(gk_st_parse(buf, 20, &file, &err), GK_EFORMAT, &err);
        buf[8] = '[';                              /* break the JSON */
        CHECK_STATUS(gk_st_parse(buf, size, &file, &err), GK_EJSON, &err);
        gk_free(buf);
        free(names[i]);
    }
    free(names);
}

/* ---- conversion -------------------------------------------------------- */

static gk_st_tensor tensor_over(gk_dtype dtype, size_t numel,
                                const void *data) {
    gk_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "t";
    t.dtype = dtype;
    t.ndim = 1;
    t.shape[0] = (int64_t)numel;
    t.numel = numel;
    t.nbytes = numel * gk_dtype_size(dtype);
    t.data = data;
    return t;
}

static void test_to_f32(void) {
    gk_error err;
    float out[6];
    /* 1, -2, 2^-24 (smallest subnormal), 65504 (max), inf, NaN */
    const uint16_t half[6] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x7e00};
    gk_st_tensor t = tensor_over(GK_DT_F16, 6, half);
    CHECK_STATUS(gk_st_to_f32(&t, out, &err), GK_OK, &err);
    CHECK(out[0] == 1.0f && out[1] == -2.0f);
    CHECK(out[2] == ldexpf(1.0f, -24) && out[3] == 65504.0f);
    CHECK(isinf(out[4]) && out[4] > 0 && isnan(out[5]));
    const uint16_t bf16[2] = {0x3f80, 0xc0a0};     /* 1, -5 */
    t = tensor_over(GK_DT_BF16, 2, bf16);
    CHECK_STATUS(gk_st_to_f32(&t, out, &err), GK_OK, &err);
    CHECK(out[0] == 1.0f && out[1] == -5.0f);
    /* F64 at an odd address, and a value beyond float's range */
    uint8_t bytes[1 + 3 * sizeof(double)];
    const double f64[3] = {0.25, -3.5, 1e300};
    memcpy(bytes + 1, f64, sizeof f64);
    t = tensor_over(GK_DT_F64, 3, bytes + 1);
    CHECK_STATUS(gk_st_to_f32(&t, out, &err), GK_OK, &err);
    CHECK(out[0] == 0.25f && out[1] == -3.5f && isinf(out[2]));
    const int64_t i64[1] = {3};
    t = tensor_over(GK_DT_I64, 1, i64);
    CHECK_STATUS(gk_st_to_f32(&t, out, &err), GK_EDTYPE, &err);
    CHECK(strstr(err.message, "'t'") != NULL);
}

static void test_dtype_names(void) {
    CHECK(!strcmp(gk_dtype_name(GK_DT_BF16), "BF16"));
    CHECK(!strcmp(gk_dtype_name(GK_DT_BOOL), "BOOL"));
    CHECK(gk_dtype_size(GK_DT_F64) == 8 && gk_dtype_size(GK_DT_F16) == 2);
    CHECK(gk_dtype_size(GK_DT_OTHER) == 0);
}

/* ---- writing ----------------------------------------------------------- */

static void test_write_and_read(void) {
    const float w[6] = {1, 2, 3, 4, 5, 6};
    const int64_t idx[4] = {0, 1, 1, 0};
    const double scalar = 42.0;
    gk_st_out outs[4] = {
        {"w", GK_DT_F32, 2, {2, 3}, w},
        {"edge_index", GK_DT_I64, 2, {2, 2}, idx},
        {"s", GK_DT_F64, 0, {0}, &scalar},
        {"empty", GK_DT_F32, 2, {0, 5}, NULL},
    };
    char path[256];
    snprintf(path, sizeof path, "/tmp/gk_test_st_%ld.safetensors",
             (long)getpid());
    gk_error err;
    CHECK_STATUS(gk_st_write_file(path, outs, 4, "{\"k\": \"\\\"q\\\"\"}",
                                  &err), GK_OK, &err);
    uint8_t *buf;
    size_t size;
    CHECK_STATUS(gk_read_file(path, &buf, &size, &err), GK_OK, &err);
    remove(path);
    gk_st_file file;
    CHECK_STATUS(gk_st_parse(buf, size, &file, &err), GK_OK, &err);
    if (err.status == GK_OK) {
        const gk_st_tensor *t = gk_st_find(&file, "w");
        CHECK(t && t->ndim == 2 && t->shape[1] == 3 && t->numel == 6);
        CHECK(t && !memcmp(t->data, w, sizeof w));
        t = gk_st_find(&file, "s");
        CHECK(t && t->ndim == 0 && t->numel == 1 &&
              !memcmp(t->data, &scalar, 8));
        t = gk_st_find(&file, "empty");
        CHECK(t && t->numel == 0 && t->nbytes == 0);
        CHECK(file.graphkern_metadata &&
              !strcmp(file.graphkern_metadata, "{\"k\": \"\\\"q\\\"\"}"));
        CHECK(gk_st_find(&file, "nope") == NULL);
        gk_st_free(&file);
    }
    gk_free(buf);
    /* invalid requests */
    uint8_t *out;
    gk_st_out dup[2] = {outs[0], outs[0]};
    CHECK_STATUS(gk_st_serialize(dup, 2, NULL, &out, &size, &err), GK_EINVAL,
                 &err);
    gk_st_out bad = outs[0];
    bad.shape[0] = -1;
    CHECK_STATUS(gk_st_serialize(&bad, 1, NULL, &out, &size, &err),
                 GK_EINVAL, &err);
    bad = outs[0];
    bad.dtype = GK_DT_OTHER;
    CHECK_STATUS(gk_st_serialize(&bad, 1, NULL, &out, &size, &err),
                 GK_EINVAL, &err);
    bad = outs[0];
    bad.name = "__metadata__";
    CHECK_STATUS(gk_st_serialize(&bad, 1, NULL, &out, &size, &err),
                 GK_EINVAL, &err);
    CHECK_STATUS(gk_st_write_file("/nonexistent-dir/x.safetensors", outs, 1,
                                  NULL, &err), GK_EIO, &err);
}

static void test_read_errors(void) {
    gk_error err;
    uint8_t *buf;
    size_t size;
    CHECK_STATUS(gk_read_file("/nonexistent/model.safetensors", &buf, &size,
                              &err), GK_EIO, &err);
    CHECK(strstr(err.message, "/nonexistent/model.safetensors") != NULL);
    CHECK(strstr(err.message, "No such file") != NULL);
    CHECK_STATUS(gk_read_file(fixtures, &buf, &size, &err), GK_EIO, &err);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    test_malformed_headers();
    test_broken_lengths();
    test_fixtures();
    test_to_f32();
    test_dtype_names();
    test_write_and_read();
    test_read_errors();
    return check_report("test_safetensors");
}
