// Behaviour the templates declare with data- attributes, loaded on every page. Inline handlers (onclick=,
// onsubmit=…) would need 'unsafe-inline' in the Content-Security-Policy; these attributes do not.
//   <form data-confirm="Question?">        asks before submitting
//   <form data-no-submit>                  never submits (a script handles it)
//   <select data-autosubmit>               submits its form when changed
//   <form data-go> <select name="c">       goes to the chosen option's address
//   <input type=checkbox data-open="ID">   opens <details id=ID> when checked
//   <input data-select-on-click>           selects its text when clicked
//   <button data-copy="ID" data-copied-label="Copied">  copies the value of #ID
//   <img data-remove-if-broken>            disappears when it fails to load
(function () {
  document.addEventListener("error", function (e) {
    if (e.target.matches && e.target.matches("img[data-remove-if-broken]")) { e.target.remove(); }
  }, true);
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.hasAttribute("data-no-submit")) { e.preventDefault(); return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); return; }
    var go = el.closest ? el.closest("form[data-go]") : null;
    if (go && el.name === "c" && el.value) { window.location.href = el.value; return; }
    if (el.matches("input[data-open]") && el.checked) {
      var details = document.getElementById(el.getAttribute("data-open"));
      if (details) { details.open = true; }
    }
  });
  document.addEventListener("click", function (e) {
    var el = e.target;
    if (el.matches("input[data-select-on-click]")) { el.select(); return; }
    var button = el.closest ? el.closest("button[data-copy]") : null;
    if (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.value).then(function () {
          button.textContent = button.getAttribute("data-copied-label") || button.textContent;
        });
      }
    }
  });
})();
// The one poller for background jobs (imports, training jobs, auto-tunes): fetches a job's progress JSON
// every second (every 3 s after an error), calls update(progress) each time and done(progress) once the
// job reports finished; stops there.
window.pollJob = function (url, update, done) {
  "use strict";
  function tick() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        update(p);
        if (p.finished) { done(p); } else { setTimeout(tick, 1000); }
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 500);
};
