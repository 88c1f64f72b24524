//! The integration suite: every test drives the real `hookd` and `hookctl` binaries.

mod helper;

mod apply;
mod calls;
mod config;
mod deliveries;
mod docs;
mod faults;
mod first_contact;
mod gate;
mod hostile;
mod limits;
mod manage;
mod manpages;
mod metrics;
mod migrate;
mod package;
mod payloads;
mod properties;
mod readme;
mod reload;
mod runner;
mod runner_isolation;
mod secret_files;
mod senders;
mod socket;
mod terminal;
mod verify;
