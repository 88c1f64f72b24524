//! Pacing of deliveries per outgoing hook: `--rate` spacing, and one delivery at a time to an
//! endpoint that is failing.
//!
//! The delivery worker asks [`Pacer::admit`] about every delivery it claims. One that may not go
//! yet is handed back to the store as pending with the instant it may go ([`Pace::Defer`]):
//! nothing is dropped or refused, and the schedule lives in the database, so it survives a
//! restart (the spacing itself starts afresh then: this memory is not kept).
//!
//! - **Rate**: deliveries to a hook with `--rate N/PERIOD` get slots `PERIOD/N` apart, in the
//!   order they are claimed; a deferred delivery keeps its slot.
//! - **Failing endpoints**: once an attempt at a hook has failed (or the hook is stored as
//!   failing), only one delivery is in flight there at a time, and after a failed probe the
//!   next waits for that probe's retry time; the others are parked. The first success ends it:
//!   the worker then brings the hook's parked deliveries forward ([`Pacer::finished`] says
//!   when: at once after a success, at the next probe's slot after a failure).

use std::collections::HashMap;
use std::sync::Mutex;

/// How long deliveries wait behind a probe in flight at a failing endpoint; a success brings
/// them forward at once, so this only bounds how often they are looked at again.
const PARK_MS: i64 = 10 * 60 * 1000;
/// Reservations kept before old ones (of deliveries gone elsewhere) are swept.
const MAX_RESERVED: usize = 100_000;

/// Whether a claimed delivery goes now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Go,
    /// Back to pending, due at this instant (ms since the epoch).
    Defer(i64),
    /// The same, and the hook's other deliveries due before then wait with it (a failing
    /// endpoint: nothing but its probe goes until then).
    Park(i64),
}

/// What the pacer needs to know of a hook.
#[derive(Debug, Clone, Copy)]
pub struct HookPacing {
    pub id: i64,
    /// `--rate`: deliveries per period in ms.
    pub rate: Option<(u32, u32)>,
    /// Whether the stored hook is failing (its `failing_since`).
    pub failing: bool,
    /// The hook's stored revision: a changed hook (a new URL, say) starts afresh.
    pub revision: i64,
}

#[derive(Default)]
struct HookState {
    revision: i64,
    /// The first rate slot not given out yet.
    next_free: i64,
    /// When the last delivery was let go, and the first slot for deliveries whose own slot
    /// passed unused while the worker was held up: they catch up at the rate, not at once.
    last_go: Option<i64>,
    catch_up: i64,
    /// Rate slots given to deferred deliveries, by delivery id.
    reserved: HashMap<i64, i64>,
    in_flight: u32,
    /// Known from an attempt of this process; `None` until then (the stored state counts).
    failing: Option<bool>,
    /// No new probe at a failing endpoint before this instant.
    probe_at: i64,
    /// Deliveries were parked behind a probe in flight.
    parked: bool,
}

#[derive(Default)]
pub struct Pacer {
    hooks: Mutex<HashMap<i64, HookState>>,
}

impl Pacer {
    /// Whether delivery `id` to `hook` may be sent at `now`; `Go` counts it in flight until
    /// [`Pacer::finished`].
    pub fn admit(&self, hook: HookPacing, id: i64, now: i64) -> Pace {
        let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        let s = hooks.entry(hook.id).or_default();
        if s.revision != hook.revision {
            *s = HookState {
                revision: hook.revision,
                in_flight: s.in_flight,
                ..HookState::default()
            };
        }
        if *s.failing.get_or_insert(hook.failing) {
            if s.in_flight > 0 {
                s.parked = true;
                return Pace::Park(now + PARK_MS);
            }
            if now < s.probe_at {
                return Pace::Park(s.probe_at);
            }
        }
        if let Some((n, per_ms)) = hook.rate
            && let Some(slot) = rate_slot(s, id, n, per_ms, now)
        {
            return Pace::Defer(slot);
        }
        s.in_flight += 1;
        Pace::Go
    }

    /// Notes the end of an admitted attempt: `next_attempt_at` is its retry time, if any.
    /// Returns the instant the hook's waiting deliveries should be brought forward to: now,
    /// after the first success at an endpoint that was failing; the next probe's slot, after a
    /// failed probe that had deliveries parked behind it (one of them may be that probe).
    pub fn finished(
        &self,
        hook_id: i64,
        succeeded: bool,
        next_attempt_at: Option<i64>,
        now: i64,
    ) -> Option<i64> {
        let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        let s = hooks.entry(hook_id).or_default();
        s.in_flight = s.in_flight.saturating_sub(1);
        let was_failing = s.failing == Some(true);
        let parked = std::mem::take(&mut s.parked);
        if succeeded {
            s.failing = Some(false);
            s.probe_at = 0;
            (was_failing || parked).then_some(now)
        } else {
            s.failing = Some(true);
            s.probe_at = next_attempt_at.unwrap_or(now);
            parked.then_some(s.probe_at)
        }
    }
}

/// `None` when the delivery may go now (its reserved slot has come, or the next free slot is
/// now); else the slot it is given.
fn rate_slot(s: &mut HookState, id: i64, n: u32, per_ms: u32, now: i64) -> Option<i64> {
    let interval = (i64::from(per_ms) / i64::from(n)).max(1);
    // Timers fire a little early or late; a slot this close counts as come.
    let tolerance = interval / 20;
    let spaced = s.last_go.map_or(i64::MIN, |t| t + interval);
    if let Some(slot) = s.reserved.remove(&id)
        && slot <= now + tolerance
    {
        if spaced <= now + tolerance {
            s.last_go = Some(now);
            return None;
        }
        // Its slot came while others that were held up still went: a burst unless it waits.
        let slot = s.catch_up.max(spaced);
        s.catch_up = slot + interval;
        s.next_free = s.next_free.max(s.catch_up);
        s.reserved.insert(id, slot);
        return Some(slot);
    }
    let slot = s.next_free.max(now).max(spaced);
    s.next_free = slot + interval;
    if slot <= now + tolerance {
        s.last_go = Some(now);
        return None;
    }
    if s.reserved.len() >= MAX_RESERVED {
        s.reserved.retain(|_, at| *at > now - PARK_MS);
    }
    s.reserved.insert(id, slot);
    Some(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(rate: Option<(u32, u32)>, failing: bool) -> HookPacing {
        HookPacing {
            id: 1,
            rate,
            failing,
            revision: 0,
        }
    }

    #[test]
    fn rate_spaces_slots_evenly_and_keeps_them() {
        let p = Pacer::default();
        let h = hook(Some((10, 1000)), false);
        assert_eq!(p.admit(h, 1, 0), Pace::Go);
        assert_eq!(p.admit(h, 2, 0), Pace::Defer(100));
        assert_eq!(p.admit(h, 3, 0), Pace::Defer(200));
        // Each comes back at its slot and goes.
        assert_eq!(p.admit(h, 2, 100), Pace::Go);
        assert_eq!(p.admit(h, 3, 199), Pace::Go);
        // A newcomer queues after them.
        assert_eq!(p.admit(h, 4, 200), Pace::Defer(300));
        // Long idle: the next goes at once.
        assert_eq!(p.admit(h, 5, 10_000), Pace::Go);
    }

    #[test]
    fn slots_passed_while_held_up_are_caught_up_at_the_rate() {
        let p = Pacer::default();
        let h = hook(Some((10, 1000)), false);
        assert_eq!(p.admit(h, 1, 0), Pace::Go);
        for id in 2..=5 {
            assert_eq!(p.admit(h, id, 0), Pace::Defer((id - 1) * 100));
        }
        // The worker is held up until 350: 2, 3 and 4 come back together; one goes, the
        // others get the next slots in turn, and 5 (due at 400) waits behind them.
        assert_eq!(p.admit(h, 2, 350), Pace::Go);
        assert_eq!(p.admit(h, 3, 351), Pace::Defer(450));
        assert_eq!(p.admit(h, 4, 352), Pace::Defer(550));
        assert_eq!(p.admit(h, 5, 400), Pace::Defer(650));
        assert_eq!(p.admit(h, 3, 450), Pace::Go);
        assert_eq!(p.admit(h, 4, 550), Pace::Go);
        assert_eq!(p.admit(h, 5, 650), Pace::Go);
        // A newcomer keeps the spacing too.
        assert_eq!(p.admit(h, 6, 660), Pace::Defer(750));
    }

    #[test]
    fn a_failing_endpoint_gets_one_probe_at_a_time() {
        let p = Pacer::default();
        let h = hook(None, true);
        assert_eq!(p.admit(h, 1, 0), Pace::Go);
        assert_eq!(p.admit(h, 2, 0), Pace::Park(PARK_MS));
        // The probe fails, retry at 5 s: nothing before then; what waited comes back then.
        assert_eq!(p.finished(1, false, Some(5000), 10), Some(5000));
        assert_eq!(p.admit(h, 2, 20), Pace::Park(5000));
        assert_eq!(p.admit(h, 2, 5000), Pace::Go);
        // It succeeds: the endpoint is released, and then everything goes at once.
        assert_eq!(p.finished(1, true, None, 5100), Some(5100));
        assert_eq!(p.admit(h, 3, 5100), Pace::Go);
        assert_eq!(p.admit(h, 4, 5100), Pace::Go);
    }

    #[test]
    fn a_changed_hook_starts_afresh() {
        let p = Pacer::default();
        let h = hook(None, true);
        assert_eq!(p.admit(h, 1, 0), Pace::Go);
        assert_eq!(p.finished(1, false, Some(300_000), 1), None);
        assert_eq!(p.admit(h, 2, 2), Pace::Park(300_000));
        let edited = HookPacing { revision: 1, ..h };
        assert_eq!(
            p.admit(edited, 2, 3),
            Pace::Go,
            "a new URL gets its probe now"
        );
    }

    #[test]
    fn a_healthy_endpoint_is_not_held_back() {
        let p = Pacer::default();
        let h = hook(None, false);
        for id in 0..100 {
            assert_eq!(p.admit(h, id, 0), Pace::Go);
        }
        // One failure makes it failing: with 100 in flight, nothing more until they end.
        assert_eq!(p.finished(1, false, Some(1000), 1), None);
        assert_eq!(p.admit(h, 200, 2), Pace::Park(2 + PARK_MS));
    }
}
