//! The "Financial Application Tree" of seed 002 (*Supervisor Trees*),
//! declared with `#[derive(Supervisor)]`:
//!
//! ```text
//! financial_app (rest_for_one)
//! ├── database_pool
//! ├── payment_supervisor (one_for_one)
//! │   ├── payment_processor
//! │   └── payment_task_supervisor (a TaskSupervisor)
//! ├── donation_supervisor (rest_for_one)
//! │   ├── donation_processor
//! │   └── donation_worker
//! └── notification_supervisor (one_for_one)
//!     └── notification_service
//! ```
//!
//! The three failure scenarios, by OTP's rules:
//!
//! 1. `payment_processor` crashes: `payment_supervisor` (one_for_one)
//!    restarts it alone.
//! 2. `donation_processor` crashes: `donation_supervisor` (rest_for_one)
//!    restarts it and `donation_worker`. `notification_supervisor` is not
//!    restarted (the tutorial expects it to be): `donation_supervisor`
//!    handles the crash itself and never exits, so the top level sees
//!    nothing.
//! 3. `database_pool` crashes: the top level (rest_for_one) restarts it and
//!    everything started after it, i.e. the whole tree.

use std::time::Duration;

use supervise::{
    handlers, worker, ChildRef, Context, Event, EventStream, Supervisor, TaskSupervisor,
    WorkerHandle,
};

/// One of the seed's GenServers (`DatabasePool`, `PaymentProcessor`, ...):
/// it runs until it crashes or is stopped.
#[worker]
#[derive(Clone, Debug, Default)]
pub struct Service;

#[handlers]
impl Service {
    /// The incarnation that is running (1 for the first start).
    #[call]
    fn incarnation(&mut self, ctx: &Context) -> u64 {
        ctx.incarnation()
    }
}

/// The payment subsystem: an isolated failure domain.
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = one_for_one)]
pub struct PaymentSupervisor {
    /// The core processor.
    pub payment_processor: Service,
    /// `{Task.Supervisor, name: PaymentTaskSupervisor}`: one-off payments.
    pub payment_task_supervisor: TaskSupervisor,
}

impl Default for PaymentSupervisor {
    fn default() -> Self {
        let payment_task_supervisor = TaskSupervisor::new();
        PaymentSupervisor {
            payment_processor: Service,
            payment_task_supervisor,
        }
    }
}

/// The donation subsystem: the worker depends on the processor.
#[derive(Clone, Debug, Default, Supervisor)]
#[supervisor(strategy = rest_for_one)]
pub struct DonationSupervisor {
    /// The core processor.
    pub donation_processor: Service,
    /// The background worker, restarted whenever the processor is.
    pub donation_worker: Service,
}

/// The notification subsystem.
#[derive(Clone, Debug, Default, Supervisor)]
#[supervisor(strategy = one_for_one)]
pub struct NotificationSupervisor {
    /// Sends the notifications.
    pub notification_service: Service,
}

/// `FinancialApp.Supervisor`: infrastructure first, then the subsystems
/// (Elixir's default intensity below it).
#[derive(Clone, Debug, Default, Supervisor)]
#[supervisor(strategy = rest_for_one, max_restarts = 3, max_seconds = 5)]
pub struct FinancialApp {
    /// Level 1: the database.
    pub database_pool: Service,
    /// Level 2: payments.
    pub payment_supervisor: PaymentSupervisor,
    /// Level 2: donations.
    pub donation_supervisor: DonationSupervisor,
    /// Level 2: notifications.
    pub notification_supervisor: NotificationSupervisor,
}

impl FinancialApp {
    /// The seed's tree.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The seed's failure scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Scenario 1: the payment processor crashes.
    PaymentProcessorCrashes,
    /// Scenario 2: the donation processor crashes.
    DonationProcessorCrashes,
    /// Scenario 3: the database pool crashes.
    DatabasePoolCrashes,
}

impl Scenario {
    /// The three, in the seed's order.
    pub const ALL: [Scenario; 3] = [
        Scenario::PaymentProcessorCrashes,
        Scenario::DonationProcessorCrashes,
        Scenario::DatabasePoolCrashes,
    ];

    /// The seed's title.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::PaymentProcessorCrashes => "Scenario 1: PaymentProcessor crashes",
            Scenario::DonationProcessorCrashes => "Scenario 2: DonationProcessor crashes",
            Scenario::DatabasePoolCrashes => "Scenario 3: DatabasePool crashes",
        }
    }

    /// The handle of the child that crashes.
    pub fn victim(self, app: &FinancialAppHandle) -> &WorkerHandle<Service> {
        match self {
            Scenario::PaymentProcessorCrashes => &app.payment_supervisor.payment_processor,
            Scenario::DonationProcessorCrashes => &app.donation_supervisor.donation_processor,
            Scenario::DatabasePoolCrashes => &app.database_pool,
        }
    }
}

/// A child that started again after a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restarted {
    /// Its path below the root, e.g. `payment_supervisor/payment_processor`.
    pub path: String,
    /// Which start of it this is (2 for its first restart).
    pub incarnation: u64,
}

/// Kills the scenario's child (`Process.exit(pid, :kill)`) and returns
/// what started again, in start order (a supervisor reports it started
/// after its children), once the tree is quiet. `events` must be a
/// subscription to `app`'s tree.
///
/// # Panics
///
/// If the scenario's child is not running.
pub async fn inject(
    app: &FinancialAppHandle,
    events: &mut EventStream,
    scenario: Scenario,
) -> Vec<Restarted> {
    started(events).await; // what came before the crash
    let victim = scenario.victim(app).child();
    victim.expect("the scenario's child is running").kill();
    let restarted = started(events).await.into_iter().map(|child| {
        let below_root = child.path().split_once('/').map_or("", |(_, below)| below);
        Restarted {
            path: below_root.to_owned(),
            incarnation: child.incarnation(),
        }
    });
    restarted.collect()
}

/// The children that started until no event came for 50 ms.
async fn started(events: &mut EventStream) -> Vec<ChildRef> {
    let mut out = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(50), events.recv()).await
    {
        if let Event::Started { child } = event {
            out.push(child);
        }
    }
    out
}
