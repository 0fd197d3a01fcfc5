// The regulator cockpit's charts and map (templates/regulator/), drawn with the vendored ECharts.
// No inline script (CSP): pages put the data in data- attributes (data-chart, data-labels) or name
// the JSON to fetch (the map: data-source, the /api/v1/regulator/map endpoint). Every chart sets
// data-state to "ready" once drawn (or "error"), which the browser tests wait for.
import { bootMap, drawOrdosMap, escapeHtml } from "./ordos-map.js";

const GREEN = "#238b45";
const AMBER = "#d97706";
const BLUE = "#1d4ed8";
const GREY = "#6b7280";

function read(element, name) {
  return JSON.parse(element.dataset[name] || "{}");
}

// A same-site path only: a chart never sends anyone elsewhere.
function safePath(url) {
  return typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : null;
}

function targetLine(target, label) {
  return {
    silent: true, symbol: "none", lineStyle: { color: "#b91c1c", type: "dashed" },
    label: { formatter: label, position: "insideEndTop", color: "#b91c1c" },
    data: [{ yAxis: target }],
  };
}

function resizeWith(chart, element) {
  if (!element.dataset.resizeBound) {
    element.dataset.resizeBound = "1";
    window.addEventListener("resize", () => chart.resize());
  }
}

// Monthly bars (generated, utilised), stock and rate lines, the 80 % line on the rate axis.
function drawTrend(element) {
  const data = read(element, "chart");
  const labels = read(element, "labels");
  const chart = window.echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis", confine: true, valueFormatter: (v) => (v == null ? "—" : escapeHtml(v)) },
    legend: { top: 0 },
    grid: { left: 70, right: 60, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.months },
    yAxis: [
      { type: "value", name: labels.tonnes, axisLabel: { formatter: (v) => v.toLocaleString() } },
      { type: "value", name: labels.percent, min: 0, max: 100, splitLine: { show: false } },
    ],
    series: [
      { name: labels.generated, type: "bar", data: data.generated, itemStyle: { color: GREY } },
      { name: labels.utilised, type: "bar", data: data.utilised, itemStyle: { color: GREEN } },
      { name: labels.stock, type: "line", data: data.stock, itemStyle: { color: BLUE }, symbol: "none" },
      {
        name: labels.rate, type: "line", yAxisIndex: 1, data: data.rate, itemStyle: { color: AMBER },
        connectNulls: false, markLine: targetLine(data.target, labels.target),
      },
    ],
  });
  resizeWith(chart, element);
}

// One bar per base (or banner…), green at or above the target, amber below; a click opens it.
function drawRates(element) {
  const data = read(element, "chart");
  const labels = read(element, "labels");
  const chart = window.echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis", confine: true, valueFormatter: (v) => (v == null ? "—" : `${escapeHtml(v)} %`) },
    grid: { left: 50, right: 20, top: 20, bottom: 30 },
    xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0 } },
    yAxis: { type: "value", min: 0, max: 100, name: "%" },
    series: [{
      name: labels.rate,
      type: "bar",
      cursor: "pointer",
      data: data.rates.map((rate) => ({
        value: rate, itemStyle: { color: rate != null && rate >= data.target ? GREEN : AMBER },
      })),
      label: { show: true, position: "top", formatter: (p) => (p.value == null ? "—" : `${p.value}`) },
      markLine: targetLine(data.target, labels.target),
    }],
  });
  chart.on("click", (params) => {
    const path = safePath(data.urls[params.dataIndex]);
    if (path) { window.location.assign(path); }
  });
  resizeWith(chart, element);
}

function tonnesText(t) {
  return Number(t).toLocaleString(undefined, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
}

// The API's map payload in the shape drawOrdosMap takes (producers as "offer", utilisers as "demand").
function mapInput(data, labels) {
  const values = {};
  const names = {};
  data.banners.forEach((b) => {
    names[b.code] = b.name;
    if (b.rate != null) { values[b.code] = b.rate; }
  });
  const points = data.points.map((p) => ({
    kind: p.kind === "utiliser" ? "demand" : "offer", lon: p.lon, lat: p.lat, t: p.tonnes, url: p.url,
    title: p.name, enterprise: p.banner, sw: "", tonnes: tonnesText(p.tonnes),
    price: p.rate == null ? "" : `${p.rate} %`,
  }));
  const flows = data.flows.map((f) => ({
    from: f.from, to: f.to, value: f.tonnes, label: `${f.sender} → ${f.receiver} (${labels.t || "t"})`,
  }));
  return { values, names, points, flows };
}

function drawMap(element) {
  const labels = read(element, "labels");
  return bootMap(element, element.dataset.source, labels, (features, data, say) => {
    const input = mapInput(data, labels);
    const chart = drawOrdosMap(element, { features, labels, range: [0, 100], ...input });
    chart.on("click", (params) => {
      if (params.componentType === "series" && params.seriesType !== "map") { return; }
      const code = params.name;
      if (!/^\d{6}$/.test(code || "")) { return; }
      const path = safePath(element.dataset.bannerUrl.replace("CODE", code));
      if (path) { window.location.assign(path); }
    });
    const producers = data.points.filter((p) => p.kind === "producer").length;
    say(data.points.length
      ? (labels.counts || "").replace("{producers}", producers)
        .replace("{utilisers}", data.points.length - producers)
        .replace("{flows}", data.flows.length).replace("{total}", data.flows_total)
      : labels.empty || "");
  });
}

const DRAW = { trend: drawTrend, rates: drawRates };

document.querySelectorAll("[data-cockpit-chart]").forEach((element) => {
  try {
    DRAW[element.dataset.cockpitChart](element);
    element.dataset.state = "ready";
  } catch (error) {
    element.dataset.state = "error";
    console.error(error); // eslint-disable-line no-console
  }
});
document.querySelectorAll("[data-cockpit-map]").forEach((element) => { drawMap(element); });
