/* Charts of a survey's results, drawn with the vendored ECharts from the JSON block that the
   page carries (no inline script: the Content Security Policy forbids it). The tables next to
   the charts hold the same figures and work without JavaScript. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("survey-chart-data");
    if (!source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var colours = ["#2e7d32", "#f9a825", "#c62828"];
    var charts = [];

    function chart(id, option, bars) {
      var el = document.getElementById(id);
      if (!el) { return; }
      el.style.height = Math.max(160, 36 * bars + 70) + "px";  /* CSSOM: allowed by the CSP */
      var c = window.echarts.init(el, null, { renderer: "svg" });
      c.setOption(option);
      charts.push(c);
    }

    chart("chart-rates", {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: data.rates.units },
      series: [{ type: "bar", data: data.rates.values, itemStyle: { color: "#1565c0" },
                 label: { show: true, position: "right", formatter: "{c}%" } }]
    }, data.rates.units.length);

    var titles = data.questions.map(function (q, i) { return (i + 1) + ". " + q.title; });
    chart("chart-questions", {
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: titles,
               axisLabel: { width: 160, overflow: "truncate" } },
      series: data.scale.map(function (name, k) {
        return { name: name, type: "bar", stack: "all", itemStyle: { color: colours[k] },
                 data: data.questions.map(function (q) { return q.counts[k]; }) };
      })
    }, data.questions.length);

    chart("chart-units", {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", min: 0, max: 100 },
      yAxis: { type: "category", inverse: true, data: data.units.names },
      series: [{ type: "bar", data: data.units.scores, itemStyle: { color: "#6a1b9a" },
                 label: { show: true, position: "right" } }]
    }, data.units.names.length);

    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
