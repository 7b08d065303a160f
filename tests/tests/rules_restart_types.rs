//! S10: how each restart type treats each exit reason (normal via `Ok(())`,
//! `Exit::shutdown()`, `Exit::shutdown_with(..)`, an error, a panic, and
//! `killed` via `ChildRef::kill()`): restarted or not, reported or not, kept
//! or removed.

use supervise::{Event, ExitReason, Restart, Supervisor};
use supervise_tests::{render_children, Outcome, Probe};

/// How the child at `app/a` is made to exit.
enum How {
    Returns(Outcome),
    Killed,
}

/// What the supervisor should do about it.
struct Expect {
    reason: &'static str,
    reported: bool,
    restarted: bool,
    /// `a`'s line in `which_children` afterwards, `None` when it is gone.
    child_after: Option<&'static str>,
}

async fn exit_case(restart: Restart, how: How, expect: Expect) {
    let probe = Probe::new();
    let spec = Supervisor::builder("app")
        .max_restarts(10)
        .child(probe.worker("a").restart(restart))
        .child(probe.worker("b"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.take();
    match how {
        How::Returns(outcome) => probe.exit("app/a", outcome),
        How::Killed => probe.child("app/a").kill(),
    }
    let exit = format!("exit app/a#1 {}", expect.reason);
    probe.wait_for(&exit).await;
    let mut expected = vec![exit];
    if expect.reported {
        expected.push(format!("child_terminated app/a {}", expect.reason));
    }
    if expect.restarted {
        expected.extend([
            "restarting app/a".to_owned(),
            "init app/a#2".to_owned(),
            "started app/a#2".to_owned(),
        ]);
    }
    assert_eq!(probe.settled().await, expected);
    let mut children = vec!["b=app/b#1".to_owned()];
    children.extend(expect.child_after.map(str::to_owned));
    assert_eq!(
        render_children(&sup.which_children().await.unwrap()),
        children
    );
    assert!(!sup.is_stopped());
    sup.stop().await.unwrap();
}

macro_rules! exit_cases {
    ($($name:ident: $restart:ident, $how:expr => $reason:literal, reported: $rep:literal, restarted: $res:literal, after: $after:expr;)*) => {
        $(
            #[tokio::test(start_paused = true)]
            async fn $name() {
                exit_case(
                    Restart::$restart,
                    $how,
                    Expect { reason: $reason, reported: $rep, restarted: $res, child_after: $after },
                )
                .await;
            }
        )*
    };
}

exit_cases! {
    // S10.2: permanent: always restarted, always reported.
    s10_2_permanent_normal_exit_is_restarted_and_reported:
        Permanent, How::Returns(Outcome::Normal) => "normal", reported: true, restarted: true, after: Some("a=app/a#2");
    s10_2_permanent_shutdown_exit_is_restarted_and_reported:
        Permanent, How::Returns(Outcome::Shutdown) => "shutdown", reported: true, restarted: true, after: Some("a=app/a#2");
    s10_2_permanent_shutdown_with_exit_is_restarted_and_reported:
        Permanent, How::Returns(Outcome::shutdown_with("done")) => "{shutdown,done}", reported: true, restarted: true, after: Some("a=app/a#2");
    s10_2_permanent_error_exit_is_restarted_and_reported:
        Permanent, How::Returns(Outcome::error("boom")) => "boom", reported: true, restarted: true, after: Some("a=app/a#2");
    s10_2_permanent_panic_is_restarted_and_reported:
        Permanent, How::Returns(Outcome::panic("oops")) => "panicked: oops", reported: true, restarted: true, after: Some("a=app/a#2");
    s10_2_permanent_killed_is_restarted_and_reported:
        Permanent, How::Killed => "killed", reported: true, restarted: true, after: Some("a=app/a#2");

    // S10.3: transient: normal, shutdown and {shutdown,_} are neither
    // restarted nor reported, and the spec is kept not running; anything
    // else (killed included) is reported and restarted.
    s10_3_transient_normal_exit_is_not_restarted_and_kept:
        Transient, How::Returns(Outcome::Normal) => "normal", reported: false, restarted: false, after: Some("a=undefined");
    s10_3_transient_shutdown_exit_is_not_restarted_and_kept:
        Transient, How::Returns(Outcome::Shutdown) => "shutdown", reported: false, restarted: false, after: Some("a=undefined");
    s10_3_transient_shutdown_with_exit_is_not_restarted_and_kept:
        Transient, How::Returns(Outcome::shutdown_with("done")) => "{shutdown,done}", reported: false, restarted: false, after: Some("a=undefined");
    s10_3_transient_error_exit_is_restarted_and_reported:
        Transient, How::Returns(Outcome::error("boom")) => "boom", reported: true, restarted: true, after: Some("a=app/a#2");
    s10_3_transient_panic_is_restarted_and_reported:
        Transient, How::Returns(Outcome::panic("oops")) => "panicked: oops", reported: true, restarted: true, after: Some("a=app/a#2");
    s10_3_transient_killed_is_restarted_and_reported:
        Transient, How::Killed => "killed", reported: true, restarted: true, after: Some("a=app/a#2");

    // S10.4: temporary: never restarted, always removed; only abnormal
    // exits are reported.
    s10_4_temporary_normal_exit_is_removed_silently:
        Temporary, How::Returns(Outcome::Normal) => "normal", reported: false, restarted: false, after: None;
    s10_4_temporary_shutdown_exit_is_removed_silently:
        Temporary, How::Returns(Outcome::Shutdown) => "shutdown", reported: false, restarted: false, after: None;
    s10_4_temporary_shutdown_with_exit_is_removed_silently:
        Temporary, How::Returns(Outcome::shutdown_with("done")) => "{shutdown,done}", reported: false, restarted: false, after: None;
    s10_4_temporary_error_exit_is_removed_and_reported:
        Temporary, How::Returns(Outcome::error("boom")) => "boom", reported: true, restarted: false, after: None;
    s10_4_temporary_panic_is_removed_and_reported:
        Temporary, How::Returns(Outcome::panic("oops")) => "panicked: oops", reported: true, restarted: false, after: None;
    s10_4_temporary_killed_is_removed_and_reported:
        Temporary, How::Killed => "killed", reported: true, restarted: false, after: None;
}

#[tokio::test(start_paused = true)]
async fn s10_5_a_panicking_child_exits_with_the_panic_and_its_message() {
    let probe = Probe::new();
    let spec = Supervisor::builder("app")
        .child(probe.worker("a"))
        .build()
        .unwrap();
    probe.watch(&spec);
    let sup = spec.start().await.unwrap();
    probe.exit("app/a", Outcome::panic("kaboom"));
    probe.wait_for("started app/a#2").await;
    let reasons: Vec<(String, ExitReason)> = probe
        .raw_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Exited { path, reason, .. } => Some((format!("exit {path}"), reason)),
            Event::ChildTerminated { child, reason, .. } => {
                Some((format!("child_terminated {child}"), reason))
            }
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    for (what, reason) in reasons {
        match reason {
            ExitReason::Panic(p) => assert_eq!(p.message, "kaboom", "{what}"),
            other => panic!("{what}: expected a panic, got {other:?}"),
        }
    }
    // S10.5: a panic is not a normal reason; killed is not either.
    assert!(!supervise_tests::reason_of(&Outcome::panic("kaboom")).is_normal());
    assert!(!ExitReason::Killed.is_normal());
    assert!(ExitReason::Normal.is_normal());
    assert!(ExitReason::Shutdown.is_normal());
    assert!(ExitReason::shutdown_with("x").is_normal());
    sup.stop().await.unwrap();
}
