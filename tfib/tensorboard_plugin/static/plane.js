// Draws the information plane into the page's SVG element: axes, ceilings, one path per
// (run, layer) with its points and error bars, the epoch markers, and a legend.
//
// Every point and marker carries data-run, data-layer, data-epoch, data-x and data-y, the
// values exactly as the server sent them (String of the JSON number: shortest round trip).

import {colormap, layerColor, runDash} from './colors.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 900;
const PLOT_HEIGHT = 560;
const MARGIN = {left: 76, right: 230, top: 24, bottom: 60};
const PAD = 0.04;  // Fraction of each axis' span added beyond the data.
const CEILING_DECIMALS = {x: 2, y: 3};  // "log2 N = 12.00", "H(Y) = 0.999".
const HOVER_DECIMALS = 4;

function element(name, attributes, parent) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, String(value));
  }
  if (parent) parent.appendChild(node);
  return node;
}

function text(content, attributes, parent) {
  const node = element('text', attributes, parent);
  node.textContent = content;
  return node;
}

/** Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high], about
 * `count` of them, and the decimals to print them with. */
export function ticks(low, high, count = 6) {
  const power = 10 ** Math.floor(Math.log10((high - low) / count));
  const intervals = (step) => (high - low) / step;
  const step = [1, 2, 5, 10].map((multiple) => multiple * power).reduce((best, step) =>
    Math.abs(intervals(step) - count) < Math.abs(intervals(best) - count) ? step : best);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const values = [];
  for (let i = Math.ceil(low / step - 1e-9); i * step <= high + step * 1e-9; i++) {
    values.push(Number((i * step).toFixed(decimals)));
  }
  return {values, decimals};
}

/** [low, high] of an axis: from 0 (or below, for negative values) past the largest value. */
function domain(values) {
  let low = Math.min(0, ...values);
  let high = Math.max(...values);
  if (!(high > low)) high = low + 1;
  const span = high - low;
  return [low < 0 ? low - PAD * span : low, high + PAD * span];
}

/** Every value an axis must show: coordinates with their error bars and CIs, ceilings. */
function axisValues(data, axis) {
  const values = [];
  for (const run of data.runs) {
    for (const layer of run.layers) {
      for (const point of layer.points) {
        const std = point[`${axis}_std`] || 0;
        values.push(point[axis] - std, point[axis] + std);
        if (point.ci && point.ci[axis]) values.push(...point.ci[axis]);
      }
    }
  }
  for (const ceiling of data.ceilings) {
    if (ceiling.axis === axis) values.push(ceiling.value);
  }
  return values.length ? values : [0, 1];
}

function scale(domainValues, start, end) {
  const [low, high] = domainValues;
  return (value) => start + (value - low) / (high - low) * (end - start);
}

function drawAxes(svg, scales, axes) {
  const {x, y, box} = scales;
  const grid = element('g', {class: 'tfib-grid'}, svg);
  const xTicks = ticks(...scales.xDomain);
  for (const value of xTicks.values) {
    element('line', {x1: x(value), x2: x(value), y1: box.top, y2: box.bottom}, grid);
    text(value.toFixed(xTicks.decimals), {
      x: x(value), y: box.bottom + 18, 'text-anchor': 'middle', class: 'tfib-tick tfib-tick-x',
    }, svg);
  }
  const yTicks = ticks(...scales.yDomain);
  for (const value of yTicks.values) {
    element('line', {x1: box.left, x2: box.right, y1: y(value), y2: y(value)}, grid);
    text(value.toFixed(yTicks.decimals), {
      x: box.left - 8, y: y(value) + 4, 'text-anchor': 'end', class: 'tfib-tick tfib-tick-y',
    }, svg);
  }
  element('rect', {
    x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top,
    class: 'tfib-frame',
  }, svg);
  text(axes.x.label, {
    id: 'tfib-x-label', x: (box.left + box.right) / 2, y: box.bottom + 44,
    'text-anchor': 'middle', class: 'tfib-axis-label',
  }, svg);
  const yLabelX = box.left - 54;
  const yLabelY = (box.top + box.bottom) / 2;
  text(axes.y.label, {
    id: 'tfib-y-label', x: yLabelX, y: yLabelY, 'text-anchor': 'middle',
    transform: `rotate(-90 ${yLabelX} ${yLabelY})`, class: 'tfib-axis-label',
  }, svg);
}

function drawCeilings(svg, scales, ceilings) {
  const {x, y, box} = scales;
  const group = element('g', {class: 'tfib-ceilings'}, svg);
  for (const ceiling of ceilings) {
    const label = `${ceiling.name} = ${ceiling.value.toFixed(CEILING_DECIMALS[ceiling.axis])}`;
    const attributes = {
      class: 'tfib-ceiling', 'data-axis': ceiling.axis, 'data-value': String(ceiling.value),
    };
    // Labels where points seldom are: I(T;Y) <= I(X;T) keeps the upper left empty, and
    // I(T;Y) >= I(X;T) - (log2 N - H(Y)) (T a function of X) the lower right.
    if (ceiling.axis === 'x') {
      const at = x(ceiling.value);
      element('line', {...attributes, x1: at, x2: at, y1: box.top, y2: box.bottom}, group);
      const labelY = box.bottom - 6;
      text(label, {
        x: at - 5, y: labelY, transform: `rotate(-90 ${at - 5} ${labelY})`,
        class: 'tfib-ceiling-label', 'data-axis': 'x',
      }, group);
    } else {
      const at = y(ceiling.value);
      element('line', {...attributes, x1: box.left, x2: box.right, y1: at, y2: at}, group);
      text(label, {
        x: box.left + 6, y: at - 5, class: 'tfib-ceiling-label', 'data-axis': 'y',
      }, group);
    }
  }
}

function format(value) {
  return value.toFixed(HOVER_DECIMALS);
}

/** The hover text of a point: run, layer, epoch, coordinates, spread, CI, failure. */
export function describe(point, run, layer, axes) {
  const lines = [`run ${run}`, `layer ${layer}`, `epoch ${point.epoch}`];
  for (const axis of ['x', 'y']) {
    const std = point[`${axis}_std`];
    let line = `${axes[axis].symbol} = ${format(point[axis])}`;
    if (std !== undefined) line += ` ± ${format(std)} (sd)`;
    if (point.ci && point.ci[axis]) {
      const [low, high] = point.ci[axis];
      line += `, CI [${format(low)}, ${format(high)}]`;
    }
    lines.push(line);
  }
  if (point.failed) {
    lines.push(`failed: ${point.failed.map((axis) => axes[axis].symbol).join(', ')}`);
  }
  return lines.join('\n');
}

function setPointAttributes(node, run, layer, point) {
  node.setAttribute('data-run', run);
  node.setAttribute('data-layer', layer);
  node.setAttribute('data-epoch', String(point.epoch));
  node.setAttribute('data-x', String(point.x));
  node.setAttribute('data-y', String(point.y));
  for (const axis of ['x', 'y']) {
    const std = point[`${axis}_std`];
    if (std === undefined) {
      node.removeAttribute(`data-${axis}-std`);
    } else {
      node.setAttribute(`data-${axis}-std`, String(std));
    }
  }
  if (point.failed) {
    node.setAttribute('data-failed', point.failed.join(' '));
  } else {
    node.removeAttribute('data-failed');
  }
}

function hoverable(node, tooltip, describeNow) {
  node.addEventListener('mouseenter', (event) => {
    tooltip.textContent = describeNow();
    tooltip.hidden = false;
    tooltip.style.left = `${event.clientX + 14}px`;
    tooltip.style.top = `${event.clientY + 14}px`;
  });
  node.addEventListener('mouseleave', () => {
    tooltip.hidden = true;
  });
}

function drawErrorBars(group, scales, point, color) {
  const {x, y} = scales;
  if (point.x_std !== undefined) {
    element('line', {
      x1: x(point.x - point.x_std), x2: x(point.x + point.x_std), y1: y(point.y), y2: y(point.y),
      stroke: color, class: 'tfib-errorbar', 'data-axis': 'x',
    }, group);
  }
  if (point.y_std !== undefined) {
    element('line', {
      x1: x(point.x), x2: x(point.x), y1: y(point.y - point.y_std), y2: y(point.y + point.y_std),
      stroke: color, class: 'tfib-errorbar', 'data-axis': 'y',
    }, group);
  }
}

function legendEntry(group, top, label, swatch, attributes) {
  const entry = element('g', attributes, group);
  element('line', {x1: 0, x2: 26, y1: top - 4, y2: top - 4, ...swatch}, entry);
  text(label, {x: 34, y: top, class: 'tfib-legend-text'}, entry);
}

function drawLegend(svg, left, layerNames, runNames, epochs) {
  const group = element('g', {id: 'tfib-legend', transform: `translate(${left} 0)`}, svg);
  let top = MARGIN.top + 8;
  text('layers', {x: 0, y: top, class: 'tfib-legend-title'}, group);
  layerNames.forEach((name, index) => {
    top += 18;
    legendEntry(group, top, name, {stroke: layerColor(index), 'stroke-width': 3},
                {class: 'tfib-legend-layer', 'data-layer': name});
  });
  top += 30;
  text('runs', {x: 0, y: top, class: 'tfib-legend-title'}, group);
  runNames.forEach((name, index) => {
    top += 18;
    legendEntry(group, top, name,
                {stroke: '#444', 'stroke-width': 1.5, 'stroke-dasharray': runDash(index)},
                {class: 'tfib-legend-run', 'data-run': name});
  });
  top += 30;
  text('epoch', {x: 0, y: top, class: 'tfib-legend-title'}, group);
  const defs = element('defs', {}, svg);
  const gradient = element('linearGradient', {id: 'tfib-epoch-gradient'}, defs);
  for (let i = 0; i <= 10; i++) {
    element('stop', {offset: i / 10, 'stop-color': colormap(i / 10)}, gradient);
  }
  element('rect', {
    x: 0, y: top + 8, width: 160, height: 12, fill: 'url(#tfib-epoch-gradient)',
    class: 'tfib-colorbar',
  }, group);
  const first = epochs.length ? epochs[0] : 0;
  const last = epochs.length ? epochs[epochs.length - 1] : 0;
  text(String(first), {x: 0, y: top + 36, class: 'tfib-legend-text', id: 'tfib-epoch-min'}, group);
  text(String(last), {
    x: 160, y: top + 36, 'text-anchor': 'end', class: 'tfib-legend-text', id: 'tfib-epoch-max',
  }, group);
  return top + 48;
}

/**
 * Draws `data` (the /plane response) into `svg`, replacing what was there; hovering a point
 * or marker shows its description in `tooltip`. Returns {moveTo(epoch)}, which puts each
 * path's marker on its last point recorded at or before `epoch` (hidden when none is).
 */
export function drawPlane(svg, data, tooltip) {
  svg.replaceChildren();
  const box = {
    left: MARGIN.left, right: WIDTH - MARGIN.right,
    top: MARGIN.top, bottom: PLOT_HEIGHT - MARGIN.bottom,
  };
  const xDomain = domain(axisValues(data, 'x'));
  const yDomain = domain(axisValues(data, 'y'));
  const scales = {
    box, xDomain, yDomain,
    x: scale(xDomain, box.left, box.right), y: scale(yDomain, box.bottom, box.top),
  };
  drawAxes(svg, scales, data.axes);
  drawCeilings(svg, scales, data.ceilings);

  const layerNames = [];
  for (const run of data.runs) {
    for (const layer of run.layers) {
      if (!layerNames.includes(layer.layer)) layerNames.push(layer.layer);
    }
  }
  const epochs = data.epochs;
  const first = epochs.length ? epochs[0] : 0;
  const span = epochs.length ? epochs[epochs.length - 1] - first : 0;
  const epochColor = (epoch) => colormap(span > 0 ? (epoch - first) / span : 1);

  const paths = element('g', {class: 'tfib-paths'}, svg);
  const bars = element('g', {class: 'tfib-errorbars'}, svg);
  const dots = element('g', {class: 'tfib-points'}, svg);
  const markerGroup = element('g', {class: 'tfib-markers'}, svg);
  const markers = [];
  data.runs.forEach((run, runIndex) => {
    for (const layer of run.layers) {
      const color = layerColor(layerNames.indexOf(layer.layer));
      const d = layer.points.map((point, i) =>
        `${i ? 'L' : 'M'}${scales.x(point.x).toFixed(2)} ${scales.y(point.y).toFixed(2)}`);
      element('path', {
        d: d.join(' '), stroke: color, 'stroke-dasharray': runDash(runIndex),
        class: 'tfib-path', 'data-run': run.run, 'data-layer': layer.layer,
      }, paths);
      for (const point of layer.points) {
        drawErrorBars(bars, scales, point, color);
        const dot = element('circle', {
          cx: scales.x(point.x), cy: scales.y(point.y), r: 4,
          fill: point.failed ? '#fff' : epochColor(point.epoch),
          stroke: point.failed ? '#999' : color,
          class: point.failed ? 'tfib-point tfib-failed' : 'tfib-point',
        }, dots);
        setPointAttributes(dot, run.run, layer.layer, point);
        hoverable(dot, tooltip, () => describe(point, run.run, layer.layer, data.axes));
      }
      const marker = element('circle', {
        r: 8, stroke: color, class: 'tfib-marker', 'data-run': run.run, 'data-layer': layer.layer,
      }, markerGroup);
      const state = {node: marker, run: run.run, layer: layer.layer, points: layer.points};
      hoverable(marker, tooltip, () => describe(state.point, run.run, layer.layer, data.axes));
      markers.push(state);
    }
  });

  const legendBottom = drawLegend(svg, box.right + 28, layerNames,
                                  data.runs.map((run) => run.run), epochs);
  const height = Math.max(PLOT_HEIGHT, legendBottom);
  svg.setAttribute('width', WIDTH);
  svg.setAttribute('height', height);
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);

  function moveTo(epoch) {
    for (const marker of markers) {
      let point = null;
      for (const candidate of marker.points) {
        if (candidate.epoch <= epoch) point = candidate;
      }
      marker.point = point;
      if (point === null) {
        marker.node.setAttribute('visibility', 'hidden');
        for (const key of ['epoch', 'x', 'y', 'x-std', 'y-std', 'failed']) {
          marker.node.removeAttribute(`data-${key}`);
        }
        continue;
      }
      setPointAttributes(marker.node, marker.run, marker.layer, point);
      marker.node.setAttribute('cx', scales.x(point.x));
      marker.node.setAttribute('cy', scales.y(point.y));
      marker.node.setAttribute('visibility', 'visible');
    }
  }
  return {moveTo};
}
