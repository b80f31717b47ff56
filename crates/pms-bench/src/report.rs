//! The report: machine facts, the Markdown tables printed to stdout, the issue-6 target checks and
//! the JSON document written under `bench-results/`.

use crate::load::PhaseResult;
use crate::preload::Preloaded;
use serde::Serialize;

/// Facts about the machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub memory_mib: u64,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string());
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024);
    Machine {
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        cpu_model,
        kernel,
        memory_mib,
    }
}

/// `git rev-parse HEAD` of the current directory, `+dirty` when tracked files changed.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    Some(if dirty {
        format!("{commit}+dirty")
    } else {
        commit
    })
}

/// One `pms serve` with a given database content, and the phases run against it.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub label: String,
    pub backend: String,
    /// Clients in the database when the measured phases started.
    pub clients_at_start: u64,
    /// Clients at the end (checked against the server's list total).
    pub clients_at_end: u64,
    pub preload: Option<Preloaded>,
    pub seed_s: f64,
    pub keygen_s: f64,
    pub server_rss_idle_kib: u64,
    pub phases: Vec<PhaseResult>,
    /// The first error, when a phase failed (the session stopped there).
    pub failed: Option<String>,
}

impl Session {
    pub fn phase(&self, name: &str) -> Option<&PhaseResult> {
        self.phases.iter().find(|p| p.phase == name)
    }

    pub fn peak_rss_kib(&self) -> u64 {
        self.phases
            .iter()
            .map(|p| p.server_peak_rss_kib.max(p.server_hwm_kib))
            .max()
            .unwrap_or(0)
    }
}

/// One issue-6 target and what this run measured for it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[allow(clippy::cast_precision_loss)]
pub fn mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1_000_000.0
}

fn ms(us: f64) -> String {
    let v = us / 1000.0;
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

fn pct(x: f64, of: f64) -> String {
    if of > 0.0 {
        format!("{:.1} %", 100.0 * x / of)
    } else {
        "–".to_string()
    }
}

fn times(x: f64, of: f64) -> String {
    if of > 0.0 {
        format!("×{:.1}", x / of)
    } else {
        "–".to_string()
    }
}

/// The Markdown table of one session (the run's ceiling first, every pms figure also relative to
/// the ceiling measured alongside it).
pub fn table(session: &Session, ceiling: Option<&PhaseResult>) -> String {
    let mut out = String::new();
    out.push_str(
        "| phase | req/s | p50 | p90 | p99 | errors | req/s vs ceiling | p50 / p99 vs ceiling | peak RSS | server CPU s | client CPU s | other CPU s | server ctx sw/req |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let rows = ceiling.into_iter().chain(session.phases.iter());
    for p in rows {
        let is_ceiling = p.phase == "ceiling";
        let (ratio, lat) = if is_ceiling {
            ("100 %".to_string(), "×1.0 / ×1.0".to_string())
        } else {
            match p.ceiling.as_deref() {
                Some(c) => (
                    format!("{} (of {:.0})", pct(p.rps, c.rps), c.rps),
                    format!(
                        "{} / {}",
                        times(p.p50_us, c.p50_us),
                        times(p.p99_us, c.p99_us)
                    ),
                ),
                None => ("–".to_string(), "–".to_string()),
            }
        };
        let early = p
            .ended_early
            .as_ref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {}{} | {:.0} | {} | {} | {} | {} | {} | {} | {:.1} MB | {:.2} | {:.2} | {:.2} | {:.1} |\n",
            p.phase,
            if is_ceiling { " (trivial axum)" } else { "" },
            p.rps,
            ms(p.p50_us),
            ms(p.p90_us),
            ms(p.p99_us),
            p.errors,
            ratio,
            lat,
            mb(p.server_peak_rss_kib.max(p.server_hwm_kib)),
            p.server_cpu_s,
            p.client_cpu_s,
            p.other_cpu_s,
            p.server_ctx_switches_per_request,
        ));
        if !early.is_empty() {
            out.push_str(&format!(
                "|   ↳ ended early{early} | | | | | | | | | | | | |\n"
            ));
        }
    }
    out
}

/// The scale summary: get/list latency and server RSS per preloaded size.
pub fn scale_table(sessions: &[Session]) -> String {
    let mut out = String::from(
        "| clients | preload s | get req/s | get p50 | get p99 | list req/s | list p50 | list p99 | peak RSS |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in sessions {
        let g = s.phase("get");
        let l = s.phase("list");
        let f = |p: Option<&PhaseResult>, v: fn(&PhaseResult) -> f64| p.map_or(0.0, v);
        out.push_str(&format!(
            "| {} | {:.1} | {:.0} | {} | {} | {:.0} | {} | {} | {:.1} MB |\n",
            s.clients_at_start,
            s.preload.as_ref().map_or(0.0, |p| p.seconds),
            f(g, |p| p.rps),
            ms(f(g, |p| p.p50_us)),
            ms(f(g, |p| p.p99_us)),
            f(l, |p| p.rps),
            ms(f(l, |p| p.p50_us)),
            ms(f(l, |p| p.p99_us)),
            mb(s.peak_rss_kib()),
        ));
    }
    out
}

/// The targets of `docs/performance.md` this run measured (SQLite, concurrency 32 is their setting; the
/// checks are computed whatever the settings, and the report states them).
pub fn targets(sessions: &[Session]) -> Vec<Target> {
    let mut t = Vec::new();
    let first = |name: &str| sessions.iter().find_map(|s| s.phase(name));
    // Each phase against the ceiling measured alongside it.
    let ratio = |name: &str, label: &str, wanted: &str, min: f64| {
        let p = first(name)?;
        let c = p.ceiling.as_deref().filter(|c| c.rps > 0.0)?;
        let r = p.rps / c.rps;
        Some(Target {
            name: label.into(),
            target: wanted.into(),
            measured: format!("{:.1} % ({:.0} / {:.0})", 100.0 * r, p.rps, c.rps),
            met: r >= min,
        })
    };
    t.extend(ratio("get", "get req/s vs ceiling", "≥ 40 %", 0.40));
    t.extend(ratio("create", "create req/s vs ceiling", "≥ 10 %", 0.10));
    if let Some(g) = first("get") {
        t.push(Target {
            name: "get p99".into(),
            target: "< 5 ms".into(),
            measured: ms(g.p99_us),
            met: g.p99_us < 5000.0,
        });
    }
    if let Some(s) = sessions
        .iter()
        .find(|s| s.preload.as_ref().is_some_and(|p| p.clients == 100_000))
    {
        let peak = mb(s.peak_rss_kib());
        t.push(Target {
            name: "server RSS with 100k clients".into(),
            target: "< 60 MB".into(),
            measured: format!("{peak:.1} MB"),
            met: peak < 60.0,
        });
    }
    let at = |n: u64| {
        sessions
            .iter()
            .find(|s| s.preload.as_ref().is_some_and(|p| p.clients == n))
            .and_then(|s| s.phase("get"))
    };
    if let (Some(small), Some(large)) = (at(1000), at(1_000_000)) {
        let r = if small.p50_us > 0.0 {
            large.p50_us / small.p50_us
        } else {
            f64::INFINITY
        };
        t.push(Target {
            name: "get p50 at 1M vs at 1k".into(),
            target: "≤ ×1.5".into(),
            measured: format!("×{r:.2} ({} vs {})", ms(large.p50_us), ms(small.p50_us)),
            met: r <= 1.5,
        });
    }
    t
}

pub fn targets_table(targets: &[Target]) -> String {
    let mut out = String::from("| target | wanted | measured | met |\n|---|---|---|---|\n");
    for t in targets {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            t.name,
            t.target,
            t.measured,
            if t.met { "yes" } else { "**no**" }
        ));
    }
    out
}
