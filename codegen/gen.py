#!/usr/bin/env python3
"""Generate graphkern's specialized GAT and GATv2 kernels and their registry.

Reads a shapes file (TOML, see codegen/shapes.toml) plus optional model files
(safetensors with graphkern metadata, docs/model-format.md), renders the Jinja2
templates in templates/ for every ISA, and writes C sources and
gk_registry.inc into the output directory. See docs/codegen.md.

    python3 codegen/gen.py --out generated                 # the default set
    python3 codegen/gen.py --model M.safetensors --out DIR # add a model's shapes
    python3 codegen/gen.py --check generated               # fail if stale
    python3 codegen/gen.py --list --out DIR                # files it would write
"""
import argparse
import glob
import itertools
import json
import os
import struct
import sys
import tomllib
from dataclasses import dataclass

try:
    import jinja2
except ImportError:  # CMake checks this first and says what to install
    sys.exit("gen.py needs Jinja2: apt-get install python3-jinja2 (or pip install jinja2)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(ROOT, "templates")
DEFAULT_SHAPES = os.path.join(ROOT, "codegen", "shapes.toml")


ISA_TABLE = os.path.join(ROOT, "codegen", "isas.toml")
LAYOUT_RULE = os.path.join(ROOT, "codegen", "layout.toml")


# ---- the column layout (codegen/layout.toml) --------------------------------

def load_layout():
    with open(LAYOUT_RULE, "rb") as f:
        return tomllib.load(f)


LAYOUT = load_layout()


def layout_values(kind, **flags):
    """Every name of layout.toml's [common] and [kind] tables for one layer
    (heads, channels, concat, residual, share_weights as ints)."""
    env = dict(flags)
    for table in ("common", kind):
        for name, expr in LAYOUT[table].items():
            try:
                env[name] = int(eval(expr, {"__builtins__": {}}, env))  # trusted file
            except Exception as e:  # a typo in the file: say where
                sys.exit(f"{LAYOUT_RULE}: [{table}] {name} = {expr!r}: {e}")
    return env


def padded(cols):
    """cols rounded up to the layout's row alignment (gk_t_stride())."""
    a = LAYOUT["align"]
    return (cols + a - 1) // a * a


@dataclass(frozen=True, order=True)
class GatKey:
    """One GATConv layer shape: everything a kernel is specialized on."""
    f_in: int
    heads: int
    channels: int
    edge_dim: int
    concat: bool
    residual: bool

    @property
    def out_width(self):
        return self.heads * self.channels if self.concat else self.channels

    @property
    def t_stride(self):
        return padded(layout_values("gat", heads=self.heads, channels=self.channels,
                                    concat=int(self.concat), residual=int(self.residual),
                                    share_weights=0)["cols"])


@dataclass(frozen=True, order=True)
class Gatv2Key:
    """One GATv2Conv layer shape. The aggregation is specialized on (heads,
    channels, edge_dim, concat); share_weights and residual only move the
    columns of t (col_xr, col_res, read at run time) and size the transform."""
    f_in: int
    heads: int
    channels: int
    edge_dim: int
    concat: bool
    share_weights: bool
    residual: bool

    @property
    def out_width(self):
        return self.heads * self.channels if self.concat else self.channels

    @property
    def t_stride(self):
        return padded(layout_values("gatv2", heads=self.heads, channels=self.channels,
                                    concat=int(self.concat), residual=int(self.residual),
                                    share_weights=int(self.share_weights))["cols"])


@dataclass(frozen=True, order=True)
class DenseKey:
    """A dense product y = x·W (+ b) of a whole model's linear op or RNN gate
    product: served by the transform kernel of its width (output padded to
    the layout's alignment), which takes any f_in."""
    f_in: int
    out: int

    @property
    def t_stride(self):
        return padded(self.out)


# ---- the ISA table (codegen/isas.toml) ----------------------------------------

@dataclass(frozen=True)
class Isa:
    """One row of codegen/isas.toml (its comments say what each field is);
    `guard` is the preprocessor test of its architecture (None: any)."""
    name: str
    id: str
    arch: str
    parent: str
    cpu: tuple
    target: str
    helpers: str
    lanes: int
    wide: int
    acc_regs: int
    head_max: int
    simd: bool
    guard: str

    @property
    def hv_max(self):
        return self.head_max

    def channel_lanes(self, c):
        """Lanes of the channel vectors: the widest that divides C; 1 (scalar
        accumulators, templates/isa/v1.h.j2) when C is not a multiple of 4."""
        for w in (16, 8, 4):
            if w <= self.lanes and c % w == 0:
                return w
        return 1

    def head_lanes(self, h):
        for w in (4, 8, 16):
            if h <= w <= self.head_max:
                return w
        return 0

    def supports(self, key):
        """SIMD kernels need the heads within a vector (any channel count)."""
        return self.head_lanes(key.heads) > 0


def load_isa_table(path=ISA_TABLE):
    """{name: Isa} in the table's order (best first) and {arch: its table}."""
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    arches = cfg.get("arch", {})
    isas = {}
    required = ("name", "id", "arch", "lanes", "wide", "acc_regs", "head_max", "simd")
    for n, row in enumerate(cfg.get("isa", [])):
        missing = [f for f in required if f not in row]
        if missing:
            sys.exit(f"{path}: ISA row {n + 1} ({row.get('name', '?')}): missing {', '.join(missing)}")
        arch = row["arch"]
        if arch != "any" and arch not in arches:
            sys.exit(f"{path}: ISA {row['name']}: unknown arch {arch!r}")
        isas[row["name"]] = Isa(
            name=row["name"], id=row["id"], arch=arch, parent=row.get("parent", ""),
            cpu=tuple(row.get("cpu", [])), target=row.get("target", ""),
            helpers=row.get("helpers", ""), lanes=int(row["lanes"]), wide=int(row["wide"]),
            acc_regs=int(row["acc_regs"]), head_max=int(row["head_max"]),
            simd=bool(row["simd"]),
            guard=arches[arch]["guard"] if arch != "any" else None)
    for isa in isas.values():
        if isa.parent and isa.parent not in isas:
            sys.exit(f"{path}: ISA {isa.name}: unknown parent {isa.parent!r}")
    return isas, arches


ISAS, ARCHES = load_isa_table()
SIMD = {name: isa for name, isa in ISAS.items() if isa.simd}


def split(n, parts):
    """n items in `parts` nearly equal consecutive blocks: [(start, len)]."""
    out, start = [], 0
    for p in range(parts):
        size = n // parts + (1 if p < n % parts else 0)
        out.append((start, size))
        start += size
    return out


def row_tiles(mr):
    """Row tile sizes of a transform: mr, then halves down to 1 (each a loop,
    so any remainder of rows is covered)."""
    sizes = [mr]
    while sizes[-1] > 1:
        sizes.append(sizes[-1] // 2)
    return sizes


TRANSFORM_UNROLL = 4  # the runtime loop over F_in, unrolled this many times


def transform_plan(isa, ts):
    """Register tiling of t = x·W for output width ts, any F_in (a runtime k
    loop, as XNNPACK's/BLIS's GEMM microkernels): r rows x nr vectors of
    accumulators per column block, for every row tile r of row_tiles(mr).
    The full tile keeps mr·nr <= acc_regs; smaller row tiles take wider
    column blocks (fewer passes over x), up to twice nr_max."""
    lanes = isa.lanes
    nv = ts // lanes
    nr_max = 6 if lanes == 16 else 4
    blocks = split(nv, -(-nv // nr_max))
    nr = max(b[1] for b in blocks)
    mr = max(1, min(8 if lanes == 16 else 6, isa.acc_regs // nr))
    tiles = []
    for r in row_tiles(mr):
        cap = nr_max if r == mr else min(2 * nr_max, isa.acc_regs // r)
        tiles.append((r, split(nv, -(-nv // cap))))
    return dict(ts=ts, W=lanes, tiles=tiles, U=TRANSFORM_UNROLL,
                name=f"gk_f32_gat_transform_c{ts}_{mr}x{nr * lanes}_u{TRANSFORM_UNROLL}"
                     f"__{isa.name}")


# Layers of at most this many columns (one head of one channel: h, s_src,
# s_dst; Linear heads of 1..4 outputs) in a width-16 t also get a narrow
# transform: dot products per column (src/plan/registry.c picks it by the
# key (16, NARROW_COLS)); F_in up to NARROW_KMAX (its columns' copy on the
# stack), the wide kernel past it.
NARROW_COLS = 4
NARROW_KMAX = 512


SCALAR_TRANSFORM_TILE = (2, 16)  # rows x columns: 8 SSE accumulators


def scalar_transform_plan(ts):
    """Portable C: tiles of 2 rows x 16 columns with constant bounds, for the
    compiler to keep in (baseline SIMD) registers; a last row alone."""
    mr, nc = SCALAR_TRANSFORM_TILE
    return dict(ts=ts, MR=mr, NC=nc,
                name=f"gk_f32_gat_transform_c{ts}_{mr}x{nc}__scalar")


# Largest row block of the CSR aggregations; gk_row_scratch_floats()
# (src/kernels/generic.c) reserves GK_ROW_BLOCK (src/kernels/kernels.h) rows
# of head sums.
ROW_BLOCK = 16
# Complete graphs with edge features: at most this many target rows per
# tile. A tile keeps per source node, in row_scratch, its rows' weights
# (rows x padded heads), the source's scores (padded heads) and its edge
# features: at most GK_TILE_FLOATS_PER_NODE (src/kernels/kernels.h).
TILE_ROWS_MAX = 8
TILE_FLOATS_PER_NODE = 64


def agg_plan(isa, key):
    h, c = key.heads, key.channels
    w, hv = isa.channel_lanes(c), isa.head_lanes(h)
    nvc = c // w
    g = max(1, min(h, (isa.acc_regs - 4) // nvc))
    groups = [list(range(s, s + n)) for s, n in split(h, -(-h // g))]
    mode = "concat" if key.concat else "mean"
    # two accumulator sets (even/odd edges) when the largest group fits twice
    u = 2 if 2 * max(len(gr) for gr in groups) * nvc <= isa.acc_regs - 4 else 1
    # rows per block of the per-row steps (docs/codegen.md): 16, fewer when
    # the block's head sums (R·H·C floats) would pass 8 KiB of L1
    r = max(4, min(ROW_BLOCK, 2048 // (h * c)))
    # complete graphs with edge features: tiles of rt target rows share one
    # pass over the sources (docs/codegen.md, "Complete graphs with edge
    # features"); rt rows x H x NVC accumulators in registers, none below 2
    hp = pow2_at_least(h)
    rt = min(TILE_ROWS_MAX, isa.acc_regs // (h * nvc), r)
    # one head of 8 channels on 16 lanes: two rows per vector (their weights
    # interleaved by pairs), 16 rows so that 8 FMA chains hide the FMA
    # latency
    row_pairs = isa.lanes == 16 and h == 1 and c == 8
    if row_pairs:
        rt = min(2 * TILE_ROWS_MAX, r)
    if key.edge_dim == 0 or h * c == 1 or rt < 2:
        rt, row_pairs = 0, False
    assert rt * hp + hp + key.edge_dim <= TILE_FLOATS_PER_NODE, (h, c, rt)
    acc_off = (h * c + 15) // 16 * 16
    return dict(H=h, C=c, D=key.edge_dim, concat=key.concat, W=w, HV=hv, NVC=nvc,
                WMAX=isa.lanes, groups=groups, U=u, OW=key.out_width,
                R=r, ACC_OFF=acc_off, RT=rt, HP=hp, ROW_PAIRS=row_pairs,
                WT_OFF=(acc_off + r * h * c + 15) // 16 * 16,
                # e0: a chunk's weights through memory (separate loop) from 4
                # heads on: measured faster for H = 4, slower for H = 1
                WB=h >= 4,
                name=f"gk_f32_gat_agg_h{h}c{c}_e{key.edge_dim}_{mode}__{isa.name}",
                prepare=f"gk_f32_gat_prep_h{h}c{c}_e{key.edge_dim}__{isa.name}",
                complete=f"gk_f32_gat_agg_complete_h{h}c{c}_{mode}__{isa.name}",
                complete_prepare=f"gk_f32_gat_prep_complete_h{h}c{c}__{isa.name}",
                complete_edge=f"gk_f32_gat_agg_complete_h{h}c{c}_e{key.edge_dim}_{mode}"
                              f"__{isa.name}",
                e0_prepare=f"gk_f32_gat_prep_h{h}c{c}_e0__{isa.name}",
                e0_name=f"gk_f32_gat_agg_h{h}c{c}_e0_{mode}__{isa.name}")


def pow2_at_least(n):
    p = 1
    while p < n:
        p *= 2
    return p


def gatv2_plan(isa, key):
    """GATv2 aggregation on one ISA, or None if its logit layout does not fit
    a vector. The per-edge products att·lrelu(xl_j + xr_i + W_e·e) are built
    in "pieces" of up to WM lanes; the pieces of one segment vector are
    added, and segment vectors are summed lane-wise in segments of S lanes
    by a pairwise-sum tree (v*_pairsum): S vectors -> one vector of WM
    logits, in [edge][head] order, SEG logits per edge (heads padded).
    When H·C is half a vector (no edge features), a segment vector holds
    two edges (PACK = 2), so no lane is spent on padding: half the leaves
    and exp lanes."""
    h, c, d = key.heads, key.channels, key.edge_dim
    wm, hc = isa.wide, h * c
    pack = 1          # edges per segment vector
    if wm % c == 0:   # channels divide the vector: flat over H·C, segments of C
        s = c
        # H·C fills half a vector: two edges per vector (not with edge
        # features, whose per-edge weights then cost an insert: 3 % slower)
        if 2 * hc == wm and d == 0:
            pack = 2
        nv = -(-hc // wm)
        ns = pow2_at_least(nv)
        pieces = [(v * wm, min(wm, hc - v * wm), v) for v in range(nv)]
    else:             # a head per segment vector (its channels summed first)
        s = wm
        ns = pow2_at_least(h)
        pieces = [(hh * c + r * wm, min(wm, c - r * wm), hh)
                  for hh in range(h) for r in range(-(-c // wm))]
    seg = ns * wm // s // pack
    if seg > wm:
        return None
    # edges per chunk: ec·ns/pack segment vectors, a multiple of s
    ec = max(1, s // ns) * pack
    def tree(lo, hi, limit, ops):
        """Leaves [lo, hi) and their pairwise sums, depth first, appended to
        ops; a subtree of leaves all past limit (edges past a short chunk's
        end) is not built: its parent sums its sibling twice, so its lanes
        repeat real logits (no other value for the block's max)."""
        if lo >= limit:
            return None
        if hi - lo == 1:
            name = f"p{lo}"
            ops.append(("leaf", name, lo // ns, lo % ns))
            return name
        mid = (lo + hi) // 2
        a, b = tree(lo, mid, limit, ops), tree(mid, hi, limit, ops)
        name = f"q{lo}_{hi}"
        ops.append(("sum", name, a, b or a))
        return name
    ops, outs = [], []
    for o in range(ec * ns // pack // s):
        outs.append(tree(o * s, (o + 1) * s, s * (o + 1), ops))
    # A block's last edges take the shortest chunk that holds them, by
    # quarters: a top-16 row and its self loop (17 edges) pay for 17 or 20
    # edges' logits, not 20 or 32. tails: (edges, ops), ascending.
    tails = []
    if len(outs) == 1:
        for te in sorted({ec * q // 4 for q in (1, 2, 3)} - {0, ec}):
            if te * ns % pack == 0:
                tops = []
                tree(0, s, te * ns // pack, tops)
                tails.append((te, tops))
    w = isa.channel_lanes(c)
    mode = "concat" if key.concat else "mean"
    rot, n = [], wm // 2  # rotations that gather a head's lanes: wm/2 ... seg
    while n >= seg:
        rot.append(n)
        n //= 2
    return dict(H=h, C=c, D=d, concat=key.concat, W=w, NVC=c // w, OW=key.out_width,
                WM=wm, S=s, NS=ns, SEG=seg, EC=ec, PACK=pack, TAILS=tails, pieces=pieces, ops=ops, outs=outs, ROT=rot,
                U2=h * (c // w) <= 4,  # few accumulators: two sets, edges in pairs
                name=f"gk_f32_gatv2_agg_h{h}c{c}_e{d}_{mode}__{isa.name}")


def scalar_agg_plan(key):
    class Scalar:  # names only; portable kernels loop over constant bounds
        name = "scalar"
    p = dict(H=key.heads, C=key.channels, D=key.edge_dim, concat=key.concat,
             OW=key.out_width)
    mode = "concat" if key.concat else "mean"
    h, c, d = key.heads, key.channels, key.edge_dim
    p.update(name=f"gk_f32_gat_agg_h{h}c{c}_e{d}_{mode}__scalar",
             prepare=f"gk_f32_gat_prep_h{h}c{c}_e{d}__scalar",
             complete=f"gk_f32_gat_agg_complete_h{h}c{c}_{mode}__scalar",
             complete_prepare=f"gk_f32_gat_prep_complete_h{h}c{c}__scalar",
             e0_prepare=f"gk_f32_gat_prep_h{h}c{c}_e0__scalar",
             e0_name=f"gk_f32_gat_agg_h{h}c{c}_e0_{mode}__scalar")
    return p


# ---- inputs -------------------------------------------------------------------

def model_layers(path, meta):
    """The conv layer objects of a format-1 (layers) or format-2 (ops) model;
    a note for each format-2 op that no generated kernel serves."""
    if meta.get("version") == 2:
        layers = []
        for op in meta.get("ops", []):
            if op.get("op") in ("GATConv", "GATv2Conv"):
                layers.append(dict(op, type=op["op"]))
            elif op.get("op") == "linear":
                layers.append({"type": "dense", "f_in": op["in_features"],
                               "out": op["out_features"]})
            elif op.get("op") in ("lstm", "gru", "lstm_cell", "gru_cell"):
                gates = 4 if op["op"].startswith("lstm") else 3
                h = int(op["hidden_size"])
                width = h * (2 if op.get("bidirectional") else 1)
                ins = {int(op["input_size"]), h}
                if int(op.get("num_layers", 1)) > 1:
                    ins.add(width)
                layers += [{"type": "dense", "f_in": i, "out": gates * h} for i in ins]
        return layers
    return meta.get("layers")


def read_model_keys(path):
    """GATConv, GATv2Conv and dense keys of a graphkern safetensors model
    (header only)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = json.loads(header.get("__metadata__", {}).get("graphkern", "null") or "null")
    layers = model_layers(path, meta) if isinstance(meta, dict) else None
    if layers is None:
        sys.exit(f"{path}: no graphkern metadata (docs/model-format.md)")
    keys = []
    for layer in layers:
        if layer.get("type") == "dense":
            keys.append(DenseKey(int(layer["f_in"]), int(layer["out"])))
            continue
        if layer.get("type") == "GATv2Conv":
            keys.append(Gatv2Key(int(layer["in_channels"]), int(layer.get("heads", 1)),
                                 int(layer["out_channels"]), int(layer.get("edge_dim") or 0),
                                 bool(layer.get("concat", True)),
                                 bool(layer.get("share_weights", False)),
                                 bool(layer.get("residual", False))))
            continue
        if layer.get("type") != "GATConv":
            print(f"note: {path}: {layer.get('name')} is {layer.get('type')}: "
                  "generic path, not specialized", file=sys.stderr)
            continue
        heads = int(layer.get("heads", 1))
        keys.append(GatKey(int(layer["in_channels"]), heads, int(layer["out_channels"]),
                           int(layer.get("edge_dim") or 0), bool(layer.get("concat", True)),
                           bool(layer.get("residual", False))))
    return keys


def read_shapes(path):
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    keys = set()
    g = cfg.get("grid")
    if g:
        for f_in, h, c, d, cc, r in itertools.product(
                g["f_in"], g["heads"], g["channels"], g["edge_dim"], g["concat"],
                g.get("residual", [False])):
            keys.add(GatKey(f_in, h, c, d, cc, r))
    for e in cfg.get("gat", []):
        keys.add(GatKey(e["f_in"], e["heads"], e["channels"], e.get("edge_dim", 0),
                        e.get("concat", True), e.get("residual", False)))
    for e in cfg.get("gatv2", []):
        keys.add(Gatv2Key(e["f_in"], e["heads"], e["channels"], e.get("edge_dim", 0),
                          e.get("concat", True), e.get("share_weights", False),
                          e.get("residual", False)))
    for e in cfg.get("linear", []):   # whole models' linear ops: in -> out features
        keys.add(DenseKey(e["in_features"], e["out_features"]))
    base = os.path.dirname(os.path.abspath(path))
    models = []
    for pattern in cfg.get("models", {}).get("files", []):
        models += sorted(glob.glob(os.path.join(base, pattern)))
    isas = tuple(cfg.get("isas", ISAS))
    unknown = [i for i in isas if i not in ISAS]
    if unknown:
        sys.exit(f"{path}: isas: {unknown} not in codegen/isas.toml ({', '.join(ISAS)})")
    return keys, models, isas, cfg.get("dense_nodes", [])


# ---- rendering ------------------------------------------------------------------

# The registry's kernel kinds ("ops", src/plan/registry.h): every row is
# (op, ISA, key of up to 4 ints, function).
OPS = ("TRANSFORM", "GAT_PREPARE", "GAT_AGG", "GAT_COMPLETE_PREPARE", "GAT_COMPLETE",
       "GATV2_AGG", "VEXP", "VEXPM1_NEG")

GENERATED_MARK = "/* Generated by codegen/gen.py"


def render_all(keys, isa_names, command):
    """{relative path: text} of every generated file: one C file per kernel
    (in a directory per family), the helper header of each ISA, the
    registry, the ISA table, the layout rule and CMake's source list."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             extensions=["jinja2.ext.do"])
    files, rows, sources = {}, [], {}

    def emit(template, out, isa=None, **ctx):
        # The lists name the command that made them; a kernel's file does
        # not, so that it reads the same whatever else was generated.
        how = command if out in ("gk_registry.inc", "sources.cmake") else "python3 codegen/gen.py"
        header = (f"{GENERATED_MARK} from templates/{template}: do not edit.\n"
                  f" * Regenerate: {how} (docs/codegen.md). */\n")
        if out.endswith(".cmake"):
            header = (f"# {GENERATED_MARK[3:]} from templates/{template}: do not edit.\n"
                      f"# Regenerate: {how} (docs/codegen.md).\n")
        if isa is not None:
            ctx.update(isa=isa.name, I=isa, WM=f"v{isa.wide}", LM=isa.wide,
                       isa_header=f"isa/gk_isa_{isa.name}.h")
        body = env.get_template(template).render(**ctx)
        if isa is not None and isa.guard:  # compiled only where the ISA exists
            body = f"#if {isa.guard}\n{body}#endif /* {isa.guard} */\n"
        files[out] = header + body
        if out.endswith(".c"):
            sources.setdefault(isa.name, []).append(out)

    def kernel(family, template, isa, name, op, key, **ctx):
        """One kernel: its own file and its registry row."""
        emit(template, f"{family}/{name.removeprefix('gk_f32_')}.c", isa, **ctx)
        rows.append((op, isa, tuple(key) + (0,) * (4 - len(key)), name))

    for isa_name in isa_names:
        isa = ISAS[isa_name]
        fam = "simd" if isa.simd else "scalar"
        if isa.simd:
            emit("isa/header.h.j2", f"isa/gk_isa_{isa.name}.h", isa)
            emit("support_simd.c.j2", f"support/support__{isa.name}.c", isa)
            rows.append(("VEXP", isa, (0, 0, 0, 0), f"gk_f32_vexp__{isa.name}"))
            rows.append(("VEXPM1_NEG", isa, (0, 0, 0, 0), f"gk_f32_vexpm1_neg__{isa.name}"))
        # transforms: one per output width t_stride, any F_in (GAT/GATv2
        # layers and dense products alike)
        for ts in sorted({k.t_stride for k in keys}):
            p = transform_plan(isa, ts) if isa.simd else scalar_transform_plan(ts)
            kernel("gat_transform", f"gat_transform_{fam}.c.j2", isa, p["name"],
                   "TRANSFORM", (ts,), kernels=[p])
            if isa.simd and ts == 16:  # layers of at most NARROW_COLS columns
                n = dict(W=isa.lanes, NC=NARROW_COLS, KMAX=NARROW_KMAX, wide=p["name"], NVMAX=4,
                         name=f"gk_f32_gat_transform_c16_narrow{NARROW_COLS}__{isa.name}")
                kernel("gat_transform", "gat_transform_narrow_simd.c.j2", isa, n["name"],
                       "TRANSFORM", (ts, NARROW_COLS), kernels=[n])
        # aggregations: one per (H, C, D, concat); prepares per (H, C, D)
        keys_gat = [k for k in keys if isinstance(k, GatKey)]
        akeys = sorted({(k.heads, k.channels, k.edge_dim, k.concat) for k in keys_gat})
        plans = []
        for h, c, d, cc in akeys:
            k = GatKey(0, h, c, d, cc, False)
            if isa.simd and not isa.supports(k):
                continue
            plans.append(agg_plan(isa, k) if isa.simd else scalar_agg_plan(k))
        for fam_name, sel in (("e0", lambda p: p["D"] == 0), ("edge", lambda p: p["D"] > 0)):
            family, template = f"gat_agg_{fam_name}", f"gat_agg_{fam_name}_{fam}.c.j2"
            ks = [p for p in plans if sel(p)]
            for p in {p["prepare"]: p for p in ks}.values():
                kernel(family, template, isa, p["prepare"], "GAT_PREPARE",
                       (p["H"], p["C"], p["D"]), kernels=[], prepares=[p], tiles=[])
            for p in ks:
                kernel(family, template, isa, p["name"], "GAT_AGG",
                       (p["H"], p["C"], p["D"], int(p["concat"])), kernels=[p], prepares=[],
                       tiles=[])
            for p in ks:
                if p.get("RT"):  # complete graphs with edge features
                    tile = dict(p, name=p["complete_edge"], csr_name=p["name"])
                    kernel(family, template, isa, tile["name"], "GAT_COMPLETE",
                           (p["H"], p["C"], int(p["concat"]), p["D"]), kernels=[],
                           prepares=[], tiles=[tile])
        ks = [p for p in plans if p["D"] == 0]
        template = f"gat_complete_{fam}.c.j2"
        for p in {p["complete_prepare"]: p for p in ks}.values():
            kernel("gat_complete", template, isa, p["complete_prepare"],
                   "GAT_COMPLETE_PREPARE", (p["H"], p["C"]), kernels=[], prepares=[p])
        for p in ks:
            kernel("gat_complete", template, isa, p["complete"], "GAT_COMPLETE",
                   (p["H"], p["C"], int(p["concat"])), kernels=[dict(p, name=p["complete"])],
                   prepares=[])
        # GATv2 aggregations: one per (H, C, D, concat)
        v2keys = sorted({(k.heads, k.channels, k.edge_dim, k.concat)
                         for k in keys if isinstance(k, Gatv2Key)})
        for h, c, d, cc in v2keys:
            k = Gatv2Key(0, h, c, d, cc, False, False)
            p = gatv2_plan(isa, k) if isa.simd else dict(
                H=h, C=c, D=d, concat=cc, OW=k.out_width,
                name=f"gk_f32_gatv2_agg_h{h}c{c}_e{d}_{'concat' if cc else 'mean'}__scalar")
            if p is None or (isa.simd and h > isa.head_max):
                continue
            kernel("gatv2_agg", f"gatv2_agg_{fam}.c.j2", isa, p["name"], "GATV2_AGG",
                   (h, c, d, int(cc)), kernels=[p])

    def guarded(rows):
        """Consecutive rows of one architecture as (guard or None, rows)."""
        blocks = []
        for row in rows:
            guard = row[1].guard
            if not blocks or blocks[-1][0] != guard:
                blocks.append((guard, []))
            blocks[-1][1].append(row)
        return blocks
    rows.sort(key=lambda r: (OPS.index(r[0]), list(ISAS).index(r[1].name), r[2]))
    emit("gk_registry.inc.j2", "gk_registry.inc", reg=guarded(rows), ops=OPS)
    emit("gk_isas.inc.j2", "gk_isas.inc", rows=[dict(
        id=i.id, name=i.name, parent=ISAS[i.parent].id if i.parent else "GENERIC",
        arch=i.arch.upper(), lanes=i.lanes,
        cpu=" | ".join(f"GK_CPU_{c.upper()}" for c in i.cpu) or "0") for i in ISAS.values()])
    emit("gk_layout.h.j2", "gk_layout.h", layout=LAYOUT)
    emit("sources.cmake.j2", "sources.cmake", isas=[ISAS[n] for n in isa_names],
         arches=ARCHES, sources={i: sorted(sources.get(i, [])) for i in isa_names})
    return files


def stale_outputs(out_dir, files):
    """Files under out_dir that an earlier run generated (they carry the
    generator's mark) and this run does not: kernels of removed shapes."""
    stale = []
    for base, _, names in os.walk(out_dir):
        for name in names:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, out_dir)
            if rel in files or name.startswith("."):
                continue
            with open(path, errors="replace") as f:
                head = f.read(len(GENERATED_MARK) + 4)
            if GENERATED_MARK[3:] in head:
                stale.append(rel)
    return sorted(stale)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", action="append", default=[],
                    help="shapes file (TOML); default codegen/shapes.toml")
    ap.add_argument("--model", action="append", default=[],
                    help="safetensors model whose GATConv/GATv2Conv layers add their shapes")
    ap.add_argument("--out", default=os.path.join(ROOT, "generated"),
                    help="output directory (default: generated/)")
    ap.add_argument("--check", metavar="DIR",
                    help="regenerate to a temp dir and fail if DIR differs")
    ap.add_argument("--list", action="store_true", help="print the files it writes")
    ap.add_argument("--summary", action="store_true", help="print the keys")
    args = ap.parse_args()

    shapes = args.shapes or [DEFAULT_SHAPES]
    keys, models, isas = set(), [], None
    for s in shapes:
        k, m, i, _ = read_shapes(s)
        keys |= k
        models += m
        isas = isas or i
    for m in models + args.model:
        keys |= set(read_model_keys(m))

    def rel(p):
        return os.path.relpath(os.path.abspath(p), ROOT)
    command = "python3 codegen/gen.py"
    if args.shapes:
        command += "".join(f" --shapes {rel(s)}" for s in args.shapes)
    command += "".join(f" --model {rel(m)}" for m in args.model)
    command += " --out " + ("generated" if args.check else rel(args.out))
    files = render_all(sorted(keys, key=lambda k: (type(k).__name__, k)), isas, command)

    if args.summary:
        for k in sorted(keys, key=lambda k: (type(k).__name__, k)):
            print(k)
    if args.list:
        for name in sorted(files):
            print(os.path.join(args.out, name))
        return 0
    if args.check:
        def differs(name):
            path = os.path.join(args.check, name)
            if not os.path.exists(path):
                return True
            with open(path) as f:
                return f.read() != files[name]
        changed = sorted(n for n in files if differs(n))
        extra = stale_outputs(args.check, files) if os.path.isdir(args.check) else []
        if changed or extra:
            print(f"{args.check} is stale: differs {changed[:10]}"
                  f"{' ...' if len(changed) > 10 else ''}, no longer generated {extra[:10]}; "
                  "run: python3 codegen/gen.py --out generated", file=sys.stderr)
            return 1
        print(f"{args.check}: up to date ({len(files)} files)")
        return 0
    os.makedirs(args.out, exist_ok=True)
    written = 0
    for name, text in files.items():
        path = os.path.join(args.out, name)
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old != text:  # keep timestamps of unchanged files: no needless rebuilds
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            written += 1
    removed = stale_outputs(args.out, files)
    for name in removed:  # kernels of shapes no longer listed
        os.remove(os.path.join(args.out, name))
    if written or removed:
        print(f"gen.py: {args.out}: {len(files)} files, {written} written, "
              f"{len(removed)} removed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
