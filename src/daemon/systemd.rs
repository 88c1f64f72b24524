//! systemd readiness notifications (`Type=notify`): READY, RELOADING (with MONOTONIC_USEC, as
//! `Type=notify-reload` expects) and STOPPING.
//!
//! Outside systemd (`NOTIFY_SOCKET` unset) every call is a no-op; a failure to notify is logged
//! and never stops the daemon.

use sd_notify::NotifyState;

fn notify(states: &[NotifyState]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!("cannot notify systemd: {e}");
    }
}

pub fn ready() {
    notify(&[NotifyState::Ready, NotifyState::Status("serving")]);
}

pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
}

pub fn stopping() {
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}
