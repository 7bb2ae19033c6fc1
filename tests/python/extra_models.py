"""Whole models beyond the six fixtures, written as users write them: other
encoders (GRU, GRUCell, stacked LSTM), other heads (log_softmax across
assets, s^2 / sum s^2 portfolio weights, a selected node), BatchNorm after a
Linear, PyG's GAT class with GATv2 and its graph LayerNorm, several edge
sets, masks and elementwise arithmetic. Each entry: a builder of the module
and a maker of example inputs for n nodes (seeded). Needs torch and PyG.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import (GATConv, GATv2Conv, MessagePassing, global_add_pool,
                                global_max_pool, global_mean_pool)
from torch_geometric.nn.models import GAT


def topk_graph(n, k, gen):
    """k random sources per target, no self loops, as [2, n*k] int64."""
    src, dst = [], []
    for i in range(n):
        others = torch.randperm(n - 1, generator=gen)[:k]
        others = others + (others >= i).long()
        src += others.tolist()
        dst += [i] * k
    return torch.tensor([src, dst], dtype=torch.long)


def features(n, f, gen):
    return torch.randn(n, f, generator=gen)


class GruGatv2Weights(nn.Module):
    """x [N, T, F] -> 2-layer GRU (time first) -> GATv2Conv (shared weights,
    1-D edge weight) -> softplus -> weights s^2 / sum s^2."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 12, num_layers=2)
        self.conv = GATv2Conv(12, 6, heads=2, edge_dim=1, share_weights=True)
        self.head = nn.Linear(12, 1)

    def forward(self, x, edge_index, edge_weight):
        _, h_n = self.gru(x.transpose(0, 1))
        h = F.softplus(self.conv(h_n[-1], edge_index, edge_weight))
        s = self.head(h).squeeze(-1)
        return s ** 2 / (s ** 2).sum()


def gru_inputs(n, gen):
    ei = topk_graph(n, 5, gen)
    return (torch.randn(n, 7, 4, generator=gen), ei,
            torch.rand(ei.shape[1], generator=gen) * 2 - 1)


class EdgeGatBnHead(nn.Module):
    """GATConv with 2 edge features (fill 'add', heads averaged), LeakyReLU,
    an MLP with BatchNorm after its Linear (folded), tanh, log_softmax across
    assets."""

    def __init__(self):
        super().__init__()
        self.conv = GATConv(8, 10, heads=3, concat=False, edge_dim=2, fill_value="add")
        self.mlp = nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.Tanh(),
                                 nn.Dropout(0.5), nn.Linear(16, 1))

    def forward(self, x, edge_index, edge_attr):
        h = F.leaky_relu(self.conv(x, edge_index, edge_attr), 0.1)
        return torch.log_softmax(self.mlp(h).view(-1), dim=0)


def edge_inputs(n, gen):
    ei = topk_graph(n, 6, gen)
    return features(n, 8, gen), ei, torch.randn(ei.shape[1], 2, generator=gen)


def pyg_gatv2_class():
    return GAT(6, 16, num_layers=2, out_channels=3, v2=True, heads=2, norm="layer_norm",
               jk="max", act="leaky_relu")


def plain_inputs(f):
    def make(n, gen):
        return features(n, f, gen), topk_graph(n, 4, gen)
    return make


class SelectedNodeAndPools(nn.Module):
    """A graph-level output from one selected node (the index asset, row 0)
    and sum/max/mean pools, through a sigmoid."""

    def __init__(self):
        super().__init__()
        self.conv = GATConv(5, 8, heads=2)
        self.out = nn.Linear(64, 1)

    def forward(self, x, edge_index):
        h = F.elu(self.conv(x, edge_index))
        g = torch.cat([h[0].unsqueeze(0), global_add_pool(h, None),
                       global_max_pool(h, None), global_mean_pool(h, None)], dim=-1)
        return torch.sigmoid(self.out(g))


class MaskArithmetic(nn.Module):
    """A fixed feature mask (a buffer), centring across assets, clamp, silu,
    gelu (tanh form), pow, scalar arithmetic, maximum, softmax per node."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mask", torch.tensor([1.0, 0.0, 1.0, 1.0, 0.5, 1.0]))
        self.enc = nn.Linear(6, 8)
        self.conv = GATConv(8, 8, heads=1, add_self_loops=False)
        self.scale = nn.Parameter(torch.tensor([[0.5, -1.0, 2.0, 1.5, 0.25, 1.0, -0.5, 3.0]]))

    def forward(self, x, edge_index):
        h = self.enc(x * self.mask)
        h = h - h.mean(dim=0, keepdim=True)
        h = torch.clamp(h, -1.5, 1.5)
        h = F.silu(self.conv(h, edge_index)) + F.gelu(h, approximate="tanh")
        h = torch.maximum(h * self.scale, 1 - h.pow(3)) / (2 + h.abs())
        h = h - 0.5 * h.mean(dim=-1, keepdim=True).expand_as(h)
        return torch.softmax(h, dim=-1)


class GruCellSteps(nn.Module):
    """A GRUCell run over the window step by step (state None at first),
    then a GATConv and a mean over features."""

    def __init__(self):
        super().__init__()
        self.cell = nn.GRUCell(3, 8)
        self.lstm_cell = nn.LSTMCell(8, 8)
        self.conv = GATConv(8, 4, heads=2)

    def forward(self, x, edge_index):
        h = None
        for t in range(x.size(1)):
            h = self.cell(x[:, t], h)
        h2, _ = self.lstm_cell(h)
        return self.conv(h2, edge_index).mean(dim=-1)


def window_inputs(t, f):
    def make(n, gen):
        return torch.randn(n, t, f, generator=gen), topk_graph(n, 4, gen)
    return make


class ThreeRelations(nn.Module):
    """Three edge sets, a conv each, stacked and averaged; a stacked LSTM
    (not batch_first) encodes the window first."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, 6, num_layers=2)
        self.convs = nn.ModuleList([GATConv(6, 6, heads=2, concat=False) for _ in range(3)])
        self.out = nn.Linear(6, 2)

    def forward(self, x, ei_a, ei_b, ei_c):
        _, (h_n, _) = self.lstm(x.permute(1, 0, 2))
        h = h_n[-1]
        z = torch.stack([conv(h, ei) for conv, ei in zip(self.convs, (ei_a, ei_b, ei_c))])
        return self.out(F.relu(z.mean(dim=0)))


def three_inputs(n, gen):
    return (torch.randn(n, 5, 2, generator=gen), topk_graph(n, 3, gen), topk_graph(n, 2, gen),
            topk_graph(n, 5, gen))


class DataMatmul(nn.Module):
    """forward(data) whose Data carries more than the model reads (edge_attr
    PyG's GATConv ignores without edge_dim, labels), and x @ W with W a
    parameter."""

    def __init__(self):
        super().__init__()
        self.conv = GATConv(4, 4, heads=2)
        self.W = nn.Parameter(torch.randn(8, 3))

    def forward(self, data):
        h = F.relu(self.conv(data.x, data.edge_index, data.edge_attr))
        return h @ self.W


def data_inputs(n, gen):
    from torch_geometric.data import Data
    ei = topk_graph(n, 4, gen)
    return (Data(x=features(n, 4, gen), edge_index=ei,
                 edge_attr=torch.randn(ei.shape[1], 2, generator=gen),
                 y=torch.randn(n, generator=gen)),)


def pyg_gat_edges():
    return GAT(4, 8, num_layers=2, out_channels=2, edge_dim=2, heads=2)


def gat_edge_inputs(n, gen):
    ei = topk_graph(n, 4, gen)   # GAT.forward(x, edge_index, edge_weight, edge_attr)
    return features(n, 4, gen), ei, None, torch.randn(ei.shape[1], 2, generator=gen)


def pyg_sequential():
    from torch_geometric.nn import Sequential
    return Sequential("x, edge_index", [(GATConv(4, 8), "x, edge_index -> x"),
                                        nn.ReLU(inplace=True),
                                        (GATConv(8, 2), "x, edge_index -> x")])


class MaskedPortfolio(nn.Module):
    """Portfolio weights over the tradable assets only: a bool mask input,
    masked_fill with -inf before the softmax across assets, comparisons,
    & of masks and torch.where."""

    def __init__(self):
        super().__init__()
        self.conv = GATConv(5, 6, heads=2)
        self.head = nn.Linear(12, 1)

    def forward(self, x, edge_index, tradable):
        s = self.head(F.elu(self.conv(x, edge_index))).squeeze(-1)
        w = torch.softmax(s.masked_fill(~tradable, float("-inf")), dim=0)
        big = (w > 0.02) & tradable
        return torch.where(big, w, 0.5 * w) + torch.where(s < 0, 0.0, 1e-3)


def masked_inputs(n, gen):
    tradable = torch.rand(n, generator=gen) > 0.25
    tradable[0] = True
    return features(n, 5, gen), topk_graph(n, 4, gen), tradable


def pyg_gat_jk_lstm():
    """PyG's GAT with jumping knowledge by a bidirectional LSTM over layers."""
    return GAT(5, 8, num_layers=3, out_channels=2, heads=2, jk="lstm", norm="batch_norm")


class BiGruEncoder(nn.Module):
    """A 2-layer bidirectional GRU over each asset's window (batch_first),
    its last output step and final states both used."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.conv = GATConv(25, 4, heads=2)

    def forward(self, x, edge_index):
        seq, h_n = self.gru(x)
        h = torch.cat([seq[:, -1], h_n[-2], h_n[-1], seq[:, 0, :5] + seq[:, -1, 5:]], dim=-1)
        return self.conv(h, edge_index)


MODELS = {
    "pyg_gat_jk_lstm": (pyg_gat_jk_lstm, plain_inputs(5)),
    "bigru_encoder": (BiGruEncoder, window_inputs(6, 3)),
    "masked_portfolio": (MaskedPortfolio, masked_inputs),
    "data_matmul": (DataMatmul, data_inputs),
    "pyg_gat_edge_features": (pyg_gat_edges, gat_edge_inputs),
    "pyg_sequential": (pyg_sequential, plain_inputs(4)),
    "gru_gatv2_weights": (GruGatv2Weights, gru_inputs),
    "edge_gat_bn_head": (EdgeGatBnHead, edge_inputs),
    "pyg_gatv2_class": (pyg_gatv2_class, plain_inputs(6)),
    "selected_node_pools": (SelectedNodeAndPools, plain_inputs(5)),
    "mask_arithmetic": (MaskArithmetic, plain_inputs(6)),
    "grucell_steps": (GruCellSteps, window_inputs(6, 3)),
    "three_relations": (ThreeRelations, three_inputs),
}


def randomize(model, gen):
    """Weights, biases and norm statistics away from their defaults."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.4)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return model.eval()


# ---- models graphkern must refuse, each with the line that does it ---------

class CustomConv(MessagePassing):
    def __init__(self):
        super().__init__(aggr="add")
        self.lin = nn.Linear(4, 4)

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x=self.lin(x))


class WithCustomConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = CustomConv()

    def forward(self, x, edge_index):
        return self.conv(x, edge_index).relu()  # REFUSED-LINE custom


class WithAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.att = nn.MultiheadAttention(4, 2)

    def forward(self, x, edge_index):
        h, _ = self.att(x, x, x)  # REFUSED-LINE attention
        return h


class WithControlFlow(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GATConv(4, 4)

    def forward(self, x, edge_index):
        h = self.conv(x, edge_index)
        if h.sum() > 0:  # REFUSED-LINE control
            h = -h
        return h


REFUSED = {"custom": WithCustomConv, "attention": WithAttention, "control": WithControlFlow}


class CrossSectionNorm(nn.Module):
    """Cross-sectional z-scores across assets (unbiased std, as torch.std),
    L2-normalized embeddings, a PReLU per channel and a vector norm."""

    def __init__(self):
        super().__init__()
        self.conv = GATConv(6, 8, heads=2)
        self.act = nn.PReLU(16)
        self.out = nn.Linear(17, 1)

    def forward(self, x, edge_index):
        z = (x - x.mean(dim=0, keepdim=True)) / (x.std(dim=0, keepdim=True) + 1e-6)
        h = F.normalize(self.act(self.conv(z, edge_index)), p=2, dim=-1)
        spread = x.var(dim=1, unbiased=False, keepdim=True) + h.norm(dim=-1, keepdim=True)
        return self.out(torch.cat([h, spread], dim=-1))


MODELS["cross_section_norm"] = (CrossSectionNorm, plain_inputs(6))


class SectorEmbedding(nn.Module):
    """A learnt embedding of each asset's sector id (an int64 input) joined
    to its features, and a second table read with F.embedding."""

    def __init__(self):
        super().__init__()
        self.sector = nn.Embedding(11, 4)
        self.style = nn.Parameter(torch.randn(11, 2))
        self.conv = GATConv(11, 6, heads=2)

    def forward(self, x, edge_index, sector):
        h = torch.cat([x, self.sector(sector), F.embedding(sector, self.style)], dim=-1)
        return self.conv(h, edge_index).sum(dim=-1)


def sector_inputs(n, gen):
    return features(n, 5, gen), topk_graph(n, 4, gen), torch.randint(0, 11, (n,), generator=gen)


MODELS["sector_embedding"] = (SectorEmbedding, sector_inputs)


class FixedUniverse(nn.Module):
    """A parameter with one row per asset: the model runs for one N only."""

    def __init__(self):
        super().__init__()
        self.asset = nn.Parameter(torch.randn(10, 3))
        self.conv = GATConv(7, 4)

    def forward(self, x, edge_index):
        return self.conv(torch.cat([x, self.asset], dim=1), edge_index)
