#!/usr/bin/env python3
"""The student's training code (weights/distill/, make test; needs python3-torch, skipped with
the reason where it is missing): the loss against sums written out here, growing the RGB
output layer or adding full-resolution refine blocks keeps the function, and a student exported by student.export() computes in the
engine (cartoonize) what PyTorch computes, for the shapes training can produce (5 x 5 output
layer included)."""
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "support"))
from checks import Checks  # noqa: E402

T = Checks()
BUILD = os.environ.get("CARTOON_BUILD", "build")
CARTOONIZE = os.path.join(BUILD, "cartoonize")


def imports():
    """The training modules, or the reason they cannot be imported."""
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError as e:
        return None, "python3 %s is not installed (apt-get install python3-torch python3-pil)" % e.name
    sys.path.insert(0, os.path.join(HERE, "..", "weights", "distill"))
    import student
    import train
    return (student, train), None


def randomize(model, torch, seed):
    """Weights and biases large enough that every layer matters (a fresh model's biases are
    small and its output is close to the input)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.4 if p.dim() == 1 else 0.6 / max(1, p[0].numel()) ** 0.5))


def case_loss(mods):
    import numpy as np
    import torch
    _, train = mods
    rng = np.random.default_rng(1)
    b = train.BAND
    y = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 2 * b + 5, 2 * b + 4)).astype(np.float32))
    t = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 2 * b + 5, 2 * b + 4)).astype(np.float32))
    yi, ti = y.numpy()[..., b:-b, b:-b].astype(np.float64), t.numpy()[..., b:-b, b:-b].astype(np.float64)
    for kind, err in (("l1", abs), ("mse", lambda d: d * d)):
        per = []
        for n in range(2):
            d = yi[n] - ti[n]
            c, h, w = d.shape
            pix = sum(err(d[ci, r, q]) for ci in range(c) for r in range(h) for q in range(w)) / d.size
            gx = sum(err(d[ci, r, q + 1] - d[ci, r, q]) for ci in range(c) for r in range(h) for q in range(w - 1))
            gy = sum(err(d[ci, r + 1, q] - d[ci, r, q]) for ci in range(c) for r in range(h - 1) for q in range(w))
            per.append(pix + 0.5 * (gx / (c * h * (w - 1)) + gy / (c * (h - 1) * w)))
        got = float(train.loss_fn(y, t, None, kind))
        T.check(abs(got - np.mean(per)) <= 1e-5 * abs(np.mean(per)), "%s loss %r, by hand %r" % (kind, got, np.mean(per)))
        wts = torch.tensor([1.0, 3.0])
        got = float(train.loss_fn(y, t, wts, kind))
        want = (per[0] + 3 * per[1]) / 4
        T.check(abs(got - want) <= 1e-5 * abs(want), "%s weighted loss %r, by hand %r" % (kind, got, want))


def grown(torch, before, seed, grow, after):
    """before (randomized from seed) after one Adam step, its state and Adam's grown by
    grow(state, opt_state) and loaded into after. Returns the input, the largest difference
    between the two models' outputs on it, and the grown state and Adam state."""
    randomize(before, torch, seed)
    opt = torch.optim.Adam(before.parameters(), lr=1e-3)
    x = torch.rand(2, 3, 36, 44) * 2 - 1
    before(x).abs().mean().backward()
    opt.step()  # Adam's moments exist now
    before.eval()
    state, opt_state = before.state_dict(), opt.state_dict()
    grow(state, opt_state)
    after.load_state_dict(state)
    after.eval()
    with torch.no_grad():
        d = float((after(x) - before(x)).abs().max())
    return x, d, state, opt_state


def case_grow(mods):
    import torch
    student, _ = mods
    torch.manual_seed(2)
    m3, m5 = student.Student(8), student.Student(8, 5)
    x, d, state, opt_state = grown(torch, m3, 3, lambda st, op: student.grow_out_conv(st, op, 5), m5)
    T.check(tuple(state["out_conv.conv.weight"].shape) == (3, 8, 5, 5), "grown weight shape")
    T.check(d <= 1e-6, "grown model differs by %g" % d)
    opt5 = torch.optim.Adam(m5.parameters(), lr=1e-3)
    opt5.load_state_dict(opt_state)
    m5.train()
    m5(x).abs().mean().backward()
    opt5.step()  # the moments' shapes match the grown weight, or this raises
    T.check(float(m5.out_conv.conv.weight[:, :, 0, 0].abs().sum()) > 0, "the new taps train")
    try:
        student.grow_out_conv(m5.state_dict(), None, 3)
        T.check(False, "shrinking the output layer was accepted")
    except ValueError:
        pass


def case_grow_refine(mods):
    import torch
    student, _ = mods
    torch.manual_seed(6)
    m0, m1 = student.Student(8, 5), student.Student(8, 5, refine=1)
    x, d, state, opt_state = grown(torch, m0, 7, lambda st, op: student.grow_refine(st, op, m1), m1)
    T.check(d <= 1e-6, "model with a refine block grown in differs by %g" % d)
    T.check(float(m1.refine[0].dw.conv.weight.abs().sum()) > 0, "the refine block's depthwise starts random")
    opt1 = torch.optim.Adam(m1.parameters(), lr=1e-3)
    opt1.load_state_dict(opt_state)  # raises if the parameter lists do not match
    m1.train()
    for _ in range(2):  # the first step moves only the pointwise (its input gradient is zero)
        opt1.zero_grad()
        m1(x).abs().mean().backward()
        opt1.step()
    T.check(float(m1.refine[0].pw.conv.weight.abs().sum()) > 0, "the refine block's pointwise trains")
    T.check(float((m1.refine[0].dw.conv.weight - state["refine.0.dw.conv.weight"]).abs().sum()) > 0,
            "the refine block's depthwise trains")
    T.check(float((m1.stem.conv.weight - m0.stem.conv.weight).abs().sum()) > 0, "the old layers keep training")
    try:
        student.grow_refine(student.Student(8, 3).state_dict(), None, m1)
        T.check(False, "a checkpoint with another output layer was accepted")
    except (ValueError, RuntimeError):
        pass


def case_grow_res(mods):
    import torch
    student, _ = mods
    torch.manual_seed(12)
    m4, m5 = student.Student(8, 5), student.Student(8, 5, res=5)
    before = {}

    def grow(st, op):
        before.update({i: v["exp_avg_sq"].clone() for i, v in op["state"].items()})
        student.grow_res(st, op, m5)
    x, d, state, opt_state = grown(torch, m4, 13, grow, m5)
    T.check(d <= 1e-6, "model with a residual block grown in differs by %g" % d)
    T.check(list(state) == list(m5.state_dict()), "grown state is not in the model's order")
    opt5 = torch.optim.Adam(m5.parameters(), lr=1e-3)
    opt5.load_state_dict(opt_state)  # raises if the parameter lists do not match
    # each old parameter keeps its own moments under its new index
    old_names = list(m4.state_dict())
    new_names = list(m5.state_dict())
    for n in ("u1_pw.conv.weight", "out_conv.conv.bias", "res.3.1.pw.conv.weight"):
        i, k = old_names.index(n), new_names.index(n)
        T.check(k in opt_state["state"] and torch.equal(opt_state["state"][k]["exp_avg_sq"], before[i]),
                "%s: its Adam moments were not carried to index %d" % (n, k))
    T.check(not any(new_names.index(n) in opt_state["state"] for n in new_names if n.startswith("res.4.")),
            "the new block has moments")
    m5.train()
    for _ in range(2):  # the first step moves only the zero pointwise (the input gradient is zero)
        opt5.zero_grad()
        m5(x).abs().mean().backward()
        opt5.step()
    T.check(float(m5.res[4][1].pw.conv.weight.abs().sum()) > 0, "the new block's second pointwise trains")
    T.check(float((m5.res[4][0].dw.conv.weight - state["res.4.0.dw.conv.weight"]).abs().sum()) > 0,
            "the new block's depthwise trains")


def case_export_script(mods):
    """export.py builds the checkpoint's architecture (width, output window, refine blocks) and
    writes the golden from the fp16-rounded weights."""
    import json
    import struct
    import numpy as np
    import torch
    student, _ = mods
    torch.manual_seed(8)
    m = student.Student(8, 5, 1)
    randomize(m, torch, 9)
    with tempfile.TemporaryDirectory() as d:
        ck, out, gold = os.path.join(d, "c.pt"), os.path.join(d, "s.safetensors"), os.path.join(d, "g.npy")
        torch.save({"model": m.state_dict(), "step": 7, "width": 8, "out_k": 5, "refine": 1}, ck)
        r = subprocess.run([sys.executable, os.path.join(HERE, "..", "weights", "distill", "export.py"), ck, out,
                            "--golden", gold], capture_output=True, text=True)
        if not T.check(r.returncode == 0, "export.py exit %d: %s" % (r.returncode, r.stderr.strip()[-300:])):
            return
        with open(out, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        names = [nd["name"] for nd in json.loads(header["__metadata__"]["graph"])["nodes"]]
        T.check(["f0_dw", "f0_pw", "f0_add"] == [x for x in names if x.startswith("f")][:3], "refine nodes %s" % names)
        T.check(header["out_conv.weight"]["shape"] == [3, 5, 5, 8], "out_conv %s" % header["out_conv.weight"]["shape"])
        got = np.load(gold)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.half().float())
        h, w = got.shape[:2]
        yy, xx, cc = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
        rgb = ((xx * 7 + yy * 13 + cc * 50 + (xx * yy) % 23 * 5) % 256).astype(np.float32)  # test_student.c's input
        x = torch.from_numpy(rgb[..., ::-1].copy()).permute(2, 0, 1)[None] / 127.5 - 1
        xp = torch.nn.functional.pad(x, (0, -w % 4, 0, -h % 4), mode="replicate")
        want = m(xp)[0, :, :h, :w].permute(1, 2, 0).numpy()
    d = float(np.abs(got - want).max())
    T.check(d <= 1e-5, "golden differs from the fp16 model's forward by %g" % d)


def case_load_model_file(mods):
    """load_model_file() inverts export(): the same architecture and weights (F32 exactly, F16
    as the fp16-rounded values), and a file that is no student is refused."""
    import torch
    student, _ = mods
    for k, refine, res, dtype in ((3, 0, 4, "F32"), (5, 2, 4, "F32"), (5, 1, 4, "F16"), (5, 0, 5, "F32")):
        m = student.Student(8, k, refine, res)
        randomize(m, torch, 11 + k + refine)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s.safetensors")
            student.export(m, path, dtype)
            got = student.load_model_file(path)
        T.check((got.widths, got.out_k, len(got.refine), len(got.res)) == (m.widths, k, refine, res),
                "architecture read back as %s, %d, %d, %d" % (got.widths, got.out_k, len(got.refine), len(got.res)))
        want, back = m.state_dict(), got.state_dict()
        if not T.check(list(want) == list(back), "parameter names differ"):
            continue
        for n in want:
            w = want[n].half().float() if dtype == "F16" else want[n]
            T.check(torch.equal(back[n], w), "%s %s read back wrong (max diff %g)"
                    % (dtype, n, float((back[n] - w).abs().max())))
    teacher = os.path.join(BUILD, "test-model.safetensors")  # the White-box graph, random weights
    with tempfile.TemporaryDirectory() as d:
        other = os.path.join(d, "t.safetensors")
        m = student.Student(8, 3)
        student.export(m, other, "F32")
        with open(other, "r+b") as f:  # rename a tensor: the file is then no student's
            raw = f.read()
            f.seek(0)
            f.write(raw.replace(b'"u2_pw.bias"', b'"u9_pw.bias"', 1))
        for path in (other, teacher) if os.path.exists(teacher) else (other,):
            try:
                student.load_model_file(path)
                T.check(False, "%s was read as a student" % os.path.basename(path))
            except (ValueError, KeyError):
                pass


def case_engine(mods, out_k, refine=0, res=4):
    import numpy as np
    import torch
    from PIL import Image
    student, train = mods
    torch.manual_seed(4)
    m = student.Student(8, out_k, refine, res)
    randomize(m, torch, 5 + out_k + refine + res)
    m.eval()
    h, w = 44, 60  # multiples of 4: the engine then neither pads nor crops
    yy, xx, cc = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    rgb = ((xx * 11 + yy * 7 + cc * 60 + (xx * yy) % 29 * 4) % 256).astype(np.uint8)
    with tempfile.TemporaryDirectory() as d:
        model, src, dst = os.path.join(d, "s.safetensors"), os.path.join(d, "in.png"), os.path.join(d, "out.png")
        student.export(m, model, "F32")
        Image.fromarray(rgb).save(src)
        r = subprocess.run([CARTOONIZE, "--no-cache", "--round", "--progress", "none", "--device", "cpu",
                            "-m", model, src, "-o", dst], capture_output=True, text=True)
        if not T.check(r.returncode == 0, "cartoonize exit %d: %s" % (r.returncode, r.stderr.strip())):
            return
        got = np.asarray(Image.open(dst).convert("RGB")).astype(np.int32)
    with torch.no_grad():
        y = m(train.to_model(rgb)[None])[0].permute(1, 2, 0).numpy()[..., ::-1]
    want = np.clip((y.astype(np.float64) + 1) * 127.5, 0, 255).round().astype(np.int32)
    diff = np.abs(got - want)
    T.check(diff.max() <= 1, "engine vs PyTorch: max difference %d levels" % diff.max())
    T.check((diff == 0).mean() >= 0.99, "engine vs PyTorch: only %.3f of the values equal" % (diff == 0).mean())
    T.check(np.abs(want.astype(np.int32) - rgb).mean() > 4, "the model barely changes the picture: a weak check")


def main():
    mods, why = imports()
    debian = "/usr/bin/python3"
    if why and os.path.exists(debian) and os.path.realpath(sys.executable) != os.path.realpath(debian) \
            and not os.environ.get("CARTOON_TEST_REEXEC"):
        # apt's python3-torch is in Debian's python; the python3 on PATH may be another one
        os.environ["CARTOON_TEST_REEXEC"] = "1"
        os.execv(debian, [debian] + sys.argv)
    if why:
        T.skip("distill tests", why)
        return T.summary()
    T.case("distill_loss_matches_sums", case_loss, mods)
    T.case("distill_grow_out_conv_keeps_the_function", case_grow, mods)
    T.case("distill_grow_refine_keeps_the_function", case_grow_refine, mods)
    T.case("distill_export_script_builds_the_checkpoints_model", case_export_script, mods)
    T.case("distill_grow_res_keeps_the_function", case_grow_res, mods)
    T.case("distill_load_model_file_inverts_export", case_load_model_file, mods)
    if not os.access(CARTOONIZE, os.X_OK):
        T.skip("distill_export_runs_in_the_engine", "no %s (make first)" % CARTOONIZE)
    else:
        T.case("distill_export_runs_in_the_engine_3x3", case_engine, mods, 3)
        T.case("distill_export_runs_in_the_engine_5x5", case_engine, mods, 5)
        T.case("distill_export_runs_in_the_engine_refine", case_engine, mods, 5, 1)
        T.case("distill_export_runs_in_the_engine_5_res_blocks", case_engine, mods, 5, 0, 5)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
