// byop dashboard: the list of runs, and one run's page, kept up to date from the server.
// Every value from a store reaches the page through textContent (never as HTML).
"use strict";

(function () {
  const PAGE_SIZE = 50;
  const PLOT_MIN_INTERVAL = 2000; // ms between two requests of the same plot

  // ---------------------------------------------------------------- helpers
  function el(tag, options, ...children) {
    const node = document.createElement(tag);
    const o = options || {};
    if (o.cls) node.className = o.cls;
    if (o.text !== undefined && o.text !== null) node.textContent = String(o.text);
    if (o.title) node.title = String(o.title);
    if (o.href) node.setAttribute("href", o.href);
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function number(value) {
    if (typeof value !== "number") return value === null || value === undefined ? "" : String(value);
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-4 || abs >= 1e7)) return value.toExponential(4);
    return String(Number(value.toPrecision(6)));
  }

  function text(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return number(value);
    if (typeof value === "string") return value;
    return JSON.stringify(value);
  }

  function duration(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return "";
    if (seconds < 1) return (seconds * 1000).toFixed(0) + " ms";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const s = Math.floor(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }

  function ago(seconds) {
    if (!isFinite(seconds)) return "";
    if (seconds < 2) return "just now";
    if (seconds < 120) return `${Math.round(seconds)} s ago`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
    return `${Math.round(seconds / 3600)} h ago`;
  }

  function setLive(message, ok) {
    const live = document.getElementById("live");
    live.textContent = message;
    live.className = "live " + (ok ? "ok" : "lost");
  }

  async function getJSON(url) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  function best(status) {
    if (!status.best) return "";
    return `${text(status.best.value)} (${text(status.best.name)})`;
  }

  // ---------------------------------------------------------------- the list of runs
  function indexPage() {
    const body = document.querySelector("#runs tbody");
    async function refresh() {
      try {
        const runs = await getJSON("/api/runs");
        body.replaceChildren(
          ...runs.map((run) => {
            const link = el("a", { text: run.name, href: `/runs/${run.number}` });
            const counts = run.counts || {};
            const trials = run.max_trials ? `${run.trials} / ${run.max_trials}` : `${run.trials}`;
            return el(
              "tr",
              null,
              el("td", null, link),
              el("td", null, el("span", { cls: `badge ${run.state}`, text: run.state })),
              el("td", { cls: "num", text: trials }),
              el("td", { cls: "num", text: (counts.fail || 0) + (counts.crashed || 0) }),
              el("td", { text: best(run) }),
              el("td", { text: run.time_used_text || "" }),
              el("td", { text: run.path, title: run.error || "" })
            );
          })
        );
        setLive(`live \u00b7 ${runs.length} run${runs.length === 1 ? "" : "s"}`, true);
      } catch (error) {
        setLive("cannot reach the dashboard: retrying", false);
      }
    }
    refresh();
    setInterval(refresh, 2000);
  }

  // ---------------------------------------------------------------- one run
  function runPage() {
    const runNumber = location.pathname.split("/")[2];
    const api = `/api/runs/${runNumber}`;
    const state = {
      rows: [],
      epoch: -1,
      status: null,
      version: 0,
      received: 0,
      columns: { results: [], config: [] },
      seen: { results: new Set(), config: new Set() },
      sort: { key: "n", dir: 1 },
      filter: "",
      statusFilter: "",
      page: 0,
    };

    // ---- the stream of updates
    let source = null;
    function connect() {
      if (source) source.close();
      const url = `${api}/events?epoch=${state.epoch}&since=${state.rows.length}`;
      source = new EventSource(url);
      source.addEventListener("update", (event) => {
        const message = JSON.parse(event.data);
        if (message.start === 0) {
          state.rows = [];
          state.columns = { results: [], config: [] };
          state.seen = { results: new Set(), config: new Set() };
        } else if (message.start !== state.rows.length) {
          connect(); // out of step: ask again from what we have
          return;
        }
        for (const row of message.rows) addRow(row);
        state.epoch = message.epoch;
        state.status = message.status;
        state.version = message.version;
        state.received = Date.now();
        renderStatus();
        renderTable();
        refreshPlots();
      });
      source.onerror = () => setLive("connection lost: reconnecting\u2026", false);
    }

    function addRow(row) {
      row._text = [row.name, row.status, text(row.config), text(row.results), row.exception || ""]
        .join(" ")
        .toLowerCase();
      state.rows.push(row);
      for (const part of ["results", "config"]) {
        for (const key of Object.keys(row[part] || {})) {
          if (!state.seen[part].has(key)) {
            state.seen[part].add(key);
            state.columns[part].push(key);
          }
        }
      }
    }

    // ---- the status: title, badge, meta, cards, problems, summary
    function renderStatus() {
      const s = state.status;
      document.title = `${s.name} \u00b7 byop dashboard`;
      document.getElementById("crumb").textContent = s.name;
      document.getElementById("title").textContent = s.name;
      const badge = document.getElementById("state");
      badge.textContent = s.state;
      badge.className = `badge ${s.state}`;
      document.getElementById("note").textContent = s.note || "";
      const error = document.getElementById("error");
      error.hidden = !s.error || s.state === "running" || s.state === "finished";
      error.textContent = s.error || "";

      const metrics = (s.metrics || [])
        .map((m) => `${m.name} (${m.minimize ? "lower" : "higher"} is better)`)
        .join(", ");
      const meta = [
        ["store", s.path],
        ["optimizer", s.optimizer ? `${s.optimizer}${s.seed !== null && s.seed !== undefined ? ` (seed ${s.seed})` : ""}` : ""],
        ["objective", s.objective || ""],
        ["metrics", metrics],
        ["created", s.created ? new Date(s.created * 1000).toLocaleString() : ""],
        ["byop", s.byop_version || ""],
        ["sessions", s.sessions !== undefined ? String(s.sessions) : ""],
      ].filter(([, value]) => value);
      document.getElementById("meta").replaceChildren(
        ...meta.flatMap(([key, value]) => [el("dt", { text: key }), el("dd", { text: value })])
      );

      const problems = document.getElementById("problems");
      const list = s.problems || [];
      const items = list.map((p) => el("li", { text: p }));
      if (s.problem_count > list.length) items.push(el("li", { text: `\u2026 and ${s.problem_count - list.length} earlier` }));
      if (s.pending_bytes) items.push(el("li", { text: `${s.pending_bytes} bytes after the last complete record: a record being written, or torn` }));
      problems.hidden = items.length === 0;
      problems.querySelector("ul").replaceChildren(...items);

      const counts = s.counts || {};
      const cards = [];
      const trialBar = s.max_trials ? Math.min(1, s.trials / s.max_trials) : null;
      const running = s.state === "running";
      const unfinished = s.in_flight ? `${s.in_flight} ${running ? "in flight" : "started, never reported"}` : "";
      cards.push(card("trials", s.max_trials ? `${s.trials} / ${s.max_trials}` : String(s.trials), unfinished, trialBar));
      const timeBar = s.timeout ? Math.min(1, s.time_used / s.timeout) : null;
      cards.push(card("time used", s.time_used_text || "-", s.timeout_text ? `of ${s.timeout_text}` : "no time limit", timeBar));
      const outcome = el("div", { cls: "value" },
        el("span", { cls: "n-success", text: counts.success || 0 }), " / ",
        el("span", { cls: "n-fail", text: counts.fail || 0 }), " / ",
        el("span", { cls: "n-crashed", text: counts.crashed || 0 }));
      cards.push(el("div", { cls: "card" }, el("div", { cls: "label", text: "success / fail / crashed" }), outcome));
      if (s.best) cards.push(card(`best ${s.best.metric}`, text(s.best.value), text(s.best.name), null));
      else cards.push(card("best", "none yet", "no successful trial", null));
      const lastAge = s.last_record ? s.now - s.last_record + (Date.now() - state.received) / 1000 : null;
      cards.push(card("last record", lastAge !== null ? ago(lastAge) : "-", s.in_flight_names && s.in_flight_names.length ? `${running ? "running" : "never reported"}: ${s.in_flight_names.join(", ")}` : "", null));
      document.getElementById("cards").replaceChildren(...cards);
      document.getElementById("summary").textContent = s.summary || "";
      const readable = s.state !== "waiting" && s.state !== "unreadable";
      for (const selector of [".summary", ".plots", ".trials"]) {
        document.querySelector(selector).hidden = !readable; // nothing to show until it is
      }
      setLive(s.state === "running" ? "live \u00b7 following the run" : `live \u00b7 ${s.state}`, true);
    }

    function card(label, value, sub, fraction) {
      const node = el("div", { cls: "card" }, el("div", { cls: "label", text: label }), el("div", { cls: "value", text: value }), el("div", { cls: "sub", text: sub }));
      if (fraction !== null && fraction !== undefined) {
        const fill = el("div");
        fill.style.width = `${(fraction * 100).toFixed(1)}%`;
        node.append(el("div", { cls: "bar" }, fill));
      }
      return node;
    }

    // ---- the trials table
    function columns() {
      const metrics = ((state.status && state.status.metrics) || []).map((m) => m.name);
      const results = metrics.concat(state.columns.results.filter((k) => !metrics.includes(k)));
      const out = [
        { key: "n", label: "#", get: (r) => r.n + 1, num: true },
        { key: "name", label: "trial", get: (r) => r.name },
        { key: "status", label: "status", get: (r) => r.status, cls: (r) => `status-${r.status}` },
      ];
      for (const k of results) out.push({ key: `results:${k}`, label: k, get: (r) => (r.results || {})[k], num: true });
      out.push({ key: "duration", label: "duration", get: (r) => r.duration, show: duration, num: true });
      for (const k of state.columns.config) out.push({ key: `config:${k}`, label: k, get: (r) => (r.config || {})[k], num: true });
      out.push({ key: "exception", label: "exception", get: (r) => r.exception });
      return out;
    }

    function compare(a, b) {
      const missingA = a === null || a === undefined;
      const missingB = b === null || b === undefined;
      if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
      if (typeof a === "number" && typeof b === "number") return a - b;
      if (typeof a === "number") return -1;
      if (typeof b === "number") return 1;
      return text(a).localeCompare(text(b), undefined, { numeric: true });
    }

    function renderTable() {
      const cols = columns();
      const sortCol = cols.find((c) => c.key === state.sort.key) || cols[0];
      const needle = state.filter.trim().toLowerCase();
      let rows = state.rows.filter(
        (r) => (!state.statusFilter || r.status === state.statusFilter) && (!needle || r._text.includes(needle))
      );
      rows = rows.slice().sort((a, b) => {
        const order = compare(sortCol.get(a), sortCol.get(b));
        return order !== 0 ? order * state.sort.dir : a.n - b.n;
      });
      // Missing values stay last whichever the direction.
      if (state.sort.dir < 0) {
        const present = rows.filter((r) => sortCol.get(r) !== null && sortCol.get(r) !== undefined);
        rows = present.concat(rows.filter((r) => sortCol.get(r) === null || sortCol.get(r) === undefined));
      }
      const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
      state.page = Math.min(state.page, pages - 1);
      const shown = rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
      const bestName = state.status && state.status.best ? state.status.best.name : null;

      const head = el("tr");
      for (const col of cols) {
        const th = el("th", { text: col.label, title: `sort by ${col.label}` });
        th.dataset.key = col.key;
        if (col.key === state.sort.key) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
        head.append(th);
      }
      document.querySelector("#trials thead").replaceChildren(head);
      const body = document.querySelector("#trials tbody");
      if (!shown.length) {
        const td = el("td", { cls: "empty", text: state.rows.length ? "no trial matches the filter" : "no trials yet" });
        td.colSpan = cols.length;
        body.replaceChildren(el("tr", null, td));
      } else {
        body.replaceChildren(
          ...shown.map((row) => {
            const tr = el("tr", { cls: row.name === bestName ? "best" : "" });
            tr.dataset.n = String(row.n);
            for (const col of cols) {
              const value = col.get(row);
              const shownValue = col.show ? col.show(value) : text(value);
              const classes = [];
              if (col.num && typeof value === "number") classes.push("num");
              if (col.cls) classes.push(col.cls(row));
              tr.append(el("td", { cls: classes.join(" "), text: shownValue, title: shownValue.length > 40 ? shownValue : "" }));
            }
            return tr;
          })
        );
      }
      const total = state.rows.length;
      document.getElementById("trial-count").textContent =
        rows.length === total ? `(${total})` : `(${rows.length} of ${total})`;
      document.getElementById("page").textContent = `page ${state.page + 1} of ${pages}`;
      document.getElementById("prev").disabled = state.page === 0;
      document.getElementById("next").disabled = state.page >= pages - 1;
    }

    document.querySelector("#trials thead").addEventListener("click", (event) => {
      const th = event.target.closest("th");
      if (!th) return;
      const key = th.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      state.page = 0;
      renderTable();
    });
    document.getElementById("filter").addEventListener("input", (event) => {
      state.filter = event.target.value;
      state.page = 0;
      renderTable();
    });
    document.getElementById("status-filter").addEventListener("change", (event) => {
      state.statusFilter = event.target.value;
      state.page = 0;
      renderTable();
    });
    document.getElementById("prev").addEventListener("click", () => { state.page -= 1; renderTable(); });
    document.getElementById("next").addEventListener("click", () => { state.page += 1; renderTable(); });

    // ---- one trial's details
    const detail = document.getElementById("detail");
    document.querySelector("#trials tbody").addEventListener("click", async (event) => {
      const tr = event.target.closest("tr");
      if (!tr || tr.dataset.n === undefined) return;
      try {
        showDetail(await getJSON(`${api}/trials/${tr.dataset.n}`));
      } catch (error) {
        showDetail({ name: "?", status: "", error: String(error) });
      }
    });
    document.getElementById("detail-close").addEventListener("click", () => { detail.hidden = true; });
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") detail.hidden = true; });

    function showDetail(trial) {
      document.getElementById("detail-title").textContent = `${trial.name} (${trial.status})`;
      const parts = [];
      const section = (title, value) => {
        if (value === null || value === undefined || value === "") return;
        parts.push(el("h3", { text: title }), el("pre", { text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }));
      };
      section("error", trial.error);
      section("results", trial.results);
      section("configuration", trial.config);
      const times = [];
      if (trial.duration !== undefined) times.push(`wall ${duration(trial.duration)}, cpu ${duration(trial.cpu)}`);
      if (trial.start) times.push(`started ${new Date(trial.start * 1000).toLocaleString()}`);
      if (trial.seed !== null && trial.seed !== undefined) times.push(`seed ${trial.seed}`);
      if (trial.budget !== null && trial.budget !== undefined) times.push(`budget ${text(trial.budget)}`);
      section("run", times.join("\n"));
      section("exception", trial.exception);
      section("traceback", trial.traceback);
      document.getElementById("detail-body").replaceChildren(...parts);
      detail.hidden = false;
    }

    // ---- plots: fetched when visible, again when the run changed (not too often)
    const plots = new Map();
    for (const node of document.querySelectorAll(".plot-card")) {
      plots.set(node.dataset.kind, { node, visible: false, version: -1, busy: false, last: 0, timer: null });
    }
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const plot = plots.get(entry.target.dataset.kind);
        plot.visible = entry.isIntersecting;
        if (plot.visible) loadPlot(entry.target.dataset.kind);
      }
    }, { rootMargin: "200px" });
    for (const plot of plots.values()) observer.observe(plot.node);

    function refreshPlots() {
      for (const [kind, plot] of plots) if (plot.visible) loadPlot(kind);
    }

    function loadPlot(kind, force) {
      const plot = plots.get(kind);
      if (plot.busy || typeof Plotly === "undefined" || !state.status) return;
      if (!force && plot.version >= state.version) return;
      const wait = plot.last + PLOT_MIN_INTERVAL - Date.now();
      if (wait > 0) {
        if (!plot.timer) plot.timer = setTimeout(() => { plot.timer = null; loadPlot(kind); }, wait);
        return;
      }
      plot.busy = true;
      plot.last = Date.now();
      const note = plot.node.querySelector(".plot-note");
      getJSON(`${api}/plots/${kind}`)
        .then((answer) => {
          const target = plot.node.querySelector(".plot");
          if (answer.error) {
            note.textContent = answer.error;
          } else {
            Plotly.react(target, answer.figure.data || [], answer.figure.layout || {}, { responsive: true, displaylogo: false });
            note.textContent = answer.retry !== null ? "updating\u2026" : "";
          }
          plot.version = answer.version;
          if (answer.retry !== null && answer.retry !== undefined) {
            clearTimeout(plot.timer);
            plot.timer = setTimeout(() => { plot.timer = null; loadPlot(kind); }, Math.max(250, answer.retry * 1000));
          }
        })
        .catch(() => { note.textContent = "could not load this plot: retrying"; plot.version = -1; })
        .finally(() => { plot.busy = false; });
    }

    setInterval(() => {
      if (state.status && state.received) renderStatus();
    }, 5000);
    connect();
  }

  if (document.body.dataset.page === "index") indexPage();
  else runPage();
})();
