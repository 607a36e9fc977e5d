"""Shared by the cartoon-serve tests (tests/test_serve_*.py): finds the build, the model and a
reference photo and starts a server on a free loopback port; H.Checks is checks.py's counter."""
import functools
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from checks import Checks  # noqa: F401  (the tests use H.Checks)

BUILD = os.environ.get("CARTOON_BUILD", "build")
SHARED = os.environ.get("CARTOON_SHARED", "../shared")
SERVE = os.path.join(BUILD, "cartoon-serve")
CARTOONIZE = os.path.join(BUILD, "cartoonize")
PHOTO = os.path.join(SHARED, "images", "astronaut.png")  # 512 x 512 RGB


@functools.lru_cache(maxsize=None)
def model_path():
    """The suite's converted model; converted into a temporary file when the suite has not
    made it yet. None when the shared TFLite model is absent."""
    m = os.path.join(BUILD, "test-model.safetensors")
    if os.path.isfile(m):
        return m
    tfl = os.path.join(SHARED, "models", "whitebox_cartoon_gan_fp16.tflite")
    if not os.path.isfile(tfl):
        return None
    out = os.path.join(tempfile.mkdtemp(prefix="serve-test-"), "model.safetensors")
    subprocess.run([os.path.join(BUILD, "cartoon-convert"), tfl, out], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def missing_reason():
    """Why these tests cannot run here, or None."""
    if not os.path.isfile(SERVE):
        return f"no {SERVE} (build it: make)"
    if not os.path.isfile(PHOTO):
        return f"no reference photo {PHOTO} (shared data absent)"
    if not os.path.isfile(os.path.join(SHARED, "models", "whitebox_cartoon_gan_fp16.tflite")) \
            and not os.path.isfile(os.path.join(BUILD, "test-model.safetensors")):
        return "no model (shared data absent)"
    return None


class Server:
    """cartoon-serve on 127.0.0.1 with port 0: it binds a free port and prints it."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([SERVE, "-m", model_path(), "--listen", "127.0.0.1:0",
                                      "--no-calibrate", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.port = None
        self.log = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.log.append(line)
            if "listening on http://127.0.0.1:" in line:
                self.port = int(line.rsplit(":", 1)[1].strip().strip("/"))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("cartoon-serve did not start: " + "".join(self.log))
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self, timeout=60):
        """SIGTERM, then the exit status (it must exit on its own)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hung"
        self.log.extend(self.proc.stdout.readlines())
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def request(url, data=None, headers=None, method=None, timeout=120):
    """(status, headers, body) also for error statuses."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def error_message(body):
    try:
        return json.loads(body).get("error", "")
    except ValueError:
        return ""


def multipart(fields, image, filename="photo.png"):
    """(body, content type) of a multipart/form-data request with an 'image' file part."""
    boundary = "----cartoonserve7f3a"
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"'
                 f'\r\nContent-Type: application/octet-stream\r\n\r\n'.encode() + image + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def cartoonize_cli(photo, *args):
    """The bytes the cartoonize program writes for photo (PNG), the independent expectation."""
    out = os.path.join(tempfile.mkdtemp(prefix="serve-cli-"), "out.png")
    subprocess.run([CARTOONIZE, "-m", model_path(), *args, photo, "-o", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    os.rmdir(os.path.dirname(out))
    return data


def proc_stats(pid):
    """(RSS in KiB, open descriptors) of a process, from /proc."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))
