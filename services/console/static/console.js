// Desk console: draws the KPI trend charts as SVG from the KPI figures the console relays.
// No framework, no inline script (the page's CSP forbids it); partial refresh is htmx's.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function shown(metric, value) {
    if (value === null || value === undefined) { return "—"; }
    if (/_rate$|adherence/.test(metric)) { return Math.round(value * 100) + " %"; }
    if (metric === "payout") { return "₹" + Math.round(value / 100).toLocaleString("en-IN"); }
    return String(value);
  }

  function dayNumber(iso) { return Math.round(Date.parse(iso.slice(0, 10) + "T00:00:00Z") / 86400000); }

  function draw(figure, rows, firstDay, lastDay) {
    var metric = figure.getAttribute("data-metric");
    var points = rows.map(function (r) { return { day: String(r.bucket).slice(0, 10), v: r[metric] }; })
      .filter(function (p) { return p.v !== null && p.v !== undefined; });
    var status = figure.querySelector(".chart-status");
    if (!points.length) { status.textContent = "No figures in this period."; return; }
    var w = 360, h = 160, left = 72, bottom = 24, top = 10, right = 8;
    var max = Math.max.apply(null, points.map(function (p) { return p.v; }));
    var min = Math.min(0, Math.min.apply(null, points.map(function (p) { return p.v; })));
    var span = (max - min) || 1;
    // Days sit at their place on the whole period, so a quiet day shows as a gap, not a squeeze.
    var first = dayNumber(firstDay), span_days = Math.max(1, dayNumber(lastDay) - first);
    var x = function (i) { return left + (dayNumber(points[i].day) - first) * (w - left - right) / span_days; };
    var y = function (v) { return top + (h - top - bottom) * (1 - (v - min) / span); };
    var label = figure.querySelector("figcaption").textContent;
    var svg = el("svg", { viewBox: "0 0 " + w + " " + h, role: "img",
      "aria-label": label + ": " + points.length + " days, latest " + shown(metric, points[points.length - 1].v) });
    svg.appendChild(el("line", { "class": "axis", x1: left, y1: top, x2: left, y2: h - bottom }));
    svg.appendChild(el("line", { "class": "axis", x1: left, y1: h - bottom, x2: w - right, y2: h - bottom }));
    svg.appendChild(el("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, shown(metric, max)));
    svg.appendChild(el("text", { x: left - 4, y: h - bottom, "text-anchor": "end" }, shown(metric, min)));
    svg.appendChild(el("text", { x: left, y: h - 6 }, firstDay));
    svg.appendChild(el("text", { x: w - right, y: h - 6, "text-anchor": "end" }, lastDay));
    var d = points.map(function (p, i) { return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(p.v).toFixed(1); }).join(" ");
    svg.appendChild(el("path", { "class": "line", d: d }));
    points.forEach(function (p, i) {
      var dot = el("circle", { cx: x(i), cy: y(p.v), r: 2.5, fill: "#0b4f8a" });
      dot.appendChild(el("title", {}, p.day + ": " + shown(metric, p.v)));
      svg.appendChild(dot);
    });
    status.remove();
    figure.appendChild(svg);
  }

  function charts() {
    var holder = document.querySelector("[data-kpis]");
    if (!holder) { return; }
    var figures = holder.querySelectorAll("figure[data-metric]");
    fetch(holder.getAttribute("data-kpis"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(r.status === 503 ? "The reports service is slow or down right now." : "The KPI figures could not be read (" + r.status + ")."); }
        return r.json();
      })
      .then(function (report) {
        figures.forEach(function (f) {
          draw(f, report.rows || [], holder.getAttribute("data-start"), holder.getAttribute("data-end"));
        });
      })
      .catch(function (e) { figures.forEach(function (f) { f.querySelector(".chart-status").textContent = e.message; }); });
  }

  document.addEventListener("DOMContentLoaded", charts);
}());
