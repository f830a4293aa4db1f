// Search preview: typing a query (or changing settings A/B, the shopper or the weight) fetches both
// result lists from the JSON endpoint and redraws the parsed query and the two columns, without a reload.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) return;
  var d = form.dataset;
  var timer = null, seq = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function num(x) { return x === null || x === undefined ? "—" : Number(x).toFixed(3); }
  function parsed(q) {
    var show = {
      language: q.language,
      tokens: q.tokens.join(" "),
      corrections: q.corrections.map(function (c) { return c[0] + " → " + c[1]; }).join(", "),
      expanded_tokens: q.expanded_tokens.join(" "),
      price: (q.price_min !== null || q.price_max !== null) ? (q.price_min === null ? "" : q.price_min) + " – " + (q.price_max === null ? "" : q.price_max) : "",
      brand: q.brand || "",
      colours: q.colours.join(", "),
      attributes: q.attributes.map(function (a) { return a.name + " " + a.value + " " + a.unit; }).join(", "),
      category: q.category ? q.category + (q.category_score !== null && q.category_score !== undefined ? " (" + Number(q.category_score).toFixed(2) + ")" : "") : ""
    };
    Array.prototype.forEach.call(document.querySelectorAll("#search-parsed dd"), function (dd) {
      dd.textContent = show[dd.dataset.field] || "—";
    });
  }
  function change(c) {
    if (c === undefined) return null;
    if (c === "new") return el("span", "change new", d.labelNew);
    if (c > 0) return el("span", "change up", "↑" + c);
    if (c < 0) return el("span", "change down", "↓" + (-c));
    return null;
  }
  function draw(side, r) {
    document.getElementById("title-" + side).textContent = side.toUpperCase() + " · " + r.settings.name;
    document.getElementById("meta-" + side).textContent = r.settings.mode + " · " + r.settings.fusion + " · v" + r.version + " · " + r.took_ms + " ms";
    var list = document.getElementById("results-" + side);
    list.textContent = "";
    if (!r.hits.length) { list.appendChild(el("li", "muted", d.labelNone)); return; }
    r.hits.forEach(function (h) {
      var li = el("li", "hit");
      li.dataset.item = h.item_id;
      li.appendChild(el("span", "score", num(h.score)));
      var title = h.product_pk ? el("a", "title", h.title) : el("strong", "title", h.title);
      if (h.product_pk) title.href = d.productUrl.replace(/\/0\/$/, "/" + h.product_pk + "/");
      li.appendChild(title);
      li.appendChild(el("span", "muted", " " + h.item_id + (h.price ? " · " + h.price + " " + h.currency : "")));
      var ch = change(h.change);
      if (ch) li.appendChild(ch);
      var sig = Object.keys(h.signals).map(function (k) { return k + " " + num(h.signals[k]); }).join(" · ");
      li.appendChild(el("div", "signals", sig));
      li.appendChild(el("div", "reasons muted", h.reasons.join(" · ")));
      list.appendChild(li);
    });
  }
  function refresh() {
    var q = document.getElementById("search-q").value.trim();
    var err = document.getElementById("search-error");
    if (!q) { return; }
    var mine = ++seq;
    var params = new URLSearchParams(new FormData(form));
    history.replaceState(null, "", "?" + params.toString());
    var next = document.querySelector(".lang-switch input[name=next]");  // keep the query across a language switch
    if (next) next.value = location.pathname + location.search;
    fetch(d.url + "?" + params.toString(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (mine !== seq) return;  // a newer request is on its way
        if (p.error) { err.textContent = p.error; err.hidden = false; return; }
        err.hidden = true;
        document.getElementById("search-understood").hidden = false;
        parsed(p.a.query);
        var sug = document.getElementById("search-suggestion");
        sug.hidden = !p.a.suggestion;
        document.getElementById("search-suggestion-link").textContent = p.a.suggestion || "";
        var note = document.getElementById("search-shopper-note");
        note.hidden = !p.a.shopper;
        if (p.a.shopper) {
          note.textContent = p.a.shopper.history ? d.labelPersonalised + " " + p.a.shopper.history : d.labelNotPersonalised;
        }
        draw("a", p.a);
        draw("b", p.b);
        form.dataset.updated = String(mine);
      });
  }
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 200); }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  document.getElementById("search-suggestion-link").addEventListener("click", function (ev) {
    ev.preventDefault();
    document.getElementById("search-q").value = ev.target.textContent;
    refresh();
  });
  if (document.getElementById("search-q").value.trim()) refresh();
})();
