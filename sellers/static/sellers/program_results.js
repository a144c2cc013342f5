// The admin's Program results charts: Chart.js (static/vendor/chart.js) draws the data the page
// carries in <script id="program-charts"> (sellers.program_charts), one chart per canvas.
"use strict";

(function () {
  const IN = "#417690", OUT = "#d9822b", SPENT = "#79aec8", BUDGET = "#ba2121";

  function lineOrBar(canvas, type, labels, datasets, yTitle, extra) {
    return new Chart(canvas, {
      type: type,
      data: {labels: labels, datasets: datasets},
      options: Object.assign({
        responsive: true, maintainAspectRatio: false, animation: false, spanGaps: true,
        plugins: {title: {display: true, text: canvas.dataset.title}},
        scales: {y: {beginAtZero: true, title: {display: true, text: yTitle}}},
      }, extra || {}),
    });
  }

  const draw = {
    first_sale_rate(canvas, data) {
      const program = data.first_sale_rate[canvas.dataset.program];
      canvas.dataset.title = `First-sale rate by join week: ${program.title}`;
      return lineOrBar(canvas, "line", program.labels, [
        {label: "in the program", data: program.in_program, borderColor: IN, backgroundColor: IN},
        {label: "not in it", data: program.out_of_program, borderColor: OUT, backgroundColor: OUT},
      ], "% of sellers with a first sale", {scales: {y: {beginAtZero: true, max: 100}}});
    },
    time_to_first_sale(canvas, data) {
      const chart = data.time_to_first_sale;
      canvas.dataset.title = "Time to first sale";
      return lineOrBar(canvas, "bar", chart.labels, [
        {label: "in the program", data: chart.in_program, backgroundColor: IN},
        {label: "not in it", data: chart.out_of_program, backgroundColor: OUT},
      ], "days from joining (average)");
    },
    subsidy(canvas, data) {
      const chart = data.subsidy;
      canvas.dataset.title = `Shipping subsidy: ${chart.spent} of ${chart.budget} ${chart.currency} spent`;
      return lineOrBar(canvas, "line", chart.labels, [
        {label: "spent, added up", data: chart.spent_by_week, borderColor: SPENT, backgroundColor: SPENT, fill: true},
        {label: "budget", data: chart.labels.map(() => chart.budget), borderColor: BUDGET, borderDash: [6, 4],
         pointRadius: 0},
      ], chart.currency);
    },
    buyer_habit(canvas, data) {
      const chart = data.buyer_habit;
      canvas.dataset.title = `Buyers' progress to the habit point (${chart.habit_orders} orders in ` +
        `${chart.habit_days} days), by first order's week`;
      return lineOrBar(canvas, "bar", chart.labels, [
        {label: "buyers", data: chart.buyers, backgroundColor: "#c4dce8"},
        {label: "2+ orders", data: chart.with_two_orders, backgroundColor: SPENT},
        {label: "3+ orders", data: chart.with_three_orders, backgroundColor: IN},
        {label: "habit reached", data: chart.reached_habit, backgroundColor: "#264b5d"},
      ], "buyers");
    },
  };

  document.addEventListener("DOMContentLoaded", function () {
    const data = JSON.parse(document.getElementById("program-charts").textContent);
    for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
      draw[canvas.dataset.chart](canvas, data);
    }
  });
})();
