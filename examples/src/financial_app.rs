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
//! The seed's three failure scenarios, by OTP's rules:
//!
//! 1. `payment_processor` crashes: `payment_supervisor` (one_for_one)
//!    restarts it alone.
//! 2. `donation_processor` crashes: `donation_supervisor` (rest_for_one)
//!    restarts it and `donation_worker`. The seed says
//!    `notification_supervisor` restarts too; it does not, because
//!    `donation_supervisor` handles the crash itself and never exits, so
//!    the top level sees nothing.
//! 3. `database_pool` crashes: the top level (rest_for_one) restarts it and
//!    everything started after it, i.e. the whole tree.
//!
//! [`inject`] crashes a child and returns what started again.

use std::time::Duration;

use supervise::{
    handlers, worker, Context, Event, EventStream, Supervisor, TaskSupervisor, WorkerHandle,
};

/// One of the seed's GenServers (`DatabasePool`, `PaymentProcessor`,
/// `DonationProcessor`, `DonationWorker`, `NotificationService`): it runs
/// until it crashes or is stopped, and answers which incarnation it is.
#[worker]
#[derive(Clone, Debug)]
pub struct Service;

#[handlers]
impl Service {
    /// The incarnation that is running (1 for the first start).
    #[call]
    fn incarnation(&mut self, ctx: &Context) -> u64 {
        ctx.incarnation()
    }
}

/// The payment subsystem: an isolated failure domain (one_for_one).
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = one_for_one)]
pub struct PaymentSupervisor {
    /// The core processor.
    pub payment_processor: Service,
    /// The seed's `{Task.Supervisor, name: PaymentTaskSupervisor}`: one-off
    /// payment tasks.
    pub payment_task_supervisor: TaskSupervisor,
}

/// The donation subsystem: the worker depends on the processor
/// (rest_for_one).
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = rest_for_one)]
pub struct DonationSupervisor {
    /// The core processor.
    pub donation_processor: Service,
    /// The background worker, restarted whenever the processor is.
    pub donation_worker: Service,
}

/// The notification subsystem.
#[derive(Clone, Debug, Supervisor)]
#[supervisor(strategy = one_for_one)]
pub struct NotificationSupervisor {
    /// Sends the notifications.
    pub notification_service: Service,
}

/// `FinancialApp.Supervisor`: infrastructure first, then the subsystems,
/// rest_for_one (a crash restarts the child and every child after it).
#[derive(Clone, Debug, Supervisor)]
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
    /// The seed's tree (Elixir's default intensity on the subsystems).
    pub fn new() -> Self {
        FinancialApp {
            database_pool: Service,
            payment_supervisor: PaymentSupervisor {
                payment_processor: Service,
                payment_task_supervisor: TaskSupervisor::new(),
            },
            donation_supervisor: DonationSupervisor {
                donation_processor: Service,
                donation_worker: Service,
            },
            notification_supervisor: NotificationSupervisor {
                notification_service: Service,
            },
        }
    }
}

impl Default for FinancialApp {
    fn default() -> Self {
        Self::new()
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

/// Crashes the scenario's child (it is killed, as `Process.exit(pid,
/// :kill)` does), waits until the tree is quiet, and returns every child
/// that started again, in start order: the `Event::Started` events after
/// the crash. `events` must be a subscription to `app`'s tree.
///
/// # Panics
///
/// If the scenario's child is not running.
pub async fn inject(
    app: &FinancialAppHandle,
    events: &mut EventStream,
    scenario: Scenario,
) -> Vec<Restarted> {
    while events.try_recv().is_some() {}
    scenario
        .victim(app)
        .child()
        .expect("the scenario's child is running")
        .kill();
    let mut restarted = Vec::new();
    // The tree is quiet once no event came for a while.
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(50), events.recv()).await
    {
        if let Event::Started { child } = event {
            let path = child.path();
            let below_root = path.split_once('/').map_or(path, |(_, rest)| rest);
            restarted.push(Restarted {
                path: below_root.to_owned(),
                incarnation: child.incarnation(),
            });
        }
    }
    restarted
}
