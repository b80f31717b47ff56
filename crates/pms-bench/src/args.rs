//! The command line and the settings each mode implies.

use crate::load::{Op, Plan};
use anyhow::{bail, Context};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::Command;

#[derive(Parser, Debug)]
#[command(
    name = "pms-bench",
    version,
    about = "Benchmark harness of pms: a real `pms serve`, fixed-duration phases, a ceiling measured in the same run"
)]
pub(crate) struct Args {
    /// Short phases (5 s each, concurrency 32): the whole run in well under 3 minutes.
    #[arg(long, conflicts_with = "smoke")]
    pub(crate) quick: bool,
    /// A few seconds in all, tiny phases, no thresholds; works with a debug pms (CI).
    #[arg(long)]
    pub(crate) smoke: bool,
    /// Bulk-load N clients through the store before serving, then measure get and list.
    #[arg(long, value_name = "N", conflicts_with = "scale")]
    pub(crate) preload: Option<u64>,
    /// The preload series (`--scale-sizes`), get/list latency and server RSS per size.
    #[arg(long)]
    pub(crate) scale: bool,
    /// Sizes of `--scale`.
    #[arg(long, value_delimiter = ',', default_value = "1000,100000,1000000")]
    pub(crate) scale_sizes: Vec<u64>,
    /// The pms binary (default: `pms` next to this binary, e.g. target/release/pms).
    #[arg(long)]
    pub(crate) pms_bin: Option<PathBuf>,
    /// PostgreSQL: an existing, empty database (no tables) for one session.
    #[arg(long, conflicts_with = "postgres")]
    pub(crate) database_url: Option<String>,
    /// PostgreSQL: a server URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) on which a
    /// fresh database is created for every session and dropped afterwards.
    #[arg(long)]
    pub(crate) postgres: Option<String>,
    /// Concurrent connections (one request in flight each). Default 32 (smoke: 4).
    #[arg(long)]
    pub(crate) concurrency: Option<usize>,
    /// Measured seconds per phase. Default 15 (quick: 5, smoke: 0.5).
    #[arg(long)]
    pub(crate) duration: Option<f64>,
    /// Warm-up seconds per phase, on the same connections, not measured. Default 3 (quick: 1,
    /// smoke: 0.2).
    #[arg(long)]
    pub(crate) warmup: Option<f64>,
    /// Only these phases (default: ceiling,create,get,list,update; with a preload:
    /// ceiling,get,list).
    #[arg(long, value_delimiter = ',')]
    pub(crate) phases: Option<Vec<Op>>,
    /// Slices per phase: each phase and the ceiling run in this many alternating slices, so that
    /// both see the same stretch of the machine. Default 5 (smoke: 1).
    #[arg(long)]
    pub(crate) slices: Option<u32>,
    /// Seconds a request may take before it counts as an error.
    #[arg(long, default_value_t = 60.0)]
    pub(crate) request_timeout: f64,
    /// Auth partners to seed (clients are spread over them).
    #[arg(long)]
    pub(crate) partners: Option<usize>,
    /// Keys to pre-generate for the create phase (default: enough for 20000 creates/s).
    #[arg(long)]
    pub(crate) create_keys: Option<usize>,
    /// Clients per transaction when preloading.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) preload_batch: u64,
    /// Preload without the `CREATE_CLIENT` audit record a real create writes.
    #[arg(long)]
    pub(crate) preload_without_audit: bool,
    /// Extra environment for pms, e.g. `--pms-env PMS_DATABASE__MAX_CONNECTIONS=4`.
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) pms_env: Vec<String>,
    /// Worker threads of the load client's runtime (default: one per core).
    #[arg(long)]
    pub(crate) client_threads: Option<usize>,
    /// Where the JSON result goes.
    #[arg(long, default_value = "bench-results")]
    pub(crate) out_dir: PathBuf,
    /// Do not write the JSON result.
    #[arg(long)]
    pub(crate) no_json: bool,
    /// Exit with code 2 when a measured issue-6 target is not met.
    #[arg(long)]
    pub(crate) enforce_targets: bool,
    /// Internal: run the ceiling server (used by the harness itself).
    #[arg(long, hide = true)]
    pub(crate) ceiling_server: bool,
}

/// The settings a mode implies, after command-line overrides.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Settings {
    pub(crate) mode: String,
    pub(crate) concurrency: usize,
    pub(crate) warmup_s: f64,
    pub(crate) duration_s: f64,
    pub(crate) request_timeout_s: f64,
    pub(crate) partners: usize,
    pub(crate) create_keys: usize,
    pub(crate) preload_batch: u64,
    pub(crate) preload_audit: bool,
    pub(crate) sizes: Vec<u64>,
    pub(crate) phases: Vec<Op>,
    /// Alternating slices per phase when the ceiling is measured.
    pub(crate) slices: u32,
    pub(crate) backend: String,
}

impl Settings {
    pub(crate) fn plan(&self) -> Plan {
        Plan {
            concurrency: self.concurrency,
            warmup: Duration::from_secs_f64(self.warmup_s),
            duration: Duration::from_secs_f64(self.duration_s),
            request_timeout: Duration::from_secs_f64(self.request_timeout_s),
        }
    }
}

pub(crate) fn settings(args: &Args) -> anyhow::Result<Settings> {
    let (base, conc, warmup, duration, partners) = if args.smoke {
        ("smoke", 4, 0.2, 0.5, 2)
    } else if args.quick {
        ("quick", 32, 1.0, 5.0, 4)
    } else {
        ("full", 32, 3.0, 15.0, 4)
    };
    let concurrency = args.concurrency.unwrap_or(conc);
    let warmup_s = args.warmup.unwrap_or(warmup);
    let duration_s = args.duration.unwrap_or(duration);
    let partners = args.partners.unwrap_or(partners);
    if concurrency == 0
        || partners == 0
        || duration_s <= 0.0
        || warmup_s < 0.0
        || args.request_timeout <= 0.0
    {
        bail!("--concurrency and --partners must be positive, --duration and --request-timeout > 0, --warmup ≥ 0");
    }
    if args.preload_batch == 0 {
        bail!("--preload-batch must be positive");
    }
    let slices = args.slices.unwrap_or(if args.smoke { 1 } else { 5 });
    if slices == 0 {
        bail!("--slices must be positive");
    }
    let (mode, sizes) = if args.scale {
        (format!("{base}-scale"), args.scale_sizes.clone())
    } else if let Some(n) = args.preload {
        (format!("{base}-preload-{n}"), vec![n])
    } else if args.smoke {
        // The smoke run preloads a few rows so that the preload path cannot rot either.
        (base.to_string(), vec![100])
    } else {
        (base.to_string(), vec![0])
    };
    let mode = if base == "full" {
        mode.trim_start_matches("full-").to_string()
    } else {
        mode
    };
    let phases = args.phases.clone().unwrap_or_else(|| {
        if args.scale || args.preload.is_some() {
            vec![Op::Ceiling, Op::Get, Op::List]
        } else {
            vec![Op::Ceiling, Op::Create, Op::Get, Op::List, Op::Update]
        }
    });
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let create_keys = args.create_keys.unwrap_or(if args.smoke {
        300
    } else {
        // Enough for 20000 creates/s: a phase that runs out of keys ends early (the quick run
        // reached 11.7k creates/s and ran out of the 48000 keys it had).
        (((warmup_s + duration_s) * 20000.0).ceil() as usize).max(1000)
    });
    let backend = if args.database_url.is_some() || args.postgres.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    let mode = if backend == "sqlite" {
        mode
    } else {
        format!("{mode}-{backend}")
    };
    if args.database_url.is_some() && sizes.len() > 1 {
        bail!("--scale needs a fresh database per size: use --postgres SERVER_URL instead of --database-url");
    }
    Ok(Settings {
        mode,
        concurrency,
        warmup_s,
        duration_s,
        request_timeout_s: args.request_timeout,
        partners,
        create_keys,
        preload_batch: args.preload_batch,
        preload_audit: !args.preload_without_audit,
        sizes,
        phases,
        slices,
        backend: backend.to_string(),
    })
}

/// Sets the child's environment: no inherited `PMS_*` or `RUST_LOG`, then exactly `env`.
pub(crate) fn pms_env(cmd: &mut Command, env: &[(String, String)]) {
    for (k, _) in std::env::vars_os() {
        let k_str = k.to_string_lossy();
        if k_str.starts_with("PMS_") || k_str == "RUST_LOG" {
            cmd.env_remove(&k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
}

pub(crate) fn resolve_pms_bin(args: &Args) -> anyhow::Result<PathBuf> {
    let bin = match &args.pms_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .context("cannot find this binary's own path")?
            .parent()
            .context("this binary has no directory")?
            .join("pms"),
    };
    if !bin.is_file() {
        bail!(
            "the pms binary is not at {}: build it with `cargo build --release -p pms` (or pass --pms-bin PATH)",
            bin.display()
        );
    }
    Ok(bin)
}
