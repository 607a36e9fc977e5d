#!/usr/bin/python3
"""cartoon-serve's page in a real browser (make test-web): headless Chromium from Debian, driven
through chromedriver by python3-selenium, on a phone-sized window. Loads the page from a server
started here on a free loopback port, picks a preset, sets the controls, uploads the reference
photo, waits for the result and checks its bytes against the cartoonize program's on the same
input; saves screenshots as $CARTOON_BUILD/serve-screenshot.png (phone) and -wide.png."""
import base64
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
import serve_helper as H  # noqa: E402

T = H.Checks()


def browser_missing():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed (make deps WEB=1 installs it)"
    for prog in ("chromium", "chromedriver"):
        if not shutil.which(prog):
            return f"{prog} is not installed (make deps WEB=1 installs chromium and chromium-driver)"
    return None


def start_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=412,915", "--disable-extensions", "--no-first-run"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def main():
    why = H.missing_reason() or browser_missing()
    if why:
        T.skip("cartoon-serve in a browser", why)
        return T.summary()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    with H.Server("--workers", "1") as s:
        d = start_browser()
        try:
            def page_loads():
                d.get(s.url + "/")
                WebDriverWait(d, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#presets button")) == 4)
                names = [b.text for b in d.find_elements(By.CSS_SELECTOR, "#presets button")]
                T.check(names == ["preview", "social", "print", "low-end"], f"preset buttons {names}")
                # usable on a phone: nothing wider than the 412 px window
                over = d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
                T.check(over <= 0, f"page is {over} px wider than a phone screen")
            T.case("page loads with the presets, fits a phone", page_loads)

            def preset_sets_controls():
                d.find_element(By.XPATH, "//div[@id='presets']/button[text()='preview']").click()
                got = d.execute_script("return [resolution.value, format.value, strength.value, quality.value]")
                T.check(got == ["512", "jpg", "0.5", "85"], f"preview preset set {got}")
            T.case("a preset sets resolution, format, strength, quality", preset_sets_controls)

            def upload_and_compare():
                d.find_element(By.ID, "file").send_keys(os.path.abspath(H.PHOTO))
                Select(d.find_element(By.ID, "resolution")).select_by_value("256")
                Select(d.find_element(By.ID, "format")).select_by_value("png")
                d.execute_script("strength.value = '1'; strength.dispatchEvent(new Event('input'))")
                WebDriverWait(d, 30).until(
                    lambda d: "Predicted:" in d.find_element(By.ID, "estimate").text)
                est = d.find_element(By.ID, "estimate").text
                T.check("256×256" in est, f"estimate line: {est}")
                t0 = time.time()
                d.find_element(By.ID, "go").click()
                WebDriverWait(d, 180).until(
                    lambda d: d.find_element(By.ID, "download").is_displayed()
                    or d.find_element(By.ID, "error").text)
                T.check(not d.find_element(By.ID, "error").text,
                        "page error: " + d.find_element(By.ID, "error").text)
                print(f"  browser round trip {time.time() - t0:.2f} s")
                b64 = d.execute_async_script("""
                    const done = arguments[0];
                    fetch(document.getElementById('result').src).then(r => r.arrayBuffer()).then(b => {
                      let s = ''; const u = new Uint8Array(b);
                      for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
                      done(btoa(s));
                    });""")
                got = base64.b64decode(b64)
                want = H.cartoonize_cli(H.PHOTO, "-r", "256", "-s", "1")
                T.check(got == want, f"result ({len(got)} bytes) != cartoonize -r 256 ({len(want)} bytes)")
                T.check(d.find_element(By.ID, "download").get_attribute("download") == "cartoon.png",
                        "download name")
                shot = os.path.join(H.BUILD, "serve-screenshot.png")
                d.execute_script("document.getElementById('result').scrollIntoView()")
                T.check(d.save_screenshot(shot), "screenshot")
                # and at a desktop width, where original and cartoon sit side by side
                d.set_window_size(1280, 1000)
                tops = d.execute_script("return [original.getBoundingClientRect().top, "
                                        "result.getBoundingClientRect().top]")
                T.check(abs(tops[0] - tops[1]) < 2, f"not side by side on a wide screen: {tops}")
                d.execute_script("window.scrollTo(0, 0)")
                wide = os.path.join(H.BUILD, "serve-screenshot-wide.png")
                T.check(d.save_screenshot(wide), "wide screenshot")
                print(f"  screenshots: {shot}, {wide}")
            T.case("upload in the browser: result equals cartoonize's bytes", upload_and_compare)

            def no_console_errors():
                logs = [l for l in d.get_log("browser") if l["level"] == "SEVERE"]
                T.check(not logs, f"console errors (CSP violations show here): {logs}")
            T.case("no console errors", no_console_errors)
        finally:
            d.quit()
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
