//! The integration suite: every test drives the real `hookd` and `hookctl` binaries.

mod helper;

mod apply;
mod calls;
mod config;
mod deliveries;
mod docs;
mod faults;
mod hostile;
mod manage;
mod metrics;
mod properties;
mod reload;
mod runner;
mod runner_isolation;
mod verify;
