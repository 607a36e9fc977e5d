#!/usr/bin/env python3
"""cartoon-serve under load (make test-web; stdlib only): CLIENTS clients (default 16) post a
small picture for SECONDS (default 30, at most 60) to a server on 127.0.0.1 with one worker and
a short queue. Every answer must be 200 with the cartoonize program's bytes, or 503 with
Retry-After; descriptors must come back to where they were and RSS must stay flat. Prints
requests/s and latency percentiles (measurements, not pass/fail criteria: the machine is shared).
Environment: SERVE_LOAD_CLIENTS, SERVE_LOAD_SECONDS."""
import os
import sys
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
import serve_helper as H  # noqa: E402

T = H.Checks()
CLIENTS = min(int(os.environ.get("SERVE_LOAD_CLIENTS", "16")), 64)
SECONDS = min(float(os.environ.get("SERVE_LOAD_SECONDS", "30")), 60.0)
PICTURE = os.path.join(H.SHARED, "reference", "astronaut_64x96_crop.in.png")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def main():
    why = H.missing_reason() or (None if os.path.isfile(PICTURE) else f"no {PICTURE}")
    if why:
        T.skip("cartoon-serve load test", why)
        return T.summary()
    data = open(PICTURE, "rb").read()
    want = H.cartoonize_cli(PICTURE)
    with H.Server("--workers", "1", "--queue", "8", "--connections", "64") as s:
        url = s.url + "/api/cartoonize"
        st, _, b = H.request(url, data=data)  # warm: the arena is allocated on the first run
        T.check(st == 200, f"warm-up: {st}")
        time.sleep(0.5)
        rss0, fds0 = H.proc_stats(s.proc.pid)
        samples = []  # (time, rss KiB, fds)
        lock = threading.Lock()
        lat, codes, wrong, errors = [], {}, [0], []
        stop = time.time() + SECONDS

        def client():
            while time.time() < stop:
                t0 = time.time()
                try:
                    req = urllib.request.Request(url, data=data)
                    with urllib.request.urlopen(req, timeout=60) as r:
                        st, body, after = r.status, r.read(), None
                except urllib.error.HTTPError as e:
                    st, body, after = e.code, e.read(), e.headers.get("Retry-After")
                except Exception as e:  # a refused or reset connection is a failure
                    with lock:
                        errors.append(repr(e))
                    continue
                dt = time.time() - t0
                with lock:
                    codes[st] = codes.get(st, 0) + 1
                    if st == 200:
                        lat.append(dt)
                        wrong[0] += body != want
                    elif st == 503 and not (after or "").isdigit():
                        errors.append("503 without Retry-After")
                if st == 503:
                    time.sleep(0.05)  # back off a little (a real client would wait Retry-After)

        def monitor():
            while time.time() < stop:
                samples.append((time.time(), *H.proc_stats(s.proc.pid)))
                time.sleep(0.5)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)] + [threading.Thread(target=monitor)]
        t_start = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - t_start
        time.sleep(1.0)
        rss1, fds1 = H.proc_stats(s.proc.pid)

        ok = codes.get(200, 0)
        print(f"  {CLIENTS} clients x {SECONDS:.0f} s on 127.0.0.1, 1 worker, queue 8, "
              f"64x96 PNG at native size")
        print(f"  answers: {dict(sorted(codes.items()))}, {ok / elapsed:.1f} results/s, "
              f"{sum(codes.values()) / elapsed:.1f} answers/s")
        print(f"  latency of 200s: p50 {percentile(lat, 50) * 1e3:.0f} ms, p90 "
              f"{percentile(lat, 90) * 1e3:.0f} ms, p99 {percentile(lat, 99) * 1e3:.0f} ms, "
              f"max {max(lat or [0]) * 1e3:.0f} ms")
        half = len(samples) // 2
        first = max((r for _, r, _ in samples[:half]), default=rss0)
        second = max((r for _, r, _ in samples[half:]), default=rss0)
        print(f"  RSS: idle {rss0 // 1024} MiB, peak first half {first // 1024} MiB, second half "
              f"{second // 1024} MiB, after {rss1 // 1024} MiB; descriptors {fds0} before, "
              f"{max(f for _, _, f in samples)} at most, {fds1} after")

        def answers():
            T.check(not errors, f"{len(errors)} failed requests, e.g. {errors[:3]}")
            T.check(set(codes) <= {200, 503}, f"statuses other than 200 and 503: {codes}")
            T.check(ok > 0, "no request succeeded")
            T.check(wrong[0] == 0, f"{wrong[0]} results differ from cartoonize's bytes")
        T.case("load: only 200 (right bytes) or 503 with Retry-After", answers)

        def resources():
            T.check(fds1 <= fds0, f"descriptors leaked: {fds0} before, {fds1} after")
            # growth between the halves would be a leak; allow allocator noise
            T.check(second <= first * 1.10 + 8192, f"RSS grows: {first} KiB then {second} KiB")
        T.case("load: no leaked descriptors, flat RSS", resources)

        def clean_exit():
            rc = s.stop()
            T.check(rc == 0, f"exit status after SIGTERM: {rc}")
        T.case("load: SIGTERM afterwards, exit 0", clean_exit)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
