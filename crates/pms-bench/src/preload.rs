//! Bulk loading through the store (not HTTP), with `pms serve` stopped: N clients cloned from the
//! seeded template clients (same policy, claims, ACR values, URIs), each with its own id, key
//! text, name and creation time, spread over the partners, plus the `CREATE_CLIENT` audit record
//! a real create writes. Batches of `batch` rows per transaction.
//!
//! Ids are 43-character base64url strings, as derived ids are (SHA-256 of a run salt and the row
//! number, so unique); the stored key text keeps the template's shape with other coordinates. The
//! store does not re-derive ids, and nothing on the read path parses the key.

use crate::load::ClientRef;
use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use pms_domain::model::{AuditAction, AuditRecord, JsonText, OidcClient};
use pms_domain::Store;
use sha2::{Digest, Sha256};
use std::time::Instant;

fn b64_sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// What the preload did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Preloaded {
    pub clients: u64,
    pub with_audit: bool,
    pub seconds: f64,
    pub rows_per_second: f64,
}

/// Inserts `n` clients into `store`; `templates[i]` is partner `i`'s HTTP-created client.
pub async fn preload(
    store: &dyn Store,
    template_ids: &[String],
    n: u64,
    batch: u64,
    with_audit: bool,
) -> anyhow::Result<(Vec<ClientRef>, Preloaded)> {
    let started = Instant::now();
    let mut templates = Vec::new();
    {
        let mut tx = store.read().await?;
        for id in template_ids {
            let c = tx
                .client(id)
                .await?
                .with_context(|| format!("template client {id} not found in the store"))?;
            templates.push(c);
        }
    }
    if templates.is_empty() {
        anyhow::bail!("no template clients to preload from");
    }
    let mut salt = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    let key_shapes: Vec<serde_json::Value> = templates
        .iter()
        .map(|t| serde_json::from_str(&t.public_key).unwrap_or(serde_json::Value::Null))
        .collect();
    let newest = templates
        .iter()
        .map(|t| t.cr_dtimes)
        .min()
        .context("no templates")?;
    let mut refs = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    let mut done = 0u64;
    let mut last_report = Instant::now();
    while done < n {
        let upto = (done + batch).min(n);
        let mut tx = store.write().await?;
        for i in done..upto {
            let p = usize::try_from(i % templates.len() as u64).unwrap_or(0);
            let (Some(t), Some(shape)) = (templates.get(p), key_shapes.get(p)) else {
                continue;
            };
            let ib = i.to_le_bytes();
            let id = b64_sha256(&[&salt, b"id", &ib]);
            let mut key = shape.clone();
            if let Some(obj) = key.as_object_mut() {
                obj.insert("x".into(), b64_sha256(&[&salt, b"x", &ib]).into());
                obj.insert("y".into(), b64_sha256(&[&salt, b"y", &ib]).into());
            }
            let name = format!("Preloaded client {i}");
            let mut name_map = serde_json::Map::new();
            name_map.insert("eng".into(), name.clone().into());
            name_map.insert("fra".into(), format!("{name} (fr)").into());
            let secs = i64::try_from(n - i).unwrap_or(i64::MAX);
            let client = OidcClient {
                id: id.clone(),
                name,
                name_lang_map: name_map,
                public_key: key.to_string(),
                cr_dtimes: newest - chrono::Duration::seconds(secs),
                ..t.clone()
            };
            tx.insert_client(&client)
                .await
                .with_context(|| format!("insert client {i}"))?;
            if with_audit {
                tx.append_audit(&AuditRecord {
                    at: client.cr_dtimes,
                    actor: client.cr_by.clone(),
                    action: AuditAction::CreateClient.as_str().to_string(),
                    entity_type: "OIDC_CLIENT".to_string(),
                    entity_id: id.clone(),
                    before: None,
                    after: Some(JsonText::of(&client)?),
                    correlation_id: format!("pms-bench-preload-{i}"),
                })
                .await
                .with_context(|| format!("audit of client {i}"))?;
            }
            refs.push(ClientRef { id, partner: p });
        }
        tx.commit().await?;
        done = upto;
        if last_report.elapsed().as_secs() >= 10 {
            eprintln!(
                "pms-bench: preloaded {done}/{n} clients ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    };
    Ok((
        refs,
        Preloaded {
            clients: n,
            with_audit,
            seconds,
            rows_per_second: rate,
        },
    ))
}
