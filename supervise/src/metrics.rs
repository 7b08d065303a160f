//! Metrics through the `metrics` crate's facade, behind the `metrics`
//! feature (without it, every function here compiles to nothing).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `supervise_children_running` | gauge | `supervisor` |
//! | `supervise_restarts_total` | counter | `child` (the path; `supervisor/*` for dynamic children) |
//! | `supervise_intensity_give_ups_total` | counter | `supervisor` |
//! | `supervise_shutdown_errors_total` | counter | `supervisor` |
//! | `supervise_child_start_seconds` | histogram | `supervisor` |
//! | `supervise_messages_dropped_total` | counter | `supervisor` |

/// What a metric needs of a child: its path, read only when a metric is
/// recorded (a dynamic child's path is joined on first read). The child
/// module implements it, so that this module imports nothing of it.
pub(crate) trait Labelled {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn path(&self) -> &str;
}

#[cfg(feature = "metrics")]
mod imp {
    use std::time::Duration;

    use super::Labelled;

    /// Times a child's init (only with the feature: no clock read without it).
    pub(crate) struct StartTimer(std::time::Instant);

    impl StartTimer {
        pub(crate) fn start() -> Self {
            StartTimer(std::time::Instant::now())
        }
    }

    pub(crate) fn child_started(child: &impl Labelled, timer: StartTimer) {
        child_started_after(child.path(), timer.0.elapsed())
    }

    fn parent(path: &str) -> String {
        path.rsplit_once('/').map_or("", |(p, _)| p).to_owned()
    }

    fn child_started_after(path: &str, init: Duration) {
        let supervisor = parent(path);
        metrics::gauge!("supervise_children_running", "supervisor" => supervisor.clone())
            .increment(1.0);
        metrics::histogram!("supervise_child_start_seconds", "supervisor" => supervisor)
            .record(init.as_secs_f64());
    }

    pub(crate) fn child_exited(child: &impl Labelled) {
        metrics::gauge!("supervise_children_running", "supervisor" => parent(child.path()))
            .decrement(1.0);
    }

    pub(crate) fn restart(path: &str) {
        metrics::counter!("supervise_restarts_total", "child" => path.to_owned()).increment(1);
    }

    pub(crate) fn dynamic_restart(supervisor: &str) {
        metrics::counter!("supervise_restarts_total", "child" => format!("{supervisor}/*"))
            .increment(1);
    }

    pub(crate) fn messages_dropped(child: &impl Labelled, count: usize) {
        metrics::counter!("supervise_messages_dropped_total", "supervisor" => parent(child.path()))
            .increment(count as u64);
    }

    pub(crate) fn give_up(supervisor: &str) {
        metrics::counter!("supervise_intensity_give_ups_total", "supervisor" => supervisor.to_owned())
            .increment(1);
    }

    pub(crate) fn shutdown_error(supervisor: &str) {
        metrics::counter!("supervise_shutdown_errors_total", "supervisor" => supervisor.to_owned())
            .increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
mod imp {
    use super::Labelled;

    /// Nothing to time without the feature.
    pub(crate) struct StartTimer;

    impl StartTimer {
        #[inline(always)]
        pub(crate) fn start() -> Self {
            StartTimer
        }
    }

    #[inline(always)]
    pub(crate) fn child_started(_child: &impl Labelled, _timer: StartTimer) {}
    #[inline(always)]
    pub(crate) fn child_exited(_child: &impl Labelled) {}
    #[inline(always)]
    pub(crate) fn restart(_path: &str) {}
    #[inline(always)]
    pub(crate) fn dynamic_restart(_supervisor: &str) {}
    #[inline(always)]
    pub(crate) fn messages_dropped(_child: &impl Labelled, _count: usize) {}
    #[inline(always)]
    pub(crate) fn give_up(_supervisor: &str) {}
    #[inline(always)]
    pub(crate) fn shutdown_error(_supervisor: &str) {}
}

pub(crate) use imp::*;
