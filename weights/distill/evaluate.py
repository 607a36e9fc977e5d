"""Scores a student model file against the teacher on the held-out photos, both run by
libcartoon's own `cartoonize` (so this measures what users get, fp16 weights included):

    python3 evaluate.py DATA_DIR STUDENT.safetensors --cartoonize build/cartoonize
        [--table out.md] [--montage docs/student-montage.jpg]

    python3 evaluate.py DATA_DIR STUDENT.safetensors --training-photos ...

With --training-photos it scores the photos the student was trained on instead (each at its
largest training size up to 512, not mirrored or jittered): how well the student fits what it
saw, against which the held-out score tells how much it generalises.

Per image: PSNR(S,T), PSNR(I,T), captured = 1 - MSE(S,T)/MSE(I,T) (the fraction of the
teacher's change the student reproduces), SSIM(S,T) and SSIM(I,T) (8-bit RGB, whole image).
"""
import argparse
import json
import math
import os
import re
import subprocess
import tempfile

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity


def rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def psnr(a, b):
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()
    return 10 * math.log10(255 ** 2 / max(mse, 1e-12)), mse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("student")
    ap.add_argument("--cartoonize", default="build/cartoonize")
    ap.add_argument("--table")
    ap.add_argument("--montage")
    ap.add_argument("--training-photos", action="store_true",
                    help="score the training photos (largest size <= 512, plain) instead of the held-out ones")
    a = ap.parse_args()
    man = json.load(open(os.path.join(a.data, "manifest.json")))
    split = "train" if a.training_photos else "held_out"
    tmp = tempfile.mkdtemp(prefix="student-eval-")
    if a.training_photos:
        best = {}
        for it in man["train"]:
            m = re.fullmatch(r"(.*)_(\d+)\.png", it["file"])  # STEM_SIZE.png: not _flip or _jit
            if m and int(m.group(2)) <= 512 and (m.group(1) not in best or best[m.group(1)][0] < int(m.group(2))):
                best[m.group(1)] = (int(m.group(2)), it)
        held = [best[k][1] for k in sorted(best)]
        src = os.path.join(tmp, "in")
        os.makedirs(src)
        for it in held:
            os.symlink(os.path.abspath(os.path.join(a.data, "train", "in", it["file"])), os.path.join(src, it["file"]))
    else:
        held = man["held_out"]
        src = os.path.join(a.data, "held_out", "in")
    subprocess.run([a.cartoonize, "--no-cache", "--round", "--progress", "none", "-m", a.student,
                    src, "-o", tmp + "/", "-f", "png"], check=True)
    rows = []
    for it in held:
        i = rgb(os.path.join(a.data, split, "in", it["file"]))
        t = rgb(os.path.join(a.data, split, "teacher", it["file"]))
        s = rgb(os.path.join(tmp, it["file"]))
        p_st, m_st = psnr(s, t)
        p_it, m_it = psnr(i, t)
        rows.append({"image": os.path.splitext(it["file"])[0], "kind": it["kind"],
                     "size": "%dx%d" % (i.shape[1], i.shape[0]), "psnr_st": p_st, "psnr_it": p_it,
                     "captured": 1 - m_st / m_it,
                     "ssim_st": structural_similarity(s, t, channel_axis=2, data_range=255),
                     "ssim_it": structural_similarity(i, t, channel_axis=2, data_range=255)})
    keys = ("psnr_st", "psnr_it", "captured", "ssim_st", "ssim_it")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    worst = min(rows, key=lambda r: r["captured"])
    lines = ["| image | kind | size | PSNR(S,T) dB | PSNR(I,T) dB | captured | SSIM(S,T) | SSIM(I,T) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %s | %.2f | %.2f | %.3f | %.3f | %.3f |" % (
            r["image"], r["kind"], r["size"], r["psnr_st"], r["psnr_it"], r["captured"], r["ssim_st"], r["ssim_it"]))
    lines.append("| **mean of %d** | | | %.2f | %.2f | %.3f | %.3f | %.3f |" % (
        len(rows), mean["psnr_st"], mean["psnr_it"], mean["captured"], mean["ssim_st"], mean["ssim_it"]))
    lines.append("")
    lines.append("worst captured: %s %.3f" % (worst["image"], worst["captured"]))
    text = "\n".join(lines)
    print(text)
    if a.table:
        open(a.table, "w").write(text + "\n")
    if a.montage:
        picks = [r["image"] for r in rows[:6]]
        th = 256
        tiles = []
        for name in picks:
            row = []
            for d in (os.path.join(a.data, split, "in"), os.path.join(a.data, split, "teacher"), tmp):
                im = Image.open(os.path.join(d, name + ".png")).convert("RGB")
                im.thumbnail((th * 3 // 2, th))
                row.append(im)
            tiles.append(row)
        # each row holds its three pictures side by side (they share a size), centred, so
        # narrow pictures leave margins at the row's ends rather than gaps between columns
        gap = 4
        rw = [sum(im.size[0] for im in row) + 2 * gap for row in tiles]
        sheet = Image.new("RGB", (max(rw), (th + gap) * len(tiles) - gap), "white")
        for y, row in enumerate(tiles):
            x = (max(rw) - rw[y]) // 2
            for im in row:
                sheet.paste(im, (x, y * (th + gap)))
                x += im.size[0] + gap
        sheet.save(a.montage, quality=88)
    json.dump({"rows": rows, "mean": mean}, open(os.path.join(tmp, "scores.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
