//! Limits on what HTTP clients can hold: open connections per client address, and the memory
//! that request bodies being received take up together.
//!
//! A client that opens connections and sends nothing, or sends its body a byte at a time, must
//! not be able to take every connection slot or grow hookd's memory without bound. Connections
//! are counted per peer address (a trusted proxy is not counted: its clients are many); bodies
//! take their size out of a shared budget while they are held, and a body that finds no room
//! waits for it within the body deadline.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes of request bodies held in memory at once, across all connections.
pub const BODY_BUDGET: usize = 16 * 1024 * 1024;

/// Open connections per client address.
#[derive(Default)]
pub struct PerIp {
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// Held while a connection is open; counts it off when dropped.
pub struct ConnSlot {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// A slot for one more connection from `ip`, or `None` when it has `max` open already.
    pub fn take(self: &Arc<Self>, ip: IpAddr, max: u32) -> Option<ConnSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ConnSlot {
            owner: self.clone(),
            ip,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// The memory budget of bodies being received and handled.
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
}

impl Default for BodyBudget {
    fn default() -> Self {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(BODY_BUDGET)),
        }
    }
}

/// Bytes of the budget one body holds; given back when dropped.
pub struct Held(Option<OwnedSemaphorePermit>);

impl BodyBudget {
    pub fn none() -> Held {
        Held(None)
    }

    /// Adds `n` bytes to what `held` holds, waiting until the budget has room.
    pub async fn grow(&self, held: &mut Held, n: usize) {
        let n = n.min(BODY_BUDGET) as u32;
        let Ok(more) = self.bytes.clone().acquire_many_owned(n).await else {
            return;
        };
        match &mut held.0 {
            Some(p) => p.merge(more),
            None => held.0 = Some(more),
        }
    }
}
