"""Writes the trained student as a libcartoon model file, plus the expected output that
tests/test_student.c compares the engine against (PyTorch's forward pass of the same fp16
weights on a synthetic input that the test regenerates):

    python3 export.py RUN_DIR/checkpoint.pt weights/student/cartoon-student.safetensors \
        [--golden weights/student/golden-70x50.npy]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from student import Student, export  # noqa: E402

GOLDEN_W, GOLDEN_H = 70, 50  # not multiples of 4: the engine pads and crops


def golden_input():
    """8-bit RGB, H x W x 3: the same formula as tests/test_student.c."""
    y, x, c = np.meshgrid(np.arange(GOLDEN_H), np.arange(GOLDEN_W), np.arange(3), indexing="ij")
    return ((x * 7 + y * 13 + c * 50 + (x * y) % 23 * 5) % 256).astype(np.uint8)


def write_npy(path, a):
    np.save(path + ".tmp.npy", a.astype("<f4"))
    os.replace(path + ".tmp.npy", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--golden")
    a = ap.parse_args()
    st = torch.load(a.checkpoint, map_location="cpu")
    m = Student(st.get("width", 40), st.get("out_k", 3), st.get("refine", 0), st.get("res", 4))
    m.load_state_dict(st["model"])
    m.eval()
    with torch.no_grad():  # the file stores fp16: run the golden with exactly those values
        for p in m.parameters():
            p.copy_(p.half().float())
    export(m, a.out, "F16",
           source="libcartoon student S%d (step %d) distilled from the White-box cartoonizer's outputs; "
                  "CC BY-NC-SA 4.0, crediting Xinrui Wang and Jinze Yu (see NOTICE.md)" % (m.widths[0], st["step"]))
    if a.golden:
        rgb = golden_input()
        x = torch.from_numpy(rgb[..., ::-1].astype(np.float32).copy()).permute(2, 0, 1)[None] / 127.5 - 1
        # the engine pads H and W up to a multiple of 4 by edge replication, runs, then crops
        ph, pw = -GOLDEN_H % 4, -GOLDEN_W % 4
        xp = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="replicate")
        with torch.no_grad():
            y = m(xp)[0, :, :GOLDEN_H, :GOLDEN_W].permute(1, 2, 0).numpy()  # BGR, model space
        write_npy(a.golden, y)
    print("wrote", a.out, "step", st["step"])


if __name__ == "__main__":
    main()
