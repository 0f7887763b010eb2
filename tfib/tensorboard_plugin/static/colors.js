// Colors and dash patterns of the information plane.
//
// Points are colored by epoch (viridis, dark = early); each layer has its own color (its
// path, its points' outline, its marker); each run its own dash pattern.

// Viridis sampled at ten evenly spaced positions.
const VIRIDIS = [
  [68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37],
];

// Matplotlib's "tab10": distinct from each other and from viridis' smooth ramp.
const LAYER_COLORS = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

const RUN_DASHES = ['', '8 4', '2 3', '10 3 2 3', '1 6', '14 4'];

/** The viridis color at t in [0, 1], as "rgb(r, g, b)". */
export function colormap(t) {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const position = clamped * (VIRIDIS.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, VIRIDIS.length - 1);
  const fraction = position - low;
  const channel = (i) =>
    Math.round(VIRIDIS[low][i] + fraction * (VIRIDIS[high][i] - VIRIDIS[low][i]));
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}

/** The color of the index-th layer (the palette repeats after ten layers). */
export function layerColor(index) {
  return LAYER_COLORS[index % LAYER_COLORS.length];
}

/** The stroke-dasharray of the index-th run ('' is solid). */
export function runDash(index) {
  return RUN_DASHES[index % RUN_DASHES.length];
}
