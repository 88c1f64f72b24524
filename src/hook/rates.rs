//! The rate options: `--rate-limit` of incoming hooks and `--rate` of outgoing ones.

/// `N/s`, `N/m` or `N/h` as (calls, seconds per period).
pub fn parse_rate_limit(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--rate-limit {s:?}: expected CALLS/PERIOD, e.g. 60/m (periods: s, m, h)");
    let (n, per) = s.trim().split_once('/').ok_or_else(bad)?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    let secs = match per.trim() {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3600,
        _ => return Err(bad()),
    };
    if n == 0 {
        return Err(format!(
            "--rate-limit {s:?}: allow at least one call (or disable the hook)"
        ));
    }
    Ok((n, secs))
}

/// `--rate N/s|N/m`: deliveries per second or minute, as (count, period in ms).
pub fn parse_rate(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--rate {s:?}: expected DELIVERIES/PERIOD, e.g. 10/s or 100/m");
    let (n, per) = s.trim().split_once('/').ok_or_else(bad)?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    let ms = match per.trim() {
        "s" => 1000,
        "m" => 60_000,
        _ => return Err(bad()),
    };
    if n == 0 || n > 1000 {
        return Err(format!("--rate {s:?}: use 1 to 1000 deliveries per period"));
    }
    Ok((n, ms))
}
