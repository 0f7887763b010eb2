// The information-plane dashboard. TensorBoard loads this ES module into an iframe whose
// base URL is /data/plugin/tfib_infoplane/ and calls render().
//
// The page: an estimator select, a checkbox per run, an epoch slider (#tfib-epoch), a reload
// button (TensorBoard's own reload does not reach an iframe) and the plane (#tfib-plane).
// document.body's data-state says where it stands: "loading", "ready", "empty" (no
// information-plane data) or "error" (the message is in #tfib-error).

import {drawPlane} from './plane.js';

function html(name, attributes, parent) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'text') {
      node.textContent = value;
    } else {
      node.setAttribute(key, String(value));
    }
  }
  if (parent) parent.appendChild(node);
  return node;
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) {
    const message = (await response.text()).trim();
    const detail = message ? `: ${message}` : '';
    throw new Error(`${url}: ${response.status} ${response.statusText}${detail}`);
  }
  return response.json();
}

function buildPage() {
  html('link', {rel: 'stylesheet', href: './style.css'}, document.head);
  const body = document.body;
  const controls = html('div', {class: 'tfib-controls'}, body);
  const estimatorLabel = html('label', {text: 'estimator '}, controls);
  const estimator = html('select', {id: 'tfib-estimator'}, estimatorLabel);
  const runs = html('fieldset', {id: 'tfib-runs'}, controls);
  html('legend', {text: 'runs'}, runs);
  const epochLabel = html('label', {text: 'epoch '}, controls);
  const slider = html('input', {id: 'tfib-epoch', type: 'range', min: 0, max: 0, step: 1, value: 0},
                      epochLabel);
  const epochValue = html('output', {id: 'tfib-epoch-value', for: 'tfib-epoch'}, epochLabel);
  const reload = html('button', {id: 'tfib-reload', type: 'button', text: 'reload',
                                 title: 'Read the runs again (new epochs, new runs)'}, controls);
  const error = html('div', {id: 'tfib-error', role: 'alert'}, body);
  error.hidden = true;
  const message = html('div', {id: 'tfib-message'}, body);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.id = 'tfib-plane';
  body.appendChild(svg);
  const tooltip = html('div', {id: 'tfib-tooltip'}, body);
  tooltip.hidden = true;
  return {estimator, runs, slider, epochValue, reload, error, message, svg, tooltip};
}

function setState(state) {
  document.body.dataset.state = state;
}

function showError(page, error) {
  page.error.textContent = `Could not show the information plane: ${error.message}`;
  page.error.hidden = false;
  setState('error');
}

/** Sets the slider over the recorded epochs, keeping its epoch when still inside them (at
 * the last epoch, it stays at the last one as more are recorded). */
function setSlider(page, epochs) {
  const {slider} = page;
  const first = epochs.length ? epochs[0] : 0;
  const last = epochs.length ? epochs[epochs.length - 1] : 0;
  const atEnd = !slider.dataset.initialized || slider.value === slider.max;
  const previous = atEnd ? last : Number(slider.value);
  slider.min = first;
  slider.max = last;
  slider.value = Math.min(last, Math.max(first, previous));
  slider.dataset.initialized = 'true';
  slider.disabled = !epochs.length;
}

function checkedRuns(page) {
  return [...page.runs.querySelectorAll('input[type=checkbox]')]
      .filter((box) => box.checked).map((box) => box.dataset.run);
}

export async function render() {
  const page = buildPage();
  let estimators = [];
  let plane = null;
  let request = 0;  // Only the latest request's answer is drawn.
  const unchecked = new Set();  // Runs the user turned off.

  function moveMarkers() {
    page.epochValue.textContent = page.slider.value;
    if (plane) plane.moveTo(Number(page.slider.value));
  }

  async function loadPlane() {
    const mine = ++request;
    const runs = checkedRuns(page);
    page.error.hidden = true;
    if (!runs.length) {
      plane = null;
      page.svg.replaceChildren();
      page.message.textContent = 'Select a run.';
      setState('ready');
      return;
    }
    setState('loading');
    const query = new URLSearchParams({estimator: page.estimator.value});
    for (const run of runs) query.append('run', run);
    try {
      const data = await fetchJson(`./plane?${query}`);
      if (mine !== request) return;
      plane = drawPlane(page.svg, data, page.tooltip);
      setSlider(page, data.epochs);
      moveMarkers();
      const layers = new Set(data.runs.flatMap((run) => run.layers.map((layer) => layer.layer)));
      page.message.textContent = [
        `${data.runs.length} run(s), ${layers.size} layer(s), ` +
            `${data.epochs.length} epoch(s) recorded.`,
        ...data.warnings,
      ].join(' ');
      setState('ready');
    } catch (error) {
      if (mine === request) showError(page, error);
    }
  }

  function showRuns() {
    const chosen = estimators.find((entry) => entry.name === page.estimator.value);
    page.runs.querySelectorAll('label').forEach((label) => label.remove());
    for (const run of chosen.runs) {
      const label = html('label', {}, page.runs);
      const box = html('input', {type: 'checkbox', 'data-run': run}, label);
      box.checked = !unchecked.has(run);
      box.addEventListener('change', () => {
        if (box.checked) {
          unchecked.delete(run);
        } else {
          unchecked.add(run);
        }
        loadPlane();
      });
      label.append(` ${run}`);
    }
  }

  /** (Re)reads the estimators and their runs, keeping the choices made. */
  async function loadEstimators() {
    const mine = ++request;
    setState('loading');
    page.error.hidden = true;
    try {
      ({estimators} = await fetchJson('./estimators'));
    } catch (error) {
      if (mine === request) showError(page, error);
      return;
    }
    if (mine !== request) return;
    if (!estimators.length) {
      page.message.textContent = 'No information-plane scalars ' +
          '(mi/<estimator>/<layer>/I_XT and .../I_TY) in this log directory.';
      setState('empty');
      return;
    }
    const previous = page.estimator.value;
    page.estimator.replaceChildren(
        ...estimators.map((entry) => html('option', {value: entry.name, text: entry.name})));
    if (estimators.some((entry) => entry.name === previous)) page.estimator.value = previous;
    showRuns();
    await loadPlane();
  }

  page.estimator.addEventListener('change', () => {
    showRuns();
    loadPlane();
  });
  page.slider.addEventListener('input', moveMarkers);
  page.reload.addEventListener('click', loadEstimators);
  await loadEstimators();
}
