//! Black-box API tests: each test starts the real application on port 0 with a fresh SQLite
//! database and talks HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod auth;
mod clients;
mod copy;
mod cross_site;
mod delivery;
mod edge;
mod lifecycle;
mod mappings;
mod names;
mod nodes;
mod openapi;
mod outages;
mod partners;
mod policies;
mod standins;
mod sweep;
