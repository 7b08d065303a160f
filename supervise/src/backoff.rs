//! Restart backoff: an optional delay before a restart, which OTP lacks.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A delay before each automatic restart of a child: fixed, or exponential
/// (doubling from `base` up to `max`), optionally with jitter, and reset
/// after the child has run for a quiet period.
///
/// A restart that waits still counts toward the restart intensity, when it
/// is decided (so a crash loop still gives up at the intensity limit);
/// while it waits, the child shows as restarting to the control API. The
/// timer is cancelled by `terminate_child` and by the supervisor's
/// shutdown. Without a backoff, restarts are immediate, exactly as OTP's.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use supervise::Backoff;
///
/// let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(10))
///     .reset_after(Duration::from_secs(60));
/// assert_eq!(backoff.delay(0), Duration::from_millis(100));
/// assert_eq!(backoff.delay(3), Duration::from_millis(800));
/// assert_eq!(backoff.delay(20), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    exponential: bool,
    jitter: f64,
    reset_after: Option<Duration>,
}

impl Backoff {
    /// The same delay before every restart.
    pub fn fixed(delay: Duration) -> Self {
        Backoff {
            base: delay,
            max: delay,
            exponential: false,
            jitter: 0.0,
            reset_after: None,
        }
    }

    /// `base` before the first restart, doubling for each consecutive one,
    /// never more than `max`.
    pub fn exponential(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            exponential: true,
            jitter: 0.0,
            reset_after: None,
        }
    }

    /// Spreads each delay uniformly within `± fraction` of itself (clamped
    /// to `0.0..=1.0`), so that children crashing together do not restart
    /// together. A NaN fraction means no jitter; an infinite one, full
    /// jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervise::Backoff;
    ///
    /// let fixed = Backoff::fixed(Duration::from_secs(1));
    /// assert_eq!(fixed.jitter(f64::NAN), fixed);
    /// assert_eq!(fixed.jitter(f64::INFINITY), fixed.jitter(1.0));
    /// ```
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// Starts over from the first delay once the child has run this long
    /// without being restarted.
    pub fn reset_after(mut self, quiet: Duration) -> Self {
        self.reset_after = Some(quiet);
        self
    }

    /// The delay before the restart that follows `consecutive` earlier
    /// consecutive restarts, without jitter.
    pub fn delay(&self, consecutive: u32) -> Duration {
        if !self.exponential {
            return self.base;
        }
        let factor = 1u32.checked_shl(consecutive.min(31)).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }

    fn jittered(&self, delay: Duration) -> Duration {
        if self.jitter == 0.0 {
            return delay;
        }
        let spread = 1.0 - self.jitter + 2.0 * self.jitter * fastrand::f64();
        // Saturates: a delay near `Duration::MAX` stays there.
        Duration::try_from_secs_f64(delay.as_secs_f64() * spread).unwrap_or(Duration::MAX)
    }
}

/// Per child: how many restarts in a row, and since when it has run.
#[derive(Debug, Default)]
pub(crate) struct BackoffState {
    consecutive: u32,
    started_at: Option<Instant>,
}

impl BackoffState {
    pub(crate) fn started(&mut self, now: Instant) {
        self.started_at = Some(now);
    }

    /// The delay before the next restart, counting it.
    pub(crate) fn next_delay(&mut self, backoff: &Backoff, now: Instant) -> Duration {
        if let (Some(quiet), Some(since)) = (backoff.reset_after, self.started_at) {
            if now.saturating_duration_since(since) >= quiet {
                self.consecutive = 0;
            }
        }
        let delay = backoff.jittered(backoff.delay(self.consecutive));
        self.consecutive = self.consecutive.saturating_add(1);
        delay
    }
}

/// A scheduled restart: its timer task is aborted when this is dropped, so
/// that no timer outlives a `terminate_child` or a shutdown.
#[derive(Debug)]
pub(crate) struct PendingRestart {
    pub(crate) until: Instant,
    timer: JoinHandle<()>,
}

/// How far away a delay too long for the clock is due (about 30 years, as
/// tokio's own "far future"): in practice, never.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

impl PendingRestart {
    /// Calls `fire` after `delay`. A delay too long to be added to the clock
    /// (`Duration::MAX`) saturates: the restart is due in about 30 years.
    pub(crate) fn schedule(delay: Duration, fire: impl FnOnce() + Send + 'static) -> Self {
        let now = Instant::now();
        let until = now.checked_add(delay).unwrap_or_else(|| now + FAR_FUTURE);
        let timer = tokio::spawn(async move {
            tokio::time::sleep_until(until).await;
            fire();
        });
        PendingRestart { until, timer }
    }
}

impl Drop for PendingRestart {
    fn drop(&mut self) {
        self.timer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_doubles_and_caps() {
        let b = Backoff::exponential(Duration::from_millis(10), Duration::from_millis(100));
        let delays: Vec<u64> = (0..6).map(|n| b.delay(n).as_millis() as u64).collect();
        assert_eq!(delays, [10, 20, 40, 80, 100, 100]);
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(100));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let b = Backoff::fixed(Duration::from_millis(1000)).jitter(0.25);
        for _ in 0..1000 {
            let d = b.jittered(b.delay(0)).as_millis();
            assert!((750..=1250).contains(&d), "{d}");
        }
    }

    #[test]
    fn extreme_values_saturate() {
        let b = Backoff::fixed(Duration::MAX).jitter(0.5);
        for _ in 0..100 {
            let d = b.jittered(b.delay(0));
            assert!(d >= Duration::MAX / 3, "{d:?}");
        }
        let b = Backoff::fixed(Duration::from_secs(1)).jitter(f64::NAN);
        assert_eq!(b.jittered(b.delay(0)), Duration::from_secs(1));
        let b = Backoff::exponential(Duration::MAX, Duration::ZERO);
        assert_eq!(b.delay(40), Duration::MAX);
    }

    #[tokio::test(start_paused = true)]
    async fn a_delay_too_long_for_the_clock_is_far_away_and_never_fires() {
        let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = fired.clone();
        let pending = PendingRestart::schedule(Duration::MAX, move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst)
        });
        assert!(pending.until > Instant::now() + Duration::from_secs(86_400 * 365 * 29));
        tokio::time::sleep(Duration::from_secs(86_400 * 365)).await;
        assert!(!fired.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn state_resets_after_a_quiet_period() {
        let b = Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1))
            .reset_after(Duration::from_secs(5));
        let t0 = Instant::now();
        let mut s = BackoffState::default();
        s.started(t0);
        assert_eq!(s.next_delay(&b, t0), Duration::from_millis(10));
        assert_eq!(s.next_delay(&b, t0), Duration::from_millis(20));
        s.started(t0);
        assert_eq!(
            s.next_delay(&b, t0 + Duration::from_secs(5)),
            Duration::from_millis(10)
        );
    }
}
