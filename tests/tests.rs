//! The integration suite: every test drives the real `hookd` and `hookctl` binaries.

mod helper;

mod apply;
mod calls;
mod config;
mod deliveries;
mod docs;
mod faults;
mod first_contact;
mod hostile;
mod manage;
mod manpages;
mod metrics;
mod package;
mod properties;
mod readme;
mod reload;
mod runner;
mod secret_files;
mod terminal;
mod verify;
