// Maps of Ordos drawn with the vendored ECharts (static/vendor/echarts, a global `echarts`)
// over the vendored banner outlines (static/vendor/ordos/ordos.geojson). Offline, and no
// inline script or style (CSP): pages pass URLs and labels in data- attributes, tooltips
// are built from escaped text and CSS classes (static/css/map.css).
//
// One function draws every kind of map, so the regulator cockpit can reuse it:
//   import { drawOrdosMap, loadOrdosFeatures } from "/static/js/ordos-map.js";
//   const features = await loadOrdosFeatures("/static/vendor/ordos/ordos.geojson");
//   drawOrdosMap(element, { features, values: { "150622": 83.5, … }, points: [], flows: [],
//                           names: { "150622": "准格尔旗", … }, labels: { value: "综合利用率 %" } });
// values (division code → number) colour the banners (a choropleth); points are
// {kind, lon, lat, t, title, enterprise, sw, tonnes, price, url}; flows are
// {from: [lon, lat], to: [lon, lat], value, label} (labels.flowValue names the value; tooltip rows
// without a value are left out). Any of the three may be left out;
// range: [min, max] fixes the colour scale (e.g. [0, 100] for a rate), else the values' own.

export const MAP_NAME = "ordos";
export const COLOURS = { offer: "#d97706", demand: "#1d4ed8", flow: "#7c3aed" };
const BANNER_FILL = "#e3efe6";
const BANNER_EDGE = "#5f8a6b";
const CHOROPLETH = ["#f7fcf5", "#c7e9c0", "#74c476", "#238b45", "#00441b"];

function echartsLib() {
  if (!window.echarts) { throw new Error("ECharts is not loaded (static/vendor/echarts/echarts.min.js)"); }
  return window.echarts;
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function escapeHtml(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// A same-site path only: the map never sends anyone elsewhere.
function safePath(url) {
  return typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : null;
}

export async function loadOrdosFeatures(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) { throw new Error(`${url}: ${response.status}`); }
  const geojson = await response.json();
  return geojson.features;
}

// Regions are keyed by division code (the feature id), whatever language the page is in.
function normalise(features) {
  return features.map((f) => ({
    type: "Feature",
    id: String(f.id),
    properties: { name: String(f.id) },
    geometry: f.geometry,
  }));
}

function pointTooltip(p, labels) {
  const kind = p.kind === "demand" ? "demand" : "offer";
  const rows = [
    [labels.enterprise, p.enterprise], [labels.sw, p.sw],
    [labels.tonnes, `${p.tonnes} ${labels.t || "t"}`], [labels.price, p.price],
  ].filter(([, v]) => v != null && v !== "")
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("");
  return `<div class="wx-map-tip"><div class="wx-map-tip-kind ${kind}">${escapeHtml(labels[kind] || kind)}</div>`
    + `<div class="wx-map-tip-title">${escapeHtml(p.title)}</div><dl>${rows}</dl></div>`;
}

function bannerTooltip(code, names, values, labels) {
  const value = values && Object.prototype.hasOwnProperty.call(values, code) ? values[code] : null;
  const line = value == null ? "" : `<dl><dt>${escapeHtml(labels.value || "")}</dt><dd>${escapeHtml(value)}</dd></dl>`;
  return `<div class="wx-map-tip"><div class="wx-map-tip-title">${escapeHtml(names[code] || code)}</div>${line}</div>`;
}

function symbolSizer(points) {
  const largest = Math.max(1, ...points.map((p) => Number(p.t) || 0));
  return (t) => 7 + 23 * Math.sqrt(Math.max(0, Number(t) || 0) / largest);
}

function pointSeries(points, labels) {
  const size = symbolSizer(points);
  return ["offer", "demand"].map((kind) => ({
    id: `points-${kind}`,
    name: labels[kind] || kind,
    type: "scatter",
    coordinateSystem: "geo",
    geoIndex: 0,
    z: kind === "offer" ? 4 : 5,
    itemStyle: { color: COLOURS[kind], opacity: 0.8, borderColor: "#fff", borderWidth: 1 },
    emphasis: { scale: 1.3, itemStyle: { opacity: 1 } },
    cursor: "pointer",
    data: points.filter((p) => (p.kind === "demand" ? "demand" : "offer") === kind).map((p) => ({
      name: p.title, value: [p.lon, p.lat, p.t], symbolSize: size(p.t), point: p,
    })),
  }));
}

function flowSeries(flows, labels) {
  const largest = Math.max(1, ...flows.map((f) => Number(f.value) || 0));
  return {
    id: "flows",
    name: labels.flow || "flows",
    type: "lines",
    coordinateSystem: "geo",
    geoIndex: 0,
    z: 3,
    lineStyle: { color: COLOURS.flow, opacity: 0.6, curveness: 0.2 },
    data: flows.map((f) => ({
      coords: [f.from, f.to], value: f.value, flow: f,
      lineStyle: { width: 1 + 5 * ((Number(f.value) || 0) / largest) },
    })),
  };
}

function choroplethSeries(values) {
  return {
    id: "banners",
    name: "banners",
    type: "map",
    geoIndex: 0,
    data: Object.entries(values).map(([code, value]) => ({ name: code, value })),
  };
}

function visualMap(values, range) {
  const numbers = Object.values(values).map(Number).filter(Number.isFinite);
  const [min, max] = range || [Math.min(...numbers), Math.max(...numbers)];
  return {
    type: "continuous", seriesIndex: 0, min, max: max > min ? max : min + 1, calculable: false,
    left: 16, bottom: 16, text: [String(max), String(min)], inRange: { color: CHOROPLETH },
  };
}

// Draws (or redraws) a map into `element`; returns the ECharts instance.
export function drawOrdosMap(element, { features, values = null, points = [], flows = [], names = {},
                                        labels = {}, range = null, onPointClick = null } = {}) {
  const echarts = echartsLib();
  echarts.registerMap(MAP_NAME, { type: "FeatureCollection", features: normalise(features) });
  const chart = echarts.getInstanceByDom(element) || echarts.init(element, null, { renderer: "canvas" });
  const hasValues = values && Object.keys(values).length > 0;
  const series = [];
  if (hasValues) { series.push(choroplethSeries(values)); }
  if (flows.length) { series.push(flowSeries(flows, labels)); }
  if (points.length) { series.push(...pointSeries(points, labels)); }

  chart.setOption({
    animation: false,
    tooltip: {
      trigger: "item",
      confine: true,
      className: "wx-map-tooltip",
      formatter(params) {
        if (params.data && params.data.point) { return pointTooltip(params.data.point, labels); }
        if (params.data && params.data.flow) {
          const f = params.data.flow;
          return `<div class="wx-map-tip"><div class="wx-map-tip-title">${escapeHtml(f.label || "")}</div>`
            + `<dl><dt>${escapeHtml(labels.flowValue || labels.value || "")}</dt><dd>${escapeHtml(f.value)}</dd></dl></div>`;
        }
        return bannerTooltip(params.name, names, values, labels);
      },
    },
    legend: points.length ? { top: 8, right: 12, data: [labels.offer || "offer", labels.demand || "demand"] }
      : { show: false },
    visualMap: hasValues ? visualMap(values, range) : [],
    geo: {
      map: MAP_NAME,
      roam: true,
      scaleLimit: { min: 0.8, max: 12 },
      layoutCenter: ["50%", "52%"],
      layoutSize: "95%",
      itemStyle: { areaColor: BANNER_FILL, borderColor: BANNER_EDGE, borderWidth: 1 },
      emphasis: { itemStyle: { areaColor: "#cfe3d5" }, label: { show: true } },
      select: { disabled: true },
      label: {
        show: true, color: "#1f3b29", fontSize: 12, textBorderColor: "#fff", textBorderWidth: 2,
        formatter: (params) => names[params.name] || params.name,
      },
      tooltip: { show: true },
    },
    series,
  }, { notMerge: true });

  chart.off("click");
  chart.on("click", (params) => {
    const point = params.data && params.data.point;
    if (!point) { return; }
    if (onPointClick) { onPointClick(point); return; }
    const path = safePath(point.url);
    if (path) { window.location.assign(path); }
  });
  if (!element.dataset.resizeBound) {
    element.dataset.resizeBound = "1";
    window.addEventListener("resize", () => chart.resize());
  }
  return chart;
}

// Load a map element's boundaries and its JSON data (from ``url``), then ``draw(features, data, say)``;
// the element's data-state says loading / ready / error (the browser tests wait on it) and the
// status line next to it (data-map-status) tells the reader, in the page's labels.
export async function bootMap(element, url, labels, draw) {
  const status = element.parentElement.querySelector("[data-map-status]");
  const say = (text) => { if (status) { status.textContent = text; } };
  element.dataset.state = "loading";
  try {
    const [features, response] = await Promise.all([
      loadOrdosFeatures(element.dataset.geojson),
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }),
    ]);
    if (!response.ok) { throw new Error(`${url}: ${response.status}`); }
    draw(features, await response.json(), say);
    element.dataset.state = "ready";
  } catch (error) {
    element.dataset.state = "error";
    say(labels.failed || "The map could not be loaded.");
    console.error(error); // eslint-disable-line no-console
  }
}

// The market page: <div data-ordos-map="market" data-geojson=… data-points=… data-labels=…>.
function bootMarket(element) {
  const labels = JSON.parse(element.dataset.labels || "{}");
  return bootMap(element, element.dataset.points, labels, (features, data, say) => {
    drawOrdosMap(element, { features, points: data.points, names: data.banners, labels });
    const counts = (labels.counts || "{offer} / {demand}")
      .replace("{offer}", data.counts.offer).replace("{demand}", data.counts.demand);
    say(data.points.length ? counts + (data.truncated ? ` ${labels.truncated || ""}` : "") : labels.empty || "");
  });
}

document.querySelectorAll("[data-ordos-map=market]").forEach((element) => { bootMarket(element); });
