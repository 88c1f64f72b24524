//! The integration suite: every test drives the real `hookd` and `hookctl` binaries.

mod helper;

mod apply;
mod calls;
mod commands;
mod conditions;
mod config;
mod deliveries;
mod docs;
mod emit;
mod faults;
mod first_contact;
mod gate;
mod hostile;
mod limits;
mod manage;
mod manpages;
mod metrics;
mod migrate;
mod pacing;
mod package;
mod paths;
mod payloads;
mod properties;
mod readme;
mod reload;
mod response;
mod rotation;
mod runner;
mod runner_isolation;
mod runs;
mod secret_files;
mod secret_refs;
mod socket;
mod terminal;
mod verify;
