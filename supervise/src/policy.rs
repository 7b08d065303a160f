//! The values of a child spec and of a supervisor's flags, each parseable
//! from the text OTP and Elixir use for it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use crate::error::ParseSpecError;

/// When a terminated child is restarted (OTP's `restart` key).
///
/// # Examples
///
/// ```
/// use supervise::Restart;
///
/// assert_eq!("transient".parse::<Restart>().unwrap(), Restart::Transient);
/// assert!("forever".parse::<Restart>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, whatever the exit reason (OTP's default).
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit: not after `normal`, `shutdown`
    /// or `{shutdown, _}`. A *killed* child is restarted.
    Transient,
    /// Never restarted; removed from its supervisor when it exits.
    Temporary,
}

/// How a supervisor stops a child (OTP's `shutdown` key).
///
/// Parses from `brutal_kill`, `infinity`, a whole number of milliseconds
/// (`5000`, as in OTP) or a number with a unit (`500ms`, `5s`, `1m`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use supervise::Shutdown;
///
/// assert_eq!("5000".parse::<Shutdown>().unwrap(), Shutdown::Timeout(Duration::from_secs(5)));
/// assert_eq!("brutal_kill".parse::<Shutdown>().unwrap(), Shutdown::BrutalKill);
/// assert!("-1".parse::<Shutdown>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Abort the child at once; it exits with reason *killed*.
    BrutalKill,
    /// Ask the child to stop, and abort it if it has not exited after this
    /// long (it is then reported as *killed*, a shutdown error). `0` is legal:
    /// a child that handles shutdown is aborted at once.
    Timeout(Duration),
    /// Ask the child to stop and wait for as long as it takes (the default
    /// for supervisors).
    Infinity,
}

impl Shutdown {
    /// The default for workers: five seconds, as in OTP.
    pub const DEFAULT_WORKER: Shutdown = Shutdown::Timeout(Duration::from_secs(5));

    /// When a child told to stop at `now` is killed: `None` for no deadline.
    /// A timeout too long to be added to the clock (`Duration::MAX`) has no
    /// deadline, as `Infinity`; a `BrutalKill` child is not waited for.
    pub(crate) fn deadline(self, now: tokio::time::Instant) -> Option<tokio::time::Instant> {
        match self {
            Shutdown::Timeout(limit) => now.checked_add(limit),
            Shutdown::BrutalKill | Shutdown::Infinity => None,
        }
    }
}

/// Whether a child is a worker or a supervisor (OTP's `type` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChildKind {
    /// A worker: any task that is not a supervisor.
    #[default]
    Worker,
    /// A nested supervisor.
    Supervisor,
}

/// Which children a supervisor restarts when one of them must be restarted.
///
/// # Examples
///
/// ```
/// use supervise::Strategy;
///
/// assert_eq!("rest_for_one".parse::<Strategy>().unwrap(), Strategy::RestForOne);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Only the child that exited is restarted.
    #[default]
    OneForOne,
    /// All children are stopped (in reverse start order) and started again.
    OneForAll,
    /// The child that exited and every child started after it are stopped
    /// (in reverse order) and started again.
    RestForOne,
}

/// When a supervisor stops by itself because of its significant children
/// (OTP 24's `auto_shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AutoShutdown {
    /// Significant children are not allowed; nothing happens.
    #[default]
    Never,
    /// Stop as soon as any significant child exits and is not restarted.
    AnySignificant,
    /// Stop when no significant child is left running.
    AllSignificant,
}

/// A supervisor's restart intensity: at most `max_restarts` automatic
/// restarts within any window of `period`; one more and it gives up.
///
/// The window is exact and sliding (see the crate docs for how it differs
/// from OTP's whole seconds). Its edge is inclusive, as OTP's `>=` is: a
/// restart exactly `period` ago still counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// Restarts tolerated within `period` (OTP's `intensity`, Elixir's `max_restarts`).
    pub max_restarts: u32,
    /// The window (OTP's `period`, Elixir's `max_seconds`). Must not be zero.
    pub period: Duration,
}

impl Default for Intensity {
    /// Elixir's defaults: 3 restarts within 5 seconds.
    fn default() -> Self {
        Intensity {
            max_restarts: 3,
            period: Duration::from_secs(5),
        }
    }
}

// ===== parsing =====

fn parse_err(key: &'static str, value: &str, expected: &'static str) -> ParseSpecError {
    ParseSpecError {
        key,
        value: value.to_owned(),
        expected,
    }
}

impl FromStr for Restart {
    type Err = ParseSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "permanent" => Ok(Restart::Permanent),
            "transient" => Ok(Restart::Transient),
            "temporary" => Ok(Restart::Temporary),
            _ => Err(parse_err(
                "restart",
                s,
                "one of `permanent`, `transient`, `temporary`",
            )),
        }
    }
}

impl FromStr for Strategy {
    type Err = ParseSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "one_for_one" => Ok(Strategy::OneForOne),
            "one_for_all" => Ok(Strategy::OneForAll),
            "rest_for_one" => Ok(Strategy::RestForOne),
            _ => Err(parse_err(
                "strategy",
                s,
                "one of `one_for_one`, `one_for_all`, `rest_for_one` \
                 (for `simple_one_for_one`, use a `DynamicSupervisor`)",
            )),
        }
    }
}

impl FromStr for AutoShutdown {
    type Err = ParseSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "never" => Ok(AutoShutdown::Never),
            "any_significant" => Ok(AutoShutdown::AnySignificant),
            "all_significant" => Ok(AutoShutdown::AllSignificant),
            _ => Err(parse_err(
                "auto_shutdown",
                s,
                "one of `never`, `any_significant`, `all_significant`",
            )),
        }
    }
}

impl FromStr for ChildKind {
    type Err = ParseSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "worker" => Ok(ChildKind::Worker),
            "supervisor" => Ok(ChildKind::Supervisor),
            _ => Err(parse_err("type", s, "one of `worker`, `supervisor`")),
        }
    }
}

impl FromStr for Shutdown {
    type Err = ParseSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "brutal_kill" => Ok(Shutdown::BrutalKill),
            "infinity" => Ok(Shutdown::Infinity),
            _ => parse_duration(s).map(Shutdown::Timeout).map_err(|_| {
                parse_err(
                    "shutdown",
                    s,
                    "`brutal_kill`, `infinity`, a whole number of milliseconds \
                     (`5000`) or a duration (`500ms`, `5s`)",
                )
            }),
        }
    }
}

/// Parses a significant flag as OTP writes it: `true` or `false`.
///
/// # Examples
///
/// ```
/// assert_eq!(supervise::parse_significant("true").unwrap(), true);
/// assert!(supervise::parse_significant("yes").is_err());
/// ```
pub fn parse_significant(s: &str) -> Result<bool, ParseSpecError> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(parse_err("significant", s, "`true` or `false`")),
    }
}

/// Parses `max_restarts` (OTP's `intensity`): a whole number, zero allowed.
///
/// # Examples
///
/// ```
/// assert_eq!(supervise::parse_max_restarts("0").unwrap(), 0);
/// assert!(supervise::parse_max_restarts("-1").is_err());
/// ```
pub fn parse_max_restarts(s: &str) -> Result<u32, ParseSpecError> {
    s.parse::<u32>()
        .map_err(|_| parse_err("max_restarts", s, "a whole number, 0 or more"))
}

/// Parses a restart period: a whole number of **seconds** (`5`, as OTP's
/// `period` and Elixir's `max_seconds`) or a duration with a unit (`500ms`).
/// Zero is rejected when the supervisor is built, not here.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// assert_eq!(supervise::parse_period("5").unwrap(), Duration::from_secs(5));
/// assert_eq!(supervise::parse_period("250ms").unwrap(), Duration::from_millis(250));
/// assert!(supervise::parse_period("-5").is_err());
/// ```
pub fn parse_period(s: &str) -> Result<Duration, ParseSpecError> {
    let expected = "a whole number of seconds (`5`) or a duration (`500ms`, `2s`)";
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    parse_duration(s).map_err(|_| parse_err("max_seconds", s, expected))
}

/// Parses a duration: a whole number of milliseconds, or a number followed
/// by `ms`, `s` or `m`.
fn parse_duration(s: &str) -> Result<Duration, ()> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() {
        return Err(());
    }
    let n: u64 = num.parse().map_err(|_| ())?;
    match unit {
        "" | "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs).ok_or(()),
        _ => Err(()),
    }
}

// ===== Display: the OTP spelling =====

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Restart::Permanent => "permanent",
            Restart::Transient => "transient",
            Restart::Temporary => "temporary",
        })
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
        })
    }
}

impl fmt::Display for AutoShutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AutoShutdown::Never => "never",
            AutoShutdown::AnySignificant => "any_significant",
            AutoShutdown::AllSignificant => "all_significant",
        })
    }
}

impl fmt::Display for ChildKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChildKind::Worker => "worker",
            ChildKind::Supervisor => "supervisor",
        })
    }
}

impl fmt::Display for Shutdown {
    /// `brutal_kill`, `infinity` or the timeout in milliseconds, as OTP writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shutdown::BrutalKill => f.write_str("brutal_kill"),
            Shutdown::Infinity => f.write_str("infinity"),
            Shutdown::Timeout(d) => write!(f, "{}", d.as_millis()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_accepts_otp_and_unit_forms() {
        assert_eq!(
            "0".parse::<Shutdown>().unwrap(),
            Shutdown::Timeout(Duration::ZERO)
        );
        assert_eq!(
            "500ms".parse::<Shutdown>().unwrap(),
            Shutdown::Timeout(Duration::from_millis(500))
        );
        assert_eq!(
            "2s".parse::<Shutdown>().unwrap(),
            Shutdown::Timeout(Duration::from_secs(2))
        );
        assert_eq!("infinity".parse::<Shutdown>().unwrap(), Shutdown::Infinity);
        for bad in ["-1", "", "5h", "ms", "kill"] {
            let err = bad.parse::<Shutdown>().unwrap_err();
            assert_eq!(err.key, "shutdown");
            assert_eq!(err.value, bad);
        }
    }

    #[test]
    fn values_round_trip_through_display() {
        for s in ["permanent", "transient", "temporary"] {
            assert_eq!(s.parse::<Restart>().unwrap().to_string(), s);
        }
        for s in ["one_for_one", "one_for_all", "rest_for_one"] {
            assert_eq!(s.parse::<Strategy>().unwrap().to_string(), s);
        }
        for s in ["never", "any_significant", "all_significant"] {
            assert_eq!(s.parse::<AutoShutdown>().unwrap().to_string(), s);
        }
        for s in ["brutal_kill", "infinity", "300"] {
            assert_eq!(s.parse::<Shutdown>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejected_values_say_what_is_accepted() {
        let err = "forever".parse::<Restart>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid restart `forever`: expected one of `permanent`, `transient`, `temporary`"
        );
        assert!(parse_max_restarts("1.5").is_err());
        assert!(parse_significant("maybe").is_err());
        assert!("one_for_none".parse::<Strategy>().is_err());
    }
}
