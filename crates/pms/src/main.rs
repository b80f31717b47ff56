//! `pms` command line: `serve`, `migrate`, `token`, `jwk`, `copy-data`.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Parser, Subcommand};
use pms::config::{one_line, AuthMode, Config};
use pms::Application;
use pms_api::auth::DevIssuer;
use pms_domain::client_key::KeyPolicy;
use pms_domain::{Clock, SystemClock};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "pms",
    version,
    about = "Partner management for MOSIP eSignet relying parties"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, then serve HTTP until SIGTERM or Ctrl-C.
    Serve {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print a token of the embedded dev issuer (auth.mode = dev only).
    Token {
        #[arg(long)]
        sub: String,
        /// Comma-separated realm roles.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Copy every table (audit included) from one database into an empty one, e.g. from the
    /// embedded SQLite file to PostgreSQL; checks row counts per table.
    CopyData {
        /// Source `database.url` (sqlite:… or postgres://…).
        #[arg(long)]
        from: String,
        /// Target `database.url`; must be empty (it is migrated first).
        #[arg(long)]
        to: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the public JWK of a PEM key (public or private) for an OIDC client create; the
    /// client id it will get goes to stderr.
    Jwk {
        #[arg(long = "from-pem", value_name = "FILE")]
        from_pem: PathBuf,
        /// `kid` member to add.
        #[arg(long)]
        kid: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn load(file: Option<&PathBuf>) -> anyhow::Result<Config> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let loaded = Config::load(file.map(PathBuf::as_path), &env).map_err(anyhow::Error::msg)?;
    for name in &loaded.unknown_env {
        tracing::warn!(variable = %name, "unknown PMS_* environment variable ignored");
    }
    // Secrets print as `[REDACTED]` / `***` (config::Secret).
    tracing::debug!(config = ?loaded.config, "configuration loaded");
    Ok(loaded.config)
}

/// stderr for log lines, losing what cannot be written. A log line is never worth a request's
/// answer: with stderr closed, into a pipe nobody reads or on a full disk, a write error
/// returned to tracing-subscriber would be reported with `eprintln!`, which panics on the same
/// broken stderr, inside the request that logged.
struct LossyStderr;

impl Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr: stdout carries only what scripts read (the listening line, tokens).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LossyStderr)
        .log_internal_errors(false);
    if std::env::var("PMS_LOG_JSON").is_ok_and(|v| v == "1") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config } => {
            let config = load(config.as_ref())?;
            let app = Application::build(config).await?;
            let addr = app.local_addr()?;
            // The one write to stdout while serving: if it fails, start-up fails; nothing
            // later writes there.
            let mut out = std::io::stdout();
            writeln!(out, "pms listening on {addr}")?;
            out.flush()?;
            tracing::info!(%addr, "serving");
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Migrate { config } => {
            let config = load(config.as_ref())?;
            pms::open_store(&config).await?.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token {
            sub,
            roles,
            ttl,
            config,
        } => {
            let config = load(config.as_ref())?;
            if config.auth.mode != AuthMode::Dev {
                anyhow::bail!(
                    "`pms token` works only with auth.mode = dev; with auth.mode = jwks ask your issuer ({}) for tokens",
                    config.auth.issuer
                );
            }
            let issuer = DevIssuer::load_or_create(&config.data_dir)?;
            let token = issuer.mint(&sub, &roles, Duration::from_secs(ttl), SystemClock.now())?;
            writeln!(std::io::stdout(), "{token}")?;
            Ok(())
        }
        Command::CopyData { from, to, config } => {
            let config = load(config.as_ref())?;
            let with_url = |url: &str| {
                let mut c = config.clone();
                c.database.url = url.into();
                c
            };
            let source = pms::open_store(&with_url(&from)).await.context("source")?;
            let target = pms::open_store(&with_url(&to)).await.context("target")?;
            let result = pms::copy::copy_data(source.as_ref(), target.as_ref()).await;
            source.close().await;
            target.close().await;
            let mut out = std::io::stdout();
            for (table, n) in result? {
                writeln!(out, "{}\t{n}", table.name())?;
            }
            Ok(())
        }
        Command::Jwk {
            from_pem,
            kid,
            config,
        } => {
            let config = load(config.as_ref())?;
            let pem = std::fs::read_to_string(&from_pem)
                .with_context(|| format!("cannot read {}", from_pem.display()))?;
            let policy = KeyPolicy {
                rsa_min_bits: config.oidc_client.rsa_min_bits,
                rsa_max_bits: config.oidc_client.rsa_max_bits,
            };
            let (jwk, client_id) = pms::jwk::for_client(&pem, kid.as_deref(), &policy)
                .with_context(|| from_pem.display().to_string())?;
            writeln!(std::io::stdout(), "{jwk}")?;
            let _ = writeln!(std::io::stderr(), "client id: {client_id}");
            Ok(())
        }
    }
}

/// mimalloc: per-thread free lists instead of glibc's arenas; responses are many small
/// allocations (measured in pms-bench, `docs/performance.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "pms: error: cannot start the runtime: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "pms: error: {}",
                one_line(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}
