//! Limits on what HTTP clients can hold: open connections per client address, and the memory
//! that request bodies being received take up together.
//!
//! A client that opens connections and sends nothing, or sends its body a byte at a time, must
//! not be able to take every connection slot or grow hookd's memory without bound. Connections
//! are counted per peer address (a trusted proxy is not counted: its clients are many); bodies
//! take their size out of a shared budget while they are held. A body that finds no room never
//! waits for it (one client holding the budget with unfinished bodies would otherwise stall
//! every other caller's body until its deadline): the rest of it is written to a file instead
//! (see `http::read_body`).

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

    /// Adds `n` bytes to what `held` holds if the budget has room for them now; `false`, with
    /// nothing taken, when it has not.
    pub fn try_grow(&self, held: &mut Held, n: usize) -> bool {
        if n == 0 {
            return true;
        }
        let Ok(n) = u32::try_from(n) else {
            return false;
        };
        let Ok(more) = self.bytes.clone().try_acquire_many_owned(n) else {
            return false;
        };
        match &mut held.0 {
            Some(p) => p.merge(more),
            None => held.0 = Some(more),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_budget_refuses_at_once_and_fills_again_when_let_go() {
        let budget = BodyBudget::default();
        let mut first = BodyBudget::none();
        assert!(budget.try_grow(&mut first, BODY_BUDGET - 10));
        let mut second = BodyBudget::none();
        assert!(
            !budget.try_grow(&mut second, 11),
            "no room: refused, not awaited"
        );
        assert!(budget.try_grow(&mut second, 10));
        assert!(budget.try_grow(&mut second, 0));
        drop(first);
        assert!(budget.try_grow(&mut second, 11));
    }
}
