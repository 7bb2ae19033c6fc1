/* Lock-free publication of graphs: one writer, many readers.
 *
 * Preallocated slots, an atomic `latest` index and one atomic reader count
 * per slot. The protocol (all four accesses seq_cst, so that one of the two
 * sides always sees the other):
 *
 *   writer: pick s != latest with readers[s] == 0   (load readers[s])
 *           rebuild slot s                          (plain writes)
 *           latest = s                              (store, release)
 *   reader: s = latest; readers[s]++                (fetch_add)
 *           if latest != s: readers[s]--, retry     (load, acquire)
 *           read slot s; readers[s]--               (fetch_sub, release)
 *
 * If the writer saw readers[s] == 0 before the reader's increment, the
 * writer had already moved latest away from s, so the reader's re-check
 * fails and it never reads s while it is being rewritten. If the increment
 * came first, the writer skips s. The release/acquire pairs make the slot's
 * contents visible to the reader and the reader's reads finished before the
 * writer reuses the slot. */
#include <stdatomic.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "model.h"

typedef struct pub_slot {
    _Alignas(64) atomic_int readers;
    uint64_t version;          /* written by the writer before publication */
    gk_graph *graph;
    void *user;
} pub_slot;

struct gk_publisher {
    _Alignas(64) atomic_int latest;    /* -1 until the first commit        */
    _Alignas(64) atomic_uint_fast64_t version;
    int writing;                       /* writer-only state                */
    int num_slots;
    pub_slot *slots;
};

gk_status gk_publisher_create(const gk_model *model, size_t max_nodes,
                              size_t max_edges, int slots, size_t user_bytes,
                              gk_publisher **out, gk_error *err) {
    if (!model || !out) return gk_fail(err, GK_EINVAL, "gk_publisher_create: NULL argument");
    *out = NULL;
    if (slots < 3 || slots > 1024)
        return gk_fail(err, GK_EINVAL, "gk_publisher_create: slots = %d, need 3..1024",
                       slots);
    /* each slot's graph would refuse these, but only after the slots before
     * it were allocated */
    gk_status st = gk_graph_check_capacity(model, max_nodes, max_edges,
                                           "gk_publisher_create", err);
    if (st != GK_OK) return st;
    gk_publisher *p = gk_alloc(sizeof *p);
    if (!p) return gk_fail(err, GK_ENOMEM, "gk_publisher_create: out of memory");
    atomic_init(&p->latest, -1);
    atomic_init(&p->version, 0);
    p->writing = -1;
    p->slots = gk_calloc_array((size_t)slots, sizeof *p->slots);
    st = p->slots ? GK_OK : gk_fail(err, GK_ENOMEM, "gk_publisher_create: "
                                    "out of memory");
    for (int s = 0; st == GK_OK && s < slots; s++) {
        pub_slot *slot = &p->slots[s];
        p->num_slots = s + 1;
        atomic_init(&slot->readers, 0);
        st = gk_graph_create(model, max_nodes, max_edges, &slot->graph, err);
        if (st == GK_OK && !(slot->user = gk_alloc(user_bytes)))
            st = gk_fail(err, GK_ENOMEM, "gk_publisher_create: out of memory");
    }
    if (st != GK_OK) {
        gk_publisher_free(p);
        return st;
    }
    *out = p;
    gk_ok(err);
    return GK_OK;
}

void gk_publisher_free(gk_publisher *p) {
    if (!p) return;
    for (int s = 0; p->slots && s < p->num_slots; s++) {
        gk_graph_free(p->slots[s].graph);
        gk_free(p->slots[s].user);
    }
    gk_free(p->slots);
    gk_free(p);
}

gk_graph *gk_publisher_begin(gk_publisher *p, void **user) {
    if (user) *user = NULL;
    if (!p) return NULL;
    int latest = atomic_load_explicit(&p->latest, memory_order_relaxed);  /* ours */
    int start = p->writing >= 0 ? p->writing : latest + 1;
    for (int k = 0; k < p->num_slots; k++) {
        int s = (start + k + p->num_slots) % p->num_slots;
        if (s == latest || atomic_load(&p->slots[s].readers) != 0) continue;
        p->writing = s;
        if (user) *user = p->slots[s].user;
        return p->slots[s].graph;
    }
    p->writing = -1;
    return NULL;
}

uint64_t gk_publisher_commit(gk_publisher *p) {
    if (!p || p->writing < 0) return 0;
    uint64_t v = atomic_load_explicit(&p->version, memory_order_relaxed) + 1;
    p->slots[p->writing].version = v;
    atomic_store(&p->latest, p->writing);
    atomic_store_explicit(&p->version, v, memory_order_release);
    p->writing = -1;
    return v;
}

int gk_publisher_acquire(gk_publisher *p, gk_snapshot *snap) {
    if (!p || !snap) return 0;
    for (;;) {
        int s = atomic_load(&p->latest);
        if (s < 0) return 0;
        pub_slot *slot = &p->slots[s];
        atomic_fetch_add(&slot->readers, 1);
        if (atomic_load(&p->latest) == s) {
            snap->graph = slot->graph;
            snap->user = slot->user;
            snap->version = slot->version;
            snap->slot = s;
            return 1;
        }
        atomic_fetch_sub_explicit(&slot->readers, 1, memory_order_release);
    }
}

void gk_publisher_release(gk_publisher *p, const gk_snapshot *snap) {
    if (!p || !snap || snap->slot < 0 || snap->slot >= p->num_slots) return;
    atomic_fetch_sub_explicit(&p->slots[snap->slot].readers, 1, memory_order_release);
}

uint64_t gk_publisher_version(const gk_publisher *p) {
    return p ? atomic_load_explicit(&((gk_publisher *)p)->version, memory_order_acquire)
             : 0;
}
