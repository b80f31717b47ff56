//! The child processes the harness starts (a `pms serve`, the ceiling server) and what `/proc`
//! says about them: resident memory (current and peak) and CPU time.

use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// A child that printed `<prefix><ip:port>` on stdout and is serving there.
pub struct Server {
    name: String,
    child: tokio::process::Child,
    pub pid: u32,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Spawns `cmd` (stderr to `log`) and waits up to `wait` for its listening line.
    pub async fn spawn(
        name: &str,
        mut cmd: Command,
        prefix: &str,
        log: &Path,
        wait: Duration,
    ) -> anyhow::Result<Self> {
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create the log file {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let pid = child
            .id()
            .with_context(|| format!("{name} exited at once"))?;
        let stdout = child
            .stdout
            .take()
            .with_context(|| format!("{name}: no stdout pipe"))?;
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(wait, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return rest
                        .trim()
                        .parse::<SocketAddr>()
                        .with_context(|| format!("{name} printed a bad address: {line}"));
                }
            }
            bail!("{name} ended before printing `{prefix}<addr>`")
        })
        .await;
        let addr = match found {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => {
                let _ = child.kill().await;
                bail!("{e:#}; its log ends with:\n{}", log_tail(log));
            }
            Err(_) => {
                let _ = child.kill().await;
                bail!(
                    "{name} did not print `{prefix}<addr>` within {} s; its log ends with:\n{}",
                    wait.as_secs(),
                    log_tail(log)
                );
            }
        };
        // Keep draining stdout so that the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            name: name.to_string(),
            child,
            pid,
            addr,
            log: log.to_path_buf(),
        })
    }

    /// SIGTERM, then up to `grace` for a clean exit, then SIGKILL.
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            bail!(
                "{} had already exited ({status}); its log ends with:\n{}",
                self.name,
                log_tail(&self.log)
            );
        }
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .with_context(|| format!("bad pid {}", self.pid))?;
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .with_context(|| format!("cannot signal {}", self.name))?;
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                self.child.kill().await?;
                bail!(
                    "{} did not stop within {} s of SIGTERM (killed)",
                    self.name,
                    grace.as_secs()
                )
            }
        }
    }

    /// Fails when the child has exited (a crash in the middle of a phase).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Ok(Some(status)) = self.child.try_wait() {
            bail!(
                "{} exited ({status}); its log ends with:\n{}",
                self.name,
                log_tail(&self.log)
            );
        }
        Ok(())
    }

    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

/// The last lines of a log file, for error messages.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(15);
    lines[from..].join("\n")
}

/// Memory of a process, in KiB: `VmRSS` now and `VmHWM` (peak since start).
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

/// `/proc/<pid>/status`; `pid` may be `"self"`.
pub fn memory(pid: &str) -> anyhow::Result<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(Memory {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
    })
}

/// User + system CPU seconds of every thread of a process so far (`/proc/<pid>/stat` fields 14
/// and 15, in clock ticks).
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    let after = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc/<pid>/stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .context("unexpected /proc/<pid>/stat format")
    };
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    let ticks = tick(11)? + tick(12)?;
    #[allow(clippy::cast_precision_loss)]
    Ok(ticks as f64 / clock_ticks_per_second())
}

#[allow(clippy::cast_precision_loss)]
fn clock_ticks_per_second() -> f64 {
    match rustix::param::clock_ticks_per_second() {
        0 => 100.0,
        t => t as f64,
    }
}

/// Polls a process's resident set size until stopped; reports the largest value seen.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<u64>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            let pid = pid.to_string();
            let mut peak = 0;
            loop {
                if let Ok(m) = memory(&pid) {
                    peak = peak.max(m.rss_kib);
                }
                if flag.load(Ordering::Relaxed) {
                    return peak;
                }
                tokio::time::sleep(every).await;
            }
        });
        Self { stop, handle }
    }

    /// The peak `VmRSS` seen, in KiB.
    pub async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.unwrap_or(0)
    }
}

/// Context switches (voluntary + involuntary) of every live thread of a process so far.
pub fn context_switches(pid: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .map(|status| {
            status
                .lines()
                .filter(|l| {
                    l.starts_with("voluntary_ctxt_switches:")
                        || l.starts_with("nonvoluntary_ctxt_switches:")
                })
                .filter_map(|l| l.split_whitespace().nth(1))
                .filter_map(|v| v.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// CPU seconds the whole machine spent busy so far (`/proc/stat`: user, nice, system, irq,
/// softirq and steal of all CPUs). Minus the server's and the harness's own, it tells how much
/// else ran during a phase.
pub fn machine_busy_seconds() -> anyhow::Result<f64> {
    let text = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = text
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("no cpu line in /proc/stat")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| v.get(i))
        .sum();
    #[allow(clippy::cast_precision_loss)]
    Ok(busy as f64 / clock_ticks_per_second())
}
