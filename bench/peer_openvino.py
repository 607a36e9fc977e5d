#!/usr/bin/env python3
"""OpenVINO (CPU plugin) on the same ONNX graph ONNX Runtime runs (../shared/tools/peer_onnx.py),
for bench/peers. Needs numpy, onnx, onnxruntime, openvino (pip install openvino).

  bench/peer_openvino.py SHARED MODEL.tflite SIZE [SIZE...] [--threads N] [--reps R]

Before timing, each precision is checked on the reference input
(SHARED/reference/layers/00_input.npy): its output against ONNX Runtime's on the same graph
(max abs diff; at most 1e-3 for fp32, where both run fp32 kernels, else it is not timed) and
its PSNR against SHARED/reference/astronaut_64x96_crop.out.npy (8-bit, as the tests measure).
fp32 sets INFERENCE_PRECISION_HINT f32; bf16 sets bf16, which the CPU plugin honours only on
CPUs with native bf16 (AVX512_BF16 or AMX): elsewhere it is reported as not run.
Prints one JSON line per (precision, size):
  {"peer": "openvino X", "precision": "fp32", "size": S, "threads": N, "median_ms": .., "min_ms": ..,
   "psnr_db": .., "max_abs_vs_ort": ..}"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
import openvino as ov


def psnr(a, b):
    qa = np.clip((a + 1.0) * 127.5, 0, 255).astype(np.uint8).astype(np.float64)
    qb = np.clip((b + 1.0) * 127.5, 0, 255).astype(np.uint8).astype(np.float64)
    mse = float(np.mean((qa - qb) ** 2))
    return float('inf') if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('shared')
    ap.add_argument('tflite')
    ap.add_argument('sizes', type=int, nargs='+')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--reps', type=int, default=3)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.shared, 'tools'))
    import peer_onnx
    convs = peer_onnx.load_convs(a.tflite)
    core = ov.Core()
    caps = core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES')
    x_ref = np.load(os.path.join(a.shared, 'reference', 'layers', '00_input.npy')).astype(np.float32)
    want = np.load(os.path.join(a.shared, 'reference', 'astronaut_64x96_crop.out.npy')).astype(np.float32)
    H, W = x_ref.shape[:2]
    xin = x_ref.transpose(2, 0, 1)[None].copy()

    def compile_for(path, prec):
        cfg = {'INFERENCE_PRECISION_HINT': prec, 'INFERENCE_NUM_THREADS': a.threads,
               'PERFORMANCE_HINT': 'LATENCY'}
        return core.compile_model(core.read_model(path), 'CPU', cfg)

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'ref.onnx')
        onnx.save(peer_onnx.build(convs, H, W), p)
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        y_ort = ort.InferenceSession(p, so, providers=['CPUExecutionProvider']).run(None, {'input': xin})[0]
        checked = {}
        for prec in ('f32', 'bf16'):
            name = 'fp32' if prec == 'f32' else 'bf16'
            if prec == 'bf16' and 'BF16' not in caps:
                print('peer_openvino: bf16 not run: the CPU plugin reports no BF16 capability (%s)'
                      % ', '.join(caps), file=sys.stderr)
                continue
            cm = compile_for(p, prec)
            got = cm({'input': xin})[cm.output(0)]
            diff = float(np.abs(got - y_ort).max())
            q = psnr(got[0].transpose(1, 2, 0), want)
            print('peer_openvino: %s on the reference: max abs diff vs ONNX Runtime %.3g, PSNR vs reference %.1f dB'
                  % (name, diff, q), file=sys.stderr)
            if prec == 'f32' and not diff <= 1e-3:
                print('peer_openvino: fp32 not timed: differs from ONNX Runtime by %g (> 1e-3)' % diff, file=sys.stderr)
                continue
            checked[prec] = (name, diff, q)
        for S in a.sizes:
            p = os.path.join(d, 'm%d.onnx' % S)
            onnx.save(peer_onnx.build(convs, S, S), p)
            x = np.random.RandomState(0).uniform(-1, 1, (1, 3, S, S)).astype(np.float32)
            for prec, (name, diff, q) in checked.items():
                cm = compile_for(p, prec)
                req = cm.create_infer_request()
                req.infer({'input': x})
                ts = []
                for _ in range(a.reps):
                    t0 = time.perf_counter()
                    req.infer({'input': x})
                    ts.append((time.perf_counter() - t0) * 1e3)
                print(json.dumps({'peer': 'openvino ' + ov.__version__, 'precision': name, 'size': S,
                                  'threads': a.threads, 'median_ms': round(statistics.median(ts), 2),
                                  'min_ms': round(min(ts), 2), 'psnr_db': round(q, 1),
                                  'max_abs_vs_ort': float('%.3g' % diff)}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
