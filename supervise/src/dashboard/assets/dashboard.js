// The dashboard page: draws the frames that /events sends.
//
// Every id, path and reason from the tree is set with textContent (or as
// an attribute value), never as markup. Frames are drawn at most once per
// MIN_GAP ms, the latest one only: a page never falls behind its tree.
'use strict';

(() => {
  const MIN_GAP = 100;
  const TIMELINE = 100;

  // Read by tests and benchmarks: frames received, redraws made.
  const stats = { frames: 0, redraws: 0, connects: 0 };
  window.superviseDashboard = stats;

  const $ = (id) => document.getElementById(id);
  const treeUl = $('tree');
  const errorBox = $('error');
  const statusEl = $('status');
  const statsEl = $('stats');
  const titleEl = $('title');
  const opsForm = $('ops');
  const tokenInput = $('token');
  const opResult = $('op-result');
  const timelineOl = $('timeline');
  const timelineCount = $('timeline-count');

  const collapsed = new Set(readJson('supervise.collapsed', []));
  const opened = new Set(); // paths whose details are shown
  const pages = new Map(); // supervisor path -> page number
  const nodes = new Map(); // key -> the node's elements
  const timeline = [];
  let timelineDirty = true;
  let latest = null;
  let ops = false;
  let source = null;
  let timer = null;
  let lastDraw = -Infinity;
  let freshConnection = true;

  tokenInput.value = sessionStorage.getItem('supervise.token') || '';
  tokenInput.addEventListener('input', () => sessionStorage.setItem('supervise.token', tokenInput.value));
  opsForm.addEventListener('submit', (e) => e.preventDefault());

  function readJson(key, fallback) {
    try {
      const v = JSON.parse(sessionStorage.getItem(key));
      return Array.isArray(v) ? v : fallback;
    } catch (_) {
      return fallback;
    }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setText(e, text) {
    if (e.textContent !== text) e.textContent = text;
  }

  function pad(n, w) {
    return String(n).padStart(w, '0');
  }

  function clock(ms) {
    const d = new Date(ms);
    return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
  }

  const num = new Intl.NumberFormat();

  // ===== the stream =====

  function connect() {
    if (source) source.close();
    const query = [...pages]
      .filter(([, n]) => n > 0)
      .map(([path, n]) => 'page=' + encodeURIComponent(n + ':' + path))
      .join('&');
    source = new EventSource('events' + (query ? '?' + query : ''));
    freshConnection = true;
    source.addEventListener('open', () => {
      stats.connects++;
      statusEl.textContent = 'live';
      statusEl.className = 'status live';
    });
    source.addEventListener('error', () => {
      statusEl.textContent = 'disconnected, retrying…';
      statusEl.className = 'status down';
      freshConnection = true;
    });
    source.addEventListener('frame', (event) => {
      stats.frames++;
      const frame = JSON.parse(event.data);
      // A new stream sends the whole timeline it keeps; later frames
      // send what is new.
      if (freshConnection) timeline.length = 0;
      freshConnection = false;
      if (frame.timeline.length) {
        timeline.push(...frame.timeline);
        if (timeline.length > TIMELINE) timeline.splice(0, timeline.length - TIMELINE);
        timelineDirty = true;
      }
      latest = frame;
      schedule();
    });
  }

  function schedule() {
    if (timer !== null) return;
    const wait = Math.max(0, lastDraw + MIN_GAP - performance.now());
    timer = setTimeout(draw, wait);
  }

  function draw() {
    timer = null;
    lastDraw = performance.now();
    stats.redraws++;
    render(latest);
  }

  // ===== drawing =====

  function render(frame) {
    ops = frame.ops;
    document.body.classList.toggle('read-only', !ops);
    opsForm.hidden = !ops;
    const tree = frame.tree;
    const seen = new Set();
    if (tree.error) {
      setText(errorBox, tree.error);
      errorBox.hidden = false;
    } else {
      errorBox.hidden = true;
      setText(titleEl, tree.path);
      document.title = 'supervise · ' + tree.path;
      place(treeUl, [tree], null, seen, frame.page_size);
    }
    for (const [key, n] of nodes) {
      if (!seen.has(key)) {
        n.li.remove();
        nodes.delete(key);
      }
    }
    renderTimeline();
    setText(statsEl, `frame ${num.format(frame.n)} · ${num.format(stats.redraws)} redraws · ${clock(Date.now())}`);
  }

  // Draws `list` as the items of `ul`, in order, reusing each node's
  // elements across frames (keyed by path; a repeated path gets a suffix).
  function place(ul, list, parent, seen, pageSize, depth = 0) {
    const repeats = new Map();
    let i = 0;
    for (const node of list) {
      const k = repeats.get(node.path) || 0;
      repeats.set(node.path, k + 1);
      const key = k ? node.path + '\u0000' + k : node.path;
      seen.add(key);
      let n = nodes.get(key);
      if (!n) {
        n = make(node);
        nodes.set(key, n);
      }
      update(n, node, parent, pageSize, depth);
      if (ul.children[i] !== n.li) ul.insertBefore(n.li, ul.children[i] || null);
      if (node.sup) place(n.ul, node.sup.children, node, seen, pageSize, depth + 1);
      i++;
    }
  }

  function make(node) {
    const li = el('li', 'node');
    li.dataset.path = node.path;
    const row = el('div', 'row');
    const name = el('span', 'name');
    const toggle = el('button', 'toggle');
    toggle.type = 'button';
    toggle.addEventListener('click', () => {
      const path = li.dataset.path;
      if (collapsed.has(path)) collapsed.delete(path);
      else collapsed.add(path);
      sessionStorage.setItem('supervise.collapsed', JSON.stringify([...collapsed]));
      if (latest) render(latest);
    });
    const id = el('span', 'id');
    name.append(toggle, id);
    // A click on the row (not on a button) shows the node's path and all
    // the exits its supervisor remembers.
    row.addEventListener('click', (e) => {
      if (e.target.closest('button')) return;
      const path = li.dataset.path;
      if (opened.has(path)) opened.delete(path);
      else opened.add(path);
      if (latest) render(latest);
    });
    const n = {
      li,
      toggle,
      id,
      kind: el('span', 'kind'),
      state: el('span', 'state'),
      inc: el('span', 'inc'),
      restarts: el('span', 'restarts'),
      policy: el('span', 'policy'),
      exits: el('span', 'exits'),
      ops: el('span', 'node-opses'),
      details: el('div', 'details'),
      paging: el('div', 'paging'),
      ul: el('ul', 'children'),
      sig: '',
    };
    row.append(name, n.kind, n.state, n.inc, n.restarts, n.policy, n.exits, n.ops);
    li.append(row, n.details, n.paging, n.ul);
    return n;
  }

  const STATE_TEXT = {
    running: 'running',
    restarting: 'restarting',
    backing_off: 'backing off',
    stopped: 'stopped',
    ignored: 'ignored',
  };

  function update(n, node, parent, pageSize, depth) {
    const isCollapsed = collapsed.has(node.path);
    const { sup: own, ...fields } = node;
    const shallow = own && { ...own, children: own.children.length };
    const isOpen = opened.has(node.path);
    const sig = JSON.stringify([fields, shallow, ops, isCollapsed, isOpen, parent && parent.sup.strategy, depth]);
    if (sig === n.sig) return;
    n.sig = sig;
    n.li.style.setProperty('--depth', depth);
    const sup = node.sup;
    n.li.className = 'node' + (sup ? ' supervisor' : '') + (isCollapsed ? ' collapsed' : '');
    n.toggle.disabled = !sup;
    setText(n.toggle, sup ? (isCollapsed ? '▸' : '▾') : '');
    n.toggle.setAttribute('aria-label', isCollapsed ? 'expand' : 'collapse');
    setText(n.id, node.id);
    n.id.title = node.path;
    // A supervisor's own restart window, beside its strategy.
    setText(n.kind, sup ? `${sup.strategy} · ${sup.restarts}/${sup.max_restarts} in ${sup.period_ms / 1000}s` : node.kind);
    n.kind.title = sup ? 'strategy, and the restarts in this supervisor\u2019s own window against its max_restarts' : '';
    setText(n.state, STATE_TEXT[node.state] || node.state);
    n.state.className = 'state ' + node.state;
    n.state.title = node.state === 'backing_off' && node.until ? 'restarts at ' + clock(node.until) : '';
    setText(n.inc, node.incarnation === undefined ? '' : '#' + node.incarnation);
    if (node.top) {
      setText(n.restarts, '');
    } else {
      setText(n.restarts, `${node.restarts}/${node.max_restarts}`);
      n.restarts.title = 'restarts this child caused in its supervisor\u2019s window, against max_restarts';
      n.restarts.classList.toggle('hot', node.restarts > 0);
    }
    setText(n.policy, node.top ? 'top of the tree' : `${node.restart} · ${shutdownText(node.shutdown)}`);
    const exits = node.exits || [];
    const last = exits[exits.length - 1];
    setText(n.exits, last ? `${last.reason} · ${clock(last.at).slice(0, 8)}` : '');
    n.exits.className = 'exits' + (last && last.abnormal ? ' abnormal' : '');
    n.exits.title = exits
      .slice()
      .reverse()
      .map((e) => `#${e.incarnation} ${clock(e.at)} ${e.reason}`)
      .join('\n');
    drawDetails(n, node, isOpen);
    drawOps(n, node, parent);
    drawPaging(n, node, pageSize);
  }

  function drawDetails(n, node, isOpen) {
    n.details.hidden = !isOpen;
    n.li.classList.toggle('open', isOpen);
    if (!isOpen) {
      n.details.replaceChildren();
      return;
    }
    const lines = [el('div', 'path', node.path)];
    const exits = (node.exits || []).slice().reverse();
    if (!exits.length) lines.push(el('div', 'exit', 'no exit yet'));
    for (const e of exits) {
      const line = el('div', 'exit' + (e.abnormal ? ' abnormal' : ''));
      line.append(el('time', '', clock(e.at)), el('span', 'inc', '#' + e.incarnation), el('span', 'reason', e.reason));
      lines.push(line);
    }
    n.details.replaceChildren(...lines);
  }

  function shutdownText(s) {
    if (s === null || s === undefined) return '—';
    return /^\d+$/.test(s) ? s + ' ms' : s;
  }

  function drawOps(n, node, parent) {
    n.ops.replaceChildren();
    if (!ops || node.top) return;
    const dynamic = parent && (parent.sup.strategy === 'dynamic' || parent.sup.strategy === 'simple_one_for_one');
    n.ops.append(opButton('terminate', node.path));
    if (!dynamic) n.ops.append(opButton('restart', node.path));
  }

  function opButton(op, path) {
    const b = el('button', 'op', op);
    b.type = 'button';
    b.addEventListener('click', () => operate(op, path));
    return b;
  }

  async function operate(op, path) {
    setText(opResult, `${op} ${path}…`);
    opResult.className = 'op-result';
    try {
      const response = await fetch(`api/${op}?path=${encodeURIComponent(path)}`, {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + tokenInput.value },
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        setText(opResult, `${op}: done`);
      } else {
        setText(opResult, `${op}: ${body.error || response.status}`);
        opResult.className = 'op-result failed';
      }
    } catch (e) {
      setText(opResult, `${op}: ${e}`);
      opResult.className = 'op-result failed';
    }
  }

  function drawPaging(n, node, pageSize) {
    const sup = node.sup;
    n.paging.replaceChildren();
    if (!sup || sup.count <= pageSize) return;
    const c = sup.counts;
    const parts = [`${num.format(sup.count)} children`];
    for (const [k, label] of Object.entries(STATE_TEXT)) {
      if (c[k]) parts.push(`${num.format(c[k])} ${label}`);
    }
    n.paging.append(el('span', 'count', parts.join(' · ')));
    const from = sup.page * pageSize + 1;
    const to = Math.min(sup.count, from + pageSize - 1);
    const prev = el('button', 'prev', '◀');
    prev.type = 'button';
    prev.disabled = sup.page === 0;
    prev.addEventListener('click', () => turn(node.path, sup.page - 1));
    const next = el('button', 'next', '▶');
    next.type = 'button';
    next.disabled = sup.page + 1 >= sup.pages;
    next.addEventListener('click', () => turn(node.path, sup.page + 1));
    n.paging.append(prev, el('span', 'page', `${num.format(from)}–${num.format(to)} (page ${sup.page + 1} of ${sup.pages})`), next);
  }

  function turn(path, page) {
    pages.set(path, Math.max(0, page));
    connect();
  }

  const WHAT = {
    restart: 'restart',
    gave_up: 'gave up',
    start_error: 'start error',
    shutdown_error: 'shutdown error',
  };

  function renderTimeline() {
    if (!timelineDirty) return;
    timelineDirty = false;
    const items = [];
    for (let i = timeline.length - 1; i >= 0; i--) {
      const e = timeline[i];
      const li = el('li', e.kind);
      li.dataset.kind = e.kind;
      li.dataset.child = e.child;
      li.dataset.supervisor = e.supervisor;
      const time = el('time', '', clock(e.at));
      time.dateTime = new Date(e.at).toISOString();
      const subject = e.kind === 'gave_up' ? e.supervisor : e.child;
      li.append(time, el('span', 'what', WHAT[e.kind] || e.kind), el('span', 'child', subject));
      const reason = e.kind === 'gave_up' ? `after ${e.child}${e.reason ? ': ' + e.reason : ''}` : e.reason;
      if (reason) li.append(el('span', 'reason', reason));
      items.push(li);
    }
    timelineOl.replaceChildren(...items);
    const newest = timeline[timeline.length - 1];
    setText(timelineCount, newest ? `${num.format(newest.seq)} so far` : 'nothing yet');
  }

  connect();
})();
