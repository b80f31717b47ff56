//! Store conformance suite: one set of cases, written against the `Store`/`Tx` traits only, run
//! on every backend `pms::open_store` can open. Each case runs on a fresh SQLite file and then,
//! when `PMS_TEST_POSTGRES_URL` names a server, on a fresh PostgreSQL database; a failure names
//! the backend it happened on.
//!
//! The SQLite backend is the reference: where the trait leaves a detail open (NULL placement in
//! sorts, audit order), the cases pin what SQLite does so that both backends answer alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// `assert_eq!` whose message starts with the backend the case runs on.
macro_rules! check_eq {
    ($left:expr, $right:expr, $($arg:tt)+) => {
        assert_eq!(
            $left,
            $right,
            "[{}] {}",
            $crate::harness::backend(),
            format_args!($($arg)+)
        )
    };
}

/// `assert!` whose message starts with the backend the case runs on.
macro_rules! check {
    ($cond:expr, $($arg:tt)+) => {
        assert!(
            $cond,
            "[{}] {}",
            $crate::harness::backend(),
            format_args!($($arg)+)
        )
    };
}

/// One `#[tokio::test]` per case (in a `run` submodule, named like the case), each running the
/// case on SQLite and then on PostgreSQL if configured.
macro_rules! cases {
    ($($case:ident),+ $(,)?) => {
        mod run {
            $(
                #[tokio::test]
                async fn $case() {
                    $crate::harness::run(stringify!($case), super::$case).await;
                }
            )+
        }
    };
}

mod fixtures;
mod harness;

mod audit;
mod client_create_view;
mod client_view;
mod conflicts;
mod create_prepared;
mod export;
mod list_clients;
mod list_mappings;
mod list_policies;
mod ordering;
mod outbox;
mod round_trip;
mod transactions;
