//! Generating random cases: trees up to three levels and timelines,
//! resolved against the tree so that every event names a node.

use super::*;

/// An event before its targets are resolved against the tree: each index
/// picks among the paths that fit, so that shrinking the tree keeps the
/// events meaningful.
#[derive(Debug, Clone)]
pub(crate) enum RawEv {
    /// A crash of anything but the root.
    Crash(Index, Crash),
    /// A crash of the root: rare, as it ends the case.
    CrashRoot(Crash),
    Terminate(Index),
    Restart(Index),
    Delete(Index),
    Which(Index),
    Count(Index),
    GetChildspec(Index),
    /// The supervisor, the id (among its children's and a new one), the
    /// spec, and whether a significance the rules forbid is dropped (or
    /// left for the supervisor to reject).
    StartChild(Index, Index, ChildDef, bool),
    /// A `start_child` on a dynamic supervisor, if the tree has one.
    StartDynChild(Index, ChildDef),
}

pub(crate) fn arb_restart() -> impl proptest::strategy::Strategy<Value = Restart> {
    prop_oneof![
        2 => Just(Restart::Permanent),
        2 => Just(Restart::Transient),
        1 => Just(Restart::Temporary),
    ]
}

pub(crate) fn arb_worker_shutdown() -> impl proptest::strategy::Strategy<Value = Shutdown> {
    prop_oneof![
        1 => Just(Shutdown::BrutalKill),
        2 => Just(Shutdown::Timeout),
        1 => Just(Shutdown::Infinity),
    ]
}

pub(crate) fn arb_sup_shutdown() -> impl proptest::strategy::Strategy<Value = Shutdown> {
    prop_oneof![3 => Just(Shutdown::Infinity), 1 => Just(Shutdown::Timeout)]
}

pub(crate) fn arb_worker_kind(scripted: u32) -> impl proptest::strategy::Strategy<Value = Kind> {
    let trap = prop_oneof![
        3 => Just(None),
        1 => prop_oneof![
            Just(StopExit::Normal),
            Just(StopExit::Shutdown),
            Just(StopExit::ShutdownX),
            Just(StopExit::Error),
        ]
        .prop_map(Some),
    ];
    // Mostly a plain worker; a script starts well most of the time, so
    // that most trees start, and then fails, ignores or panics.
    let first = prop_oneof![
        8 => Just(InitStep::Ok),
        1 => Just(InitStep::Ignore),
        1 => Just(InitStep::Error),
    ];
    let later = prop_oneof![
        3 => Just(InitStep::Ok),
        3 => Just(InitStep::Error),
        1 => Just(InitStep::Ignore),
        1 => Just(InitStep::Panic),
    ];
    let script = (first, vec(later, 0..=3)).prop_map(|(first, mut rest)| {
        rest.insert(0, first);
        rest
    });
    let init = prop_oneof![3 => Just(vec![InitStep::Ok]), scripted => script];
    (trap, init).prop_map(|(trap, init)| Kind::Worker { trap, init })
}

/// A worker; one in `scripted + 3` has a start script.
pub(crate) fn arb_worker(scripted: u32) -> impl proptest::strategy::Strategy<Value = ChildDef> {
    (
        arb_restart(),
        arb_worker_shutdown(),
        any::<bool>(),
        arb_worker_kind(scripted),
    )
        .prop_map(|(restart, shutdown, significant, kind)| ChildDef {
            id: String::new(),
            restart,
            shutdown,
            significant,
            kind,
        })
}

/// Small intensities, so that give-ups happen; periods of 100 ms to 1 s,
/// so that the window slides within a case. The root tolerates a little
/// more, so that most cases go on after a give-up below it.
pub(crate) fn arb_intensity(root: bool) -> impl proptest::strategy::Strategy<Value = (u32, u64)> {
    let max = if root {
        prop_oneof![1 => Just(1u32), 2 => Just(3), 2 => Just(5), 1 => Just(10)].boxed()
    } else {
        prop_oneof![1 => Just(0u32), 2 => Just(1), 2 => Just(2), 2 => Just(3)].boxed()
    };
    (max, 1..=10u64).prop_map(|(m, p)| (m, p * 100))
}

/// A child at `depth` (the root's children are at depth 1): supervisors
/// nest at most three deep, the root included.
pub(crate) fn arb_child(depth: u32) -> BoxedStrategy<ChildDef> {
    if depth >= 3 {
        return arb_worker(1).boxed();
    }
    let sup = (
        arb_restart(),
        arb_sup_shutdown(),
        any::<bool>(),
        arb_sup(depth + 1),
    )
        .prop_map(|(restart, shutdown, significant, def)| ChildDef {
            id: String::new(),
            restart,
            shutdown,
            significant,
            kind: Kind::Sup(def),
        });
    let max_children = prop_oneof![2 => Just(None), 1 => (1..=3usize).prop_map(Some)];
    let dynamic = (
        arb_restart(),
        arb_sup_shutdown(),
        any::<bool>(),
        arb_intensity(false),
        max_children,
    )
        .prop_map(
            |(restart, shutdown, significant, (max_restarts, period), max_children)| ChildDef {
                id: String::new(),
                restart,
                shutdown,
                significant,
                kind: Kind::Dyn(DynDef {
                    max_restarts,
                    period,
                    max_children,
                }),
            },
        );
    prop_oneof![5 => arb_worker(1), 2 => sup, 2 => dynamic].boxed()
}

pub(crate) fn arb_sup(depth: u32) -> BoxedStrategy<SupDef> {
    let strategy = prop_oneof![
        Just(Strategy::OneForOne),
        Just(Strategy::OneForAll),
        Just(Strategy::RestForOne),
    ];
    let auto = prop_oneof![3 => Just(Auto::Never), 1 => Just(Auto::Any), 1 => Just(Auto::All)];
    let most = if depth == 1 { 4 } else { 3 };
    (
        strategy,
        arb_intensity(depth == 1),
        auto,
        vec(arb_child(depth), 1..=most),
    )
        .prop_map(
            |(strategy, (max_restarts, period), auto, children)| SupDef {
                strategy,
                max_restarts,
                period,
                auto,
                children,
            },
        )
        .boxed()
}

pub(crate) fn arb_raw_ev() -> impl proptest::strategy::Strategy<Value = RawEv> {
    let crash = prop_oneof![
        Just(Crash::Normal),
        Just(Crash::Shutdown),
        Just(Crash::ShutdownX),
        Just(Crash::Error),
        Just(Crash::Panic),
        Just(Crash::Kill),
    ];
    prop_oneof![
        40 => (any::<Index>(), crash.clone()).prop_map(|(i, c)| RawEv::Crash(i, c)),
        1 => crash.prop_map(RawEv::CrashRoot),
        4 => any::<Index>().prop_map(RawEv::Terminate),
        4 => any::<Index>().prop_map(RawEv::Restart),
        3 => any::<Index>().prop_map(RawEv::Delete),
        3 => any::<Index>().prop_map(RawEv::Which),
        2 => any::<Index>().prop_map(RawEv::Count),
        2 => any::<Index>().prop_map(RawEv::GetChildspec),
        5 => (any::<Index>(), any::<Index>(), arb_worker(1), prop_oneof![5 => Just(true), 1 => Just(false)])
            .prop_map(|(s, i, c, valid)| RawEv::StartChild(s, i, c, valid)),
        8 => (any::<Index>(), arb_worker(3)).prop_map(|(s, c)| RawEv::StartDynChild(s, c)),
    ]
}

pub(crate) fn arb_case() -> impl proptest::strategy::Strategy<Value = Case> {
    (arb_sup(1), vec((1..=4u64, arb_raw_ev()), 0..=20))
        .prop_map(|(root, events)| resolve(root, events))
}

/// Names the children (`w0`, `s1`, `d2`: kind and position) and drops
/// the significance the rules forbid (S8.4).
pub(crate) fn normalize(sup: &mut SupDef) {
    let auto = sup.auto;
    for (i, c) in sup.children.iter_mut().enumerate() {
        let prefix = match c.kind {
            Kind::Worker { .. } => "w",
            Kind::Sup(_) => "s",
            Kind::Dyn(_) => "d",
        };
        c.id = format!("{prefix}{i}");
        c.significant &= auto != Auto::Never && c.restart != Restart::Permanent;
        if let Kind::Sup(s) = &mut c.kind {
            normalize(s);
        }
    }
}

/// Places the events on the grid, one per instant, and picks their
/// targets; ends with the root's stop.
pub(crate) fn resolve(mut root: SupDef, raw: Vec<(u64, RawEv)>) -> Case {
    normalize(&mut root);
    struct Node {
        path: String,
        kind: NodeKind,
        /// The parent's kind and `auto_shutdown` (`None` for the root).
        parent: Option<(NodeKind, Auto)>,
        /// Its own `auto_shutdown`, for a static supervisor.
        auto: Auto,
    }
    fn walk(path: &str, sup: &SupDef, nodes: &mut Vec<Node>) {
        for c in &sup.children {
            let p = format!("{path}/{}", c.id);
            let (kind, auto) = match &c.kind {
                Kind::Worker { .. } => (NodeKind::Worker, Auto::Never),
                Kind::Sup(s) => (NodeKind::Sup, s.auto),
                Kind::Dyn(_) => (NodeKind::Dyn, Auto::Never),
            };
            nodes.push(Node {
                path: p.clone(),
                kind,
                parent: Some((NodeKind::Sup, sup.auto)),
                auto,
            });
            if let Kind::Sup(s) = &c.kind {
                walk(&p, s, nodes);
            }
        }
    }
    let mut nodes = vec![Node {
        path: "root".into(),
        kind: NodeKind::Sup,
        parent: None,
        auto: root.auto,
    }];
    walk("root", &root, &mut nodes);

    let mut events = Vec::new();
    let mut t = 0;
    for (k, (gap, ev)) in raw.into_iter().enumerate() {
        t += gap * 100;
        let pick = |ix: &Index, nodes: &[Node], fits: &dyn Fn(&Node) -> bool| -> Option<usize> {
            let fitting: Vec<usize> = (0..nodes.len()).filter(|&i| fits(&nodes[i])).collect();
            (!fitting.is_empty()).then(|| *ix.get(&fitting))
        };
        let is_sup = |n: &Node| n.kind != NodeKind::Worker;
        let ev = match ev {
            RawEv::CrashRoot(crash) => Some(Ev::Crash(
                "root".into(),
                if crash == Crash::Panic {
                    Crash::Error
                } else {
                    crash
                },
            )),
            RawEv::Crash(ix, crash) => {
                let n = &nodes[pick(&ix, &nodes, &|n| n.parent.is_some()).expect("a child")];
                // A supervisor is stopped with a reason, it cannot panic.
                let crash = match crash {
                    Crash::Panic if is_sup(n) => Crash::Error,
                    other => other,
                };
                Some(Ev::Crash(n.path.clone(), crash))
            }
            RawEv::Terminate(ix) => pick(&ix, &nodes, &|n| n.parent.is_some())
                .map(|i| Ev::TerminateChild(nodes[i].path.clone())),
            RawEv::Restart(ix) => pick(&ix, &nodes, &|n| {
                matches!(n.parent, Some((NodeKind::Sup, _)))
            })
            .map(|i| Ev::RestartChild(nodes[i].path.clone())),
            RawEv::Delete(ix) => pick(&ix, &nodes, &|n| {
                matches!(n.parent, Some((NodeKind::Sup, _)))
            })
            .map(|i| Ev::DeleteChild(nodes[i].path.clone())),
            RawEv::Which(ix) => {
                pick(&ix, &nodes, &is_sup).map(|i| Ev::WhichChildren(nodes[i].path.clone()))
            }
            RawEv::Count(ix) => {
                pick(&ix, &nodes, &is_sup).map(|i| Ev::CountChildren(nodes[i].path.clone()))
            }
            RawEv::GetChildspec(ix) => pick(&ix, &nodes, &|n| {
                matches!(n.parent, Some((NodeKind::Sup, _)))
            })
            .map(|i| Ev::GetChildspec(nodes[i].path.clone())),
            RawEv::StartDynChild(six, def) => {
                let dynamic = pick(&six, &nodes, &|n| n.kind == NodeKind::Dyn);
                dynamic.map(|s| {
                    let path = format!("{}/n{k}", nodes[s].path);
                    nodes.push(Node {
                        path: path.clone(),
                        kind: NodeKind::Worker,
                        parent: Some((NodeKind::Dyn, Auto::Never)),
                        auto: Auto::Never,
                    });
                    let mut def = def;
                    def.id = format!("n{k}");
                    def.significant = false;
                    Ev::StartChild(path, def)
                })
            }
            RawEv::StartChild(six, iix, mut def, valid) => {
                pick(&six, &nodes, &is_sup).map(|s| {
                    let (sup, kind, auto) = (nodes[s].path.clone(), nodes[s].kind, nodes[s].auto);
                    let id = if kind == NodeKind::Dyn {
                        // Ids of dynamic children are unique in the case.
                        format!("n{k}")
                    } else {
                        let mut pool: Vec<String> = nodes
                            .iter()
                            .filter(|n| parent_of(&n.path) == sup)
                            .map(|n| basename(&n.path).to_string())
                            .collect();
                        pool.sort();
                        pool.dedup();
                        pool.push(format!("x{k}"));
                        iix.get(&pool).clone()
                    };
                    def.id = id.clone();
                    if valid || kind == NodeKind::Dyn {
                        def.significant &= auto != Auto::Never && def.restart != Restart::Permanent;
                    }
                    let path = format!("{sup}/{id}");
                    if !nodes.iter().any(|n| n.path == path) {
                        nodes.push(Node {
                            path: path.clone(),
                            kind: NodeKind::Worker,
                            parent: Some((kind, auto)),
                            auto: Auto::Never,
                        });
                    }
                    Ev::StartChild(path, def)
                })
            }
        };
        if let Some(ev) = ev {
            events.push((t, ev));
        }
    }
    events.push((t + 100, Ev::Stop));
    Case {
        root,
        dynamic_root: None,
        events,
    }
}
