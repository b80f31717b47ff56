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

mod args;
mod ceiling;
mod db;
mod load;
mod preload;
mod procs;
mod report;
mod seed;

use anyhow::{bail, Context};
use args::{pms_env, resolve_pms_bin, settings, Args, Settings};
use bytes::Bytes;
use clap::Parser;
use db::{pg_execute, pg_require_empty, with_database, Db};
use hyper::header::HeaderValue;
use load::{ClientRef, CreateBody, Op, Workload};
use pms_domain::clock::format_ts;
use pms_domain::{Clock, SystemClock};
use report::Session;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Command;

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
