/* Charts of the compliance dashboard, the assessment and the annual report, drawn with the
   vendored ECharts from the JSON blocks the pages carry (no inline script: the Content
   Security Policy forbids it). The tables beside the charts hold the same figures and work
   without JavaScript. */
(function () {
  "use strict";
  var charts = [];

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof window.echarts === "undefined") { return; }
    el.classList.add("drawn");
    var c = window.echarts.init(el, null, { renderer: "svg" });
    c.setOption(option);
    charts.push(c);
  }

  function compliance() {
    var d = data("compliance-chart-data");
    if (!d || !d.units.length) { return; }
    var colours = { on_time: "#2e7d32", late: "#f9a825", overdue: "#c62828", not_due: "#9e9e9e" };
    chart("compliance-chart", {
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: d.units,
               axisLabel: { width: 140, overflow: "truncate" } },
      series: ["on_time", "late", "overdue", "not_due"].map(function (key) {
        return { name: d.labels[key], type: "bar", stack: "all", data: d[key],
                 itemStyle: { color: colours[key] } };
      })
    });
  }

  function assessment() {
    var d = data("assessment-chart-data");
    if (!d || !d.units.length) { return; }
    chart("assessment-chart", {
      grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", min: 0, max: 100 },
      yAxis: { type: "category", inverse: true, data: d.units,
               axisLabel: { width: 140, overflow: "truncate" } },
      series: [{ type: "bar", data: d.totals, itemStyle: { color: "#1565c0" },
                 label: { show: true, position: "right" } }]
    });
  }

  function report() {
    var d = data("report-chart-data");
    if (!d) { return; }
    if (d.trend.months.length) {
      chart("trend-chart", {
        grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: d.trend.months },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [{ type: "line", data: d.trend.scores, connectNulls: true,
                   itemStyle: { color: "#6a1b9a" } }]
      });
    }
    var labels = JSON.parse(document.getElementById("report-chart-labels").textContent);
    chart("disclosure-chart", {
      tooltip: { trigger: "item" },
      legend: { top: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], top: 24, data: [
        { name: labels.on_time, value: d.disclosure.on_time, itemStyle: { color: "#2e7d32" } },
        { name: labels.late, value: d.disclosure.late, itemStyle: { color: "#f9a825" } },
        { name: labels.overdue, value: d.disclosure.overdue, itemStyle: { color: "#c62828" } }
      ] }]
    });
  }

  function draw() {
    compliance();
    assessment();
    report();
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
