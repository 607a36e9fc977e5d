"""Distils the student from the teacher's outputs made by gather_photos.py + cartoonize.

    python3 train.py DATA_DIR RUN_DIR --minutes 60 [--width 40] [--threads 2]
    python3 train.py DATA_DIR RUN_DIR --steps 6000 ...   (a schedule in steps, not minutes)
    python3 train.py PACK_DIR RUN_DIR --device cuda --minutes 4 --batch 32   (on a GPU machine;
        PACK_DIR from pack_data.py, scripts/gpu-train.sh runs it there)

Trains on random aligned crops (input, teacher output): L1 on the final output (after the
guided filter, as the engine runs it) plus 0.5 x L1 on its horizontal and vertical differences,
an 8 px band at every crop edge left out of the loss (the teacher saw the whole image there);
--loss mse squares the differences instead; --out-k 5 widens the RGB output layer's window,
growing a resumed 3 x 3 checkpoint with zero taps (the same function to start from);
--refine N adds N residual depthwise + pointwise blocks at full resolution before it, grown
into a resumed checkpoint with zero pointwise weights (again the same function to start from);
--res N makes the quarter-resolution trunk N residual blocks instead of 4, grown likewise;
--balance P weights each photo's loss by (median / MSE(input, teacher))^P (tried at 0.5 on the
fourth schedule: no difference in the held-out or training-photo scores; off by default).
Adam with a warm-up and a cosine decay over the wall-clock budget (or over --steps). A checkpoint is written to
RUN_DIR every few minutes and at the end; running the same command again resumes from it (the
budget is the total); --init MODEL_FILE starts a new RUN_DIR from a student model file's
weights (the checkpoint lost: fine-tune the committed file). The held-out photos are scored now and then for the log only: the
checkpoint kept is the last one, never one chosen on held-out scores.
At the end RUN_DIR/cartoon-student.safetensors is exported (fp16).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from student import Student, export, grow_out_conv, grow_refine, grow_res, load_model_file  # noqa: E402

BAND = 8


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def to_model(a, device="cpu"):
    """uint8 RGB [N x] H x W x 3 -> float BGR [-1, 1], [N x] 3 x H x W, on device. The bytes
    travel as bytes and are converted there (a quarter of the copy to a GPU)."""
    t = torch.from_numpy(np.require(a, requirements=["C", "W"])).to(device)  # read-only arrays are copied
    return t.flip(-1).movedim(-1, -3).float() / 127.5 - 1


def load_split(data, split):
    man = json.load(open(os.path.join(data, "manifest.json")))[split]
    pairs = []
    for it in man:
        x = load_rgb(os.path.join(data, split, "in", it["file"]))
        t = load_rgb(os.path.join(data, split, "teacher", it["file"]))
        assert x.shape == t.shape, it["file"]
        pairs.append((it["file"], it["kind"], x, t))
    return pairs


def loss_fn(y, t, w=None, kind="l1"):
    """w: one weight per crop (the result is their weighted mean), or None for all equal.
    kind "l1": absolute differences; "mse": squared ones, the measure the captured score
    divides (L1's optimum is the median of what the teacher does to similar pixels, MSE's the
    mean, and the captured score scores the mean)."""
    y, t = y[..., BAND:-BAND, BAND:-BAND], t[..., BAND:-BAND, BAND:-BAND]
    dims = (1, 2, 3)
    err = (lambda d: d.abs()) if kind == "l1" else (lambda d: d * d)
    pix = err(y - t).mean(dims)
    gx = err((y[..., :, 1:] - y[..., :, :-1]) - (t[..., :, 1:] - t[..., :, :-1])).mean(dims)
    gy = err((y[..., 1:, :] - y[..., :-1, :]) - (t[..., 1:, :] - t[..., :-1, :])).mean(dims)
    per = pix + 0.5 * (gx + gy)
    return per.mean() if w is None else (per * w).sum() / w.sum()


def balance_weights(train, power):
    """Per-image loss weights (median / MSE(input, teacher))^power, clipped to [1/3, 3]. The
    held-out score, captured = 1 - MSE(S,T) / MSE(I,T), divides each photo's error by how much
    the teacher changed it, so a photo the teacher barely changes counts for more there than
    its area does in an unweighted loss; power 0.5 moves the loss part of the way."""
    m = np.array([((x.astype(np.float32) - t) ** 2).mean() for _, _, x, t in train])
    return np.clip((np.median(m) / np.maximum(m, 1e-3)) ** power, 1 / 3, 3)


def held_out_scores(model, pairs, device="cpu"):
    """Mean PSNR(student, teacher) and captured = 1 - MSE(S,T)/MSE(I,T), on 8-bit values."""
    model.eval()
    ps, caps = [], []
    with torch.no_grad():
        for _, _, x, t in pairs:
            h, w = x.shape[0] // 4 * 4, x.shape[1] // 4 * 4
            xi, ti = x[:h, :w], t[:h, :w].astype(np.float64)
            y = model(to_model(xi, device)[None])[0].cpu()
            s = np.clip((y.permute(1, 2, 0).numpy()[..., ::-1] + 1) * 127.5, 0, 255).round()
            mse_st = ((s - ti) ** 2).mean()
            mse_it = ((xi.astype(np.float64) - ti) ** 2).mean()
            ps.append(10 * math.log10(255 ** 2 / max(mse_st, 1e-12)))
            caps.append(1 - mse_st / mse_it)
    model.train()
    return float(np.mean(ps)), float(np.mean(caps)), float(np.min(caps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("run")
    ap.add_argument("--minutes", type=float, default=60)
    # the cosine over steps instead of wall-clock minutes: on a machine shared with other work
    # a wall-clock schedule ends early in steps (a run here got 3.4k steps in 80 minutes alone
    # and under 1k while two builds ran); with --steps it trains as much, only later
    ap.add_argument("--steps", type=int, default=0, help="train this many steps (overrides --minutes)")
    ap.add_argument("--width", type=int, default=40)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--crop", type=int, default=160)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto (cuda where torch sees a GPU)")
    ap.add_argument("--warm-restart", action="store_true",
                    help="resume the weights and Adam's moments but start a new schedule (warm-up, then "
                         "the cosine over this run's --minutes or --steps): fine-tuning a trained student")
    ap.add_argument("--checkpoint-minutes", type=float, default=3)
    ap.add_argument("--eval-minutes", type=float, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--balance", type=float, default=0,
                    help="weight each photo's loss by (median / MSE(input, teacher))^BALANCE (0: off)")
    ap.add_argument("--out-k", type=int, default=0,
                    help="the RGB output convolution's kernel (default 3, or the checkpoint's); a larger "
                         "one than the checkpoint's grows it with zeros: the same function, more capacity")
    ap.add_argument("--refine", type=int, default=-1,
                    help="full-resolution residual blocks before the RGB output (default the checkpoint's, "
                         "or 0); more than the checkpoint has are grown in with zero pointwise weights")
    ap.add_argument("--init", metavar="MODEL_FILE",
                    help="start from the weights of a student model file (export()'s, e.g. the committed "
                         "one; fp16 values, Adam's moments from zero) when RUN_DIR has no checkpoint yet: "
                         "fine-tuning when the checkpoint is lost; its width, window and refine blocks "
                         "override --width")
    ap.add_argument("--res", type=int, default=-1,
                    help="quarter-resolution residual blocks (default the checkpoint's, or 4); more than "
                         "the checkpoint has are grown in with a zero second pointwise (the same function)")
    ap.add_argument("--loss", choices=("l1", "mse"), default="l1",
                    help="absolute or squared differences (on the output and its x and y differences)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                       "cpu" if a.device == "auto" else a.device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop shapes: the fastest algorithms, found once
    os.makedirs(a.run, exist_ok=True)
    ck = os.path.join(a.run, "checkpoint.pt")
    log = open(os.path.join(a.run, "train.log"), "a")

    def say(*args):
        s = " ".join(str(x) for x in args)
        print(s, flush=True)
        log.write(s + "\n")
        log.flush()

    train = load_split(a.data, "train")
    held = load_split(a.data, "held_out")
    areas = np.array([p[2].shape[0] * p[2].shape[1] for p in train], dtype=np.float64)
    prob = areas / areas.sum()
    weights = balance_weights(train, a.balance) if a.balance > 0 else None
    say("train images", len(train), "(%.1f MP)" % (areas.sum() / 1e6), "held-out", len(held),
        "loss", a.loss, "device", dev, torch.cuda.get_device_name(dev) if dev.type == "cuda" else "%d threads" % a.threads)

    torch.manual_seed(a.seed)
    st = torch.load(ck, map_location=dev) if os.path.exists(ck) else None
    if st is None and a.init:
        init = load_model_file(a.init)
        st = {"model": init.state_dict(), "opt": None, "step": 0, "elapsed": 0.0,
              "out_k": init.out_k, "refine": len(init.refine), "res": len(init.res)}
        a.width = init.widths[0]
        say("initialised from", a.init, "(S%d, %d x %d output, %d refine blocks, %d residual blocks)"
            % (a.width, init.out_k, init.out_k, len(init.refine), len(init.res)))
    elif st is not None:
        a.width = st.get("width", a.width)
    out_k = a.out_k or (st.get("out_k", 3) if st else 3)
    refine = a.refine if a.refine >= 0 else (st.get("refine", 0) if st else 0)
    res = a.res if a.res >= 0 else (st.get("res", 4) if st else 4)
    model = Student(a.width, out_k, refine, res).to(dev, memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    step, elapsed = 0, 0.0
    rng = np.random.default_rng(a.seed)
    if st:
        if st.get("refine", 0) != refine and st.get("res", 4) != res:
            raise SystemExit("grow refine blocks and residual blocks in separate runs")
        if st.get("out_k", 3) != out_k:
            grow_out_conv(st["model"], st["opt"], out_k)
            say("RGB output convolution grown from %d x %d to %d x %d (zero taps: the same function)"
                % (st.get("out_k", 3), st.get("out_k", 3), out_k, out_k))
        if st.get("refine", 0) != refine:
            if st.get("refine", 0) > refine:
                raise SystemExit("the checkpoint has %d refine blocks; --refine %d would drop some"
                                 % (st.get("refine", 0), refine))
            grow_refine(st["model"], st["opt"], model)
            say("%d full-resolution refine block(s) grown in (zero pointwise weights: the same function)"
                % (refine - st.get("refine", 0)))
        if st.get("res", 4) != res:
            if st.get("res", 4) > res:
                raise SystemExit("the checkpoint has %d residual blocks; --res %d would drop some" % (st.get("res", 4), res))
            grow_res(st["model"], st["opt"], model)
            say("%d quarter-resolution residual block(s) grown in (zero second pointwise: the same function)"
                % (res - st.get("res", 4)))
        model.load_state_dict(st["model"])
        if st["opt"] is not None:
            opt.load_state_dict(st["opt"])
        step, elapsed = st["step"], st["elapsed"]
        rng = np.random.default_rng(a.seed + step)
        if st["opt"] is not None:
            say("resumed at step", step, "after %.1f min" % (elapsed / 60))
        if a.warm_restart:
            step, elapsed = 0, 0.0
            say("warm restart: a new schedule from step 0")
    budget = a.minutes * 60
    warm = 150

    def save():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": elapsed, "width": a.width, "out_k": out_k,
                    "refine": refine, "res": res}, ck + ".tmp")
        os.replace(ck + ".tmp", ck)

    t0 = time.time() - elapsed
    last_ck = last_ev = time.time()
    run_loss = 0.0
    t50, s50 = time.time(), step  # when and at which step the last step line was written
    c = a.crop
    while (step < a.steps) if a.steps > 0 else (elapsed < budget):
        frac = step / a.steps if a.steps > 0 else elapsed / budget
        lr = a.lr * min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        xs = np.empty((a.batch, c, c, 3), np.uint8)
        ts = np.empty_like(xs)
        picked = rng.choice(len(train), size=a.batch, p=prob)
        for i in range(a.batch):
            _, _, x, t = train[picked[i]]
            h, w = x.shape[:2]
            y0, x0 = rng.integers(0, h - c + 1), rng.integers(0, w - c + 1)
            xs[i], ts[i] = x[y0:y0 + c, x0:x0 + c], t[y0:y0 + c, x0:x0 + c]
        xb = to_model(xs, dev).contiguous(memory_format=torch.channels_last)
        tb = to_model(ts, dev)
        wb = None if weights is None else torch.tensor(weights[picked], dtype=torch.float32, device=dev)
        loss = loss_fn(model(xb), tb, wb, a.loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run_loss += loss.item()
        elapsed = time.time() - t0
        now = time.time()
        if step % 50 == 0:
            say("step %d  %.1f min  lr %.2e  loss %.4f  %.0f ms/step" % (step, elapsed / 60, lr, run_loss / (step - s50),
                                                                      (now - t50) * 1000 / (step - s50)))
            run_loss = 0.0
            t50, s50 = now, step
        if now - last_ck > a.checkpoint_minutes * 60:
            save()
            last_ck = now
        if now - last_ev > a.eval_minutes * 60:
            p, cap, worst = held_out_scores(model, held, dev)
            say("held-out at %.1f min: PSNR(S,T) %.2f dB  captured %.3f (worst %.3f)" % (elapsed / 60, p, cap, worst))
            last_ev = time.time()
            t0 += last_ev - now  # scoring is not training time
            t50 += last_ev - now
    save()
    p, cap, worst = held_out_scores(model, held, dev)
    say("final at step %d, %.1f min: held-out PSNR(S,T) %.2f dB  captured %.3f (worst %.3f)" % (step, elapsed / 60, p, cap, worst))
    model.eval()
    export(model, os.path.join(a.run, "cartoon-student.safetensors"), "F16",
           source="libcartoon student S%d distilled from the White-box cartoonizer's outputs "
                  "(CC BY-NC-SA 4.0, Xinrui Wang and Jinze Yu); see weights/student/NOTICE.md" % a.width)
    say("exported", os.path.join(a.run, "cartoon-student.safetensors"))


if __name__ == "__main__":
    main()
