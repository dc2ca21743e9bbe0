/* Live alerts: the header's bell count and a toast per new alert, pushed by the
 * server over Server-Sent Events (/events/, see supervision/live.py). The
 * browser's EventSource reconnects by itself and resumes after the last alert
 * it received (Last-Event-ID), so a stream ended by the server loses nothing. */
(function () {
  "use strict";
  var box = document.getElementById("toasts");
  var badge = document.querySelector("[data-testid=alert-count]");
  if (!box || !badge || !window.EventSource) return;
  var MAX_TOASTS = 5;

  function setCount(n) {
    badge.textContent = String(n);
    badge.classList.toggle("zero", n === 0);
  }

  function link(href, text, cls) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (cls) a.className = cls;
    return a;
  }

  function toast(alert) {
    var el = document.createElement("div");
    el.className = "toast sev-" + alert.severity;
    el.setAttribute("role", "status");
    el.setAttribute("data-testid", "toast");
    el.setAttribute("data-alert", String(alert.id));
    el.appendChild(link(alert.url, alert.title, "toast-title"));
    if (alert.case_url) {
      var more = document.createElement("div");
      var label = alert.page_label ? alert.page_label : box.dataset.caseLabel;
      more.appendChild(link(alert.case_url, label + " " + (alert.case || ""), "toast-case"));
      el.appendChild(more);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", box.dataset.closeLabel);
    close.textContent = "×";
    close.addEventListener("click", function () { el.remove(); });
    el.appendChild(close);
    box.appendChild(el);
    while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
    if (alert.severity !== "critical") {
      setTimeout(function () { el.remove(); }, 60000);
    }
  }

  var source = new EventSource(box.dataset.events);
  source.addEventListener("count", function (e) {
    setCount(JSON.parse(e.data).open);
  });
  source.addEventListener("alert", function (e) {
    toast(JSON.parse(e.data));
  });
})();
