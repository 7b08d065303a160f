//! Restart intensity bookkeeping on an exact sliding window.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::policy::Intensity;

/// Restarts closer together than this share one entry of a window.
const GRAIN: Duration = Duration::from_millis(1);

/// The restarts inside the current window, oldest first, counted per
/// millisecond.
///
/// Restarts less than a millisecond after the first of a group share that
/// group's entry (its time and a count), and the group leaves the window
/// when its first restart does: a restart that came up to 1 ms later is
/// forgotten at most 1 ms early. Everything else is exact. So the memory is
/// bounded by the period as well as by `max_restarts`: at most
/// `min(max_restarts + 1, period / 1 ms + 1)` entries, however high
/// `max_restarts` is and however fast a child fails (a crash loop under
/// `max_restarts = u32::MAX` keeps one entry per millisecond of the
/// period). Each restart pushes or bumps one entry and pops the ones that
/// left the window: O(1) amortised, where OTP copies its list on every
/// restart.
#[derive(Debug, Default)]
pub(crate) struct RestartWindow {
    groups: VecDeque<(Instant, u32)>,
    /// The sum of the groups' counts.
    total: u64,
}

impl RestartWindow {
    /// Records a restart at `now` under `intensity`. Returns false when it
    /// is one more than `max_restarts` within the window (the window's
    /// edge is inclusive).
    pub(crate) fn add(&mut self, intensity: &Intensity, now: Instant) -> bool {
        self.expire(intensity, now);
        match self.groups.back_mut() {
            Some((first, count)) if now.saturating_duration_since(*first) < GRAIN => {
                *count = count.saturating_add(1);
            }
            _ => {
                // A child's own history (which no give-up ends) keeps no
                // more entries than the supervisor's window could hold.
                if self.groups.len() > intensity.max_restarts as usize {
                    if let Some((_, count)) = self.groups.pop_front() {
                        self.total -= u64::from(count);
                    }
                }
                self.groups.push_back((now, 1));
            }
        }
        self.total += 1;
        self.total <= u64::from(intensity.max_restarts)
    }

    /// Restarts counted in the window that ends at `now`.
    pub(crate) fn count(&self, intensity: &Intensity, now: Instant) -> usize {
        self.groups
            .iter()
            .filter(|(t, _)| now.saturating_duration_since(*t) <= intensity.period)
            .map(|&(_, n)| n as usize)
            .sum()
    }

    /// Drops the groups that left the window ending at `now`.
    fn expire(&mut self, intensity: &Intensity, now: Instant) {
        while let Some(&(first, count)) = self.groups.front() {
            if now.saturating_duration_since(first) > intensity.period {
                self.groups.pop_front();
                self.total -= u64::from(count);
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window and its intensity.
    struct W(RestartWindow, Intensity);

    impl W {
        fn add(&mut self, now: Instant) -> bool {
            self.0.add(&self.1, now)
        }
    }

    fn window(max: u32, ms: u64) -> W {
        W(
            RestartWindow::default(),
            Intensity {
                max_restarts: max,
                period: Duration::from_millis(ms),
            },
        )
    }

    #[test]
    fn exactly_max_restarts_survive_and_one_more_gives_up() {
        let t0 = Instant::now();
        let mut w = window(3, 5000);
        for i in 0..3 {
            assert!(w.add(t0 + Duration::from_millis(i * 100)));
        }
        assert!(!w.add(t0 + Duration::from_millis(300)));
    }

    #[test]
    fn zero_intensity_gives_up_on_the_first_restart() {
        assert!(!window(0, 1000).add(Instant::now()));
    }

    #[test]
    fn the_window_edge_is_inclusive_and_slides_exactly() {
        let t0 = Instant::now();
        let mut w = window(1, 1000);
        assert!(w.add(t0));
        // exactly one period later the first restart still counts
        assert!(!w.add(t0 + Duration::from_millis(1000)));
        let mut w = window(1, 1000);
        assert!(w.add(t0));
        // one millisecond past the period it has left the window
        assert!(w.add(t0 + Duration::from_millis(1001)));
    }

    #[test]
    fn memory_stays_bounded_by_max_restarts() {
        let t0 = Instant::now();
        let mut w = window(10, 1);
        for i in 0..10_000u64 {
            w.add(t0 + Duration::from_millis(i * 2));
        }
        assert!(w.0.groups.len() <= 11);
    }

    #[test]
    fn memory_stays_bounded_by_the_period_under_a_huge_max_restarts() {
        let t0 = Instant::now();
        let mut w = window(u32::MAX, 100);
        // A million restarts a second, for two seconds.
        for i in 0..2_000_000u64 {
            assert!(w.add(t0 + Duration::from_micros(i)));
        }
        assert!(w.0.groups.len() <= 101, "{}", w.0.groups.len());
        assert_eq!(
            w.0.count(&w.1, t0 + Duration::from_micros(1_999_999)),
            100_000
        );
    }

    #[test]
    fn restarts_within_a_millisecond_count_one_by_one() {
        let t0 = Instant::now();
        let mut w = window(3, 1000);
        for i in 0..3 {
            assert!(w.add(t0 + Duration::from_micros(i * 100)));
        }
        assert!(!w.add(t0 + Duration::from_micros(300)));
        assert_eq!(w.0.groups.len(), 1);
    }
}
