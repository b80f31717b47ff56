//! The load generator: `concurrency` worker tasks, each with its own keep-alive HTTP/1.1
//! connection (hyper's bare connection API: no pool, no retries, no redirects), sending one
//! request at a time for a warm-up and then a fixed measured duration. Connections are opened
//! before the clock starts; only requests *started* inside the measured window are counted, and a
//! request's latency is from just before it is written to when its whole body has been read.
//!
//! Every response is checked: HTTP 200 and an empty `errors` array, or the phase stops and the
//! run fails with the first error.

use crate::procs;
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The measured operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// `GET /ceiling` on the harness's own trivial server.
    Ceiling,
    /// `POST /v1/partnermanager/oauth/client` with a distinct fresh P-256 key each.
    Create,
    /// `GET /v1/partnermanager/oauth/client/{id}` of a random existing client, as its partner.
    Get,
    /// `GET /v1/partnermanager/oauth/client?…&partnerId=…`, a random early page, as admin.
    List,
    /// `PUT /v1/partnermanager/oauth/client/{id}` renaming a random client, as its partner.
    Update,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Ceiling => "ceiling",
            Op::Create => "create",
            Op::Get => "get",
            Op::List => "list",
            Op::Update => "update",
        }
    }
}

/// A client the phases may read or update, and the index of its partner.
#[derive(Debug, Clone)]
pub struct ClientRef {
    pub id: String,
    pub partner: usize,
}

/// A pre-built create body and the partner it is sent as.
pub struct CreateBody {
    pub partner: usize,
    pub body: Bytes,
}

/// What the workers draw their requests from.
pub struct Workload {
    pub admin: HeaderValue,
    pub partner_ids: Vec<String>,
    pub partner_tokens: Vec<HeaderValue>,
    pub clients: Vec<ClientRef>,
    pub creates: Vec<CreateBody>,
    pub next_create: AtomicUsize,
    pub requesttime: String,
}

impl Workload {
    /// Clients per partner (list page ranges).
    fn per_partner(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.partner_ids.len()];
        for c in &self.clients {
            if let Some(n) = counts.get_mut(c.partner) {
                *n += 1;
            }
        }
        counts
    }
}

/// How long and how wide a phase runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// A request without a response by then is an error.
    pub request_timeout: Duration,
}

/// What one phase measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhaseResult {
    pub phase: String,
    pub concurrency: usize,
    /// Requests started in the measured window.
    pub requests: u64,
    /// From the end of the warm-up to the last measured response.
    pub elapsed_s: f64,
    pub rps: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Largest `VmRSS` of the server polled during the phase (warm-up included), KiB.
    pub server_peak_rss_kib: u64,
    /// The server's `VmHWM` (peak since it started) at the end of the phase, KiB.
    pub server_hwm_kib: u64,
    /// Server CPU seconds (user + system) spent in the measured window.
    pub server_cpu_s: f64,
    /// The harness's own CPU seconds in the measured window (the load client competes for the
    /// same cores).
    pub client_cpu_s: f64,
    /// CPU seconds used by everything else on the machine in the measured window (other
    /// processes, the kernel on their behalf): a noisy neighbour shows up here.
    pub other_cpu_s: f64,
    /// Context switches of the server's threads per measured request (thread hand-offs).
    pub server_ctx_switches_per_request: f64,
    /// Why the phase ended before its duration, if it did.
    pub ended_early: Option<String>,
    /// The ceiling measured in slices alternating with this phase's (see [`run_paired`]); the
    /// phase's ratios are to this figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<Box<PhaseResult>>,
    /// Each slice's `[ceiling req/s, this phase's req/s]`, in order (empty when not sliced).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slice_rps: Vec<[f64; 2]>,
}

/// The outcome of one phase: its figures, the clients it created and its sorted latencies.
pub struct PhaseOutcome {
    pub result: PhaseResult,
    pub created: Vec<ClientRef>,
    latencies_ns: Vec<u64>,
}

/// Latency figures of sorted latencies: p50, p90, p99, max, mean (µs).
fn latency_stats(sorted: &[u64]) -> [f64; 5] {
    #[allow(clippy::cast_precision_loss)]
    let mean = if sorted.is_empty() {
        0.0
    } else {
        sorted.iter().map(|&v| us(v)).sum::<f64>() / sorted.len() as f64
    };
    [
        us(percentile(sorted, 0.50)),
        us(percentile(sorted, 0.90)),
        us(percentile(sorted, 0.99)),
        us(sorted.last().copied().unwrap_or(0)),
        mean,
    ]
}

/// One phase's slices as one result: requests, measured time and CPU seconds added up,
/// latencies pooled, the largest RSS, the first error.
pub fn merge(parts: Vec<PhaseOutcome>) -> Option<PhaseOutcome> {
    let mut parts = parts.into_iter();
    let mut acc = parts.next()?;
    #[allow(clippy::cast_precision_loss)]
    let mut switches = acc.result.server_ctx_switches_per_request * acc.result.requests as f64;
    for p in parts {
        let (a, r) = (&mut acc.result, p.result);
        a.requests += r.requests;
        a.elapsed_s += r.elapsed_s;
        a.errors += r.errors;
        a.first_error = a.first_error.take().or(r.first_error);
        a.ended_early = a.ended_early.take().or(r.ended_early);
        a.server_peak_rss_kib = a.server_peak_rss_kib.max(r.server_peak_rss_kib);
        a.server_hwm_kib = a.server_hwm_kib.max(r.server_hwm_kib);
        a.server_cpu_s += r.server_cpu_s;
        a.client_cpu_s += r.client_cpu_s;
        a.other_cpu_s += r.other_cpu_s;
        #[allow(clippy::cast_precision_loss)]
        {
            switches += r.server_ctx_switches_per_request * r.requests as f64;
        }
        acc.created.extend(p.created);
        acc.latencies_ns.extend_from_slice(&p.latencies_ns);
    }
    acc.latencies_ns.sort_unstable();
    let a = &mut acc.result;
    [a.p50_us, a.p90_us, a.p99_us, a.max_us, a.mean_us] = latency_stats(&acc.latencies_ns);
    #[allow(clippy::cast_precision_loss)]
    {
        a.rps = per(a.requests as f64, a.elapsed_s);
        a.server_ctx_switches_per_request = per(switches, a.requests as f64);
    }
    Some(acc)
}

/// `n / d`, or 0 when nothing was measured.
fn per(n: f64, d: f64) -> f64 {
    if d > 0.0 {
        n / d
    } else {
        0.0
    }
}

/// A server a phase runs against.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub addr: SocketAddr,
    pub pid: u32,
}

/// Runs `op` against pms and the ceiling in `slices` alternating pairs of slices (ceiling
/// first), each `plan.duration / slices` long after `plan.warmup / slices` of warm-up, and
/// returns the phase with the ceiling measured alongside it (`PhaseResult::ceiling`), and that
/// ceiling's slices as one outcome (the run's ceiling is all of them merged).
///
/// Why slices: on a shared virtual machine the speed of the same work moves by up to 2× from
/// one few-second stretch to the next (a CPU loop measured here took 210–240 ms in some
/// stretches and 110–150 ms in others, idle machine, no steal time). A ceiling measured once
/// and a phase measured a minute later compare two different machines; slices that alternate
/// every second or so see the same mix of fast and slow stretches.
pub async fn run_paired(
    op: Op,
    pms: Target,
    ceiling: Target,
    workload: Arc<Workload>,
    plan: Plan,
    slices: u32,
) -> anyhow::Result<(PhaseOutcome, PhaseOutcome)> {
    let slices = slices.max(1);
    let slice = Plan {
        warmup: plan.warmup / slices,
        duration: plan.duration / slices,
        ..plan
    };
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut pairs = Vec::new();
    for i in 1..=slices {
        let c = run_phase(
            Op::Ceiling,
            ceiling.addr,
            ceiling.pid,
            workload.clone(),
            slice,
        )
        .await?;
        if let Some(e) = &c.result.first_error {
            anyhow::bail!("phase ceiling failed: {e}");
        }
        let c_rps = c.result.rps;
        theirs.push(c);
        let p = run_phase(op, pms.addr, pms.pid, workload.clone(), slice).await?;
        eprintln!(
            "pms-bench:   slice {i}/{slices}: ceiling {c_rps:.0} req/s, {} {:.0} req/s ({:.1} %)",
            op.name(),
            p.result.rps,
            100.0 * p.result.rps / c_rps,
        );
        pairs.push([c_rps, p.result.rps]);
        let stop = p.result.first_error.is_some() || p.result.ended_early.is_some();
        ours.push(p);
        if stop {
            break;
        }
    }
    let ceiling = merge(theirs).context("no ceiling slice ran")?;
    let mut outcome = merge(ours).context("no slice ran")?;
    outcome.result.ceiling = Some(Box::new(ceiling.result.clone()));
    outcome.result.slice_rps = pairs;
    Ok((outcome, ceiling))
}

/// A small, fast PRNG (SplitMix64) per worker: no shared state, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // n is far below 2^32 here; the modulo bias is negligible.
        usize::try_from(self.next() % (n as u64)).unwrap_or(0)
    }
}

/// The minimal view of a MOSIP envelope the checks need.
#[derive(Deserialize)]
struct Envelope {
    errors: Option<Vec<IgnoredAny>>,
    response: Option<Created>,
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "clientId")]
    client_id: Option<String>,
}

const CLIENT_PATH: &str = "/v1/partnermanager/oauth/client";

struct Outgoing {
    method: Method,
    path: String,
    token: HeaderValue,
    body: Option<Bytes>,
    /// The partner of a create, to remember the new client under.
    partner: Option<usize>,
}

fn next_request(
    op: Op,
    w: &Workload,
    per_partner: &[usize],
    rng: &mut Rng,
    worker: usize,
    n: u64,
) -> Option<Outgoing> {
    match op {
        Op::Ceiling => Some(Outgoing {
            method: Method::GET,
            path: crate::ceiling::PATH.to_string(),
            token: w.admin.clone(),
            body: None,
            partner: None,
        }),
        Op::Create => {
            let i = w.next_create.fetch_add(1, Ordering::Relaxed);
            let c = w.creates.get(i)?;
            Some(Outgoing {
                method: Method::POST,
                path: CLIENT_PATH.to_string(),
                token: w.partner_tokens.get(c.partner)?.clone(),
                body: Some(c.body.clone()),
                partner: Some(c.partner),
            })
        }
        Op::Get => {
            let c = w.clients.get(rng.below(w.clients.len()))?;
            Some(Outgoing {
                method: Method::GET,
                path: format!("{CLIENT_PATH}/{}", c.id),
                token: w.partner_tokens.get(c.partner)?.clone(),
                body: None,
                partner: None,
            })
        }
        Op::List => {
            let p = rng.below(w.partner_ids.len());
            let pages = per_partner.get(p).copied().unwrap_or(0).div_ceil(10).max(1);
            // Portal users page through the first few pages; deep offsets are not the workload.
            let page = rng.below(pages.min(10));
            Some(Outgoing {
                method: Method::GET,
                path: format!(
                    "{CLIENT_PATH}?pageNo={page}&pageSize=10&sortFieldName=createdDateTime&sortType=desc&partnerId={}",
                    w.partner_ids.get(p)?
                ),
                token: w.admin.clone(),
                body: None,
                partner: None,
            })
        }
        Op::Update => {
            let c = w.clients.get(rng.below(w.clients.len()))?;
            let name = format!("Bench client w{worker}-{n}");
            let body = format!(
                r#"{{"id":"mosip.pms.bench","version":"1.0","requesttime":"{rt}","metadata":{{}},"request":{{"logoUri":"https://{p}.example/logo-v2.png","redirectUris":["https://{p}.example/callback","https://{p}.example/userprofile"],"status":"ACTIVE","grantTypes":["authorization_code"],"clientName":"{name}","clientAuthMethods":["private_key_jwt"],"clientNameLangMap":{{"eng":"{name}","fra":"{name} (fr)"}}}}}}"#,
                rt = w.requesttime,
                p = w.partner_ids.get(c.partner)?,
            );
            Some(Outgoing {
                method: Method::PUT,
                path: format!("{CLIENT_PATH}/{}", c.id),
                token: w.partner_tokens.get(c.partner)?.clone(),
                body: Some(Bytes::from(body)),
                partner: None,
            })
        }
    }
}

#[derive(Clone, Copy)]
struct Schedule {
    measure_from: Instant,
    end: Instant,
    timeout: Duration,
}

struct WorkerOut {
    latencies_ns: Vec<u64>,
    finished: Instant,
    created: Vec<ClientRef>,
    exhausted: bool,
}

struct Shared {
    abort: AtomicBool,
    errors: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn fail(&self, message: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.abort.store(true, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            if first.is_none() {
                *first = Some(message);
            }
        }
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.chars().count() > 600 {
        format!("{}…", text.chars().take(600).collect::<String>())
    } else {
        text.into_owned()
    }
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    index: usize,
    op: Op,
    addr: SocketAddr,
    workload: Arc<Workload>,
    per_partner: Arc<Vec<usize>>,
    shared: Arc<Shared>,
    ready: tokio::sync::mpsc::Sender<()>,
    mut start: tokio::sync::watch::Receiver<Option<Schedule>>,
) -> anyhow::Result<WorkerOut> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let host = HeaderValue::from_str(&addr.to_string())?;
    ready.send(()).await.ok();
    drop(ready);
    let schedule = loop {
        if let Some(s) = *start.borrow_and_update() {
            break s;
        }
        start
            .changed()
            .await
            .context("the phase was abandoned before it started")?;
    };
    let mut rng = Rng(0x5EED_0000_u64 ^ ((index as u64) << 32) ^ (op as u64));
    let mut out = WorkerOut {
        latencies_ns: Vec::with_capacity(64 * 1024),
        finished: Instant::now(),
        created: Vec::new(),
        exhausted: false,
    };
    let mut n = 0u64;
    loop {
        if shared.abort.load(Ordering::Relaxed) || Instant::now() >= schedule.end {
            break;
        }
        n += 1;
        let Some(o) = next_request(op, &workload, &per_partner, &mut rng, index, n) else {
            out.exhausted = true;
            break;
        };
        let mut rb = Request::builder()
            .method(o.method.clone())
            .uri(o.path.as_str())
            .header(HOST, host.clone())
            .header(AUTHORIZATION, o.token);
        if o.body.is_some() {
            rb = rb.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let req = rb.body(Full::new(o.body.unwrap_or_default()))?;
        let sent = async {
            sender.ready().await?;
            let resp = sender.send_request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, body))
        };
        let t0 = Instant::now();
        let result = tokio::time::timeout(schedule.timeout, sent).await;
        let t1 = Instant::now();
        let (status, body) = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                shared.fail(format!("{} {}: {e:#}", o.method, o.path));
                break;
            }
            Err(_) => {
                shared.fail(format!(
                    "{} {}: no response within {} s",
                    o.method,
                    o.path,
                    schedule.timeout.as_secs()
                ));
                break;
            }
        };
        let envelope: Option<Envelope> = serde_json::from_slice(&body).ok();
        let ok = status == hyper::StatusCode::OK
            && envelope
                .as_ref()
                .and_then(|e| e.errors.as_ref())
                .is_some_and(Vec::is_empty);
        if !ok {
            shared.fail(format!(
                "{} {}: HTTP {status}: {}",
                o.method,
                o.path,
                snippet(&body)
            ));
            break;
        }
        if let Some(partner) = o.partner {
            match envelope.and_then(|e| e.response).and_then(|r| r.client_id) {
                Some(id) => out.created.push(ClientRef { id, partner }),
                None => {
                    shared.fail(format!(
                        "{} {}: no clientId in {}",
                        o.method,
                        o.path,
                        snippet(&body)
                    ));
                    break;
                }
            }
        }
        if t0 >= schedule.measure_from {
            out.latencies_ns
                .push(u64::try_from((t1 - t0).as_nanos()).unwrap_or(u64::MAX));
        }
    }
    out.finished = Instant::now();
    Ok(out)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or(0)
}

#[allow(clippy::cast_precision_loss)]
fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Runs one phase of `op` against `addr`, sampling the server `server_pid`.
pub async fn run_phase(
    op: Op,
    addr: SocketAddr,
    server_pid: u32,
    workload: Arc<Workload>,
    plan: Plan,
) -> anyhow::Result<PhaseOutcome> {
    let per_partner = Arc::new(workload.per_partner());
    let shared = Arc::new(Shared {
        abort: AtomicBool::new(false),
        errors: AtomicUsize::new(0),
        first_error: Mutex::new(None),
    });
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(plan.concurrency.max(1));
    let (start_tx, start_rx) = tokio::sync::watch::channel(None);
    let mut handles = Vec::with_capacity(plan.concurrency);
    for i in 0..plan.concurrency {
        handles.push(tokio::spawn(worker(
            i,
            op,
            addr,
            workload.clone(),
            per_partner.clone(),
            shared.clone(),
            ready_tx.clone(),
            start_rx.clone(),
        )));
    }
    drop(ready_tx);
    // Every worker has connected (or failed) when the channel closes.
    while ready_rx.recv().await.is_some() {}

    let sampler = procs::RssSampler::start(server_pid, Duration::from_millis(50));
    let pid = server_pid.to_string();
    let t0 = Instant::now();
    let schedule = Schedule {
        measure_from: t0 + plan.warmup,
        end: t0 + plan.warmup + plan.duration,
        timeout: plan.request_timeout,
    };
    start_tx.send(Some(schedule)).ok();
    tokio::time::sleep_until(schedule.measure_from.into()).await;
    let server_cpu0 = procs::cpu_seconds(&pid)?;
    let client_cpu0 = procs::cpu_seconds("self")?;
    let switches0 = procs::context_switches(&pid);
    let busy0 = procs::machine_busy_seconds()?;

    let mut latencies = Vec::new();
    let mut created = Vec::new();
    let mut last = schedule.measure_from;
    let mut exhausted = false;
    let mut worker_error = None;
    for h in handles {
        match h.await {
            Ok(Ok(out)) => {
                latencies.extend_from_slice(&out.latencies_ns);
                created.extend(out.created);
                last = last.max(out.finished);
                exhausted |= out.exhausted;
            }
            Ok(Err(e)) => {
                worker_error.get_or_insert_with(|| format!("{e:#}"));
            }
            Err(e) => {
                worker_error.get_or_insert_with(|| format!("worker task failed: {e}"));
            }
        }
    }
    let server_cpu = procs::cpu_seconds(&pid)? - server_cpu0;
    let client_cpu = procs::cpu_seconds("self")? - client_cpu0;
    let switches = procs::context_switches(&pid).saturating_sub(switches0);
    let other = (procs::machine_busy_seconds()? - busy0 - server_cpu - client_cpu).max(0.0);
    let peak = sampler.finish().await;
    let hwm = procs::memory(&pid).map(|m| m.hwm_kib).unwrap_or(0);
    if let Some(e) = worker_error {
        shared.fail(e);
    }

    latencies.sort_unstable();
    let [p50_us, p90_us, p99_us, max_us, mean_us] = latency_stats(&latencies);
    let elapsed = last
        .saturating_duration_since(schedule.measure_from)
        .as_secs_f64();
    let requests = latencies.len() as u64;
    #[allow(clippy::cast_precision_loss)]
    let rps = per(requests as f64, elapsed);
    let first_error = shared.first_error.lock().ok().and_then(|e| e.clone());
    let ended_early = if first_error.is_some() {
        Some("error".to_string())
    } else if exhausted {
        Some(format!(
            "ran out of pre-generated keys after {} creates (raise --create-keys)",
            workload.creates.len()
        ))
    } else {
        None
    };
    Ok(PhaseOutcome {
        result: PhaseResult {
            phase: op.name().to_string(),
            concurrency: plan.concurrency,
            requests,
            elapsed_s: elapsed,
            rps,
            p50_us,
            p90_us,
            p99_us,
            max_us,
            mean_us,
            errors: shared.errors.load(Ordering::Relaxed) as u64,
            first_error,
            server_peak_rss_kib: peak,
            server_hwm_kib: hwm,
            server_cpu_s: server_cpu,
            client_cpu_s: client_cpu,
            other_cpu_s: other,
            #[allow(clippy::cast_precision_loss)]
            server_ctx_switches_per_request: per(switches as f64, requests as f64),
            ended_early,
            ceiling: None,
            slice_rps: Vec::new(),
        },
        created,
        latencies_ns: latencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(latencies_us: &[u64], elapsed_s: f64, cpu_s: f64, switches: f64) -> PhaseOutcome {
        let mut latencies_ns: Vec<u64> = latencies_us.iter().map(|v| v * 1000).collect();
        latencies_ns.sort_unstable();
        let [p50_us, p90_us, p99_us, max_us, mean_us] = latency_stats(&latencies_ns);
        let requests = latencies_ns.len() as u64;
        PhaseOutcome {
            result: PhaseResult {
                phase: "get".into(),
                concurrency: 2,
                requests,
                elapsed_s,
                rps: requests as f64 / elapsed_s,
                p50_us,
                p90_us,
                p99_us,
                max_us,
                mean_us,
                errors: 0,
                first_error: None,
                server_peak_rss_kib: 100,
                server_hwm_kib: 100,
                server_cpu_s: cpu_s,
                client_cpu_s: cpu_s / 2.0,
                other_cpu_s: 0.0,
                server_ctx_switches_per_request: switches / requests as f64,
                ended_early: None,
                ceiling: None,
                slice_rps: Vec::new(),
            },
            created: Vec::new(),
            latencies_ns,
        }
    }

    #[test]
    fn slices_merge_into_one_phase() {
        // A fast slice and a slow one: the phase's rate is all requests over all measured time,
        // its percentiles those of the pooled latencies, not an average of the slices' figures.
        let fast = slice(&[100, 200, 300, 400], 1.0, 0.5, 4.0);
        let mut slow = slice(&[1000, 2000], 2.0, 1.5, 6.0);
        slow.result.server_peak_rss_kib = 300;
        slow.result.first_error = Some("HTTP 500".into());
        let m = merge(vec![fast, slow]).expect("two slices").result;
        assert_eq!(m.requests, 6);
        assert!((m.elapsed_s - 3.0).abs() < 1e-9);
        assert!((m.rps - 2.0).abs() < 1e-9);
        assert!((m.p50_us - 300.0).abs() < 1e-9);
        assert!((m.p99_us - 2000.0).abs() < 1e-9);
        assert!((m.max_us - 2000.0).abs() < 1e-9);
        assert!((m.mean_us - 4000.0 / 6.0).abs() < 1e-9);
        assert!((m.server_cpu_s - 2.0).abs() < 1e-9);
        assert!((m.server_ctx_switches_per_request - 10.0 / 6.0).abs() < 1e-9);
        assert_eq!(m.server_peak_rss_kib, 300);
        assert_eq!(m.first_error.as_deref(), Some("HTTP 500"));
        assert!(merge(Vec::new()).is_none());
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.50), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
