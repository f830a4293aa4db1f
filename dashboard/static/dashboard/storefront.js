// Demo storefront: calls the storefront REST API from the browser with a public token (Authorization: Bearer),
// as a web shop would, and keeps each served list's request_id. A click on a card, and "Add to cart", are
// posted with the request_id of the list the product came from to the dashboard's demo events endpoint
// (same origin, session + CSRF): public tokens may not write, so a real shop's server would send them.
// No build step, no libraries.
(function () {
  "use strict";
  var root = document.getElementById("storefront");
  if (!root) return;
  var d = root.dataset;
  var RECENT_MAX = 20, LOG_MAX = 20, N_LIST = 12, N_RELATED = 6;
  var KEY_RECENT = "fusion-storefront-recent:" + d.slug;
  var KEY_SHOPPER = "fusion-storefront-shopper:" + d.slug;
  var KEY_SESSION = "fusion-storefront-session";
  var template = document.getElementById("sf-card-template");
  var shopperInput = document.getElementById("sf-shopper");
  var asShopper = document.getElementById("sf-as-shopper");
  var asGuest = document.getElementById("sf-as-guest");
  var from = {};  // product id → request id of the list it was last clicked in
  var current = null;  // the product on show: {id, requestId}
  var seq = {};  // list id → number of its newest request (answers to older ones are dropped)
  var timer = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));  // randomUUID needs https; an intranet host may not have it
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function read(key, fallback) {
    try {
      var v = JSON.parse(window.localStorage.getItem(key));
      return v === null ? fallback : v;
    } catch (e) { return fallback; }
  }
  function write(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: forget */ }
  }
  function session() {
    var s = read(KEY_SESSION, null);
    if (!s) { s = uuid(); write(KEY_SESSION, s); }
    return s;
  }
  function recent() { var r = read(KEY_RECENT, []); return Array.isArray(r) ? r : []; }
  function remember(id) {
    var r = recent().filter(function (x) { return x !== id; });
    r.push(id);
    write(KEY_RECENT, r.slice(-RECENT_MAX));
    showRecent();
  }
  function shopper() { return asShopper.checked ? shopperInput.value.trim() : ""; }
  function who(params, withRecent) {
    var s = shopper();
    if (s) { params.set("shopper", s); return params; }
    params.set("session", session());
    if (withRecent && recent().length) params.set("recent", recent().join(","));  // oldest first
    return params;
  }
  function money(price, currency) {
    if (price === null || price === undefined) return null;
    var n = Number(price).toLocaleString(document.documentElement.lang || undefined,
                                         {minimumFractionDigits: 2, maximumFractionDigits: 2});
    return n + " " + (currency || d.currency);
  }

  // -- errors --------------------------------------------------------------------------------
  var errorBox = document.getElementById("sf-error");
  function showError(err) { errorBox.textContent = String(err && err.message ? err.message : err); errorBox.hidden = false; }
  function problem(body, response) {  // application/problem+json → one line that says what to fix
    var msg = body.detail || body.title || (response.status + " " + response.statusText);
    if (body.errors) {
      msg += " — " + Object.keys(body.errors).map(function (k) { return k + ": " + [].concat(body.errors[k]).join(" "); }).join("; ");
    }
    if (body.request_id) msg += " (" + d.labelRequest + " " + body.request_id + ")";
    return msg;
  }

  // -- the API -------------------------------------------------------------------------------
  function api(url) {
    return fetch(url, {credentials: "omit", headers: {"Authorization": "Bearer " + d.key, "Accept": "application/json"}})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (!r.ok) throw new Error(problem(body, r));
          return body;
        });
      });
  }
  function productUrl(url, id) { return url.replace(d.placeholder, encodeURIComponent(id)); }

  // -- cards and lists -----------------------------------------------------------------------
  function card(item, list) {
    var node = template.content.firstElementChild.cloneNode(true);
    var href = "#product=" + encodeURIComponent(item.item_id);
    node.dataset.item = item.item_id;
    if (item.in_stock === false) node.classList.add("out-of-stock");
    node.querySelector(".placeholder").textContent = (item.title || "?").charAt(0).toUpperCase();
    var image = node.querySelector(".item-image");
    image.href = href;
    if (item.image_url) {
      var img = el("img");
      img.alt = "";
      img.loading = "lazy";
      img.referrerPolicy = "no-referrer";
      img.onerror = function () { this.remove(); };
      img.src = item.image_url;
      image.appendChild(img);
    }
    var title = node.querySelector(".item-title");
    title.textContent = item.title;
    title.title = item.title;
    title.href = href;
    var price = node.querySelector(".price"), shown = money(item.price, item.currency);
    if (shown) price.textContent = shown; else { price.className = "muted"; price.textContent = d.labelNoPrice; }
    if (item.in_stock === false) node.querySelector(".item-meta").appendChild(el("span", "badge failed", d.labelOutOfStock));
    if (item.reason) {
      var reason = node.querySelector(".item-reason");
      reason.textContent = item.reason;
      reason.hidden = false;
    }
    if (list) {
      node.addEventListener("click", function (ev) {
        ev.preventDefault();
        var requestId = list.dataset.requestId || "";
        send("click", item.item_id, requestId);
        open(item.item_id, requestId);
      });
    }
    return node;
  }
  function meta(p, body) {
    p.textContent = "";
    if (body.fallback) p.appendChild(el("span", "badge fallback", d.labelFallback + ": " + body.fallback));
    var model = body.model_version === null || body.model_version === undefined
      ? d.labelNoModel : d.labelModel + " v" + body.model_version;
    p.appendChild(document.createTextNode(model + (body.fusion_config ? " · " + body.fusion_config : "") + " · "
                                          + d.labelRequest + " "));
    p.appendChild(el("span", "mono sf-request-id", body.request_id));
  }
  function fill(list, body, emptyLabel) {
    list.dataset.requestId = body.request_id || "";
    list.dataset.modelVersion = body.model_version === null || body.model_version === undefined ? "" : body.model_version;
    list.dataset.fallback = body.fallback || "";
    meta(list.querySelector(".sf-meta"), body);
    var grid = list.querySelector(".item-grid");
    grid.textContent = "";
    if (!body.items.length) grid.appendChild(el("p", "muted", emptyLabel || d.labelNone));
    body.items.forEach(function (item) { grid.appendChild(card(item, list)); });
    list.dataset.updated = String(Number(list.dataset.updated || 0) + 1);  // tests and curious operators wait on it
  }
  function load(listId, url, emptyLabel) {
    var mine = seq[listId] = (seq[listId] || 0) + 1;
    var list = document.getElementById(listId);
    list.setAttribute("aria-busy", "true");
    return api(url).then(function (body) {
      if (seq[listId] !== mine) return null;  // a newer request is on its way
      list.removeAttribute("aria-busy");
      fill(list, body, emptyLabel);
      return body;
    }, function (err) {
      list.removeAttribute("aria-busy");
      showError(err);
      return null;
    });
  }

  // -- recommendations, search, product page -------------------------------------------------
  function loadRecs() {
    var params = who(new URLSearchParams({n: String(N_LIST), surface: "home"}), true);
    return load("sf-recs-list", d.urlRecommendations + "?" + params.toString());
  }
  function runSearch(q) {
    var params = who(new URLSearchParams({q: q, n: String(N_LIST)}), false);
    document.getElementById("sf-results").hidden = false;
    document.getElementById("sf-results-for").textContent = "“" + q + "”";
    return load("sf-search-list", d.urlSearch + "?" + params.toString(), d.labelNoResults).then(function (body) {
      var box = document.getElementById("sf-suggestion");
      box.textContent = "";
      box.hidden = !(body && body.suggestion);
      if (!box.hidden) {
        var a = el("a", "", body.suggestion);
        a.href = "#";
        a.addEventListener("click", function (ev) {
          ev.preventDefault();
          document.getElementById("sf-q").value = body.suggestion;
          runSearch(body.suggestion);
        });
        box.appendChild(document.createTextNode(d.labelDidYouMean + " "));
        box.appendChild(a);
      }
    });
  }
  function open(id, requestId) {
    from[id] = requestId;
    var hash = "#product=" + encodeURIComponent(id);
    if (location.hash === hash) showProduct(id); else location.hash = hash;  // hashchange shows it
  }
  function showProduct(id) {
    current = {id: id, requestId: from[id] || ""};
    var section = document.getElementById("sf-product");
    section.hidden = false;
    document.getElementById("sf-cart-note").textContent = "";
    api(productUrl(d.urlProduct, id)).then(function (p) {
      if (!current || current.id !== id) return;
      var item = {item_id: p.item_id || p.id || id, title: p.title, price: p.price, currency: p.currency,
                  image_url: p.image_url, in_stock: p.in_stock};
      var holder = document.getElementById("sf-product-card");
      holder.textContent = "";
      holder.appendChild(card(item, null));
      document.getElementById("sf-product-title").textContent = p.title || id;
      document.getElementById("sf-product-price").textContent = money(p.price, p.currency) || d.labelNoPrice;
      document.getElementById("sf-product-category").textContent = p.category || p.category_path || "";
      document.getElementById("sf-product-description").textContent = p.description || "";
      document.getElementById("sf-product-id").textContent = item.item_id;
      section.dataset.item = id;
    }, showError);
    load("sf-similar", productUrl(d.urlSimilar, id) + "?n=" + N_RELATED);
    load("sf-complementary", productUrl(d.urlComplementary, id) + "?n=" + N_RELATED);
    if (!shopper()) remember(id);
    loadRecs();
    section.scrollIntoView({block: "start"});
  }
  function route() {
    var m = /^#product=(.+)$/.exec(location.hash);
    if (m) { showProduct(decodeURIComponent(m[1])); return; }
    current = null;
    document.getElementById("sf-product").hidden = true;
  }

  // -- events --------------------------------------------------------------------------------
  var log = document.getElementById("sf-log");
  function logRow(ev) {
    var empty = log.querySelector(".sf-log-empty");
    if (empty) empty.remove();
    var tr = el("tr");
    tr.dataset.type = ev.type;
    tr.dataset.item = ev.product_id;
    tr.dataset.requestId = ev.request_id;
    tr.appendChild(el("td", "", ev.type));
    tr.appendChild(el("td", "mono", ev.product_id));
    tr.appendChild(el("td", "mono", ev.request_id || "—"));
    tr.appendChild(el("td", "sf-status muted", "…"));
    log.insertBefore(tr, log.firstChild);
    while (log.children.length > LOG_MAX) log.removeChild(log.lastChild);
    return tr;
  }
  function send(type, productId, requestId) {
    var ev = {event_id: uuid(), type: type, product_id: productId, session_id: session(),
              timestamp: new Date().toISOString(), request_id: requestId || ""};
    if (shopper()) ev.shopper_id = shopper();
    var row = logRow(ev), status = row.querySelector(".sf-status");
    function done(state, text) { row.dataset.status = state; status.className = "sf-status" + (state === "failed" ? " error" : ""); status.textContent = text; }
    return fetch(d.urlEvents, {
      method: "POST", credentials: "same-origin", body: JSON.stringify({events: [ev]}),
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": d.csrf}
    }).then(function (r) {
      return r.json().catch(function () { return {error: r.status + " " + r.statusText}; }).then(function (body) {
        if (!r.ok) { done("failed", d.labelFailed + ": " + problem({detail: body.error, errors: body.errors}, r)); return; }
        if (body.stored) done("stored", d.labelSent); else done("duplicate", d.labelDuplicate);
      });
    }).catch(function (err) { done("failed", d.labelFailed + ": " + err.message); });
  }

  // -- the shopper box -----------------------------------------------------------------------
  function showRecent() {
    var n = recent().length;
    document.getElementById("sf-recent").textContent = shopper() || !n ? "" : d.labelRecent + " " + n;
  }
  function shopperChanged() {
    write(KEY_SHOPPER, shopper());
    showRecent();
    loadRecs();
  }
  shopperInput.addEventListener("input", function () {
    asShopper.checked = shopperInput.value.trim() !== "";
    asGuest.checked = !asShopper.checked;
    clearTimeout(timer);
    timer = setTimeout(shopperChanged, 300);
  });
  asShopper.addEventListener("change", function () { shopperInput.focus(); shopperChanged(); });
  asGuest.addEventListener("change", shopperChanged);
  document.getElementById("sf-random").addEventListener("click", function () {
    fetch(d.urlRandom, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (!body.shopper) { showError(d.labelNoShopper); return; }
        shopperInput.value = body.shopper;
        asShopper.checked = true;
        shopperChanged();
      }, showError);
  });
  document.getElementById("sf-forget").addEventListener("click", function () {
    write(KEY_RECENT, []);
    showRecent();
    loadRecs();
  });
  document.getElementById("sf-search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    errorBox.hidden = true;
    var q = document.getElementById("sf-q").value.trim();
    if (q) runSearch(q);
  });
  document.getElementById("sf-add-to-cart").addEventListener("click", function () {
    if (!current) return;
    send("add_to_cart", current.id, current.requestId).then(function () {
      document.getElementById("sf-cart-note").textContent = "✓";
    });
  });
  document.getElementById("sf-back").addEventListener("click", function (ev) {
    ev.preventDefault();
    location.hash = "";  // hashchange hides the product
  });
  window.addEventListener("hashchange", route);

  var saved = read(KEY_SHOPPER, "");
  if (saved) { shopperInput.value = saved; asShopper.checked = true; }
  showRecent();
  route();
  if (!current) loadRecs();  // a product page loads them itself
})();
