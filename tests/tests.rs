//! The integration suite: every test drives the real `hookd` and `hookctl` binaries.

mod helper;

mod apply;
mod calls;
mod config;
mod deliveries;
mod docs;
mod faults;
mod gate;
mod hostile;
mod limits;
mod manage;
mod metrics;
mod migrate;
mod payloads;
mod properties;
mod reload;
mod runner;
mod socket;
mod verify;
