// The network page's timeline: moving the slider (or choosing a key event) fetches the figure for
// that date from the node and swaps it in, without reloading; "Replay history" steps through
// every date on which an agreement changed. Without JavaScript the date form does the same.
// Every text shown comes from the page in the reader's language: the dates as the locale writes
// them (data-date-texts, in the order of data-dates) and the button's labels (data-label-*).
(function () {
  "use strict";
  var panel = document.getElementById("timeline-panel");
  var range = document.getElementById("timeline");
  if (!panel || !range) { return; }
  var base = panel.getAttribute("data-base") || "";
  var focus = panel.getAttribute("data-focus") || "";
  var dates = (panel.getAttribute("data-dates") || "").split(" ");
  var texts = JSON.parse(panel.getAttribute("data-date-texts") || "[]");
  var playLabel = panel.getAttribute("data-label-play") || "";
  var pauseLabel = panel.getAttribute("data-label-pause") || "";
  var output = document.getElementById("timeline-date");
  var heading = document.getElementById("heading-date");
  var dateInput = document.getElementById("at");
  var figure = document.getElementById("network-figure");
  var status = document.getElementById("network-status");
  var play = document.getElementById("play");
  var timer = null, player = null, pending = null, shown = range.value;

  function pageUrl(date) {
    return base + "/network?at=" + encodeURIComponent(date) + "&focus=" + encodeURIComponent(focus);
  }

  function text(index) {
    return texts[index] || dates[index];
  }

  function label(index) {
    output.value = text(index);
    output.textContent = text(index);
    range.setAttribute("aria-valuetext", text(index));
  }

  function load(index) {
    var date = dates[index];
    if (!date || String(index) === shown) { return; }
    shown = String(index);
    if (pending) { pending.abort(); }
    pending = new AbortController();
    figure.setAttribute("aria-busy", "true");
    fetch(base + "/network/figure?at=" + encodeURIComponent(date) + "&focus=" + encodeURIComponent(focus),
          { credentials: "same-origin", signal: pending.signal, redirect: "manual" })
      .then(function (r) {
        if (!r.ok) { window.location.href = pageUrl(date); return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        figure.innerHTML = html;
        figure.setAttribute("aria-busy", "false");
        var before = heading.textContent;
        heading.textContent = text(index);
        heading.setAttribute("datetime", date);
        dateInput.value = date;
        document.title = document.title.replace(before, text(index));
        var caption = document.getElementById("network-caption");
        if (caption) { status.textContent = caption.textContent; }
        history.replaceState(null, "", pageUrl(date));
        markCurrent(date);
      })
      .catch(function (e) { if (e.name !== "AbortError") { window.location.href = pageUrl(date); } });
  }

  function markCurrent(date) {
    var chips = panel.querySelectorAll(".key-events a");
    for (var i = 0; i < chips.length; i++) {
      var on = chips[i].querySelector("time").getAttribute("datetime") === date;
      chips[i].classList.toggle("current", on);
      if (on) { chips[i].setAttribute("aria-current", "true"); } else { chips[i].removeAttribute("aria-current"); }
    }
  }

  range.addEventListener("input", function () {
    label(range.value);
    clearTimeout(timer);
    timer = setTimeout(function () { load(range.value); }, 90);
  });

  var chips = panel.querySelectorAll(".key-events a[data-index]");
  for (var i = 0; i < chips.length; i++) {
    chips[i].addEventListener("click", function (ev) {
      ev.preventDefault();
      stop();
      range.value = this.getAttribute("data-index");
      label(range.value);
      load(range.value);
    });
  }

  function stop() {
    if (player) { clearInterval(player); player = null; }
    play.setAttribute("aria-pressed", "false");
    play.textContent = playLabel;
  }

  play.addEventListener("click", function () {
    if (player) { stop(); return; }
    if (Number(range.value) >= dates.length - 1) { range.value = 0; }
    play.setAttribute("aria-pressed", "true");
    play.textContent = pauseLabel;
    player = setInterval(function () {
      if (Number(range.value) >= dates.length - 1) { stop(); return; }
      range.value = Number(range.value) + 1;
      label(range.value);
      load(range.value);
    }, 450);
  });
})();
