#!/usr/bin/env python3
"""Random scenarios for differential fuzzing (see README.md of this folder).

    python3 generate.py --seed 1000 --count 50 --out DIR     # DIR/c_1000.scn ... DIR/c_1049.scn
    python3 generate.py --seed 1234 --print                   # one scenario on stdout

A scenario is a function of its seed alone (Python's `random.Random(seed)`,
stdlib only), so `--seed S` always writes the same file. The timeline is
placed with the timing model of `sim.py`: every event is at least 100 ms
away from every timer it or an earlier event can set off (inits, stops,
shutdown timeouts, `crash_after` bombs, along restart chains), no two
independent timers expire in one millisecond, and no restart-intensity
decision depends on OTP's whole seconds. A seed whose tree cannot be given
such a timeline in a few tries yields no scenario (`--count` counts seeds,
not scenarios); the reason goes to stderr.
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sim  # noqa: E402

# v1 first; v2 children first for simple/dynamic supervisors, fewer root
# crashes; v3 invalid specs in start_child now and then; v4 terminate_child_id
# on dynamic supervisors, `type` and `id` keys; v5 sim.py resolves
# terminate_child's pid and start_child's behaviour when the event is played,
# as the oracle does; v6 an `id` of its own only under one_for_one (findings
# A1), and terminate_child under a dynamic supervisor needs a pid before the
# event's instant; v7 no two API calls at one instant where the first stops
# or restarts the supervisor the second goes to, or one above it (findings
# A2).
VERSION = 7
INVALID_SPEC = 0.06  # how often a start_child carries a spec OTP rejects
GRID = 100
MAX_END = 5000


def call_target(ev):
    """The supervisor an API call goes to."""
    return ev[2] if ev[1] in ("which_children", "count_children") else sim.parent(ev[2])


def stops_target(first, second):
    """Two API calls at one instant: does the first stop (or restart) the
    supervisor the second goes to, or one above it? Then what the second
    finds is a race between its client and the first call's effect, which
    the oracle settles by its own scheduling (findings A2)."""
    if first[1] not in ("terminate_child", "terminate_child_id", "restart_child"):
        return False
    target = call_target(second)
    return target == first[2] or target.startswith(first[2] + "/")


def pick(rng, weighted):
    """weighted: [(value, weight)]"""
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for v, w in weighted:
        x -= w
        if x <= 0:
            return v
    return weighted[-1][0]


def ms(rng, lo, hi):
    return GRID * rng.randint(lo // GRID, hi // GRID)


class Gen:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.sc = sim.Scenario()
        self.names = 0
        self.dyn_names = {}  # dynamic sup path -> [names started]
        self.started_static = {}  # static sup path -> {id added by start_child: attrs}

    # ------------------------------------------------------------ tree
    def new_name(self, prefix):
        self.names += 1
        return f"{prefix}{self.names}"

    def tree(self):
        self.sup("root", 1, None)

    def sup(self, path, depth, parent_auto):
        rng = self.rng
        flavour = pick(rng, [("one_for_one", 26), ("one_for_all", 20), ("rest_for_one", 20),
                             ("simple_one_for_one", 17), ("dynamic", 17)])
        attrs = {}
        if flavour != "one_for_one" or rng.random() < 0.7:
            attrs["strategy"] = flavour
        if rng.random() < 0.85:
            attrs["intensity"] = pick(rng, [(0, 1), (1, 3), (2, 4), (3, 5), (4, 3), (5, 3), (10, 1)])
        if rng.random() < 0.75:
            attrs["period"] = pick(rng, [(1, 3), (2, 3), (3, 2), (5, 3), (10, 1)])
        auto = "never"
        if flavour in ("one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one") and rng.random() < 0.22:
            auto = rng.choice(["any_significant", "all_significant"])
            attrs["auto_shutdown"] = auto
        elif flavour != "dynamic" and rng.random() < 0.05:
            attrs["auto_shutdown"] = "never"
        if flavour == "dynamic" and rng.random() < 0.4:
            attrs["max_children"] = pick(rng, [(1, 2), (2, 3), (3, 2), ("infinity", 1)])
        if path != "root":
            attrs.update(self.child_spec(is_sup=True, parent_auto=parent_auto))
        self.sc.nodes.append(sim.Node("sup", path, attrs))

        if flavour == "simple_one_for_one":
            tattrs = self.child_spec(is_sup=False, parent_auto=auto, simple=True)
            tattrs.update(self.behaviour(dynamic=True))
            self.sc.nodes.append(sim.Node("worker", f"{path}/{rng.choice(['tmpl', 'w', 'job'])}", tattrs))
            return
        if flavour == "dynamic":
            self.dyn_names[path] = []
            return
        n = pick(rng, [(1, 2), (2, 4), (3, 4), (4, 2)])
        significant_made = False
        for i in range(n):
            if depth < 3 and rng.random() < (0.28 if depth == 1 else 0.2):
                self.sup(f"{path}/{self.new_name('s')}", depth + 1, auto)
            else:
                a = self.child_spec(is_sup=False, parent_auto=auto)
                a.update(self.behaviour())
                if a.get("significant") == "true":
                    significant_made = True
                if rng.random() < 0.05 and flavour == "one_for_one":
                    # an id that is not the path's last name (findings F3).
                    # Only under one_for_one: in a group restart a child has
                    # no pid when a report names it, and the oracle then
                    # writes SUP/ID instead of its path (findings A1).
                    a["id"] = self.new_name("id")
                self.sc.nodes.append(sim.Node("worker", f"{path}/{self.new_name(rng.choice('abcdw'))}", a))
        if auto != "never" and not significant_made:
            # make the last direct worker significant, if any
            for node in reversed(self.sc.nodes):
                if sim.parent(node.path) == path and node.kind == "worker":
                    if node.attrs.get("restart", "permanent") == "permanent":
                        node.attrs["restart"] = self.rng.choice(["transient", "temporary"])
                    node.attrs["significant"] = "true"
                    break

    def child_spec(self, is_sup, parent_auto, simple=False):
        rng = self.rng
        a = {}
        r = pick(rng, [(None, 40), ("permanent", 12), ("transient", 24), ("temporary", 24)])
        if r:
            a["restart"] = r
        if is_sup:
            sd = pick(rng, [(None, 65), ("infinity", 15), ("brutal_kill", 8), ("int", 12)])
        else:
            sd = pick(rng, [(None, 40), ("brutal_kill", 22), ("int", 32), ("infinity", 6)])
        if sd == "int":
            sd = ms(rng, 100, 900)
        if sd:
            a["shutdown"] = sd
        if parent_auto not in (None, "never") and a.get("restart") in ("transient", "temporary") and rng.random() < 0.6:
            a["significant"] = "true"
        elif rng.random() < 0.04 and a.get("restart") in ("transient", "temporary"):
            a["significant"] = "false"
        if not is_sup and rng.random() < 0.1:
            # a worker may declare itself a supervisor (counted and listed as
            # one, default shutdown infinity: findings F2)
            a["type"] = pick(rng, [("worker", 2), ("supervisor", 1)])
        return a

    def behaviour(self, dynamic=False):
        rng = self.rng
        a = {}
        if rng.random() < 0.22:
            a["init"] = pick(rng, [(100, 3), (200, 3), (300, 2), (400, 1)])
        if rng.random() < 0.22:
            a["start"] = pick(rng, [
                ("ok,error", 3), ("ok,error,ok", 4), ("ok,ignore", 3), ("ok,error,error,ok", 3),
                ("ok,ok,error", 2), ("ok,ignore,ok", 2), ("error", 1 if dynamic else 0.3),
                ("ignore", 2 if dynamic else 1), ("error,ok", 1 if dynamic else 0.2)])
            if "," in a["start"]:
                a["start"] = a["start"].split(",")
        if rng.random() < 0.22:
            a["crash_after"] = ms(rng, 300, 1500)
            if rng.random() < 0.5:
                a["crash_reason"] = rng.choice(["abnormal", "normal", "shutdown", "shutdown_tuple"])
        stop = pick(rng, [(0, 70), ("int", 24), ("never", 6)])
        if stop == "int":
            stop = ms(rng, 100, 600)
        if stop:
            a["stop"] = stop
            if rng.random() < 0.3:
                a["stop_exit"] = rng.choice(["normal", "shutdown_tuple", "abnormal"])
        return a

    def fix_stops(self):
        """A stop equal to a shutdown timeout is a race; stop=never needs a finite wait."""
        for node in self.sc.nodes:
            if node.kind != "worker":
                continue
            a = node.attrs
            sd = a.get("shutdown")
            st = a.get("stop", 0)
            if st == "never" and sd in (None, "infinity"):
                a["shutdown"] = ms(self.rng, 100, 600)
            if isinstance(st, int) and st > 0 and isinstance(sd, int) and sd == st:
                a["stop"] = st + GRID

    # ----------------------------------------------------------- events
    def sup_paths(self):
        return [n.path for n in self.sc.nodes if n.kind == "sup"]

    def static_workers(self):
        return [n.path for n in self.sc.nodes if n.kind == "worker"
                and self.sc.strategy(sim.parent(n.path)) not in ("simple_one_for_one",)]

    def dyn_children(self):
        out = []
        for sup, names in self.dyn_names.items():
            out += [f"{sup}/{x}" for x in names]
        return out

    def api_path(self, path):
        """The path an API call names a static child by: its id under its parent."""
        node = self.sc.node(path)
        if node is not None and "id" in node.attrs:
            return f"{sim.parent(path)}/{node.attrs['id']}"
        return path

    def random_event(self, t, start_in=None):
        rng = self.rng
        sc = self.sc
        sups = self.sup_paths()
        dyn_sups = [s for s in sups if sc.strategy(s) in ("simple_one_for_one", "dynamic")]
        static_sups = [s for s in sups if s not in dyn_sups]
        static_children = [n.path for n in sc.nodes if n.path != "root"
                           and sc.strategy(sim.parent(n.path)) not in ("simple_one_for_one", "dynamic")]
        added = [f"{s}/{x}" for s, ids in self.started_static.items() for x in ids]
        dynamic_sups = [s for s in dyn_sups if sc.strategy(s) == "dynamic"]
        dyn_kids = self.dyn_children()
        simple_sups = [s for s in dyn_sups if sc.strategy(s) == "simple_one_for_one"]
        weights = [("crash", 34), ("terminate_child", 12), ("restart_child", 7), ("delete_child", 5),
                   ("get_childspec", 4), ("start_child", 14 + (14 if dyn_sups else 0)),
                   ("which_children", 8), ("count_children", 7), ("terminate_child_id", 3 if dyn_sups else 0)]
        kind = pick(rng, weights) if start_in is None else "start_child"
        if kind == "crash":
            targets = static_children + added + dyn_kids * 2 + ["root"] * (1 if rng.random() < 0.05 else 0)
            if not targets:
                return None
            path = rng.choice(targets)
            node = sc.node(path)
            if node is not None and node.kind == "sup":
                reason = pick(rng, [("kill", 35), ("abnormal", 25), ("shutdown", 15), ("normal", 10), ("shutdown_tuple", 15)])
            else:
                reason = pick(rng, [("abnormal", 35), ("kill", 20), ("normal", 15), ("shutdown", 15), ("shutdown_tuple", 15)])
            return ("crash", path, reason)
        if kind in ("which_children", "count_children"):
            return ("api", kind, rng.choice(sups), {})
        if kind == "start_child":
            sup = start_in or rng.choice(dyn_sups if dyn_sups and rng.random() < 0.7 else sups)
            flav = sc.strategy(sup)
            if flav == "simple_one_for_one":
                names = self.dyn_names.setdefault(sup, [])
                name = rng.choice(names) if names and rng.random() < 0.2 else self.new_name("n")
                names.append(name)
                over = {}
                if rng.random() < 0.3:
                    over = self.behaviour(dynamic=True)
                return ("api", "start_child", f"{sup}/{name}", over)
            if flav == "dynamic":
                names = self.dyn_names.setdefault(sup, [])
                name = rng.choice(names) if names and rng.random() < 0.15 else self.new_name("d")
                names.append(name)
                a = {}
                r = pick(rng, [(None, 40), ("permanent", 10), ("transient", 25), ("temporary", 25)])
                if r:
                    a["restart"] = r
                sd = pick(rng, [(None, 45), ("brutal_kill", 20), ("int", 30), ("infinity", 5)])
                if sd == "int":
                    sd = ms(rng, 100, 900)
                if sd:
                    a["shutdown"] = sd
                a.update(self.behaviour(dynamic=True))
                st = a.get("stop", 0)
                if st == "never" and a.get("shutdown") in (None, "infinity"):
                    a["shutdown"] = ms(rng, 100, 600)
                if isinstance(st, int) and st and a.get("shutdown") == st:
                    a["stop"] = st + GRID
                if rng.random() < INVALID_SPEC:
                    a.update(rng.choice([{"restart": "forever"}, {"shutdown": 0}, {"shutdown": -1}]))
                return ("api", "start_child", f"{sup}/{name}", a)
            # a static supervisor: a new id, or one it has
            # (never the path of a nested supervisor: the oracle would take
            # it for a worker from then on)
            existing = [self.api_path(n.path) for n in sc.nodes if sim.parent(n.path) == sup and n.kind == "worker"]
            existing += [f"{sup}/{x}" for x in self.started_static.get(sup, {})]
            if existing and rng.random() < 0.25:
                path = rng.choice(existing)
                node = sc.node(path) or next((n for n in sc.nodes if self.api_path(n.path) == path), None)
                a = dict(node.attrs) if node is not None else dict(self.started_static[sup][sim.base(path)])
                a.pop("id", None)
                return ("api", "start_child", path, a)
            name = self.new_name("x")
            a = self.child_spec(is_sup=False, parent_auto=sc.node(sup).attrs.get("auto_shutdown", "never"))
            a.update(self.behaviour())
            st = a.get("stop", 0)
            if st == "never" and a.get("shutdown") in (None, "infinity"):
                a["shutdown"] = ms(rng, 100, 600)
            if isinstance(st, int) and st and a.get("shutdown") == st:
                a["stop"] = st + GRID
            if rng.random() < INVALID_SPEC:
                # OTP's validation (S8): the call answers the error, nothing starts
                a.update(rng.choice([{"restart": "forever"}, {"shutdown": -1}, {"shutdown": "soon"},
                                     {"restart": "permanent", "significant": "true"},
                                     {"restart": "transient", "significant": "true"},
                                     {"significant": "maybe"}, {"type": "manager"}]))
            self.started_static.setdefault(sup, {})[name] = a
            return ("api", "start_child", f"{sup}/{name}", a)
        if kind == "terminate_child_id":
            sup = rng.choice(dyn_sups)
            kids = [k for k in dyn_kids if sim.parent(k) == sup] or [f"{sup}/nobody"]
            return ("api", "terminate_child_id", rng.choice(kids), {})
        # terminate_child, restart_child, delete_child, get_childspec.
        # Elixir's DynamicSupervisor has no restart_child, delete_child or
        # get_childspec (it crashes on them, function_clause): only
        # terminate_child is sent to it.
        pool = [self.api_path(p) for p in static_children] + added
        if kind == "terminate_child":
            pool = pool + dyn_kids * 2
        elif dyn_kids and rng.random() < 0.15:
            pool = pool + [k for k in dyn_kids if sim.parent(k) not in dynamic_sups]
        if not pool or rng.random() < 0.05:
            cands = [s for s in sups if s not in dynamic_sups] if kind != "terminate_child" else [s for s in sups if s not in dyn_sups]
            if not cands:
                return None
            pool = [f"{rng.choice(cands)}/{self.new_name('u')}"]
        return ("api", kind, rng.choice(pool), {})

    def place(self, events, horizon_extra=0):
        sc = self.sc
        sc.events = events
        last = max(t for t, _ in events) if events else 0
        sc.end = None
        try:
            w = sim.simulate(sc, horizon=last + 99 + horizon_extra)
        except sim.Runaway as e:
            return None, [str(e)]
        sc.end = 10 ** 9  # no end yet
        return w, sim.check(sc, w)

    def resolvable(self, ev, events, t):
        """terminate_child under a DynamicSupervisor passes the pid of the
        path's latest incarnation; with none (its start failed) the oracle
        would pass nil, which Elixir's terminate_child does not accept."""
        if ev[0] != "api" or ev[1] != "terminate_child" or self.sc.strategy(sim.parent(ev[2])) != "dynamic":
            return True
        self.sc.events = events
        try:
            # before the events of the same instant too: the driver takes
            # the pid as it plays the event, before a start_child played
            # just before it has been served
            before = sim.simulate(self.sc, horizon=t - 1)
            w = sim.simulate(self.sc, horizon=t)
        except sim.Runaway:
            return False
        return before.latest.get(ev[2]) is not None and w.latest.get(ev[2]) is not None

    def timeline(self):
        rng = self.rng
        sc = self.sc
        # when is the tree up? (its start is timed like everything else)
        sc.events = []
        sc.end = 10 ** 9
        w = sim.simulate(sc, horizon=3000)
        boot = [t for t, _, _ in w.expiries if t <= 3000]
        t = GRID * (1 + (max(boot) // GRID if boot else 0))
        if any(l.startswith("start_failed root#") for _, l in w.lines) or t > 1500:
            if rng.random() < 0.7:
                return False
        events = []
        n_events = pick(rng, [(2, 2), (3, 4), (4, 4), (5, 4), (6, 3), (7, 2), (8, 1)])
        # a simple_one_for_one or dynamic supervisor gets children first
        opening = []
        for sup in self.sup_paths():
            if self.sc.strategy(sup) in ("simple_one_for_one", "dynamic") and rng.random() < 0.85:
                opening += [sup] * pick(rng, [(1, 3), (2, 4), (3, 2)])
        rng.shuffle(opening)
        for i in range(n_events + len(opening)):
            ev = self.random_event(t, opening[i] if i < len(opening) else None)
            if ev is None:
                continue
            gap = pick(rng, [(0, 0.6), (100, 4), (200, 4), (300, 3), (400, 2), (500, 1.5), (700, 1), (1000, 0.5)])
            same_t = gap == 0 and events and ev[0] == "api" and events[-1][1][0] == "api" \
                and not stops_target(events[-1][1], ev)
            cand = events[-1][0] if same_t else (events[-1][0] + max(gap, GRID) if events else t + rng.choice([0, 0, 100, 200]))
            placed = False
            for k in range(12):
                tt = cand + k * GRID
                if tt > MAX_END - 600:
                    break
                if not self.resolvable(ev, events, tt):
                    break
                w, probs = self.place(events + [(tt, ev)])
                if not probs:
                    events.append((tt, ev))
                    placed = True
                    break
                if same_t:
                    break
            if not placed:
                continue
            # a tree that has gone down is seldom worth more events
            root = w.latest.get("root")
            if (root is None or not root.alive) and rng.random() < 0.8:
                break
        if not events:
            return False
        # the end: usually a stop_supervisor first
        if rng.random() < 0.85:
            last = events[-1][0]
            for k in range(1, 15):
                tt = last + k * GRID + (GRID if k == 1 and rng.random() < 0.5 else 0)
                if tt > MAX_END - 300:
                    break
                w, probs = self.place(events + [(tt, ("stop_supervisor",))])
                if not probs:
                    events.append((tt, ("stop_supervisor",)))
                    break
        sc.events = events
        last = events[-1][0]
        for k in range(2, 40):
            end = last + k * GRID
            if end > MAX_END:
                return False
            sc.end = end
            try:
                w = sim.simulate(sc, horizon=end + 1000)
            except sim.Runaway:
                return False
            probs = sim.check(sc, w)
            if probs:
                continue
            # past the end, only what cannot matter: stop when the tree is quiet
            quiet = not [x for x in w.expiries if end < x[0] <= end + 1000]
            if quiet or k >= 8:
                w = sim.simulate(sc)
                if not sim.check(sc, w):
                    self.model = w
                    return True
        return False

    def build(self):
        for attempt in range(6):
            self.sc = sim.Scenario()
            self.names = 0
            self.dyn_names = {}
            self.started_static = {}
            self.tree()
            self.fix_stops()
            if self.timeline():
                self.finish()
                return self.sc
        return None

    def finish(self):
        sc = self.sc
        w = self.model
        kills_sup = any(ev[0] == "crash" and ev[2] == "kill" and (sc.node(ev[1]) is not None and sc.node(ev[1]).kind == "sup")
                        for _, ev in sc.events)
        if kills_sup or w.killed_sups:
            sc.tags = ["async_orphans"]
        sc.comments = [f"fuzz: generate.py v{VERSION}, seed {self.seed} ({describe(sc)})"]


def describe(sc):
    kinds = []
    for n in sc.nodes:
        if n.kind == "sup":
            kinds.append(f"{n.path}:{n.attrs.get('strategy', 'one_for_one')}")
    evs = sorted({ev[0] if ev[0] != "api" else ev[1] for _, ev in sc.events})
    return "; ".join(kinds) + "; events: " + ",".join(evs)


def generate(seed):
    return Gen(seed).build()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True, help="first seed")
    ap.add_argument("--count", type=int, default=1, help="number of seeds to try")
    ap.add_argument("--out", help="directory for c_SEED.scn files")
    ap.add_argument("--print", action="store_true", help="print the scenario(s) instead")
    args = ap.parse_args()
    made = 0
    for seed in range(args.seed, args.seed + args.count):
        sc = generate(seed)
        if sc is None:
            print(f"seed {seed}: no timeline fits the timing rule", file=sys.stderr)
            continue
        made += 1
        if args.print or not args.out:
            print(sc.text())
        else:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, f"c_{seed}.scn"), "w") as f:
                f.write(sc.text())
    print(f"generated {made} of {args.count} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
