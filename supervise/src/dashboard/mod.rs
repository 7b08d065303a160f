//! A live dashboard of a running tree over HTTP (the `dashboard` feature).

use std::fmt;
use std::net::SocketAddr;

/// A supervised child that serves a page of a running tree.
#[derive(Debug, Clone)]
pub struct Dashboard {
    addr: SocketAddr,
}

impl Dashboard {
    /// A dashboard on `127.0.0.1:port`.
    pub fn new(port: u16) -> Self {
        Dashboard {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Why a dashboard could not be made or could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum DashboardError {
    /// The address could not be read.
    BadAddress(String),
}

impl fmt::Display for DashboardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DashboardError::BadAddress(a) => write!(f, "bad address `{a}`"),
        }
    }
}

impl std::error::Error for DashboardError {}
