"""End to end in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

One server on a free loopback port and one browser for the module; each test opens its own
tab (its own session). The screenshot of the running playground goes to build/screenshots/playground.png.
"""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from neuralab.playground.server import BackgroundServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# Written on every run into the ignored build/ folder (a test must not edit tracked files);
# copy it to docs/playground.png to refresh the README's picture.
SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "playground.png"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)")


@pytest.fixture(scope="module")
def url():
    with BackgroundServer() as address:
        yield address + "/"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 760}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function("() => window.playground && window.playground.page.frame")
    yield page
    context.close()
    assert not errors, errors


def frame(page, key):
    return page.evaluate(f"window.playground.page.frame.{key}")


def test_play_learns_the_circle_and_takes_changes_while_running(page):
    start_loss = frame(page, "train_loss")
    assert page.inner_text("#epoch") == "000,000"
    page.click("#play")
    page.wait_for_function("() => window.playground.page.frame.epoch >= 20")
    assert page.inner_text("#epoch") != "000,000"
    assert frame(page, "train_loss") < start_loss
    # the learning rate changes while running: training goes on, no reset
    epoch = frame(page, "epoch")
    page.select_option("#learning_rate", "0.1")
    page.wait_for_function("() => window.playground.page.frame.learning_rate === 0.1")
    page.wait_for_function(f"() => window.playground.page.frame.epoch > {epoch}")
    assert "learning_rate=0.1" in page.evaluate("location.hash")
    # a layer is added: the network is rebuilt with three hidden layers and keeps playing
    page.click("#add-layer")
    page.wait_for_function("() => window.playground.page.state.hidden.length === 3")
    assert page.locator(".node.neuron").count() == 4 + 2 + 2
    page.wait_for_function("() => window.playground.page.frame.epoch >= 60")
    assert frame(page, "train_loss") < start_loss
    assert page.locator("#train-loss").inner_text() != "–"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(type="png")
    _save_small(png, SCREENSHOT)
    page.click("#play")
    page.wait_for_function("() => window.playground.page.playing === false")


def _save_small(png: bytes, path: Path) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=128, dither=Image.Dither.NONE).save(path, optimize=True)


def test_exported_spec_is_reproduced_by_neuralab_train(page, tmp_path):
    page.select_option("#optimizer", "adam")
    page.wait_for_function("() => window.playground.page.state.optimizer === 'adam'")
    for _ in range(4):
        page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 4")
    shown = frame(page, "train_loss")
    with page.expect_download() as download:
        page.click("#export")
    spec_file = tmp_path / "exported.yaml"
    download.value.save_as(spec_file)
    assert "optimizer: adam" in spec_file.read_text() and "epochs: 4" in spec_file.read_text()
    neuralab = Path(sys.executable).parent / "neuralab"
    subprocess.run([str(neuralab), "train", str(spec_file), "--out", str(tmp_path / "runs"), "--quiet"],
                   check=True, capture_output=True, timeout=120)
    metrics = next((tmp_path / "runs").glob("*/metrics.csv"))
    rows = list(csv.DictReader(metrics.open()))
    assert len(rows) == 4
    assert float(rows[-1]["train_loss"]) == pytest.approx(shown, rel=1e-6)


def test_errors_show_in_the_page_and_the_url_restores_the_state(page, url):
    page.evaluate("window.playground.send({type: 'configure', changes: {hidden: [500]}})")
    page.wait_for_selector("#error:not([hidden])")
    assert "64 neurons" in page.inner_text("#error")
    page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 1")
    page.goto("about:blank")  # a new load, not a same-document hash change
    page.goto(url + "#dataset=xor&hidden=3,3&activations=relu,relu&seed=5&show_test=true")
    page.wait_for_function("() => window.playground && window.playground.page.state && window.playground.page.state.dataset === 'xor'")
    state = page.evaluate("window.playground.page.state")
    assert (state["hidden"], state["seed"], state["show_test"]) == ([3, 3], 5, True)


def test_the_optimiser_race_draws_every_optimiser(page):
    page.click("#view_toggle")
    page.wait_for_function("() => window.playground.page.frame && document.querySelectorAll('#race-results div').length === 7")
    assert "adam" in page.inner_text("#race-results")
    page.click("#race-canvas", position={"x": 60, "y": 60})
    page.wait_for_function("() => document.querySelectorAll('#race-results div').length === 7")


def test_own_data_by_clicking_and_by_csv_upload(page, tmp_path):
    page.click("button[data-dataset=own]")
    page.wait_for_function("() => window.playground.page.state.dataset === 'own'")
    before = page.evaluate("window.playground.page.data.sizes")
    page.select_option("#own-class", "0")
    page.click("#heatmap", position={"x": 150, "y": 150})  # the centre: an orange point among the blue
    page.wait_for_function(f"() => Object.values(window.playground.page.data.sizes).reduce((a, b) => a + b) === {sum(before.values()) + 1}")
    rows = "\n".join(f"{x},{y},{int(x * y > 0) + (x > 2)}" for x in range(-4, 5) for y in range(-4, 5) if x and y)
    upload = tmp_path / "mine.csv"
    upload.write_text("x1,x2,label\n" + rows + "\n")
    page.set_input_files("#upload", str(upload))
    page.wait_for_function("() => window.playground.page.data.classes === 3")
    page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 1 && window.playground.page.frame.output.kind === 'classes'")


def test_editing_a_bias_in_its_hover_card_and_importing_a_spec(page, tmp_path):
    page.click(".bias >> nth=0")
    page.fill("#hovercard input", "1.5")
    page.press("#hovercard input", "Enter")
    page.wait_for_function("() => window.playground.page.weights[0].biases[0] === 1.5")
    spec = tmp_path / "spiral.yaml"
    spec.write_text("seed: 3\ndata: {dataset: spiral, n_classes: 3}\nmodel: {hidden: [6, 6], activation: relu}\n"
                    "train: {optimizer: adam, learning_rate: 0.01}\n")
    page.set_input_files("#import", str(spec))
    page.wait_for_function("() => window.playground.page.state.dataset === 'spiral' && window.playground.page.data.classes === 3")
    state = page.evaluate("window.playground.page.state")
    assert (state["hidden"], state["optimizer"], state["seed"]) == ([6, 6], "adam", 3)
