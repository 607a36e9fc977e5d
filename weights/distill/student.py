"""The student network (widths w/2w/4w: "S24" is w = 24; its RGB output layer k x k, 3 unless
grown; "refine" blocks at full resolution, none unless grown) in PyTorch, with the exact
semantics the C engine runs (docs/model-format.md): TensorFlow SAME padding (stride-2 convs
pad after), TF1 asymmetric bilinear x2 upsampling, the clipped-window guided filter. export()
writes it as a libcartoon model file, so what was trained is what runs (tests/test_distill.py
checks that through cartoonize).
"""
import json
import re
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ALPHA = 0.2
EPS = 5e-3


def same_pad(x, k, stride):
    """TensorFlow SAME padding: total = max((out-1)*s + k - in, 0), before = total // 2."""
    h, w = x.shape[-2:]
    pads = []
    for n in (w, h):
        out = -(-n // stride)
        total = max((out - 1) * stride + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Conv(nn.Module):
    """conv2d (groups=1) or depthwise (groups=channels) with SAME padding."""

    def __init__(self, cin, cout, k, stride=1, depthwise=False, act=None):
        super().__init__()
        self.k, self.stride, self.depthwise, self.act = k, stride, depthwise, act
        self.conv = nn.Conv2d(cin, cout, k, stride, 0, groups=cin if depthwise else 1, bias=True)

    def forward(self, x):
        y = self.conv(same_pad(x, self.k, self.stride) if self.k > 1 else x)
        return F.leaky_relu(y, ALPHA) if self.act == "leaky_relu" else y


class DS(nn.Module):
    """Depthwise 3x3 (bias, no activation) + pointwise 1x1."""

    def __init__(self, cin, cout, stride=1, act="leaky_relu"):
        super().__init__()
        self.dw = Conv(cin, cin, 3, stride, depthwise=True)
        self.pw = Conv(cin, cout, 1, act=act)

    def forward(self, x):
        return self.pw(self.dw(x))


def upsample_tf1(x):
    """x2 bilinear, align_corners=False, half_pixel_centers=False: even outputs copy, odd ones
    average a pixel and its next neighbour (the last one copies the edge)."""
    def up(t, dim):
        nxt = torch.cat([t.narrow(dim, 1, t.shape[dim] - 1), t.narrow(dim, t.shape[dim] - 1, 1)], dim)
        odd = 0.5 * (t + nxt)
        s = list(t.shape)
        s[dim] *= 2
        return torch.stack([t, odd], dim + 1).reshape(s)
    return up(up(x, 2), 3)


def box(t):
    """Mean over the 3x3 window clipped to the image."""
    return F.avg_pool2d(t, 3, 1, 1, count_include_pad=False)


def guided_filter(x, y, eps=EPS):
    mx, my = box(x), box(y)
    cov = box(x * y) - mx * my
    var = box(x * x) - mx * mx
    a = cov / (var + eps)
    b = my - a * mx
    return box(a) * x + box(b)


class Student(nn.Module):
    def __init__(self, w=40, out_k=3, refine=0, res=4):
        super().__init__()
        w1, w2, w3 = w, 2 * w, 4 * w
        self.widths = (w1, w2, w3)
        self.out_k = out_k
        self.stem = Conv(3, w1, 3, act="leaky_relu")
        self.d1 = DS(w1, w2, stride=2)
        self.b1 = DS(w2, w2)
        self.d2 = DS(w2, w3, stride=2)
        self.b2 = DS(w3, w3)
        self.res = nn.ModuleList(nn.ModuleList([DS(w3, w3), DS(w3, w3, act=None)]) for _ in range(res))
        self.u1_pw = Conv(w3, w2, 1, act="leaky_relu")
        self.u1a = DS(2 * w2, w2)
        self.u1b = DS(w2, w1)
        self.u2 = DS(2 * w1, w1)
        self.out_conv = Conv(w1, 3, out_k)  # the RGB output's window (the teacher's is 7 x 7)
        # Residual depthwise + pointwise blocks at full resolution before the output layer,
        # u + leaky(pw(dw(u))): the only nonlinear layers there otherwise are the stem and u2,
        # and most of the student's error is at the finest scales. Registered last so that a
        # checkpoint without them keeps its parameter order (Adam's state is keyed by index).
        self.refine = nn.ModuleList(DS(w1, w1) for _ in range(refine))

    def generator(self, x):
        f0 = self.stem(x)
        f1 = self.b1(self.d1(f0))
        h = self.b2(self.d2(f1))
        for a, b in self.res:
            h = b(a(h)) + h
        u = upsample_tf1(self.u1_pw(h))
        u = self.u1b(self.u1a(torch.cat([u, f1], 1)))
        u = self.u2(torch.cat([upsample_tf1(u), f0], 1))
        for r in self.refine:
            u = r(u) + u
        return self.out_conv(u) + x

    def forward(self, x):
        """x: N x 3 x H x W, BGR in [-1, 1], H and W multiples of 4."""
        return guided_filter(x, self.generator(x))


def grow_out_conv(state, opt_state, out_k):
    """A trained student's state dict (and Adam's state, or None) with the RGB output
    convolution's k x k kernel zero-padded to out_k x out_k, in place: with SAME padding the
    wider kernel computes exactly the same outputs, so training goes on from the same function
    with more capacity (the new taps start at zero, with zero moments)."""
    key = "out_conv.conv.weight"
    wt = state[key]
    k = wt.shape[-1]
    if out_k == k:
        return
    if out_k < k or (out_k - k) % 2:
        raise ValueError("out_conv can only grow, by an even amount (%d -> %d)" % (k, out_k))
    p = (out_k - k) // 2
    state[key] = F.pad(wt, (p, p, p, p))
    if opt_state is not None:
        # Adam's state is keyed by parameter index in model.parameters() order, which is the
        # state dict's order here (the student has no buffers)
        names = list(state.keys())
        idx = [n for n in names if not n.endswith("num_batches_tracked")].index(key)
        for name in ("exp_avg", "exp_avg_sq"):
            t = opt_state["state"][idx][name]
            opt_state["state"][idx][name] = F.pad(t, (p, p, p, p))


def grow_res(state, opt_state, model):
    """Adds the quarter-resolution residual blocks model has and state lacks, in place: fresh
    depthwise and first pointwise weights, a zero second pointwise (weights and bias), so each
    new block adds pw2(dw2(...)) = 0 and the function is the same. Adam's state, if given, is
    re-keyed to model's parameter order (the new blocks sit among the old parameters), the new
    parameters without moments."""
    fresh = model.state_dict()
    names = list(fresh.keys())
    old = list(state.keys())
    if any(n not in fresh for n in old):
        raise ValueError("the checkpoint has parameters the model lacks: %s" % [n for n in old if n not in fresh][:3])
    for n in old:
        if state[n].shape != fresh[n].shape:
            raise ValueError("%s: %s in the checkpoint, %s in the model" % (n, tuple(state[n].shape), tuple(fresh[n].shape)))
    for n in names:
        if n in state:
            continue
        if not n.startswith("res."):
            raise ValueError("can only add residual blocks, not %s" % n)
        state[n] = torch.zeros_like(fresh[n]) if ".1.pw." in n else fresh[n].clone()
    grown = {n: state[n] for n in names}  # the model's order
    state.clear()
    state.update(grown)
    if opt_state is not None:
        moments = opt_state["state"]
        opt_state["state"] = {names.index(n): moments[i] for i, n in enumerate(old) if i in moments}
        opt_state["param_groups"][0]["params"] = list(range(len(names)))


def grow_refine(state, opt_state, model):
    """Adds the full-resolution refine blocks model has and state lacks (model's fresh
    depthwise weights, zero pointwise weights and biases: each block adds leaky(0) = 0, so the
    function is the same), in place; Adam's state, if given, gets their parameters with no
    moments. Their parameters come last in model's order (Student registers them last)."""
    fresh = model.state_dict()
    names = list(fresh.keys())
    old = [n for n in names if n in state]
    if old != names[:len(old)] or len(old) != len(state):
        raise ValueError("the checkpoint's parameters are not a prefix of the model's")
    for n in old:
        if state[n].shape != fresh[n].shape:
            raise ValueError("%s: %s in the checkpoint, %s in the model" % (n, tuple(state[n].shape), tuple(fresh[n].shape)))
    for n in names[len(old):]:
        if not n.startswith("refine."):
            raise ValueError("can only add refine blocks, not %s" % n)
        state[n] = torch.zeros_like(fresh[n]) if ".pw." in n else fresh[n].clone()
    if opt_state is not None:
        opt_state["param_groups"][0]["params"] += list(range(len(old), len(names)))


# ---------------------------------------------------------------- export to libcartoon's format

def _graph_and_tensors(m):
    """The model file's graph, its tensors, and each convolution's name -> (its Conv module,
    depthwise?): the one place that names the layers, for export() and load_model_file()."""
    nodes, tensors, convs = [], {}, {}

    def conv(name, c, inp, depthwise=False):
        convs[name] = (c, depthwise)
        wt = c.conv.weight.detach().float().cpu().numpy()
        bs = c.conv.bias.detach().float().cpu().numpy()
        if depthwise:  # [c, 1, kh, kw] -> [kh, kw, c]
            tensors[name + ".weight"] = np.ascontiguousarray(wt[:, 0].transpose(1, 2, 0))
            node = {"name": name, "op": "depthwise_conv2d", "inputs": [inp], "kernel": c.k,
                    "stride": c.stride, "channels": int(wt.shape[0])}
        else:  # [out, in, kh, kw] -> OHWI
            tensors[name + ".weight"] = np.ascontiguousarray(wt.transpose(0, 2, 3, 1))
            node = {"name": name, "op": "conv2d", "inputs": [inp], "kernel": c.k, "stride": c.stride,
                    "in_channels": int(wt.shape[1]), "out_channels": int(wt.shape[0])}
        tensors[name + ".bias"] = bs
        node.update({"weight": name + ".weight", "bias": name + ".bias",
                     "activation": c.act or "none"})
        if c.act == "leaky_relu":
            node["alpha"] = ALPHA
        nodes.append(node)
        return name

    def ds(prefix, d, inp):
        return conv(prefix + "_pw", d.pw, conv(prefix + "_dw", d.dw, inp, depthwise=True))

    f0 = conv("stem", m.stem, "input")
    f1 = ds("b1", m.b1, ds("d1", m.d1, f0))
    h = ds("b2", m.b2, ds("d2", m.d2, f1))
    for r, (a, b) in enumerate(m.res):
        y1 = conv("r%d_pw1" % r, a.pw, conv("r%d_dw1" % r, a.dw, h, True))
        y2 = conv("r%d_pw2" % r, b.pw, conv("r%d_dw2" % r, b.dw, y1, True))
        nodes.append({"name": "r%d_add" % r, "op": "add", "inputs": [y2, h]})
        h = "r%d_add" % r
    u = conv("u1_pw", m.u1_pw, h)
    nodes.append({"name": "u1_up", "op": "upsample", "inputs": [u], "factor": 2, "mode": "bilinear_tf1"})
    nodes.append({"name": "u1_cat", "op": "concat", "inputs": ["u1_up", f1]})
    u = ds("u1b", m.u1b, ds("u1a", m.u1a, "u1_cat"))
    nodes.append({"name": "u2_up", "op": "upsample", "inputs": [u], "factor": 2, "mode": "bilinear_tf1"})
    nodes.append({"name": "u2_cat", "op": "concat", "inputs": ["u2_up", f0]})
    u = ds("u2", m.u2, "u2_cat")
    for r, d in enumerate(m.refine):
        y = ds("f%d" % r, d, u)
        nodes.append({"name": "f%d_add" % r, "op": "add", "inputs": [y, u]})
        u = "f%d_add" % r
    conv("out_conv", m.out_conv, u)
    nodes.append({"name": "gen", "op": "add", "inputs": ["out_conv", "input"]})
    nodes.append({"name": "final", "op": "guided_filter", "inputs": ["input", "gen"], "radius": 1,
                  "eps": EPS})
    graph = {"input": {"name": "input", "channels": 3, "color_order": "BGR",
                       "scale": 1 / 127.5, "offset": -1.0},
             "pad_multiple": 4, "output": "final", "nodes": nodes}
    return graph, tensors, convs


def export(m, path, dtype="F16", name=None, source=""):
    """Writes model m as a libcartoon model file (safetensors + graph in __metadata__)."""
    graph, tensors, _ = _graph_and_tensors(m)
    npd = {"F16": np.float16, "F32": np.float32}[dtype]
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k].astype(npd))
        b = a.tobytes()
        header[k] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {
        "format": "libcartoon", "format_version": "1",
        "name": name or "cartoon-student-s%d" % m.widths[0],
        "source": source, "graph": json.dumps(graph, separators=(",", ":"))}
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * (-(8 + len(hj)) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    import os
    os.replace(path + ".tmp", path)


def _read_model_file(path):
    """A libcartoon model file's tensors (as float32 arrays) and its graph."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    if meta.get("format") != "libcartoon" or "graph" not in meta:
        raise ValueError("%s: not a libcartoon model file" % path)
    kinds = {"F16": np.float16, "F32": np.float32}
    tensors = {}
    for k, h in header.items():
        if h["dtype"] not in kinds:
            raise ValueError("%s: %s is %s (only F16 and F32 are read)" % (path, k, h["dtype"]))
        a, b = h["data_offsets"]
        tensors[k] = np.frombuffer(data[a:b], kinds[h["dtype"]]).reshape(h["shape"]).astype(np.float32)
    return tensors, json.loads(meta["graph"])


def load_model_file(path):
    """The inverse of export(): a Student with the weights of a model file export() wrote (its
    width, output window, refine and residual blocks read from the file). An fp16 file gives the fp16
    values; training can go on from them when the checkpoint is lost (train.py --init)."""
    tensors, graph = _read_model_file(path)
    names = [nd["name"] for nd in graph["nodes"]]
    need = ["stem", "d1_dw", "u2_pw", "out_conv", "gen", "final"]
    if any(n not in names for n in need):
        raise ValueError("%s: not a student graph (no %s)" % (path, [n for n in need if n not in names]))
    width = tensors["stem.weight"].shape[0]
    out_k = tensors["out_conv.weight"].shape[1]
    refine = sum(1 for n in names if re.fullmatch(r"f\d+_add", n))
    res = sum(1 for n in names if re.fullmatch(r"r\d+_add", n))
    m = Student(width, out_k, refine, res)
    ref, _, mine = _graph_and_tensors(m)
    if [nd["name"] for nd in ref["nodes"]] != names:
        raise ValueError("%s: its graph is not Student(%d, %d, %d, %d)'s" % (path, width, out_k, refine, res))
    if sorted(tensors) != sorted(n + s for n in mine for s in (".weight", ".bias")):
        raise ValueError("%s: its tensors are not the student's" % path)
    with torch.no_grad():
        for name, (c, depthwise) in mine.items():
            wt, bs = tensors[name + ".weight"], tensors[name + ".bias"]
            if depthwise:  # [kh, kw, c] -> [c, 1, kh, kw]
                wt = wt.transpose(2, 0, 1)[:, None]
            else:  # OHWI -> [out, in, kh, kw]
                wt = wt.transpose(0, 3, 1, 2)
            if tuple(wt.shape) != tuple(c.conv.weight.shape) or bs.shape != tuple(c.conv.bias.shape):
                raise ValueError("%s: %s has the wrong shape" % (path, name))
            c.conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(wt)))
            c.conv.bias.copy_(torch.from_numpy(bs))
    return m


def gflops(m, h, w):
    """Multiply-adds x 2 of the convolutions at an h x w input."""
    total = 0.0
    hooks = []

    def hook(mod, inp, out):
        nonlocal total
        c = mod.conv
        total += 2.0 * out.numel() * (c.in_channels // c.groups) * c.kernel_size[0] * c.kernel_size[1]
    for mod in m.modules():
        if isinstance(mod, Conv):
            hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        m(torch.zeros(1, 3, h, w))
    for hk in hooks:
        hk.remove()
    return total / 1e9
