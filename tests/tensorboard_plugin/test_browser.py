"""The information-plane dashboard end to end: a real tfib-infoplane run, TensorBoard serving
it, headless Chromium driving TensorBoard's page.

TensorBoard runs as the plain ``tensorboard`` command when tfib's ``tensorboard_plugins``
entry point is installed, else from a launcher that adds the plugin to the default ones.
Skips only where Chromium, chromedriver or selenium is missing and CI is not set; under CI
their absence fails.
"""
import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import tensorflow as tf

from tfib.runs import read_records
from tfib.runs import tensorboard as summaries

try:
  from selenium import webdriver
  from selenium.common.exceptions import TimeoutException
  from selenium.webdriver.chrome.service import Service
  from selenium.webdriver.common.action_chains import ActionChains
  from selenium.webdriver.common.by import By
  from selenium.webdriver.common.keys import Keys
  from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # The browser_paths fixture skips, or under CI fails.
  webdriver = None

PLUGIN = "tfib_infoplane"
ENTRY_POINTS = "tensorboard_plugins"
EPOCHS = (0, 4, 8, 12)
LAYERS = ("h1", "h2", "h3", "h4", "h5", "output")
SEEDS = ("seed_0", "seed_1")
RUNS = ("aggregate",) + SEEDS
ESTIMATOR = "binning"  # The label of tfib-infoplane's default estimator.
SYNTHETIC = "synthetic"  # A run written here: what the real run has not (CIs, failures).
NEURAL = "mine_0.5"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these Chromium calls home, and this network refuses it.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-proxy-server", "--window-size=1400,1000",
)
RUN_TIMEOUT = 300
START_TIMEOUT = 90
PAGE_TIMEOUT = 60
REL = 1e-6  # TensorBoard stores scalars as float32.
LAUNCHER = """
import sys
from tensorboard import default, program
from tfib.tensorboard_plugin.plugin import InformationPlaneLoader
board = program.TensorBoard(plugins=default.get_plugins() + [InformationPlaneLoader()])
board.configure(argv=[None] + sys.argv[1:])
sys.exit(board.main())
"""
# The text under a root element, shadow roots included (TensorBoard's dashboards use them).
DEEP_TEXT = """
const root = document.querySelector(arguments[0]);
if (!root) return null;
const texts = [];
const walk = (node) => {
  if (node.nodeType === Node.TEXT_NODE) {
    texts.push(node.textContent.trim());
    return;
  }
  if (node.shadowRoot) walk(node.shadowRoot);
  node.childNodes.forEach(walk);
};
walk(root);
return texts.join('\\n');
"""
ATTRIBUTES = """
return [...document.querySelectorAll(arguments[0])].map((node) => ({
  ...node.dataset, cx: node.getAttribute('cx'), cy: node.getAttribute('cy'),
  visibility: node.getAttribute('visibility'), class: node.getAttribute('class'),
}));
"""
SET_SLIDER = """
const slider = document.getElementById('tfib-epoch');
slider.value = arguments[0];
slider.dispatchEvent(new Event('input', {bubbles: true}));
return slider.value;
"""
# The element drawn on top at the centre of arguments[0] (what a pointer there hovers).
TOP_AT_CENTRE = """
const box = arguments[0].getBoundingClientRect();
return document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
"""


def _browser():
  """(chromium, chromedriver) paths; skips, or under CI fails, where one is missing."""
  chromium = shutil.which("chromium") or shutil.which("chromium-browser")
  chromedriver = shutil.which("chromedriver")
  missing = [name for name, found in (("chromium", chromium), ("chromedriver", chromedriver),
                                      ("selenium (pip)", webdriver)) if not found]
  if missing:
    message = f"The browser test needs {', '.join(missing)}."
    if os.environ.get("CI"):
      pytest.fail(message + " CI is set: it must run.")
    pytest.skip(message)
  return chromium, chromedriver


def _open(url, timeout=10):
  opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # Loopback: no proxy.
  with opener.open(url, timeout=timeout) as response:
    return response.read()


def _json(url):
  return json.loads(_open(url))


def _free_port():
  with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    return probe.getsockname()[1]


def _entry_point_installed():
  return any(entry.name == PLUGIN
             for entry in importlib.metadata.entry_points(group=ENTRY_POINTS))


def _tensorboard_command():
  if _entry_point_installed():
    script = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "tensorboard.main"]
  return [sys.executable, "-c", LAUNCHER]


def _write_synthetic_run(logdir):
  """A run with what binning does not write: a neural estimate's CIs and failures, ceilings,
  and the decoder's quantities."""
  points = []
  for layer, start in (("h1", 6.0), ("h2", 3.0)):
    for epoch in (0, 5, 10):
      x, y = start + epoch / 10, 0.2 + epoch / 20
      failed = "_failed" if (layer, epoch) == ("h2", 5) else ""
      points += [(f"mi/{NEURAL}/{layer}/I_XT", x, epoch),
                 (f"mi{failed}/{NEURAL}/{layer}/I_TY", y, epoch)]
      for quantity, value, half_width in (("I_XT", x, 0.1), ("I_TY", y, 0.05)):
        points += [(f"mi_ci/{NEURAL}/{layer}/{quantity}_low", value - half_width, epoch),
                   (f"mi_ci/{NEURAL}/{layer}/{quantity}_high", value + half_width, epoch)]
  for epoch in (0, 5, 10):
    points += [(f"mi_ceiling/{NEURAL}/I_XT", 12.0, epoch),
               (f"mi_ceiling/{NEURAL}/I_TY", 0.9991571, epoch)]
  points += [("mi/decoder/h1/I_XH", 4.0, 0), ("mi/decoder/h1/I_HY", 0.5, 0)]
  writer = tf.summary.create_file_writer(os.path.join(logdir, SYNTHETIC))
  summaries.write_scalars(writer, points)
  writer.close()


@pytest.fixture(scope="module")
def browser_paths():
  return _browser()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
  return tmp_path_factory.mktemp("information_plane")


@pytest.fixture(scope="module")
def logdir(browser_paths, workdir):
  """A real two-seed tfib-infoplane run (seed_0, seed_1, aggregate) and the synthetic run."""
  del browser_paths  # Requested so that a missing browser skips before the run.
  path = str(workdir / "logs")
  result = subprocess.run(
      [sys.executable, "-m", "tfib.bin.infoplane", "--epochs=12", "--schedule=every",
       "--every=4", "--repeats=2", f"--logdir={path}"],
      capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  _write_synthetic_run(path)
  return path


@pytest.fixture(scope="module")
def results(logdir):
  """{run: {(layer, epoch): record}} of the results files."""
  by_run = {}
  for run in RUNS:
    records = read_records(os.path.join(logdir, run, "results.jsonl"))
    by_run[run] = {(r["layer"], r["epoch"]): r for r in records
                   if r["estimator_label"] == ESTIMATOR}
    assert set(by_run[run]) == {(layer, epoch) for layer in LAYERS for epoch in EPOCHS}, run
  return by_run


@pytest.fixture(scope="module")
def server(logdir, workdir):
  """TensorBoard's URL, once its plugin listing shows the dashboard enabled (data loaded)."""
  port = _free_port()
  url = f"http://127.0.0.1:{port}"
  log_path = workdir / "tensorboard.log"
  command = _tensorboard_command() + ["--logdir", logdir, "--host", "127.0.0.1",
                                      "--port", str(port)]
  with open(log_path, "w") as log:
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
  try:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
      if process.poll() is not None:
        pytest.fail(f"TensorBoard exited ({process.returncode}): {log_path.read_text()[-3000:]}")
      try:
        listing = _json(f"{url}/data/plugins_listing")
      except (urllib.error.URLError, ConnectionError, socket.timeout):
        listing = None
      if listing is not None:
        assert PLUGIN in listing, (f"TensorBoard ({' '.join(command[:2])}) has no {PLUGIN} "
                                   f"plugin: {sorted(listing)}; log: {log_path.read_text()}")
        if listing[PLUGIN]["enabled"]:
          break
      if time.monotonic() > deadline:
        pytest.fail(f"TensorBoard did not serve an enabled {PLUGIN} in {START_TIMEOUT} s: "
                    f"{listing}; log: {log_path.read_text()[-3000:]}")
      time.sleep(0.5)
    yield {"url": url, "listing": listing, "entry_point": _entry_point_installed()}
  finally:
    process.terminate()
    try:
      process.wait(timeout=15)
    except subprocess.TimeoutExpired:
      process.kill()
      process.wait()
  assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def driver(browser_paths, workdir):
  chromium, chromedriver = browser_paths
  options = webdriver.ChromeOptions()
  options.binary_location = chromium
  for flag in CHROMIUM_FLAGS:
    options.add_argument(flag)
  profile = workdir / "chromium_profile"
  profile.mkdir()
  options.add_argument(f"--user-data-dir={profile}")
  options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
  browser = webdriver.Chrome(service=Service(chromedriver), options=options)
  browser.set_page_load_timeout(PAGE_TIMEOUT)
  try:
    yield browser
    errors = [entry for entry in browser.get_log("browser")
              if entry["level"] == "SEVERE" and PLUGIN in entry["message"]]
    assert not errors, f"the dashboard logged errors: {errors}"
  finally:
    browser.quit()


def _wait(driver, condition, what, timeout=PAGE_TIMEOUT):
  try:
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)
  except TimeoutException:
    pytest.fail(f"Timed out after {timeout} s waiting for {what}.")


def _open_tab(driver, server, tab):
  driver.get("about:blank")  # A fresh page: no dashboard left from an earlier test.
  driver.get(f"{server['url']}/#{tab}")


def _wait_ready(driver):
  """Waits for the dashboard's data-state to settle; fails on anything but "ready"."""
  state = _wait(driver, lambda d: d.execute_script(
      "const s = document.body.dataset.state; return s !== 'loading' && s;"),
                "the dashboard to load")
  error = driver.find_element(By.ID, "tfib-error")
  assert state == "ready" and not error.is_displayed(), (
      f"state {state!r}, error {error.text!r}, message "
      f"{driver.find_element(By.ID, 'tfib-message').text!r}")


@pytest.fixture
def dashboard(driver, server):
  """The driver inside the dashboard's iframe, all runs of the binning estimator drawn."""
  _open_tab(driver, server, PLUGIN)
  frame = _wait(driver, lambda d: d.find_elements(
      By.CSS_SELECTOR, f"iframe[src*='plugin_entry.html?name={PLUGIN}']"),
                "the dashboard's iframe")[0]
  driver.switch_to.frame(frame)
  _wait_ready(driver)
  yield driver
  driver.switch_to.default_content()


def _elements(driver, selector):
  return driver.execute_script(ATTRIBUTES, selector)


def _set_epoch(driver, epoch):
  assert driver.execute_script(SET_SLIDER, epoch) == str(epoch)


def _select(driver, estimator):
  Select(driver.find_element(By.ID, "tfib-estimator")).select_by_value(estimator)
  _wait_ready(driver)


def _hover_text(driver, element):
  """Hovers over ``element``'s centre; returns the tooltip and what lies on top there."""
  top = driver.execute_script(TOP_AT_CENTRE, element)
  ActionChains(driver).move_to_element(element).perform()
  tooltip = driver.find_element(By.ID, "tfib-tooltip")
  _wait(driver, lambda d: tooltip.is_displayed(), "the hover text")
  return tooltip.text, top


def _coordinates(record):
  return record["i_xt"], record["i_ty"]


def test_tensorboard_lists_the_dashboard(driver, server):
  entry = server["listing"][PLUGIN]
  assert entry["enabled"] and entry["tab_name"] == "information plane"
  assert entry["loading_mechanism"] == {"type": "IFRAME",
                                        "module_path": f"/data/plugin/{PLUGIN}/index.js"}
  print(f"TensorBoard started {'as `tensorboard`' if server['entry_point'] else 'by the launcher'}")
  _open_tab(driver, server, PLUGIN)
  _wait(driver, lambda d: d.find_elements(
      By.XPATH, "//*[normalize-space(text())='information plane']"),
        "the 'information plane' tab")


def test_the_routes_serve_the_runs_data(server, results):
  base = f"{server['url']}/data/plugin/{PLUGIN}"
  estimators = {entry["name"]: entry["runs"] for entry in _json(f"{base}/estimators")["estimators"]}
  assert estimators == {ESTIMATOR: list(RUNS), "decoder": [SYNTHETIC], NEURAL: [SYNTHETIC]}
  plane = _json(f"{base}/plane?estimator={ESTIMATOR}&run=seed_1")
  [run] = plane["runs"]
  assert run["run"] == "seed_1" and [layer["layer"] for layer in run["layers"]] == list(LAYERS)
  for layer in run["layers"]:
    assert [p["epoch"] for p in layer["points"]] == list(EPOCHS)
    for point in layer["points"]:
      expected = results["seed_1"][(layer["layer"], point["epoch"])]
      assert (point["x"], point["y"]) == pytest.approx(_coordinates(expected), rel=REL)
  for static in ("index.js", "plane.js", "colors.js", "style.css"):
    assert _open(f"{base}/{static}")
  with pytest.raises(urllib.error.HTTPError, match="404"):
    _open(f"{base}/plane?estimator=no_such_estimator")


def test_every_recorded_point_is_drawn(dashboard, results, server):
  paths = _elements(dashboard, ".tfib-path")
  assert sorted((p["run"], p["layer"]) for p in paths) == sorted(
      (run, layer) for run in RUNS for layer in LAYERS)
  served = _json(f"{server['url']}/data/plugin/{PLUGIN}/plane?estimator={ESTIMATOR}")
  exact = {(run["run"], layer["layer"], p["epoch"]): p
           for run in served["runs"] for layer in run["layers"] for p in layer["points"]}
  points = _elements(dashboard, ".tfib-point")
  assert len(points) == len(RUNS) * len(LAYERS) * len(EPOCHS)
  for point in points:
    key = (point["run"], point["layer"], int(point["epoch"]))
    # data-x and data-y are the server's values, exactly.
    assert (float(point["x"]), float(point["y"])) == (exact[key]["x"], exact[key]["y"])
    expected = results[point["run"]][key[1:]]
    assert (float(point["x"]), float(point["y"])) == pytest.approx(_coordinates(expected), rel=REL)
    if point["run"] == "aggregate":  # Mean ± sd over the seeds.
      assert (float(point["xStd"]), float(point["yStd"])) == pytest.approx(
          (expected["i_xt_std"], expected["i_ty_std"]), rel=REL, abs=1e-7)
    else:
      assert "xStd" not in point and "yStd" not in point
  assert len(_elements(dashboard, ".tfib-errorbar")) == 2 * len(LAYERS) * len(EPOCHS)
  assert [legend["layer"] for legend in _elements(dashboard, ".tfib-legend-layer")] == list(LAYERS)
  assert dashboard.find_element(By.ID, "tfib-x-label").text == "I(X;T) [bits]"
  assert dashboard.find_element(By.ID, "tfib-y-label").text == "I(T;Y) [bits]"
  ceilings = {label.text for label in dashboard.find_elements(By.CLASS_NAME, "tfib-ceiling-label")}
  if served["ceilings"]:  # tfib writes mi_ceiling/ (log2 N, H(Y)) since it records them.
    record = results["seed_0"][("h1", 0)]
    assert ceilings == {f"log2 N = {record['log2_n']:.2f}", f"H(Y) = {record['h_y']:.3f}"}
  else:
    assert not ceilings


@pytest.mark.parametrize("epoch, recorded", [(12, 12), (0, 0), (6, 4), (8, 8), (11, 8)])
def test_the_slider_moves_the_markers_to_the_recorded_point(dashboard, results, workdir,
                                                            epoch, recorded):

  slider = dashboard.find_element(By.ID, "tfib-epoch")
  assert (slider.get_attribute("min"), slider.get_attribute("max")) == ("0", "12")
  _set_epoch(dashboard, epoch)
  points = {(p["run"], p["layer"], int(p["epoch"])): p for p in _elements(dashboard, ".tfib-point")}
  markers = _elements(dashboard, ".tfib-marker")
  assert sorted((m["run"], m["layer"]) for m in markers) == sorted(
      (run, layer) for run in RUNS for layer in LAYERS)
  for marker in markers:
    assert marker["visibility"] == "visible" and int(marker["epoch"]) == recorded, marker
    expected = results[marker["run"]][(marker["layer"], recorded)]
    assert (float(marker["x"]), float(marker["y"])) == pytest.approx(_coordinates(expected),
                                                                     rel=REL)
    point = points[(marker["run"], marker["layer"], recorded)]
    assert (marker["cx"], marker["cy"]) == (point["cx"], point["cy"])
  assert dashboard.find_element(By.ID, "tfib-epoch-value").text == str(epoch)
  if epoch == 6:
    dashboard.switch_to.default_content()
    path = workdir / "information_plane.png"
    assert dashboard.save_screenshot(str(path))
    assert path.read_bytes().startswith(b"\x89PNG")
    print(f"screenshot: {path}")


def test_the_slider_answers_the_keyboard(dashboard, results):
  slider = dashboard.find_element(By.ID, "tfib-epoch")
  slider.send_keys(Keys.HOME)
  assert {int(m["epoch"]) for m in _elements(dashboard, ".tfib-marker")} == {0}
  slider.send_keys(Keys.ARROW_RIGHT * 5)  # Epoch 5: the markers stay on epoch 4.
  markers = _elements(dashboard, ".tfib-marker")
  assert {int(m["epoch"]) for m in markers} == {4}
  for marker in markers:
    assert float(marker["x"]) == pytest.approx(
        results[marker["run"]][(marker["layer"], 4)]["i_xt"], rel=REL)


def test_hovering_a_marker_describes_its_point(dashboard, results):
  _set_epoch(dashboard, 8)
  markers = dashboard.find_elements(By.CLASS_NAME, "tfib-marker")
  for marker in markers:  # One no other marker covers.
    text, top = _hover_text(dashboard, marker)
    if top == marker:
      break
  else:
    pytest.fail("every marker is covered by another")
  run, layer = marker.get_attribute("data-run"), marker.get_attribute("data-layer")
  record = results[run][(layer, 8)]
  lines = text.splitlines()
  assert lines[:3] == [f"run {run}", f"layer {layer}", "epoch 8"], text
  assert lines[3].startswith("I(X;T) = ") and lines[4].startswith("I(T;Y) = "), text
  assert float(lines[3].split()[2]) == pytest.approx(record["i_xt"], abs=1e-4)
  assert float(lines[4].split()[2]) == pytest.approx(record["i_ty"], abs=1e-4)
  assert ("± " in text) == (run == "aggregate") and "failed" not in text


def test_the_run_checkboxes_choose_the_runs_drawn(dashboard):
  boxes = {box.get_attribute("data-run"): box
           for box in dashboard.find_elements(By.CSS_SELECTOR, "#tfib-runs input")}
  assert list(boxes) == list(RUNS) and all(box.is_selected() for box in boxes.values())
  boxes["aggregate"].click()
  _wait_ready(dashboard)
  assert {p["run"] for p in _elements(dashboard, ".tfib-path")} == set(SEEDS)
  assert not _elements(dashboard, ".tfib-errorbar")
  boxes["seed_0"].click()
  _wait_ready(dashboard)
  assert {p["run"] for p in _elements(dashboard, ".tfib-marker")} == {"seed_1"}
  boxes["seed_1"].click()
  _wait_ready(dashboard)
  assert not _elements(dashboard, ".tfib-path")
  assert dashboard.find_element(By.ID, "tfib-message").text == "Select a run."


def test_reloading_keeps_the_choices(dashboard):
  dashboard.find_element(By.CSS_SELECTOR, "#tfib-runs input[data-run='aggregate']").click()
  _wait_ready(dashboard)
  _set_epoch(dashboard, 6)
  dashboard.find_element(By.ID, "tfib-reload").click()
  _wait_ready(dashboard)
  markers = _elements(dashboard, ".tfib-marker")
  assert {m["run"] for m in markers} == set(SEEDS) and {m["epoch"] for m in markers} == {"4"}
  assert dashboard.find_element(By.ID, "tfib-epoch").get_attribute("value") == "6"


def test_a_neural_estimate_shows_ceilings_intervals_and_failures(dashboard):
  _select(dashboard, NEURAL)
  labels = dashboard.find_elements(By.CLASS_NAME, "tfib-ceiling-label")
  assert sorted(label.text for label in labels) == ["H(Y) = 0.999", "log2 N = 12.00"]
  for line in dashboard.find_elements(By.CLASS_NAME, "tfib-ceiling"):
    assert line.value_of_css_property("stroke-dasharray") not in ("", "none")
  [failed] = _elements(dashboard, ".tfib-failed")
  assert (failed["run"], failed["layer"], failed["epoch"], failed["failed"]) == (
      SYNTHETIC, "h2", "5", "y")
  assert len(_elements(dashboard, ".tfib-point")) == 6
  node = dashboard.find_element(By.CSS_SELECTOR, ".tfib-failed")
  text, top = _hover_text(dashboard, node)
  assert top == node, "the failed point is covered"
  assert "epoch 5" in text and "failed: I(T;Y)" in text, text
  assert "I(X;T) = 3.5000, CI [3.4000, 3.6000]" in text, text


def test_the_decoder_plane_is_labelled_with_its_quantities(dashboard):
  _select(dashboard, "decoder")
  assert dashboard.find_element(By.ID, "tfib-x-label").text == "I(X;H) [bits]"
  assert dashboard.find_element(By.ID, "tfib-y-label").text == "I(H;Y) [bits]"
  assert [(p["run"], p["layer"], p["x"], p["y"]) for p in _elements(dashboard, ".tfib-point")] == [
      (SYNTHETIC, "h1", "4", "0.5")]


@pytest.mark.parametrize("tab, root, tags", [
    ("scalars", "tf-scalar-dashboard",
     [f"mi/{ESTIMATOR}/{layer}/{q}" for layer in LAYERS for q in ("I_XT", "I_TY")]),
    ("images", "tf-image-dashboard", [f"infoplane/{ESTIMATOR}"]),
])
def test_the_other_dashboards_list_the_runs_tags(driver, server, tab, root, tags):
  _open_tab(driver, server, tab)
  _wait(driver, lambda d: all(tag in (d.execute_script(DEEP_TEXT, root) or "").split("\n")
                              for tag in tags),
        f"the {tab} dashboard to list {tags}")
