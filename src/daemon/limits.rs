//! Per-hook rate limits: a token bucket per hook, refilled continuously.
//!
//! `--rate-limit 60/m` allows bursts of up to 60 calls and then one per second. A refused call
//! learns how many seconds until the next token (its `Retry-After`). Buckets live in memory: a
//! restart forgives everyone, which errs on the side of running deploys.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    limit: (u32, u32),
    tokens: f64,
    last: Instant,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl RateLimiter {
    /// Takes a token for `hook_id` under a limit of `calls` per `per_secs`; `Err(seconds)` when
    /// none is left.
    pub fn check(&self, hook_id: i64, calls: u32, per_secs: u32) -> Result<(), u64> {
        let now = Instant::now();
        let rate = calls as f64 / per_secs as f64;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = buckets.entry(hook_id).or_insert(Bucket {
            limit: (calls, per_secs),
            tokens: calls as f64,
            last: now,
        });
        if b.limit != (calls, per_secs) {
            // The limit was edited: start over under the new one.
            *b = Bucket {
                limit: (calls, per_secs),
                tokens: calls as f64,
                last: now,
            };
        }
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(calls as f64);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_up_to_the_limit_then_refuses_with_a_wait() {
        let l = RateLimiter::default();
        for _ in 0..3 {
            assert!(l.check(1, 3, 60).is_ok());
        }
        let wait = l.check(1, 3, 60).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(l.check(2, 3, 60).is_ok(), "hooks have their own buckets");
        assert!(l.check(1, 4, 60).is_ok(), "a changed limit starts over");
    }
}
