// The fusion editor: any change to the form (sliders, selects, rules, shopper, page context) posts the
// unsaved settings to the preview JSON endpoint and redraws both lists, rank changes and contribution bars.
// Each rule row shows only the inputs of its kind (data-kinds); hidden inputs are still posted, empty,
// so the rows' lists stay aligned.
(function () {
  "use strict";
  var form = document.getElementById("fusion-form");
  if (!form) return;
  var d = form.dataset;
  var timer = null, seq = 0;
  // One colour per signal, the same as in every chart (dashboard.charts.SIGNAL_COLOURS).
  var coloursEl = document.getElementById("signal-colours");
  var colorOf = coloursEl ? JSON.parse(coloursEl.textContent) : {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function change(c) {
    if (c === undefined) return null;
    if (c === "new") return el("span", "change new", d.labelNew);
    if (c > 0) return el("span", "change up", "↑" + c);
    if (c < 0) return el("span", "change down", "↓" + (-c));
    return null;
  }
  function bar(item) {
    var box = el("div", "contrib-bar");
    var total = 0;
    item.contributions.forEach(function (c) { total += Math.max(c.value, 0); });
    item.contributions.forEach(function (c) {
      var part = el("span", "contrib");
      var w = total > 0 ? (100 * Math.max(c.value, 0) / total) : 0;
      part.style.width = w.toFixed(1) + "%";
      part.style.background = colorOf[c.signal] || "#999";
      part.dataset.signal = c.signal;
      part.dataset.value = c.value.toFixed(4);
      part.title = c.signal + ": " + c.normalized.toFixed(3) + " × " + c.weight.toFixed(2) + " = " + c.value.toFixed(3);
      box.appendChild(part);
    });
    return box;
  }
  function draw(list, items) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = el("li", "preview-item");
      li.dataset.item = item.item_id;
      var head = el("div", "preview-head");
      if (item.image_url) {
        var img = el("img", "thumb"); img.src = item.image_url; img.alt = ""; img.loading = "lazy";
        head.appendChild(img);
      }
      head.appendChild(el("strong", "title", item.title));
      head.appendChild(el("span", "muted", " " + item.item_id + (item.price ? " · " + item.price : "")));
      var ch = change(item.change);
      if (ch) head.appendChild(ch);
      li.appendChild(head);
      li.appendChild(bar(item));
      if (item.rules.length) li.appendChild(el("div", "rules", item.rules.join(" · ")));
      li.appendChild(el("div", "reason muted", item.reason));
      list.appendChild(li);
    });
  }
  function history(h) {
    var box = document.getElementById("preview-history");
    box.textContent = "";
    if (!h.length) return;
    box.appendChild(el("h3", null, document.getElementById("preview-history-label").textContent));
    var ul = el("ul", "history");
    h.forEach(function (e) { ul.appendChild(el("li", null, e.title + " (" + e.item_id + ", " + e.type + ")")); });
    box.appendChild(ul);
  }
  function refresh() {
    var mine = ++seq;
    var err = document.getElementById("preview-error");
    fetch(d.previewUrl, {method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (mine !== seq) return;  // a newer request is on its way
        if (p.error) { err.textContent = p.error; err.hidden = false; return; }
        err.hidden = true;
        draw(document.getElementById("preview-edited"), p.edited.items);
        draw(document.getElementById("preview-saved"), p.saved.items);
        history(p.edited.history);
        form.dataset.updated = String(mine);
      });
  }
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 150); }
  function syncRow(row) {
    var kind = row.querySelector("select[name=rule_kind]").value;
    Array.prototype.forEach.call(row.querySelectorAll("input[data-kinds]"), function (input) {
      input.hidden = input.dataset.kinds.split(" ").indexOf(kind) < 0;
    });
  }
  function syncRows() {
    Array.prototype.forEach.call(document.querySelectorAll("#rules .rule-row"), syncRow);
  }

  form.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t.type === "range" && t.nextElementSibling && t.nextElementSibling.tagName === "OUTPUT") {
      t.nextElementSibling.textContent = Number(t.value).toFixed(2);
    }
    soon();
  });
  form.addEventListener("change", function (ev) {
    if (ev.target.name === "rule_kind") syncRow(ev.target.closest(".rule-row"));
    soon();
  });
  document.getElementById("preview-shopper").addEventListener("input", soon);
  document.getElementById("preview-context").addEventListener("input", soon);
  document.getElementById("add-rule").addEventListener("click", function () {
    var tpl = document.getElementById("rule-template");
    document.getElementById("rules").appendChild(tpl.content.cloneNode(true));
    syncRows();
  });
  document.getElementById("rules").addEventListener("click", function (ev) {
    if (ev.target.classList.contains("remove-rule")) { ev.target.parentNode.remove(); soon(); }
  });
  document.getElementById("random-shopper").addEventListener("click", function () {
    fetch(d.randomUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
      document.getElementById("preview-shopper").value = p.shopper || "";
      refresh();
    });
  });
  document.getElementById("new-shopper").addEventListener("click", function () {
    document.getElementById("preview-shopper").value = "";
    refresh();
  });
  syncRows();
  refresh();
})();
