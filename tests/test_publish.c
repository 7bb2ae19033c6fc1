/* Lock-free publication under stress: one writer publishes >= 1M graphs
 * (each rebuilt in place from a pseudo-random COO that its version
 * determines) while two readers take the latest graph, recompute its
 * checksum from the CSR and compare it with the checksum the writer stored
 * in the slot's user buffer. Any mismatch is a torn read. Run under TSan in
 * CI (.ci/run); the test itself passes only with 0 torn reads, versions that
 * never go backwards, and a writer that never found every slot pinned. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphkern.h"

enum { MAX_NODES = 16, MAX_EDGES = 32, SLOTS = 4, READERS = 2 };

typedef struct payload {
    uint64_t version;
    uint64_t nodes, edges;
    uint64_t checksum;
} payload;

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Order-independent: the CSR reorders edges, the checksum must not care. */
static uint64_t edge_hash(int64_t src, int64_t dst) {
    return mix64(((uint64_t)src << 32) ^ (uint64_t)dst ^ 0x5bd1e995u);
}

/* COO of version v: n nodes, e edges, no self loops (the model adds them). */
static void make_graph(uint64_t v, size_t *n, size_t *e, int32_t *ei, uint64_t *sum) {
    uint64_t r = mix64(v);
    *n = 2 + (size_t)(r % (MAX_NODES - 1));
    *e = (size_t)((r >> 8) % (MAX_EDGES + 1));
    *sum = *n * 0x9e3779b97f4a7c15ULL;
    for (size_t k = 0; k < *e; k++) {
        uint64_t q = mix64(v * 131 + k);
        int32_t s = (int32_t)(q % *n);
        int32_t d = (int32_t)((s + 1 + (int32_t)((q >> 20) % (*n - 1))) % *n);
        ei[k] = s;
        ei[*e + k] = d;
        *sum += edge_hash(s, d);
    }
}

typedef struct shared {
    gk_publisher *pub;
    long publications;
    atomic_int stop;
    long reads[READERS], torn[READERS], backwards[READERS];
} shared;

typedef struct reader_arg { shared *sh; int id; } reader_arg;

static void *reader(void *arg) {
    reader_arg *ra = arg;
    shared *sh = ra->sh;
    int64_t src[MAX_EDGES + MAX_NODES], dst[MAX_EDGES + MAX_NODES];
    uint64_t last = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_acquire)) {
        gk_snapshot snap;
        if (!gk_publisher_acquire(sh->pub, &snap)) continue;
        const payload *p = snap.user;
        size_t n = gk_graph_num_nodes(snap.graph), e = gk_graph_num_edges(snap.graph);
        size_t m = gk_graph_layer_edges(snap.graph, 0, src, dst, MAX_EDGES + MAX_NODES);
        uint64_t sum = n * 0x9e3779b97f4a7c15ULL;
        for (size_t k = 0; k < m; k++)
            if (src[k] != dst[k]) sum += edge_hash(src[k], dst[k]);
        int ok = p->version == snap.version && p->nodes == n && p->edges == e &&
                 p->checksum == sum && m == e + n;
        sh->torn[ra->id] += !ok;
        sh->backwards[ra->id] += snap.version < last;
        last = snap.version;
        sh->reads[ra->id]++;
        gk_publisher_release(sh->pub, &snap);
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    long publications = argc > 2 ? atol(argv[2]) : 1000000;
    char path[1024];
    snprintf(path, sizeof path, "%s/ref_topk10_n100.model.safetensors", dir);
    gk_model *model = NULL;
    gk_error err;
    shared sh;
    memset(&sh, 0, sizeof sh);
    if (gk_model_load_file(path, &model, &err) != GK_OK ||
        gk_publisher_create(model, MAX_NODES, MAX_EDGES, SLOTS, sizeof(payload), &sh.pub,
                            &err) != GK_OK) {
        printf("FAIL setup: %s\n", err.message);
        return 1;
    }
    sh.publications = publications;
    atomic_init(&sh.stop, 0);
    pthread_t threads[READERS];
    reader_arg args[READERS];
    for (int r = 0; r < READERS; r++) {
        args[r] = (reader_arg){&sh, r};
        pthread_create(&threads[r], NULL, reader, &args[r]);
    }
    int32_t ei[2 * MAX_EDGES];
    long busy = 0, failed = 0;
    for (long k = 0; k < publications; k++) {
        void *user = NULL;
        gk_graph *g = gk_publisher_begin(sh.pub, &user);
        if (!g) {
            busy++;
            k--;
            continue;
        }
        payload *p = user;
        uint64_t v = gk_publisher_version(sh.pub) + 1;
        size_t n, e;
        make_graph(v, &n, &e, ei, &p->checksum);
        failed += gk_graph_set_coo(g, n, e, ei, GK_INDEX_I32, NULL, NULL) != GK_OK;
        p->version = v;
        p->nodes = n;
        p->edges = e;
        failed += gk_publisher_commit(sh.pub) != v;
    }
    atomic_store_explicit(&sh.stop, 1, memory_order_release);
    long reads = 0, torn = 0, backwards = 0;
    for (int r = 0; r < READERS; r++) {
        pthread_join(threads[r], NULL);
        reads += sh.reads[r];
        torn += sh.torn[r];
        backwards += sh.backwards[r];
    }
    int ok = !torn && !backwards && !failed && !busy && reads > 0 &&
             gk_publisher_version(sh.pub) == (uint64_t)publications;
    printf("%s %ld publications, %d readers: %ld reads (%ld, %ld), %ld torn, "
           "%ld out of order, writer found no free slot %ld times, %ld build errors\n",
           ok ? "ok  " : "FAIL", publications, READERS, reads, sh.reads[0], sh.reads[1],
           torn, backwards, busy, failed);
    gk_publisher_free(sh.pub);
    gk_model_free(model);
    return ok ? 0 : 1;
}
