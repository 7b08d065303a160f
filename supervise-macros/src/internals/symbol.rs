//! The names of every attribute key, so that a typo is a compile error here.

pub(crate) const SUPERVISOR: &str = "supervisor";
pub(crate) const CHILD: &str = "child";
pub(crate) const WORKER: &str = "worker";

pub(crate) const STRATEGY: &str = "strategy";
pub(crate) const MAX_RESTARTS: &str = "max_restarts";
pub(crate) const MAX_SECONDS: &str = "max_seconds";
pub(crate) const PERIOD: &str = "period";
pub(crate) const AUTO_SHUTDOWN: &str = "auto_shutdown";
pub(crate) const NAME: &str = "name";
pub(crate) const CRATE: &str = "crate";

pub(crate) const RESTART: &str = "restart";
pub(crate) const SHUTDOWN: &str = "shutdown";
pub(crate) const SIGNIFICANT: &str = "significant";
pub(crate) const ID: &str = "id";
pub(crate) const DEPENDS_ON: &str = "depends_on";
pub(crate) const FACTORY: &str = "factory";
pub(crate) const USES: &str = "uses";

pub(crate) const SUPERVISOR_KEYS: &[&str] = &[
    STRATEGY,
    MAX_RESTARTS,
    MAX_SECONDS,
    PERIOD,
    AUTO_SHUTDOWN,
    NAME,
    CRATE,
];
pub(crate) const CHILD_KEYS: &[&str] = &[
    RESTART,
    SHUTDOWN,
    SIGNIFICANT,
    ID,
    DEPENDS_ON,
    FACTORY,
    USES,
];
pub(crate) const WORKER_KEYS: &[&str] = &[RESTART, SHUTDOWN, SIGNIFICANT, CRATE];

pub(crate) const STRATEGIES: &[&str] = &["one_for_one", "one_for_all", "rest_for_one"];
pub(crate) const RESTARTS: &[&str] = &["permanent", "transient", "temporary"];
pub(crate) const AUTO_SHUTDOWNS: &[&str] = &["never", "any_significant", "all_significant"];
