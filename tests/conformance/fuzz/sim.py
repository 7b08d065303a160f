"""A timing model of a scenario (`../FORMAT.md`) on OTP 25 / Elixir 1.14.

The fuzzing generator (`generate.py`) uses it as the *static* half of the
timing rule: it predicts, in ideal milliseconds, every timer that a scenario
arms (an `init` delay, a `stop` delay in `terminate/2`, a shutdown timeout, a
`crash_after` bomb) and when it expires, following the chains that OTP runs
(restarts run inits again, a group restart stops and restarts siblings, a
supervisor's stop waits for each child, ...). From that it reports:

* timer expiries that fall within 100 ms of a timeline event (or of `end`);
* two independent timers expiring in the same millisecond (a race in OTP);
* a timer cancelled in the very millisecond it expires (also a race: a
  child's `stop` equal to its shutdown timeout, a bomb going off while its
  supervisor stops it, ...);
* restart-intensity decisions that depend on OTP's whole seconds (a restart
  pair between Period and Period+1 s apart, with a margin, where the count
  matters), which `supervise` decides on an exact window by design;
* the shapes the runtime documents as deliberate differences (see
  README.md of this folder).

It is a model, not an oracle: it only has to be right about *when* things
happen. The oracle's exact times (`ORACLE_RAW_FILE`) are the empirical half
of the rule and have the last word (`fuzz.py`). The model is a tiny BEAM:
processes are Python generators that `yield Recv(...)`, messages and exit
signals are delivered at once, and every process step takes no time.

Standard library only.
"""

import heapq
import re
from collections import deque

# ---------------------------------------------------------------- scenarios


class Node:
    __slots__ = ("kind", "path", "attrs")

    def __init__(self, kind, path, attrs):
        self.kind = kind  # "sup" | "worker"
        self.path = path
        self.attrs = attrs  # key -> int | str | list

    def __repr__(self):
        return f"Node({self.kind},{self.path},{self.attrs})"


class Scenario:
    def __init__(self):
        self.step = 100
        self.tags = []
        self.comments = []
        self.nodes = []
        self.events = []  # (t, ev) ev: ("crash", path, reason) | ("stop_supervisor",) | ("api", op, path, attrs)
        self.end = None

    def node(self, path):
        for n in self.nodes:
            if n.path == path:
                return n
        return None

    def kids(self, path):
        return [n for n in self.nodes if parent(n.path) == path]

    def sups(self):
        return [n.path for n in self.nodes if n.kind == "sup"]

    def strategy(self, path):
        n = self.node(path)
        if n is None or n.kind != "sup":
            return None
        return n.attrs.get("strategy", "one_for_one")

    def text(self):
        out = []
        for c in self.comments:
            out.append("# " + c if c else "#")
        if self.step != 100:
            out.append(f"step {self.step}")
        if self.tags:
            out.append("tags " + " ".join(self.tags))
        for n in self.nodes:
            word = "sup" if n.kind == "sup" else "child"
            out.append(" ".join([word, n.path] + [f"{k}={show_value(v)}" for k, v in n.attrs.items()]))
        for t, ev in self.events:
            out.append(f"at {t} " + show_event(ev))
        out.append(f"end {self.end}")
        return "\n".join(out) + "\n"


def show_value(v):
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return str(v)


def show_event(ev):
    if ev[0] == "crash":
        return f"crash {ev[1]} {ev[2]}"
    if ev[0] == "stop_supervisor":
        return "stop_supervisor"
    _, op, path, attrs = ev
    return " ".join([op, path] + [f"{k}={show_value(v)}" for k, v in attrs.items()])


def parent(path):
    i = path.rfind("/")
    return path[:i] if i >= 0 else None


def base(path):
    return path[path.rfind("/") + 1:]


def value(v):
    if "," in v:
        return [scalar(x) for x in v.split(",")]
    return scalar(v)


def scalar(s):
    return int(s) if re.fullmatch(r"[+-]?[0-9]+", s) else s


def attrs_of(words):
    out = {}
    for w in words:
        k, v = w.split("=", 1)
        out[k] = value(v)
    return out


def parse(text):
    sc = Scenario()
    for raw in text.split("\n"):
        line = raw.split("#", 1)[0]
        words = line.split()
        if not words:
            continue
        w0 = words[0]
        if w0 == "step":
            sc.step = int(words[1])
        elif w0 == "tags":
            sc.tags += words[1:]
        elif w0 in ("sup", "child"):
            sc.nodes.append(Node("sup" if w0 == "sup" else "worker", words[1], attrs_of(words[2:])))
        elif w0 == "at":
            t = int(words[1])
            what = words[2:]
            if what[0] == "crash":
                ev = ("crash", what[1], what[2])
            elif what[0] == "stop_supervisor":
                ev = ("stop_supervisor",)
            else:
                ev = ("api", what[0], what[1], attrs_of(what[2:]))
            sc.events.append((t, ev))
        elif w0 == "end":
            sc.end = int(words[1])
        else:
            raise ValueError(f"cannot read {raw!r}")
    return sc


# ------------------------------------------------------------- a tiny BEAM

TIMEOUT = object()
NEVER = lambda m: False  # noqa: E731
ANY = lambda m: True  # noqa: E731
NORMALISH = ("normal", "shutdown")


def is_normal_reason(r):
    return r in NORMALISH or (isinstance(r, tuple) and len(r) == 2 and r[0] == "shutdown")


def show_reason(r):
    if isinstance(r, tuple):
        return "{" + ",".join(show_reason(x) for x in r) + "}"
    if isinstance(r, Proc):
        return r.label
    return str(r)


class Recv:
    __slots__ = ("pred", "timeout", "label", "group")

    def __init__(self, pred, timeout=None, label=None, group=None):
        self.pred = pred
        self.timeout = timeout
        self.label = label
        self.group = group


class Timer:
    __slots__ = ("t", "label", "group", "cancelled", "armed_at")

    def __init__(self, t, label, group, now):
        self.t = t
        self.label = label
        self.group = group
        self.cancelled = False
        self.armed_at = now


class Proc:
    _next = 1

    def __init__(self, label, kind):
        self.pid = Proc._next
        Proc._next += 1
        self.label = label
        self.kind = kind  # "worker" | "sup" | "driver" | "client"
        self.gen = None
        self.mailbox = deque()
        self.trap = False
        self.links = set()
        self.monitors = {}  # ref -> watcher proc
        self.alive = True
        self.wait = None
        self.timer = None
        self.owned_timers = []
        self.behaviour = None  # the Sup object of a supervisor
        self.path = None
        self.n = None

    def __repr__(self):
        return f"<{self.label}>"

    def __lt__(self, other):
        return self.pid < other.pid


class Runaway(Exception):
    pass


class World:
    def __init__(self, sc, margin_ms=100):
        self.sc = sc
        self.now = 0
        self.heap = []
        self.seq = 0
        self.steps = 0
        self.expiries = []  # (t, label, group)
        self.races = []  # text
        self.notes = []  # deliberate differences / exclusions (text)
        self.lines = []  # (t, text): a prediction of the trace
        self.tries = {}
        self.latest = {}
        self.restarts = {}  # sup label -> [t]
        self.intensity_ambiguous = []
        self.killed_sups = 0
        self.orphan_watch = []  # (proc, deadline, what)
        self.terminated_restarting_simple = set()
        self.margin = margin_ms
        self.driver = None
        self.refs = 0

    # ----- scheduling
    def at(self, t, fn):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, fn))

    def run(self, until):
        while self.heap and self.heap[0][0] <= until:
            t, _, fn = heapq.heappop(self.heap)
            self.now = t
            self.steps += 1
            if self.steps > 200000:
                raise Runaway("too many steps")
            fn()
        self.now = until

    def line(self, text):
        self.lines.append((self.now, text))

    # ----- processes
    def spawn(self, label, kind, body, link=None, trap=False):
        p = Proc(label, kind)
        p.trap = trap
        if link is not None:
            if link.alive:
                p.links.add(link)
                link.links.add(p)
            else:
                # spawn_link to a dead process: the new one gets its exit at once
                self.at(self.now, lambda: self.exit_signal(link, p, "noproc"))
        p.gen = body(p)
        self.at(self.now, lambda: self.step(p, None))
        return p

    def step(self, p, value):
        while True:
            if not p.alive:
                return
            try:
                cmd = p.gen.send(value)
            except StopIteration as e:
                self.exit_proc(p, e.value if e.value is not None else "normal")
                return
            # selective receive: oldest matching message first
            found = None
            for i, m in enumerate(p.mailbox):
                if cmd.pred(m):
                    found = i
                    break
            if found is not None:
                value = p.mailbox[found]
                del p.mailbox[found]
                continue
            if cmd.timeout == 0:
                value = TIMEOUT
                continue
            p.wait = cmd
            if cmd.timeout is not None:
                tm = Timer(self.now + cmd.timeout, cmd.label, cmd.group, self.now)
                p.timer = tm
                self.at(tm.t, lambda: self.fire_wait(p, tm))
            return

    def fire_wait(self, p, tm):
        if tm.cancelled or not p.alive or p.timer is not tm:
            return
        if tm.label is not None:  # None: the driver waiting for its next event
            self.expiries.append((tm.t, tm.label, tm.group))
        p.timer = None
        p.wait = None
        self.step(p, TIMEOUT)

    def cancel(self, tm, why):
        if tm is None or tm.cancelled:
            return
        tm.cancelled = True
        if tm.t == self.now and tm.t > tm.armed_at:
            self.races.append(f"{self.now}: timer `{tm.label}` cancelled in the ms it expires ({why})")

    def deliver(self, p, msg):
        if not p.alive:
            return
        p.mailbox.append(msg)
        w = p.wait
        if w is not None and w.pred(msg):
            p.mailbox.pop()
            p.wait = None
            self.cancel(p.timer, f"{p.label} received {msg_name(msg)}")
            p.timer = None
            self.at(self.now, lambda: self.step(p, msg))

    def send(self, p, msg):
        self.deliver(p, msg)

    def send_after(self, owner, ms, msg, label, group=None):
        tm = Timer(self.now + ms, label, group, self.now)
        owner.owned_timers.append(tm)

        def fire():
            if tm.cancelled or not owner.alive:
                return
            tm.cancelled = True
            self.expiries.append((tm.t, tm.label, tm.group))
            self.deliver(owner, msg)

        self.at(tm.t, fire)
        return tm

    def monitor(self, watcher, target):
        self.refs += 1
        ref = self.refs
        if target.alive:
            target.monitors[ref] = watcher
        else:
            self.at(self.now, lambda: self.deliver(watcher, ("DOWN", ref, target, "noproc")))
        return ref

    def unlink(self, a, b):
        a.links.discard(b)
        b.links.discard(a)

    def exit_signal(self, frm, to, reason, explicit=False):
        if not to.alive:
            return
        if explicit and reason == "kill":
            self.exit_proc(to, "killed")
        elif to.trap:
            self.deliver(to, ("EXIT", frm, reason))
        elif reason == "normal":
            return
        else:
            self.exit_proc(to, reason)

    def exit_proc(self, p, reason):
        if not p.alive:
            return
        p.alive = False
        try:
            p.gen.close()
        except Exception:  # noqa: BLE001
            pass
        self.cancel(p.timer, f"{p.label} exited")
        for tm in p.owned_timers:
            self.cancel(tm, f"{p.label} exited")
        if p.kind in ("worker", "sup") and getattr(p, "announced", False):
            self.line(f"exit {p.label} {show_reason(reason)}")
        if p.kind == "sup" and reason == "killed":
            self.orphans(p)
        for q in list(p.links):
            q.links.discard(p)
            self.exit_signal(p, q, reason)
        p.links.clear()
        for ref, watcher in list(p.monitors.items()):
            self.deliver(watcher, ("DOWN", ref, p, reason))
        p.monitors.clear()
        for w in list(self.orphan_watch):
            if w[0] is p:
                self.orphan_watch.remove(w)
                if w[1] is not None and self.now > w[1]:
                    self.notes.append(f"orphan {p.label} ends {self.now - w[2]} ms after its supervisor was killed, beyond its shutdown ({w[3]})")

    # A killed supervisor leaves its children running (S29.3). supervise
    # stops them on its own terms (README: "A killed supervisor's
    # children"): a trapping orphan is killed when its shutdown timeout runs
    # out and a brutal_kill one at once, where OTP lets it finish. Only the
    # orphans whose end both agree on are allowed.
    def orphans(self, sup_proc):
        self.killed_sups += 1
        sup = sup_proc.behaviour
        if sup is None:
            return
        for ch in sup.live_children():
            q = ch.pid
            if not isinstance(q, Proc) or not q.alive:
                continue
            sd = ch.shutdown
            if not q.trap:
                continue
            if sd == "brutal_kill":
                self.notes.append(f"trapping orphan {q.label} has shutdown=brutal_kill")
                continue
            if q.kind == "worker":
                stop = ch.attrs.get("stop", 0)
                if stop == "never":
                    self.notes.append(f"orphan {q.label} never stops (stop=never)")
                    continue
                if sd == "infinity":
                    continue
                if not isinstance(sd, int) or stop > sd - self.margin:
                    self.notes.append(f"orphan {q.label} stop={stop} not below its shutdown={sd}")
                    continue
            else:
                deadline = None if sd == "infinity" else self.now + sd - self.margin
                self.orphan_watch.append((q, deadline, self.now, f"shutdown={sd}"))

    def next_try(self, path):
        self.tries[path] = self.tries.get(path, 0) + 1
        return self.tries[path]


def msg_name(m):
    return m[0] if isinstance(m, tuple) and m else str(m)


def pick_outcome(start, n):
    if isinstance(start, list):
        return start[min(n, len(start)) - 1]
    return start


def exit_term(name):
    return ("shutdown", "tuple") if name == "shutdown_tuple" else name


# ------------------------------------------------------------ the worker


def worker_body(w, path, n, attrs, starter):
    """Oracle.Worker: a gen_server started with start_link by `starter`."""

    def body(p):
        stop = attrs.get("stop", 0)
        if stop != 0:
            p.trap = True
        init = attrs.get("init", 0)
        if isinstance(init, int) and init > 0:
            yield Recv(NEVER, init, f"init {path}#{n}")
        outcome = pick_outcome(attrs.get("start", "ok"), n)
        if outcome == "error":
            w.send(starter, ("ack", p, ("error", "init_failed")))
            return "init_failed"
        if outcome == "ignore":
            w.send(starter, ("ack", p, "ignore"))
            return "normal"
        w.latest[path] = p
        ca = attrs.get("crash_after")
        if isinstance(ca, int):
            w.send_after(p, ca, ("explode", exit_term(attrs.get("crash_reason", "abnormal"))), f"crash_after {path}#{n}")
        w.send(starter, ("ack", p, ("ok", p)))
        while True:
            m = yield Recv(ANY)
            if m[0] == "crash":
                return m[1]
            if m[0] == "explode":
                return m[1]
            if m[0] == "EXIT" and m[1] is starter:
                # gen_server: the parent's exit signal -> terminate/2
                for tm in p.owned_timers:
                    w.cancel(tm, f"{p.label} stopping")
                if stop == "never":
                    yield Recv(NEVER)
                elif isinstance(stop, int) and stop > 0:
                    grp = getattr(starter, "par_group", None)
                    yield Recv(NEVER, stop, f"stop {path}#{n}", group=grp)
                se = attrs.get("stop_exit")
                return exit_term(se) if se is not None else m[2]
            # anything else is ignored (handle_info)

    return body


# ----------------------------------------------------------- supervisors


class Child:
    """A static child, or a dynamic child of simple_one_for_one / dynamic."""

    def __init__(self, path, kind, attrs, spec):
        self.path = path
        self.kind = kind  # "sup" | "worker"
        self.attrs = attrs
        self.id = str(spec.get("id", base(path)))
        self.restart = spec.get("restart", "permanent")
        default_sd = "infinity" if kind == "sup" or spec.get("type") == "supervisor" else 5000
        self.shutdown = spec.get("shutdown", default_sd)
        self.significant = spec.get("significant", False) in (True, "true")
        self.type = "supervisor" if kind == "sup" else spec.get("type", "worker")
        self.pid = None  # None (undefined) | Proc | ("restarting", old)

    def running(self):
        return isinstance(self.pid, Proc)


SPEC_KEYS = ("restart", "shutdown", "significant", "type", "id")


class Sup:
    def __init__(self, w, path, n, starter):
        self.w = w
        self.path = path
        self.n = n
        self.starter = starter
        node = w.sc.node(path)
        self.attrs = node.attrs
        st = node.attrs.get("strategy", "one_for_one")
        self.flavour = st if st in ("simple_one_for_one", "dynamic") else "static"
        self.strategy = st
        default_i = 3 if st == "dynamic" else 1
        self.intensity = node.attrs.get("intensity", default_i)
        self.period = node.attrs.get("period", 5)
        self.auto = node.attrs.get("auto_shutdown", "never")
        self.max_children = node.attrs.get("max_children", "infinity")
        self.children = []  # start order (oldest first)
        self.template = None
        self.p = None
        self.dyn_restarting_count = 0

    def label(self):
        return f"{self.path}#{self.n}"

    def live_children(self):
        return [c for c in self.children if c.running()]

    # ----- body
    def body(self, p):
        w = self.w
        self.p = p
        p.behaviour = self
        p.trap = True
        w.latest[self.path] = p
        kids = w.sc.kids(self.path)
        if self.flavour == "static":
            for k in kids:
                self.children.append(Child(k.path, k.kind, k.attrs, {a: k.attrs[a] for a in SPEC_KEYS if a in k.attrs}))
            started = []
            for ch in list(self.children):
                res = yield from self.start(ch)
                if res[0] == "error":
                    self.report("start_error", ch.path, res[1])
                    # stop the started ones in reverse order
                    for c in reversed(started):
                        yield from self.shutdown(c)
                    reason = ("shutdown", ("failed_to_start_child", ch.id, res[1]))
                    w.send(self.starter, ("ack", p, ("error", reason)))
                    return reason
                if res[0] == "ok":
                    ch.pid = res[1]
                    started.append(ch)
                else:  # ignore
                    ch.pid = None
                    if ch.restart == "temporary":
                        self.children.remove(ch)
        elif self.flavour == "simple_one_for_one":
            if len(kids) == 1:
                k = kids[0]
                self.template = (k.kind, k.attrs, {a: k.attrs[a] for a in SPEC_KEYS if a in k.attrs})
        w.send(self.starter, ("ack", p, ("ok", p)))
        while True:
            m = yield Recv(ANY)
            kind = m[0]
            if kind == "EXIT":
                frm, reason = m[1], m[2]
                if frm is self.starter:
                    yield from self.terminate_all()
                    return reason
                ch = self.find_pid(frm)
                if ch is None:
                    continue
                stop = yield from self.child_exited(ch, reason)
                if stop is not None:
                    yield from self.terminate_all()
                    return stop
            elif kind == "system_terminate":
                yield from self.terminate_all()
                return m[1]
            elif kind == "try_again":
                stop = yield from self.try_again(m[1])
                if stop is not None:
                    yield from self.terminate_all()
                    return stop
            elif kind == "call":
                _, client, ref, req = m
                result = yield from self.handle_call(req)
                w.send(client, ("reply", ref, result))
            elif kind == "DOWN":
                continue

    def find_pid(self, q):
        for c in self.children:
            if c.pid is q:
                return c
        return None

    def report(self, ctx, offender, reason):
        self.w.line(f"report {self.path} {ctx} {offender} {show_reason(reason)}")

    # ----- starting
    def start(self, ch):
        """Starts `ch` synchronously: ("ok", proc) | ("ignore",) | ("error", reason)."""
        w = self.w
        n = w.next_try(ch.path)
        p = self.p
        if ch.kind == "sup":
            sup = Sup(w, ch.path, n, p)
            q = w.spawn(f"{ch.path}#{n}", "sup", sup.body, link=p)
        else:
            attrs = w.behaviours.get(ch.path, ch.attrs) if hasattr(w, "behaviours") else ch.attrs
            q = w.spawn(f"{ch.path}#{n}", "worker", worker_body(w, ch.path, n, attrs, p), link=p)
        m = yield Recv(lambda m: (m[0] == "ack" and m[1] is q) or (m[0] == "EXIT" and m[1] is q))
        if m[0] == "EXIT":
            w.line(f"start_failed {q.label} {show_reason(m[2])}")
            return ("error", m[2])
        res = m[2]
        if res == "ignore":
            w.line(f"start_ignored {q.label}")
            return ("ignore",)
        if res[0] == "error":
            w.line(f"start_failed {q.label} {show_reason(res[1])}")
            return ("error", res[1])
        q.announced = True
        w.line(f"started {q.label}")
        return ("ok", q)

    # ----- stopping one child (shutdown/1), synchronous
    def shutdown(self, ch):
        w = self.w
        q = ch.pid
        if not isinstance(q, Proc):
            return
        p = self.p
        ref = w.monitor(p, q)
        sd = ch.shutdown
        is_down = lambda m: m[0] == "DOWN" and m[1] == ref  # noqa: E731
        if sd == "brutal_kill":
            w.exit_signal(p, q, "kill", explicit=True)
            m = yield Recv(is_down)
        elif sd == "infinity" or not isinstance(sd, int):
            w.exit_signal(p, q, "shutdown", explicit=True)
            m = yield Recv(is_down)
        else:
            w.exit_signal(p, q, "shutdown", explicit=True)
            m = yield Recv(is_down, sd, f"shutdown timeout of {q.label}")
            if m is TIMEOUT:
                w.exit_signal(p, q, "kill", explicit=True)
                m = yield Recv(is_down)
                m = (m[0], m[1], m[2], "killed")
        if not self.expected_at_shutdown(ch, m[3]):
            self.report("shutdown_error", ch.path, m[3])
        w.unlink(p, q)
        # the pending 'EXIT' is flushed (S18.5)
        for i, m in enumerate(list(p.mailbox)):
            if m[0] == "EXIT" and m[1] is q:
                del p.mailbox[i]
                break
        ch.pid = None

    def parallel_shutdown(self, chs):
        """simple_one_for_one / dynamic: every child at once (S21)."""
        w = self.w
        p = self.p
        p.par_group = f"parallel stop of {self.label()}"
        refs = {}
        timers = {}
        for ch in chs:
            q = ch.pid
            if not isinstance(q, Proc):
                continue
            ref = w.monitor(p, q)
            refs[ref] = ch
            sd = ch.shutdown
            if sd == "brutal_kill":
                w.exit_signal(p, q, "kill", explicit=True)
            else:
                w.exit_signal(p, q, "shutdown", explicit=True)
                if isinstance(sd, int):
                    key = sd if self.flavour == "dynamic" else "one"
                    timers.setdefault(key, (sd, []))[1].append(ref)
        armed = {}
        for key, (sd, rs) in timers.items():
            armed[key] = (w.send_after(p, sd, ("kill_timer", key), f"shutdown timer of {self.label()}"), rs)
        left = set(refs)
        errors = []
        while left:
            m = yield Recv(lambda m: (m[0] == "DOWN" and m[1] in left) or m[0] == "kill_timer")
            if m[0] == "DOWN":
                left.discard(m[1])
                ch = refs[m[1]]
                w.unlink(p, ch.pid)
                ch.pid = None
                if not self.expected_at_shutdown(ch, m[3]):
                    errors.append((ch, m[3]))
            else:
                _, rs = armed[m[1]]
                for r in rs:
                    if r in left:
                        w.exit_signal(p, refs[r].pid, "kill", explicit=True)
        for tm, _ in armed.values():
            w.cancel(tm, "all children down")
        p.par_group = None
        if self.flavour == "simple_one_for_one":
            # one report per reason, the children counted (S21.3)
            tmpl = base(w.sc.kids(self.path)[0].path) if w.sc.kids(self.path) else "?"
            by = {}
            for ch, r in errors:
                by[show_reason(r)] = by.get(show_reason(r), 0) + 1
            for r, n in by.items():
                self.w.line(f"report {self.path} shutdown_error {self.path}/{tmpl}*{n} {r}")
        else:
            for ch, r in errors:
                self.report("shutdown_error", ch.path, r)

    def expected_at_shutdown(self, ch, r):
        """S19 for OTP's supervisor; Elixir's wait_child for `dynamic`."""
        sd = ch.shutdown
        if self.flavour == "dynamic":
            if sd == "brutal_kill":
                return r == "killed"
            return r == "shutdown" or (isinstance(r, tuple) and r[0] == "shutdown") or (r == "normal" and ch.restart != "permanent")
        if sd == "brutal_kill":
            return r == "killed" or (ch.restart != "permanent" and is_normal_reason(r))
        return r == "shutdown" or (ch.restart != "permanent" and is_normal_reason(r))

    def terminate_all(self):
        """terminate/2: every running child, in reverse start order (S20)."""
        if self.flavour == "static":
            for ch in reversed(list(self.children)):
                if ch.running():
                    yield from self.shutdown(ch)
        else:
            yield from self.parallel_shutdown([c for c in self.children if c.running()])

    # ----- exits and restarts
    def child_exited(self, ch, reason):
        """Returns a stop reason for the supervisor, or None."""
        w = self.w
        ch_restart = ch.restart
        if ch_restart == "permanent" or (ch_restart == "transient" and not is_normal_reason(reason)):
            self.report("child_terminated", ch.path, reason)
            ch.pid = ("restarting", ch.pid)
            return (yield from self.restart(ch))
        if ch_restart == "temporary" and not is_normal_reason(reason):
            self.report("child_terminated", ch.path, reason)
        # not restarted
        if ch_restart == "temporary" or self.flavour != "static":
            self.children.remove(ch)
        else:
            ch.pid = None
        if self.flavour == "dynamic":
            return None
        return self.auto_shutdown(ch)

    def auto_shutdown(self, ch):
        if self.auto == "never" or not ch.significant:
            return None
        if self.auto == "any_significant":
            return "shutdown"
        if self.flavour == "simple_one_for_one":
            return "shutdown" if not self.children else None
        if any(c.significant and c.running() for c in self.children):
            return None
        return "shutdown"

    def add_restart(self):
        """OTP's whole seconds (offset 5 ms) against the exact window, with a margin."""
        w = self.w
        now = w.now
        lst = w.restarts.setdefault(self.label(), [])
        lst.append(now)
        P = self.period * 1000 if isinstance(self.period, int) else 5000
        maxr = self.intensity if isinstance(self.intensity, int) else 1
        exact = sum(1 for r in lst if now - r <= P)
        lo = sum(1 for r in lst if now - r <= P - w.margin)
        hi = sum(1 for r in lst if now - r <= P + 1000 + w.margin)
        if (lo > maxr) != (hi > maxr):
            w.intensity_ambiguous.append(f"{now}: {self.label()} restarts {lst} intensity {maxr} period {self.period}")
        return exact <= maxr

    def restart(self, ch):
        if not self.add_restart():
            self.report("shutdown", ch.path, "reached_max_restart_intensity")
            if ch.restart == "temporary" or self.flavour != "static":
                if ch in self.children:
                    self.children.remove(ch)
            else:
                ch.pid = None
            return "shutdown"
        if self.flavour != "static" or self.strategy == "one_for_one":
            res = yield from self.start(ch)
            return self.after_start(ch, res)
        if self.strategy == "one_for_all":
            group = list(self.children)
        else:  # rest_for_one
            i = self.children.index(ch)
            group = self.children[i:]
        for c in reversed(group):
            if c is not ch and c.running():
                yield from self.shutdown(c)
                if c.restart == "temporary":
                    self.children.remove(c)
        for c in [c for c in group if c in self.children]:
            res = yield from self.start(c)
            if res[0] == "error":
                c.pid = ("restarting", None)
                self.report("start_error", c.path, res[1])
                self.w.send(self.p, ("try_again", c))
                return None
            c.pid = res[1] if res[0] == "ok" else None
        return None

    def after_start(self, ch, res):
        if res[0] == "ok":
            ch.pid = res[1]
        elif res[0] == "ignore":
            if self.flavour == "simple_one_for_one":
                # OTP 25 keeps a phantom child under the key `undefined`
                # (counted as active, and terminate_dynamic_children crashes
                # on it with function_clause); supervise drops the child.
                self.w.notes.append(f"{self.w.now}: restart of {ch.path} under simple_one_for_one returns ignore (OTP 25 phantom child)")
            if self.flavour == "static":
                ch.pid = None
            else:
                self.children.remove(ch)
        else:
            ch.pid = ("restarting", None)
            self.report("start_error", ch.path, res[1])
            self.w.send(self.p, ("try_again", ch))
        return None

    def try_again(self, ch):
        if ch not in self.children or not (isinstance(ch.pid, tuple) and ch.pid[0] == "restarting"):
            return None
        return (yield from self.restart(ch))

    def valid_spec(self, a):
        """OTP's check_childspec (S8) / Elixir's validate_child, roughly."""
        if self.flavour == "simple_one_for_one":
            return True  # the template was checked at init
        if a.get("restart", "permanent") not in ("permanent", "transient", "temporary"):
            return False
        sd = a.get("shutdown", 1)
        if not (sd in ("infinity", "brutal_kill") or (isinstance(sd, int) and sd >= (1 if self.flavour == "dynamic" else 0))):
            return False
        if self.flavour == "dynamic":
            return True
        sig = a.get("significant", "false")
        if sig not in ("true", "false", True, False):
            return False
        if sig in ("true", True) and (a.get("restart", "permanent") == "permanent" or self.auto == "never"):
            return False
        return a.get("type", "worker") in ("worker", "supervisor")

    # ----- calls
    def handle_call(self, req):
        op, path, attrs, target = req
        w = self.w
        if op in ("which_children", "count_children"):
            return "ok"
        if op == "get_childspec":
            return "ok"
        if op == "start_child":
            if not self.valid_spec(attrs):
                return ("error", "invalid spec")
            if self.flavour == "static":
                for c in self.children:
                    if c.id == base(path):
                        return ("error", "already")
                ch = Child(path, "worker", attrs, {a: attrs[a] for a in SPEC_KEYS if a in attrs})
                res = yield from self.start(ch)
                if res[0] == "ok":
                    ch.pid = res[1]
                    self.children.append(ch)
                elif res[0] == "ignore" and ch.restart != "temporary":
                    self.children.append(ch)
                return res[0]
            if self.flavour == "simple_one_for_one":
                if self.template is None:
                    return "error"
                kind, tattrs, tspec = self.template
                merged = dict(tattrs)
                merged.update(attrs)
                ch = Child(path, kind, merged, tspec)
            else:
                if self.max_children != "infinity" and isinstance(self.max_children, int) and len(self.children) >= self.max_children:
                    return "max_children"
                ch = Child(path, "worker", attrs, {a: attrs[a] for a in ("restart", "shutdown") if a in attrs})
            res = yield from self.start(ch)
            if res[0] == "ok":
                ch.pid = res[1]
                self.children.append(ch)
            return res[0]
        if op in ("terminate_child", "terminate_child_id"):
            if self.flavour == "static":
                for c in self.children:
                    if c.id == base(path):
                        if c.running():
                            yield from self.shutdown(c)
                        if c.restart == "temporary":
                            self.children.remove(c)
                        else:
                            c.pid = None
                        return "ok"
                return "not_found"
            if op == "terminate_child_id":
                return "error"
            for c in self.children:
                if c.pid is target and target is not None:
                    yield from self.shutdown(c)
                    self.children.remove(c)
                    return "ok"
            for c in self.children:
                if c.path == path and isinstance(c.pid, tuple):
                    self.children.remove(c)
                    if self.flavour == "simple_one_for_one":
                        w.terminated_restarting_simple.add(self.path)
                    return "ok"
            return "not_found"
        if op == "restart_child":
            if self.flavour != "static":
                return "error"
            for c in self.children:
                if c.id == base(path):
                    if c.pid is None:
                        res = yield from self.start(c)
                        if res[0] == "ok":
                            c.pid = res[1]
                        return res[0]
                    return "running"
            return "not_found"
        if op == "delete_child":
            if self.flavour != "static":
                return "error"
            for c in self.children:
                if c.id == base(path):
                    if c.pid is None:
                        self.children.remove(c)
                        w.behaviours.pop(path, None)
                        return "ok"
                    return "running"
            return "not_found"
        return "ok"


# ---------------------------------------------------------------- driver


def simulate(sc, horizon=None, margin_ms=100):
    """Plays `sc` in the model. Returns the World (expiries, races, notes...)."""
    w = World(sc, margin_ms)
    w.behaviours = {}
    for n in sc.nodes:
        if n.kind == "worker":
            w.behaviours[n.path] = n.attrs
    end = sc.end if horizon is None else horizon

    def driver_body(p):
        p.trap = True
        n = w.next_try("root")
        sup = Sup(w, "root", n, p)
        q = w.spawn(f"root#{n}", "sup", sup.body, link=p)
        m = yield Recv(lambda m: (m[0] == "ack" and m[1] is q) or (m[0] == "EXIT" and m[1] is q))
        if m[0] == "ack" and m[2][0] == "ok":
            q.announced = True
            w.line(f"started {q.label}")
        else:
            w.line(f"start_failed {q.label}")
        for t, ev in sc.events:
            if t > w.now:
                yield Recv(NEVER, t - w.now, None)
            perform(p, ev)
        yield Recv(NEVER)

    def perform(p, ev):
        if ev[0] == "crash":
            path, reason = ev[1], ev[2]
            w.line(f"inject crash {path} {reason}")
            q = w.latest.get(path)
            if q is None or not q.alive:
                w.line("inject_note not_running")
                return
            if reason == "kill":
                w.exit_signal(p, q, "kill", explicit=True)
            elif q.kind == "sup":
                w.send(q, ("system_terminate", exit_term(reason)))
            else:
                w.send(q, ("crash", exit_term(reason)))
        elif ev[0] == "stop_supervisor":
            w.line("inject stop_supervisor root")
            q = w.latest.get("root")
            if q is not None:
                w.exit_signal(p, q, "shutdown", explicit=True)
        else:
            _, op, path, attrs = ev
            sup_path = path if op in ("which_children", "count_children") else parent(path)
            q = w.latest.get(sup_path)
            flav = sc.strategy(sup_path)
            target = None
            if op == "terminate_child" and flav in ("simple_one_for_one", "dynamic"):
                # the pid is taken when the event is played (oracle.exs)
                target = w.latest.get(path)
            if op == "start_child":
                # the oracle records the behaviour before the call, so a
                # refused start_child still replaces it for later starts
                if flav == "simple_one_for_one":
                    tmpl = sc.kids(sup_path)
                    merged = dict(tmpl[0].attrs) if tmpl else {}
                    merged.update(attrs)
                    w.behaviours[path] = merged
                else:
                    w.behaviours[path] = attrs
            client(op, path, q, attrs, target)

    def client(op, path, q, attrs, target=None):
        def body(c):
            if q is None or not q.alive:
                w.line(f"call {op} {path} -> {{exit,noproc}}")
                return "normal"
            ref = w.monitor(c, q)
            w.send(q, ("call", c, ref, (op, path, attrs, target)))
            m = yield Recv(lambda m: m[1] == ref and m[0] in ("reply", "DOWN"))
            name = "terminate_child" if op == "terminate_child_id" else op
            if m[0] == "reply":
                w.line(f"call {name} {path} -> {m[2]}")
            else:
                w.line(f"call {name} {path} -> {{exit,{show_reason(m[3])}}}")
            return "normal"

        w.spawn(f"client {op} {path}", "client", body)

    w.driver = w.spawn("driver", "driver", driver_body)
    w.driver.trap = True
    w.run(end)
    return w


# --------------------------------------------------------------- analysis


def event_times(sc):
    return sorted({t for t, _ in sc.events})


def check(sc, w=None, margin_ms=100):
    """The static timing rule. Returns a list of problems (empty: fine)."""
    if w is None:
        try:
            w = simulate(sc, margin_ms=margin_ms)
        except Runaway as e:
            return [f"model: {e}"]
    problems = []
    events = event_times(sc) + [sc.end]
    # timers vs events (and the end)
    for t, label, _ in w.expiries:
        for e in events:
            if e - margin_ms < t < e + margin_ms:
                problems.append(f"{t}: `{label}` within {margin_ms} ms of the event at {e}")
                break
    # timers at the same ms
    by_t = {}
    for t, label, group in w.expiries:
        by_t.setdefault(t, []).append((label, group))
    for t, items in by_t.items():
        if len(items) > 1:
            groups = {g for _, g in items}
            if len(groups) == 1 and None not in groups:
                continue  # a parallel stop of one dynamic supervisor's children (rule 2)
            problems.append(f"{t}: timers at the same ms: " + ", ".join(label for label, _ in items))
    ts = sorted(by_t)
    for a, b in zip(ts, ts[1:]):
        if b - a < margin_ms:
            problems.append(f"{a},{b}: timers {b - a} ms apart")
    problems += w.races
    problems += [f"intensity: {x}" for x in w.intensity_ambiguous]
    problems += [f"deliberate difference: {x}" for x in w.notes]
    for q, deadline, since, what in w.orphan_watch:
        if q.alive:
            problems.append(f"deliberate difference: orphan {q.label} still running at the end ({what})")
    if w.terminated_restarting_simple:
        counted = [p for t, ev in sc.events if ev[0] == "api" and ev[1] == "count_children" for p in [ev[2]]]
        for s in w.terminated_restarting_simple:
            if s in counted:
                problems.append(f"deliberate difference: count_children of {s} after terminating a restarting child")
    return problems


if __name__ == "__main__":
    import sys

    for f in sys.argv[1:]:
        sc = parse(open(f).read())
        w = simulate(sc)
        print(f"== {f}")
        for t, l in w.lines:
            print(f"  {t} {l}")
        for p in check(sc, w):
            print("  PROBLEM", p)
