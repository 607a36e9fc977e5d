#!/bin/sh
# Trains the student model (weights/distill/train.py) on a GPU machine in one device call.
# The GPU machine has PyTorch but neither the Debian photo packages nor the teacher, so the
# training pairs travel, packed here first:
#   here:   python3 weights/distill/pack_data.py DATA_DIR .distill-pack      (about 51 MiB)
#   there:  the device tool's run, carry [".distill-pack"], timeout_s 420:
#           OUT=$OUT sh scripts/gpu-train.sh
#   here:   weights/distill/evaluate.py on the returned cartoon-student.safetensors, as for a
#           CPU run (the engine, not PyTorch, gives the scores that are reported).
# .distill-pack (git-ignored) and the working tree travel together under the tool's 64 MiB, so
# this is a call of its own, not part of scripts/gpu-check.sh's (which carries 39 MiB).
# Environment: MINUTES (training wall-clock minutes, default 4: the cosine decay follows them),
#   WIDTH (40), BATCH (32), CROP (160), LR (2e-3), PACK (.distill-pack), RESUME (a checkpoint.pt
#   to fine-tune, carried too: its weights and Adam's moments, a new schedule of MINUTES; WIDTH
#   must be its width), LOSS (l1 or mse, train.py --loss; default l1), OUT_K (the RGB output
#   layer's kernel, train.py --out-k; default the checkpoint's, else 3; larger than a resumed
#   checkpoint's grows it with zero taps), REFINE (full-resolution residual blocks, train.py
#   --refine; default the checkpoint's, else 0; more than a resumed checkpoint's are grown in
#   keeping its function), RES (quarter-resolution residual blocks, train.py --res; default the
#   checkpoint's, else 4; likewise grown), INIT (a student model file to start from when there is
#   no RESUME, e.g. weights/student/cartoon-student.safetensors, which travels with the tree:
#   train.py --init, Adam's moments from zero, a new schedule; its width overrides WIDTH),
#   DEVICE (cuda; cpu runs the same steps here,
#   to try the script), PYTHON (python3: the one with torch), OUT (./gpu-train-out).
# Files in $OUT: machine.txt, train.log (held-out scores every minute, ms per step),
#   checkpoint.pt (resumable, here or there), cartoon-student.safetensors (fp16, the model file).
# Exit status: 0 trained and exported; 1 training failed; 2 no pack, no torch or no GPU.
set -u
MINUTES=${MINUTES:-4}
WIDTH=${WIDTH:-40}
BATCH=${BATCH:-32}
CROP=${CROP:-160}
LR=${LR:-2e-3}
PACK=${PACK:-.distill-pack}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
LOSS=${LOSS:-l1}
OUT_K=${OUT_K:-0}
REFINE=${REFINE:--1}
RES=${RES:--1}
INIT=${INIT:-}
OUT=${OUT:-$PWD/gpu-train-out}
cd "$(dirname "$0")/.." || exit 2
mkdir -p "$OUT" || exit 2
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
if [ ! -f "$PACK/manifest.json" ]; then
    echo "gpu-train: no $PACK/manifest.json: run weights/distill/pack_data.py here and carry $PACK" >&2
    exit 2
fi
{
    echo "gpu-train: $(date -u +%Y-%m-%dT%H:%M:%SZ) MINUTES=$MINUTES WIDTH=$WIDTH BATCH=$BATCH CROP=$CROP LR=$LR LOSS=$LOSS OUT_K=$OUT_K REFINE=$REFINE RES=$RES INIT=$INIT DEVICE=$DEVICE"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
    "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" 2>&1
    nproc
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"
if [ "$DEVICE" = cuda ] && ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu-train: torch sees no GPU (DEVICE=cpu to try the script without one)" >&2
    exit 2
fi
RUN=$OUT/run
mkdir -p "$RUN"
RESTART=
if [ -n "${RESUME:-}" ]; then
    cp "$RESUME" "$RUN/checkpoint.pt" || exit 2
    RESTART=--warm-restart
elif [ -n "$INIT" ]; then
    [ -f "$INIT" ] || { echo "gpu-train: INIT=$INIT: no such file" >&2; exit 2; }
    RESTART="--warm-restart --init $INIT"
fi
# A held-out score and a checkpoint every minute: a call cut short still returns a model.
PYTHONUNBUFFERED=1 "$PYTHON" weights/distill/train.py "$PACK" "$RUN" --device "$DEVICE" --minutes "$MINUTES" \
    --width "$WIDTH" --batch "$BATCH" --crop "$CROP" --lr "$LR" --threads "$(nproc)" \
    --loss "$LOSS" --out-k "$OUT_K" --refine "$REFINE" --res "$RES" --eval-minutes 1 --checkpoint-minutes 1 $RESTART
rc=$?
for f in train.log checkpoint.pt cartoon-student.safetensors; do
    [ -f "$RUN/$f" ] && mv "$RUN/$f" "$OUT/$f"
done
rm -rf "$RUN"
[ $rc -eq 0 ] || { echo "gpu-train: train.py failed ($rc)" >&2; exit 1; }
echo "gpu-train: done; $OUT holds train.log, checkpoint.pt, cartoon-student.safetensors"
