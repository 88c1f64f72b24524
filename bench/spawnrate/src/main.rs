//! How many short processes this machine can run per second: the ceiling for any webhook
//! server that runs a script per call.
//!
//! Usage: `spawnrate SECONDS [WORKERS]`. WORKERS threads (default: 8 per CPU) each run
//! `/bin/sh -c 'echo hi'` in a loop, with stdout captured as a webhook server would, until
//! SECONDS have passed. Prints the completions per second (one number) on stdout.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(cpus * 8);

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let out = Command::new("/bin/sh")
                        .args(["-c", "echo hi"])
                        .stdin(Stdio::null())
                        .stderr(Stdio::piped())
                        .output();
                    match out {
                        Ok(o) if o.status.success() && o.stdout == b"hi\n" => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(o) => {
                            eprintln!("spawnrate: unexpected result: {:?}", o.status);
                            std::process::exit(1);
                        }
                        Err(e) => {
                            eprintln!("spawnrate: cannot run /bin/sh: {e}");
                            std::process::exit(1);
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    // Count what finished inside the window; runs still in flight are not counted.
    let counted = done.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    println!("{:.0}", counted as f64 / elapsed);
}
