/* Returns for the demo: a deterministic multi-sector factor model, or a CSV
 * replayed in a loop. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tick.h"

struct market {
    size_t n;
    int sectors;
    uint64_t rng;
    uint64_t tick;
    int *sector;            /* [n]                                   */
    float *beta, *gamma, *sigma; /* [n] loadings and idiosyncratic vol */
    float *regime;          /* [sectors] current sector loading scale */
    int *halted;            /* [n] ticks left of a trading halt      */
    float *csv;             /* [rows, n] or NULL                     */
    size_t rows;
    char **names;           /* [n] from the CSV header, or NULL      */
};

static uint64_t next_u64(uint64_t *s) {  /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

static double gaussian(uint64_t *s) {
    double u = uniform(s), v = uniform(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

market *market_create(size_t n, int sectors, uint64_t seed) {
    market *m = calloc(1, sizeof *m);
    if (!m || n == 0 || sectors < 1 || sectors > 64) {
        free(m);
        return NULL;
    }
    m->n = n;
    m->sectors = sectors;
    m->rng = seed;
    m->sector = calloc(n, sizeof *m->sector);
    m->beta = calloc(n, sizeof *m->beta);
    m->gamma = calloc(n, sizeof *m->gamma);
    m->sigma = calloc(n, sizeof *m->sigma);
    m->halted = calloc(n, sizeof *m->halted);
    m->regime = calloc((size_t)sectors, sizeof *m->regime);
    if (!m->sector || !m->beta || !m->gamma || !m->sigma || !m->halted || !m->regime) {
        market_free(m);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        m->sector[i] = (int)(i * (size_t)sectors / n);
        m->beta[i] = (float)(0.5 + uniform(&m->rng));
        m->gamma[i] = (float)(0.5 + uniform(&m->rng));
        m->sigma[i] = (float)(0.004 + 0.012 * uniform(&m->rng));
    }
    for (int s = 0; s < sectors; s++) m->regime[s] = 1.0f;
    return m;
}

/* ---- CSV ------------------------------------------------------------------ */

static size_t count_cells(const char *line) {
    size_t cells = 1;
    for (const char *c = line; *c && *c != '\n' && *c != '\r'; c++) cells += *c == ',';
    return cells;
}

/* Parse one line of `n` cells into row; empty or bad cells are NaN. */
static void parse_row(char *line, size_t n, float *row) {
    char *c = line;
    for (size_t k = 0; k < n; k++) {
        char *end = c;
        float v = strtof(c, &end);
        while (*end == ' ') end++;
        row[k] = (end != c && (*end == ',' || *end == '\n' || *end == '\r' || !*end))
                     ? v : NAN;
        char *comma = strchr(c, ',');
        if (!comma) {
            for (size_t r = k + 1; r < n; r++) row[r] = NAN;
            return;
        }
        c = comma + 1;
    }
}

market *market_from_csv(const char *path, const char **why) {
    FILE *f = fopen(path, "r");
    if (!f) {
        *why = "cannot open the file";
        return NULL;
    }
    market *m = calloc(1, sizeof *m);
    char *line = NULL;
    size_t cap = 0, alloc_rows = 0;
    ssize_t len;
    int first = 1;
    *why = NULL;
    while (m && (len = getline(&line, &cap, f)) >= 0) {
        if (len == 0 || line[0] == '\n' || line[0] == '\r' || line[0] == '#') continue;
        if (first) {
            first = 0;
            m->n = count_cells(line);
            char *end;
            strtof(line, &end);
            if (end == line && line[0] != ',') {  /* a header: keep the names */
                m->names = calloc(m->n, sizeof *m->names);
                char *save = NULL, *tok = strtok_r(line, ",\r\n", &save);
                for (size_t k = 0; tok && k < m->n; k++, tok = strtok_r(NULL, ",\r\n", &save))
                    m->names[k] = strdup(tok);
                continue;
            }
        }
        if (m->rows == alloc_rows) {
            alloc_rows = alloc_rows ? 2 * alloc_rows : 1024;
            float *grown = realloc(m->csv, alloc_rows * m->n * sizeof *grown);
            if (!grown) {
                *why = "out of memory";
                break;
            }
            m->csv = grown;
        }
        parse_row(line, m->n, m->csv + m->rows * m->n);
        m->rows++;
    }
    free(line);
    fclose(f);
    if (m && !*why && (m->rows < 2 || m->n < 2)) *why = "need >= 2 assets and >= 2 rows";
    if (!m || *why) {
        if (!*why) *why = "out of memory";
        market_free(m);
        return NULL;
    }
    return m;
}

/* ---- ticks ------------------------------------------------------------------ */

size_t market_assets(const market *m) { return m->n; }
int market_sector(const market *m, size_t i) { return m->csv ? -1 : m->sector[i]; }
const char *market_name(const market *m, size_t i) {
    return m->names && i < m->n ? m->names[i] : NULL;
}

void market_next(market *m, float *r) {
    uint64_t t = m->tick++;
    if (m->csv) {
        memcpy(r, m->csv + (t % m->rows) * m->n, m->n * sizeof *r);
        return;
    }
    if (t % 2000 == 0)  /* a new regime: sectors tighten or loosen */
        for (int s = 0; s < m->sectors; s++)
            m->regime[s] = (float)(0.2 + 1.6 * uniform(&m->rng));
    double f_market = 0.008 * gaussian(&m->rng), f_sector[64];
    for (int s = 0; s < m->sectors; s++)
        f_sector[s % 64] = 0.008 * gaussian(&m->rng) * m->regime[s];
    for (size_t i = 0; i < m->n; i++) {
        if (m->halted[i] == 0 && uniform(&m->rng) < 2e-6) m->halted[i] = 50;
        if (m->halted[i] > 0) {  /* a trading halt: no data for 50 ticks */
            m->halted[i]--;
            r[i] = NAN;
            continue;
        }
        r[i] = (float)(0.0002 + m->beta[i] * f_market +
                       m->gamma[i] * f_sector[m->sector[i] % 64] +
                       m->sigma[i] * gaussian(&m->rng));
    }
}

void market_free(market *m) {
    if (!m) return;
    free(m->sector);
    free(m->beta);
    free(m->gamma);
    free(m->sigma);
    free(m->halted);
    free(m->regime);
    free(m->csv);
    for (size_t k = 0; m->names && k < m->n; k++) free(m->names[k]);
    free(m->names);
    free(m);
}
