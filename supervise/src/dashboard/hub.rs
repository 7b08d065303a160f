//! The live updates: while a page is open, the tree's events mark the
//! picture stale and feed the timeline; a new picture is taken at most
//! once per refresh interval (and no more often than keeps its cost to a
//! few percent of a core), and published as the latest frame. Each page's stream
//! sends the latest frame it has not sent: a slow page skips frames
//! rather than falling behind.
//!
//! Nothing runs while no page is open: the hub then holds no
//! subscription, and the tree's events cost it nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::server::State;
use crate::event::{Event, EventStream};
use crate::exit::ExitReason;
use crate::policy::Shutdown;
use crate::snapshot::{SupervisorKind, SupervisorSnapshot};
use crate::supervisor::{ChildStatus, SupervisorHandle};

/// How many timeline entries are kept (and sent to a page that opens).
pub(super) const TIMELINE: usize = 100;

/// A picture is refreshed this often even when no event came: restart
/// windows slide and backoffs run out without one.
const IDLE_REFRESH: Duration = Duration::from_secs(1);

/// A picture that took `t` to take (on the wall clock, its wait in a busy
/// supervisor's inbox included) is not taken again before `t` times this:
/// pictures get at most a few percent of a core, however large the tree.
/// (10,000 children restarting 1,000 times a second: a picture takes
/// about 8 ms, so a page gets 2 to 4 frames a second; BENCHMARKS.md.)
const COST_FACTOR: u32 = 30;

/// Events absorbed in one go before the hub looks at its timer again.
const DRAIN: usize = 1024;

/// The latest frame and the pages waiting for the next.
#[derive(Debug)]
pub(super) struct Hub {
    frames: watch::Sender<Arc<Frame>>,
    pages: AtomicUsize,
    wake: Notify,
}

/// What every open page is shown: the tree and the timeline.
#[derive(Debug)]
pub(super) struct Frame {
    /// The picture, or why there is none.
    pub(super) tree: Result<Arc<Picture>, Arc<str>>,
    /// The latest entries, oldest first.
    pub(super) timeline: Arc<VecDeque<Entry>>,
}

/// The tree at one moment, with what the snapshot does not carry.
#[derive(Debug)]
pub(super) struct Picture {
    pub(super) root: SupervisorSnapshot,
    /// The shutdown policy of each child, by path, where known.
    pub(super) shutdowns: Arc<HashMap<Arc<str>, Shutdown>>,
    /// Children whose latest start was ignored (seen in the events).
    pub(super) ignored: Arc<HashSet<Arc<str>>>,
    /// When it was taken, on both clocks (for backoff deadlines).
    pub(super) at: Instant,
    pub(super) wall: SystemTime,
}

/// One restart, give-up or report on the timeline.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Numbers the entries of one hub, from 1.
    pub(super) seq: u64,
    /// When, on the wall clock.
    pub(super) wall: SystemTime,
    /// `restart`, `gave_up`, `start_error` or `shutdown_error`.
    pub(super) kind: &'static str,
    pub(super) supervisor: Arc<str>,
    pub(super) child: Arc<str>,
    /// The exit that caused it, when known.
    pub(super) reason: Option<Arc<str>>,
}

impl Hub {
    pub(super) fn new() -> Self {
        Hub {
            frames: watch::Sender::new(Arc::new(Frame {
                tree: Err("waiting for the tree".into()),
                timeline: Arc::default(),
            })),
            pages: AtomicUsize::new(0),
            wake: Notify::new(),
        }
    }

    /// A page opens: the receiver of its frames, and a guard that counts
    /// it open until dropped.
    pub(super) fn open(self: &Arc<Self>) -> (watch::Receiver<Arc<Frame>>, PageGuard) {
        self.pages.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
        let mut frames = self.frames.subscribe();
        // The latest frame is the page's first.
        frames.mark_changed();
        (frames, PageGuard { hub: self.clone() })
    }

    fn pages(&self) -> usize {
        self.pages.load(Ordering::SeqCst)
    }

    fn publish(&self, tree: Result<Arc<Picture>, Arc<str>>, timeline: &Arc<VecDeque<Entry>>) {
        self.frames.send_replace(Arc::new(Frame {
            tree,
            timeline: timeline.clone(),
        }));
    }

    /// Waits until a page is open.
    async fn until_open(&self) {
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.pages() > 0 {
                return;
            }
            woken.await;
        }
    }
}

/// Counts one open page.
#[derive(Debug)]
pub(super) struct PageGuard {
    hub: Arc<Hub>,
}

impl Drop for PageGuard {
    fn drop(&mut self) {
        self.hub.pages.fetch_sub(1, Ordering::SeqCst);
        self.hub.wake.notify_one();
    }
}

/// The hub's task: idle while no page is open; otherwise follows the tree.
pub(super) async fn run(state: Arc<State>) {
    let hub = &state.hub;
    let mut book = Book::default();
    loop {
        hub.until_open().await;
        let Some(tree) = state.tree() else {
            hub.publish(Err("waiting for the tree to start".into()), &book.timeline);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        match tree.subscribe() {
            Some(events) => follow(&state, &tree, events, &mut book).await,
            None => {
                hub.publish(Err(stopped(&tree)), &book.timeline);
                tokio::time::sleep(IDLE_REFRESH).await;
            }
        }
    }
}

/// Follows `tree` while a page is open and the tree runs.
async fn follow(state: &State, tree: &SupervisorHandle, mut events: EventStream, book: &mut Book) {
    let hub = &state.hub;
    let refresh = state.config.refresh;
    // Stale from the start: the page that opened wants a picture now.
    let mut dirty = true;
    let mut earliest = Instant::now();
    let mut taken = Instant::now();
    let timer = tokio::time::sleep_until(earliest);
    tokio::pin!(timer);
    loop {
        if hub.pages() == 0 {
            return;
        }
        let due = if dirty {
            earliest
        } else {
            taken + IDLE_REFRESH
        };
        if timer.deadline() != due {
            timer.as_mut().reset(due);
        }
        tokio::select! {
            biased;
            event = events.recv_timed() => {
                let Some((at, event)) = event else {
                    hub.publish(Err(stopped(tree)), &book.timeline);
                    return;
                };
                book.absorb(at, event);
                for _ in 0..DRAIN {
                    match events.try_recv_timed() {
                        Some((at, event)) => book.absorb(at, event),
                        None => break,
                    }
                }
                dirty = true;
            }
            () = &mut timer => {
                let began = std::time::Instant::now();
                match picture(state, tree, book).await {
                    Ok(picture) => hub.publish(Ok(Arc::new(picture)), &book.timeline),
                    Err(why) => {
                        hub.publish(Err(why), &book.timeline);
                        return;
                    }
                }
                let cost = began.elapsed();
                taken = Instant::now();
                earliest = taken + refresh.max(cost * COST_FACTOR);
                dirty = false;
            }
            () = hub.wake.notified() => {}
        }
    }
}

fn stopped(tree: &SupervisorHandle) -> Arc<str> {
    match tree.exit_reason() {
        Some(reason) => format!("the tree has stopped: {reason}").into(),
        None => "the tree has stopped".into(),
    }
}

/// Takes a picture of `tree`, with the shutdown policies it does not carry.
pub(super) async fn picture(
    state: &State,
    tree: &SupervisorHandle,
    book: &Book,
) -> Result<Picture, Arc<str>> {
    let root = tree.snapshot().await.map_err(|_| stopped(tree))?;
    let shutdowns = state.specs.lock().await.refresh(tree, &root).await;
    Ok(Picture {
        root,
        shutdowns,
        ignored: book.ignored.clone(),
        at: Instant::now(),
        wall: SystemTime::now(),
    })
}

/// What the hub learns from the events between pictures.
#[derive(Debug, Default)]
pub(super) struct Book {
    timeline: Arc<VecDeque<Entry>>,
    seq: u64,
    ignored: Arc<HashSet<Arc<str>>>,
    /// The reason of each child's latest abnormal exit, until the restart
    /// it causes is on the timeline.
    reasons: HashMap<Arc<str>, Arc<str>>,
}

impl Book {
    fn absorb(&mut self, at: Instant, event: Event) {
        match event {
            Event::Started { child } => self.not_ignored(child.path()),
            Event::StartFailed { path, .. } | Event::Exited { path, .. } => {
                self.not_ignored(&path);
            }
            Event::StartIgnored { path, .. } => {
                Arc::make_mut(&mut self.ignored).insert(path);
            }
            Event::ChildTerminated { child, reason, .. } => {
                if self.reasons.len() >= 4096 {
                    self.reasons.clear();
                }
                self.reasons.insert(child, reason_text(&reason));
            }
            Event::Restarting { supervisor, child } => {
                let reason = self.reasons.remove(&child);
                self.push(at, "restart", supervisor, child, reason);
            }
            Event::GaveUp { supervisor, child } => {
                let reason = self.reasons.remove(&child);
                self.push(at, "gave_up", supervisor, child, reason);
            }
            Event::StartError {
                supervisor,
                child,
                reason,
            } => {
                let reason = Some(reason_text(&reason));
                self.push(at, "start_error", supervisor, child, reason);
            }
            Event::ShutdownError {
                supervisor,
                child,
                reason,
                ..
            } => {
                let reason = Some(reason_text(&reason));
                self.push(at, "shutdown_error", supervisor, child, reason);
            }
            _ => {}
        }
    }

    fn not_ignored(&mut self, path: &str) {
        if self.ignored.contains(path) {
            Arc::make_mut(&mut self.ignored).remove(path);
        }
    }

    fn push(
        &mut self,
        at: Instant,
        kind: &'static str,
        supervisor: Arc<str>,
        child: Arc<str>,
        reason: Option<Arc<str>>,
    ) {
        self.seq += 1;
        let wall = wall_of(at);
        let timeline = Arc::make_mut(&mut self.timeline);
        if timeline.len() == TIMELINE {
            timeline.pop_front();
        }
        timeline.push_back(Entry {
            seq: self.seq,
            wall,
            kind,
            supervisor,
            child,
            reason,
        });
    }
}

fn reason_text(reason: &ExitReason) -> Arc<str> {
    reason.to_string().into()
}

/// The wall-clock time of `at`, on tokio's clock.
fn wall_of(at: Instant) -> SystemTime {
    let ago = Instant::now().saturating_duration_since(at);
    let now = SystemTime::now();
    now.checked_sub(ago).unwrap_or(now)
}

/// The shutdown policies of the children, which a snapshot does not carry,
/// asked of their supervisors: a static supervisor's (`get_childspec`)
/// when its children change, a `simple_one_for_one` supervisor's template
/// once, and a dynamic supervisor's children by reference
/// (`get_childspec_ref`), at most [`ASK`] new ones per picture, so that a
/// supervisor of 10,000 children is known after a few pictures, not at
/// the cost of one; once a look finds nothing new, it is not scanned again
/// for [`LOOK_AGAIN`].
#[derive(Debug, Default)]
pub(super) struct SpecCache {
    shutdowns: Arc<HashMap<Arc<str>, Shutdown>>,
    /// The children's ids of each static supervisor, as last asked.
    asked: HashMap<Arc<str>, Vec<Arc<str>>>,
    /// When each dynamic supervisor was last looked at, and whether that
    /// found any child's spec.
    looked: HashMap<Arc<str>, (Instant, bool)>,
}

/// The most children of one dynamic supervisor asked for per picture.
const ASK: usize = 256;

/// A dynamic supervisor whose last look found nothing new (every child
/// known, or the unknown ones not running) is looked at again after this:
/// its children are not scanned at every picture.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

impl SpecCache {
    pub(super) async fn refresh(
        &mut self,
        tree: &SupervisorHandle,
        root: &SupervisorSnapshot,
    ) -> Arc<HashMap<Arc<str>, Shutdown>> {
        let mut supervisors = vec![root];
        while let Some(sup) = supervisors.pop() {
            supervisors.extend(sup.children.iter().filter_map(|c| c.supervisor.as_ref()));
            match sup.kind {
                SupervisorKind::Static(_) => self.ask_static(tree, sup).await,
                SupervisorKind::SimpleOneForOne | SupervisorKind::Dynamic => {
                    self.ask_dynamic(tree, sup).await;
                }
            }
        }
        if self.shutdowns.len() > 100_000 {
            // Children come and go under dynamic supervisors: start afresh
            // rather than keep the paths of the gone ones.
            self.shutdowns = Arc::default();
            self.asked.clear();
            self.looked.clear();
        }
        self.shutdowns.clone()
    }

    async fn ask_static(&mut self, tree: &SupervisorHandle, sup: &SupervisorSnapshot) {
        let ids: Vec<Arc<str>> = sup.children.iter().map(|c| c.id.clone()).collect();
        if ids.is_empty() || self.asked.get(&sup.path).is_some_and(|asked| *asked == ids) {
            return;
        }
        let Some(handle) = find_supervisor(tree, &sup.path).await else {
            return;
        };
        let mut found = Vec::with_capacity(ids.len());
        for (id, child) in ids.iter().zip(&sup.children) {
            if let Ok(info) = handle.get_childspec(id).await {
                found.push((child.path.clone(), info.shutdown));
            }
        }
        Arc::make_mut(&mut self.shutdowns).extend(found);
        self.asked.insert(sup.path.clone(), ids);
    }

    async fn ask_dynamic(&mut self, tree: &SupervisorHandle, sup: &SupervisorSnapshot) {
        if let Some((at, found)) = self.looked.get(&sup.path) {
            if !found && at.elapsed() < LOOK_AGAIN {
                return;
            }
        }
        let found = self.look(tree, sup).await;
        self.looked
            .insert(sup.path.clone(), (Instant::now(), found));
    }

    /// Asks for the specs of up to [`ASK`] children not known yet; whether
    /// it found any.
    async fn look(&mut self, tree: &SupervisorHandle, sup: &SupervisorSnapshot) -> bool {
        let mut unknown: HashSet<&str> = HashSet::new();
        for child in &sup.children {
            if !self.shutdowns.contains_key(&child.path) {
                unknown.insert(&child.path);
                if unknown.len() == ASK {
                    break;
                }
            }
        }
        if unknown.is_empty() {
            return false;
        }
        let Some(handle) = find_supervisor(tree, &sup.path).await else {
            return false;
        };
        let Ok(children) = handle.which_children().await else {
            return false;
        };
        let mut found = Vec::new();
        for info in children {
            let ChildStatus::Running(child) = info.status else {
                continue;
            };
            if unknown.remove(child.path()) {
                if let Ok(info) = handle.get_childspec_ref(&child).await {
                    found.push((Arc::from(child.path()), info.shutdown));
                }
                if unknown.is_empty() {
                    break;
                }
            }
        }
        let any = !found.is_empty();
        Arc::make_mut(&mut self.shutdowns).extend(found);
        any
    }
}

/// The handle of the supervisor at `path` in `tree`, found through the
/// running supervisors on the way down.
pub(super) async fn find_supervisor(
    tree: &SupervisorHandle,
    path: &str,
) -> Option<SupervisorHandle> {
    let mut current = tree.clone();
    loop {
        if current.path() == path {
            return Some(current);
        }
        let children = current.which_children().await.ok()?;
        current = children.into_iter().find_map(|info| match info.status {
            ChildStatus::Running(child) if is_below(path, child.path()) => child.supervisor(),
            _ => None,
        })?;
    }
}

/// `path` is `ancestor` or below it.
pub(super) fn is_below(path: &str, ancestor: &str) -> bool {
    path.strip_prefix(ancestor)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
