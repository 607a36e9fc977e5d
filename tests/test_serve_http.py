#!/usr/bin/env python3
"""cartoon-serve over HTTP (stdlib only; make test): every route and error status, results
equal to the cartoonize program's bytes, oversized, truncated and slow uploads, the queue's
503 with Retry-After, the cache, and finishing a request in flight on SIGTERM."""
import concurrent.futures
import json
import os
import signal
import socket
import sys
import tempfile
import time
import zlib
import struct

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
import serve_helper as H  # noqa: E402

T = H.Checks()
MAX_UPLOAD = 1_000_000


def png_grey(w, h):
    """A w x h grey PNG made here (stdlib zlib), to test the decoded-pixel limit."""
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\0" + bytes([128]) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def raw_exchange(port, head, body=b"", wait=10):
    """Sends head (+ body) on a socket and returns what comes back until close or `wait`."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    got = b""
    try:
        s.sendall(head + body)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    s.close()
    return got


def main():
    why = H.missing_reason()
    if why:
        T.skip("cartoon-serve HTTP tests", why)
        return T.summary()
    photo = open(H.PHOTO, "rb").read()
    with H.Server("--workers", "1", "--queue", "1", "--max-upload", str(MAX_UPLOAD),
                  "--max-pixels", "600000", "--upload-timeout", "3", "--max-seconds", "120") as s:
        u = s.url

        def health_page_presets():
            st, hd, b = H.request(u + "/healthz")
            T.check(st == 200 and json.loads(b)["status"] == "ok", f"healthz {st} {b[:80]}")
            # which model runs: its name in the file, and the file's name (not the server's paths)
            h = json.loads(b)
            T.check(h.get("model") == "whitebox-unet-cartoonizer"
                    and h.get("model_file") == os.path.basename(H.model_path()), f"healthz model {b[:200]}")
            want = f"cartoon-serve: model: whitebox-unet-cartoonizer ({H.model_path()}),"
            T.check(any(line.startswith(want) for line in s.log), f"log lacks '{want}': {s.log[:2]}")
            st, hd, b = H.request(u + "/")
            T.check(st == 200 and hd["Content-Type"].startswith("text/html"), "page served")
            T.check(b"<script" in b and b"api/cartoonize" in b, "page has its script")
            T.check(b'id="model"' in b and b"/healthz" in b, "page shows the model")
            # no external scripts, styles, fonts or images: nothing with a scheme or //host
            for bad in (b'src="http', b"src='http", b'href="http', b"url(http", b'src="//',
                        b'href="//', b"@import"):
                T.check(bad not in b, f"page refers to something outside: {bad!r}")
            T.check("default-src 'none'" in hd.get("Content-Security-Policy", ""), "CSP header")
            st, hd, b = H.request(u + "/api/presets")
            names = [p["name"] for p in json.loads(b)]
            T.check(st == 200 and names == ["preview", "social", "print", "low-end"], f"presets {names}")
        T.case("healthz, page without outside resources, presets", health_page_presets)

        def estimate():
            st, _, b = H.request(u + "/api/estimate?w=640&h=480&resolution=256")
            e = json.loads(b)
            T.check(st == 200, f"status {st}")
            # longest side 640 -> 256: 256 x 192 working size, output back at 640 x 480
            T.check((e["width"], e["height"], e["out_width"], e["out_height"]) == (256, 192, 640, 480),
                    f"sizes {e}")
            T.check(e["seconds"] > 0 and e["host_bytes"] > 0 and e["flops"] > 0, f"costs {e}")
            st, _, b = H.request(u + "/api/estimate?w=800&h=600&preset=preview")
            e = json.loads(b)
            T.check(st == 200 and (e["width"], e["height"]) == (512, 384), f"preview preset: {b[:100]}")
            st, _, b = H.request(u + "/api/estimate?w=512&h=512&resolution=auto")
            r = json.loads(b)["resolution"]
            T.check(st == 200 and (r == 0 or 64 <= r < 512), f"auto picked {r}")
            # 1000 x 600 (the most --max-pixels allows) does not fit the default 2 s (about 3 s of FLOPs): the
            # pick is the largest size predicted under it, so 4 px more is predicted over it
            st, _, b = H.request(u + "/api/estimate?w=1000&h=600&resolution=auto")
            r = json.loads(b)["resolution"]
            T.check(st == 200 and 64 <= r < 1000, f"auto picked {r} for 1000 x 600")
            fit = json.loads(H.request(u + f"/api/estimate?w=1000&h=600&resolution={r}")[2])["seconds"]
            over = json.loads(H.request(u + f"/api/estimate?w=1000&h=600&resolution={r + 4}")[2])["seconds"]
            T.check(fit <= 2.0 < over, f"auto {r}: {fit} s, {r + 4}: {over} s")
            for q, why in (("w=0&h=10", "w=0"), ("w=10", "no h"), ("w=10&h=10&resolution=x", "res"),
                           ("w=10&h=10&strength=2", "strength"), ("w=10&h=10&preset=nope", "preset"),
                           ("w=10&h=10&format=gif", "format"), ("w=10&h=10&quality=0", "quality")):
                st, hd, b = H.request(u + "/api/estimate?" + q)
                T.check(st == 400 and H.error_message(b) and hd["Content-Type"] == "application/json",
                        f"{why}: {st} {b[:80]}")
        T.case("estimate: sizes from the cost model, 400 on bad parameters", estimate)

        def result_equals_cli():
            st, hd, b = H.request(u + "/api/cartoonize?resolution=64", data=photo,
                                  headers={"Content-Type": "image/png"})
            T.check(st == 200 and hd["Content-Type"] == "image/png", f"raw body: {st} {b[:80]}")
            T.check(b == H.cartoonize_cli(H.PHOTO, "-r", "64"), "raw-body result != cartoonize -r 64")
            body, ctype = H.multipart({"resolution": "96", "strength": "0.5"}, photo)
            st, hd, b = H.request(u + "/api/cartoonize", data=body, headers={"Content-Type": ctype})
            T.check(st == 200, f"multipart: {st} {b[:80]}")
            T.check(b == H.cartoonize_cli(H.PHOTO, "-r", "96", "-s", "0.5"),
                    "multipart result != cartoonize -r 96 -s 0.5")
        T.case("POST raw and multipart: bytes equal cartoonize's", result_equals_cli)

        def formats_and_presets():
            for fmt, mime, magic in (("jpg", "image/jpeg", b"\xff\xd8"), ("webp", "image/webp", b"RIFF")):
                st, hd, b = H.request(u + f"/api/cartoonize?resolution=64&format={fmt}&quality=70", data=photo)
                T.check(st == 200 and hd["Content-Type"] == mime and b.startswith(magic), f"{fmt}: {st}")
            st, hd, b = H.request(u + "/api/cartoonize?preset=preview&resolution=64", data=photo)
            T.check(st == 200 and hd["Content-Type"] == "image/jpeg", f"preview preset is JPEG: {st}")
        T.case("formats and presets: content types", formats_and_presets)

        def errors():
            cases = [
                ("text body", "/api/cartoonize", b"hello, not an image", 415),
                ("truncated PNG", "/api/cartoonize?resolution=64", photo[: len(photo) // 2], 400),
                ("empty body", "/api/cartoonize", b"", 400),
                ("strength 2", "/api/cartoonize?strength=2", photo, 400),
                ("unknown preset", "/api/cartoonize?preset=poster", photo, 400),
                ("decoded pixels over --max-pixels", "/api/cartoonize", png_grey(1000, 1000), 413),
                ("working size over the limit", "/api/cartoonize?resolution=4096", photo, 413),
            ]
            for what, path, data, want in cases:
                st, hd, b = H.request(u + path, data=data, method="POST")
                T.check(st == want and H.error_message(b) and hd["Content-Type"] == "application/json",
                        f"{what}: want {want}, got {st} {b[:100]}")
            st, _, b = H.request(u + "/nowhere")
            T.check(st == 404 and H.error_message(b), f"404: {st}")
            st, _, b = H.request(u + "/api/cartoonize")
            T.check(st == 405 and H.error_message(b), f"GET cartoonize: {st}")
            st, _, b = H.request(u + "/../../etc/passwd")
            T.check(st == 404, f"path outside: {st}")
        T.case("error statuses: 400, 404, 405, 413, 415 with JSON messages", errors)

        def oversized():
            # declared too large: answered before the body is sent
            got = raw_exchange(s.port, b"POST /api/cartoonize HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Length: 50000000\r\n\r\n")
            T.check(got.startswith(b"HTTP/1.1 413"), f"declared 50 MB: {got[:60]}")
            # chunked, no declared size: read (and dropped) past the limit, then 413
            chunk = b"\x89PNG" + b"\0" * 65532
            body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(20)) + b"0\r\n\r\n"
            got = raw_exchange(s.port, b"POST /api/cartoonize HTTP/1.1\r\nHost: x\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n", body)
            T.check(got.startswith(b"HTTP/1.1 413"), f"chunked 1.3 MB: {got[:60]}")
        T.case("oversized uploads: 413, declared and chunked", oversized)

        def truncated_and_slow():
            # a client that promises 100 kB, sends half and hangs up
            sk = socket.create_connection(("127.0.0.1", s.port))
            sk.sendall(b"POST /api/cartoonize HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                       + photo[:50000])
            sk.close()
            # a slow client: sends the headers and a few bytes, then nothing
            slow = socket.create_connection(("127.0.0.1", s.port), timeout=20)
            slow.sendall(b"POST /api/cartoonize HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n"
                         + photo[:10])
            t0 = time.time()
            st, _, b = H.request(u + "/api/cartoonize?resolution=64", data=photo)
            T.check(st == 200, f"a normal request beside the slow one: {st}")
            try:
                closed = slow.recv(100) == b""
            except (ConnectionResetError, socket.timeout):
                closed = True
            took = time.time() - t0
            T.check(closed and took < 15, f"slow client not cut after {took:.1f} s (timeout 3 s)")
            slow.close()
            time.sleep(0.5)
            st, _, b = H.request(u + "/healthz")
            T.check(st == 200 and json.loads(b)["in_flight"] == 0, f"requests left in flight: {b}")
        T.case("truncated and slow uploads: dropped, server unharmed", truncated_and_slow)

        def backpressure():
            # 1 worker, queue 1: of 6 simultaneous native-size requests some must be refused
            def post(_):
                return H.request(u + "/api/cartoonize", data=photo)
            with concurrent.futures.ThreadPoolExecutor(6) as ex:
                res = list(ex.map(post, range(6)))
            codes = sorted(r[0] for r in res)
            T.check(set(codes) <= {200, 503} and 200 in codes and 503 in codes, f"codes {codes}")
            for st, hd, b in res:
                if st == 503:
                    T.check(hd.get("Retry-After", "").isdigit() and H.error_message(b),
                            f"503 without Retry-After or message: {dict(hd)}")
        T.case("full queue: 503 with Retry-After", backpressure)

        def sigterm_finishes():
            with concurrent.futures.ThreadPoolExecutor(1) as ex:
                fut = ex.submit(H.request, u + "/api/cartoonize", photo)
                time.sleep(0.3)  # the upload is in and the worker is running
                s.proc.send_signal(signal.SIGTERM)
                st, hd, b = fut.result()
            T.check(st == 200 and b.startswith(b"\x89PNG"), f"request in flight at SIGTERM: {st}")
            rc = s.stop()
            T.check(rc == 0, f"exit status after SIGTERM: {rc}\n{''.join(s.log)}")
        T.case("SIGTERM: the request in flight finishes, exit 0", sigterm_finishes)

    def cache():
        d = tempfile.mkdtemp(prefix="serve-cache-")
        with H.Server("--cache", d) as s2:
            url = s2.url + "/api/cartoonize?resolution=64"
            st1, h1, b1 = H.request(url, data=photo)
            st2, h2, b2 = H.request(url, data=photo)
            st3, h3, b3 = H.request(url + "&strength=0.5", data=photo)
            T.check(st1 == st2 == st3 == 200, f"{st1} {st2} {st3}")
            T.check((h1["X-Cartoon-Cache"], h2["X-Cartoon-Cache"], h3["X-Cartoon-Cache"])
                    == ("miss", "hit", "miss"), "cache states")
            T.check(b1 == b2 and b1 != b3, "a hit returns the same bytes; other options another")
            files = [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs]
            T.check(len(files) == 2 and all(f.endswith(".png") for f in files), f"cache files {files}")
            # results only: no file holds the upload
            T.check(all(open(f, "rb").read() != photo for f in files), "an upload was stored")
        for r, _, fs in os.walk(d, topdown=False):
            for f in fs:
                os.unlink(os.path.join(r, f))
            os.rmdir(r)
    T.case("--cache: content-addressed results, hit on repeat", cache)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
