/* xai-harness report viewer: vanilla JS, no network. Data: the JSON in #harness-data. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("harness-data").textContent);
  var GALLERY = DATA.gallery || { sets: [] };
  var state = { image: null, opacity: 0.7, native: false, families: {}, explainers: {} };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  /* ---------- generic tables (sortable by any column) ---------- */
  function isRecordList(v) {
    return Array.isArray(v) && v.length > 0 && v.every(function (r) { return r && typeof r === "object" && !Array.isArray(r); });
  }

  function sortKey(v) {
    if (typeof v === "number") return [0, v];
    if (v === null || v === undefined || v === "") return [2, ""];
    var n = Number(v);
    if (typeof v === "string" && v.trim() !== "" && !isNaN(n)) return [0, n];
    return [1, typeof v === "object" ? JSON.stringify(v) : String(v)];
  }

  function compare(a, b) {
    var ka = sortKey(a), kb = sortKey(b);
    if (ka[0] !== kb[0]) return ka[0] - kb[0];
    return ka[1] < kb[1] ? -1 : ka[1] > kb[1] ? 1 : 0;
  }

  function recordTable(rows, opts) {
    opts = opts || {};
    var cols = opts.columns || [];
    if (!opts.columns) {
      rows.forEach(function (r) { Object.keys(r).forEach(function (k) { if (cols.indexOf(k) < 0) cols.push(k); }); });
    }
    var table = el("table", { class: "sortable-table" + (opts.cls ? " " + opts.cls : "") });
    var head = el("tr");
    var body = el("tbody");
    var order = { col: null, dir: 1 };
    function render() {
      var sorted = rows.slice();
      if (order.col !== null) sorted.sort(function (a, b) { return order.dir * compare(a[order.col], b[order.col]); });
      body.innerHTML = "";
      sorted.forEach(function (r) {
        var tr = el("tr", opts.rowClass ? { class: opts.rowClass(r) } : {});
        cols.forEach(function (c) {
          var td = el("td");
          if (opts.cell) opts.cell(td, c, r[c], r); else td.textContent = fmt(r[c]);
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    }
    cols.forEach(function (c) {
      var th = el("th", { class: "sortable", text: c, title: "sort by " + c });
      th.addEventListener("click", function () {
        order.dir = order.col === c ? -order.dir : 1;
        order.col = c;
        head.querySelectorAll("th").forEach(function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(order.dir > 0 ? "sorted-asc" : "sorted-desc");
        render();
      });
      head.appendChild(th);
    });
    table.appendChild(el("thead", {}, [head]));
    table.appendChild(body);
    render();
    return table;
  }

  function kvTable(obj) {
    var rows = Object.keys(obj || {}).map(function (k) { return { name: k, value: obj[k] }; });
    return recordTable(rows, { columns: ["name", "value"], cls: "kv" });
  }

  function generic(value, depth) {
    depth = depth || 0;
    if (isRecordList(value)) return recordTable(value);
    if (value && typeof value === "object" && !Array.isArray(value) && depth < 3) {
      var box = el("div");
      var scalars = {};
      Object.keys(value).forEach(function (k) {
        var v = value[k];
        if (v && typeof v === "object" && (isRecordList(v) || (!Array.isArray(v) && depth < 2))) {
          var d = el("details", depth === 0 ? { open: "" } : {}, [el("summary", { text: k })]);
          d.appendChild(generic(v, depth + 1));
          box.appendChild(d);
        } else scalars[k] = v;
      });
      if (Object.keys(scalars).length) box.insertBefore(kvTable(scalars), box.firstChild);
      return box;
    }
    return el("pre", { text: typeof value === "string" ? value : JSON.stringify(value, null, 1) });
  }

  /* ---------- gallery model ---------- */
  function allImages() {
    var out = [];
    GALLERY.sets.forEach(function (s) { s.images.forEach(function (im) { out.push({ set: s, image: im }); }); });
    return out;
  }

  function current() {
    var all = allImages();
    for (var i = 0; i < all.length; i++) if (all[i].image.slug === state.image) return all[i];
    return all[0] || null;
  }

  function layer(entry) {
    if (!entry) return null;
    if (state.native && entry.native) return entry.native;
    return entry;
  }

  function overlayCell(base, entry, size, caption) {
    var lay = layer(entry);
    var cell = el("div", { class: "cell" + (lay ? "" : " empty"), title: lay ? caption : "not run for this model" });
    if (base && lay) cell.appendChild(el("img", { class: "base", src: size === "full" ? base.full : base.thumb, alt: "image" }));
    if (lay) {
      var img = el("img", { class: "map", src: size === "full" ? lay.full : lay.thumb, alt: caption || "map" });
      img.style.opacity = state.opacity;
      cell.appendChild(img);
      if (state.native && entry.native) cell.appendChild(el("span", { class: "badge", text: entry.native.resolution.join("x") }));
      cell.addEventListener("click", function () { zoom(base, lay, caption); });
    }
    return cell;
  }

  function zoom(base, lay, caption) {
    var box = document.getElementById("zoom");
    box.innerHTML = "";
    var cell = el("div", { class: "cell" });
    if (base) cell.appendChild(el("img", { src: base.full, alt: "image" }));
    var img = el("img", { class: "map", src: lay.full, alt: caption });
    img.style.opacity = state.opacity;
    cell.appendChild(img);
    box.appendChild(cell);
    box.appendChild(el("p", { text: caption + " (full size; click to close)" }));
    box.classList.add("open");
  }

  function predLine(c) {
    if (!c) return "";
    var p = c.prob === null || c.prob === undefined ? "" : " p=" + c.prob.toFixed(2);
    return "pred: " + (c.pred_name || c.pred) + p;
  }

  /* ---------- explanations tab ---------- */
  function imageSelect(id, onchange) {
    var sel = el("select", { id: id });
    GALLERY.sets.forEach(function (s) {
      var g = el("optgroup", { label: s.space + " (" + s.images.length + " images)" });
      s.images.forEach(function (im) {
        var label = im.id + (im.label_name ? " [" + im.label_name + "]" : "");
        g.appendChild(el("option", { value: im.slug, text: label }));
      });
      sel.appendChild(g);
    });
    sel.value = state.image;
    sel.addEventListener("change", function () { state.image = sel.value; onchange(); });
    return sel;
  }

  function checkboxes(name, values, store, onchange) {
    var fs = el("fieldset", { id: name + "-filter" }, [el("legend", { text: name })]);
    values.forEach(function (v) {
      if (!(v in store)) store[v] = true;
      var box = el("input", { type: "checkbox", value: v, class: name + "-filter" });
      box.checked = store[v];
      box.addEventListener("change", function () { store[v] = box.checked; onchange(); });
      fs.appendChild(el("label", {}, [box, " " + v]));
    });
    return fs;
  }

  function uniq(list) { return list.filter(function (v, i) { return list.indexOf(v) === i; }); }

  function renderGrid() {
    var host = document.getElementById("grid-host");
    host.innerHTML = "";
    var cur = current();
    if (!cur) { host.appendChild(el("p", { text: "no explanations in this run's store" })); return; }
    var s = cur.set, cells = s.cells[cur.image.slug] || {};
    var exps = s.explainers.filter(function (e) { return state.explainers[e.key] !== false; });
    var table = el("table", { class: "grid", id: "grid" });
    var head = el("tr", {}, [el("th"), el("th", { class: "col", text: "image" })]);
    exps.forEach(function (e) {
      head.appendChild(el("th", { class: "col", text: e.key, title: e.cmap + (e.signed ? " (signed, centred on 0)" : " (sequential)") + " " + JSON.stringify(e.params) }));
    });
    table.appendChild(head);
    var family = null;
    s.models.forEach(function (m) {
      if (state.families[m.family] === false || !cells[m.name]) return;
      if (m.family !== family) {
        family = m.family;
        table.appendChild(el("tr", { class: "family" }, [el("td", { colspan: String(exps.length + 2), text: "family: " + family })]));
      }
      var c = cells[m.name];
      var tr = el("tr", { "data-model": m.name });
      tr.appendChild(el("td", { class: "rowlabel" }, [el("b", { text: m.label }), el("br"), el("span", { class: "pred", text: predLine(c) })]));
      var orig = el("td");
      var oc = el("div", { class: "cell" });
      if (c.image) oc.appendChild(el("img", { class: "base", src: c.image.thumb, alt: "image" }));
      orig.appendChild(oc);
      tr.appendChild(orig);
      exps.forEach(function (e) {
        var td = el("td", { "data-explainer": e.key });
        td.appendChild(overlayCell(c.image, c.maps[e.key], "thumb", e.key + " on " + m.label + " (" + predLine(c) + ")"));
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    var row = el("div", { class: "with-panel" }, [table]);
    var panel = interventionsPanel(s, cur.image);
    if (panel) row.appendChild(panel);
    host.appendChild(row);
    var figs = s.figures && s.figures[cur.image.slug];
    var links = document.getElementById("figure-links");
    links.innerHTML = "";
    if (figs) {
      links.appendChild(document.createTextNode("static figures: "));
      Object.keys(figs).forEach(function (k) { links.appendChild(el("a", { href: figs[k], text: k })); links.appendChild(document.createTextNode(" ")); });
    }
  }

  /* ---------- interventions panel (shapes images with stored intervention effects) ---------- */
  function signed(v) { return (v > 0 ? "+" : "") + v.toFixed(2); }

  function interventionsPanel(s, image) {
    var iv = (s.interventions || {})[image.slug];
    if (!iv) return null;
    var shown = iv.models.filter(function (m) { var fam = (s.models.filter(function (x) { return x.name === m.model; })[0] || {}).family; return state.families[fam] !== false; });
    var box = el("aside", { class: "iv-panel", id: "iv-panel" });
    box.appendChild(el("h3", { text: "Interventions: logit drop of the predicted class" }));
    box.appendChild(el("p", { class: "note", text: "scene " + iv.scene.split + "/" + iv.scene.index + (iv.scene.spurious ? " (spurious)" : "") +
      " seed " + iv.scene.seed + "; drop = logit(original) - logit(intervened), logit units; bold: |drop| > " + iv.eps_rel + " x logit (red: the logit fell, blue: it rose)" }));
    var table = el("table", { class: "iv" });
    var head = el("tr", {}, [el("th", { text: "model (pred, logit)" })]);
    iv.renders.forEach(function (r) {
      var link = el("a", { href: r.file, target: "_blank" }, [el("img", { class: "iv-thumb", src: r.file, alt: r.name, title: r.name })]);
      head.appendChild(el("th", { class: "iv-render", "data-intervention": r.name }, [link, el("br"), el("span", { text: r.name.replace("_", " ") })]));
    });
    table.appendChild(el("thead", {}, [head]));
    var body = el("tbody");
    shown.forEach(function (m) {
      var tr = el("tr", { "data-model": m.model });
      tr.appendChild(el("td", { class: "rowlabel" }, [el("b", { text: m.label }), el("br"),
        el("span", { class: "pred", text: (m.pred_name || m.pred) + ", " + m.logit.toFixed(2) })]));
      iv.renders.forEach(function (r) {
        if (r.name === "original") { tr.appendChild(el("td", { class: "iv-drop", text: "0" })); return; }
        var d = m.drops[r.name];
        var td = el("td", { class: "iv-drop", title: r.name + " on " + m.label + ": " + (d === undefined ? "not stored" : d) });
        if (d === undefined) { tr.appendChild(td); return; }
        var large = m.large.indexOf(r.name) >= 0;
        td.className += large ? (d > 0 ? " large" : " rise") : "";
        td.appendChild(el("span", { text: signed(d) }));
        var bar = el("div", { class: "iv-bar" + (d < 0 ? " neg" : "") });
        bar.style.width = Math.min(100, Math.round(100 * Math.abs(d) / Math.max(Math.abs(m.logit), 1e-6))) + "%";
        td.appendChild(bar);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    box.appendChild(table);
    return box;
  }

  function explanationsTab(tab) {
    var fams = uniq([].concat.apply([], GALLERY.sets.map(function (s) { return s.models.map(function (m) { return m.family; }); })));
    var exps = uniq([].concat.apply([], GALLERY.sets.map(function (s) { return s.explainers.map(function (e) { return e.key; }); })));
    var controls = el("div", { class: "controls" });
    controls.appendChild(el("label", {}, ["image ", imageSelect("image-select", function () { syncImage(); })]));
    var slider = el("input", { type: "range", id: "opacity", min: "0", max: "1", step: "0.05", value: String(state.opacity) });
    slider.addEventListener("input", function () {
      state.opacity = Number(slider.value);
      document.querySelectorAll("img.map").forEach(function (i) { i.style.opacity = state.opacity; });
    });
    controls.appendChild(el("label", {}, ["overlay opacity ", slider]));
    var nat = el("input", { type: "checkbox", id: "native" });
    nat.addEventListener("change", function () { state.native = nat.checked; renderGrid(); renderPair(); });
    controls.appendChild(el("label", { title: "CAM-family maps before upsampling, shown blockwise" }, [nat, " CAM family at native resolution"]));
    tab.appendChild(controls);
    var filters = el("div", { class: "controls" });
    filters.appendChild(checkboxes("family", fams, state.families, renderGrid));
    filters.appendChild(checkboxes("explainer", exps, state.explainers, renderGrid));
    tab.appendChild(filters);
    tab.appendChild(el("p", { class: "note", text: "normalisation: " + (GALLERY.normalisation || "") + ". Click a map for the full-size image." }));
    tab.appendChild(el("p", { class: "note", id: "figure-links" }));
    tab.appendChild(el("div", { id: "grid-host" }));
  }

  /* ---------- side by side ---------- */
  var pair = { a: null, ea: null, b: null, eb: null };

  function defaultPair(s) {
    var cells = s.cells[current().image.slug] || {};
    function has(m, e) { return cells[m] && cells[m].maps[e]; }
    function pick(family, prefs, group) {
      for (var p = 0; p < prefs.length; p++) {
        for (var i = 0; i < s.models.length; i++) {
          var m = s.models[i];
          if ((!family || m.family === family) && has(m.name, prefs[p])) return [m.name, prefs[p]];
        }
      }
      for (var j = 0; j < s.models.length; j++) {
        var mm = s.models[j];
        if (family && mm.family !== family) continue;
        var keys = s.explainers.filter(function (e) { return (!group || e.group === group) && has(mm.name, e.key); });
        if (keys.length) return [mm.name, keys[0].key];
      }
      return null;
    }
    var a = pick("cnn", ["gradcam", "cam"], "cam") || pick(null, ["gradcam", "cam"], null);
    var b = pick("transformer", ["rollout"], "attention") || pick(null, ["rollout"], null);
    if (b && a && b[0] === a[0]) b = null;
    if (!b) {
      var other = s.models.filter(function (m) { return !a || m.name !== a[0]; })[0];
      b = other ? [other.name, (s.explainers.filter(function (e) { return has(other.name, e.key); })[0] || {}).key] : a;
    }
    return { a: a && a[0], ea: a && a[1], b: b && b[0], eb: b && b[1] };
  }

  function options(sel, values, value) {
    sel.innerHTML = "";
    values.forEach(function (v) { sel.appendChild(el("option", { value: v, text: v })); });
    if (values.indexOf(value) >= 0) sel.value = value;
    return sel.value;
  }

  function renderPair() {
    var host = document.getElementById("pair-host");
    if (!host) return;
    var cur = current();
    host.innerHTML = "";
    if (!cur) return;
    var s = cur.set, cells = s.cells[cur.image.slug] || {};
    if (!pair.a || !cells[pair.a] || !cells[pair.b]) pair = defaultPair(s);
    var models = s.models.filter(function (m) { return cells[m.name]; }).map(function (m) { return m.name; });
    var row = el("div", { class: "pair" });
    ["a", "b"].forEach(function (side) {
      var ek = side === "a" ? "ea" : "eb";
      var msel = el("select", { id: "model-" + side });
      pair[side] = options(msel, models, pair[side]);
      var esel = el("select", { id: "explainer-" + side });
      var keys = s.explainers.filter(function (e) { return cells[pair[side]] && cells[pair[side]].maps[e.key]; }).map(function (e) { return e.key; });
      pair[ek] = options(esel, keys, pair[ek]);
      msel.addEventListener("change", function () { pair[side] = msel.value; renderPair(); });
      esel.addEventListener("change", function () { pair[ek] = esel.value; renderPair(); });
      var c = cells[pair[side]];
      var caption = pair[ek] + " on " + pair[side];
      var box = el("div", { class: "side", id: "side-" + side }, [
        el("div", {}, ["model ", msel, " explainer ", esel]),
        overlayCell(c && c.image, c && c.maps[pair[ek]], "full", caption),
        el("span", { class: "note", text: predLine(c) })
      ]);
      row.appendChild(box);
    });
    host.appendChild(row);
  }

  function pairTab(tab) {
    var controls = el("div", { class: "controls" });
    controls.appendChild(el("label", {}, ["image ", imageSelect("pair-image-select", function () { syncImage(); })]));
    tab.appendChild(controls);
    tab.appendChild(el("p", { class: "note", text: "Default pair: a CNN's CAM beside a transformer's attention rollout when both ran. Opacity and native resolution follow the Explanations tab." }));
    tab.appendChild(el("div", { id: "pair-host" }));
  }

  function syncImage() {
    ["image-select", "pair-image-select"].forEach(function (id) { var s = document.getElementById(id); if (s) s.value = state.image; });
    renderGrid();
    renderPair();
  }

  /* ---------- cases ---------- */
  var MARKS = { failed: "\u2717 failed", error: "\u2717 error", xfailed: "xfail", xpassed: "xpass", passed: "\u2713", skipped: "skip" };

  function casesTab(tab) {
    var cases = DATA.cases || [];
    if (!cases.length) { tab.appendChild(el("p", { text: "no case records (report rebuilt from the store, not from a pytest run)" })); return; }
    var counts = {};
    cases.forEach(function (c) { counts[c.outcome] = (counts[c.outcome] || 0) + 1; });
    tab.appendChild(el("p", { id: "case-counts", text: Object.keys(counts).sort().map(function (k) { return k + " " + counts[k]; }).join(", ") }));
    var sel = el("select", { id: "outcome-filter" }, [el("option", { value: "", text: "all outcomes" })]);
    Object.keys(counts).sort().forEach(function (k) { sel.appendChild(el("option", { value: k, text: k })); });
    var host = el("div");
    function render() {
      host.innerHTML = "";
      var rows = cases.filter(function (c) { return !sel.value || c.outcome === sel.value; });
      host.appendChild(recordTable(rows, {
        columns: ["outcome", "id", "model", "explainer", "check", "value", "seconds", "computed", "cached", "message"],
        cls: "cases",
        rowClass: function (r) { return "outcome-" + r.outcome; },
        cell: function (td, col, v) {
          if (col === "outcome") td.appendChild(el("span", { class: "mark " + v, text: MARKS[v] || fmt(v) }));
          else td.textContent = fmt(v);
        }
      }));
    }
    sel.addEventListener("change", render);
    tab.appendChild(el("div", { class: "controls" }, [el("label", {}, ["show ", sel])]));
    tab.appendChild(host);
    render();
  }

  /* ---------- leaderboard, consensus, run ---------- */
  function leaderboardTab(tab) {
    var top1 = DATA.top1 || {};
    if (Object.keys(top1).length) {
      tab.appendChild(el("h3", { text: "Top-1 on labelled images" }));
      tab.appendChild(recordTable(Object.keys(top1).map(function (m) { var r = { model: m }; Object.keys(top1[m]).forEach(function (k) { r[k] = top1[m][k]; }); return r; })));
    }
    if (!DATA.leaderboard) { tab.appendChild(el("p", { text: "no metric results in this run (leaderboard.json absent)" })); return; }
    tab.appendChild(el("p", { class: "note", text: "From leaderboard.json; click a column header to sort." }));
    tab.appendChild(generic(DATA.leaderboard));
  }

  function consensusTab(tab) {
    var c = DATA.consensus;
    if (!c || !(c.explainers || []).length) { tab.appendChild(el("p", { text: "fewer than two models with explanations of the same images: nothing to compare" })); return; }
    c.explainers.forEach(function (ex) {
      var d = el("details", {}, [el("summary", { text: ex.slug + ": " + (ex.models || []).length + " models, " + (ex.images || []).length + " images" })]);
      (ex.metrics || []).forEach(function (m) {
        d.appendChild(el("h4", { text: m.metric + ": " + (m.verdict || "") }));
        var files = m.files || {};
        ["heatmap", "dendrogram"].forEach(function (k) { if (files[k]) d.appendChild(el("img", { class: "figure", src: files[k], alt: k })); });
        var rest = {};
        Object.keys(m).forEach(function (k) { if (k !== "files" && k !== "metric" && k !== "verdict") rest[k] = m[k]; });
        d.appendChild(generic(rest, 1));
      });
      tab.appendChild(d);
    });
  }

  function runTab(tab) {
    var r = DATA.run || {};
    [["settings", r.settings], ["versions", r.versions], ["machine", r.machine], ["store", DATA.store]].forEach(function (p) {
      if (!p[1] || !Object.keys(p[1]).length) return;
      tab.appendChild(el("h3", { text: p[0] }));
      var t = kvTable(p[1]);
      t.id = "table-" + p[0];
      tab.appendChild(t);
    });
    var skipped = DATA.skipped_models || {};
    var names = Object.keys(skipped).sort();
    if (names.length) {
      var d = el("details", { id: "skipped" }, [el("summary", { text: names.length + " model(s) skipped for want of weights" })]);
      d.appendChild(el("p", { class: "note", text: "Remedy: put the weights file in a directory given by --harness-weights DIR (or XAI_HARNESS_WEIGHTS=DIR, or the Hugging Face cache), or allow downloads with --harness-allow-download; `python -m harness list models` shows where weights are looked for." }));
      d.appendChild(recordTable(names.map(function (m) { return { model: m, reason: skipped[m] }; })));
      tab.appendChild(d);
    }
    var bad = DATA.bad_images || {};
    if (Object.keys(bad).length) { tab.appendChild(el("h3", { text: "unreadable images left out" })); tab.appendChild(kvTable(bad)); }
    if ((DATA.files || []).length) {
      var p = el("p", {}, ["files: "]);
      DATA.files.forEach(function (f) { p.appendChild(el("a", { href: f, text: f })); p.appendChild(document.createTextNode(" ")); });
      tab.appendChild(p);
    }
  }

  /* ---------- tabs ---------- */
  function main() {
    var r = DATA.run || {};
    document.getElementById("run-line").textContent = "commit " + (r.commit || "?") + "; " + allImages().length + " images, " +
      uniq([].concat.apply([], GALLERY.sets.map(function (s) { return s.models.map(function (m) { return m.name; }); }))).length + " models, " +
      (DATA.cases || []).length + " cases";
    var first = allImages()[0];
    state.image = first ? first.image.slug : null;
    var app = document.getElementById("app");
    var nav = el("nav", { class: "tabs" });
    app.appendChild(nav);
    var tabs = [["explanations", "Explanations", explanationsTab], ["pair", "Side by side", pairTab], ["leaderboard", "Leaderboard", leaderboardTab],
      ["cases", "Cases", casesTab], ["consensus", "Consensus", consensusTab], ["run", "Run", runTab]];
    tabs.forEach(function (t, i) {
      var sec = el("section", { class: "tab" + (i === 0 ? " active" : ""), id: "tab-" + t[0] });
      var btn = el("button", { type: "button", id: "btn-" + t[0], class: i === 0 ? "active" : "", text: t[1] });
      btn.addEventListener("click", function () {
        app.querySelectorAll("section.tab, nav.tabs button").forEach(function (n) { n.classList.remove("active"); });
        sec.classList.add("active");
        btn.classList.add("active");
      });
      nav.appendChild(btn);
      t[2](sec);
      app.appendChild(sec);
    });
    var zoomBox = el("div", { id: "zoom" });
    zoomBox.addEventListener("click", function () { zoomBox.classList.remove("open"); });
    document.body.appendChild(zoomBox);
    renderGrid();
    renderPair();
  }

  main();
})();
