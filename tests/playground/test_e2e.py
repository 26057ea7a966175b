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
    page.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(url)
    page.wait_for_function("() => window.playground && window.playground.page.frame")
    yield page
    context.close()
    assert not errors, errors


def test_a_click_on_play_before_the_page_is_ready_waits_instead_of_being_lost(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit")  # the page's script has not attached its handlers yet
        page.click("#play")  # a user's first click: it must start training, however slow the start
        page.wait_for_function("() => window.playground.page.playing === true")
        page.wait_for_function("() => window.playground.page.frame.epoch > 0")
    finally:
        context.close()


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


def state(page, key):
    return page.evaluate(f"window.playground.page.state.{key}")


def test_feature_tiles_retrain_on_the_chosen_features_and_show_their_own_pictures(page):
    for _ in range(3):
        page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 3")
    default = frame(page, "train_loss")
    tile_x1 = page.locator(".node.feature[data-feature='x1'] canvas").screenshot()
    page.click(".node.feature[data-feature='x1^2']")
    page.wait_for_function("() => window.playground.page.state.features.includes('x1^2')")
    page.click(".node.feature[data-feature='x1']")
    page.wait_for_function("() => !window.playground.page.state.features.includes('x1')")
    assert state(page, "features") == ["x2", "x1^2"] and frame(page, "epoch") == 0
    assert page.evaluate("window.playground.page.data.features") == ["x2", "x1^2"]
    assert page.locator(".node.feature[data-feature='x1^2'] canvas").screenshot() != tile_x1
    for _ in range(3):
        page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 3")
    assert frame(page, "train_loss") != default


def test_l2_switched_on_while_playing_shrinks_the_weights(page):
    page.click("#play")
    page.wait_for_function("() => window.playground.page.frame.epoch >= 5")
    page.select_option("#regularization", "l2")
    page.select_option("#regularization_rate", "1")
    page.wait_for_function("() => window.playground.page.state.regularization_rate === 1")
    size = "window.playground.page.weights[0].weights.flat().reduce((a, w) => a + Math.abs(w), 0)"
    before = page.evaluate(size)
    epoch = frame(page, "epoch")
    page.wait_for_function(f"() => window.playground.page.frame.epoch >= {epoch + 30}")
    assert page.evaluate(size) < 0.5 * before  # a strong L2 pulls the weights towards zero
    page.click("#play")
    page.wait_for_function("() => window.playground.page.playing === false")


def test_a_clicked_point_joins_the_training_data_where_it_was_clicked(page):
    for _ in range(2):
        page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 2")
    page.click("button[data-dataset=own]")
    page.wait_for_function("() => window.playground.page.state.dataset === 'own'")
    page.wait_for_function("() => window.playground.page.data.sizes.train === 250")
    page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 1")
    square = page.evaluate("window.playground.page.data.square")
    page.select_option("#own-class", "0")
    page.click("#heatmap", position={"x": 295, "y": 5})  # the top-right corner
    page.wait_for_function("() => window.playground.page.data.sizes.train === 251")
    data = page.evaluate("window.playground.page.data")
    assert data["square"] == square and data["sizes"] == {"train": 251, "dev": 0, "test": 250}  # classic: no dev
    assert data["train"]["x"][-1] > 5 and data["train"]["y"][-1] > 5 and data["train"]["label"][-1] == 0
    assert frame(page, "epoch") == 1  # training goes on from where it was
    page.select_option("#own-split", "test")
    page.click("#heatmap", position={"x": 5, "y": 295})
    page.wait_for_function("() => window.playground.page.data.sizes.test === 251")
    page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 2")


def test_a_multi_class_network_draws_and_edits_every_class_output(page):
    page.click("button[data-dataset=spiral]")
    page.wait_for_function("() => window.playground.page.state.dataset === 'spiral'")
    page.select_option("#n_classes", "3")
    page.wait_for_function("() => window.playground.page.data && window.playground.page.data.classes === 3")
    page.wait_for_function("() => document.querySelectorAll('.node.output').length === 3")
    page.wait_for_function("() => window.playground.page.weights.at(-1).biases.length === 3")
    biases = page.locator(".bias")
    biases.nth(biases.count() - 1).click()  # the last bias square: class 2's output
    page.fill("#hovercard input", "0.75")
    page.press("#hovercard input", "Enter")
    page.wait_for_function("() => window.playground.page.weights.at(-1).biases[2] === 0.75")
    page.hover(".node.output[data-output='1']")
    assert "class 1" in page.inner_text("#heatmap-caption")


def test_a_link_with_one_bad_key_keeps_the_others_and_hash_edits_apply(page, url):
    page.goto("about:blank")
    page.goto(url + "#dataset=xor&hidden=3,3&noise=7&learning_rate=abc&seed=5")
    page.wait_for_function("() => window.playground && window.playground.page.state && window.playground.page.state.dataset === 'xor'")
    page.wait_for_function("() => window.playground.page.state.seed === 5")
    assert state(page, "hidden") == [3, 3] and state(page, "noise") == 0.0 and state(page, "learning_rate") == 0.03
    errors = " ".join(page.evaluate("window.playground.page.errors"))
    assert "noise=7" in errors and "learning_rate=abc" in errors
    assert "dataset=xor" in page.evaluate("location.hash") and "seed=5" in page.evaluate("location.hash")
    page.evaluate("location.hash = location.hash.replace('dataset=xor', 'dataset=gauss')")
    page.wait_for_function("() => window.playground.page.state.dataset === 'gauss'")
    assert state(page, "seed") == 5


def test_a_classroom_link_hides_the_chosen_controls(page, url):
    page.goto("about:blank")
    page.goto(url + "#learning_rate=0.1&learning_rate_hide=true&dataset_hide=true&x1%5E2_hide=true")
    page.wait_for_function("() => window.playground && window.playground.page.state && window.playground.page.state.learning_rate === 0.1")
    assert not page.is_visible("#learning_rate") and not page.is_visible("#datasets") and page.is_visible("#noise")
    assert not page.is_visible(".node.feature[data-feature='x1^2']") and page.is_visible(".node.feature[data-feature='x2^2']")
    assert "learning_rate_hide=true" in page.evaluate("location.hash") and "x1%5E2_hide=true" in page.evaluate("location.hash")
    page.click("#classroom summary")
    page.check("#classroom-controls input[data-hide=noise]")
    assert not page.is_visible("#noise") and "noise_hide=true" in page.input_value("#classroom-link")
    page.check("#classroom-controls input[data-hide='sin(x1)']")
    assert not page.is_visible(".node.feature[data-feature='sin(x1)']")
    assert "sin%28x1%29_hide=true" in page.input_value("#classroom-link")


def test_a_state_arriving_while_a_slider_is_dragged_leaves_it_where_the_user_holds_it(page):
    # dragging: input events, no change yet (the value is sent when the slider is let go)
    page.evaluate("() => { const noise = document.getElementById('noise'); noise.focus(); noise.value = '35';"
                  " noise.dispatchEvent(new Event('input')); }")
    assert page.inner_text("#noise-value") == "0.35"
    # meanwhile the reply to another control's change arrives (as a select changed without the focus)
    page.evaluate("() => { const rate = document.getElementById('learning_rate'); rate.value = '0.1';"
                  " rate.dispatchEvent(new Event('change')); }")
    page.wait_for_function("() => window.playground.page.state.learning_rate === 0.1")
    assert state(page, "noise") == 0.0
    assert page.input_value("#noise") == "35" and page.inner_text("#noise-value") == "0.35"
    page.dispatch_event("#noise", "change")  # let go: the dragged value is sent and confirmed
    page.wait_for_function("() => window.playground.page.state.noise === 0.35")
    # a slider's caption flows as text (it used to stack "Ratio…:", "50" and "%" as three lines)
    caption = page.locator("label:has(#ratio) > span")
    assert caption.inner_text().replace("\n", " ") == f"Ratio of training to test data: {state(page, 'ratio')}%"
    tops = page.evaluate("() => { const value = document.getElementById('ratio-value'), range = document.createRange();"
                         " range.selectNodeContents(value.nextSibling);"  # the "%" after the number
                         " return [value.getBoundingClientRect().top, range.getBoundingClientRect().top]; }")
    assert abs(tops[0] - tops[1]) < 2  # "50" and "%" on the same line
    # a slider moved and let go where it started (no change event) shows the confirmed state once it loses the focus
    page.evaluate("() => { const ratio = document.getElementById('ratio'); ratio.focus(); ratio.value = '70';"
                  " ratio.dispatchEvent(new Event('input')); ratio.blur(); }")
    assert page.input_value("#ratio") == str(state(page, "ratio")) and page.inner_text("#ratio-value") == str(state(page, "ratio"))


def test_the_momentum_menu_is_off_for_optimisers_that_ignore_it_and_the_legend_is_drawn(page):
    assert page.is_disabled("#momentum")  # sgd
    page.select_option("#optimizer", "adam")
    page.wait_for_function("() => window.playground.page.state.optimizer === 'adam'")
    assert not page.is_disabled("#momentum")
    legend = page.evaluate("Array.from(document.getElementById('legend').getContext('2d').getImageData(0, 2, 300, 1).data)")
    left, right = legend[:3], legend[-4:-1]
    assert left[0] > left[2] and right[2] > right[0]  # orange at −1, blue at 1


def test_the_page_reconnects_after_a_server_restart_and_restores_the_link(browser):
    server = BackgroundServer()
    address = server.__enter__()
    port = int(address.rsplit(":", 1)[1])
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    page = context.new_page()
    try:
        page.goto(address + "/#dataset=xor&hidden=5&seed=9")
        page.wait_for_function("() => window.playground && window.playground.page.state && window.playground.page.state.dataset === 'xor'")
        page.click("#step")
        page.wait_for_function("() => window.playground.page.frame.epoch === 1")
        server.__exit__(None, None, None)
        page.wait_for_function("() => window.playground.page.connected === false")
        assert page.is_visible("#connection") and "Reconnecting" in page.inner_text("#connection")
        sent = page.evaluate("window.playground.send({type: 'step'})")
        assert sent is False and "not connected" in page.inner_text("#error")
        # the state shown is the lost session's, the same as the restored one will be: mark it, so that the wait
        # below sees the new session's answer (it first sends its own defaults, then the link's settings)
        page.evaluate("window.playground.page.state.seed = -1")
        server = BackgroundServer(port=port)
        server.__enter__()
        page.wait_for_function("() => window.playground.page.connected === true", timeout=30_000)
        page.wait_for_function("() => window.playground.page.state.dataset === 'xor' && window.playground.page.state.seed === 9"
                               " && JSON.stringify(window.playground.page.state.hidden) === '[5]'")
        assert state(page, "hidden") == [5] and not page.is_visible("#connection")
        assert "hidden=5" in page.evaluate("location.hash") and "seed=9" in page.evaluate("location.hash")
        page.click("#step")
        page.wait_for_function("() => window.playground.page.frame.epoch === 1")
    finally:
        context.close()
        server.__exit__(None, None, None)


def test_a_server_with_a_token_serves_the_page_only_with_it(browser):
    with BackgroundServer(token="classroom-token-123") as address:
        context = browser.new_context(viewport={"width": 1280, "height": 760})
        page = context.new_page()
        try:
            assert page.goto(address + "/").status == 403
            page.goto(address + "/?token=classroom-token-123#dataset=xor")
            page.wait_for_function("() => window.playground && window.playground.page.state && window.playground.page.state.dataset === 'xor'")
            page.click("#step")  # the socket carries the token's cookie
            page.wait_for_function("() => window.playground.page.frame.epoch === 1")
            assert "token=classroom-token-123" in page.url
        finally:
            context.close()


def _reference():
    """TF Playground's update rule from its formulas (tests/playground/test_modes.py), loaded by path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tfp_reference", Path(__file__).with_name("test_modes.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_opens_in_classic_mode_with_tf_playgrounds_numbers_and_modern_is_one_switch_away(page):
    import numpy as np

    from neuralab.playground.state import PlaygroundState, to_spec
    from neuralab.training.experiment import Experiment

    assert state(page, "mode") == "classic" and page.input_value("#mode") == "classic"
    for _ in range(3):
        page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 3")
    shown = (frame(page, "train_loss"), frame(page, "test_loss"))
    # the same experiment in this process, its first weights into TF Playground's rule (float64)
    reference = _reference()
    experiment = Experiment.from_spec(to_spec(PlaygroundState(), epochs=3), device="cpu")
    layers = experiment.model.linear_layers()
    start = ([l.weight.detach().numpy().astype(np.float64) for l in layers],
             [l.bias.detach().numpy().astype(np.float64) for l in layers])
    train, test, _, _ = reference.reference_of(experiment, start, state=PlaygroundState(), epochs=3)
    assert shown == pytest.approx((train[-1], test[-1]), rel=1e-5)  # ½(o − t)² on ±1: about 0.5, not ln 2
    page.select_option("#mode", "modern")
    page.wait_for_function("() => window.playground.page.state.mode === 'modern' && window.playground.page.frame.epoch === 0")
    assert state(page, "init") == "xavier_uniform" and "mode=modern" in page.evaluate("location.hash")
    assert page.evaluate("window.playground.page.data.sizes") == {"train": 250, "dev": 125, "test": 125}
    page.click("#step")
    page.wait_for_function("() => window.playground.page.frame.epoch === 1")
    assert 0.6 < frame(page, "train_loss") < 0.8  # cross-entropy's scale
