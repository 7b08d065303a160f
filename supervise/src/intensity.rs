//! Restart intensity bookkeeping on an exact sliding window.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::spec::Intensity;

/// The times of the restarts inside the current window, oldest first.
///
/// Never holds more than `max_restarts + 1` entries, and each restart
/// pushes one and pops at most the ones that left the window: O(1)
/// amortised, where OTP copies its list on every restart.
#[derive(Debug)]
pub(crate) struct RestartWindow {
    max_restarts: u32,
    period: Duration,
    times: VecDeque<Instant>,
}

impl RestartWindow {
    pub(crate) fn new(intensity: Intensity) -> Self {
        RestartWindow {
            max_restarts: intensity.max_restarts,
            period: intensity.period,
            times: VecDeque::new(),
        }
    }

    /// Records a restart at `now`. Returns false when it is one more than
    /// `max_restarts` within the window (the window's edge is inclusive).
    pub(crate) fn add(&mut self, now: Instant) -> bool {
        while let Some(&oldest) = self.times.front() {
            if now.saturating_duration_since(oldest) > self.period {
                self.times.pop_front();
            } else {
                break;
            }
        }
        self.times.push_back(now);
        self.times.len() <= self.max_restarts as usize
    }

    /// Restarts counted in the window that ends at `now`.
    pub(crate) fn count(&self, now: Instant) -> usize {
        self.times
            .iter()
            .filter(|&&t| now.saturating_duration_since(t) <= self.period)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(max: u32, ms: u64) -> RestartWindow {
        RestartWindow::new(Intensity {
            max_restarts: max,
            period: Duration::from_millis(ms),
        })
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
        assert!(w.times.len() <= 11);
    }
}
