#!/usr/bin/env python3
"""PyTorch on the identical network, read from a libcartoon model file: checked against the
reference outputs first, then timed in fp32 and fp16 next to cartoon-bench's CUDA numbers.

  bench/peer_torch.py [--model M.safetensors] [--shared DIR] [--device cuda|cpu]
                      [--sizes N ...] [--reps R] [--warmup W] [--cases all|NAME[,NAME]]
                      [--cartoon-json bench.log] [--compile] [--json] [--trace X.npy]

The network is built from the file's own graph (docs/model-format.md: conv2d, depthwise_conv2d,
add, concat, upsample, guided_filter), so the teacher (weights/whitebox.safetensors, or the
$BUILD/test-model.safetensors that tests convert) and the student run the same way. Semantics
as ../shared/docs/model-spec.md: TensorFlow SAME padding (the odd pixel after: 0 before and 1
after for a stride-2 3x3 conv on an even size), TF1 bilinear x2 (align_corners=False,
half_pixel_centers=False: src = d / 2, the last odd output copies the edge), the guided filter
with box means over the window clipped to the image (zero-padded sum / in-image count), inputs
edge-padded bottom/right to the graph's pad_multiple and cropped back.

Precisions:
  fp32  everything float32; TF32 is switched off (libcartoon's fp32 path uses FMA math).
  fp16  on CUDA: weights and activations half, channels_last, cudnn.benchmark while timing
        (what a PyTorch user would run); the guided filter in float32, as libcartoon does
        (in half, box(x*x) - mx*mx loses ~1e-3 to rounding: a fifth of eps = 5e-3).
        On the CPU (no half convolutions there): emulated the way libcartoon's fp16 path
        computes, conv inputs and weights rounded to fp16, fp32 accumulation and epilogue,
        depthwise, upsample and guided filter in fp32; not timed.

Steps: (1) every reference case (--cases; default all on CUDA, astronaut_64x96_crop on the
CPU) in fp32 and fp16: max abs and PSNR (model space to 0..255, as tests/support/check.c's
psnr_model_space) against reference/NAME.out.npy; fp32 must reach 70 dB or nothing is timed
(exit 1). (2) with timing (not --no-time; CPU: fp32 only): per size, fp32 and fp16 (and
torch.compile of fp16 with --compile), median and min of --reps runs after --warmup runs,
CUDA events, peak device memory; a table next to libcartoon's numbers read from cartoon-bench
--json lines in --cartoon-json (gpu-check.sh's bench.log; its student and cuDNN sections skipped).
--trace X.npy (H x W x 3 model space): per node, fp16 against fp32 as tests/test_cuda.c
measures it (max abs diff / max(1, max |fp32|)) and the output's PSNR; then exit.
Needs numpy and torch; Pillow for the PNG cases (without it, only the crop's layers/00_input.npy).
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch

F = torch.nn.functional
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def note(msg):
    print('peer_torch: ' + msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ model file

def read_model(path):
    """(graph, {name: float32 array}, metadata) from a libcartoon safetensors file, read by
    hand (u64 header length, JSON header, raw little-endian data) so no safetensors package
    is needed."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    hdr = json.loads(data[8:8 + n].decode('utf-8'))
    meta = hdr.pop('__metadata__', {})
    base = 8 + n
    tensors = {}
    for name, t in hdr.items():
        b, e = t['data_offsets']
        raw = data[base + b:base + e]
        if t['dtype'] == 'F32':
            a = np.frombuffer(raw, '<f4')
        elif t['dtype'] == 'F16':
            a = np.frombuffer(raw, '<f2').astype(np.float32)
        elif t['dtype'] == 'BF16':
            a = (np.frombuffer(raw, '<u2').astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError('%s: tensor %s has dtype %s' % (path, name, t['dtype']))
        tensors[name] = a.astype(np.float32).reshape(t['shape'])
    return json.loads(meta['graph']), tensors, meta


def conv_flops(graph, h, w):
    """Multiply-adds x 2 of the convolutions at input size h x w (after padding)."""
    pm = graph.get('pad_multiple', 1)
    h, w = -(-h // pm) * pm, -(-w // pm) * pm
    shape = {graph['input']['name']: (h, w)}
    total = 0
    for nd in graph['nodes']:
        sh, sw = shape[nd['inputs'][0]]
        op = nd['op']
        if op in ('conv2d', 'depthwise_conv2d'):
            s, k = nd['stride'], nd['kernel']
            oh, ow = -(-sh // s), -(-sw // s)
            per = k * k * (nd['in_channels'] * nd['out_channels'] if op == 'conv2d' else nd['channels'])
            total += 2 * per * oh * ow
            shape[nd['name']] = (oh, ow)
        elif op == 'upsample':
            shape[nd['name']] = (sh * nd['factor'], sw * nd['factor'])
        else:
            shape[nd['name']] = (sh, sw)
    return total


# ------------------------------------------------------------------ the network

def same_pads(n, k, s):
    """TensorFlow SAME: out = ceil(n / s), total = max((out - 1) * s + k - n, 0), the odd
    pixel after."""
    t = max((-(-n // s) - 1) * s + k - n, 0)
    return t // 2, t - t // 2


class Net:
    """The graph, run node by node. mode: 'fp32', 'fp16' (real half: CUDA) or 'fp16emu'
    (fp16 conv operands, fp32 arithmetic: libcartoon's fp16 path, on any device)."""

    def __init__(self, graph, tensors, device, mode):
        self.g, self.mode, self.dev = graph, mode, device
        self.dt = torch.float16 if mode == 'fp16' else torch.float32
        cl = torch.channels_last if device.type == 'cuda' else torch.contiguous_format
        self.cl = cl
        self.p = {}
        for nd in graph['nodes']:
            if nd['op'] == 'conv2d':
                w = torch.from_numpy(tensors[nd['weight']].transpose(0, 3, 1, 2).copy())  # OHWI -> OIHW
            elif nd['op'] == 'depthwise_conv2d':
                w = torch.from_numpy(tensors[nd['weight']].transpose(2, 0, 1)[:, None].copy())  # HWC -> C1HW
            else:
                continue
            if mode == 'fp16emu' and nd['op'] == 'conv2d':
                w = w.half().float()
            b = nd.get('bias')
            b = torch.from_numpy(tensors[b].copy()) if b else None
            w = w.to(device=device, dtype=self.dt).contiguous(memory_format=cl)
            self.p[nd['name']] = (w, None if b is None else b.to(device=device, dtype=self.dt))

    @staticmethod
    def act(t, nd):
        a = nd.get('activation', 'none')
        if a == 'relu':
            return F.relu(t)
        if a == 'leaky_relu':
            return F.leaky_relu(t, nd.get('alpha', 0.2))
        return t

    def conv(self, x, nd):
        w, b = self.p[nd['name']]
        k, s = nd['kernel'], nd['stride']
        groups = x.shape[1] if nd['op'] == 'depthwise_conv2d' else 1
        if s == 1:  # odd k: SAME is symmetric
            y = F.conv2d(x, w, b, padding=k // 2, groups=groups)
        else:
            (pt, pb), (pl, pr) = same_pads(x.shape[2], k, s), same_pads(x.shape[3], k, s)
            if pt == pb and pl == pr:
                y = F.conv2d(x, w, b, stride=s, padding=(pt, pl), groups=groups)
            else:
                y = F.conv2d(F.pad(x, (pl, pr, pt, pb)), w, b, stride=s, groups=groups)
        return self.act(y, nd)

    @staticmethod
    def up2_tf1(x):
        """TF1 bilinear x2 = align_corners=True on the input edge-extended by one pixel
        (src = d * n / 2n = d / 2 exactly), cropped to 2n."""
        h, w = x.shape[2], x.shape[3]
        xp = F.pad(x, (0, 1, 0, 1), mode='replicate')
        return F.interpolate(xp, size=(2 * h + 1, 2 * w + 1), mode='bilinear', align_corners=True)[:, :, :2 * h, :2 * w]

    @staticmethod
    def guided_filter(x, y, r, eps):
        def box(t):
            return F.avg_pool2d(t, 2 * r + 1, stride=1, padding=r, count_include_pad=False)
        mx, my = box(x), box(y)
        cov = box(x * y) - mx * my
        var = box(x * x) - mx * mx
        A = cov / (var + eps)
        b = my - A * mx
        return box(A) * x + box(b)

    def forward(self, x32, trace=None):
        """x32: N x 3 x H x W float32 on the device, H and W multiples of pad_multiple."""
        g = self.g
        v = {g['input']['name']: x32.to(self.dt).contiguous(memory_format=self.cl)}
        v32 = {g['input']['name']: x32}
        emu = self.mode == 'fp16emu'
        last = {}  # a tensor is dropped after its last reader (peak memory as a planner would have it)
        for k, nd in enumerate(g['nodes']):
            for i in nd['inputs']:
                last[i] = k
        for k, nd in enumerate(g['nodes']):
            op, ins = nd['op'], [v[i] for i in nd['inputs']]
            if op == 'conv2d':
                y = self.conv(ins[0].half().float() if emu else ins[0], nd)
            elif op == 'depthwise_conv2d':
                y = self.conv(ins[0], nd)
            elif op == 'add':
                y = self.act(ins[0] + ins[1], nd)
            elif op == 'concat':
                y = torch.cat(ins, 1)
            elif op == 'upsample':
                if nd.get('factor', 2) != 2:
                    raise ValueError('upsample factor %s' % nd['factor'])
                if nd['mode'] == 'nearest':
                    y = F.interpolate(ins[0], scale_factor=2, mode='nearest')
                else:
                    y = self.up2_tf1(ins[0])
            elif op == 'guided_filter':
                gx = v32.get(nd['inputs'][0])
                gx = ins[0].float() if gx is None else gx
                y = self.guided_filter(gx, ins[1].float(), nd['radius'], nd['eps'])
            else:
                raise ValueError('op %s' % op)
            v[nd['name']] = y
            if trace is None:
                for i in nd['inputs']:
                    if last[i] == k and i != g['output']:
                        v.pop(i, None)
                        v32.pop(i, None)
            else:
                trace.append((nd['name'], y.float()))
        return v[g['output']].float()

    def __call__(self, x32, trace=None):
        return self.forward(x32, trace)


def run_hwc(net, x, device, trace=None):
    """x: H x W x 3 float32 model space -> H x W x 3; edge-pads to pad_multiple and crops."""
    h, w = x.shape[:2]
    pm = net.g.get('pad_multiple', 1)
    ph, pw = -(-h // pm) * pm - h, -(-w // pm) * pm - w
    xp = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode='edge') if ph or pw else x
    t = torch.from_numpy(np.ascontiguousarray(xp.transpose(2, 0, 1))[None]).to(device)
    with torch.inference_mode():
        y = net(t, trace)
    y = y[0].permute(1, 2, 0).cpu().numpy()[:h, :w]
    if trace is not None:
        trace[:] = [(n, t_[0].permute(1, 2, 0).cpu().numpy()) for n, t_ in trace]
    return y


def psnr(a, b):
    """As tests/support/check.c psnr_model_space: (y + 1) * 127.5 clipped to 0..255, no rounding."""
    pa = np.clip((a.astype(np.float64) + 1) * 127.5, 0, 255)
    pb = np.clip((b.astype(np.float64) + 1) * 127.5, 0, 255)
    mse = float(np.mean((pa - pb) ** 2))
    return float('inf') if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


# ------------------------------------------------------------------ reference cases

def load_cases(shared, which):
    """[(name, input H x W x 3 BGR model space, expected)] for the cases asked for."""
    ref = os.path.join(shared, 'reference')
    with open(os.path.join(ref, 'index.json')) as f:
        idx = json.load(f)
    names = [c['name'] for c in idx['cases']]
    want = names if which == 'all' else which.split(',')
    for n in want:
        if n not in names:
            raise SystemExit('peer_torch: no case %s in %s/index.json (%s)' % (n, ref, ', '.join(names)))
    try:
        from PIL import Image
    except ImportError:
        Image = None
    out = []
    for c in idx['cases']:
        if c['name'] not in want:
            continue
        if Image is not None:
            rgb = np.asarray(Image.open(os.path.join(ref, c['input'])).convert('RGB'), dtype=np.float32)
            x = rgb[:, :, ::-1] / np.float32(127.5) - np.float32(1)  # BGR, v / 127.5 - 1
        elif c['name'] == idx.get('layers_of'):
            x = np.load(os.path.join(ref, 'layers', '00_input.npy'))
        else:
            note('%s skipped: no Pillow to read %s' % (c['name'], c['input']))
            continue
        out.append((c['name'], np.ascontiguousarray(x, dtype=np.float32),
                    np.load(os.path.join(ref, c['output_float'])).astype(np.float32)))
    if not out:
        raise SystemExit('peer_torch: no reference case could be read')
    return out


# ------------------------------------------------------------------ timing

def time_it(fn, reps, warmup, cuda):
    for _ in range(warmup):
        fn()
    if cuda:
        torch.cuda.synchronize()
        ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
        for a, b in ev:
            a.record()
            fn()
            b.record()
        torch.cuda.synchronize()
        ts = [a.elapsed_time(b) for a, b in ev]
    else:
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts), min(ts)


def cartoon_numbers(path):
    """{(precision, size): total_ms} from cartoon-bench --json lines (device cuda); lines
    under a '== bench student...' header (gpu-check.sh's bench.log) are the student's, and
    '== bench fp32_cudnn' is not the default path: both are left out."""
    got = {}
    section = ''
    try:
        with open(path) as f:
            for line in f:
                if line.startswith('== '):
                    section = line
                    continue
                if not line.startswith('{') or 'student' in section or 'cudnn' in section:
                    continue
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if d.get('device') == 'cuda' and 'total_ms' in d:
                    got[(d.get('precision'), d['size'])] = (d['total_ms'], d.get('peak_bytes'))
    except OSError as e:
        note('--cartoon-json: %s' % e)
    return got


def fmt(v, spec='%.3f'):
    return 'n/a' if v is None else spec % v


# ------------------------------------------------------------------ main

def main():
    shared = os.environ.get('CARTOON_SHARED') or os.path.join(ROOT, '..', 'shared')
    ap = argparse.ArgumentParser(prog='bench/peer_torch.py', description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', help='libcartoon model (default weights/whitebox.safetensors, else build/test-model.safetensors)')
    ap.add_argument('--shared', default=shared, help='the shared folder (reference/)')
    ap.add_argument('--device', choices=('cuda', 'cpu'), help='default: cuda when available')
    ap.add_argument('--sizes', type=int, nargs='+', help='square sizes to time (default: cuda 512 1024 2048, cpu 256)')
    ap.add_argument('--reps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3, help='untimed runs first (cudnn.benchmark tunes in the first)')
    ap.add_argument('--cases', help='reference cases: all or NAME[,NAME] (default: cuda all, cpu astronaut_64x96_crop)')
    ap.add_argument('--cartoon-json', help="cartoon-bench --json output (e.g. gpu-check's bench.log) to put next to")
    ap.add_argument('--compile', action='store_true', help='also time torch.compile of the fp16 network (CUDA)')
    ap.add_argument('--no-time', action='store_true', help='only the reference check')
    ap.add_argument('--trace', metavar='X.npy', help='per-node fp16 vs fp32 on this input, then exit')
    ap.add_argument('--json', action='store_true', help='also one JSON line per size')
    a = ap.parse_args()

    if not a.model:
        for cand in ('weights/whitebox.safetensors', 'build/test-model.safetensors'):
            if os.path.exists(os.path.join(ROOT, cand)):
                a.model = os.path.join(ROOT, cand)
                break
        else:
            raise SystemExit('peer_torch: no model: give --model (e.g. $BUILD/test-model.safetensors)')
    if not os.path.isfile(a.model):
        raise SystemExit('peer_torch: model not found: %s' % a.model)
    if a.device is None:
        a.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if a.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('peer_torch: --device cuda but torch.cuda.is_available() is False')
    cuda = a.device == 'cuda'
    dev = torch.device(a.device)
    sizes = a.sizes or ([512, 1024, 2048] if cuda else [256])
    torch.manual_seed(0)
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = False  # on for the timing only: each reference case is another shape
    graph, tensors, meta = read_model(a.model)
    lowp = 'fp16' if cuda else 'fp16emu'
    nets = {'fp32': Net(graph, tensors, dev, 'fp32'), lowp: Net(graph, tensors, dev, lowp)}
    what = torch.cuda.get_device_name(0) if cuda else 'CPU, %d threads' % torch.get_num_threads()
    note('torch %s on %s; model %s (%s)' % (torch.__version__, what, os.path.relpath(a.model, ROOT),
                                          meta.get('name', '?')))

    if a.trace:
        x = np.load(a.trace).astype(np.float32)
        t32, t16 = [], []
        y32 = run_hwc(nets['fp32'], x, dev, t32)
        y16 = run_hwc(nets[lowp], x, dev, t16)
        worst = (0, '')
        for (n, p), (_, q) in zip(t32, t16):
            scale = max(1.0, float(np.abs(p).max()))
            d = float(np.abs(p.astype(np.float64) - q).max()) / scale
            worst = max(worst, (d, n))
            print('  %-10s max|fp32| %8.3f  max abs diff %.3e  relative %.3e' % (n, scale, d * scale, d))
        print('trace %s %dx%d %s: worst node %s %.3e; output max abs %.3e, PSNR %.1f dB'
              % (os.path.basename(a.trace), x.shape[0], x.shape[1], lowp, worst[1], worst[0],
                 float(np.abs(y32 - y16).max()), psnr(y32, y16)))
        return 0

    # (1) the reference cases
    ok = True
    quality = {}
    for name, x, want in load_cases(a.shared, a.cases or ('all' if cuda else 'astronaut_64x96_crop')):
        for prec, net in nets.items():
            y = run_hwc(net, x, dev)
            d, q = float(np.abs(y - want).max()), psnr(y, want)
            quality.setdefault(prec, []).append(q)
            print('reference %-22s %-8s max abs %.2e  PSNR %6.1f dB' % (name, prec, d, q), flush=True)
            if prec == 'fp32' and not q >= 70:
                ok = False
    if not ok:
        print('peer_torch: FAIL: fp32 below 70 dB against the reference: the network is not the same; not timed')
        return 1
    if a.no_time:
        return 0

    # (2) timing
    if cuda:
        torch.backends.cudnn.benchmark = True
    flops = {s: conv_flops(graph, s, s) for s in sizes}
    lc = cartoon_numbers(a.cartoon_json) if a.cartoon_json else {}
    precs = ['fp32', 'fp16'] if cuda else ['fp32']
    compiled = None
    if a.compile and cuda:
        try:
            compiled = torch.compile(nets['fp16'].forward)
        except Exception as e:  # noqa: BLE001 (report whatever stops it, and go on)
            note('torch.compile unavailable: %s' % e)
    rows = []
    for s in sizes:
        x = torch.from_numpy(np.random.RandomState(0).uniform(-1, 1, (1, 3, s, s)).astype(np.float32)).to(dev)
        if cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        row = {'size': s, 'gflop': round(flops[s] / 1e9, 1), 'device': what, 'torch': torch.__version__}
        runs = [(p, nets[p].forward) for p in precs]
        if compiled is not None:
            runs.append(('fp16_compile', compiled))
        for p, fn in runs:
            try:
                if cuda:
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
                with torch.inference_mode():
                    med, mn = time_it(lambda: fn(x), a.reps, a.warmup + (2 if p.endswith('compile') else 0), cuda)
                row['torch_%s_ms' % p] = round(med, 3)
                row['torch_%s_min_ms' % p] = round(mn, 3)
                if cuda:
                    row['torch_%s_peak_bytes' % p] = torch.cuda.max_memory_allocated()
                note('%d %s: median %.3f ms, min %.3f ms' % (s, p, med, mn))
            except Exception as e:  # noqa: BLE001
                note('%d %s failed: %s' % (s, p, str(e).splitlines()[0] if str(e) else type(e).__name__))
                if cuda:
                    torch.cuda.empty_cache()
        for p in ('fp32', 'fp16'):
            v = lc.get((p, s))
            row['libcartoon_%s_ms' % p] = v[0] if v else None
            row['libcartoon_%s_peak_bytes' % p] = v[1] if v else None
        rows.append(row)

    print()
    print('PyTorch %s on %s, median of %d runs after %d warm-up(s), network only%s'
          % (torch.__version__, what, a.reps, a.warmup, ', fp32 without TF32' if cuda else ''))
    if quality:
        print('  PSNR vs reference: ' + '; '.join('%s %.1f-%.1f dB' % (p, min(q), max(q)) for p, q in quality.items()))
    cols = ['size', 'GFLOP'] + ['torch %s ms' % p for p in precs]
    if compiled is not None:
        cols.append('compile fp16 ms')
    if cuda:
        cols += ['torch fp16 MiB', 'lc fp32 ms', 'lc fp16 ms', 'torch/lc fp16']
    widths = [max(7, len(c)) for c in cols]
    print('  '.join(c.rjust(w) for c, w in zip(cols, widths)))
    for r in rows:
        cells = ['%d' % r['size'], '%.1f' % r['gflop']] + [fmt(r.get('torch_%s_ms' % p)) for p in precs]
        if compiled is not None:
            cells.append(fmt(r.get('torch_fp16_compile_ms')))
        if cuda:
            pk = r.get('torch_fp16_peak_bytes')
            t16, l16 = r.get('torch_fp16_ms'), r.get('libcartoon_fp16_ms')
            r['torch_over_libcartoon_fp16'] = round(t16 / l16, 3) if t16 and l16 else None
            cells += [fmt(pk / 2 ** 20 if pk else None, '%.0f'), fmt(r.get('libcartoon_fp32_ms')),
                      fmt(l16), fmt(r['torch_over_libcartoon_fp16'], '%.2f')]
        print('  '.join(c.rjust(w) for c, w in zip(cells, widths)))
    if cuda and not lc:
        print('  (no libcartoon numbers: give --cartoon-json with cartoon-bench --device cuda --json output)')
    if a.json:
        for r in rows:
            print(json.dumps(r))
    return 0


if __name__ == '__main__':
    sys.exit(main())
