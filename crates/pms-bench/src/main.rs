//! `pms-bench`: the benchmark harness of pms (`docs/performance.md`).
//!
//! It starts a real `pms serve` (the binary next to this one by default, or `--pms-bin`) as a
//! child process on a fresh SQLite database in a temporary data directory, or on PostgreSQL
//! (`--database-url` naming an empty database, or `--postgres` naming a server on which a fresh
//! database is created and dropped). It seeds through the public API as the README walk-through
//! does (policy group, the MOSIP sample policy published, active auth partners with approved
//! mappings, one client each), optionally bulk-loads N clients through the store with the server
//! stopped (`--preload`, `--scale`), pre-generates the P-256 keys of the create phase (not timed),
//! restarts the server and runs fixed-duration, fixed-concurrency phases over keep-alive HTTP/1.1
//! loopback connections: `create`, `get`, `list`, `update`.
//!
//! The ceiling is measured in the same run with the same client: a trivial axum server answering
//! a fixed small JSON body, started as a child process of its own (`--ceiling-server`) exactly
//! as pms is, so that both servers compete with the load client for the same cores in the same
//! way. Each phase runs in `--slices` slices alternating with slices of the ceiling, and every
//! pms figure is printed also relative to the ceiling measured alongside it.
//!
//! Per phase: requests/s, p50/p90/p99 latency, errors (any non-200 or non-empty `errors` fails
//! the run with exit code 1), the server's peak RSS (`/proc/<pid>/status`) and CPU seconds
//! (`/proc/<pid>/stat`). Results go to stdout as Markdown and to
//! `bench-results/<UTC timestamp>-<mode>.json`.
//!
//! Modes: default (15 s phases), `--quick` (5 s phases, under 3 minutes on 2 cores), `--smoke`
//! (a few seconds, works with a debug pms), `--preload N`, `--scale` (N = 1k, 100k, 1M).
#![forbid(unsafe_code)]

mod ceiling;
mod load;
mod preload;
mod procs;
mod report;
mod seed;

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Parser;
use hyper::header::HeaderValue;
use load::{ClientRef, CreateBody, Op, Plan, Workload};
use pms_domain::clock::format_ts;
use pms_domain::{Clock, SystemClock};
use report::Session;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Command;

#[derive(Parser, Debug)]
#[command(
    name = "pms-bench",
    version,
    about = "Benchmark harness of pms: a real `pms serve`, fixed-duration phases, a ceiling measured in the same run"
)]
struct Args {
    /// Short phases (5 s each, concurrency 32): the whole run in well under 3 minutes.
    #[arg(long, conflicts_with = "smoke")]
    quick: bool,
    /// A few seconds in all, tiny phases, no thresholds; works with a debug pms (CI).
    #[arg(long)]
    smoke: bool,
    /// Bulk-load N clients through the store before serving, then measure get and list.
    #[arg(long, value_name = "N", conflicts_with = "scale")]
    preload: Option<u64>,
    /// The preload series (`--scale-sizes`), get/list latency and server RSS per size.
    #[arg(long)]
    scale: bool,
    /// Sizes of `--scale`.
    #[arg(long, value_delimiter = ',', default_value = "1000,100000,1000000")]
    scale_sizes: Vec<u64>,
    /// The pms binary (default: `pms` next to this binary, e.g. target/release/pms).
    #[arg(long)]
    pms_bin: Option<PathBuf>,
    /// PostgreSQL: an existing, empty database (no tables) for one session.
    #[arg(long, conflicts_with = "postgres")]
    database_url: Option<String>,
    /// PostgreSQL: a server URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) on which a
    /// fresh database is created for every session and dropped afterwards.
    #[arg(long)]
    postgres: Option<String>,
    /// Concurrent connections (one request in flight each). Default 32 (smoke: 4).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Measured seconds per phase. Default 15 (quick: 5, smoke: 0.5).
    #[arg(long)]
    duration: Option<f64>,
    /// Warm-up seconds per phase, on the same connections, not measured. Default 3 (quick: 1,
    /// smoke: 0.2).
    #[arg(long)]
    warmup: Option<f64>,
    /// Only these phases (default: ceiling,create,get,list,update; with a preload:
    /// ceiling,get,list).
    #[arg(long, value_delimiter = ',')]
    phases: Option<Vec<Op>>,
    /// Slices per phase: each phase and the ceiling run in this many alternating slices, so that
    /// both see the same stretch of the machine. Default 5 (smoke: 1).
    #[arg(long)]
    slices: Option<u32>,
    /// Seconds a request may take before it counts as an error.
    #[arg(long, default_value_t = 60.0)]
    request_timeout: f64,
    /// Auth partners to seed (clients are spread over them).
    #[arg(long)]
    partners: Option<usize>,
    /// Keys to pre-generate for the create phase (default: enough for 20000 creates/s).
    #[arg(long)]
    create_keys: Option<usize>,
    /// Clients per transaction when preloading.
    #[arg(long, default_value_t = 10_000)]
    preload_batch: u64,
    /// Preload without the `CREATE_CLIENT` audit record a real create writes.
    #[arg(long)]
    preload_without_audit: bool,
    /// Extra environment for pms, e.g. `--pms-env PMS_DATABASE__MAX_CONNECTIONS=4`.
    #[arg(long, value_name = "KEY=VALUE")]
    pms_env: Vec<String>,
    /// Worker threads of the load client's runtime (default: one per core).
    #[arg(long)]
    client_threads: Option<usize>,
    /// Where the JSON result goes.
    #[arg(long, default_value = "bench-results")]
    out_dir: PathBuf,
    /// Do not write the JSON result.
    #[arg(long)]
    no_json: bool,
    /// Exit with code 2 when a measured issue-6 target is not met.
    #[arg(long)]
    enforce_targets: bool,
    /// Internal: run the ceiling server (used by the harness itself).
    #[arg(long, hide = true)]
    ceiling_server: bool,
}

/// The settings a mode implies, after command-line overrides.
#[derive(Debug, Clone, serde::Serialize)]
struct Settings {
    mode: String,
    concurrency: usize,
    warmup_s: f64,
    duration_s: f64,
    request_timeout_s: f64,
    partners: usize,
    create_keys: usize,
    preload_batch: u64,
    preload_audit: bool,
    sizes: Vec<u64>,
    phases: Vec<Op>,
    /// Alternating slices per phase when the ceiling is measured.
    slices: u32,
    backend: String,
}

impl Settings {
    fn plan(&self) -> Plan {
        Plan {
            concurrency: self.concurrency,
            warmup: Duration::from_secs_f64(self.warmup_s),
            duration: Duration::from_secs_f64(self.duration_s),
            request_timeout: Duration::from_secs_f64(self.request_timeout_s),
        }
    }
}

fn settings(args: &Args) -> anyhow::Result<Settings> {
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

fn resolve_pms_bin(args: &Args) -> anyhow::Result<PathBuf> {
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

/// Where a session's database lives.
enum Db {
    Sqlite,
    /// An existing empty PostgreSQL database.
    Given(String),
    /// A PostgreSQL server: a fresh database per session.
    Server(String),
}

async fn pg_execute(url: &str, sql: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))?;
    sqlx::raw_sql(sql).execute(&mut c).await?;
    c.close().await?;
    Ok(())
}

async fn pg_require_empty(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let name = url
        .split('?')
        .next()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or("");
    if matches!(name, "postgres" | "template0" | "template1") {
        bail!(
            "--database-url names the maintenance database `{name}`; pass it as --postgres SERVER_URL \
             (a fresh database is created and dropped) or create an empty one with `createdb`"
        );
    }
    let mut c = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut c)
    .await?;
    c.close().await?;
    if tables > 0 {
        bail!(
            "--database-url must name an empty database (it has {tables} tables in schema public); \
             create one with `createdb`, or pass --postgres SERVER_URL to let pms-bench create and drop one"
        );
    }
    Ok(())
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Replaces the database name of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").context("not a URL")? + 3;
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

struct Run {
    args: Args,
    settings: Settings,
    pms_bin: PathBuf,
    requesttime: String,
}

async fn start_pms(
    ctx: &Run,
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<procs::Server> {
    let mut cmd = Command::new(&ctx.pms_bin);
    pms_env(&mut cmd, env);
    cmd.arg("serve");
    procs::Server::spawn(
        "pms serve",
        cmd,
        "pms listening on ",
        log,
        Duration::from_secs(120),
    )
    .await
}

async fn stop(server: procs::Server) -> anyhow::Result<()> {
    let name_log = server.log_tail();
    let status = server.stop(Duration::from_secs(20)).await?;
    if !status.success() {
        bail!("the server ended with {status}; its log ends with:\n{name_log}");
    }
    Ok(())
}

/// Pre-builds `count` create bodies, each with a fresh P-256 key, on every core (not timed).
async fn make_creates(
    count: usize,
    policy_id: &str,
    partner_ids: &[String],
    requesttime: &str,
) -> anyhow::Result<Vec<CreateBody>> {
    let policy_id = policy_id.to_string();
    let partner_ids = partner_ids.to_vec();
    let requesttime = requesttime.to_string();
    tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .max(1);
        let chunk = count.div_ceil(threads).max(1);
        let build = |from: usize, to: usize| -> anyhow::Result<Vec<CreateBody>> {
            let mut v = Vec::with_capacity(to.saturating_sub(from));
            for i in from..to {
                let p = i % partner_ids.len().max(1);
                let partner = partner_ids.get(p).context("no partners")?;
                let request = seed::create_request(
                    &policy_id,
                    partner,
                    &format!("Bench client {i}"),
                    seed::fresh_jwk()?,
                );
                let body = serde_json::json!({ "id": "mosip.pms.bench", "version": "1.0",
                    "requesttime": requesttime, "metadata": {}, "request": request });
                v.push(CreateBody {
                    partner: p,
                    body: Bytes::from(serde_json::to_vec(&body)?),
                });
            }
            Ok(v)
        };
        let parts: Vec<anyhow::Result<Vec<CreateBody>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let from = (t * chunk).min(count);
                    let to = ((t + 1) * chunk).min(count);
                    s.spawn(move || build(from, to))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("key generation thread failed")))
                })
                .collect()
        });
        let mut all = Vec::with_capacity(count);
        for p in parts {
            all.extend(p?);
        }
        Ok(all)
    })
    .await?
}

fn header(token: &str) -> anyhow::Result<HeaderValue> {
    Ok(HeaderValue::from_str(&format!("Bearer {token}"))?)
}

fn progress(msg: &str) {
    eprintln!("pms-bench: {msg}");
}

/// One session: seed, preload `n`, serve, run the phases, each in slices alternating with the
/// ceiling's when there is one (its slices are added to `ceilings`).
async fn session(
    ctx: &Run,
    db: &Db,
    n: u64,
    ceiling: Option<load::Target>,
    ceilings: &mut Vec<load::PhaseOutcome>,
) -> anyhow::Result<Session> {
    let dir = tempfile::Builder::new().prefix("pms-bench-").tempdir()?;
    let data_dir = dir.path().to_string_lossy().to_string();
    let mut fresh_pg = None;
    let db_url = match db {
        Db::Sqlite => format!("sqlite://{data_dir}/pms.db"),
        Db::Given(u) => {
            pg_require_empty(u).await?;
            u.clone()
        }
        Db::Server(admin) => {
            let mut salt = [0u8; 6];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
            let name = format!(
                "pms_bench_{}",
                salt.iter().map(|b| format!("{b:02x}")).collect::<String>()
            );
            pg_execute(admin, &format!("CREATE DATABASE {name}")).await?;
            fresh_pg = Some((admin.clone(), name.clone()));
            with_database(admin, &name)?
        }
    };
    let result = session_in(ctx, &data_dir, &db_url, n, ceiling, ceilings).await;
    if let Some((admin, name)) = fresh_pg {
        if let Err(e) = pg_execute(&admin, &format!("DROP DATABASE IF EXISTS {name}")).await {
            progress(&format!("could not drop the database {name}: {e:#}"));
        }
    }
    result
}

async fn session_in(
    ctx: &Run,
    data_dir: &str,
    db_url: &str,
    n: u64,
    ceiling: Option<load::Target>,
    ceilings: &mut Vec<load::PhaseOutcome>,
) -> anyhow::Result<Session> {
    let s = &ctx.settings;
    let mut env: Vec<(String, String)> = vec![
        ("PMS_DATA_DIR".into(), data_dir.into()),
        ("PMS_DATABASE__URL".into(), db_url.into()),
        ("PMS_HTTP__HOST".into(), "127.0.0.1".into()),
        ("PMS_HTTP__PORT".into(), "0".into()),
        ("RUST_LOG".into(), "info,sqlx=warn".into()),
        ("NO_COLOR".into(), "1".into()),
    ];
    for kv in &ctx.args.pms_env {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--pms-env {kv}: expected KEY=VALUE"))?;
        env.push((k.to_string(), v.to_string()));
    }
    let dir = Path::new(data_dir);

    // 1. Seed through the API.
    let t = Instant::now();
    progress(&format!(
        "seeding {} partners on {} ({})",
        s.partners, s.backend, ctx.settings.mode
    ));
    let server = start_pms(ctx, &env, &dir.join("pms-seed.log")).await?;
    let api = seed::Api::new(format!("http://{}", server.addr), ctx.requesttime.clone())?;
    let seeded = seed::seed(&api, &ctx.pms_bin, &env, s.partners).await;
    stop(server).await?;
    let seeded = seeded?;
    let seed_s = t.elapsed().as_secs_f64();
    let mut clients: Vec<ClientRef> = seeded
        .template_clients
        .iter()
        .enumerate()
        .map(|(p, id)| ClientRef {
            id: id.clone(),
            partner: p,
        })
        .collect();

    // 2. Preload through the store, server stopped.
    let mut preloaded = None;
    if n > 0 {
        progress(&format!("preloading {n} clients through the store"));
        let loaded = pms::config::Config::load(None, &env).map_err(anyhow::Error::msg)?;
        let store = pms::open_store(&loaded.config).await?;
        let r = preload::preload(
            store.as_ref(),
            &seeded.template_clients,
            n,
            s.preload_batch,
            s.preload_audit,
        )
        .await;
        store.close().await;
        let (refs, info) = r?;
        progress(&format!(
            "preloaded {n} clients in {:.1} s ({:.0}/s)",
            info.seconds, info.rows_per_second
        ));
        clients.extend(refs);
        preloaded = Some(info);
    }

    // 3. Keys for the create phase (not timed).
    let partner_ids: Vec<String> = seeded.partners.iter().map(|p| p.id.clone()).collect();
    let t = Instant::now();
    let creates = if s.phases.contains(&Op::Create) {
        progress(&format!("generating {} P-256 keys", s.create_keys));
        make_creates(
            s.create_keys,
            &seeded.policy_id,
            &partner_ids,
            &ctx.requesttime,
        )
        .await?
    } else {
        Vec::new()
    };
    let keygen_s = t.elapsed().as_secs_f64();

    // 4. Serve again: the phases see a freshly started server.
    let mut server = start_pms(ctx, &env, &dir.join("pms.log")).await?;
    progress(&format!("pms serve pid {} on {}", server.pid, server.addr));
    let result = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle = procs::memory(&server.pid.to_string())?.rss_kib;
        let mut workload = Arc::new(Workload {
            admin: header(&seeded.admin_token)?,
            partner_ids: partner_ids.clone(),
            partner_tokens: seeded
                .partners
                .iter()
                .map(|p| header(&p.token))
                .collect::<anyhow::Result<_>>()?,
            clients,
            creates,
            next_create: AtomicUsize::new(0),
            requesttime: ctx.requesttime.clone(),
        });
        let clients_at_start = workload.clients.len() as u64;
        let mut phases = Vec::new();
        let mut failed = None;
        for &op in &s.phases {
            if op == Op::Ceiling {
                // Measured alongside every other phase.
                continue;
            }
            progress(&format!(
                "phase {}: {} connections, {:.1} s warm-up + {:.1} s{}",
                op.name(),
                s.concurrency,
                s.warmup_s,
                s.duration_s,
                if ceiling.is_some() {
                    format!(", in {} slices alternating with the ceiling's", s.slices)
                } else {
                    String::new()
                }
            ));
            let target = load::Target {
                addr: server.addr,
                pid: server.pid,
            };
            let out = match ceiling {
                Some(c) => {
                    let (out, c) =
                        load::run_paired(op, target, c, workload.clone(), s.plan(), s.slices)
                            .await?;
                    ceilings.push(c);
                    out
                }
                None => {
                    load::run_phase(op, server.addr, server.pid, workload.clone(), s.plan()).await?
                }
            };
            server.check_alive()?;
            progress(&format!(
                "phase {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors{}",
                op.name(),
                out.result.rps,
                out.result.p50_us / 1000.0,
                out.result.p99_us / 1000.0,
                out.result.errors,
                out.result
                    .ceiling
                    .as_ref()
                    .map(|c| format!(" (ceiling {:.0} req/s)", c.rps))
                    .unwrap_or_default()
            ));
            if let Some(e) = &out.result.first_error {
                // Keep what was measured: the report shows it, then the run fails.
                failed = Some(format!(
                    "phase {} failed: {e}\npms log ends with:\n{}",
                    op.name(),
                    server.log_tail()
                ));
                phases.push(out.result);
                break;
            }
            if !out.created.is_empty() {
                Arc::get_mut(&mut workload)
                    .context("the workload is still shared after the phase")?
                    .clients
                    .extend(out.created);
            }
            phases.push(out.result);
        }
        // Every client the harness knows of is listed by the server, and no other.
        let known = workload.clients.len() as u64;
        let total = if failed.is_none() {
            let total = api_total(ctx, server.addr, &seeded.admin_token).await?;
            if total != known {
                bail!("the server lists {total} clients, the harness created {known}");
            }
            total
        } else {
            known
        };
        anyhow::Ok(Session {
            label: if n > 0 {
                format!("{} clients preloaded", n)
            } else {
                "fresh database".to_string()
            },
            backend: s.backend.clone(),
            clients_at_start,
            clients_at_end: total,
            preload: preloaded,
            seed_s,
            keygen_s,
            server_rss_idle_kib: idle,
            phases,
            failed,
        })
    }
    .await;
    match result {
        Ok(session) => {
            stop(server).await?;
            Ok(session)
        }
        Err(e) => {
            let tail = server.log_tail();
            let _ = server.stop(Duration::from_secs(5)).await;
            Err(anyhow::anyhow!("{e:#}\npms log ends with:\n{tail}"))
        }
    }
}

async fn api_total(ctx: &Run, addr: std::net::SocketAddr, admin: &str) -> anyhow::Result<u64> {
    let api = seed::Api::new(format!("http://{addr}"), ctx.requesttime.clone())?;
    let page = api
        .call(
            reqwest::Method::GET,
            "/v1/partnermanager/oauth/client?pageNo=0&pageSize=1",
            admin,
            None,
        )
        .await?;
    page["totalResults"]
        .as_u64()
        .with_context(|| format!("no totalResults in {page}"))
}

/// The ceiling server, kept running for the whole run.
async fn start_ceiling(dir: &Path) -> anyhow::Result<procs::Server> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("--ceiling-server");
    procs::Server::spawn(
        "the ceiling server",
        cmd,
        ceiling::LISTENING,
        &dir.join("ceiling.log"),
        Duration::from_secs(30),
    )
    .await
}

/// The pms binary's SHA-256 (first 12 hex digits) and modification time: the git commit says
/// what the tree was when the run started, not what the binary was built from.
fn binary_identity(bin: &Path) -> (String, String) {
    use sha2::Digest;
    let hash = std::fs::read(bin).map_or_else(
        |_| "unknown".to_string(),
        |bytes| {
            sha2::Sha256::digest(&bytes)
                .iter()
                .take(6)
                .map(|b| format!("{b:02x}"))
                .collect()
        },
    );
    let modified = std::fs::metadata(bin)
        .and_then(|m| m.modified())
        .map_or_else(
            |_| "unknown".to_string(),
            |t| format_ts(&chrono::DateTime::<chrono::Utc>::from(t)),
        );
    (hash, modified)
}

async fn pms_version(bin: &Path) -> String {
    match Command::new(bin).arg("--version").output().await {
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Err(_) => "unknown".to_string(),
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let settings = settings(&args)?;
    let pms_bin = resolve_pms_bin(&args)?;
    let debug_pms = pms_bin.components().any(|c| c.as_os_str() == "debug");
    if debug_pms && !args.smoke {
        progress(&format!(
            "warning: {} looks like a debug build; its figures say nothing about pms",
            pms_bin.display()
        ));
    }
    for url in args.database_url.iter().chain(args.postgres.iter()) {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("--database-url and --postgres take a postgres:// URL (SQLite is the default: a fresh file in a temporary directory)");
        }
    }
    let db = match (&args.database_url, &args.postgres) {
        (Some(u), _) => Db::Given(u.clone()),
        (None, Some(server)) => Db::Server(server.clone()),
        (None, None) => Db::Sqlite,
    };
    let now = SystemClock.now();
    let ctx = Run {
        requesttime: format_ts(&now),
        pms_bin,
        settings,
        args,
    };
    let ceiling_dir = tempfile::Builder::new()
        .prefix("pms-bench-ceiling-")
        .tempdir()?;
    let ceiling_server = if ctx.settings.phases.contains(&Op::Ceiling) {
        Some(start_ceiling(ceiling_dir.path()).await?)
    } else {
        None
    };
    let ceiling_target = ceiling_server.as_ref().map(|c| load::Target {
        addr: c.addr,
        pid: c.pid,
    });
    let mut ceilings = Vec::new();
    let mut sessions = Vec::new();
    let mut error = None;
    for &n in &ctx.settings.sizes {
        match session(&ctx, &db, n, ceiling_target, &mut ceilings).await {
            Ok(s) => {
                let failed = s.failed.is_some();
                sessions.push(s);
                if failed {
                    break;
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    if let Some(c) = ceiling_server {
        let _ = c.stop(Duration::from_secs(5)).await;
    }
    if let Some(e) = error {
        return Err(e);
    }
    let ceiling = load::merge(ceilings).map(|o| o.result);
    let failure = sessions.iter().find_map(|s| s.failed.clone());
    let targets = report::targets(&sessions);
    let machine = report::machine();
    let command: Vec<String> = std::env::args().collect();
    let total_s = started.elapsed().as_secs_f64();

    let (bin_hash, bin_modified) = binary_identity(&ctx.pms_bin);
    let mut out = String::new();
    out.push_str(&format!(
        "## pms-bench {} — {}\n\n{} cores, {}, Linux {}; pms: {} ({}, sha256 {bin_hash}…, built {bin_modified}); \
         backend: {}; concurrency {}, {:.1} s warm-up + {:.1} s per phase; {}\n\ncommand: `{}`\n\n",
        ctx.settings.mode,
        format_ts(&now),
        machine.cores,
        machine.cpu_model,
        machine.kernel,
        pms_version(&ctx.pms_bin).await,
        ctx.pms_bin.display(),
        ctx.settings.backend,
        ctx.settings.concurrency,
        ctx.settings.warmup_s,
        ctx.settings.duration_s,
        report::git_commit().map_or_else(|| "no git commit".to_string(), |c| format!("commit {c}")),
        command.join(" "),
    ));
    for s in &sessions {
        out.push_str(&format!(
            "### {} ({} clients at start, {} at end; server idle RSS {:.1} MB)\n\n",
            s.label,
            s.clients_at_start,
            s.clients_at_end,
            report::mb(s.server_rss_idle_kib)
        ));
        out.push_str(&report::table(s, ceiling.as_ref()));
        out.push('\n');
    }
    if sessions.len() > 1 {
        out.push_str("### Scale\n\n");
        out.push_str(&report::scale_table(&sessions));
        out.push('\n');
    }
    if !targets.is_empty() && !ctx.args.smoke {
        out.push_str("### Issue-6 targets (measured in this run)\n\n");
        out.push_str(&report::targets_table(&targets));
        out.push('\n');
    }
    if failure.is_some() {
        out.push_str("**The run failed** (see the error on stderr); the figures above are what was measured before.\n\n");
    }
    out.push_str(&format!("Run took {total_s:.0} s.\n"));
    print!("{out}");

    if !ctx.args.no_json {
        let doc = serde_json::json!({
            "tool": "pms-bench",
            "mode": ctx.settings.mode,
            "started_at": format_ts(&now),
            "command": command,
            "git_commit": report::git_commit(),
            "machine": machine,
            "pms_bin": ctx.pms_bin.display().to_string(),
            "pms_version": pms_version(&ctx.pms_bin).await,
            "pms_bin_sha256_prefix": bin_hash,
            "pms_bin_modified": bin_modified,
            "settings": ctx.settings,
            "ceiling": ceiling,
            "sessions": sessions,
            "targets": targets,
            "total_seconds": total_s,
            "failed": failure,
        });
        std::fs::create_dir_all(&ctx.args.out_dir)
            .with_context(|| format!("cannot create {}", ctx.args.out_dir.display()))?;
        let file = ctx.args.out_dir.join(format!(
            "{}-{}.json",
            now.format("%Y%m%dT%H%M%SZ"),
            ctx.settings.mode
        ));
        std::fs::write(&file, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("cannot write {}", file.display()))?;
        progress(&format!("results written to {}", file.display()));
    }
    if let Some(f) = failure {
        eprintln!("pms-bench: error: {f}");
        return Ok(ExitCode::FAILURE);
    }
    if ctx.args.enforce_targets && !ctx.args.smoke && targets.iter().any(|t| !t.met) {
        progress("targets not met (--enforce-targets)");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.ceiling_server {
        return match ceiling::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("pms-bench ceiling: error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = args.client_threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pms-bench: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pms-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
