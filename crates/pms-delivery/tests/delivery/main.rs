//! The delivery worker against a real SQLite store and stand-ins for eSignet, the WebSub hub and
//! the token endpoints, all on loopback ports the test opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod esignet;
mod support;
mod token;
mod websub;
mod worker;
