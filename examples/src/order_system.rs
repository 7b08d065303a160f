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
//! Declaring what the comment means, `#[child(depends_on = [repo])]` on the
//! other children, makes the macro reject one_for_one, one error per
//! dependent child:
//!
//! ```text
//! error: `journal` declares `depends_on`, but supervisor `OrderSystem` would never restart it when what it depends on restarts: its strategy is `one_for_one`. Use `#[supervisor(strategy = rest_for_one)]` or `one_for_all`
//!     |         #[child(depends_on = [repo])]
//!     |                 ^^^^^^^^^^
//! ```
//!
//! So [`OrderSystem`] is rest_for_one with the Repo first: a Repo crash
//! stops every other child (in reverse start order: the journal, last,
//! saves its state) and starts them all again, in order; the temporary
//! order processors in flight are not restarted and their keys are freed.
//! A crash of any other child never restarts the Repo (one_for_all would).
//! The data lives outside the tree, in [`Storage`]: restarting the Repo
//! renews its connections, not the orders.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervise::{
    handlers, supervision_tree, worker, Context, DynamicSupervisor, Exit, ExitReason, HandleError,
    KeyedStartError, ReplyError, WorkerHandle,
};

/// How long the payment gateway takes to answer.
pub const PAYMENT_TIME: Duration = Duration::from_millis(100);

/// How long the journal takes to save its state to disk.
pub const SAVE_TIME: Duration = Duration::from_millis(200);

/// Payments above this amount (in cents) are declined.
pub const PAYMENT_LIMIT: u64 = 100_000;

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
    /// Pending or completed.
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

impl From<ReplyError<OrderError>> for OrderError {
    fn from(e: ReplyError<OrderError>) -> Self {
        match e {
            ReplyError::Call(e) => OrderError::Unavailable(e),
            ReplyError::Reply(e) => e,
        }
    }
}

/// `OrderSystem.Repo`: the connections to the database.
#[worker]
#[derive(Clone, Debug)]
pub struct Repo {
    /// The database.
    pub storage: Storage,
}

#[handlers]
impl Repo {
    /// `Orders.get!(id)`. Calls between services wait 1 s, through a
    /// restart if need be.
    #[call(timeout = "1s")]
    fn get(&mut self, id: u64) -> Option<Order> {
        self.storage.lock().orders.get(&id).cloned()
    }

    /// Sets an order's status.
    #[call(timeout = "1s")]
    fn set_status(&mut self, id: u64, status: Status) {
        if let Some(order) = self.storage.lock().orders.get_mut(&id) {
            order.status = status;
        }
    }
}

/// The journal of what happened to the orders: it keeps its lines in
/// memory and saves them when stopped, with 30 seconds to do so (the seed's
/// `terminate/2` with `save_state_to_disk`, under `trap_exit`).
#[worker(shutdown = "30s")]
#[derive(Clone, Debug)]
pub struct Journal {
    /// Where it saves its state.
    pub storage: Storage,
    lines: Vec<String>,
}

#[handlers]
impl Journal {
    /// Records a line (a cast).
    #[cast]
    fn record(&mut self, line: String) {
        self.lines.push(line);
    }

    /// Saves the lines (those queued before the stop request included):
    /// the hook makes the journal handle shutdown, as `trap_exit` does.
    #[terminate]
    async fn terminate(&mut self) {
        tokio::time::sleep(SAVE_TIME).await; // writing to disk
        let lines = std::mem::take(&mut self.lines);
        self.storage.lock().journal_saves.push(lines);
    }
}

/// `OrderSystem.InventoryService`: the stock, per item.
#[worker]
#[derive(Clone, Debug)]
pub struct InventoryService {
    /// The stock: every start begins from the field's value.
    pub stock: HashMap<String, u32>,
}

#[handlers]
impl InventoryService {
    /// Reserves a quantity of an item.
    #[call(timeout = "1s")]
    fn reserve(&mut self, item: String, quantity: u32) -> Result<(), OrderError> {
        let left = self.stock.entry(item.clone()).or_default();
        if *left < quantity {
            return Err(OrderError::OutOfStock(item));
        }
        *left -= quantity;
        Ok(())
    }
}

/// `OrderSystem.PaymentService`: charges through a gateway that takes
/// [`PAYMENT_TIME`] and declines amounts above [`PAYMENT_LIMIT`].
#[worker]
#[derive(Clone, Debug, Default)]
pub struct PaymentService;

#[handlers]
impl PaymentService {
    /// Charges an amount for an order.
    #[call(timeout = "1s")]
    async fn charge(&mut self, amount: u64) -> Result<(), OrderError> {
        tokio::time::sleep(PAYMENT_TIME).await;
        if amount > PAYMENT_LIMIT {
            return Err(OrderError::PaymentDeclined);
        }
        Ok(())
    }
}

/// `OrderSystem.NotificationService`: tells customers.
#[worker]
#[derive(Clone, Debug, Default)]
pub struct NotificationService;

#[handlers]
impl NotificationService {
    /// Notifies the customer of an order (a cast; a real one would email).
    #[cast]
    fn notify(&mut self, _order: u64, _text: String) {}
}

/// `OrderSystem.OrderProcessor` (`use GenServer, restart: :temporary`):
/// processes one order, then stops (normally, or with the failed step's
/// reason).
#[worker(restart = temporary)]
#[derive(Clone, Debug)]
pub struct OrderProcessor {
    /// The order to process.
    pub order_id: u64,
    /// The tree's handles: the services it uses.
    pub app: OrderSystemHandle,
    order: Option<Order>,
}

impl OrderProcessor {
    /// The seed's `process_order`: `with` the three steps.
    async fn process_order(&self, order: &Order) -> Result<(), OrderError> {
        let services = &self.app.services_supervisor;
        let (item, quantity) = (order.item.clone(), order.quantity);
        services.inventory_service.reserve(item, quantity).await?;
        services.payment_service.charge(order.amount).await?;
        self.app
            .repo
            .set_status(order.id, Status::Completed)
            .await?;
        let text = "your order is on its way".to_owned();
        let _ = services.notification_service.notify(order.id, text);
        Ok(())
    }
}

#[handlers]
impl OrderProcessor {
    /// The seed's `init/1`: `Orders.get!(order_id)` (a missing order fails
    /// the start), then `send(self(), :process)`.
    #[init]
    async fn init(&mut self, ctx: &mut Context) -> Result<(), Exit> {
        let id = self.order_id;
        let Some(order) = self.app.repo.get(id).await? else {
            return Err(format!("no order {id}").into());
        };
        self.order = Some(order);
        let _ = ctx.send_self(OrderProcessorMessage::Process);
        Ok(())
    }

    /// The seed's `handle_info(:process, ...)`.
    #[info]
    async fn process(&mut self) -> Result<(), Exit> {
        let order = self.order.take().ok_or("init loads the order")?;
        let journal = &self.app.journal;
        match self.process_order(&order).await {
            Ok(()) => {
                let _ = journal.record(format!("order {} completed", order.id));
                Err(Exit::with_reason(ExitReason::Normal))
            }
            Err(error) => {
                let _ = journal.record(format!("order {} failed: {error}", order.id));
                Err(error.into())
            }
        }
    }
}

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
                lines: Vec::new(),
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
    /// `OrderProcessorSupervisor.start_processor(order_id)`: starts the
    /// order's processor under its id, once its `init` loaded the order.
    ///
    /// # Errors
    ///
    /// [`KeyedStartError::AlreadyStarted`] while one is processing the
    /// order; [`KeyedStartError::Call`] when there is no such order.
    pub async fn start_processor(
        &self,
        order_id: u64,
    ) -> Result<WorkerHandle<OrderProcessor>, KeyedStartError<OrderProcessor>> {
        let app = self.clone();
        let processor = OrderProcessor {
            order_id,
            app,
            order: None,
        };
        self.order_processor_supervisor
            .start_child_keyed(order_id, processor)
            .await
    }
}

/// Waits at most `timeout` until `processor` (temporary) exited; true if it did.
pub async fn wait_gone(processor: &WorkerHandle<OrderProcessor>, timeout: Duration) -> bool {
    let poll = async {
        while !processor.is_gone() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(timeout, poll).await.is_ok()
}
