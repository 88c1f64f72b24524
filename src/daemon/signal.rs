//! Process signals as one enum on a channel: SIGTERM/SIGINT mean shut down, SIGHUP reload.
//!
//! Handlers are installed once, before the daemon reports itself ready, so an early SIGHUP never
//! kills the process through the default action.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Shutdown,
    Reload,
}

pub fn listen() -> std::io::Result<mpsc::Receiver<Signal>> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        loop {
            let s = tokio::select! {
                _ = term.recv() => Signal::Shutdown,
                _ = int.recv() => Signal::Shutdown,
                _ = hup.recv() => Signal::Reload,
            };
            if tx.send(s).await.is_err() {
                return;
            }
        }
    });
    Ok(rx)
}
