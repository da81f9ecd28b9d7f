// The journeylens console: a read-only page over the API in docs/console-api.md.
// No build step: an ES module the server serves as is, with uPlot imported from
// /vendor/uplot/ (node_modules/uplot/dist). Rules this file keeps:
// - every string from the API (ids, labels, reasons, event types, pages) is untrusted and is
//   written with textContent / createElement, never as markup; a band goes into a class name
//   only after it matched the closed list;
// - no inline script or style attribute anywhere (the server's CSP allows neither); sizes are
//   set through the CSSOM (element.style), which the CSP does not govern;
// - the token travels only in the Authorization header: the live stream is read with fetch()
//   rather than EventSource, and images are fetched and shown through blob: URLs.
/* global document, window, fetch, sessionStorage, history, location, navigator, AbortController, TextDecoderStream, ResizeObserver, setTimeout, clearTimeout, setInterval */

const TOKEN_KEY = 'journeylens.console.token';
const BANDS = ['low', 'medium', 'high'];
const STALL_MS = 45_000; // the server pings every 15 s; three missed pings mean a dead stream
const MAX_RETRY_MS = 15_000; // a restarted server is found within 15 s; a loopback retry costs nothing
const LOOKUP_REFRESH_MS = 5_000;
const CHART_MINUTES = 60;
// Tableau 10, the categorical palette most readers already know; the novel cluster is grey.
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#e15759', '#bab0ac'];
const NOVEL_COLOR = '#8a939c';

const state = {
  token: null,
  authNeeded: false,
  model: null,
  clusters: new Map(), // id → cluster from /api/model
  colors: new Map(), // id → colour
  limits: { feed: 500, backlog: 200, mixMinutes: 120, signalsPerSession: 64 },
  points: [], // /api/mix points, oldest first
  alerts: [], // newest first
  alertIds: new Set(),
  band: 'all',
  backlogLeft: 0,
  lastEventId: null,
  retryMs: 2000,
  streamAbort: null,
  wake: null,
  galleryUrls: [], // blob: URLs to revoke on reload
  lookup: { id: 0, timer: null, imageUrl: null, sessionId: null },
  uPlot: null,
  cardRefs: new WeakMap(), // gallery card → its live-share elements
  charts: { mix: null, rate: null, risk: null },
  mixSeriesIds: [],
};

// ---------- small helpers ----------

const $ = (id) => document.getElementById(id);

/** createElement with a class and text; children appended in order. Text is never parsed. */
function el(tag, className, text, children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (children) for (const c of children) if (c) node.append(c);
  return node;
}

const str = (v) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN);
const band = (v) => (BANDS.includes(v) ? v : 'unknown');
const intFmt = new Intl.NumberFormat('en');

function pct(x, digits) {
  if (!Number.isFinite(x)) return '–';
  const d = digits ?? (x > 0 && x < 0.1 ? 1 : 0);
  return `${(x * 100).toFixed(d)}%`;
}

function count(x) {
  return Number.isFinite(x) ? intFmt.format(Math.round(x)) : '–';
}

function figure(x) {
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) return '–';
    if (Number.isInteger(x)) return intFmt.format(x);
    return Math.abs(x) >= 100 ? x.toFixed(1) : Number(x.toPrecision(4)).toString();
  }
  if (typeof x === 'boolean') return x ? 'yes' : 'no';
  if (x === null || x === undefined) return '–';
  return str(x);
}

function clock(ms) {
  if (!Number.isFinite(ms)) return '–';
  return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function dateTime(ms) {
  if (!Number.isFinite(ms)) return '–';
  return new Date(ms).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

function ago(ms) {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return dateTime(ms);
}

function clusterColor(id) {
  return state.colors.get(id) ?? NOVEL_COLOR;
}

function clusterName(id, fallbackLabel) {
  const c = state.clusters.get(id);
  if (c) return str(c.label);
  if (id === -1) return fallbackLabel ? `novel · ${str(fallbackLabel)}` : 'novel journey';
  return str(fallbackLabel) || `cluster ${id}`;
}

function clusterTag(id, label) {
  const dot = el('span', 'dot');
  dot.style.backgroundColor = clusterColor(id);
  const tag = el('span', 'cluster-tag', null, [dot, el('span', 'cluster-tag-text', clusterName(id, label))]);
  tag.title = `cluster ${id}`;
  return tag;
}

function bandBadge(b) {
  const ok = band(b);
  return el('span', `band band-${ok}`, ok === 'unknown' ? str(b) || '?' : ok);
}

// ---------- API access ----------

class AuthError extends Error {}

function authHeaders() {
  return state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

async function api(path, accept) {
  const res = await fetch(path, { headers: { Accept: accept ?? 'application/json', ...authHeaders() }, cache: 'no-store' });
  if (res.status === 401) {
    needToken(true);
    throw new AuthError('unauthorized');
  }
  return res;
}

async function apiJson(path) {
  const res = await api(path);
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (body && typeof body.message === 'string') message = body.message;
    } catch {
      // not JSON: the status says enough
    }
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

/** Fetches a PNG with the token and returns a blob: URL for an <img> (revoke it when replaced). */
async function apiImage(path) {
  const res = await api(path, 'image/png');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const blob = await res.blob();
  return URL.createObjectURL(blob);
}

// Only same-origin API paths are followed, whatever a response says.
function apiPath(url) {
  return typeof url === 'string' && url.startsWith('/api/') ? url : null;
}

// ---------- token ----------

function readToken() {
  const m = /^#token=(.+)$/.exec(location.hash);
  if (m) {
    let t = m[1];
    try {
      t = decodeURIComponent(t);
    } catch {
      // keep it as written
    }
    try {
      sessionStorage.setItem(TOKEN_KEY, t);
    } catch {
      // storage disabled: the token lives for this page only
    }
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function needToken(refused) {
  if (state.authNeeded) return;
  state.authNeeded = true;
  if (state.streamAbort) state.streamAbort.abort();
  setConn('auth', 'token needed');
  $('token-button').hidden = false;
  openTokenDialog(refused && state.token ? 'The server refused that token.' : '');
}

function openTokenDialog(error) {
  const dialog = $('token-dialog');
  $('token-error').textContent = error;
  $('token-input').value = '';
  if (!dialog.open) dialog.showModal();
  $('token-input').focus();
}

function setupTokenDialog() {
  $('token-form').addEventListener('submit', (e) => {
    // The form never submits (the CSP has form-action 'none'); the token is only kept here.
    e.preventDefault();
    const t = $('token-input').value.trim();
    if (!t) return;
    state.token = t;
    try {
      sessionStorage.setItem(TOKEN_KEY, t);
    } catch {
      // storage disabled
    }
    $('token-dialog').close();
    $('token-button').hidden = true;
    state.authNeeded = false;
    refreshAll();
    wakeStream();
  });
  $('token-cancel').addEventListener('click', () => $('token-dialog').close());
  $('token-button').addEventListener('click', () => openTokenDialog(''));
}

// ---------- connection state ----------

function setConn(kind, text) {
  const conn = $('conn');
  conn.dataset.state = kind;
  $('conn-text').textContent = text;
}

function banner(text) {
  const b = $('banner');
  b.textContent = text ?? '';
  b.hidden = !text;
}

// ---------- model and gallery ----------

async function loadModel() {
  const model = await apiJson('/api/model');
  state.model = model;
  state.clusters = new Map();
  state.colors = new Map();
  const clusters = Array.isArray(model.clusters) ? model.clusters : [];
  clusters.forEach((c, i) => {
    const id = num(c.id);
    if (!Number.isInteger(id)) return;
    state.clusters.set(id, c);
    state.colors.set(id, PALETTE[i % PALETTE.length]);
  });
  state.colors.set(-1, NOVEL_COLOR);
  if (model.limits && typeof model.limits === 'object') Object.assign(state.limits, model.limits);
  $('model-version').textContent = str(model.modelVersion) || '?';
  $('mode-label').textContent = model.mode === 'ui' ? 'reading output topics' : model.mode === 'run' ? 'beside the processor' : '';
  renderGallery();
  renderModelCard();
  buildMixChart();
  // Tags already in the feed take the new colours and labels.
  renderFeed();
}

function liveShares() {
  const p = state.points[state.points.length - 1];
  if (!p || !(num(p.active) > 0)) return null;
  const by = p.activeByCluster && typeof p.activeByCluster === 'object' ? p.activeByCluster : {};
  return { total: num(p.active), of: (id) => (num(by[String(id)]) || 0) / num(p.active) };
}

function sortedClusters() {
  const list = [...state.clusters.values()];
  const live = liveShares();
  const key = $('gallery-sort').value;
  const by = {
    churn: (c) => -num(c.churnRate),
    live: (c) => (live ? -live.of(c.id) : 0),
    size: (c) => -num(c.size),
    id: (c) => num(c.id),
  }[key] ?? ((c) => num(c.id));
  return list.sort((a, b) => by(a) - by(b) || num(a.id) - num(b.id));
}

function renderGallery() {
  const gallery = $('gallery');
  for (const u of state.galleryUrls) URL.revokeObjectURL(u);
  state.galleryUrls = [];
  gallery.replaceChildren();
  const clusters = sortedClusters();
  const total = clusters.reduce((s, c) => s + (num(c.size) || 0), 0);
  const maxChurn = Math.max(...clusters.map((c) => num(c.churnRate) || 0), 0);
  for (const c of clusters) {
    const id = num(c.id);
    const card = el('article', 'cluster-card');
    card.dataset.clusterId = String(id);
    const stripe = el('div', 'cluster-stripe');
    stripe.style.backgroundColor = clusterColor(id);

    const imgBtn = el('button', 'cluster-thumb');
    imgBtn.type = 'button';
    imgBtn.title = 'Enlarge';
    const img = el('img');
    img.alt = `Prototype journey image of cluster ${id}`;
    imgBtn.append(img);
    const path = apiPath(c.prototypeUrl);
    if (path) {
      apiImage(path).then(
        (url) => {
          state.galleryUrls.push(url);
          img.src = url;
          imgBtn.addEventListener('click', () => openImage(url, `Cluster ${id}: ${str(c.label)}`));
        },
        () => imgBtn.replaceChildren(el('span', 'thumb-missing', 'image unavailable')),
      );
    } else {
      imgBtn.replaceChildren(el('span', 'thumb-missing', 'no image'));
    }

    const churn = num(c.churnRate);
    const share = total > 0 ? num(c.size) / total : Number.NaN;
    const churnBar = el('span', 'meter-fill meter-churn');
    churnBar.style.width = `${Math.round(((churn || 0) / (maxChurn || 1)) * 100)}%`;
    if (churn >= 0.5) churnBar.classList.add('is-high');

    const liveValue = el('span', 'stat-value live-share', '–');
    const liveDelta = el('span', 'delta');
    const stats = el('dl', 'cluster-stats', null, [
      el('div', 'stat', null, [el('dt', null, 'Churn rate'), el('dd', null, null, [el('span', 'stat-value', pct(churn)), el('span', 'meter', null, [churnBar])])]),
      el('div', 'stat', null, [el('dt', null, 'Training share'), el('dd', null, null, [el('span', 'stat-value', pct(share)), el('span', 'stat-sub', `${count(num(c.size))} sessions`)])]),
      el('div', 'stat', null, [el('dt', null, 'Live share'), el('dd', null, null, [liveValue, liveDelta])]),
    ]);
    card.append(
      stripe,
      imgBtn,
      el('div', 'cluster-body', null, [
        el('div', 'cluster-id', `cluster ${id}`),
        el('h3', 'cluster-label', str(c.label)),
        stats,
      ]),
    );
    state.cardRefs.set(card, { liveValue, liveDelta, share });
    gallery.append(card);
  }
  updateLiveShares();
}

function updateLiveShares() {
  const live = liveShares();
  for (const card of $('gallery').children) {
    const ref = state.cardRefs.get(card);
    if (!ref) continue;
    const id = Number(card.dataset.clusterId);
    if (!live) {
      ref.liveValue.textContent = '–';
      ref.liveDelta.textContent = 'no active sessions';
      continue;
    }
    const s = live.of(id);
    ref.liveValue.textContent = pct(s);
    if (Number.isFinite(ref.share)) {
      const d = (s - ref.share) * 100;
      ref.liveDelta.textContent = Math.abs(d) < 0.5 ? '≈ training' : `${d > 0 ? '▲' : '▼'} ${Math.abs(d).toFixed(1)} pts`;
      ref.liveDelta.title = 'live share minus share of training sessions, in percentage points';
    }
  }
}

function openImage(url, title) {
  $('image-dialog-title').textContent = title;
  const img = $('image-dialog-img');
  img.src = url;
  img.alt = title;
  $('image-dialog').showModal();
}

// ---------- model card ----------

const CARD_FIELDS = [
  ['modelVersion', 'Bundle version'],
  ['createdAt', 'Trained'],
  ['loadedAt', 'Loaded'],
];
const TRAINING_FIELDS = [
  ['sessions', 'Sessions'],
  ['events', 'Events'],
  ['churnRate', 'Churn rate', pct],
  ['labelRate', 'Labelled', pct],
  ['encoder', 'Encoder'],
  ['dim', 'Embedding size'],
  ['clusterer', 'Clustering'],
  ['epochsRun', 'Epochs'],
  ['seed', 'Seed'],
  ['trainSeconds', 'Training time', (s) => `${Math.round(s / 60)} min`],
  ['dataSha256', 'Data SHA-256', (s) => `${str(s).slice(0, 12)}…`],
];
const QUALITY_FIELDS = [
  ['inSampleAuc', 'Churn AUC (in sample)'],
  ['ari', 'Cluster stability (ARI)'],
  ['valLoss', 'Reconstruction loss (validation)'],
  ['clusters', 'Clusters'],
  ['centroids', 'Centroids'],
  ['noiseShare', 'Noise share', pct],
];

function addFact(dl, label, value, title) {
  const dd = el('dd', null, value);
  if (title) dd.title = title;
  dl.append(el('dt', null, label), dd);
}

function renderModelCard() {
  const m = state.model ?? {};
  const card = $('model-card');
  card.replaceChildren();
  for (const [key, label] of CARD_FIELDS) {
    const v = m[key];
    addFact(card, label, key === 'loadedAt' ? dateTime(num(v)) : key === 'createdAt' && v ? dateTime(Date.parse(str(v))) : figure(v));
  }
  const spec = m.imageSpec ?? {};
  const types = Array.isArray(spec.eventTypes) ? spec.eventTypes.map(str) : [];
  addFact(card, 'Journey image', `${figure(spec.rows)} × ${figure(spec.cols)} (${str(spec.rowMode) || '?'})`, types.length ? `event types: ${types.join(', ')}` : undefined);
  addFact(card, 'Event types', types.length ? `${types.length} + other` : '–', types.join(', '));
  const gap = num(m.sessionization?.gapMs);
  addFact(card, 'Session gap', Number.isFinite(gap) ? `${Math.round(gap / 60000)} min` : '–');
  const bands = m.riskBands ?? {};
  addFact(card, 'Alert bands', `medium ≥ ${figure(bands.mediumThreshold)}, high ≥ ${figure(bands.highThreshold)}`);

  const fill = (dl, source, fields) => {
    dl.replaceChildren();
    const obj = source && typeof source === 'object' ? source : {};
    for (const [key, label, fmt] of fields) {
      if (!(key in obj)) continue;
      const v = obj[key];
      addFact(dl, label, fmt && typeof v === 'number' ? fmt(v) : fmt && key === 'dataSha256' ? fmt(v) : figure(v), key === 'dataSha256' ? str(v) : key);
    }
  };
  fill($('model-training'), m.training, TRAINING_FIELDS);
  fill($('model-quality'), m.metrics, QUALITY_FIELDS);

  const all = $('model-all');
  all.replaceChildren();
  for (const [group, obj] of [['training', m.training], ['metrics', m.metrics]]) {
    if (!obj || typeof obj !== 'object') continue;
    for (const [k, v] of Object.entries(obj)) addFact(all, `${group}.${k}`, figure(v));
  }
}

// ---------- mix, counters and charts ----------

async function loadMix() {
  const minutes = Math.min(CHART_MINUTES, num(state.limits.mixMinutes) || CHART_MINUTES);
  const mix = await apiJson(`/api/mix?minutes=${minutes}`);
  state.points = Array.isArray(mix.points) ? mix.points.filter((p) => Number.isFinite(num(p.t))) : [];
  onPointsChanged();
}

function mergePoint(p) {
  if (!p || !Number.isFinite(num(p.t))) return;
  const last = state.points[state.points.length - 1];
  if (last && num(last.t) === num(p.t)) state.points[state.points.length - 1] = p;
  else if (!last || num(p.t) > num(last.t)) state.points.push(p);
  const keep = Math.min(CHART_MINUTES, num(state.limits.mixMinutes) || CHART_MINUTES);
  if (state.points.length > keep) state.points.splice(0, state.points.length - keep);
  onPointsChanged();
}

function onPointsChanged() {
  const pts = state.points;
  const last = pts[pts.length - 1];
  // A/min: the last complete minute when there is one, else the current one so far.
  const full = pts.length > 1 ? pts[pts.length - 2] : last;
  $('kpi-active').textContent = last ? count(num(last.active)) : '–';
  $('kpi-signals').textContent = full ? count(num(full.signals)) : '–';
  $('kpi-alerts').textContent = full ? count(num(full.alerts)) : '–';
  const since = Date.now() - 3_600_000;
  const high = pts.filter((p) => num(p.t) >= since).reduce((s, p) => s + (num(p.alertsByBand?.high) || 0), 0);
  $('kpi-high').textContent = pts.length ? count(high) : '–';
  updateLiveShares();
  if ($('gallery-sort').value === 'live') resortGallery();
  updateCharts();
}

function resortGallery() {
  const gallery = $('gallery');
  const order = sortedClusters().map((c) => String(c.id));
  const cards = new Map([...gallery.children].map((c) => [c.dataset.clusterId, c]));
  const current = [...gallery.children].map((c) => c.dataset.clusterId);
  if (order.join() === current.join()) return;
  for (const id of order) if (cards.has(id)) gallery.append(cards.get(id));
}

async function loadCharts() {
  try {
    const mod = await import('/vendor/uplot/uPlot.esm.js');
    state.uPlot = mod.default;
  } catch {
    for (const id of ['mix-chart', 'rate-chart', 'risk-chart']) $(id).replaceChildren(el('p', 'empty', 'Charts unavailable (the chart library did not load).'));
    return;
  }
  buildMixChart();
  buildRateChart();
}

function chartWidth(node) {
  return Math.max(200, Math.floor(node.getBoundingClientRect().width));
}

const axisStyle = { stroke: '#5b6470', grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#e3e6ea', width: 1 }, font: '11px system-ui, sans-serif' };

// 24-hour tick labels at the precision the tick spacing needs (uPlot's default is 12-hour).
function timeAxis() {
  const fmt = (incr) =>
    incr < 60_000
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
      : incr < 86_400_000
        ? { hour: '2-digit', minute: '2-digit' }
        : { day: 'numeric', month: 'short' };
  return { ...axisStyle, values: (u, ticks, axisIdx, space, incr) => ticks.map((t) => new Date(t).toLocaleString('en-GB', fmt(incr))) };
}

function buildMixChart() {
  const uPlot = state.uPlot;
  const node = $('mix-chart');
  if (!uPlot || !state.model) return;
  if (state.charts.mix) state.charts.mix.destroy();
  node.replaceChildren();
  // Stacked shares: series k is the running sum of clusters 0..k, drawn largest first so each
  // filled area sits on the one below (no bands needed). Novel journeys stack last.
  const ids = [...state.clusters.keys()].sort((a, b) => a - b);
  ids.push(-1);
  state.mixSeriesIds = ids;
  const series = [{}];
  for (let k = ids.length - 1; k >= 0; k--) {
    const colour = clusterColor(ids[k]);
    series.push({ label: clusterName(ids[k]), stroke: '#ffffff', width: 1, fill: colour, points: { show: false } });
  }
  state.charts.mix = new uPlot(
    {
      width: chartWidth(node),
      height: 220,
      ms: 1,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: { y: { range: [0, 1] } },
      axes: [timeAxis(), { ...axisStyle, size: 48, values: (u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) }],
      series,
      hooks: { setCursor: [(u) => renderMixLegend(u.cursor.idx)] },
    },
    mixData(),
    node,
  );
  renderMixLegend(null);
}

function mixData() {
  const pts = state.points;
  const xs = pts.map((p) => num(p.t));
  const ids = state.mixSeriesIds;
  const cum = ids.map(() => []);
  for (const p of pts) {
    const active = num(p.active);
    const by = p.activeByCluster && typeof p.activeByCluster === 'object' ? p.activeByCluster : {};
    let run = 0;
    ids.forEach((id, k) => {
      run += active > 0 ? (num(by[String(id)]) || 0) / active : 0;
      cum[k].push(active > 0 ? Math.min(1, run) : null);
    });
  }
  return [xs, ...cum.reverse()];
}

function renderMixLegend(idx) {
  const legend = $('mix-legend');
  legend.replaceChildren();
  const pts = state.points;
  const p = idx !== null && idx !== undefined && pts[idx] ? pts[idx] : pts[pts.length - 1];
  const active = p ? num(p.active) : Number.NaN;
  const by = p?.activeByCluster && typeof p.activeByCluster === 'object' ? p.activeByCluster : {};
  for (const id of state.mixSeriesIds) {
    const n = num(by[String(id)]) || 0;
    if (id === -1 && n === 0) continue;
    const sw = el('span', 'swatch');
    sw.style.backgroundColor = clusterColor(id);
    const item = el('span', 'legend-item', null, [sw, el('span', 'legend-label', clusterName(id)), el('span', 'legend-value', active > 0 ? pct(n / active) : '–')]);
    item.title = `cluster ${id}`;
    legend.append(item);
  }
  if (p) legend.append(el('span', 'legend-when', idx !== null && idx !== undefined ? clock(num(p.t)) : 'now'));
}

function buildRateChart() {
  const uPlot = state.uPlot;
  const node = $('rate-chart');
  if (!uPlot) return;
  if (state.charts.rate) state.charts.rate.destroy();
  node.replaceChildren();
  state.charts.rate = new uPlot(
    {
      width: chartWidth(node),
      height: 220,
      ms: 1,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (u, min, max) => [0, Math.max(10, max * 1.1)] }, a: { range: (u, min, max) => [0, Math.max(5, max * 1.2)] } },
      axes: [timeAxis(), { ...axisStyle, scale: 'y', size: 52 }, { ...axisStyle, scale: 'a', side: 1, size: 40, grid: { show: false } }],
      series: [
        {},
        { label: 'signals', scale: 'y', stroke: '#4e79a7', width: 2, fill: 'rgba(78,121,167,0.12)', points: { show: false } },
        { label: 'alerts', scale: 'a', stroke: '#d1495b', fill: 'rgba(209,73,91,0.55)', width: 1, paths: uPlot.paths.bars({ size: [0.55, 14] }), points: { show: false } },
      ],
    },
    rateData(),
    node,
  );
}

function rateData() {
  const pts = state.points;
  return [pts.map((p) => num(p.t)), pts.map((p) => num(p.signals) || 0), pts.map((p) => num(p.alerts) || 0)];
}

function updateCharts() {
  if (state.charts.mix) {
    state.charts.mix.setData(mixData());
    renderMixLegend(state.charts.mix.cursor.idx ?? null);
  }
  if (state.charts.rate) state.charts.rate.setData(rateData());
}

function watchChartSizes() {
  const ro = new ResizeObserver(() => {
    for (const [key, id] of [['mix', 'mix-chart'], ['rate', 'rate-chart'], ['risk', 'risk-chart']]) {
      const chart = state.charts[key];
      if (chart) chart.setSize({ width: chartWidth($(id)), height: chart.height });
    }
  });
  for (const id of ['mix-chart', 'rate-chart', 'risk-chart']) ro.observe($(id));
}

// ---------- alerts feed ----------

function alertItem(a, fresh) {
  const b = band(a.riskBand);
  const li = el('li', `alert band-row-${b}${fresh ? ' is-new' : ''}`);
  li.dataset.alertId = str(a.alertId);
  li.dataset.band = b;
  const risk = num(a.churnRisk);
  const bar = el('span', `meter-fill meter-${b}`);
  bar.style.width = `${Math.round(Math.max(0, Math.min(1, risk || 0)) * 100)}%`;
  const time = el('time', 'alert-time', ago(num(a.emittedAt)));
  time.dataset.ms = String(num(a.emittedAt));
  time.title = dateTime(num(a.emittedAt));
  const prev = band(a.previousBand);
  const top = el('div', 'alert-top', null, [
    bandBadge(a.riskBand),
    el('span', 'alert-risk', pct(risk)),
    el('span', 'meter meter-risk', null, [bar]),
    prev !== 'unknown' ? el('span', 'alert-from', `from ${prev}`) : null,
    time,
  ]);
  const session = el('button', 'link mono', str(a.sessionId));
  session.type = 'button';
  session.title = 'Look this session up';
  session.addEventListener('click', () => lookupFromFeed(str(a.sessionId)));
  const meta = el('div', 'alert-meta', null, [
    clusterTag(num(a.clusterId), a.clusterLabel),
    el('span', 'alert-ids', null, [
      el('span', 'meta-key', 'session'),
      session,
      a.userId !== null && a.userId !== undefined ? el('span', 'meta-key', 'user') : null,
      a.userId !== null && a.userId !== undefined ? el('span', 'mono', str(a.userId)) : null,
    ]),
  ]);
  li.append(top, el('p', 'alert-reason', str(a.reason)), meta);
  return li;
}

function addAlert(a) {
  const id = str(a.alertId);
  if (!id || state.alertIds.has(id)) return;
  const fresh = state.backlogLeft <= 0;
  if (state.backlogLeft > 0) state.backlogLeft--;
  state.alertIds.add(id);
  state.alerts.unshift(a);
  const feed = $('feed');
  const keepScroll = feed.scrollTop > 4;
  const before = feed.scrollHeight;
  feed.prepend(alertItem(a, fresh));
  const cap = num(state.limits.feed) || 500;
  while (state.alerts.length > cap) {
    const old = state.alerts.pop();
    state.alertIds.delete(str(old.alertId));
    feed.lastElementChild?.remove();
  }
  // Someone reading further down keeps their place while new alerts arrive on top.
  if (keepScroll) feed.scrollTop += feed.scrollHeight - before;
  updateFeedCounts();
}

function renderFeed() {
  const feed = $('feed');
  feed.replaceChildren(...state.alerts.map((a) => alertItem(a, false)));
  updateFeedCounts();
}

function clearFeed() {
  state.alerts = [];
  state.alertIds.clear();
  $('feed').replaceChildren();
  updateFeedCounts();
}

function updateFeedCounts() {
  const counts = { all: state.alerts.length, low: 0, medium: 0, high: 0 };
  for (const a of state.alerts) {
    const b = band(a.riskBand);
    if (b in counts) counts[b]++;
  }
  for (const k of Object.keys(counts)) $(`count-${k}`).textContent = count(counts[k]);
  const shown = state.band === 'all' ? counts.all : counts[state.band];
  const empty = $('feed-empty');
  empty.hidden = shown > 0;
  empty.textContent = counts.all === 0 ? 'Waiting for alerts…' : `No ${state.band} alerts among the last ${count(counts.all)}.`;
  $('feed-foot').textContent = counts.all > 0 ? `Newest first · the last ${count(num(state.limits.feed) || 500)} alerts are kept` : '';
}

function setupBandFilter() {
  for (const chip of $('band-filter').querySelectorAll('.chip')) {
    chip.addEventListener('click', () => {
      state.band = chip.dataset.band;
      for (const c of $('band-filter').querySelectorAll('.chip')) c.setAttribute('aria-pressed', String(c === chip));
      $('feed').dataset.filter = state.band;
      updateFeedCounts();
    });
  }
  $('feed').dataset.filter = 'all';
}

function tickTimes() {
  for (const t of document.querySelectorAll('time[data-ms]')) t.textContent = ago(Number(t.dataset.ms));
}

// ---------- the live stream (fetch-based Server-Sent Events) ----------

function handleEvent(type, data) {
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    return; // a frame we cannot read is skipped, the stream goes on
  }
  if (!body || typeof body !== 'object') return;
  switch (type) {
    case 'hello':
      setConn('live', 'live');
      banner(null);
      if (!body.resumed) {
        clearFeed();
        state.backlogLeft = num(body.backlog) || 0;
        refreshAll();
      } else if (!state.model || str(body.modelVersion) !== str(state.model.modelVersion)) {
        refreshAll();
      }
      break;
    case 'alert':
      addAlert(body);
      break;
    case 'summary':
      mergePoint(body.point);
      break;
    case 'model':
      loadModel().catch(showLoadError);
      break;
    default:
      break;
  }
}

/** Reads text/event-stream from a fetch body (the WHATWG parsing rules); returns at end of stream. */
async function readEvents(body, onActivity) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let type = '';
  let data = [];
  const line = (l) => {
    if (l === '') {
      if (data.length > 0) handleEvent(type || 'message', data.join('\n'));
      type = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) state.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) state.retryMs = Math.max(500, Number(value));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onActivity();
    buf += value;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buf);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!m || (m[0] === '\r' && m.index === buf.length - 1)) break;
      line(buf.slice(0, m.index));
      buf = buf.slice(m.index + m[0].length);
    }
    if (buf.length > 1 << 20) throw new Error('event stream line over 1 MiB');
  }
}

function wakeStream() {
  if (state.wake) state.wake();
}

function pause(ms, label) {
  return new Promise((resolve) => {
    const until = Date.now() + ms;
    let timer = null;
    const done = () => {
      clearTimeout(timer);
      state.wake = null;
      resolve();
    };
    const tick = () => {
      const left = until - Date.now();
      if (left <= 0) return done();
      if (label) setConn(navigator.onLine === false ? 'offline' : 'retry', navigator.onLine === false ? 'offline' : `${label} in ${Math.ceil(left / 1000)} s`);
      timer = setTimeout(tick, Math.min(1000, left));
    };
    state.wake = done;
    tick();
  });
}

async function streamLoop() {
  let failures = 0;
  for (;;) {
    if (state.authNeeded) {
      await pause(3_600_000, null); // until a token is entered (wakeStream)
      continue;
    }
    const abort = new AbortController();
    state.streamAbort = abort;
    let live = false;
    let stall = null;
    const activity = () => {
      live = true;
      clearTimeout(stall);
      stall = setTimeout(() => abort.abort(), STALL_MS);
    };
    setConn('connecting', failures === 0 ? 'connecting…' : 'reconnecting…');
    try {
      const headers = { Accept: 'text/event-stream', ...authHeaders() };
      if (state.lastEventId) headers['Last-Event-ID'] = state.lastEventId;
      const res = await fetch('/api/events', { headers, cache: 'no-store', signal: abort.signal });
      if (res.status === 401) {
        needToken(true);
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      activity();
      await readEvents(res.body, activity);
    } catch {
      // network error, abort or a broken frame: reconnect below
    } finally {
      clearTimeout(stall);
      state.streamAbort = null;
    }
    if (state.authNeeded) continue;
    failures = live ? 0 : failures + 1;
    if (failures >= 2) banner('The console cannot reach the server. It keeps trying; what is shown is as of the last update.');
    const wait = live ? state.retryMs : Math.min(MAX_RETRY_MS, state.retryMs * 2 ** Math.max(0, failures - 1));
    await pause(wait, 'reconnecting');
  }
}

// ---------- session lookup ----------

function setupLookup() {
  $('lookup-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = $('lookup-input').value.trim();
    if (q) lookup(q);
  });
}

function lookupFromFeed(sessionId) {
  $('lookup-input').value = sessionId;
  lookup(sessionId);
  $('lookup-title').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function lookup(q) {
  const seq = ++state.lookup.id;
  clearTimeout(state.lookup.timer);
  const status = $('lookup-status');
  status.textContent = 'Looking up…';
  status.className = 'lookup-status';
  if (q.length > 256) {
    status.textContent = 'Ids are at most 256 characters.';
    status.className = 'lookup-status is-error';
    return;
  }
  try {
    let session = null;
    let others = null;
    try {
      session = await apiJson(`/api/sessions/${encodeURIComponent(q)}`);
    } catch (err) {
      if (err.status !== 404) throw err;
      const user = await apiJson(`/api/users/${encodeURIComponent(q)}`).catch((e) => {
        if (e.status === 404) return null;
        throw e;
      });
      const sessions = Array.isArray(user?.sessions) ? user.sessions : [];
      if (sessions.length === 0) {
        if (seq !== state.lookup.id) return;
        $('lookup-result').hidden = true;
        status.textContent = '';
        status.append('No session or user ', el('q', 'mono', q), ` among the last ${count(num(state.limits.sessions) || 10000)} sessions seen.`);
        status.className = 'lookup-status is-error';
        return;
      }
      others = { userId: str(user.userId), sessions };
      session = await apiJson(`/api/sessions/${encodeURIComponent(str(sessions[0].sessionId))}`);
    }
    if (seq !== state.lookup.id) return;
    status.textContent = '';
    $('lookup-hint').hidden = true;
    await showSession(session, others, seq);
  } catch (err) {
    if (seq !== state.lookup.id || err instanceof AuthError) return;
    status.textContent = `Lookup failed: ${err.message}`;
    status.className = 'lookup-status is-error';
  }
}

async function showSession(s, others, seq) {
  const latest = s.latest && typeof s.latest === 'object' ? s.latest : {};
  state.lookup.sessionId = str(s.sessionId);
  $('lookup-result').hidden = false;
  $('lookup-session').textContent = str(s.sessionId);
  const b = band(latest.riskBand);
  const badge = $('lookup-band');
  badge.className = `band band-${b}`;
  badge.textContent = b === 'unknown' ? '?' : b;
  $('lookup-risk').textContent = pct(num(latest.churnRisk));
  const st = s.state === 'closed' ? 'closed' : 'open';
  $('lookup-state').textContent = st === 'closed' ? 'session closed' : 'session open';
  $('lookup-state').className = `state state-${st}`;
  $('lookup-user').textContent = s.userId === null || s.userId === undefined ? '–' : str(s.userId);
  const cid = num(latest.clusterId);
  const cl = $('lookup-cluster');
  cl.replaceChildren(clusterTag(cid, latest.clusterLabel));
  if (latest.novel === true) cl.append(el('span', 'note', ' novel: far from every centroid'));
  $('lookup-events').textContent = count(num(latest.eventCount));
  const lastEvent = $('lookup-last');
  lastEvent.replaceChildren();
  if (s.lastEvent && typeof s.lastEvent === 'object') {
    // append() with a string adds a text node: nothing here is parsed as markup.
    lastEvent.append(el('span', 'mono', str(s.lastEvent.type)));
    if (s.lastEvent.page !== null && s.lastEvent.page !== undefined) lastEvent.append(' on ', el('span', 'mono', str(s.lastEvent.page)));
    if (Number.isFinite(num(s.lastEvent.timestamp))) lastEvent.append(el('span', 'note', ` · ${dateTime(num(s.lastEvent.timestamp))}`));
  } else {
    lastEvent.textContent = '–';
  }
  const upd = $('lookup-updated');
  upd.replaceChildren();
  const t = el('time', null, ago(num(latest.emittedAt)));
  t.dataset.ms = String(num(latest.emittedAt));
  t.title = dateTime(num(latest.emittedAt));
  upd.append(t);

  // Journey image, fetched with the token.
  const img = $('lookup-img');
  const note = $('lookup-image-note');
  const path = apiPath(s.image?.url);
  if (path) {
    try {
      const url = await apiImage(path);
      if (seq !== state.lookup.id) {
        URL.revokeObjectURL(url);
        return;
      }
      if (state.lookup.imageUrl) URL.revokeObjectURL(state.lookup.imageUrl);
      state.lookup.imageUrl = url;
      img.src = url;
      img.hidden = false;
      note.textContent = Number.isFinite(num(s.image.asOf)) ? `as of ${dateTime(num(s.image.asOf))}` : '';
    } catch (err) {
      if (err instanceof AuthError) return;
      img.hidden = true;
      note.textContent = 'The journey image could not be loaded.';
    }
  } else {
    img.hidden = true;
    note.textContent = str(s.imageNote) || 'No journey image for this session.';
  }

  const alerts = $('lookup-alerts');
  alerts.replaceChildren();
  const list = Array.isArray(s.alerts) ? s.alerts : [];
  for (const a of list) {
    const when = el('time', 'alert-time', ago(num(a.emittedAt)));
    when.dataset.ms = String(num(a.emittedAt));
    when.title = dateTime(num(a.emittedAt));
    alerts.append(el('li', null, null, [el('div', 'alert-top', null, [bandBadge(a.riskBand), el('span', 'alert-risk', pct(num(a.churnRisk))), when]), el('p', 'alert-reason', str(a.reason))]));
  }
  if (list.length === 0) alerts.append(el('li', 'empty', 'none'));

  const othersWrap = $('lookup-others-wrap');
  if (others && others.sessions.length > 1) {
    const ul = $('lookup-others');
    ul.replaceChildren();
    for (const o of others.sessions.slice(1)) {
      const btn = el('button', 'link mono', str(o.sessionId));
      btn.type = 'button';
      btn.addEventListener('click', () => lookupFromFeed(str(o.sessionId)));
      ul.append(el('li', null, null, [btn, bandBadge(o.riskBand), el('span', 'alert-risk', pct(num(o.churnRisk))), el('span', 'note', o.state === 'closed' ? 'closed' : 'open')]));
    }
    othersWrap.hidden = false;
  } else {
    othersWrap.hidden = true;
  }

  drawRiskPath(Array.isArray(s.signals) ? s.signals : []);

  if (st === 'open') {
    state.lookup.timer = setTimeout(async () => {
      if (seq !== state.lookup.id) return;
      try {
        const again = await apiJson(`/api/sessions/${encodeURIComponent(str(s.sessionId))}`);
        if (seq === state.lookup.id) await showSession(again, others, seq);
      } catch {
        // the next lookup or reconnect will tell
      }
    }, LOOKUP_REFRESH_MS);
  }
}

function drawRiskPath(signals) {
  const uPlot = state.uPlot;
  const node = $('risk-chart');
  if (state.charts.risk) {
    state.charts.risk.destroy();
    state.charts.risk = null;
  }
  node.replaceChildren();
  if (!uPlot) return;
  const pts = signals.filter((p) => Number.isFinite(num(p.emittedAt)) && Number.isFinite(num(p.churnRisk)));
  if (pts.length === 0) {
    node.append(el('p', 'empty', 'No signals yet.'));
    return;
  }
  const bands = state.model?.riskBands ?? {};
  const med = num(bands.mediumThreshold);
  const high = num(bands.highThreshold);
  const xs = pts.map((p) => num(p.emittedAt));
  if (xs.length === 1) xs.push(xs[0] + 1000); // one signal still draws as a short flat step
  const ys = pts.map((p) => num(p.churnRisk));
  if (ys.length === 1) ys.push(ys[0]);
  const shade = (u) => {
    const { ctx, bbox } = u;
    const y = (v) => u.valToPos(v, 'y', true);
    ctx.save();
    if (Number.isFinite(high)) {
      ctx.fillStyle = 'rgba(209,73,91,0.10)';
      ctx.fillRect(bbox.left, y(1), bbox.width, y(high) - y(1));
    }
    if (Number.isFinite(med) && Number.isFinite(high)) {
      ctx.fillStyle = 'rgba(242,142,43,0.10)';
      ctx.fillRect(bbox.left, y(high), bbox.width, y(med) - y(high));
    }
    ctx.restore();
  };
  state.charts.risk = new uPlot(
    {
      width: chartWidth(node),
      height: 150,
      ms: 1,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: [0, 1] } },
      axes: [timeAxis(), { ...axisStyle, size: 48, values: (u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) }],
      series: [{}, { label: 'risk', stroke: '#2f3e4e', width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: true, size: 5, fill: '#2f3e4e' } }],
      hooks: { drawClear: [shade] },
    },
    [xs, ys],
    node,
  );
}

// ---------- start ----------

function showLoadError(err) {
  if (err instanceof AuthError) return;
  banner(`Could not load the console data: ${err.message}. It is retried when the live stream reconnects.`);
}

let refreshing = null;
function refreshAll() {
  // One refresh at a time; a second request while one runs is folded into it.
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      await loadModel();
      await loadMix();
    } catch (err) {
      showLoadError(err);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function start() {
  state.token = readToken();
  setupTokenDialog();
  setupBandFilter();
  setupLookup();
  $('gallery-sort').addEventListener('change', resortGallery);
  $('image-dialog-close').addEventListener('click', () => $('image-dialog').close());
  $('image-dialog').addEventListener('click', (e) => {
    if (e.target === $('image-dialog')) $('image-dialog').close();
  });
  window.addEventListener('online', wakeStream);
  window.addEventListener('offline', () => setConn('offline', 'offline'));
  setInterval(tickTimes, 5000);
  watchChartSizes();
  loadCharts().then(() => {
    if (state.points.length) updateCharts();
    if (state.lookup.sessionId) lookup(state.lookup.sessionId);
  });
  refreshAll();
  streamLoop();
}

start();
