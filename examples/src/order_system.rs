//! The order processing system of seed 004 (*Real-World Supervision
//! Tree*), declared with `supervision_tree!`:
//!
//! ```text
//! order_system (rest_for_one)
//! ├── repo                          the database connections
//! ├── journal                       saves its state on shutdown (30 s)
//! ├── services_supervisor (rest_for_one)
//! │   ├── inventory_service
//! │   ├── payment_service
//! │   └── notification_service
//! └── order_processor_supervisor    dynamic: one temporary processor per
//!                                   order, keyed by the order's id
//! ```
//!
//! # Why not the seed's one_for_one
//!
//! The seed's top level is `strategy: :one_for_one`, while its comment on
//! `OrderSystem.Repo` says "critical, restart everything if it fails".
//! Under one_for_one a Repo crash restarts the Repo alone. Saying what the
//! comment means, that the other children depend on the Repo, makes the
//! macro reject the seed's strategy:
//!
//! ```text
//! supervision_tree! {
//!     #[supervisor(strategy = one_for_one)]           // the seed's strategy
//!     pub struct OrderSystem {
//!         repo: Repo,
//!         #[child(depends_on = [repo])]
//!         journal: Journal,
//!         #[child(depends_on = [repo])]
//!         #[supervisor(strategy = rest_for_one)]
//!         services_supervisor: ServicesSupervisor { /* ... */ },
//!         #[child(depends_on = [repo, journal, services_supervisor])]
//!         order_processor_supervisor: DynamicSupervisor<OrderProcessor, OrderProcessor, u64>,
//!     }
//! }
//! ```
//!
//! is rejected, one error per dependent child (as compiled once, with the
//! tree below and only its strategy changed; line numbers elided):
//!
//! ```text
//! error: `journal` declares `depends_on`, but supervisor `OrderSystem` would never restart it when what it depends on restarts: its strategy is `one_for_one`. Use `#[supervisor(strategy = rest_for_one)]` or `one_for_all`
//!    --> examples/src/order_system.rs
//!     |
//!     |         #[child(depends_on = [repo])]
//!     |                 ^^^^^^^^^^
//!
//! error: `services_supervisor` declares `depends_on`, but supervisor `OrderSystem` would never restart it when what it depends on restarts: its strategy is `one_for_one`. Use `#[supervisor(strategy = rest_for_one)]` or `one_for_all`
//!    --> examples/src/order_system.rs
//!     |
//!     |         #[child(depends_on = [repo])]
//!     |                 ^^^^^^^^^^
//!
//! error: `order_processor_supervisor` declares `depends_on`, but supervisor `OrderSystem` would never restart it when what it depends on restarts: its strategy is `one_for_one`. Use `#[supervisor(strategy = rest_for_one)]` or `one_for_all`
//!    --> examples/src/order_system.rs
//!     |
//!     |         #[child(depends_on = [repo, journal, services_supervisor])]
//!     |                 ^^^^^^^^^^
//! ```
//!
//! The corrected tree, [`OrderSystem`], is rest_for_one with the Repo
//! first: a Repo crash terminates every other child (in reverse start
//! order: the order processors, the services, then the journal, which
//! saves its state) and starts the Repo and all of them again, in order.
//! The order processors in flight are temporary: they are stopped and not
//! restarted, and their keys are freed. A crash of any other child
//! restarts it and the children after it, never the Repo (one_for_all
//! would also restart the Repo, for no reason).
//!
//! The data itself lives outside the tree, in [`Storage`] (the database
//! server and the disk): restarting the Repo renews its connections, not
//! the orders.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{
    supervision_tree, worker, Context, DynamicSupervisor, Exit, HandleError, Init, KeyedStartError,
    Reply, Worker, WorkerHandle,
};

/// How long a call between services waits for an answer, through a
/// restart if need be.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the payment gateway takes to answer.
pub const PAYMENT_TIME: Duration = Duration::from_millis(100);

/// How long the journal takes to save its state to disk.
pub const SAVE_TIME: Duration = Duration::from_millis(200);

/// Payments above this amount (in cents) are declined.
pub const PAYMENT_LIMIT: u64 = 100_000;

// ===== storage outside the tree =====

/// An order's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Placed, not processed yet.
    Pending,
    /// Processed.
    Completed,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id.
    pub id: u64,
    /// What was ordered.
    pub item: String,
    /// How many.
    pub quantity: u32,
    /// The amount to charge, in cents.
    pub amount: u64,
    /// Its status.
    pub status: Status,
}

impl Order {
    /// A pending order.
    pub fn new(id: u64, item: &str, quantity: u32, amount: u64) -> Self {
        Order {
            id,
            item: item.to_owned(),
            quantity,
            amount,
            status: Status::Pending,
        }
    }
}

/// What the storage holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// The orders table.
    pub orders: BTreeMap<u64, Order>,
    /// The journal's file: every state it saved, one save per entry.
    pub journal_saves: Vec<Vec<String>>,
}

/// Durable storage outside the tree (the database server and the disk):
/// it survives every restart.
#[derive(Debug, Clone, Default)]
pub struct Storage {
    inner: Arc<Mutex<Stored>>,
}

impl Storage {
    /// Storage holding `orders`.
    pub fn with_orders(orders: impl IntoIterator<Item = Order>) -> Self {
        let storage = Storage::default();
        storage.lock().orders = orders.into_iter().map(|o| (o.id, o)).collect();
        storage
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stored> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What it holds now.
    pub fn read(&self) -> Stored {
        self.lock().clone()
    }
}

// ===== the workers =====

/// Why an order failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    /// Not enough of the item in stock.
    OutOfStock(String),
    /// The payment was declined.
    PaymentDeclined,
    /// A service did not answer.
    Unavailable(HandleError),
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderError::OutOfStock(item) => write!(f, "{item} is out of stock"),
            OrderError::PaymentDeclined => f.write_str("payment declined"),
            OrderError::Unavailable(e) => write!(f, "a service is unavailable: {e}"),
        }
    }
}

impl std::error::Error for OrderError {}

impl From<HandleError> for OrderError {
    fn from(e: HandleError) -> Self {
        OrderError::Unavailable(e)
    }
}

/// `OrderSystem.Repo`: the connections to the database.
#[worker]
#[derive(Clone, Debug)]
pub struct Repo {
    /// The database.
    pub storage: Storage,
}

/// The messages of the [`Repo`].
#[derive(Debug)]
pub enum RepoMsg {
    /// `Orders.get!(id)`.
    Get(u64, Reply<Option<Order>>),
    /// Sets an order's status.
    SetStatus(u64, Status, Reply<()>),
}

impl Worker for Repo {
    type Message = RepoMsg;

    async fn run(self, mut ctx: Context<RepoMsg>) -> Result<(), Exit> {
        while let Some(msg) = ctx.recv().await {
            match msg {
                RepoMsg::Get(id, reply) => {
                    let _ = reply.send(self.storage.lock().orders.get(&id).cloned());
                }
                RepoMsg::SetStatus(id, status, reply) => {
                    if let Some(order) = self.storage.lock().orders.get_mut(&id) {
                        order.status = status;
                    }
                    let _ = reply.send(());
                }
            }
        }
        Ok(())
    }
}

/// The journal of what happened to the orders. It keeps its lines in
/// memory and saves them to disk when it is stopped (the seed's
/// `terminate/2` with `save_state_to_disk`, under `trap_exit`), with 30
/// seconds to do so.
#[worker(shutdown = "30s")]
#[derive(Clone, Debug)]
pub struct Journal {
    /// Where it saves its state.
    pub storage: Storage,
}

/// The messages of the [`Journal`].
#[derive(Debug)]
pub enum JournalMsg {
    /// Records a line (a cast).
    Record(String),
}

impl Worker for Journal {
    type Message = JournalMsg;

    fn handles_shutdown(&self) -> bool {
        true
    }

    async fn run(self, mut ctx: Context<JournalMsg>) -> Result<(), Exit> {
        let mut lines = Vec::new();
        let shutdown = ctx.shutdown_signal();
        loop {
            tokio::select! {
                _ = shutdown.requested() => break,
                msg = ctx.recv() => match msg {
                    Some(JournalMsg::Record(line)) => lines.push(line),
                    None => return Ok(()),
                },
            }
        }
        // What came in before the request is saved too.
        while let Some(JournalMsg::Record(line)) = ctx.try_recv() {
            lines.push(line);
        }
        tokio::time::sleep(SAVE_TIME).await; // writing to disk
        self.storage.lock().journal_saves.push(lines);
        Err(Exit::shutdown())
    }
}

/// `OrderSystem.InventoryService`: the stock, per item.
#[worker]
#[derive(Clone, Debug)]
pub struct InventoryService {
    /// The stock at start.
    pub stock: HashMap<String, u32>,
}

/// The messages of the [`InventoryService`].
#[derive(Debug)]
pub enum InventoryMsg {
    /// Reserves a quantity of an item.
    Reserve(String, u32, Reply<Result<(), OrderError>>),
}

impl Worker for InventoryService {
    type Message = InventoryMsg;

    async fn run(self, mut ctx: Context<InventoryMsg>) -> Result<(), Exit> {
        let mut stock = self.stock;
        while let Some(InventoryMsg::Reserve(item, quantity, reply)) = ctx.recv().await {
            let left = stock.entry(item.clone()).or_default();
            let result = if *left >= quantity {
                *left -= quantity;
                Ok(())
            } else {
                Err(OrderError::OutOfStock(item))
            };
            let _ = reply.send(result);
        }
        Ok(())
    }
}

/// `OrderSystem.PaymentService`: charges through a gateway that takes
/// [`PAYMENT_TIME`] and declines amounts above [`PAYMENT_LIMIT`].
#[worker]
#[derive(Clone, Debug, Default)]
pub struct PaymentService;

/// The messages of the [`PaymentService`].
#[derive(Debug)]
pub enum PaymentMsg {
    /// Charges an amount for an order.
    Charge(u64, Reply<Result<(), OrderError>>),
}

impl Worker for PaymentService {
    type Message = PaymentMsg;

    async fn run(self, mut ctx: Context<PaymentMsg>) -> Result<(), Exit> {
        while let Some(PaymentMsg::Charge(amount, reply)) = ctx.recv().await {
            tokio::time::sleep(PAYMENT_TIME).await;
            let result = if amount <= PAYMENT_LIMIT {
                Ok(())
            } else {
                Err(OrderError::PaymentDeclined)
            };
            let _ = reply.send(result);
        }
        Ok(())
    }
}

/// `OrderSystem.NotificationService`: tells customers.
#[worker]
#[derive(Clone, Debug, Default)]
pub struct NotificationService;

/// The messages of the [`NotificationService`].
#[derive(Debug)]
pub enum NotificationMsg {
    /// Notifies the customer of an order (a cast).
    Notify(u64, String),
}

impl Worker for NotificationService {
    type Message = NotificationMsg;

    async fn run(self, mut ctx: Context<NotificationMsg>) -> Result<(), Exit> {
        while let Some(NotificationMsg::Notify(_order, _text)) = ctx.recv().await {}
        Ok(())
    }
}

/// The handles an order processor works with.
#[derive(Debug, Clone)]
pub struct Services {
    /// The Repo.
    pub repo: WorkerHandle<Repo>,
    /// The journal.
    pub journal: WorkerHandle<Journal>,
    /// The inventory.
    pub inventory: WorkerHandle<InventoryService>,
    /// The payments.
    pub payment: WorkerHandle<PaymentService>,
    /// The notifications.
    pub notification: WorkerHandle<NotificationService>,
}

/// `OrderSystem.OrderProcessor` (`use GenServer, restart: :temporary`):
/// loads its order in `init` (a missing order fails the start), then
/// validates the inventory, takes the payment, marks the order completed
/// and stops normally; a failed step stops it with that reason.
#[worker(restart = temporary)]
#[derive(Clone, Debug)]
pub struct OrderProcessor {
    /// The order to process.
    pub order_id: u64,
    /// The services it uses.
    pub services: Services,
    order: Option<Order>,
}

impl OrderProcessor {
    /// A processor of order `order_id`.
    pub fn new(order_id: u64, services: Services) -> Self {
        OrderProcessor {
            order_id,
            services,
            order: None,
        }
    }

    async fn process(&self, order: &Order) -> Result<(), OrderError> {
        let s = &self.services;
        let (item, quantity) = (order.item.clone(), order.quantity);
        s.inventory
            .call_timeout(
                |reply| InventoryMsg::Reserve(item, quantity, reply),
                CALL_TIMEOUT,
            )
            .await??;
        let amount = order.amount;
        s.payment
            .call_timeout(|reply| PaymentMsg::Charge(amount, reply), CALL_TIMEOUT)
            .await??;
        let id = order.id;
        s.repo
            .call_timeout(
                |reply| RepoMsg::SetStatus(id, Status::Completed, reply),
                CALL_TIMEOUT,
            )
            .await?;
        let _ = s.notification.send(NotificationMsg::Notify(
            id,
            "your order is on its way".into(),
        ));
        Ok(())
    }
}

impl Worker for OrderProcessor {
    type Message = ();

    async fn init(&mut self, _ctx: &mut Context) -> Result<Init, Exit> {
        let id = self.order_id;
        let order = self
            .services
            .repo
            .call_timeout(|reply| RepoMsg::Get(id, reply), CALL_TIMEOUT)
            .await?;
        match order {
            Some(order) => {
                self.order = Some(order);
                Ok(Init::Ready)
            }
            None => Err(format!("no order {id}").into()),
        }
    }

    async fn run(self, _ctx: Context) -> Result<(), Exit> {
        let Some(order) = &self.order else {
            return Err("init loads the order".into());
        };
        let journal = &self.services.journal;
        match self.process(order).await {
            Ok(()) => {
                let _ = journal.send(JournalMsg::Record(format!("order {} completed", order.id)));
                Ok(())
            }
            Err(error) => {
                let line = format!("order {} failed: {error}", order.id);
                let _ = journal.send(JournalMsg::Record(line));
                Err(error.into())
            }
        }
    }
}

// ===== the tree =====

supervision_tree! {
    /// `OrderSystem.Supervisor`, corrected: rest_for_one with the Repo
    /// first, so that a Repo crash restarts everything.
    #[derive(Debug)]
    #[supervisor(strategy = rest_for_one)]
    pub struct OrderSystem {
        /// `OrderSystem.Repo`: critical, restart everything if it fails.
        repo: Repo,
        /// The journal, which saves its state when it is stopped.
        #[child(depends_on = [repo])]
        journal: Journal,
        /// `OrderSystem.ServicesSupervisor`: if inventory fails, payment
        /// and notification restart too, to ensure consistent state.
        #[child(depends_on = [repo])]
        #[supervisor(strategy = rest_for_one)]
        services_supervisor: ServicesSupervisor {
            inventory_service: InventoryService,
            payment_service: PaymentService,
            notification_service: NotificationService,
        },
        /// `OrderSystem.OrderProcessorSupervisor`: one processor per order.
        #[child(depends_on = [repo, journal, services_supervisor])]
        order_processor_supervisor: DynamicSupervisor<OrderProcessor, OrderProcessor, u64>,
    }
}

impl OrderSystem {
    /// The tree over `storage`, with `stock` in the inventory.
    pub fn new(storage: &Storage, stock: &[(&str, u32)]) -> Self {
        OrderSystem {
            repo: Repo {
                storage: storage.clone(),
            },
            journal: Journal {
                storage: storage.clone(),
            },
            services_supervisor: ServicesSupervisor {
                inventory_service: InventoryService {
                    stock: stock.iter().map(|&(k, v)| (k.to_owned(), v)).collect(),
                },
                payment_service: PaymentService,
                notification_service: NotificationService,
            },
            order_processor_supervisor: DynamicSupervisor::new().keyed(),
        }
    }
}

impl OrderSystemHandle {
    /// The handles an order processor works with.
    pub fn services(&self) -> Services {
        Services {
            repo: self.repo.clone(),
            journal: self.journal.clone(),
            inventory: self.services_supervisor.inventory_service.clone(),
            payment: self.services_supervisor.payment_service.clone(),
            notification: self.services_supervisor.notification_service.clone(),
        }
    }

    /// `OrderProcessorSupervisor.start_processor(order_id)`: starts the
    /// order's processor under its id (once `init` has loaded the order).
    ///
    /// # Errors
    ///
    /// [`KeyedStartError::AlreadyStarted`] while one is processing the
    /// order; [`KeyedStartError::Call`] when the start failed (no such
    /// order).
    pub async fn start_processor(
        &self,
        order_id: u64,
    ) -> Result<WorkerHandle<OrderProcessor>, KeyedStartError<OrderProcessor>> {
        let processor = OrderProcessor::new(order_id, self.services());
        self.order_processor_supervisor
            .start_child_keyed(order_id, processor)
            .await
    }

    /// The processor of an order, while it runs.
    pub fn processor(&self, order_id: u64) -> Option<WorkerHandle<OrderProcessor>> {
        self.order_processor_supervisor.lookup(&order_id)
    }

    /// An order, through the Repo.
    ///
    /// # Errors
    ///
    /// A [`HandleError`] when the Repo did not answer in time.
    pub async fn order(&self, order_id: u64) -> Result<Option<Order>, HandleError> {
        self.repo
            .call_timeout(|reply| RepoMsg::Get(order_id, reply), CALL_TIMEOUT)
            .await
    }
}

/// Waits until `processor` is gone for good (a temporary child that
/// exited), at most `timeout`; true if it is.
pub async fn wait_gone(processor: &WorkerHandle<OrderProcessor>, timeout: Duration) -> bool {
    let poll = async {
        while !processor.is_gone() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(timeout, poll).await.is_ok()
}
