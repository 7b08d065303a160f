//! The supervision rules OTP decides by, as pure functions of plain values
//! (docs/OTP-RULES.md). Both engines, static and dynamic, call these and
//! nothing else to decide; a change to a rule is a change here.
//!
//! This module imports no engine: only the spec values, exit reasons and
//! spec errors.

use crate::error::SpecError;
use crate::exit::ExitReason;
use crate::policy::{AutoShutdown, Restart, Shutdown};

/// S5, S8 (OTP's `check_childspec`): the checks of one child that do not
/// depend on its siblings. `auto_shutdown` is `None` where the
/// supervisor's is not known, as in OTP's `check_childspecs/1`. An id may
/// be any string but one holding `/`, which separates a path's parts.
pub(crate) fn check_child(
    id: &str,
    restart: Restart,
    significant: bool,
    auto_shutdown: Option<AutoShutdown>,
) -> Result<(), SpecError> {
    if id.contains('/') {
        return Err(SpecError::InvalidId { id: id.into() });
    }
    if significant {
        if auto_shutdown == Some(AutoShutdown::Never) {
            return Err(SpecError::SignificantWithoutAutoShutdown { id: id.into() });
        }
        if restart == Restart::Permanent {
            return Err(SpecError::SignificantPermanent { id: id.into() });
        }
    }
    Ok(())
}

/// A supervisor's name is the first part of every path below it: any
/// string but one holding `/`, which separates the parts.
pub(crate) fn check_name(name: &str) -> Result<(), SpecError> {
    if name.contains('/') {
        return Err(SpecError::InvalidName { name: name.into() });
    }
    Ok(())
}

/// What becomes of a child that exited by itself (OTP's `do_restart`,
/// S10, S11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterExit {
    /// Restarted (by the supervisor's strategy): a permanent child, or a
    /// transient one that exited abnormally.
    Restart,
    /// Not restarted, and its spec kept (a static supervisor's transient
    /// child that exited normally; a dynamic supervisor forgets it).
    Keep,
    /// Not restarted, and forgotten: a temporary child, whatever the reason.
    Forget,
}

/// S10, S11: what to do after `restart`'s child exited with `reason`.
pub(crate) fn after_exit(restart: Restart, reason: &ExitReason) -> AfterExit {
    match restart {
        Restart::Permanent => AfterExit::Restart,
        Restart::Transient if reason.is_normal() => AfterExit::Keep,
        Restart::Transient => AfterExit::Restart,
        Restart::Temporary => AfterExit::Forget,
    }
}

/// S12: whether the supervisor reports the exit (`child_terminated`): any
/// exit of a permanent child, any abnormal exit of the others.
pub(crate) fn is_reported(restart: Restart, reason: &ExitReason) -> bool {
    restart == Restart::Permanent || !reason.is_normal()
}

/// S22: whether a significant child's exit for good stops the supervisor,
/// given whether a significant child is still running.
pub(crate) fn auto_shutdown_fires(
    auto_shutdown: AutoShutdown,
    significant: bool,
    significant_left: bool,
) -> bool {
    significant
        && match auto_shutdown {
            AutoShutdown::Never => false,
            AutoShutdown::AnySignificant => true,
            AutoShutdown::AllSignificant => !significant_left,
        }
}

/// S19: whether `reason` is what a child stopped by `shutdown` is expected
/// to exit with (anything else is a shutdown error): `shutdown` (`killed`
/// for `brutal_kill`), and for a child that is not permanent also `normal`
/// and `{shutdown, _}`.
pub(crate) fn expected_at_shutdown(
    shutdown: Shutdown,
    restart: Restart,
    reason: &ExitReason,
) -> bool {
    let lenient = restart != Restart::Permanent
        && matches!(
            reason,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        );
    match shutdown {
        Shutdown::BrutalKill => matches!(reason, ExitReason::Killed) || lenient,
        Shutdown::Timeout(_) | Shutdown::Infinity => {
            matches!(reason, ExitReason::Shutdown) || lenient
        }
    }
}

/// S19 as Elixir 1.14's `DynamicSupervisor` has it (its `wait_child`),
/// which a dynamic supervisor without a template follows: under
/// `brutal_kill` only `killed` is expected; otherwise `shutdown` and
/// `{shutdown, _}` from every child, a permanent one included, and
/// `normal` from one that is not permanent.
pub(crate) fn expected_at_elixir_shutdown(
    shutdown: Shutdown,
    restart: Restart,
    reason: &ExitReason,
) -> bool {
    match shutdown {
        Shutdown::BrutalKill => matches!(reason, ExitReason::Killed),
        Shutdown::Timeout(_) | Shutdown::Infinity => match reason {
            ExitReason::Shutdown | ExitReason::ShutdownWith(_) => true,
            ExitReason::Normal => restart != Restart::Permanent,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn reasons() -> [(&'static str, ExitReason); 6] {
        [
            ("normal", ExitReason::Normal),
            ("shutdown", ExitReason::Shutdown),
            ("{shutdown,x}", ExitReason::shutdown_with("x")),
            ("killed", ExitReason::Killed),
            ("error", ExitReason::error("boom")),
            (
                "panic",
                ExitReason::Panic(std::sync::Arc::new(crate::PanicReason {
                    message: "boom".into(),
                    location: None,
                })),
            ),
        ]
    }

    /// S10, S11, S12: every restart type against every exit reason.
    #[test]
    fn after_exit_and_reporting_by_restart_type_and_reason() {
        const RESTART: AfterExit = AfterExit::Restart;
        const KEEP: AfterExit = AfterExit::Keep;
        const FORGET: AfterExit = AfterExit::Forget;
        let table: [(Restart, [(AfterExit, bool); 6]); 3] = [
            // normal, shutdown, {shutdown,x}, killed, error, panic
            (Restart::Permanent, [(RESTART, true); 6]),
            (
                Restart::Transient,
                [
                    (KEEP, false),
                    (KEEP, false),
                    (KEEP, false),
                    (RESTART, true),
                    (RESTART, true),
                    (RESTART, true),
                ],
            ),
            (
                Restart::Temporary,
                [
                    (FORGET, false),
                    (FORGET, false),
                    (FORGET, false),
                    (FORGET, true),
                    (FORGET, true),
                    (FORGET, true),
                ],
            ),
        ];
        for (restart, row) in table {
            for ((name, reason), (decision, reported)) in reasons().into_iter().zip(row) {
                assert_eq!(after_exit(restart, &reason), decision, "{restart} {name}");
                assert_eq!(is_reported(restart, &reason), reported, "{restart} {name}");
            }
        }
    }

    /// S19 as Elixir's DynamicSupervisor has it (the fuzzer's F5).
    #[test]
    fn expected_reasons_at_an_elixir_dynamic_supervisors_shutdown() {
        let timeout = Shutdown::Timeout(Duration::from_secs(5));
        // normal, shutdown, {shutdown,x}, killed, error, panic
        let table = [
            (
                timeout,
                Restart::Permanent,
                [false, true, true, false, false, false],
            ),
            (
                timeout,
                Restart::Transient,
                [true, true, true, false, false, false],
            ),
            (
                Shutdown::BrutalKill,
                Restart::Temporary,
                [false, false, false, true, false, false],
            ),
        ];
        for (shutdown, restart, row) in table {
            for ((name, reason), expected) in reasons().into_iter().zip(row) {
                assert_eq!(
                    expected_at_elixir_shutdown(shutdown, restart, &reason),
                    expected,
                    "{shutdown} {restart} {name}"
                );
            }
        }
    }

    /// S5, S8: a child's own checks, in OTP's order.
    #[test]
    fn child_checks() {
        use AutoShutdown::*;
        let ok = |id, restart, significant, auto| check_child(id, restart, significant, auto);
        assert_eq!(ok("a", Restart::Permanent, false, Some(Never)), Ok(()));
        assert_eq!(
            ok("", Restart::Temporary, true, Some(AnySignificant)),
            Ok(())
        );
        assert_eq!(
            ok("a/b", Restart::Permanent, false, None),
            Err(SpecError::InvalidId { id: "a/b".into() })
        );
        assert_eq!(
            ok("a", Restart::Transient, true, Some(Never)),
            Err(SpecError::SignificantWithoutAutoShutdown { id: "a".into() })
        );
        assert_eq!(
            ok("a", Restart::Permanent, true, None),
            Err(SpecError::SignificantPermanent { id: "a".into() })
        );
        assert_eq!(
            check_name("app/main"),
            Err(SpecError::InvalidName {
                name: "app/main".into()
            })
        );
        assert_eq!(check_name("app: main ✓"), Ok(()));
    }

    /// S22: auto_shutdown by setting, significance and what is left.
    #[test]
    fn auto_shutdown_fires_by_setting() {
        use AutoShutdown::*;
        let table = [
            // setting, significant, significant left, fires
            (Never, true, false, false),
            (AnySignificant, true, true, true),
            (AnySignificant, true, false, true),
            (AllSignificant, true, true, false),
            (AllSignificant, true, false, true),
            (AnySignificant, false, false, false),
            (AllSignificant, false, false, false),
        ];
        for (setting, significant, left, fires) in table {
            assert_eq!(
                auto_shutdown_fires(setting, significant, left),
                fires,
                "{setting:?} {significant} {left}"
            );
        }
    }

    /// S19: the reasons that are not shutdown errors, by policy and type.
    #[test]
    fn expected_reasons_at_shutdown() {
        let timeout = Shutdown::Timeout(Duration::from_secs(5));
        // normal, shutdown, {shutdown,x}, killed, error, panic
        let table = [
            (
                timeout,
                Restart::Permanent,
                [false, true, false, false, false, false],
            ),
            (
                timeout,
                Restart::Transient,
                [true, true, true, false, false, false],
            ),
            (
                Shutdown::Infinity,
                Restart::Temporary,
                [true, true, true, false, false, false],
            ),
            (
                Shutdown::BrutalKill,
                Restart::Permanent,
                [false, false, false, true, false, false],
            ),
            (
                Shutdown::BrutalKill,
                Restart::Temporary,
                [true, true, true, true, false, false],
            ),
        ];
        for (shutdown, restart, row) in table {
            for ((name, reason), expected) in reasons().into_iter().zip(row) {
                assert_eq!(
                    expected_at_shutdown(shutdown, restart, &reason),
                    expected,
                    "{shutdown} {restart} {name}"
                );
            }
        }
    }
}
