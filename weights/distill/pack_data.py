"""Packs a DATA_DIR made by gather_photos.py + cartoonize into PACK_DIR, small enough to travel
to a GPU machine (the device tool carries at most 64 MiB with the working tree, and the GPU
machine has neither the Debian photo packages nor a build of the teacher):

    python3 pack_data.py DATA_DIR PACK_DIR [--quality 90]

Training pairs (input and teacher output) become lossy WebP, both at the same quality; at 90
they decode to about 37.6 dB PSNR of the PNGs (worst 33 dB; 16 random pairs here; quality 95:
38.9 dB, 1.4x the bytes), far below the student's own error (about 27.6 dB against the
teacher), so the loss sees the same signal. With the 63 photos of DATA.md the pack is 48.4 MiB
at 90 (69 MiB at 95, more than the device tool carries). The held-out photos are copied as they
are (PNG, exact), so held-out scores logged during training mean what they mean on the CPU.
PACK_DIR has the DATA_DIR layout (manifest.json, train/{in,teacher}, held_out/{in,teacher}) and
train.py reads it as a DATA_DIR.
Nothing packed is committed: the teacher's outputs carry its licence (CC BY-NC-SA).
"""
import argparse
import json
import os
import shutil
import sys

from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("pack")
    ap.add_argument("--quality", type=int, default=90)
    a = ap.parse_args()
    man = json.load(open(os.path.join(a.data, "manifest.json")))
    out = {}
    total = 0
    for split, items in man.items():
        out[split] = []
        for sub in ("in", "teacher"):
            os.makedirs(os.path.join(a.pack, split, sub), exist_ok=True)
        for it in items:
            it = dict(it)
            for sub in ("in", "teacher"):
                src = os.path.join(a.data, split, sub, it["file"])
                if split == "train":
                    dst = os.path.join(a.pack, split, sub, os.path.splitext(it["file"])[0] + ".webp")
                    Image.open(src).convert("RGB").save(dst, "WEBP", quality=a.quality, method=6)
                else:
                    dst = os.path.join(a.pack, split, sub, it["file"])
                    shutil.copyfile(src, dst)
                total += os.path.getsize(dst)
            if split == "train":
                it["file"] = os.path.splitext(it["file"])[0] + ".webp"
            out[split].append(it)
    with open(os.path.join(a.pack, "manifest.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("packed %s into %s: %s, %.1f MiB" % (
        a.data, a.pack, ", ".join("%d %s pairs" % (len(v), k) for k, v in out.items()), total / 2**20))
    if total > 56 * 2**20:
        print("warning: over 56 MiB: with the working tree it may not fit the device tool's 64 MiB; "
              "use a lower --quality", file=sys.stderr)


if __name__ == "__main__":
    main()
