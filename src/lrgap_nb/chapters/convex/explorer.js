// The convex chapter's explorer, recomputed in the reader's browser on every slider move.
//
// An anywidget ES module (https://anywidget.dev): `render({model, el})` draws the sliders, the
// train- and test-loss contours with the two gradient-descent paths, and the losses where each
// path stops. It needs no kernel: in the published book the model is the widget state embedded
// in the page; in Jupyter the same model is synced with the Python object (explorer.py).
//
// The maths re-implements, line for line, the Python reference: lrgap_nb's `gradient_descent`,
// `train_loss` and `population_loss` (maths.py) and the explorer's samples (`samples` in
// explorer.py). tests/test_explorer.py checks paths, stopping steps and losses against Python on
// random settings; keep the two in step.

export const BETA_STAR = [1.0, 1.0]; // ground truth of the two-point problem (maths.py)
export const MAX_STEPS = 100000; // gradient_descent's max_steps
export const BLOW_UP = 1e6; // a residual beyond this means GD diverged (gradient_descent)
export const SCHEDULES = ["large then small", "small throughout"];
const COLOURS = { "large then small": "#1f77b4", "small throughout": "#d62728" }; // plotting.PALETTE
const SVG = "http://www.w3.org/2000/svg";

// --- samples: mulberry32, identical in explorer.py --------------------------------------------

/** Mulberry32 (Tommy Ettinger, public domain): a 32-bit state PRNG; returns uint32 draws. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a) >>> 0;
    t = ((t + Math.imul(t ^ (t >>> 7), 61 | t)) >>> 0) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Which coordinate each of the n samples sits on (0: x = e1, 1: x = e2): the top bit of a draw. */
export function sampleCoords(n, seed) {
  const next = mulberry32(seed);
  return Array.from({ length: n }, () => next() >>> 31);
}

// --- gradient descent, as maths.gradient_descent(..., freeze_diverged=True) ------------------

/** Train MSE over the samples at beta (maths.train_loss). */
export function trainLoss(beta, coords) {
  let square = 0.0;
  for (const c of coords) {
    const r = beta[c] - BETA_STAR[c];
    square += r * r;
  }
  return square / coords.length;
}

/** Population loss for x uniform on {e1, e2}: (1/2)·||beta − beta*||² (maths.population_loss). */
export function populationLoss(beta) {
  const d0 = beta[0] - BETA_STAR[0];
  const d1 = beta[1] - BETA_STAR[1];
  return 0.5 * (d0 * d0 + d1 * d1);
}

/**
 * GD on the train MSE from beta = 0, stopped when the train loss first reaches epsilon; `lr(step)`
 * is the schedule. Returns the path (xs, ys); a diverged run ends in NaN at `divergedAt`.
 */
export function gradientDescent(coords, lr, epsilon, maxSteps = MAX_STEPS) {
  // Twice: once to count the steps, once into arrays of that size (no growing arrays, little
  // garbage: the run costs well under a millisecond, a garbage collection can cost ten).
  const { steps, divergedAt } = descend(coords, lr, epsilon, maxSteps, null, null);
  const xs = new Float64Array(steps + 1);
  const ys = new Float64Array(steps + 1);
  descend(coords, lr, epsilon, maxSteps, xs, ys);
  return { xs, ys, steps, divergedAt, exhausted: steps === maxSteps && divergedAt === null };
}

function descend(coords, lr, epsilon, maxSteps, xs, ys) {
  // One pass over the samples per step, in their order: the residuals X @ beta - y (rows
  // x_i = e_{c_i}, y_i = <beta*, x_i>), their mean square and X^T residual, as maths.py.
  const n = coords.length;
  let b0 = 0.0;
  let b1 = 0.0;
  if (xs) xs[0] = ys[0] = 0.0;
  for (let step = 0; step < maxSteps; step++) {
    const { blown, square, sum0, sum1 } = residuals(coords, b0, b1);
    if (blown) {
      if (xs) xs[step] = ys[step] = NaN; // the step that blew up ends as NaN (freeze_diverged)
      return { steps: step, divergedAt: step };
    }
    if (!(square / n > epsilon)) return { steps: step, divergedAt: null };
    const rate = lr(step);
    b0 = b0 - rate * ((2.0 / n) * sum0);
    b1 = b1 - rate * ((2.0 / n) * sum1);
    if (xs && step + 1 < xs.length) {
      xs[step + 1] = b0;
      ys[step + 1] = b1;
    }
  }
  return { steps: maxSteps, divergedAt: null };
}

/**
 * The residuals' sums at (b0, b1): squared (the train loss times n) and per coordinate (the
 * gradient's parts), and whether any residual blew up.
 */
function residuals(coords, b0, b1) {
  let blown = false;
  let square = 0.0;
  let sum0 = 0.0;
  let sum1 = 0.0;
  for (let i = 0; i < coords.length; i++) {
    const r = coords[i] ? b1 - BETA_STAR[1] : b0 - BETA_STAR[0];
    if (!(Math.abs(r) <= BLOW_UP)) blown = true;
    square += r * r;
    if (coords[i]) sum1 += r;
    else sum0 += r;
  }
  return { blown, square, sum0, sum1 };
}

// --- the matched-loss stop, as maths.matched_descent(..., keep_path=True) --------------------

/**
 * GD from beta = 0 that stops at train loss exactly epsilon: the large LR for annealStep steps,
 * or fewer when one more large step would reach epsilon (the anneal comes before the stop), and
 * the step that would reach epsilon shortened by an exact line search on the quadratic.
 * "Small throughout" is lrLarge = lrSmall, annealStep = 0.
 */
export function matchedDescent(coords, lrLarge, lrSmall, annealStep, epsilon, maxSteps = MAX_STEPS) {
  const { steps, divergedAt } = descendMatched(coords, lrLarge, lrSmall, annealStep, epsilon, maxSteps, null, null);
  const xs = new Float64Array(steps + 1);
  const ys = new Float64Array(steps + 1);
  descendMatched(coords, lrLarge, lrSmall, annealStep, epsilon, maxSteps, xs, ys);
  return { xs, ys, steps, divergedAt, exhausted: steps === maxSteps && divergedAt === null };
}

/** Train loss after a GD step of size rate, exact on the quadratic (maths._loss_after). */
function lossAfter(loss, slope, curvature, rate) {
  return loss - rate * slope + rate ** 2 * curvature;
}

function descendMatched(coords, lrLarge, lrSmall, annealStep, epsilon, maxSteps, xs, ys) {
  const n = coords.length;
  let b0 = 0.0;
  let b1 = 0.0;
  let annealed = false;
  if (xs) xs[0] = ys[0] = 0.0;
  for (let step = 0; step < maxSteps; step++) {
    const { blown, square, sum0, sum1 } = residuals(coords, b0, b1);
    if (blown) {
      if (xs) xs[step] = ys[step] = NaN;
      return { steps: step, divergedAt: step };
    }
    const loss = square / n;
    if (loss <= epsilon) return { steps: step, divergedAt: null };
    const g0 = (2.0 / n) * sum0;
    const g1 = (2.0 / n) * sum1;
    let curvature = 0.0; // |X g|² / n: each sample sees the gradient on its own coordinate
    for (let i = 0; i < n; i++) {
      const gi = coords[i] ? g1 : g0;
      curvature += gi * gi;
    }
    curvature /= n;
    const slope = g0 * g0 + g1 * g1;
    let large = !annealed && step < annealStep;
    if (large && lossAfter(loss, slope, curvature, lrLarge) <= epsilon) large = false; // cut short
    if (!large) annealed = true;
    const lr = large ? lrLarge : lrSmall;
    const last = lossAfter(loss, slope, curvature, lr) <= epsilon;
    const gap = loss - epsilon;
    const rate = last
      ? (2 * gap) / (slope + Math.sqrt(Math.max(slope * slope - 4 * curvature * gap, 0)))
      : lr;
    b0 = b0 - rate * g0;
    b1 = b1 - rate * g1;
    if (xs && step + 1 < xs.length) {
      xs[step + 1] = b0;
      ys[step + 1] = b1;
    }
    if (last) return { steps: step + 1, divergedAt: null };
  }
  return { steps: maxSteps, divergedAt: null };
}

/** maths.schedules_for: the large LR for steps 0 .. anneal_step − 1, then the small one. */
export function schedulesFor(lrLarge, lrSmall, annealStep) {
  return {
    "large then small": (t) => (t < annealStep ? lrLarge : lrSmall),
    "small throughout": () => lrSmall,
  };
}

/** Everything the explorer shows for one setting (the model's traits). */
export function compute(s) {
  const coords = sampleCoords(s.n_samples, s.seed);
  const counts = [0, 0];
  for (const c of coords) counts[c] += 1;
  const weights = counts.map((c) => c / coords.length);
  const runs = {};
  for (const [name, lr] of Object.entries(schedulesFor(s.lr_large, s.lr_small, s.anneal_step))) {
    const large = name === "large then small";
    const run = s.exact_stop
      ? matchedDescent(coords, large ? s.lr_large : s.lr_small, s.lr_small,
          large ? s.anneal_step : 0, s.epsilon)
      : gradientDescent(coords, lr, s.epsilon);
    const last = run.xs.length - 1;
    const final = [run.xs[last], run.ys[last]];
    run.train = run.divergedAt === null ? trainLoss(final, coords) : NaN;
    run.test = run.divergedAt === null ? populationLoss(final) : NaN;
    runs[name] = run;
  }
  // The two points of train loss epsilon with all the error on one coordinate (the report's
  // 0.75ε and 1.5ε for 2 samples at e1 and 1 at e2): test loss epsilon / (2 w_j).
  const analytic = [0, 1]
    .filter((j) => weights[j] > 0)
    .map((j) => {
      const point = BETA_STAR.slice();
      point[j] -= Math.sqrt(s.epsilon / weights[j]);
      return { coord: j, point, test: populationLoss(point) };
    });
  return { coords, counts, weights, runs, analytic };
}

// --- drawing ------------------------------------------------------------------------------------

const PANEL = 220; // px, each square panel
const GAP = 34; // px between panels, room for the axis labels
const PAD = 36; // px left of the first panel and below the panels
const MAX_LEVELS = 18; // contour ellipses per panel

function svgEl(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function starPath(size) {
  const pts = [];
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? size * 0.45 : size;
    const a = (Math.PI / 5) * k - Math.PI / 2;
    pts.push(`${(r * Math.cos(a)).toFixed(2)},${(r * Math.sin(a)).toFixed(2)}`);
  }
  return `M${pts.join("L")}Z`;
}

/** One square panel: a window [lo, hi]² mapped to PANEL px, contours, paths and markers. */
class Panel {
  constructor(svg, index, title, clipId) {
    const x0 = PAD + index * (PANEL + GAP);
    this.g = svgEl("g", { transform: `translate(${x0}, 18)` }, svg);
    svgEl("text", { x: PANEL / 2, y: -5, "text-anchor": "middle", class: "title" }, this.g)
      .textContent = title;
    const clip = svgEl("clipPath", { id: clipId }, this.g);
    svgEl("rect", { width: PANEL, height: PANEL }, clip);
    svgEl("rect", { width: PANEL, height: PANEL, class: "frame" }, this.g);
    this.body = svgEl("g", { "clip-path": `url(#${clipId})` }, this.g);
    this.levels = Array.from({ length: MAX_LEVELS }, () =>
      svgEl("ellipse", { class: "level" }, this.body));
    this.rings = SCHEDULES.map((name) =>
      svgEl("ellipse", { class: "ring", stroke: COLOURS[name] }, this.body));
    this.paths = SCHEDULES.map((name) =>
      svgEl("polyline", { class: "path", stroke: COLOURS[name] }, this.body));
    this.analytic = [0, 1].map(() => svgEl("path", { class: "analytic", d: "M0,-5L5,0L0,5L-5,0Z" }, this.body));
    this.cross = svgEl("path", { class: "cross", d: "M-5,-5L5,5M-5,5L5,-5" }, this.body);
    this.stars = SCHEDULES.map((name) =>
      svgEl("path", { class: "star", fill: COLOURS[name], d: starPath(7) }, this.body));
    this.ticks = svgEl("g", { class: "ticks" }, this.g);
  }

  window(lo, hi) {
    this.lo = lo;
    this.scale = PANEL / (hi - lo);
    const label = (v) => (Math.abs(v) < 1e-12 ? "0" : +v.toFixed(v > -10 && v < 10 ? 2 : 0));
    this.ticks.innerHTML =
      `<text x="0" y="${PANEL + 12}">${label(lo)}</text>` +
      `<text x="${PANEL}" y="${PANEL + 12}" text-anchor="end">${label(hi)}</text>` +
      `<text x="${PANEL / 2}" y="${PANEL + 14}" text-anchor="middle">β₁</text>` +
      `<text x="-4" y="${PANEL}" text-anchor="end">${label(lo)}</text>` +
      `<text x="-4" y="9" text-anchor="end">${label(hi)}</text>` +
      `<text x="-6" y="${PANEL / 2}" text-anchor="end">β₂</text>`;
  }

  px(x) {
    // clamped far outside the panel so that huge (diverging) values still draw as lines
    return Math.max(-2 * PANEL, Math.min(3 * PANEL, (x - this.lo) * this.scale));
  }

  py(y) {
    return Math.max(-2 * PANEL, Math.min(3 * PANEL, PANEL - (y - this.lo) * this.scale));
  }

  ellipses(nodes, specs) {
    // specs: [rx, ry, className] in β units around β*; Infinity draws as a pair of lines
    nodes.forEach((node, k) => {
      const spec = specs[k];
      if (!spec) {
        node.setAttribute("display", "none");
        return;
      }
      const [rx, ry, cls] = spec;
      node.setAttribute("display", "inline");
      node.setAttribute("cx", this.px(BETA_STAR[0]));
      node.setAttribute("cy", this.py(BETA_STAR[1]));
      node.setAttribute("rx", Math.min(rx * this.scale, 1e5));
      node.setAttribute("ry", Math.min(ry * this.scale, 1e5));
      if (cls) node.setAttribute("class", cls);
    });
  }

  marker(node, point) {
    if (!point || !Number.isFinite(point[0]) || !Number.isFinite(point[1])) {
      node.setAttribute("display", "none");
      return;
    }
    node.setAttribute("display", "inline");
    node.setAttribute("transform", `translate(${this.px(point[0])},${this.py(point[1])})`);
  }

  path(node, run) {
    // every point that moves at least 0.7 px from the last one drawn: thousands of small-LR
    // steps become a few hundred vertices
    const pts = [];
    let lastX = Infinity;
    let lastY = Infinity;
    const end = run.xs.length - 1;
    for (let i = 0; i <= end; i++) {
      if (!Number.isFinite(run.xs[i]) || !Number.isFinite(run.ys[i])) break;
      const x = this.px(run.xs[i]);
      const y = this.py(run.ys[i]);
      if (i === end || Math.abs(x - lastX) + Math.abs(y - lastY) >= 0.7) {
        pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
        lastX = x;
        lastY = y;
      }
    }
    node.setAttribute("points", pts.join(" "));
  }
}

function fmt(v) {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

/** Contour levels epsilon · 2^k up to the largest loss in the window. */
function levelsUpTo(epsilon, top) {
  const out = [];
  for (let c = epsilon; c <= top && out.length < MAX_LEVELS; c *= 2) out.push(c);
  return out;
}

function draw(panels, s, result) {
  const [train, test, close] = panels;
  const w = result.weights;
  const finals = {};
  // Main window: [-0.4, 2.4]² (every stable path stays in [0, 2]²), widened up to [-3, 5]² to
  // show a path that swings out or diverges.
  let lo = -0.4;
  let hi = 2.4;
  for (const name of SCHEDULES) {
    const run = result.runs[name];
    for (const coord of [run.xs, run.ys]) {
      for (let i = 0; i < coord.length; i++) {
        const v = coord[i];
        if (Number.isFinite(v)) {
          lo = Math.min(lo, Math.max(v, -3));
          hi = Math.max(hi, Math.min(v, 5));
        }
      }
    }
    const last = run.xs.length - 1;
    finals[name] = run.divergedAt === null ? [run.xs[last], run.ys[last]] : null;
  }
  const radius = (c, weight) => (weight > 0 ? Math.sqrt(c / weight) : Infinity);
  const top = 2 * (hi - lo) * (hi - lo);
  for (const panel of [train, test]) panel.window(lo, hi);
  train.ellipses(
    train.levels,
    levelsUpTo(s.epsilon, top).map((c, k) => [radius(c, w[0]), radius(c, w[1]), k ? "level" : "level eps"]),
  );
  test.ellipses(
    test.levels,
    levelsUpTo(s.epsilon, top).map((c) => [Math.sqrt(2 * c), Math.sqrt(2 * c), "level"]),
  );
  // Close-up around β*: the train-loss ε ellipse, the test-loss circles through the stops.
  let half = 0;
  for (const j of [0, 1]) if (w[j] > 0) half = Math.max(half, Math.sqrt(s.epsilon / w[j]));
  for (const f of Object.values(finals)) {
    if (f) half = Math.max(half, Math.abs(f[0] - BETA_STAR[0]), Math.abs(f[1] - BETA_STAR[1]));
  }
  half *= 1.5;
  close.window(BETA_STAR[0] - half, BETA_STAR[0] + half); // β* = (1, 1): same window on both axes
  close.ellipses(close.levels, [
    [radius(s.epsilon, w[0]), radius(s.epsilon, w[1]), "level eps"],
    [radius(s.epsilon / 4, w[0]), radius(s.epsilon / 4, w[1]), "level"],
    [radius(4 * s.epsilon, w[0]), radius(4 * s.epsilon, w[1]), "level"],
  ]);
  for (const panel of panels) {
    SCHEDULES.forEach((name, k) => {
      const run = result.runs[name];
      panel.path(panel.paths[k], run);
      panel.marker(panel.stars[k], finals[name]);
    });
    panel.marker(panel.cross, BETA_STAR);
    [0, 1].forEach((k) => {
      const a = result.analytic[k];
      panel.marker(panel.analytic[k], s.show_analytic && a ? a.point : null);
    });
  }
  for (const panel of [test, close]) {
    panel.ellipses(
      panel.rings,
      SCHEDULES.map((name) => {
        const r = finals[name] ? Math.sqrt(2 * result.runs[name].test) : null;
        return r === null ? null : [r, r, "ring"];
      }),
    );
  }
  train.ellipses(train.rings, []);
}

function summary(s, result) {
  const [c0, c1] = result.counts;
  const steep = result.weights[0] >= result.weights[1] ? 0 : 1;
  const w = result.weights[steep];
  const edge = 1 / w; // GD on w·(β − β*)² is stable for lr < 2 / (2w)
  const axis = steep ? "e₂" : "e₁";
  let stability = `Gradient descent is stable for an LR below 1 / ${w.toPrecision(3)} = ${edge.toPrecision(3)}`;
  if (s.lr_large > edge) {
    const growth = Math.abs(1 - 2 * s.lr_large * w);
    stability +=
      `; at the large LR the error on the coordinate of ${axis} grows ${growth.toPrecision(3)}-fold ` +
      `per step while that LR lasts (${s.anneal_step} steps)`;
  }
  const lines = [
    `${s.n_samples} samples: ${c0} at e₁, ${c1} at e₂. ${stability}.`,
    `<span class="key">★ where each run stops, × β*, dark ellipse: train loss ε, ` +
      `dashed circles: the test loss at each stop</span>`,
  ];
  for (const name of SCHEDULES) {
    const run = result.runs[name];
    let text;
    if (run.divergedAt !== null) {
      text = `diverged at step ${run.divergedAt} (a residual passed 1e6)`;
    } else if (run.exhausted) {
      text = `did not reach ε in ${MAX_STEPS} steps`;
    } else {
      text =
        `${run.steps} steps, final train loss <span class="num">${fmt(run.train)}</span> ` +
        `= ${(run.train / s.epsilon).toFixed(4)} ε, ` +
        `test loss <span class="num">${fmt(run.test)}</span> = ${(run.test / s.epsilon).toFixed(2)} ε`;
    }
    lines.push(
      `<span class="swatch" style="background:${COLOURS[name]}"></span>` +
        `<b>${name}</b>: <span class="run" data-schedule="${name}">${text}</span>`,
    );
  }
  if (s.show_analytic) {
    const parts = result.analytic.map(
      (a) => `error on β${a.coord ? "₂" : "₁"} only: test ${(a.test / s.epsilon).toFixed(2)} ε`,
    );
    lines.push(`◇ analytic points at train loss ε: ${parts.join("; ")}`);
  }
  return lines.map((l) => `<div>${l}</div>`).join("");
}

/** The numbers shown, at full precision, for tests/browser/check_book.py. */
function record(s, result) {
  const runs = {};
  for (const name of SCHEDULES) {
    const run = result.runs[name];
    runs[name] = {
      steps: run.steps,
      diverged_at: run.divergedAt,
      train: Number.isFinite(run.train) ? run.train : null,
      test: Number.isFinite(run.test) ? run.test : null,
    };
  }
  const settings = {};
  for (const name of [...SETTINGS, "exact_stop"]) settings[name] = s[name];
  return JSON.stringify({ settings, counts: result.counts, runs });
}

const SETTINGS = ["lr_large", "lr_small", "anneal_step", "epsilon", "n_samples", "seed"];
const TOGGLES = ["show_analytic", "exact_stop"];

const CSS = `
.lrgap-explorer { font: 13px/1.4 system-ui, sans-serif; color: #222; max-width: 760px;
  contain: content; }  /* an update lays out the explorer, not the whole page */
.lrgap-explorer .summary { min-height: 7.5em; }
.lrgap-explorer .controls { display: grid; grid-template-columns: 90px 1fr 70px; gap: 2px 10px;
  align-items: center; max-width: 560px; }
.lrgap-explorer input[type=range] { width: 100%; margin: 0; }
.lrgap-explorer .readout { font-variant-numeric: tabular-nums; }
.lrgap-explorer .buttons { margin: 6px 0; display: flex; gap: 16px; align-items: center; }
.lrgap-explorer svg { display: block; max-width: 100%; height: auto; }
.lrgap-explorer svg text { font-size: 11px; fill: #444; }
.lrgap-explorer svg .title { font-size: 12px; fill: #222; }
.lrgap-explorer .frame { fill: none; stroke: #bbb; }
.lrgap-explorer .level { fill: none; stroke: #aaa; stroke-width: 0.8; }
.lrgap-explorer .level.eps { stroke: #333; stroke-width: 1.4; }
.lrgap-explorer .ring { fill: none; stroke-width: 1; stroke-dasharray: 4 3; }
.lrgap-explorer .path { fill: none; stroke-width: 1.3; stroke-linejoin: round; }
.lrgap-explorer .cross { stroke: #000; stroke-width: 1.6; }
.lrgap-explorer .star { stroke: #fff; stroke-width: 0.6; }
.lrgap-explorer .analytic { fill: #fff; stroke: #2ca02c; stroke-width: 1.6; }
.lrgap-explorer .summary { margin-top: 4px; font-variant-numeric: tabular-nums; }
.lrgap-explorer .key { color: #666; font-size: 12px; }
.lrgap-explorer .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; }
`;


/** A labelled checkbox bound to the boolean `name` of the widget's model: [label, box]. */
function checkbox(model, name, className, text) {
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = className;
  box.addEventListener("change", () => {
    model.set(name, box.checked);
    model.save_changes();
  });
  label.append(box, text);
  return [label, box];
}

function render({ model, el }) {
  const ranges = model.get("ranges");
  const root = document.createElement("div");
  root.className = "lrgap-explorer";
  const style = document.createElement("style");
  style.textContent = CSS;
  root.appendChild(style);

  const controls = document.createElement("div");
  controls.className = "controls";
  const inputs = {};
  const readouts = {};
  for (const name of SETTINGS) {
    const r = ranges[name];
    const label = document.createElement("label");
    label.textContent = r.label;
    const input = document.createElement("input");
    input.type = "range";
    input.name = name;
    const log = r.scale === "log";
    input.min = log ? Math.log10(r.min) : r.min;
    input.max = log ? Math.log10(r.max) : r.max;
    input.step = r.step;
    input.setAttribute("aria-label", r.label);
    const readout = document.createElement("span");
    readout.className = "readout";
    input.addEventListener("input", () => {
      const raw = parseFloat(input.value);
      model.set(name, log ? Math.pow(10, raw) : raw);
      model.save_changes();
    });
    label.htmlFor = input.id = `lrgap-${name}-${Math.random().toString(36).slice(2)}`;
    controls.append(label, input, readout);
    inputs[name] = input;
    readouts[name] = readout;
  }
  root.appendChild(controls);

  const buttons = document.createElement("div");
  buttons.className = "buttons";
  const reset = document.createElement("button");
  reset.type = "button";
  reset.className = "reset";
  reset.textContent = "Reset";
  reset.addEventListener("click", () => {
    for (const [name, value] of Object.entries(model.get("defaults"))) model.set(name, value);
    model.save_changes();
  });
  const [toggle, box] = checkbox(model, "show_analytic", "show-analytic",
    " show the analytic points (train loss ε, error on one coordinate)");
  const [exact, exactBox] = checkbox(model, "exact_stop", "exact-stop",
    " stop at exactly ε (anneal first, last step shortened)");
  buttons.append(reset, toggle, exact);
  root.appendChild(buttons);

  const width = PAD + 3 * PANEL + 2 * GAP + 8;
  const svg = svgEl("svg", {
    viewBox: `0 0 ${width} ${PANEL + 18 + PAD}`,
    width,
    role: "img",
    "aria-label": "gradient-descent paths on the train- and test-loss contours",
  });
  const uid = Math.random().toString(36).slice(2);
  const panels = [
    new Panel(svg, 0, "train loss", `lrgap-clip0-${uid}`),
    new Panel(svg, 1, "test loss", `lrgap-clip1-${uid}`),
    new Panel(svg, 2, "close-up at β*", `lrgap-clip2-${uid}`),
  ];
  root.appendChild(svg);
  const text = document.createElement("div");
  text.className = "summary";
  root.appendChild(text);
  el.appendChild(root);

  function update() {
    const s = {};
    for (const name of [...SETTINGS, ...TOGGLES]) s[name] = model.get(name);
    for (const name of SETTINGS) {
      const r = ranges[name];
      const shown = r.scale === "log" ? Math.log10(s[name]) : s[name];
      if (parseFloat(inputs[name].value) !== shown) inputs[name].value = shown;
      readouts[name].textContent = Number.isInteger(s[name]) ? String(s[name]) : +s[name].toPrecision(3);
    }
    box.checked = s.show_analytic;
    exactBox.checked = s.exact_stop;
    const t0 = performance.now();
    const result = compute(s);
    const t1 = performance.now();
    draw(panels, s, result);
    const t2 = performance.now();
    text.innerHTML = summary(s, result);
    root.dataset.result = record(s, result);
    // ms spent computing and drawing the last update (read by the browser check's benchmark)
    root.dataset.timing = JSON.stringify({ compute: t1 - t0, draw: t2 - t1 });
  }
  const events = [...SETTINGS, ...TOGGLES].map((n) => `change:${n}`).join(" ");
  model.on(events, update);
  update();
  return () => model.off(events, update);
}

export default { render };
